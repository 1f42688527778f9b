"""Everything toonkit keeps only so that older code, files and commands go on working, in one place, each
with the release that removes it (:data:`REMOVED_IN`).

What is kept, and where it is used:

==========================================  ===============================================  ==========
kept                                        for                                              used in
==========================================  ===============================================  ==========
:func:`upgrade_model_config`                model folders of format ``toonkit-model-1``      translate
                                            (the shipped ``handpainted`` until it is
                                            rewritten by ``benchmarks/ship_handpainted.py``)
:func:`checkpoint_spec`                     checkpoints written before they stored a model   translate
                                            spec (only their recipe)
:func:`make_module_callable`                ``toonkit.registry()`` (now ``get_registry()``)  facade
``Recipe.data``                             ``Recipe.to_dict()``                             recipe
``ContentLoss(..., features=net)``          ``content(net(x), net(y))``                      losses
:data:`DEPRECATED_FLAGS`                    ``export --size``, ``bench --progress``          cli
==========================================  ===============================================  ==========

This module is in the base layer: it imports nothing of toonkit, and the callers hand it what it needs.
"""
from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

#: the release in which everything here goes away
REMOVED_IN = "0.3.0"

#: ``(command, flag)`` → (how it was written, what to write instead), for command-line flags that still
#: work with a notice
DEPRECATED_FLAGS: dict[tuple[str, str], tuple[str, str]] = {
    ("export", "--size"): ("--size H W", "--input-size H W"),
    ("bench", "--progress"): ("--progress", "no flag (progress bars are on by default; -q turns them off)"),
}

#: the format of model folders before specs: ``method`` a name, the generator always under ``generator``
MODEL_FORMAT_1 = "toonkit-model-1"


def deprecation(old: str, new: str) -> str:
    """The one wording of a deprecation: ``OLD is deprecated, use NEW (removed in toonkit X)``."""
    return f"{old} is deprecated, use {new} (it will be removed in toonkit {REMOVED_IN})"


def warn(old: str, new: str, stacklevel: int = 3) -> None:
    """A :class:`DeprecationWarning` worded by :func:`deprecation`, pointing at the caller's caller."""
    warnings.warn(deprecation(old, new), DeprecationWarning, stacklevel=stacklevel)


def flag_notice(command: str, flag: str) -> str:
    """What the CLI prints when a deprecated flag of :data:`DEPRECATED_FLAGS` is used."""
    return deprecation(*DEPRECATED_FLAGS[(command, flag)])


def upgrade_model_config(config: Mapping[str, Any], slots: Callable[[str], tuple[str, str | None]]
                         ) -> tuple[dict[str, Any], dict[str, str]]:
    """A ``toonkit-model-1`` ``config.json`` as the current format's fields, and the renames of its
    weights' prefixes.

    Format 1 named the method only (its parameters were not stored: translation does not use them),
    stored the networks under ``generator`` and ``masker`` whatever the method's slots were called, and
    let ``method`` and ``size`` default to ``cartoongan`` and 256.

    Args:
        config: the old ``config.json``.
        slots: method name → its generator and masker slots (its :class:`~toonkit.methods.base.Roles`),
            which the networks are stored under from now on.

    Returns:
        ``(fields, renames)``: the config with ``method`` a block and ``nets`` keyed by slot, and
        ``{old prefix: slot}`` for the weights file.
    """
    method = config.get("method", "cartoongan")
    nets = config.get("nets")
    if not isinstance(method, str) or not isinstance(nets, Mapping):
        return dict(config), {}  # not format 1 after all: the spec reader names what is wrong
    generator, masker = slots(method)
    renames = {"generator": generator, **({"masker": masker} if masker else {})}
    fields = {**config, "method": {"type": method}, "size": config.get("size", 256),
              "nets": {renames.get(name, name): block for name, block in nets.items()}}
    return fields, renames


def checkpoint_spec(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The model spec of a checkpoint written before checkpoints stored one: from its resolved recipe,
    which held the same blocks (``data.size`` defaulted to 256)."""
    method = recipe.get("method")
    data = recipe.get("data") or {}

    def blocks(section: str) -> dict[str, Any]:
        return {k: v for k, v in (recipe.get(section) or {}).items() if v is not None}

    return {"method": {"type": method} if isinstance(method, str) else method,
            "size": data.get("size", 256) if isinstance(data, Mapping) else 256,
            "nets": blocks("nets"), "losses": blocks("losses"), "augment": blocks("augment")}


def make_module_callable(module: types.ModuleType, call: Callable[[], Any], old: str, new: str) -> None:
    """Let ``module`` be called like the function it replaced (``toonkit.registry()``), with a warning.

    The name ``toonkit.registry`` is the :mod:`toonkit.registry` module, which shadowed the 0.1 function
    of that name as soon as it was imported; calling the module keeps that code working.
    """

    class _Callable(types.ModuleType):
        def __call__(self) -> Any:
            warn(old, new)
            return call()

    module.__class__ = _Callable
