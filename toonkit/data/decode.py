"""Robust image decoding: any common file → 8-bit RGB, upright, or a :class:`DecodeError`.

Conventions (the same in every decoding path):

* EXIF orientation is applied, so images come out as a viewer shows them.
* Transparency (RGBA, LA, palette with a transparent index) is **composited on white**: hand-painted
  cartoons and cut-out portraits are drawn on paper, and dropping alpha would expose whatever colour
  the transparent pixels happen to store (often black).
* Grayscale, bilevel, palette, CMYK, YCbCr, ... are converted to RGB; 16-bit and 32-bit integer images
  are scaled to 8 bits (``round(v / 257)``); float images in [0, 1] are scaled by 255.
* Any failure (unknown format, empty or truncated file, decompression bomb, ...) raises
  :class:`DecodeError` naming the file, which datasets catch to skip the file.
* Only the documented formats are opened (:data:`ACCEPTED_FORMATS`: JPEG — with MPO, the JPEG phones
  write —, PNG, WebP, BMP, TIFF, GIF), whatever the file is named; EPS/PostScript (which Pillow renders by
  running Ghostscript) and PDF are refused by name, and every other format Pillow knows is refused too.
* An image whose header declares more than ``TOONKIT_MAX_IMAGE_PIXELS`` pixels (default 89 478 485,
  Pillow's own warning threshold: about 9459 × 9459) is refused before any pixel is decoded; a few
  hundred bytes of PNG can declare gigabytes. Set the variable to raise the bound.
* With ``max_pixels`` (translation's image budget, :func:`toonkit.imaging.fit_pixels`), an image larger
  than the budget is reduced while still 8-bit (JPEGs by DCT scaling while decoding), so no float copy of
  more than the budget is ever made: memory follows the budget, not the file.

Speed: :func:`load_rgb_tensor` uses torchvision's libjpeg-turbo decoder for plain 8-bit RGB or gray JPEG
(measured ~1.5× faster than PIL on 400 px JPEGs), and PIL's DCT scaling ("draft") for JPEGs at least
twice the requested size (~2× faster than a full decode at 1280 px → 256). Everything else goes through
PIL: torchvision's libpng binding crashes the process on corrupt PNG data, so PNG is not worth its ~1.5×.
"""
from __future__ import annotations

import functools
import logging
import os
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor
from toonkit.core.settings import setting_int
from toonkit.errors import ToonkitError
from toonkit.imaging import fit_pixels, max_side

__all__ = ["ACCEPTED_FORMATS", "DecodeError", "fit_image", "load_mask", "load_rgb", "load_rgb_tensor", "prefetch",
           "probe", "to_rgb"]

PathLike = str | os.PathLike

logger = logging.getLogger("toonkit.data")

WHITE = (255, 255, 255)

# torchvision >= 0.29 flags its image decoders as deprecated (in favour of torchcodec); they remain the
# fastest here, and if they disappear the ImportError falls back to PIL. No filter is installed for that
# DeprecationWarning: Python's default filters already hide it (it is raised inside torchvision, not in
# __main__), a process-wide filter would change the warnings of the importing program, and a
# catch_warnings() per decode is not thread-safe (decodes run in prefetch threads). The test suite
# ignores the message in pyproject.toml.


# Pillow warns between its bound and twice it, and toonkit refuses such images itself (one DecodeError):
# the CLI, which owns its process, silences that warning; a library import installs no filter.


