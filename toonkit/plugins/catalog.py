"""Known plugin packages and what they provide, so a recipe that names a component of a plugin that is
not installed (or disabled, or broken) gets told which package to install."""
from __future__ import annotations

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


def provider_hint(kind: str, name: str, requires: list[str]) -> str:
    """A hint naming the plugin that provides ``kind``/``name`` when it is not registered."""
    from toonkit.plugins.manager import plugin_infos

    for info in plugin_infos():
        if info.error and info.name in {name, *requires}:
            return f"plugin '{info.name}' is installed but broken: {info.error}"
    for dist, provides in KNOWN_PLUGINS.items():
        if name in provides.get(kind, []):
            return f"{kind} '{name}' is provided by the plugin package '{dist}': pip install {dist}" + (
                " (or remove it from TOONKIT_DISABLE_PLUGINS)" if _disabled(dist) else "")
    missing = [r for r in requires if not _installed(r)]
    if missing:
        return f"the recipe requires plugin package(s) not installed: {', '.join(missing)}"
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
