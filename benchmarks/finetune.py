"""How many style images and minutes a new style needs: fine-tune handpainted on anime faces and measure.

Runs ``benchmarks/suite_finetune.yaml`` (recipes/finetune_cpu.yaml on 10, 30, 100 and 150 anime faces,
scored on held-out selfies against held-out anime faces), then scores the 30-image run's checkpoints (one
every 100 steps) for the curve against minutes of training, and writes ``benchmarks/finetune.md`` with
both tables (and one of the 30-image run at other training seeds, when those runs are among the methods)
and ``benchmarks/results/suite_finetune/{images,minutes}.png``. The 30-image run also gets its
scores written into its model card.

    python benchmarks/finetune.py [--threads 2] [--skip-curve]

Needs ``../shared`` beside the checkout and the toonkit-mediapipe plugin (masks for the selfies). Each run
trains about half an hour on 2 CPU cores; the script resumes where it stopped (the bench's cache).
"""
from __future__ import annotations

import argparse
import csv
import math
import subprocess
import sys
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "benchmarks" / "suite_finetune.yaml"
OUT = REPO / "benchmarks" / "results" / "suite_finetune"
CURVE_OUT = REPO / "benchmarks" / "results" / "suite_finetune_curve"
REPORT = REPO / "benchmarks" / "finetune.md"
COUNTS = {"anime_10": 10, "anime_30": 30, "anime_100": 100, "anime_150": 150}
CURVE_RUN = "anime_30"
# the 30-image run trained again: other training seeds, the Gram style term on the person only, and D's
# input through the differentiable augmentation
SEED_RUNS = ("anime_30", "anime_30_seed1", "anime_30_seed2", "anime_30_person", "anime_30_person_seed1",
             "anime_30_person_seed2", "anime_30_diffaug", "anime_30_diffaug_seed1", "anime_30_diffaug_seed2",
             "anime_30_shift", "anime_30_shift_seed1", "anime_30_shift_seed2", "anime_30_gray",
             "anime_30_gray_seed1", "anime_30_gray_seed2")


def _kid_col(row: dict) -> str:
    return next(c for c in row if c.startswith("KID") and not c.endswith("_std"))


def _ratio(result, name: str):  # noqa: ANN001, ANN202 - (value, low, high) of name's KID ratio to the photo
    from toonkit.bench.zero_point import EMBEDDING, kid_ratio

    by = {r.plan.name: r for r in result.results}
    zero, r = by["photo"], by[name]
    return kid_ratio(r.embeddings[EMBEDDING].double().numpy(), zero.embeddings[EMBEDDING].double().numpy(),
                     zero.embeddings[EMBEDDING + "/references"].double().numpy())


def _skin_worst(result, name: str) -> tuple[str, float, float]:  # noqa: ANN001
    """The largest |mean ΔL*| and |mean Δa*| over the ITA° groups with at least 3 photos."""
    from toonkit.bench.zero_point import group_means

    worst = []
    for col in ("skin_dL*", "skin_da*"):
        means = group_means(result, name, col)
        vals = [(g, m) for g, (n, m) in means.items() if n >= 3 and m is not None]
        g, m = max(vals, key=lambda gm: abs(gm[1])) if vals else ("—", math.nan)
        worst.append((g, m))
    return f"{worst[0][0]} / {worst[1][0]}", worst[0][1], worst[1][1]


def _minutes_at(run_dir: Path) -> "Callable[[int], float]":
    """Training minutes of a run at any step, interpolated between its logged steps (from the first row)."""
    import numpy as np

    with open(run_dir / "logs" / "losses.csv", newline="") as fh:
        rows = [(int(r["step"]), float(r["time"])) for r in csv.DictReader(fh)]
    steps = np.array([s for s, _ in rows], dtype=float)
    minutes = np.array([(t - rows[0][1]) / 60 for _, t in rows])
    # the first row is logged after some steps: add their time at the run's mean pace, so step 0 is minute 0
    pace = minutes[-1] / max(steps[-1] - steps[0], 1)
    minutes = minutes + steps[0] * pace
    steps, minutes = np.concatenate([[0.0], steps]), np.concatenate([[0.0], minutes])
    return lambda step: float(np.interp(step, steps, minutes))


