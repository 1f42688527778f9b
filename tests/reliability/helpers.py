"""Small things the reliability tests share: a tiny trained-looking run, tiny recipes, file hashes."""
from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path
from typing import Any

import torch

import toonkit
from toonkit.recipe import recipe_from_dict
from toonkit.core.checkpoint import save_checkpoint

GEN = {"type": "cartoongan", "base_channels": 4, "res_blocks": 1}


def tiny_run(root: Path, size: int = 32) -> Path:
    """A CartoonGAN run directory with one checkpoint of a random generator (a few hundred weights)."""
    torch.manual_seed(0)
    recipe = recipe_from_dict({"name": "tiny", "method": {"type": "cartoongan"}, "data": {"size": size},
                               "nets": {"generator": dict(GEN)}})
    gen = toonkit.build("generator", "cartoongan", base_channels=4, res_blocks=1)
    save_checkpoint(root / "checkpoints", 1, "adversarial", {"generator": gen}, {}, recipe.to_yaml())
    return root


def train_recipe(data_root: Path, steps: int = 2, **train: Any) -> dict[str, Any]:
    """A CartoonGAN recipe dict that trains ``steps`` per phase on ``data_root`` in a second or two."""
    return {
        "name": "tiny_rel",
        "method": {"type": "cartoongan"},
        "data": {"photos": str(data_root / "photos"), "cartoons": str(data_root / "cartoons"),
                 "size": 32, "batch_size": 2, "workers": 0},
        "nets": {"generator": dict(GEN), "discriminator": {"type": "cartoongan", "base_channels": 4},
                 "feature": {"type": "vgg", "arch": "vgg16", "layer": "relu1_2", "weights": "random"}},
        "train": {"seed": 0, "device": "cpu", "amp": "off", "log_every": 1, "sample_every": 1000,
                  "sample_count": 2, "checkpoint_seconds": None, "checkpoint_every": 1,
                  "keep_checkpoints": 50, "phases": {"init": {"steps": steps}, "adversarial": {"steps": steps}},
                  **train},
    }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every regular file under ``root`` (symlinks and odd entries skipped)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if p.is_file() and not p.is_symlink() and os.access(p, os.R_OK):
                out[str(p.relative_to(root))] = digest(p)
    return out


def write_plugin(root: Path, name: str, source: str) -> None:
    """Install module ``toonkit_<name>`` as distribution ``toonkit-<name>`` (entry point ``name``)."""
    module = f"toonkit_rel_{name}"
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"toonkit_rel_{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: toonkit-rel-{name}\nVersion: 0.1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[toonkit]\n{name} = {module}\n", encoding="utf-8")
