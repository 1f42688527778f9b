"""What the demo page does with an upload, without any web framework: decode → translate → composite.

Every step reuses the translation path of ``toonkit translate`` (:func:`toonkit.translate.io.read_image`
to decode, :meth:`Cartoonizer.translate_tensors` to translate, :func:`toonkit.translate.io.save_image` to
write), so the page's PNG equals the command's output for the same photo, model and settings. Problems
a user can cause (a non-image, a truncated file, a decompression bomb, a photo too large for the chosen
size, a mode the model cannot do) raise :class:`DemoError` with a one-line message for the page.

Example:
    >>> toon = toonkit.load("runs/quickstart")  # doctest: +SKIP
    >>> result = cartoonise(toon, read_photo("me.jpg"), background="white", size=256)  # doctest: +SKIP
    >>> Image.fromarray(result.cartoon).save("me_toon.png")  # doctest: +SKIP
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toonkit.plugins import get_registry
from toonkit.imaging import from_uint8, unit_to_uint8
from toonkit.translate.background import NEEDS_MASK, check_background
from toonkit.translate.colors import DEFAULT_COLORS
from toonkit.translate.faces import API_FACES, DEFAULT_FACE_SIZE
from toonkit.core.geometry import resize
from toonkit.errors import ToonkitError

#: refused before decoding: a small file that claims more pixels than this is a decompression bomb
MAX_PIXELS = 40_000_000
#: the demo's ``max_pixels`` for the translate API: larger outputs come back downscaled to this many
#: pixels (as ``toonkit translate --max-pixels 4000000``), which bounds one request's CPU time
DEMO_MAX_PIXELS = 4_000_000
#: output sizes offered on the page: "auto" is the translate API's default (the photo's size, painted at
#: the model's working size), a number a short side, "original" paints at the photo's own resolution
SIZE_CHOICES: tuple[str, ...] = ("auto", "256", "512", "1024", "original")
#: where ``toonkit demo`` looks when given no model and no pretrained model is registered
QUICKSTART_RUN = Path("runs/quickstart")
#: the pretrained model served by default when the registry has it
DEFAULT_MODEL = "handpainted"


class DemoError(ToonkitError):
    """Something the user asked the demo for cannot be done; the message is one line for the page."""


@dataclass
class Cartoon:
    """One cartoonised upload, as HWC uint8 arrays.

    Attributes:
        cartoon: the output, ``(H, W, 3)``, or ``(H, W, 4)`` for the ``transparent`` background.
        tensor: the same output as ``(1, C, H, W)`` (RGB in [-1, 1], alpha in [0, 1]), for writing.
        mask: the masker's person mask at the output size, ``(H, W)``, when asked for and available.
    """

    cartoon: np.ndarray
    tensor: torch.Tensor
    mask: np.ndarray | None = None


def _reason(exc: Exception, path: Path) -> str:
    """A decoder's reason without the (temporary) path the upload was stored under."""
    reason = getattr(exc, "reason", str(exc))
    return reason.replace(str(path), path.name)


def read_photo(path: str | Path, max_pixels: int = MAX_PIXELS, budget: int | None = None) -> torch.Tensor:
    """Decode an uploaded file exactly as ``toonkit translate`` does, refusing oversized images first.

    Args:
        path: the uploaded file.
        max_pixels: the most pixels (width × height, read from the header) accepted.
        budget: the model's image budget (its ``max_pixels``): a larger photo is reduced to it while
            still 8-bit, as ``toonkit translate`` does, so one upload's memory follows the budget.

    Returns:
        the photo as ``(1, 3, H, W)`` in [-1, 1], EXIF rotation applied.

    Raises:
        DemoError: the file is not an image, is truncated, or is larger than ``max_pixels``.
    """
    from toonkit.data.decode import DecodeError, probe
    from toonkit.translate.io import read_image

    path = Path(path)
    try:
        width, height = probe(path, full=False)  # the header only: a bomb is refused before decoding
    except DecodeError as exc:
        raise DemoError(f"cannot read this file as an image ({_reason(exc, path)})") from None
    if width * height > max_pixels:
        raise DemoError(f"the image is {width}×{height} pixels ({width * height / 1e6:.0f} MP); the demo "
                        f"accepts up to {max_pixels / 1e6:.0f} MP")
    try:
        return read_image(path, max_pixels=budget)
    except DecodeError as exc:
        raise DemoError(f"this image cannot be decoded ({_reason(exc, path)})") from None


