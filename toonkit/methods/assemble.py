"""The one way to build components and methods from recipe blocks.

A block is ``{"type": name, **params}`` (a resolved recipe holds one per slot). :func:`build_block` is the
only place that splits a block and builds it; :func:`assemble` is the only place that builds a method with
its slots. The trainer, :func:`toonkit.load`, neural style transfer, the bench and the plugin test kit
all go through them, so a parameter a recipe sets reaches the network everywhere.

Example:
    >>> from toonkit.methods.assemble import assemble, default_recipe
    >>> recipe = default_recipe("cartoongan", {"nets.feature": {"weights": "random"}})
    >>> method = assemble(recipe)
    >>> sorted(method.net)
    ['discriminator', 'feature', 'generator']
"""
from __future__ import annotations

from typing import Any

from torch import nn

from toonkit.methods.base import SECTIONS, Method
from toonkit.recipe import Recipe, recipe_from_dict
from toonkit.recipe.schema import split_block
from toonkit.registry import Registry


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from toonkit.plugins import get_registry

    return get_registry()


def build_block(kind: str, block: dict[str, Any], registry: Registry | None = None) -> Any:
    """Build the registered ``kind`` that ``block`` names, with its parameters.

    Args:
        kind: registry kind (``generator``, ``masker``, ``loss`` ...).
        block: ``{"type": name, **params}``, as a resolved recipe holds it.
        registry: where to look the name up (default: the process-wide registry).
    """
    name, params = split_block(block)
    return _registry(registry).get(kind, name).build(**params)


def method_class(name: str, registry: Registry | None = None) -> type[Method]:
    """The registered method class ``name`` (an unknown name lists the registered ones).

    Raises:
        UnknownComponentError: no method of that name.
        TypeError: what is registered under it is not a :class:`~toonkit.methods.base.Method` subclass.
    """
    factory = _registry(registry).get("method", name).factory
    if not (isinstance(factory, type) and issubclass(factory, Method)):
        raise TypeError(f"method '{name}' is registered as {factory!r}, not a subclass of toonkit.methods.base.Method")
    return factory


def assemble(recipe: Recipe, registry: Registry | None = None) -> Method:
    """Build ``recipe``'s method and every component block of its ``nets``, ``losses`` and ``augment``.

    Args:
        recipe: a resolved recipe (:func:`toonkit.recipe.load_recipe`, :func:`default_recipe`).
        registry: the registry the recipe was resolved against (default: the process-wide one).

    Returns:
        the method with its components bound and the weights its parameters name loaded
        (:meth:`~toonkit.methods.base.Method.init_weights`), on the CPU, in training mode.
    """
    registry = _registry(registry)
    method = build_block("method", recipe.spec.method, registry)
    slots = type(method)
    built: dict[str, dict[str, nn.Module]] = {}
    for section in SECTIONS:
        table = slots.slots(section)
        built[section] = {slot: build_block(table[slot].kind, block, registry)
                          for slot, block in getattr(recipe.spec, section).items() if block is not None}
    method.bind(built["nets"], built["losses"], built["augment"])
    method.init_weights()
    return method


def default_recipe(method: str, blocks: dict[str, dict[str, Any]] | None = None,
                   registry: Registry | None = None, **method_params: Any) -> Recipe:
    """A resolved recipe of ``method`` with its slot defaults, for building it outside a training run.

    Args:
        method: a registered method name.
        blocks: blocks replacing slot defaults, by ``"section.slot"`` (``{"nets.feature": {"arch":
            "vgg19"}}``). Without ``type`` the keys are parameters merged over the slot's defaults, as in a
            recipe; with another ``type`` the block replaces the default component.
        registry: the registry to resolve against (default: the process-wide one).
        **method_params: the method's own parameters.

    Raises:
        RecipeError: a block or parameter is invalid (one line per problem, with its key path).
    """
    data: dict[str, Any] = {"method": {"type": method, **method_params}}
    for key, block in (blocks or {}).items():
        section, _, slot = key.partition(".")
        data.setdefault(section, {})[slot] = dict(block)
    return recipe_from_dict(data, f"<{method} defaults>", _registry(registry))
