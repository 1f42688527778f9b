"""Two CPU processes with gloo under torchrun train, checkpoint from rank 0, and resume."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
import yaml

from toonkit.data import make_demo
from toonkit.core import checkpoint as ckpt

from .helpers import tiny_recipe


def test_two_process_gloo_run_and_resume(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    make_demo(demo, n=8, size=40, seed=0)
    recipe = tiny_recipe("cartoongan", demo, steps=2)
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(recipe.to_dict()))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "toonkit", "run", str(path), "--out", str(out), "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = ckpt.read_checkpoint(out)
    assert first.step == 4
    assert len(list((out / "logs").glob("events.out.tfevents.*"))) == 1  # rank 0 only
    # extend the adversarial phase and resume under torchrun again
    proc = subprocess.run(cmd + ["train.phases.adversarial.steps=4", "--resume"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = ckpt.read_checkpoint(out)
    assert second.step == 6
    changed = [k for k, v in second.nets["generator"].items() if not torch.equal(v, first.nets["generator"][k])]
    assert changed, "resumed DDP steps did not update the generator"
