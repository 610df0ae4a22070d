"""Saved node positions per view, so a graph the user arranged looks the same when it opens again
(also in a new process). No Qt.

A view is a :class:`LayoutKey`: (context, sorted namespace set, graph type). All views of one context
live in one JSON file under :func:`meshdesk.store.paths.layouts_dir`::

    {"schema_version": 1, "context": "kind-mesh",
     "views": {"versionedApp|bookinfo,istio-system": {
         "namespaces": ["bookinfo", "istio-system"], "graph_type": "versionedApp",
         "positions": {"<node id>": [x, y], ...}, "saved_at": "2026-11-27T05:01:02Z"}}}

Positions are keyed by node id (``meshdesk.mesh.graph.model.node_id``), which is stable across
refreshes and processes. Every write is atomic and re-reads the file first under a lock on it, so two
windows on the same context do not undo each other's views (and a window saves only the nodes it
moved, :meth:`LayoutStore.update`). A file that cannot be read (not JSON, nested too
deeply, a position that is no finite number or lies farther out than :data:`MAX_COORDINATE`, a named
pipe instead of a file...), or that a newer
meshdesk wrote, is moved aside with a message in :attr:`LayoutStore.warnings`, never overwritten; an
older schema is migrated.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshdesk.fileio import (
    FileIdentity,
    NotRegularFileError,
    identity_of,
    locked,
    move_aside,
    read_regular_file,
    read_regular_file_as_found,
    write_atomic,
)
from meshdesk.mesh.words import quoted_name
from meshdesk.store import paths

SCHEMA_VERSION = 1
EXPORT_KIND = "meshdesk-layout"
OTHER_CONTEXT = "other-context"  # a file found under this context's name that records another context

Positions = dict[str, tuple[float, float]]

# How far from the origin a saved position may lie, in scene units (a node is about 100 wide). Far beyond
# any drawn graph, and far inside what the canvas can turn into grid cells, pixels and whole numbers:
# a finite 1e308 overflowed there (to infinity) at every start.
MAX_COORDINATE = 1e7


class LayoutFormatError(ValueError):
    """A layout file's content is not what we write; the message says what is wrong."""


@dataclass(frozen=True)
class LayoutKey:
    """One view of the mesh: the context, the namespaces shown (kept sorted and unique) and the
    graph type."""

    context: str
    namespaces: tuple[str, ...]
    graph_type: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "namespaces", tuple(sorted(set(self.namespaces))))

    @property
    def view_name(self) -> str:
        """The key of this view inside its context's file."""
        return f"{self.graph_type}|{','.join(self.namespaces)}"

    def to_json(self) -> dict[str, Any]:
        return {"context": self.context, "namespaces": list(self.namespaces), "graph_type": self.graph_type}

    @staticmethod
    def from_json(obj: Any) -> LayoutKey:
        if not isinstance(obj, Mapping):
            raise LayoutFormatError("'key' must be an object with context, namespaces and graph_type")
        context, namespaces, graph_type = obj.get("context"), obj.get("namespaces"), obj.get("graph_type")
        if not isinstance(context, str):
            raise LayoutFormatError("'key.context' must be a string")
        if not isinstance(namespaces, list) or not all(isinstance(n, str) for n in namespaces):
            raise LayoutFormatError("'key.namespaces' must be a list of strings")
        if not isinstance(graph_type, str) or not graph_type:
            raise LayoutFormatError("'key.graph_type' must be a non-empty string")
        return LayoutKey(context, tuple(namespaces), graph_type)


def _file_name(context: str, *, case_safe: bool = True) -> str:
    clean = paths.sanitize(context)
    if clean != context or (case_safe and clean != clean.lower()):
        clean = f"{clean}-{hashlib.blake2b(context.encode('utf-8'), digest_size=4).hexdigest()}"
    return f"{clean}.json"


def layout_file(context: str) -> Path:
    """The file holding every saved view of ``context``. A name that had to be cleaned, or that has
    capitals, gets a short hash of the original, so two contexts never share a file - not even on a file
    system that ignores case (macOS, Windows), where "Prod" and "prod" would name one file."""
    return paths.layouts_dir() / _file_name(context)


