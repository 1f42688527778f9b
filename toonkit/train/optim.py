"""Per-network optimisers, schedulers and the step context methods call to update a network."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from toonkit.recipe.schema import OptimSpec
from toonkit.errors import ToonkitError


class NonFiniteLossError(ToonkitError, RuntimeError):
    """A loss became NaN or infinite; the run stops without overwriting the last good checkpoint."""

    usage = False  # the recipe was valid; training diverged (exit 1)


def make_optimizer(module: nn.Module, spec: OptimSpec) -> torch.optim.Optimizer:
    params = [p for p in module.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=spec.lr, betas=tuple(spec.betas), weight_decay=spec.weight_decay)


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


@dataclass
class Group:
    """One trainable network with its optimiser, scheduler and (fp16) grad scaler."""

    module: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])


@dataclass
class StepContext:
    """Handed to ``Method.train_step``: phase, step and :meth:`optimize`."""

    phase: str
    step: int
    groups: dict[str, Group]
    grad_clip: float | None = None
    stepped: set[str] = field(default_factory=set)

    def optimize(self, group: str | tuple[str, ...], loss: torch.Tensor, **parts: torch.Tensor) -> None:
        """Zero the grads of ``group`` (one network, or several sharing one loss), backward ``loss``
        (scaled under fp16), clip, and step each optimiser.

        ``parts`` (the named terms of ``loss``) only serve the error message when it is not finite.
        """
        names = (group,) if isinstance(group, str) else tuple(group)
        for name in names:
            if name not in self.groups:
                raise KeyError(f"phase '{self.phase}' does not train '{name}' "
                               f"(trains: {', '.join(self.groups)})")
        if not torch.isfinite(loss.detach()).all():
            bad = [k for k, v in parts.items() if not torch.isfinite(v.detach()).all()]
            what = f"'{bad[0]}' term of the " if bad else ""
            raise NonFiniteLossError(f"non-finite {what}{'+'.join(names)} loss ({loss.item()}) at step "
                                     f"{self.step} of phase '{self.phase}'")
        groups = [self.groups[n] for n in names]
        for g in groups:
            g.optimizer.zero_grad(set_to_none=True)
        # several optimisers sharing one backward share the first group's scaler (GradScaler's
        # documented multi-optimiser pattern: step each, update once)
        scaler = groups[0].scaler
        scaler.scale(loss).backward()
        for g in groups:
            if self.grad_clip is not None:
                scaler.unscale_(g.optimizer)
                torch.nn.utils.clip_grad_norm_(g.module.parameters(), self.grad_clip)
            scaler.step(g.optimizer)
        scaler.update()
        self.stepped.update(names)