def parse_size(choice: str | int | None) -> int | str | None:
    """A size choice of the page (:data:`SIZE_CHOICES` or a number) as the translate API's ``size``.

    Example:
        >>> parse_size("auto"), parse_size("512"), parse_size("original")
        (None, 512, 'original')
    """
    if choice in (None, "", SIZE_CHOICES[0]):
        return None
    if choice == "original":
        return "original"
    try:
        value = int(choice)
    except (TypeError, ValueError):
        raise DemoError(f"unknown output size {choice!r} (options: {', '.join(SIZE_CHOICES)})") from None
    if value < 1:
        raise DemoError(f"the output size must be positive, got {value}")
    return value


def parse_colour(value: str) -> tuple[int, int, int]:
    """An RGB triple from a colour picker's ``#rrggbb``, ``#rgb`` or ``rgb(a)(r, g, b[, a])`` string.

    Example:
        >>> parse_colour("#ff8000"), parse_colour("rgba(0, 128, 255, 1)")
        ((255, 128, 0), (0, 128, 255))
    """
    text = (value or "").strip().lower()
    if re.fullmatch(r"#[0-9a-f]{6}", text):
        return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        return int(text[1] * 2, 16), int(text[2] * 2, 16), int(text[3] * 2, 16)
    match = re.fullmatch(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)", text)
    if match:
        r, g, b = (min(255, round(float(v))) for v in match.groups()[:3])
        return r, g, b
    raise DemoError(f"not a colour: {value!r} (expected #rrggbb)")


def _translate(toon: Any, photo: torch.Tensor, background: str, size: int | str | None,
               colors: str = DEFAULT_COLORS, faces: str = API_FACES) -> torch.Tensor:
    from toonkit.translate.errors import TranslateError

    check_background(background)
    if background in NEEDS_MASK and not toon.has_masker:
        raise DemoError(f"background '{background}' needs a person masker, and this model has none: "
                        "use 'keep'")
    try:
        return toon.translate_tensors([photo], background, size, colors=colors, faces=faces)[0]
    except TranslateError as exc:
        raise DemoError(str(exc)) from None


def person_mask(toon: Any, photo: torch.Tensor, size: int | str | None = None) -> torch.Tensor:
    """The masker's person mask as the translate API composites with it (at the output size).

    Mirrors :meth:`Cartoonizer.translate_batch`: the photo at the output size, the masker run at the
    working size, its mask upsampled back.

    Shape:
        - photo: :math:`(1, 3, H, W)` in [-1, 1]
        - Output: :math:`(1, 1, H', W')` in [0, 1] on the CPU, :math:`(H', W')` = ``toon.target_size``.
    """
    height, width = photo.shape[-2:]
    hw = toon.target_size(height, width, size)
    work = resize(resize(photo.float(), hw), toon.working_size(height, width, size))
    return resize(toon.mask(work), hw).clamp(0, 1).float().cpu()


def cartoonise(toon: Any, photo: torch.Tensor, background: str = "keep", size: int | str | None = None,
               with_mask: bool = False, colors: str = DEFAULT_COLORS, faces: str = API_FACES) -> Cartoon:
    """Translate one photo the way ``toonkit translate`` does, optionally with its person mask.

    Args:
        toon: a :class:`toonkit.translate.Cartoonizer`.
        photo: ``(1, 3, H, W)`` in [-1, 1], from :func:`read_photo`.
        background: ``keep``, ``white``, ``blur``, ``original`` or ``transparent``.
        size: the translate API's ``size``: None (the photo's size), a short side, or ``"original"``.
        with_mask: also return the masker's person mask (when the model has a masker).
        colors: ``keep`` (the photo's colours on the person) or ``style`` (the model's own).
        faces: ``off`` or ``auto`` (faces small for the model painted at its scale, as
            ``toonkit translate --faces auto``; the page's Faces setting defaults to ``auto``).

    Shape:
        - photo: :math:`(1, 3, H, W)`
        - Output: ``cartoon`` :math:`(H', W', C)` uint8 with :math:`(H', W')` = ``toon.target_size``.

    Raises:
        DemoError: the background needs a masker the model lacks.
    """
    from toonkit.translate.io import to_uint8_array

    out = _translate(toon, photo, background, size, colors, faces)
    mask = None
    if with_mask and toon.has_masker:
        mask = unit_to_uint8(person_mask(toon, photo, size)[0, 0]).numpy()
    return Cartoon(to_uint8_array(out), out, mask)


def portraits(toon: Any, photo: torch.Tensor, size: int = DEFAULT_FACE_SIZE, background: str = "keep",
              colors: str = DEFAULT_COLORS) -> list[np.ndarray]:
    """One upright translated portrait per face, as ``toonkit translate --faces crop`` writes them.

    Raises:
        DemoError: no face detector is installed.
    """
    from toonkit.translate.errors import TranslateError
    from toonkit.translate.faces import find_portraits
    from toonkit.translate.io import to_uint8_array
    from toonkit.translate.options import TranslateOptions

    try:
        options = TranslateOptions.of(background=background, colors=colors, faces="crop", face_size=size)
        return [to_uint8_array(p) for p in find_portraits(toon, photo, options)]
    except TranslateError as exc:
        raise DemoError(str(exc)) from None


