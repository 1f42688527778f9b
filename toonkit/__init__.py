"""toonkit: turn selfies into hand-painted portraits (Selfie-GAN and its baselines), built from plugins."""
from __future__ import annotations

import sys
import types
import warnings
from typing import Any

from toonkit._version import __version__  # noqa: E402,F401

from toonkit.errors import ToonkitError  # noqa: E402
from toonkit.registry import KINDS, Entry, Registry, UnknownComponentError  # noqa: E402


def get_registry() -> Registry:
    """The process-wide registry, filled by every installed plugin on first use.

    (``toonkit.registry()`` still works for one release, with a ``DeprecationWarning``: as a function it
    was shadowed by the :mod:`toonkit.registry` module as soon as that was imported.)
    """
    from toonkit.plugins import get_registry as _get

    return _get()


def build(kind: str, name: str, **params: Any) -> Any:
    """Build the registered component ``kind``/``name`` with ``params``.

    Example:
        >>> import toonkit
        >>> g = toonkit.build("generator", "cartoongan", res_blocks=2)
    """
    return get_registry().build(kind, name, **params)


def list_components(kind: str | None = None, pattern: str = "*") -> list[Entry]:
    """Registered entries of ``kind`` (all kinds when None) whose names match ``pattern`` (fnmatch)."""
    return get_registry().list(kind, pattern)


def load(path: str, **kwargs: Any) -> Any:
    """Load a trained run directory or checkpoint for translation (see :mod:`toonkit.translate`)."""
    from toonkit.translate.loading import load as _load

    return _load(path, **kwargs)


__all__ = ["KINDS", "Entry", "Registry", "ToonkitError", "UnknownComponentError", "build", "get_registry",
           "list_components", "load", "__version__"]


class _CallableRegistryModule(types.ModuleType):
    """``toonkit.registry()`` from toonkit 0.1 keeps working for one release. The name ``toonkit.registry``
    is the :mod:`toonkit.registry` module (it shadowed the old function as soon as it was imported), so
    the module itself is made callable, with a warning."""

    def __call__(self) -> Registry:
        warnings.warn("toonkit.registry() is deprecated: use toonkit.get_registry() (the name belongs to the "
                      "toonkit.registry module)", DeprecationWarning, stacklevel=2)
        return get_registry()


sys.modules["toonkit.registry"].__class__ = _CallableRegistryModule
