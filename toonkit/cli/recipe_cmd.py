"""``toonkit recipe show R.yaml [KEY=VALUE ...]``: print the resolved recipe."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="validate and print the resolved recipe (defaults filled in)")
    show.add_argument("recipe")
    show.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    check = sub.add_parser("check", help="validate only; exit 2 on problems")
    check.add_argument("recipe")
    check.add_argument("overrides", nargs="*", metavar="KEY=VALUE")


def run(args: argparse.Namespace) -> int:
    from toonkit.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    if args.action == "show":
        print(recipe.to_yaml(), end="")
    else:
        print(f"{args.recipe}: ok")
    return 0
