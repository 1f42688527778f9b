"""Stored recipes are recipes: what a checkpoint or a model folder says about its model goes through the
bounded reader and the validation a recipe file gets.

A checkpoint carries its resolved recipe as YAML and its model spec as JSON in its metadata, a model
folder its spec in ``config.json``; all are input like any recipe (a file can be edited, downloaded,
tampered with). Parsed with the recipe's bounds (size, nesting, aliases: :mod:`toonkit.recipe.limits`)
and resolved against the registry (:func:`toonkit.recipe.resolve`), a YAML tag, a list, 5000 nested
brackets or ``size: big`` is one ``RecipeError`` line naming the file, and what comes back is complete and
typed. :func:`toonkit.methods.spec.read_spec` and :mod:`toonkit.translate.stored` read stored models
through these functions.

Example:
    >>> recipe = stored_recipe(ckpt.recipe_yaml, str(ckpt.path))  # doctest: +SKIP
    >>> recipe.spec.nets["generator"]["type"]  # doctest: +SKIP
    'cartoongan'
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toonkit.io_utils import BoundedReadError, read_bounded_text
from toonkit.recipe.errors import RecipeError
from toonkit.recipe.limits import MAX_DEPTH, load_yaml, max_recipe_bytes, nesting_hint
from toonkit.recipe.validate import Recipe, recipe_from_dict
from toonkit.registry import Registry

__all__ = ["first_problem", "parse_json", "read_json", "spec_recipe", "stored_recipe"]


def first_problem(exc: RecipeError) -> str:
    """A recipe error as one line: its first problem, and how many more there were."""
    more = len(exc.problems) - 1
    return exc.problems[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def _check_size(text: str, src: str, what: str) -> None:
    limit = max_recipe_bytes()
    if len(text.encode("utf-8", "surrogatepass")) > limit:
        raise RecipeError([f"{src}: the {what} is above the limit of {limit} bytes (TOONKIT_MAX_RECIPE_BYTES)"])


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
    _check_size(text, source, "stored recipe")
    data = load_yaml(text, f"{source}: stored recipe")
    if not isinstance(data, dict):
        raise RecipeError([f"{source}: the stored recipe must be a mapping of sections, got {type(data).__name__}"])
    return recipe_from_dict(data, f"{source}: stored recipe", registry)


def parse_json(text: str, source: str, what: str) -> Any:
    """JSON text stored with a model (a checkpoint's spec, a ``config.json``), within the recipe's bounds:
    at most ``TOONKIT_MAX_RECIPE_BYTES``, nested at most as deep as a recipe may be.

    Raises:
        RecipeError: too large, nested too deeply or not JSON.
    """
    _check_size(text, source, what)
    if nesting_hint(text) > 2 * MAX_DEPTH:  # the json module recurses: 100 000 '[' is a RecursionError
        raise RecipeError([f"{source}: not a {what}: nested too deeply (limit {MAX_DEPTH} levels)"])
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RecipeError([f"{source}: not a {what}: {first}"]) from None


def read_json(path: str | Path, what: str) -> Any:
    """A small JSON file (``config.json``), read within the recipe's bounds: a regular file of at most
    ``TOONKIT_MAX_RECIPE_BYTES`` (checked before it is read: a 2 GB one is never read), parsed by
    :func:`parse_json`.

    Raises:
        RecipeError: unreadable, not a regular file, too large, not UTF-8, nested too deeply or not JSON.
    """
    try:
        text = read_bounded_text(path, what)
    except BoundedReadError as exc:
        raise RecipeError([str(exc)]) from None
    return parse_json(text, str(path), what)


def spec_recipe(spec: Mapping[str, Any], source: str, registry: Registry | None = None) -> Recipe:
    """A stored model spec (method, training size, the blocks of its networks, losses and augmenters)
    checked as the recipe it stands for: every block against the registry with the recipe's types,
    bounds and suggestions.

    Args:
        spec: the spec's fields (``method``, ``size``, ``nets``, ``losses``, ``augment``).
        source: the file it was read from, for messages.
        registry: what to resolve against (default: the process-wide registry).

    Raises:
        RecipeError: one line per problem, e.g. ``config.json: nets.generator.res_blcks: unknown key; did
            you mean 'res_blocks'?``.
    """
    data = {"name": "model", "method": spec.get("method"), "data": {"size": spec.get("size")},
            **{section: spec[section] for section in ("nets", "losses", "augment") if spec.get(section)}}
    return recipe_from_dict(data, source, registry)
