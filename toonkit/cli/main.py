"""``toonkit`` command line: one small module per command, wired here."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from toonkit._version import __version__
from toonkit.errors import INTERRUPTED_EXIT, ToonkitError

# command name -> module exposing add_arguments(parser) and run(args) -> int
COMMANDS = {
    "run": ("toonkit.cli.run_cmd", "train a recipe"),
    "translate": ("toonkit.cli.translate_cmd", "cartoonise images with a trained run or NST"),
    "bench": ("toonkit.cli.bench_cmd", "train, translate and measure methods from a suite"),
    "export": ("toonkit.cli.export_cmd", "export a generator to ONNX or TorchScript"),
    "plugins": ("toonkit.cli.plugins_cmd", "list installed plugins and what they register"),
    "list": ("toonkit.cli.list_cmd", "list registered components"),
    "recipe": ("toonkit.cli.recipe_cmd", "inspect recipes"),
    "data": ("toonkit.cli.data_cmd", "make demo data and person masks"),
    "demo": ("toonkit.cli.demo_cmd", "serve a local web page that cartoonises a selfie"),
}

USAGE_ERROR = 2


class CLIError(ToonkitError):
    """A usage problem found by the CLI itself (a bad option): printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toonkit",
        description="Turn selfies into hand-painted portraits: Selfie-GAN and its baselines, built from plugins.",
    )
    parser.add_argument("--version", action="version", version=f"toonkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    from toonkit.plugins.manager import add_plugin_commands

    add_plugin_commands(sub)  # plugins' own subcommands (the toonkit_commands hook)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE overrides may come after options (`toonkit run R.yaml --out D train.seed=1`)
    if extra and hasattr(args, "overrides") and all("=" in e and not e.startswith("-") for e in extra):
        args.overrides = [*(args.overrides or []), *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    # an image over the pixel bound is reported by toonkit as one line: Pillow's warning would be a second
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not args.command:
        parser.print_help()
        return USAGE_ERROR
    from toonkit.recipe import RecipeError

    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except RecipeError as exc:  # its lines already name the file and key path
        for line in exc.problems:
            print(line, file=sys.stderr)
        return exc.exit_code
    except ToonkitError as exc:  # every error toonkit raises on purpose: one line, its exit code
        print(f"toonkit {args.command}: {' '.join(exc.lines())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT


if __name__ == "__main__":
    raise SystemExit(main())
