"""Files in and out of translation: finding inputs, naming outputs, converting and writing images.

Inputs are files, folders (searched recursively for images) or glob patterns; each output keeps its
input's path relative to the folder or glob root it was found under, and its stem.
"""
from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image

from toonkit.errors import ToonkitError
from toonkit.io_utils import real_path, replaced_input
from toonkit.imaging import from_uint8, from_unit, max_side, to_uint8, unit_from_uint8, unit_to_uint8

#: extensions a folder or glob search picks up (an explicitly named file is always tried)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
FORMATS = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}
_GLOB_CHARS = frozenset("*?[")


log = logging.getLogger("toonkit.translate")


class InputError(ToonkitError, ValueError):
    """An input argument names nothing usable (missing path, empty folder, clashing outputs)."""


# -- finding inputs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputFile:
    """An image to translate: its ``path`` and the ``rel`` path its output keeps."""

    path: Path
    rel: Path


def _is_image(path: Path) -> bool:
    from toonkit.translate.video import VIDEO_EXTENSIONS  # clips in a folder are inputs too

    suffix = path.suffix.lower()
    return (suffix in IMAGE_EXTENSIONS or suffix in VIDEO_EXTENSIONS) and not path.name.startswith(".")


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _walk(root: Path, exclude: Path | None, problems: list[tuple[Path, str]] | None = None) -> list[Path]:
    found = []
    seen = {real_path(root)}

    def unlistable(exc: OSError) -> None:  # said, never skipped silently
        if problems is not None and exc.filename is not None:
            problems.append((Path(exc.filename), f"cannot list this folder ({exc.strerror or exc}): skipped"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=True):
        here = Path(dirpath)
        # hidden folders, the output folder (when it lies inside an input folder) and folders already
        # walked (a symlink back to an ancestor would loop) are not inputs
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not _inside(here / d, exclude)
                             and real_path(here / d) not in seen)
        seen.update(real_path(here / d) for d in dirnames)
        found += [here / f for f in sorted(filenames) if _is_image(here / f)]
    return found


