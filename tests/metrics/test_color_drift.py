"""CIEDE2000 against Sharma et al.'s published pairs, and the colour-drift metric on known cases."""
from __future__ import annotations

import pytest
import torch

from toonkit.metrics import ColorDrift, EvalContext, delta_e_ciede2000
from toonkit.metrics.color import masked_blur

# Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, ΔE00. All 34 pairs; they include the hue
# wrap-around cases (pairs 9-16) and achromatic/near-achromatic colours (7, 8, 33, 34).
SHARMA = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ciede2000_matches_sharma_pairs(dtype: torch.dtype) -> None:
    data = torch.tensor(SHARMA, dtype=dtype)
    # as images: (34, 3, 1, 1), channels at dim -3 like kornia's rgb_to_lab output
    lab1, lab2 = data[:, 0:3, None, None], data[:, 3:6, None, None]
    expected = data[:, 6].double()
    got = delta_e_ciede2000(lab1, lab2)
    assert got.shape == (34, 1, 1)
    torch.testing.assert_close(got.flatten().double(), expected, atol=1e-3, rtol=0)
    # the formula is symmetric in its two colours
    torch.testing.assert_close(delta_e_ciede2000(lab2, lab1).flatten().double(), expected, atol=1e-3, rtol=0)


def test_ciede2000_channel_dim_and_zero() -> None:
    data = torch.tensor(SHARMA)
    torch.testing.assert_close(delta_e_ciede2000(data[:, :3], data[:, 3:6], dim=-1), data[:, 6], atol=1e-3,
                               rtol=0)
    lab = torch.tensor([[50.0, 0.0, 0.0], [30.0, 20.0, -10.0]])
    assert torch.equal(delta_e_ciede2000(lab, lab, dim=-1), torch.zeros(2))


def test_identity_translate_has_zero_drift(portraits) -> None:
    images, masks = portraits
    ctx = EvalContext(inputs=images, masks=masks, translate=lambda x: x)
    assert ColorDrift()(ctx) == {"dE2000": 0.0}


def test_painting_with_background_colour_drifts(portraits, paint) -> None:
    images, masks = portraits
    drift = ColorDrift()(EvalContext(inputs=images, outputs=paint(images), masks=masks))["dE2000"]
    assert drift > 20  # warm skin painted cool blue: far beyond a just-noticeable difference (~1)


def test_drift_ignores_texture_and_background(portraits) -> None:
    images, masks = portraits
    # zero-mean fine noise on the person and a different background: colour unchanged after blurring
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(1)) * 0.05
    outputs = torch.where(masks > 0.5, images + noise, torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1))
    drift = ColorDrift()(EvalContext(inputs=images, outputs=outputs, masks=masks))["dE2000"]
    assert drift < 1.0
    # a uniform shift of the person's colour is measured
    shifted = torch.where(masks > 0.5, images + torch.tensor([0.0, 0.0, 0.2]).view(1, 3, 1, 1), images)
    assert ColorDrift()(EvalContext(inputs=images, outputs=shifted, masks=masks))["dE2000"] > 5


def test_masked_blur_does_not_mix_background() -> None:
    img = torch.zeros(1, 3, 32, 32)
    img[..., :, 16:] = 1.0
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., :, 16:] = 1.0
    out = masked_blur(img, mask, sigma=3.0)
    torch.testing.assert_close(out[..., :, 16:], torch.ones(1, 3, 32, 16))


def test_color_drift_without_masks_uses_whole_image(portraits, paint) -> None:
    images, _ = portraits
    assert ColorDrift()(EvalContext(inputs=images, outputs=images))["dE2000"] == 0.0
    assert ColorDrift()(EvalContext(inputs=images, outputs=paint(images)))["dE2000"] > 5  # person only ~half
