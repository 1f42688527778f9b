"""``toonkit export RUN --format onnx|torchscript -o FILE``: export a run's generator and check it.

After writing the file it is run (ONNX Runtime for ONNX, ``torch.jit.load`` for TorchScript) against
eager PyTorch on a few inputs; the largest absolute difference is printed and the command exits 1 when
it exceeds ``--tolerance``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toonkit.cli.main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="MODEL_OR_RUN",
                   help="a registered model (toonkit list model), a model folder, hf://owner/name, a run "
                        "directory or a checkpoint file")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"], help="what to write")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="output file (.onnx, .pt)")
    p.add_argument("--size", nargs=2, type=int, metavar=("H", "W"),
                   help="input height and width (default: the training size, square)")
    p.add_argument("--dynamic", action="store_true",
                   help="dynamic batch, height and width (H and W stay multiples of the networks' multiple)")
    p.add_argument("--with-masker", action="store_true",
                   help="include the masker: outputs 'cartoon' composited per --background, and 'mask'")
    p.add_argument("--masker", metavar="FILE", help="masker to include instead of the run's own")
    p.add_argument("--background", default="keep", choices=["keep", "white", "blur", "original", "transparent"],
                   help="background composite inside the exported graph (needs --with-masker unless keep)")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest accepted |export − PyTorch| difference (1e-3)")
    p.add_argument("--no-ema", action="store_true", help="export the raw generator weights, not their EMA")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    p.add_argument("--exporter", default="auto", choices=["auto", "dynamo", "torchscript"],
                   help="ONNX exporter: dynamo (torch.export, needs onnxscript), torchscript (the legacy "
                        "tracer), auto (dynamo when onnxscript is installed)")


def run(args: argparse.Namespace) -> int:
    from toonkit.translate.api import TranslateError, load
    from toonkit.translate.export import ExportError, build_module, export

    if args.tolerance < 0:
        raise CLIError(f"--tolerance must be >= 0, got {args.tolerance}")
    if args.background != "keep" and not args.with_masker:
        raise CLIError(f"--background {args.background} composites with the masker: add --with-masker")
    if args.masker and not args.with_masker:
        raise CLIError("--masker only matters with --with-masker")
    if args.exporter != "auto" and args.format != "onnx":
        raise CLIError("--exporter applies to --format onnx")
    try:
        # contiguous: the exported copy is made contiguous anyway (export.build_module)
        toon = load(args.run, device="cpu", ema=not args.no_ema,
                    masker=args.masker if args.with_masker else False, channels_last=False)
    except TranslateError as exc:
        raise CLIError(str(exc)) from None
    if args.with_masker and not toon.has_masker:
        raise CLIError("--with-masker: the run has no masker; pass --masker FILE")
    size = tuple(args.size) if args.size else (toon.size, toon.size)
    if min(size) < 1:
        raise CLIError(f"--size must be positive, got {size[0]} {size[1]}")
    try:
        module = build_module(toon, args.with_masker, args.background, size)
    except ExportError as exc:
        raise CLIError(str(exc)) from None
    m = module.size_multiple
    if not args.size:  # the training size, rounded up to what the networks accept
        size = (-(-size[0] // m) * m, -(-size[1] // m) * m)
    elif size[0] % m or size[1] % m:
        raise CLIError(f"--size {size[0]} {size[1]}: height and width must be multiples of {m} "
                       f"(e.g. {-(-size[0] // m) * m} {-(-size[1] // m) * m})")
    try:
        used, checks = export(module, args.format, args.out, size, args.dynamic, args.opset, args.exporter)
    except ExportError as exc:
        print(f"toonkit export: {exc}", file=sys.stderr)
        return 1
    how = f"{args.format}, {used} exporter" if args.format == "onnx" else "torchscript, traced"
    dims = "N×3×H×W" if args.dynamic else f"1×3×{size[0]}×{size[1]}"
    outputs = " and ".join(module.output_names)
    print(f"exported {toon.source} to {Path(args.out)} ({how}): photo {dims} in [-1, 1]"
          f"{f', H and W multiples of {m}' if args.dynamic else ''} → {outputs}")
    for c in checks:
        print(f"  input {'×'.join(map(str, c.shape))}: max |{args.format} − pytorch| = {c.max_abs_diff:.3e}")
    worst = max(c.max_abs_diff for c in checks)
    if not worst <= args.tolerance:  # also catches NaN
        print(f"toonkit export: FAILED: max abs difference {worst:.3e} exceeds --tolerance {args.tolerance:g} "
              f"(the file was written: {args.out})", file=sys.stderr)
        return 1
    print(f"ok: max abs difference {worst:.3e} ≤ tolerance {args.tolerance:g}")
    return 0
