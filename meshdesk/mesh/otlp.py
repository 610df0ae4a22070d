"""Tempo's own API as data (Qt-free): its answer for one trace (OpenTelemetry's OTLP JSON) read into the
same :class:`~meshdesk.mesh.traces.Trace` model Jaeger's JSON gives, its search answer, and the TraceQL
query a search sends.

A trace (``GET /api/traces/<id>``) comes as ``{"batches": [...]}`` (Tempo's v1 answer) or
``{"resourceSpans": [...]}`` (OTLP's own shape, also under ``{"trace": ...}`` in Tempo's v2 answer): each
resource (its ``service.name`` attribute names the service, ``<app>.<namespace>`` for Istio's proxies; the
rest are the process's tags, ``hostname`` ...) holds ``scopeSpans`` (``instrumentationLibrarySpans`` in
older versions) of spans. Ids are hex (OTLP JSON) or base64 (protobuf's JSON, which Tempo writes); times
are unix nanoseconds, as text or numbers; attribute values are typed (``stringValue``, ``intValue`` ...);
the span kind is an enum name (``SPAN_KIND_SERVER``) or number; the status code likewise.

They become Jaeger's words, so everything downstream reads them alike: the kind is the ``span.kind`` tag
(``server``, ``client`` ...), an error status ``otel.status_code=ERROR`` with its message as
``otel.status_description`` (as Jaeger's own OTLP reader does). What cannot be read is skipped and
counted, never raised.

Tempo's search answer (``parse_tempo_search``) outlines each trace it found (start, whole milliseconds,
root span) and holds the spans that matched, with the attributes the query compared or selected under
their names without scope (``status`` and ``kind`` as words): read into partial traces
(``Trace.outline``), each read whole when it is opened.

``traceql(service, query)`` is the search for a service's spans in TraceQL, every value quoted so a name
with a quote or a backslash can never change the query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from meshdesk.mesh.traces import (
    MAX_SPANS,
    MAX_TAG_CHARS,
    Span,
    Trace,
    TraceOutline,
    TraceQuery,
    TraceSet,
    _unshare,
)

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_KIND_NAMES = {f"SPAN_KIND_{v.upper()}": v for v in _KINDS.values()}
_STATUS = {1: "OK", 2: "ERROR"}
_STATUS_NAMES = {"STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR"}


def otlp_id(raw: Any, size: int) -> str:
    """An id of ``size`` bytes as lower-case hex: given as hex (``2 * size`` hex digits, or fewer, as
    Tempo's search writes a trace id without its leading zeros) or as base64 (protobuf's JSON); "" when it
    is neither, or all zeros (no parent)."""
    if not isinstance(raw, str) or not raw:
        return ""
    text = raw.strip()
    if _HEX.match(text) and len(text) <= size * 2:
        # hex (base64 of an id this long always has a letter past f, or padding: "=" is no hex digit)
        out = text.lower().rjust(size * 2, "0")
    else:
        try:
            data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text
                                    else None, validate=True)
        except (binascii.Error, ValueError):
            return ""
        if not data or len(data) > size:
            return ""
        out = data.hex().rjust(size * 2, "0")
    return "" if not out.strip("0") else out


def any_value(value: Any) -> tuple[str, bool]:
    """An OTLP ``AnyValue`` as text, and whether it had a shape that could be read."""
    if not isinstance(value, dict):
        return "", False
    if "stringValue" in value:
        v = value["stringValue"]
        return (v[:MAX_TAG_CHARS], True) if isinstance(v, str) else ("", False)
    if "boolValue" in value:
        v = value["boolValue"]
        return ("true" if v else "false", True) if isinstance(v, bool) else ("", False)
    if "intValue" in value:  # int64: text in JSON, a number in some writers
        v = value["intValue"]
        try:
            return (str(int(v)), True) if not isinstance(v, bool) else ("", False)
        except (TypeError, ValueError, OverflowError):  # (JSON's Infinity, which Python's reader takes)
            return "", False
    if "doubleValue" in value:
        v = value["doubleValue"]
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            return "", False
        try:
            f = float(v)
        except ValueError:
            return "", False
        return (str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)), True
    if "arrayValue" in value or "kvlistValue" in value or "bytesValue" in value:
        try:
            return json.dumps(_plain(value), separators=(",", ":"))[:MAX_TAG_CHARS], True
        except (TypeError, ValueError, RecursionError):
            return "", False
    if not value:  # an empty AnyValue: an attribute set without a value
        return "", True
    return "", False


def _values(holder: Any) -> list[Any]:
    """The ``values`` of an ``ArrayValue`` or ``KeyValueList``; ValueError when it has another shape."""
    holder = holder or {}
    values = holder.get("values") if isinstance(holder, dict) else None
    if not isinstance(holder, dict) or not isinstance(values or [], list):
        raise ValueError("a list or map value of another shape")
    return values or []


def _plain(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    if "arrayValue" in value:
        return [_plain(v) for v in _values(value["arrayValue"])]
    if "kvlistValue" in value:
        return {str(kv.get("key")): _plain(kv.get("value")) for kv in _values(value["kvlistValue"])
                if isinstance(kv, dict)}
    if "bytesValue" in value:
        return value["bytesValue"]
    return any_value(value)[0]


def _attributes(raw: Any) -> tuple[dict[str, str], int]:
    out: dict[str, str] = {}
    bad = 0
    if not isinstance(raw, list):
        return out, (0 if raw is None else 1)
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            bad += 1
            continue
        text, ok = any_value(item.get("value", {}))
        if not ok:
            bad += 1
            continue
        out[item["key"]] = text
    return out, bad


def _nanos(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return None
    if isinstance(raw, float) and raw == raw and abs(raw) < 2**63:
        return int(raw)
    return None


def _enum(raw: Any, numbers: Mapping[int, str], names: Mapping[str, str]) -> str:
    if isinstance(raw, bool):
        return ""
    if isinstance(raw, int):
        return numbers.get(raw, "")
    if isinstance(raw, str):
        if raw.isdigit():
            return numbers.get(int(raw), "")
        return names.get(raw.upper(), "")
    return ""


def _resources(document: Mapping[str, Any]) -> list[Any] | None:
    for key in ("batches", "resourceSpans"):
        if key in document:
            got = document[key]
            return got if isinstance(got, list) else ([] if got is None else None)
    inner = document.get("trace")
    if isinstance(inner, dict):
        return _resources(inner)
    return None


def parse_otlp(document: Any, budget: list[int] | None = None) -> tuple[Trace | None, int]:
    """One trace of Tempo's answer and how many spans (or resources) were skipped; None when no span
    of it could be read. ``budget`` (a one-item list) counts down the spans still allowed."""
    if not isinstance(document, dict):
        return None, 1
    resources = _resources(document)
    if resources is None:
        return None, 1
    budget = budget if budget is not None else [MAX_SPANS]
    spans: list[Span] = []
    skipped = 0
    seen: set[str] = set()
    shared: set[str] = set()
    for res in resources:
        if not isinstance(res, dict):
            skipped += 1
            continue
        ptags, _bad = _attributes((res.get("resource") or {}).get("attributes")
                                  if isinstance(res.get("resource"), dict) else None)
        service = ptags.pop("service.name", "")
        scopes = res.get("scopeSpans", res.get("instrumentationLibrarySpans"))
        if not isinstance(scopes, list):
            skipped += 0 if scopes is None else 1
            continue
        for scope in scopes:
            raw_spans = scope.get("spans") if isinstance(scope, dict) else None
            if not isinstance(raw_spans, list):
                skipped += 1
                continue
            for raw in raw_spans:
                if budget[0] <= 0:
                    skipped += 1
                    continue
                budget[0] -= 1
                span = _span(raw, service, ptags)
                if span is None:
                    skipped += 1
                    continue
                if span.span_id in seen:
                    shared.add(span.span_id)
                seen.add(span.span_id)
                spans.append(span)
    if not spans:
        return None, skipped or 1
    if shared:  # Zipkin's shared span (a client and its server span under one id): told apart as Jaeger's are
        spans = _unshare(spans, shared, seen)
    trace_id = next((s.trace_id for s in spans if s.trace_id), "")
    return Trace(trace_id, tuple(spans)), skipped


def _span(raw: Any, service: str, ptags: Mapping[str, str]) -> Span | None:
    if not isinstance(raw, dict):
        return None
    span_id = otlp_id(raw.get("spanId"), 8)
    start, end = _nanos(raw.get("startTimeUnixNano")), _nanos(raw.get("endTimeUnixNano"))
    if not span_id or start is None:
        return None
    tags, bad = _attributes(raw.get("attributes"))
    kind = _enum(raw.get("kind"), _KINDS, _KIND_NAMES)
    if kind:
        tags["span.kind"] = kind
    status = raw.get("status")
    if isinstance(status, dict):
        code = _enum(status.get("code"), _STATUS, _STATUS_NAMES)
        if code:
            tags["otel.status_code"] = code
        message = status.get("message")
        if code == "ERROR" and isinstance(message, str) and message:
            tags["otel.status_description"] = message[:MAX_TAG_CHARS]
    name = raw.get("name")
    start_us = start // 1000
    duration_us = max(0, (end // 1000) - start_us) if end is not None else 0
    notes = (f"{bad} tag(s) of another shape left out",) if bad else ()
    return Span(otlp_id(raw.get("traceId"), 16), span_id, otlp_id(raw.get("parentSpanId"), 8),
                name if isinstance(name, str) else "", service, start_us, duration_us, tags, dict(ptags), notes)


# --- Tempo's search answer ----------------------------------------------------------------------------

_NO_ROOT_YET = "<root span not yet received>"
# attributes Tempo's search answer names without their scope that are the process's (resource's) own
_RESOURCE_KEYS = frozenset({"hostname"})


def _search_span(raw: Any, trace_id: str, service: str) -> Span | None:
    """A span of a search answer's span set: its id, name, start and duration in nanoseconds, and the
    attributes the query matched or selected, each under its name without scope; the intrinsics come as
    attributes too (``status``: ``error``, ``ok``, ``unset``; ``kind``: ``server`` ...)."""
    if not isinstance(raw, dict):
        return None
    span_id = otlp_id(raw.get("spanID", raw.get("spanId")), 8)
    start = _nanos(raw.get("startTimeUnixNano"))
    if not span_id or start is None:
        return None
    attributes, bad = _attributes(raw.get("attributes"))
    tags: dict[str, str] = {}
    ptags: dict[str, str] = {}
    for key, value in attributes.items():
        if key == "status":
            if value.lower() in ("error", "ok"):
                tags["otel.status_code"] = value.upper()
        elif key == "kind":
            if value.lower() in _KINDS.values():
                tags["span.kind"] = value.lower()
        elif key == "service.name":
            service = value or service
        elif key in _RESOURCE_KEYS:
            ptags[key] = value
        else:
            tags[key] = value
    duration = _nanos(raw.get("durationNanos")) or 0
    name = raw.get("name")
    notes = (f"{bad} tag(s) of another shape left out",) if bad else ()
    start_us = start // 1000
    return Span(trace_id, span_id, "", name if isinstance(name, str) else "", service, start_us,
                max(0, (start + duration) // 1000 - start_us), tags, ptags, notes)


def parse_tempo_search(document: Mapping[str, Any], service: str = "") -> TraceSet:
    """Tempo's search answer (``{"traces": [{"traceID", "rootServiceName", "rootTraceName",
    "startTimeUnixNano", "durationMs", "spanSets": [{"spans": [...], "matched": N}]}]}``) as partial
    traces, newest first: each with the spans its span sets hold (those of ``service`` unless they name
    their own) and an outline of the whole trace. What cannot be read is counted in ``skipped``."""
    out = TraceSet()
    items = document.get("traces") or []
    budget = MAX_SPANS
    by_id: dict[str, Trace] = {}
    for item in items if isinstance(items, list) else []:
        trace_id = otlp_id(item.get("traceID") if isinstance(item, dict) else None, 16)
        start = _nanos(item.get("startTimeUnixNano")) if isinstance(item, dict) else None
        if not trace_id or start is None or trace_id in by_id:
            out.skipped += 0 if trace_id in by_id else 1
            continue
        sets = item.get("spanSets")
        if not isinstance(sets, list):
            sets = [item["spanSet"]] if isinstance(item.get("spanSet"), dict) else []
        spans: dict[str, Span] = {}
        matched = 0
        for span_set in sets:
            if not isinstance(span_set, dict):
                out.skipped += 1
                continue
            raw_matched = _nanos(span_set.get("matched"))
            matched = max(matched, raw_matched or 0)
            raw_spans = span_set.get("spans") or []
            for raw in raw_spans if isinstance(raw_spans, list) else []:
                if budget <= 0:
                    out.skipped += 1
                    continue
                span = _search_span(raw, trace_id, service)
                if span is None:
                    out.skipped += 1
                    continue
                budget -= 1
                spans.setdefault(span.span_id, span)
        start_us = start // 1000
        # the trace lasted its whole milliseconds (Tempo's durationMs, cut, not rounded), and at least as long
        # as the spans given reach
        duration_ms = _nanos(item.get("durationMs")) or 0
        reach = max((s.end_us for s in spans.values()), default=start_us) - start_us
        duration_us = max(duration_ms * 1000, min(reach, duration_ms * 1000 + 999))
        root_service, root_name = item.get("rootServiceName"), item.get("rootTraceName")
        if root_service == _NO_ROOT_YET:  # Tempo's words for a trace whose root span it has not got
            root_service = root_name = ""
        outline = TraceOutline(start_us, max(0, duration_us),
                               root_service if isinstance(root_service, str) else "",
                               root_name if isinstance(root_name, str) else "", max(matched, len(spans)))
        by_id[trace_id] = Trace(trace_id, tuple(sorted(spans.values(), key=lambda s: (s.start_us, s.span_id))),
                                outline)
    if not isinstance(items, list):
        out.skipped += 1
    out.traces = sorted(by_id.values(), key=lambda t: (-t.start_us, t.trace_id))
    out.fetched = len(items) if isinstance(items, list) else 0
    return out


# --- TraceQL ------------------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/:]*$")


def traceql_string(value: str) -> str:
    """``value`` as a TraceQL string literal: quoted, with backslashes, quotes and line breaks escaped."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    # any other control character as a \u escape (Tempo reads Go's string literals)
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group(0)):04x}", escaped)
    return f'"{escaped}"'


