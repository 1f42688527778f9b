"""Pictures of a benchmark: the output grid (PIL) and matplotlib plots (bars per metric, training-loss
curves, speed against quality)."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from toonkit.bench.columns import Direction, best_of, better_arrow, better_words
from toonkit.imaging import to_uint8
from toonkit.io_utils import atomic_write

LABEL_H = 22


def _font(size: int = 14) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def _tile(image: Tensor, side: int) -> Image.Image:
    arr = to_uint8(image).permute(1, 2, 0).cpu().numpy()
    tile = Image.fromarray(arr)
    return tile if tile.size == (side, side) else tile.resize((side, side), Image.Resampling.BICUBIC)


#: grids above this many pixels are written with a 256-colour palette (see save_grid)
LARGE_GRID_PIXELS = 2_000_000


def save_grid(path: Path, photos: Tensor, columns: Sequence[tuple[str, Tensor]], rows: Sequence[int],
              min_side: int = 128, row_labels: Optional[Sequence[str]] = None) -> Path:
    """Rows: the test photos ``rows``; columns: the input, then each ``(label, outputs)``.

    A header row names each column (the method) and, with ``row_labels`` (one per photo, e.g. the file
    stems), a left margin names each row, so the picture can be read without the report. Tiles smaller
    than ``min_side`` are enlarged (bicubic) so small evaluation sizes stay visible.
    """
    side = max(min_side, photos.shape[-1])
    cols = [("input", photos), *columns]
    font = _font()
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    names = [str(row_labels[i]) for i in rows] if row_labels is not None else []
    left = min(160, int(max(measure.textlength(n, font=font) for n in names)) + 12) if names else 0
    grid = Image.new("RGB", (left + side * len(cols), LABEL_H + side * len(rows)), "white")
    draw = ImageDraw.Draw(grid)

    def fit(text: str, width: int) -> str:
        while len(text) > 1 and draw.textlength(text, font=font) > width:
            text = text[:-2] + "…"
        return text

    for c, (label, images) in enumerate(cols):
        draw.text((left + c * side + side // 2, LABEL_H // 2), fit(label, side - 4), fill="black", font=font,
                  anchor="mm")
        for r, index in enumerate(rows):
            grid.paste(_tile(images[index], side), (left + c * side, LABEL_H + r * side))
    for r, name in enumerate(names):
        draw.text((left // 2, LABEL_H + r * side + side // 2), fit(name, left - 4), fill="black", font=font,
                  anchor="mm")
    if grid.width * grid.height > LARGE_GRID_PIXELS:
        # a 256-colour dithered palette: a 12-row grid of photos at 256² drops from ~6 MB to under 2 MB, small
        # enough to commit beside its report, and the differences between methods stay visible
        grid = grid.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    atomic_write(path, lambda fh: grid.save(fh, format="PNG", optimize=True), fsync=False)
    return path


def _plt():  # noqa: ANN202 - matplotlib.pyplot, imported headless on first use
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def safe_name(column: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", column).strip("_").lower()


def bar_chart(path: Path, column: str, methods: list[str], values: list[float], higher_is_better: Direction,
              note: str = "", errors: Optional[list[float]] = None) -> Path:
    """One bar per method; the best (``higher_is_better`` None: the closest to 0) in a stronger colour."""
    plt = _plt()
    best = best_of(values, higher_is_better)
    colours = ["#d95f02" if best is not None and v == best else "#7570b3" for v in values]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(methods) + 1.5), 3.6), dpi=110)
    heights = [v if math.isfinite(v) else 0.0 for v in values]
    yerr = [e if e is not None and math.isfinite(e) else 0.0 for e in errors] if errors else None
    bars = ax.bar(methods, heights, color=colours, yerr=yerr, capsize=3 if yerr else 0)
    for bar, v in zip(bars, values):
        ax.annotate("n/a" if not math.isfinite(v) else f"{v:.3g}", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                    textcoords="offset points")
    ax.set_title(f"{column} ({better_words(higher_is_better)}){note}", fontsize=10)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    ax.margins(y=0.15)
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"), fsync=False)
    plt.close(fig)
    return path


def read_losses(csv_path: Path) -> dict[str, dict[str, list[Any]]]:
    """``{column: {"step": [...], "value": [...]}}`` plus ``_phases: {name: first step}`` from losses.csv."""
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    skip = {"step", "phase", "phase_step", "time", "lr"}
    out: dict[str, dict[str, list[Any]]] = {}
    phases: dict[str, float] = {}
    for row in rows:
        step = float(row["step"])
        phases.setdefault(row["phase"], step)
        for key, value in row.items():
            if key in skip or value in ("", None):
                continue
            series = out.setdefault(key, {"step": [], "value": []})
            series["step"].append(step)
            series["value"].append(float(value))
    out["_phases"] = {"step": list(phases.values()), "value": list(range(len(phases))),
                      "names": list(phases)}
    return out


def loss_curves(path: Path, runs: list[tuple[str, Path]]) -> Optional[Path]:
    """One panel per trained method: every loss in its losses.csv against the global step (log scale
    when all values are positive), with a line where each phase starts."""
    runs = [(name, p) for name, p in runs if p.is_file()]
    if not runs:
        return None
    plt = _plt()
    n = len(runs)
    cols = min(3, n)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.3 * nrows), dpi=110, squeeze=False)
    for ax, (name, csv_path) in zip(axes.flat, runs):
        data = read_losses(csv_path)
        phases = data.pop("_phases")
        positive = True
        for key, series in data.items():
            values = np.asarray(series["value"])
            positive &= bool((values > 0).all())
            ax.plot(series["step"], values, label=key, linewidth=1)
        for step, phase in zip(phases["step"], phases["names"]):
            ax.axvline(step, color="grey", linewidth=0.6, linestyle=":")
            ax.annotate(phase, (step, 1), xycoords=("data", "axes fraction"), xytext=(2, -3),
                        textcoords="offset points", fontsize=7, rotation=90, va="top", ha="left", color="grey")
        if positive and data:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="best")
    return _save_panels(fig, axes, n, "training losses", path)


def _save_panels(fig: Any, axes: Any, used: int, title: str, path: Path) -> Path:
    """Blank the unused panels of a grid figure, title it, save it and free it."""
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"), fsync=False)
    _plt().close(fig)
    return path


def speed_vs_quality(path: Path, methods: list[str], speed: list[float], speed_label: str,
                     quality: list[tuple[str, list[float], Direction]],
                     title: str = "speed against quality") -> Optional[Path]:
    """One panel per quality column: a cost or speed (x) against the score, each point named.

    The x axis is logarithmic when the values span more than a factor of 4 (throughputs of different
    architectures), linear otherwise, where a log axis would print overlapping minor-tick labels.
    """
    usable = [(col, vals, hib) for col, vals, hib in quality if any(math.isfinite(v) for v in vals)]
    if not usable or not any(math.isfinite(s) and s > 0 for s in speed):
        return None
    xs = [s for s in speed if math.isfinite(s) and s > 0]
    log_x = max(xs) > 4 * min(xs)
    plt = _plt()
    cols = min(3, len(usable))
    nrows = math.ceil(len(usable) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.4 * cols, 3.5 * nrows), dpi=110, squeeze=False)
    for ax, (col, values, hib) in zip(axes.flat, usable):
        for name, s, v in zip(methods, speed, values):
            if not (math.isfinite(s) and s > 0 and math.isfinite(v)):
                continue
            ax.scatter([s], [v], s=28)
            ax.annotate(name, (s, v), fontsize=7, xytext=(3, 3), textcoords="offset points")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(speed_label, fontsize=8)
        ax.set_ylabel(f"{col} ({better_arrow(hib)} better)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.margins(0.15)
    return _save_panels(fig, axes, len(usable), title, path)


__all__ = ["bar_chart", "loss_curves", "read_losses", "safe_name", "save_grid", "speed_vs_quality"]
