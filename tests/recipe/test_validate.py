"""Recipe validation: exact one-line messages with key paths and suggestions, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from toonkit.recipe import RecipeError, load_recipe

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "recipes").glob("*.yaml"))


def write(tmp_path: Path, data: dict, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def base_recipe() -> dict:
    return {"name": "t", "method": {"type": "cartoongan"},
            "nets": {"generator": {"type": "cartoongan", "res_blocks": 2},
                     "feature": {"type": "vgg", "arch": "vgg16", "layer": "relu2_2", "weights": "random"}},
            "train": {"phases": {"init": {"steps": 1}, "adversarial": {"steps": 2}}}}


def problems(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(RecipeError) as err:
        load_recipe(path, overrides)
    return err.value.problems


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_every_shipped_recipe_validates(path: Path) -> None:
    recipe = load_recipe(path)
    assert recipe.method == recipe.to_dict()["method"]["type"]
    # the resolved recipe is itself a valid recipe (what runs save as recipe.yaml)
    again = tmp = path.parent / f".{path.stem}.resolved.yaml"
    try:
        tmp.write_text(recipe.to_yaml())
        assert load_recipe(again).to_dict() == recipe.to_dict()
    finally:
        tmp.unlink(missing_ok=True)


def test_misspelt_component_param_names_path_and_suggests(tmp_path: Path) -> None:
    data = base_recipe()
    data["nets"]["generator"]["res_blcks"] = 4
    path = write(tmp_path, data)
    assert problems(path) == [f"{path}: nets.generator.res_blcks: unknown key; did you mean 'res_blocks'?"]


def test_misspelt_top_level_section_and_nested_key(tmp_path: Path) -> None:
    data = base_recipe()
    data["trian"] = data.pop("train")
    data["data"] = {"bach_size": 4}
    path = write(tmp_path, data)
    found = problems(path)
    assert f"{path}: trian: unknown key; did you mean 'train'?" in found
    assert f"{path}: data.bach_size: unknown key; did you mean 'batch_size'?" in found


def test_wrong_type_is_reported_with_the_value(tmp_path: Path) -> None:
    data = base_recipe()
    data["nets"]["generator"]["res_blocks"] = "many"
    data["data"] = {"batch_size": "four"}
    path = write(tmp_path, data)
    found = problems(path)
    assert any(p.startswith(f"{path}: nets.generator.res_blocks: input should be a valid integer")
               and p.endswith("got 'many'") for p in found), found
    assert any(p.startswith(f"{path}: data.batch_size: input should be a valid integer") for p in found)


def test_unknown_component_type_suggests_and_lists(tmp_path: Path) -> None:
    data = base_recipe()
    data["nets"]["generator"]["type"] = "cartoongn"
    path = write(tmp_path, data)
    (line,) = problems(path)
    assert line.startswith(f"{path}: nets.generator.type: unknown generator 'cartoongn'; did you mean 'cartoongan'?")
    assert "resnet" in line and "unet" in line


def test_unknown_slot_phase_and_optimiser_names(tmp_path: Path) -> None:
    data = base_recipe()
    data["nets"]["generatr"] = {"type": "cartoongan"}
    data["train"]["phases"]["adversarail"] = {"steps": 1}
    data["train"]["optim"] = {"discriminatr": {"lr": 1e-3}}
    path = write(tmp_path, data)
    found = problems(path)
    assert f"{path}: nets.generatr: unknown key; did you mean 'generator'?" in found
    assert any(p.startswith(f"{path}: train.phases.adversarail: unknown phase; did you mean 'adversarial'?")
               for p in found)
    assert any(p.startswith(f"{path}: train.optim.discriminatr: unknown network; did you mean 'discriminator'?")
               for p in found)


def test_overrides_are_typed_and_applied(tmp_path: Path) -> None:
    path = write(tmp_path, base_recipe())
    recipe = load_recipe(path, ["data.batch_size=4", "nets.generator.res_blocks=3", "train.amp=bf16",
                                "train.optim.generator.betas=[0.9, 0.99]"])
    assert recipe.spec.data.batch_size == 4
    assert recipe.to_dict()["nets"]["generator"]["res_blocks"] == 3
    assert recipe.spec.train.amp == "bf16"
    assert recipe.spec.train.optim["generator"].betas == (0.9, 0.99)


def test_bare_yaml_off_is_amp_off(tmp_path: Path) -> None:
    data = base_recipe()
    data["train"]["amp"] = "AMP"
    text = yaml.safe_dump(data).replace("AMP", "off")  # a bare off, which YAML 1.1 reads as false
    assert yaml.safe_load(text)["train"]["amp"] is False
    (tmp_path / "recipe.yaml").write_text(text)
    recipe = load_recipe(tmp_path / "recipe.yaml")
    assert recipe.spec.train.amp == "off" and recipe.to_dict()["train"]["amp"] == "off"
    assert load_recipe(tmp_path / "recipe.yaml", ["train.amp=off"]).spec.train.amp == "off"


def test_bad_override_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, base_recipe())
    assert problems(path, ["nets.generator.res_blcks=4"]) == [
        f"{path}: nets.generator.res_blcks: unknown key; did you mean 'res_blocks'?"]
    assert problems(path, ["train.batch_size"]) == ["override 'train.batch_size': expected KEY.PATH=VALUE"]
    (line,) = problems(path, ["train.seed=abc"])
    assert line.startswith(f"{path}: train.seed: input should be a valid integer")


def test_defaults_are_filled_in_the_resolved_recipe(tmp_path: Path) -> None:
    recipe = load_recipe(write(tmp_path, base_recipe()))
    gen = recipe.to_dict()["nets"]["generator"]
    assert gen["res_blocks"] == 2 and gen["norm"] == "instance"
    assert recipe.to_dict()["nets"]["discriminator"]["type"] == "cartoongan"  # slot default
    assert recipe.to_dict()["losses"]["discriminator"]["type"] == "edge_promoting"


def test_base_inheritance_one_level_and_null_removes(tmp_path: Path) -> None:
    base = write(tmp_path, base_recipe(), "base.yaml")
    child = write(tmp_path, {"base": base.name, "name": "child", "nets": {"generator": {"res_blocks": 5}}},
                  "child.yaml")
    recipe = load_recipe(child)
    assert recipe.spec.name == "child" and recipe.to_dict()["nets"]["generator"]["res_blocks"] == 5
    grandchild = write(tmp_path, {"base": child.name}, "grandchild.yaml")
    (line,) = problems(grandchild)
    assert "only one level of inheritance" in line


def test_cli_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    data = base_recipe()
    data["nets"]["generator"]["res_blcks"] = 4
    path = write(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "toonkit", "recipe", "show", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{path}: nets.generator.res_blcks: unknown key; did you mean 'res_blocks'?"
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "toonkit", "run", str(path), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_cli_recipe_show_prints_resolved_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, base_recipe())
    proc = subprocess.run([sys.executable, "-m", "toonkit", "recipe", "show", str(path), "data.batch_size=2"],
                          capture_output=True, text=True, check=True)
    shown = yaml.safe_load(proc.stdout)
    assert shown["data"]["batch_size"] == 2 and shown["nets"]["generator"]["res_blocks"] == 2


def test_misspelt_key_inside_a_phase_is_suggested(tmp_path: Path) -> None:
    data = base_recipe()
    data["train"]["phases"]["init"] = {"epoch": 1}
    path = write(tmp_path, data)
    assert f"{path}: train.phases.init.epoch: unknown key; did you mean 'epochs'?" in problems(path)


def test_method_may_be_given_by_name_alone() -> None:
    from toonkit.recipe import recipe_from_dict

    recipe = recipe_from_dict({"method": "cartoongan", "nets": {"feature": {"weights": "random"}}})
    assert recipe.method == "cartoongan" and recipe.spec.method["type"] == "cartoongan"
    assert "w_content" in recipe.spec.method  # the method's defaults are filled in, as for a block
