"""Person maskers against reference masks: IoU and boundary F per dataset, and their cost, as Markdown.

    TOONKIT_WEIGHTS_DIR=../shared/weights python benchmarks/mask_teacher_iou.py \\
        [--candidate DIR] [--model handpainted] [--teacher mediapipe_selfie] [--split test|all] \\
        [--short-side 256] [--data ../shared/data] [--out benchmarks/mask_teacher_iou.md]

Three maskers are compared on the ``people`` and ``portraits`` folders of ``--data``: the mask teacher
(``mediapipe_selfie``, from the toonkit-mediapipe plugin), the masker shipped in the pretrained model
``--model``, and optionally a candidate masker (``DIR/masker.safetensors`` built as the block in
``DIR/masker.json``, as ``benchmarks/train_masker.py`` writes them). ``--split test`` scores the held-out
test photos of ``benchmarks/masker_data.py`` (every 5th people pair and every 4th portrait by stem;
never trained on), ``all`` every pair (the teacher trains nothing, so all pairs are fair for it alone).

Each masker sees each photo as ``toonkit translate`` gives it (resized to short side ``--short-side``,
the shipped model's working size, when larger; padded to the masker's size multiple) and its probability
is resized back to the photo and binarised at 0.5; metrics are defined in ``masker_data.py``. The cost is
the wall and CPU time of one masker forward pass on a 512×512 photo at 1 and 2 torch threads (median of
``--repeats``); on a shared machine wall time is inflated, CPU time much less so.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masker_data import DATASETS, boundary_f, iou, load_truth, masker_probability, split

from toonkit.bench.report import cpu_name, git_commit

REPO = Path(__file__).resolve().parents[1]


def load_candidate(folder: Path) -> torch.nn.Module:
    """The masker in ``folder``: ``masker.json`` (registered block) + ``masker.safetensors`` (its weights)."""
    from toonkit.translate import load_masker

    block = json.loads((folder / "masker.json").read_text())
    return load_masker(folder / "masker.safetensors", fallback_block=block).float().eval()


def evaluate(masker: torch.nn.Module, pairs: list, short_side: int | None) -> dict[str, float]:
    """Mean, median and minimum IoU and mean boundary F of ``masker`` on ``pairs``."""
    from toonkit.data.decode import load_rgb_tensor

    ious, fs = [], []
    for pair in pairs:
        photo = load_rgb_tensor(pair.photo)
        pred = masker_probability(masker, photo, short_side) > 0.5
        truth = load_truth(pair, tuple(photo.shape[-2:]))
        ious.append(iou(pred, truth))
        fs.append(boundary_f(pred, truth))
    return {"n": len(ious), "iou": statistics.fmean(ious), "median": statistics.median(ious),
            "min": min(ious), "boundary_f": statistics.fmean(fs)}


@torch.no_grad()
def cost(masker: torch.nn.Module, threads: int, repeats: int, side: int = 512) -> tuple[float, float]:
    """Median wall and CPU milliseconds of one forward pass on a ``side``² photo with ``threads`` threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    x = torch.rand(1, 3, side, side) * 2 - 1
    try:
        masker(x)  # warm-up: first-call allocations and kernel choices
        walls, cpus = [], []
        for _ in range(repeats):
            w, c = time.perf_counter(), time.process_time()
            masker(x)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
    finally:
        torch.set_num_threads(before)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)


