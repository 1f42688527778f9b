"""Load a YAML recipe, apply ``base:`` and dotted overrides, and validate it before anything is built.

Every problem becomes one line ``<file>: <key.path>: <message>``; :class:`RecipeError` carries them all.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from toonkit import _compat
from toonkit.recipe.limits import base_path as base_path_of
from toonkit.recipe.limits import load_yaml, read_text, value_problem
from toonkit.recipe.schema import COMPONENT_SECTIONS, RecipeSpec
from toonkit.registry import Entry, Registry, did_you_mean, rename_params
from toonkit.recipe.errors import RecipeError



@dataclass(frozen=True)
class Recipe:
    """A resolved recipe: one typed object (:class:`~toonkit.recipe.schema.RecipeSpec`) and where it came from.

    Every component block in ``spec.method``, ``spec.nets``, ``spec.losses``, ``spec.augment`` and
    ``spec.data.mask_teacher`` is complete: its ``type`` and every parameter, defaults filled in. Build
    it with :func:`toonkit.methods.assemble.assemble`.
    """

    spec: RecipeSpec
    source: str

    @property
    def method(self) -> str:
        """The method's registered name."""
        return self.spec.method["type"]

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain YAML-ready data (a fresh copy each call)."""
        return self.spec.model_dump(mode="json")

    @property
    def data(self) -> dict[str, Any]:
        """Deprecated (:mod:`toonkit._compat`): :meth:`to_dict`."""
        _compat.warn("Recipe.data", "Recipe.to_dict()")
        return self.to_dict()

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


# -- reading ---------------------------------------------------------------------------------------
def read_yaml(path: str | Path, what: str = "recipe") -> dict[str, Any]:
    """The YAML mapping in ``path``; a ``RecipeError`` naming the file (and ``what`` it should be)."""

    src = str(path)
    data = load_yaml(read_text(path, what), src)  # bounded: size, encoding, nesting, aliases
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError([f"{src}: a {what} must be a mapping of sections, got {type(data).__name__}"])
    return data


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if value is None:  # `key: null` in a derived recipe removes what the base set
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            # a component block that changes its type starts from scratch, not from the base's params
            if "type" in value and value.get("type") != out[key].get("type"):
                out[key] = copy.deepcopy(value)
            else:
                out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_YAML11_WORDS = {"on", "off", "yes", "no", "y", "n"}


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` → (["a","b","c"], typed value via YAML)."""
    if "=" not in text:
        raise RecipeError([f"override '{text}': expected KEY.PATH=VALUE"])
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise RecipeError([f"override '{text}': empty key in '{key}'"])
    if raw.strip().lower() in _YAML11_WORDS:  # keep `amp=off` a string; pydantic still reads it as a bool
        return parts, raw.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise RecipeError([f"override '{text}': {where} is a value, not a section"])
            node = child
        node[parts[-1]] = value
    return out


# -- validating ------------------------------------------------------------------------------------
def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in parts)


def _pydantic_problems(exc: ValidationError, model: type[BaseModel] | None) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _loc(loc)
        if err["type"] == "extra_forbidden":
            options = _fields_at(model, loc[:-1])
            hint = did_you_mean(str(loc[-1]), options)
            problems.append(f"{path}: unknown key{hint}"
                            + (f" (valid keys: {', '.join(options)})" if options and not hint else ""))
        elif err["type"] == "missing":
            problems.append(f"{path}: required key is missing")
        elif err["type"] == "value_error":  # our own validators: their message says it all
            problems.append(f"{path}: {err['ctx']['error']}")
        else:
            msg = err["msg"]
            msg = msg[0].lower() + msg[1:]
            problems.append(f"{path}: {msg}, got {err['input']!r}")
    return problems


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _fields_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model at ``loc``, for suggestions; ``dict[str, Model]`` fields
    (phases, optimisers) are looked through, their keys skipped."""
    import typing

    current: Any = model
    dict_key_next = False
    for part in loc:
        if dict_key_next:  # a user-chosen key such as a phase name: no suggestion to make for it
            dict_key_next = False
            continue
        if not _is_model(current) or str(part) not in current.model_fields:
            return []
        current = current.model_fields[str(part)].annotation
        if typing.get_origin(current) is dict:
            current, dict_key_next = typing.get_args(current)[1], True
        elif not _is_model(current):  # Optional[Model] and friends
            current = next((a for a in typing.get_args(current) if _is_model(a)), current)
    return list(current.model_fields) if _is_model(current) else []


def check_params(entry: Entry, params: dict[str, Any], path: str) -> tuple[dict[str, Any], list[str]]:
    """Type-check ``params`` against ``entry``'s declared parameters; fill in defaults."""
    problems: list[str] = []
    declared = {p.name: p for p in entry.params}
    resolved: dict[str, Any] = {}
    # deprecated names are checked as, and resolved to, the new ones (with a warning naming the key)
    params = rename_params(entry, params, warn=True, where=path)
    for key, value in params.items():
        p = declared.get(key)
        if p is None:
            if entry.accepts_extra:
                resolved[key] = value
                continue
            hint = did_you_mean(key, list(declared))
            listing = "" if hint else f" ({entry.kind} '{entry.name}' takes: {', '.join(declared) or 'nothing'})"
            problems.append(f"{path}.{key}: unknown key{hint}{listing}")
            continue
        try:
            resolved[key] = _plain(TypeAdapter(p.annotation).validate_python(value))
            why = value_problem(key, resolved[key], entry.kind)  # type-checks, but could not run
            if why:
                problems.append(f"{path}.{key}: {why}")
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            problems.append(f"{path}.{key}: {msg[0].lower() + msg[1:]}, got {value!r}")
        except Exception:  # annotation pydantic cannot check (an nn.Module, say): accept as given
            resolved[key] = value
    for p in entry.params:
        if p.name in resolved:
            continue
        if p.required:
            problems.append(f"{path}.{p.name}: required parameter of {entry.kind} '{entry.name}' is missing")
        elif _is_plain(p.default):
            resolved[p.name] = _plain(p.default)
    return resolved, problems


