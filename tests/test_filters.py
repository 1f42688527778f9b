"""The non-learned filters the bench uses as zero points."""
from __future__ import annotations

import pytest
import torch

import toonkit


def test_photo_filter_returns_its_input() -> None:
    x = torch.rand(2, 3, 16, 20) * 2 - 1
    assert torch.equal(toonkit.build("filter", "photo")(x), x)


def test_stylization_flattens_texture_and_keeps_size() -> None:
    pytest.importorskip("cv2")
    torch.manual_seed(0)
    x = (torch.rand(1, 3, 1, 1) * 0.5 + torch.randn(1, 3, 48, 40) * 0.15).clamp(-1, 1)
    y = toonkit.build("filter", "stylization")(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    # an edge-preserving smoother: far less pixel noise than its input
    assert float(y.std(dim=(2, 3)).mean()) < 0.5 * float(x.std(dim=(2, 3)).mean())


def test_stylization_rejects_parameters_out_of_range() -> None:
    with pytest.raises(ValueError, match="sigma_s"):
        toonkit.build("filter", "stylization", sigma_s=0.0)
