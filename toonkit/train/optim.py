"""Per-network optimisers and schedulers (the step context methods call is :mod:`toonkit.methods.context`)."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from toonkit.methods.context import Group
from toonkit.recipe.schema import OptimSpec


#: ``OptimSpec.impl`` → the keyword arguments that choose Adam's kernel (auto: none, torch decides)
ADAM_IMPL: dict[str, dict[str, bool]] = {"auto": {}, "for_loop": {"foreach": False},
                                         "foreach": {"foreach": True}, "fused": {"fused": True}}


def make_optimizer(module: nn.Module, spec: OptimSpec) -> torch.optim.Optimizer:
    """Adam over ``module``'s trainable parameters, with the kernel ``spec.impl`` names."""
    params = [p for p in module.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=spec.lr, betas=(spec.betas[0], spec.betas[1]), weight_decay=spec.weight_decay,
                            **ADAM_IMPL[spec.impl])


def make_scheduler(opt: torch.optim.Optimizer, spec: OptimSpec, total_steps: int
                   ) -> torch.optim.lr_scheduler.LRScheduler:
    """``constant``; ``linear_decay`` (CycleGAN: flat, then linearly to 0 after ``decay_start``);
    ``cosine`` (flat, then cosine to 0)."""
    start = int(total_steps * spec.decay_start)
    span = max(1, total_steps - start)

    def factor(step: int) -> float:
        if spec.scheduler == "constant" or step < start:
            return 1.0
        t = min(1.0, (step - start) / span)
        return 1.0 - t if spec.scheduler == "linear_decay" else 0.5 * (1 + math.cos(math.pi * t))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def ema_avg_fn(decay: float) -> Any:
    """``multi_avg_fn`` for :class:`torch.optim.swa_utils.AveragedModel`: an EMA whose decay warms up as
    ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (TensorFlow's ``ExponentialMovingAverage``
    with ``num_updates``). A fixed 0.999 would still give the random initial weights 12 % of the average
    after 2,000 steps, which shows as noise in the samples and the exported model of a short run.
    """

    @torch.no_grad()
    def update(ema: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor) -> None:
        n = n.to(torch.float64)  # stays on the device: no host synchronisation per step
        weight = 1 - torch.clamp((1 + n) / (10 + n), max=decay)
        for e, c in zip(ema, current):
            e.lerp_(c, weight.to(e.dtype))

    return update


def make_group(module: nn.Module, spec: OptimSpec, total_steps: int, device_type: str = "cpu",
               fp16: bool = False) -> Group:
    """A :class:`Group` for ``module``: Adam from ``spec``, its schedule over ``total_steps``, and a grad
    scaler that is active only for fp16."""
    opt = make_optimizer(module, spec)
    return Group(module, opt, make_scheduler(opt, spec, total_steps),
                 torch.amp.GradScaler(device_type, enabled=fp16))
