"""Tests of the example plugin; keep them this fast (tiny tensors, no downloads)."""
from __future__ import annotations

import pytest
import torch

from toonkit.testing import check_plugin_components


def test_every_component_builds_and_runs_forward_backward() -> None:
    report = check_plugin_components("toonkit_example.plugin")
    assert set(report.checked) == {"loss/charbonnier"}


def test_registered_with_typed_defaults(toonkit_registry_factory) -> None:
    registry = toonkit_registry_factory("toonkit_example.plugin")
    entry = registry.get("loss", "charbonnier")
    assert entry.summary.startswith("Charbonnier loss")
    assert {p.name: p.default for p in entry.params} == {"eps": 1e-3, "reduction": "mean"}
    assert ("generator", "cartoongan") in registry  # toonkit's own components are there too


def test_charbonnier_values(toonkit_registry_factory) -> None:
    loss = toonkit_registry_factory("toonkit_example.plugin").build("loss", "charbonnier", eps=1e-6)
    x = torch.tensor([[[[0.0, 3.0]]]])
    y = torch.tensor([[[[0.0, -1.0]]]])
    assert float(loss(x, y)) == pytest.approx((1e-6 + 4.0) / 2, rel=1e-5)  # ≈ mean |x − y|
    with pytest.raises(ValueError, match="differ in shape"):
        loss(x, y[..., :1])
