"""Package the suite_painted Selfie-GAN run as toonkit's shipped ``handpainted`` model.

    python benchmarks/ship_handpainted.py [RUN] [-o toonkit/pretrained/handpainted]
        [--masker WEIGHTS --masker-config BLOCK.json]   # a separately trained person masker
    python benchmarks/ship_handpainted.py --card-only   # rewrite the card after `toonkit bench`

Writes the run's generator (EMA weights) and a person masker as fp16 safetensors with ``config.json``,
and the model card from ``benchmarks/handpainted_card.md`` filled with facts of the run (steps, wall
time, parameters, size) and the scores of ``benchmarks/results/suite_painted/report.md`` (run
``toonkit bench benchmarks/suite_painted.yaml`` first: its ``handpainted`` row is this folder).

The masker is the run's own unless ``--masker`` names a weights file (``benchmarks/train_masker.py``
writes one, with the block of its network in a JSON file beside it): the generator never uses the
masker, which only serves translation's ``--colors keep`` and background modes, so a better one can be
shipped without retraining the generator.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "suite_painted"
COLUMNS = [("KID-VGG16", "KID-VGG16 ↓", "{:.3f}"), ("LPIPS-alex", "LPIPS to the photo", "{:.3f}"),
           ("leakage", "background leakage ↓", "{:.3f}"), ("da*", "face redness Δa*", "{:+.2f}")]
LABELS = {"photo": "the photo, unchanged", "stylization": "OpenCV stylization (learns nothing)",
          "handpainted_v1": "handpainted v1 (previous release)", "selfie_gan": "this generator, its own colours "
          "(`--colors style`)", "handpainted": "**handpainted v2** (this model, `--colors keep`)"}


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
    lines = ["| model | " + " | ".join(label for _, label, _ in COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    for name, label in LABELS.items():
        if name not in rows:
            continue
        cells = [fmt.format(float(rows[name][key])) if rows[name].get(key) not in ("", None) else "—"
                 for key, _, fmt in COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _report_section(report: Path, heading: str) -> str:
    """A ``## heading`` section of the bench report (without its heading), rows limited to LABELS."""
    if not report.is_file():
        return "(not measured yet: run `toonkit bench benchmarks/suite_painted.yaml`)"
    text = report.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    if not match:
        return f"(the report has no section '{heading}')"
    keep = []
    for line in match.group(1).strip().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if line.startswith("| ") and len(cells) > 2 and cells[1] not in ("method", *LABELS) \
                and not set(cells[1]) <= set("-"):
            continue  # a row of another method of the suite
        keep.append(line)
    return "\n".join(keep)


def _card(run: Path, toon: object, ckpt: object) -> str:
    from toonkit.bench.report import cpu_name

    recipe = ckpt.recipe  # type: ignore[attr-defined]
    steps = {k: v.get("steps") for k, v in recipe["train"]["phases"].items()}
    minutes, last = _wall_minutes(run)
    adversarial = steps.get("adversarial") or 1
    gen_params = sum(p.numel() for p in toon.generator.parameters())  # type: ignore[attr-defined]
    mask_params = sum(p.numel() for p in toon.masker.parameters())  # type: ignore[attr-defined]
    data = RESULTS / "work" / "data"
    counts = {k: sum(1 for _ in (data / k).iterdir()) if (data / k).is_dir() else 0
              for k in ("train_photos", "test_photos", "train_cartoons", "references")}
    method = recipe["method"]
    training = (
        f"`recipes/selfie_gan_cpu.yaml` through `benchmarks/suite_painted.yaml` (`python benchmarks/train_suite.py "
        f"benchmarks/suite_painted.yaml --methods selfie_gan`): {steps.get('init')} initialisation steps (G, "
        f"content loss), {steps.get('masker')} masker steps and {steps.get('adversarial')} adversarial steps at "
        f"batch 4 on 128² crops of photos loaded at 256², bf16 autocast, Adam 2e-4, EMA of G. Losses: "
        f"adversarial and edge-promoting (CartoonGAN), content ×{method.get('w_content')}, style (Gram of "
        f"VGG16 features against colour-jittered cartoons) ×{method.get('w_style')}, colour consistency "
        f"(CIELAB, 8×8 blocks) ×{method.get('w_color')}. Checkpoint step {ckpt.step}.\n\n"  # type: ignore[attr-defined]
        f"Compute: {cpu_name()}, 2 torch threads shared with other work; about {minutes:.0f} minutes of "
        f"wall time in all (last logged step {last}), about {minutes * 60 / max(last, 1):.1f} s per step "
        f"on average, the adversarial steps the dearest. On a GPU the same recipe is minutes.")
    template = (REPO / "benchmarks" / "handpainted_card.md").read_text(encoding="utf-8")
    report = RESULTS / "report.md"
    return template.format(
        gen_params=f"{gen_params / 1e6:.2f} M", mask_params=f"{mask_params / 1e6:.2f} M", size_mb="{size_mb}",
        training=training, metrics=_metrics_table(RESULTS / "results.csv"),
        zero_point=_report_section(report, "Distance from doing nothing"),
        skin=_report_section(report, "Skin tone by ITA° group"),
        n_train=counts["train_photos"], n_test=counts["test_photos"], n_cartoons=counts["train_cartoons"],
        n_refs=counts["references"], minutes=f"{minutes:.0f}", adversarial=adversarial)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", default=str(RESULTS / "work" / "runs" / "selfie_gan"))
    p.add_argument("-o", "--out", default=str(REPO / "toonkit" / "pretrained" / "handpainted"))
    p.add_argument("--masker", default=None, help="a person masker weights file to ship instead of the run's")
    p.add_argument("--masker-config", default=None, help="JSON file with the masker's block ({type: ..., ...})")
    p.add_argument("--card-only", action="store_true", help="rewrite README.md of -o from the current report")
    args = p.parse_args()

    import toonkit
    from toonkit.core.checkpoint import read_checkpoint
    from toonkit.translate import Cartoonizer, load_masker

    run, out = Path(args.run), Path(args.out)
    ckpt = read_checkpoint(run)
    if args.card_only:
        toon = toonkit.load(out, device="cpu")
        card = _card(run, toon, ckpt)
    else:
        toon = toonkit.load(run, device="cpu", ema=True)
        if args.masker:
            if not args.masker_config:
                p.error("--masker needs --masker-config (the masker's block as JSON)")
            block = json.loads(Path(args.masker_config).read_text(encoding="utf-8"))
            masker = load_masker(args.masker, fallback_block=block)
            assert toon.spec is not None
            spec = toon.spec.model_copy(update={"nets": {**toon.spec.nets, "masker": block}})
            toon = Cartoonizer(toon.generator.float(), masker, size=toon.size, spec=spec, device="cpu")
        card = _card(run, toon, ckpt)
        steps = {k: v.get("steps") for k, v in ckpt.recipe["train"]["phases"].items()}
        toon.save_pretrained(out, card=card, name="handpainted", overwrite=True,
                             extra={"version": 2, "trained": {"recipe": "recipes/selfie_gan_cpu.yaml",
                                                              "steps": steps, "checkpoint_step": ckpt.step}})
    size = sum(f.stat().st_size for f in out.iterdir() if f.name != "README.md") / 2**20
    (out / "README.md").write_text(card.replace("{size_mb}", f"{size:.1f}"), encoding="utf-8")
    print(f"wrote {out} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
