"""toonkit: turn selfies into hand-painted portraits (Selfie-GAN and its baselines), built from plugins."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from toonkit.registry import KINDS, Entry, Registry, UnknownComponentError  # noqa: E402


def registry() -> Registry:
    """The process-wide registry, filled by every installed plugin on first use."""
    from toonkit.plugins import get_registry

    return get_registry()


def build(kind: str, name: str, **params: Any) -> Any:
    """Build the registered component ``kind``/``name`` with ``params``.

    Example:
        >>> import toonkit
        >>> g = toonkit.build("generator", "cartoongan", res_blocks=2)
    """
    return registry().build(kind, name, **params)


def list_components(kind: str | None = None, pattern: str = "*") -> list[Entry]:
    """Registered entries of ``kind`` (all kinds when None) whose names match ``pattern`` (fnmatch)."""
    return registry().list(kind, pattern)


def load(path: str, **kwargs: Any) -> Any:
    """Load a trained run directory or checkpoint for translation (see :mod:`toonkit.translate`)."""
    from toonkit.translate.api import load as _load

    return _load(path, **kwargs)


__all__ = ["KINDS", "Entry", "Registry", "UnknownComponentError", "build", "list_components", "load",
           "registry", "__version__"]
