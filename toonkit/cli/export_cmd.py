"""``toonkit export MODEL_OR_RUN [-o FILE.onnx|.pt|DIR] [--format ...]``: export a generator and check it.

After writing the file it is run (ONNX Runtime for ONNX, ``torch.jit.load`` for TorchScript) against
eager PyTorch on a few inputs; the largest absolute difference is printed and the command exits 1 when
it exceeds ``--tolerance``. ``--format pretrained`` writes a model folder instead (config, fp16
safetensors and model card: what ``toonkit.load`` and the Hugging Face Hub take).

An exported graph gives the generator's own colours, as ``toonkit translate --colors style``: putting
the photo's colours back (``--colors keep``, translate's default) is done by toonkit around the networks.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from toonkit.cli.main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from toonkit.translate.background import BACKGROUNDS

    p.add_argument("run", metavar="MODEL_OR_RUN",
                   help="a registered model (toonkit list model), a model folder, hf://owner/name, a run "
                        "directory or a checkpoint file")
    p.add_argument("--format", default=None, choices=["onnx", "torchscript", "pretrained"],
                   help="what to write (default: from the -o extension: .onnx → onnx, .pt/.pth/.ts → "
                        "torchscript); pretrained: a model folder for toonkit.load or the Hugging Face Hub")
    p.add_argument("-o", "--out", metavar="FILE", default=None,
                   help="output file (.onnx, .pt), or an existing folder to write it in; for --format "
                        "pretrained, the model folder (default: the model's name with the format's extension, "
                        "in the current folder)")
    p.add_argument("--card", metavar="FILE", help="--format pretrained: the model card (Markdown) to include")
    p.add_argument("--input-size", nargs=2, type=int, metavar=("H", "W"), dest="size",
                   help="input height and width (default: the training size, square)")
    # deprecated spelling: `--size` means "N or original" in `translate`
    p.add_argument("--size", nargs=2, type=int, metavar=("H", "W"), dest="old_size", help=argparse.SUPPRESS)
    p.add_argument("--overwrite", action="store_true", help="replace FILE when it already exists")
    p.add_argument("--dynamic", action="store_true",
                   help="dynamic batch, height and width (H and W stay multiples of the networks' multiple)")
    p.add_argument("--with-masker", action="store_true",
                   help="include the masker: outputs 'cartoon' composited per --background, and 'mask'")
    p.add_argument("--masker", metavar="FILE", help="masker to include instead of the run's own")
    p.add_argument("--background", default="keep", choices=BACKGROUNDS,
                   help="background composite inside the exported graph (needs --with-masker unless keep)")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest accepted |export − PyTorch| difference (1e-3)")
    p.add_argument("--no-ema", action="store_true", help="export the raw generator weights, not their EMA")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    p.add_argument("--exporter", default="auto", choices=["auto", "dynamo", "torchscript"],
                   help="ONNX exporter: dynamo (torch.export, needs onnxscript), torchscript (the legacy "
                        "tracer), auto (dynamo when onnxscript is installed)")


#: the oldest ONNX opset toonkit's exporters write (the legacy exporter's floor)
MIN_OPSET = 7
EXTENSIONS = {".onnx": "onnx", ".pt": "torchscript", ".pth": "torchscript", ".ts": "torchscript"}
DEFAULT_EXTENSION = {"onnx": ".onnx", "torchscript": ".pt", "pretrained": ""}


def _default_out(model: str, fmt: str | None) -> str:
    """``<model name><extension>`` in the current folder (``handpainted`` → ``handpainted.onnx``)."""
    if fmt is None:
        raise CLIError("give -o FILE (.onnx or .pt) or --format onnx|torchscript|pretrained")
    name = Path(model.rstrip("/")).name.replace("hf:", "") or "model"
    if name.startswith("step_"):  # a checkpoint file: name it after its run
        name = Path(model).resolve().parent.parent.name or "model"
    name = name.removesuffix(".safetensors")
    return name + (DEFAULT_EXTENSION[fmt] or "_model")


def _format(given: str | None, out: Path) -> str:
    """The format to write: ``--format``, else the one ``out``'s extension names; they must agree."""
    implied = EXTENSIONS.get(out.suffix.lower())
    if given is None and implied is None:
        raise CLIError(f"cannot tell the format from '{out.name}': use a .onnx or .pt file name, or --format")
    if given is not None and implied is not None and given != implied:
        raise CLIError(f"--format {given} does not match the file name '{out.name}' ({out.suffix} is {implied}): "
                       f"change one of them")
    fmt = given or implied
    assert fmt is not None
    return fmt


def _check_options(args: argparse.Namespace) -> None:
    """Numbers that would otherwise pass into the exporter: a NaN tolerance accepts every export, an
    opset outside what the installed ONNX knows ended in a traceback from ONNX Runtime."""
    if not math.isfinite(args.tolerance) or args.tolerance < 0:
        raise CLIError(f"--tolerance must be a finite number >= 0, got {args.tolerance}")
    if args.opset is not None:
        try:
            from onnx.defs import onnx_opset_version

            newest = onnx_opset_version()
        except ImportError:
            newest = None
        if not MIN_OPSET <= args.opset <= (newest or args.opset):
            raise CLIError(f"--opset must be in {MIN_OPSET}..{newest or 'the newest ONNX knows'}, got {args.opset}")


