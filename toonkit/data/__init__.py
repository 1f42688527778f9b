"""Data: robust decoding, folder scanning, datasets (photos + masks, cartoons + edge-smoothed twins,
unpaired), the smoothed-twin cache and the synthetic demo set."""
from __future__ import annotations

from toonkit.data.cache import SmoothCache
from toonkit.data.datasets import (
    CartoonDataset,
    MissingMasksError,
    PhotoDataset,
    UnpairedDataset,
    require_masks,
)
from toonkit.data.decode import DecodeError, load_mask, load_rgb, load_rgb_tensor, probe
from toonkit.data.demo import make_demo
from toonkit.data.folders import (
    IMAGE_EXTENSIONS,
    EmptyFolderError,
    find_splits,
    match_by_stem,
    scan_images,
    validate_images,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "CartoonDataset",
    "DecodeError",
    "EmptyFolderError",
    "MissingMasksError",
    "PhotoDataset",
    "SmoothCache",
    "UnpairedDataset",
    "find_splits",
    "load_mask",
    "load_rgb",
    "load_rgb_tensor",
    "make_demo",
    "match_by_stem",
    "probe",
    "require_masks",
    "scan_images",
    "validate_images",
]
