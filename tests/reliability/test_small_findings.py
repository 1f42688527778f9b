"""The smaller findings of the hostile-user probe, one case each: a local folder shadowing a registered
model, integer weights, non-finite or out-of-range export options, folders that cannot be listed."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from toonkit.cli.main import main



def _photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), (200, 100, 50)).save(path)
    return path


def _one_line(err: str, command: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(f"toonkit {command}:")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


def test_a_local_folder_does_not_silently_shadow_a_registered_model(model_folder: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from toonkit.pretrained import SHIPPED

    caplog.set_level(logging.INFO, logger="toonkit")
    shutil.copytree(model_folder, tmp_path / "handpainted")
    monkeypatch.chdir(tmp_path)
    photo = _photo(tmp_path / "a.png")
    assert main(["translate", "handpainted", str(photo), "-o", "out", "-q"]) == 0
    err = capsys.readouterr().err
    assert str(SHIPPED / "handpainted") in err  # the registered model translated
    assert any("./handpainted" in r.getMessage() for r in caplog.records), "the folder was passed over silently"
    assert main(["translate", "./handpainted", str(photo), "-o", "out2", "-q"]) == 0
    assert str(SHIPPED) not in capsys.readouterr().err  # written as a path, the folder is used


def test_integer_weights_are_refused(model_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "m"
    shutil.copytree(model_folder, folder)
    tensors = load_file(folder / "model.safetensors")
    tensors = {k: (v * 100).to(torch.int16) if v.is_floating_point() else v for k, v in tensors.items()}
    save_file(tensors, str(folder / "model.safetensors"))
    rc = main(["translate", str(folder), str(_photo(tmp_path / "a.png")), "-o", str(tmp_path / "out"), "-q"])
    line = _one_line(capsys.readouterr().err, "translate")
    assert rc == 2 and "int16" in line, line


def test_integer_weights_in_a_checkpoint_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from toonkit.core.checkpoint import read_checkpoint, save_checkpoint

    from .helpers import tiny_run

    ckpt = read_checkpoint(tiny_run(tmp_path / "run"))
    state = {k: (v * 100).to(torch.int16) for k, v in ckpt.nets["generator"].items()}

    class Holder(torch.nn.Module):  # saves ``state`` as it is
        def state_dict(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            return state

    run = tmp_path / "int_run"
    save_checkpoint(run / "checkpoints", 1, "adversarial", {"generator": Holder()}, {}, ckpt.recipe_yaml)
    rc = main(["translate", str(run), str(_photo(tmp_path / "a.png")), "-o", str(tmp_path / "out"), "-q"])
    line = _one_line(capsys.readouterr().err, "translate")
    assert rc == 2 and "int16" in line, line


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_tolerance_must_be_a_finite_number(value: str, run_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    rc = main(["export", str(run_dir), "-o", str(tmp_path / "m.pt"), f"--tolerance={value}"])
    line = _one_line(capsys.readouterr().err, "export")
    assert rc == 2 and "--tolerance" in line
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("opset", ["999", "0", "-3"])
def test_opset_out_of_range_is_one_line(opset: str, run_dir: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("onnx")
    rc = main(["export", str(run_dir), "-o", str(tmp_path / "m.onnx"), "--opset", opset])
    line = _one_line(capsys.readouterr().err, "export")
    assert rc == 2 and "--opset" in line
    assert not (tmp_path / "m.onnx").exists()


def _as_user(*args: str) -> subprocess.CompletedProcess:
    """``toonkit ARGS`` without the right to ignore file permissions (as an ordinary user would run it)."""
    cmd = [sys.executable, "-m", "toonkit", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_unreadable_subfolders_are_reported(run_dir: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    _photo(photos / "a.png")
    _photo(photos / "locked" / "b.png")
    (photos / "locked").chmod(0)
    try:
        done = _as_user("translate", str(run_dir), str(photos), "-o", str(tmp_path / "out"), "-q")
    finally:
        (photos / "locked").chmod(0o755)
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
    assert (tmp_path / "out" / "a.png").is_file()
    assert any("locked" in line and "Permission denied" in line for line in done.stderr.splitlines()), done.stderr


def test_an_unlistable_input_folder_is_one_line(run_dir: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    _photo(photos / "a.png")
    photos.chmod(0)
    try:
        done = _as_user("translate", str(run_dir), str(photos), "-o", str(tmp_path / "out"), "-q")
    finally:
        photos.chmod(0o755)
    assert "Traceback" not in done.stderr and done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("toonkit translate:")]
    assert len(lines) == 1 and "Permission denied" in lines[0], done.stderr
