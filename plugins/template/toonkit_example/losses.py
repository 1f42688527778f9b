"""The example component: a Charbonnier (smooth L1) reconstruction loss."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class CharbonnierLoss(nn.Module):
    """Charbonnier loss: ``sqrt((input - target)² + eps²)``, a smooth L1 for reconstructions.

    Args:
        eps: smoothing constant; the loss is quadratic for differences below about ``eps``.
        reduction: ``mean`` or ``sum``.

    Shape:
        - input, target: :math:`(N, C, H, W)`, the same shape.
        - Output: a scalar (float32, also under autocast).

    Example:
        >>> loss = CharbonnierLoss(eps=1e-3)
        >>> round(float(loss(torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))), 4)
        1.0
    """

    def __init__(self, eps: float = 1e-3, reduction: Literal["mean", "sum"] = "mean") -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.eps, self.reduction = eps, reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if input.shape != target.shape:
            raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} differ in shape")
        # float32: under autocast a bf16 sqrt of tiny differences is mostly rounding error
        diff = input.float() - target.float()
        value = torch.sqrt(diff * diff + self.eps * self.eps)
        return value.mean() if self.reduction == "mean" else value.sum()

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """What to check the loss with (toonkit.testing calls it): an output that takes a gradient, and
        its target."""
        output = (torch.rand(batch, 3, size, size) * 2 - 1).requires_grad_(True)
        return output, torch.rand(batch, 3, size, size) * 2 - 1
