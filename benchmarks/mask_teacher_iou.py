"""Agreement of a mask teacher with reference person masks: mean IoU per dataset, written as Markdown.

    python benchmarks/mask_teacher_iou.py [--data ../shared/data] [--teacher mediapipe_selfie]
        [--threshold 0.5] [--params '{"letterbox": true}' ...] [--out benchmarks/mask_teacher_iou.md]

Each dataset folder holds ``photos/`` and ``masks/`` with the same stems. The teacher's probability is
computed exactly as ``toonkit data masks`` does (:func:`toonkit.data.teacher.predict_mask`) and
binarised at ``--threshold``; reference masks (soft or binary, possibly smaller than their photo) are
resized to the photo with bilinear interpolation and binarised at 0.5. IoU is per image, then averaged.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from toonkit.bench.report import cpu_name, git_commit

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("portraits", "people")


def iou(pred: torch.Tensor, truth: torch.Tensor) -> float:
    union = (pred | truth).sum().item()
    return 1.0 if union == 0 else (pred & truth).sum().item() / union


def evaluate(teacher: torch.nn.Module | Path, folder: Path, threshold: float) -> dict[str, float]:
    """IoU statistics of ``teacher`` (a masker, or a folder of masks it wrote) on ``folder``."""
    from toonkit.data.decode import load_mask, load_rgb_tensor
    from toonkit.data.folders import match_by_stem, scan_images
    from toonkit.data.teacher import mask_path, predict_mask

    photos, masks = folder / "photos", folder / "masks"
    pairs = match_by_stem(scan_images(photos), photos, scan_images(masks), masks)
    scores = []
    for photo, mask in sorted(pairs.items()):
        if isinstance(teacher, Path):  # PNGs from `toonkit data masks`, probability x 255
            prob = load_mask(mask_path(photo, photos, teacher))[0]
        else:
            prob = predict_mask(teacher, load_rgb_tensor(photo))
        truth = load_mask(mask)[None]
        if truth.shape[-2:] != prob.shape:
            truth = F.interpolate(truth, size=prob.shape, mode="bilinear", align_corners=False)
        scores.append(iou(prob > threshold, truth[0, 0] > 0.5))
    return {"n": len(scores), "mean": statistics.fmean(scores), "median": statistics.median(scores),
            "min": min(scores)}


def device_line() -> str:
    return f"CPU: {cpu_name()}, {os.cpu_count()} cores (the TFLite teacher runs on the CPU)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                   help="folder holding portraits/ and people/ (default: ../shared/data)")
    p.add_argument("--teacher", default="mediapipe_selfie")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--params", action="append", default=None, metavar="JSON",
                   help="teacher parameters as JSON; repeat for several rows (default: {})")
    p.add_argument("--written", type=Path, default=None, metavar="DIR",
                   help="also score the masks `toonkit data masks <data>/people/photos -o DIR` wrote")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "mask_teacher_iou.md")
    args = p.parse_args(argv)

    import toonkit

    missing = [d for d in DATASETS if not (args.data / d / "photos").is_dir()]
    if missing:
        print(f"mask_teacher_iou: {args.data} lacks {', '.join(missing)} (photos/ and masks/)",
              file=sys.stderr)
        return 2
    rows = []
    for text in args.params or ["{}"]:
        params = json.loads(text)
        teacher = toonkit.build("masker", args.teacher, **params).eval()
        start = time.perf_counter()
        results = {d: evaluate(teacher, args.data / d, args.threshold) for d in DATASETS}
        rows.append((params, results, time.perf_counter() - start))
        print(params, {d: round(r["mean"], 4) for d, r in results.items()}, file=sys.stderr)
    written = evaluate(args.written, args.data / "people", args.threshold) if args.written else None

    argv_shown = ["benchmarks/mask_teacher_iou.py", *(argv or sys.argv[1:])]
    command = "python " + " ".join(shlex.quote(a) for a in argv_shown)
    lines = [
        "# Mask teacher agreement (mean IoU)",
        "",
        (f"Teacher `{args.teacher}` against the reference person masks of `../shared/data/portraits` "
         "(soft masks) and `../shared/data/people` (binary masks, some smaller than their photo: resized). "
         f"Teacher probability binarised at **{args.threshold}**, references at 0.5; IoU per image, then "
         "averaged. Produced by `benchmarks/mask_teacher_iou.py`."),
        "",
        f"- command: `{command}`",
        f"- commit: {git_commit(REPO)}",
        f"- device: {device_line()}",
        f"- toonkit {toonkit.__version__}, torch {torch.__version__}, Python {platform.python_version()}",
        "",
        "| teacher params | dataset | images | mean IoU | median IoU | min IoU |",
        "|---|---|---|---|---|---|",
    ]
    for params, results, _ in rows:
        shown = json.dumps(params) if params else "defaults"
        for d, r in results.items():
            lines.append(f"| {shown} | {d} | {r['n']} | {r['mean']:.4f} | {r['median']:.4f} "
                         f"| {r['min']:.4f} |")
    if written is not None:
        at = next(i for i, line in enumerate(lines) if line.startswith("- command")) + 1
        lines.insert(at, f"- masks written first with: `toonkit data masks "
                     f"../shared/data/people/photos -o {args.written}` (threshold 0.5 applied here)")
        lines.append(f"| PNGs written by `toonkit data masks` (defaults) | people | {written['n']} | "
                     f"{written['mean']:.4f} | {written['median']:.4f} | {written['min']:.4f} |")
    times = ", ".join(f"{json.dumps(p) if p else 'defaults'} {t:.0f} s" for p, _, t in rows)
    lines += ["", f"Wall time: {times}", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
