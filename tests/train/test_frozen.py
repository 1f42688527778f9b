"""``frozen``: G's loss passes through D without computing D's weight gradients, and nothing else changes."""
from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import toonkit
from toonkit.methods.base import frozen
from toonkit.recipe.schema import OptimSpec
from toonkit.methods.context import Group, StepContext
from toonkit.train.optim import make_optimizer, make_scheduler


def _pix2pix() -> tuple[torch.nn.Module, dict[str, Group]]:
    torch.manual_seed(0)
    method = toonkit.build("method", "pix2pix")
    nets = {"generator": toonkit.build("generator", "unet", depth=4, base_channels=4),
            "discriminator": toonkit.build("discriminator", "patchgan", in_channels=6, base_channels=4, n_layers=2)}
    losses = {"adversarial": toonkit.build("loss", "adversarial", mode="bce"), "pixel": toonkit.build("loss", "pixel")}
    method.bind(nets, losses, {"outline": toonkit.build("augmenter", "outline")}).train()
    groups = {}
    for name in ("discriminator", "generator"):
        opt = make_optimizer(method.net[name], OptimSpec())
        groups[name] = Group(method.net[name], opt, make_scheduler(opt, OptimSpec(), 4),
                             torch.amp.GradScaler("cpu", enabled=False))
    return method, groups


def test_gradients_reach_the_input_but_not_the_frozen_weights() -> None:
    d = torch.nn.Conv2d(3, 1, 3)
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    with frozen(d) as (inner,):
        out = inner(x).sum()
    assert inner is d and all(p.requires_grad for p in d.parameters())  # restored after the block
    out.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in d.parameters())


@pytest.mark.parametrize("amp", [None, torch.bfloat16])
def test_a_pix2pix_step_is_unchanged_and_cheaper(amp: torch.dtype | None, monkeypatch: pytest.MonkeyPatch) -> None:
    import toonkit.methods.pix2pix as module

    batch = {"cartoon": torch.rand(2, 3, 32, 32) * 2 - 1}
    results, flops = {}, {}
    for use_frozen in (True, False):
        if not use_frozen:  # the step as it was: D's weights stay in G's graph
            monkeypatch.setattr(module, "frozen", _not_frozen)
        method, groups = _pix2pix()
        with FlopCounterMode(display=False) as counter, torch.autocast("cpu", dtype=amp or torch.float32,
                                                                        enabled=amp is not None):
            method.train_step(copy.deepcopy(batch), StepContext("adversarial", 0, groups))
        flops[use_frozen] = counter.get_total_flops()
        results[use_frozen] = {k: v.detach().clone() for k, v in method.net["generator"].state_dict().items()}
    assert flops[True] < flops[False]
    if amp is None:  # fp32: bit for bit the same update of G
        assert all(torch.equal(results[True][k], results[False][k]) for k in results[True])


class _not_frozen:
    def __init__(self, *modules: torch.nn.Module) -> None:
        self.modules = modules

    def __enter__(self) -> tuple[torch.nn.Module, ...]:
        return self.modules

    def __exit__(self, *exc: object) -> None:
        return None
