"""The marker a run directory gets when every phase of its recipe has been trained.

``toonkit run`` reads it so that running the same command again on a finished run says so and exits 0
instead of refusing (checkpoints exist) or training again. The marker records a hash of the resolved
recipe: a run finished under another recipe (say, with more steps) is not finished for this one.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from toonkit.io_utils import atomic_write_text

FINISHED_FILE = "finished.json"


def recipe_hash(recipe_yaml: str) -> str:
    """SHA-1 of a resolved recipe's YAML text."""
    return hashlib.sha1(recipe_yaml.encode("utf-8")).hexdigest()


def mark_finished(run_dir: str | Path, step: int, recipe_yaml: str) -> None:
    """Record that ``run_dir`` trained every phase of the recipe ``recipe_yaml``, ending at ``step``."""
    atomic_write_text(Path(run_dir) / FINISHED_FILE,
                      json.dumps({"step": int(step), "recipe_sha1": recipe_hash(recipe_yaml)}) + "\n")


def finished_step(run_dir: str | Path, recipe_yaml: str) -> int | None:
    """The last step of ``run_dir`` when it finished training exactly this recipe, else None.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> mark_finished(d, 480, "name: quickstart\\n")
        >>> finished_step(d, "name: quickstart\\n"), finished_step(d, "name: other\\n")
        (480, None)
    """
    path = Path(run_dir) / FINISHED_FILE
    try:
        info: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("recipe_sha1") != recipe_hash(recipe_yaml):
        return None
    step = info.get("step")
    return step if isinstance(step, int) else None
