"""Fixtures the reliability tests share: a tiny run and the model folder saved from it, once per module."""
from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import tiny_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def model_folder(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import toonkit

    return toonkit.load(run_dir, device="cpu").save_pretrained(tmp_path_factory.mktemp("m") / "model")
