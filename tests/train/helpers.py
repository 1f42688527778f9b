"""Tiny recipes so every method trains a couple of steps per phase in seconds on a CPU."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from toonkit.recipe import Recipe, recipe_from_dict

TINY_NETS: dict[str, dict[str, Any]] = {
    "selfie_gan": {"generator": {"type": "cartoongan", "base_channels": 8, "res_blocks": 1},
                   "discriminator": {"type": "cartoongan", "base_channels": 8},
                   "masker": {"type": "unet", "depth": 2, "base_channels": 8},
                   "feature": {"type": "vgg", "arch": "vgg16", "layer": "relu2_2", "weights": "random"}},
    "cartoongan": {"generator": {"type": "cartoongan", "base_channels": 8, "res_blocks": 1},
                   "discriminator": {"type": "cartoongan", "base_channels": 8},
                   "feature": {"type": "vgg", "arch": "vgg16", "layer": "relu2_2", "weights": "random"}},
    "cyclegan": {"generator": {"type": "resnet", "base_channels": 8, "res_blocks": 1},
                 "generator_ba": {"type": "resnet", "base_channels": 8, "res_blocks": 1},
                 "discriminator": {"type": "patchgan", "base_channels": 8, "n_layers": 2},
                 "discriminator_a": {"type": "patchgan", "base_channels": 8, "n_layers": 2}},
    "pix2pix": {"generator": {"type": "unet", "base_channels": 8, "depth": 5},
                "discriminator": {"type": "patchgan", "base_channels": 8, "n_layers": 2, "in_channels": 6}},
    # a plugin's method (toonkit-animegan), in the plugin matrix where it is installed
    "animegan": {"generator": {"type": "animegan", "base_channels": 8},
                 "discriminator": {"type": "animegan", "base_channels": 16},
                 "feature": {"type": "vgg", "arch": "vgg16", "layer": "relu2_2", "weights": "random"}},
}


def tiny_methods() -> list[str]:
    """The trainable methods with tiny networks here that the registry holds (plugins' where installed)."""
    import toonkit

    registry = toonkit.get_registry()
    return sorted(m for m in TINY_NETS if ("method", m) in registry)


def tiny_recipe(method: str, data_root: Path, steps: int = 2, **train: Any) -> Recipe:
    """``method`` with tiny networks on a demo set at 32², ``steps`` steps of each of its phases."""
    from toonkit.methods.assemble import method_class

    cls = method_class(method)
    data: dict[str, Any] = {
        "name": f"tiny_{method}",
        "method": {"type": method},
        "data": {"photos": str(data_root / "photos"), "cartoons": str(data_root / "cartoons"),
                 "size": 32, "batch_size": 2, "workers": 0},
        "nets": copy.deepcopy(TINY_NETS[method]),
        "train": {"seed": 0, "device": "cpu", "amp": "off", "log_every": 1, "sample_every": 100,
                  "sample_count": 2, "checkpoint_seconds": None,
                  "phases": {p.name: {"steps": steps} for p in cls.phases}, **train},
    }
    if any(p.masks for p in cls.phases):
        data["data"]["masks"] = str(data_root / "masks")
    return recipe_from_dict(data, f"<tiny {method}>")
