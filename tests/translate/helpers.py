"""Tiny checkpoints and images for the translate tests (networks of a few thousand parameters)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import toonkit
from toonkit.core.checkpoint import save_checkpoint
from toonkit.methods.spec import ModelSpec
from toonkit.recipe import recipe_from_dict

GEN = {"type": "cartoongan", "base_channels": 8, "res_blocks": 1}
MASKER = {"type": "unet", "depth": 2, "base_channels": 4}


def make_checkpoint(root: Path, method: str = "selfie_gan", masker: bool = True, ema: bool = False,
                    size: int = 32, seed: int = 0, generator: dict[str, Any] | None = None,
                    spec: bool = True) -> Path:
    """A run directory holding one checkpoint of ``method`` with tiny random networks (``spec=False``:
    written as checkpoints were before they stored the model's spec, with the recipe only)."""
    torch.manual_seed(seed)
    gen = dict(generator or GEN)
    nets: dict[str, Any] = {"generator": gen}
    if masker:
        nets["masker"] = dict(MASKER)
    recipe = recipe_from_dict({"name": "tiny", "method": {"type": method}, "data": {"size": size},
                               "nets": nets})
    built = {slot: toonkit.build(kind, block["type"], **{k: v for k, v in block.items() if k != "type"})
             for slot, kind, block in [("generator", "generator", gen)] + ([("masker", "masker", MASKER)]
                                                                          if masker else [])}
    if masker:  # a few steps of learning "the person is where red is high": masks that vary in space
        net = built["masker"].train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(8):
            x = F.interpolate(torch.rand(4, 3, 4, 4) * 2 - 1, size=(size, size), mode="bilinear")
            loss = F.binary_cross_entropy_with_logits(net(x), (x[:, :1] > 0).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
    ema_nets = None
    if ema:
        ema_nets = {"generator": toonkit.build("generator", gen["type"],
                                               **{k: v for k, v in gen.items() if k != "type"})}
    save_checkpoint(root / "checkpoints", 7, "adversarial", built, {}, recipe.to_yaml(), ema=ema_nets,
                    model=ModelSpec.from_recipe(recipe).to_json() if spec else None)
    return root


def noise_image(h: int, w: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A smooth random image in ``mode`` (RGB, L, RGBA, P, I;16)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    rgb = Image.fromarray(coarse).resize((w, h), Image.BILINEAR)
    if mode == "RGB":
        return rgb
    if mode == "L":
        return rgb.convert("L")
    if mode == "RGBA":
        alpha = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
        out = rgb.convert("RGBA")
        out.putalpha(alpha)
        return out
    if mode == "P":
        return rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    if mode == "I;16":
        return Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    raise ValueError(mode)
