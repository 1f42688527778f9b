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


def _conv_pair(channels_last: bool) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    from toonkit.nets.layers import ReflectConv2d

    torch.manual_seed(0)
    ref = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(8, 8, 7, padding=3, padding_mode="reflect"), nn.ReLU(),
                        nn.Conv2d(8, 4, 3, stride=2, padding=1, padding_mode="reflect"))
    ours = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), ReflectConv2d(8, 8, 7, padding=3), nn.ReLU(),
                         ReflectConv2d(8, 4, 3, stride=2, padding=1))
    ours.load_state_dict(ref.state_dict())  # the same parameters under the same names
    x = torch.randn(2, 3, 13, 11)
    if channels_last:
        ref, ours, x = (ref.to(memory_format=torch.channels_last), ours.to(memory_format=torch.channels_last),
                        x.contiguous(memory_format=torch.channels_last))
    return ref, ours, x


@pytest.mark.parametrize("amp", [None, torch.bfloat16])
@pytest.mark.parametrize("channels_last", [False, True])
def test_reflect_conv_is_torchs_bit_for_bit(amp: torch.dtype | None, channels_last: bool) -> None:
    ref, ours, x = _conv_pair(channels_last)
    outs, grads = [], []
    for net in (ref, ours):
        xi = x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=amp or torch.bfloat16, enabled=amp is not None):
            y = net(xi)
        y.float().square().sum().backward()
        outs.append(y)
        grads.append([xi.grad] + [p.grad for p in net.parameters()])
    assert outs[0].dtype == outs[1].dtype and torch.equal(outs[0], outs[1])
    assert all(torch.equal(a, b) for a, b in zip(*grads))


def test_reflect_conv_under_cpu_autocast_pads_without_an_fp32_round_trip() -> None:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Casts(TorchDispatchMode):  # dtype conversions of activation-sized tensors
        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            out = func(*args, **(kwargs or {}))
            if func is torch.ops.aten._to_copy.default and args[0].dim() == 4 and args[0].shape[0] == 2:
                self.n += 1
            return out

    ref, ours, x = _conv_pair(False)
    counts = []
    for net in (ref, ours):
        with Casts() as casts, torch.autocast("cpu", dtype=torch.bfloat16):
            net(x)
        counts.append(casts.n)
    # the input's cast for the first conv, then up and down around each of the two reflection pads
    assert counts == [5, 1]
