"""The plugin hook. A plugin is a module (or object) with a ``toonkit_register`` implementation."""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("toonkit")
hookimpl = pluggy.HookimplMarker("toonkit")


@hookspec
def toonkit_register(registry):  # type: ignore[no-untyped-def]
    """Add components to ``registry`` (a :class:`toonkit.registry.Registry`).

    Example:
        >>> from toonkit.plugins import hookimpl
        >>> @hookimpl
        ... def toonkit_register(registry):
        ...     registry.add("generator", "mine", MyGenerator)
    """
