"""The recipe layer's error: one line per problem, each naming the file and key path."""
from __future__ import annotations

from toonkit.errors import ToonkitError


_ESCAPES = {c: repr(chr(c))[1:-1] for c in (*range(32), 127)}


class RecipeError(ToonkitError, ValueError):
    """A recipe failed validation; ``problems`` holds one line per problem, ``missing_plugins`` the plugin
    packages it names components of that are not loaded (so a caller such as the bench can skip it)."""

    def __init__(self, problems: list[str], missing_plugins: list[str] | None = None):
        # a key may hold any character (a YAML key "\n"): escaped, so that each problem stays one line
        self.problems = [p.translate(_ESCAPES) for p in problems]
        self.missing_plugins = list(missing_plugins or [])
        super().__init__("\n".join(problems))