def _plain(value: Any) -> Any:
    """YAML-friendly copy (tuples become lists) so the resolved recipe can be saved and reloaded."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def check_block(registry: Registry, kind: str, block: Any, path: str, default: str | None = None,
                default_params: dict[str, Any] | None = None, requires: list[str] | None = None
                ) -> tuple[dict[str, Any] | None, list[str]]:
    """Validate one ``{type: name, **params}`` block of ``kind``; returns the resolved block."""
    if isinstance(block, str):
        block = {"type": block}
    if block is None:
        block = {}
    if not isinstance(block, dict):
        return None, [f"{path}: expected a mapping with 'type:', got {block!r}"]
    name = block.get("type", default)
    if name is not None and not isinstance(name, str):
        return None, [f"{path}.type: expected a {kind} name, got {name!r}"]
    if name is None:
        return None, [f"{path}.type: required key is missing (registered {kind}s: "
                      f"{', '.join(e.name for e in registry.list(kind))})"]
    if (kind, name) not in registry:
        names = [e.name for e in registry.list(kind)]
        msg = f"{path}.type: unknown {kind} '{name}'{did_you_mean(str(name), names)}"
        provider = _provider_hint(kind, str(name), requires or [])
        return None, [msg + (f"; {provider}" if provider else f" (registered {kind}s: {', '.join(names)})")]
    entry = registry.get(kind, name)
    params = dict(default_params or {}) if name == default else {}
    params.update({k: v for k, v in block.items() if k != "type"})
    resolved, problems = check_params(entry, params, path)
    return {"type": name, **resolved}, problems


def _provider_hint(kind: str, name: str, requires: list[str]) -> str:
    from toonkit.plugins.catalog import provider_hint

    return provider_hint(kind, name, requires)


def resolve(data: dict[str, Any], source: str, registry: Registry) -> Recipe:
    """Validate a merged recipe mapping into a :class:`Recipe`, every block complete.

    The one resolution step: :func:`load_recipe` and :func:`recipe_from_dict` both end here.

    Raises:
        RecipeError: listing every problem, one ``source: key.path: message`` line each.
    """
    problems: list[str] = []
    data = copy.deepcopy(data)
    data.pop("base", None)
    try:
        spec = RecipeSpec.model_validate(data)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, RecipeSpec)
        spec = None
    resolved: dict[str, Any] = copy.deepcopy(data)
    # anything but a list of names is a schema error; hints only look at the names
    requires = [r for r in data.get("requires") or [] if isinstance(r, str)] \
        if isinstance(data.get("requires"), list) else []
    method_block = data.get("method")
    method_cls: Any = None  # a method class, from the registry
    if isinstance(method_block, (dict, str)):
        block, probs = check_block(registry, "method", method_block, "method", requires=requires)
        problems += probs
        if block is not None:
            resolved["method"] = block
            method_cls = registry.get("method", block["type"]).factory
    if method_cls is not None:
        for section in COMPONENT_SECTIONS:
            given = data.get(section) or {}
            if not isinstance(given, dict):
                problems.append(f"{section}: expected a mapping of component blocks, got {given!r}")
                continue
            slots = method_cls.slots(section)
            out: dict[str, Any] = {}
            for key in given:
                if key not in slots:
                    hint = did_you_mean(key, list(slots))
                    problems.append(f"{section}.{key}: unknown key{hint}" + (
                        "" if hint else f" (method '{resolved['method']['type']}' uses: "
                        f"{', '.join(slots) or 'nothing'})"))
            for key, slot in slots.items():
                if slot.optional and (given.get(key, "absent") is None
                                      or (key not in given and slot.default is None)):
                    out[key] = None  # left out: set to null, or an optional slot with no default
                    continue
                block, probs = check_block(registry, slot.kind, given.get(key), f"{section}.{key}",
                                           slot.default, slot.params, requires)
                problems += probs
                if block is not None:
                    out[key] = block
            resolved[section] = out
        problems += _check_train_keys(method_cls, data.get("train"), resolved)
    teacher = (data.get("data") or {}).get("mask_teacher") if isinstance(data.get("data"), dict) else None
    if teacher is not None:
        block, probs = check_block(registry, "masker", teacher, "data.mask_teacher", requires=requires)
        problems += probs
        resolved.setdefault("data", {})["mask_teacher"] = block
    if method_cls is not None and not problems:  # cross-field rules need every block resolved
        from toonkit.recipe.consistency import consistency_problems

        problems += consistency_problems(method_cls, resolved, registry)
    if problems:
        from toonkit.plugins.catalog import missing_distributions

        raise RecipeError([f"{source}: {p}" for p in problems], missing_distributions(data, registry))
    assert spec is not None
    return Recipe(RecipeSpec.model_validate(resolved), source)


def _check_train_keys(method_cls: Any, train: Any, resolved: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(train, dict):
        train = {}
    resolved["train"] = copy.deepcopy(train)
    phase_names = [p.name for p in method_cls.phases]
    for key in (train.get("phases") if isinstance(train.get("phases"), dict) else {}):
        if key not in phase_names:
            problems.append(f"train.phases.{key}: unknown phase{did_you_mean(str(key), phase_names)} "
                            f"(phases of '{resolved['method']['type']}': {', '.join(phase_names) or 'none'})")
    phases = resolved.setdefault("train", {}).setdefault("phases", {})
    if isinstance(phases, dict):
        for p in method_cls.phases:  # make the default lengths explicit in the resolved recipe
            phases.setdefault(p.name, {"epochs": p.epochs, "steps": p.steps})
    trainable = [n for n, s in method_cls.nets.items() if s.trainable]
    for key in (train.get("optim") if isinstance(train.get("optim"), dict) else {}):
        if key not in trainable:
            problems.append(f"train.optim.{key}: unknown network{did_you_mean(str(key), trainable)} "
                            f"(trainable networks: {', '.join(trainable) or 'none'})")
    optim = resolved["train"].setdefault("optim", {})
    if isinstance(optim, dict):  # an optimiser for every network a phase trains, defaults made explicit
        trained = {n for p in method_cls.phases for n in p.trains}
        for name in trainable:
            nets = resolved.get("nets")  # not a mapping when the recipe's `nets:` is broken (reported above)
            if name in trained and isinstance(nets, dict) and nets.get(name) is not None:
                optim.setdefault(name, {})
    return problems


def load_recipe(path: str | Path, overrides: list[str] | None = None,
                registry: Registry | None = None) -> Recipe:
    """Read, merge ``base:`` (one level), apply ``overrides`` and validate.

    Example:
        >>> recipe = load_recipe("recipes/quickstart.yaml", ["train.seed=3"])  # doctest: +SKIP
    """
    if registry is None:
        from toonkit.plugins import get_registry

        registry = get_registry()
    source = str(path)
    data = read_yaml(path)
    base = data.get("base")
    if base is not None:
        if not isinstance(base, str):
            raise RecipeError([f"{source}: base: expected a path to a recipe, got {base!r}"])
        base_path = base_path_of(path, base)
        base_data = read_yaml(base_path)
        if "base" in base_data:
            raise RecipeError([f"{source}: base: '{base}' has a base of its own; "
                               "only one level of inheritance is allowed"])
        data = _merge(base_data, {k: v for k, v in data.items() if k != "base"})
    data = apply_overrides(data, list(overrides or []))
    return resolve(data, source, registry)


def recipe_from_dict(data: dict[str, Any], source: str = "<recipe>",
                     registry: Registry | None = None) -> Recipe:
    if registry is None:
        from toonkit.plugins import get_registry

        registry = get_registry()
    return resolve(data, source, registry)
