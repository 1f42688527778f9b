"""Plugin loading: the built-in plugin and third-party packages in the ``toonkit`` entry-point group."""
from toonkit.plugins.hookspecs import hookimpl, hookspec
from toonkit.plugins.manager import (
    ENTRY_POINT_GROUP,
    PluginError,
    PluginInfo,
    disabled_plugins,
    get_registry,
    load_plugin_objects,
    load_plugins,
    plugin_infos,
    reset,
)
from toonkit.plugins.view import PluginRegistry

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginInfo",
    "PluginRegistry",
    "disabled_plugins",
    "get_registry",
    "hookimpl",
    "hookspec",
    "load_plugin_objects",
    "load_plugins",
    "plugin_infos",
    "reset",
]
