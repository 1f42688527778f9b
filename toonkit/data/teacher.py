"""Person masks from a mask teacher: ``toonkit data masks PHOTOS -o MASKS [--teacher NAME]``.

A teacher is any registered masker (photos in [-1, 1] → person logits); the usual one is
``mediapipe_selfie`` from the ``toonkit-mediapipe`` plugin, which needs no training. Each photo gets one
8-bit grayscale PNG of the same relative path and stem (soft probability × 255, or 0/255 with a
threshold), the layout :func:`toonkit.data.folders.match_by_stem` pairs photos and masks by.
"""
from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from toonkit.data.decode import DecodeError, load_rgb_tensor
from toonkit.data.folders import EmptyFolderError, scan_images

__all__ = ["mask_path", "predict_mask", "write_masks"]

PROG = "toonkit data masks"


def mask_path(photo: Path, photos_root: Path, out: Path) -> Path:
    """Where the mask of ``photo`` goes: its path relative to ``photos_root`` under ``out``, as ``.png``."""
    rel = photo.relative_to(photos_root) if photos_root.is_dir() else Path(photo.name)
    return (out / rel).with_suffix(".png")


@torch.no_grad()
def predict_mask(teacher: nn.Module, image: torch.Tensor, max_side: int | None = 1024) -> torch.Tensor:
    """The teacher's person probability for one decoded photo, at the photo's resolution.

    Large photos are downscaled (antialiased) so the long side is at most ``max_side`` before the
    teacher runs, and the probability is resized back; inputs are reflect-padded to the teacher's
    ``size_multiple`` when it has one (U-Net maskers need sides divisible by ``2 ** depth``).

    Args:
        teacher: a masker returning logits.
        image: uint8 RGB tensor, or float in [-1, 1].
        max_side: longest side the teacher sees (None: the photo's own size).

    Shape:
        - image: :math:`(3, H, W)`.
        - output: :math:`(H, W)` float32 in [0, 1], on the CPU.
    """
    device = next((t.device for t in [*teacher.parameters(), *teacher.buffers()]), torch.device("cpu"))
    x = image.to(device)
    x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
    x = x[None]
    h, w = x.shape[-2:]
    if max_side is not None and max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    sh, sw = x.shape[-2:]
    multiple = int(getattr(teacher, "size_multiple", 1) or 1)
    ph, pw = (-sh) % multiple, (-sw) % multiple
    if ph or pw:
        mode = "reflect" if ph < sh and pw < sw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    prob = torch.sigmoid(teacher(x).float())[..., :sh, :sw]
    if (sh, sw) != (h, w):
        prob = F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False)
    return prob[0, 0].clamp(0, 1).cpu()


def _save_png(mask: np.ndarray, path: Path) -> None:
    """Write an 8-bit grayscale PNG through a temporary file, so an interrupted run leaves no half mask."""
    from PIL import Image

    from toonkit.io_utils import atomic_write

    atomic_write(path, lambda fh: Image.fromarray(mask, "L").save(fh, format="PNG"), fsync=False)


