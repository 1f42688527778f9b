"""Training methods (registered kind ``method``): Selfie-GAN and the baselines it is compared with.

Each method lives in its own module here with a ``register(registry)`` function; :func:`register` finds
them, so adding a method is one new file (see CONTRIBUTING.md, "Adding a method").
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from toonkit.methods.base import Method, Phase, Slot, StepContext

__all__ = ["Method", "Phase", "Slot", "StepContext", "register"]

# the machinery every method uses, not methods themselves
_NOT_METHODS = {"base", "context", "assemble"}


def register(registry: Any) -> None:
    """Register every method module of this package (``selfie_gan`` first, then by name)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_METHODS)
    for name in sorted(names, key=lambda n: n != "selfie_gan"):
        module = importlib.import_module(f"{__name__}.{name}")
        if callable(getattr(module, "register", None)):
            module.register(registry)
