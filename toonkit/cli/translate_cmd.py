"""``toonkit translate RUN INPUT... -o OUT``: cartoonise files and folders with a run or with NST.

Exit codes: 0 when every input was translated (or kept), 1 when some failed (each named, plus a
one-line summary), 2 for usage errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from toonkit.cli import translate_media
from toonkit.cli.main import CLIError

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer

BACKGROUND_HELP = ("keep: the cartoon as generated; white / blur / original: the cartoonised person over "
                   "white, the blurred photo or the photo's own background; transparent: RGBA with the "
                   "person mask as alpha (png/webp). All but keep need a masker (the run's, or --masker)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from toonkit.translate.background import BACKGROUNDS
    from toonkit.translate.colors import COLORS, DEFAULT_COLORS

    p.usage = ("toonkit translate MODEL_OR_RUN INPUT... -o OUTDIR [options]\n"
               "       toonkit translate --method nst --style IMAGE INPUT... -o OUTDIR [options]")
    p.add_argument("inputs", nargs="+", metavar="RUN_OR_INPUT",
                   help="the model (a registered name such as handpainted, a model folder, hf://owner/name, "
                        "a run directory or a checkpoint), then image files, folders (searched recursively) "
                        "or glob patterns; with --method nst there is no run")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR",
                   help="output folder; each output keeps its input's relative path and stem")
    p.add_argument("--format", default="png", choices=["png", "jpg", "webp"], help="output format (png)")
    p.add_argument("--quality", type=int, default=95, help="jpg/webp quality (95)")
    p.add_argument("--size", default=None, metavar="N|original",
                   help="default: each output has its input's size, translated at twice the run's training "
                        f"size (NST: at {_nst_size()}) and upsampled; N: translate and write at short side N; 'original': "
                        "translate at each image's own size")
    p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="largest output in pixels (default 16777216 = 4096²); larger inputs are processed "
                        "downscaled to this, with a log line")
    p.add_argument("--background", default="keep", choices=BACKGROUNDS, help=BACKGROUND_HELP)
    p.add_argument("--colors", default=DEFAULT_COLORS, choices=COLORS,
                   help=f"keep: the person keeps the photo's colours (skin tone among them) under the model's "
                        f"paint; style: the model's own colours ({DEFAULT_COLORS})")
    p.add_argument("--masker", metavar="FILE",
                   help="person masker: a run directory or checkpoint with a masker, a masker weights file, "
                        "or a registered pretrained masker such as mediapipe_selfie (default: the run's own)")
    p.add_argument("--batch", type=int, default=4, help="images per forward pass (4)")
    p.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:1 …")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"], help="autocast precision (off)")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="channels-last memory layout for the networks (default: on for the CPU, where it is "
                        "faster, off for GPUs; benchmarks/translate_speed.md)")
    p.add_argument("--no-ema", action="store_true", help="use the raw generator weights, not their EMA")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    translate_media.add_arguments(p)
    nst = p.add_argument_group("neural style transfer (--method nst)")
    nst.add_argument("--method", choices=["nst"], help="translate without a run: Gatys style transfer")
    nst.add_argument("--style", metavar="IMAGE", help="the style image")
    # defaults are None here: the nst method's own signature holds the values (one source of truth)
    d = _nst_defaults()
    nst.add_argument("--steps", type=int, help=f"optimisation steps per batch ({d['steps']})")
    nst.add_argument("--content-weight", type=float, help=f"content loss weight ({d['content_weight']:g})")
    nst.add_argument("--style-weight", type=float, help=f"Gram style loss weight ({d['style_weight']:g})")
    nst.add_argument("--tv-weight", type=float, help=f"total variation weight ({d['tv_weight']:g})")
    nst.add_argument("--lr", type=float, help=f"Adam learning rate on the pixels ({d['lr']:g})")
    nst.add_argument("--init", choices=["photo", "noise"], help=f"start from the photo or from noise ({d['init']})")
    nst.add_argument("--vgg-weights", default="imagenet",
                     help="VGG16 weights: imagenet (TOONKIT_WEIGHTS_DIR or torchvision) or a file")


NST_OPTIONS = ("steps", "content_weight", "style_weight", "tv_weight", "lr", "init")


def _nst_size() -> int:
    from toonkit.methods.nst import DEFAULT_SIZE

    return DEFAULT_SIZE


def _nst_defaults() -> dict[str, object]:
    import inspect

    from toonkit.methods.nst import NeuralStyleTransfer

    params = inspect.signature(NeuralStyleTransfer.__init__).parameters
    return {name: params[name].default for name in NST_OPTIONS}


def _parse_size(text: str | None) -> int | str | None:
    if text is None or text == "original":
        return text
    try:
        value = int(text)
    except ValueError:
        raise CLIError(f"--size must be a positive integer or 'original', got {text!r}") from None
    if value < 1:
        raise CLIError(f"--size must be a positive integer or 'original', got {text!r}")
    return value


def _check_order(run: str, inputs: list[str]) -> None:
    """One line for swapped arguments: an image given as the run, or a run given as an input (it was a
    safetensors "header too large" error, after the run's own samples had been collected as inputs)."""
    from toonkit.translate.io import IMAGE_EXTENSIONS

    usage = "the model or run comes first: toonkit translate RUN IMAGE... -o OUTDIR"
    if Path(run).suffix.lower() in IMAGE_EXTENSIONS:
        raise CLIError(f"{run} is an image, not a model or run; {usage}")
    for spec in inputs:
        path = Path(spec)
        try:
            is_run = path.suffix == ".safetensors" or (path.is_dir() and any((path / "checkpoints").glob("*.safetensors")))
        except OSError:  # a folder that cannot be looked into: collecting the inputs says so
            is_run = False
        if is_run:
            raise CLIError(f"{spec} is a run or checkpoint, not an image or folder of photos; {usage}")


def _check_args(args: argparse.Namespace) -> tuple[str | None, list[str], int | str | None]:
    from toonkit.translate.background import BACKGROUNDS, NEEDS_MASK

    nst_only = {"style": None, **dict.fromkeys(NST_OPTIONS), "vgg_weights": "imagenet"}
    if args.method == "nst":
        if not args.style:
            raise CLIError("--method nst needs --style IMAGE")
        if args.no_ema:
            raise CLIError("--no-ema applies to trained runs, not --method nst")
        if args.steps is not None and args.steps < 1:
            raise CLIError(f"--steps must be >= 1, got {args.steps}")
        run, inputs = None, list(args.inputs)
    else:
        given = [f"--{k.replace('_', '-')}" for k, v in nst_only.items() if getattr(args, k) != v]
        if given:
            raise CLIError(f"{', '.join(given)} only apply with --method nst")
        if len(args.inputs) < 2:
            raise CLIError("give the run directory (or checkpoint) and at least one input image or folder")
        run, inputs = args.inputs[0], list(args.inputs[1:])
        _check_order(run, inputs)
    if args.masker and args.background not in NEEDS_MASK and args.colors != "keep":
        raise CLIError(f"--masker is used by --background {'|'.join(m for m in BACKGROUNDS if m in NEEDS_MASK)} "
                       f"and --colors keep, not by --background {args.background} with --colors {args.colors}")
    if args.background == "transparent" and args.format == "jpg":
        raise CLIError("--background transparent writes an alpha channel, which jpg cannot hold: "
                       "use --format png or webp")
    if args.batch < 1:
        raise CLIError(f"--batch must be >= 1, got {args.batch}")
    if not 1 <= args.quality <= 100:
        raise CLIError(f"--quality must be in 1..100, got {args.quality}")
    if args.max_pixels is not None and args.max_pixels < 1:
        raise CLIError(f"--max-pixels must be >= 1, got {args.max_pixels}")
    translate_media.check_args(args)
    return run, inputs, _parse_size(args.size)


def _load_model(args: argparse.Namespace, run: str | None) -> Cartoonizer:
    from toonkit.translate import load, load_masker

    if run is not None:
        # background keep with the model's colours needs no masker: do not load (or warn about) one
        masker = False if args.background == "keep" and args.colors == "style" else args.masker
        toon = load(run, device=args.device, masker=masker, ema=not args.no_ema,
                    amp=args.amp, channels_last=args.channels_last, max_pixels=args.max_pixels)
    else:
        from toonkit.translate.io import read_image
        from toonkit.translate.nst import StyleTransfer

        try:
            style = read_image(args.style)  # a DecodeError names the file itself
        except OSError as exc:
            raise CLIError(f"--style: {exc}") from None
        masker = load_masker(args.masker) if args.masker else None
        given = {k: getattr(args, k) for k in NST_OPTIONS if getattr(args, k) is not None}
        toon = StyleTransfer(style, masker, device=args.device, amp=args.amp, vgg_weights=args.vgg_weights,
                             progress=not args.quiet, **given,
                             **({"max_pixels": args.max_pixels} if args.max_pixels is not None else {}))
    from toonkit.translate.background import NEEDS_MASK

    if args.background in NEEDS_MASK and not toon.has_masker:
        raise CLIError(f"--background {args.background} needs a person masker and "
                       f"{'this run has none' if run else 'none was given'}: pass --masker FILE "
                       "(a run or checkpoint with a masker, or masker weights), or use --background keep")
    translate_media.prepare(toon, args)
    return toon


def _check_out_dir(out: str) -> Path:
    """``-o`` as a folder that can be looked into, checked once before any work instead of once per image.

    Raises:
        CLIError: ``-o ''`` (an unset shell variable: it would write into the current folder), ``-o`` naming
            a file, or a path that cannot be looked up (under a folder without search permission).
    """
    from toonkit.io_utils import UnsafeWriteError, check_output_path
    from toonkit.translate.io import IMAGE_EXTENSIONS

    try:
        out_dir = check_output_path(out)  # `~` expanded: a quoted '~/x' is the home folder, not './~'
    except UnsafeWriteError as exc:
        raise CLIError(str(exc)) from None
    if out_dir.suffix.lower() in IMAGE_EXTENSIONS and not out_dir.is_dir():
        # `-o me_toon.png` would otherwise become a folder holding me_toon.png/me.png
        raise CLIError(f"-o {out_dir}: -o names the output folder, not a file; each output keeps its "
                       f"input's name (-o {out_dir.parent.as_posix()}/ writes <name>.png there)")
    return out_dir


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from toonkit.translate.folder import plan_folder, translate_planned
    from toonkit.translate.options import TranslateOptions

    run_path, specs, size = _check_args(args)
    out_dir = _check_out_dir(args.out)
    plan = plan_folder(specs, out_dir, format=args.format, overwrite=args.overwrite, portraits=args.faces == "crop")
    options = TranslateOptions.of(background=args.background, size=size, colors=args.colors, faces=args.faces,
                                  face_size=args.face_size)
    translate_media.check_videos(plan, options)
    toon = _load_model(args, run_path)  # before anything else: a bad run is a usage error, even with no work
    # an output never replaces an input of the call, --overwrite or not; a folder that cannot be listed is
    # said, never skipped silently
    for path, why in plan.refused:
        print(f"toonkit translate: {path}: {why}", file=sys.stderr)
    if not plan.todo and not plan.videos and not plan.refused:
        print(f"all {len(plan.items)} outputs already exist in {out_dir} (--overwrite to replace them)")
        return 0
    if plan.todo or plan.videos:
        print(f"translating {translate_media.count(plan)} with {toon.source} on {toon.device}", file=sys.stderr)
    with tqdm(total=len(plan.todo) + len(plan.videos), unit="file" if plan.videos else "img",
              disable=True if args.quiet else None, file=sys.stderr, dynamic_ncols=True) as bar, \
            translate_media.term_as_interrupt(), translate_media.FrameBars(args.quiet) as frames:

        def progress(path: Path, error: str | None) -> None:
            if error is not None:
                bar.write(f"toonkit translate: {path}: {error}", file=sys.stderr)
            bar.update(1)

        report = translate_planned(toon, plan, options, quality=args.quality, batch_size=args.batch,
                                   progress=progress, frames=frames, smoothing=not args.no_smoothing)
    if report.failed:
        print(report.summary(), file=sys.stderr)
        return 1
    print(report.summary())
    return 0
