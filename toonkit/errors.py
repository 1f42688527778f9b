"""The one base of every error toonkit raises on purpose.

Lower layers (data, nets, recipes, training, translation) never print and never choose exit codes: they
raise a :class:`ToonkitError` subclass whose message is one line a user can act on. The CLI prints it and
exits with :attr:`ToonkitError.exit_code`: 2 for a usage error (the caller asked for something that
cannot be done: a bad recipe, a missing folder, an unknown name), 1 for a failure while doing what was
asked (a diverged run, an export whose outputs do not match).

Subclasses keep the builtin base they had (``RecipeError`` is still a ``ValueError``), so code that
caught those keeps working.

Example:
    >>> from toonkit.errors import ToonkitError
    >>> class MyPluginError(ToonkitError):
    ...     '''The plugin's model file is missing.'''
    >>> MyPluginError("model.tflite not found").exit_code
    2
"""
from __future__ import annotations

USAGE_EXIT = 2
FAILURE_EXIT = 1


class ToonkitError(Exception):
    """Base class of toonkit's errors; ``usage`` says whether it is the caller's to fix (exit 2)."""

    #: True: the request cannot be done as asked (exit 2); False: doing it failed (exit 1).
    usage: bool = True

    @property
    def exit_code(self) -> int:
        return USAGE_EXIT if self.usage else FAILURE_EXIT

    def lines(self) -> list[str]:
        """The message as the CLI prints it: one line per problem (most errors have one)."""
        text = str(self).strip()
        return text.splitlines() if text else [type(self).__name__]
