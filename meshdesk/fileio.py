"""Atomic file writes and moving unreadable files aside. Standard library only; used by every layer."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux); elsewhere by
    setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class ReadOnlyFileError(PermissionError):
    """The file the user chose to replace is read-only: it is left as it is (as Qt's QSaveFile refuses
    it), although replacing it by a new file would only need the folder to be writable."""


def write_atomic(path: str | os.PathLike[str], data: str | bytes, mode: int | None = 0o600, *,
                 make_parents: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of one.

    ``mode`` None is for files the user chooses (exports, snapshots): an existing file keeps its
    mode, a new one gets what the user's umask gives; an existing file that is read-only (no write
    permission for anyone, or none for this user) raises :class:`ReadOnlyFileError` and stays as it
    was: a file made read-only to keep it was replaced without a word. A symlink is written through (its target gets
    the content; the link stays). A named pipe or a device there (directly or through a symlink: ``/dev/full``)
    raises :class:`NotRegularFileError` and stays: it is never replaced by a file. ``make_parents`` False: a missing folder is an error, not created
    (a mistyped folder in a path the user typed)."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        found = os.stat(target).st_mode
    except OSError:
        found = None
    if found is not None and not stat.S_ISREG(found) and not stat.S_ISDIR(found):
        # it was replaced by a file: a device (a link to /dev/null or /dev/full) gone for every program on the
        # system when run as root, a named pipe gone for its reader; anyone else was told /dev could not be
        # written to, which was not what was wrong (a folder: the replace itself says "Is a directory")
        raise NotRegularFileError(errno.EINVAL, f"it is {_kind_of(found)}, not a regular file (left as it is)",
                                  os.fspath(path))
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            st_mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        else:
            # (the mode bits too: the superuser may write anything, and the file was still made read-only)
            if stat.S_ISREG(st_mode) and (not st_mode & 0o222 or not os.access(target, os.W_OK)):
                raise ReadOnlyFileError(errno.EACCES, "the file is read-only", os.fspath(path))
            mode = stat.S_IMODE(st_mode) & 0o777  # (no set-id bit on a data file)
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


def with_default_suffix(path: str, suffix: str) -> str:
    """``path`` with ``suffix`` added when its name has no extension of its own (``shop`` ->
    ``shop.json``; ``shop.bak`` stays), as other apps' save dialogs do. A dot followed by digits only
    (``shop-1.2``) is a version, not an extension. A name that is there already (a file the user chose
    to replace, a folder that cannot be written) is kept as it is."""
    ext = Path(path).suffix
    if (ext and any(c.isalpha() for c in ext) and " " not in ext) or os.path.lexists(path):
        return path
    return path + suffix


LOCK_WAIT_S = 3.0  # the most a change waits for another process's lock before going on without it


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], wait_s: float | None = None, *,
           required: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on ``<path>.lock`` (created when missing) for a read-change-write of
    ``path``, so two processes changing one file do not lose each other's changes. Yields whether the
    lock is held: after ``wait_s`` (a process stopped while holding it), or where the system offers no
    file locks, the change goes on unlocked rather than freeze its caller. ``required`` False: a lock
    file that cannot be made or opened (a read-only folder, a folder of that name) is no error either;
    the change goes on unlocked, and the write itself says what is wrong, if anything is."""
    lock_path = Path(f"{os.fspath(path)}.lock")
    fd = -1
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        if required:
            raise
    if fd < 0:
        yield False
        return
    try:
        try:
            import fcntl
        except ImportError:  # Windows
            yield False
            return
        deadline = time.monotonic() + (LOCK_WAIT_S if wait_s is None else wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


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


def keep_copy(path: str | os.PathLike[str], data: bytes, suffix: str = "bak") -> Path:
    """Keep ``data`` (a file's content as it was) beside ``path`` as ``<name>.<timestamp>.<suffix>``,
    0600, and return the copy's path. Written atomically and never over an existing file; when a copy
    with that very content is already there, it is returned and nothing is written (a file read on
    every start does not pile up copies)."""
    src = Path(path)
    folder = src.parent
    with contextlib.suppress(OSError):
        for old in sorted(folder.glob(f"{glob.escape(src.name)}.*.{suffix}")):
            try:
                if old.stat().st_size == len(data) and read_regular_file(old) == data:
                    return old
            except OSError:
                continue
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, tmp = tempfile.mkstemp(prefix=f".{src.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        n = 0
        while True:
            dst = folder / (f"{src.name}.{stamp}.{suffix}" if n == 0 else f"{src.name}.{stamp}-{n}.{suffix}")
            n += 1
            try:
                os.link(tmp, dst)  # fails, rather than replaces, when dst exists
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system
                if os.path.lexists(dst):
                    continue
                os.replace(tmp, dst)
            return dst
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


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


def what_is_there(path: str | os.PathLike[str]) -> str:
    """What ``path`` names when it is there but is no regular file, in words ("a folder", "a named pipe
    (FIFO)", "a device"); "" when it is a regular file (or a symlink to one) or nothing is there."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISREG(mode):
        return ""
    return "a folder" if stat.S_ISDIR(mode) else _kind_of(mode)


def _open_without_waiting(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(fd, st_mode) of ``path`` opened for reading without waiting for a writer (a named pipe would
    block ``open`` for good); a folder raises IsADirectoryError, and the fd is closed then."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, mode


def read_piped_file(path: str | os.PathLike[str], *, wait: float = 5.0, limit: int = 16 * 1024 * 1024) -> bytes:
    """The bytes of ``path``: a regular file, or what a pipe or a device gives (``--kubeconfig <(sops
    -d …)`` is a pipe, ``/dev/null`` a device). Never blocks for good: a pipe nobody writes to reads
    as nothing; one whose writer sends nothing for ``wait`` seconds, or more than ``limit`` bytes (a
    device such as /dev/zero), raises :class:`NotRegularFileError` saying so."""
    import select

    fd, mode = _open_without_waiting(path)
    try:
        if stat.S_ISREG(mode):
            with os.fdopen(fd, "rb") as fh:
                fd = -1
                return fh.read()
        if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise NotRegularFileError(errno.EINVAL, f"{_kind_of(mode)}, not a file that can be read",
                                      os.fspath(path))
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:  # a writer is there but has sent nothing yet
                ready, _w, _x = select.select([fd], [], [], wait)
                if not ready:
                    raise NotRegularFileError(errno.ETIMEDOUT, f"{_kind_of(mode)} that sent nothing for "
                                              f"{wait:g} s", os.fspath(path)) from None
                continue
            if not chunk:
                if not chunks and stat.S_ISFIFO(mode):  # no writer, or one that wrote nothing
                    raise NotRegularFileError(errno.ENODATA, "a named pipe (FIFO) that nothing was written to",
                                              os.fspath(path))
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise NotRegularFileError(errno.EFBIG, f"{_kind_of(mode)} that gives more than "
                                          f"{limit // (1024 * 1024)} MB", os.fspath(path))
            chunks.append(chunk)
    finally:
        if fd >= 0:
            os.close(fd)


def read_capped_stream(path: str | os.PathLike[str] | int, limit: int) -> bytes:
    """The bytes of ``path`` as ``open`` and ``read`` give them (a named pipe waits for its writer, as
    ``<(...)`` needs), with no limit on a regular file; a pipe or a device, whose size is known only once
    it ends, gives at most ``limit`` bytes: one that gives more (``/dev/zero`` never ends, and was read
    until the system killed the process) raises :class:`NotRegularFileError` (errno EFBIG) saying so.
    A file descriptor (0, standard input) is read the same way and left open."""
    with open(path, "rb", closefd=not isinstance(path, int)) as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if stat.S_ISREG(mode):
            return fh.read()
        data = bytearray()
        while True:
            chunk = fh.read(min(1024 * 1024, limit + 1 - len(data)))
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > limit:
                raise NotRegularFileError(errno.EFBIG, f"{_kind_of(mode)} that gives more than "
                                          f"{_megabytes(limit)}", str(path) if isinstance(path, int) else os.fspath(path))


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size} bytes"


def read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, which must be a regular file (a symlink to one is fine).

    Never blocks on a named pipe or device: the file is opened without waiting and checked before
    anything is read. Raises IsADirectoryError for a folder, :class:`NotRegularFileError` for any
    other kind of file that is not regular, and OSError as ``open`` does (FileNotFoundError, ...)."""
    return read_regular_file_as_found(path)[0]


FileIdentity = tuple[int, int, int, int]


def file_identity(st: os.stat_result) -> FileIdentity:
    """What tells one version of a file from another: device, inode (an atomic write makes a new
    one), size and modification time."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def identity_of(path: str | os.PathLike[str]) -> FileIdentity | None:
    """:func:`file_identity` of what ``path`` names now (a symlink followed); None when nothing is there."""
    try:
        return file_identity(os.stat(path))
    except OSError:
        return None


def read_regular_file_as_found(path: str | os.PathLike[str]) -> tuple[bytes, FileIdentity]:
    """:func:`read_regular_file`, with the :func:`file_identity` of the very file read (taken from the
    open file, so a file replaced just after is not mistaken for it)."""
    fd, mode = _open_without_waiting(path)
    try:
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(errno.EINVAL, f"{_kind_of(mode)}, not a regular file", os.fspath(path))
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it now
            data = fh.read()
            return data, file_identity(os.fstat(fh.fileno()))
    finally:
        if fd >= 0:
            os.close(fd)
