"""Stored recipes are recipes: what a checkpoint or a model folder says about its networks goes through the
bounded reader and the validation a recipe file gets.

A checkpoint carries its resolved recipe as YAML in its metadata, a model folder its network blocks in
``config.json``; both are input like any recipe (a file can be edited, downloaded, tampered with). Parsed
with the recipe's bounds (size, nesting, aliases: :mod:`toonkit.recipe.limits`) and resolved against the
registry (:func:`toonkit.recipe.resolve`), a YAML tag, a list, 5000 nested brackets or ``size: big`` is
one ``RecipeError`` line naming the file, and what comes back is complete and typed.

Example:
    >>> recipe = stored_recipe(ckpt.recipe_yaml, str(ckpt.path))  # doctest: +SKIP
    >>> recipe.spec.nets["generator"]["type"]  # doctest: +SKIP
    'cartoongan'
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toonkit.io_utils import BoundedReadError, read_bounded_text
from toonkit.recipe.errors import RecipeError
from toonkit.recipe.limits import MAX_DEPTH, nesting_hint, load_yaml, max_recipe_bytes
from toonkit.recipe.validate import Recipe, recipe_from_dict
from toonkit.registry import Registry

__all__ = ["config_recipe", "read_json", "stored_recipe"]


def stored_recipe(text: str, source: str, registry: Registry | None = None) -> Recipe:
    """The recipe stored in a checkpoint (its YAML text), bounded and validated like a recipe file.

    Args:
        text: the YAML.
        source: where it came from (the checkpoint's path), for messages.
        registry: what to resolve against (default: the process-wide registry).

    Raises:
        RecipeError: above the size bound, not YAML, not a mapping, or not a valid recipe; one line per
            problem, each naming ``source``.
    """
    limit = max_recipe_bytes()
    if len(text.encode("utf-8", "surrogatepass")) > limit:
        raise RecipeError([f"{source}: the stored recipe is above the limit of {limit} bytes "
                           "(TOONKIT_MAX_RECIPE_BYTES)"])
    data = load_yaml(text, f"{source}: stored recipe")
    if not isinstance(data, dict):
        raise RecipeError([f"{source}: the stored recipe must be a mapping of sections, got {type(data).__name__}"])
    return recipe_from_dict(data, f"{source}: stored recipe", registry)


def read_json(path: str | Path, what: str) -> Any:
    """A small JSON file (``config.json``), read within the recipe's bounds: a regular file of at most
    ``TOONKIT_MAX_RECIPE_BYTES``, nested at most as deep as a recipe may be.

    Raises:
        RecipeError: unreadable, too large, not UTF-8, nested too deeply or not JSON.
    """
    src = str(path)
    try:
        text = read_bounded_text(path, what)
    except BoundedReadError as exc:
        raise RecipeError([str(exc)]) from None
    if nesting_hint(text) > 2 * MAX_DEPTH:  # the json module recurses: 100 000 '[' is a RecursionError
        raise RecipeError([f"{src}: not a {what}: nested too deeply (limit {MAX_DEPTH} levels)"])
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RecipeError([f"{src}: not a {what}: {first}"]) from None


def config_recipe(config: dict[str, Any], source: str, registry: Registry | None = None) -> Recipe:
    """A model folder's ``config.json`` (method, network blocks, training size) checked as the recipe it
    stands for: every block against the registry with the recipe's types, bounds and suggestions.

    Args:
        config: the parsed ``config.json``.
        source: its path, for messages.
        registry: what to resolve against (default: the process-wide registry).

    Raises:
        RecipeError: one line per problem, e.g. ``config.json: nets.generator.res_blcks: unknown key; did
            you mean 'res_blocks'?``.
    """
    nets = config.get("nets")
    data = {"name": "model", "method": {"type": config.get("method", "cartoongan")},
            "data": {"size": config.get("size", 256)}, "nets": nets}
    return recipe_from_dict(data, source, registry)
