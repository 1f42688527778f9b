"""Checks of a style folder before training, so a useless run is refused in seconds, not after an hour.

Four things make a style folder unable to teach a style, and each is cheap to see from the files:

- **too few images**: fewer than :data:`MIN_STYLE_IMAGES` distinct ones;
- **images too small**: a shorter side below the training crop, so every crop is an upscaled blur;
- **one image many times**: near-identical files (the same 8×8 thumbnail) counted once;
- **photos, not a style**: drawn and painted images have large flat areas (hand-painted portraits: a median
  of 68 % of pixels in 5×5 windows whose gray levels vary by less than 2.5; anime faces 48 %), photos
  have texture and noise everywhere (30–33 % for the shared selfies, people photos and portraits). A
  folder whose median flat share is below :data:`PHOTO_FLAT_SHARE` and not clearly above the photos'
  looks like photos.

:func:`style_folder_problems` returns one line per problem; the trainer raises them together as a
:class:`StyleFolderError` before the first step (``data.check_style: false`` in a recipe skips them).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np

from toonkit.errors import ToonkitError

#: the fewest distinct style images a run accepts
MIN_STYLE_IMAGES = 5
#: a folder whose median flat share is below this looks like photos (see the module docstring)
PHOTO_FLAT_SHARE = 0.40
#: ... unless it is at least this much flatter than the photos it will be trained beside
FLATTER_THAN_PHOTOS = 0.08
#: images measured per folder for the flat share (evenly spread): enough for a median, fast on a laptop
SAMPLE = 48
#: at most this many style images are hashed and measured (a few seconds; more are sampled evenly)
MAX_MEASURED = 2000
_SIDE = 256  # images are measured at this shorter side


class StyleFolderError(ToonkitError):
    """The style images cannot teach a style (each problem one line)."""


@dataclass(frozen=True)
class ImageStats:
    """What the checks read of one image."""

    path: Path
    short_side: int
    flat_share: float
    thumbnail: bytes  # 8×8 RGB in 16 levels: two files with the same one are the same picture


def image_stats(path: str | os.PathLike) -> ImageStats:
    """Shorter side, flat share and coarse thumbnail of one image (decoded through toonkit's reader)."""
    import cv2
    import torch
    import torch.nn.functional as F

    from toonkit.data.decode import load_rgb_tensor

    img = load_rgb_tensor(path, draft=_SIDE)  # (3, H, W) uint8
    short = int(min(img.shape[-2:]))
    gray = (img.float() * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0)  # BT.601 luma
    scale = _SIDE / short
    if scale < 1:
        size = (max(1, round(gray.shape[0] * scale)), max(1, round(gray.shape[1] * scale)))
        gray = F.interpolate(gray[None, None], size=size, mode="bilinear", antialias=True,
                             align_corners=False)[0, 0]
    g = gray.numpy().astype(np.float32)
    mean, sq = cv2.blur(g, (5, 5)), cv2.blur(g * g, (5, 5))
    flat = float((np.sqrt(np.maximum(sq - mean * mean, 0)) < 2.5).mean())
    thumb = cv2.resize(img.permute(1, 2, 0).numpy(), (8, 8), interpolation=cv2.INTER_AREA)
    key = (thumb // 16).astype(np.uint8).tobytes()  # 8×8 colours in 16 levels: copies and re-encodes agree
    return ImageStats(Path(path), short, flat, key)


def _spread(files: Sequence[Path], k: int) -> list[Path]:
    if len(files) <= k:
        return list(files)
    return [files[(2 * i + 1) * len(files) // (2 * k)] for i in range(k)]


def style_folder_problems(cartoons: Sequence[Path], photos: Sequence[Path], size: int) -> list[str]:
    """Problems of a style folder for training at ``size``² crops; empty when it can teach a style.

    Args:
        cartoons: the style images (already found and decodable).
        photos: the photos they will be trained beside (for the "looks like photos" comparison).
        size: the training crop side.
    """
    problems: list[str] = []
    stats = [image_stats(p) for p in _spread(list(cartoons), MAX_MEASURED)]
    hashes: dict[bytes, Path] = {}
    for s in stats:
        hashes.setdefault(s.thumbnail, s.path)
    distinct = len(hashes)
    if distinct < MIN_STYLE_IMAGES:
        repeated = f" ({len(stats)} files, {distinct} different images)" if distinct < len(stats) else ""
        problems.append(f"only {distinct} style image(s){repeated}: a style needs at least {MIN_STYLE_IMAGES} "
                        "different ones (about 30 recommended: see the README's measured curve)")
    elif distinct <= len(stats) // 2:
        problems.append(f"{len(stats)} style files but only {distinct} different images: the folder holds the "
                        "same picture many times (the same 8×8 thumbnail); remove the copies")
    small = [s for s in stats if s.short_side < size]
    if small:
        names = ", ".join(s.path.name for s in small[:3]) + (" …" if len(small) > 3 else "")
        problems.append(f"{len(small)} of {len(stats)} style images are smaller than the {size}-pixel training "
                        f"crop ({names}; the smallest is {min(s.short_side for s in small)} px): use larger "
                        f"images or a smaller data.size")
    if len(stats) >= MIN_STYLE_IMAGES:
        style_flat = median(s.flat_share for s in _spread_stats(stats))
        photo_flat = median(image_stats(p).flat_share for p in _spread(list(photos), SAMPLE)) if photos else 0.0
        if style_flat < PHOTO_FLAT_SHARE and style_flat < photo_flat + FLATTER_THAN_PHOTOS:
            problems.append(
                f"the style images look like photos, not a drawn or painted style: {style_flat:.0%} of their "
                f"pixels lie in flat areas against {photo_flat:.0%} for the photos (drawings and paintings: "
                f"about {PHOTO_FLAT_SHARE:.0%} or more); check data.cartoons and data.photos are not swapped, "
                "or set data.check_style: false to train anyway")
    return problems


def _spread_stats(stats: list[ImageStats]) -> list[ImageStats]:
    return [stats[(2 * i + 1) * len(stats) // (2 * SAMPLE)] for i in range(SAMPLE)] if len(stats) > SAMPLE \
        else stats
