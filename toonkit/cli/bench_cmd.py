"""``toonkit bench [SUITE] [--out DIR]``: train, translate and measure the methods of a suite.

SUITE is a suite file or the name of a suite shipped in the package; without it, the shipped ``default``
suite runs (synthetic demo data, no weights to download, a few minutes on a CPU).

Exit codes: 0 when the report was written, 2 for usage errors (a bad suite, recipe or path: one line
per problem with its key path), 130 when interrupted (rerun the command to continue where it stopped).
"""
from __future__ import annotations

import argparse
import shlex
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = "toonkit bench [SUITE] [-o DIR] [--device DEVICE] [--methods A,B] [-q]"
    p.add_argument("suite", metavar="SUITE", nargs="?", default=None,
                   help="the suite (methods, data, training budget, metrics): a YAML file, or the name of a "
                        "suite shipped with toonkit (default: 'default', the synthetic demo set, a few "
                        "minutes on a CPU, no data or weights needed)")
    p.add_argument("-o", "--out", metavar="DIR", default=None,
                   help="output folder (default: results/<suite name> beside the suite file, i.e. "
                        "benchmarks/results/<name> for the suites in benchmarks/, and runs/bench/<name> for "
                        "a shipped suite); training runs and cached results go to DIR/work")
    p.add_argument("--device", default=None,
                   help="auto, cpu, cuda, cuda:1 … (default: the suite's budget.device)")
    p.add_argument("--methods", metavar="A,B", default=None,
                   help="only these of the suite's methods (comma-separated): the others are neither trained "
                        "nor reported, nor the claims about them (default: all)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="periodic log lines instead of progress bars (the default when stderr is not a terminal)")
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)  # deprecated: bars are the default


def run(args: argparse.Namespace) -> int:
    from toonkit.bench import run_suite
    from toonkit.bench.shipped import find_suite

    if args.progress:
        from toonkit._compat import flag_notice

        print(f"toonkit bench: {flag_notice('bench', '--progress')}", file=sys.stderr)
    suite = find_suite(args.suite)  # a file, or a shipped suite's name (SuiteError: one line otherwise)
    command = _command(args)
    # like `toonkit run`: bars on a terminal, log lines in files and CI logs
    quiet = args.quiet or not (args.progress or sys.stderr.isatty())
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    # Ctrl-C while a method trains is a BenchInterrupted (exit 130) saying how to continue
    result = run_suite(suite, out=args.out, command=command, device=args.device, quiet=quiet,
                       methods=methods)
    print(f"report: {result.out / 'report.md'} ({len(result.results)} method{'s' if len(result.results) != 1 else ''}, {result.wall_s / 60:.1f} min)")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this bench, for the report."""
    parts = ["toonkit", "bench", *([args.suite] if args.suite is not None else [])]
    if args.out is not None:
        parts += ["--out", args.out]
    if args.device is not None:
        parts += ["--device", args.device]
    if args.methods is not None:
        parts += ["--methods", args.methods]
    return " ".join(shlex.quote(p) for p in parts)
