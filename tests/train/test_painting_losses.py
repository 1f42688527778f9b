"""Selfie-GAN's optional painting terms (colour consistency, Gram style, flat surface, style jitter) and
``init:`` (training from a saved model's weights)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from toonkit.data import make_demo
from toonkit.recipe import RecipeError
from toonkit.train.trainer import Trainer

from .helpers import tiny_recipe


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo(root, n=6, size=40, seed=0)
    return root


@pytest.fixture(scope="module")
def trained(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Selfie-GAN run with every painting term on, trained once."""
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method.update(w_color=5.0, w_style=10.0, w_flat=1.0)
    recipe.spec.augment["style_jitter"] = {"type": "style_jitter", "max_gamma": 2.0, "p_dark": 0.75,
                                           "saturation": 0.3, "hue": 0.03, "p": 1.0}
    out = tmp_path_factory.mktemp("painting") / "run"
    Trainer(recipe, out).fit()
    return out


def test_every_painting_term_is_logged_and_finite(trained: Path) -> None:
    rows = (trained / "logs" / "losses.csv").read_text().splitlines()
    header = rows[0].split(",")
    for name in ("color", "style", "flat"):
        assert name in header, name
    last = dict(zip(header, rows[-1].split(",")))
    assert all(float(last[k]) >= 0 and last[k] != "nan" for k in ("color", "style", "flat"))


