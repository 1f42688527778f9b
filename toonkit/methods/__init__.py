"""Training methods (registered kind ``method``): Selfie-GAN and the baselines it is compared with.

Each method lives in its own module here and ends with ``register(registry)``, the same
``registry.add("method", name, cls)`` a plugin's hook calls; :mod:`toonkit.plugins.builtin` lists the
modules (see CONTRIBUTING.md, "Adding a method"). ``base`` (what a method is), ``context`` (the step
context), ``assemble`` (building from a recipe) and ``spec`` (saved models) are the machinery around them.
"""
from __future__ import annotations

from toonkit.methods.base import Method, Phase, Roles, Slot, StepContext

__all__ = ["Method", "Phase", "Roles", "Slot", "StepContext"]
