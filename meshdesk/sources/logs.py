"""Pod logs over the official ``kubernetes`` client, and the follow logic shared with the demo.

``KubePodLogs(api_client).pod_logs(ns, pod, container, tail_lines=N)`` reads the last N lines with
their timestamps; ``since_seconds`` or ``since_time`` limit to recent lines. ``LogFollower`` keeps
the last timestamp it saw and, on each ``poll()``, asks for the lines from that time on (the node's
own clock: ours may differ, see ``KubePodLogs``), at most ``POLL_LIMIT_BYTES`` of them, and drops the lines it already
had, so following a log is a cheap poll a worker thread can run and stop at any time.
Errors come back as typed ``SourceError``s (pod gone, forbidden, API down); text is never lost.
"""

from __future__ import annotations

import calendar
import datetime
import email.utils
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from meshdesk.sources.base import SourceError
from meshdesk.sources.errors import one_line, redact, translate
from meshdesk.sources.inventory import sent_again_after_401

POLL_LIMIT_BYTES = 4 * 1024 * 1024  # the most one follow poll reads (the next one goes on from there)
# the most the first read (the last N lines) takes in: "last 50000 lines" of a container writing long
# lines was hundreds of megabytes, read whole into memory
TAIL_LIMIT_BYTES = 16 * 1024 * 1024
TAIL_TRIES = 6  # fewer lines asked for, each time the newest ones did not fit
CLOCK_MARGIN_S = 2  # the API server's clock is known to the second (its Date header)
NO_SERVER_CLOCK_MARGIN_S = 10  # when the server did not say its time: a margin for our clock's error


@dataclass(frozen=True)
class LogLine:
    timestamp: str  # RFC 3339 as the API wrote it ("" when the line had none)
    text: str

    @property
    def unix(self) -> float:
        return parse_timestamp(self.timestamp)


class LogSource(Protocol):
    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None, previous: bool = False) -> list[LogLine]: ...


def parse_timestamp_ns(ts: str) -> int | None:
    """RFC 3339 in UTC (``2026-11-27T04:48:22.123456789Z``, as the API writes it) to unix nanoseconds,
    exactly (a float cannot tell lines a few hundred nanoseconds apart); None when it is not one."""
    try:
        main, _, frac = ts.rstrip("Z").partition(".")
        base = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
        if frac and not frac.isdigit():
            return None
        return base * 1_000_000_000 + int((frac + "000000000")[:9] if frac else 0)
    except ValueError:
        return None


def parse_timestamp(ts: str) -> float:
    """RFC 3339 (``2026-11-27T04:48:22.123456789Z``) to unix seconds; NaN when it is not one."""
    ns = parse_timestamp_ns(ts)
    return math.nan if ns is None else ns / 1e9


def split_lines(raw: str) -> list[LogLine]:
    """The API's ``timestamps=true`` text: each line starts with its timestamp and a space. Lines end
    at a newline only: a carriage return, form feed or Unicode separator inside a line is the
    container's text (a progress bar), not a new line."""
    out: list[LogLine] = []
    if raw.endswith("\n"):
        raw = raw[:-1]
    for line in raw.split("\n") if raw else []:
        if line.endswith("\r"):
            line = line[:-1]
        ts, sep, rest = line.partition(" ")
        if sep and not math.isnan(parse_timestamp(ts)):
            out.append(LogLine(ts, rest))
        else:
            out.append(LogLine("", line))
    return out


