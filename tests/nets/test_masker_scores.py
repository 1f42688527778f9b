"""The person-masker benchmark's scores and splits (``benchmarks/masker_data.py``), which the model card quotes."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
BENCH, DATA = REPO / "benchmarks", REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def md():  # noqa: ANN201 - a module loaded from a script folder
    spec = importlib.util.spec_from_file_location("masker_data", BENCH / "masker_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["masker_data"] = module
    spec.loader.exec_module(module)
    return module


def _box(top: int, left: int, bottom: int, right: int) -> torch.Tensor:
    m = torch.zeros(200, 300, dtype=torch.bool)
    m[top:bottom, left:right] = True
    return m


def test_boundary_f_tolerates_shifts_within_the_tolerance_only(md) -> None:  # noqa: ANN001
    truth = _box(50, 50, 150, 250)  # diagonal 361 px: tolerance round(0.008 * 361) = 3 px
    assert md.boundary_f(truth, truth) == 1.0
    assert md.boundary_f(_box(53, 50, 150, 250), truth) == 1.0
    shifted = md.boundary_f(_box(60, 50, 150, 250), truth)  # top edge 10 px off: it misses, the rest match
    assert 0.6 < shifted < 0.9
    assert md.boundary_f(_box(0, 0, 20, 20), truth) == 0.0
    assert md.iou(_box(50, 50, 150, 150), truth) == pytest.approx(0.5)


def test_splits_are_disjoint_and_keep_excluded_photos_out_of_training(md) -> None:  # noqa: ANN001
    if not DATA.is_dir():
        pytest.skip("needs ../shared/data (the people and portraits photos with masks)")
    data = DATA
    excluded = md.excluded_photos()
    for dataset in md.DATASETS:
        parts = md.split(data, dataset)
        names = {k: {p.photo.name for p in v} for k, v in parts.items()}
        assert not names["train"] & names["test"] and not names["train"] & names["val"]
        assert not names["val"] & names["test"]
        assert not {p.photo.resolve() for p in parts["train"]} & excluded
        every = md.TEST_EVERY[dataset]
        assert len(parts["test"]) == -(-len(md.pairs(data, dataset)) // every)
