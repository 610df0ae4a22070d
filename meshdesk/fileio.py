"""Atomic file writes and moving unreadable files aside. Standard library only; used by every layer."""

from __future__ import annotations

import contextlib
import os
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