class DecodeError(ToonkitError):
    """An image file that cannot be decoded; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: PathLike, reason: str) -> None:
        super().__init__(f"cannot decode image {os.fspath(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason


MAX_IMAGE_PIXELS = 89_478_485  # Pillow's DecompressionBombWarning threshold

#: the formats an image may be in (Pillow's names), the ones the documentation lists; Pillow's JPEG reader
#: also opens MPO, the JPEGs with a second picture that many phones write
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
_ACCEPTED = "JPEG, PNG, WebP, BMP, TIFF, GIF"
#: formats refused by name before Pillow sees them: its EPS reader runs Ghostscript, an external program
_REFUSED = ((b"%!PS", "an EPS/PostScript file"), (b"\xc5\xd0\xd3\xc6", "an EPS file (DOS binary EPS)"),
            (b"%PDF", "a PDF file"))


def max_image_pixels() -> int:
    """The decoded-pixel bound: ``TOONKIT_MAX_IMAGE_PIXELS`` or :data:`MAX_IMAGE_PIXELS`.

    Raises:
        toonkit.core.settings.SettingError: the variable is set to something other than a whole number.
    """
    return setting_int("TOONKIT_MAX_IMAGE_PIXELS")


def _refused_format(head: bytes) -> str | None:
    return next((what for magic, what in _REFUSED if head.startswith(magic)), None)


def _open(path: PathLike) -> Image.Image:
    p = Path(path)
    limit = max_image_pixels()  # a bad setting is the command's error, not this file's
    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block the reader; a folder is no image
            raise DecodeError(p, "not a regular file")
        if info.st_size == 0:
            raise DecodeError(p, "empty file")
        with open(p, "rb") as fh:
            refused = _refused_format(fh.read(8))
    except OSError as e:
        raise DecodeError(p, f"unreadable: {e.strerror or e}") from None
    if refused:
        raise DecodeError(p, f"{refused}, which is not accepted (Pillow would run Ghostscript or another "
                             f"program on it); accepted formats: {_ACCEPTED}")
    try:
        # Pillow's own bound follows ours (it errors at twice its value, which we never reach)
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, limit)
        img = Image.open(p, formats=ACCEPTED_FORMATS)
        w, h = img.size
        if w * h > limit:
            img.close()
            raise DecodeError(p, f"{w}×{h} = {w * h} pixels, above the limit of {limit} "
                                 "(TOONKIT_MAX_IMAGE_PIXELS)")
        return img
    except DecodeError:
        raise
    except Image.DecompressionBombError:
        raise DecodeError(p, f"declares more than twice {limit} pixels (TOONKIT_MAX_IMAGE_PIXELS)") from None
    except Image.UnidentifiedImageError:
        raise DecodeError(p, f"not a recognised image format (accepted: {_ACCEPTED})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise DecodeError(p, f"{type(e).__name__}: {e}") from None


def _to_8bit(img: Image.Image) -> Image.Image:
    """Scale high-bit-depth single-channel modes (I;16*, I, F) to 8-bit 'L', a band of rows at a time:
    the float64 copies of a whole 9459² 16-bit image took 2 GB."""
    a = np.asarray(img)
    out = np.empty(a.shape, dtype=np.uint8)
    sixteen = img.mode.startswith("I;16") or (img.mode == "I" and a.max(initial=0) > 255)
    unit = img.mode == "F" and np.nanmax(a, initial=0.0) <= 1.0
    rows = max(1, (1 << 22) // max(1, a.shape[1] if a.ndim > 1 else 1))  # about 4 M values per band
    for start in range(0, a.shape[0], rows):
        band = a[start:start + rows].astype(np.float64)
        if sixteen:
            band = np.clip(band, 0, 65535) / 257.0
        elif unit:
            band *= 255.0
        out[start:start + rows] = np.clip(np.nan_to_num(np.rint(band)), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


def to_rgb(img: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Convert a decoded PIL image of any mode to 8-bit RGB (alpha composited on ``background``)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        img = _to_8bit(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        base = Image.new("RGB", img.size, background)
        base.paste(img, mask=img.getchannel("A"))
        return base
    return img.convert("RGB")


def fit_image(img: Image.Image, max_pixels: int | None) -> Image.Image:
    """``img`` reduced (antialiased bilinear, still 8-bit) to the image budget ``max_pixels`` when it is
    larger (:func:`toonkit.imaging.fit_pixels`); the same image otherwise, or when ``max_pixels`` is None.

    Example:
        >>> fit_image(Image.new("RGB", (40_000, 1)), 10_000).size
        (400, 1)
    """
    if max_pixels is None:
        return img
    h, w = fit_pixels(img.height, img.width, max_pixels)
    if (w, h) == img.size:
        return img
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = to_rgb(img)
    # reduce() by an integer factor first: a plain resize of a 89 000 000-pixel row to 16 384 builds a
    # table of filter weights of 1.4 GB; at a gap of 3 the result is indistinguishable (Pillow's docs)
    return img.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)


def load_rgb(path: PathLike, draft: int | None = None, background: tuple[int, int, int] = WHITE,
             max_pixels: int | None = None) -> Image.Image:
    """Decode ``path`` fully into an upright 8-bit RGB PIL image.

    Args:
        path: image file.
        draft: if given, JPEGs may be decoded at a reduced scale (1/2, 1/4, 1/8) as long as both
            sides stay >= ``draft`` (much faster for large photos that are resized down anyway).
        background: colour that transparent pixels are composited on.
        max_pixels: the image budget: a larger image comes back reduced to it (:func:`fit_image`), a
            JPEG already while decoding.

    Raises:
        DecodeError: the file is empty, not an image, truncated or otherwise undecodable.

    Example:
        >>> img = load_rgb("photo.jpg")  # doctest: +SKIP
        >>> img.mode
        'RGB'
    """
    img = _open(path)
    stored = img.size
    try:
        with img:
            if draft is not None and img.format == "JPEG":
                img.draft("RGB", (draft, draft))
            elif max_pixels is not None and img.format == "JPEG":
                h, w = fit_pixels(img.height, img.width, max_pixels)
                if (h, w) != (img.height, img.width):
                    img.draft("RGB", (w, h))  # DCT scaling: decoded at the smallest scale still >= (w, h)
            img.load()  # full decode: truncated data raises here
            # in place: without a rotation, exif_transpose returns a full copy (268 MB for a 9459² RGB)
            ImageOps.exif_transpose(img, in_place=True)
            out = img
            # to RGB first (transparency composited on ``background``), then reduced while still 8-bit
            fitted = fit_image(to_rgb(out, background), max_pixels)
            if max_pixels is not None and fitted.width * fitted.height < stored[0] * stored[1]:
                logger.info("%s: %d×%d is above max_pixels=%d (or %d a side): processed at %d×%d (raise "
                            "max_pixels, CLI --max-pixels, for more)", path, *stored, max_pixels,
                            max_side(max_pixels), *fitted.size)
            return fitted
    except DecodeError:
        raise
    except Exception as e:  # noqa: BLE001 - PIL raises many types (OSError, SyntaxError, struct.error...)
        raise DecodeError(path, f"{type(e).__name__}: {e}") from None


def _fast_path(img: Image.Image, draft: int | None, max_pixels: int | None = None) -> str | None:
    """Which torchvision decoder can reproduce :func:`load_rgb` for this file, if any."""
    if max_pixels is not None and fit_pixels(img.height, img.width, max_pixels) != (img.height, img.width):
        return None  # to be reduced: PIL decodes it smaller (DCT scaling) and reduces it while 8-bit
    if img.format == "JPEG" and img.mode in ("RGB", "L"):
        if draft is not None and min(img.size) >= 2 * draft:
            return None  # PIL's DCT scaling is faster than any full-size decode
        return "jpeg"
    # never PNG: torchvision's libpng binding crashes the whole process (SIGSEGV) on a PNG whose
    # compressed data is corrupt, where PIL raises; one hostile file must not take a batch down
    return None


@functools.cache
def _torchvision_decoder() -> Callable[[PathLike], Tensor]:
    """torchvision's RGB file decoder, imported once, on the first fast decode."""
    from torchvision.io import ImageReadMode, decode_image, read_file

    return lambda path: decode_image(read_file(os.fspath(path)), mode=ImageReadMode.RGB,
                                     apply_exif_orientation=True)


