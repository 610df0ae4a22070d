"""A Jaeger query API on 127.0.0.1 for tests: a real HTTP server holding the Jaeger-JSON traces given
to it and answering ``/api/services``, ``/api/traces`` and ``/api/traces/<id>`` with Jaeger's semantics:

- ``service`` is a span's process ``serviceName`` (required: 400 without it);
- ``start``/``end`` in unix microseconds: a trace is found when one of the service's spans starts in
  the window;
- ``limit`` (newest traces first), ``operation``, ``minDuration``/``maxDuration`` in Go's duration
  words (``100us``, ``1.5ms``, ``2s``), ``tags`` a JSON object every pair of which one span (or its
  process) carries;
- a bad parameter is answered 400 with Jaeger's error JSON ``{"data": null, "errors": [{"code": 400,
  "msg": ...}]}``; an unknown trace id 404 the same way.

``token`` makes it require ``Authorization: Bearer <token>`` (401 otherwise); ``base_path`` serves it
under a prefix as Istio's addon does (``/jaeger``). ``jaeger_span``/``jaeger_trace`` build traces.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest


@dataclass(frozen=True)
class SeenRequest:
    path: str
    params: Mapping[str, str]
    headers: Mapping[str, str]


_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_US = {"ns": 0.001, "us": 1.0, "µs": 1.0, "μs": 1.0, "ms": 1000.0, "s": 1e6, "m": 6e7, "h": 3.6e9}


def go_duration_us(text: str) -> float:
    """Microseconds in a Go duration ("100us", "1.5ms", "1m30s", "0"); ValueError as Go words it."""
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = list(_GO_DURATION.finditer(body))
    if not parts or "".join(m.group(0) for m in parts) != body:
        raise ValueError(f'time: invalid duration "{text}"')
    total = sum(float(m.group(1)) * _UNIT_US[m.group(2)] for m in parts)
    return -total if text.startswith("-") else total


def jaeger_span(span_id: str, service: str, operation: str, start_us: int, duration_us: int, *,
                parent: str = "", node_id: str = "", kind: str = "server", status: int | None = 200,
                error: bool = False, tags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One span as Jaeger's JSON has it, with the process's service name under ``"_service"`` (turned
    into a process by ``jaeger_trace``); Istio's proxy tags: node_id, span.kind, http.status_code."""
    all_tags: dict[str, Any] = {"span.kind": kind, "component": "proxy"}
    if node_id:
        all_tags["node_id"] = node_id
    if status is not None:
        all_tags["http.status_code"] = str(status)
    if error:
        all_tags["error"] = True
    all_tags.update(tags or {})
    raw: dict[str, Any] = {
        "spanID": span_id, "operationName": operation, "startTime": start_us, "duration": duration_us,
        "flags": 1, "tags": [{"key": k, "type": "bool" if isinstance(v, bool) else "string", "value": v}
                             for k, v in all_tags.items()],
        "references": [{"refType": "CHILD_OF", "spanID": parent}] if parent else [], "_service": service,
    }
    return raw


