"""``toonkit run R.yaml [KEY=VALUE ...] [--out DIR] [--resume]``: train a recipe."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toonkit.cli.main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides, e.g. train.batch_size=4 nets.generator.res_blocks=4")
    p.add_argument("--out", help="run directory (default: runs/<recipe name>)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("-q", "--quiet", action="store_true", help="periodic log lines instead of progress bars")


def run(args: argparse.Namespace) -> int:
    from toonkit.recipe import RecipeError, load_recipe
    from toonkit.train import train

    recipe = load_recipe(args.recipe, args.overrides)
    out = Path(args.out) if args.out else Path("runs") / recipe.spec.name
    if args.resume and not (out / "checkpoints").is_dir():
        raise CLIError(f"--resume: no checkpoints in {out}")
    if not args.resume and (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
        raise CLIError(f"{out} already holds checkpoints: pass --resume to continue it, or another --out")
    from toonkit.data import EmptyFolderError, MissingMasksError
    from toonkit.train.optim import NonFiniteLossError
    from toonkit.train.trainer import TrainingInterrupted

    try:
        train(recipe, out, resume=args.resume, quiet=args.quiet)
    except TrainingInterrupted as exc:
        print(f"toonkit run: {exc}; resume with --resume", file=sys.stderr)
        return 130
    except NonFiniteLossError as exc:
        print(f"toonkit run: {exc}", file=sys.stderr)
        return 1
    except (EmptyFolderError, MissingMasksError, RecipeError) as exc:
        # data problems: one line, nothing half-built
        raise CLIError(str(exc)) from None
    print(f"run directory: {out}")
    return 0
