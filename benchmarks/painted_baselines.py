"""Reference points for the painted suites: the previous release's model, an untrained generator and the
quick start's model.

The suites score them beside the trained models (as ``run:`` methods): ``handpainted_v1`` is the
``handpainted`` model shipped before version 2 (read from git history, commit ``V1_COMMIT``), so the
report shows the new model's scores beside the old; ``untrained`` and ``quickstart`` show where training
starts. Writes ``benchmarks/results/suite_painted/baselines/{handpainted_v1,untrained,quickstart}``:

    python benchmarks/painted_baselines.py            # idempotent; the quick start trains ~3 min on 2 cores
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "suite_painted" / "baselines"


#: the last commit whose toonkit/pretrained/handpainted/ holds the first release of the model
V1_COMMIT = "a89e703"
MODEL_FILES = ("config.json", "model.safetensors", "README.md")


def handpainted_v1(out: Path) -> None:
    """The previous release's model folder, as git stored it."""
    if all((out / name).is_file() for name in MODEL_FILES):
        return
    out.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        data = subprocess.run(["git", "show", f"{V1_COMMIT}:toonkit/pretrained/handpainted/{name}"], cwd=REPO,
                              check=True, capture_output=True).stdout
        (out / name).write_bytes(data)


def untrained(out: Path) -> None:
    """A checkpoint of selfie_gan_cpu's networks at their initialisation (seed 0), step 0."""
    from toonkit.recipe import load_recipe
    from toonkit.core.checkpoint import list_checkpoints, save_checkpoint
    from toonkit.methods.assemble import build_block

    if list_checkpoints(out):
        return
    # no step of any phase: the report then lists no training for it
    recipe = load_recipe(REPO / "recipes" / "selfie_gan_cpu.yaml",
                         ["nets.feature.weights=random", "train.phases.init.steps=0", "train.phases.masker.steps=0",
                          "train.phases.adversarial.steps=0"])
    torch.manual_seed(0)
    nets = {slot: build_block(slot, recipe.spec.nets[slot]) for slot in ("generator", "masker")}
    save_checkpoint(out / "checkpoints", 0, "init", nets, {}, recipe.to_yaml())


def quickstart(out: Path) -> None:
    """``toonkit run recipes/quickstart.yaml`` (the README's first command), once."""
    from toonkit.core.checkpoint import list_checkpoints

    if list_checkpoints(out):
        return
    subprocess.run([sys.executable, "-m", "toonkit", "run", str(REPO / "recipes" / "quickstart.yaml"),
                    "--out", str(out), "-q"], check=True)


if __name__ == "__main__":
    handpainted_v1(OUT / "handpainted_v1")
    untrained(OUT / "untrained")
    quickstart(OUT / "quickstart")
    print(f"baselines in {OUT}")
