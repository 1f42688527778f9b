"""Face-aware translation: paint small faces at the model's scale, or cut out one portrait per face.

A generator trained on portraits learned faces that fill a good part of the frame. In a group or
full-body photo a face is a few dozen pixels high at the working size, far from that, and comes back as a
smudge. ``faces="auto"`` translates the whole photo as usual, then, for each face that is small for the
model, translates an enlarged square around it (hair and shoulders included) so that the face is as
large as in a portrait at the working size, and blends it back with a feathered elliptical mask.
``faces="crop"`` (:func:`face_portraits`) instead returns one upright portrait per face. ``faces`` and
``face_size`` are :class:`~toonkit.translate.options.TranslateOptions` fields, so the API, the folder
engine, videos, ``toonkit translate`` and the demo all check and pass them the same way; with
``colors="keep"`` each repainted face gets the photo's colours back as the whole image does.

Faces come from a registered ``face_detector`` component (:mod:`toonkit.nets.face_detectors`; the
built-in ``mtcnn`` needs ``pip install "toonkit[faces]"``). Without a detector, ``auto`` translates the
whole photo and logs once why faces were not handled; asking for portraits is a usage error naming the
install command.

Example:
    >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
    >>> group = toon.translate(Image.open("group.jpg"), faces="auto")  # doctest: +SKIP
    >>> portraits = toon.portraits(Image.open("group.jpg"), size=256)  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from toonkit.nets.face_detectors import Face, FaceDetector, FaceDetectorUnavailable
from toonkit.core.geometry import resize
from toonkit.translate.errors import TranslateError

if TYPE_CHECKING:
    from toonkit.translate.options import TranslateOptions

log = logging.getLogger("toonkit.translate")

FACE_MODES: tuple[str, ...] = ("off", "auto", "crop")
#: what ``toonkit translate --faces`` and the demo do unless told: chosen from benchmarks/faces.md
DEFAULT_FACES = "auto"
#: the Python API's default (``TranslateOptions.faces``): ``off``, so that its output never depends on an
#: optional package being installed
API_FACES = "off"
#: the side of each portrait with ``faces="crop"`` unless told (``TranslateOptions.face_size``)
DEFAULT_FACE_SIZE = 256
#: the smallest portrait side
MIN_FACE_SIZE = 16
#: the detector used unless another is named
DEFAULT_DETECTOR = "mtcnn"
#: face height (detector box) over the short side of a portrait as the model sees it at its working size:
#: the median over the shared selfies and portraits (benchmarks/faces.md)
PORTRAIT_FACE = 0.42
#: a face is repainted when its height at the working size is below this share of a portrait's face
SMALL_FACE = 0.7
#: where the crop's centre sits below the face centre, in face heights: room for the shoulders
DROP = 0.35
#: the feathered border of the blending ellipse, as a share of its radius
FEATHER = 0.35


class FacesUnavailableError(TranslateError):
    """Portraits (``faces="crop"``) were asked for and no face detector can be built."""


def check_faces(mode: str) -> None:
    """Raise ``ValueError`` naming the choices for a ``faces`` mode that is not one of :data:`FACE_MODES`."""
    if mode not in FACE_MODES:
        from toonkit.registry import did_you_mean

        raise ValueError(f"unknown faces {mode!r}{did_you_mean(str(mode), FACE_MODES)} "
                         f"(options: {', '.join(FACE_MODES)})")


def check_face_size(size: int) -> None:
    """Raise ``ValueError`` for a portrait side that is not an int of at least :data:`MIN_FACE_SIZE`."""
    if not isinstance(size, int) or isinstance(size, bool) or size < MIN_FACE_SIZE:
        raise ValueError(f"face_size must be an int >= {MIN_FACE_SIZE} pixels, got {size!r}")


def whole_image(options: TranslateOptions) -> None:
    """Raise ``ValueError`` for ``faces="crop"`` where one image per photo is returned."""
    if options.faces == "crop":
        raise ValueError("faces='crop' returns one portrait per face, not one image per photo: use "
                         "portraits() or translate_folder() for it")


def portrait_path(target: Path, index: int) -> Path:
    """Where ``faces="crop"`` writes portrait ``index`` of a photo whose output would be ``target``:
    ``OUT/name.png`` → ``OUT/name_face{index}.png``."""
    return target.with_name(f"{target.stem}_face{index}{target.suffix}")


_warned: set[str] = set()


def get_detector(toon: Any, required: bool) -> FaceDetector | None:
    """The model's face detector, built on first use (``toon.face_detector``, a name or an object).

    Args:
        toon: a :class:`~toonkit.translate.Cartoonizer`.
        required: raise :class:`FacesUnavailableError` when none can be built (portraits); otherwise
            log once why faces are not handled and return None.
    """
    spec = getattr(toon, "face_detector", None) or DEFAULT_DETECTOR
    if not isinstance(spec, str):
        return spec
    from toonkit.plugins import get_registry

    try:
        detector = get_registry().build("face_detector", spec)
    except FaceDetectorUnavailable as exc:
        if required:
            raise FacesUnavailableError(f"--faces crop needs a face detector: {exc}") from None
        if spec not in _warned:
            _warned.add(spec)
            log.warning("faces are translated with the whole image, not on their own: %s", exc)
        return None
    toon.face_detector = detector
    return detector


# -- auto: repaint small faces ------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """A square around a face, in output pixels (may extend past the image; cut when used)."""

    cx: float
    cy: float
    side: float

    def bounds(self, height: int, width: int) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of the square clipped to the image."""
        half = self.side / 2
        x0, y0 = max(0, math.floor(self.cx - half)), max(0, math.floor(self.cy - half))
        x1, y1 = min(width, math.ceil(self.cx + half)), min(height, math.ceil(self.cy + half))
        return x0, y0, x1, y1


