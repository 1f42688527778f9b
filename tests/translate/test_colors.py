"""--colors keep|style: the photo's colour statistics put back on the person."""
from __future__ import annotations

import pytest
import torch

from toonkit.translate.colors import keep_colors


def _lab(x: torch.Tensor) -> torch.Tensor:
    from kornia.color import rgb_to_lab

    return rgb_to_lab((x + 1) / 2)


def test_keep_restores_the_photos_mean_colour_on_the_person_and_leaves_the_background() -> None:
    torch.manual_seed(0)
    photo = torch.tensor([0.2, -0.2, -0.4]).view(1, 3, 1, 1) + 0.1 * torch.randn(1, 3, 32, 32)
    cartoon = photo.clamp(-1, 1) * 0.3 + 0.6  # paler and flatter, as a whitening model makes it
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    out = keep_colors(photo.clamp(-1, 1), cartoon, mask)
    inside = mask.bool().expand(1, 3, 32, 32)
    for ref in (_lab(photo.clamp(-1, 1)), ):
        got = _lab(out)
        assert float((got[inside].view(3, -1).mean(1) - ref[inside].view(3, -1).mean(1)).abs().max()) < 1.0
    assert torch.allclose(out[~inside], cartoon[~inside], atol=1e-5)  # background untouched


def test_keep_leaves_an_image_without_a_person_alone() -> None:
    cartoon = torch.rand(1, 3, 16, 16) * 2 - 1
    out = keep_colors(torch.zeros(1, 3, 16, 16), cartoon, torch.zeros(1, 1, 16, 16))
    assert torch.allclose(out, cartoon, atol=1e-5)


def test_keep_without_mask_matches_the_whole_image() -> None:
    photo = torch.full((1, 3, 8, 8), -0.3)
    out = keep_colors(photo, torch.full((1, 3, 8, 8), 0.7), None)
    assert float((out - photo).abs().max()) < 0.02


def test_unknown_colors_mode_is_one_clear_error(tiny_cartoonizer) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="keep, style"):  # as an unknown background is
        tiny_cartoonizer.translate(torch.zeros(3, 16, 16), colors="natural")


def test_style_is_the_generators_output_and_keep_differs(tiny_cartoonizer) -> None:  # noqa: ANN001
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    style = tiny_cartoonizer.translate(x, colors="style")
    keep = tiny_cartoonizer.translate(x, colors="keep")
    assert torch.allclose(style, tiny_cartoonizer.generate(x), atol=1e-5)
    assert not torch.allclose(style, keep, atol=1e-3)


@pytest.fixture
def tiny_cartoonizer():  # noqa: ANN201
    from toonkit.methods.assemble import build_block
    from toonkit.translate.api import Cartoonizer

    torch.manual_seed(0)
    generator = build_block("generator", {"type": "cartoongan", "base_channels": 4, "res_blocks": 1})
    masker = build_block("masker", {"type": "unet", "depth": 2, "base_channels": 4})
    return Cartoonizer(generator.eval(), masker.eval(), size=32, device="cpu")