def other_background(toon: Any, photo: torch.Tensor, colour: tuple[int, int, int], background: str = "keep",
                     size: int | str | None = None, colors: str = DEFAULT_COLORS) -> tuple[np.ndarray, Cartoon]:
    """The same person on another background: ``m·photo + (1−m)·colour``, and its cartoon.

    The masker's mask (:func:`person_mask`) puts the person over a flat ``colour`` at the output size;
    the result is rounded to 8 bits (so it is exactly the image a user could save and translate) and
    translated with the same settings as the original. Comparing the two cartoons shows how much the
    background leaks into the person.

    Args:
        toon: a :class:`toonkit.translate.Cartoonizer` with a masker.
        photo: ``(1, 3, H, W)`` in [-1, 1].
        colour: the new background as 8-bit RGB.
        background, size, colors: as for :func:`cartoonise`.

    Returns:
        the re-composited photo ``(H', W', 3)`` uint8 and its :class:`Cartoon`.

    Raises:
        DemoError: the model has no masker.
    """
    from toonkit.translate.io import to_uint8_array

    if not toon.has_masker:
        raise DemoError("this model has no person masker, so it cannot put the person on another background")
    mask = person_mask(toon, photo, size)
    x = resize(photo.float(), tuple(mask.shape[-2:]))
    fill = from_uint8(torch.tensor(colour)).view(1, 3, 1, 1)
    recomposed = to_uint8_array(mask * x + (1 - mask) * fill)
    x2 = from_uint8(torch.from_numpy(recomposed).permute(2, 0, 1)[None])
    out = _translate(toon, x2, background, size, colors)
    return recomposed, Cartoon(to_uint8_array(out), out)


def pretrained_models() -> list[str]:
    """Names of the pretrained models in the registry (kind ``model``), default model first."""
    registry = get_registry()
    if "model" not in registry.kinds:
        return []
    names = [entry.name for entry in registry.list("model")]
    return sorted(names, key=lambda n: (n != DEFAULT_MODEL, n))


def display_name(model: str) -> str:
    """How the page names a model: a registered name as is, a run by its folder's name.

    Example:
        >>> display_name("handpainted"), display_name("runs/quickstart/"), display_name("r/checkpoints/step_9.safetensors")
        ('handpainted', 'quickstart', 'r/step_9')
    """
    path = Path(model)
    if path.suffix == ".safetensors":
        run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        return f"{run.name}/{path.stem}"
    return path.name or model


def resolve_models(given: Sequence[str] = (), quickstart: Path = QUICKSTART_RUN) -> list[str]:
    """The models the page offers, the default first.

    Args:
        given: runs, checkpoints or model names from the command line (the first is the default).
        quickstart: the run served when nothing is given and no pretrained model is registered.

    Raises:
        DemoError: nothing was given, no pretrained model is registered and ``quickstart`` is absent.
    """
    pretrained = pretrained_models()
    models = list(dict.fromkeys([*given, *pretrained]))
    if models:
        return models
    if (quickstart / "checkpoints").is_dir():
        return [str(quickstart)]
    raise DemoError(f"no model to serve: give a run directory or checkpoint (e.g. `toonkit demo "
                    f"{QUICKSTART_RUN}` after `toonkit run recipes/quickstart.yaml --out {QUICKSTART_RUN}`)")


class ModelPool:
    """Models by name, each loaded once, on first use (thread-safe).

    Args:
        loader: builds a :class:`~toonkit.translate.Cartoonizer` from a name, e.g.
            ``lambda name: toonkit.load(name, device="cpu")``.

    Example:
        >>> pool = ModelPool(lambda name: toonkit.load(name))  # doctest: +SKIP
        >>> pool.get("runs/quickstart") is pool.get("runs/quickstart")  # doctest: +SKIP
        True
    """

    def __init__(self, loader: Callable[[str], Any]) -> None:
        self._loader = loader
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        """The model ``name``, loaded on the first call; :class:`DemoError` when it cannot be loaded."""
        from toonkit.translate.api import TranslateError

        with self._lock:  # two first requests for one model load it once
            if name not in self._models:
                try:
                    self._models[name] = self._loader(name)
                except TranslateError as exc:
                    raise DemoError(f"model {name}: {exc}") from None
            return self._models[name]
