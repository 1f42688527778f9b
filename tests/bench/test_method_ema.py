"""A suite method can be translated with the raw generator weights instead of their EMA."""
from __future__ import annotations

from pathlib import Path

import torch

import toonkit
from toonkit.bench.methods import MethodPlan, load_translator
from toonkit.recipe import recipe_from_dict
from toonkit.core.checkpoint import save_checkpoint

GEN = {"type": "cartoongan", "base_channels": 4, "res_blocks": 1}


def make_checkpoint(root: Path) -> Path:
    """A CartoonGAN run whose generator and its EMA copy hold different random weights."""
    recipe = recipe_from_dict({"name": "tiny", "method": {"type": "cartoongan"}, "data": {"size": 32},
                               "nets": {"generator": GEN}})
    build = lambda: toonkit.build("generator", "cartoongan", base_channels=4, res_blocks=1)  # noqa: E731
    save_checkpoint(root / "checkpoints", 3, "adversarial", {"generator": build()}, {}, recipe.to_yaml(),
                    ema={"generator": build()})
    return root


def test_ema_false_translates_with_the_raw_weights(tmp_path: Path) -> None:
    run = make_checkpoint(tmp_path / "run")
    photo = torch.rand(1, 3, 32, 32) * 2 - 1
    outputs = {}
    for ema in (True, False):
        plan = MethodPlan("m", "run", None, run, "fp", "cartoongan", ema=ema)
        tr = load_translator(plan, "cpu", 32)
        outputs[ema] = tr.translate(photo)
        assert ("EMA" in tr.source) == ema
    assert not torch.allclose(outputs[True], outputs[False])
