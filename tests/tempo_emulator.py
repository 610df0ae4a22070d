"""Grafana Tempo's own API on 127.0.0.1 for tests: a real HTTP server holding the same Jaeger-JSON traces
the Jaeger emulator serves (``tests/trace_samples.py``), turned into OTLP, answering as Tempo does:

- ``/api/echo`` answers ``echo``;
- ``/api/search?q=<TraceQL>&start=&end=&limit=&spss=`` (unix seconds): the TraceQL is parsed (a span set
  ``{ ... }`` of comparisons joined by ``&&``/``||`` with parentheses; string literals with ``\\"`` and
  ``\\\\`` escapes, numbers, durations, ``true``/``false``, ``error``/``ok``/``unset``; ``resource.x``,
  ``span.x``, ``.x``, quoted names ``span."a b"``, ``duration``, ``status``, ``name``, ``kind``) and a
  trace is found when one of its spans matches and starts in the window. ``| select(a, b)`` after the span
  set is read too. The answer is Tempo's: per trace its root's service and name, start, whole milliseconds
  and a span set of the first ``spss`` matched spans (3 by default) with the attributes compared or
  selected, and ``matched``. A query that does not parse is answered 400 with Tempo's plain-text words,
  and so is a window longer than ``max_duration_s`` (168 h, as Tempo's default); ``queries`` keeps the
  parsed conditions, ``selects`` the fields selected. More spans per span set than
  ``max_spans_per_span_set`` (100, as Tempo's default; 0 for no limit) is refused 400 in Tempo's words.
  ``select=False`` is a Tempo before 2.2 (2.0, 2.1), whose TraceQL has no ``select()``: its parser takes the
  word for an unknown identifier and refuses the search 400 (``invalid TraceQL query: parse error at line
  1, col N: syntax error: unexpected IDENTIFIER``); its span sets hold only the attributes compared;
- ``/api/traces/<id>``: the trace as ``{"batches": [...]}`` (``shape="batches"``) or ``{"resourceSpans":
  [...]}`` with ``scopeSpans`` (or ``instrumentationLibrarySpans`` with ``old_scopes``), ids in base64
  (``ids="base64"``) or hex, the kind as enum name or number (``kinds="number"``); 404 for an unknown id;
- ``/api/v2/search/tag/resource.service.name/values`` and ``/api/search/tag/service.name/values``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.jaeger_emulator import SeenRequest

_KIND_NUMBERS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
            "h": 3_600_000_000_000}


class TraceQLError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    """One comparison of a query: ``field`` (``resource.service.name``, ``span.error``, ``duration``...),
    ``op`` and the literal's value (str, float, bool, an int of nanoseconds for a duration, or a status
    word as ``("status", "error")``)."""

    field: str
    op: str
    value: Any


_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<dur>[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h)\b)
                         |(?P<num>-?[0-9]+(?:\.[0-9]+)?)|(?P<op>&&|\|\||>=|<=|!=|=~|!~|=|>|<|\{|\}|\(|\)|\||,)
                         |(?P<field>(?:resource|span)?\.(?:"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.\-/:]*)
                             |[A-Za-z_][A-Za-z0-9_]*))""", re.X)
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _unquote(literal: str) -> str:
    out, i, body = [], 0, literal[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and body[i + 1:i + 2] == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif c == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise TraceQLError(f"invalid escape in {literal}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TraceQLError(f"parse error at col {pos + 1}: unexpected {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.conditions: list[Condition] = []
        self.selects: list[str] = []  # the fields of ``| select(...)``, as ``Condition.field`` names them

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise TraceQLError(f"parse error: expected {value!r}, got {tok[1] or 'the end'!r}")
        self.i += 1
        return tok

    def query(self) -> Any:
        self.take("{")
        tree = self.or_expr()
        self.take("}")
        if self.peek()[1] == "|":  # a pipeline: select(...), the fields each matched span is answered with
            self.take()
            if self.take()[1] != "select":
                raise TraceQLError("parse error: only select(...) is understood after the span set")
            self.take("(")
            while True:
                kind, name = self.take()
                if kind != "field":
                    raise TraceQLError(f"parse error: expected a field to select, got {name or 'the end'!r}")
                self.selects.append(_field(name))
                if self.peek()[1] != ",":
                    break
                self.take(",")
            self.take(")")
        if self.peek()[0] != "end":
            raise TraceQLError(f"parse error: unexpected {self.peek()[1]!r} after the span set")
        return tree

    def or_expr(self) -> Any:
        parts = [self.and_expr()]
        while self.peek()[1] == "||":
            self.take()
            parts.append(self.and_expr())
        return ("or", parts) if len(parts) > 1 else parts[0]

    def and_expr(self) -> Any:
        parts = [self.atom()]
        while self.peek()[1] == "&&":
            self.take()
            parts.append(self.atom())
        return ("and", parts) if len(parts) > 1 else parts[0]

    def atom(self) -> Any:
        if self.peek()[1] == "(":
            self.take()
            inner = self.or_expr()
            self.take(")")
            return inner
        kind, name = self.take()
        if kind != "field":
            raise TraceQLError(f"parse error: expected a field, got {name or 'the end'!r}")
        field = _field(name)
        op_kind, op = self.take()
        if op_kind != "op" or op not in ("=", "!=", ">", ">=", "<", "<=", "=~", "!~"):
            raise TraceQLError(f"parse error: expected a comparison after {name}, got {op!r}")
        vkind, raw = self.take()
        if vkind == "str":
            value: Any = _unquote(raw)
        elif vkind == "num":
            value = float(raw)
        elif vkind == "dur":
            num, unit = re.match(r"([0-9.]+)(\D+)", raw).groups()  # type: ignore[union-attr]
            value = ("duration", int(float(num) * _UNIT_NS[unit]))
        elif vkind == "field" and raw in ("true", "false"):
            value = raw == "true"
        elif vkind == "field" and raw in ("error", "ok", "unset", "client", "server", "internal", "producer",
                                           "consumer"):
            value = ("word", raw)
        else:
            raise TraceQLError(f"parse error: expected a value after {name} {op}, got {raw or 'the end'!r}")
        cond = Condition(field, op, value)
        self.conditions.append(cond)
        return ("cmp", cond)


def _field(name: str) -> str:
    scope, _, key = name.partition(".")
    if not key:
        return name  # an intrinsic: duration, status, name, kind
    if key.startswith('"'):
        key = _unquote(key)
    return f"{scope or 'any'}.{key}"


def parse_traceql(text: str) -> tuple[Any, list[Condition]]:
    p = _Parser(text)
    return p.query(), p.conditions


def parse_traceql_selects(text: str) -> list[str]:
    p = _Parser(text)
    p.query()
    return p.selects


def go_duration(seconds: int) -> str:
    """Seconds as Go's ``time.Duration`` prints them (``168h0m0s``, ``30m0s``), as Tempo's messages say them."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m}m{s}s" if h else f"{m}m{s}s" if m else f"{s}s"


# --- OTLP from Jaeger's JSON --------------------------------------------------------------------------


def _any_value(kind: str, value: Any) -> dict[str, Any]:
    if kind == "bool" or isinstance(value, bool):
        return {"boolValue": bool(value)}
    if kind == "int64":
        return {"intValue": str(int(value))}
    if kind == "float64":
        return {"doubleValue": float(value)}
    return {"stringValue": str(value)}


def _id(hex_id: str, size: int, ids: str) -> str:
    hex_id = hex_id.rjust(size * 2, "0")
    return base64.b64encode(bytes.fromhex(hex_id)).decode() if ids == "base64" else hex_id


def otlp_trace(trace: Mapping[str, Any], *, shape: str = "batches", ids: str = "base64", kinds: str = "name",
               old_scopes: bool = False) -> dict[str, Any]:
    """A Jaeger-JSON trace as Tempo's answer for it."""
    processes = trace.get("processes") or {}
    by_process: dict[str, list[dict[str, Any]]] = {}
    for span in trace.get("spans") or []:
        attrs, kind, error = [], 0, False
        for t in span.get("tags") or []:
            if t["key"] == "span.kind":
                kind = _KIND_NUMBERS.get(str(t["value"]), 0)
                continue
            if t["key"] == "error" and t.get("value") in (True, "true"):
                error = True
            attrs.append({"key": t["key"], "value": _any_value(str(t.get("type", "string")), t.get("value"))})
        parent = next((r["spanID"] for r in span.get("references") or [] if r.get("refType") == "CHILD_OF"), "")
        start_ns = int(span["startTime"]) * 1000
        out: dict[str, Any] = {
            "traceId": _id(str(trace["traceID"]), 16, ids), "spanId": _id(span["spanID"], 8, ids),
            "name": span.get("operationName", ""), "startTimeUnixNano": str(start_ns),
            "endTimeUnixNano": str(start_ns + int(span["duration"]) * 1000), "attributes": attrs,
            "status": ({"code": "STATUS_CODE_ERROR" if kinds == "name" else 2} if error else {}),
        }
        if kind:
            out["kind"] = (f"SPAN_KIND_{[k for k, v in _KIND_NUMBERS.items() if v == kind][0].upper()}"
                           if kinds == "name" else kind)
        if parent:
            out["parentSpanId"] = _id(parent, 8, ids)
        by_process.setdefault(str(span.get("processID", "")), []).append(out)
    resources = []
    for pid, spans in by_process.items():
        proc = processes.get(pid) or {}
        attrs = [{"key": "service.name", "value": {"stringValue": proc.get("serviceName", "")}}]
        attrs += [{"key": t["key"], "value": _any_value(str(t.get("type", "string")), t.get("value"))}
                  for t in proc.get("tags") or []]
        scope_key = "instrumentationLibrarySpans" if old_scopes else "scopeSpans"
        resources.append({"resource": {"attributes": attrs},
                          scope_key: [{"scope": {"name": "envoy"}, "spans": spans}]})
    return {"batches": resources} if shape == "batches" else {"resourceSpans": resources}


def _value_of(raw: Mapping[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in raw:
            return raw[key]
    if "intValue" in raw:
        return float(raw["intValue"])
    return None


def _compare(have: Any, op: str, want: Any) -> bool:
    if have is None or type(have) is not type(want) and not (isinstance(have, float) and isinstance(want, float)):
        return False
    if op == "=":
        return bool(have == want)
    if op == "!=":
        return bool(have != want)
    if op == "=~":
        return re.fullmatch(want, have) is not None
    if op == "!~":
        return re.fullmatch(want, have) is None
    if isinstance(have, bool):
        return False
    return {">": have > want, ">=": have >= want, "<": have < want, "<=": have <= want}[op]


class TempoEmulator:
    """``with TempoEmulator(traces) as tempo:`` serves ``tempo.url``; ``tempo.requests`` records what was
    asked, ``tempo.queries`` the conditions of each search."""

    def __init__(self, traces: Sequence[Mapping[str, Any]] = (), *, token: str | None = None, shape: str = "batches",
                 ids: str = "base64", kinds: str = "name", old_scopes: bool = False, v2_tags: bool = True,
                 max_duration_s: int = 168 * 3600, max_spans_per_span_set: int = 100, select: bool = True) -> None:
        self.traces: list[Mapping[str, Any]] = list(traces)
        self.token = token
        self.shape, self.ids, self.kinds, self.old_scopes, self.v2_tags = shape, ids, kinds, old_scopes, v2_tags
        self.requests: list[SeenRequest] = []
        self.queries: list[list[Condition]] = []
        self.selects: list[list[str]] = []  # the fields each search selected
        # the longest window a search may span (Tempo's query_frontend.search.max_duration, 168h by default)
        self.max_duration_s = max_duration_s
        # the most spans a span set may be asked for (Tempo's query_frontend.search.max_spans_per_span_set)
        self.max_spans_per_span_set = max_spans_per_span_set
        self.select = select  # False: a Tempo before 2.2, without TraceQL's select()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                split = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                emulator.requests.append(SeenRequest(split.path, params, dict(self.headers.items())))
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
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="tempo-emulator", daemon=True)

    def __enter__(self) -> TempoEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def searches(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == "/api/search"]

    def fetches(self) -> list[SeenRequest]:
        """The requests for one trace whole."""
        return [r for r in self.requests if r.path.startswith("/api/traces/")]

    # --- Tempo's semantics -------------------------------------------------------------------------

    def otlp(self, trace: Mapping[str, Any]) -> dict[str, Any]:
        return otlp_trace(trace, shape=self.shape, ids=self.ids, kinds=self.kinds, old_scopes=self.old_scopes)

    def services(self) -> list[str]:
        return sorted({str(p.get("serviceName", "")) for t in self.traces
                       for p in (t.get("processes") or {}).values()} - {""})

    def answer(self, path: str, params: Mapping[str, str], authorization: str) -> tuple[int, Any]:
        if self.token is not None and authorization != f"Bearer {self.token}":
            return 401, "Unauthorized\n"
        if path == "/api/echo":
            return 200, "echo"
        if path == "/api/v2/search/tag/resource.service.name/values" and self.v2_tags:
            values = [{"type": "string", "value": n} for n in self.services()]
            return 200, {**({"tagValues": values} if values else {}), "metrics": {}}
        if path == "/api/search/tag/service.name/values":
            return 200, {"tagValues": self.services()} if self.services() else {}
        if path == "/api/search":
            return self.search(params)
        if path.startswith("/api/traces/"):
            wanted = unquote(path.rsplit("/", 1)[1]).lower().lstrip("0")
            for t in self.traces:
                if str(t.get("traceID", "")).lower().lstrip("0") == wanted:
                    return 200, self.otlp(t)
            return 404, "trace not found"
        return 404, "404 page not found\n"

    def search(self, params: Mapping[str, str]) -> tuple[int, Any]:
        """As Tempo's search: each trace with a span that matches and starts in the window, newest first,
        with its root's service and name, start, whole milliseconds (cut), and one span set: the first
        ``spss`` spans that matched (3 when not given), each with the attributes the query compared or
        selected (their names without scope; ``status`` and ``kind`` as words), and how many matched."""
        try:
            q = params.get("q") or "{}"
            tree, conditions = parse_traceql(q)
            selects = parse_traceql_selects(q)
        except TraceQLError as e:
            return 400, f"invalid TraceQL query: {e}"
        if selects and not self.select:
            col = re.search(r"\|\s*(select)", q).start(1) + 1  # type: ignore[union-attr]
            return 400, f"invalid TraceQL query: parse error at line 1, col {col}: syntax error: unexpected IDENTIFIER"
        self.queries.append(conditions)
        self.selects.append(selects)
        try:
            start = int(params.get("start") or 0)
            end = int(params.get("end") or 2**62)
            limit = int(params.get("limit") or 20)
            spss = int(params.get("spss") or 0) or 3
        except ValueError as e:
            return 400, f"invalid start, end, limit or spss: {e}"
        if start and end and end < start:
            return 400, "invalid start: must be less than end"
        if self.max_duration_s and start and end and end - start > self.max_duration_s:
            return 400, (f"range specified by start and end exceeds {go_duration(self.max_duration_s)}. "
                         f"received start={start} end={end}")
        if self.max_spans_per_span_set and spss > self.max_spans_per_span_set:
            return 400, f"spans per span set exceeds {self.max_spans_per_span_set}. received {spss}"
        wanted = [c.field for c in conditions] + selects
        found = []
        for t in self.traces:
            doc = otlp_trace(t, shape="resourceSpans", ids="hex", kinds="number")
            matched: list[dict[str, Any]] = []
            root: tuple[str, str] = ("", "")
            for res in doc["resourceSpans"]:
                rattrs = {a["key"]: _value_of(a["value"]) for a in res["resource"]["attributes"]}
                for span in res["scopeSpans"][0]["spans"]:
                    if not span.get("parentSpanId"):
                        root = (str(rattrs.get("service.name") or ""), str(span.get("name", "")))
                    start_s = int(span["startTimeUnixNano"]) / 1e9
                    if start_s < start or start_s > end + 1:
                        continue
                    if self._matches(tree, span, rattrs):
                        matched.append(self._search_span(span, res["resource"]["attributes"], wanted))
            if matched:
                found.append((t, root, matched))
        found.sort(key=lambda f: -min(int(s.get("startTime", 0)) for s in f[0]["spans"]))
        out = []
        for t, root, matched in found[:limit]:
            first = min(int(s["startTime"]) for s in t["spans"]) * 1000
            last = max(int(s["startTime"]) + int(s["duration"]) for s in t["spans"]) * 1000
            span_set = {"spans": matched[:spss], "matched": len(matched)}
            item: dict[str, Any] = {"traceID": str(t["traceID"]).lstrip("0"),
                                    "rootServiceName": root[0] or "<root span not yet received>",
                                    **({"rootTraceName": root[1]} if root[0] else {}),
                                    "startTimeUnixNano": str(first), "spanSet": span_set, "spanSets": [span_set]}
            if (last - first) // 1_000_000:  # protobuf's JSON leaves a zero out
                item["durationMs"] = (last - first) // 1_000_000
            out.append(item)
        # protobuf's JSON leaves an empty list out: no traces found is no "traces" at all
        return 200, {**({"traces": out} if out else {}), "metrics": {"inspectedTraces": len(self.traces)}}

    @staticmethod
    def _search_span(span: Mapping[str, Any], resource: Sequence[Mapping[str, Any]],
                     wanted: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"spanID": span["spanId"], "startTimeUnixNano": span["startTimeUnixNano"],
                               "durationNanos": str(int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"]))}
        sattrs = {a["key"]: a["value"] for a in span["attributes"]}
        rattrs = {a["key"]: a["value"] for a in resource}
        attributes: dict[str, Any] = {}
        for field in wanted:
            if field == "name":
                out["name"] = span.get("name", "")
            elif field == "status":
                code = (span.get("status") or {}).get("code", 0)
                attributes["status"] = {"stringValue": {2: "error", 1: "ok"}.get(code, "unset")}
            elif field == "kind":
                kind = span.get("kind", 0)
                names = {v: k for k, v in _KIND_NUMBERS.items()}
                attributes["kind"] = {"stringValue": names.get(kind, "unspecified")}
            elif "." in field:
                scope, _, key = field.partition(".")
                value = (rattrs.get(key) if scope == "resource" else sattrs.get(key) if scope == "span"
                         else sattrs.get(key, rattrs.get(key)))
                if value is not None:
                    attributes[key] = value
        out["attributes"] = [{"key": k, "value": v} for k, v in attributes.items()]
        return out

    def _matches(self, tree: Any, span: Mapping[str, Any], rattrs: Mapping[str, Any]) -> bool:
        kind, body = tree
        if kind == "and":
            return all(self._matches(p, span, rattrs) for p in body)
        if kind == "or":
            return any(self._matches(p, span, rattrs) for p in body)
        cond: Condition = body
        sattrs = {a["key"]: _value_of(a["value"]) for a in span["attributes"]}
        if cond.field == "duration":
            have: Any = int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])
            want = cond.value[1] if isinstance(cond.value, tuple) else None
            return want is not None and _compare(float(have), cond.op, float(want))
        if cond.field == "status":
            code = span.get("status", {}).get("code", 0)
            word = {2: "error", 1: "ok"}.get(code, "unset")
            return isinstance(cond.value, tuple) and _compare(word, cond.op, cond.value[1])
        if cond.field == "name":
            return _compare(span.get("name", ""), cond.op, cond.value)
        scope, _, key = cond.field.partition(".")
        if scope == "resource":
            return _compare(rattrs.get(key), cond.op, cond.value)
        if scope == "span":
            return _compare(sattrs.get(key), cond.op, cond.value)
        return _compare(sattrs.get(key, rattrs.get(key)), cond.op, cond.value)


@pytest.fixture
def tempo_emulator() -> Iterator[TempoEmulator]:
    with TempoEmulator() as emulator:
        yield emulator
