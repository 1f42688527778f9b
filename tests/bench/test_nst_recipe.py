"""The bench builds neural style transfer from its whole resolved recipe (one assembly path).

It used to take only ``nets.feature.weights`` from the recipe and build the slot default otherwise, so a
recipe's ``arch: vgg19`` validated and a VGG16 ran.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toonkit.bench.methods import MethodPlan, load_translator
from toonkit.recipe import load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "nst.yaml"


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_bench_nst_builds_the_recipes_feature(tmp_path: Path, arch: str) -> None:
    style = tmp_path / "style.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(style)
    recipe = load_recipe(RECIPE, [f"nets.feature.arch={arch}", "nets.feature.weights=random",
                                  "method.steps=2"])
    plan = MethodPlan("nst", "optimise", recipe, None, "", "nst", style=style)
    tr = load_translator(plan, "cpu", 32)
    feature = tr.nst_method.net["feature"]
    n_convs = sum(1 for m in feature.modules() if m.__class__.__name__ == "Conv2d")
    # up to relu5_1: VGG16 has 2+2+3+3+1 convolutions there, VGG19 2+2+4+4+1
    assert feature.arch == arch and n_convs == {"vgg16": 11, "vgg19": 13}[arch]
    assert tr.nst_method.steps == 2
