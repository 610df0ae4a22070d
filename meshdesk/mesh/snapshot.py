"""A snapshot: one graph request, its telemetry samples and (optionally) the inventory, as plain data.

The on-disk format is the one of ``../shared/conformance/kiali/cases`` (see the README there):
``{"name", "request", "samples": [{"metric", "labels", "value"}], "inventory"?: {...}}``.
Reading and writing files lives in ``meshdesk.sources.snapshot``; this module only converts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings

FORMAT_VERSION = 1
# The deepest lists/objects nest in a snapshot: meshdesk's own go about a dozen levels (an Istio
# object's spec). Far deeper data can still be parsed, but copying or writing it again (dataclasses,
# the YAML and JSON writers) recurses a few frames per level and exhausts Python's stack.
MAX_NESTING = 64
# How far apart (seconds) the moment of a snapshot's telemetry and the reading of its inventory may be
# before a reader is told: a snapshot saved while replaying holds the traffic of the replayed moment and
# the workloads and Istio config as they were read then, now. A live read takes both within seconds.
INVENTORY_APART_S = 60


class SnapshotFormatError(ValueError):
    """The snapshot's content is not what a snapshot holds; the message says what is wrong."""


class NewerFormatError(SnapshotFormatError):
    """A snapshot written by a newer meshdesk, in a format this one does not read."""


@dataclass
class Snapshot:
    request: GraphRequest
    samples: list[Sample]
    inventory: Inventory | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # context, prometheus path, taken-at ...
    warnings: SampleWarnings = field(default_factory=SampleWarnings)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "formatVersion": FORMAT_VERSION,
            "request": self.request.to_json(),
            "samples": [s.to_json() for s in self.samples],
        }
        if self.meta:
            out["meta"] = self.meta
        if self.inventory is not None:
            out["inventory"] = self.inventory.to_json()
        return out

    @staticmethod
    def from_json(obj: Any) -> Snapshot:
        if not isinstance(obj, Mapping):
            raise SnapshotFormatError("the top level must be a JSON object with 'request' and 'samples'")
        deep = _nested_too_deeply(obj, MAX_NESTING)
        if deep is not None:
            raise SnapshotFormatError(f"it nests lists and objects more than {MAX_NESTING} levels deep, at {deep}")
        version = obj.get("formatVersion")
        if version is not None and (type(version) is not int or version < 1):
            # meshdesk writes a whole number; 2.0 or "2" is no file of ours, and read as format 1 it was
            # misread without a word (a newer format taken for this one). Not guessed at either way.
            shown = repr(version) if len(repr(version)) <= 40 else f"{repr(version)[:20]}..."
            raise SnapshotFormatError(f"its 'formatVersion' must be a whole number from 1 (this meshdesk writes "
                                      f"{FORMAT_VERSION}), not {shown}")
        if version is not None and version > FORMAT_VERSION:
            raise NewerFormatError(f"it was written by a newer meshdesk (format {version}; this one reads "
                                   f"format {FORMAT_VERSION}): update meshdesk to open it")
        other = _another_kind_of_file(obj)
        if other:
            raise SnapshotFormatError(other)
        if "request" not in obj:
            raise SnapshotFormatError("it has no 'request'")
        try:
            request = GraphRequest.from_json(obj["request"])
        except (TypeError, ValueError, OverflowError) as e:
            raise SnapshotFormatError(f"its 'request' is invalid: {e}") from e
        raw = obj.get("samples")
        if not isinstance(raw, list):
            raise SnapshotFormatError("'samples' must be a list")
        warnings = SampleWarnings()
        samples: list[Sample] = []
        for item in raw:
            try:
                samples.append(Sample.from_json(item))
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
                warnings.add("malformed sample (needs a metric, labels with text values and a numeric value)")
        inventory = None
        if obj.get("inventory") is not None:
            try:
                inventory = Inventory.from_json(obj["inventory"])
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                raise SnapshotFormatError(f"its 'inventory' is invalid: {e}") from e
        meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
        return Snapshot(request, samples, inventory, str(obj.get("name") or ""), dict(meta or {}), warnings)


