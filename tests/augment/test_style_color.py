"""The style-image colour jitter: one colour change per cartoon, shared with its smoothed twin."""
from __future__ import annotations

import pytest
import torch

import toonkit
from toonkit.augment import StyleColorJitter


def test_a_cartoon_and_its_twin_get_the_same_change() -> None:
    torch.manual_seed(0)
    cartoon = torch.rand(6, 3, 16, 16) * 2 - 1
    a, b = StyleColorJitter(p=1.0)(cartoon, cartoon.clone())
    assert torch.equal(a, b) and not torch.allclose(a, cartoon)


def test_the_jitter_mostly_darkens_with_p_dark_one() -> None:
    torch.manual_seed(0)
    pale = torch.full((64, 3, 8, 8), 0.6)  # a pale skin-like grey-pink in [-1, 1]
    out = StyleColorJitter(max_gamma=2.5, p_dark=1.0, saturation=0.0, hue=0.0, p=1.0)(pale)
    assert bool((out.mean(dim=(1, 2, 3)) <= 0.6 + 1e-4).all()) and float(out.mean()) < 0.4


def test_identity_when_p_is_zero_and_registered() -> None:
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.allclose(toonkit.build("augmenter", "style_jitter", p=0.0)(x), x, atol=1e-5)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="max_gamma"):
        StyleColorJitter(max_gamma=0.5)
