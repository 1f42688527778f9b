"""The built-in plugin: toonkit's own components register through the same hook as third parties."""
from __future__ import annotations

import importlib

from toonkit.plugins.hookspecs import hookimpl
from toonkit.plugins.view import PluginRegistry

# Each module exposes ``register(registry)``; order only affects listing order.
COMPONENT_MODULES = (
    "toonkit.nets.generators",
    "toonkit.nets.discriminators",
    "toonkit.nets.maskers",
    "toonkit.nets.face_detectors",
    "toonkit.features",
    "toonkit.losses",
    "toonkit.augment",
    "toonkit.methods",
    "toonkit.metrics",
    "toonkit.pretrained",
)


@hookimpl
def toonkit_register(registry: PluginRegistry) -> None:
    for module in COMPONENT_MODULES:
        importlib.import_module(module).register(registry)
