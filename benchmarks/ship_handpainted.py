"""Package the suite_painted Selfie-GAN run as toonkit's shipped ``handpainted`` model.

    python benchmarks/ship_handpainted.py [RUN] [-o toonkit/pretrained/handpainted]

Writes the run's generator (EMA weights) and masker as fp16 safetensors with ``config.json``, and the
model card from ``benchmarks/handpainted_card.md`` filled with facts of the run (steps, wall time,
parameters, size) and the scores in ``benchmarks/results/suite_painted/results.csv`` (run
``toonkit bench benchmarks/suite_painted.yaml`` first).
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "suite_painted"
COLUMNS = [("FD-VGG16", "FD-VGG16 ↓", "{:.1f}"), ("KID-VGG16", "KID-VGG16 ↓", "{:.3f}"),
           ("LPIPS-alex", "LPIPS to the photo", "{:.3f}"), ("leakage", "background leakage ↓", "{:.3f}"),
           ("dE2000", "colour drift ΔE00 ↓", "{:.1f}"), ("da*", "face redness Δa* ↓", "{:+.2f}")]


def _wall_minutes(run: Path) -> tuple[float, int]:
    """Minutes between the first and last logged step (pauses over 10 min left out), and the last step."""
    with open(run / "logs" / "losses.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    times = [float(r["time"]) for r in rows]
    gaps = [b - a for a, b in zip(times, times[1:])]
    return sum(g for g in gaps if g < 600) / 60, int(rows[-1]["step"])


def _metrics_table(results: Path) -> str:
    if not results.is_file():
        return "(not measured yet: run `toonkit bench benchmarks/suite_painted.yaml`)"
    with open(results, newline="") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    names = [n for n in ("selfie_gan", "cartoongan", "quickstart", "untrained") if n in rows]
    head = "| model | " + " | ".join(label for _, label, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for n in names:
        cells = []
        for key, _, fmt in COLUMNS:
            value = rows[n].get(key, "")
            cells.append(fmt.format(float(value)) if value not in ("", None) else "—")
        label = {"selfie_gan": "**handpainted** (this model)", "cartoongan": "CartoonGAN, same recipe, no masker",
                 "quickstart": "the quick start's model", "untrained": "untrained generator"}[n]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", default=str(RESULTS / "work" / "runs" / "selfie_gan"))
    p.add_argument("-o", "--out", default=str(REPO / "toonkit" / "pretrained" / "handpainted"))
    args = p.parse_args()

    import toonkit
    from toonkit.bench.report import cpu_name
    from toonkit.core.checkpoint import read_checkpoint

    run = Path(args.run)
    ckpt = read_checkpoint(run)
    recipe = ckpt.recipe
    steps = {k: v.get("steps") for k, v in recipe["train"]["phases"].items()}
    minutes, last = _wall_minutes(run)
    toon = toonkit.load(run, device="cpu", ema=True)
    gen_params = sum(p.numel() for p in toon.generator.parameters())
    mask_params = sum(p.numel() for p in toon.masker.parameters())
    data = RESULTS / "work" / "data"
    counts = {k: sum(1 for _ in (data / k).iterdir()) if (data / k).is_dir() else 0
              for k in ("test_photos", "train_cartoons", "references")}
    training = (
        f"`recipes/selfie_gan_cpu.yaml` through `benchmarks/suite_painted.yaml` (`python benchmarks/train_suite.py "
        f"benchmarks/suite_painted.yaml`): {steps.get('init')} initialisation steps (G, content loss), "
        f"{steps.get('masker')} masker steps and {steps.get('adversarial')} adversarial steps at batch 4, "
        f"128² crops, bf16 autocast, Adam 2e-4 with a linear decay over the last quarter, content weight 2, "
        f"EMA of G (0.999 with warm-up). Checkpoint step {ckpt.step} ({ckpt.path.name}).\n\n"
        f"Device: {cpu_name()}, one thread, next to the CartoonGAN run of the same suite; about "
        f"{minutes:.0f} minutes of wall time (last logged step {last}). The step cost of this and other "
        f"settings is in `benchmarks/painted.md`.")
    metrics = (f"On the {counts['test_photos']} held-out photos at 128², against the "
               f"{counts['references']} held-out reference cartoons (`benchmarks/results/suite_painted/report.md` "
               f"has the intervals, the grid and the method):\n\n" + _metrics_table(RESULTS / "results.csv"))
    template = (REPO / "benchmarks" / "handpainted_card.md").read_text(encoding="utf-8")
    card = template.format(gen_params=f"{gen_params / 1e6:.2f} M", mask_params=f"{mask_params / 1e6:.2f} M",
                           size_mb="{size_mb}", training=training, metrics=metrics,
                           n_test=counts["test_photos"], n_cartoons=counts["train_cartoons"],
                           n_refs=counts["references"], minutes=f"{minutes:.0f}")
    out = toon.save_pretrained(args.out, card=card, name="handpainted", overwrite=True,
                               extra={"trained": {"recipe": "recipes/selfie_gan_cpu.yaml", "steps": steps,
                                                  "checkpoint_step": ckpt.step}})
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    (out / "README.md").write_text(card.replace("{size_mb}", f"{size:.1f}"), encoding="utf-8")
    print(f"wrote {out} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