def _earlier_layout_file(context: str) -> Path | None:
    """Where earlier versions kept ``context``'s views when that is not :func:`layout_file` (a name with
    capitals had no hash), else None."""
    earlier = paths.layouts_dir() / _file_name(context, case_safe=False)
    return earlier if earlier != layout_file(context) else None


def _recorded_context(doc: Mapping[str, Any]) -> str:
    recorded = doc.get("context")
    return recorded if isinstance(recorded, str) else ""


def _coordinate(value: Any) -> float | None:
    """``value`` as a float when it is a JSON number usable as a position (not bool, NaN, infinite, a
    whole number too big for a float, or farther out than :data:`MAX_COORDINATE`), else None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # a whole number with hundreds of digits
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_COORDINATE else None


def _positions_from_json(raw: Any, where: str) -> Positions:
    if not isinstance(raw, Mapping):
        raise LayoutFormatError(f"{where} must be an object of node id -> [x, y]")
    out: Positions = {}
    for nid, xy in raw.items():
        x: float | None = None
        y: float | None = None
        if isinstance(nid, str) and isinstance(xy, list | tuple) and len(xy) == 2:
            x, y = _coordinate(xy[0]), _coordinate(xy[1])
        if x is None or y is None:
            raise LayoutFormatError(
                f"{where}: the position of {quoted_name(nid)} must be [x, y] with finite numbers between "
                f"{-MAX_COORDINATE:,.0f} and {MAX_COORDINATE:,.0f}, not {_shown(xy)}"
            )
        out[nid] = (x, y)
    return out


IDENTITY_FIELDS = 10  # a node's identity as model.node_id takes it: type, cluster, namespace, workload, app...


def _identities_from_json(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    """An export's ``identities`` (node id -> what the node is, as ``model.node_id`` takes it); absent in
    files of earlier versions."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise LayoutFormatError(f"{where} must be an object of node id -> the node's identity")
    out: dict[str, tuple[str, ...]] = {}
    for nid, ident in raw.items():
        if not (isinstance(nid, str) and isinstance(ident, list) and len(ident) == IDENTITY_FIELDS
                and all(isinstance(v, str) for v in ident)):
            raise LayoutFormatError(f"{where}: the identity of {quoted_name(str(nid))} must be a list of "
                                    f"{IDENTITY_FIELDS} texts, not {_shown(ident)}")
        out[nid] = tuple(ident)
    return out


@dataclass(frozen=True)
class LayoutExport:
    """A layout file as read: the view it was exported from, its positions, and (from this version on)
    what each node is, so that a layout exported in one cluster's context places the same nodes in
    another's (node ids carry the cluster)."""

    key: LayoutKey
    positions: Positions
    identities: dict[str, tuple[str, ...]]


def _shown(value: Any, limit: int = 60) -> str:
    """A value from a file, short enough for a message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _positions_to_json(positions: Mapping[str, Iterable[float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for nid, xy in positions.items():
        x, y = (float(v) for v in xy)
        if _coordinate(x) is None or _coordinate(y) is None:  # written now, refused when read
            raise ValueError(f"position of {nid!r} is not finite or too far out: {x}, {y}")
        out[str(nid)] = [round(x, 2), round(y, 2)]
    return out


def _migrate_0(doc: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (first drafts, no ``schema_version``): ``{"views": {name: {node id: [x, y]}}}``."""
    views = {}
    raw = doc.get("views")
    if not isinstance(raw, Mapping):
        raise LayoutFormatError("'views' must be an object")
    for name, positions in raw.items():
        gt, _, ns = str(name).partition("|")
        views[str(name)] = {
            "graph_type": gt,
            "namespaces": [n for n in ns.split(",") if n],
            "positions": positions,
            "saved_at": "",
        }
    return {"schema_version": 1, "context": doc.get("context", ""), "views": views}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0}


