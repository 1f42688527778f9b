"""Cross-field validation, the shipped Selfie-GAN recipes, and `recipe show` filling in every optimiser."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import toonkit
from toonkit.recipe import RecipeError, load_recipe

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"


def problems(path: Path, overrides: list[str]) -> list[str]:
    with pytest.raises(RecipeError) as err:
        load_recipe(path, overrides)
    return err.value.problems


def test_layer_the_arch_lacks_is_caught_with_its_key_path() -> None:
    (line,) = problems(RECIPES / "selfie_gan_paper.yaml", ["nets.feature.arch=vgg16"])
    assert line.startswith("recipes/selfie_gan_paper.yaml: nets.feature.layer: vgg16 has no layer 'conv4_4'"
                           .replace("recipes/", str(RECIPES) + "/"))
    assert "did you mean 'conv4_3'" in line


def test_layers_list_is_checked_too() -> None:
    (line,) = problems(RECIPES / "nst.yaml", ["nets.feature.layers=[relu1_1,relu5_4]"])
    assert "nets.feature.layers: vgg16 has no layer 'relu5_4'" in line


def test_generator_and_discriminator_gan_modes_must_agree() -> None:
    (line,) = problems(RECIPES / "selfie_gan.yaml", ["losses.adversarial.mode=lsgan"])
    assert ": losses.discriminator.mode: 'bce' differs from losses.adversarial.mode 'lsgan'" in line
    load_recipe(RECIPES / "selfie_gan.yaml", ["losses.adversarial.mode=lsgan",
                                               "losses.discriminator.mode=lsgan"])  # one mode: fine


def test_readme_recipe_example_validates() -> None:
    """The ```yaml example of the README's Recipes section is a valid recipe as printed."""
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    example = next(b for b in blocks if "method:" in b and "nets:" in b)
    recipe = toonkit.recipe.recipe_from_dict(yaml.safe_load(example), "README.md")
    losses = recipe.to_dict()["losses"]
    assert losses["adversarial"]["mode"] == losses["discriminator"]["mode"]


@pytest.mark.parametrize("name", ["selfie_gan.yaml", "quickstart.yaml", "cartoongan.yaml", "cyclegan.yaml"])
def test_show_fills_an_optimiser_for_every_trained_network(name: str) -> None:
    recipe = load_recipe(RECIPES / name)
    method = toonkit.get_registry().get("method", recipe.method).factory
    trained = {n for p in method.phases for n in p.trains if recipe.to_dict()["nets"].get(n) is not None}
    optim = recipe.to_dict()["train"]["optim"]
    assert set(optim) == trained
    assert all(set(o) >= {"lr", "betas", "scheduler"} for o in optim.values())


def test_cartoongan_baseline_drops_the_masker_and_keeps_w1() -> None:
    selfie, cartoon = load_recipe(RECIPES / "selfie_gan.yaml"), load_recipe(RECIPES / "cartoongan.yaml")
    assert cartoon.to_dict()["method"]["w_content"] == selfie.to_dict()["method"]["w_content"] == 10.0
    assert "masker" not in cartoon.to_dict()["nets"] and "masker" not in cartoon.to_dict()["train"]["optim"]
    assert cartoon.to_dict()["nets"]["feature"] == selfie.to_dict()["nets"]["feature"]


def test_paper_recipe_keeps_the_paper_values() -> None:
    paper = load_recipe(RECIPES / "selfie_gan_paper.yaml")
    assert paper.to_dict()["method"]["w_content"] == 0.01
    assert (paper.to_dict()["nets"]["feature"]["arch"], paper.to_dict()["nets"]["feature"]["layer"]) == ("vgg19", "conv4_4")


def test_selfie_gan_recipe_builds_its_perceptual_net_offline(weights_dir: Path) -> None:
    """The recipe users copy uses the one ImageNet VGG that loads from TOONKIT_WEIGHTS_DIR."""
    block = dict(load_recipe(RECIPES / "selfie_gan.yaml").to_dict()["nets"]["feature"])
    assert block.pop("weights") == "imagenet"
    feature = toonkit.build("feature", block.pop("type"), weights="imagenet", **block)
    assert feature.out_channels == 512
