"""The step context: what the trainer (and the plugin test kit) hands a method's ``train_step``.

There is one step-context type. The trainer fills it with each trained network's optimiser, scheduler
and grad scaler (:class:`Group`); :func:`toonkit.testing.check_plugin_components` uses the same class
with a ``check`` hook that asserts every gradient reached the networks, so a method that passes the kit
runs under the trainer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from toonkit.errors import ToonkitError


class NonFiniteLossError(ToonkitError, RuntimeError):
    """A loss became NaN or infinite; the run stops without overwriting the last good checkpoint."""

    usage = False  # the recipe was valid; training diverged (exit 1)


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
    """Handed to ``Method.train_step``: the ``phase`` and global ``step``, and :meth:`optimize`."""

    phase: str
    step: int
    groups: dict[str, Group]
    grad_clip: float | None = None
    stepped: set[str] = field(default_factory=set)
    #: called as ``check(name, group)`` after the backward of each update, before its optimiser steps
    #: (the test kit asserts the gradients there)
    check: Callable[[str, Group], None] | None = None

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
        for name, g in zip(names, groups):
            if self.check is not None:
                self.check(name, g)
            if self.grad_clip is not None:
                scaler.unscale_(g.optimizer)
                torch.nn.utils.clip_grad_norm_(g.module.parameters(), self.grad_clip)
            scaler.step(g.optimizer)
        scaler.update()
        self.stepped.update(names)
