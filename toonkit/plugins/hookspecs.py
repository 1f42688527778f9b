"""The plugin hooks. A plugin is a module (or object) with a ``toonkit_register`` implementation."""
from __future__ import annotations

import pluggy

PROJECT = "toonkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def toonkit_register(registry):
    """Add components to ``registry``, a :class:`toonkit.plugins.PluginRegistry`: what the plugin adds
    through it is recorded as the plugin's own (``toonkit plugins`` lists it under the plugin's name).

    Example:
        >>> from toonkit.plugins import hookimpl
        >>> @hookimpl
        ... def toonkit_register(registry):
        ...     registry.add("generator", "mine", MyGenerator)
    """


@hookspec
def toonkit_commands(subparsers):
    """Add subcommands to the ``toonkit`` CLI (optional; like simonw/llm's ``register_commands``).

    ``subparsers`` is the CLI's ``argparse`` subparsers action. Each command names, with
    ``set_defaults(_module=...)``, a module whose ``run(args) -> int`` runs it (as toonkit's own commands
    do). A command whose name is taken, or a hook that fails, is logged and left out.

    Example:
        >>> from toonkit.plugins import hookimpl
        >>> @hookimpl
        ... def toonkit_commands(subparsers):
        ...     p = subparsers.add_parser("paint", help="paint a photo")
        ...     p.add_argument("photo")
        ...     p.set_defaults(_module="toonkit_mine.cli")
    """
