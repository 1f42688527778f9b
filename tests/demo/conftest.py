"""Fixtures of the demo tests: a tiny Selfie-GAN run (generator and masker) and a real or demo photo."""
from __future__ import annotations

from pathlib import Path

import pytest

# the translate tests' tiny runs (tests/ is on sys.path: both folders are packages under it)
from translate.helpers import make_checkpoint

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def make_run(root: Path, masker: bool = True) -> Path:
    """A run directory with one checkpoint of tiny networks; the masker learns "red is the person"."""
    return make_checkpoint(root, method="selfie_gan" if masker else "cartoongan", masker=masker)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("demo_run"))


@pytest.fixture(scope="session")
def tiny_run_no_masker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("demo_run_nomask"), masker=False)


@pytest.fixture(scope="session")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo from ../shared/data/people, or a demo-set photo when ../shared is absent."""
    people = SHARED / "data" / "people" / "photos"
    if people.is_dir():
        return sorted(people.glob("*.jpg"))[0]
    from toonkit.data.demo import make_demo

    paths = make_demo(tmp_path_factory.mktemp("demo_set"), n=1, size=128, n_test=1)
    return sorted(paths["test_photos"].iterdir())[0]
