"""``toonkit demo [MODEL_OR_RUN ...]``: serve a local web page that cartoonises a selfie.

Needs the ``demo`` extra (Gradio). Without a model it serves the shipped pretrained model, else the quick
start's run. Binds to 127.0.0.1 unless ``--host`` says otherwise; Ctrl-C stops it and removes every
uploaded file. Exit codes: 0 after Ctrl-C, 2 for usage errors (no extra, no model, a bad model).
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys

from toonkit.cli.main import CLIError

INSTALL_HINT = "the demo needs Gradio: pip install 'toonkit[demo]' (from a checkout: pip install -e \".[demo]\")"


def _translate_default(option: str) -> str:
    """``toonkit translate``'s default for ``option``: the demo infers with the same settings."""
    from toonkit.cli import translate_cmd

    parser = argparse.ArgumentParser(add_help=False)
    translate_cmd.add_arguments(parser)
    return parser.get_default(option)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="*", metavar="MODEL_OR_RUN",
                   help="models to offer, the first is the default: registered pretrained models "
                        "(toonkit list model), run directories or checkpoints (default: the pretrained "
                        "'handpainted' model, else runs/quickstart)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to bind (127.0.0.1: this machine only; 0.0.0.0 exposes the page)")
    p.add_argument("--port", type=int, default=None, help="port (default: the first free one from 7860)")
    p.add_argument("--device", default=_translate_default("device"),
                   help="auto (CUDA, else MPS, else CPU), cpu, cuda … (as toonkit translate)")
    p.add_argument("--amp", default=_translate_default("amp"), choices=["off", "bf16", "fp16"],
                   help="autocast precision, as toonkit translate (bf16 is ~4× faster on CPUs with bf16 "
                        "units, benchmarks/perf.md, but no longer equals the fp32 output)")
    p.add_argument("--max-pixels", type=int, default=4_000_000,
                   help="outputs above this many pixels come back downscaled (as toonkit translate "
                        "--max-pixels): bounds one request's time (4000000)")
    p.add_argument("--max-file-size", default="20mb", help="largest upload accepted (20mb)")


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("gradio") is None:  # not imported here: serve() configures it first
        raise CLIError(INSTALL_HINT)
    if args.port is not None and not 0 < args.port < 65536:
        raise CLIError(f"--port must be in 1..65535, got {args.port}")
    if args.max_pixels < 1:
        raise CLIError(f"--max-pixels must be >= 1, got {args.max_pixels}")
    # Gradio parses this only when serving, and a bad value is a traceback there
    if not re.fullmatch(r"\s*\d+\s*[kmgt]?b\s*", str(args.max_file_size), re.IGNORECASE):
        raise CLIError(f"--max-file-size must be a whole number with a unit (b, kb, mb, gb, tb), like 20mb; "
                       f"got {args.max_file_size!r}")
    from toonkit.demo.app import serve
    from toonkit.demo.core import resolve_models

    try:
        models = resolve_models(args.models)
        print(f"toonkit demo: loading {models[0]} …", file=sys.stderr)

        def ready(url: str) -> None:
            print(f"toonkit demo: serving {url} (Ctrl-C to stop; uploads stay in a temporary folder "
                  "removed on exit)", file=sys.stderr, flush=True)

        serve(models, args.host, args.port, device=args.device, amp=args.amp, max_pixels=args.max_pixels,
              max_file_size=args.max_file_size, on_ready=ready)
    except OSError as exc:  # the port is taken, the host cannot be bound
        raise CLIError(f"cannot serve on {args.host}:{args.port or 'auto'}: {exc}") from None
    return 0
