"""Crash-safe, link-safe file writing: the one atomic-write helper every module uses, the checks that keep
a write inside the output it was named, and the clean-up of what a killed writer left behind.

A file is written under a temporary name in its own folder (``.<name>.tmp-<pid>-<random>``, at most 255
bytes whatever the name's length), flushed to disk and renamed over the target, so readers — and a rerun
after a kill — see the old file or the new one, never half of one. The temporary names carry the writer's
PID so that a later start can tell the leftovers of a dead process from a write in progress.

No write follows a symbolic link: the target itself must not be one (nor a FIFO, device or folder), and
when the caller names the output ``root`` it writes under (``translate -o``), no folder between that root
and the file may be one either, so a link planted inside the output cannot send a write elsewhere. The
root itself may be a link: the user named it.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from toonkit.core.settings import setting_int
from toonkit.errors import ToonkitError

__all__ = ["BoundedReadError", "OutputsReport", "UnsafeWriteError", "atomic_write", "atomic_write_text",
           "check_output_path", "check_target", "link_inside", "pid_alive", "read_bounded_text", "real_path",
           "remove_stale_temps", "replaced_input", "temp_sibling"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)(-[^/]*)?$")
#: the longest file name most file systems take (ext4, btrfs, xfs, APFS, NTFS in UTF-16 units)
MAX_NAME_BYTES = 255
_RANDOM_CHARS = 12


class UnsafeWriteError(ToonkitError, OSError):
    """A write that would follow a link, replace what is not a regular file, or replace an input.

    An :class:`OSError` too, so a per-file writer reports it as the one file it could not write.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:  # OSError's own formatting would add "[Errno None]"
        return str(self.args[0]) if self.args else ""


class BoundedReadError(ToonkitError, ValueError):
    """A text file toonkit reads (a recipe, ``config.json``, a model card) that it will not read: not a
    regular file, above the size bound, or not UTF-8."""


