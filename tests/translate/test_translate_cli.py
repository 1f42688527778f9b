"""``toonkit translate``: files, folders, globs, sizes, failures, overwrite, background modes, NST."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import toonkit
from toonkit.cli.main import main

from .helpers import noise_image


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder tree: an odd-size JPEG, grayscale / RGBA / palette / 16-bit PNGs, one corrupt file."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    noise_image(333, 517).save(root / "odd.jpg", quality=95)
    noise_image(40, 30, "L").save(root / "sub" / "gray.png")
    noise_image(36, 52, "RGBA").save(root / "sub" / "rgba.png")
    noise_image(28, 28, "P").save(root / "sub" / "deeper" / "palette.png")
    noise_image(24, 44, "I;16").save(root / "sub" / "deeper" / "sixteen.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "notes.txt").write_text("not an image, not an input")
    return root


GOOD = {"odd.png": (517, 333), "sub/gray.png": (30, 40), "sub/rgba.png": (52, 36),
        "sub/deeper/palette.png": (28, 28), "sub/deeper/sixteen.png": (44, 24)}


def test_folder_with_a_corrupt_file(run_dir: Path, photos: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["translate", str(run_dir), str(photos), "-o", str(out), "--size", "original", "-q",
                 "--batch", "2"])
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.jpg" in err and "cannot decode" in err
    assert "1 of 6 failed" in err and err.strip().splitlines()[-1].count("\n") == 0
    written = {p.relative_to(out).as_posix(): Image.open(p).size for p in out.rglob("*.png")}
    assert written == GOOD  # every good input, at its own size, keeping its relative path and stem
    assert all(Image.open(out / name).mode == "RGB" for name in GOOD)


def test_default_size_is_the_input_size_and_formats(run_dir: Path, photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    Image.new("RGB", (1280, 1055), (200, 150, 120)).save(photos / "selfie.png")  # came back 78×64
    assert main(["translate", str(run_dir), str(photos / "odd.jpg"), str(photos / "selfie.png"),
                 str(photos / "sub"), "-o", str(out), "--format", "jpg", "-q"]) == 0
    assert Image.open(out / "odd.jpg").size == Image.open(photos / "odd.jpg").size
    assert Image.open(out / "selfie.jpg").size == (1280, 1055)
    assert main(["translate", str(run_dir), str(photos / "selfie.png"), "-o", str(tmp_path / "capped"),
                 "--max-pixels", "10000", "-q"]) == 0
    assert Image.open(tmp_path / "capped" / "selfie.png").size == (110, 90)
    assert Image.open(out / "gray.jpg").format == "JPEG"  # a folder's files keep paths relative to it
    assert (out / "deeper" / "sixteen.jpg").is_file()
    assert main(["translate", str(run_dir), str(photos / "odd.jpg"), "-o", str(out), "--format", "webp",
                 "--size", "48", "-q"]) == 0
    assert Image.open(out / "odd.webp").size == (75, 48)


def test_existing_outputs_are_kept_unless_overwrite(run_dir: Path, photos: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    src = photos / "sub" / "gray.png"
    out.mkdir()
    Image.new("RGB", (5, 5), (1, 2, 3)).save(out / "gray.png")
    assert main(["translate", str(run_dir), str(src), "-o", str(out), "-q"]) == 0
    assert Image.open(out / "gray.png").size == (5, 5)
    assert "already exist" in capsys.readouterr().out
    assert main(["translate", str(run_dir), str(src), "-o", str(out), "-q", "--overwrite"]) == 0
    assert Image.open(out / "gray.png").size == (30, 40)  # the input's size


def test_transparent_alpha_equals_the_mask(run_dir: Path, photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = photos / "sub" / "rgba.png"
    assert main(["translate", str(run_dir), str(src), "-o", str(out), "--background", "transparent",
                 "--size", "original", "-q"]) == 0
    result = Image.open(out / "rgba.png")
    assert result.mode == "RGBA" and result.size == (52, 36)
    toon = toonkit.load(run_dir, device="cpu")
    from toonkit.translate.io import read_image

    mask = toon.mask(read_image(src))[0, 0].numpy()
    alpha = np.asarray(result.getchannel("A"), np.float32) / 255
    assert np.abs(alpha - mask).max() <= 0.5 / 255 + 1e-6
    assert alpha.std() > 0.001


@pytest.mark.parametrize("mode", ["white", "blur", "original"])
def test_background_modes_write_rgb(run_dir: Path, photos: Path, tmp_path: Path, mode: str) -> None:
    out = tmp_path / mode
    assert main(["translate", str(run_dir), str(photos / "sub" / "gray.png"), "-o", str(out),
                 "--background", mode, "-q"]) == 0
    assert Image.open(out / "gray.png").mode == "RGB"


def test_globs_and_an_output_folder_inside_the_inputs(run_dir: Path, photos: Path) -> None:
    out = photos / "toon"
    pattern = str(photos / "sub" / "**" / "*.png")
    assert main(["translate", str(run_dir), pattern, "-o", str(out), "-q"]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "deeper/palette.png", "deeper/sixteen.png", "gray.png", "rgba.png"]
    # translating the whole folder again skips its own outputs (they are not inputs)
    assert main(["translate", str(run_dir), str(photos / "sub"), "-o", str(out), "-q"]) == 0
    assert not (out / "toon").exists()


@pytest.mark.parametrize("argv,message", [
    (["--background", "transparent", "--format", "jpg"], "jpg cannot hold"),
    (["--size", "big"], "--size must be"),
    (["--steps", "5"], "only apply with --method nst"),
    (["--batch", "0"], "--batch must be"),
    (["--masker", "mediapipe_selfie", "--colors", "style"], "not by --background keep"),
    (["--background", "white", "--masker", "unet"], "random weights"),
])
def test_usage_errors_exit_2(run_dir: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             argv: list[str], message: str) -> None:
    code = main(["translate", str(run_dir), str(photos / "odd.jpg"), "-o", str(tmp_path / "o"), *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_masker_missing_input_and_bad_run_exit_2(run_dir: Path, run_no_masker: Path, photos: Path,
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    src, out = str(photos / "odd.jpg"), str(tmp_path / "o")
    assert main(["translate", str(run_no_masker), src, "-o", out, "--background", "white"]) == 2
    assert "needs a person masker" in capsys.readouterr().err
    assert main(["translate", str(run_no_masker), src, "-o", out, "--background", "white", "--masker",
                 str(run_dir), "-q"]) == 0
    assert main(["translate", str(run_dir), str(photos / "nope.jpg"), "-o", out]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["translate", str(tmp_path), src, "-o", out]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["translate", str(run_dir), "-o", out]) == 2


def test_two_inputs_with_one_output_name_is_a_usage_error(run_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    noise_image(20, 20).save(tmp_path / "same.jpg")
    noise_image(20, 20).save(tmp_path / "same.png")
    assert main(["translate", str(run_dir), str(tmp_path / "same.jpg"), str(tmp_path / "same.png"),
                 "-o", str(tmp_path / "o")]) == 2
    assert "would both be written" in capsys.readouterr().err


def test_nst_through_the_same_command(photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    style = tmp_path / "style.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(style)
    src, out = photos / "sub" / "gray.png", tmp_path / "nst"
    assert main(["translate", "--method", "nst", str(src), "-o", str(out)]) == 2
    assert "--style" in capsys.readouterr().err
    assert main(["translate", "--method", "nst", "--style", str(style), str(src), "-o", str(out),
                 "--steps", "3", "--lr", "0.1", "--size", "24", "--vgg-weights", "random", "-q"]) == 0
    result = np.asarray(Image.open(out / "gray.png"), np.float32)
    assert result.shape == (32, 24, 3)
    # the optimisation moved the gray photo's pixels: its channels are no longer equal
    assert np.abs(result[..., 0] - result[..., 2]).mean() > 1.0
    torch.manual_seed(0)


def test_channels_last_gives_the_same_image(run_dir: Path, photos: Path, tmp_path: Path) -> None:
    src = photos / "sub" / "rgba.png"
    assert main(["translate", str(run_dir), str(src), "-o", str(tmp_path / "a"), "-q", "--no-channels-last"]) == 0
    assert main(["translate", str(run_dir), str(src), "-o", str(tmp_path / "b"), "-q", "--channels-last"]) == 0
    a = np.asarray(Image.open(tmp_path / "a" / "rgba.png"), dtype=np.int16)
    b = np.asarray(Image.open(tmp_path / "b" / "rgba.png"), dtype=np.int16)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1  # same network, other memory layout


def test_swapped_run_and_image_say_so_in_one_line(run_dir: Path, photos: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`translate me.jpg runs/x` gave a safetensors "header too large" error."""
    image = photos / "odd.jpg"
    assert main(["translate", str(image), str(run_dir), "-o", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"toonkit translate: {image} is an image, not a model or run; the model or run comes first: "
                   "toonkit translate RUN IMAGE... -o OUTDIR")
    assert main(["translate", str(run_dir), str(run_dir), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "is a run or checkpoint, not an image" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_image_file_name_as_out_is_a_usage_error_that_writes_nothing(
        run_dir: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "toon.png"
    assert main(["translate", str(run_dir), str(photos / "odd.jpg"), "-o", str(target), "-q"]) == 2
    assert "-o names the output folder, not a file" in capsys.readouterr().err
    assert not target.exists()
    (tmp_path / "shots.png").mkdir()  # an existing folder with such a name is still a folder
    assert main(["translate", str(run_dir), str(photos / "odd.jpg"), "-o", str(tmp_path / "shots.png"),
                 "-q"]) == 0
    assert (tmp_path / "shots.png" / "odd.png").is_file()
