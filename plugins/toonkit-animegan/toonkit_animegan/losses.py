"""AnimeGANv2's generator losses: grayscale Gram style, YUV colour, and total variation.

All take images in [-1, 1] (or feature maps, for the style loss) and return a float32 scalar, also
under autocast. Formulas follow the authors' TensorFlow ``tools/ops.py``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import kornia
import torch
import torch.nn.functional as F
from torch import nn

from toonkit.imaging import rgb_to_gray, to_unit
from toonkit.losses import gram_matrix

FeatureMaps = torch.Tensor | Sequence[torch.Tensor] | Mapping[str, torch.Tensor]

def grayscale(images: torch.Tensor) -> torch.Tensor:
    """RGB → BT.601 gray (OpenCV's conversion, what AnimeGAN's data loader uses) repeated on 3 channels;
    the range is kept.

    Shape:
        - Input: :math:`(N, 3, H, W)`.
        - Output: :math:`(N, 3, H, W)`.
    """
    return rgb_to_gray(images).expand(-1, 3, -1, -1)


def rgb_to_yuv(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] → YUV of the [0, 1] image (Y in [0, 1], U, V centred on 0), in float32.

    Kornia's :func:`kornia.color.rgb_to_yuv` (BT.470 M/PAL, the matrix TensorFlow's
    ``tf.image.rgb_to_yuv`` — which AnimeGANv2's colour loss uses — also implements). Kornia rounds the
    chroma coefficients to three decimals where TensorFlow keeps eight (e.g. −0.147 vs −0.14714119, at
    most 1.5·10⁻⁴ apart), so U and V differ from TensorFlow's by less than 3·10⁻⁴ for RGB in [0, 1];
    Y is identical, and a gray image still has U = V = 0 (up to float rounding). The input is not clamped, so out-of-range generator outputs are
    penalised as before.

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1].
        - Output: :math:`(N, 3, H, W)`.

    Example:
        >>> rgb_to_yuv(torch.ones(1, 3, 1, 1)).flatten()[0].item()
        1.0
    """
    # autocast off: the 3×3 colour matrix product would otherwise run in bf16/fp16 (losses stay fp32)
    with torch.autocast(device_type=images.device.type, enabled=False):
        return kornia.color.rgb_to_yuv(to_unit(images.float()))


def _maps(x: FeatureMaps) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    return list(x.values()) if isinstance(x, Mapping) else list(x)


class GrayStyleLoss(nn.Module):
    """AnimeGANv2 style loss: L1 between Gram matrices of the output and of the *grayscale* style image.

    Comparing with grayscale anime frames transfers texture and line style without the anime
    palette; colours come from the photo through :class:`ColorLoss`. Two ways to call it:

    - ``style(fake, anime, features=vgg)``: images in [-1, 1]; ``anime`` is converted to grayscale,
      both go through ``features`` (the target without gradient).
    - ``style(fake_feats, gray_anime_feats)``: feature maps already computed (tensors, lists or dicts).

    A target batch of 1 is broadcast; otherwise the batches pair up image by image, as in AnimeGAN.

    Example:
        >>> style = GrayStyleLoss()
        >>> x = torch.rand(2, 8, 4, 4)
        >>> float(style(x, x))
        0.0
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters"
        super().__init__()

    def forward(self, input: FeatureMaps, target: FeatureMaps,
                features: nn.Module | None = None) -> torch.Tensor:
        if features is not None:
            if not isinstance(input, torch.Tensor) or not isinstance(target, torch.Tensor):
                raise TypeError("with features=..., pass images (tensors) as input and target")
            with torch.no_grad():
                target = features(grayscale(target.detach()))
            input = features(input)
        a, b = _maps(input), _maps(target)
        if len(a) != len(b) or not a:
            raise ValueError(f"need the same non-zero number of feature maps, got {len(a)} and {len(b)}")
        total = 0.0
        for fa, fb in zip(a, b):
            ga, gb = gram_matrix(fa), gram_matrix(fb.detach())
            if gb.shape[0] == 1 and ga.shape[0] > 1:
                gb = gb.expand_as(ga)
            total = total + F.l1_loss(ga, gb)
        return total / len(a)


class ColorLoss(nn.Module):
    """AnimeGANv2 colour loss: keep the photo's colours, ``L1(Y) + Huber(U) + Huber(V)`` in YUV.

    The luma term is an L1, the chroma terms Huber losses (δ = 1), all mean-reduced, between the
    generated image and the input photo.

    Args:
        huber_delta: δ of the chroma Huber losses.

    Shape:
        - input, target: :math:`(N, 3, H, W)` in [-1, 1].

    Example:
        >>> color = ColorLoss()
        >>> x = torch.rand(1, 3, 8, 8) * 2 - 1
        >>> float(color(x, x))
        0.0
    """

    def __init__(self, huber_delta: float = 1.0) -> None:
        super().__init__()
        if huber_delta <= 0:
            raise ValueError(f"huber_delta must be positive, got {huber_delta}")
        self.huber_delta = huber_delta

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if input.shape != target.shape or input.shape[1] != 3:
            raise ValueError(f"need two RGB batches of one shape, got {tuple(input.shape)} and "
                             f"{tuple(target.shape)}")
        a, b = rgb_to_yuv(input), rgb_to_yuv(target.detach())
        return (F.l1_loss(a[:, 0], b[:, 0]) + F.huber_loss(a[:, 1], b[:, 1], delta=self.huber_delta)
                + F.huber_loss(a[:, 2], b[:, 2], delta=self.huber_delta))


class TotalVariationLoss(nn.Module):
    """Total variation ``(mean(Δ_h²) + mean(Δ_w²)) / 2``, AnimeGANv2's smoothness term (``tf.nn.l2_loss``
    of the neighbour differences over their count).

    Shape:
        - Input: :math:`(N, C, H, W)`.

    Example:
        >>> tv = TotalVariationLoss()
        >>> float(tv(torch.ones(1, 3, 4, 4)))
        0.0
        >>> float(tv(torch.tensor([[[[0.0, 2.0]]]])))  # one horizontal step of 2: (0 + 4) / 2
        2.0
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters"
        super().__init__()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = input.float()
        total = x.new_zeros(())
        if x.shape[-2] > 1:
            total = total + (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() / 2
        if x.shape[-1] > 1:
            total = total + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean() / 2
        return total
