"""Pixel-range conversions: the one place that knows how toonkit's image conventions map onto each other;
and the image budget: the largest working size of an image, bounded in both dimensions.

toonkit's networks see RGB images as float tensors in [-1, 1] ("signed"); files, PIL and metrics
backbones such as Inception use uint8 in [0, 255]; masks, alpha channels and kornia's colour functions
use floats in [0, 1] ("unit"). Every conversion between them goes through these functions, so rounding
and clamping are the same everywhere (round half to even, then clamp, on the way to uint8).

This module imports only torch, so any layer (data, augment, translate, metrics, bench, demo, plugins)
can use it.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["BT601_LUMA", "fit_pixels", "from_uint8", "from_unit", "max_side", "rgb_to_gray", "to_levels",
           "to_uint8", "to_unit", "unit_from_uint8", "unit_to_uint8"]

#: ITU-R BT.601 luma weights of R, G, B: OpenCV's and PIL's RGB → gray (they sum to 1)
BT601_LUMA = (0.299, 0.587, 0.114)

#: the longest side allowed, as a multiple of the side of the budget's square: a panorama 4:1 fits
#: whole, a 89 000 000 × 1 strip does not (it would cost as much as its pixel count times the padding
#: networks add to a 1-pixel side)
SIDE_FACTOR = 4


def max_side(max_pixels: int) -> int:
    """The longest side an image within ``max_pixels`` may have: :data:`SIDE_FACTOR` times the side of
    the square of that many pixels.

    Example:
        >>> max_side(4096 * 4096)
        16384
    """
    return max(1, SIDE_FACTOR * math.isqrt(max(1, int(max_pixels))))


def fit_pixels(height: int, width: int, max_pixels: int) -> tuple[int, int]:
    """``(height, width)`` scaled down, aspect kept, to the image budget ``max_pixels``: at most that many
    pixels, and neither side above :func:`max_side` (a side is never below 1).

    This is the one place the budget is computed: the decoder reduces an image to it before converting it
    to floats, and translation never works on (or returns) anything larger.

    Example:
        >>> fit_pixels(3000, 4000, 4096 * 4096)  # within the budget: unchanged
        (3000, 4000)
        >>> fit_pixels(1, 89_000_000, 4096 * 4096)  # both dimensions are bounded, not just the product
        (1, 16384)
        >>> fit_pixels(9000, 9000, 4096 * 4096)
        (4096, 4096)
    """
    budget, side = max(1, int(max_pixels)), max_side(max_pixels)
    if height * width <= budget and max(height, width) <= side:
        return height, width
    scale = min(math.sqrt(budget / (height * width)), side / max(height, width))
    h, w = max(1, math.floor(height * scale)), max(1, math.floor(width * scale))
    # a side clamped to 1 must not let the other carry the whole budget: cap it by what is left
    h, w = min(h, side, max(1, budget // w)), min(w, side, max(1, budget // h))
    return h, w


def from_uint8(x: Tensor) -> Tensor:
    """uint8 pixels in [0, 255] → float32 in [-1, 1] (``x / 127.5 - 1``).

    Args:
        x: pixel values; any integer or float dtype holding 0…255 works.

    Shape:
        - x: any, e.g. :math:`(3, H, W)` or :math:`(N, 3, H, W)`
        - output: same shape, float32

    Example:
        >>> from_uint8(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
        [-1.0, 1.0]
    """
    # a fresh tensor before the in-place subtraction: a float input is never modified
    return x.float().div(127.5).sub_(1.0)


def to_levels(x: Tensor) -> Tensor:
    """Float in [-1, 1] → the uint8 levels 0…255 it would be saved as, kept in float32.

    Scaled, rounded (half to even, like a PNG save through :func:`to_uint8`), then clamped: values
    outside [-1, 1] saturate at 0 and 255 (clamping after scaling gives the same levels as clamping to
    [-1, 1] first). For arithmetic on 8-bit levels (OpenCV-faithful code) without a uint8 round trip.

    Shape:
        - x: any
        - output: same shape, float32 holding integers

    Example:
        >>> to_levels(torch.tensor([-1.0, 0.0, 1.0, 2.0])).tolist()
        [0.0, 128.0, 255.0, 255.0]
    """
    return x.float().add(1.0).mul_(127.5).round_().clamp_(0, 255)


def to_uint8(x: Tensor) -> Tensor:
    """Float in [-1, 1] → uint8 in [0, 255] (the levels of :func:`to_levels`).

    Shape:
        - x: any, e.g. :math:`(N, 3, H, W)`
        - output: same shape, uint8, on ``x``'s device

    Example:
        >>> to_uint8(torch.tensor([-1.0, 0.0, 1.0, 2.0])).tolist()
        [0, 128, 255, 255]
    """
    return to_levels(x).to(torch.uint8)


def to_unit(x: Tensor, clamp: bool = False) -> Tensor:
    """Float in [-1, 1] → float in [0, 1] (``(x + 1) / 2``).

    Args:
        x: images in [-1, 1].
        clamp: clip the result to [0, 1] (for consumers that require the range, e.g. metrics and
            kornia colour conversions fed a generator's slightly out-of-range output).

    Shape:
        - x: any
        - output: same shape and dtype

    Example:
        >>> to_unit(torch.tensor([-1.0, 0.0, 1.0, 1.5])).tolist()
        [0.0, 0.5, 1.0, 1.25]
        >>> to_unit(torch.tensor([-1.5, 1.5]), clamp=True).tolist()
        [0.0, 1.0]
    """
    unit = (x + 1) / 2
    return unit.clamp(0, 1) if clamp else unit


def from_unit(x: Tensor) -> Tensor:
    """Float in [0, 1] → float in [-1, 1] (``x * 2 - 1``); the range is not clamped.

    Shape:
        - x: any
        - output: same shape and dtype

    Example:
        >>> from_unit(torch.tensor([0.0, 0.5, 1.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    return x * 2 - 1


def unit_from_uint8(x: Tensor) -> Tensor:
    """uint8 in [0, 255] (a mask or alpha channel) → float32 in [0, 1] (``x / 255``).

    Shape:
        - x: any, e.g. :math:`(1, H, W)`
        - output: same shape, float32

    Example:
        >>> unit_from_uint8(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
        [0.0, 1.0]
    """
    return x.float().div(255.0)


def unit_to_uint8(x: Tensor) -> Tensor:
    """Float in [0, 1] (a mask, probability or alpha) → uint8: ``x · 255`` rounded (half to even), clamped.

    Shape:
        - x: any, e.g. :math:`(N, 1, H, W)`
        - output: same shape, uint8

    Example:
        >>> unit_to_uint8(torch.tensor([0.0, 0.5, 1.0, 1.5])).tolist()
        [0, 128, 255, 255]
    """
    return x.float().mul(255.0).round_().clamp_(0, 255).to(torch.uint8)


def rgb_to_gray(x: Tensor) -> Tensor:
    """Differentiable BT.601 luma of RGB images, in any value range (the weights sum to 1, so [-1, 1]
    stays [-1, 1]).

    Shape:
        - x: :math:`(N, 3, H, W)`
        - output: :math:`(N, 1, H, W)`

    Example:
        >>> rgb_to_gray(torch.ones(1, 3, 2, 2)).shape, float(rgb_to_gray(torch.ones(1, 3, 1, 1)))
        (torch.Size([1, 1, 2, 2]), 1.0)
    """
    w = torch.tensor(BT601_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)
