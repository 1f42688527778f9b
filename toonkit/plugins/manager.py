"""Discovers and loads plugins one at a time, so one broken plugin never takes the others down.

Settings (environment):
    TOONKIT_DISABLE_PLUGINS: comma-separated plugin names to skip (``builtin`` included).
    TOONKIT_STRICT_PLUGINS: ``1`` makes a broken plugin an error instead of a recorded failure.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from toonkit.plugins import hookspecs
from toonkit.registry import Registry
from toonkit.errors import ToonkitError

ENTRY_POINT_GROUP = "toonkit"
BUILTIN = "builtin"
log = logging.getLogger("toonkit.plugins")


class PluginError(ToonkitError, RuntimeError):
    """A plugin failed to load while ``TOONKIT_STRICT_PLUGINS=1``."""


@dataclass
class PluginInfo:
    """What ``toonkit plugins`` reports for one plugin."""

    name: str
    version: str | None
    components: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    distribution: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "components": self.components,
                "error": self.error}


_lock = threading.Lock()
_state: dict[str, Any] = {"registry": None, "infos": None}


def _disabled() -> set[str]:
    raw = os.environ.get("TOONKIT_DISABLE_PLUGINS", "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _strict() -> bool:
    return os.environ.get("TOONKIT_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _version() -> str:
    from toonkit import __version__

    return __version__


def _register_one(pm: pluggy.PluginManager, registry: Registry, name: str, plugin: Any) -> None:
    """Run one plugin's hook against the shared registry, attributing its entries to ``name``."""
    impl = getattr(plugin, "toonkit_register", None)
    if impl is None:
        raise PluginError(f"plugin '{name}' defines no toonkit_register hook")
    if getattr(impl, "toonkit_impl", None) is None:  # pluggy would silently never call it
        raise PluginError(f"plugin '{name}': toonkit_register is not marked with "
                          "@toonkit.plugins.hookimpl")
    pm.register(plugin, name=name)
    registry.current_plugin = name
    try:
        impl(registry=registry)
    except BaseException:
        pm.unregister(name=name)
        raise
    finally:
        registry.current_plugin = "unknown"


def _guarded(name: str, loader: Any, pm: pluggy.PluginManager, registry: Registry) -> str | None:
    """Import and register one plugin in isolation; returns its error, or None.

    ``SystemExit`` and ``KeyboardInterrupt`` raised by plugin code, and anything it prints, stay inside
    (stdout belongs to the command: ``toonkit plugins --json`` must stay JSON), and a failure rolls the
    registry back to before the plugin, so an overridden built-in comes back.
    """
    before = registry.snapshot()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            _register_one(pm, registry, name, loader())
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        registry.restore(before)
        first = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    finally:
        if printed.getvalue().strip():
            log.debug("plugin %s printed at import: %s", name, printed.getvalue().strip()[:500])
    return None


def load_plugins(registry: Registry | None = None) -> tuple[Registry, list[PluginInfo]]:
    """Create a registry filled by the built-in plugin and every installed entry point.

    Each plugin is imported and run on its own; a failure is recorded in its :class:`PluginInfo`
    (or raised as :class:`PluginError` when ``TOONKIT_STRICT_PLUGINS=1``).
    """
    from toonkit.plugins import builtin

    candidates: list[tuple[str, str | None, str | None, Any]] = [
        (BUILTIN, _version(), None, lambda: builtin)]
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        candidates.append((ep.name, dist.version if dist else None, dist.name if dist else None, ep.load))
    return _load(candidates, registry or Registry(), _disabled(), _strict())


def load_plugin_objects(plugins: dict[str, Any], registry: Registry | None = None, *,
                        builtin: bool = True, strict: bool = False) -> tuple[Registry, list[PluginInfo]]:
    """Fill a registry from the given plugin objects instead of the installed entry points.

    Used for isolated registries (tests, :mod:`toonkit.testing`): nothing global is read or changed,
    and ``TOONKIT_DISABLE_PLUGINS`` / ``TOONKIT_STRICT_PLUGINS`` are ignored.

    Args:
        plugins: plugin name -> module (or object) with a ``toonkit_register`` hook.
        registry: the registry to fill (a new one by default).
        builtin: also load toonkit's built-in plugin first.
        strict: raise :class:`PluginError` on the first broken plugin instead of recording it.

    Example:
        >>> import types
        >>> from toonkit.plugins import hookimpl
        >>> mine = types.SimpleNamespace(toonkit_register=hookimpl(
        ...     lambda registry: registry.add("loss", "zero", lambda: 0.0)))
        >>> reg, infos = load_plugin_objects({"mine": mine}, builtin=False)
        >>> reg.build("loss", "zero"), infos[0].components
        (0.0, {'loss': ['zero']})
    """
    candidates: list[tuple[str, str | None, str | None, Any]] = []
    if builtin:
        from toonkit.plugins import builtin as builtin_plugin

        candidates.append((BUILTIN, _version(), None, lambda: builtin_plugin))
    for name, plugin in plugins.items():
        candidates.append((name, getattr(plugin, "__version__", None), None, lambda p=plugin: p))
    return _load(candidates, registry or Registry(), set(), strict)


def _load(candidates: list[tuple[str, str | None, str | None, Any]], registry: Registry,
          disabled: set[str], strict: bool) -> tuple[Registry, list[PluginInfo]]:
    pm = pluggy.PluginManager("toonkit")
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    for name, version, dist, loader in candidates:
        if name in disabled or (dist and dist in disabled):
            log.info("plugin %s disabled by TOONKIT_DISABLE_PLUGINS", name)
            continue
        info = PluginInfo(name, version, distribution=dist)
        info.error = _guarded(name, loader, pm, registry)
        if info.error:
            if strict:
                raise PluginError(f"plugin '{name}' failed to load: {info.error} "
                                  "(TOONKIT_STRICT_PLUGINS=1)")
            log.warning("plugin %s failed to load: %s", name, info.error)
        info.components = registry.by_plugin(name)
        infos.append(info)
    return registry, infos


def _ensure() -> None:
    with _lock:
        if _state["registry"] is None:
            _state["registry"], _state["infos"] = load_plugins()


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    _ensure()
    return _state["registry"]


def plugin_infos() -> list[PluginInfo]:
    """Load results of every plugin seen (broken ones included)."""
    _ensure()
    return list(_state["infos"])


def reset() -> None:
    """Forget the loaded registry (tests, or after installing a plugin in-process)."""
    with _lock:
        _state["registry"] = None
        _state["infos"] = None
