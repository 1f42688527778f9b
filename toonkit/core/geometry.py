"""Image sizes for networks: resize the short side, pad to a network's size multiple, crop back.

Generators only accept heights and widths divisible by their ``size_multiple``; translating an image of
any size means padding it up to the next multiple (reflection, so the network sees plausible content
instead of a black frame) and cropping the result back to exactly the input's size. Translation and
mask teachers both run networks this way (:func:`run_padded`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def short_side_size(height: int, width: int, short: int) -> tuple[int, int]:
    """``(H, W)`` scaled so that the shorter side is ``short``, aspect ratio kept (rounded, at least 1).

    Example:
        >>> short_side_size(333, 517, 256)
        (256, 397)
    """
    if short < 1:
        raise ValueError(f"size must be >= 1, got {short}")
    scale = short / min(height, width)
    if height <= width:
        return short, max(1, round(width * scale))
    return max(1, round(height * scale)), short


def resize(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """Bilinear resize of ``(N, C, H, W)`` to ``size``; antialiased when shrinking; a no-op at the same size."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    dtype = x.dtype
    out = F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=shrink)
    return out.to(dtype)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad ``(N, C, H, W)`` on the bottom and right up to multiples of ``multiple``.

    Reflection padding where the image is large enough for it (reflect needs a pad smaller than the
    side), replication otherwise. Returns the padded tensor and the original ``(H, W)`` for
    :func:`crop`.

    Example:
        >>> y, hw = pad_to_multiple(torch.zeros(1, 3, 333, 517), 4)
        >>> y.shape[-2:], hw
        (torch.Size([336, 520]), (333, 517))
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    # reflect can only mirror up to side-1 pixels; tiny images (a 1-pixel row) replicate instead
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


def crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The top-left ``size`` of ``(N, C, H, W)`` (undoes :func:`pad_to_multiple`)."""
    return x[..., : size[0], : size[1]]


MIN_SIDE = 16  # smaller inputs are upsampled first: the networks' reflect padding needs a few pixels


def run_padded(net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``net(x)`` for any H and W: pad to ``multiple``, run, crop back to the input's size.

    An input under :data:`MIN_SIDE` pixels on a side (a 1×1 PNG, a 3-pixel-high strip) is upsampled to
    that size first and the result resized back, so every image that decodes gets an output.
    """
    h, w = x.shape[-2:]
    if min(h, w) < MIN_SIDE:
        big = torch.nn.functional.interpolate(x, size=(max(h, MIN_SIDE), max(w, MIN_SIDE)), mode="bilinear",
                                              align_corners=False)
        y = run_padded(net, big, multiple)
        return torch.nn.functional.interpolate(y.float(), size=(h, w), mode="area").to(y.dtype)
    padded, hw = pad_to_multiple(x, multiple)
    return crop(net(padded), hw)
