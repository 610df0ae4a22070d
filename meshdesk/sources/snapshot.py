"""Snapshot files: read and write ``{"name", "request", "samples", "inventory"?}`` JSON.

Every problem with a file becomes a ``SnapshotFileError`` (a ``ConfigError``) whose message names the
file and says what is wrong (missing, unreadable, too large for the app, not JSON, not a snapshot;
when writing, a ``SnapshotWriteError``: where and why it could not be written); a bad sample inside a
good file is skipped and counted instead (``Snapshot.warnings``). Files are written atomically.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import math
import os
import re
import stat
import zlib
from pathlib import Path

from meshdesk.fileio import (
    NotRegularFileError,
    ReadOnlyFileError,
    read_capped_stream,
    read_regular_file,
    write_atomic,
)
from meshdesk.mesh.snapshot import NewerFormatError, Snapshot, SnapshotFormatError
from meshdesk.mesh.words import short_words
from meshdesk.sources.base import SnapshotFileError, SnapshotWriteError

# The largest snapshot file the app opens. A snapshot of a big mesh is a few MB to a few tens (60 MB
# holds some 60 000 samples and reads in about a second), and the app writes them itself, so the
# limit is far above what it saves: it only keeps an absurd file (a disk image chosen by mistake)
# from taking many gigabytes of memory (opening one, the app's peak memory grows by about 4.5 times
# the file's size - measured on a 38 MB snapshot - so the limit still allows some 2.3 GB).
# The command line reads a regular file of any size.
APP_MAX_BYTES = 512 * 1024 * 1024
# The most the command line reads from a pipe or a device (``<(...)``, /dev/stdin), whose size is known
# only at its end: the app's limit, so that /dev/zero is refused instead of read until the system kills
# the process.
STREAM_MAX_BYTES = APP_MAX_BYTES
_PARSE_SHARING_FROM = 1024 * 1024  # characters of JSON parsed at once below this (a few ms)
_LEADING_SPACE = re.compile(r"[ \t\r\n]*")


_GZIP_MAGIC = b"\x1f\x8b"


class _TooLarge(Exception):
    pass


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _gunzip(data: bytes, limit: int | None) -> bytes:
    """The bytes ``data`` (gzip, one member or more) hold, at most ``limit`` of them (None: any number):
    more raises :class:`_TooLarge`. A stream cut short raises EOFError, damaged data OSError or zlib.error."""
    out = bytearray()
    with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as fh:
        while True:
            chunk = fh.read(4 * 1024 * 1024)
            if not chunk:
                return bytes(out)
            out += chunk
            if limit is not None and len(out) > limit:
                raise _TooLarge


# a snapshot is written as plain JSON (a name ending in .gz would hold what gunzip refuses)
GZIP_NAME_REFUSED = ("snapshots are written as plain JSON, so a name ending in .gz would not hold what it says: "
                     "name it .json (gzip it afterwards to make it smaller; meshdesk opens a .json.gz)")


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _hand_back(obj: dict[str, object]) -> dict[str, object]:
    return obj


def _whole_number(text: str) -> int:
    return int(text)


def load_snapshot(path: str | os.PathLike[str], *, regular_only: bool = False,
                  max_bytes: int | None = None, beside_ui: bool = False) -> Snapshot:
    """``regular_only``: refuse what is not a regular file (a named pipe would block until someone
    writes to it: the app asks this; the command line reads ``<(...)`` on purpose, up to
    :data:`STREAM_MAX_BYTES` from a pipe or a device). ``max_bytes``:
    refuse a larger file before reading it (the app's :data:`APP_MAX_BYTES`). ``beside_ui``: read on
    a thread beside a UI thread. Python's JSON parser holds the interpreter lock for the whole parse,
    which froze the window for as long (2-3 s for 60 MB); a big file is then parsed calling back into
    Python for each object and whole number, which lets the UI thread in between, for about twice
    the parse time.

    ``-`` is standard input (``gunzip -c s.json.gz | meshdesk graph --snapshot -``, as ``kubectl -f -``
    reads it; a pipe's limit), except for ``regular_only``: a file chosen in the app is a file.

    Every problem raises :class:`SnapshotFileError` (a ``ConfigError``), naming the file and what is
    wrong with it."""
    p = Path(path)
    stdin = not regular_only and os.fspath(path) == "-"  # it was "snapshot file - does not exist"

    def bad(reason: str, says: str) -> SnapshotFileError:
        """``reason``: what is wrong, for "Cannot open snapshot FILE: <reason>"; ``says``: the same as
        the rest of the sentence "snapshot file FILE <says>"."""
        if stdin:
            return SnapshotFileError("-", reason, f"the snapshot on standard input (-) {says}")
        return SnapshotFileError(str(p), reason, f"snapshot file {p} {says}")

    try:
        if stdin:
            if os.isatty(0):  # nobody is going to type a snapshot: said rather than waited for
                raise bad("standard input is a terminal", "cannot be read: standard input is a terminal (pipe "
                          "a snapshot into it, or name its file)")
            raw = read_capped_stream(0, STREAM_MAX_BYTES)
        elif max_bytes is not None:
            info = os.stat(p)
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                limit = _size_text(max_bytes)
                raise bad(f"it is too large ({_size_text(info.st_size)}; meshdesk opens snapshots of up to {limit})",
                          f"is too large to open ({_size_text(info.st_size)}; meshdesk opens snapshots of up to "
                          f"{limit})")
        if not stdin:
            raw = read_regular_file(p) if regular_only else read_capped_stream(p, STREAM_MAX_BYTES)
    except NotRegularFileError as e:
        if e.errno == errno.EFBIG:
            hint = "save it to a file first: a regular file is read whatever its size"
            raise bad(f"it is {e.strerror} ({hint})", f"is {e.strerror} ({hint})") from None
        raise bad(f"it is {e.strerror}", f"is {e.strerror}") from None
    except FileNotFoundError:
        raise bad("the file does not exist", "does not exist") from None
    except IsADirectoryError:
        raise bad("it is a folder, not a file", "is a directory, not a file") from None
    except PermissionError:
        raise bad("permission denied (the file may not be read)", "cannot be read: permission denied") from None
    except OSError as e:
        why = e.strerror or str(e)
        raise bad(f"it cannot be read: {why}", f"cannot be read: {why}") from None
    if raw[:2] == _GZIP_MAGIC:
        # a snapshot compressed with gzip (a big mesh's shrinks some tenfold): read as its JSON, by what it
        # holds rather than its name. Its JSON is held to the size the file would be held to uncompressed
        # (the app's limit; a pipe's), so a small file that expands without end is refused, not read.
        cap = max_bytes if max_bytes is not None else (None if regular_only or _is_regular(p) else STREAM_MAX_BYTES)
        try:
            raw = _gunzip(raw, cap)
        except _TooLarge:
            shown = _size_text(cap or 0)
            raise bad(f"it is too large (gzip-compressed, its JSON is over {shown}; meshdesk opens snapshots of up "
                      f"to {shown})", f"is too large to open (gzip-compressed, its JSON is over {shown}; meshdesk "
                      f"opens snapshots of up to {shown})") from None
        except (OSError, EOFError, zlib.error) as e:
            why = ("it ends before its compressed data does, so it may have been cut short (a copy or download "
                   "that did not finish)") if isinstance(e, EOFError) else f"its compressed data is damaged ({e})"
            raise bad(f"a gzip file that cannot be decompressed: {why}",
                      f"is a gzip file that cannot be decompressed: {why}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise bad(f"not UTF-8 text (byte {e.start}), so not a snapshot",
                  f"is not UTF-8 text (byte {e.start})") from None
    del raw
    start = _LEADING_SPACE.match(text)
    first = text[start.end():start.end() + 1] if start is not None else text[:1]
    if not first:
        raise bad("the file is empty", "is empty")
    if first == "[":  # a list is never a snapshot: said without parsing what may be a huge file
        problem = "the top level must be a JSON object with 'request' and 'samples'"
        raise bad(f"not a snapshot: {problem}", f"is not a snapshot: {problem}")
    try:
        if beside_ui and len(text) > _PARSE_SHARING_FROM:
            obj = json.loads(text, object_hook=_hand_back, parse_int=_whole_number)
        else:
            obj = json.loads(text)
    except json.JSONDecodeError as e:
        where = f"{e.msg} (line {e.lineno}, column {e.colno})"
        if first == "{" and (not text[-256:].rstrip().endswith("}") or e.pos >= len(text.rstrip())):
            # an object that never closes: a copy or download that did not finish, said as such (the
            # parser names only where a string or list it was in began). The parser running out of text
            # says it too: a file cut just after a sample's closing brace ends in a brace as a whole one does
            where += ("; the file ends before its JSON does, so it may have been cut short (a copy or "
                      "download that did not finish)")
        raise bad(f"not valid JSON: {where}", f"is not valid JSON: {where}") from None
    except RecursionError:
        raise bad("not a snapshot: JSON nested too deeply", "is not a snapshot: JSON nested too deeply") from None
    except ValueError:  # Python refuses whole numbers of more than 4300 digits
        raise bad("not a snapshot: a number in it is too long",
                  "is not a snapshot: a number in it is too long") from None
    del text
    try:
        snap = Snapshot.from_json(obj)
    except NewerFormatError as e:
        raise bad(str(e), f"cannot be opened: {e}") from None
    except (SnapshotFormatError, TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
        # what the file holds is quoted by its start and end: a graph type a megabyte long made a message a
        # megabyte long (one line of stderr; the app's dialog took seconds to lay it out)
        what = short_words(str(e))
        raise bad(f"not a snapshot: {what}", f"is not a snapshot: {what}") from None
    if not snap.name:
        snap.name = "stdin" if stdin else snapshot_stem(p)
    return snap


def snapshot_stem(path: str | os.PathLike[str]) -> str:
    """A snapshot file's name without its extension: ``shop`` of ``shop.json`` and of ``shop.json.gz``."""
    name = Path(path).name
    if name.lower().endswith(".gz") and len(name) > 3:
        name = name[:-3]
    return Path(name).stem


def save_snapshot(snapshot: Snapshot, path: str | os.PathLike[str]) -> None:
    """Write ``snapshot`` to ``path`` atomically (readers see the old file or the new one).

    JSON has no NaN or infinity: such sample values (Prometheus returns them, e.g. for a quantile of
    no requests) are written as the strings "NaN", "+Inf", "-Inf", which read back as the same floats
    (and are then skipped and counted by the graph like any non-finite value).

    A file that cannot be written raises :class:`SnapshotWriteError` saying where and why."""

    def cannot(reason: str) -> SnapshotWriteError:
        return SnapshotWriteError(str(path), reason, f"cannot write snapshot file {path}: {reason}")

    if Path(path).name.lower().endswith(".gz"):
        raise cannot(GZIP_NAME_REFUSED)
    obj = snapshot.to_json()
    for sample in obj.get("samples", []):
        value = sample.get("value")
        if isinstance(value, float) and not math.isfinite(value):
            sample["value"] = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    try:
        data = json.dumps(obj, indent=1, sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise cannot(str(e)) from None
    folder = Path(path).parent
    blocking = next((f for f in (folder, *folder.parents) if f.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise cannot(f"{blocking} is a file, not a folder")
    if not folder.is_dir():  # a mistyped folder is said, not made
        raise cannot(f"the folder {folder} does not exist")
    try:
        mode = os.stat(path).st_mode  # through a symlink: what would be replaced
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise cannot("it is a folder: give a file name in it")
    if mode is not None and not stat.S_ISREG(mode):  # a pipe or a device is not replaced by a file
        raise cannot("it is not a regular file")
    try:
        write_atomic(path, data + "\n", mode=None, make_parents=False)
    except ReadOnlyFileError:
        raise cannot("the file is read-only, so it was left as it was (make it writable, or choose another "
                     "name)") from None
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            raise cannot(f"permission denied: you may not write in the folder {folder}") from None
        if e.errno == errno.EROFS:
            raise cannot(f"the folder {folder} is on a read-only file system") from None
        if e.errno == errno.ENOSPC:
            raise cannot(f"no space left on the disk of {folder}") from None
        raise cannot(e.strerror or str(e)) from None
