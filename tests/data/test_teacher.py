"""``toonkit data masks``: one mask PNG per photo from a mask teacher (toonkit.data.teacher)."""
from __future__ import annotations

import importlib.util

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from toonkit.data.teacher import TeacherError, predict_mask, write_masks
from toonkit.nets.maskers import UNetMasker


class BrightnessMasker(nn.Module):
    """Person = bright: logit 8·mean(RGB); records the sizes it was run at."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape[-2:]))
        return 8 * x.mean(1, keepdim=True)


def photo(path: Path, size: tuple[int, int] = (24, 16), left: int = 255, right: int = 0) -> Path:
    """A photo whose left half is ``left`` gray and right half ``right`` gray (W×H = ``size``)."""
    w, h = size
    a = np.full((h, w, 3), right, np.uint8)
    a[:, : w // 2] = left
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)
    return path


def read(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode == "L"
        return np.asarray(img)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photo(root / "a.jpg")
    photo(root / "sub" / "b.png", size=(10, 30), left=0, right=255)
    return root


def test_writes_soft_masks_with_same_relative_paths(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "masks"
    report = write_masks(photos, out, teacher=BrightnessMasker())
    assert report.failed == [] and report.written == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["a.png", "sub", "sub/b.png"]
    a, b = read(out / "a.png"), read(out / "sub" / "b.png")
    assert a.shape == (16, 24) and b.shape == (30, 10)
    # soft: round(sigmoid(8 · v) · 255) for v = +1 (white) and -1 (black)
    assert a[:, 0].tolist() == [255] * 16 and a[:, -1].tolist() == [0] * 16
    assert b[0, 0] == 0 and b[0, -1] == 255
    assert "wrote 2 of 2 masks" in report.summary()


def test_threshold_writes_binary_masks(photos: Path, tmp_path: Path) -> None:
    gray = photo(photos / "gray.png", left=140, right=100)  # v ≈ +0.1 and −0.2: soft values in between
    out = tmp_path / "masks"
    write_masks(photos, out, teacher=BrightnessMasker())
    soft = read(out / "gray.png")
    assert 0 < soft.min() < 255 and 0 < soft.max() < 255
    write_masks(gray, out, teacher=BrightnessMasker(), threshold=0.5, overwrite=True)
    hard = read(out / "gray.png")
    assert set(np.unique(hard).tolist()) == {0, 255}
    assert (hard == 255).tolist() == (soft > 127.5).tolist()


def test_existing_masks_are_kept_unless_overwrite(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "masks"
    out.mkdir()
    Image.fromarray(np.full((2, 2), 7, np.uint8)).save(out / "a.png")
    report = write_masks(photos, out, teacher=BrightnessMasker())
    assert read(out / "a.png").tolist() == [[7, 7], [7, 7]]  # kept
    assert report.kept == 1 and "kept 1 existing" in report.summary()
    assert "all 2 masks already exist" in write_masks(photos, out, teacher=BrightnessMasker()).summary()
    assert write_masks(photos, out, teacher=BrightnessMasker(), overwrite=True).written == 2
    assert read(out / "a.png").shape == (16, 24)


def test_unreadable_photos_are_reported_and_counted(photos: Path, tmp_path: Path) -> None:
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (photos / "empty.png").write_bytes(b"")
    out = tmp_path / "masks"
    seen: list[tuple[Path, str | None]] = []
    report = write_masks(photos, out, teacher=BrightnessMasker(), progress=lambda p, e: seen.append((p, e)))
    failed = dict(report.failed)
    assert failed[photos / "broken.jpg"].startswith("cannot decode")
    assert failed[photos / "empty.png"] == "cannot decode: empty file"
    assert len(seen) == 4 and sorted(str(p) for p, e in seen if e) == sorted(str(p) for p in failed)
    assert "wrote 2 of 4 masks" in report.summary() and "2 failed" in report.summary()
    assert (out / "a.png").exists() and (out / "sub" / "b.png").exists()
    assert not (out / "broken.png").exists()


def test_large_photos_are_downscaled_for_the_teacher_only(tmp_path: Path) -> None:
    teacher = BrightnessMasker()
    prob = predict_mask(teacher, torch.zeros(3, 300, 200, dtype=torch.uint8), max_side=64)
    assert teacher.seen == [(64, 43)]
    assert prob.shape == (300, 200) and prob.dtype == torch.float32


def test_sizes_are_padded_to_the_teachers_multiple() -> None:
    teacher = UNetMasker(depth=2, base_channels=4).eval()
    prob = predict_mask(teacher, torch.randint(0, 256, (3, 13, 10), dtype=torch.uint8))
    assert prob.shape == (13, 10) and 0 <= prob.min() and prob.max() <= 1


def test_output_folder_inside_photos_is_not_rescanned(photos: Path) -> None:
    out = photos / "masks"
    assert write_masks(photos, out, teacher=BrightnessMasker()).failed == []
    assert write_masks(photos, out, teacher=BrightnessMasker(), overwrite=True).failed == []
    assert sorted(p.name for p in out.rglob("*.png")) == ["a.png", "b.png"]


def test_usage_errors(photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TeacherError, match="--threshold must be between 0 and 1"):
        write_masks(photos, tmp_path / "m", teacher=BrightnessMasker(), threshold=1.5)
    with pytest.raises(TeacherError, match="does not exist"):
        write_masks(tmp_path / "absent", tmp_path / "m", teacher=BrightnessMasker())
    with pytest.raises(TeacherError, match="is the photos folder itself"):
        write_masks(photos, photos, teacher=BrightnessMasker())
    photo(photos / "a.png")  # a.jpg and a.png would share a.png
    with pytest.raises(TeacherError, match="would both write"):
        write_masks(photos, tmp_path / "m", teacher=BrightnessMasker())


@pytest.mark.skipif(importlib.util.find_spec("toonkit_mediapipe") is None,
                    reason="needs the toonkit-mediapipe plugin installed (CI step 2 runs it after installing the plugins)")
def test_unknown_teacher_names_the_plugin_to_install(photos: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import toonkit.plugins

    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "mediapipe")
    toonkit.plugins.reset()
    try:
        # installed but disabled: the hint names the disabled plugin instead of telling to install it
        with pytest.raises(TeacherError, match=r"disabled by TOONKIT_DISABLE_PLUGINS, which may provide "
                                               r"it: mediapipe \(toonkit-mediapipe\)"):
            write_masks(photos, tmp_path / "m", teacher="mediapipe_selfie")
    finally:
        toonkit.plugins.reset()


def test_a_teacher_from_a_missing_plugin_names_the_package(photos: Path, tmp_path: Path) -> None:
    """`toonkit data masks` names the default teacher's package (the CLI passes it as `requires`)."""
    with pytest.raises(TeacherError, match=r"unknown masker 'nosuch_masker'.*toonkit-nosuch.*not installed.*"
                                           r"pip install toonkit-nosuch"):
        write_masks(photos, tmp_path / "m", teacher="nosuch_masker", requires=("toonkit-nosuch",))
    from toonkit.cli import data_cmd

    assert (data_cmd.DEFAULT_TEACHER, data_cmd.TEACHER_PLUGIN) == ("mediapipe_selfie", "toonkit-mediapipe")


