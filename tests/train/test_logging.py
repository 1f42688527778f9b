"""The training progress bar keeps showing the losses between logged steps."""
from __future__ import annotations

from pathlib import Path

from toonkit.train.logging import RunLogger


def test_bar_keeps_the_last_value_of_every_loss(tmp_path: Path) -> None:
    logger = RunLogger(tmp_path / "logs", quiet=False, every=10)
    logger.start_phase("adversarial", 0, 20)
    logger.step(1, 1, {"g": 0.5, "d": 0.25}, lr=None)
    logger.step(2, 2, {"g": 0.4}, lr=None)  # a step that returns only some losses
    logger.step(3, 3, {}, lr=None)  # ... or none
    postfix = logger.bar.postfix  # it was blank on most steps
    logger.close()
    assert "g=0.4" in postfix and "d=0.25" in postfix
