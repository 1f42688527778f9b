"""The settings table of benchmarks/painted.md, from the bench reports it summarises.

    python benchmarks/painted_table.py

Reads ``results/suite_painted_sweep/results.csv`` (short runs, one change each, two seeds of the base
recipe and of CartoonGAN), ``results/suite_painted_sweep_rb4_fp32/results.csv`` (three more methods of
the same suite, trained and scored later with ``--methods``) and ``results/suite_painted/results.csv``
(the 1,200-step runs, the shipped model among them). The suites share the test photos, the reference
cartoons and the metrics, so their rows compare; training minutes compare only between rows trained on
the same CPU, which each row names. Prints one Markdown table: setting, training minutes, style
distance, LPIPS to the photo, leakage, colour drift and face redness, and for the seed pairs their mean
and half-range.
"""
from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = [("FD-VGG16", "FD-VGG16 ↓", 1), ("KID-VGG16", "KID-VGG16 ↓", 3), ("LPIPS-alex", "LPIPS to photo", 3),
           ("leakage", "leakage ↓", 3), ("leakage_rel", "leakage_rel ↓", 2), ("dE2000", "drift ΔE00 ↓", 1),
           ("da*", "face Δa* ↓", 2)]
ROWS = [  # (suite, method, what it is)
    ("suite_painted_sweep", "selfie_s0", "Selfie-GAN, base recipe, seed 0"),
    ("suite_painted_sweep", "selfie_s1", "Selfie-GAN, base recipe, seed 1"),
    ("suite_painted_sweep", "selfie_160", "Selfie-GAN, 160² crops"),
    ("suite_painted_sweep_rb4_fp32", "selfie_rb4", "Selfie-GAN, 4 residual blocks"),
    ("suite_painted_sweep_rb4_fp32", "selfie_rb4_long", "Selfie-GAN, 4 residual blocks, 1,200 adversarial steps"),
    ("suite_painted_sweep_rb4_fp32", "selfie_fp32", "Selfie-GAN, fp32 (no bf16 autocast)"),
    ("suite_painted_sweep", "cartoongan_s0", "CartoonGAN, seed 0"),
    ("suite_painted_sweep", "cartoongan_s1", "CartoonGAN, seed 1"),
    ("suite_painted", "selfie_gan", "Selfie-GAN, 1,200 adversarial steps, seed 0, shipped as `handpainted`"),
    ("suite_painted", "cartoongan", "CartoonGAN, 1,200 adversarial steps, seed 0"),
    ("suite_painted", "quickstart", "the quick start's model"),
    ("suite_painted", "untrained", "untrained generator"),
]
PAIRS = [("selfie_s0", "selfie_s1", "Selfie-GAN, base recipe, 2 seeds: mean ± half-range"),
         ("cartoongan_s0", "cartoongan_s1", "CartoonGAN, 2 seeds: mean ± half-range")]


def _read(suite: str) -> dict[str, dict[str, str]]:
    path = HERE / "results" / suite / "results.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {r["method"]: r for r in csv.DictReader(fh)}


def _num(row: dict[str, str], key: str) -> float | None:
    value = row.get(key, "")
    return float(value) if value not in ("", "nan") else None


def _machine(suite: str) -> str:
    """The CPU a report names ("AMD EPYC", "Intel Xeon"): its runs were trained there, so minutes compare
    only between rows of the same CPU."""
    path = HERE / "results" / suite / "report.md"
    for line in path.read_text().splitlines() if path.is_file() else []:
        if line.startswith("| device |"):
            name = line.split("|")[2].replace("CPU only:", "").split(",")[0]
            return " ".join(name.replace("(R)", "").replace("Processor", "").split())
    return "?"


def _minutes(row: dict[str, str]) -> str:
    value = _num(row, "train_min")
    if value is not None:
        return f"{value:.0f}"
    return "0" if row["method"] == "untrained" else "–"  # a given run: its training is not the bench's


def table() -> str:
    reports = {s: _read(s) for s in {s for s, _, _ in ROWS}}
    head = ["setting", "train min (CPU)"] + [label for _, label, _ in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for suite, method, what in ROWS:
        row = reports[suite].get(method)
        if row is None:
            continue
        cells = [f"{_num(row, k):.{d}f}" if _num(row, k) is not None else "–" for k, _, d in COLUMNS]
        minutes = _minutes(row)
        minutes += f" ({_machine(suite)})" if minutes not in ("0", "–") else ""
        lines.append(f"| {what} (`{method}`) | {minutes} | " + " | ".join(cells) + " |")
    sweep = reports["suite_painted_sweep"]
    for a, b, what in PAIRS:
        if a in sweep and b in sweep:
            cells = []
            for k, _, d in COLUMNS:
                x, y = _num(sweep[a], k), _num(sweep[b], k)
                cells.append("–" if x is None or y is None else f"{(x + y) / 2:.{d}f} ± {abs(x - y) / 2:.{d}f}")
            lines.append(f"| *{what}* | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
