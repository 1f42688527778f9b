"""AnimeGANv2's networks and losses: shapes, formulas, and the toonkit component contract."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from toonkit_animegan import (
    AnimeGANDiscriminator,
    AnimeGANGenerator,
    ColorLoss,
    GrayStyleLoss,
    TotalVariationLoss,
    grayscale,
    rgb_to_yuv,
)
from torch import nn

from toonkit.testing import check_plugin_components

PACKAGE = Path(__file__).resolve().parents[1] / "toonkit_animegan"
# a fast stand-in for VGG19 (no weights to load) that keeps the method's wiring intact
SMALL_VGG = {"nets.feature": {"arch": "vgg16", "layer": "relu2_2", "weights": "random"}}


def test_every_component_builds_and_runs_forward_backward() -> None:
    report = check_plugin_components("animegan", slots=SMALL_VGG)
    assert set(report.checked) == {
        "generator/animegan", "discriminator/animegan", "loss/animegan_gray_style", "loss/animegan_color",
        "loss/total_variation", "method/animegan"}
    assert "train_step on phases init, adversarial" in report.checked["method/animegan"]


def test_generator_keeps_any_size_and_matches_animeganv2s_size() -> None:
    g = AnimeGANGenerator()
    assert sum(p.numel() for p in g.parameters()) == 2_143_552  # AnimeGANv2: about 2.1 M (8.6 MB fp32)
    y = AnimeGANGenerator(base_channels=8, res_blocks=1)(torch.rand(2, 3, 37, 50) * 2 - 1)
    assert y.shape == (2, 3, 37, 50) and y.abs().max() <= 1
    with pytest.raises(ValueError, match="H, W >= 4"):
        g(torch.zeros(1, 3, 3, 8))


def test_discriminator_is_spectral_normalised_patch_d() -> None:
    d = AnimeGANDiscriminator()
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 7 and all(hasattr(m, "parametrizations") for m in convs)
    assert all(m.bias is None for m in convs)
    assert d(torch.zeros(2, 3, 64, 48)).shape == (2, 1, 16, 12)
    plain = AnimeGANDiscriminator(base_channels=16, spectral=False)
    assert not any(hasattr(m, "parametrizations") for m in plain.modules())


def test_total_variation_is_half_the_mean_squared_neighbour_difference() -> None:
    x = torch.tensor([[[[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]]]])
    dh = ((2 - 0) ** 2 + (2 - 1) ** 2 + (2 - 3) ** 2) / 3
    dw = ((1 - 0) ** 2 + (3 - 1) ** 2 + 0 + 0) / 4
    assert float(TotalVariationLoss()(x)) == pytest.approx(dh / 2 + dw / 2)


def test_yuv_and_color_loss_follow_tensorflows_conversion() -> None:
    white, black = torch.ones(1, 3, 1, 1), -torch.ones(1, 3, 1, 1)
    torch.testing.assert_close(rgb_to_yuv(white).flatten(), torch.tensor([1.0, 0.0, 0.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(rgb_to_yuv(black).flatten(), torch.zeros(3), atol=1e-6, rtol=0)
    photo = torch.rand(2, 3, 8, 8) * 1.6 - 0.8
    color = ColorLoss()
    assert float(color(photo, photo)) == 0.0
    # a gray shift of 0.2 in [-1, 1] moves Y by 0.1 and leaves U, V alone: loss = L1(Y) = 0.1
    assert float(color(photo + 0.2, photo)) == pytest.approx(0.1, abs=1e-5)
    # a pure chroma change costs the Huber (quadratic below delta) of the U/V difference
    red = torch.tensor([0.2, 0.0, 0.0]).view(1, 3, 1, 1)
    du, dv = (rgb_to_yuv(photo + red) - rgb_to_yuv(photo))[0, 1:, 0, 0].tolist()
    dy = (rgb_to_yuv(photo + red) - rgb_to_yuv(photo))[0, 0, 0, 0].item()
    assert float(color(photo + red, photo)) == pytest.approx(abs(dy) + du * du / 2 + dv * dv / 2, abs=1e-5)


def test_gray_style_compares_grams_with_the_grayscale_style_image() -> None:
    style = GrayStyleLoss()
    anime = torch.rand(2, 3, 8, 8) * 2 - 1
    ident = nn.Identity()
    # the target is grayscaled: the gray version of the image has zero style loss, the colour one not
    assert float(style(grayscale(anime), anime, features=ident)) == pytest.approx(0.0, abs=1e-7)
    assert float(style(anime, anime, features=ident)) > 1e-4
    # L1 between Grams normalised by C·H·W (AnimeGAN's `gram`)
    a, b = torch.rand(1, 4, 3, 3), torch.rand(1, 4, 3, 3)
    ga = a.flatten(2) @ a.flatten(2).transpose(1, 2) / 36
    gb = b.flatten(2) @ b.flatten(2).transpose(1, 2) / 36
    assert float(style(a, b)) == pytest.approx(float((ga - gb).abs().mean()), rel=1e-5)
    # a single style image is broadcast over the batch
    assert float(style(torch.cat([a, a]), a)) == pytest.approx(0.0, abs=1e-7)


def test_losses_stay_float32_under_autocast() -> None:
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for value in (ColorLoss()(x, x.flip(0)), TotalVariationLoss()(x), GrayStyleLoss()(x, x.flip(0))):
            assert value.dtype == torch.float32 and torch.isfinite(value)


def test_plugin_imports_only_public_toonkit_modules() -> None:
    public = {"toonkit", "toonkit.registry", "toonkit.plugins", "toonkit.methods.base", "toonkit.testing",
              "toonkit.losses", "toonkit.imaging"}
    for source in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                if name == "toonkit" or name.startswith("toonkit."):
                    assert name in public, f"{source.name} imports the private module {name}"
