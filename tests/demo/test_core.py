"""The demo's upload → cartoon logic (no Gradio needed) and the ``toonkit demo`` command's usage errors."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import toonkit
from toonkit.cli.main import main
from toonkit.demo import core
from toonkit.demo.core import (
    DemoError,
    ModelPool,
    cartoonise,
    other_background,
    parse_colour,
    parse_size,
    person_mask,
    read_photo,
    resolve_models,
)
from toonkit.registry import KINDS, Registry
from toonkit.core.geometry import resize
from toonkit.translate.io import read_image


@pytest.fixture
def toon(tiny_run: Path):
    return toonkit.load(tiny_run, device="cpu")


def test_read_photo_decodes_like_translate(photo: Path) -> None:
    assert torch.equal(read_photo(photo), read_image(photo))


@pytest.mark.parametrize("kind", ["text", "truncated", "empty"])
def test_read_photo_bad_files_say_why_without_the_temp_path(photo: Path, tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "upload" / "x.jpg"
    bad.parent.mkdir()
    whole = photo.read_bytes()  # cut in half: the header survives (the demo set's photos are a few kB)
    data = {"text": b"hello, not an image", "truncated": whole[: len(whole) // 2], "empty": b""}[kind]
    bad.write_bytes(data)
    with pytest.raises(DemoError) as err:
        read_photo(bad)
    message = str(err.value)
    assert "\n" not in message and str(bad.parent) not in message
    # a truncated JPEG fails in the decoder, a truncated PNG already when its header is probed
    expected = {"text": ("cannot read this file as an image",), "truncated": ("cannot be decoded", "truncated"),
                "empty": ("empty file",)}[kind]
    assert any(e in message for e in expected), message


def test_read_photo_refuses_a_decompression_bomb_before_decoding(tmp_path: Path) -> None:
    # 10000×5000 one-bit pixels compress to a few kB: a small upload that would decode to 50 MP
    bomb = tmp_path / "bomb.png"
    Image.new("1", (10000, 5000)).save(bomb)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(DemoError, match=r"10000×5000 pixels \(50 MP\); the demo accepts up to 40 MP"):
        read_photo(bomb)
    # one Pillow itself refuses (over twice its MAX_IMAGE_PIXELS) is a clear error too
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 10000)).save(huge)
    with pytest.raises(DemoError, match=r"cannot read this file as an image \(.*pixels"):
        read_photo(huge, max_pixels=10**12)


@pytest.mark.parametrize(("background", "size"), [("keep", None), ("white", 48), ("transparent", 48)])
def test_cartoonise_equals_toonkit_translate(tiny_run: Path, toon, photo: Path, tmp_path: Path,
                                             background: str, size: int | None) -> None:
    out = tmp_path / "out"
    args = ["translate", str(tiny_run), str(photo), "-o", str(out), "--background", background, "-q",
            "--device", "cpu", "--max-pixels", str(core.DEMO_MAX_PIXELS)]
    assert main(args + (["--size", str(size)] if size else [])) == 0
    written = np.asarray(Image.open(out / f"{photo.stem}.png"))
    result = cartoonise(toon, read_photo(photo), background, size, with_mask=True)
    assert result.cartoon.shape == written.shape
    assert np.array_equal(result.cartoon, written)
    assert result.mask is not None and result.mask.shape == written.shape[:2]
    assert result.mask.dtype == np.uint8 and result.mask.min() < result.mask.max()  # a mask, not a constant
    if background == "transparent":  # the mask panel shows the very mask the cartoon was cut out with
        assert np.abs(result.mask.astype(int) - written[..., 3]).max() <= 1


def test_cartoonise_without_a_masker(tiny_run_no_masker: Path, photo: Path) -> None:
    x = read_photo(photo)
    no_masker = toonkit.load(tiny_run_no_masker, device="cpu")
    with pytest.raises(DemoError, match="background 'white' needs a person masker"):
        cartoonise(no_masker, x, "white")
    assert cartoonise(no_masker, x, "keep", with_mask=True).mask is None  # no mask panel, no error


@pytest.mark.parametrize("size", [None, 48])
def test_other_background_puts_the_person_on_the_colour(toon, photo: Path, size: int | None) -> None:
    x = read_photo(photo)
    recomposed, result = other_background(toon, x, (0, 200, 50), "keep", size)
    hw = toon.target_size(*x.shape[-2:], size)
    assert recomposed.shape == (*hw, 3) and result.cartoon.shape == (*hw, 3)
    mask = person_mask(toon, x, size)[0, 0, ..., None].numpy()
    assert mask.max() - mask.min() > 0.05  # the check below means something only for a varying mask
    photo_hw = (resize(x, hw)[0].permute(1, 2, 0).numpy() + 1) * 127.5
    expected = mask * photo_hw + (1 - mask) * np.array([0, 200, 50])
    assert np.abs(recomposed - expected).max() <= 0.5 + 1e-3  # m·photo + (1−m)·colour, rounded to 8 bits
    # its cartoon is the cartoon of that very (8-bit) image, with the same settings
    again = cartoonise(toon, torch.from_numpy(recomposed).permute(2, 0, 1)[None].float() / 127.5 - 1,
                       "keep", size)
    assert np.array_equal(result.cartoon, again.cartoon)


def test_other_background_needs_a_masker(tiny_run_no_masker: Path, photo: Path) -> None:
    with pytest.raises(DemoError, match="no person masker"):
        other_background(toonkit.load(tiny_run_no_masker, device="cpu"), read_photo(photo), (0, 0, 0))


def test_parse_size_and_colour() -> None:
    assert [parse_size(s) for s in core.SIZE_CHOICES] == [None, 256, 512, 1024, "original"]
    assert parse_colour("#FF8000") == (255, 128, 0) and parse_colour("#0f0") == (0, 255, 0)
    assert parse_colour("rgb(10, 20, 30)") == (10, 20, 30)
    for bad in ("0", "-3", "big"):
        with pytest.raises(DemoError):
            parse_size(bad)
    with pytest.raises(DemoError, match="not a colour"):
        parse_colour("red-ish")


def test_resolve_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "pretrained_models", lambda: [])
    quick = tmp_path / "runs" / "quickstart"
    assert resolve_models(["a", "b", "a"], quick) == ["a", "b"]
    with pytest.raises(DemoError, match="no model to serve: give a run directory"):
        resolve_models([], quick)
    (quick / "checkpoints").mkdir(parents=True)
    assert resolve_models([], quick) == [str(quick)]


def test_pretrained_models_come_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry((*KINDS, "model"))
    for name in ("zebra", "handpainted", "anime"):
        registry.add("model", name, lambda: None, summary=name)
    monkeypatch.setattr(core, "get_registry", lambda: registry)
    assert core.pretrained_models() == ["handpainted", "anime", "zebra"]
    assert resolve_models(["runs/mine"]) == ["runs/mine", "handpainted", "anime", "zebra"]
    monkeypatch.setattr(core, "get_registry", lambda: Registry())  # no 'model' kind yet: none
    assert core.pretrained_models() == []


def test_model_pool_loads_each_model_once(tiny_run: Path) -> None:
    calls: list[str] = []

    def loader(name: str):
        calls.append(name)
        return toonkit.load(name, device="cpu")

    pool = ModelPool(loader)
    assert pool.get(str(tiny_run)) is pool.get(str(tiny_run))
    assert calls == [str(tiny_run)]
    with pytest.raises(DemoError, match="model nowhere/run: "):
        pool.get("nowhere/run")


def test_cli_without_gradio_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(__import__("sys").modules, "gradio", None)  # as if the extra were not installed
    assert main(["demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'toonkit[demo]'" in err


def test_cli_usage_errors_before_serving(tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "gradio" else real_find_spec(name, *a))
    monkeypatch.setattr(core, "pretrained_models", lambda: [])
    monkeypatch.chdir(tmp_path)  # no runs/quickstart here
    assert main(["demo"]) == 2
    assert "no model to serve" in capsys.readouterr().err
    assert main(["demo", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "missing" in err[-1] and err[-1].startswith("toonkit demo: model ")
    assert main(["demo", str(tiny_run), "--port", "70000"]) == 2
    assert "--port must be in 1..65535" in capsys.readouterr().err
