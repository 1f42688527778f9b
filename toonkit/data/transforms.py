"""Per-sample loading transforms run in DataLoader workers: resize the shorter side, then one random
(or centre) square crop and horizontal flip shared by every tensor of a sample (image, mask, smoothed
twin), so they stay aligned."""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor

from toonkit.data.decode import load_rgb_tensor

__all__ = ["LOADER_VERSION", "CropFlip", "load_resized", "resize_short", "sample_crop_flip"]

PathLike = str | os.PathLike

#: Changes whenever the pixels :func:`load_resized` returns could change (part of cache keys).
LOADER_VERSION = "load-v1:draft-jpeg,bilinear-antialias"


def resize_short(x: Tensor, size: int) -> Tensor:
    """Resize so the shorter side is ``size`` (bilinear, antialiased); uint8 in → uint8 out.

    Shape:
        - x: (C, H, W), uint8 or float
        - output: (C, H', W') with min(H', W') == size
    """
    h, w = x.shape[-2:]
    scale = size / min(h, w)
    out_hw = (size, max(1, round(w * scale))) if h <= w else (max(1, round(h * scale)), size)
    if out_hw == (h, w):
        return x
    # torch has a fast antialiased uint8 path on CPU; floats (masks) are resized as they are.
    return F.interpolate(x.unsqueeze(0), size=out_hw, mode="bilinear", antialias=True,
                         align_corners=False).squeeze(0)


def load_resized(path: PathLike, load_size: int | None) -> Tensor:
    """Decode an image and resize its shorter side to ``load_size`` (``None``: keep the size).

    Shape:
        - output: (3, H, W), uint8
    """
    img = load_rgb_tensor(path, draft=load_size)
    return img if load_size is None else resize_short(img, load_size)


class CropFlip:
    """One square crop window and flip flag, applied identically to several tensors.

    Args:
        top, left: crop corner; size: crop side; flip: mirror horizontally.
    """

    __slots__ = ("flip", "left", "size", "top")

    def __init__(self, top: int, left: int, size: int, flip: bool) -> None:
        self.top, self.left, self.size, self.flip = top, left, size, flip

    def __call__(self, x: Tensor) -> Tensor:
        """Crop (and flip) a (C, H, W) tensor laid out like the one the window was drawn for."""
        out = x[..., self.top:self.top + self.size, self.left:self.left + self.size]
        return out.flip(-1) if self.flip else out

    def __repr__(self) -> str:
        return f"CropFlip(top={self.top}, left={self.left}, size={self.size}, flip={self.flip})"


def sample_crop_flip(height: int, width: int, size: int, train: bool = True, hflip: bool = True,
                     generator: torch.Generator | None = None) -> CropFlip:
    """Draw a crop window of side ``size`` in a ``height``×``width`` image.

    Training draws a uniform position and a coin-flip mirror (torch's RNG, which DataLoader seeds per
    worker); evaluation takes the centre, unflipped.
    """
    if size > min(height, width):
        raise ValueError(f"crop size {size} exceeds image size {height}×{width}")
    if train:
        top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
        flip = hflip and bool(torch.rand(1, generator=generator) < 0.5)
    else:
        top, left, flip = (height - size) // 2, (width - size) // 2, False
    return CropFlip(top, left, size, flip)
