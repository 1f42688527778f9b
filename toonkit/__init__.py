"""toonkit: turn selfies into hand-painted portraits (Selfie-GAN and its baselines), built from plugins."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toonkit import _compat
from toonkit._version import __version__
from toonkit.errors import ModelError, ToonkitError
from toonkit.registry import KINDS, Entry, Registry, UnknownComponentError

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer


def get_registry() -> Registry:
    """The process-wide registry, filled by every installed plugin on first use."""
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


def load(source: str | Path, device: str = "auto", **options: Any) -> Cartoonizer:
    """Load a saved model for translation: a registered model (``handpainted``), a model folder,
    ``hf://owner/name``, a run directory or a checkpoint. See :func:`toonkit.translate.load` for the
    options (``masker``, ``ema``, ``amp``, ``channels_last``, ``max_pixels``, ``work_size``)."""
    from toonkit.translate.api import load as _load

    return _load(source, device, **options)


__all__ = ["KINDS", "Entry", "ModelError", "Registry", "ToonkitError", "UnknownComponentError", "build", "get_registry",
           "list_components", "load", "__version__"]


# toonkit 0.1's `toonkit.registry()` (see toonkit._compat)
_compat.make_module_callable(sys.modules["toonkit.registry"], get_registry, "toonkit.registry()",
                             "toonkit.get_registry()")
