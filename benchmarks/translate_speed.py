"""Translation speed of every built-in generator with a person masker, by precision and memory layout.

Usage (writes benchmarks/translate_speed.md, or --out FILE):
    python benchmarks/translate_speed.py [--device cpu|cuda] [--size 256] [--batch 4] [--out FILE]

Times ``Cartoonizer.translate_batch(photos, background="white")`` — generator, U-Net masker and
compositing — on random photos with freshly initialised paper-size networks (speed does not depend on
the weights). Each number is the median of ``--repeat`` timed calls after one warm-up call.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import toonkit
from toonkit.bench.report import describe_device, git_commit
from toonkit.metrics.perf import median_seconds
from toonkit.translate.api import Cartoonizer

REPO = Path(__file__).resolve().parents[1]
GENERATORS = ("cartoongan", "resnet", "unet", "animegan")


def images_per_second(generator: str, device: str, amp: str, channels_last: bool, size: int, batch: int,
                      repeat: int) -> float:
    torch.manual_seed(0)
    toon = Cartoonizer(toonkit.build("generator", generator), toonkit.build("masker", "unet"), size=size,
                       device=device, amp=amp, channels_last=channels_last)
    photos = torch.rand(batch, 3, size, size) * 2 - 1
    return batch / median_seconds(lambda: toon.translate_batch(photos, background="white"), toon.device, 1, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "translate_speed.md"))
    args = parser.parse_args()
    generators = [g for g in GENERATORS if ("generator", g) in toonkit.get_registry()]
    amps = ("off", "bf16") if args.device == "cpu" else ("off", "bf16", "fp16")
    rows = []
    for g in generators:
        for amp in amps:
            contiguous, cl = (images_per_second(g, args.device, amp, c, args.size, args.batch, args.repeat)
                              for c in (False, True))
            rows.append(f"| {g} | {amp} | {contiguous:.2f} | {cl:.2f} | {cl / contiguous:.2f}× |")
            print(rows[-1], flush=True)
    commit = git_commit(REPO)
    text = "\n".join([
        "# Translation speed by memory layout", "",
        "`toonkit translate` runs on the CPU in channels-last by default, because of these numbers. Pass "
        "`--no-channels-last` for the contiguous layout. GPUs default to contiguous, because they were not "
        "measured for this table.", "",
        f"Device: {describe_device(torch.device(args.device))}; torch {torch.__version__}; commit `{commit}`; command "
        f"`python {' '.join(sys.argv)}`.",
        f"{args.size}² photos, batch {args.batch}, background `white` (generator + U-Net masker + "
        f"compositing), images/s, median of {args.repeat} calls.", "",
        "| generator | amp | contiguous | channels-last | speed-up |", "|---|---|---|---|---|", *rows, ""])
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
