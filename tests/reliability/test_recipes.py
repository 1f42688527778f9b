"""Recipes that validate today but cannot run, hostile YAML, and run names that are paths: each is one
line naming the key (exit 2), never a traceback, a hang or a write outside ``runs/``."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from toonkit.cli.main import main
from toonkit.recipe import RecipeError, load_recipe, recipe_from_dict

BASE = {"name": "t", "method": {"type": "cartoongan"},
        "nets": {"generator": {"type": "cartoongan", "base_channels": 8, "res_blocks": 1}}}


def _with(path: str, value: object) -> dict:
    import copy

    data = copy.deepcopy(BASE)
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return data


UNRUNNABLE = [
    ("data.size", 2**63), ("data.batch_size", 2**63), ("data.demo_n", 2**40),
    ("nets.generator.base_channels", 0), ("nets.generator.base_channels", 2**63),
    ("nets.generator.res_blocks", -1), ("nets.discriminator", {"type": "cartoongan", "base_channels": -4}),
    ("train.phases.init", {"epochs": float("inf")}), ("train.phases.init", {"epochs": float("-inf")}),
    ("train.phases.init", {"steps": 2**63}), ("method.w_content", float("inf")),
    ("method.w_content", float("nan")), ("train.optim", {"generator": {"betas": [0.5, 1.5]}}),
    ("train.optim", {"generator": {"lr": float("inf")}}), ("train.device", "banana"),
    ("train.seed", -1), ("nets.generator.type", ["cartoongan"]), ("nets.generator.type", {"a": 1}),
    ("method.type", ["cartoongan"]), ("train.checkpoint_seconds", float("inf")),
]


@pytest.mark.parametrize("key,value", UNRUNNABLE, ids=[f"{k}={v!r}"[:40] for k, v in UNRUNNABLE])
def test_unrunnable_values_are_rejected_with_their_key(key: str, value: object) -> None:
    with pytest.raises(RecipeError) as info:
        recipe_from_dict(_with(key, value))
    assert any(key.split(".")[0] in p for p in info.value.problems)
    assert all("\n" not in p for p in info.value.problems)


def test_load_size_below_size_is_rejected() -> None:
    data = _with("data", {"size": 64, "load_size": 32})
    with pytest.raises(RecipeError, match="load_size"):
        recipe_from_dict(data)


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "..", ".", "a/b", "", ".hidden", "x" * 200])
def test_run_names_are_plain(name: str) -> None:
    with pytest.raises(RecipeError, match="name: must be a plain name"):
        recipe_from_dict(_with("name", name))


def test_run_with_a_path_name_writes_nothing_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "r.yaml").write_text(yaml.safe_dump(_with("name", "../escaped")))
    assert main(["run", "r.yaml"]) == 2
    assert "name: must be a plain name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def _write(tmp_path: Path, text: str | bytes, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_billion_laughs_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("method: {type: cartoongan, bomb: *a8}")
    with pytest.raises(RecipeError, match="expands to more than"):
        load_recipe(_write(tmp_path, "\n".join(lines)))


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    for depth in (40, 5000):
        path = _write(tmp_path, "method: " + "[" * depth + "]" * depth, f"deep{depth}.yaml")
        with pytest.raises(RecipeError, match="nest"):
            load_recipe(path)


def test_non_utf8_and_oversized_and_special_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecipeError, match="not UTF-8"):
        load_recipe(_write(tmp_path, b"name: caf\xe9\nmethod: {type: cartoongan}\n"))
    big = _write(tmp_path, "# " + "x" * 2_000_000 + "\nmethod: {type: cartoongan}\n", "big.yaml")
    with pytest.raises(RecipeError, match="TOONKIT_MAX_RECIPE_BYTES"):
        load_recipe(big)
    monkeypatch.setenv("TOONKIT_MAX_RECIPE_BYTES", str(4_000_000))
    assert load_recipe(big).method == "cartoongan"
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(RecipeError, match="not a regular file"):
        load_recipe(fifo)


@pytest.mark.parametrize("base", ["/dev/zero", "weights.safetensors", "../../etc/passwd"])
def test_base_must_be_a_yaml_recipe(tmp_path: Path, base: str) -> None:
    path = _write(tmp_path, yaml.safe_dump({"base": base, **BASE}))
    with pytest.raises(RecipeError, match="base"):
        load_recipe(path)
