"""The zero point's KID ratio, the skin-tone groups of the report, and test photos chosen per skin group."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import yaml
from PIL import Image

from toonkit.bench import load_suite
from toonkit.bench.data import materialise
from toonkit.bench.zero_point import group_means, kid_ratio, skin_group_lines


def test_kid_ratio_is_one_for_the_zero_point_and_below_one_for_a_closer_set() -> None:
    rng = np.random.default_rng(0)
    refs = rng.normal(1.0, 1.0, (40, 16))
    photo = rng.normal(0.0, 1.0, (30, 16))
    closer = 0.3 * photo + 0.7 * rng.normal(1.0, 1.0, (30, 16))
    same = kid_ratio(photo, photo, refs, n_resamples=100)
    assert same.value == 1.0 and same.low == same.high == 1.0
    better = kid_ratio(closer, photo, refs, n_resamples=200)
    assert better.value < 0.5 and better.low <= better.value <= better.high < 1.0
    assert better.resamples == 200


def _result(ita: list[float], shifts: dict[str, list[float]]) -> SimpleNamespace:
    rows = [SimpleNamespace(plan=SimpleNamespace(name=name), per_image={"skin_ITA": ita, "skin_dL*": dl,
                                                                        "skin_da*": [0.0] * len(dl)})
            for name, dl in shifts.items()]
    return SimpleNamespace(results=rows)


def test_skin_groups_table_counts_photos_per_group_and_means_their_shift() -> None:
    ita = [60.0, 58.0, 57.0, -40.0, -45.0, -50.0, float("nan")]
    result = _result(ita, {"whitens_dark": [0.0, 0.0, 0.0, 20.0, 22.0, 24.0, float("nan")]})
    lines = "\n".join(skin_group_lines(result))
    assert "very light 3" in lines and "dark 3" in lines and "1 photo(s) show too little skin" in lines
    assert "+22.0 [" in lines  # the dark group's mean lightening, with its interval
    means = group_means(result, "whitens_dark", "skin_dL*")
    assert means["dark"] == (3, 22.0) and means["very light"] == (3, 0.0) and means["tan"] == (0, None)


def _skin_image(rgb: tuple[int, int, int], size: int = 48) -> Image.Image:
    arr = np.zeros((size, size, 3), np.uint8)
    arr[:] = (40, 90, 200)  # a blue background: not skin
    arr[8:40, 12:36] = rgb  # the person's skin
    return Image.fromarray(arr)


def test_test_photos_are_chosen_per_skin_group(tmp_path: Path) -> None:
    tones = {"light": (236, 204, 184), "tan": (194, 140, 102), "dark": (77, 48, 36)}
    photos, masks, cartoons = (tmp_path / d for d in ("photos", "masks", "cartoons"))
    for d in (photos, masks, cartoons):
        d.mkdir()
    for tone, rgb in tones.items():
        for i in range(4):
            _skin_image(rgb).save(photos / f"{tone}{i}.png")
            mask = np.zeros((48, 48), np.uint8)
            mask[4:44, 8:40] = 255
            Image.fromarray(mask).save(masks / f"{tone}{i}.png")
    for i in range(4):
        _skin_image((200, 100, 100)).save(cartoons / f"c{i}.png")
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "t", "methods": {"photo": {"filter": "photo"}},
        "data": {"photos": [{"photos": "photos", "masks": "masks", "test_per_skin_group": 2}],
                 "cartoons": "cartoons", "reference_every": 2},
        "eval": {"size": 32}}))
    data = materialise(load_suite(suite), tmp_path / "work")
    test = sorted(p.name for p in data.test_photos.iterdir())
    assert len(test) == 6 and {name[2:-5] for name in test} == set(tones)  # two of each tone
    assert data.counts["train_photos"] == 6
