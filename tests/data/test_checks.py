"""Style-folder checks: a folder that cannot teach a style is refused before training, one line a problem."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toonkit.data.checks import image_stats, style_folder_problems


def _cartoon(path: Path, seed: int, size: int = 96) -> Path:
    """Flat colour regions with hard edges, like a drawing."""
    rng = np.random.default_rng(seed)
    arr = np.zeros((size, size, 3), np.uint8)
    arr[:] = rng.integers(0, 256, 3)
    for _ in range(4):
        y, x, h, w = rng.integers(0, size // 2, 4)
        arr[y:y + h + 8, x:x + w + 8] = rng.integers(0, 256, 3)
    Image.fromarray(arr).save(path)
    return path


def _photo(path: Path, seed: int, size: int = 96) -> Path:
    """Smooth shading plus sensor noise everywhere, like a photo."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size)[None, :, None] * rng.uniform(60, 160, 3)
    arr = np.clip(ramp + 40 + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture
def folders(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    (tmp_path / "c").mkdir()
    (tmp_path / "p").mkdir()
    cartoons = [_cartoon(tmp_path / "c" / f"{i}.png", i) for i in range(8)]
    photos = [_photo(tmp_path / "p" / f"{i}.png", i) for i in range(8)]
    return cartoons, photos


def test_a_good_style_folder_passes(folders: tuple[list[Path], list[Path]]) -> None:
    cartoons, photos = folders
    assert style_folder_problems(cartoons, photos, 64) == []


def test_too_few_style_images(folders: tuple[list[Path], list[Path]]) -> None:
    cartoons, photos = folders
    problems = style_folder_problems(cartoons[:3], photos, 64)
    assert len(problems) == 1 and problems[0].startswith("only 3 style image(s): a style needs at least 5")


def test_one_image_many_times(folders: tuple[list[Path], list[Path]], tmp_path: Path) -> None:
    cartoons, photos = folders
    copies = []
    for i in range(10):
        copy = tmp_path / "c" / f"copy{i}.png"
        copy.write_bytes(cartoons[0].read_bytes())
        copies.append(copy)
    problems = style_folder_problems(copies + cartoons[:2], photos, 64)
    assert problems == ["only 2 style image(s) (12 files, 2 different images): a style needs at least 5 different "
                        "ones (about 30 recommended: see the README's measured curve)"]


def test_images_smaller_than_the_crop(folders: tuple[list[Path], list[Path]]) -> None:
    cartoons, photos = folders
    problems = style_folder_problems(cartoons, photos, 128)
    assert len(problems) == 1 and problems[0].startswith("8 of 8 style images are smaller than the 128-pixel")
    assert "smallest is 96 px" in problems[0]


def test_photos_given_as_the_style(folders: tuple[list[Path], list[Path]]) -> None:
    cartoons, photos = folders
    assert image_stats(photos[0]).flat_share < 0.2 < 0.6 < image_stats(cartoons[0]).flat_share
    problems = style_folder_problems(photos, cartoons, 64)
    assert len(problems) == 1 and "look like photos" in problems[0] and "data.check_style: false" in problems[0]
