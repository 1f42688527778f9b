"""Maskers: logits shape and size contract, learning, smp validation and offline pretrained weights."""
from __future__ import annotations

import pytest
import torch

from toonkit.losses import SegmentationLoss
from toonkit.nets.maskers import SmpMasker, UNetMasker, smp_architectures
from toonkit.weights import WeightsUnavailableError


def test_unet_odd_multiples_and_size_multiple() -> None:
    s = UNetMasker(depth=3, base_channels=4)
    assert s.size_multiple == 8 and UNetMasker.size_multiple == 16
    assert s(torch.zeros(2, 3, 24, 40)).shape == (2, 1, 24, 40)
    with pytest.raises(ValueError, match="divisible by 8"):
        s(torch.zeros(1, 3, 20, 24))


def test_unet_defaults_are_small() -> None:
    s = UNetMasker()
    assert s.size_multiple == 16
    # 32-64-128-256-512 channels: a quarter of the original U-Net's 31 M parameters
    assert 7e6 < sum(p.numel() for p in s.parameters()) < 8e6


def test_unet_learns_a_mask() -> None:
    torch.manual_seed(0)
    s = UNetMasker(depth=2, base_channels=8)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    mask = (x[:, :1] > 0).float()  # a mask the net can read off the first channel
    loss_fn, opt = SegmentationLoss(), torch.optim.Adam(s.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        loss = loss_fn(s(x), mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_unet_bf16_channels_last() -> None:
    s = UNetMasker(depth=2, base_channels=4).eval().to(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = s(x)
    assert out.shape == (2, 1, 32, 32) and torch.isfinite(out.float()).all()


@pytest.mark.parametrize("arch", ["unet", "fpn", "deeplabv3plus"])
def test_smp_archs(arch: str) -> None:
    s = SmpMasker(arch, "resnet18").eval()  # eval: ASPP's image pooling has one value per channel at batch 1
    assert s.size_multiple == s.model.encoder.output_stride
    h, w = 3 * 32, 2 * 32
    assert s(torch.rand(1, 3, h, w) * 2 - 1).shape == (1, 1, h, w)


def test_smp_timm_encoder() -> None:
    s = SmpMasker("unet", "tu-resnet10t")
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    out = s(x)
    assert out.shape == (2, 1, 64, 64)
    out.mean().backward()
    assert x.grad.abs().sum() > 0


def test_smp_bf16_channels_last() -> None:
    s = SmpMasker().eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = s(x)
    assert out.shape == (1, 1, 64, 64) and torch.isfinite(out.float()).all()


def test_smp_bad_names_list_options() -> None:
    with pytest.raises(ValueError, match="did you mean 'unet'") as e:
        SmpMasker(arch="unte")
    for arch in smp_architectures():
        assert arch in str(e.value)
    with pytest.raises(ValueError, match="did you mean 'resnet18'"):
        SmpMasker(encoder="resnt18")
    with pytest.raises(ValueError, match="did you mean 'tu-resnet18'"):
        SmpMasker(encoder="tu-resnt18")
    with pytest.raises(ValueError, match="available: imagenet, ssl, swsl"):
        SmpMasker(encoder_weights="imagenet21k")


def test_smp_offline_weights_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.errors import LocalEntryNotFoundError
    from segmentation_models_pytorch import encoders

    def offline(*args: object, **kwargs: object) -> str:
        raise LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub and we "
                                      "cannot find the requested files in the local cache.\nmore detail")

    monkeypatch.setattr(encoders, "hf_hub_download", offline)  # never touch the network in tests
    with pytest.raises(WeightsUnavailableError) as e:
        SmpMasker(encoder_weights="imagenet")
    msg = str(e.value)
    assert "\n" not in msg
    assert "smp-hub/resnet18.imagenet" in msg and "encoder_weights: null" in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_smp_non_network_errors_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from segmentation_models_pytorch import encoders

    def broken(*args: object, **kwargs: object) -> str:
        raise KeyError("not a download problem")

    monkeypatch.setattr(encoders, "hf_hub_download", broken)
    with pytest.raises(KeyError, match="not a download problem"):
        SmpMasker(encoder_weights="imagenet")
