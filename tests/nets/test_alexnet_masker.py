"""The AlexNet-feature person masker: sizes, ImageNet weights from TOONKIT_WEIGHTS_DIR, guided-filter edges."""
from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save_file

import toonkit
from toonkit.nets.alexnet_masker import AlexNetMasker
from toonkit.weights import WeightsUnavailableError


def test_registered_and_any_multiple_of_16() -> None:
    s = toonkit.build("masker", "alexnet_unet", refine_radius=2).eval()
    assert isinstance(s, AlexNetMasker) and s.size_multiple == 16
    with torch.no_grad():
        assert s(torch.rand(2, 3, 48, 80) * 2 - 1).shape == (2, 1, 48, 80)
        with pytest.raises(ValueError, match="divisible by 16"):
            s(torch.zeros(1, 3, 40, 48))


def test_bad_params_name_themselves() -> None:
    with pytest.raises(ValueError, match="encoder_weights"):
        AlexNetMasker(encoder_weights="imagenet21k")
    with pytest.raises(ValueError, match="refine_radius"):
        AlexNetMasker(refine_radius=-1)


def test_imagenet_weights_load_from_weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(1)
    state = {f"features.{k}": v for k, v in torchvision.models.alexnet().features.state_dict().items()}
    save_file(state, str(tmp_path / "alexnet_imagenet_features.safetensors"))
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(tmp_path))
    s = AlexNetMasker(encoder_weights="imagenet")
    for key, value in s.encoder.state_dict().items():
        assert torch.equal(value, state[f"features.{key}"]), key


def test_imagenet_weights_offline_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_network(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(WeightsUnavailableError) as e:
        AlexNetMasker(encoder_weights="imagenet")
    msg = str(e.value)
    assert "\n" not in msg and "alexnet_imagenet_features.safetensors" in msg and str(tmp_path) in msg


def test_freeze_early_freezes_conv1_and_conv2_only() -> None:
    s = AlexNetMasker()
    s.freeze_early()
    frozen = {n for n, p in s.named_parameters() if not p.requires_grad}
    assert frozen == {"encoder.0.weight", "encoder.0.bias", "encoder.3.weight", "encoder.3.bias"}


def test_guided_filter_moves_the_outline_to_the_photo_edge() -> None:
    """A soft mask ramp centred 2 px right of the photo's edge comes out with its step on that edge."""
    s = AlexNetMasker(refine_radius=6, refine_eps=1e-3)
    photo = torch.zeros(1, 3, 32, 64)
    photo[..., 20:] = 1.0
    logits = ((torch.arange(64.0) - 22) / 2).expand(1, 1, 32, 64).clone()

    def crossing(lg: torch.Tensor) -> int:  # first column whose probability passes 0.5 (middle row)
        return int((torch.sigmoid(lg[0, 0, 16].float()) > 0.5).nonzero()[0])

    def steepest(lg: torch.Tensor) -> int:  # the column where the probability rises most
        return int(torch.sigmoid(lg[0, 0, 16].float()).diff().argmax()) + 1

    assert crossing(logits) == 23 and steepest(logits) in (22, 23)
    assert (crossing(s.refine(photo, logits)), steepest(s.refine(photo, logits))) == (20, 20)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        refined = s.refine(photo, logits.bfloat16())
    assert (crossing(refined), steepest(refined)) == (20, 20)


def test_reloads_from_fp16_safetensors_and_its_block(tmp_path: Path) -> None:
    """The fp16 state dict a trained masker ships as rebuilds the same masker from its block."""
    from toonkit.translate import load_masker

    torch.manual_seed(0)
    s = AlexNetMasker(refine_radius=2).eval()
    state = {k: v.half() if v.is_floating_point() else v for k, v in s.state_dict().items()}
    save_file(state, str(tmp_path / "masker.safetensors"))
    block = {"type": "alexnet_unet", "refine_radius": 2}
    loaded = load_masker(tmp_path / "masker.safetensors", fallback_block=block).float()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), s.half().float()(x), atol=1e-4)


def test_bf16_channels_last_matches_fp32() -> None:
    """translate's CPU path (bf16 autocast, channels_last) gives the fp32 mask up to bf16 rounding."""
    torch.manual_seed(0)
    s = AlexNetMasker(refine_radius=2).eval()
    x = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        ref = torch.sigmoid(s(x))
        s = s.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = torch.sigmoid(s(x.contiguous(memory_format=torch.channels_last)).float())
    assert out.shape == ref.shape and (out - ref).abs().max() < 0.05


def test_sharpness_hardens_the_mask_but_keeps_its_outline() -> None:
    torch.manual_seed(0)
    soft, sharp = AlexNetMasker().eval(), AlexNetMasker(sharpness=3.0).eval()
    sharp.load_state_dict(soft.state_dict())
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        a, b = torch.sigmoid(soft(x)), torch.sigmoid(sharp(x))
    assert torch.equal(a > 0.5, b > 0.5)
    assert (b - 0.5).abs().mean() > (a - 0.5).abs().mean()
    with pytest.raises(ValueError, match="sharpness"):
        AlexNetMasker(sharpness=0.0)