def read_bounded_text(path: str | os.PathLike, what: str, limit: int | None = None) -> str:
    """The UTF-8 text of a small file: a regular file of at most ``limit`` bytes.

    Args:
        path: the file.
        what: what it should be, for messages (``recipe``, ``model card``).
        limit: the most bytes read (default ``TOONKIT_MAX_RECIPE_BYTES``, 1 MiB).

    Raises:
        BoundedReadError: missing, not a regular file (a FIFO would block, ``/dev/zero`` never ends),
            larger than ``limit`` (checked before reading, and again while reading), or not UTF-8.
    """
    src = os.fspath(path)
    limit = setting_int("TOONKIT_MAX_RECIPE_BYTES") if limit is None else limit
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())  # of what was opened: no swap between a check and the read
            if not stat.S_ISREG(info.st_mode):
                raise BoundedReadError(f"{src}: cannot read {what}: not a regular file "
                                       f"(a {_kind(info.st_mode)})")
            if info.st_size > limit:
                raise BoundedReadError(f"{src}: {what} is {info.st_size} bytes, above the limit of {limit} "
                                       "(TOONKIT_MAX_RECIPE_BYTES)")
            data = fh.read(limit + 1)
    except OSError as exc:
        raise BoundedReadError(f"{src}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew since the stat
        raise BoundedReadError(f"{src}: {what} is above the limit of {limit} bytes (TOONKIT_MAX_RECIPE_BYTES)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BoundedReadError(f"{src}: {what} is not UTF-8 text (byte {exc.start})") from None


def _short_prefix(name: str) -> str:
    """``.<name>.tmp-<pid>-`` with ``name`` cut (on a character boundary) so the whole temporary name,
    random part included, fits in :data:`MAX_NAME_BYTES`."""
    tail = f".tmp-{os.getpid()}-"
    room = MAX_NAME_BYTES - 1 - len(tail) - _RANDOM_CHARS
    raw = os.fsencode(name)
    if len(raw) > room:
        name = os.fsdecode(raw[:room]).rstrip("\udcff")  # never half a character: cut at a boundary
        while len(os.fsencode(name)) > room:
            name = name[:-1]
    return f".{name}{tail}"


def temp_sibling(path: str | os.PathLike, directory: bool = False) -> Path:
    """A fresh, unique temporary name beside ``path`` (a file, or a folder when ``directory``).

    The file is created empty (``O_EXCL``, never through a link) with the permissions a plain ``open()``
    gives under the umask; a folder is created private, as :func:`tempfile.mkdtemp` does.

    Example:
        >>> temp_sibling("runs/a/recipe.yaml").name.startswith(".recipe.yaml.tmp-")  # doctest: +SKIP
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = _short_prefix(path.name)
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.parent / f"{prefix}{secrets.token_hex(_RANDOM_CHARS // 2)}"
        try:
            os.close(os.open(tmp, flags, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "device"),
                       (stat.S_ISBLK, "device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def link_inside(root: str | os.PathLike, folder: str | os.PathLike) -> Path | None:
    """The first folder between ``root`` and ``folder`` (``folder`` included) that is a symbolic link, or
    None; ``folder`` outside ``root`` counts as ``folder`` itself."""
    root, folder = Path(root), Path(folder)
    try:
        rel = folder.relative_to(root)
    except ValueError:
        return folder
    here = root
    for part in rel.parts:
        here = here / part
        if part == ".." or here.is_symlink():
            return here
    return None


def check_target(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Check that a file may be written at ``path`` without following a link; create its folders.

    Args:
        path: the file about to be written (or replaced).
        root: the output it must stay inside (``translate -o``): ``path`` must lie under it, and no
            folder between ``root`` and ``path`` may be a symbolic link (missing ones are created, one
            by one, never through a link). ``root`` itself may be a link.

    Returns:
        ``path``.

    Raises:
        UnsafeWriteError: ``path`` is a symbolic link or exists as something other than a regular file,
            lies outside ``root``, or a folder on the way inside ``root`` is a link or a file.
    """
    path = Path(path)
    if root is not None:
        root = Path(root)
        try:
            rel = path.parent.relative_to(root)
        except ValueError:
            raise UnsafeWriteError(f"{path} lies outside the output {root}") from None
        if ".." in rel.parts:
            raise UnsafeWriteError(f"{path} lies outside the output {root}")
        root.mkdir(parents=True, exist_ok=True)  # the output itself, as named (it may be a link)
        here = root
        for part in rel.parts:
            here = here / part
            try:
                info = os.lstat(here)
            except FileNotFoundError:
                try:
                    os.mkdir(here)
                except FileExistsError:
                    pass
                info = os.lstat(here)
            if stat.S_ISLNK(info.st_mode):
                raise UnsafeWriteError(f"{here} is a symbolic link inside the output {root}: toonkit does not "
                                       "write through links (remove it, or write elsewhere)")
            if not stat.S_ISDIR(info.st_mode):
                raise UnsafeWriteError(f"{here} is a file, not a folder")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeWriteError(f"{path} is a symbolic link: toonkit does not write through links (remove it, "
                               "or name the file it points to)")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeWriteError(f"{path} exists and is not a regular file (a {_kind(info.st_mode)}): refusing "
                               "to replace it")
    return path


def real_path(path: str | os.PathLike) -> Path:
    """``path`` with every link resolved; a symlink loop resolves to itself (it then fails as one file)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()


def replaced_input(target: str | os.PathLike, inputs: dict[Path, Any], folder: bool = False) -> Any:
    """The input that writing ``target`` would destroy, or None.

    Args:
        target: the output about to be written.
        inputs: every input of the call, keyed by :func:`real_path` (values: what to report, e.g. the
            path as the user gave it).
        folder: ``target`` is a folder that replaces what is there (a model folder): an input inside it
            counts too.

    Example:
        >>> inputs = {real_path(p): p for p in ["out/sub/a.png", "photos/sub/a.jpg"]}  # doctest: +SKIP
        >>> replaced_input("out/sub/a.png", inputs)  # doctest: +SKIP
        'out/sub/a.png'
    """
    target = Path(target)
    where = real_path(target.parent) / target.name
    for candidate in {where, real_path(target)}:
        if candidate in inputs:
            return inputs[candidate]
        if folder:
            inside = next((v for k, v in inputs.items() if k.is_relative_to(candidate)), None)
            if inside is not None:
                return inside
    return None


def check_output_path(text: str, option: str = "-o", folder: bool = True) -> Path:
    """An output named on the command line, checked once before any work.

    ``~`` is expanded (a quoted ``'~/x'`` would otherwise make a folder named ``~``).

    Args:
        text: what the user typed.
        option: how to name it in messages.
        folder: the output is a folder (``translate -o``); else a file whose folder may not exist yet.

    Raises:
        UnsafeWriteError: empty (an unset shell variable would write into the current folder), a file
            where a folder is needed (on the way, or the output itself when ``folder``), or a path that
            cannot be looked up (under a folder without search permission).
    """
    if not text.strip():
        raise UnsafeWriteError(f"{option} is empty: name the output{' folder (-o . for the current one)' if folder else ''}")
    path = Path(text).expanduser()
    try:
        # the nearest existing part decides: a file there can never hold the output
        start = path if folder else path.parent
        existing = next((p for p in (start, *start.parents) if p.exists() or p.is_symlink()), Path("."))
        if not existing.is_dir():
            raise UnsafeWriteError(f"{option} {path}: {existing} is {'a broken link' if existing.is_symlink() else 'a file'}, "
                                   "not a folder")
    except OSError as exc:  # PermissionError from stat under an untraversable folder
        if isinstance(exc, UnsafeWriteError):
            raise
        raise UnsafeWriteError(f"{option} {path}: cannot look into it ({exc.strerror or exc})") from None
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any] | Callable[[Path], Any],
                 *, by_path: bool = False, fsync: bool = True, root: str | os.PathLike | None = None) -> Path:
    """Write ``path`` all at once: ``write`` fills a temporary sibling which then replaces ``path``.

    Args:
        path: the target file (its folder is created); never a symbolic link, FIFO or device
            (:func:`check_target`).
        write: called with a binary file object opened on the temporary file, or with the temporary
            file's path when ``by_path`` (for writers that open files themselves, e.g. safetensors).
        by_path: see ``write``.
        fsync: flush the data to disk before the rename (checkpoints; cheap next to their size).
        root: the output ``path`` must stay inside, with no link on the way (see :func:`check_target`).

    Returns:
        ``path``.

    Raises:
        UnsafeWriteError: the target or a folder on the way is a link, or the target is not a regular file.

    Example:
        >>> atomic_write("out/a.bin", lambda fh: fh.write(b"data"))  # doctest: +SKIP
    """
    path = check_target(path, root)
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
        check_target(path, root)  # again just before the rename: nothing was swapped in meanwhile
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8",
                      root: str | os.PathLike | None = None) -> Path:
    """:func:`atomic_write` for text."""
    return atomic_write(path, lambda fh: fh.write(text.encode(encoding)), fsync=False, root=root)


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


def remove_stale_temps(folder: str | os.PathLike | Iterable[str | os.PathLike], everything: bool = False,
                       root: str | os.PathLike | None = None, target: str | None = None) -> list[Path]:
    """Delete the temporary files and folders that killed writers left in ``folder``.

    Args:
        folder: where to look (not recursive), or several folders (a missing one is skipped).
        root: the output the folders lie in: a folder reached through a symbolic link inside it is
            skipped (cleaning there would be a write through a link).
        target: only the temporaries of this file name (an export's ``-o`` in a shared folder).
        everything: remove every temporary, also those of live processes (the caller holds the
            folder's run lock, so no one else can be writing there).

    Returns:
        what was removed.
    """
    if not isinstance(folder, (str, os.PathLike)):
        return [p for f in folder for p in remove_stale_temps(f, everything, root, target)]
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir() or (root is not None and link_inside(root, folder) is not None):
        return removed
    try:
        entries = list(folder.iterdir())
    except OSError:  # unreadable: nothing of ours can be there
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or (not everything and pid_alive(int(m["pid"]))):
            continue
        if target is not None and not entry.name.startswith(_short_prefix(target).rsplit(".tmp-", 1)[0] + ".tmp-"):
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
