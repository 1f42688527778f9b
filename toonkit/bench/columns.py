"""Score columns and number formatting shared by the report and the claims (both import this module,
neither imports the other's writer)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Optional

from toonkit.bench.measure import metric_columns

if TYPE_CHECKING:
    from toonkit.bench.result import BenchResult


def fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    a = abs(value)
    if a < 1e-9:
        return "0"
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def merged_order(sequences: Iterable[Sequence[str]]) -> list[str]:
    """The names of several sequences in one order that keeps each sequence's own order (a stable
    topological merge; where sequences disagree, first seen comes first). Reports show the phases of
    several methods this way: each method's :attr:`~toonkit.methods.base.Method.phases` is its order.

    Example:
        >>> merged_order([["init", "adversarial"], ["init", "masker", "adversarial"], ["adversarial"]])
        ['init', 'masker', 'adversarial']
    """
    seqs = [list(s) for s in sequences]
    names = list(dict.fromkeys(n for s in seqs for n in s))
    before: dict[str, set[str]] = {n: set() for n in names}
    for s in seqs:
        for i, n in enumerate(s):
            before[n].update(s[:i])
    out: list[str] = []
    while len(out) < len(names):
        left = [n for n in names if n not in out]
        ready = [n for n in left if before[n] <= set(out)]
        out.append((ready or left)[0])
    return out


#: a score column's direction: True higher is better, False lower, None closest to 0 (a signed shift such
#: as skin ΔL*, where the most negative value is the largest change, not the best)
Direction = Optional[bool]


def better_words(direction: Direction) -> str:
    """``'higher is better'``, ``'lower is better'`` or ``'closest to 0 is better'``."""
    return "closest to 0 is better" if direction is None else f"{'higher' if direction else 'lower'} is better"


def better_arrow(direction: Direction) -> str:
    """The short form of :func:`better_words` for axis labels: ``'↑'``, ``'↓'`` or ``'→ 0'``."""
    return "→ 0" if direction is None else "↑" if direction else "↓"


def best_of(values: list[float], direction: Direction) -> Optional[float]:
    """The best of ``values`` (non-finite ones ignored) in ``direction``; None when none is finite."""
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return None
    if direction is None:
        return min(finite, key=abs)
    return max(finite) if direction else min(finite)


def rankable(result: BenchResult, col: str) -> list[bool]:
    """Which methods may be ranked best on ``col``: for raw ``leakage``, only those whose normalised
    leakage is defined, so a method whose output ignores the person cannot win by leaking nothing."""
    rows = [r.row for r in result.results]
    if col == "leakage" and any("leakage_rel" in row for row in rows):
        return [math.isfinite(row.get("leakage_rel", math.nan)) for row in rows]
    return [True] * len(rows)


Scores = list[tuple[Any, str, Direction]]  # (metric, column, direction)


def score_columns(result: BenchResult) -> Scores:
    """(metric, column, direction) of every score column, spreads (``*_std``) excluded."""
    out = []
    for metric in result.metrics:
        own = metric_columns(metric)  # once per metric: with backend 'auto' it may load a network
        cols = [c for r in result.results for c in r.row if c in own] or list(own)
        for col in dict.fromkeys(cols):
            if not col.endswith("_std"):
                hib = getattr(metric, "higher_is_better", False)
                out.append((metric, col, None if hib is None else bool(hib)))
    return out
