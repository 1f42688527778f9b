"""Every metric is registered, builds with no arguments (no weights needed) and follows the API."""
from __future__ import annotations

import pytest

from toonkit import metrics
from toonkit.metrics import EvalContext, Metric
from toonkit.registry import Registry

NAMES = ("style_distance", "lpips", "background_leakage", "color_drift", "face_redness", "skin_tone")


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    metrics.register(reg)
    return reg


def test_all_metrics_registered(registry: Registry) -> None:
    assert sorted(e.name for e in registry.list("metric")) == sorted(NAMES)
    for entry in registry.list("metric"):
        assert entry.summary, entry.name
        assert all(p.default is not p.REQUIRED for p in entry.params), entry.name


SIGNED_SHIFTS = {"skin_tone"}


@pytest.mark.parametrize("name", NAMES)
def test_build_without_arguments_or_weights(registry: Registry, name: str, no_weights) -> None:
    metric = registry.build("metric", name)
    assert isinstance(metric, Metric) and metric.name == name
    # distances and errors: lower is better; signed shifts (skin ΔL*, ΔITA): closest to 0
    assert metric.higher_is_better is (None if name in SIGNED_SHIFTS else False)
    assert metric.columns() and all(isinstance(c, str) for c in metric.columns())
    assert not any(c.startswith("FID") for c in metric.columns())  # no Inception here


def test_columns_match_what_is_returned(portraits, paint) -> None:
    images, masks = portraits
    ctx = EvalContext(inputs=images, masks=masks, translate=paint)
    for metric in (metrics.BackgroundLeakage(), metrics.ColorDrift()):
        assert tuple(metric(ctx)) == metric.columns()


def test_missing_context_field_is_one_clear_error(portraits) -> None:
    images, _ = portraits
    with pytest.raises(ValueError, match="style_distance.*EvalContext.references"):
        metrics.StyleDistance()(EvalContext(inputs=images, outputs=images))
    with pytest.raises(ValueError, match="neither outputs nor a translate"):
        metrics.ColorDrift()(EvalContext(inputs=images))
