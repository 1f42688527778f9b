"""The Python API: toonkit.load(...).translate(...) for every input kind, sizes, masks, EMA."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import toonkit
from toonkit.core.checkpoint import read_checkpoint
from toonkit.translate import Cartoonizer, MaskerRequiredError, TranslateError

from .helpers import make_checkpoint, noise_image


@pytest.fixture(scope="module")
def toon(run_dir: Path) -> Cartoonizer:
    return toonkit.load(run_dir, device="cpu")


def _as_tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(img.convert("RGB"))).permute(2, 0, 1).float() / 127.5 - 1


def test_load_rebuilds_the_run(toon: Cartoonizer, run_dir: Path) -> None:
    assert toon.size == 32 and toon.has_masker and toon.device.type == "cpu"
    ckpt = read_checkpoint(run_dir)
    for k, v in toon.generator.state_dict().items():
        assert torch.equal(v, ckpt.nets["generator"][k])
    assert "step 7" in toon.source and "selfie_gan" in toon.source


def test_ema_weights_are_preferred(tmp_path: Path) -> None:
    run = make_checkpoint(tmp_path, method="cartoongan", masker=False, ema=True)
    ckpt = read_checkpoint(run)
    key = next(k for k, v in ckpt.ema["generator"].items() if v.dim() == 4)
    assert not torch.equal(ckpt.ema["generator"][key], ckpt.nets["generator"][key])
    with_ema = toonkit.load(run, device="cpu")
    raw = toonkit.load(run, device="cpu", ema=False)
    assert torch.equal(with_ema.generator.state_dict()[key], ckpt.ema["generator"][key])
    assert torch.equal(raw.generator.state_dict()[key], ckpt.nets["generator"][key])
    assert "EMA" in with_ema.source and "EMA" not in raw.source


def test_output_is_the_generator_on_a_multiple_size(toon: Cartoonizer) -> None:
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    with torch.no_grad():
        expected = toon.generator(x)
    assert torch.allclose(toon.translate(x, colors="style"), expected, atol=1e-6)


@pytest.mark.parametrize("hw", [(333, 517), (45, 31), (7, 9)])
def test_odd_sizes_come_back_at_their_size(toon: Cartoonizer, hw: tuple[int, int]) -> None:
    h, w = hw
    assert toon.translate(torch.zeros(3, h, w), size="original").shape == (3, h, w)
    assert toon.translate(noise_image(h, w), size="original").size == (w, h)
    assert toon.translate(np.zeros((h, w, 3), np.uint8), size="original", background="white").shape == (h, w, 3)


def test_default_output_is_the_input_size(toon: Cartoonizer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1280×1055 selfie comes back 1280×1055 (it came back 78×64: the training size), translated at
    twice the training size and upsampled."""
    seen: list[tuple[int, ...]] = []
    generate = toon.generate
    monkeypatch.setattr(toon, "generate", lambda x: seen.append(tuple(x.shape[-2:])) or generate(x))
    out = toon.translate(noise_image(1055, 1280), background="white")
    assert out.size == (1280, 1055) and seen == [(64, 78)]  # working short side 2 × 32
    assert toon.translate(np.zeros((1055, 1280, 3), np.uint8)).shape == (1055, 1280, 3)
    assert toon.translate(noise_image(40, 50)).size == (50, 40) and seen[-1] == (40, 50)  # small: as is
    assert toon.translate(noise_image(333, 517), size=40).size == (62, 40)  # --size N keeps its meaning
    with pytest.raises(ValueError, match="size"):
        toon.translate(noise_image(20, 20), size=0)


