"""The model card a finished run carries (``<run>/README.md``): what it was trained on, how long, how it did.

A fine-tuned style is shared as a model folder (``toonkit export``), and a model without a card is a
model nobody can judge. The card is written when training finishes, from what the run knows: the method
and networks, the data counts (photos, style images, files skipped), the steps of each phase, the wall
time and the device, and the last logged losses. Scores measured later (a benchmark) are added with
:func:`write_card` ``scores=``. The licence is left for the user: toonkit cannot know the rights to
their style images.
"""
from __future__ import annotations

import csv
import datetime as _dt
from pathlib import Path
from typing import Any, Mapping

from toonkit.io_utils import atomic_write_text

CARD_FILE = "README.md"


def _last_losses(run_dir: Path) -> dict[str, str]:
    path = run_dir / "logs" / "losses.csv"
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return {}
    if not rows:
        return {}
    last = rows[-1]
    skip = {"step", "phase", "phase_step", "time", "lr"}
    return {k: v for k, v in last.items() if k not in skip and v not in ("", None)}


def _wall_minutes(run_dir: Path) -> float | None:
    path = run_dir / "logs" / "losses.csv"
    try:
        with open(path, newline="") as fh:
            times = [float(r["time"]) for r in csv.DictReader(fh) if r.get("time")]
    except (OSError, ValueError, KeyError):
        return None
    return (times[-1] - times[0]) / 60 if len(times) > 1 else None


def card_text(run_dir: Path, recipe: Any, counts: Mapping[str, int], steps: Mapping[str, int], device: str,
              scores: Mapping[str, str] | None = None) -> str:
    """The card's Markdown (front matter for the Hugging Face Hub, then the sections)."""
    spec = recipe.spec
    name = spec.name
    nets = "; ".join(f"{slot}: `{block['type']}`" + (f" ({', '.join(f'{k}={v}' for k, v in block.items() if k != 'type')})"
                                                    if len(block) > 1 else "")
                     for slot, block in spec.nets.items() if block)
    minutes = _wall_minutes(run_dir)
    losses = _last_losses(run_dir)
    lines = [
        "---", "library_name: toonkit", "license: other  # fill in: the licence of these weights",
        "tags: [image-to-image, cartoonization, toonkit]", "pipeline_tag: image-to-image", "---", "",
        f"# {name}", "",
        spec.description or f"A `{spec.method['type']}` model trained with toonkit.", "",
        "Use: `toonkit translate RUN photo.jpg -o out/`, `toonkit.load(\"RUN\")`, `toonkit export RUN`, "
        "`toonkit demo RUN` (RUN: this folder, or the model folder `toonkit export` writes from it).", "",
        "## How it was trained", "",
        "| | |", "|---|---|",
        f"| method | `{spec.method['type']}` ({', '.join(f'{k}={v}' for k, v in spec.method.items() if k != 'type')}) |",
        f"| networks | {nets} |",
        f"| started from | {('`' + spec.init + '`') if spec.init else 'random initialisation'} |",
        f"| data | {counts.get('photos', 0)} photos, {counts.get('cartoons', 0)} style images"
        + (f", {counts['skipped']} unreadable files skipped" if counts.get("skipped") else "") + " |",
        f"| steps | {', '.join(f'{k} {v}' for k, v in steps.items())} (batch {spec.data.batch_size}, "
        f"{spec.data.size}² crops) |",
        f"| time | {f'{minutes:.1f} min' if minutes is not None else 'not logged'} on {device}, "
        f"finished {_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} |",
        "| recipe | `recipe.yaml` in the run folder |", "",
        "## How it does", "",
    ]
    if scores:
        lines += ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in scores.items()] + [""]
    else:
        lines += ["Not measured yet: score it with `toonkit bench` (a suite naming this run with `run:`), which "
                  "puts it beside the unchanged photo and a classic filter, with skin tone per ITA° group.", ""]
    if losses:
        lines += ["Last logged losses: " + ", ".join(f"{k} {float(v):.4g}" for k, v in losses.items()) + ".", ""]
    lines += ["## Data and licence", "",
              "Fill in: where the photos and the style images come from and what their licences allow. "
              "The weights carry whatever rights the training images give.", ""]
    return "\n".join(lines)


def write_card(run_dir: str | Path, recipe: Any, counts: Mapping[str, int], steps: Mapping[str, int],
               device: str, scores: Mapping[str, str] | None = None) -> Path:
    """Write (atomically) ``<run_dir>/README.md``; returns its path."""
    run_dir = Path(run_dir)
    path = run_dir / CARD_FILE
    atomic_write_text(path, card_text(run_dir, recipe, counts, steps, device, scores))
    return path
