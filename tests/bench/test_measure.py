"""Size/speed measurement and the output grid of the bench report."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from toonkit.bench.measure import peak_memory_mb
from toonkit.bench.plots import LABEL_H, save_grid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CPU measurement reads /proc/self (Linux)")
def test_warm_cpu_call_shows_its_memory_not_zero() -> None:
    """A call that earlier calls warmed up still needs memory: it must not read 0 MiB (as it did)."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3, padding=1))
    x = torch.rand(2, 3, 64, 64)

    def once() -> None:
        with torch.no_grad():
            net(x)

    for _ in range(3):
        once()
    value, kind = peak_memory_mb(once, torch.device("cpu"))
    assert kind == "cpu_rss_above_baseline" and value > 0.2  # two 2×8×64² fp32 activations ≈ 0.5 MiB
    value, kind = peak_memory_mb(lambda: None, torch.device("cpu"))
    assert math.isnan(value) and kind == "cpu_rss_not_measurable"  # missing, never "0"


def test_grid_has_column_headers_and_row_labels(tmp_path: Path) -> None:
    photos = -torch.ones(3, 3, 32, 32)  # black in [-1, 1]
    outputs = torch.ones(3, 3, 32, 32)
    path = save_grid(tmp_path / "grid.png", photos, [("selfie_gan", outputs), ("cartoongan", 0 * outputs)], [0, 2],
                     row_labels=["alice", "bob", "carol"])
    grid = np.asarray(Image.open(path).convert("L"))
    left = grid.shape[1] - 3 * 128
    assert grid.shape == (LABEL_H + 2 * 128, left + 3 * 128) and left > 0
    assert (grid[:LABEL_H, left:] < 128).any()  # header text over the columns
    assert (grid[LABEL_H:, :left] < 128).any()  # row labels beside the rows
    assert (grid[LABEL_H:, left + 64] == 0).all()  # the input column: black photos, unlabelled pixels


def test_quality_is_plotted_against_training_time_when_speed_was_not_measured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from toonkit.bench.plots import speed_vs_quality
    from toonkit.bench.report import _tradeoff_axis

    def result(*rows: dict[str, float]) -> SimpleNamespace:
        return SimpleNamespace(results=[SimpleNamespace(row=r) for r in rows])

    timed = result({"img_per_s_b1": 5.0, "train_min": 30.0}, {"img_per_s_b1": 9.0, "train_min": 20.0})
    assert _tradeoff_axis(timed)[0] == "img_per_s_b1"
    sweep = result({"train_min": 30.0, "eval_img_per_s": 6.0}, {"train_min": 40.0, "eval_img_per_s": 7.0})
    assert _tradeoff_axis(sweep)[0] == "train_min"
    with_nst = result({"train_min": 30.0, "eval_img_per_s": 6.0}, {"eval_img_per_s": 0.1})
    assert _tradeoff_axis(with_nst)[0] == "eval_img_per_s"

    # close values (a sweep's minutes) get a linear axis, an architecture range a log one
    import matplotlib.pyplot as plt

    figures = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figures to look at their axes
    for xs in ([22.0, 32.0, 40.0], [0.1, 6.0, 120.0]):
        speed_vs_quality(tmp_path / "sq.png", ["a", "b", "c"], xs, "x", [("FD", [70.0, 72.0, 75.0], False)])
    assert [f.axes[0].get_xscale() for f in figures] == ["linear", "log"]
    for f in figures:
        real_close(f)
