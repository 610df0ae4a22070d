"""Pod logs over the official ``kubernetes`` client, and the follow logic shared with the demo.

``KubePodLogs(api_client).pod_logs(ns, pod, container, tail_lines=N)`` reads the last N lines with
their timestamps; ``since_seconds`` limits to recent lines. ``LogFollower`` keeps the last
timestamp it saw and, on each ``poll()``, asks only for the seconds since then and drops the lines it
already had, so following a log is a cheap poll a worker thread can run and stop at any time.
Errors come back as typed ``SourceError``s (pod gone, forbidden, API down); text is never lost.
"""

from __future__ import annotations

import calendar
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from meshdesk.sources.base import SourceError
from meshdesk.sources.errors import translate

CLOCK_MARGIN_S = 10


@dataclass(frozen=True)
class LogLine:
    timestamp: str  # RFC 3339 as the API wrote it ("" when the line had none)
    text: str

    @property
    def unix(self) -> float:
        return parse_timestamp(self.timestamp)


class LogSource(Protocol):
    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None) -> list[LogLine]: ...


def parse_timestamp(ts: str) -> float:
    """RFC 3339 (``2026-11-27T04:48:22.123456789Z``) to unix seconds; NaN when it is not one."""
    try:
        main, _, frac = ts.rstrip("Z").partition(".")
        base = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
        return base + (float(f"0.{frac}") if frac else 0.0)
    except ValueError:
        return math.nan


def split_lines(raw: str) -> list[LogLine]:
    """The API's ``timestamps=true`` text: each line starts with its timestamp and a space."""
    out: list[LogLine] = []
    for line in raw.splitlines():
        ts, sep, rest = line.partition(" ")
        if sep and not math.isnan(parse_timestamp(ts)):
            out.append(LogLine(ts, rest))
        else:
            out.append(LogLine("", line))
    return out


class KubePodLogs:
    """Reads container logs through ``CoreV1Api.read_namespaced_pod_log``."""

    def __init__(self, api_client: Any, *, timeout: float = 30.0) -> None:
        self.api_client = api_client
        self.timeout = timeout

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None) -> list[LogLine]:
        from kubernetes import client

        kwargs: dict[str, Any] = {"container": container, "timestamps": True,
                                  "_request_timeout": self.timeout, "_preload_content": False}
        if tail_lines is not None:
            kwargs["tail_lines"] = int(tail_lines)
        if since_seconds is not None:
            kwargs["since_seconds"] = max(1, int(since_seconds))
        try:
            resp: Any = client.CoreV1Api(self.api_client).read_namespaced_pod_log(pod, namespace, **kwargs)
            raw = resp.data.decode("utf-8", "replace")  # the raw body: no JSON decoding of log text
        except Exception as e:  # noqa: BLE001 - every failure becomes a typed, redacted error
            raise translate(e, what=f"read the log of {namespace}/{pod} ({container})") from None
        return split_lines(raw)


@dataclass
class LogFollower:
    """Tail then follow one container: ``start()`` gives the last ``tail_lines`` lines, each ``poll()``
    the lines that arrived since (asked with ``since_seconds`` and de-duplicated)."""

    source: LogSource
    namespace: str
    pod: str
    container: str
    tail_lines: int = 200
    clock: Callable[[], float] = time.time
    last_ts: str = ""
    _seen_at_last: set[str] = field(default_factory=set)

    def start(self) -> list[LogLine]:
        lines = self.source.pod_logs(self.namespace, self.pod, self.container, tail_lines=self.tail_lines)
        self._remember(lines)
        return lines

    def poll(self) -> list[LogLine]:
        if not self.last_ts:
            return self.start()
        # a margin for clock skew between us and the node: overlapping lines are dropped below
        since = max(1, math.ceil(self.clock() - parse_timestamp(self.last_ts)) + CLOCK_MARGIN_S)
        lines = self.source.pod_logs(self.namespace, self.pod, self.container, since_seconds=since)
        # compare as numbers: the API trims trailing zeros of the nanoseconds, so text order lies
        last = parse_timestamp(self.last_ts)
        fresh = [ln for ln in lines if ln.unix > last or (ln.unix == last and ln.text not in self._seen_at_last)]
        self._remember(fresh)
        return fresh

    def _remember(self, lines: list[LogLine]) -> None:
        stamped = [ln for ln in lines if ln.timestamp]
        if not stamped:
            return
        newest = max(stamped, key=lambda ln: ln.unix)
        if newest.unix != parse_timestamp(self.last_ts or "-"):
            self._seen_at_last = set()
        self.last_ts = newest.timestamp
        self._seen_at_last |= {ln.text for ln in stamped if ln.unix == newest.unix}


__all__ = ["KubePodLogs", "LogFollower", "LogLine", "LogSource", "SourceError", "parse_timestamp", "split_lines"]