def test_max_pixels_caps_the_output_and_says_so(run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    small = toonkit.load(run_dir, device="cpu", max_pixels=100 * 100)
    with caplog.at_level("INFO", logger="toonkit.translate"):
        out = small.translate(noise_image(400, 200))
    assert out.size == (70, 141) and out.size[0] * out.size[1] <= 100 * 100  # aspect kept
    assert "above max_pixels=10000" in caplog.text
    assert small.translate(noise_image(400, 200), size="original").size == (70, 141)
    assert toonkit.load(run_dir, device="cpu").max_pixels == 4096 * 4096


def test_each_kind_round_trips(toon: Cartoonizer) -> None:
    pil = noise_image(36, 52)
    array = np.asarray(pil)
    tensor = _as_tensor(pil)
    out_pil = toon.translate(pil, size="original")
    out_np = toon.translate(array, size="original")
    out_t = toon.translate(tensor, size="original")
    out_nchw = toon.translate(tensor[None], size="original")
    assert isinstance(out_pil, Image.Image) and out_pil.mode == "RGB" and out_pil.size == (52, 36)
    assert isinstance(out_np, np.ndarray) and out_np.dtype == np.uint8 and out_np.shape == (36, 52, 3)
    assert isinstance(out_t, torch.Tensor) and out_t.shape == (3, 36, 52) and out_t.dtype == torch.float32
    assert out_nchw.shape == (1, 3, 36, 52)
    # the same picture gives the same cartoon whatever its container
    assert np.array_equal(np.asarray(out_pil), out_np)
    assert np.abs(((out_t.permute(1, 2, 0) + 1) * 127.5).numpy() - out_np).max() <= 1.0
    mixed = toon.translate([pil, array, tensor], size="original")
    assert [type(m) for m in mixed] == [Image.Image, np.ndarray, torch.Tensor]
    # batched with others, the masker behind colors="keep" may round one level differently
    assert np.abs(np.asarray(mixed[0], np.int16) - np.asarray(out_pil, np.int16)).max() <= 1
    styled = toon.translate([pil, array], size="original", colors="style")
    assert np.array_equal(np.asarray(styled[0]), toon.translate(array, size="original", colors="style"))


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_grayscale_rgba_palette_and_16bit_images(toon: Cartoonizer, mode: str) -> None:
    img = noise_image(30, 44, mode)
    out = toon.translate(img, size="original")
    assert out.mode == "RGB" and out.size == (44, 30)
    if mode == "RGBA":  # transparency is composited on white before translation, like decoded files
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img, mask=img.getchannel("A"))
        assert np.array_equal(np.asarray(out), np.asarray(toon.translate(white, size="original")))
    if mode == "L":  # gray is the same picture as its RGB version
        assert np.array_equal(np.asarray(out), np.asarray(toon.translate(img.convert("RGB"), size="original")))


def test_numpy_grayscale_rgba_and_uint16(toon: Cartoonizer) -> None:
    gray = np.asarray(noise_image(30, 44, "L"))
    assert toon.translate(gray, size="original").shape == (30, 44, 3)
    assert np.array_equal(toon.translate(gray, size="original"),
                          toon.translate(np.repeat(gray[..., None], 3, axis=2), size="original"))
    rgba = np.concatenate([np.asarray(noise_image(30, 44)), np.full((30, 44, 1), 255, np.uint8)], axis=2)
    assert np.array_equal(toon.translate(rgba, size="original"), toon.translate(rgba[..., :3], size="original"))
    assert toon.translate(gray.astype(np.uint16) * 257, size="original").shape == (30, 44, 3)


def test_transparent_alpha_is_the_mask(toon: Cartoonizer) -> None:
    x = torch.rand(1, 3, 40, 52) * 2 - 1
    out = toon.translate(x, background="transparent", size="original")
    mask = toon.mask(x)
    assert out.shape == (1, 4, 40, 52)
    assert torch.allclose(out[:, 3:], mask, atol=1e-6)
    assert mask.min() < mask.max()  # the masker says different things in different places
    pil = toon.translate(noise_image(40, 52), background="transparent", size="original")
    assert pil.mode == "RGBA"
    expected = toon.mask(_as_tensor(noise_image(40, 52))[None])[0, 0]
    assert np.abs(np.asarray(pil.getchannel("A"), np.float32) / 255 - expected.numpy()).max() <= 0.5 / 255 + 1e-6


def test_batching_does_not_change_results(toon: Cartoonizer) -> None:
    images = [noise_image(36, 44, seed=i) for i in range(3)] + [noise_image(20, 28)]
    one = toon.translate(images, size="original", batch_size=1, background="blur")
    many = toon.translate(images, size="original", batch_size=8, background="blur")
    for a, b in zip(one, many):
        assert np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max() <= 1


def test_modes_needing_a_masker_fail_clearly_without_one(run_no_masker: Path, run_dir: Path) -> None:
    toon = toonkit.load(run_no_masker, device="cpu")
    assert not toon.has_masker
    assert toon.translate(noise_image(32, 32)).size == (32, 32)
    with pytest.raises(MaskerRequiredError, match="needs a person masker"):
        toon.translate(noise_image(32, 32), background="white")
    borrowed = toonkit.load(run_no_masker, device="cpu", masker=run_dir)
    assert borrowed.translate(noise_image(32, 32), background="white").size == (32, 32)


