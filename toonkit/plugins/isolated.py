"""Registries filled from chosen plugins instead of every installed one (tests, :mod:`toonkit.testing`)."""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from toonkit.registry import Registry

PluginLike = str | ModuleType | Any


def resolve_plugin(plugin: PluginLike) -> tuple[str, Any]:
    """``(name, plugin object)`` for a module, an import path, or an installed plugin's name.

    A string is first looked up among the ``toonkit`` entry points (so ``"mediapipe"`` finds the
    installed plugin of that name), then imported as a module path (``"my_plugin.plugin"``). A module is
    named after the entry point that points at it when there is one, else after its import path.
    """
    from importlib import metadata

    from toonkit.plugins import ENTRY_POINT_GROUP

    eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    if plugin == "builtin":
        from toonkit.plugins import builtin

        return "builtin", builtin
    if isinstance(plugin, str):
        for ep in eps:
            if ep.name == plugin:
                return ep.name, ep.load()
        module = importlib.import_module(plugin)
        return _name_of(module, eps), module
    return _name_of(plugin, eps), plugin


def _name_of(module: Any, eps: list[Any]) -> str:
    from toonkit.plugins import builtin

    if module is builtin:
        return "builtin"
    modname = getattr(module, "__name__", None) or type(module).__name__
    for ep in eps:
        if ep.value.split(":")[0] == modname:
            return ep.name
    return modname


def isolated_registry(*plugins: PluginLike, builtin: bool = True, strict: bool = True) -> Registry:
    """A new registry with toonkit's built-in components (unless ``builtin=False``) and ``plugins``.

    Args:
        plugins: plugin modules, import paths or installed plugin names (see :func:`resolve_plugin`).
        builtin: load toonkit's own components first.
        strict: a plugin whose hook fails raises instead of being recorded.

    Example:
        >>> reg = isolated_registry()
        >>> ("generator", "cartoongan") in reg
        True
    """
    from toonkit.plugins import builtin as builtin_plugin
    from toonkit.plugins import load_plugin_objects

    resolved = {n: obj for n, obj in map(resolve_plugin, plugins) if obj is not builtin_plugin}
    registry, _ = load_plugin_objects(resolved, builtin=builtin, strict=strict)
    return registry
