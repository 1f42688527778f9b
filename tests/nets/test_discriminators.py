"""Discriminators: patch-logit resolution, receptive field, parameter counts, bf16 + channels_last."""
from __future__ import annotations

import pytest
import torch

from toonkit.nets.discriminators import CartoonGANDiscriminator, PatchGANDiscriminator


@pytest.mark.parametrize("hw", [(32, 32), (36, 20), (33, 31)])
def test_cartoongan_quarter_resolution(hw: tuple[int, int]) -> None:
    d = CartoonGANDiscriminator(base_channels=8)
    out = d(torch.rand(2, 3, *hw) * 2 - 1)
    assert out.shape == (2, 1, -(-hw[0] // 4), -(-hw[1] // 4))


def test_cartoongan_layout() -> None:
    d = CartoonGANDiscriminator()
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 128, 256, 256, 1]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 1, 1]
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, torch.nn.LeakyReLU))


def test_patchgan_matches_pix2pix() -> None:
    # pytorch-CycleGAN-and-pix2pix's basic D: 2.765 M parameters (3 inputs), 2.769 M for pix2pix (6 inputs)
    assert sum(p.numel() for p in PatchGANDiscriminator().parameters()) == 2_765_633
    assert sum(p.numel() for p in PatchGANDiscriminator(in_channels=6).parameters()) == 2_768_705
    d = PatchGANDiscriminator(base_channels=8, in_channels=6)
    assert d(torch.zeros(1, 6, 64, 64)).shape == (1, 1, 6, 6)


def _receptive_field(d: torch.nn.Module, size: int) -> tuple[int, int]:
    x = torch.randn(1, 3, size, size, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    nz = x.grad[0].abs().sum(0).nonzero()
    return int(nz[:, 0].max() - nz[:, 0].min() + 1), int(nz[:, 1].max() - nz[:, 1].min() + 1)


def test_patchgan_receptive_field_is_70() -> None:
    torch.manual_seed(0)
    d = PatchGANDiscriminator(base_channels=4, norm="none").eval()
    assert _receptive_field(d, 128) == (70, 70)


def test_cartoongan_receptive_field() -> None:
    torch.manual_seed(0)
    d = CartoonGANDiscriminator(base_channels=4, norm="none").eval()
    # seven 3×3 convs at strides 1,2,1,2,1,1,1: each adds 2 × (product of the strides before it)
    assert _receptive_field(d, 64) == (1 + 2 * (1 + 1 + 2 + 2 + 4 + 4 + 4),) * 2  # 37


@pytest.mark.parametrize("cls", [CartoonGANDiscriminator, PatchGANDiscriminator])
@pytest.mark.parametrize("norm", ["instance", "batch", "group", "none"])
def test_norms_backward(cls: type, norm: str) -> None:
    d = cls(16, norm=norm)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    d(x).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("cls", [CartoonGANDiscriminator, PatchGANDiscriminator])
def test_bf16_autocast_channels_last(cls: type) -> None:
    torch.manual_seed(0)
    d = cls(8).eval().to(memory_format=torch.channels_last)
    x = (torch.rand(2, 3, 64, 64) * 2 - 1).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        ref = d(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = d(x)
    assert out.shape == ref.shape and torch.isfinite(out).all()
    assert (out.float() - ref).abs().mean() < 0.05 * ref.abs().mean() + 1e-3
