"""``train.optim.<net>.impl`` chooses Adam's kernel; the default keeps the weights bitwise as before."""
from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from toonkit.recipe.schema import OptimSpec
from toonkit.train.optim import make_optimizer


def _net() -> nn.Module:
    torch.manual_seed(0)
    # no bias before the norm: its true gradient is 0, and Adam turns the rounding noise there into
    # steps of ±lr, which would hide the comparison below
    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.Conv2d(8, 1, 3))


def _train(impl: str, steps: int = 5) -> list[torch.Tensor]:
    net = _net()
    opt = make_optimizer(net, OptimSpec(impl=impl))
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        net(torch.randn(2, 3, 12, 12, generator=gen)).square().mean().backward()
        opt.step()
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize(("impl", "foreach", "fused"),
                         [("auto", None, None), ("for_loop", False, None), ("foreach", True, None),
                          ("fused", None, True)])
def test_each_impl_builds_that_adam(impl: str, foreach: bool | None, fused: bool | None) -> None:
    opt = make_optimizer(_net(), OptimSpec(impl=impl))
    assert isinstance(opt, torch.optim.Adam)
    assert opt.defaults["foreach"] is foreach and opt.defaults["fused"] is fused


def test_default_is_auto_and_unknown_impl_is_refused() -> None:
    assert OptimSpec().impl == "auto"
    with pytest.raises(ValidationError):
        OptimSpec(impl="apex")


def test_auto_for_loop_and_foreach_give_bitwise_the_same_weights_on_the_cpu() -> None:
    # what lets "auto" stay the default: it computes what toonkit computed before the setting existed
    reference = _train("auto")
    for impl in ("for_loop", "foreach"):
        assert all(torch.equal(a, b) for a, b in zip(reference, _train(impl))), impl


def test_fused_rounds_differently_but_trains_the_same_way() -> None:
    # why fused is opt-in: same algorithm, other rounding (not bitwise equal, equal to float precision)
    reference, fused = _train("auto"), _train("fused")
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(reference, fused))
