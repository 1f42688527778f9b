"""Fixtures of the translate tests: tiny run directories built once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import make_checkpoint


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Selfie-GAN run (generator and masker), training size 32."""
    return make_checkpoint(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="session")
def run_no_masker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CartoonGAN run: a generator, no masker."""
    return make_checkpoint(tmp_path_factory.mktemp("run_nomask"), method="cartoongan", masker=False)