def portrait_region(face: Face) -> Region:
    """The square that frames ``face`` as a portrait: the face is :data:`PORTRAIT_FACE` of its side."""
    cx, cy = face.center
    side = face.height / PORTRAIT_FACE
    return Region(cx, cy + DROP * face.height, side)


def small_faces(faces: Sequence[Face], out_hw: tuple[int, int], work_hw: tuple[int, int],
                work_size: int) -> list[Face]:
    """The faces (in output pixels) that are small for the model at its working size.

    A face counts as small when, scaled to the working image, it is less than :data:`SMALL_FACE` of the
    face height of a portrait at the working size (``PORTRAIT_FACE × work_size``).
    """
    scale = min(work_hw) / min(out_hw)
    wanted = PORTRAIT_FACE * work_size
    return [f for f in faces if f.height * scale < SMALL_FACE * wanted and f.height >= 4]


def ellipse_mask(height: int, width: int, cx: float, cy: float, radius: float,
                 feather: float = FEATHER, device: torch.device | None = None) -> torch.Tensor:
    """A soft disc: 1 inside ``(1 - feather) · radius`` of ``(cx, cy)``, 0 from ``radius`` on.

    Shape:
        - Output: :math:`(1, 1, H, W)` in [0, 1]
    """
    ys = torch.arange(height, device=device, dtype=torch.float32)[:, None] + 0.5
    xs = torch.arange(width, device=device, dtype=torch.float32)[None, :] + 0.5
    d = ((xs - cx) ** 2 + (ys - cy) ** 2).sqrt() / max(radius, 1e-6)
    m = ((1 - d) / feather).clamp(0, 1)
    return (m * m * (3 - 2 * m))[None, None]  # smoothstep: no visible ring where the ramp starts


