"""Fixtures: toonkit's plugin kit, and the model file from TOONKIT_WEIGHTS_DIR or ../shared/weights."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["toonkit.testing"]

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"
FILENAME = "selfie_segmentation.tflite"


@pytest.fixture(scope="session")
def model_file() -> Path:
    """The selfie-segmentation model already on disk (tests never download it)."""
    for folder in (os.environ.get("TOONKIT_WEIGHTS_DIR"), SHARED / "weights"):
        if folder and (Path(folder) / FILENAME).is_file():
            return Path(folder) / FILENAME
    pytest.skip(f"needs {FILENAME} in TOONKIT_WEIGHTS_DIR or ../shared/weights (tests do not download it)")


@pytest.fixture
def weights_env(model_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """TOONKIT_WEIGHTS_DIR pointing at the model; an empty private cache."""
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(model_file.parent))
    monkeypatch.setenv("TOONKIT_CACHE_DIR", str(tmp_path / "cache"))
    return model_file


@pytest.fixture
def people_dir() -> Path:
    """../shared/data/people (photos/ and masks/), or skip."""
    path = SHARED / "data" / "people"
    if not path.exists():
        pytest.skip("needs ../shared/data/people (real photos live beside the checkout, not in it)")
    return path
