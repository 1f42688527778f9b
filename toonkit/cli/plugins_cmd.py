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
    rows = [("plugin", "version", "components", "status")]
    for info in infos:
        comps = "; ".join(f"{k}: {', '.join(v)}" for k, v in info.components.items()) or "-"
        rows.append((info.name, info.version or "-", comps, f"BROKEN: {info.error}" if info.error else "ok"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
    return 0
