"""The module the ``toonkit`` entry point names: one hook that registers this package's components."""
from __future__ import annotations

from toonkit.plugins import PluginRegistry, hookimpl


@hookimpl
def toonkit_register(registry: PluginRegistry) -> None:
    # Import components inside the hook: a failing import then marks only this plugin as broken
    # (`toonkit plugins` shows the error) instead of breaking toonkit.
    from toonkit_example.losses import CharbonnierLoss

    # kind, name (what recipes write), factory (class or function). The summary shown by
    # `toonkit list` is the first line of the docstring; the recipe parameters are the factory's
    # typed keyword arguments, and each needs a default so `toonkit.build(kind, name)` works bare.
    registry.add("loss", "charbonnier", CharbonnierLoss)