def test_bad_inputs_are_named(toon: Cartoonizer, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot translate a str"):
        toon.translate("photo.jpg")
    with pytest.raises(ValueError, match="tensor"):
        toon.translate(torch.zeros(5, 8, 8))
    with pytest.raises(ValueError, match="background"):
        toon.translate(torch.zeros(3, 8, 8), background="red")
    with pytest.raises(toonkit.ModelError, match="no checkpoint"):
        toonkit.load(tmp_path, device="cpu")


def test_bf16_autocast_and_channels_last(run_dir: Path, toon: Cartoonizer) -> None:
    x = torch.rand(2, 3, 32, 40) * 2 - 1
    ref = toon.translate(x)
    contiguous = toonkit.load(run_dir, device="cpu", channels_last=False)
    assert contiguous.memory_format == torch.contiguous_format
    cl = toonkit.load(run_dir, device="cpu", channels_last=True)
    assert cl.memory_format == torch.channels_last
    assert torch.allclose(cl.translate(x), contiguous.translate(x), atol=1e-4)
    assert torch.allclose(ref, contiguous.translate(x), atol=1e-4)
    assert toon.memory_format == (torch.channels_last if toon.device.type == "cpu" else torch.contiguous_format)
    bf16 = toonkit.load(run_dir, device="cpu", amp="bf16").translate(x)
    assert bf16.dtype == torch.float32 and (bf16 - ref).abs().mean() < 0.05


def test_cpu_bf16_casts_the_generator_once_and_matches_autocast(run_dir: Path) -> None:
    """On the CPU, bf16 stores the generator in bf16 and skips autocast: the same output as autocast
    over the fp32 generator, without re-casting every weight on every call."""
    x = torch.rand(2, 3, 32, 40) * 2 - 1
    toon = toonkit.load(run_dir, device="cpu", amp="bf16")
    assert {p.dtype for p in toon.generator.parameters()} == {torch.bfloat16}
    fp32 = toonkit.load(run_dir, device="cpu")
    with torch.no_grad(), torch.autocast("cpu", torch.bfloat16):
        autocast_out = fp32.generator(fp32._prepare(x)).float().clamp(-1, 1)
    torch.testing.assert_close(toon.generate(x), autocast_out, rtol=0, atol=1e-6)
    if toon.has_masker:  # the masker keeps fp32 weights under autocast
        assert {p.dtype for p in toon.masker.parameters()} == {torch.float32}


def test_a_pretrained_plugin_masker_by_name(run_no_masker: Path, weights_dir: Path) -> None:
    """A run without a masker borrows the MediaPipe selfie segmenter: its alpha finds the person."""
    pytest.importorskip("ai_edge_litert", reason="the toonkit-mediapipe plugin needs ai-edge-litert")
    if ("masker", "mediapipe_selfie") not in toonkit.get_registry():
        pytest.skip("the toonkit-mediapipe plugin is not installed")
    portraits = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "portraits"
    if not portraits.is_dir():
        pytest.skip("needs ../shared/data/portraits (photos with person masks)")
    toon = toonkit.load(run_no_masker, device="cpu", masker="mediapipe_selfie")
    for photo in sorted((portraits / "photos").glob("*.png"))[:2]:
        out = toon.translate(Image.open(photo), background="transparent", size=96)
        alpha = np.asarray(out.getchannel("A")) > 127
        truth = np.asarray(Image.open(portraits / "masks" / photo.name).convert("L").resize(out.size)) > 127
        assert (alpha & truth).sum() / (alpha | truth).sum() > 0.85


def test_a_trainable_masker_is_not_built_by_name(run_no_masker: Path) -> None:
    with pytest.raises(TranslateError, match="random weights"):
        toonkit.load(run_no_masker, device="cpu", masker="unet")


def test_pix2pix_runs_translate_the_photo_outline(tmp_path: Path) -> None:
    """The method's prepare_input (pix2pix: the outline) runs before the generator, at any size."""
    from toonkit.augment.outline import outline

    gen = {"type": "unet", "base_channels": 4, "depth": 3, "dropout": False}
    run = make_checkpoint(tmp_path, method="pix2pix", masker=False, generator=gen)
    toon = toonkit.load(run, device="cpu")
    assert toon.generator.size_multiple == 8
    x = torch.rand(2, 3, 32, 40) * 2 - 1
    with torch.no_grad():
        expected = toon.generator(outline(x))
    assert torch.allclose(toon.translate(x, colors="style"), expected, atol=1e-6)
    assert toon.translate(torch.zeros(3, 45, 61), size="original").shape == (3, 45, 61)
