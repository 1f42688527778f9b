"""Sizes (resize, pad, crop) and background compositing."""
from __future__ import annotations

import pytest
import torch

from toonkit.translate.background import BACKGROUNDS, composite, gaussian_blur
from toonkit.core.geometry import crop, pad_to_multiple, run_padded, short_side_size


@pytest.mark.parametrize("hw,short,expected", [((333, 517), 256, (256, 397)), ((517, 333), 32, (50, 32)),
                                               ((64, 64), 32, (32, 32)), ((1, 300), 8, (8, 2400))])
def test_short_side_size(hw: tuple[int, int], short: int, expected: tuple[int, int]) -> None:
    assert short_side_size(*hw, short) == expected


@pytest.mark.parametrize("hw", [(333, 517), (1, 7), (2, 2), (16, 16)])
def test_pad_then_crop_restores_the_input(hw: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *hw)
    padded, size = pad_to_multiple(x, 8)
    assert padded.shape[-2] % 8 == 0 and padded.shape[-1] % 8 == 0
    assert size == hw
    assert torch.equal(crop(padded, size), x)


def test_run_padded_gives_any_size_to_a_strict_network() -> None:
    def strict(t: torch.Tensor) -> torch.Tensor:
        assert t.shape[-2] % 4 == 0 and t.shape[-1] % 4 == 0
        return t * 2

    x = torch.rand(1, 3, 333, 517)
    assert torch.equal(run_padded(strict, x, 4), x * 2)


def _parts() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    cartoon = torch.rand(2, 3, 20, 30) * 2 - 1
    photo = torch.rand(2, 3, 20, 30) * 2 - 1
    mask = torch.zeros(2, 1, 20, 30)
    mask[..., 5:15, 10:20] = 1.0
    mask[..., 0, 0] = 0.25
    return cartoon, photo, mask


def test_keep_returns_the_cartoon_without_a_mask() -> None:
    cartoon, photo, _ = _parts()
    assert composite(cartoon, photo, None, "keep") is cartoon


@pytest.mark.parametrize("mode", [m for m in BACKGROUNDS if m != "keep"])
def test_modes_needing_a_mask_refuse_none(mode: str) -> None:
    cartoon, photo, _ = _parts()
    with pytest.raises(ValueError, match="needs a person mask"):
        composite(cartoon, photo, None, mode)


def test_unknown_mode_suggests_the_right_one() -> None:
    cartoon, photo, mask = _parts()
    with pytest.raises(ValueError, match="did you mean 'white'"):
        composite(cartoon, photo, mask, "whit")


@pytest.mark.parametrize("mode", ["white", "original", "blur"])
def test_person_is_the_cartoon_and_background_is_replaced(mode: str) -> None:
    cartoon, photo, mask = _parts()
    out = composite(cartoon, photo, mask, mode)
    inside, outside = mask.expand_as(out) == 1, mask.expand_as(out) == 0
    assert torch.allclose(out[inside], cartoon[inside])
    if mode == "white":
        assert torch.all(out[outside] == 1)
    elif mode == "original":
        assert torch.allclose(out[outside], photo[outside])
    else:
        blurred = gaussian_blur(photo, 0.03 * 20)
        assert torch.allclose(out[outside], blurred[outside], atol=1e-6)
        assert not torch.allclose(out[outside], photo[outside])
    # a soft mask blends linearly
    background = {"white": torch.ones_like(photo), "original": photo, "blur": gaussian_blur(photo, 0.6)}[mode]
    expected = 0.25 * cartoon[..., 0, 0] + 0.75 * background[..., 0, 0]
    assert torch.allclose(out[..., 0, 0], expected, atol=1e-6)


def test_transparent_appends_the_mask_as_alpha() -> None:
    cartoon, photo, mask = _parts()
    out = composite(cartoon, photo, mask, "transparent")
    assert out.shape == (2, 4, 20, 30)
    assert torch.equal(out[:, :3], cartoon) and torch.equal(out[:, 3:], mask)


def test_gaussian_blur_keeps_constants_and_smooths_noise() -> None:
    flat = torch.full((1, 3, 9, 5), 0.3)
    assert torch.allclose(gaussian_blur(flat, 3.0), flat)
    noise = torch.rand(1, 3, 64, 64)
    assert gaussian_blur(noise, 2.0).std() < 0.5 * noise.std()
    assert torch.allclose(gaussian_blur(noise, 2.0).mean(), noise.mean(), atol=0.02)
