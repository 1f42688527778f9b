"""Losses: adversarial targets per mode, edge promotion, content/style/segmentation/L1 values."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import toonkit
from toonkit.features import VGGFeatures
from toonkit.losses import (
    AdversarialLoss,
    ContentLoss,
    EdgePromotingLoss,
    GramStyleLoss,
    SegmentationLoss,
    gram_matrix,
)

ONES, ZEROS = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)


def test_lsgan_targets() -> None:
    adv = AdversarialLoss("lsgan")
    assert adv(ONES, target_is_real=True) == 0
    assert adv(ZEROS, target_is_real=False) == 0
    assert adv(ZEROS, target_is_real=True) == 1
    assert adv(ONES, target_is_real=False) == 1
    assert adv.generator_loss(ONES) == 0  # G wants D to say real (1)


def test_bce_targets() -> None:
    adv = AdversarialLoss("bce")
    assert adv(ZEROS, True) == pytest.approx(math.log(2))
    assert adv(ONES * 30, True) < 1e-6 and adv(-ONES * 30, False) < 1e-6
    assert adv(ONES * 30, False) == pytest.approx(30, rel=1e-3)
    x = torch.randn(4, 1, 5, 5)
    assert torch.allclose(adv(x, True), F.binary_cross_entropy(torch.sigmoid(x), torch.ones_like(x)), atol=1e-5)
    # non-saturating generator loss: the same "real" target as D's
    assert adv.generator_loss(x) == adv(x, True)


def test_hinge_targets() -> None:
    adv = AdversarialLoss("hinge")
    assert adv(ONES, True) == 0 and adv(ZEROS, True) == 1 and adv(ONES * 3, True) == 0
    assert adv(-ONES, False) == 0 and adv(ZEROS, False) == 1
    x = torch.randn(2, 1, 4, 4)
    assert adv(x, True, for_discriminator=False) == -x.mean()
    with pytest.raises(ValueError, match="target_is_real=True"):
        adv(x, False, for_discriminator=False)


@pytest.mark.parametrize("mode", ["bce", "lsgan", "hinge"])
def test_discriminator_loss_is_real_plus_fake(mode: str) -> None:
    adv = AdversarialLoss(mode)
    real, fake = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    assert torch.allclose(adv.discriminator_loss(real, fake), adv(real, True) + adv(fake, False))


def test_bad_mode_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'lsgan'"):
        AdversarialLoss("lsgn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="did you mean 'hinge'"):
        toonkit.build("loss", "edge_promoting", mode="hing")


@pytest.mark.parametrize("mode", ["bce", "lsgan", "hinge"])
def test_edge_promoting(mode: str) -> None:
    loss = EdgePromotingLoss(mode)
    adv = AdversarialLoss(mode)
    torch.manual_seed(0)  # the signs below hold for almost every draw; a fixed one keeps the test deterministic
    c, e, g = (torch.randn(2, 1, 4, 4, requires_grad=True) for _ in range(3))
    value = loss(c, e, g)
    assert torch.allclose(value, adv(c, True) + adv(e, False) + adv(g, False))
    value.backward()
    # D is pushed to raise its logits on cartoons and to lower them on smoothed and generated images
    assert c.grad.sum() < 0 and e.grad.sum() > 0 and g.grad.sum() > 0
    assert loss.generator_loss(g.detach()) == adv.generator_loss(g.detach())
    assert loss.mode == mode


def test_edge_promoting_perfect_discriminator() -> None:
    loss = EdgePromotingLoss("lsgan")
    assert loss(ONES, ZEROS, ZEROS) == 0
    assert loss(ONES, ONES, ZEROS) == 1  # calling smoothed cartoons real is penalised


def test_content_on_features() -> None:
    content = ContentLoss()
    a, b = torch.randn(2, 8, 4, 4, requires_grad=True), torch.randn(2, 8, 4, 4, requires_grad=True)
    assert torch.allclose(content(a, b), (a - b).abs().mean())
    content(a, b).backward()
    assert a.grad is not None and b.grad is None  # the target side is a constant
    layers = {"x": torch.zeros(1, 2, 2, 2), "y": torch.ones(1, 3, 2, 2)}
    target = {"x": torch.ones(1, 2, 2, 2), "y": torch.ones(1, 3, 2, 2)}
    assert content(layers, target) == pytest.approx(0.5)  # mean over layers of per-layer means
    with pytest.raises(ValueError, match="different layers"):
        content(layers, {"y": target["y"], "x": target["x"]})


def test_content_through_feature_extractor() -> None:
    torch.manual_seed(0)
    vgg = VGGFeatures("vgg16", "relu2_1", weights="random")
    content = ContentLoss()
    fake = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    photo = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    with pytest.deprecated_call(match="features=net"):  # kept working for callers outside toonkit
        value = content(fake, photo, features=vgg)
    assert torch.allclose(value, (vgg(fake) - vgg(photo)).abs().mean())
    value.backward()
    assert fake.grad.abs().sum() > 0 and photo.grad is None
    with pytest.deprecated_call():
        assert content(photo, photo, features=vgg) == 0


def test_gram_matrix_values() -> None:
    x = torch.randn(2, 3, 4, 5)
    g = gram_matrix(x)
    f = x.reshape(2, 3, 20)
    assert g.shape == (2, 3, 3)
    assert torch.allclose(g, torch.einsum("nci,ndi->ncd", f, f) / (3 * 20), atol=1e-6)
    assert torch.allclose(g, g.transpose(1, 2))


def test_gram_style_loss() -> None:
    style = GramStyleLoss()
    a = [torch.randn(3, 4, 8, 8, requires_grad=True), torch.randn(3, 8, 4, 4, requires_grad=True)]
    t = [torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)]
    value = style(a, t)
    expected = sum(F.mse_loss(gram_matrix(x), gram_matrix(y).expand(3, -1, -1)) for x, y in zip(a, t)) / 2
    assert torch.allclose(value, expected)
    # precomputed target Grams give the same loss, so a style image is processed once
    assert torch.allclose(style(a, [gram_matrix(y) for y in t]), value)
    assert style(a, a) == 0
    value.backward()
    assert all(x.grad.abs().sum() > 0 for x in a)


def test_weighted_gram_is_the_gram_of_the_weighted_region() -> None:
    x = torch.randn(2, 3, 4, 6)
    assert torch.allclose(gram_matrix(x, torch.ones(2, 1, 4, 6)), gram_matrix(x), atol=1e-6)
    # a mask at twice the feature resolution is area-resized: weight 1 on the right half of each map
    mask = torch.zeros(2, 1, 8, 12)
    mask[..., 6:] = 1
    assert torch.allclose(gram_matrix(x, mask), gram_matrix(x[..., 3:]), atol=1e-6)
    # what lies outside the region does not change it, and an empty region gives a zero Gram
    y = x.clone()
    y[..., :3] = torch.randn(2, 3, 4, 3)
    assert torch.allclose(gram_matrix(y, mask), gram_matrix(x, mask), atol=1e-6)
    assert not torch.allclose(gram_matrix(y), gram_matrix(x), atol=1e-3)
    assert gram_matrix(x, torch.zeros(2, 1, 4, 6)).abs().max() == 0


def test_gram_style_loss_takes_precomputed_input_grams() -> None:
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    t = torch.randn(1, 4, 6, 6)
    style = GramStyleLoss()
    assert torch.allclose(style([gram_matrix(x)], [t]), style([x], [t]))
    style([gram_matrix(x, torch.rand(2, 1, 6, 6))], [t]).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_gram_in_float32_under_autocast() -> None:
    x = torch.randn(1, 16, 8, 8).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g = gram_matrix(x)
    assert g.dtype == torch.float32


def test_segmentation_is_bce() -> None:
    seg = SegmentationLoss()
    logits, mask = torch.randn(2, 1, 8, 8), torch.rand(2, 1, 8, 8)  # soft masks are fine
    assert torch.allclose(seg(logits, mask), F.binary_cross_entropy(torch.sigmoid(logits), mask), atol=1e-5)
    assert seg(torch.full((1, 1, 2, 2), 30.0), torch.ones(1, 1, 2, 2)) < 1e-6
    with pytest.raises(ValueError, match="differ in shape"):
        seg(logits, mask[:, :, :4])


@pytest.mark.parametrize("name", ["cycle", "identity", "pixel"])
def test_l1_losses(name: str) -> None:
    loss = toonkit.build("loss", name)
    a, b = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    assert torch.allclose(loss(a, b), (a - b).abs().mean())
    assert loss(a, a) == 0


@pytest.mark.parametrize("name", ["adversarial", "edge_promoting", "segmentation", "content", "pixel"])
def test_float32_result_under_bf16_autocast(name: str) -> None:
    loss = toonkit.build("loss", name)
    x = torch.randn(2, 1, 4, 4, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        if name == "adversarial":
            value = loss(x, True)
        elif name == "edge_promoting":
            value = loss(x, x, x)
        elif name == "segmentation":
            value = loss(x, torch.rand(2, 1, 4, 4))
        else:
            value = loss(x, torch.zeros_like(x))
    assert value.dtype == torch.float32 and torch.isfinite(value)


def test_color_consistency_ignores_texture_inside_a_block_but_not_a_colour_shift() -> None:
    import toonkit

    torch.manual_seed(0)
    loss = toonkit.build("loss", "color_consistency", scale=8)
    photo = (torch.rand(2, 3, 1, 1) * 0.5 + 0.1 * torch.randn(2, 3, 32, 32)).clamp(-1, 1)
    # a checkerboard of ±0.1 within each 8×8 block keeps the block means: a repainted texture
    checker = ((torch.arange(32)[:, None] + torch.arange(32)[None]) % 2).float() * 0.2 - 0.1
    textured = (photo + checker).clamp(-1, 1)
    paler = (photo + 0.4).clamp(-1, 1)
    assert float(loss(textured, photo)) < 0.25 * float(loss(paler, photo))
    x = photo.clone().requires_grad_(True)
    loss(x, paler).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
