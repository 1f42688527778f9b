"""Finding images on disk: recursive folder scans, the trainA/trainB/testA/testB layout, stem matching,
and up-front validation that drops undecodable files with one warning each."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from toonkit.data.decode import DecodeError, probe
from toonkit.errors import ToonkitError

__all__ = [
    "IMAGE_EXTENSIONS",
    "SPLIT_NAMES",
    "EmptyFolderError",
    "find_splits",
    "match_by_stem",
    "scan_images",
    "validate_images",
]

logger = logging.getLogger("toonkit.data")

PathLike = str | os.PathLike

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})

#: CycleGAN-style layout: domain A = photos, domain B = cartoons.
SPLIT_NAMES: tuple[str, ...] = ("trainA", "trainB", "testA", "testB")


class EmptyFolderError(ToonkitError, FileNotFoundError):
    """A domain folder holds no usable image (missing, empty, or every file failed to decode)."""


def scan_images(root: PathLike, recursive: bool = True) -> list[Path]:
    """Image files under ``root`` (by extension, case-insensitive), sorted; hidden entries skipped.

    Args:
        root: a folder (or a single image file, returned alone).
        recursive: descend into sub-folders.

    Raises:
        EmptyFolderError: ``root`` does not exist.
    """
    root = Path(root)
    if root.is_file():
        return [root] if root.suffix.lower() in IMAGE_EXTENSIONS else []
    if not root.is_dir():
        raise EmptyFolderError(f"image folder {root} does not exist")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if not recursive:
            dirnames[:] = []
        found.extend(Path(dirpath) / f for f in filenames
                     if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(found)


def find_splits(root: PathLike) -> dict[str, Path]:
    """The ``trainA``/``trainB``/``testA``/``testB`` sub-folders that exist under ``root``.

    Example:
        >>> find_splits("datasets/selfie2anime")  # doctest: +SKIP
        {'trainA': PosixPath('datasets/selfie2anime/trainA'), 'trainB': ...}
    """
    root = Path(root)
    return {name: root / name for name in SPLIT_NAMES if (root / name).is_dir()}


def _key(path: Path, root: Path) -> str:
    rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    return rel.with_suffix("").as_posix()


def match_by_stem(files: Iterable[Path], files_root: PathLike, candidates: Iterable[Path],
                  candidates_root: PathLike) -> dict[Path, Path]:
    """Pair each file with the candidate of the same stem (e.g. a photo with its mask).

    The relative path without extension is tried first (``photos/a/x.jpg`` ↔ ``masks/a/x.png``),
    then the bare stem when it is unique among the candidates. Among several candidates with the same
    key, ``.png`` wins (masks should be lossless).

    Returns:
        {file: candidate} for the files that have one.
    """
    froot, croot = Path(files_root), Path(candidates_root)
    by_rel: dict[str, Path] = {}
    by_stem: dict[str, list[Path]] = {}
    for c in sorted(candidates, key=lambda p: (p.suffix.lower() != ".png", str(p))):
        by_rel.setdefault(_key(c, croot), c)
        by_stem.setdefault(c.stem, []).append(c)
    out: dict[Path, Path] = {}
    for f in files:
        hit = by_rel.get(_key(f, froot))
        if hit is None:
            same = by_stem.get(f.stem, [])
            if len({c.with_suffix("") for c in same}) == 1:
                hit = same[0]
        if hit is not None:
            out[f] = hit
    return out


def validate_images(
    paths: list[Path],
    full: bool = True,
    workers: int | None = None,
    what: str = "image",
) -> tuple[dict[Path, tuple[int, int]], list[tuple[Path, str]]]:
    """Split ``paths`` into decodable files (with their upright sizes) and skipped ``(path, reason)``.

    Each skipped file gets one warning on the ``toonkit.data`` logger. Decoding runs in a thread pool
    (PIL releases the GIL while decoding).

    Args:
        paths: files to check.
        full: decode the pixel data (catches truncation; JPEGs at 1/8 scale); ``False`` reads headers.
        workers: threads (default: up to 8, by CPU count).
        what: noun used in the warnings ("photo", "mask", ...).

    Returns:
        ({path: (width, height)} in input order, [(path, reason), ...])
    """

    def one(p: Path) -> tuple[int, int] | str:
        try:
            return probe(p, full=full)
        except DecodeError as e:
            return e.reason

    n_workers = workers or min(8, os.cpu_count() or 1)
    if n_workers > 1 and len(paths) > 1:
        with ThreadPoolExecutor(n_workers) as pool:
            results = list(pool.map(one, paths))
    else:
        results = [one(p) for p in paths]
    good: dict[Path, tuple[int, int]] = {}
    skipped: list[tuple[Path, str]] = []
    for p, r in zip(paths, results):
        if isinstance(r, str):
            logger.warning("skipping unreadable %s %s: %s", what, p, r)
            skipped.append((p, r))
        else:
            good[p] = r
    return good, skipped
