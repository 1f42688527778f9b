"""The ``animegan`` method through toonkit's own trainer, recipe validation and translation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import toonkit
import toonkit.plugins
from toonkit.recipe import RecipeError, load_recipe

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "animegan.yaml"
TINY = [
    "data.photos=null", "data.cartoons=null", "data.demo=true", "data.demo_n=4", "data.demo_size=32",
    "data.size=32", "data.batch_size=2", "data.workers=0",
    "train.device=cpu", "train.amp='off'", "train.channels_last=false",
    "train.phases.init.steps=2", "train.phases.adversarial.steps=2",
    "nets.generator.base_channels=8", "nets.discriminator.base_channels=16",
    "nets.feature.arch=vgg16", "nets.feature.layer=relu2_2", "nets.feature.weights=random",
]


def toonkit_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toonkit", *args], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, **(env or {})})


def test_recipe_validates_with_the_authors_settings() -> None:
    recipe = load_recipe(RECIPE)
    assert recipe.method == "animegan"
    assert recipe.to_dict()["method"]["w_adv"] == 300.0 and recipe.to_dict()["method"]["w_color"] == 10.0
    assert recipe.to_dict()["losses"]["discriminator"] == {"type": "edge_promoting", "mode": "lsgan"}
    assert recipe.to_dict()["nets"]["generator"]["res_blocks"] == 4


def test_recipe_with_the_plugin_disabled_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recipe's `requires:` names the package; installed but disabled, the hint says so (installing it
    again would not help)."""
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "animegan")
    toonkit.plugins.reset()
    try:
        with pytest.raises(RecipeError) as err:
            load_recipe(RECIPE)
    finally:
        toonkit.plugins.reset()
    (line,) = [p for p in err.value.problems if "method.type" in p]
    assert "unknown method 'animegan'" in line and "toonkit-animegan" in line
    assert "installed but disabled by TOONKIT_DISABLE_PLUGINS" in line


def test_listed_by_toonkit_plugins() -> None:
    proc = toonkit_cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {p["name"]: p for p in json.loads(proc.stdout)}
    assert listed["animegan"]["error"] is None
    assert listed["animegan"]["components"] == {
        "generator": ["animegan"], "discriminator": ["animegan"],
        "loss": ["animegan_gray_style", "animegan_color", "total_variation"], "method": ["animegan"]}


def test_trains_both_phases_and_translates(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = toonkit_cli("run", str(RECIPE), *TINY, "--out", str(run), "-q")
    assert proc.returncode == 0, proc.stderr[-3000:]
    header, *rows = [line.split(",") for line in (run / "logs" / "losses.csv").read_text().splitlines()]
    assert {"content", "d", "g_adv", "style", "color", "tv"} <= set(header)
    last = dict(zip(header, rows[-1]))
    assert last["phase"] == "adversarial"
    assert all(float(last[k]) >= 0 for k in ("d", "content", "style", "color", "tv"))
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
        "adversarial_000000004.png", "init_000000002.png"]
    toon = toonkit.load(run, device="cpu")
    out = toon.generate(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()