def _validate(doc: Any) -> dict[str, Any]:
    """Bring a parsed file to the current schema and check it; raises LayoutFormatError."""
    if not isinstance(doc, dict):
        raise LayoutFormatError("the top level must be a JSON object")
    version = doc.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise LayoutFormatError(f"'schema_version' must be a whole number, not {_shown(version)}")
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["schema_version"]
    views = doc.get("views")
    if not isinstance(views, dict):
        raise LayoutFormatError("'views' must be an object")
    for name, view in views.items():
        if not isinstance(view, dict):
            raise LayoutFormatError(f"view {quoted_name(name)} must be an object")
        namespaces = view.get("namespaces")
        if namespaces is not None and (not isinstance(namespaces, list)
                                       or not all(isinstance(n, str) for n in namespaces)):
            raise LayoutFormatError(f"view {quoted_name(name)}: 'namespaces' must be a list of strings")
        if view.get("graph_type") is not None and not isinstance(view["graph_type"], str):
            raise LayoutFormatError(f"view {quoted_name(name)}: 'graph_type' must be a string")
        view["positions"] = _positions_from_json(view.get("positions"), f"view {quoted_name(name)}")
    checked: dict[str, Any] = doc
    return checked


class NewerSchemaError(LayoutFormatError):
    pass


class LayoutSaveError(OSError):
    """A layout could not be written; the message says so in the user's words, naming the layouts
    folder (not the temporary or lock file the system named)."""


def _save_error(e: OSError, context: str) -> LayoutSaveError:
    folder = layout_file(context).parent
    reason = e.strerror or str(e)
    if isinstance(e, LayoutSaveError):
        return e
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        text = f"the layouts folder {folder} cannot be written to ({reason})"
    elif e.errno in (errno.ENOSPC, errno.EDQUOT):
        text = f"there is no room left for the layouts folder {folder} ({reason})"
    elif e.errno in (errno.ENOTDIR, errno.EEXIST) and not folder.is_dir():
        text = f"the layouts folder {folder} cannot be made: something else is in its place ({reason})"
    else:
        text = f"{reason}: {e.filename}" if e.filename else f"{reason} (in the layouts folder {folder})"
    err = LayoutSaveError(text)
    err.errno = e.errno
    return err


def _empty(context: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "context": context, "views": {}}


def _move_if_free(src: Path, dst: Path) -> bool:
    """Move ``src`` to ``dst`` unless ``dst`` exists (never overwritten); True when moved."""
    try:
        os.link(src, dst)  # fails when dst exists: nothing is overwritten, even by a race
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network and FAT file systems)
        if os.path.lexists(dst):
            return False
        try:
            os.replace(src, dst)
        except OSError:
            return False
        return True
    try:
        os.unlink(src)
    except OSError:
        pass
    return True


