"""Sample grids: one row per image of a fixed batch, columns input | output (| mask)."""
from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from toonkit.imaging import to_unit


def save_sample_grid(columns: list[torch.Tensor], path: Path) -> torch.Tensor:
    """Save a grid whose columns are ``columns`` (N×C×H×W each; images in [-1, 1], masks in [0, 1])."""
    shown = []
    for col in columns:
        col = col.detach().float().cpu()
        if col.shape[1] == 1:  # masks
            col = col.repeat(1, 3, 1, 1)
        else:
            col = to_unit(col, clamp=True)
        shown.append(col)
    rows = torch.stack(shown, dim=1).flatten(0, 1)  # image-major: each row is one input
    grid = make_grid(rows, nrow=len(columns), padding=2, pad_value=1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, str(path))
    return grid
