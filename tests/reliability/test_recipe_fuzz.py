"""Property-based recipe fuzzing: mutated real recipes and random YAML either load or fail with
:class:`RecipeError` lines (exit 2 in the CLI), never another exception, under a fixed example budget."""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from toonkit.recipe import RecipeError, load_recipe  # noqa: E402
from toonkit.recipe.validate import apply_overrides, resolve  # noqa: E402

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml"))
BUDGET = settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["cartoongan", "unet", "vgg", "../x", "/abs", "auto", "cuda:9", "off", "inf"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, str(k)))
    return out


def _check_one_line(exc: RecipeError) -> None:
    assert exc.problems and all(p and "\n" not in p and "Traceback" not in p for p in exc.problems)


def _registry():  # type: ignore[no-untyped-def]
    from toonkit.plugins import get_registry

    return get_registry()


@pytest.mark.skipif(not RECIPES, reason="no recipes/ folder beside the tests")
@BUDGET
@given(data=st.data())
def test_mutated_real_recipes(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(RECIPES))
    recipe = yaml.safe_load(path.read_text())
    recipe.pop("base", None)
    keys = _paths(recipe)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        node = recipe
        for k in key[:-1]:
            node = node[k] if isinstance(node, dict) and isinstance(node.get(k), dict) else {}
        node[key[-1]] = data.draw(values)
    try:
        resolve(copy.deepcopy(recipe), str(path), _registry())
    except RecipeError as exc:
        _check_one_line(exc)


@BUDGET
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                      values.map(lambda v: yaml.safe_dump({"method": v, "data": v}))))
def test_random_yaml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_recipe(path)
    except RecipeError as exc:
        _check_one_line(exc)


@BUDGET
@given(key=st.sampled_from(["data.size", "data.load_size", "train.seed", "train.device", "name",
                            "nets.generator.base_channels", "nets.generator.res_blocks", "train.ema",
                            "train.optim.generator.betas", "method.w_content", "train.phases.init.epochs"]),
       raw=st.one_of(st.integers(-(2**70), 2**70).map(str), st.sampled_from(
           ["inf", "-.inf", ".nan", "[1, 2]", "{a: 1}", "''", "~", "1e308", "0x10", "banana", "../.."])))
def test_overrides(key: str, raw: str) -> None:
    recipe = {"name": "f", "method": {"type": "cartoongan"}}
    try:
        resolved = resolve(apply_overrides(recipe, [f"{key}={raw}"]), "<fuzz>", _registry())
    except RecipeError as exc:
        _check_one_line(exc)
        return
    # what validates must be runnable: finite numbers, plain name, known device
    spec = resolved.spec
    assert "/" not in spec.name and spec.name not in (".", "..")
    assert spec.data.size <= 16384 and math.isfinite(spec.train.ema or 0.0)
