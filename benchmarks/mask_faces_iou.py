"""The person mask ``toonkit translate`` composites with, ``--faces off`` against ``--faces auto``.

With ``--faces auto`` and a background that needs a mask, each face that is small for the model is masked
again on its portrait crop and blended into the whole photo's mask
(:func:`toonkit.translate.faces.paint_faces`). This scores the mask the command really uses: the alpha of
``Cartoonizer.translate(photo, background="transparent", faces=...)`` at the default size, binarised at
0.5, against the reference masks of the held-out test photos (``benchmarks/masker_data.py``), with the
IoU and DAVIS boundary F of ``benchmarks/mask_teacher_iou.py`` and the bench's paired bootstrap interval
(:func:`toonkit.bench.claims.paired_bootstrap`) of the per-photo difference.

    python benchmarks/mask_faces_iou.py [--model handpainted] [--data ../shared/data] [--out benchmarks/mask_faces_iou.md]

Needs ``../shared`` beside the checkout and a face detector (``pip install "toonkit[faces]"``).
"""
from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masker_data import DATASETS, boundary_f, iou, load_truth, split

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="handpainted")
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--amp", default="bf16", help="as toonkit translate --amp (bf16 where the CPU has it)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "mask_faces_iou.md")
    args = p.parse_args(argv)

    import toonkit
    from toonkit.bench.claims import paired_bootstrap
    from toonkit.bench.report import cpu_name, git_commit
    from toonkit.data.decode import load_rgb_tensor
    from toonkit.imaging import from_uint8

    if any(not (args.data / d / "photos").is_dir() for d in DATASETS):
        print(f"mask_faces_iou: {args.data} lacks people/ or portraits/", file=sys.stderr)
        return 2
    toon = toonkit.load(args.model, device="cpu", amp=args.amp)
    rows = []
    for dataset in DATASETS:
        scores: dict[str, list[tuple[float, float]]] = {"off": [], "auto": []}
        for pair in split(args.data, dataset)["test"]:
            photo = load_rgb_tensor(pair.photo)
            truth = load_truth(pair, tuple(photo.shape[-2:]))
            for faces in scores:
                alpha = toon.translate(from_uint8(photo), background="transparent", faces=faces)[3]
                pred = alpha > 0.5
                scores[faces].append((iou(pred, truth), boundary_f(pred, truth)))
        for k, name in ((0, "IoU"), (1, "boundary F")):
            off, auto = ([s[k] for s in scores[m]] for m in ("off", "auto"))
            diff = paired_bootstrap(auto, off)
            rows.append((dataset, name, len(off), statistics.fmean(off), min(off), statistics.fmean(auto),
                         min(auto), diff.mean, (diff.low, diff.high)))
            print(rows[-1], file=sys.stderr)

    command = "python " + " ".join(shlex.quote(a) for a in
                                   ["benchmarks/mask_faces_iou.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "# The mask `toonkit translate` composites with: `--faces off` against `--faces auto`",
        "",
        f"Model `{args.model}` (`--amp {args.amp}`), its masker at the working size (short side 256); with "
        "`--faces auto` each face small for the model is masked again on its portrait crop and blended in "
        "with a feathered ellipse. The mask is the alpha of `--background transparent` at the default size, "
        "binarised at 0.5, against the reference masks of the held-out test photos "
        "(`benchmarks/masker_data.py`); IoU and boundary F as in `benchmarks/mask_teacher_iou.md`; the "
        "difference is per photo, with a 95 % bootstrap interval.",
        "",
        f"- command: `{command}`",
        f"- commit: {git_commit(REPO)}",
        f"- device: CPU: {cpu_name()}; torch {torch.__version__}, Python {platform.python_version()}",
        "",
        "| dataset | score | photos | `--faces off` mean | min | `--faces auto` mean | min | auto − off [95 % CI] |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {d} | {s} | {n} | {mo:.4f} | {lo:.4f} | {ma:.4f} | {la:.4f} | {md:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] |"
          for d, s, n, mo, lo, ma, la, md, ci in rows],
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
