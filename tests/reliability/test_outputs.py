"""Where outputs go and what a failed write leaves: a full disk during a checkpoint save, ``-o`` under a
folder without search permission, ``-o`` naming a file or nothing, ``--overwrite`` of a model folder that
is not one, tampered model configs, unbounded demo sizes, and the permissions of written files."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from toonkit.cli.main import main

from .helpers import snapshot, tiny_run, train_recipe


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("run"))


def _one_line(err: str, command: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(f"toonkit {command}:")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


def test_disk_full_during_a_checkpoint_save_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    from toonkit.core import checkpoint as ckpt
    from toonkit.data import make_demo

    make_demo(tmp_path / "demo", n=4, size=32, n_test=0)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(train_recipe(tmp_path / "demo", steps=2)))
    real, calls = ckpt.save_file, {"n": 0}

    def full_on_the_third(tensors, path, metadata=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            Path(path).write_bytes(b"half")  # what a full disk leaves: part of the file, then ENOSPC
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(tensors, path, metadata=metadata)

    monkeypatch.setattr(ckpt, "save_file", full_on_the_third)
    run = tmp_path / "run"
    assert main(["run", str(tmp_path / "r.yaml"), "--out", str(run), "-q"]) == 1
    line = _one_line(capsys.readouterr().err, "run")
    assert "cannot write checkpoint" in line and "No space left on device" in line
    files = sorted(p.name for p in (run / "checkpoints").iterdir())
    # the two complete checkpoints stay, with nothing of the third (no state file, no temporary)
    assert files == [f"step_00000000{i}.{ext}" for i in (1, 2) for ext in ("safetensors", "state.pt")]


def _locked_translate(run_dir: Path, photo: Path, out: Path) -> subprocess.CompletedProcess:
    """``toonkit translate`` without the right to look into ``out``'s parent, as an ordinary user."""
    cmd = [sys.executable, "-m", "toonkit", "translate", str(run_dir), str(photo), "-o", str(out), "-q"]
    if os.geteuid() == 0:  # root ignores permissions unless it drops the capability to
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_output_under_an_untraversable_folder_is_one_line(run_dir: Path, tmp_path: Path) -> None:
    photo = tmp_path / "a.png"
    Image.new("RGB", (32, 32), (200, 100, 50)).save(photo)
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        done = _locked_translate(run_dir, photo, locked / "inner" / "out")
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "cannot look into it" in _one_line(done.stderr, "translate")
    assert not (locked / "inner" / "out").exists()


@pytest.mark.parametrize("out", ["", "afile", "afile/sub"])
def test_output_folder_that_cannot_be_one_is_refused_up_front(run_dir: Path, tmp_path: Path, out: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    (tmp_path / "afile").write_text("keep me")
    before = snapshot(tmp_path)
    assert main(["translate", str(run_dir), "a.png", "-o", out, "-q"]) == 2
    _one_line(capsys.readouterr().err, "translate")
    assert snapshot(tmp_path) == before  # `-o ""` wrote nothing into the current folder


def test_run_out_naming_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from toonkit.data import make_demo

    make_demo(tmp_path / "demo", n=4, size=32, n_test=0)  # a runnable recipe: only --out is wrong
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(train_recipe(tmp_path / "demo")))
    (tmp_path / "afile").write_text("keep me")
    assert main(["run", str(tmp_path / "r.yaml"), "--out", str(tmp_path / "afile"), "-q"]) == 2
    assert "is a file" in _one_line(capsys.readouterr().err, "run")
    assert (tmp_path / "afile").read_text() == "keep me"


def test_pretrained_overwrite_replaces_only_a_model_folder(run_dir: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    victim = tmp_path / "victim"
    shutil.copytree(run_dir, victim)
    (victim / "notes.txt").write_text("mine")
    before = snapshot(victim)
    args = ["export", str(victim), "--format", "pretrained", "--overwrite", "-o"]
    assert main([*args, str(victim)]) == 2
    assert "refusing to replace it" in _one_line(capsys.readouterr().err, "export")
    assert snapshot(victim) == before
    assert main([*args, str(tmp_path / "model")]) == 0  # a model folder, written twice: replaced
    assert main([*args, str(tmp_path / "model")]) == 0
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["README.md", "config.json",
                                                                    "model.safetensors"]


@pytest.mark.parametrize("key,value", [("size", "big"), ("size", 10**12), ("base_channels", 2**40),
                                       ("masker", {"type": {"a": 1}})])
def test_tampered_model_config_is_one_line(run_dir: Path, tmp_path: Path, key: str, value: object) -> None:
    import toonkit

    folder = toonkit.load(run_dir, device="cpu").save_pretrained(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    if key == "size":
        config[key] = value
    elif key == "masker":
        config["nets"][key] = value
    else:
        config["nets"]["generator"][key] = value
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(toonkit.ModelError, match="config.json: ") as info:
        toonkit.load(folder, device="cpu")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("flags", [["--size", "100000"], ["--n", "0"], ["--n", str(2**40)]])
def test_demo_data_sizes_are_bounded(tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "demo", str(tmp_path / "d"), *flags]) == 2
    assert "must be in" in _one_line(capsys.readouterr().err, "data")
    assert not (tmp_path / "d").exists()


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    from toonkit.io_utils import atomic_write

    mask = os.umask(0o022)
    os.umask(mask)
    atomic_write(tmp_path / "a.bin", lambda fh: fh.write(b"x"))
    # not mkstemp's private 0600: a translated image or checkpoint is shared like any file the user makes
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("size", ["lots", "20", "1.5mb", "mb"])
def test_demo_bad_max_file_size_is_one_line(size: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec  # as if the demo extra were installed: checked before serving
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "gradio" else real_find_spec(name, *a))
    assert main(["demo", "--max-file-size", size]) == 2
    assert "--max-file-size" in _one_line(capsys.readouterr().err, "demo")