def _name_the_run(report: Path) -> None:
    """Write the curve report's checkpoint paths as ``RUN/...``: they lie in the other suite's work folder."""
    run = (Path("results") / OUT.name / "work" / "runs" / CURVE_RUN).as_posix() + "/"
    text = report.read_text().replace(run, "RUN/")
    note = f"`RUN` stands for the {CURVE_RUN} run of `results/{OUT.name}` (in its bench work folder, not committed)."
    report.write_text(text if note in text else text.rstrip("\n") + "\n\n" + note + "\n")


def _train_minutes(result) -> str:  # noqa: ANN001 - wall minutes of a trained method, from its loss log
    run = result.plan.run_dir
    if run is None or not (run / "logs" / "losses.csv").is_file():
        return "—"
    steps = sum(result.plan.phase_steps.values())
    return f"{_minutes_at(run)(steps):.0f}"


def curve_suite(main_work: Path) -> dict:
    """A suite of the 30-image run's checkpoints (plus the zero point), same data and metrics."""
    import yaml

    base = yaml.safe_load(SUITE.read_text())
    ckpts = sorted((main_work / "runs" / CURVE_RUN / "checkpoints").glob("step_*.safetensors"))
    base["name"] = "suite_finetune_curve"
    base["methods"] = {"photo": {"filter": "photo"}, "handpainted": base["methods"]["handpainted"]}
    base["methods"].update({f"step_{int(p.stem.split('_')[1])}": {"run": str(p), "colors": "keep"} for p in ckpts})
    base.pop("x-finetune", None)
    return base


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch threads for training and scoring (2)")
    p.add_argument("--methods", default=None, help="train and score only these methods of the suite")
    p.add_argument("--skip-curve", action="store_true", help="do not score the checkpoints of the 30-image run")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from toonkit.bench import run_suite
    from toonkit.bench.suite import suite_from_dict
    from toonkit.train.card import write_card

    command = "python benchmarks/finetune.py" + (f" --threads {args.threads}" if args.threads != 2 else "")
    methods = args.methods.split(",") if args.methods else None
    result = run_suite(SUITE, out=OUT, command=command, methods=methods)
    rows = {r.plan.name: r for r in result.results}
    kid = _kid_col(rows["photo"].row)
    lines = ["# Fine-tuning a new style on a CPU: how many images, how many minutes", "",
             f"`{command}` (commit `{_commit()}`), device: {_device()}. Suite: `benchmarks/suite_finetune.yaml` (report with intervals and the "
             f"grid: `results/suite_finetune/report.md`).", "",
             f"recipes/finetune_cpu.yaml starts from the shipped `handpainted` model and trains "
             f"{result.suite.spec.budget.steps.get('adversarial')} adversarial steps at batch "
             f"{result.suite.spec.budget.batch_size} on N anime faces and {result.data.counts['train_photos']} "
             f"selfies. Scores: {len(result.stems)} held-out selfies (chosen per skin-tone group) against "
             f"{result.data.counts['references']} held-out anime faces, at 256², with translate's default "
             "`--colors keep`. KID ratio: the run's KID divided by the unchanged photos' (1 = no closer to "
             "anime than the photo), with its 95 % bootstrap interval over photos and references.", "",
             "## Against the number of style images", "",
             f"| style images | {kid} | KID ratio to photo [95 % CI] | training min | worst skin group ΔL* | worst Δa* |",
             "|---|---|---|---|---|---|"]
    for name in ("photo", "stylization", "handpainted", *COUNTS, "anime_30_style"):
        r = rows.get(name)
        if r is None:
            continue
        ratio = _ratio(result, name) if name != "photo" else None
        groups, dl, da = _skin_worst(result, name)
        label = f"{COUNTS[name]} (`{name}`)" if name in COUNTS else f"`{name}`"
        lines.append(f"| {label} | {r.row.get(kid, math.nan):.4f} | "
                     + (f"{ratio.value:.2f} [{ratio.low:.2f}, {ratio.high:.2f}]" if ratio else "1") + " | "
                     + _train_minutes(r)
                     + f" | {dl:+.1f} | {da:+.1f} |")
    lines += ["", "Worst skin group: the largest |mean shift| over the ITA° groups with at least 3 photos "
              "(the per-group table is in the report). Training minutes are wall time on the device above, "
              "shared with other work while these ran.", ""]
    missing = [n for n in result.suite.spec.methods if n not in rows]
    if missing:
        lines += [f"Not trained or scored in this invocation: {', '.join(f'`{n}`' for n in missing)} (their "
                  "reports: `results/suite_finetune_variants/`).", ""]
    lines += _seed_table(result, rows, kid)
    _plot_images(result, rows, kid)
    if CURVE_RUN in rows:
        scores = {f"{kid} to held-out anime (selfies at 256², --colors keep)": f"{rows[CURVE_RUN].row[kid]:.4f}",
                  "KID ratio to the unchanged photo": "{:.2f} [{:.2f}, {:.2f}]".format(
                      *(lambda r: (r.value, r.low, r.high))(_ratio(result, CURVE_RUN)))}
        run = rows[CURVE_RUN].plan.run_dir
        recipe = rows[CURVE_RUN].plan.recipe
        write_card(run, recipe, {"photos": result.data.counts["train_photos"], "cartoons": COUNTS[CURVE_RUN]},
                   {"adversarial": result.suite.spec.budget.steps["adversarial"]}, _device(), scores)
    if not args.skip_curve and CURVE_RUN in rows:
        curve = run_suite(suite_from_dict(curve_suite(OUT / "work"), SUITE), out=CURVE_OUT, command=command)
        _name_the_run(CURVE_OUT / "report.md")
        minutes = _minutes_at(OUT / "work" / "runs" / CURVE_RUN)
        lines += ["## Against minutes of training (the 30-image run)", "",
                  f"| step | minutes | {kid} | KID ratio to photo [95 % CI] |", "|---|---|---|---|"]
        points = []
        for r in curve.results:
            if not r.plan.name.startswith("step_"):
                continue
            step = int(r.plan.name[5:])
            ratio = _ratio(curve, r.plan.name)
            mins = minutes(step)
            points.append((mins, ratio))
            lines.append(f"| {step} | {mins:.1f} | {r.row.get(kid, math.nan):.4f} | "
                         f"{ratio.value:.2f} [{ratio.low:.2f}, {ratio.high:.2f}] |")
        lines.append("")
        _plot_minutes(sorted(points, key=lambda p: p[0]))
    lines += ["![KID against style images](results/suite_finetune/images.png)", "",
              "![KID against minutes](results/suite_finetune/minutes.png)", ""]
    REPORT.write_text("\n".join(lines))
    print(f"wrote {REPORT}")
    return 0


