"""What one plugin's ``toonkit_register`` hook receives: the shared registry, seen as that plugin."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from toonkit.registry import Entry, Registry


class PluginRegistry:
    """The shared :class:`~toonkit.registry.Registry` as one plugin sees it: what it adds is its own.

    The plugin manager passes one of these as ``registry=`` to each plugin's ``toonkit_register``, so
    every entry and kind records which plugin brought it (``toonkit plugins``, duplicate messages)
    without any "current plugin" state on the shared registry. It reads like a ``Registry``: ``get``,
    ``build``, ``list``, ``kinds``, ``in`` and iteration see every plugin's entries.

    Args:
        registry: the shared registry being filled.
        plugin: the name of the plugin whose hook receives this view.

    Example:
        >>> from toonkit.registry import Registry
        >>> shared = Registry()
        >>> view = PluginRegistry(shared, "mine")
        >>> view.add("loss", "zero", lambda: 0.0).plugin
        'mine'
        >>> ("loss", "zero") in view, shared.get("loss", "zero").plugin
        (True, 'mine')
    """

    def __init__(self, registry: Registry, plugin: str) -> None:
        self._registry = registry
        self._plugin = plugin

    @property
    def plugin(self) -> str:
        """The plugin this view registers for."""
        return self._plugin

    def add(self, kind: str, name: str, factory: Callable[..., Any], *, summary: str | None = None,
            override: bool = False) -> Entry:
        """Register ``factory`` as ``kind``/``name`` for this plugin (see :meth:`Registry.add`)."""
        return self._registry.add(kind, name, factory, summary=summary, override=override,
                                  plugin=self._plugin)

    def add_kind(self, kind: str) -> None:
        """Declare a component kind of this plugin's own (see :meth:`Registry.add_kind`)."""
        self._registry.add_kind(kind, plugin=self._plugin)

    # -- reading: the whole registry, as it stands while the plugin registers ----------------------
    @property
    def kinds(self) -> tuple[str, ...]:
        return self._registry.kinds

    def get(self, kind: str, name: str) -> Entry:
        return self._registry.get(kind, name)

    def build(self, kind: str, name: str, **params: Any) -> Any:
        return self._registry.build(kind, name, **params)

    def list(self, kind: str | None = None, pattern: str = "*") -> list[Entry]:
        return self._registry.list(kind, pattern)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._registry

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._registry)

    def __repr__(self) -> str:
        return f"PluginRegistry(plugin={self._plugin!r})"
