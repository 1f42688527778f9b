"""Translating folders from Python: the engine `toonkit translate` runs, with progress and per-file failures."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import toonkit
from toonkit.errors import INTERRUPTED_EXIT, Interrupted, ToonkitError
from toonkit.translate.folder import SELF_OVERWRITE, plan_folder
from toonkit.translate.io import InputError
from toonkit.translate.options import TranslateOptions

from .helpers import noise_image


def test_translate_folder_reports_progress_and_skips_a_bad_file(run_dir: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    noise_image(30, 40).save(photos / "a.png")
    noise_image(36, 28, seed=1).save(photos / "sub" / "b.jpg")
    (photos / "broken.png").write_bytes(b"not an image")
    seen: list[tuple[str, str | None]] = []
    toon = toonkit.load(run_dir, device="cpu")
    report = toon.translate_folder(photos, tmp_path / "out", background="white",
                                   progress=lambda path, error: seen.append((path.name, error)))
    assert sorted(name for name, _ in seen) == ["a.png", "b.jpg", "broken.png"]
    assert dict(seen)["broken.png"].startswith("cannot decode")
    assert report.written == 2 and [p.name for p, _ in report.failed] == ["broken.png"]
    assert Image.open(tmp_path / "out" / "sub" / "b.png").size == (28, 36)  # relative path and size kept
    assert report.summary().startswith(f"translated 2 images into {tmp_path / 'out'}; 1 of 3 failed")
    again = toon.translate_folder(photos / "a.png", tmp_path / "out")  # exists: kept, nothing done
    assert again.all_kept and again.summary().startswith("all 1 outputs already exist")


def test_an_unknown_option_is_an_error_not_ignored(run_dir: Path, tmp_path: Path) -> None:
    toon = toonkit.load(run_dir, device="cpu")
    with pytest.raises(TypeError, match="unknown translation option 'backgound'; did you mean 'background'"):
        toon.translate_folder(tmp_path, tmp_path / "out", backgound="white")
    with pytest.raises(TypeError, match="unknown translation option"):
        toon.translate(noise_image(20, 20), colour="red")
    with pytest.raises(ValueError, match="size must be"):
        TranslateOptions.of(size=0)


def test_plan_never_overwrites_an_input(tmp_path: Path) -> None:
    noise_image(20, 20).save(tmp_path / "a.png")
    plan = plan_folder([tmp_path], tmp_path)  # -o is the photos' own folder
    assert plan.itself == [tmp_path / "a.png"] and not plan.todo
    with pytest.raises(InputError, match="no such file"):
        plan_folder([tmp_path / "missing"], tmp_path / "out")
    assert SELF_OVERWRITE.startswith("skipped")


def test_ctrl_c_is_a_toonkit_error_with_exit_code_130() -> None:
    from toonkit.train.trainer import TrainingInterrupted

    error = TrainingInterrupted("interrupted at step 3")
    assert isinstance(error, Interrupted) and isinstance(error, ToonkitError)
    assert error.exit_code == INTERRUPTED_EXIT == 130
