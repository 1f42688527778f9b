"""LPIPS with its backbone read from local ImageNet weights, on the person only."""
from __future__ import annotations

import pytest
import torch

from toonkit.metrics import EvalContext, LPIPSDistance, WeightsUnavailableError, build_lpips
from toonkit.metrics._weights import imagenet_features_state


def _noisy(images: torch.Tensor, std: float) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    return (images + std * noise).clamp(-1, 1)


@pytest.mark.parametrize("net,arch", [("alex", "alexnet"), ("vgg", "vgg16")])
def test_backbone_weights_land_in_lpips(imagenet_weights, net: str, arch: str) -> None:
    model = build_lpips(net)
    state = imagenet_features_state(arch, "test")
    params = dict(model.net.named_parameters())
    assert len(params) == len(state)
    for name, value in params.items():  # 'slice2.3.weight' is torchvision's 'features.3.weight'
        assert torch.equal(value, state[name.split(".", 1)[1]])
    # the calibrated linear layers came from the lpips package (non-negative weights), not random init
    assert all((lin.model[-1].weight >= 0).all() for lin in model.lins)


def test_lpips_zero_for_identical_and_grows_with_noise(imagenet_weights, portraits) -> None:
    images, masks = portraits
    metric = LPIPSDistance()
    assert metric.columns() == ("LPIPS-alex",)
    values = [metric(EvalContext(inputs=images, outputs=_noisy(images, s), masks=masks))["LPIPS-alex"]
              for s in (0.0, 0.05, 0.2, 0.5)]
    assert values[0] == pytest.approx(0.0, abs=1e-6)
    assert values == sorted(values) and values[1] > 1e-3 and values[3] > 10 * values[1], values


def test_lpips_ignores_background(imagenet_weights, portraits) -> None:
    images, masks = portraits
    # same person, different background: nothing changes once both backgrounds are the same grey
    other_back = torch.where(masks > 0.5, images, _noisy(torch.zeros_like(images), 0.8))
    metric = LPIPSDistance()
    assert metric(EvalContext(inputs=images, outputs=other_back, masks=masks))["LPIPS-alex"] == pytest.approx(
        0.0, abs=1e-6)
    assert metric(EvalContext(inputs=images, outputs=other_back))["LPIPS-alex"] > 0.05  # without masks


def test_random_backbone_runs_without_weights(portraits) -> None:
    torch.manual_seed(0)
    images, masks = portraits
    metric = LPIPSDistance().set_model(build_lpips("alex", pretrained_backbone=False))
    assert metric(EvalContext(inputs=images, outputs=images, masks=masks))["LPIPS-alex"] == pytest.approx(0, abs=1e-6)
    assert metric(EvalContext(inputs=images, outputs=_noisy(images, 0.5), masks=masks))["LPIPS-alex"] > 0


def test_missing_weights_fail_with_one_line(no_weights, portraits) -> None:
    images, _ = portraits
    metric = LPIPSDistance()  # building the metric needs no weights
    with pytest.raises(WeightsUnavailableError) as err:
        metric(EvalContext(inputs=images, outputs=images))
    message = str(err.value)
    assert "alexnet_imagenet_features.safetensors" in message and "\n" not in message