def test_the_terms_are_off_by_default(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    assert recipe.spec.augment.get("style_jitter") is None
    trainer = Trainer(recipe, tmp_path / "run")
    assert "style_jitter" not in trainer.method.aug
    assert (trainer.method.w_color, trainer.method.w_style, trainer.method.w_flat) == (0.0, 0.0, 0.0)


def test_the_style_term_looks_at_the_person_only_when_asked(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method.update(w_style=10.0, style_region="person")
    trainer = Trainer(recipe, tmp_path / "run")
    method = trainer.method
    method.net["masker"].eval()  # as in the adversarial phase (batch statistics would mix the batch)
    cartoon, fake = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 32, 32) * 2 - 1
    _, memo = method.discriminator_views(cartoon, cartoon, fake)
    cartoon_weight, fake_weight = method.style_regions(memo, 2, 3)
    assert torch.allclose(cartoon_weight, method.mask(cartoon), atol=1e-5)
    assert torch.allclose(fake_weight, method.mask(fake), atol=1e-5)
    # the loss compares the weighted regions: a half-image region gives another value than the whole
    features = method.net["feature"](fake)
    half = torch.zeros(3, 1, 32, 32)
    half[..., 16:] = 1
    whole = method.style_loss(fake, features, cartoon)
    assert torch.allclose(method.style_loss(fake, features, cartoon, torch.ones(2, 1, 32, 32),
                                            torch.ones_like(half)), whole, rtol=1e-5, atol=0)
    assert not torch.isclose(method.style_loss(fake, features, cartoon, half[:2], half), whole, rtol=1e-2,
                             atol=0)
    trainer.fit()
    rows = (tmp_path / "run" / "logs" / "losses.csv").read_text().splitlines()
    last = dict(zip(rows[0].split(","), rows[-1].split(",")))
    assert float(last["style"]) > 0
    method.style_region = "image"
    assert method.style_regions(memo, 2, 3) == (None, None)


def test_the_gray_style_term_ignores_colour(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method.update(w_style=10.0, style_color="gray")
    method = Trainer(recipe, tmp_path / "run").method
    cartoon, fake = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 32, 32) * 2 - 1
    features = method.net["feature"](fake)  # ignored in gray: the fake is looked at again in grayscale
    swapped = cartoon[:, [2, 0, 1]]  # other colours; the luma changes too, so compare against gray copies
    gray = (0.299 * cartoon[:, :1] + 0.587 * cartoon[:, 1:2] + 0.114 * cartoon[:, 2:]).expand_as(cartoon)
    loss = method.style_loss(fake, features, gray)
    # the same luma in any colours is the same target: a hue-only change of the cartoons changes nothing
    tint = torch.tensor([0.2, -0.1, (0.1 * 0.587 - 0.2 * 0.299) / 0.114])  # zero luma: a hue change only
    tinted = gray + tint.view(1, 3, 1, 1)
    assert torch.allclose(method.style_loss(fake, features, tinted), loss, rtol=1e-4, atol=1e-6)
    assert not torch.isclose(method.style_loss(fake, features, swapped), loss, rtol=1e-3, atol=0)
    method.style_color = "rgb"  # in colour, the same hue-only change is a different target
    assert not torch.isclose(method.style_loss(fake, features, tinted), method.style_loss(fake, features, gray),
                             rtol=1e-3, atol=0)


def test_an_unknown_style_color_lists_the_options(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method.update(style_color="grey")
    with pytest.raises((RecipeError, ValueError), match="rgb, gray"):
        Trainer(recipe, tmp_path / "run")


def test_an_unknown_style_region_lists_the_options(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method.update(style_region="face")
    with pytest.raises((RecipeError, ValueError), match="image, person"):
        Trainer(recipe, tmp_path / "run")


def test_init_starts_every_network_it_has_from_the_source(trained: Path, demo: Path, tmp_path: Path) -> None:
    from toonkit.core.checkpoint import read_checkpoint

    recipe = tiny_recipe("selfie_gan", demo, ema=0.9)
    recipe.spec.init = str(trained)
    trainer = Trainer(recipe, tmp_path / "run")
    assert set(trainer.initialised) == {"generator", "discriminator", "masker"}
    source = read_checkpoint(trained)
    gen = trainer.raw_nets["generator"].state_dict()
    ema = source.weights("generator")  # the EMA generator: what the source translates with
    assert all(torch.equal(gen[k], ema[k].float()) for k in gen)
    averaged = trainer.ema.module.state_dict()  # the EMA copy starts from the loaded weights too
    assert all(torch.equal(averaged[k], gen[k]) for k in gen)


def test_init_from_a_source_of_another_architecture_names_the_network(trained: Path, demo: Path,
                                                                       tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.nets["generator"]["base_channels"] = 4
    recipe.spec.init = str(trained)
    with pytest.raises(RecipeError, match=r"init: .*network 'generator' does not match"):
        Trainer(recipe, tmp_path / "run")


def test_init_naming_nothing_lists_the_models(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.init = "handpaintd"
    with pytest.raises(RecipeError, match="did you mean 'handpainted'"):
        Trainer(recipe, tmp_path / "run")


def test_init_from_the_shipped_model_loads_its_generator_and_masker(demo: Path, tmp_path: Path) -> None:
    import toonkit

    config = toonkit.get_registry().get("model", "handpainted").factory().config
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.nets["generator"] = {**config["nets"]["generator"]}
    recipe.spec.nets["masker"] = {**config["nets"]["masker"]}
    recipe.spec.init = "handpainted"
    trainer = Trainer(recipe, tmp_path / "run")
    assert set(trainer.initialised) == {"generator", "masker"}  # a model folder keeps no discriminator


def test_a_finished_run_carries_a_model_card(trained: Path) -> None:
    card = (trained / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: toonkit\nlicense: other  # fill in")
    for text in ("## How it was trained", "| data | 6 photos, 6 style images |", "| steps | init 2, masker 2, "
                 "adversarial 2", "Last logged losses: ", "style ", "## Data and licence", "Not measured yet"):
        assert text in card, text


def test_d_augment_transforms_everything_d_sees_in_both_steps(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.augment["d_augment"] = {"type": "diff_augment", "translation": 0.125, "cutout": 0.5}
    trainer = Trainer(recipe, tmp_path / "run")
    seen: list[tuple[int, bool]] = []
    trainer.method.aug["d_augment"].register_forward_hook(
        lambda module, args, out: seen.append((args[0].shape[0], args[0].requires_grad)))
    d_seen: list[torch.Tensor] = []
    trainer.raw_nets["discriminator"].register_forward_hook(lambda module, args, out: d_seen.append(args[0]))
    trainer.fit()
    batch = recipe.spec.data.batch_size
    adversarial = recipe.spec.train.phases["adversarial"].steps
    # per adversarial step: D's batch (cartoons, smoothed cartoons, fakes, no gradient to G), then G's fakes
    assert seen == [(3 * batch, False), (batch, True)] * adversarial
    # D only ever saw augmented images: every one of them has a cut-out square of the fill
    assert d_seen and all(bool(((x == 0).all(dim=1).flatten(1).sum(1) > 0).all()) for x in d_seen)
