"""``toonkit translate`` with clips and ``--faces``: videos among images, bad clips, portraits, no detector."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toonkit.cli.main import main
from toonkit.nets.face_detectors import Face

from .helpers import noise_image

av = pytest.importorskip("av", reason="needs PyAV (pip install toonkit[video])")

from .test_video import make_clip  # noqa: E402


def test_clips_and_photos_in_one_call_bad_clip_reported(run_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    make_clip(inputs / "clip.mp4", frames=5, audio=True)
    make_clip(inputs / "loop.gif", frames=4, rate=10)
    (inputs / "broken.webm").write_bytes(b"\x1aE\xdf\xa3 not really a webm")
    noise_image(40, 60).save(inputs / "photo.png")
    out = tmp_path / "out"
    code = main(["translate", str(run_dir), str(inputs), "-o", str(out), "-q", "--faces", "off"])
    err = capsys.readouterr().err
    assert code == 1
    assert "translating 1 image and 3 videos" in err
    assert "broken.webm" in err and "translated 1 image and 2 videos" in err and "1 of 4 failed" in err
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4", "loop.gif", "photo.png"]
    with av.open(str(out / "clip.mp4")) as c:
        assert c.streams.video[0].frames == 5 and len(c.streams.audio) == 1
    # a rerun keeps the finished clip and says so
    assert main(["translate", str(run_dir), str(inputs / "clip.mp4"), "-o", str(out), "-q"]) == 0
    assert "all 1 outputs already exist" in capsys.readouterr().out


def test_crop_writes_one_portrait_per_face(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import toonkit

    class TwoFaces:
        def __init__(self) -> None:
            pass

        def detect(self, images):
            return [[Face((10, 10, 40, 44), 0.99), Face((80, 30, 100, 54), 0.95)] for _ in range(images.shape[0])]

    class NoFaces:
        def detect(self, images):
            return [[] for _ in range(images.shape[0])]

    registry = toonkit.get_registry()
    snap = registry.snapshot()
    try:
        registry.add("face_detector", "two", TwoFaces, override=True)
        registry.add("face_detector", "none", NoFaces, override=True)
        photo = tmp_path / "group.png"
        noise_image(120, 160).save(photo)
        out = tmp_path / "out"
        assert main(["translate", str(run_dir), str(photo), "-o", str(out), "-q", "--faces", "crop",
                     "--face-detector", "two", "--face-size", "64"]) == 0
        assert sorted(p.name for p in out.iterdir()) == ["group_face0.png", "group_face1.png"]
        assert Image.open(out / "group_face0.png").size == (64, 64)
        assert main(["translate", str(run_dir), str(photo), "-o", str(tmp_path / "o2"), "-q", "--faces", "crop",
                     "--face-detector", "none"]) == 0
        assert "no face found" in capsys.readouterr().err
    finally:
        registry.restore(snap)


def test_without_a_detector_crop_is_a_usage_error_auto_goes_on(run_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from toonkit.nets import face_detectors
    from toonkit.translate import faces

    monkeypatch.setattr(face_detectors, "facenet_available", lambda: False)
    monkeypatch.setattr(faces, "_warned", set())
    photo = tmp_path / "me.png"
    noise_image(50, 50).save(photo)
    code = main(["translate", str(run_dir), str(photo), "-o", str(tmp_path / "o"), "-q", "--faces", "crop"])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install "toonkit[faces]"' in err and len(err.strip().splitlines()) == 1
    assert main(["translate", str(run_dir), str(photo), "-o", str(tmp_path / "o"), "-q", "--faces", "auto"]) == 0
    assert np.asarray(Image.open(tmp_path / "o" / "me.png")).shape == (50, 50, 3)


def test_face_options_checked(run_dir: Path, tmp_path: Path) -> None:
    photo = tmp_path / "me.png"
    noise_image(30, 30).save(photo)
    assert main(["translate", str(run_dir), str(photo), "-o", str(tmp_path / "o"), "--face-size", "99"]) == 2
    make_clip(tmp_path / "c.mp4", frames=2)
    assert main(["translate", str(run_dir), str(tmp_path / "c.mp4"), "-o", str(tmp_path / "o"),
                 "--faces", "crop"]) == 2
    # options no clip can take are usage errors before any work
    for bad in (["--size", "64"], ["--background", "transparent"]):
        assert main(["translate", str(run_dir), str(tmp_path / "c.mp4"), "-o", str(tmp_path / "o"), *bad]) == 2
    assert not (tmp_path / "o").exists()