def _inputs(args: argparse.Namespace) -> dict[Path, str]:
    """Every file or folder this export reads, by real path: the model, the masker, the card."""
    from toonkit.io_utils import real_path
    from toonkit.translate import TranslateError
    from toonkit.translate.pretrained import resolve_model

    given = [args.run, args.masker, args.card]
    try:
        folder = resolve_model(args.run)  # a registered name's folder (`handpainted`)
    except TranslateError:
        folder = None
    paths = [Path(g).expanduser() for g in given if g] + ([folder] if folder is not None else [])
    return {real_path(p): str(p) for p in paths if p.exists()}


def _check_out(args: argparse.Namespace) -> None:
    """``-o`` names a place that can be written: not under a file, not one of this export's inputs.

    Raises:
        CLIError: ``-o FILE/x.pt``, an output that would replace the model, masker or card it is made from.
    """
    from toonkit.io_utils import UnsafeWriteError, check_output_path, replaced_input

    pretrained = args.format == "pretrained"
    try:
        out = check_output_path(args.out, "-o", folder=False)
    except UnsafeWriteError as exc:
        raise CLIError(str(exc)) from None
    victim = replaced_input(out, _inputs(args), folder=pretrained)
    if victim is not None:
        raise CLIError(f"-o {out} would replace {victim}, an input of this export: choose another -o")
    args.out = str(out)


def run(args: argparse.Namespace) -> int:
    from toonkit._compat import flag_notice
    from toonkit.io_utils import check_target, remove_stale_temps
    from toonkit.translate import load
    from toonkit.translate.background import NEEDS_MASK
    from toonkit.translate.export import build_module, export

    if args.old_size is not None:
        print(f"toonkit export: {flag_notice('export', '--size')}", file=sys.stderr)
        args.size = args.size or args.old_size
    _check_options(args)
    if args.out is None:
        args.out = _default_out(args.run, args.format)
    elif args.format != "pretrained" and Path(args.out).expanduser().is_dir():  # -o out/: the file goes inside
        args.out = str(Path(args.out).expanduser() / _default_out(args.run, args.format))
    _check_out(args)
    if args.format == "pretrained":
        return _save_pretrained(args)
    args.format = _format(args.format, Path(args.out))
    if (Path(args.out).exists() or Path(args.out).is_symlink()) and not args.overwrite:
        raise CLIError(f"{args.out} already exists: pass --overwrite to replace it")
    if args.background in NEEDS_MASK and not args.with_masker:
        raise CLIError(f"--background {args.background} composites with the masker: add --with-masker")
    if args.masker and not args.with_masker:
        raise CLIError("--masker only matters with --with-masker")
    if args.exporter != "auto" and args.format != "onnx":
        raise CLIError("--exporter applies to --format onnx")
    check_target(args.out)  # a link, FIFO or device as -o: refused before the model is even loaded
    out = Path(args.out)
    remove_stale_temps(out.parent, target=out.name)  # what a killed export of this file left
    # contiguous: the exported copy is made contiguous anyway (export.build_module)
    toon = load(args.run, device="cpu", ema=not args.no_ema,
                masker=args.masker if args.with_masker else False, channels_last=False)
    if args.with_masker and not toon.has_masker:
        raise CLIError("--with-masker: the run has no masker; pass --masker FILE")
    size = tuple(args.size) if args.size else (toon.size, toon.size)
    if min(size) < 1:
        raise CLIError(f"--input-size must be positive, got {size[0]} {size[1]}")
    module = build_module(toon, args.with_masker, args.background, size)
    m = module.size_multiple
    if not args.size:  # the training size, rounded up to what the networks accept
        size = (-(-size[0] // m) * m, -(-size[1] // m) * m)
    elif size[0] % m or size[1] % m:
        raise CLIError(f"--input-size {size[0]} {size[1]}: height and width must be multiples of {m} "
                       f"(e.g. {-(-size[0] // m) * m} {-(-size[1] // m) * m})")
    # an UnsafeWriteError (exit 2) when -o was swapped for a link or FIFO while the model loaded
    used, checks = export(module, args.format, args.out, size, args.dynamic, args.opset, args.exporter)
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


def _save_pretrained(args: argparse.Namespace) -> int:
    """``--format pretrained``: the generator and masker as a model folder, loaded back to check it."""
    import torch

    from toonkit.translate import load

    if Path(args.out).suffix.lower() in EXTENSIONS:
        raise CLIError(f"--format pretrained writes a folder, not '{Path(args.out).name}'")
    from toonkit.io_utils import BoundedReadError, read_bounded_text

    try:  # a regular UTF-8 file of bounded size: not /dev/zero, a FIFO or a photo given by mistake
        card = read_bounded_text(Path(args.card).expanduser(), "model card") if args.card else None
    except BoundedReadError as exc:
        raise CLIError(f"--card: {exc}") from None
    from toonkit.io_utils import remove_stale_temps

    out = Path(args.out)
    remove_stale_temps(out.parent, target=out.name)  # what a killed export of this folder left
    toon = load(args.run, device="cpu", ema=not args.no_ema, channels_last=False)
    out = toon.save_pretrained(args.out, card=card, overwrite=args.overwrite)
    again = load(out, device="cpu", channels_last=False)
    photo = torch.rand(1, 3, toon.size, toon.size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    diff = float((toon.generate(photo) - again.generate(photo)).abs().max())
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    print(f"exported {toon.source} to {out}/ (config.json, model.safetensors in fp16, README.md; {size:.1f} MB)")
    print(f"  max |folder − original| = {diff:.3e} (fp16 storage rounds the weights)")
    return 0
