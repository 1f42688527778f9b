"""Face-aware translation: which faces are repainted, how the portraits are cut, the detector plumbing.

Geometry is tested with a stand-in detector that returns chosen boxes (a plugin's detector is exactly
such an object); the built-in MTCNN is tested on real faces from ../shared/data (skipped when absent)
and on synthetic images made here.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import toonkit
from toonkit.nets.face_detectors import Face, FaceDetector, facenet_available
from toonkit.translate import Cartoonizer
from toonkit.translate.faces import (PORTRAIT_FACE, SMALL_FACE, FacesUnavailableError, align_crop,
                                     ellipse_mask, get_detector, paint_faces, portrait_region, small_faces)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
needs_mtcnn = pytest.mark.skipif(not facenet_available(), reason="needs facenet-pytorch (pip install toonkit[faces])")


class Boxes:
    """A detector returning fixed faces (what a plugin's detector returns, without a network)."""

    def __init__(self, faces: list[Face]) -> None:
        self.faces = faces
        self.calls = 0

    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        self.calls += 1
        return [list(self.faces) for _ in range(images.shape[0])]


class Marker(torch.nn.Module):
    """A 'generator' that paints the working scale into the image: output = tanh of the local mean
    brightness gradient scale… simpler: returns +1 where the input is at its own size, so tests can
    see where a crop was painted. Here: identity plus a constant, so any repainted pixel is known."""

    size_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[tuple[int, int]] = []
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(tuple(x.shape[-2:]))
        return torch.full_like(x, 0.5) + 0 * self.w


def _toon(size: int = 64) -> tuple[Cartoonizer, Marker]:
    g = Marker()
    toon = Cartoonizer(g, size=size, device="cpu", channels_last=False)
    return toon, g


def test_detector_is_a_registered_kind() -> None:
    assert "face_detector" in toonkit.get_registry().kinds
    assert any(e.name == "mtcnn" for e in toonkit.list_components("face_detector"))
    assert isinstance(Boxes([]), FaceDetector)


def test_small_faces_only_are_repainted() -> None:
    toon, g = _toon(size=64)  # work size 128: a portrait face is 0.42 × 128 ≈ 54 px high there
    photo = torch.zeros(1, 3, 512, 512)
    tiny = Face((100, 100, 120, 124))  # 24 px at 512, 6 px at work size: small
    large = Face((150, 100, 450, 460))  # 360 px at 512, 90 px at work size: a portrait already
    work_hw = toon.working_size(512, 512)
    picked = small_faces([tiny, large], (512, 512), work_hw, toon.work_size)
    assert picked == [tiny]
    threshold = SMALL_FACE * PORTRAIT_FACE * toon.work_size * 512 / min(work_hw)
    assert tiny.height < threshold < large.height
    out, _ = paint_faces(toon, photo, torch.full_like(photo, -1.0), [tiny, large], work_hw)
    # the tiny face's region was translated (0.5) with the face at a portrait's size, the rest untouched
    cx, cy = tiny.center
    assert out[0, 0, int(cy), int(cx)] == pytest.approx(0.5, abs=1e-4)
    assert out[0, 0, 500, 500] == -1.0 and out[0, 0, 5, 500] == -1.0
    crop_side = g.sizes[-1]
    assert max(crop_side) == pytest.approx(toon.work_size, abs=2)


def test_blend_is_feathered_without_a_seam() -> None:
    m = ellipse_mask(101, 101, 50.5, 50.5, 50.0)[0, 0]
    assert m[50, 50] == 1 and m[0, 0] == 0 and m[50, 0] < 0.05
    row = m[50, :51]
    assert (row[1:] >= row[:-1]).all()  # rises monotonically to the centre
    assert (row[1:] - row[:-1]).max() < 0.1  # no step


def test_face_cut_by_the_border_is_painted_inside_the_image() -> None:
    toon, _ = _toon(size=64)
    photo = torch.zeros(1, 3, 300, 400)
    face = Face((-10, 200, 14, 230))  # half outside on the left, the bottom near the edge
    out, _ = paint_faces(toon, photo, torch.full_like(photo, -1.0), [face], toon.working_size(300, 400))
    assert out.shape == photo.shape
    assert out[0, 0, 215, 2] == pytest.approx(0.5, abs=1e-4)


def test_no_faces_leaves_the_cartoon_as_is() -> None:
    toon, _ = _toon()
    photo = torch.rand(1, 3, 80, 120) * 2 - 1
    toon.face_detector = Boxes([])
    assert torch.equal(toon.translate(photo, faces="auto"), toon.translate(photo, faces="off"))
    assert toon.face_detector.calls == 1


def test_api_auto_uses_the_models_detector() -> None:
    toon, _ = _toon(size=32)
    g = toon.generator
    photo = torch.full((3, 400, 400), -1.0)
    toon.face_detector = Boxes([Face((200, 200, 216, 218))])
    out = toon.translate(photo, faces="auto")
    plain = toon.translate(photo, faces="off")
    assert out.shape == plain.shape == photo.shape
    assert len(g.sizes) == 3  # whole photo twice, one face crop


def test_portraits_are_upright_and_sized() -> None:
    # a bright eye-line tilted by 30°: after alignment it must lie horizontal through the centre
    img = np.zeros((300, 300, 3), np.uint8)
    angle = math.radians(30)
    face = Face((110, 110, 190, 190), 1.0,
                ((150 - 20 * math.cos(angle), 150 - 20 * math.sin(angle)),
                 (150 + 20 * math.cos(angle), 150 + 20 * math.sin(angle)), (150, 160), (140, 175), (160, 175)))
    for t in np.linspace(-60, 60, 400):
        x, y = 150 + t * math.cos(angle), 150 + t * math.sin(angle)
        img[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2] = 255
    photo = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    crop = align_crop(photo, face, 128)[0, 0]
    assert crop.shape == (128, 128)
    bright_rows = torch.nonzero(crop.max(dim=1).values > 0.5).flatten()
    assert bright_rows.numel() <= 6  # one horizontal line, a few pixels thick
    region = portrait_region(face)
    # the face centre sits DROP face heights above the portrait's centre
    row = float(bright_rows.float().mean())
    assert row == pytest.approx(64 - (region.cy - 150) * 128 / region.side, abs=2)


def test_portraits_api_one_per_face_largest_first() -> None:
    toon, _ = _toon(size=32)
    toon.face_detector = Boxes([Face((10, 10, 30, 34)), Face((100, 40, 180, 140))])
    photo = Image.new("RGB", (240, 200), (90, 120, 150))
    out = toon.portraits(photo, size=96)
    assert [im.size for im in out] == [(96, 96), (96, 96)]
    toon.face_detector = Boxes([])
    assert toon.portraits(photo, size=96) == []


def test_missing_detector_auto_warns_once_crop_is_an_error(caplog: pytest.LogCaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.nets import face_detectors
    from toonkit.translate import faces

    monkeypatch.setattr(face_detectors, "facenet_available", lambda: False)
    monkeypatch.setattr(faces, "_warned", set())
    toon, _ = _toon()
    photo = torch.rand(1, 3, 40, 40) * 2 - 1
    with caplog.at_level("WARNING", logger="toonkit.translate"):
        a = toon.translate(photo, faces="auto")
        b = toon.translate(photo, faces="auto")
    assert torch.equal(a, b) and torch.equal(a, toon.translate(photo, faces="off"))
    warnings = [r for r in caplog.records if "faces" in r.getMessage()]
    assert len(warnings) == 1 and "toonkit[faces]" in warnings[0].getMessage()
    with pytest.raises(FacesUnavailableError, match=r"toonkit\[faces\]"):
        get_detector(toon, required=True)


def test_faces_is_a_checked_translate_option() -> None:
    from toonkit.translate.options import TranslateOptions

    assert TranslateOptions().faces == "off" and TranslateOptions().face_size == 256  # the API's defaults
    with pytest.raises(ValueError, match="unknown faces 'atuo'; did you mean 'auto'"):
        TranslateOptions.of(faces="atuo")
    with pytest.raises(ValueError, match="face_size must be an int >= 16"):
        TranslateOptions.of(face_size=8)
    toon, _ = _toon()
    with pytest.raises(ValueError, match="faces='crop' returns one portrait per face"):
        toon.translate(torch.zeros(3, 20, 20), faces="crop")
    with pytest.raises(TypeError, match="unknown translation option 'face'"):
        toon.translate(torch.zeros(3, 20, 20), face="auto")


def test_repainted_faces_get_the_colors_option() -> None:
    """colors=keep puts the photo's colours back on each repainted face too, not only on the whole image:
    the stand-in generator paints everything 0.5 grey, so a face left in the model's colours would show."""
    toon, _ = _toon(size=32)
    colour = torch.tensor([-0.6, 0.1, 0.5]).view(1, 3, 1, 1)
    photo = colour.expand(1, 3, 400, 400).clone()
    toon.face_detector = Boxes([Face((200, 200, 216, 218))])
    keep = toon.translate(photo, faces="auto", colors="keep")
    style = toon.translate(photo, faces="auto", colors="style")
    assert torch.allclose(style[0, :, 209, 208], torch.full((3,), 0.5), atol=1e-4)  # the model's grey
    assert torch.allclose(keep[0, :, 209, 208], colour.flatten(), atol=0.03)  # the photo's colour, face too
    assert torch.allclose(keep[0, :, 20, 20], colour.flatten(), atol=0.03)


def test_translate_folder_crop_writes_portraits_and_reports_photos_without_faces(tmp_path: Path) -> None:
    from toonkit.translate.folder import NO_FACE

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (160, 120), (90, 120, 150)).save(photos / "group.png")
    toon, _ = _toon(size=32)
    toon.face_detector = Boxes([Face((10, 10, 40, 44)), Face((80, 30, 100, 54))])
    report = toon.translate_folder(photos, tmp_path / "out", faces="crop", face_size=48)
    assert report.written == 1 and not report.failed and not report.faceless
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["group_face0.png", "group_face1.png"]
    assert Image.open(tmp_path / "out" / "group_face0.png").size == (48, 48)
    again = toon.translate_folder(photos, tmp_path / "out", faces="crop")  # its first portrait exists: kept
    assert again.all_kept
    toon.face_detector = Boxes([])
    notes: list[str | None] = []
    empty = toon.translate_folder(photos, tmp_path / "none", faces="crop",
                                  progress=lambda path, note: notes.append(note))
    assert notes == [NO_FACE] and empty.faceless == [photos / "group.png"] and empty.written == 0
    assert "no face found in 1" in empty.summary() and not (tmp_path / "none").exists()


def test_plan_refuses_clips_with_crop(tmp_path: Path) -> None:
    from toonkit.translate.folder import plan_folder
    from toonkit.translate.io import InputError

    (tmp_path / "clip.mp4").write_bytes(b"a clip by its extension")
    Image.new("RGB", (20, 20)).save(tmp_path / "me.png")
    plan = plan_folder([tmp_path], tmp_path / "out")
    assert [it.path.name for it in plan.videos] == ["clip.mp4"] and [it.path.name for it in plan.todo] == ["me.png"]
    with pytest.raises(InputError, match="faces crop writes portraits of photos, not of videos"):
        plan_folder([tmp_path], tmp_path / "out", portraits=True)


# -- the built-in detector on real and synthetic images --------------------------------------------
def _load(path: Path, short: int | None = None) -> torch.Tensor:
    im = Image.open(path).convert("RGB")
    if short:
        s = short / min(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)
    return torch.from_numpy(np.asarray(im)).permute(2, 0, 1)[None].float() / 127.5 - 1


def _shared(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"needs ../shared/{rel} (real photos live beside the checkout, not in it)")
    return path


@pytest.fixture(scope="module")
def mtcnn():
    if not facenet_available():
        pytest.skip("needs facenet-pytorch (pip install toonkit[faces])")
    return toonkit.build("face_detector", "mtcnn")


@pytest.fixture(scope="module")
def selfies() -> list[Path]:
    folder = _shared("data/selfies")
    return sorted(folder.glob("*.jpg"))[:6]


@needs_mtcnn
def test_mtcnn_no_face_in_noise_and_smiley(mtcnn) -> None:
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.random((1, 3, 240, 320)).astype(np.float32) * 2 - 1)
    # a face-like pattern: a yellow disc with two dark eyes and a mouth, on grey
    img = Image.new("RGB", (240, 240), (128, 128, 128))
    from PIL import ImageDraw

    d = ImageDraw.Draw(img)
    d.ellipse((50, 50, 190, 190), fill=(240, 210, 60))
    d.ellipse((85, 95, 105, 115), fill=(20, 20, 20))
    d.ellipse((135, 95, 155, 115), fill=(20, 20, 20))
    d.arc((85, 110, 155, 165), 20, 160, fill=(20, 20, 20), width=6)
    smiley = torch.from_numpy(np.asarray(img)).permute(2, 0, 1)[None].float() / 127.5 - 1
    assert mtcnn.detect(noise) == [[]]
    assert mtcnn.detect(smiley) == [[]]


