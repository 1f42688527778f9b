"""Cross-field rules of a recipe: checks that need several resolved values at once.

Per-key types and ranges are checked by :mod:`toonkit.recipe.validate`; a value can be valid on its own
and still contradict another (``arch: vgg16`` with ``layer: conv4_4``, a generator trained on ``lsgan``
against a discriminator trained on ``bce``). Two hooks let components and methods state such rules, so a
plugin's components are checked the same way:

- a component factory may define ``param_problems(params) -> dict[str, str]`` (key → message) over its
  resolved parameters (see :meth:`toonkit.features.VGGFeatures.param_problems`);
- a method class defines ``recipe_problems(recipe) -> list[str]`` over the whole resolved recipe, each
  line starting with its key path (see :meth:`toonkit.methods.base.Method.recipe_problems`).
"""
from __future__ import annotations

from typing import Any

from toonkit.protocols import param_check, recipe_check
from toonkit.recipe.schema import COMPONENT_SECTIONS, split_block
from toonkit.registry import Registry


def _blocks(method_cls: Any, resolved: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key path, kind, block) for every resolved component block."""
    out = []
    for section in COMPONENT_SECTIONS:
        slots = method_cls.slots(section)
        for slot, block in (resolved.get(section) or {}).items():
            if isinstance(block, dict) and slot in slots:
                kind = slots[slot].kind
                out.append((f"{section}.{slot}", kind, block))
    teacher = (resolved.get("data") or {}).get("mask_teacher")
    if isinstance(teacher, dict):
        out.append(("data.mask_teacher", "masker", teacher))
    return out


def consistency_problems(method_cls: Any, resolved: dict[str, Any], registry: Registry) -> list[str]:
    """Every cross-field problem of a resolved recipe, as ``key.path: message`` lines.

    Args:
        method_cls: the recipe's method class.
        resolved: the recipe with every block resolved (types checked, defaults filled in).
        registry: where the blocks' components are registered.

    Example:
        >>> from toonkit.methods.cartoongan import CartoonGAN
        >>> from toonkit.plugins import get_registry
        >>> consistency_problems(CartoonGAN, {"nets": {"feature": {"type": "vgg", "arch": "vgg16",
        ...     "layer": "conv4_4"}}}, get_registry())[0][:45]
        "nets.feature.layer: vgg16 has no layer 'conv4_"
    """
    problems: list[str] = []
    for path, kind, block in _blocks(method_cls, resolved):
        if (kind, block.get("type")) not in registry:
            continue
        check = param_check(registry.get(kind, block["type"]).factory)
        if check is not None:
            _, params = split_block(block)
            problems += [f"{path}.{key}: {msg}" for key, msg in check(params).items()]
    check_recipe = recipe_check(method_cls)
    if check_recipe is not None:
        problems += list(check_recipe(resolved))
    return problems
