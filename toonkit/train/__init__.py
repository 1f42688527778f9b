"""Training: :func:`train` runs a recipe; the trainer owns devices, AMP, DDP, checkpoints and logs."""
from __future__ import annotations

from typing import Any


def train(*args: Any, **kwargs: Any) -> Any:
    """See :func:`toonkit.train.trainer.train`."""
    from toonkit.train.trainer import train as _train

    return _train(*args, **kwargs)