@needs_mtcnn
def test_mtcnn_one_face_per_selfie_with_landmarks(mtcnn, selfies) -> None:
    for path in selfies[:3]:
        faces = mtcnn.detect(_load(path))[0]
        assert len(faces) >= 1, path.name
        f = faces[0]
        assert f.score > 0.9 and 40 < f.height < 256 and f.landmarks is not None
        (lx, ly), (rx, ry) = f.landmarks[:2]
        assert lx < rx and abs(f.roll) < 45  # selfies are roughly upright (some lean)


@needs_mtcnn
def test_mtcnn_several_tiny_tilted_and_cut_faces(mtcnn, selfies) -> None:
    """A synthetic group: real faces pasted small into one canvas, one tilted 30°, one cut by the border."""
    canvas = Image.new("RGB", (960, 540), (70, 90, 80))
    tiles = [Image.open(p).convert("RGB") for p in selfies[:4]]
    canvas.paste(tiles[0].resize((160, 160)), (40, 300))  # face ~70 px
    canvas.paste(tiles[1].resize((80, 80)), (300, 350))  # tiny: face ~35 px
    canvas.paste(tiles[2].resize((200, 200)).rotate(30, resample=Image.BICUBIC, fillcolor=(70, 90, 80)),
                 (460, 200))
    canvas.paste(tiles[3].resize((220, 220)), (850, 100))  # the right half is cut off by the border
    found = mtcnn.detect(torch.from_numpy(np.asarray(canvas)).permute(2, 0, 1)[None].float() / 127.5 - 1)[0]
    centres = sorted(f.center[0] for f in found)
    assert len(found) >= 3, [f.box for f in found]
    assert any(280 < x < 400 for x in centres)  # the tiny one
    tilted = [f for f in found if 460 < f.center[0] < 660]
    assert tilted and abs(abs(tilted[0].roll) - 30) < 12  # its landmarks give the tilt


