"""Kill -9 mid-run, resume, and end bitwise equal to the uninterrupted run; Ctrl-C saves and exits 130."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from toonkit.data import make_demo
from toonkit.core import checkpoint as ckpt

from .helpers import tiny_recipe

STEPS = 4


def write_recipe(tmp_path: Path, demo: Path, **train) -> Path:  # type: ignore[no-untyped-def]
    recipe = tiny_recipe("selfie_gan", demo, steps=STEPS, checkpoint_every=2, keep_checkpoints=50, **train)
    path = tmp_path / "tiny.yaml"
    data = recipe.to_dict()
    data["data"]["workers"] = 1  # the stream must not depend on worker processes
    path.write_text(yaml.safe_dump(data))
    return path


def run(recipe: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toonkit", "run", str(recipe), "--out", str(out), "-q", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    c = ckpt.read_checkpoint(run_dir)
    assert c.step == 3 * STEPS
    return {f"{n}/{k}": v for n, sd in c.nets.items() for k, v in sd.items()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo(root, n=6, size=40, seed=0)
    return root


def test_sigkill_then_resume_is_bitwise_identical(demo: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, demo)
    full = tmp_path / "full"
    proc = run(recipe, full)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()

    killed = tmp_path / "killed"
    proc = run(recipe, killed)
    deadline = time.time() + 600
    # kill once a checkpoint inside the masker phase exists: the resumed run crosses a phase boundary
    while time.time() < deadline:
        found = ckpt.list_checkpoints(killed)
        if found and int(found[-1].stem.split("_")[1]) >= STEPS + 2:
            break
        if proc.poll() is not None:
            pytest.fail("run ended before it could be killed: " + proc.stderr.read())
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.read_checkpoint(killed).step < 3 * STEPS, "the run finished before it was killed"
    proc = run(recipe, killed, "--resume")
    assert proc.wait(timeout=600) == 0, proc.stderr.read()

    a, b = final_weights(full), final_weights(killed)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"resumed run differs in {different[:5]}"
    rows = (killed / "logs" / "losses.csv").read_text().splitlines()[1:]
    steps = [int(r.split(",")[0]) for r in rows]
    assert steps == sorted(set(steps)), "a resumed run must not log a step twice"


def test_ctrl_c_saves_a_checkpoint_and_exits_130(demo: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, demo, checkpoint_seconds=None)
    out = tmp_path / "run"
    proc = run(recipe, out, "train.checkpoint_every=1000")
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "logs" / "losses.csv").exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=300) == 130, proc.stderr.read()
    found = ckpt.list_checkpoints(out)
    assert found, "Ctrl-C must leave a checkpoint"
    proc = run(recipe, out, "--resume", "train.checkpoint_every=1000")
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert ckpt.read_checkpoint(out).step == 3 * STEPS


def test_checkpoints_load_without_pickle(demo: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, demo)
    proc = run(recipe, tmp_path / "run", "train.phases.init.steps=2", "train.phases.masker.steps=0",
               "train.phases.adversarial.steps=0")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    last = ckpt.list_checkpoints(tmp_path / "run")[-1]
    state = ckpt.read_state(last)  # torch.load(weights_only=True) inside
    assert state["global_step"] == 2 and "rng" in state
    # a safetensors file: a little-endian header length, then that many bytes of JSON (a pickle is neither;
    # its first byte, 0x80, can also be the header length's low byte, so that alone proves nothing)
    raw = last.read_bytes()
    header = int.from_bytes(raw[:8], "little")
    assert 8 + header <= len(raw) and "__metadata__" in json.loads(raw[8:8 + header])
    assert os.path.getsize(last.with_name(last.name.replace(".safetensors", ".state.pt"))) > 0
