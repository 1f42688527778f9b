"""toonkit's settings (environment variables), each parsed strictly in one place.

A value that does not parse is a :class:`SettingError` naming the variable, the value and what it takes:
one line, exit code 2, before any work (the CLI checks every setting at start with
:func:`check_settings`). Unset or empty means the default. Nothing is ignored silently: ``²`` is not a
number, ``maybe`` is not a yes/no, a ``TOONKIT_WEIGHTS_DIR`` that is not a folder is not a weights folder.

| variable | takes | default |
|---|---|---|
| ``TOONKIT_MAX_IMAGE_PIXELS`` | pixels a decoded image may have (header), 1..2**40 | 89 478 485 |
| ``TOONKIT_MAX_RECIPE_BYTES`` | bytes of a recipe, ``config.json`` or model card, 1..2**34 | 1 MiB |
| ``TOONKIT_MAX_PARAMETERS`` | weights a network may have, 1..2**40 | 200 000 000 |
| ``TOONKIT_STRICT_PLUGINS`` | 1/0, true/false, yes/no, on/off | off |
| ``TOONKIT_DISABLE_PLUGINS`` | comma-separated plugin names | none |
| ``TOONKIT_WEIGHTS_DIR`` | an existing folder | unset |

Example:
    >>> import os
    >>> os.environ["TOONKIT_MAX_IMAGE_PIXELS"] = "1000"
    >>> setting_int("TOONKIT_MAX_IMAGE_PIXELS")
    1000
    >>> del os.environ["TOONKIT_MAX_IMAGE_PIXELS"]
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from toonkit.errors import ToonkitError

__all__ = ["SETTINGS", "SettingError", "check_settings", "setting_flag", "setting_folder", "setting_int",
           "setting_names"]


class SettingError(ToonkitError, ValueError):
    """An environment variable of toonkit's holds a value it cannot use."""


@dataclass(frozen=True)
class IntSetting:
    """A whole number in ``low..high``."""

    default: int
    low: int
    high: int


_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DIGITS = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit() accepts '²' and '٣', which int() refuses or reads

#: every setting: its parser (``int``, ``flag``, ``names``, ``folder``) and, for numbers, the range
SETTINGS: dict[str, object] = {
    "TOONKIT_MAX_IMAGE_PIXELS": IntSetting(89_478_485, 1, 2**40),
    "TOONKIT_MAX_RECIPE_BYTES": IntSetting(1 << 20, 1, 2**34),
    "TOONKIT_MAX_PARAMETERS": IntSetting(200_000_000, 1, 2**40),
    "TOONKIT_STRICT_PLUGINS": "flag",
    "TOONKIT_DISABLE_PLUGINS": "names",
    "TOONKIT_WEIGHTS_DIR": "folder",
}


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def setting_int(name: str) -> int:
    """The whole-number setting ``name`` (its default when unset or empty).

    Raises:
        SettingError: not plain ASCII digits, or outside the setting's range.
    """
    spec = SETTINGS[name]
    assert isinstance(spec, IntSetting)
    raw = _raw(name)
    if not raw:
        return spec.default
    value = int(raw) if _DIGITS.match(raw) else None
    if value is None or not spec.low <= value <= spec.high:
        raise SettingError(f"{name}={raw!r}: expected a whole number in {spec.low}..{spec.high} "
                           f"(unset it for the default, {spec.default})")
    return value


def setting_flag(name: str) -> bool:
    """The yes/no setting ``name``: 1/true/yes/on or 0/false/no/off (any case); False when unset."""
    raw = _raw(name)
    if not raw:
        return False
    if raw.lower() not in _WORDS:
        raise SettingError(f"{name}={raw!r}: expected 1 or 0 (true/false, yes/no, on/off)")
    return _WORDS[raw.lower()]


def setting_names(name: str) -> set[str]:
    """The comma-separated names of setting ``name`` (plugin or distribution names)."""
    names = {part.strip() for part in _raw(name).split(",") if part.strip()}
    bad = sorted(n for n in names if not _NAME.match(n))
    if bad:
        raise SettingError(f"{name}: {bad[0]!r} is not a plugin name (letters, digits, '.', '_', '-', "
                           "separated by commas)")
    return names


def setting_folder(name: str) -> Path | None:
    """The folder setting ``name`` (``~`` expanded), or None when unset.

    Raises:
        SettingError: set, but not an existing folder.
    """
    raw = _raw(name)
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingError(f"{name}={raw!r}: {'not a folder' if path.exists() else 'no such folder'}")
    return path


def check_settings() -> None:
    """Parse every setting once, so a bad value stops a command before it starts.

    Raises:
        SettingError: the first setting that does not parse.
    """
    parsers = {"flag": setting_flag, "names": setting_names, "folder": setting_folder}
    for name, spec in SETTINGS.items():
        if isinstance(spec, IntSetting):
            setting_int(name)
        else:
            parsers[str(spec)](name)