@torch.no_grad()
def paint_faces(toon: Any, photo: torch.Tensor, cartoon: torch.Tensor, faces: Sequence[Face],
                work_hw: tuple[int, int], colors: str = "style",
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Repaint each face of ``faces`` that is small for the model, at the model's scale, into ``cartoon``,
    and mask it again at that scale into ``mask``.

    A masker misses most where the generator does: a person a few dozen pixels high at the working size
    (a faded head in a full-body photo). The enlarged square around the face is a portrait, which the
    masker gets right, so its mask there is blended into ``mask`` with the same feathered ellipse.

    Args:
        toon: the :class:`~toonkit.translate.Cartoonizer` that made ``cartoon``.
        photo: the photo at the output size.
        cartoon: its translation, same size.
        faces: the photo's faces, in output pixels.
        work_hw: the size the generator ran at for the whole photo.
        colors: the ``colors`` option ``cartoon`` was made with: each repainted face gets the same
            (:meth:`~toonkit.translate.api.Cartoonizer.paint`), so that it matches its surroundings.
        mask: the person mask at the output size, for a background that needs one (None: none).

    Returns:
        The cartoon and the mask (None when none was given).

    Shape:
        - photo, cartoon: :math:`(1, 3, H, W)` in [-1, 1]; mask :math:`(1, 1, H, W)` in [0, 1]
        - Output: :math:`(1, 3, H, W)` and :math:`(1, 1, H, W)`
    """
    h, w = cartoon.shape[-2:]
    todo = small_faces(faces, (h, w), work_hw, toon.work_size)
    if not todo:
        return cartoon, mask
    out = cartoon.clone()
    new_mask = mask.clone() if mask is not None else None
    masked = toon.masker is not None and (mask is not None or colors == "keep")
    # the largest faces last: where two regions overlap, the nearer (larger) face wins
    for face in sorted(todo, key=lambda f: f.height):
        region = portrait_region(face)
        x0, y0, x1, y1 = region.bounds(h, w)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        # the crop at the scale where this face is as large as a portrait's face at the working size
        scale = toon.work_size / region.side
        crop_hw = (max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale)))
        crop = resize(photo[..., y0:y1, x0:x1].float(), crop_hw)
        crop_mask = toon.mask(crop) if masked else None  # once: for keep's statistics and the background
        painted = resize(toon.paint(crop, colors, crop_mask).to(out.device), (y1 - y0, x1 - x0))
        blend = ellipse_mask(y1 - y0, x1 - x0, region.cx - x0, region.cy - y0, region.side / 2,
                             device=out.device)
        patch = out[..., y0:y1, x0:x1]
        out[..., y0:y1, x0:x1] = blend * painted + (1 - blend) * patch
        if new_mask is not None and crop_mask is not None:
            person = resize(crop_mask, (y1 - y0, x1 - x0)).clamp(0, 1).to(new_mask.device)
            kept = new_mask[..., y0:y1, x0:x1]
            new_mask[..., y0:y1, x0:x1] = blend * person + (1 - blend) * kept
    return out, new_mask


# -- crop: one upright portrait per face -------------------------------------------------------------
def align_crop(photo: torch.Tensor, face: Face, size: int) -> torch.Tensor:
    """The portrait square of ``face``, rotated upright (eye line horizontal), at ``size`` × ``size``.

    Pixels outside the photo (a face cut by the border) repeat the photo's edge.

    Shape:
        - photo: :math:`(1, 3, H, W)`
        - Output: :math:`(1, 3, size, size)`
    """
    region = portrait_region(face)
    # rotate about the face centre, so that the drop to the shoulders follows the face's own "down"
    fx, fy = face.center
    angle = math.radians(face.roll)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = fx - sin * (region.cy - fy), fy + cos * (region.cy - fy)
    scale = size / region.side  # output pixels per photo pixel
    x = photo.float()
    if scale < 0.5:  # shrink first with an antialiased resize: grid sampling alone would alias
        factor = scale * 2
        x = resize(x, (max(1, round(x.shape[-2] * factor)), max(1, round(x.shape[-1] * factor))))
        sx, sy = x.shape[-1] / photo.shape[-1], x.shape[-2] / photo.shape[-2]
        cx, cy, scale = cx * sx, cy * sy, scale / factor
    h, w = x.shape[-2:]
    grid_1d = (torch.arange(size, dtype=torch.float32) + 0.5 - size / 2) / scale
    v, u = torch.meshgrid(grid_1d, grid_1d, indexing="ij")
    src_x = cx + cos * u - sin * v
    src_y = cy + sin * u + cos * v
    grid = torch.stack([(2 * src_x) / w - 1, (2 * src_y) / h - 1], dim=-1)[None].to(x.device)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def find_portraits(toon: Any, photo: torch.Tensor, options: TranslateOptions) -> list[torch.Tensor]:
    """Detect the faces of ``photo`` and return one translated portrait per face (:func:`face_portraits`).

    Args:
        toon: a :class:`~toonkit.translate.Cartoonizer`.
        photo: the photo.
        options: ``face_size`` (the portraits' side), ``background`` and ``colors`` are used.

    Raises:
        FacesUnavailableError: no face detector is installed.

    Shape:
        - photo: :math:`(1, 3, H, W)` in [-1, 1]
        - Output: :math:`(1, C, S, S)` tensors, S = ``options.face_size``
    """
    x = resize(photo.float(), toon.target_size(*photo.shape[-2:], None))
    detector = get_detector(toon, required=True)
    assert detector is not None  # required: raised otherwise
    return face_portraits(toon, x, detector.detect(x)[0], options)


@torch.no_grad()
def face_portraits(toon: Any, photo: torch.Tensor, faces: Sequence[Face],
                   options: TranslateOptions) -> list[torch.Tensor]:
    """One translated upright portrait per face, largest face first.

    Each portrait is cut from the photo at ``face_size`` × ``face_size`` (:func:`align_crop`) and
    translated by ``toon`` at its working size with ``options``' background and colours, so the face is
    painted at the scale the model learned.

    Shape:
        - photo: :math:`(1, 3, H, W)` in [-1, 1]
        - Output: :math:`(1, C, S, S)` tensors, S = ``options.face_size`` (C = 4 for ``transparent``)
    """
    ordered = sorted(faces, key=lambda f: -f.height)
    crops = [align_crop(photo, face, options.face_size) for face in ordered]
    each = dataclasses.replace(options, faces="off", size=None)  # a portrait is translated as a whole
    return toon.translate_tensors(crops, **each.as_kwargs()) if crops else []
