"""Atomic file writes and moving unreadable files aside. Standard library only; used by every layer."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def move_aside(path: str | os.PathLike[str], reason: str = "unreadable") -> Path:
    """Rename a file we cannot use to ``<name>.<reason>-<timestamp>`` and return the new path.

    The original content is kept for the user; the caller may then write a fresh file."""
    src = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dst = src.with_name(f"{src.name}.{reason}-{stamp}")
    n = 1
    while dst.exists():
        dst = src.with_name(f"{src.name}.{reason}-{stamp}-{n}")
        n += 1
    os.replace(src, dst)
    return dst


class NotRegularFileError(OSError):
    """The path is a named pipe, socket or device, not a regular file: reading it could block forever."""


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, which must be a regular file (a symlink to one is fine).

    Never blocks on a named pipe or device: the file is opened without waiting and checked before
    anything is read. Raises IsADirectoryError for a folder, :class:`NotRegularFileError` for any
    other kind of file that is not regular, and OSError as ``open`` does (FileNotFoundError, ...)."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(errno.EINVAL, f"{_kind_of(mode)}, not a regular file", os.fspath(path))
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it now
            return fh.read()
    finally:
        if fd >= 0:
            os.close(fd)
