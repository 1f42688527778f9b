"""``toonkit list [KIND] [PATTERN]``: registered components and their summaries."""
from __future__ import annotations

import argparse

from toonkit.cli.main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", help="component kind (generator, loss, method, ...)")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern on names, e.g. 'cy*'")
    p.add_argument("--params", action="store_true", help="also show each component's parameters")


def run(args: argparse.Namespace) -> int:
    import toonkit
    from toonkit.registry import UnknownComponentError

    try:
        entries = toonkit.list_components(args.kind, args.pattern)
    except UnknownComponentError as exc:
        raise CLIError(str(exc)) from None
    kind = None
    for e in entries:
        if e.kind != kind:
            kind = e.kind
            print(f"{kind}:")
        print(f"  {e.name:<22} {e.summary}  [{e.plugin}]")
        if args.params:
            for p in e.params:
                default = "required" if p.required else repr(p.default)
                print(f"      {p.name} = {default}")
    if not entries:
        print("no components match")
    return 0
