"""Reference points for benchmarks/suite_painted.yaml: an untrained generator and the quick start's model.

The suite scores them beside the trained models (as ``run:`` methods), so the report shows how far
training moved the style distance from where it starts (random weights) and from the two-minute quick
start. Writes ``benchmarks/results/suite_painted/baselines/{untrained,quickstart}``:

    python benchmarks/painted_baselines.py            # idempotent; the quick start trains ~3 min on 2 cores
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "suite_painted" / "baselines"


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
    untrained(OUT / "untrained")
    quickstart(OUT / "quickstart")
    print(f"baselines in {OUT}")