def load_rgb_tensor(path: PathLike, draft: int | None = None,
                    background: tuple[int, int, int] = WHITE, max_pixels: int | None = None) -> Tensor:
    """Decode ``path`` into an upright uint8 RGB tensor (same conventions as :func:`load_rgb`).

    Args:
        path: image file.
        draft: allow reduced-scale JPEG decoding while both sides stay >= ``draft``.
        background: colour that transparent pixels are composited on.
        max_pixels: the image budget (see :func:`load_rgb`).

    Shape:
        - output: (3, H, W), dtype uint8

    Raises:
        DecodeError: the file cannot be decoded.
    """
    img = _open(path)
    with img:
        fast = _fast_path(img, draft, max_pixels)
    if fast is not None:
        try:
            out = _torchvision_decoder()(path)
            if out.dtype == torch.uint8 and out.shape[0] == 3:
                return out
        except Exception as e:  # noqa: BLE001 - torchvision is stricter on some files: PIL decides
            logger.debug("torchvision could not decode %s (%s); using PIL", path, e)
    rgb = load_rgb(path, draft, background, max_pixels)
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def load_mask(path: PathLike) -> Tensor:
    """Decode a mask image into a float tensor in [0, 1] (upright, like :func:`load_rgb`).

    Gray masks are scaled by their bit depth (255 for 8-bit, 65535 for 16-bit, bilevel → {0, 1});
    colour masks use their luma; a mask with an alpha channel and constant colour uses the alpha.
    A gray mask whose largest value is 1 is read as 0/1 (label maps written by segmentation tools):
    scaled by its bit depth it would be "no person anywhere".

    Shape:
        - output: (1, H, W), float32 in [0, 1]

    Raises:
        DecodeError: the file cannot be decoded.
    """
    img = _open(path)
    try:
        with img:
            img.load()
            img = ImageOps.exif_transpose(img) or img
            if img.mode in ("L", "I", "I;16", "I;16L", "I;16B", "I;16N") and img.getextrema()[1] == 1:
                a = (np.asarray(img) > 0).astype(np.float32)  # a 0/1 label map, not a faint 0..255 mask
                return torch.from_numpy(a).unsqueeze(0)
            if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
                img = _to_8bit(img)
            if img.mode == "P":
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            if img.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
                rgba = img.convert("RGBA")
                lo, hi = rgba.convert("L").getextrema()
                img = rgba.getchannel("A") if lo == hi else to_rgb(rgba, (0, 0, 0)).convert("L")
            elif img.mode != "L":
                img = img.convert("L")
            a = np.asarray(img, dtype=np.float32) / 255.0
    except DecodeError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad file
        raise DecodeError(path, f"{type(e).__name__}: {e}") from None
    return torch.from_numpy(a.copy()).unsqueeze(0)


