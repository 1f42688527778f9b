"""Stored recipes are recipes: the recipe inside a checkpoint and a model folder's ``config.json`` go through
the bounded loader and the validation a recipe file gets, so a tampered one is one line, never a
traceback; and ``base:`` stays beside its recipe."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PIL import Image

import toonkit
from toonkit.cli.main import main
from toonkit.core.checkpoint import save_checkpoint
from toonkit.recipe import RecipeError, load_recipe

from .helpers import GEN


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("p") / "a.png"
    Image.new("RGB", (32, 32), (200, 100, 50)).save(path)
    return path


def _run_with_recipe(root: Path, recipe_yaml: str) -> Path:
    gen = toonkit.build("generator", "cartoongan", **{k: v for k, v in GEN.items() if k != "type"})
    save_checkpoint(root / "checkpoints", 1, "adversarial", {"generator": gen}, {}, recipe_yaml)
    return root


GOOD = {"name": "tiny", "method": {"type": "cartoongan"}, "data": {"size": 32}, "nets": {"generator": dict(GEN)}}

STORED = {
    "yaml_tag": "!!python/object/apply:os.system ['echo pwned']\n",
    "bad_yaml": "method: {type: cartoongan\nnets: [\n",
    "a_list": "- 1\n- 2\n",
    "deep_brackets": "[" * 5000 + "]" * 5000,
    "size_big": yaml.safe_dump({**GOOD, "data": {"size": "big"}}),
    "alias_bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "unknown_param": yaml.safe_dump({**GOOD, "nets": {"generator": {**GEN, "res_blcks": 2}}}),
    "huge": yaml.safe_dump(GOOD) + "# " + "x" * (2 << 20) + "\n",
}


@pytest.mark.parametrize("case", list(STORED))
def test_a_checkpoints_stored_recipe_is_validated(case: str, tmp_path: Path, photo: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    run = _run_with_recipe(tmp_path / "run", STORED[case])
    rc = main(["translate", str(run), str(photo), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "checkpoints" in err  # the line names the file
    assert not (tmp_path / "out").exists()


def test_a_valid_stored_recipe_still_loads(tmp_path: Path, photo: Path) -> None:
    run = _run_with_recipe(tmp_path / "run", yaml.safe_dump(GOOD))
    assert main(["translate", str(run), str(photo), "-o", str(tmp_path / "out"), "-q"]) == 0


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = _run_with_recipe(tmp_path_factory.mktemp("run"), yaml.safe_dump(GOOD))
    return toonkit.load(run, device="cpu").save_pretrained(tmp_path_factory.mktemp("m") / "model")


def _folder_with_config(src: Path, dst: Path, text: str) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    (dst / "config.json").write_text(text)
    return dst


CONFIGS = {
    "deep_brackets": "[" * 100_000,
    "unknown_param": "res_blcks",
    "unknown_type": "cartoongam",
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_a_model_folders_config_is_validated(case: str, model_folder: Path, tmp_path: Path, photo: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    config = json.loads((model_folder / "config.json").read_text())
    if case == "deep_brackets":
        text = CONFIGS[case]
    elif case == "unknown_param":
        config["nets"]["generator"]["res_blcks"] = 1
        text = json.dumps(config)
    else:
        config["nets"]["generator"]["type"] = "cartoongam"
        text = json.dumps(config)
    folder = _folder_with_config(model_folder, tmp_path / "m", text)
    rc = main(["translate", str(folder), str(photo), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    if case != "deep_brackets":
        assert "did you mean" in err, err  # the recipe's own suggestions


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_base_stays_beside_the_recipe(tmp_path: Path, where: str) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "base.yaml").write_text(yaml.safe_dump({"method": {"type": "cartoongan"}}))
    here = tmp_path / "here"
    here.mkdir()
    base = str(other / "base.yaml") if where == "absolute" else "../other/base.yaml"
    (here / "r.yaml").write_text(yaml.safe_dump({"base": base, "name": "x"}))
    with pytest.raises(RecipeError, match="beside"):
        load_recipe(here / "r.yaml")

