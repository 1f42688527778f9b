"""A metric registered by a plugin is named in a suite like a built-in one; trained runs are benched as given."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml

import toonkit
from toonkit.metrics import EvalContext, Metric
from toonkit.recipe import recipe_from_dict
from toonkit.core.checkpoint import save_checkpoint

GEN = {"type": "cartoongan", "base_channels": 8, "res_blocks": 1}


class MeanBrightness(Metric):
    """Mean brightness of the outputs on the 0-1 scale (a stand-in for a plugin's metric)."""

    name = "mean_brightness"
    higher_is_better = True

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def columns(self) -> tuple[str, ...]:
        return ("brightness",)

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        return {"brightness": self.scale * float((ctx.get_outputs() + 1).mean() / 2)}


@pytest.fixture
def plugin_metric() -> None:
    registry = toonkit.get_registry()
    before = registry.snapshot()
    registry.add("metric", "mean_brightness", MeanBrightness, plugin="test-bench-plugin")
    yield
    registry.restore(before)


def _run_dir(root: Path) -> Path:
    torch.manual_seed(0)
    recipe = recipe_from_dict({"name": "tiny", "method": {"type": "cartoongan"}, "data": {"size": 32},
                               "nets": {"generator": dict(GEN)}})
    gen = toonkit.build("generator", "cartoongan", base_channels=8, res_blocks=1)
    save_checkpoint(root / "checkpoints", 3, "adversarial", {"generator": gen}, {}, recipe.to_yaml())
    return root


def test_plugin_metric_and_given_run(tmp_path: Path, plugin_metric: None) -> None:
    from toonkit.bench import run_suite

    _run_dir(tmp_path / "run")  # a trained run given by path: benched as it is
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "plugin",
        "data": {"demo": {"n": 6, "size": 32, "n_test": 3}, "reference_every": 3},
        "methods": {"mine": {"run": "run"}},
        "eval": {"size": 32, "metrics": [{"type": "mean_brightness", "scale": 2.0},
                                         {"type": "background_leakage", "erode": 3}], "speed": None},
    }))
    result = run_suite(suite, out=tmp_path / "out")
    assert result.trained == [] and not (tmp_path / "out" / "work" / "runs").exists()
    with open(tmp_path / "out" / "results.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["method"] == "mine" and row["method_type"] == "cartoongan"
    assert 0 < float(row["brightness"]) <= 2 and float(row["leakage"]) > 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "### mean_brightness" in report and "brightness (higher is better)" in report
    assert "Settings: scale=2.0." in report
