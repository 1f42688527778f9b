"""``toonkit plugins``: installed plugins, their versions, components and errors."""
from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per plugin")


def run(args: argparse.Namespace) -> int:
    from toonkit.plugins import plugin_infos

    infos = plugin_infos()
    if args.json:
        print(json.dumps([i.as_dict() for i in infos], indent=2))
        return 0
    for info in infos:
        status = f"BROKEN: {info.error}" if info.error else "ok"
        print(f"{info.name} {info.version or '-'}  [{status}]")
        for kind, names in info.components.items():
            print(f"    {kind:<14} {', '.join(names)}")
    return 0
