"""Discovers and loads plugins one at a time, so one broken plugin never takes the others down.

Every hook implementation is called through one pluggy ``PluginManager`` per load (kept next to the
registry it filled), one plugin at a time: each plugin is imported, registered with the manager and its
``toonkit_register`` called on its own, with a :class:`~toonkit.plugins.view.PluginRegistry` that records
the plugin as the owner of what it adds.

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
import types
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

import pluggy

from toonkit.errors import ToonkitError
from toonkit.plugins import hookspecs
from toonkit.plugins.hookspecs import PROJECT
from toonkit.plugins.view import PluginRegistry
from toonkit.registry import Registry
from toonkit.errors import describe_error

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


@dataclass
class Loaded:
    """One load of the plugins: the filled registry, the plugin manager that called the hooks (kept, so
    later hooks go through the same plugins), what each plugin did, and the installed plugins that
    ``TOONKIT_DISABLE_PLUGINS`` skipped (hints name them instead of telling to install them again)."""

    registry: Registry
    pm: pluggy.PluginManager
    infos: list[PluginInfo]
    disabled: list[PluginInfo] = field(default_factory=list)


_lock = threading.Lock()
_state: dict[str, Loaded | None] = {"loaded": None}
Candidate = tuple[str, "str | None", "str | None", Callable[[], Any]]  # name, version, dist, loader


def _disabled() -> set[str]:
    raw = os.environ.get("TOONKIT_DISABLE_PLUGINS", "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _strict() -> bool:
    return os.environ.get("TOONKIT_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _version() -> str:
    from toonkit._version import __version__

    return __version__


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows toonkit's hooks (and no plugin yet)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def call_one(pm: pluggy.PluginManager, hook: str, name: str, **kwargs: Any) -> list[Any]:
    """Call ``hook`` of the plugin registered as ``name`` only, through ``pm``.

    The other plugins' implementations are left out, so a failure belongs to this plugin alone.
    """
    others = [p for n, p in pm.list_name_plugin() if n != name and p is not None]
    return pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)


def has_impl(pm: pluggy.PluginManager, hook: str, name: str) -> bool:
    """Whether the plugin registered as ``name`` implements ``hook`` (with ``@hookimpl``)."""
    return any(i.plugin_name == name for i in getattr(pm.hook, hook).get_hookimpls())


def _register_one(pm: pluggy.PluginManager, registry: Registry, name: str, plugin: Any) -> None:
    """Register ``plugin`` with ``pm`` as ``name`` and call its ``toonkit_register`` through ``pm``."""
    pm.register(_hashable(plugin, name), name=name)
    try:
        if not has_impl(pm, "toonkit_register", name):
            # pluggy only calls functions marked with @hookimpl: an unmarked one would silently add
            # nothing, so say what is wrong instead of listing a plugin with no components
            if callable(getattr(plugin, "toonkit_register", None)):
                raise PluginError(f"plugin '{name}': toonkit_register is not marked with "
                                  "@toonkit.plugins.hookimpl")
            raise PluginError(f"plugin '{name}' defines no toonkit_register hook")
        call_one(pm, "toonkit_register", name, registry=PluginRegistry(registry, name))
    except BaseException:
        pm.unregister(name=name)  # its other hooks (commands) must not run either
        raise


def _hashable(plugin: Any, name: str) -> Any:
    """``plugin``, or a module holding its attributes when it cannot be hashed (a ``SimpleNamespace``):
    pluggy keeps plugins in sets."""
    try:
        hash(plugin)
        return plugin
    except TypeError:
        stand_in = types.ModuleType(f"toonkit_plugin_{name}")
        stand_in.__dict__.update({a: getattr(plugin, a) for a in dir(plugin) if not a.startswith("__")})
        return stand_in


def _guarded(name: str, loader: Callable[[], Any], pm: pluggy.PluginManager, registry: Registry
             ) -> str | None:
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
        return describe_error(exc, limit=None)
    finally:
        if printed.getvalue().strip():
            log.debug("plugin %s printed at import: %s", name, printed.getvalue().strip()[:500])
    return None


def _builtin_candidate() -> Candidate:
    from toonkit.plugins import builtin

    return (BUILTIN, _version(), None, lambda: builtin)


def installed_candidates() -> list[Candidate]:
    """The built-in plugin, then every ``toonkit`` entry point, sorted by name (not imported yet)."""
    candidates = [_builtin_candidate()]
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        candidates.append((ep.name, dist.version if dist else None, dist.name if dist else None, ep.load))
    return candidates


def load_plugins(registry: Registry | None = None) -> tuple[Registry, list[PluginInfo]]:
    """Create a registry filled by the built-in plugin and every installed entry point.

    Each plugin is imported and run on its own; a failure is recorded in its :class:`PluginInfo`
    (or raised as :class:`PluginError` when ``TOONKIT_STRICT_PLUGINS=1``).

    Example:
        >>> registry, infos = load_plugins()  # doctest: +SKIP
        >>> infos[0].name, ("generator", "cartoongan") in registry  # doctest: +SKIP
        ('builtin', True)
    """
    loaded = _load(installed_candidates(), registry or Registry(), _disabled(), _strict())
    return loaded.registry, loaded.infos


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
    candidates = [_builtin_candidate()] if builtin else []
    for name, plugin in plugins.items():
        candidates.append((name, getattr(plugin, "__version__", None), None, _returning(plugin)))
    loaded = _load(candidates, registry or Registry(), set(), strict)
    return loaded.registry, loaded.infos


def _load(candidates: list[Candidate], registry: Registry, disabled: set[str], strict: bool) -> Loaded:
    loaded = Loaded(registry, new_plugin_manager(), [])
    for name, version, dist, loader in candidates:
        if name in disabled or (dist and dist in disabled):
            log.info("plugin %s disabled by TOONKIT_DISABLE_PLUGINS", name)
            loaded.pm.set_blocked(name)  # registering it later (by mistake) is then a no-op
            loaded.disabled.append(PluginInfo(name, version, distribution=dist))
            continue
        info = PluginInfo(name, version, distribution=dist)
        info.error = _guarded(name, loader, loaded.pm, registry)
        if info.error:
            if strict:
                raise PluginError(f"plugin '{name}' failed to load: {info.error} "
                                  "(TOONKIT_STRICT_PLUGINS=1)")
            log.warning("plugin %s failed to load: %s", name, info.error)
        loaded.infos.append(info)
    for info in loaded.infos:  # once all are in: an entry a later plugin overrode is no longer listed
        info.components = registry.by_plugin(info.name)
    return loaded


def _returning(plugin: Any) -> Callable[[], Any]:
    """A loader of an already imported plugin object."""
    return lambda: plugin


def loaded() -> Loaded:
    """The process-wide load (registry, plugin manager, results), done on first use."""
    with _lock:
        state = _state["loaded"]
        if state is None:
            state = _state["loaded"] = _load(installed_candidates(), Registry(), _disabled(), _strict())
        return state


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    return loaded().registry


def plugin_infos() -> list[PluginInfo]:
    """Load results of every plugin seen (broken ones included, disabled ones not)."""
    return list(loaded().infos)


def disabled_plugins() -> list[PluginInfo]:
    """Installed plugins that ``TOONKIT_DISABLE_PLUGINS`` skipped (not imported: no components known)."""
    return list(loaded().disabled)


def add_plugin_commands(subparsers: Any) -> list[str]:
    """Let each loaded plugin add its CLI subcommands (``toonkit_commands`` hook), one plugin at a time.

    A plugin whose hook fails (a name clash with a built-in command, say) is logged and skipped; the
    others and the built-in commands are unaffected.

    Args:
        subparsers: the ``argparse`` subparsers action of the ``toonkit`` CLI.

    Returns:
        The names of the plugins whose commands were added.
    """
    try:
        state = loaded()
    except PluginError:  # TOONKIT_STRICT_PLUGINS with a broken plugin: the command itself reports it
        return []
    added: list[str] = []
    for name, plugin in state.pm.list_name_plugin():
        if plugin is None or not has_impl(state.pm, "toonkit_commands", name):
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                call_one(state.pm, "toonkit_commands", name, subparsers=subparsers)
            added.append(name)
        except (Exception, SystemExit) as exc:  # argparse exits on some errors: not the CLI's exit
            log.warning("plugin %s: its commands were left out: %s", name, describe_error(exc, limit=None))
    return added


def reset() -> None:
    """Forget the loaded registry (tests, or after installing a plugin in-process)."""
    with _lock:
        _state["loaded"] = None
