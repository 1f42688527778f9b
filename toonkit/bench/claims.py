"""The suite's claims in words, each with a paired bootstrap interval over the test photos.

A claim ("method is better than baseline on these columns") is stated only when the difference is larger
than its uncertainty: the per-photo differences (method − baseline, on the photos both have a value for)
are resampled with replacement ``N_RESAMPLES`` times with a fixed seed, and the percentile interval of
their mean is reported. When that interval contains 0 the report says that no difference is established.
The interval covers the choice of test photos only, not the training seed: one training run per method
cannot show the spread between seeds, and the report says so.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

if TYPE_CHECKING:
    from toonkit.bench.columns import Scores
    from toonkit.bench.result import BenchResult

N_RESAMPLES = 1000
CONFIDENCE = 0.95
SEED = 0


@dataclass(frozen=True)
class Interval:
    """Mean per-photo difference ``a − b`` and its bootstrap interval, over ``n`` paired photos."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.n >= 2 and (self.low > 0 or self.high < 0)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], n_resamples: int = N_RESAMPLES,
                     confidence: float = CONFIDENCE, seed: int = SEED) -> Interval:
    """Percentile bootstrap interval of the mean of ``a[i] − b[i]`` over the photos where both are finite.

    Resampling the photos (the same photo for both methods) keeps the pairing, so the shared difficulty of
    a photo cancels. Fewer than two pairs give NaN bounds.

    Args:
        a: per-photo values of one method.
        b: per-photo values of the other, same photos in the same order.
        n_resamples: bootstrap resamples.
        confidence: coverage of the interval.
        seed: seed of the resampling, so a report is reproducible.

    Example:
        >>> iv = paired_bootstrap([1.0, 2.0, 3.0, 4.0], [0.0, 1.1, 1.9, 3.0])
        >>> round(iv.mean, 3), iv.excludes_zero
        (1.0, True)
    """
    from scipy.stats import bootstrap

    if len(a) != len(b):
        raise ValueError(f"paired bootstrap needs one value per photo for both methods, got {len(a)} and {len(b)}")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = (x - y)[np.isfinite(x) & np.isfinite(y)]
    if d.size < 2:
        return Interval(float(d.mean()) if d.size else math.nan, math.nan, math.nan, int(d.size))
    if np.all(d == d[0]):  # every resample has the same mean; scipy warns about degenerate data
        return Interval(float(d[0]), float(d[0]), float(d[0]), int(d.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small sets: scipy warns that the distribution is degenerate
        res = bootstrap((d,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                        method="percentile", rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return Interval(float(d.mean()), float(ci.low), float(ci.high), int(d.size))


def _ci(low: float, high: float) -> str:
    from toonkit.bench.columns import fmt

    return f"{CONFIDENCE * 100:.0f} % CI [{fmt(low)}, {fmt(high)}]"


def _distances(values: Optional[Sequence[float]]) -> Optional[list[float]]:
    return None if values is None else [abs(v) for v in values]


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def claim_line(method: str, baseline: str, what: str, higher_is_better: Optional[bool], va: float, vb: float,
               per_a: Optional[Sequence[float]], per_b: Optional[Sequence[float]]) -> tuple[str, Optional[bool]]:
    """One column of a claim as a Markdown list item, and whether ``method`` is established as better
    (None: nothing established). ``higher_is_better`` None: a signed shift, compared by its distance
    from 0 photo by photo."""
    from toonkit.bench.columns import better_words, fmt

    if higher_is_better is None:
        what, higher_is_better = f"|{what}| (distance from 0)", False
        per_a, per_b = _distances(per_a), _distances(per_b)
        va = _mean(per_a) if per_a else abs(va)
        vb = _mean(per_b) if per_b else abs(vb)
    head = f"- {what}, {better_words(higher_is_better)}"
    values = f"{fmt(va)} vs {fmt(vb)}"
    if not (math.isfinite(va) and math.isfinite(vb)):
        return f"{head}: cannot be compared, a value is missing ({values}).", None
    if not per_a or not per_b:
        return (f"{head}: no claim, this column has no per-photo values to put an interval on ({values}; "
                "a set-level measure)."), None
    iv = paired_bootstrap(per_a, per_b)
    n = f"over {iv.n} paired test photos"
    if iv.n < 2:
        return f"{head}: no claim, fewer than two photos have a value for both methods ({values}).", None
    if not iv.excludes_zero:
        return (f"{head}: no difference established ({_ci(iv.low, iv.high)} includes 0; {values}, mean "
                f"difference {fmt(iv.mean)} {n})."), None
    lower = iv.mean < 0
    gap, low, high = (-iv.mean, -iv.high, -iv.low) if lower else (iv.mean, iv.low, iv.high)
    better = lower != higher_is_better
    # a share of the baseline's value only means something when both values lie on the same side of 0
    # (a signed change such as face redness Δa* of -1.7 against +1.6 is not "204 %" of anything)
    pct = 100 * gap / abs(vb) if vb != 0 and va * vb > 0 else None
    rel = "" if pct is None else f", {pct:.0f} % of {baseline}'s value" if pct >= 10 else \
        f", {pct:.2g} % of {baseline}'s value"
    return (f"{head}: **{method} is {'lower' if lower else 'higher'} than {baseline} by {fmt(gap)}** "
            f"({_ci(low, high)}, {n}; {values}{rel}), so {method if better else baseline} is better "
            "here."), better


def claim_lines(result: BenchResult, scores: Optional[Scores] = None) -> list[str]:
    """Each suite claim in words, computed from the numbers whatever they say, each with its interval."""
    from toonkit.bench.columns import score_columns

    if scores is None:
        scores = score_columns(result)
    by_name = {r.plan.name: r for r in result.results}
    direction = {col: hib for _, col, hib in scores}
    labels = {col: getattr(metric, "name", col) for metric, col, _ in scores}
    lines: list[str] = []
    for claim in result.suite.spec.claims:
        a, b = by_name.get(claim.method), by_name.get(claim.baseline)
        if a is None or b is None:  # left out by --methods, or a plugin that is not installed
            lines += [f"{claim.method} against {claim.baseline}: not evaluated in this report "
                      f"({' and '.join(n for n, r in ((claim.method, a), (claim.baseline, b)) if r is None)} "
                      "left out).", ""]
            continue
        row_a, row_b = a.row, b.row
        pa, pb = (getattr(a, "per_image", {}) or {}), (getattr(b, "per_image", {}) or {})
        verdicts: list[Optional[bool]] = []
        body: list[str] = []
        for col in claim.columns:
            what = f"{labels.get(col, col).replace('_', ' ')} (`{col}`)"
            if col not in direction:
                body.append(f"- {what}: no metric of this suite produces this column.")
                continue
            line, verdict = claim_line(claim.method, claim.baseline, what, direction[col],
                                       row_a.get(col, math.nan), row_b.get(col, math.nan), pa.get(col), pb.get(col))
            body.append(line)
            verdicts.append(verdict)
        if verdicts:
            won, lost = verdicts.count(True), verdicts.count(False)
            lines.append(f"{claim.method} against {claim.baseline}: better on {won}, worse on {lost}, no difference "
                         f"established on {len(verdicts) - won - lost} of these {len(verdicts)} measures:")
        lines += body + [""]
    if lines:
        lines.append(f"Intervals: paired bootstrap of the per-photo differences ({N_RESAMPLES} resamples of the "
                     f"{len(result.stems)} test photos, seed {SEED}, percentile method); a difference is stated "
                     "only when its interval excludes 0. They cover the choice of test photos, not training: "
                     + _seeds_sentence(result, by_name))
    return lines


def _seeds_sentence(result: Any, by_name: dict[str, Any]) -> str:
    """What the claims say about training seeds: one run per method, and whether a comparison is repeated
    with other seeds (the only way a suite shows the spread between training runs)."""
    def seed(name: str) -> Any:
        recipe = getattr(by_name[name].plan, "recipe", None)
        return recipe.spec.train.seed if recipe is not None else None

    pairs = [(c.method, c.baseline) for c in result.suite.spec.claims
             if c.method in by_name and c.baseline in by_name]
    seeds = {(seed(a), seed(b)) for a, b in pairs}
    if len(seeds) <= 1:
        return (f"this is one training run per method (seed {result.suite.spec.budget.seed}) under the budget "
                "above, and the spread between training seeds is not measured.")
    runs = "; ".join(f"{a} {seed(a)}, {b} {seed(b)}" for a, b in pairs)
    return (f"each comparison is one training run per method (seeds: {runs}); the comparisons repeated with "
            "other seeds show how much the training run moves the figures.")


__all__ = ["CONFIDENCE", "N_RESAMPLES", "SEED", "Interval", "claim_line", "claim_lines", "paired_bootstrap"]
