"""The write guarantees hold for the newer writers too: clips (``translate`` of a video) and face
portraits (``faces="crop"``) never follow a link inside the output folder, never replace an input of the
call, leave nothing under the final name when they fail, and stay within the image budget."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from toonkit.translate import Cartoonizer
from toonkit.translate.faces import Face
from toonkit.translate.folder import plan_folder, translate_planned
from toonkit.translate.options import TranslateOptions

from .helpers import digest

av = pytest.importorskip("av", reason="video needs PyAV: pip install -e '.[video]'")

from tests.translate.test_video import Shift, make_clip  # noqa: E402  (after the PyAV check)


class Boxes:
    """A face detector with fixed answers (no network)."""

    def __init__(self, faces: list[Face]) -> None:
        self.faces = faces

    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        return [list(self.faces) for _ in range(images.shape[0])]


@pytest.fixture
def toon() -> Cartoonizer:
    return Cartoonizer(Shift(), size=32, device="cpu", channels_last=False)


def test_clip_never_written_through_a_link_inside_the_output(tmp_path: Path, toon: Cartoonizer) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    clip = make_clip(tmp_path / "in" / "sub" / "clip.mp4", frames=3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere, target_is_directory=True)
    report = translate_planned(toon, plan_folder([tmp_path / "in"], out))
    assert list(elsewhere.iterdir()) == [], "a clip was written through a link inside -o"
    ((path, why),) = report.failed
    assert path == clip and "link" in why


def test_clip_never_replaces_a_linked_file(tmp_path: Path, toon: Cartoonizer) -> None:
    clip = make_clip(tmp_path / "clip.webm", frames=3)
    victim = tmp_path / "victim.webm"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "clip.webm").symlink_to(victim)
    report = translate_planned(toon, plan_folder([clip], out, overwrite=True))
    assert victim.read_bytes() == b"precious" and len(report.failed) == 1 and "link" in report.failed[0][1]


def test_clip_output_never_replaces_another_input(tmp_path: Path, toon: Cartoonizer) -> None:
    """``out/clip.webm`` is given as an input and is also where ``in/clip.webm``'s cartoon would go."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    make_clip(tmp_path / "in" / "clip.webm", frames=3)
    victim = make_clip(tmp_path / "out" / "clip.webm", frames=2)
    before = digest(victim)
    plan = plan_folder([tmp_path / "in", victim], tmp_path / "out", overwrite=True)
    assert tmp_path / "in" / "clip.webm" in plan.itself
    report = translate_planned(toon, plan)
    assert digest(victim) == before
    assert any("would replace the input" in why for _, why in report.failed), report.failed


def test_clip_over_the_image_budget_is_refused_before_any_frame(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2, size=(48, 64))
    small = Cartoonizer(Shift(), size=32, device="cpu", channels_last=False, max_pixels=48 * 64 - 1)
    report = translate_planned(small, plan_folder([clip], tmp_path / "out"))
    ((_, why),) = report.failed
    assert "image budget" in why and "--max-pixels" in why
    assert not (tmp_path / "out" / "clip.mp4").exists() and not list((tmp_path / "out").glob(".*tmp*"))


def test_portraits_never_replace_another_input(tmp_path: Path, toon: Cartoonizer) -> None:
    """``group.png`` gives ``group_face0.png`` and ``group_face1.png``; the second is an input too."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (160, 120), (90, 120, 150)).save(photos / "group.png")
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "group_face1.png"
    Image.new("RGB", (20, 20), (0, 255, 0)).save(victim)
    before = digest(victim)
    toon.face_detector = Boxes([Face((10, 10, 40, 44)), Face((80, 30, 100, 54))])
    plan = plan_folder([photos / "group.png", victim], out, portraits=True, overwrite=True)
    report = translate_planned(toon, plan, TranslateOptions.of(faces="crop", face_size=32))
    assert digest(victim) == before, "a portrait replaced an input of the call"
    assert any(path == photos / "group.png" and "group_face1.png" in why and "replace the input" in why
               for path, why in report.failed), report.failed


def test_portraits_never_written_through_a_link(tmp_path: Path, toon: Cartoonizer) -> None:
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    Image.new("RGB", (160, 120), (90, 120, 150)).save(photos / "sub" / "group.png")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere, target_is_directory=True)
    toon.face_detector = Boxes([Face((10, 10, 40, 44))])
    report = translate_planned(toon, plan_folder([photos], out, portraits=True),
                               TranslateOptions.of(faces="crop", face_size=32))
    assert list(elsewhere.iterdir()) == [] and len(report.failed) == 1 and "link" in report.failed[0][1]
