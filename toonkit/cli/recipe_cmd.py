"""``toonkit recipe show R.yaml [KEY=VALUE ...]``: print the resolved recipe."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="validate and print the resolved recipe (defaults filled in)")
    check = sub.add_parser("check", help="validate only; exit 2 on problems")
    for q in (show, check):
        q.add_argument("recipe", help="recipe YAML file")
        q.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                       help="dotted overrides applied before validation, e.g. nets.feature.arch=vgg16")


def run(args: argparse.Namespace) -> int:
    from toonkit.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    if args.action == "show":
        print(recipe.to_yaml(), end="")
    else:
        print(f"{args.recipe}: ok")
    return 0