def _glob_root(pattern: str) -> Path:
    """The longest leading part of ``pattern`` without wildcards: outputs are named relative to it."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def collect_inputs(specs: list[str], exclude: str | Path | None = None,
                   problems: list[tuple[Path, str]] | None = None) -> list[InputFile]:
    """Expand files, folders (recursively) and globs into input files, in a stable order.

    Args:
        specs: the command line's inputs.
        exclude: a folder whose contents are never inputs (the output folder).
        problems: if given, receives ``(folder, why)`` for every subfolder that could not be listed
            (no permission): the caller reports them; they are skipped, never silently.

    Raises:
        InputError: a spec matches nothing, an input folder cannot be listed, or two inputs would write
            the same output name.

    Example:
        >>> collect_inputs(["photos/", "extra/*.jpg", "me.png"])  # doctest: +SKIP
        [InputFile(path=PosixPath('photos/a/1.jpg'), rel=PosixPath('a/1.jpg')), ...]
    """
    skip = Path(exclude).resolve() if exclude is not None else None
    out: list[InputFile] = []
    seen: set[Path] = set()

    def add(path: Path, rel: Path) -> None:
        key = real_path(path)
        if key not in seen:
            seen.add(key)
            out.append(InputFile(path, rel))

    for spec in specs:
        path = Path(spec).expanduser()
        try:
            is_file, is_dir = path.is_file(), path.is_dir()
            if is_dir:
                os.scandir(path).close()  # an input folder that cannot be listed is the command's error
        except OSError as exc:
            raise InputError(f"{spec}: cannot look into it ({exc.strerror or exc})") from None
        if is_file:
            add(path, Path(path.name))
        elif is_dir:
            files = _walk(path, skip, problems)
            if not files:
                raise InputError(f"{spec}: no images in this folder (looked for "
                                 f"{', '.join(sorted(IMAGE_EXTENSIONS))})")
            for f in files:
                add(f, f.relative_to(path))
        elif _GLOB_CHARS & set(spec):
            root = _glob_root(spec)
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            files = []
            for m in matches:
                if m.is_dir():
                    files += _walk(m, skip, problems)
                elif m.is_file() and _is_image(m) and not _inside(m, skip):
                    files.append(m)
            if not files:
                raise InputError(f"{spec}: the pattern matches no images")
            for f in files:
                rel = Path(os.path.relpath(f, root))
                add(f, rel if not rel.parts or rel.parts[0] != ".." else Path(f.name))
        else:
            raise InputError(f"{spec}: no such file or folder")
    return out


def output_path(item: InputFile, out_dir: str | Path, fmt: str) -> Path:
    """Where ``item``'s result goes: ``out_dir / rel`` with the format's extension."""
    return Path(out_dir) / item.rel.with_suffix(FORMATS[fmt])


def inputs_replaced(items: list[InputFile], target: Callable[[InputFile], Path]) -> dict[Path, Path]:
    """Input → the input its output would replace, for every input whose output (``target(item)``) is
    one of the call's inputs (its own, or another one's: ``out/sub/a.png`` given as an input while
    ``photos/sub/a.jpg`` writes ``out/sub/a.png``). Such outputs are never written, ``--overwrite`` or not.
    """
    inputs = {real_path(it.path): it.path for it in items}
    clashes = {}
    for item in items:
        victim = replaced_input(target(item), inputs)
        if victim is not None:
            clashes[item.path] = victim
    return clashes


def check_unique_outputs(items: list[InputFile], out_dir: str | Path, fmt: str) -> None:
    """Raise :class:`InputError` when two inputs map to the same output (``a.jpg`` and ``a.png``)."""
    first: dict[Path, Path] = {}
    for item in items:
        target = output_path(item, out_dir, fmt)
        if target in first:
            raise InputError(f"{first[target]} and {item.path} would both be written to {target}; "
                             "translate them in separate commands or rename one")
        first[target] = item.path


# -- images <-> tensors -------------------------------------------------------------------------------
@dataclass
class Converted:
    """An API input as a batch tensor, with what is needed to give the result back in the same kind."""

    image: torch.Tensor  # (N, 3, H, W) float32 in [-1, 1], on CPU or the input tensor's device
    kind: str  # "pil" | "numpy" | "tensor"
    batched: bool = False  # tensor input had a batch dimension
    device: torch.device | None = None
    dtype: torch.dtype | None = None


def _uint8_to_batch(rgb: torch.Tensor) -> torch.Tensor:
    """(3, H, W) uint8 → (1, 3, H, W) float32 in [-1, 1]."""
    return from_uint8(rgb.unsqueeze(0)).contiguous()


def read_image(path: str | Path, max_pixels: int | None = None) -> torch.Tensor:
    """Decode an image file into ``(1, 3, H, W)`` in [-1, 1] with toonkit's decoder.

    EXIF orientation is applied; grayscale, palette, CMYK and 16-bit images become RGB; transparency is
    composited on white (see :mod:`toonkit.data.decode`). A full-size decode unless the image is larger
    than ``max_pixels``, so the output size is a function of the input's size (and the budget) alone.

    Args:
        path: the file.
        max_pixels: the image budget (a :class:`~toonkit.translate.api.Cartoonizer`'s ``max_pixels``): a
            larger image is reduced to it while still 8-bit (:func:`toonkit.imaging.fit_pixels`, both
            sides bounded), so memory follows the budget, not the file. None: full size.

    Raises:
        toonkit.data.decode.DecodeError: the file cannot be decoded.
    """
    from toonkit.data.decode import load_rgb_tensor

    return _uint8_to_batch(load_rgb_tensor(path, max_pixels=max_pixels))


def _from_array(array: np.ndarray) -> torch.Tensor:
    """HW or HWC array (C in 1-4; uint8, uint16, bool or float in [0, 1]) → (1, 3, H, W) in [-1, 1].

    Same conventions as the file decoder: 16-bit is scaled to [0, 1] by 65535, alpha (C = 2 or 4) is
    composited on white.
    """
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected an H×W or H×W×C array with C in 1-4, got shape {array.shape}")
    if array.dtype == np.uint8:
        x = unit_from_uint8(torch.from_numpy(array.astype(np.float32)))  # a copy: arrays may be read-only
    elif array.dtype == np.uint16:
        x = torch.from_numpy(array.astype(np.float32) / 65535.0)
    elif array.dtype == np.bool_:
        x = torch.from_numpy(array.astype(np.float32))
    elif np.issubdtype(array.dtype, np.floating):
        x = torch.from_numpy(np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0))
    else:
        raise ValueError(f"unsupported array dtype {array.dtype} (use uint8, uint16 or float in [0, 1])")
    x = x.permute(2, 0, 1).unsqueeze(0)
    if x.shape[1] in (2, 4):  # gray+alpha or RGBA: over white, as the decoder does for files
        x, alpha = x[:, :-1], x[:, -1:]
        x = x * alpha + (1 - alpha)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return from_unit(x).contiguous()


def _fits_pil(array: np.ndarray) -> bool:
    """An H×W or H×W×C (C in 1, 3, 4) array that PIL takes as L, RGB or RGBA."""
    return array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))


def to_tensor(image: Any, max_pixels: int | None = None) -> Converted:
    """Convert one API input (PIL image, NumPy array or tensor) to a :class:`Converted` batch.

    PIL images of any mode go through the decoder's :func:`~toonkit.data.decode.to_rgb` (no EXIF
    rotation: the pixels are taken as given, so the output has the input's layout). PIL images and
    8-bit arrays larger than ``max_pixels`` are reduced to that budget while still 8-bit (as files
    are), before any float copy; tensors are taken as given.
    """
    if isinstance(image, Image.Image) or (isinstance(image, np.ndarray) and image.dtype == np.uint8
                                          and max_pixels is not None and _fits_pil(image)
                                          and image.shape[0] * image.shape[1] > max_pixels):
        from toonkit.data.decode import fit_image, to_rgb

        kind = "pil" if isinstance(image, Image.Image) else "numpy"
        if isinstance(image, Image.Image):
            pil = image
        else:
            pil = Image.fromarray(image if image.ndim == 2 or image.shape[2] != 1 else image[..., 0])
        fitted = fit_image(to_rgb(pil), max_pixels)
        if fitted.size != pil.size and max_pixels is not None:
            log.info("a %d×%d input is above max_pixels=%d (or %d a side): processed and returned at %d×%d (raise "
                     "max_pixels, CLI --max-pixels, for more)", *pil.size, max_pixels, max_side(max_pixels),
                     *fitted.size)
        rgb = np.array(fitted, dtype=np.uint8)
        return Converted(_uint8_to_batch(torch.from_numpy(rgb).permute(2, 0, 1)), kind)
    if isinstance(image, np.ndarray):
        return Converted(_from_array(image), "numpy")
    if isinstance(image, torch.Tensor):
        if not image.is_floating_point():
            raise TypeError(f"tensor images must be float in [-1, 1], got dtype {image.dtype}")
        batched = image.dim() == 4
        x = image if batched else image.unsqueeze(0)
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected a (3, H, W) or (N, 3, H, W) tensor (1 channel for grayscale), "
                             f"got shape {tuple(image.shape)}")
        x = x.detach().float().expand(-1, 3, -1, -1)
        return Converted(x, "tensor", batched, image.device, image.dtype)
    raise TypeError(f"cannot translate a {type(image).__name__}: pass a PIL image, a NumPy array, a tensor "
                    "or a list of them")


def to_uint8_array(x: torch.Tensor) -> np.ndarray:
    """The first image of a batch as a NumPy array for PIL: RGB (and alpha) as 8-bit, channels last.

    Shape:
        - x: :math:`(N, C, H, W)`, RGB in [-1, 1] and an optional fourth (alpha) channel in [0, 1]
        - output: :math:`(H, W, C)` uint8
    """
    planes = [to_uint8(x[0, :3].cpu())]
    if x.shape[1] == 4:
        planes.append(unit_to_uint8(x[0, 3:].cpu()))
    return torch.cat(planes).permute(1, 2, 0).numpy()


def from_tensor(out: torch.Tensor, like: Converted) -> Any:
    """Give a result ``(N, C, H, W)`` back in the kind of the input it came from."""
    if like.kind == "tensor":
        out = out.to(like.device, like.dtype)
        return out if like.batched else out[0]
    array = to_uint8_array(out)
    if like.kind == "numpy":
        return array
    return Image.fromarray(array, "RGBA" if array.shape[2] == 4 else "RGB")


# -- writing ------------------------------------------------------------------------------------------
def save_image(image: torch.Tensor, path: str | Path, fmt: str, quality: int = 95,
               root: str | Path | None = None) -> None:
    """Write ``(1, C, H, W)`` as ``fmt`` (png, jpg, webp); 4 channels write RGBA (png, webp).

    Written to a temporary name and renamed, so an interrupted run never leaves a truncated file that a
    rerun would keep as done. Never through a symbolic link: ``path`` must not be one, nor (with
    ``root``, the output folder) any folder between ``root`` and it
    (:class:`toonkit.io_utils.UnsafeWriteError`, an ``OSError``).
    """
    path = Path(path)
    array = to_uint8_array(image)
    if array.shape[2] == 4 and fmt == "jpg":
        raise ValueError("jpg cannot store transparency: use --format png or webp")
    pil = Image.fromarray(array, "RGBA" if array.shape[2] == 4 else "RGB")
    by_format: dict[str, dict[str, Any]] = {"png": {"optimize": False},
                                            "jpg": {"quality": quality, "subsampling": 0},
                                            "webp": {"quality": quality, "method": 4}}
    options = by_format[fmt]
    from toonkit.io_utils import atomic_write

    atomic_write(path, lambda fh: pil.save(fh, format={"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt],
                                           **options), fsync=False, root=root)
