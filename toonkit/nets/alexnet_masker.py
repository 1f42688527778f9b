"""A small person masker on ImageNet AlexNet features, with an optional guided-filter edge refinement.

Photos of people need more than a masker trained from scratch on a few hundred images can learn: whether
a patch of dark cloth or a hand belongs to the person is a question of what things are. ImageNet
features answer it, and AlexNet's convolutions are the cheapest ImageNet features toonkit can load
offline (:func:`toonkit.weights.imagenet_features_state_dict`, 2.5 M parameters, a tenth of VGG16's
compute at the same size). A light U-Net decoder brings the stride-16 features back to stride 2 through
the encoder's stride-4 and stride-8 maps and a small full-resolution stem; a guided filter on the photo
(He et al., 2010; :func:`kornia.filters.guided_blur`) then snaps the mask's outline to the photo's edges.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from toonkit.imaging import BT601_LUMA
from toonkit.nets.layers import check_size
from toonkit.weights import imagenet_features_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ENCODER_WEIGHTS = (None, "imagenet")
#: probabilities are clamped to this margin before the refined mask is turned back into logits
_PROB_MARGIN = 1e-4


def _conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def _alexnet_features() -> nn.Sequential:
    """``torchvision.models.alexnet().features`` without its last pool, padded so every stage halves exactly.

    The original paddings (conv1's 2, the pools' 0) make odd sizes (256 → 63 → 31 → 15); conv1 padding 5
    and pool padding 1 give H/4, H/8, H/16 for any H divisible by 16, so the decoder upsamples by exactly
    2 (an exported graph stays shape-agnostic). The weights do not depend on padding: the ImageNet state
    dict loads unchanged, under the same keys.
    """
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=5), nn.ReLU(inplace=True),                 # 0, 1: /4
        nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True),  # 2-4: /8
        nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),  # 5-7: /16
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),                          # 8, 9
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),                          # 10, 11
    )


class AlexNetMasker(nn.Module):
    """Person logits from ImageNet AlexNet features and a light U-Net decoder, optionally edge-refined.

    The encoder is AlexNet's five convolutions (stride 4, 8 and 16 maps are kept); the decoder fuses
    them back up to stride 2 with a two-conv stem on the photo, and the logits are upsampled to the
    input size. With ``refine_radius > 0`` the probability is passed through a guided filter whose
    guidance is the photo itself, which aligns the outline with the photo's edges (hair, fingers),
    and turned back into logits.

    Args:
        encoder_weights: ``"imagenet"`` loads ImageNet AlexNet weights into the encoder
            (``TOONKIT_WEIGHTS_DIR/alexnet_imagenet_features.safetensors`` first, else torchvision's
            download); None leaves it random (for loading a trained masker's own weights).
        base_channels: decoder width: ``8 ·``, ``3 ·`` and ``1 · base_channels`` channels at strides 8, 4
            and 2, and ``base_channels / 2`` in the stem on the photo (at stride 2).
        refine_radius: guided-filter radius in pixels of the masker's input; 0 turns refinement off.
        refine_eps: the guided filter's regulariser, in squared [0, 1] intensity units (larger: smoother,
            closer to the unrefined mask).
        sharpness: the logits are multiplied by this before the refinement: above 1, a masker that is unsure
            inside the person (probability 0.7 rather than 1) stops fading it into the background, while
            the 0.5 outline stays where it was.

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1], H and W divisible by 16.
        - Output: :math:`(N, 1, H, W)` logits.

    Raises:
        toonkit.weights.WeightsUnavailableError: ``encoder_weights="imagenet"`` offline without the file.

    Example:
        >>> s = AlexNetMasker(refine_radius=4)
        >>> s(torch.zeros(1, 3, 64, 96)).shape
        torch.Size([1, 1, 64, 96])
    """

    size_multiple: int = 16
    mean: torch.Tensor  # buffers, registered in __init__
    std: torch.Tensor
    luma: torch.Tensor

    def __init__(self, encoder_weights: str | None = None, base_channels: int = 16, refine_radius: int = 0,
                 refine_eps: float = 1e-3, sharpness: float = 1.0) -> None:
        super().__init__()
        if encoder_weights not in ENCODER_WEIGHTS:
            raise ValueError(f"encoder_weights must be 'imagenet' or null, got {encoder_weights!r}")
        if base_channels < 2:
            raise ValueError(f"base_channels must be >= 2, got {base_channels}")
        if sharpness <= 0:
            raise ValueError(f"sharpness must be > 0, got {sharpness}")
        if refine_radius < 0 or refine_eps <= 0:
            raise ValueError(f"refine_radius must be >= 0 and refine_eps > 0, got {refine_radius} and {refine_eps}")
        c8, c4, c2, stem_channels = 8 * base_channels, 3 * base_channels, base_channels, base_channels // 2
        self.encoder = _alexnet_features()
        if encoder_weights == "imagenet":
            state = imagenet_features_state_dict("alexnet")
            self.encoder.load_state_dict({k: state[k] for k in self.encoder.state_dict()})
        self.stem = nn.Sequential(_conv_bn_relu(3, stem_channels, stride=2), _conv_bn_relu(stem_channels, stem_channels))
        self.dec8 = nn.Sequential(_conv_bn_relu(256 + 192, c8), _conv_bn_relu(c8, c8))
        self.dec4 = _conv_bn_relu(c8 + 64, c4)
        self.dec2 = _conv_bn_relu(c4 + stem_channels, c2)
        self.head = nn.Conv2d(c2, 1, 1)
        self.base_channels = base_channels
        self.refine_radius, self.refine_eps = int(refine_radius), float(refine_eps)
        self.sharpness = float(sharpness)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("luma", torch.tensor(BT601_LUMA).view(1, 3, 1, 1), persistent=False)

    def freeze_early(self, frozen: bool = True) -> None:
        """Freeze (or unfreeze) conv1 and conv2: generic edge and texture filters that few images cannot
        improve, and whose backward pass is most of the encoder's training cost."""
        for module in list(self.encoder)[:5]:
            module.requires_grad_(not frozen)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The encoder's stride-4, stride-8 and stride-16 maps (64, 192 and 256 channels)."""
        e = self.encoder
        f4 = e[1](e[0](x))
        f8 = e[4](e[3](e[2](f4)))
        f16 = e[11](e[10](e[9](e[8](e[7](e[6](e[5](f8)))))))
        return f4, f8, f16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        unit = (x + 1) * 0.5
        f4, f8, f16 = self.features((unit - self.mean.to(x.dtype)) / self.std.to(x.dtype))
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="bilinear", align_corners=False)  # noqa: E731
        d = self.dec8(torch.cat([up(f16), f8], dim=1))
        d = self.dec4(torch.cat([up(d), f4], dim=1))
        d = self.dec2(torch.cat([up(d), self.stem(x)], dim=1))
        logits = up(self.head(d))
        if self.sharpness != 1.0:
            logits = logits * self.sharpness
        return self.refine(unit, logits) if self.refine_radius > 0 else logits

    def refine(self, photo: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Guided-filter the probability ``sigmoid(logits)`` with the photo's luma as guidance; logits out.

        Shape:
            - photo: :math:`(N, 3, H, W)` in [0, 1]
            - logits: :math:`(N, 1, H, W)`
            - Output: :math:`(N, 1, H, W)` logits
        """
        from kornia.filters import guided_blur

        size = 2 * self.refine_radius + 1
        # float32 whatever the caller's autocast: the filter's variances are differences of means of squares,
        # which bf16's 8-bit mantissa would swamp at eps ~ 1e-3
        with torch.autocast(device_type=photo.device.type, enabled=False):
            prob = torch.sigmoid(logits.float())
            # grey guidance: colour guidance solves a 3×3 system per pixel, which ONNX export cannot express
            grey = (photo.float() * self.luma.to(photo.device)).sum(dim=1, keepdim=True)
            refined = guided_blur(grey, prob, size, self.refine_eps, border_type="replicate")
            return torch.logit(refined.clamp(_PROB_MARGIN, 1 - _PROB_MARGIN)).to(logits.dtype)
