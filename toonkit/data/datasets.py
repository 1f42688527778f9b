"""Datasets the trainer composes: photos (+ person masks), cartoons (+ edge-smoothed twins), and an
unpaired zip of photos and cartoons (pix2pix makes its outline → cartoon pairs from cartoon batches).

Every dataset scans its folder recursively, decodes each file once up front and keeps only the good
ones: each bad file gets one warning on the ``toonkit.data`` logger and is listed in ``skipped`` as
``(path, reason)``. A folder left with no usable image raises :class:`EmptyFolderError` naming it.
Samples are dicts of float tensors (images in [-1, 1], masks in [0, 1]) that the default collate
batches. Decoding, resizing (shorter side → ``load_size``) and the square crop of side ``size``
happen in ``__getitem__``, i.e. in DataLoader workers; every tensor of a sample shares one crop/flip.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from toonkit.augment.edge_smooth import EdgeSmooth
from toonkit.data.cache import SmoothCache, smooth_uint8
from toonkit.data.decode import DecodeError, load_mask
from toonkit.data.folders import EmptyFolderError, match_by_stem, scan_images, validate_images
from toonkit.data.transforms import CropFlip, load_resized, sample_crop_flip
from toonkit.imaging import from_uint8, unit_from_uint8, unit_to_uint8
from toonkit.errors import ToonkitError

__all__ = ["CartoonDataset", "MissingMasksError", "PhotoDataset", "UnpairedDataset",
           "require_masks"]

logger = logging.getLogger("toonkit.data")

PathLike = str | os.PathLike
Validate = Literal["full", "header"]
#: ``teacher(image)``: image 1×3×H×W in [-1, 1] → person probability 1×1×H×W in [0, 1].
MaskTeacher = Callable[[Tensor], Tensor]  # a masker: (1, 3, H, W) in [-1, 1] → (1, 1, H, W) logits

_MAX_RETRIES = 10
_ASPECT_TOLERANCE = 0.02


class MissingMasksError(ToonkitError, FileNotFoundError):
    """Photos of a dataset that needs person masks have none (and no mask teacher was given)."""


class _ImageFolder(Dataset):
    """Scanning, validation and the shared crop logic of the datasets below."""

    def __init__(self, root: PathLike, size: int, load_size: int | None, train: bool, hflip: bool,
                 validate: Validate, what: str) -> None:
        self.root = Path(root)
        self.size = size
        self.load_size = size if load_size is None else load_size
        if self.load_size < size:
            raise ValueError(f"load_size ({self.load_size}) must be >= size ({size})")
        self.train = train
        self.hflip = hflip
        self.what = what
        self.files, self.image_sizes, self.skipped = self._scan(self.root, validate, what)

    @staticmethod
    def _scan(root: Path, validate: Validate, what: str
              ) -> tuple[list[Path], dict[Path, tuple[int, int]], list[tuple[Path, str]]]:
        found = scan_images(root)
        good, skipped = validate_images(found, full=validate == "full", what=what)
        if not good:
            detail = (f"; all {len(skipped)} image files failed to decode (first: {skipped[0][0].name}: "
                      f"{skipped[0][1]})" if skipped else
                      " (looked for .jpg .jpeg .png .webp .bmp .tif .tiff, recursively)")
            raise EmptyFolderError(f"no usable {what} images in {root}{detail}")
        if skipped:
            logger.info("%s: using %d %s images, skipped %d", root, len(good), what, len(skipped))
        return list(good), good, skipped

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> tuple[int, Tensor]:
        """Decode file ``index`` at the load size; a file that broke since validation is replaced by
        the next one (warned once), so a long run survives a file deleted under it."""
        for attempt in range(_MAX_RETRIES):
            i = (index + attempt) % len(self.files)
            try:
                return i, load_resized(self.files[i], self.load_size)
            except DecodeError as e:
                if all(p != e.path for p, _ in self.skipped):
                    logger.warning("skipping unreadable %s image %s: %s", self.what, e.path, e.reason)
                    self.skipped.append((e.path, e.reason))  # only visible in this worker's copy
        raise DecodeError(self.files[index], f"it and the next {_MAX_RETRIES - 1} files failed to decode")

    def _window(self, image: Tensor) -> CropFlip:
        return sample_crop_flip(image.shape[-2], image.shape[-1], self.size, self.train, self.hflip)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(root={str(self.root)!r}, n={len(self)}, skipped={len(self.skipped)}, "
                f"size={self.size}, load_size={self.load_size}, train={self.train})")


class PhotoDataset(_ImageFolder):
    """Photos, optionally with person masks matched by file stem.

    Masks live in their own folder with the photos' stems (``photos/a/x.jpg`` ↔ ``masks/a/x.png``); a mask
    of another size but the same aspect ratio is resized to its photo; a mask of another aspect ratio
    is skipped (warned, listed in ``skipped``) and its photo counts as missing a mask. Photos without a
    mask are listed in ``missing_masks``; call :func:`require_masks` before training to fail early or
    fill them with a mask teacher.

    Args:
        root: folder of photos (scanned recursively).
        masks: folder of masks (gray PNG: 0 background … 255 person), or ``None`` for no masks.
        size: side of the square crop returned.
        load_size: shorter side the photo is resized to before cropping (``None``: ``size``).
        train: random crop and flip; ``False``: centre crop, no flip.
        hflip: allow horizontal flips when training.
        validate: ``"full"`` decodes every file up front (catches truncation), ``"header"`` only
            parses headers (faster for huge folders).

    Sample:
        ``{"photo": 3×size×size in [-1, 1], "mask": 1×size×size in [0, 1]}`` (``mask`` only with masks).

    Example:
        >>> ds = PhotoDataset("data/photos", masks="data/masks", size=128)  # doctest: +SKIP
        >>> ds[0]["photo"].shape, ds[0]["mask"].shape
        (torch.Size([3, 128, 128]), torch.Size([1, 128, 128]))
    """

    def __init__(
        self,
        root: PathLike,
        masks: PathLike | None = None,
        size: int = 256,
        load_size: int | None = None,
        train: bool = True,
        hflip: bool = True,
        validate: Validate = "full",
    ) -> None:
        super().__init__(root, size, load_size, train, hflip, validate, "photo")
        self.mask_root = None if masks is None else Path(masks)
        self.masks: dict[Path, Path] = {}
        self.generated_masks: dict[Path, Tensor] = {}  # from a teacher, uint8 1×H×W at load size
        if self.mask_root is not None:
            self._match_masks(validate)

    @property
    def needs_masks(self) -> bool:
        return self.mask_root is not None

    @property
    def missing_masks(self) -> list[Path]:
        """Photos that have neither a mask file nor a teacher-made mask."""
        if not self.needs_masks:
            return []
        return [p for p in self.files if p not in self.masks and p not in self.generated_masks]

    def _match_masks(self, validate: Validate) -> None:
        assert self.mask_root is not None
        if not self.mask_root.is_dir():
            raise EmptyFolderError(f"mask folder {self.mask_root} does not exist")
        pairs = match_by_stem(self.files, self.root, scan_images(self.mask_root), self.mask_root)
        good, skipped = validate_images(list(dict.fromkeys(pairs.values())), full=validate == "full",
                                        what="mask")
        self.skipped.extend(skipped)
        for photo, mask in pairs.items():
            if mask not in good:
                continue
            (pw, ph), (mw, mh) = self.image_sizes[photo], good[mask]
            if abs(mw * ph - mh * pw) > _ASPECT_TOLERANCE * max(mw * ph, mh * pw):
                reason = f"mask is {mw}×{mh} but its photo {photo.name} is {pw}×{ph} (another aspect ratio)"
                logger.warning("skipping mask %s: %s", mask, reason)
                self.skipped.append((mask, reason))
                continue
            self.masks[photo] = mask

    def _mask_for(self, photo: Path, hw: tuple[int, ...]) -> Tensor:
        if photo in self.generated_masks:
            m = unit_from_uint8(self.generated_masks[photo])
        elif photo in self.masks:
            m = load_mask(self.masks[photo])
        else:
            raise MissingMasksError(
                f"photo {photo} has no mask in {self.mask_root}; call toonkit.data.require_masks(dataset, "
                "teacher=...) to fill missing masks")
        if tuple(m.shape[-2:]) != hw:
            down = m.shape[-2] > hw[0]
            m = F.interpolate(m.unsqueeze(0), size=hw, mode="bilinear", antialias=down,
                              align_corners=False).squeeze(0).clamp_(0.0, 1.0)
        return m

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        i, img = self._load(index)
        win = self._window(img)
        sample = {"photo": from_uint8(win(img))}
        if self.needs_masks:
            sample["mask"] = win(self._mask_for(self.files[i], tuple(img.shape[-2:]))).contiguous()
        return sample


class CartoonDataset(_ImageFolder):
    """Cartoons with their edge-smoothed twins (CartoonGAN's edge-promoting negatives).

    The twin is computed on the cartoon at the load size, with :class:`~toonkit.augment.EdgeSmooth`,
    then cropped and flipped with the cartoon. With ``cache_dir`` it is computed once per file and
    stored (see :class:`~toonkit.data.cache.SmoothCache`, filled up front when ``warm``); without, it
    is recomputed in the worker on every load (a few ms at 256²).

    Args:
        root: folder of cartoons (scanned recursively).
        size: side of the square crop returned.
        load_size: shorter side the cartoon is resized to before smoothing and cropping.
        train: random crop and flip; ``False``: centre crop, no flip.
        hflip: allow horizontal flips when training.
        smooth: also return the smoothed twin.
        cache_dir: where smoothed twins are cached (``None``: no cache).
        warm: compute missing cache entries in the constructor (before workers start).
        low_threshold, high_threshold, dilate, blur: edge-smoothing parameters.
        validate: ``"full"`` or ``"header"`` up-front check of every file.

    Sample:
        ``{"cartoon": 3×size×size, "smooth": 3×size×size}``, both in [-1, 1] (``smooth`` if ``smooth``).
    """

    def __init__(
        self,
        root: PathLike,
        size: int = 256,
        load_size: int | None = None,
        train: bool = True,
        hflip: bool = True,
        smooth: bool = True,
        cache_dir: PathLike | None = None,
        warm: bool = True,
        low_threshold: float = 100.0,
        high_threshold: float = 200.0,
        dilate: int = 5,
        blur: int = 5,
        validate: Validate = "full",
    ) -> None:
        super().__init__(root, size, load_size, train, hflip, validate, "cartoon")
        self.smooth = smooth
        self.smoother = EdgeSmooth(low_threshold, high_threshold, dilate, blur)
        self.cache = (SmoothCache(cache_dir, self.load_size, low_threshold, high_threshold, dilate, blur)
                      if smooth and cache_dir is not None else None)
        if self.cache is not None and warm:
            n = self.cache.warm(self.files)
            if n:
                logger.info("cached %d edge-smoothed cartoons in %s", n, self.cache.root)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        i, img = self._load(index)
        win = self._window(img)
        sample = {"cartoon": from_uint8(win(img))}
        if self.smooth:
            if self.cache is not None:
                twin = self.cache.get(self.files[i], img)
            else:
                with torch.no_grad():
                    twin = smooth_uint8(img, self.smoother)
            sample["smooth"] = from_uint8(win(twin))
        return sample


class UnpairedDataset(Dataset):
    """Zip a photo dataset with a cartoon dataset: each photo with a random cartoon.

    Length is the photo dataset's; the cartoon index is drawn with torch's RNG (seeded per DataLoader
    worker), like CycleGAN's unaligned loader.

    Sample:
        the union of both samples' keys, e.g. ``photo``, ``mask``, ``cartoon``, ``smooth``.
    """

    def __init__(self, photos: PhotoDataset, cartoons: CartoonDataset) -> None:
        self.photos = photos
        self.cartoons = cartoons

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        j = int(torch.randint(0, len(self.cartoons), (1,)))
        return {**self.photos[index], **self.cartoons[j]}


def require_masks(
    dataset: PhotoDataset,
    teacher: MaskTeacher | None = None,
    cache_dir: PathLike | None = None,
    show: int = 5,
) -> int:
    """Make sure every photo of ``dataset`` has a mask, or fail listing the ones without.

    Without a teacher, raises :class:`MissingMasksError` naming the first ``show`` photos that lack a
    mask. With a teacher (a masker: images in [-1, 1] → person logits), each such photo at the dataset's
    load size goes through :func:`toonkit.data.teacher.predict_mask`, the same path as ``toonkit data
    masks`` (padded to the masker's ``size_multiple``, sigmoid), and the probabilities become its mask;
    with ``cache_dir`` the masks are also written there (atomically) as PNGs named by the photo's
    relative path and stem, so a later run can pass ``cache_dir`` as its masks folder.

    Returns:
        the number of masks the teacher produced.
    """
    from toonkit.data.teacher import predict_mask, save_mask

    if not dataset.needs_masks:
        return 0
    missing = dataset.missing_masks
    if not missing:
        return 0
    if teacher is None:
        listed = ", ".join(str(p) for p in missing[:show])
        more = f" and {len(missing) - show} more" if len(missing) > show else ""
        raise MissingMasksError(
            f"{len(missing)} of {len(dataset)} photos have no mask in {dataset.mask_root}: {listed}{more}. "
            "Add masks with the same file stems, or give a mask teacher to generate them.")
    out_dir = None if cache_dir is None else Path(cache_dir)
    for photo in missing:
        img = load_resized(photo, dataset.load_size)
        m8 = unit_to_uint8(predict_mask(teacher, from_uint8(img), max_side=None))[None]
        dataset.generated_masks[photo] = m8
        if out_dir is not None:
            rel = photo.relative_to(dataset.root) if photo.is_relative_to(dataset.root) else Path(photo.name)
            save_mask(m8[0], (out_dir / rel).with_suffix(".png"))
    logger.info("mask teacher produced %d masks", len(missing))
    return len(missing)
