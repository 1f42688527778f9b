"""Deterministic data splits of a suite."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from toonkit.bench import load_suite
from toonkit.bench.data import SuiteData, load_references, load_test_set, materialise, spread_indices


def test_spread_indices() -> None:
    assert spread_indices(10, 3) == [1, 5, 8]
    assert spread_indices(4, 4) == [0, 1, 2, 3]
    assert spread_indices(3, 10) == [0, 1, 2]  # capped at n
    assert spread_indices(5, 0) == []
    picked = spread_indices(241, 16)
    assert len(set(picked)) == 16 and picked == sorted(picked) and picked[0] < 16 and picked[-1] > 224


def _folder(root: Path, names: list[str], size: tuple[int, int] = (40, 30), mask: bool = False) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(len(names))
    for name in names:
        arr = rng.integers(0, 256, (size[1], size[0]) if mask else (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(arr).save(root / name)
    return root


def test_materialise_splits_deterministically(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _folder(data / "a" / "photos", [f"{i}.png" for i in range(10)])
    _folder(data / "a" / "masks", [f"{i}.png" for i in range(9)], mask=True)  # photo 9 has no mask
    _folder(data / "b" / "photos", ["x.png", "y.png"])  # same stems as nothing in a: still prefixed
    _folder(data / "b" / "masks", ["x.png", "y.png"], mask=True)
    _folder(data / "cartoons", [f"c{i:02d}.png" for i in range(11)])
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "name": "t",
        "data": {"photos": [{"photos": "data/a/photos", "masks": "data/a/masks", "test": 3},
                            {"photos": "data/b/photos", "masks": "data/b/masks", "test": "all"}],
                 "cartoons": "data/cartoons", "reference_every": 5},
        "methods": {"nst": {"recipe": "x.yaml"}}}))
    (tmp_path / "x.yaml").write_text("method: {type: nst}\n")
    suite = load_suite(suite_file)
    first = materialise(suite, tmp_path / "work")
    names = lambda folder: sorted(p.name for p in folder.iterdir())  # noqa: E731
    # 9 photos with masks in a: indices 1, 4, 7 are the test photos; all of b is test
    assert names(first.test_photos) == ["0_1.png", "0_4.png", "0_7.png", "1_x.png", "1_y.png"]
    assert names(first.test_masks) == names(first.test_photos)
    assert names(first.train_photos) == ["0_0.png", "0_2.png", "0_3.png", "0_5.png", "0_6.png", "0_8.png"]
    assert names(first.train_masks) == names(first.train_photos)
    assert names(first.references) == ["00004_c04.png", "00009_c09.png"]  # the 5th and the 10th
    assert len(names(first.train_cartoons)) == 9 and first.style.name == "00000_c00.png"
    assert first.counts == {"train_photos": 6, "test_photos": 5, "train_cartoons": 9, "references": 2}
    # links point at the originals; a second call gives the same split
    assert (first.test_photos / "0_4.png").resolve() == (data / "a" / "photos" / "4.png").resolve()
    inode = os.lstat(first.train_photos / "0_0.png").st_ino
    again = materialise(suite, tmp_path / "work")
    assert names(again.test_photos) == names(first.test_photos)
    # the same split again leaves the links alone (runs of the suite may be reading them)
    assert os.lstat(again.train_photos / "0_0.png").st_ino == inode

    stems, photos, masks = load_test_set(first, 16)
    assert stems == ["0_1", "0_4", "0_7", "1_x", "1_y"]
    assert photos.shape == (5, 3, 16, 16) and masks.shape == (5, 1, 16, 16)
    assert photos.min() >= -1 and photos.max() <= 1 and masks.min() >= 0 and masks.max() <= 1
    assert load_references(first, 16).shape == (2, 3, 16, 16)


def test_a_changed_split_replaces_only_what_changed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _folder(data / "photos", [f"{i}.png" for i in range(6)])
    _folder(data / "masks", [f"{i}.png" for i in range(6)], mask=True)
    _folder(data / "cartoons", [f"c{i}.png" for i in range(6)])
    suite_file = tmp_path / "suite.yaml"

    def split(test: int) -> SuiteData:
        suite_file.write_text(yaml.safe_dump({
            "name": "t", "methods": {"nst": {"recipe": "x.yaml"}}, "data": {
                "photos": [{"photos": "data/photos", "masks": "data/masks", "test": test}],
                "cartoons": "data/cartoons", "reference_every": 3}}))
        return materialise(load_suite(suite_file), tmp_path / "work")

    (tmp_path / "x.yaml").write_text("method: {type: nst}\n")
    one = split(1)
    assert sorted(p.name for p in one.test_photos.iterdir()) == ["0_3.png"]
    (one.train_photos / "stray.txt").write_text("left by hand")
    two = split(2)  # indices 1 and 4 are the test photos now
    assert sorted(p.name for p in two.test_photos.iterdir()) == ["0_1.png", "0_4.png"]
    assert sorted(p.name for p in two.train_photos.iterdir()) == ["0_0.png", "0_2.png", "0_3.png", "0_5.png"]
    assert (two.train_photos / "0_3.png").resolve() == (data / "photos" / "3.png").resolve()
    assert two.counts == {"train_photos": 4, "test_photos": 2, "train_cartoons": 4, "references": 2}


def test_demo_data(tmp_path: Path) -> None:
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({"name": "t", "data": {"demo": {"n": 6, "size": 32, "n_test": 2},
                                                                 "reference_every": 3},
                                          "methods": {"nst": {"recipe": "x.yaml"}}}))
    (tmp_path / "x.yaml").write_text("method: {type: nst}\n")
    data = materialise(load_suite(suite_file), tmp_path / "work")
    assert data.counts == {"train_photos": 6, "test_photos": 2, "train_cartoons": 4, "references": 2}
