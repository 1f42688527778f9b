"""Seconds per adversarial step of recipes/selfie_gan_cpu.yaml's networks, for choosing CPU settings.

    python benchmarks/painted_probe.py --threads 2 --amp bf16 [--channels-last] [--batch 4]
                                       [--method selfie_gan|cartoongan] [--compile] [--flops]
                                       [--set nets.generator.res_blocks=4 ...]

Builds the recipe's method the way the trainer does, feeds synthetic 128² batches and reports the
median of ``--repeat`` steps after one warm-up (``--flops``: GFLOP per step by torch's flop counter).
``--compile`` wraps the trainable networks in ``torch.compile`` as ``train.compile: true`` does; its
warm-up (the compilation) is timed and printed separately.
Results are recorded in benchmarks/painted.md.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from toonkit.core.runtime import autocast
from toonkit.methods.assemble import assemble
from toonkit.methods.context import Group, StepContext
from toonkit.recipe import load_recipe
from toonkit.recipe.schema import OptimSpec
from toonkit.train.optim import make_optimizer, make_scheduler

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--amp", default="bf16", choices=["off", "bf16"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--method", default="selfie_gan", choices=["selfie_gan", "cartoongan"])
    p.add_argument("--repeat", type=int, default=4)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a recipe override, as in `toonkit run` (repeatable)")
    p.add_argument("--compile", action="store_true", help="torch.compile the trainable networks")
    p.add_argument("--flops", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    recipe_file = "selfie_gan_cpu.yaml" if args.method == "selfie_gan" else "cartoongan_cpu.yaml"
    recipe = load_recipe(REPO / "recipes" / recipe_file, ["nets.feature.weights=random", *args.set])
    method = assemble(recipe)
    method.train()
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    method.to(memory_format=fmt)
    if args.compile:  # as the trainer's train.compile: each trainable network on its own
        for name, spec in type(method).nets.items():
            if spec.trainable and name in method.net:
                method.net[name] = torch.compile(method.net[name])
    image = lambda: (torch.rand(args.batch, 3, 128, 128) * 2 - 1).contiguous(memory_format=fmt)  # noqa: E731
    batch = {"photo": image(), "cartoon": image(), "smooth": image(),
             "mask": torch.rand(args.batch, 1, 128, 128).round()}
    groups = {}
    for name in ("discriminator", "generator"):
        opt = make_optimizer(method.net[name], OptimSpec())
        groups[name] = Group(method.net[name], opt, make_scheduler(opt, OptimSpec(), 10),
                             torch.amp.GradScaler("cpu", enabled=False))
    dtype = torch.bfloat16 if args.amp == "bf16" else None

    def step() -> None:
        with autocast(torch.device("cpu"), dtype):
            method.train_step(batch, StepContext("adversarial", 0, groups))

    start = time.perf_counter()
    step()
    warmup = time.perf_counter() - start
    if args.flops:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            step()
        print(f"{counter.get_total_flops() / 1e9:.1f} GFLOP per adversarial step at batch {args.batch}")
        return
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    s = statistics.median(times)
    print(f"{args.method} threads={args.threads} amp={args.amp} "
          f"{'channels-last' if args.channels_last else 'contiguous'} batch={args.batch}"
          f"{' compiled' if args.compile else ''}{''.join(' ' + o for o in args.set)}: {s:.3f} s/step, {s / args.batch:.3f} s/image "
          f"(first step {warmup:.1f} s)")


if __name__ == "__main__":
    main()
