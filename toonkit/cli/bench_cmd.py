"""`toonkit bench`."""
from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("args", nargs="*")


def run(args: argparse.Namespace) -> int:
    print("toonkit bench: not implemented yet", file=sys.stderr)
    return 2
