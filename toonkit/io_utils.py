"""Crash-safe file writing: the one atomic-write helper every module uses, and the clean-up of what a
killed writer left behind.

A file is written under a temporary name in its own folder (``.<name>.tmp-<pid>-<random>``), flushed to
disk and renamed over the target, so readers — and a rerun after a kill — see the old file or the new
one, never half of one. The temporary names carry the writer's PID so that a later start can tell the
leftovers of a dead process from a write in progress.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["OutputsReport", "atomic_write", "atomic_write_text", "pid_alive", "remove_stale_temps", "temp_sibling"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)(-[^/]*)?$")


def temp_sibling(path: str | os.PathLike, directory: bool = False) -> Path:
    """A fresh, unique temporary name beside ``path`` (a file, or a folder when ``directory``).

    Example:
        >>> temp_sibling("runs/a/recipe.yaml").name.startswith(".recipe.yaml.tmp-")  # doctest: +SKIP
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.tmp-{os.getpid()}-"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        # mkstemp makes the file private (0600); once renamed it is the user's output, which a plain
        # open() would have made with the umask's permissions (usually 0644)
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read once: reading it means setting it, which is not thread-safe."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any] | Callable[[Path], Any],
                 *, by_path: bool = False, fsync: bool = True) -> Path:
    """Write ``path`` all at once: ``write`` fills a temporary sibling which then replaces ``path``.

    Args:
        path: the target file (its folder is created).
        write: called with a binary file object opened on the temporary file, or with the temporary
            file's path when ``by_path`` (for writers that open files themselves, e.g. safetensors).
        by_path: see ``write``.
        fsync: flush the data to disk before the rename (checkpoints; cheap next to their size).

    Returns:
        ``path``.

    Example:
        >>> atomic_write("out/a.bin", lambda fh: fh.write(b"data"))  # doctest: +SKIP
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        if by_path:
            write(tmp)  # type: ignore[arg-type]
        else:
            with open(tmp, "wb") as fh:
                write(fh)  # type: ignore[arg-type]
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write` for text."""
    return atomic_write(path, lambda fh: fh.write(text.encode(encoding)), fsync=False)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a process of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_temps(folder: str | os.PathLike, everything: bool = False) -> list[Path]:
    """Delete the temporary files and folders that killed writers left in ``folder``.

    Args:
        folder: where to look (not recursive).
        everything: remove every temporary, also those of live processes (the caller holds the
            folder's run lock, so no one else can be writing there).

    Returns:
        what was removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        m = _TEMP.match(entry.name)
        if m is None or (not everything and pid_alive(int(m["pid"]))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@dataclass
class OutputsReport:
    """What a job writing one output file per input into a folder did (``toonkit data masks``,
    ``toonkit translate``): inputs found, outputs written and kept, and the inputs that failed, with why.

    Attributes:
        out: the output folder.
        total: inputs found.
        written: outputs written.
        kept: outputs that existed and were kept.
        failed: ``(input, reason)`` of each input that failed.
    """

    out: Path
    total: int
    written: int = 0
    kept: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def all_kept(self) -> bool:
        """Whether every output existed already and nothing was done."""
        return self.written == 0 and not self.failed and self.kept == self.total

    def failed_names(self, limit: int = 5) -> str:
        """The failed inputs, the first ``limit`` named: ``a.jpg, b.png … and 3 more``."""
        names = [str(p) for p, _ in self.failed]
        return ", ".join(names[:limit]) + (f" … and {len(names) - limit} more" if len(names) > limit else "")
