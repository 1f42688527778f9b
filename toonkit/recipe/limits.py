"""Bounds on what a recipe may cost before it is validated: file size, YAML aliases and nesting, where
``base:`` may point, and parameter values that type-check but cannot run.

A few hundred bytes of YAML can otherwise make toonkit read forever (``/dev/zero``), expand a
"billion laughs" of aliases, or ask torch for a tensor of 2**63 channels. Each limit fails with one
line naming the file and key.

Settings (environment):
    TOONKIT_MAX_RECIPE_BYTES: largest recipe file read (default 1 MiB).
"""
from __future__ import annotations

import math
import os
import stat
import sys
import types
from pathlib import Path
from typing import Any

import yaml

MAX_RECIPE_BYTES = 1 << 20
MAX_NODES = 100_000  # values in the recipe once aliases are expanded
MAX_DEPTH = 32  # nesting of mappings and lists
# network sizes (channels, depths, block counts): far above any real model, so a typo or a fuzzed
# 2**63 is one line instead of an allocation that never ends
_WIDTHS = ("channels", "ndf", "ngf")
_DEPTHS = ("depth", "num_downs")
_COUNTS = ("blocks", "layers")
MAX_WIDTH, MAX_NET_DEPTH, MAX_BLOCKS, MAX_INT = 4096, 16, 256, 2**31 - 1


def _error(problem: str) -> Exception:
    from toonkit.recipe.errors import RecipeError

    return RecipeError([problem])


def max_recipe_bytes() -> int:
    """The recipe size limit: ``TOONKIT_MAX_RECIPE_BYTES`` or 1 MiB."""
    raw = os.environ.get("TOONKIT_MAX_RECIPE_BYTES", "")
    return int(raw) if raw.strip().isdigit() else MAX_RECIPE_BYTES


def read_text(path: str | Path, what: str = "recipe") -> str:
    """The UTF-8 text of a recipe file: a regular file no larger than :func:`max_recipe_bytes`.

    Raises:
        RecipeError: missing, not a regular file (a FIFO or ``/dev/zero`` would block or never end),
            too large, or not UTF-8.
    """
    src = str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _error(f"{src}: cannot read {what}: not a regular file")
        limit = max_recipe_bytes()
        if info.st_size > limit:
            raise _error(f"{src}: {what} is {info.st_size} bytes, above the limit of {limit} "
                         "(TOONKIT_MAX_RECIPE_BYTES)")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise _error(f"{src}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"{src}: {what} is not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str, src: str) -> Any:
    """``yaml.safe_load`` with the nesting and alias-expansion bounds applied.

    Raises:
        RecipeError: invalid YAML, nested deeper than 32 levels, or more than 100 000 values once
            aliases are expanded.
    """
    # PyYAML nests recursively, and deep flow nesting ("[[[[...") costs it quadratic time before its
    # RecursionError: a tight recursion limit for the load turns 1000 levels into an instant error
    if _nesting_hint(text) > 2 * MAX_DEPTH:
        raise _error(f"{src}: invalid YAML: nested too deeply (limit {MAX_DEPTH} levels)")
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(min(previous, _stack_depth() + 40 + 8 * MAX_DEPTH))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise _error(f"{src}: {where}invalid YAML: {problem}") from None
    except RecursionError:
        raise _error(f"{src}: invalid YAML: nested too deeply (limit {MAX_DEPTH} levels)") from None
    finally:
        sys.setrecursionlimit(previous)
    _check_size(data, src)
    return data


def _nesting_hint(text: str) -> int:
    """An upper estimate of the nesting in ``text`` read in one linear pass, before PyYAML, whose scanner
    takes quadratic time on deep flow nesting: the deepest run of unquoted brackets, or the deepest
    indentation (in characters)."""
    depth = best = 0
    quote, comment, prev = "", False, "\n"
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"" and prev in " \t\n:[{,-":
            quote = ch
        elif ch == "#" and prev in " \t\n":
            comment = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        if not ch.isspace() or ch == "\n":
            prev = ch
        elif prev != "\n":
            prev = " "
    indent = max((len(line) - len(line.lstrip(" \t")) for line in text.splitlines()), default=0)
    return max(best, indent // 4)


def _stack_depth() -> int:
    frame: types.FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _check_size(data: Any, src: str) -> None:
    count = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:  # iterative: bounded work even when aliases share one subtree many times
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _error(f"{src}: recipe expands to more than {MAX_NODES} values (YAML aliases?)")
        if depth > MAX_DEPTH:
            raise _error(f"{src}: recipe is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def base_path(recipe: str | Path, base: str) -> Path:
    """Where ``base:`` points: a ``.yaml``/``.yml`` file, relative to the recipe's folder.

    Raises:
        RecipeError: ``base`` has another suffix (``/dev/zero``, a photo, the run's checkpoint ...).
    """
    path = Path(recipe).parent / base
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise _error(f"{recipe}: base: expected a .yaml recipe file, got {base!r}")
    return path


def value_problem(name: str, value: Any, kind: str) -> str | None:
    """Why component parameter ``name`` = ``value`` cannot run, or None.

    Non-finite floats are refused everywhere; integers are bounded; network widths, depths and
    block counts must be positive (counts may be 0) and bounded.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if isinstance(value, (list, tuple)):
        for v in value:
            why = value_problem(name, v, kind)
            if why:
                return why
        return None
    if not isinstance(value, int):
        return None
    if abs(value) > MAX_INT:
        return f"must be at most {MAX_INT} in size, got {value!r}"
    if kind not in ("generator", "discriminator", "masker"):
        return None
    if name.endswith(_WIDTHS) and not 1 <= value <= MAX_WIDTH:
        return f"must be in 1..{MAX_WIDTH}, got {value!r}"
    if name in _DEPTHS and not 1 <= value <= MAX_NET_DEPTH:
        return f"must be in 1..{MAX_NET_DEPTH}, got {value!r}"
    if name.endswith(_COUNTS) and not 0 <= value <= MAX_BLOCKS:
        return f"must be in 0..{MAX_BLOCKS}, got {value!r}"
    return None
