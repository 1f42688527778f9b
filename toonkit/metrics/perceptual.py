"""LPIPS between each photo and its translation, on the person only."""
from __future__ import annotations

import contextlib
import io
import warnings
from typing import Literal

import torch
from torch import Tensor, nn

from toonkit.metrics._weights import Arch, imagenet_features_state
from toonkit.metrics.base import EvalContext, Metric, binary_mask, mean_over_images, resize_like

_BACKBONE_ARCH: dict[str, Arch] = {"alex": "alexnet", "vgg": "vgg16"}


def build_lpips(net: Literal["alex", "vgg"] = "alex", pretrained_backbone: bool = True) -> nn.Module:
    """``lpips.LPIPS`` (spatial output) with its backbone read from local ImageNet weights.

    The lpips package ships its calibrated linear layers but fetches the ImageNet backbone through
    torchvision's ``pretrained=True`` (a download). It is built here with ``pnet_rand=True`` (no download)
    and the backbone is then filled from :func:`~toonkit.metrics._weights.imagenet_features_state`:
    lpips keeps torchvision's layer indices inside its slices (``slice2.3.weight`` is
    ``features.3.weight``), so stripping the ``sliceK.`` prefix gives the torchvision key.

    Args:
        net: backbone, ``'alex'`` (LPIPS' default) or ``'vgg'``.
        pretrained_backbone: ``False`` keeps a random backbone (tests only: the scores mean nothing).

    Raises:
        WeightsUnavailableError: when the backbone's weights are not on disk.
    """
    import lpips

    state = imagenet_features_state(_BACKBONE_ARCH[net], f"lpips (net='{net}')") if pretrained_backbone else None
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")  # 'pretrained' deprecation
        model = lpips.LPIPS(pretrained=True, net=net, pnet_rand=True, spatial=True, verbose=False)
    if state is not None:
        mapped = {name: state[name.split(".", 1)[1]] for name, _ in model.net.named_parameters()}
        model.net.load_state_dict(mapped, strict=True)
    return model.eval().requires_grad_(False)


class LPIPSDistance(Metric):
    """LPIPS between each photo and its translation over the person (lower = closer to the photo).

    Learned Perceptual Image Patch Similarity (Zhang et al. 2018, package ``lpips`` v0.1 linear layers on
    an ImageNet AlexNet or VGG16) measures how much content and structure changed from photo to output,
    i.e. how much of the person's identity the translation kept; a stylisation necessarily changes some
    texture, so it is read together with the style distance. The background is excluded twice: both
    images are composited onto the same mid-grey wherever the binarised mask is 0 (so background changes
    add no feature difference), and the spatial LPIPS map is averaged over the mask only (so a small
    person is not diluted by a large, identical background). Each image counts once in the mean. Without
    masks the whole image is compared. Column ``LPIPS-alex`` (or ``LPIPS-vgg``).

    Args:
        net: LPIPS backbone, ``'alex'`` or ``'vgg'``.
        batch_size: image pairs per forward.
    """

    name = "lpips"
    higher_is_better = False
    requires = ("inputs",)

    def __init__(self, net: Literal["alex", "vgg"] = "alex", batch_size: int = 16) -> None:
        self.net = net
        self.batch_size = batch_size
        self._model: nn.Module | None = None

    def columns(self) -> tuple[str, ...]:
        return (f"LPIPS-{self.net}",)

    def model(self) -> nn.Module:
        """The LPIPS network, built on first use."""
        if self._model is None:
            self._model = build_lpips(self.net)
        return self._model

    def set_model(self, model: nn.Module) -> LPIPSDistance:
        """Use an already built LPIPS network (e.g. one with a random backbone in tests)."""
        self._model = model.eval().requires_grad_(False)
        return self

    def per_image(self, inputs: Tensor, outputs: Tensor, masks: Tensor | None, device: torch.device | str
                  ) -> Tensor:
        """LPIPS of each pair over its mask; shape :math:`(N,)`, NaN for an empty mask."""
        model = self.model().to(device)
        outputs = resize_like(outputs, tuple(inputs.shape[-2:]))
        values = []
        for i in range(0, inputs.shape[0], self.batch_size):
            x = inputs[i:i + self.batch_size].to(device).float().clamp(-1, 1)
            y = outputs[i:i + self.batch_size].to(device).float().clamp(-1, 1)
            if masks is None:
                values.append(model(x, y).flatten(1).mean(1))
                continue
            m = binary_mask(resize_like(masks[i:i + self.batch_size].to(device), tuple(x.shape[-2:]),
                                        mode="nearest"))
            # mid-grey is 0 in [-1, 1]: the composite keeps the person, the same flat fill elsewhere
            dist = model(x * m, y * m)
            area = m.flatten(1).sum(1)
            total = (dist * m).flatten(1).sum(1)
            values.append(torch.where(area > 0, total / area.clamp_min(1), torch.full_like(total, float("nan"))))
        return torch.cat(values).cpu()

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        per_image = self.per_image(ctx.inputs, ctx.get_outputs(self.batch_size), ctx.masks, ctx.device)
        column = self.columns()[0]
        return {column: mean_over_images(ctx.record(column, per_image), self.name)}
