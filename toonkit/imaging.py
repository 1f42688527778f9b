"""Pixel-range conversions: the one place that knows how toonkit's image conventions map onto each other.

toonkit's networks see RGB images as float tensors in [-1, 1] ("signed"); files, PIL and metrics
backbones such as Inception use uint8 in [0, 255]; masks, alpha channels and kornia's colour functions
use floats in [0, 1] ("unit"). Every conversion between them goes through these functions, so rounding
and clamping are the same everywhere (round half to even, then clamp, on the way to uint8).

This module imports only torch, so any layer (data, augment, translate, metrics, bench, demo, plugins)
can use it.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["BT601_LUMA", "from_uint8", "from_unit", "rgb_to_gray", "to_levels", "to_uint8", "to_unit",
           "unit_from_uint8", "unit_to_uint8"]

#: ITU-R BT.601 luma weights of R, G, B: OpenCV's and PIL's RGB → gray (they sum to 1)
BT601_LUMA = (0.299, 0.587, 0.114)


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