def _prefetch(paths: list[Path], depth: int) -> Iterator[tuple[Path, Future]]:
    """Decode ahead in a thread (PIL and torchvision release the GIL) while the teacher runs."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque[tuple[Path, Future]] = deque()
        for path in paths:
            pending.append((path, pool.submit(load_rgb_tensor, path)))
            if len(pending) >= depth:
                yield pending.popleft()
        while pending:
            yield pending.popleft()


def _check_teacher_name(name: str) -> None:
    """An unknown masker is a usage error naming close matches, or the plugin package providing it."""
    import toonkit
    from toonkit.cli.main import CLIError
    from toonkit.plugins.catalog import provider_hint
    from toonkit.registry import UnknownComponentError

    try:
        toonkit.registry().get("masker", name)
    except UnknownComponentError as exc:
        hint = provider_hint("masker", name, [])
        raise CLIError(f"{exc}" + (f"; {hint}" if hint else "")) from None


def _build_teacher(teacher: str | nn.Module, device: str) -> nn.Module:
    import toonkit
    from toonkit.cli.main import CLIError
    from toonkit.core.runtime import pick_device

    try:
        dev = pick_device(device)
    except (RuntimeError, ValueError) as exc:
        raise CLIError(f"--device: {exc}") from None
    model = toonkit.build("masker", teacher) if isinstance(teacher, str) else teacher
    return model.eval().to(dev)


def write_masks(photos: str | os.PathLike, out: str | os.PathLike,
                teacher: str | nn.Module = "mediapipe_selfie", threshold: float | None = None, overwrite: bool = False, device: str = "auto",
                max_side: int | None = 1024, quiet: bool = False) -> int:
    """Write one person-mask PNG per photo under ``out`` (same relative path and stem).

    Masks that already exist are kept unless ``overwrite``. Unreadable photos and failures are
    reported one line each and counted; the others are still written.

    Args:
        photos: a folder (searched recursively) or a single image.
        out: the mask folder.
        teacher: a registered masker name (e.g. ``mediapipe_selfie``) or a masker module.
        threshold: binarise at this probability (0/255 masks); None writes soft masks
            (probability × 255).
        overwrite: replace existing masks.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ...
        max_side: longest side the teacher sees (see :func:`predict_mask`).
        quiet: no progress bar.

    Returns:
        The exit code: 0 when every photo has a mask, 1 when some failed. Usage problems (unknown
        teacher, missing folder, bad threshold) raise :class:`toonkit.cli.main.CLIError`.

    Example:
        >>> write_masks("data/photos", "data/masks", teacher="mediapipe_selfie")  # doctest: +SKIP
        0
    """
    from tqdm import tqdm

    from toonkit.cli.main import CLIError

    if threshold is not None and not 0.0 < threshold < 1.0:
        raise CLIError(f"--threshold must be between 0 and 1 (exclusive), got {threshold}")
    if isinstance(teacher, str):
        _check_teacher_name(teacher)
    root, out_dir = Path(photos), Path(out)
    try:
        files = scan_images(root)
    except EmptyFolderError as exc:
        raise CLIError(str(exc)) from None
    out_abs = out_dir.resolve()
    files = [f for f in files if not f.resolve().is_relative_to(out_abs)]  # masks written inside photos/
    if not files:
        raise CLIError(f"no images found in {root}")
    targets: dict[Path, Path] = {}
    for f in files:
        target = mask_path(f, root, out_dir)
        if target in targets.values():
            other = next(p for p, t in targets.items() if t == target)
            raise CLIError(f"{other} and {f} would both write {target}; rename one of them")
        targets[f] = target
    todo = [f for f in files if overwrite or not targets[f].exists()]
    kept = len(files) - len(todo)
    if not todo:
        print(f"all {len(files)} masks already exist in {out_dir} (--overwrite to replace them)")
        return 0

    name = teacher if isinstance(teacher, str) else type(teacher).__name__
    try:
        model = _build_teacher(teacher, device)
    except CLIError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. its model file is missing: a setup problem, exit 2 as in translate
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"cannot build masker '{name}': {why}") from None
    print(f"writing {len(todo)} mask{'s' * (len(todo) != 1)} with '{name}' on {_device_of(model)}",
          file=sys.stderr)

    failed: list[Path] = []
    bar = tqdm(total=len(todo), unit="img", disable=True if quiet else None, file=sys.stderr,
               dynamic_ncols=True)
    for path, future in _prefetch(todo, depth=4):
        try:
            image = future.result()
            prob = predict_mask(model, image, max_side)
            values = (prob > threshold).float() * 255 if threshold is not None else prob * 255
            _save_png(values.round().to(torch.uint8).numpy(), targets[path])
        except DecodeError as exc:
            _fail(bar, failed, path, f"cannot decode: {exc.reason}")
            continue
        except OSError as exc:
            _fail(bar, failed, path, f"cannot read or write: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one failing photo is reported, the rest go on
            _fail(bar, failed, path, f"masking failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            continue
        bar.update(1)
    bar.close()
    summary = f"wrote {len(todo) - len(failed)} of {len(files)} masks into {out_dir}"
    if kept:
        summary += f"; kept {kept} existing (--overwrite to replace)"
    if failed:
        shown = ", ".join(str(p) for p in failed[:5])
        shown += f" … and {len(failed) - 5} more" if len(failed) > 5 else ""
        print(f"{summary}; {len(failed)} failed: {shown}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _fail(bar: Any, failed: list[Path], path: Path, why: str) -> None:
    failed.append(path)
    bar.write(f"{PROG}: {path}: {why}", file=sys.stderr)
    bar.update(1)


def _device_of(model: nn.Module) -> str:
    return str(next((t.device for t in [*model.parameters(), *model.buffers()]), "cpu"))
