"""Shared test settings: offline weights from ../shared when present, small thread counts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# two threads at most; OMP_NUM_THREADS, when set, wins: on a machine other jobs share, a second thread
# that waits for a descheduled one spins, and the suite's CPU time grows several-fold
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, min(2, os.cpu_count() or 1)))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared ({path.relative_to(SHARED.parent)} is absent: real data and "
                    "weights live beside the checkout, not in it)")
    return path


@pytest.fixture
def weights_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point TOONKIT_WEIGHTS_DIR at ../shared/weights (skip when absent)."""
    path = shared_path("weights")
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(path))
    return path
