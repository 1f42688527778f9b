"""Hints for a recipe that needs a plugin that is not loaded: what is wrong with it, and how to install it.

Nothing here knows which plugin provides which component. The hints come from the recipe's
``requires:`` list (plugin distributions, or plugin names) and from the plugins' own metadata: the
entry-point and distribution names importlib.metadata reports, and what the plugin manager recorded when
loading them (broken, or disabled by ``TOONKIT_DISABLE_PLUGINS``).
"""
from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

# plugin packages developed next to toonkit live in its checkout's plugins/<distribution>/ folder
SOURCE_FOLDER = "plugins"
_DIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def source_folder(dist: str, cwd: str | os.PathLike[str] | None = None) -> str | None:
    """``plugins/<dist>`` (relative to ``cwd``) when the checkout around ``cwd`` holds that package.

    Looks in ``cwd`` and its parents, up to the checkout's root (the first folder with ``.git``), for
    ``plugins/<dist>/pyproject.toml``.

    Args:
        dist: a distribution name.
        cwd: where to start looking (the current directory by default).
    """
    if not _DIST_NAME.fullmatch(dist):
        return None
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    for root in (here, *here.parents):
        folder = root / SOURCE_FOLDER / dist
        if (folder / "pyproject.toml").is_file():
            return Path(os.path.relpath(folder, here)).as_posix()
        if (root / ".git").exists():  # the checkout ends here: a folder above is someone else's
            return None
    return None


def install_hint(dist: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """The command that installs plugin package ``dist``: from the checkout when it holds it, else PyPI.

    Args:
        dist: a distribution name.
        cwd: the folder the command will be run from (the current directory by default).

    Example:
        >>> install_hint("toonkit-watercolour", cwd="/")
        'pip install toonkit-watercolour'
    """
    folder = source_folder(dist, cwd)
    return f"pip install -e {folder}" if folder else f"pip install {dist}"


def requirement_problem(req: str) -> str | None:
    """Why the plugin ``req`` (a distribution or plugin name from ``requires:``) is not usable, or None.

    The answer starts with ``plugin <req>`` and says ``not installed (<install command>)``, ``installed
    but disabled by TOONKIT_DISABLE_PLUGINS`` or ``installed but broken: <error>``. An installed
    distribution with no toonkit plugin in it (a plain dependency) is usable.

    Example:
        >>> requirement_problem("toonkit-watercolour").split(" (")[0]  # doctest: +SKIP
        'plugin toonkit-watercolour not installed'
    """
    from toonkit.plugins.manager import disabled_plugins, plugin_infos

    matching = [i for i in plugin_infos() if req in (i.name, i.distribution)]
    broken = [i for i in matching if i.error]
    if broken:
        return f"plugin {req} installed but broken: {broken[0].error}"
    if matching:
        return None
    disabled = [i for i in disabled_plugins() if req in (i.name, i.distribution)]
    if disabled:
        return f"plugin {req} {_described(disabled)}installed but disabled by TOONKIT_DISABLE_PLUGINS"
    if _installed(req):
        return None
    return f"plugin {req} not installed ({install_hint(req)})"


def missing_distributions(data: dict[str, Any], registry: Any = None) -> list[str]:
    """The ``requires:`` entries of a recipe whose plugin is not loaded: not installed, disabled or broken.

    A caller such as the bench skips such a recipe (saying why with :func:`requirement_problem`)
    instead of failing.

    Args:
        data: a (merged, unvalidated) recipe mapping.
        registry: unused; kept for callers that pass the registry the recipe is validated against.
    """
    given = data.get("requires")
    requires: list[Any] = given if isinstance(given, list) else []
    return [r for r in dict.fromkeys(requires) if isinstance(r, str) and requirement_problem(r)]


def provider_hint(kind: str, name: str, requires: list[str]) -> str:
    """A hint for a ``kind``/``name`` that is not registered, or ``""``.

    The recipe's ``requires:`` entries that are not usable come first (each with its reason and, when
    not installed, its install command); then a broken plugin named like the component; then the
    installed plugins that are disabled, which may provide it.

    Args:
        kind: the component kind.
        name: the unknown name.
        requires: the recipe's ``requires:`` list.
    """
    from toonkit.plugins.manager import disabled_plugins, plugin_infos

    problems = [p for r in dict.fromkeys(requires) if (p := requirement_problem(r))]
    if problems:
        return "; ".join(problems)
    for info in plugin_infos():
        if info.error and info.name == name:
            return f"plugin '{info.name}' is installed but broken: {info.error}"
    disabled = disabled_plugins()
    if disabled:
        listed = ", ".join(f"{i.name}" + (f" ({i.distribution})" if i.distribution else "") for i in disabled)
        return f"installed plugins disabled by TOONKIT_DISABLE_PLUGINS, which may provide it: {listed}"
    return ""


def _described(infos: list[Any]) -> str:
    names = [f"'{i.name}'" + (f" from {i.distribution}" if i.distribution else "") for i in infos]
    return f"(plugin {', '.join(names)}) "


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
        return True
    except (metadata.PackageNotFoundError, ValueError):  # ValueError: not a valid distribution name
        return False