def _style_region(r) -> str:  # noqa: ANN001 - where a run's Gram style term looked, and in what colours
    method = r.plan.recipe.spec.method
    region = method.get("style_region", "image")
    return f"{region} (gray)" if method.get("style_color", "rgb") == "gray" else region


def _d_augment(r) -> str:  # noqa: ANN001 - the augmenter D's input went through, or "none"
    spec = r.plan.recipe.spec.augment.get("d_augment") or {}
    if not spec:
        return "none"
    return f"{spec['type']} (shifts only)" if spec.get("cutout") == 0 else spec["type"]


def _variant(r) -> str:  # noqa: ANN001 - how a run differs from the recipe's other runs of the seed table
    return f"style term on the {_style_region(r)}, D's input augmented by {_d_augment(r)}"


def _seed_table(result, rows: dict, kid: str) -> list[str]:  # noqa: ANN001
    """The 30-image run at several training seeds, by variant (where the style term looks, what D's input
    goes through), with each variant's mean and range over its seeds: how far one run of a recipe lies
    from another."""
    names = [n for n in SEED_RUNS if n in rows]
    if len(names) < 2:
        return []
    lines = ["## Against the training seed (the 30-image run)", "",
             "The same recipe and data trained again with other seeds (`train.seed`; the bootstrap intervals "
             "above cover the choice of test photos and references, not this), and with the Gram style term "
             "computed inside the masker's person masks only (`method.style_region=person`), and with every "
             "image the discriminator sees shifted and cut (`augment.d_augment`, `diff_augment`), or only shifted "
             "(its `cutout=0`), and with the style term comparing grayscale images (`method.style_color=gray`).",
             "",
             f"| run | seed | style term on | D's input augmented | {kid} | KID ratio to photo [95 % CI] | "
             "worst skin group ΔL* | worst Δa* |",
             "|---|---|---|---|---|---|---|---|"]
    by_variant: dict[str, list[float]] = {}
    for name in names:
        r = rows[name]
        ratio = _ratio(result, name)
        _, dl, da = _skin_worst(result, name)
        by_variant.setdefault(_variant(r), []).append(ratio.value)
        lines.append(f"| `{name}` | {r.plan.recipe.spec.train.seed} | {_style_region(r)} | {_d_augment(r)} | "
                     f"{r.row.get(kid, math.nan):.4f} | {ratio.value:.2f} [{ratio.low:.2f}, {ratio.high:.2f}] | "
                     f"{dl:+.1f} | {da:+.1f} |")
    lines.append("")
    for variant, values in by_variant.items():
        lines.append(f"- {variant}: KID ratio {sum(values) / len(values):.2f} on average over "
                     f"{len(values)} seed(s), from {min(values):.2f} to {max(values):.2f}.")
    return lines + [""]


