"""Person masks from a mask teacher: ``toonkit data masks PHOTOS -o MASKS [--teacher NAME]``.

A teacher is any registered masker (photos in [-1, 1] → person logits); the usual one is
``mediapipe_selfie`` from the ``toonkit-mediapipe`` plugin, which needs no training. Each photo gets one
8-bit grayscale PNG of the same relative path and stem (soft probability × 255, or 0/255 with a
threshold), the layout :func:`toonkit.data.folders.match_by_stem` pairs photos and masks by.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from toonkit.data.decode import DecodeError, load_rgb_tensor, prefetch
from toonkit.data.folders import EmptyFolderError, scan_images
from toonkit.core.geometry import run_padded
from toonkit.errors import ToonkitError, describe_error, first_line
from toonkit.imaging import from_uint8, unit_to_uint8
from toonkit.io_utils import OutputsReport
from toonkit.protocols import size_multiple

__all__ = ["MaskReport", "TeacherError", "build_teacher", "mask_path", "predict_mask", "save_mask", "write_masks"]


def mask_path(photo: Path, photos_root: Path, out: Path) -> Path:
    """Where the mask of ``photo`` goes: its path relative to ``photos_root`` under ``out``, as ``.png``."""
    rel = photo.relative_to(photos_root) if photos_root.is_dir() else Path(photo.name)
    return (out / rel).with_suffix(".png")


@torch.no_grad()
def predict_mask(teacher: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor,
                 max_side: int | None = 1024) -> torch.Tensor:
    """The teacher's person probability for one decoded photo, at the photo's resolution.

    Large photos are downscaled (antialiased) so the long side is at most ``max_side`` before the
    teacher runs, and the probability is resized back; the teacher runs as translation runs a masker
    (:func:`toonkit.core.geometry.run_padded`: reflect-padded to its ``size_multiple``, which U-Net
    maskers need, and cropped back).

    Args:
        teacher: a masker returning logits (a module, or any callable on CPU tensors).
        image: uint8 RGB tensor, or float in [-1, 1].
        max_side: longest side the teacher sees (None: the photo's own size).

    Shape:
        - image: :math:`(3, H, W)`.
        - output: :math:`(H, W)` float32 in [0, 1], on the CPU.
    """
    x = image.to(device_of(teacher) if isinstance(teacher, nn.Module) else "cpu")
    x = from_uint8(x) if x.dtype == torch.uint8 else x.float()
    x = x[None]
    h, w = x.shape[-2:]
    if max_side is not None and max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    sh, sw = x.shape[-2:]
    prob = torch.sigmoid(run_padded(teacher, x, size_multiple(teacher)).float())
    if (sh, sw) != (h, w):
        prob = F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False)
    return prob[0, 0].clamp(0, 1).cpu()


def save_mask(mask: torch.Tensor | np.ndarray, path: Path) -> None:
    """Write an 8-bit mask (``(H, W)`` uint8) as a grayscale PNG through a temporary file, so an
    interrupted run leaves no half mask; the folders above it are made. ``toonkit data masks`` and
    training's mask teacher both write masks this way."""
    from PIL import Image

    from toonkit.io_utils import atomic_write

    array = mask.numpy() if isinstance(mask, torch.Tensor) else mask
    atomic_write(path, lambda fh: Image.fromarray(array, "L").save(fh, format="PNG"), fsync=False)


class TeacherError(ToonkitError):
    """A mask-teacher request that cannot be done (unknown teacher, bad threshold, missing folder)."""


class MaskReport(OutputsReport):
    """What :func:`write_masks` did: photos found, masks written and kept, and the photos that failed."""

    def summary(self) -> str:
        """One line: ``wrote N of M masks into OUT[; kept K existing][; F failed: …]``."""
        if self.all_kept:
            return f"all {self.total} masks already exist in {self.out} (--overwrite to replace them)"
        text = f"wrote {self.written} of {self.total} masks into {self.out}"
        if self.kept:
            text += f"; kept {self.kept} existing (--overwrite to replace)"
        if self.failed:
            text += f"; {len(self.failed)} failed: {self.failed_names()}"
        return text


def _check_teacher_name(name: str, requires: tuple[str, ...] = ()) -> None:
    """An unknown masker names close matches, and the plugin package providing it when ``requires``
    names one (as a recipe's ``requires:`` does)."""
    from toonkit.plugins import get_registry
    from toonkit.plugins.catalog import provider_hint
    from toonkit.registry import UnknownComponentError

    try:
        get_registry().get("masker", name)
    except UnknownComponentError as exc:
        hint = provider_hint("masker", name, list(requires))
        raise TeacherError(f"{exc}" + (f"; {hint}" if hint else "")) from None


def build_teacher(teacher: str | nn.Module, device: str = "auto", requires: tuple[str, ...] = ()) -> nn.Module:
    """The teacher in eval mode on ``device``: a registered masker's name (built with its defaults) or a
    masker module.

    Raises:
        TeacherError: unknown name, unusable device, or a masker that cannot be built (e.g. its model
            file is missing).
    """
    from toonkit.core.runtime import DeviceError, pick_device
    from toonkit.plugins import get_registry

    try:
        dev = pick_device(device, setting="--device")
    except DeviceError as exc:
        raise TeacherError(str(exc)) from None
    if not isinstance(teacher, str):
        return teacher.eval().to(dev)
    _check_teacher_name(teacher, requires)
    try:
        model = get_registry().build("masker", teacher)
    except Exception as exc:  # noqa: BLE001 - e.g. its model file is missing: a setup problem, as in translate
        raise TeacherError(f"cannot build masker '{teacher}': {first_line(exc)}") from None
    return model.eval().to(dev)


def _targets(photos: Path, out: Path) -> dict[Path, Path]:
    """photo → mask path for every image under ``photos`` (masks already inside ``photos/`` skipped)."""
    try:
        files = scan_images(photos)
    except EmptyFolderError as exc:
        raise TeacherError(str(exc)) from None
    out_abs = out.resolve()
    if photos.is_dir() and out_abs == photos.resolve():
        raise TeacherError(f"-o {out} is the photos folder itself: masks would sit among the photos they "
                           "mask (and be read as photos); choose another folder, e.g. a sibling 'masks'")
    files = [f for f in files if not f.resolve().is_relative_to(out_abs)]  # masks written inside photos/
    if not files:
        raise TeacherError(f"no images found in {photos}")
    targets: dict[Path, Path] = {}
    owner: dict[Path, Path] = {}
    for f in files:
        target = mask_path(f, photos, out)
        if target in owner:
            raise TeacherError(f"{owner[target]} and {f} would both write {target}; rename one of them")
        targets[f], owner[target] = target, f
    return targets


def write_masks(photos: str | os.PathLike, out: str | os.PathLike,
                teacher: str | nn.Module = "mediapipe_selfie", threshold: float | None = None,
                overwrite: bool = False, device: str = "auto", max_side: int | None = 1024,
                progress: Callable[[Path, str | None], None] | None = None,
                requires: tuple[str, ...] = ()) -> MaskReport:
    """Write one person-mask PNG per photo under ``out`` (same relative path and stem).

    Masks that already exist are kept unless ``overwrite``. A photo that cannot be read or masked is
    recorded in the report (``failed``) and the others are still written.

    Args:
        photos: a folder (searched recursively) or a single image.
        out: the mask folder.
        teacher: a registered masker name (e.g. ``mediapipe_selfie``) or a masker module.
        threshold: binarise at this probability (0/255 masks); None writes soft masks
            (probability × 255).
        overwrite: replace existing masks.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ...
        max_side: longest side the teacher sees (see :func:`predict_mask`).
        progress: called after each photo as ``progress(path, error)`` (``error`` None on success);
            the CLI draws its progress bar and per-file lines from it.
        requires: plugin packages the teacher comes from, for the install hint when it is missing
            (``("toonkit-mediapipe",)`` for ``mediapipe_selfie``).

    Returns:
        a :class:`MaskReport`.

    Raises:
        TeacherError: unknown teacher, missing folder, bad threshold, or two photos sharing a mask name.

    Example:
        >>> write_masks("data/photos", "data/masks", teacher="mediapipe_selfie").failed  # doctest: +SKIP
        []
    """
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise TeacherError(f"--threshold must be between 0 and 1 (exclusive), got {threshold}")
    if isinstance(teacher, str):
        _check_teacher_name(teacher, requires)
    out_dir = Path(out)
    targets = _targets(Path(photos), out_dir)
    todo = [f for f in targets if overwrite or not targets[f].exists()]
    report = MaskReport(out_dir, len(targets), kept=len(targets) - len(todo))
    if not todo:
        return report
    model = build_teacher(teacher, device, requires)
    for path, future in prefetch(todo, load_rgb_tensor, ahead=4):
        error = None
        try:
            prob = predict_mask(model, future.result(), max_side)
            values = (prob > threshold).float() if threshold is not None else prob
            save_mask(unit_to_uint8(values), targets[path])
            report.written += 1
        except DecodeError as exc:
            error = f"cannot decode: {exc.reason}"
        except OSError as exc:
            error = f"cannot read or write: {exc}"
        except Exception as exc:  # noqa: BLE001 - one failing photo is reported, the rest go on
            error = f"masking failed: {describe_error(exc, limit=None)}"
        if error is not None:
            report.failed.append((path, error))
        if progress is not None:
            progress(path, error)
    return report


def device_of(model: nn.Module) -> str:
    """Where ``model``'s first parameter or buffer lives (``cpu`` when it has none)."""
    return str(next((t.device for t in [*model.parameters(), *model.buffers()]), "cpu"))
