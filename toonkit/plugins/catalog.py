"""Known plugin packages and what they provide, so a recipe that names a component of a plugin that is
not installed (or disabled, or broken) gets told which package to install, and how."""
from __future__ import annotations

from typing import Any

# distribution -> {kind: [names]}; plugins outside this project can be named in a recipe's `requires:`
KNOWN_PLUGINS: dict[str, dict[str, list[str]]] = {
    "toonkit-animegan": {
        "method": ["animegan"],
        "generator": ["animegan"],
        "discriminator": ["animegan"],
        "loss": ["animegan_gray_style", "animegan_color", "total_variation"],
    },
    "toonkit-mediapipe": {"masker": ["mediapipe_selfie"]},
}

# The known plugins ship in the toonkit repository's plugins/ folder and are not published on PyPI, so
# `pip install <dist>` would fail: the hint names the folder to install from instead.
SOURCE_FOLDER = "plugins"


def install_hint(dist: str) -> str:
    """The command that installs ``dist``: from the checkout's ``plugins/`` for the known plugins.

    Example:
        >>> install_hint("toonkit-animegan")
        'pip install -e plugins/toonkit-animegan (from a toonkit checkout)'
    """
    if dist in KNOWN_PLUGINS:
        return f"pip install -e {SOURCE_FOLDER}/{dist} (from a toonkit checkout)"
    return f"pip install {dist}"


def missing_distributions(data: dict[str, Any], registry: Any) -> list[str]:
    """Plugin packages a recipe needs but that are not loaded: known plugins whose components the recipe
    names while the registry lacks them, and ``requires:`` entries that are not installed.

    Args:
        data: a (merged, unvalidated) recipe mapping.
        registry: the registry the recipe is validated against.
    """
    names: set[str] = set()

    def add(block: Any) -> None:
        if isinstance(block, str):
            names.add(block)
        elif isinstance(block, dict) and isinstance(block.get("type"), str):
            names.add(block["type"])

    add(data.get("method"))
    for section in ("nets", "losses", "augment"):
        for block in (data.get(section) or {}).values() if isinstance(data.get(section), dict) else []:
            add(block)
    if isinstance(data.get("data"), dict):
        add(data["data"].get("mask_teacher"))
    missing = [dist for dist, provides in KNOWN_PLUGINS.items()
               if any(n in names and (kind, n) not in registry for kind, ns in provides.items() for n in ns)]
    requires = data.get("requires") if isinstance(data.get("requires"), list) else []
    missing += [r for r in requires if isinstance(r, str) and r not in missing and not _installed(r)]
    return missing


def provider_hint(kind: str, name: str, requires: list[str]) -> str:
    """A hint naming the plugin that provides ``kind``/``name`` when it is not registered."""
    from toonkit.plugins.manager import plugin_infos

    for info in plugin_infos():
        if info.error and info.name in {name, *requires}:
            return f"plugin '{info.name}' is installed but broken: {info.error}"
    for dist, provides in KNOWN_PLUGINS.items():
        if name in provides.get(kind, []):
            return f"{kind} '{name}' is provided by the plugin package '{dist}': {install_hint(dist)}" + (
                " (or remove it from TOONKIT_DISABLE_PLUGINS)" if _disabled(dist) else "")
    missing = [r for r in requires if not _installed(r)]
    if missing:
        return ("the recipe requires plugin package(s) not installed: "
                + "; ".join(f"{m} ({install_hint(m)})" for m in missing))
    return ""


def _installed(dist: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


def _disabled(dist: str) -> bool:
    """Whether TOONKIT_DISABLE_PLUGINS (read as the plugin manager reads it) names ``dist``: by its
    distribution name or its entry-point name, which for the known plugins is ``dist`` less ``toonkit-``."""
    from toonkit.plugins.manager import _disabled as disabled_names

    return bool(disabled_names() & {dist, dist.removeprefix("toonkit-")})