class KubePodLogs:
    """Reads container logs through ``CoreV1Api.read_namespaced_pod_log``.

    The API (and the official client) take "since" as seconds before the server's now; ``since_time``
    is turned into that with the server's clock, learnt from each answer's Date header, so a laptop
    whose clock is off by a minute still asks for the right lines."""

    def __init__(self, api_client: Any, *, timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self.clock = clock
        self.server_offset: float | None = None  # the server's clock minus ours, in seconds
        self.last_truncated = False  # the last read stopped at its limit_bytes

    def _since_seconds(self, since_time: str) -> int:
        since = parse_timestamp(since_time)
        if math.isnan(since):
            raise ValueError(f"not an RFC 3339 time: {since_time!r}")
        if self.server_offset is None:
            return max(1, math.ceil(self.clock() - since) + NO_SERVER_CLOCK_MARGIN_S)
        return max(1, math.ceil(self.clock() + self.server_offset - since) + CLOCK_MARGIN_S)

    def _learn_server_clock(self, resp: Any) -> None:
        headers = getattr(resp, "headers", None)
        date = headers.get("Date") if headers is not None else None
        if not date:
            return
        try:
            when = email.utils.parsedate_to_datetime(str(date))
            if when.tzinfo is None:  # "-0000": UTC by another name (HTTP dates are GMT)
                when = when.replace(tzinfo=datetime.UTC)
            server_now = when.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        self.server_offset = server_now - self.clock()

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None, previous: bool = False) -> list[LogLine]:
        """``previous``: the log of the container's run before its last restart (why it crashed)."""
        from kubernetes import client

        kwargs: dict[str, Any] = {"container": container, "timestamps": True,
                                  "_request_timeout": self.timeout, "_preload_content": False}
        if tail_lines is not None:
            kwargs["tail_lines"] = int(tail_lines)
        if since_time is not None:
            since_seconds = self._since_seconds(since_time)
        if since_seconds is not None:
            kwargs["since_seconds"] = max(1, int(since_seconds))
        if limit_bytes is not None:
            kwargs["limit_bytes"] = int(limit_bytes)
        if previous:
            kwargs["previous"] = True
        try:
            # a 401 to an exec plugin's credential: the plugin run once more and the log asked for again
            resp: Any = sent_again_after_401(
                self.api_client.configuration,
                lambda: client.CoreV1Api(self.api_client).read_namespaced_pod_log(pod, namespace, **kwargs),
                lambda e: getattr(e, "status", None) == 401)
            body = resp.data
            self._learn_server_clock(resp)
        except Exception as e:  # noqa: BLE001 - every failure becomes a typed, redacted error
            raise _no_log_yet(e, namespace, pod, container) or translate(
                e, what=f"read the log of {namespace}/{pod} ({container})") from None
        self.last_truncated = limit_bytes is not None and len(body) >= limit_bytes
        if self.last_truncated and not body.endswith(b"\n"):
            body = body[: body.rfind(b"\n") + 1]  # cut at the limit: the last line is not whole
        return split_lines(body.decode("utf-8", "replace"))  # the raw body: no JSON decoding of log text


# the kubelet's words (a 400 Bad Request) for a container that has no log to give: it has not run yet
_WAITING = re.compile(r'is waiting to start: (?P<why>[^"]+?)\s*$')
_NO_HOST = re.compile(r"does not have a host assigned")
_NO_PREVIOUS = re.compile(r"previous terminated container .* not found")


def _no_log_yet(exc: BaseException, namespace: str, pod: str, container: str) -> SourceError | None:
    """A container that has not started (its pod pending, its image not pulled) or a pod on no node yet,
    said so: the API's 400 read "rejected as invalid", as if the request had been wrong."""
    if getattr(exc, "status", None) != 400:
        return None
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        message = str(json.loads(body).get("message") or "") if isinstance(body, str) else ""
    except (ValueError, AttributeError):
        message = ""
    if m := _WAITING.search(message):
        return SourceError(f"{container} in {namespace}/{pod} has not started yet ({one_line(redact(m.group('why')), 200)}): "
                           "it has no log until it runs")
    if _NO_PREVIOUS.search(message):
        return SourceError(f"{container} in {namespace}/{pod} has not restarted: there is no previous run's log")
    if _NO_HOST.search(message):
        return SourceError(f"{namespace}/{pod} is not on a node yet (pending): it has no log until it runs")
    return None