def probe(path: PathLike, full: bool = True) -> tuple[int, int]:
    """Check that ``path`` decodes and return its upright (width, height).

    Args:
        path: image file.
        full: decode all pixel data (catches truncated files; JPEGs are decoded at 1/8 scale, which
            still reads every byte). ``False`` only parses the header.

    Raises:
        DecodeError: the file cannot be decoded.
    """
    img = _open(path)
    try:
        with img:
            w, h = img.size
            if full:
                if img.format == "JPEG":
                    img.draft(img.mode, (1, 1))
                img.load()
            orientation = img.getexif().get(0x0112, 1)
    except DecodeError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad file
        raise DecodeError(path, f"{type(e).__name__}: {e}") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


_T = TypeVar("_T")
_R = TypeVar("_R")


def prefetch(paths: Iterable[_T], load: Callable[[_T], _R] = load_rgb_tensor,  # type: ignore[assignment]
             ahead: int = 4, workers: int = 2) -> Iterator[tuple[_T, Future[_R]]]:
    """Decode ahead: ``load`` each path in background threads while the caller works on earlier ones.

    PIL's and torchvision's decoders release the GIL, so two threads overlap decoding with the model's
    forward passes. Results come back in input order; at most ``ahead`` decodes are queued or running,
    which bounds the memory held by decoded images. A failed decode surfaces when the caller calls
    ``future.result()`` (e.g. :class:`DecodeError`), so one bad file never stops the others.

    Args:
        paths: what to load, in order.
        load: the decoder, called with one path (default :func:`load_rgb_tensor`).
        ahead: decodes in flight (at least 1).
        workers: decoding threads.

    Returns:
        ``(path, future)`` pairs in the order of ``paths``.

    Example:
        >>> for path, future in prefetch(["a.jpg", "b.png"], ahead=2):  # doctest: +SKIP
        ...     image = future.result()  # (3, H, W) uint8, or raises DecodeError
    """
    if ahead < 1:
        raise ValueError(f"ahead must be >= 1, got {ahead}")
    done = object()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        it = iter(paths)
        pending: deque[tuple[_T, Future[_R]]] = deque((p, pool.submit(load, p)) for p in islice(it, ahead))
        while pending:
            yield pending.popleft()
            nxt = next(it, done)
            if nxt is not done:
                pending.append((nxt, pool.submit(load, nxt)))  # type: ignore[arg-type]
