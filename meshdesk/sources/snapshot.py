"""Snapshot files: read and write ``{"name", "request", "samples", "inventory"?}`` JSON.

Every problem with a file becomes a ``ConfigError`` whose message names the file and says what is
wrong (missing, unreadable, not JSON, not a snapshot); a bad sample inside a good file is skipped and
counted instead (``Snapshot.warnings``). Files are written atomically.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

from meshdesk.fileio import NotRegularFileError, read_regular_file, write_atomic
from meshdesk.mesh.snapshot import Snapshot, SnapshotFormatError
from meshdesk.sources.base import ConfigError


def load_snapshot(path: str | os.PathLike[str], *, regular_only: bool = False) -> Snapshot:
    """``regular_only``: refuse what is not a regular file (a named pipe would block until someone
    writes to it: the app asks this; the command line reads ``<(...)`` on purpose)."""
    p = Path(path)
    try:
        raw = read_regular_file(p) if regular_only else p.read_bytes()
    except NotRegularFileError as e:
        raise ConfigError(f"snapshot file {p} is {e.strerror}") from None
    except FileNotFoundError:
        raise ConfigError(f"snapshot file {p} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"snapshot file {p} is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(f"snapshot file {p} cannot be read: permission denied") from None
    except OSError as e:
        raise ConfigError(f"snapshot file {p} cannot be read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"snapshot file {p} is not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise ConfigError(f"snapshot file {p} is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"snapshot file {p} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") \
            from None
    except RecursionError:
        raise ConfigError(f"snapshot file {p} is not a snapshot: JSON nested too deeply") from None
    except ValueError:  # Python refuses whole numbers of more than 4300 digits
        raise ConfigError(f"snapshot file {p} is not a snapshot: a number in it is too long") from None
    try:
        snap = Snapshot.from_json(obj)
    except SnapshotFormatError as e:
        raise ConfigError(f"snapshot file {p} is not a snapshot: {e}") from None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
        raise ConfigError(f"snapshot file {p} is not a snapshot: {e}") from None
    if not snap.name:
        snap.name = p.stem
    return snap


def save_snapshot(snapshot: Snapshot, path: str | os.PathLike[str]) -> None:
    """Write ``snapshot`` to ``path`` atomically (readers see the old file or the new one).

    JSON has no NaN or infinity: such sample values (Prometheus returns them, e.g. for a quantile of
    no requests) are written as the strings "NaN", "+Inf", "-Inf", which read back as the same floats
    (and are then skipped and counted by the graph like any non-finite value)."""
    obj = snapshot.to_json()
    for sample in obj.get("samples", []):
        value = sample.get("value")
        if isinstance(value, float) and not math.isfinite(value):
            sample["value"] = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    try:
        data = json.dumps(obj, indent=1, sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"cannot write snapshot file {path}: {e}") from None
    folder = Path(path).parent
    blocking = next((f for f in (folder, *folder.parents) if f.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ConfigError(f"cannot write snapshot file {path}: {blocking} is a file, not a folder")
    if not folder.is_dir():  # a mistyped folder is said, not made
        raise ConfigError(f"cannot write snapshot file {path}: the folder {folder} does not exist")
    try:
        mode = os.stat(path).st_mode  # through a symlink: what would be replaced
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):  # a pipe or a device is not replaced by a file
        raise ConfigError(f"cannot write snapshot file {path}: it is not a regular file")
    try:
        write_atomic(path, data + "\n", mode=None, make_parents=False)
    except OSError as e:
        raise ConfigError(f"cannot write snapshot file {path}: {e.strerror or e}") from None