class LayoutStore:
    """Saved layouts of every context; reads and writes the per-context files on each call (the
    files are small), so several stores and processes see each other's saves."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    # ---- reading

    def _read(self, context: str, *, lock_held: bool = False) -> dict[str, Any]:
        """The current content for ``context`` (empty when there is none). An unusable file is moved
        aside with a warning, and reading starts fresh.

        It is moved aside only under the context's lock (``lock_held``: the caller holds it) and only if
        it is still the very file found unusable: another process starting on the same damaged file
        may have moved it aside first and saved a good one in its place, which must not be taken for
        the damaged one (nor the missing file for a failure to move it)."""
        path = layout_file(context)
        self._adopt_earlier(context, path, lock_held=lock_held)
        doc, problem = self._parse(path, context)
        if problem is None:
            return doc
        if lock_held:
            return self._read_again_and_set_aside(path, context, problem)
        with locked(path, required=False):
            doc, problem = self._parse(path, context)  # what it is now that no one else may change it
            if problem is None:
                return doc
            return self._read_again_and_set_aside(path, context, problem)

    def _read_again_and_set_aside(self, path: Path, context: str,
                                  problem: tuple[str, str, FileIdentity | None]) -> dict[str, Any]:
        """Move aside the unusable file ``problem`` describes, unless what is at ``path`` now is another
        file: then that one is read (a few times at most; each a newer file than the last)."""
        for _attempt in range(3):
            if self._set_aside(path, context, *problem):
                break
            doc, found = self._parse(path, context)
            if found is None:
                return doc
            problem = found
        return _empty(context)

    def _parse(self, path: Path, context: str) -> tuple[dict[str, Any], tuple[str, str, FileIdentity | None] | None]:
        """``(content, None)``, or ``(empty content, (reason, why, identity))`` for a file that cannot be
        used: the reason it would be set aside for, what is wrong in words, and which file that is."""
        empty = _empty(context)
        try:
            raw, ident = read_regular_file_as_found(path)  # checked first: a named pipe would block
            text = raw.decode("utf-8-sig")
        except FileNotFoundError:
            return empty, None
        except NotRegularFileError as e:
            return empty, ("unreadable", f"it is {e.strerror}", identity_of(path))
        except UnicodeDecodeError:
            return empty, ("unreadable", "it could not be read (it is not UTF-8 text)", ident)
        except OSError as e:  # in words ("Is a directory"), not Python's "[Errno 21] ...: '<path>'"
            return empty, ("unreadable", f"it could not be read ({e.strerror or e})", identity_of(path))
        try:
            doc = json.loads(text)
            version = doc.get("schema_version", 0) if isinstance(doc, dict) else 0
            if isinstance(version, int) and version > SCHEMA_VERSION:
                raise NewerSchemaError(
                    f"it was written by a newer meshdesk (layout schema {version}, this one reads up to "
                    f"{SCHEMA_VERSION})"
                )
            checked = _validate(doc)
            owner = _recorded_context(checked)
            if owner and owner != context:
                # a file system that ignores case gave us the file of a context whose name differs only in
                # case, which earlier versions named alike: not ours to read, nor to overwrite
                return empty, (OTHER_CONTEXT, owner, ident)
            return checked, None
        except NewerSchemaError as e:
            return empty, ("newer", str(e), ident)
        except RecursionError:  # json.loads on lists or objects nested thousands deep
            return empty, ("corrupt", "its content is not a layout file (nested too deeply)", ident)
        except (ValueError, KeyError, OverflowError) as e:
            # JSONDecodeError, LayoutFormatError and a number too long to convert are ValueErrors
            return empty, ("corrupt", f"its content is not a layout file ({e})", ident)

    def _set_aside(self, path: Path, context: str, reason: str, why: str, seen: FileIdentity | None) -> bool:
        """Move the unusable file at ``path`` aside (with a warning); True when it is set aside or gone,
        False when ``path`` is no longer the file ``seen`` (nothing moved: the caller reads it)."""
        now = identity_of(path)
        if now is None and not os.path.lexists(path):
            return True  # set aside by another process meanwhile (which told its user)
        if seen is not None and now != seen:
            return False
        if reason == OTHER_CONTEXT:
            if self._give_back(path, context, owner=why):
                return True
            why = (f"the file holds those of context {quoted_name(why)} (their names differ only in case, which this file "
                   "system ignores)")
        try:
            dst = move_aside(path, reason)
        except FileNotFoundError:
            return True
        except OSError as e:
            self.warnings.append(
                f"Saved layouts for context {context!r} in {path} are not usable: {why}; moving the file "
                f"aside failed too ({e}), so layouts of this context will not be saved."
            )
            raise OSError(f"cannot move {path} aside: {e}") from e
        self.warnings.append(
            f"Saved layouts for context {context!r} were not usable: {why}. The file was kept as "
            f"{dst}; node positions start fresh."
        )
        return True

    def _adopt_earlier(self, context: str, path: Path, *, lock_held: bool) -> None:
        """Views an earlier version saved for ``context`` under the name it gave them (without the hash a
        name with capitals gets now) are moved to :func:`layout_file`, when that file does not exist yet
        and the earlier one records this very context."""
        earlier = _earlier_layout_file(context)
        if earlier is None or os.path.lexists(path) or not os.path.lexists(earlier):
            return
        doc, problem = self._parse(earlier, context)
        if problem is not None or _recorded_context(doc) != context:
            return  # another context's file (its name differs only in case), or one it moves aside itself
        if lock_held:
            _move_if_free(earlier, path)
            return
        with locked(path, required=False):
            _move_if_free(earlier, path)

    def _give_back(self, path: Path, context: str, *, owner: str) -> bool:
        """Move the file found at ``path`` for ``context``, which records ``owner``, to ``owner``'s own file
        when that is free (True); else it is set aside like any file that cannot be used."""
        target = layout_file(owner)
        try:
            if target.exists() and os.path.samefile(target, path):
                return False
        except OSError:
            return False
        if not _move_if_free(path, target):
            return False
        self.warnings.append(
            f"Saved layouts of context {quoted_name(owner)} were found where those of {context!r} belong (their names "
            f"differ only in case, which this file system ignores); they were moved to {target.name}, and "
            f"{context!r} keeps its own from now on."
        )
        return True

    def load(self, key: LayoutKey) -> Positions:
        """Saved positions of this view; empty when nothing was saved."""
        try:
            doc = self._read(key.context)
        except OSError:
            return {}
        view = doc["views"].get(key.view_name)
        return dict(view["positions"]) if view else {}

    def views(self, context: str) -> list[LayoutKey]:
        """Every saved view of ``context``."""
        try:
            doc = self._read(context)
        except OSError:
            return []
        out = []
        for name, view in doc["views"].items():
            gt, _, ns = name.partition("|")
            out.append(LayoutKey(context, tuple(view.get("namespaces") or [n for n in ns.split(",") if n]),
                                 view.get("graph_type") or gt))
        return out

    # ---- writing

    def _write(self, context: str, doc: dict[str, Any]) -> None:
        out = {
            "schema_version": SCHEMA_VERSION,
            "context": context,
            "views": {
                name: {**view, "positions": _positions_to_json(view["positions"])}
                for name, view in sorted(doc["views"].items())
            },
        }
        write_atomic(layout_file(context), json.dumps(out, indent=1, sort_keys=False) + "\n")

    def save(self, key: LayoutKey, positions: Mapping[str, Iterable[float]]) -> None:
        """Replace this view's saved positions (atomically; other views of the context are kept)."""
        self._store(key, positions, replace=True)

    def update(self, key: LayoutKey, changed: Mapping[str, Iterable[float]],
               placed: Mapping[str, Iterable[float]] | None = None) -> Positions:
        """Save the positions of the nodes in ``changed`` and keep the other nodes' saved ones, so what
        one window moved does not undo what another window moved meanwhile; the positions in ``placed``
        (where a layout put nodes, not the user) are saved only for nodes with no saved position.
        Returns the view's positions as saved now."""
        return self._store(key, changed, replace=False, placed=placed or {})

    def _store(self, key: LayoutKey, positions: Mapping[str, Iterable[float]], *, replace: bool,
               placed: Mapping[str, Iterable[float]] | None = None) -> Positions:
        clean = {nid: tuple(float(v) for v in xy) for nid, xy in positions.items()}
        # read, change and write under the context's lock, so two processes saving at once keep both
        try:
            with locked(layout_file(key.context), required=False):
                doc = self._read(key.context, lock_held=True)
                old = doc["views"].get(key.view_name)
                if not replace:
                    fill = {nid: tuple(float(v) for v in xy) for nid, xy in (placed or {}).items()}
                    clean = {**fill, **(old["positions"] if old else {}), **clean}
                doc["views"][key.view_name] = {
                    "namespaces": list(key.namespaces),
                    "graph_type": key.graph_type,
                    "positions": clean,
                    "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
                self._write(key.context, doc)
        except OSError as e:
            raise _save_error(e, key.context) from e
        return {nid: (xy[0], xy[1]) for nid, xy in clean.items()}

    def reset(self, key: LayoutKey) -> Positions:
        """Forget this view's positions (the next open lays it out afresh); returns them, as they were
        saved, so that the reset can be undone (:meth:`update` with them)."""
        path = layout_file(key.context)
        self._adopt_earlier(key.context, path, lock_held=False)
        if not path.exists():
            return {}
        try:
            with locked(path, required=False):
                doc = self._read(key.context, lock_held=True)
                view = doc["views"].pop(key.view_name, None)
                if view is not None:
                    self._write(key.context, doc)
        except OSError as e:
            raise _save_error(e, key.context) from e
        return dict(view["positions"]) if view is not None else {}

    # ---- sharing

    def export_layout(self, key: LayoutKey, path: str | Path,
                      positions: Mapping[str, Iterable[float]] | None = None,
                      identities: Mapping[str, Iterable[str]] | None = None) -> int:
        """Write ``positions`` (default: this view's saved ones) to ``path`` as a standalone file for
        ``key``; returns how many nodes it holds. ``identities``: what each node is (as ``model.node_id``
        takes it), written for the nodes placed, so another cluster's same nodes can be found by them."""
        if positions is None:
            positions = self.load(key)
        doc: dict[str, Any] = {
            "kind": EXPORT_KIND,
            "schema_version": SCHEMA_VERSION,
            "key": key.to_json(),
            "positions": _positions_to_json(positions),
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if identities:
            doc["identities"] = {nid: [str(v) for v in identities[nid]] for nid in positions if nid in identities}
        write_atomic(path, json.dumps(doc, indent=1) + "\n", mode=None, make_parents=False)
        return len(positions)

    @staticmethod
    def read_export(path: str | Path) -> tuple[LayoutKey, Positions]:
        """Read and check a file written by :meth:`export_layout`: ``(the view it was exported from,
        positions)``. Nothing is saved: the caller applies the positions where the user asked (the
        file's own view may be someone else's context). Raises :class:`LayoutFormatError` with a
        clear message."""
        found = LayoutStore.read_export_file(path)
        return found.key, found.positions

    @staticmethod
    def read_export_file(path: str | Path) -> LayoutExport:
        """:meth:`read_export`, with the nodes' identities the file holds (none in earlier versions')."""
        try:
            text = read_regular_file(path).decode("utf-8-sig")  # checked first: a named pipe would block
        except NotRegularFileError as e:
            raise LayoutFormatError(f"cannot read {path}: it is {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise LayoutFormatError(f"cannot read {path}: it is not UTF-8 text") from e
        except OSError as e:  # in words ("Is a directory"), not Python's "[Errno 21] ...: '<path>'"
            raise LayoutFormatError(f"cannot read {path}: {e.strerror or e}") from e
        try:
            doc = json.loads(text)
        except RecursionError as e:
            raise LayoutFormatError(f"{path} is not a layout: it is nested too deeply") from e
        except ValueError as e:  # also a number too long to convert
            raise LayoutFormatError(f"{path} is not JSON: {e}") from e
        if isinstance(doc, dict) and "request" in doc and "samples" in doc and doc.get("kind") != EXPORT_KIND:
            raise LayoutFormatError(f"{path} is a snapshot, not a layout export: File > Open snapshot opens it, "
                                    "with the nodes where they were arranged when it was saved")
        if not isinstance(doc, dict) or doc.get("kind") != EXPORT_KIND:
            raise LayoutFormatError(f"{path} is not a meshdesk layout export (no \"kind\": \"{EXPORT_KIND}\")")
        version = doc.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise LayoutFormatError(f"{path} has no valid 'schema_version'")
        if version > SCHEMA_VERSION:
            raise LayoutFormatError(
                f"{path} was written by a newer meshdesk (layout schema {version}; this one reads up to "
                f"{SCHEMA_VERSION})"
            )
        key = LayoutKey.from_json(doc.get("key"))
        positions = _positions_from_json(doc.get("positions"), f"{path}: 'positions'")
        identities = _identities_from_json(doc.get("identities"), f"{path}: 'identities'")
        return LayoutExport(key, positions, identities)


# A snapshot saved from the window carries the arrangement of its graph (the nodes the user placed), in
# its ``meta`` under this key, so that whoever opens it (a colleague, or oneself in another window or
# after the file was moved) finds the nodes where they were when it was saved.
SNAPSHOT_META_KEY = "layout"


def carried_layout(key: LayoutKey, positions: Mapping[str, Iterable[float]]) -> dict[str, Any]:
    """What a snapshot carries of the view ``key`` arranged as ``positions`` (its context is left out:
    the file is opened under its own)."""
    return {"graphType": key.graph_type, "namespaces": list(key.namespaces),
            "positions": _positions_to_json(positions)}


def read_carried_layout(raw: Any, context: str) -> tuple[LayoutKey, Positions] | None:
    """The view and positions a snapshot carries (:func:`carried_layout`), as ``context``'s; None when it
    carries none, or something else (a snapshot is someone else's file: what cannot be used is left out,
    and the graph is laid out as any other)."""
    if not isinstance(raw, Mapping):
        return None
    graph_type, namespaces = raw.get("graphType"), raw.get("namespaces")
    if not isinstance(graph_type, str) or not graph_type or not isinstance(namespaces, list) \
            or not all(isinstance(n, str) for n in namespaces):
        return None
    try:
        positions = _positions_from_json(raw.get("positions"), "the snapshot's layout")
    except LayoutFormatError:
        return None
    return (LayoutKey(context, tuple(namespaces), graph_type), positions) if positions else None
