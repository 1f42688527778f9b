"""Decoding odd image files to upright 8-bit RGB, and clean errors for broken ones."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from toonkit.data.decode import DecodeError, load_mask, load_rgb, load_rgb_tensor, probe


def _both(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The PIL path and the tensor path must agree."""
    a = np.asarray(load_rgb(path))
    t = load_rgb_tensor(path)
    assert t.dtype == torch.uint8 and t.shape[0] == 3
    return a, t.permute(1, 2, 0).numpy()


def test_grayscale(tmp_path: Path) -> None:
    Image.fromarray(np.full((10, 14), 77, np.uint8), "L").save(tmp_path / "g.png")
    Image.fromarray(np.full((10, 14), 77, np.uint8), "L").save(tmp_path / "g.jpg", quality=100)
    for name in ("g.png", "g.jpg"):
        a, t = _both(tmp_path / name)
        assert a.shape == (10, 14, 3) and np.array_equal(a, t)
        assert np.abs(a.astype(int) - 77).max() <= 1


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 12, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)  # hidden colour under full transparency
    rgba[:, 6:, 3] = 255  # right half opaque
    rgba[:4, :6, 3] = 128  # top-left half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    a, t = _both(tmp_path / "a.png")
    assert np.array_equal(a, t)
    assert (a[4:, :6] == 255).all()  # transparent → white, not the hidden colour
    assert (a[:, 6:] == (10, 20, 30)).all()
    assert np.abs(a[:4, :6].astype(int) - np.array([10, 20, 30]) * 0.5 - 127.5).max() <= 1.5
    Image.fromarray(rgba[..., [0, 3]], "LA").save(tmp_path / "la.png")
    assert (np.asarray(load_rgb(tmp_path / "la.png"))[4:, :6] == 255).all()


def test_palette_with_and_without_transparency(tmp_path: Path) -> None:
    img = Image.new("P", (9, 7))
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 4, 7))
    img.save(tmp_path / "p.png")
    a, t = _both(tmp_path / "p.png")
    assert np.array_equal(a, t) and a.shape == (7, 9, 3)
    assert (a[:, :4] == (0, 0, 255)).all() and (a[:, 4:] == (255, 0, 0)).all()
    img.save(tmp_path / "pt.png", transparency=0)
    b = np.asarray(load_rgb(tmp_path / "pt.png"))
    assert (b[:, 4:] == 255).all() and (b[:, :4] == (0, 0, 255)).all()
    img.save(tmp_path / "p.gif.bmp")  # palette BMP
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "p.gif.bmp")), a)


def test_16_bit_gray(tmp_path: Path) -> None:
    a16 = (np.arange(16 * 20).reshape(16, 20) * 200).astype(np.uint16)
    Image.fromarray(a16).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    a, t = _both(tmp_path / "g16.png")
    assert np.array_equal(a, t) and a.shape == (16, 20, 3)
    np.testing.assert_array_equal(a[..., 0], np.rint(a16 / 257.0).astype(np.uint8))
    Image.fromarray(a16).save(tmp_path / "g16.tif")
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "g16.tif")), a)


def test_cmyk_jpeg_and_tiff(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (11, 6), (0, 255, 255, 0))  # pure red in CMYK
    cmyk.save(tmp_path / "c.jpg", quality=100)
    cmyk.save(tmp_path / "c.tif")
    for name in ("c.jpg", "c.tif"):
        a, t = _both(tmp_path / name)
        assert a.shape == (6, 11, 3) and np.array_equal(a, t)
        assert a[..., 0].min() > 200 and a[..., 1:].max() < 50


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)  # left half red, right half blue
    arr[:, 20:] = (0, 0, 255)
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img.save(tmp_path / "r.jpg", exif=exif, quality=100)
    a, t = _both(tmp_path / "r.jpg")
    assert a.shape == (40, 20, 3)  # upright: portrait
    assert np.abs(a.astype(int) - t).max() <= 2  # torchvision and PIL agree (same libjpeg, same turn)
    assert a[5, 10, 0] > 200 and a[5, 10, 2] < 60  # the left (red) half is now on top
    assert a[35, 10, 2] > 200 and a[35, 10, 0] < 60
    assert probe(tmp_path / "r.jpg") == (20, 40)
    exif[0x0112] = 3  # 180°
    img.save(tmp_path / "r180.png", exif=exif)
    b = np.asarray(load_rgb(tmp_path / "r180.png"))
    assert b.shape == (20, 40, 3) and b[10, 5, 2] > 200


def test_webp_and_bmp(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).integers(0, 255, (12, 9, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "x.webp", lossless=True)
    Image.fromarray(arr).save(tmp_path / "x.bmp")
    for name in ("x.webp", "x.bmp"):
        a, t = _both(tmp_path / name)
        assert np.array_equal(a, arr) and np.array_equal(t, arr)


def test_draft_reduces_large_jpegs_but_not_below_target(tmp_path: Path) -> None:
    Image.new("RGB", (800, 600), (40, 90, 200)).save(tmp_path / "big.jpg")
    small = load_rgb_tensor(tmp_path / "big.jpg", draft=128)
    assert small.shape == (3, 150, 200)  # 1/4 scale keeps both sides >= 128
    assert load_rgb_tensor(tmp_path / "big.jpg").shape == (3, 600, 800)


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"this is not an image at all\n", "not a recognised image"),
])
def test_broken_files_raise_decode_error(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    for fn in (load_rgb, load_rgb_tensor, probe, load_mask):
        with pytest.raises(DecodeError, match=reason) as info:
            fn(p)
        assert info.value.path == p


def test_truncated_jpeg_raises(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    for fn in (load_rgb, load_rgb_tensor, probe):
        with pytest.raises(DecodeError, match="truncated"):
            fn(tmp_path / "cut.jpg")
    assert probe(tmp_path / "cut.jpg", full=False) == (64, 64)  # the header alone looks fine
    with pytest.raises(DecodeError, match="unreadable"):
        load_rgb(tmp_path / "missing.png")


def test_load_mask_scales_by_bit_depth(tmp_path: Path) -> None:
    m8 = np.array([[0, 128, 255]], np.uint8)
    Image.fromarray(m8, "L").save(tmp_path / "m8.png")
    torch.testing.assert_close(load_mask(tmp_path / "m8.png"), torch.tensor([[[0, 128 / 255, 1.0]]]))
    Image.fromarray(np.array([[0, 65535]], np.uint16)).save(tmp_path / "m16.png")
    torch.testing.assert_close(load_mask(tmp_path / "m16.png"), torch.tensor([[[0.0, 1.0]]]))
    Image.fromarray(np.array([[False, True]])).save(tmp_path / "m1.png")
    torch.testing.assert_close(load_mask(tmp_path / "m1.png"), torch.tensor([[[0.0, 1.0]]]))
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 1, 3] = 255  # a cut-out: constant colour, the alpha is the mask
    Image.fromarray(rgba, "RGBA").save(tmp_path / "ma.png")
    torch.testing.assert_close(load_mask(tmp_path / "ma.png"), torch.tensor([[[0.0, 1.0]]]))
