"""SIGKILL soak: kill a shrunk quick start again and again, resume after every kill, and check that no
checkpoint is ever corrupt and that the final weights equal an uninterrupted run's, bit for bit.

Half of the kills are timed on checkpoint temporaries (the moment a ``.tmp-`` file appears in
``checkpoints/``), the others at a random moment, demo-data generation included.

    python benchmarks/soak.py --kills 20            # the recorded run (benchmarks/reliability.md)
    python benchmarks/soak.py --kills 3 --steps 6   # a quick check

Exit code 0 when every check held; the figures are printed and written to ``<work>/soak.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHRINK = {  # the quick start at 32 px with networks of a few thousand weights
    "data": {"demo_n": 8, "demo_size": 40, "size": 32, "load_size": 36, "batch_size": 2, "workers": 0},
    "nets": {"generator": {"type": "cartoongan", "base_channels": 8, "res_blocks": 1},
             "discriminator": {"type": "cartoongan", "base_channels": 8},
             "masker": {"type": "unet", "depth": 2, "base_channels": 8}},
    "train": {"device": "cpu", "amp": "off", "checkpoint_every": 2, "checkpoint_seconds": None,
              "keep_checkpoints": 3, "sample_every": 1000, "log_every": 1},
}


def make_recipe(work: Path, steps: int) -> Path:
    data = yaml.safe_load((ROOT / "recipes" / "quickstart.yaml").read_text())
    for section, values in SHRINK.items():
        data[section].update(values)
    data["train"]["phases"] = {p: {"steps": steps} for p in ("init", "masker", "adversarial")}
    path = work / "soak.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start(recipe: Path, out: Path, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "toonkit", "run", str(recipe), "--out", str(out), "-q"]
    return subprocess.Popen(cmd + (["--resume"] if resume else []), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def weights(run: Path) -> dict[str, torch.Tensor]:
    from toonkit.core.checkpoint import read_checkpoint

    c = read_checkpoint(run)
    return {f"{n}/{k}": v for n, sd in c.nets.items() for k, v in sd.items()}


def corrupt_checkpoints(run: Path) -> list[str]:
    """Complete checkpoints (``step_*.safetensors``) whose weights or state do not load."""
    from toonkit.core.checkpoint import CheckpointError, list_checkpoints, read_checkpoint, read_state

    bad = []
    for path in list_checkpoints(run):
        try:
            read_checkpoint(path)
            read_state(path)
        except CheckpointError as exc:
            bad.append(f"{path.name}: {exc}")
    return bad


def kill_when(proc: subprocess.Popen, run: Path, on_temp: bool, rng: random.Random, limit: float) -> str:
    """SIGKILL ``proc``: on the first checkpoint temporary seen, or after a random delay."""
    t0 = time.monotonic()
    delay = rng.uniform(0.5, limit)
    while proc.poll() is None:
        elapsed = time.monotonic() - t0
        if on_temp:
            ckpts = run / "checkpoints"
            if ckpts.is_dir() and any(".tmp-" in p.name for p in ckpts.iterdir()):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return "temp"
            if elapsed > 4 * limit:  # no temporary caught in time: fall back to a timed kill
                on_temp = False
        elif elapsed >= delay:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return "timed"
        time.sleep(0.001 if on_temp else 0.02)
    return "finished"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--steps", type=int, default=16, help="steps per phase (3 phases)")
    p.add_argument("--seed", type=int, default=0, help="seeds the kill timings")
    p.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="toonkit-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    recipe = make_recipe(work, args.steps)

    t0 = time.monotonic()
    ref = work / "reference"
    proc = start(recipe, ref, resume=False)
    if proc.wait() != 0:
        print(proc.stderr.read(), file=sys.stderr)
        return 1
    ref_seconds = time.monotonic() - t0

    from toonkit.core.checkpoint import list_checkpoints

    run = work / "killed"
    kinds: dict[str, int] = {"temp": 0, "timed": 0}
    corrupt: list[str] = []
    failed_resumes: list[str] = []
    kills = 0
    while kills < args.kills:
        proc = start(recipe, run, resume=bool(list_checkpoints(run)))
        how = kill_when(proc, run, on_temp=kills % 2 == 1, rng=rng, limit=max(2.0, ref_seconds / 3))
        if how == "finished":
            if proc.returncode != 0:
                failed_resumes.append(proc.stderr.read().strip().splitlines()[-1:][0] if proc.stderr else "?")
            break  # the run ended before the next kill: restart is no longer possible
        kills += 1
        kinds[how] += 1
        corrupt += corrupt_checkpoints(run)
    proc = start(recipe, run, resume=bool(list_checkpoints(run)))
    if proc.wait() != 0:
        failed_resumes.append(proc.stderr.read().strip().splitlines()[-1])
    a, b = weights(ref), weights(run)
    different = sorted(k for k in a if k not in b or not torch.equal(a[k], b[k]))
    summary = {"kills": kills, "kills_on_temp_files": kinds["temp"], "timed_kills": kinds["timed"],
               "corrupt_checkpoints": len(corrupt), "failed_resumes": len(failed_resumes),
               "final_weights_bitwise_equal": not different, "tensors_compared": len(a),
               "reference_seconds": round(ref_seconds, 1), "total_seconds": round(time.monotonic() - t0, 1),
               "steps_per_phase": args.steps, "work": str(work)}
    (work / "soak.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    for line in corrupt + failed_resumes + different[:5]:
        print("  ", line, file=sys.stderr)
    ok = not corrupt and not failed_resumes and not different and kills == args.kills
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