def _plot_images(result, rows: dict, kid: str) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys, lo, hi = [], [], [], []
    for name, n in COUNTS.items():
        if name in rows:
            r = _ratio(result, name)
            xs.append(n), ys.append(r.value), lo.append(r.value - r.low), hi.append(r.high - r.value)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label="fine-tuned (95 % CI)")
    # the 30-image run at other seeds: how far apart two runs of one recipe land
    same = _variant(rows["anime_30"]) if "anime_30" in rows else None
    others = [n for n in SEED_RUNS if n in rows and n != "anime_30" and _variant(rows[n]) == same]
    if others:
        ax.scatter([COUNTS["anime_30"]] * len(others), [_ratio(result, n).value for n in others], marker="x",
                   color="tab:blue", zorder=3, label="30, other training seeds")
    ax.axhline(1.0, color="grey", ls="--", label="unchanged photo")
    if "handpainted" in rows:
        ax.axhline(_ratio(result, "handpainted").value, color="tab:red", ls=":", label="handpainted (no fine-tune)")
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()  # a log axis would label 20 as 2×10¹ between the measured counts
    ax.set_xlabel("anime faces trained on")
    ax.set_ylabel(f"{kid} / photo's")
    ax.set_title("distance to held-out anime faces")
    ax.legend(fontsize=8)
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "images.png", dpi=120)
    plt.close(fig)


def _plot_minutes(points: list) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    xs = [m for m, _ in points]
    ys = [r.value for _, r in points]
    ax.errorbar(xs, ys, yerr=[[r.value - r.low for _, r in points], [r.high - r.value for _, r in points]],
                marker="o", capsize=3, label="30 anime faces (95 % CI)")
    ax.axhline(1.0, color="grey", ls="--", label="unchanged photo")
    ax.set_xlabel("minutes of training (2 CPU cores)")
    ax.set_ylabel("KID / photo's")
    ax.set_title("distance to held-out anime faces")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "minutes.png", dpi=120)
    plt.close(fig)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _device() -> str:
    import torch

    from toonkit.train.trainer import _device_words

    return _device_words(torch.device("cpu"))


if __name__ == "__main__":
    sys.exit(main())