def device_line() -> str:
    return f"CPU: {cpu_name()}, {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                   help="folder holding portraits/ and people/ (default: ../shared/data)")
    p.add_argument("--teacher", default="mediapipe_selfie")
    p.add_argument("--model", default="handpainted", help="pretrained model whose masker is scored")
    p.add_argument("--candidate", type=Path, default=None, metavar="DIR",
                   help="folder with masker.json and masker.safetensors (a new masker)")
    p.add_argument("--split", choices=("test", "all"), default="test")
    p.add_argument("--short-side", type=int, default=256)
    p.add_argument("--repeats", type=int, default=10, help="timed forward passes per masker and thread count")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "mask_teacher_iou.md")
    args = p.parse_args(argv)

    import toonkit

    missing = [d for d in DATASETS if not (args.data / d / "photos").is_dir()]
    if missing:
        print(f"mask_teacher_iou: {args.data} lacks {', '.join(missing)} (photos/ and masks/)", file=sys.stderr)
        return 2
    maskers: dict[str, torch.nn.Module] = {
        f"teacher `{args.teacher}`": toonkit.build("masker", args.teacher).eval(),
        f"`{args.model}`'s shipped masker": toonkit.load(args.model, device="cpu").masker.float().eval(),
    }
    if args.candidate is not None:
        block = json.loads((args.candidate / "masker.json").read_text())
        maskers[f"candidate `{block['type']}`"] = load_candidate(args.candidate)
    data = {d: (split(args.data, d)["test"] if args.split == "test" else
                [pr for part in split(args.data, d).values() for pr in part]) for d in DATASETS}
    rows = []
    for name, masker in maskers.items():
        params = sum(q.numel() for q in masker.parameters())
        results = {d: evaluate(masker, data[d], args.short_side) for d in DATASETS}
        timing = {n: cost(masker, n, args.repeats) for n in (1, 2)}
        rows.append((name, params, results, timing))
        print(name, {d: (round(r["iou"], 4), round(r["boundary_f"], 4)) for d, r in results.items()},
              timing, file=sys.stderr)

    argv_shown = ["benchmarks/mask_teacher_iou.py", *(argv if argv is not None else sys.argv[1:])]
    command = "python " + " ".join(shlex.quote(a) for a in argv_shown)
    which = ("the held-out **test** photos (every 5th people pair and every 4th portrait by stem, never "
             "trained on; `benchmarks/masker_data.py`)" if args.split == "test" else "**all** pairs")
    lines = [
        "# Person maskers against reference masks (IoU, boundary F, cost)",
        "",
        (f"Maskers against the reference person masks of `../shared/data/people` (binary) and "
         f"`../shared/data/portraits` (soft, binarised at 0.5), on {which}. Each masker sees the photo as "
         f"`toonkit translate` gives it (short side {args.short_side} when larger) and its probability, "
         "resized back to the photo, is binarised at 0.5. IoU per image, then averaged; boundary F is "
         "DAVIS's contour F-measure (outlines matched within 0.8 % of the image diagonal), averaged. "
         "Produced by `benchmarks/mask_teacher_iou.py`."),
        "",
        f"- command: `{command}`",
        f"- commit: {git_commit(REPO)}",
        f"- device: {device_line()}; the machine was shared with other jobs, so wall times are inflated "
        "(CPU times are the process's, summed over its threads)",
        f"- toonkit {toonkit.__version__}, torch {torch.__version__}, Python {platform.python_version()}",
        *([f"- candidate: `{args.candidate}` (written by `benchmarks/train_masker.py`), block "
           f"`{json.dumps(json.loads((args.candidate / 'masker.json').read_text()))}`"] if args.candidate else []),
        "",
        "| masker | dataset | images | mean IoU | median IoU | min IoU | boundary F |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, _, results, _ in rows:
        for d, r in results.items():
            lines.append(f"| {name} | {d} | {r['n']} | {r['iou']:.4f} | {r['median']:.4f} | {r['min']:.4f} "
                         f"| {r['boundary_f']:.4f} |")
    lines += ["", "Cost of one forward pass on a 512×512 photo (median of "
              f"{args.repeats}; ms):", "",
              "| masker | parameters | 1 thread wall | 1 thread CPU | 2 threads wall | 2 threads CPU |",
              "|---|---|---|---|---|---|"]
    for name, params, _, timing in rows:
        (w1, c1), (w2, c2) = timing[1], timing[2]
        shown = f"{params / 1e6:.2f} M" if params else "(TFLite)"
        lines.append(f"| {name} | {shown} | {w1:.0f} | {c1:.0f} | {w2:.0f} | {c2:.0f} |")
    lines.append("")
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
