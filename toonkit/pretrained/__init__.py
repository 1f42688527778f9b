"""Pretrained models as registry entries: a name that :func:`toonkit.load` and ``toonkit translate`` accept.

A pretrained model is a folder in toonkit's model format (``config.json`` + ``model.safetensors`` +
``README.md``, the model card; see :mod:`toonkit.translate.pretrained`). toonkit ships one,
``handpainted``; a plugin ships its own the same way, from its ``toonkit_register`` hook::

    from pathlib import Path
    from toonkit.pretrained import register_model

    @hookimpl
    def toonkit_register(registry):
        register_model(registry, "watercolour", Path(__file__).parent / "models" / "watercolour")

``toonkit list model`` shows every registered model with the first line of its card.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toonkit.io_utils import BoundedReadError, read_bounded_text
from toonkit.registry import Entry, Registry

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"

#: the folder that holds the models shipped inside the package
SHIPPED = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PretrainedModel:
    """A registered model folder. Calling it returns itself, so it can stand as a registry factory.

    Attributes:
        name: the registered name.
        folder: the model folder (``config.json``, ``model.safetensors``, ``README.md``).
    """

    name: str
    folder: Path

    def __call__(self) -> "PretrainedModel":
        return self

    @property
    def card(self) -> str:
        """The model card (Markdown), or an empty string when the folder has none.

        Raises:
            toonkit.io_utils.BoundedReadError: not a regular UTF-8 file of at most
                ``TOONKIT_MAX_RECIPE_BYTES`` (1 MiB).
        """
        path = self.folder / CARD_FILE
        return read_bounded_text(path, "model card") if path.exists() else ""

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(read_bounded_text(self.folder / CONFIG_FILE, "model config"))

    @property
    def summary(self) -> str:
        """The card's first paragraph of prose (headings and front matter skipped), as one line."""
        try:
            card = self.card
        except BoundedReadError as exc:  # listed all the same, with why its card is not shown
            return f"(model card not shown: {exc})"
        lines: list[str] = []
        for raw in _without_front_matter(card).splitlines():
            line = raw.strip()
            if line.startswith("#") or line.startswith("!["):
                if lines:
                    break
                continue
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
        return " ".join(lines)


def _without_front_matter(text: str) -> str:
    """Markdown without a leading ``---`` YAML block (the Hugging Face model-card metadata)."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4:]
    return text


def register_model(registry: Registry, name: str, folder: str | Path, *, override: bool = False) -> Entry:
    """Register the model folder ``folder`` as ``model``/``name``.

    Args:
        registry: the registry handed to ``toonkit_register``.
        name: the name users pass to ``toonkit.load`` / ``toonkit translate``.
        folder: a folder written by :func:`toonkit.translate.pretrained.save_pretrained`.
        override: replace a model of the same name registered by another plugin.

    Raises:
        FileNotFoundError: the folder lacks ``config.json`` or ``model.safetensors``.
    """
    folder = Path(folder)
    missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE) if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"model '{name}': {folder} has no {' or '.join(missing)}")
    model = PretrainedModel(name, folder)
    return registry.add("model", name, model, summary=model.summary, override=override)


def register(registry: Registry) -> None:
    """toonkit's shipped models: every folder of this package holding a model."""
    for folder in sorted(p for p in SHIPPED.iterdir() if (p / CONFIG_FILE).is_file()):
        register_model(registry, folder.name, folder)
