"""The shared building blocks: the group-norm-backed instance norm must be nn.InstanceNorm2d exactly."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from toonkit.nets.layers import InstanceNorm2d, make_norm


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("channels_last", [False, True])
def test_instance_norm_matches_torch_forward_and_backward(affine: bool, channels_last: bool) -> None:
    torch.manual_seed(0)
    ours, ref = InstanceNorm2d(6, affine=affine), nn.InstanceNorm2d(6, affine=affine)
    if affine:
        with torch.no_grad():
            ref.weight.normal_(), ref.bias.normal_()
        ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 6, 9, 7) * 4 + 2
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(xa), ref(xb)
    torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(ya)
    ya.backward(grad), yb.backward(grad)
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-4, atol=1e-5)
    if affine:
        torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-4, atol=1e-4)


def test_instance_norm_normalises_each_sample_and_channel() -> None:
    x = torch.randn(2, 3, 16, 16) * torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1) + 7
    y = InstanceNorm2d(3)(x)
    torch.testing.assert_close(y.mean((2, 3)), torch.zeros(2, 3), atol=1e-5, rtol=0)
    var = x.var((2, 3), correction=0)  # unit variance up to eps: var / (var + eps)
    torch.testing.assert_close(y.var((2, 3), correction=0), var / (var + 1e-5), atol=1e-4, rtol=0)


def test_instance_norm_running_stats_keep_torch_behaviour() -> None:
    torch.manual_seed(0)
    ours, ref = InstanceNorm2d(4, track_running_stats=True), nn.InstanceNorm2d(4, track_running_stats=True)
    for _ in range(3):
        x = torch.randn(2, 4, 8, 8) + 3
        torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    ours.eval(), ref.eval()
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(ours(x), ref(x))  # eval uses the running statistics, not the sample's


def test_instance_norm_state_dict_is_torchs() -> None:
    ref = nn.InstanceNorm2d(5, affine=True, track_running_stats=True)
    ours = InstanceNorm2d(5, affine=True, track_running_stats=True)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ours.load_state_dict(ref.state_dict())
    assert isinstance(make_norm("instance", 5), nn.InstanceNorm2d)


def test_instance_norm_unbatched_input() -> None:
    x = torch.randn(3, 8, 8)
    torch.testing.assert_close(InstanceNorm2d(3)(x), nn.InstanceNorm2d(3)(x))


def test_instance_norm_scripts_and_warns_like_torch() -> None:
    x = torch.randn(2, 3, 8, 8)
    scripted = torch.jit.script(InstanceNorm2d(3))
    torch.testing.assert_close(scripted(x), nn.InstanceNorm2d(3)(x))
    with pytest.warns(UserWarning, match="num_features"):  # affine=False: torch only warns on a mismatch
        y = InstanceNorm2d(5)(x)
    torch.testing.assert_close(y, nn.InstanceNorm2d(3)(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_instance_norm_on_cuda_is_torchs() -> None:
    x = torch.randn(2, 3, 16, 16, device="cuda")
    torch.testing.assert_close(InstanceNorm2d(3).cuda()(x), nn.InstanceNorm2d(3).cuda()(x))
