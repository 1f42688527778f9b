"""Two report sections that put a model next to doing nothing and next to every skin tone.

- **Style distance against the zero point.** A KID of 0.05 means little alone; divided by the KID of
  the unchanged photos (the suite's ``zero_point``, usually a ``photo`` filter) it says how far a method
  went from doing nothing towards the style (1: no closer than the photo; 0: as close as the style's own
  images). The interval resamples the test photos (paired: the same photos for the method and the zero
  point) and the reference cartoons.
- **Skin tone per ITA° group.** The ``skin_tone`` metric's per-photo shifts, grouped by the photo's ITA°
  class, each group with its photo count and a bootstrap interval of its mean.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from toonkit.bench.claims import CONFIDENCE, N_RESAMPLES, SEED, Interval, paired_bootstrap
from toonkit.bench.columns import fmt, markdown_table as _table

if TYPE_CHECKING:
    from toonkit.bench.result import BenchResult

EMBEDDING = "style_distance"  # the metric whose per-photo embeddings the ratio resamples


@dataclass(frozen=True)
class Ratio:
    """A method's whole-set KID divided by the zero point's, with its bootstrap interval."""

    value: float
    low: float
    high: float
    resamples: int  # resamples where the zero point's KID was positive (the ratio is defined)


def _poly_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def _mmd(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    m, n = kxx.shape[0], kyy.shape[0]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid_ratio(method: np.ndarray, zero: np.ndarray, references: np.ndarray, n_resamples: int = N_RESAMPLES,
              confidence: float = CONFIDENCE, seed: int = SEED) -> Ratio:
    """``KID(references, method) / KID(references, zero)`` on whole sets, with a percentile interval.

    Each resample draws the test photos with replacement (the same draw for ``method`` and ``zero``, which
    are outputs for the same photos) and the references with replacement, and recomputes both unbiased
    KIDs (:func:`toonkit.metrics.kid_unbiased`'s kernel). Resamples where the zero point's KID is not
    positive have no ratio and are dropped (``resamples`` counts the rest).

    Shape:
        - method, zero: :math:`(N, D)` features of the same N photos' outputs; references :math:`(M, D)`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> refs = rng.normal(1.0, 1.0, (30, 8)); photo = rng.normal(0.0, 1.0, (20, 8))
        >>> kid_ratio(photo, photo, refs, n_resamples=50).value
        1.0
    """
    method, zero, references = (np.asarray(a, dtype=float) for a in (method, zero, references))
    k_rr = _poly_kernel(references, references)
    k_mm, k_zz = _poly_kernel(method, method), _poly_kernel(zero, zero)
    k_mr, k_zr = _poly_kernel(method, references), _poly_kernel(zero, references)
    value = _mmd(k_rr, k_mm, k_mr.T) / _mmd(k_rr, k_zz, k_zr.T) if _mmd(k_rr, k_zz, k_zr.T) > 0 else math.nan
    rng = np.random.default_rng(seed)
    n, m = method.shape[0], references.shape[0]
    ratios = []
    for _ in range(n_resamples):
        i, j = rng.integers(0, n, n), rng.integers(0, m, m)
        rr = k_rr[np.ix_(j, j)]
        base = _mmd(rr, k_zz[np.ix_(i, i)], k_zr[np.ix_(i, j)].T)
        if base > 0:
            ratios.append(_mmd(rr, k_mm[np.ix_(i, i)], k_mr[np.ix_(i, j)].T) / base)
    if len(ratios) < 2:
        return Ratio(value, math.nan, math.nan, len(ratios))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return Ratio(value, float(low), float(high), len(ratios))


def zero_point_lines(result: BenchResult) -> list[str]:
    """The section "Distance from doing nothing": each method's KID as a ratio to the zero point's."""
    zp = result.suite.spec.zero_point
    if zp is None:
        return []
    by_name = {r.plan.name: r for r in result.results}
    zero = by_name.get(zp.method)
    head = ["## Distance from doing nothing", ""]
    if zero is None or EMBEDDING not in zero.embeddings:
        return head + [f"Not computed: the zero point `{zp.method}` was not evaluated in this report, or "
                       f"without the `{EMBEDDING}` metric.", ""]
    refs = zero.embeddings[EMBEDDING + "/references"].double().numpy()
    z = zero.embeddings[EMBEDDING].double().numpy()
    rows = []
    for r in result.results:
        if r.plan.name == zp.method or EMBEDDING not in r.embeddings:
            continue
        ratio = kid_ratio(r.embeddings[EMBEDDING].double().numpy(), z, refs)
        verdict = ("closer to the style than the photo" if ratio.high < 1 else
                   "further from the style than the photo" if ratio.low > 1 else "no difference established")
        rows.append(f"| {r.plan.name} | {fmt(ratio.value)} | [{fmt(ratio.low)}, {fmt(ratio.high)}] | {verdict} |")
    n, m = len(result.stems), refs.shape[0]
    return head + [
        f"Each method's KID to the reference cartoons (whole-set unbiased estimate on the `{EMBEDDING}` "
        f"embedding) divided by that of `{zp.method}`: 1 is no closer to the style than `{zp.method}`, lower is "
        f"closer. Interval: {CONFIDENCE * 100:.0f} % percentile bootstrap, {N_RESAMPLES} resamples of the "
        f"{n} test photos (paired between the method and `{zp.method}`) and of the {m} references, seed {SEED}.",
        "", "| method | KID ratio to " + zp.method + " | " + f"{CONFIDENCE * 100:.0f} % CI | |", "|---|---|---|---|",
        *rows, ""]


# -- skin tone by ITA° group ---------------------------------------------------------------------------
SKIN_COLUMNS = (("skin_dL*", "ΔL*"), ("skin_da*", "Δa*"), ("skin_db*", "Δb*"), ("skin_dITA", "ΔITA°"))


def _group_cell(values: Sequence[float], members: list[int]) -> str:
    picked = [values[i] for i in members]
    finite = [v for v in picked if math.isfinite(v)]
    if not finite:
        return "—"
    iv: Interval = paired_bootstrap(picked, [0.0] * len(picked))
    if iv.n < 2 or not math.isfinite(iv.low):
        return f"{iv.mean:+.1f}"
    return f"{iv.mean:+.1f} [{iv.low:+.1f}, {iv.high:+.1f}]"


def skin_group_lines(result: BenchResult, min_photos: int = 3) -> list[str]:
    """The section "Skin tone by ITA° group": per group and method, the mean shift of each skin column."""
    from toonkit.metrics.skin import ITA_GROUPS, ita_group

    with_skin = [r for r in result.results if "skin_ITA" in r.per_image]
    if not with_skin:
        return []
    ita = with_skin[0].per_image["skin_ITA"]
    groups: dict[str, list[int]] = {name: [] for name, _, _ in ITA_GROUPS}
    for i, value in enumerate(ita):
        name = ita_group(value)
        if name is not None:
            groups[name].append(i)
    bounds = {name: (low, high) for name, low, high in ITA_GROUPS}
    lines = ["## Skin tone by ITA° group", "",
             "Mean shift of the person's skin colour, output − photo, on the skin pixels of each test photo "
             "(person mask ∩ the YCbCr skin rule on the photo, `skin_tone` metric), by the photo's ITA° "
             "group (Del Bino et al.); in brackets the "
             f"{CONFIDENCE * 100:.0f} % bootstrap interval of the group's mean. ΔL* > 0: lighter skin. "
             f"Groups with fewer than {min_photos} photos are shown but say little. ITA° measured on photos "
             "depends on the light as well as the skin: a face in shade reads darker.", ""]
    counts = ", ".join(f"{name} {len(m)}" for name, m in groups.items())
    lines += [f"Photos per group: {counts}; "
              f"{sum(1 for v in ita if not math.isfinite(v))} photo(s) show too little skin to classify.", ""]
    for col, label in SKIN_COLUMNS[:2]:
        header = ["method"] + [f"{name} ({_range(*bounds[name])}, n={len(m)})" for name, m in groups.items()]
        rows = [[r.plan.name] + [_group_cell(r.per_image.get(col, []), m) if r.per_image.get(col) else "—"
                                 for m in groups.values()] for r in with_skin]
        lines += [f"**{label}** (`{col}`)", ""] + _table(header, rows) + [""]
    return lines


def _range(low: float, high: float) -> str:
    if math.isinf(high):
        return f"> {low:g}°"
    if math.isinf(low):
        return f"< {high:g}°"
    return f"{low:g}–{high:g}°"


def group_means(result: BenchResult, method: str, column: str) -> dict[str, tuple[int, Optional[float]]]:
    """``{group: (photos, mean of column)}`` for one method (what a test or a model card quotes)."""
    from toonkit.metrics.skin import ITA_GROUPS, ita_group

    r = next(x for x in result.results if x.plan.name == method)
    ita, values = r.per_image.get("skin_ITA", []), r.per_image.get(column, [])
    out: dict[str, tuple[int, Optional[float]]] = {}
    for name, _, _ in ITA_GROUPS:
        picked = [v for t, v in zip(ita, values) if ita_group(t) == name and math.isfinite(v)]
        out[name] = (len(picked), float(np.mean(picked)) if picked else None)
    return out