def traceql_attribute(scope: str, key: str) -> str:
    """``span.http.method``; a key with other characters quoted (``span."my key"``); an empty scope is
    TraceQL's unscoped attribute (``.http.method``: the span's, else its resource's)."""
    return f"{scope}.{key}" if _ATTRIBUTE.match(key) else f"{scope}.{traceql_string(key)}"


def traceql_duration(ms: float) -> str:
    """A TraceQL duration for ``ms`` milliseconds, in whole microseconds (``1500us``)."""
    return f"{max(0, round(ms * 1000))}us"


def traceql(service: str, query: TraceQuery, tags: Mapping[str, str] | None = None) -> str:
    """The spans of ``service`` the query wants: ``{ resource.service.name = "reviews.shop" && duration >=
    100000us && (status = error || ...) }``. The query's tags (and ``tags``) are matched as Jaeger's
    ``tags`` are (``traceql_tag``)."""
    parts = [f"resource.service.name = {traceql_string(service)}"]
    if query.min_duration_ms > 0:
        parts.append(f"duration >= {traceql_duration(query.min_duration_ms)}")
    if query.errors_only:
        # an error status (OpenTelemetry's tracer), Envoy's error tag (Zipkin's), or a 5xx
        parts.append('(status = error || span.error = true || span.error = "true" || '
                     "span.http.status_code >= 500)")
    for key, value in [*query.tags, *(tags or {}).items()]:
        parts.append(traceql_tag(key, value))
    return "{ " + " && ".join(parts) + " }"


_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")  # (no sign: a bare number is what every TraceQL version reads)


def traceql_tag(key: str, value: str) -> str:
    """A tag as Jaeger's ``tags`` parameter matches it, in TraceQL: the span's attribute or its process's
    (an unscoped ``.key``: span, then resource), equal to the text, or to the number or boolean it reads
    as (OTLP attributes are typed: an ``intValue`` 2 is never the string "2")."""
    attribute = traceql_attribute("", key)
    alternatives = [f"{attribute} = {traceql_string(value)}"]
    if _NUMBER.match(value):
        alternatives.append(f"{attribute} = {value}")
    elif value in ("true", "false"):
        alternatives.append(f"{attribute} = {value}")
    return alternatives[0] if len(alternatives) == 1 else "(" + " || ".join(alternatives) + ")"