def moment_of(value: Any) -> float | None:
    """A time a snapshot's ``meta`` records (``takenAt``, ``inventoryAt``) as unix seconds: a number, or an
    ISO time with its zone ("2026-11-28T01:47:55Z"); None when there is none or it cannot be read (a
    time without a zone is some machine's local time)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value > 0 else None
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return None
    return at.timestamp() if at.tzinfo is not None else None


def moment_text(seconds: float) -> str:
    """A moment as a person reads it: "2026-11-28 01:47 UTC"."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def inventory_read_apart(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    """When a snapshot's inventory was read at another time than its telemetry is of (more than
    :data:`INVENTORY_APART_S` apart: one saved while replaying), the two as a person reads them
    (telemetry's, inventory's); None when they agree or either is not recorded."""
    taken = moment_of(meta.get("takenAt") or meta.get("taken_at"))
    read = moment_of(meta.get("inventoryAt"))
    if taken is None or read is None or abs(read - taken) <= INVENTORY_APART_S:
        return None
    try:
        return moment_text(taken), moment_text(read)
    except (OverflowError, OSError, ValueError):
        return None


_DRAWN_NOT_TELEMETRY = ("which holds the graph as it was drawn, not the telemetry it was drawn from: open the "
                        "snapshot it was made from (File > Save snapshot, `meshdesk graph --save-snapshot` save one)")


def _another_kind_of_file(obj: Mapping[str, Any]) -> str:
    """What another file meshdesk writes (or Kiali gives) that is no snapshot is, in words; "" otherwise.
    A folder of *.json files holds them side by side, and "it has no 'request'" did not say which file
    had been picked, nor where it belongs."""
    if obj.get("kind") == "meshdesk-layout":
        return "it is a layout exported by meshdesk (Layout > Export layout); Layout > Import layout applies it"
    if obj.get("format") == "meshdesk-graph":
        return f"it is a graph written by `meshdesk graph --format json`, {_DRAWN_NOT_TELEMETRY}"
    if "request" not in obj and isinstance(obj.get("elements"), Mapping):
        return ("it is a graph in Kiali's JSON (Kiali's graph API, `meshdesk graph --format kiali`), "
                f"{_DRAWN_NOT_TELEMETRY}")
    return ""


def _nested_too_deeply(obj: Any, limit: int) -> str | None:
    """Where ``obj`` first nests lists/objects more than ``limit`` levels deep (``request.extra.a.a…``),
    or None. A first pass only measures the depth, stepping into what JSON decoding makes (dicts and
    lists) and nothing else: it costs little on a big file (a walk that named every value made opening
    a 100 MB snapshot five times slower). The path is worked out only for a file found too deep."""
    containers = (dict, list)
    level = [obj] if type(obj) in containers else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return _deep_path(obj, limit)
        nxt: list[Any] = []
        for item in level:
            values = item.values() if type(item) is dict else item
            nxt.extend(v for v in values if type(v) in containers)
        level = nxt
    return None


def _deep_path(obj: Any, limit: int) -> str:
    """The path to the first place ``obj`` nests more than ``limit`` levels deep."""
    def children(item: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(item, Mapping):
            return ((_key(k), v) for k, v in item.items())
        return ((f"[{i}]", v) for i, v in enumerate(item))

    path: list[str] = []
    stack = [children(obj)]
    while stack:
        for key, child in stack[-1]:
            if isinstance(child, Mapping | list):
                path.append(key)
                if len(stack) >= limit:
                    shown = "".join(p if p.startswith("[") else f".{p}" for p in path[:6]).lstrip(".")
                    return f"{shown}…" if len(path) > 6 else shown
                stack.append(children(child))
                break
        else:
            stack.pop()
            if path:
                path.pop()
    return "?"


def _key(key: Any) -> str:
    """An object's key as a message shows it: as it is when plain, else quoted (one line, short)."""
    text = str(key)
    return text if re.fullmatch(r"[\w-]{1,40}", text) else json.dumps(text)[:40]
