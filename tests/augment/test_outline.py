"""Outline augmenter: the morphological gradient of the gray image, pix2pix's input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from toonkit.augment.outline import Outline
from toonkit.imaging import rgb_to_gray


def test_step_edge_and_range() -> None:
    x = torch.full((2, 3, 8, 10), -1.0)
    x[..., 5:] = 1.0
    y = Outline()(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    row = y[0, 0, 3]
    assert row.tolist() == [-1, -1, -1, -1, 1, 1, -1, -1, -1, -1]
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])  # 3-channel gray
    assert torch.equal(Outline(invert=True)(x), -y)


def test_matches_opencv_morphological_gradient() -> None:
    cv2 = pytest.importorskip("cv2")
    torch.manual_seed(0)
    x = torch.rand(1, 3, 20, 24) * 2 - 1
    gray = rgb_to_gray(x)[0, 0].numpy().astype(np.float32)
    for k in (3, 5):
        kernel = np.ones((k, k), np.uint8)
        ref = np.abs(cv2.dilate(gray, kernel) - cv2.erode(gray, kernel)) - 1
        np.testing.assert_allclose(Outline(kernel=k)(x)[0, 0].numpy(), ref, atol=1e-6)


def test_backward() -> None:
    x = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_(True)
    Outline()(x).square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_params() -> None:
    with pytest.raises(ValueError):
        Outline(kernel=2)
    with pytest.raises(ValueError):
        Outline()(torch.zeros(1, 1, 8, 8))
