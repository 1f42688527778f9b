"""Ranking directions of score columns: signed shifts (skin ΔL*) are best at 0, not at their minimum."""
from __future__ import annotations

import math
from types import SimpleNamespace

from toonkit.bench.claims import claim_line
from toonkit.bench.columns import best_of, better_words, score_columns
from toonkit.metrics.skin import SkinTone


def test_best_of_follows_the_direction() -> None:
    values = [-10.5, 0.4, -1.0, 4.9, math.nan]
    assert best_of(values, True) == 4.9
    assert best_of(values, False) == -10.5
    assert best_of(values, None) == 0.4  # a filter that darkens skin by 10 L* is the worst, not the best
    assert best_of([math.nan], None) is None
    assert [better_words(d) for d in (True, False, None)] == [
        "higher is better", "lower is better", "closest to 0 is better"]


def test_skin_shift_columns_are_ranked_by_distance_from_zero() -> None:
    result = SimpleNamespace(metrics=[SkinTone()], results=[SimpleNamespace(row={"skin_dL*": -3.0})])
    directions = {col: d for _, col, d in score_columns(result)}
    assert directions == {"skin_dL*": None}


def test_a_claim_on_a_signed_shift_compares_distances_from_zero() -> None:
    darker = [-5.0, -6.0, -4.0, -5.5, -4.5, -5.0]  # signed: lower than the baseline on every photo
    slight = [1.0, 0.5, 1.5, 1.0, 0.8, 1.2]
    line, better = claim_line("a", "b", "skin_dL*", None, sum(darker) / 6, sum(slight) / 6, darker, slight)
    assert better is False and "|skin_dL*|" in line and "so b is better" in line
    line, better = claim_line("b", "a", "skin_dL*", None, sum(slight) / 6, sum(darker) / 6, slight, darker)
    assert better is True and "so b is better" in line
