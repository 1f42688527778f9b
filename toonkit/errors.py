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
#: the exit code of a run stopped by Ctrl-C (the shell's 128 + SIGINT)
INTERRUPTED_EXIT = 130


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


class Interrupted(ToonkitError):
    """Ctrl-C stopped the work after saving what it had (exit 130); the message says how to continue."""

    usage = False

    @property
    def exit_code(self) -> int:
        return INTERRUPTED_EXIT


class ModelError(ToonkitError, RuntimeError):
    """A saved model (a run's checkpoint, a model folder) cannot be read, rebuilt or used as asked; the
    message names the file and what is wrong with it."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of ``exc``'s message, or the name of its type when it has none.

    Example:
        >>> first_line(ValueError("bad size\\n  at line 3")), first_line(KeyError())
        ('bad size', 'KeyError')
    """
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(exc).__name__


def describe_error(exc: BaseException, limit: int | None = 160) -> str:
    """``Type: first line of the message`` cut to ``limit`` characters (None: the whole line), for
    one-line error messages about an exception a library raised.

    Example:
        >>> describe_error(OSError("disk full\\nmore"))
        'OSError: disk full'
    """
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