@dataclass
class LogFollower:
    """Tail then follow one container: ``start()`` gives the last ``tail_lines`` lines, each ``poll()``
    the lines that arrived since (asked with ``since_seconds`` and de-duplicated)."""

    source: LogSource
    namespace: str
    pod: str
    container: str
    tail_lines: int = 200
    previous: bool = False  # the run before the container's last restart: read once, nothing follows
    last_ts: str = ""
    # the first read left out older lines of the tail asked for, as they were more than TAIL_LIMIT_BYTES
    # (the view says so)
    limited: bool = False
    # the last poll found the container restarted: the lines its ended run wrote after the last one
    # seen (read from its previous run's log: why it stopped) came first among that poll's lines
    restarted: bool = False
    _seen_at_last: set[str] = field(default_factory=set)
    _last_in_previous: bool = False  # the last line seen is of the run before a restart

    def start(self) -> list[LogLine]:
        lines = self._tail()
        if not self.previous:
            self._remember(lines)
        return lines

    def _tail(self) -> list[LogLine]:
        """The last ``tail_lines`` lines, at most TAIL_LIMIT_BYTES of them. The API applies its byte limit
        from the start of the lines asked for (as ``kubectl logs --tail --limit-bytes`` does), which would
        keep the oldest and drop the newest: when the limit is reached, fewer of the newest lines are asked
        for, until they fit."""
        extra: dict[str, Any] = {"previous": True} if self.previous else {}
        tail = self.tail_lines
        for _ in range(TAIL_TRIES):
            lines = self.source.pod_logs(self.namespace, self.pod, self.container, tail_lines=tail,
                                         limit_bytes=TAIL_LIMIT_BYTES, **extra)
            if not getattr(self.source, "last_truncated", False) or tail <= 1:
                break
            # the oldest lines asked for filled the limit: about as many of the newest fit, a little less
            tail = max(1, min(tail - 1, len(lines) * 9 // 10 if lines else tail // 2))
        self.limited = tail < self.tail_lines
        return lines

    def poll(self) -> list[LogLine]:
        if self.previous:  # a container that ended writes no more
            return []
        last = parse_timestamp_ns(self.last_ts) if self.last_ts else None
        if last is None:
            return self.start()
        # from the whole second of the last line on, by the cluster's clock (a number of seconds
        # worked out from our clock alone missed lines when ours was behind); the overlap is
        # dropped below
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last // 1_000_000_000))
        limit = POLL_LIMIT_BYTES
        lines = self.source.pod_logs(self.namespace, self.pod, self.container, since_time=since, limit_bytes=limit)
        truncated = bool(getattr(self.source, "last_truncated", False))
        fresh = self._after(lines, last)
        if not fresh and truncated:
            # the limit was filled by lines already seen (a container writing megabytes a second; the
            # API cannot start inside a second) or by one line longer than it: read the window whole
            fresh = self._after(self.source.pod_logs(self.namespace, self.pod, self.container, since_time=since), last)
        self.restarted = False
        ended: list[LogLine] = []
        if not truncated and not self._last_in_previous and not self._holds_last(lines, last):
            # the log no longer has the last line seen (its second is asked for again, so it would be
            # there): the container restarted, and the API now gives its new run's log. The lines its
            # ended run wrote after the last poll (the panic, the OOM) are only in the previous log
            ended = self._ended_run_after(since, last)
            if ended:
                self.restarted = True
                self._remember(ended)
                self._last_in_previous = True
        if fresh:  # of the current run: the last line seen is then in its log
            self._remember(fresh)
            self._last_in_previous = False
        return ended + fresh

    def _holds_last(self, lines: list[LogLine], last: int) -> bool:
        return any(ln.text in self._seen_at_last and parse_timestamp_ns(ln.timestamp) == last for ln in lines)

    def _ended_run_after(self, since: str, last: int) -> list[LogLine]:
        """The lines of the container's previous run after the last one seen; none when it has not
        restarted (the API says there is no previous run) or its previous run cannot be read."""
        try:
            ended = self.source.pod_logs(self.namespace, self.pod, self.container, since_time=since,
                                         limit_bytes=POLL_LIMIT_BYTES, previous=True)
        except SourceError:
            return []
        return self._after(ended, last)

    def _after(self, lines: list[LogLine], last: int) -> list[LogLine]:
        """The lines after the last one seen. Compared as whole nanoseconds: the API trims trailing
        zeros of the nanoseconds, so text order lies, and a float cannot tell lines a few hundred
        nanoseconds apart."""
        fresh = []
        for ln in lines:
            ns = parse_timestamp_ns(ln.timestamp)
            if ns is not None and (ns > last or (ns == last and ln.text not in self._seen_at_last)):
                fresh.append(ln)
        return fresh

    def _remember(self, lines: list[LogLine]) -> None:
        stamped = [(ns, ln) for ln in lines if (ns := parse_timestamp_ns(ln.timestamp)) is not None]
        if not stamped:
            return
        newest_ns, newest = max(stamped, key=lambda pair: pair[0])
        if newest_ns != parse_timestamp_ns(self.last_ts or "-"):
            self._seen_at_last = set()
        self.last_ts = newest.timestamp
        self._seen_at_last |= {ln.text for ns, ln in stamped if ns == newest_ns}


ALL_CONTAINERS = "*"  # the container choice that reads every container of the pod, merged by time


def container_prefix(container: str) -> str:
    """How a merged log marks each line with its container ("[istio-proxy] ...")."""
    return f"[{container}] "


class MergedFollower:
    """Several containers of one pod followed together (as Kiali's Logs tab shows the app's and the
    proxy's lines side by side): each container's lines marked with its name, all in time order. The
    tail is per container (the last ``tail_lines`` of each)."""

    def __init__(self, source: LogSource, namespace: str, pod: str, containers: list[str], *,
                 tail_lines: int = 200, previous: bool = False) -> None:
        self.followers = [LogFollower(source, namespace, pod, c, tail_lines=tail_lines, previous=previous)
                          for c in containers]
        self.tail_lines, self.previous = tail_lines, previous
        self.left_out: list[str] = []  # the containers the last read could not read, and why

    @property
    def limited(self) -> bool:
        return any(f.limited for f in self.followers)

    @property
    def restarted(self) -> list[str]:
        """The containers the last poll found restarted (see ``LogFollower.restarted``)."""
        return [f.container for f in self.followers if f.restarted]

    def _merged(self, read: Callable[[LogFollower], list[LogLine]]) -> list[LogLine]:
        """Every container's new lines in time order; a container that cannot be read (not started
        yet, no previous run) is left out and named in ``left_out``, unless none can be read."""
        marked: list[tuple[int, int, LogLine]] = []
        errors: list[tuple[str, SourceError]] = []
        for i, f in enumerate(self.followers):
            try:
                lines = read(f)
            except SourceError as e:
                errors.append((f.container, e))
                continue
            for ln in lines:
                ns = parse_timestamp_ns(ln.timestamp)
                marked.append((ns if ns is not None else -1, i, LogLine(ln.timestamp, container_prefix(f.container)
                                                                       + ln.text)))
        if errors and len(errors) == len(self.followers):
            raise errors[0][1]
        self.left_out = [msg if name in msg else f"{name}: {msg}" for name, e in errors for msg in (one_line(str(e)),)]
        marked.sort(key=lambda m: (m[0], m[1]))  # (stable: one container's lines keep their order)
        return [ln for _ns, _i, ln in marked]

    def start(self) -> list[LogLine]:
        return self._merged(LogFollower.start)

    def poll(self) -> list[LogLine]:
        return self._merged(LogFollower.poll)


__all__ = ["ALL_CONTAINERS", "KubePodLogs", "LogFollower", "LogLine", "LogSource", "MergedFollower", "SourceError",
           "container_prefix", "parse_timestamp", "parse_timestamp_ns", "split_lines"]
