"""Errors of the translation layer (models that cannot be loaded or used as asked)."""
from __future__ import annotations

from toonkit.errors import ModelError


class TranslateError(ModelError):
    """A run, checkpoint, model folder or masker cannot be used for translation; the message says why."""


class MaskerRequiredError(TranslateError):
    """A background mode needs a person mask but no masker was loaded."""
