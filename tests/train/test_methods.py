"""Every trainable method runs a couple of steps of each phase at a tiny size on CPU, and comes back from
its checkpoint and its model folder as a working translator."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import toonkit
from toonkit.core import checkpoint as ckpt
from toonkit.data import make_demo
from toonkit.protocols import size_multiple
from toonkit.train.trainer import Trainer
from toonkit.translate import Cartoonizer

from .helpers import TINY_NETS, tiny_methods, tiny_recipe


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo(root, n=6, size=40, seed=0)
    return root


def _params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_every_trainable_builtin_method_has_a_tiny_recipe() -> None:
    builtin = {e.name for e in toonkit.list_components("method") if e.plugin == "builtin" and e.factory.trainable}
    assert builtin <= set(TINY_NETS), f"add tiny nets for {builtin - set(TINY_NETS)}"


@dataclass
class Trained:
    """A method trained 2 steps per phase, once per module, shared by the tests below."""

    method: str
    trainer: Trainer
    run: Path
    before: dict[str, torch.Tensor]


@pytest.fixture(scope="module", params=tiny_methods())
def trained(request: pytest.FixtureRequest, demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    run = tmp_path_factory.mktemp(f"run_{request.param}") / "run"
    trainer = Trainer(tiny_recipe(request.param, demo), run)
    before = _params(trainer.raw_nets[trainer.method.roles.generator])
    trainer.fit()
    return Trained(request.param, trainer, run, before)


def test_method_trains_every_phase(trained: Trained) -> None:
    trainer, run = trained.trainer, trained.run
    after = _params(trainer.raw_nets[trainer.method.roles.generator])
    assert any(not torch.equal(trained.before[k], after[k]) for k in after), "generator weights did not change"
    n_phases = sum(1 for p in trainer.method.phases)
    assert trainer.global_step == 2 * n_phases
    weights = ckpt.read_checkpoint(run)
    assert weights.step == trainer.global_step
    assert set(weights.nets) == set(trainer.raw_nets)
    rows = (run / "logs" / "losses.csv").read_text().splitlines()
    assert len(rows) == 1 + trainer.global_step  # header + one row per step (log_every=1)
    assert "nan" not in "".join(rows[1:]).lower()
    assert list((run / "samples").glob("*.png"))
    assert (run / "recipe.yaml").is_file()


def test_a_trained_method_comes_back_as_a_translator(trained: Trained, tmp_path: Path) -> None:
    """The one way back: checkpoint → toonkit.load → translate, export to ONNX with parity, and
    save_pretrained → from_pretrained, each rebuilding the method the recipe trained (load_method)."""
    from toonkit.translate.export import build_module, export

    method = trained.trainer.method.eval()
    roles = method.roles
    toon = toonkit.load(trained.run, device="cpu", channels_last=False)
    assert toon.spec is not None and toon.spec.method_name == trained.method
    assert set(toon.spec.nets) == {s for s in roles.translation if s in trained.trainer.raw_nets}
    assert toon.has_masker == (roles.masker is not None)
    # the loaded generator is the trained one: the same output as the method's own translate
    side = math.lcm(size_multiple(toon.generator), 32)
    x = torch.rand(1, 3, side, side) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(toon.generate(x), method.translate(x).float().clamp(-1, 1), rtol=0, atol=1e-5)
    photo = torch.rand(1, 3, 37, 45) * 2 - 1  # an odd size: padded for the networks and cropped back
    background = "white" if toon.has_masker else "keep"
    out = toon.translate(photo, background=background, size="original")
    assert out.shape == photo.shape and torch.isfinite(out).all()

    # ONNX: the exported graph gives what PyTorch gives
    module = build_module(toon, with_masker=toon.has_masker, background=background, size=(side, side))
    size = (math.lcm(module.size_multiple, 32),) * 2
    _, checks = export(module, "onnx", tmp_path / "model.onnx", size, exporter="torchscript")
    assert max(c.max_abs_diff for c in checks) <= 1e-3

    # model folder and back: the same spec, the same translation up to fp16 storage
    folder = toon.save_pretrained(tmp_path / "model")
    again = Cartoonizer.from_pretrained(folder, device="cpu", channels_last=False)
    assert again.spec == toon.spec and again.has_masker == toon.has_masker
    assert (again.translate(photo, background=background, size="original") - out).abs().max() < 4 / 255
    assert again.save_pretrained(tmp_path / "again").joinpath("config.json").read_text().replace(
        '"again"', '"model"') == (folder / "config.json").read_text()


@pytest.mark.parametrize("reuse", [False, True])
def test_selfie_gan_freezes_masker_and_shows_d_masked_images(reuse: bool, demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo)
    recipe.spec.method["reuse_cartoon_mask"] = reuse
    recipe.spec.train.phases["init"].steps = 0
    recipe.spec.train.phases["masker"].steps = 0
    trainer = Trainer(recipe, tmp_path / "run")
    masker, D = trainer.method.net["masker"], trainer.method.net["discriminator"]
    before = _params(masker)
    seen: dict[str, torch.Tensor] = {}
    masks: list[torch.Tensor] = []
    inputs: list[torch.Tensor] = []

    def on_masker(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        inputs.append(args[0].detach())
        masks.append(torch.sigmoid(out.detach().float()))
        assert not module.training, "masker must be in eval mode during the adversarial phase"
        assert not torch.is_grad_enabled(), "masker must run without gradients"

    def on_d(module: torch.nn.Module, args: tuple) -> None:
        seen.setdefault("first", args[0].detach())

    masker.register_forward_hook(on_masker)
    D.register_forward_pre_hook(on_d)
    trainer.fit()
    assert all(torch.equal(before[k], v) for k, v in _params(masker).items()), "masker changed"
    # the first D batch is exactly m·img + (1 − m)·fill for the images the masker saw
    expected = masks[0] * inputs[0] + (1 - masks[0]) * trainer.method.fill
    d_in = seen["first"]
    if reuse:  # S saw [cartoons, fakes]; D sees [cartoons, smoothed cartoons, fakes]
        n = d_in.shape[0] // 3
        d_in = torch.cat([d_in[:n], d_in[2 * n:]])
    torch.testing.assert_close(d_in, expected)
    assert not torch.equal(d_in, inputs[0])


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(demo: Path, tmp_path: Path) -> None:
    from toonkit.methods.context import NonFiniteLossError

    recipe = tiny_recipe("cartoongan", demo, steps=3, checkpoint_every=1)
    trainer = Trainer(recipe, tmp_path / "run")
    real_step = trainer.method.train_step
    calls = {"n": 0}

    def poisoned(batch, ctx):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:  # first adversarial step: poison the photos
            batch = {**batch, "photo": batch["photo"] * float("nan")}
        return real_step(batch, ctx)

    trainer.method.train_step = poisoned  # type: ignore[method-assign]
    with pytest.raises(NonFiniteLossError, match=r"non-finite .*at step 3 of phase 'adversarial'"):
        trainer.fit()
    last = ckpt.list_checkpoints(tmp_path / "run")[-1]
    assert ckpt.read_checkpoint(last).step == 3
    for tensor in ckpt.read_checkpoint(last).nets["generator"].values():
        assert torch.isfinite(tensor).all()


def test_ema_bf16_channels_last_and_grad_clip(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("cartoongan", demo, ema=0.5, amp="bf16", channels_last=True, grad_clip=1.0)
    trainer = Trainer(recipe, tmp_path / "run")
    trainer.fit()
    weights = ckpt.read_checkpoint(tmp_path / "run")
    assert set(weights.ema) == {"generator"}
    raw, ema = weights.nets["generator"], weights.ema["generator"]
    assert raw.keys() == ema.keys()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw if raw[k].is_floating_point())
    # translation prefers the EMA weights
    assert weights.weights("generator") is ema


def test_selfie_gan_without_masks_errors_or_uses_a_teacher(demo: Path, tmp_path: Path) -> None:
    recipe = tiny_recipe("selfie_gan", demo, steps=1)
    recipe.spec.data.masks = None
    with pytest.raises(ValueError, match="needs person masks: set data.masks"):
        Trainer(recipe, tmp_path / "a")
    # a teacher fills the masks (here the built-in U-Net, untrained: only the plumbing is checked)
    recipe.spec.data.mask_teacher = {"type": "unet", "depth": 2, "base_channels": 4}
    trainer = Trainer(recipe, tmp_path / "b")
    assert len(trainer.data.photos.generated_masks) == len(trainer.data.photos)
    assert len(list((tmp_path / "b" / "cache" / "teacher_masks").glob("*.png"))) == len(trainer.data.photos)
    trainer.fit()


@pytest.mark.parametrize("units, amp, hinted", [(True, "off", True), (True, "bf16", False), (False, "off", False)])
def test_fp32_training_on_a_cpu_with_bf16_units_names_the_faster_setting(
        units: bool, amp: str, hinted: bool, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import toonkit.train.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "cpu_has_bf16_units", lambda: units)
    with caplog.at_level("INFO", logger="toonkit.train"):
        Trainer(tiny_recipe("cartoongan", demo, amp=amp), tmp_path / "run")
    assert ("train.amp=bf16" in caplog.text) is hinted


@pytest.mark.slow  # compiling the tiny networks takes about a minute on 2 cores
def test_compiled_training_writes_checkpoints_that_load_uncompiled(demo: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch._inductor")
    trainer = Trainer(tiny_recipe("cartoongan", demo, steps=1, compile=True, amp="bf16"), tmp_path / "run")
    assert trainer.method.net["generator"] is not trainer.raw_nets["generator"]  # the trainer compiled it
    trainer.fit()
    saved = ckpt.read_checkpoint(tmp_path / "run").nets["generator"]
    assert saved and not any("_orig_mod" in k for k in saved)  # the plain module's names
    gen = trainer.raw_nets["generator"].state_dict()
    assert all(torch.equal(gen[k], v) for k, v in saved.items())
    toon = toonkit.load(tmp_path / "run")
    out = toon.generate(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()
