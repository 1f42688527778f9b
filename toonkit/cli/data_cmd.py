"""``toonkit data demo DIR`` (synthetic demo set) and ``toonkit data masks PHOTOS -o MASKS``."""
from __future__ import annotations

import argparse
from pathlib import Path

from toonkit.cli.main import CLIError

# the default teacher and the plugin package it comes from (named in the hint when it is not installed)
DEFAULT_TEACHER, TEACHER_PLUGIN = "mediapipe_selfie", "toonkit-mediapipe"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    demo = sub.add_parser("demo", help="write the synthetic demo dataset (offline, deterministic)")
    demo.add_argument("dir", help="folder to write photos/, masks/ and cartoons/ into")
    demo.add_argument("--n", type=int, default=48, help="images per domain (default 48)")
    demo.add_argument("--size", type=int, default=128, help="image size in pixels (default 128)")
    demo.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files (0)")
    masks = sub.add_parser("masks", help="write a person mask PNG per photo with a mask teacher")
    masks.add_argument("photos", help="folder of photos (recursive)")
    masks.add_argument("-o", "--out", required=True, help="folder for the masks (same stems, .png)")
    masks.add_argument("--teacher", default=DEFAULT_TEACHER,
                       help=f"registered masker to use (default {DEFAULT_TEACHER}, from the {TEACHER_PLUGIN} plugin)")
    masks.add_argument("--threshold", type=float, default=None,
                       help="binarise at this probability (default: write soft masks)")
    masks.add_argument("--overwrite", action="store_true", help="replace masks that already exist")
    masks.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda …")


def run(args: argparse.Namespace) -> int:
    if args.action == "demo":
        from toonkit.data.demo import make_demo

        _check_demo_args(args)
        paths = make_demo(args.dir, n=args.n, size=args.size, seed=args.seed)
        for name, path in paths.items():
            print(f"{name}: {path}")
        return 0
    return _masks(args)


def _check_demo_args(args: argparse.Namespace) -> None:
    """Bounded counts and sizes (the recipe's upper bounds on demo data), and a folder to write into.

    Raises:
        CLIError: a count or size out of range (``--size 100000`` would ask for tens of GB per image), or
            a path that is a file.
    """
    for flag, low, high in (("n", 1, 100_000), ("size", 16, 4096)):
        if not low <= getattr(args, flag) <= high:
            raise CLIError(f"--{flag} must be in {low}..{high}, got {getattr(args, flag)}")
    root = Path(args.dir)
    try:
        existing = next(p for p in (root, *root.parents) if p.exists())
    except OSError as exc:
        raise CLIError(f"{root}: cannot look into it ({exc.strerror or exc})") from None
    if not existing.is_dir():
        raise CLIError(f"{root}: {existing} is a file, not a folder")


def _masks(args: argparse.Namespace) -> int:
    """Write the masks with a progress bar and one line per failed photo; exit 1 when any failed."""
    import sys

    from tqdm import tqdm

    from toonkit.data.teacher import write_masks

    bar = tqdm(unit="img", file=sys.stderr, dynamic_ncols=True, desc=f"masks with '{args.teacher}'")

    def progress(path: object, error: str | None) -> None:
        if error is not None:
            bar.write(f"toonkit data masks: {path}: {error}", file=sys.stderr)
        bar.update(1)

    try:
        report = write_masks(args.photos, args.out, teacher=args.teacher, threshold=args.threshold,
                             overwrite=args.overwrite, device=args.device, progress=progress,
                             requires=(TEACHER_PLUGIN,) if args.teacher == DEFAULT_TEACHER else ())
    finally:
        bar.close()
    print(report.summary(), file=sys.stderr if report.failed else sys.stdout)
    return 1 if report.failed else 0