@needs_mtcnn
def test_mtcnn_profile_faces(mtcnn) -> None:
    """Faces seen from the side: a man looking down at a camera (113) and a boy in profile over a toy
    (107) of the people photos. (A small face in full profile, as in 116, is missed.)"""
    folder = _shared("data/people/photos")
    for name in ("107.jpg", "113.jpg"):
        faces = mtcnn.detect(_load(folder / name))[0]
        assert faces, name


class PortraitMasker(torch.nn.Module):
    """A stand-in masker that finds a person only in a square image (a face's portrait crop), as a small
    masker misses a person who is a few pixels high in the whole photo."""

    size_multiple = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x[:, :1], 10.0 if x.shape[-2] == x.shape[-1] else -10.0)


def test_small_faces_are_masked_again_at_the_models_scale() -> None:
    toon = Cartoonizer(Marker(), PortraitMasker(), size=32, device="cpu", channels_last=False)
    photo = torch.full((3, 400, 800), -1.0)
    toon.face_detector = Boxes([Face((400, 200, 416, 218))])
    auto = toon.translate(photo, background="transparent", faces="auto")
    off = toon.translate(photo, background="transparent", faces="off")
    assert auto.shape[0] == off.shape[0] == 4
    # the whole photo's mask lost the person; the face's portrait crop found it, blended in around the face
    assert off[3, 209, 408] < 0.01 and auto[3, 209, 408] > 0.99
    assert auto[3, 5, 5] == off[3, 5, 5] < 0.01  # far from the face: the whole photo's mask
    # background keep needs no mask: the face is still repainted, no mask is computed for it
    assert toon.translate(photo, faces="auto").shape[0] == 3