def test_cli_writes_masks_with_a_registered_masker(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "masks"
    proc = subprocess.run([sys.executable, "-m", "toonkit", "data", "masks", str(photos), "-o", str(out),
                           "--teacher", "unet", "--threshold", "0.5"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 2 of 2 masks" in proc.stdout
    assert set(np.unique(read(out / "sub" / "b.png")).tolist()) <= {0, 255}
    bad = subprocess.run([sys.executable, "-m", "toonkit", "data", "masks", str(photos), "-o", str(out),
                          "--teacher", "unett"], capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2
    assert "unknown masker 'unett'; did you mean 'unet'" in bad.stderr
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    failed = subprocess.run([sys.executable, "-m", "toonkit", "data", "masks", str(photos), "-o", str(out),
                             "--teacher", "unet", "--overwrite"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode == 1
    assert f"toonkit data masks: {photos / 'broken.jpg'}: cannot decode" in failed.stderr
    assert "wrote 2 of 3 masks" in failed.stderr and "1 failed" in failed.stderr


def test_missing_teacher_weights_are_a_usage_error(photos: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A masker whose model file is missing exits 2 (as `translate` does), not 1."""
    from toonkit.plugins import get_registry

    if ("masker", "mediapipe_selfie") not in get_registry():
        pytest.skip("needs the toonkit-mediapipe plugin (CI runs this file again once the plugins are installed)")

    def missing(*args: object) -> None:
        raise FileNotFoundError("selfie_segmentation.tflite not found in TOONKIT_WEIGHTS_DIR")

    monkeypatch.setattr(get_registry(), "build", missing)
    with pytest.raises(TeacherError, match="cannot build masker 'mediapipe_selfie': selfie_segmentation.tflite"):
        write_masks(photos, tmp_path / "m", teacher="mediapipe_selfie")
