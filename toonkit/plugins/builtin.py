"""The built-in plugin: toonkit's own components register through the same hook as third parties."""
from __future__ import annotations

import importlib

from toonkit.plugins.hookspecs import hookimpl
from toonkit.plugins.view import PluginRegistry

# Each module exposes ``register(registry)``, which calls ``registry.add(kind, name, factory)`` for what it
# defines, as a third-party plugin's hook does; order only affects listing order.
COMPONENT_MODULES = (
    "toonkit.nets.generators",
    "toonkit.nets.discriminators",
    "toonkit.nets.maskers",
    "toonkit.nets.face_detectors",
    "toonkit.features",
    "toonkit.losses",
    "toonkit.augment",
    "toonkit.methods.selfie_gan",
    "toonkit.methods.cartoongan",
    "toonkit.methods.cyclegan",
    "toonkit.methods.nst",
    "toonkit.methods.pix2pix",
    "toonkit.metrics",
    "toonkit.filters",
    "toonkit.pretrained",
)


@hookimpl
def toonkit_register(registry: PluginRegistry) -> None:
    for module in COMPONENT_MODULES:
        importlib.import_module(module).register(registry)
