"""Train the methods of a bench suite side by side, one process each, before ``toonkit bench`` scores them.

``toonkit bench`` trains its methods one after another with every core. On a small CPU, runs that each
use a share of the cores finish together and waste less to threading overhead (benchmarks/painted.md
has the measurement). The runs land where the bench looks for them (``runs/<method>`` in the bench's ``work`` folder),
stamped with the same fingerprints, so the bench then only evaluates. An interrupted run resumes.

    python benchmarks/train_suite.py benchmarks/suite_painted.yaml --threads 1 [--methods a,b] [--out DIR]
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import sys
from pathlib import Path


def _train(suite_path: str, out: str | None, name: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name}: %(message)s", datefmt="%H:%M:%S")
    from toonkit.bench.data import materialise
    from toonkit.bench.methods import ensure_trained, plan_methods
    from toonkit.bench.runner import default_out, weights_env
    from toonkit.bench.suite import load_suite

    suite = load_suite(suite_path)
    work = (Path(out) if out else default_out(suite)) / "work"
    with weights_env(suite):
        data = _existing(suite, work) or materialise(suite, work)
        plan = next(p for p in plan_methods(suite, data, work) if p.name == name)
        ensure_trained(plan, quiet=True)


def _existing(suite, work: Path):  # noqa: ANN001, ANN202 - the SuiteData of an already-linked split
    from toonkit.bench.data import SuiteData

    root = work / "data"
    dirs = {n: root / n for n in ("train_photos", "train_masks", "train_cartoons", "test_photos",
                                  "test_masks", "references")}
    if not all(d.is_dir() for d in dirs.values()):
        return None
    counts = {n: sum(1 for _ in dirs[n].iterdir()) for n in ("train_photos", "test_photos", "train_cartoons",
                                                            "references")}
    style = sorted(dirs["train_cartoons"].iterdir())[0]
    return SuiteData(**dirs, style=style, counts=counts)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("suite")
    p.add_argument("--methods", default=None, help="comma-separated (default: every trained method)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--out", default=None, help="the bench's --out (default: the suite's results folder)")
    args = p.parse_args()
    from toonkit.bench.data import materialise
    from toonkit.bench.runner import default_out, weights_env
    from toonkit.bench.suite import load_suite

    suite = load_suite(args.suite)
    work = (Path(args.out) if args.out else default_out(suite)) / "work"
    with weights_env(suite):
        # once, before the runs read it (an unchanged split is left alone: more runs of the suite may be
        # started while others train)
        materialise(suite, work)
    names = args.methods.split(",") if args.methods else list(suite.spec.methods)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_train, args=(args.suite, args.out, n, args.threads), name=n) for n in names]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    failed = [proc.name for proc in procs if proc.exitcode != 0]
    if failed:
        print(f"train_suite: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
