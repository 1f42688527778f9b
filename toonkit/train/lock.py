"""An advisory lock per run directory, so two trainings never write into the same run.

The lock is ``<run>/.toonkit.lock``: a file holding the owner's PID, host and command, locked with
``fcntl.flock`` where the platform has it. The kernel drops a flock when its process dies, so the lock
of a killed run is stale by construction and simply taken over; without ``flock`` (Windows) a lock
file whose PID no longer runs on this host is taken over.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from toonkit.io_utils import UnsafeWriteError, pid_alive
from toonkit.errors import ToonkitError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".toonkit.lock"


def _open_lock(path: Path, flags: int) -> int:
    """Open the lock file without following a link: its owner is written into it, which through a link
    planted at its name would overwrite another file."""
    try:
        return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        if path.is_symlink():
            raise UnsafeWriteError(f"{path} is a symbolic link: toonkit does not write through links "
                                   "(remove it)") from None
        raise


class RunLockedError(ToonkitError, RuntimeError):
    """Another live process holds the run directory's lock."""


def _describe(info: dict[str, Any], lock: Path) -> str:
    pid, host = info.get("pid", "?"), info.get("host", "?")
    started = info.get("started")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(started)) if started else ""
    cmd = f" ({info['command']})" if info.get("command") else ""
    return (f"{lock.parent} is in use by process {pid} on {host}{when}{cmd}: wait for it to finish, or use "
            f"another --out (if that process is gone, delete {lock})")


def _stale(info: dict[str, Any]) -> bool:
    """Whether a lock's recorded owner is a process of this host that no longer runs."""
    try:
        pid = int(info.get("pid", 0))
    except (TypeError, ValueError):
        return False
    return pid > 0 and info.get("host") == socket.gethostname() and not pid_alive(pid)


def _read(lock: Path) -> dict[str, Any]:
    try:
        data = json.loads(lock.read_text(encoding="utf-8") or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class RunLock:
    """Hold ``<run_dir>/.toonkit.lock`` for the duration of a ``with`` block.

    Args:
        run_dir: the run directory (created when missing).

    Raises:
        RunLockedError: on entry, when another live process holds the lock (the message names it).

    Example:
        >>> with RunLock("runs/quickstart"):  # doctest: +SKIP
        ...     train(recipe, "runs/quickstart")
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def _info(self) -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
                           "command": " ".join(["toonkit", *sys.argv[1:]])[:300]}).encode()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is not None:
            for attempt in range(2):
                fd = _open_lock(self.path, os.O_RDWR | os.O_CREAT)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    info = _read(self.path)
                    # DataLoader workers forked by a killed run inherit its flock and hold it for a moment
                    # after their parent died: the owner recorded in the file decides
                    if attempt == 0 and _stale(info):
                        self.path.unlink(missing_ok=True)  # lock a fresh file; the orphans keep the old one
                        continue
                    raise RunLockedError(_describe(info, self.path)) from None
                os.ftruncate(fd, 0)
                os.write(fd, self._info())
                self._fd = fd
                return
        for _ in range(2):  # pragma: no cover - no flock: O_EXCL plus a liveness check of the PID
            try:
                fd = _open_lock(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                info = _read(self.path)
                if info.get("host") == socket.gethostname() and not pid_alive(int(info.get("pid", 0))):
                    self.path.unlink(missing_ok=True)  # stale: its owner died
                    continue
                raise RunLockedError(_describe(info, self.path)) from None
            os.write(fd, self._info())
            self._fd = fd
            return
        raise RunLockedError(_describe(_read(self.path), self.path))

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if fcntl is None:  # pragma: no cover
                self.path.unlink(missing_ok=True)
            else:
                os.ftruncate(self._fd, 0)  # the file stays (unlinking would race a waiting locker)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
