"""``toonkit run R.yaml [KEY=VALUE ...] [--out DIR] [--resume | --overwrite]``: train a recipe.

Running the same command again on a run that finished is not an error: it says so and exits 0 (so the
quick start's ``run && translate`` line can be repeated).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from toonkit.cli.main import CLIError

# what training writes into a run directory; --overwrite removes these and nothing else
RUN_OUTPUTS = ("checkpoints", "samples", "logs", "cache", "recipe.yaml")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides, e.g. train.batch_size=4 nets.generator.res_blocks=4")
    p.add_argument("-o", "--out", help="run directory (default: runs/<recipe name>)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    again.add_argument("--overwrite", action="store_true",
                       help="start afresh: delete the checkpoints, samples, logs and caches already in --out "
                            "(and its demo data, which is made again)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="periodic log lines instead of progress bars (the default when stderr is not a terminal)")


def run(args: argparse.Namespace) -> int:
    from toonkit.recipe import load_recipe
    from toonkit.train import train

    recipe = load_recipe(args.recipe, args.overrides)
    from toonkit.core.checkpoint import list_checkpoints
    from toonkit.methods.assemble import method_class

    if not method_class(recipe.method).trainable:
        raise CLIError(f"method '{recipe.method}' has no training phase (it optimises each image): use "
                       f"`toonkit translate --method {recipe.method} --style STYLE.jpg PHOTOS -o OUT`")
    out = Path(args.out) if args.out else Path("runs") / recipe.spec.name  # a plain name (schema)
    try:  # checked before anything is cleared or locked: a file there can never be a run directory
        if out.exists() and not out.is_dir():
            raise CLIError(f"--out {out} is a file, not a run directory")
    except OSError as exc:  # under a folder without search permission
        raise CLIError(f"--out {out}: cannot look into it ({exc.strerror or exc})") from None
    if args.overwrite:
        _clear(out, demo=recipe.spec.data.demo)
    # only complete checkpoints count: the temporary file of a write killed mid-way is no checkpoint
    if args.resume and not list_checkpoints(out / "checkpoints"):
        raise CLIError(f"--resume: no checkpoints in {out}")
    if not args.resume and list_checkpoints(out / "checkpoints"):
        from toonkit.train.finished import finished_step

        step = finished_step(out, recipe.to_yaml())
        if step is not None:  # the same command again: done, not an error (`run && translate` goes on)
            print(f"{out}: already finished (every phase trained, step {step}); nothing to do. "
                  "Pass --overwrite or another --out to train afresh")
            return 0
        raise CLIError(f"{out} already holds checkpoints: pass --resume to continue it, --overwrite to start "
                       "afresh, or another --out")
    # every problem is a ToonkitError with its own exit code, printed by main as one line: data problems
    # and a locked run (2), a diverged run or a full disk (1), Ctrl-C after saving a checkpoint (130)
    train(recipe, out, resume=args.resume, quiet=args.quiet or not sys.stderr.isatty())  # as `bench`
    print(f"run directory: {out}")
    return 0


def _clear(out: Path, demo: bool) -> None:
    """Remove what an earlier training run wrote into ``out``; other files (translations) are kept."""
    from toonkit.train.finished import FINISHED_FILE
    from toonkit.train.lock import RunLock

    with RunLock(out):  # never under a training that is still running (RunLockedError otherwise)
        for name in (*RUN_OUTPUTS, FINISHED_FILE, *(("data",) if demo else ())):
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
