"""``toonkit data demo DIR`` (synthetic demo set) and ``toonkit data masks PHOTOS -o MASKS``."""
from __future__ import annotations

import argparse


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
    masks.add_argument("--teacher", default="mediapipe_selfie", help="registered masker to use")
    masks.add_argument("--threshold", type=float, default=None,
                       help="binarise at this probability (default: write soft masks)")
    masks.add_argument("--overwrite", action="store_true", help="replace masks that already exist")
    masks.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda …")


def run(args: argparse.Namespace) -> int:
    if args.action == "demo":
        from toonkit.data.demo import make_demo

        paths = make_demo(args.dir, n=args.n, size=args.size, seed=args.seed)
        for name, path in paths.items():
            print(f"{name}: {path}")
        return 0
    from toonkit.data.teacher import write_masks

    return write_masks(args.photos, args.out, teacher=args.teacher, threshold=args.threshold,
                       overwrite=args.overwrite, device=args.device)
