"""Generators: size contract, value range, options, bf16 autocast + channels_last."""
from __future__ import annotations

import pytest
import torch

from toonkit.nets.generators import CartoonGANGenerator, ResnetGenerator, UNetGenerator


def small(name: str, **kw: object) -> torch.nn.Module:
    torch.manual_seed(0)
    if name == "cartoongan":
        return CartoonGANGenerator(base_channels=8, res_blocks=2, **kw)
    if name == "resnet":
        return ResnetGenerator(base_channels=8, res_blocks=2, **kw)
    return UNetGenerator(base_channels=8, depth=3, **kw)


def test_size_multiples() -> None:
    assert CartoonGANGenerator.size_multiple == 4
    assert ResnetGenerator.size_multiple == 4
    assert UNetGenerator.size_multiple == 256  # default depth=8
    assert UNetGenerator(base_channels=4, depth=5).size_multiple == 32


@pytest.mark.parametrize("name", ["cartoongan", "resnet", "unet"])
def test_odd_multiples_keep_size(name: str) -> None:
    g = small(name).eval()
    m = g.size_multiple
    x = torch.rand(1, 3, 3 * m, 5 * m) * 2 - 1  # odd multiples: every stride-2 stage sees an odd size
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1


@pytest.mark.parametrize("name", ["cartoongan", "resnet", "unet"])
def test_non_multiple_is_a_clear_error(name: str) -> None:
    g = small(name)
    m = g.size_multiple
    with pytest.raises(ValueError, match=f"divisible by {m}"):
        g(torch.zeros(1, 3, 2 * m + 2, 2 * m))


@pytest.mark.parametrize("name", ["cartoongan", "resnet", "unet"])
def test_bf16_autocast_channels_last(name: str) -> None:
    g = small(name).eval().to(memory_format=torch.channels_last)
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        ref = g(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = g(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert y.float().abs().max() <= 1
    # bf16 keeps ~3 significant digits; after a dozen layers the images still agree closely
    assert (y.float() - ref).abs().mean() < 0.05


@pytest.mark.parametrize("norm", ["instance", "batch", "group", "none"])
@pytest.mark.parametrize("upsample", ["transpose", "nearest", "bilinear"])
def test_cartoongan_options(norm: str, upsample: str) -> None:
    g = CartoonGANGenerator(base_channels=8, res_blocks=1, norm=norm, upsample=upsample)
    x = torch.rand(2, 3, 16, 12) * 2 - 1
    y = g(x)
    assert y.shape == x.shape
    y.mean().backward()
    assert g.stem[0].weight.grad is not None


def test_cartoongan_layout() -> None:
    g = CartoonGANGenerator(res_blocks=8)
    assert len(g.body) == 8
    convs = [m for m in g.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    # k7 + 4 down + 8×2 residual + 4 up + k7
    assert len(convs) == 1 + 4 + 16 + 4 + 1
    assert convs[0].kernel_size == (7, 7) and convs[0].out_channels == 64
    assert {c.out_channels for c in g.body.modules() if isinstance(c, torch.nn.Conv2d)} == {256}
    assert convs[-1].kernel_size == (7, 7) and convs[-1].out_channels == 3


def test_resnet_block_count_and_params() -> None:
    g9, g6 = ResnetGenerator(), ResnetGenerator(res_blocks=6)
    n9 = sum(p.numel() for p in g9.parameters())
    n6 = sum(p.numel() for p in g6.parameters())
    # CycleGAN's resnet_9blocks has 11.378 M parameters; each block adds 2 · (256·256·9 + 256)
    assert n9 == 11_378_179
    assert n9 - n6 == 3 * 2 * (256 * 256 * 9 + 256)


def test_unet_matches_pix2pix_size() -> None:
    # pix2pix's unet_256 (ngf=64, batch norm) has 54.414 M parameters
    assert sum(p.numel() for p in UNetGenerator().parameters()) == 54_413_955


def test_unet_dropout_is_noise_in_train_only() -> None:
    g = UNetGenerator(base_channels=4, depth=6, dropout=True, norm="instance")
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        g.train()
        assert not torch.equal(g(x), g(x))
        g.eval()
        assert torch.equal(g(x), g(x))
    assert not any(isinstance(m, torch.nn.Dropout) for m in UNetGenerator(depth=6, dropout=False).modules())


@pytest.mark.parametrize("name", ["cartoongan", "resnet", "unet"])
def test_channel_params(name: str) -> None:
    g = small(name, in_channels=1, out_channels=2)
    y = g(torch.zeros(1, 1, 16, 16))
    assert y.shape == (1, 2, 16, 16)


def test_bad_norm_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'instance'"):
        CartoonGANGenerator(norm="instnce")  # type: ignore[arg-type]