def jaeger_trace(trace_id: str, spans: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A trace of Jaeger's JSON: spans with a ``processID`` each, and the processes."""
    processes: dict[str, dict[str, Any]] = {}
    by_service: dict[str, str] = {}
    out = []
    for raw in spans:
        span = {k: v for k, v in raw.items() if k != "_service"}
        service = str(raw.get("_service", ""))
        if service not in by_service:
            by_service[service] = f"p{len(by_service) + 1}"
            processes[by_service[service]] = {"serviceName": service, "tags": []}
        span["traceID"] = trace_id
        span["processID"] = by_service[service]
        for ref in span.get("references") or []:
            ref["traceID"] = trace_id
        out.append(span)
    return {"traceID": trace_id, "spans": out, "processes": processes, "warnings": None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _span_service(trace: Mapping[str, Any], span: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    proc = (trace.get("processes") or {}).get(span.get("processID"), {})
    tags = {t["key"]: _text(t.get("value")) for t in proc.get("tags") or []}
    return str(proc.get("serviceName", "")), tags


def _error(status: int, msg: str) -> tuple[int, dict[str, Any]]:
    return status, {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": status, "msg": msg}]}


class JaegerEmulator:
    """``with JaegerEmulator(traces) as jaeger:`` serves ``jaeger.url``; ``jaeger.requests`` records what
    was asked. ``hang=True``: it accepts connections and never answers (a timeout)."""

    def __init__(self, traces: Sequence[Mapping[str, Any]] = (), *, token: str | None = None,
                 base_path: str = "", hang: bool = False, now_us: int | None = None) -> None:
        self.traces: list[Mapping[str, Any]] = list(traces)
        self.token = token
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.hang = hang
        self.now_us = now_us
        self.requests: list[SeenRequest] = []
        self._release = threading.Event()
        # (path, gate, held): requests to the path (or under it, for a path ending in "/") wait for the gate
        self._holds: list[tuple[str, threading.Event, threading.Event]] = []
        self.failing: dict[str, int] = {}  # path (or path/ for those under it) -> the HTTP status answered
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                split = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                emulator.requests.append(SeenRequest(split.path, params, dict(self.headers.items())))
                if emulator.hang:
                    emulator._release.wait(60)
                    self.close_connection = True  # stopped: the client learns at once, not at its timeout
                    return
                for path, gate, held in list(emulator._holds):
                    if emulator._names(path, split.path):
                        held.set()
                        deadline = time.monotonic() + 10.0  # a test that never releases fails, not hangs
                        while not gate.wait(0.05) and not emulator._release.is_set() and time.monotonic() < deadline:
                            pass
                failing = next((st for path, st in list(emulator.failing.items()) if emulator._names(path, split.path)),
                               None)
                if failing is not None:
                    status, body = _error(failing, "the emulator was told to fail")
                else:
                    status, body = emulator.answer(split.path, params, self.headers.get("Authorization", ""))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8" if isinstance(body, str)
                                 else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}{self.base_path}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="jaeger-emulator", daemon=True)

    def hold_searches(self) -> tuple[threading.Event, threading.Event]:
        """Hold every search (``/api/traces``) before it is answered until the first Event returned is set
        (or the emulator stops; 10 s at most); the second is set once one is held."""
        return self._hold("/api/traces")

    def hold_trace_reads(self) -> tuple[threading.Event, threading.Event]:
        """Hold every read of one trace (``/api/traces/{id}``), as ``hold_searches`` holds searches."""
        return self._hold("/api/traces/")

    def _hold(self, path: str) -> tuple[threading.Event, threading.Event]:
        gate, held = threading.Event(), threading.Event()
        self._holds.append((path, gate, held))
        return gate, held

    def _names(self, path: str, asked: str) -> bool:
        """Whether ``path`` (a path, or one ending in "/" for those under it) names the path ``asked``."""
        path = self.base_path + path
        return asked == path or (path.endswith("/") and asked.startswith(path))

    def __enter__(self) -> JaegerEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- Jaeger's semantics ------------------------------------------------------------------------

    def services(self) -> list[str]:
        return sorted({_span_service(t, s)[0] for t in self.traces for s in t.get("spans") or []} - {""})

    def answer(self, path: str, params: Mapping[str, str], authorization: str) -> tuple[int, Any]:
        if self.token is not None and authorization != f"Bearer {self.token}":
            return 401, "Unauthorized\n"
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                return 404, "404 page not found\n"
            path = path[len(self.base_path):]
        if path == "/api/services":
            names = self.services()
            return 200, {"data": names, "total": len(names), "limit": 0, "offset": 0, "errors": None}
        if path == "/api/traces":
            return self.find(params)
        if path.startswith("/api/traces/"):
            wanted = unquote(path.rsplit("/", 1)[1]).lower().lstrip("0")
            for t in self.traces:
                if str(t.get("traceID", "")).lower().lstrip("0") == wanted:
                    return 200, {"data": [t], "total": 0, "limit": 0, "offset": 0, "errors": None}
            return _error(404, "trace not found")
        return 404, "404 page not found\n"

    def find(self, params: Mapping[str, str]) -> tuple[int, Any]:
        service = params.get("service", "")
        if not service:
            return _error(400, "parameter 'service' is required")
        try:
            end = int(params["end"]) if params.get("end") else (self.now_us or 0)
            start = int(params["start"]) if params.get("start") else end - 3_600_000_000
        except ValueError as e:
            return _error(400, f"strconv.ParseInt: parsing {str(e).split(': ')[-1]}: invalid syntax")
        try:
            limit = int(params.get("limit") or 100)
        except ValueError:
            return _error(400, f'strconv.ParseInt: parsing "{params["limit"]}": invalid syntax')
        try:
            min_us = go_duration_us(params["minDuration"]) if params.get("minDuration") else 0.0
            max_us = go_duration_us(params["maxDuration"]) if params.get("maxDuration") else float("inf")
        except ValueError as e:
            return _error(400, str(e))
        try:
            tags = json.loads(params["tags"]) if params.get("tags") else {}
            if not isinstance(tags, dict):
                raise ValueError
        except ValueError:
            return _error(400, "malformed 'tags' parameter: it must be a JSON object")
        operation = params.get("operation", "")
        found = []
        for t in self.traces:
            for span in t.get("spans") or []:
                name, ptags = _span_service(t, span)
                if name != service or (operation and span.get("operationName") != operation):
                    continue
                if not start <= int(span.get("startTime", 0)) <= end:
                    continue
                if not min_us <= int(span.get("duration", 0)) <= max_us:
                    continue
                stags = {x["key"]: _text(x.get("value")) for x in span.get("tags") or []}
                if all(stags.get(k, ptags.get(k)) == _text(v) for k, v in tags.items()):
                    found.append(t)
                    break
        found.sort(key=lambda t: -min(int(s.get("startTime", 0)) for s in t["spans"]))
        data = found[:limit] if limit > 0 else found
        return 200, {"data": data, "total": len(data), "limit": 0, "offset": 0, "errors": None}


@pytest.fixture
def jaeger_emulator() -> Iterator[JaegerEmulator]:
    """An empty emulator, started: add traces to ``.traces``."""
    with JaegerEmulator() as emulator:
        yield emulator
