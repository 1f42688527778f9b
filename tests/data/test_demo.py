"""Synthetic demo data: deterministic bytes, matching masks, red-background cartoons, loadable."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from toonkit.data import CartoonDataset, PhotoDataset, make_demo


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_layout_and_determinism(tmp_path: Path) -> None:
    a = make_demo(tmp_path / "a", n=4, size=64, seed=5, n_test=2)
    assert set(a) == {"root", "photos", "masks", "cartoons", "test_photos", "test_masks"}
    fa = _files(tmp_path / "a")
    assert sorted(fa) == sorted(
        [f"{d}/{i:04d}.png" for d in ("photos", "masks", "cartoons") for i in range(4)]
        + [f"{d}/{i:04d}.png" for d in ("test_photos", "test_masks") for i in range(2)])
    make_demo(tmp_path / "b", n=4, size=64, seed=5, n_test=2)
    assert _files(tmp_path / "b") == fa  # byte-identical
    make_demo(tmp_path / "c", n=2, size=64, seed=5, n_test=0)  # fewer images: same first ones
    assert all(_files(tmp_path / "c")[k] == fa[k] for k in ("photos/0000.png", "cartoons/0001.png"))
    make_demo(tmp_path / "d", n=4, size=64, seed=6, n_test=2)
    assert _files(tmp_path / "d")["photos/0000.png"] != fa["photos/0000.png"]
    for name in fa:
        img = Image.open(tmp_path / "a" / name)
        assert img.size == (64, 64) and img.mode == ("L" if "masks" in name else "RGB")


def test_masks_outline_the_people(tmp_path: Path) -> None:
    from scipy import ndimage

    paths = make_demo(tmp_path, n=8, size=96, seed=1, n_test=0)
    for i in range(8):
        photo = np.asarray(Image.open(paths["photos"] / f"{i:04d}.png"), dtype=np.float64).mean(-1)
        mask = np.asarray(Image.open(paths["masks"] / f"{i:04d}.png"))
        fg = mask > 127
        assert 0.15 < fg.mean() < 0.75  # a figure, not the whole frame
        assert ((mask > 0) & (mask < 255)).mean() < 0.05  # only an anti-aliased rim is soft
        assert fg[-1].any() and not fg[0].all()  # the torso reaches the bottom, head below the top
        # the photo changes sharply exactly along the mask's outline
        grad = np.abs(ndimage.sobel(photo, 0)) + np.abs(ndimage.sobel(photo, 1))
        ring = ndimage.binary_dilation(fg) & ~ndimage.binary_erosion(fg)
        assert grad[ring].mean() > 3 * np.median(grad)


def test_cartoons_mostly_on_red(tmp_path: Path) -> None:
    paths = make_demo(tmp_path, n=24, size=64, seed=0, n_test=0)
    red = 0
    for i in range(24):
        c = np.asarray(Image.open(paths["cartoons"] / f"{i:04d}.png"), dtype=int)
        corner = c[:4, :4].reshape(-1, 3).mean(0)
        red += corner[0] > 170 and corner[1] < 80 and corner[2] < 80
        assert (c.sum(-1) < 150).mean() > 0.01  # dark outlines
    assert 0.6 <= red / 24 < 1.0  # mostly red, not all


def test_demo_feeds_the_datasets(tmp_path: Path) -> None:
    paths = make_demo(tmp_path, n=4, size=64, n_test=2)
    photos = PhotoDataset(paths["photos"], masks=paths["masks"], size=48, load_size=56)
    assert photos.missing_masks == [] and photos.skipped == []
    s = photos[0]
    assert s["photo"].shape == (3, 48, 48) and s["mask"].shape == (1, 48, 48)
    test = PhotoDataset(paths["test_photos"], masks=paths["test_masks"], size=64, train=False)
    assert len(test) == 2
    c = CartoonDataset(paths["cartoons"], size=64)[0]
    assert (c["smooth"] != c["cartoon"]).any(dim=0).float().mean() > 0.02  # outlines get smoothed
    assert torch.isfinite(c["smooth"]).all()
