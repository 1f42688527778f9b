"""The run lock (two runs on one directory), atomic writes and their clean-up, demo data that a kill
cannot leave half-made, logs that survive a torn row, and 0/1 masks."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from toonkit.io_utils import atomic_write, remove_stale_temps
from toonkit.train.lock import LOCK_NAME, RunLock, RunLockedError

from .helpers import train_recipe

HOLD = "import sys, time; from toonkit.train.lock import RunLock\nwith RunLock(sys.argv[1]):\n" \
       "    print('locked', flush=True); time.sleep(120)\n"


def test_lock_names_the_holder_and_is_taken_over_when_it_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"in use by process {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunLock(tmp_path):  # stale: its owner is dead
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()


def test_stale_lock_file_with_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 999_999_999, "host": "x"}))
    with RunLock(tmp_path):
        pass


def test_two_runs_on_one_directory(tmp_path: Path) -> None:
    from toonkit.data import make_demo

    make_demo(tmp_path / "demo", n=6, size=32, n_test=0)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(train_recipe(tmp_path / "demo", steps=400, checkpoint_every=50)))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "toonkit", "run", str(recipe), "--out", str(out), "-q"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not (out / "checkpoints").is_dir() or not list((out / "checkpoints").glob("step_*")):
            assert first.poll() is None, first.stderr.read()
            assert time.time() < deadline
            time.sleep(0.2)
        second = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
        assert second.returncode == 2
        lines = [line for line in second.stderr.splitlines() if line.startswith("toonkit run:")]
        assert "Traceback" not in second.stderr
        assert len(lines) == 1 and f"in use by process {first.pid}" in lines[0]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    rows = (out / "logs" / "losses.csv").read_text().splitlines()
    assert len({len(r.split(",")) for r in rows[1:-1]}) <= 1  # only the first run wrote it


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def boom(fh):  # type: ignore[no-untyped-def]
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, boom)
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".x.safetensors.tmp-999999999-ab"
    live = tmp_path / f".y.safetensors.tmp-{os.getpid()}-cd"
    legacy = tmp_path / ".z.state.pt.tmp-999999999"
    for p in (dead, live, legacy):
        p.write_bytes(b"")
    assert set(remove_stale_temps(tmp_path)) == {dead, legacy}
    assert live.exists()


def test_demo_killed_mid_generation_leaves_no_half_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.data import demo

    calls = {"n": 0}
    real = demo._save

    def dies_after_five(arr, path):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt
        real(arr, path)

    monkeypatch.setattr(demo, "_save", dies_after_five)
    with pytest.raises(KeyboardInterrupt):
        demo.make_demo(tmp_path / "data", n=6, size=32, n_test=0)
    assert not (tmp_path / "data" / "photos").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_torn_log_row_is_dropped_on_resume(tmp_path: Path) -> None:
    from toonkit.train.logging import RunLogger

    (tmp_path / "losses.csv").write_text("step,phase,phase_step,time,lr,g\n1,init,1,0,,0.5\n2,in")
    logger = RunLogger(tmp_path, quiet=True, every=1, resume_step=1)
    logger.start_phase("init", 1, 3)
    logger.step(2, 2, {"g": 0.25}, None)
    logger.close()
    rows = (tmp_path / "losses.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "1", "2"]


def test_masks_stored_as_zero_one_are_read_as_person(tmp_path: Path) -> None:
    from toonkit.data.decode import load_mask

    m = np.zeros((8, 8), np.uint8)
    m[2:6, 2:6] = 1
    Image.fromarray(m).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png").sum().item() == 16
    Image.fromarray(m * 255).save(tmp_path / "m255.png")
    assert load_mask(tmp_path / "m255.png").sum().item() == 16


def test_decoded_pixel_bound_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.data.decode import DecodeError, load_rgb_tensor

    Image.new("RGB", (200, 100)).save(tmp_path / "a.png")
    monkeypatch.setenv("TOONKIT_MAX_IMAGE_PIXELS", "10000")
    with pytest.raises(DecodeError, match="TOONKIT_MAX_IMAGE_PIXELS"):
        load_rgb_tensor(tmp_path / "a.png")
    monkeypatch.setenv("TOONKIT_MAX_IMAGE_PIXELS", "20000")
    assert load_rgb_tensor(tmp_path / "a.png").shape == (3, 100, 200)
