"""Envoy access log lines, as Istio's proxies write them, read into their fields (Qt-free).

``parse(text)`` reads one line in Istio's default text format (the mesh config's ``accessLogFile`` with
``accessLogEncoding: TEXT``: start time, request line, response code and flags, response code
details, ... upstream cluster, route), Envoy's own shorter default, or Istio's JSON encoding
(``accessLogEncoding: JSON``); anything else (the proxy's own messages, an app's lines) is None.
Lines cut short (a custom format that ends early) keep the fields they have. Quoted fields are
written as they are (quotes inside them included): a closing quote is one followed by the end of the
line or by a space and the next field. ``summary(entries)`` counts them as a person reads a log:
requests, response classes, response flags with what they mean, duration percentiles.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Envoy's response flags, in our words: why a request ended as it did (``RESPONSE_FLAGS``)
RESPONSE_FLAGS = {
    "UH": "no healthy upstream host (all endpoints ejected or none ready)",
    "UF": "upstream connection failure",
    "UO": "upstream overflow: circuit breaker (connection pool or pending requests limit) tripped",
    "NR": "no route configured for the request (or no cluster for it)",
    "URX": "upstream retry limit or maximum connect attempts reached",
    "NC": "upstream cluster not found",
    "DT": "request or connection exceeded its max duration",
    "DC": "downstream connection terminated (the client went away)",
    "LH": "local health check failed",
    "UT": "upstream request timeout",
    "LR": "connection reset locally",
    "UR": "upstream reset the connection",
    "UC": "upstream connection terminated",
    "DI": "request delayed by fault injection",
    "FI": "request aborted by fault injection",
    "RL": "rate limited locally",
    "UAEX": "denied by the external authorization service",
    "RLSE": "rate limit service error",
    "IH": "rejected: a header had an invalid value (strict header check)",
    "SI": "stream idle timeout",
    "DPE": "downstream protocol error",
    "UPE": "upstream protocol error",
    "UMSDR": "upstream request reached its max stream duration",
    "OM": "overload manager terminated the request",
    "DF": "DNS resolution failed",
    "DO": "drop overload: dropped by the load balancer's overload policy",
    "DR": "rejected by drop_overload (locality weighted drop)",
}

_TOKEN = re.compile(r'\[[^\]]*\]|\S+')
# what may follow a quoted field in Istio's and Envoy's text formats: another quoted field, a number or
# "-" (the response code, the byte counts), an upstream cluster's name (after the upstream host)
_AFTER_QUOTED = re.compile(r'(?:"|(?:-|\d+|(?:inbound|outbound)\|\S*|\w*Cluster)(?:\s|$))')
_CODE = re.compile(r"\d{1,3}")
_JSON_KEYS = ("start_time", "response_code", "method", "upstream_cluster", "response_flags")


@dataclass(frozen=True)
class AccessEntry:
    start_time: str = ""
    method: str = ""
    path: str = ""
    protocol: str = ""
    code: int | None = None  # 0: no response was sent (the client went away first); None: not in the line
    flags: tuple[str, ...] = ()  # Envoy's response flags ("UF", "URX"...); () for "-"
    details: str = ""  # RESPONSE_CODE_DETAILS ("via_upstream", "route_not_found"...)
    bytes_received: int | None = None
    bytes_sent: int | None = None
    duration_ms: int | None = None
    upstream_ms: int | None = None  # x-envoy-upstream-service-time: the upstream's own time
    user_agent: str = ""
    request_id: str = ""
    authority: str = ""
    upstream_host: str = ""
    upstream_cluster: str = ""
    downstream_remote: str = ""
    route: str = ""

    @property
    def direction(self) -> str:
        """"inbound" (to this pod's app), "outbound" (from it), or the cluster's own name
        (PassthroughCluster, BlackHoleCluster, InboundPassthroughCluster...), "" when not known."""
        cluster = self.upstream_cluster
        if cluster.startswith("inbound|"):
            return "inbound"
        if cluster.startswith("outbound|"):
            return "outbound"
        return cluster if cluster not in ("", "-") else ""

    @property
    def upstream(self) -> str:
        """Where it went, as a person names it: an outbound cluster's service host and port
        (``reviews.shop.svc.cluster.local:9080``, with its subset), else the upstream host or cluster."""
        parts = self.upstream_cluster.split("|")
        if len(parts) == 4 and parts[0] == "outbound" and parts[3]:
            return f"{parts[3]}:{parts[1]}" + (f" ({parts[2]})" if parts[2] else "")
        return self.upstream_host or self.upstream_cluster

    @property
    def failed(self) -> bool:
        """A 5xx, no response at all (code 0 on an HTTP request), or a flag that means it was cut off."""
        if self.code is not None and (self.code >= 500 or (self.code == 0 and self.method not in ("", "-"))):
            return True
        return any(f not in ("DI", "-") for f in self.flags) and not (self.code is not None and 200 <= self.code < 400)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        token = token[1:-1]
    elif token[:1] == '"':  # a quoted field the line cut short
        token = token[1:]
    return "" if token == "-" else token


def _tokens(text: str) -> list[str]:
    """The line's fields: ``[start time]``, quoted fields with their quotes, bare words. Envoy writes a
    quoted field's value as it is, quotes inside it included (a user agent ``curl/8 "x"``, a path
    ``/q="a b"``): its closing quote is the one followed by the end of the line, or by a space and what
    may come next (another quoted field, a number or "-", a cluster's name), as a person reads it."""
    tokens: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        if text[pos] == '"':
            close = text.find('"', pos + 1)
            while close != -1 and not (close + 1 == end or
                                       (text[close + 1].isspace() and _AFTER_QUOTED.match(text, close + 2))):
                close = text.find('"', close + 1)
            stop = end if close == -1 else close + 1
        else:
            m = _TOKEN.match(text, pos)
            stop = m.end() if m else end
        tokens.append(text[pos:stop])
        pos = stop
    return tokens


def _int(token: str) -> int | None:
    token = _unquote(token)
    return int(token) if token.isascii() and token.isdigit() else None


def _flags(token: str) -> tuple[str, ...]:
    token = _unquote(token)
    return tuple(f for f in token.split(",") if f and f != "-")


def _request_line(token: str) -> tuple[str, str, str]:
    parts = _unquote(token).split(" ")
    if len(parts) < 3:
        parts += [""] * (3 - len(parts))
    method, protocol = parts[0], parts[-1]
    path = " ".join(parts[1:-1])
    return ("" if method == "-" else method), ("" if path == "-" else path), ("" if protocol == "-" else protocol)


def _from_json(text: str) -> AccessEntry | None:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # (nested deeper than Python reads: no access log entry either)
        return None
    if not isinstance(doc, dict) or sum(k in doc for k in _JSON_KEYS) < 3:
        return None

    def s(key: str) -> str:
        v = doc.get(key)
        return "" if v is None or v == "-" else str(v)

    def n(key: str) -> int | None:
        v = doc.get(key)
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer() and v >= 0:  # (a JSON encoder that writes 200.0)
            return int(v)
        if isinstance(v, float) and math.isfinite(v) and v >= 0:  # a duration with a fraction: to the millisecond
            return round(v)
        return int(v) if isinstance(v, str) and v.isascii() and v.isdigit() else None

    return AccessEntry(start_time=s("start_time"), method=s("method"), path=s("path"), protocol=s("protocol"),
                       code=n("response_code"), flags=_flags(s("response_flags")),
                       details=s("response_code_details"), bytes_received=n("bytes_received"),
                       bytes_sent=n("bytes_sent"), duration_ms=n("duration"), upstream_ms=n("upstream_service_time"),
                       user_agent=s("user_agent"), request_id=s("request_id"), authority=s("authority"),
                       upstream_host=s("upstream_host"), upstream_cluster=s("upstream_cluster"),
                       downstream_remote=s("downstream_remote_address"), route=s("route_name"))


def parse(text: str) -> AccessEntry | None:
    """One access log line's fields, or None when the line is not an access log entry."""
    text = text.strip()
    if text.startswith("{"):
        return _from_json(text)
    if not text.startswith("["):
        return None
    tokens = _tokens(text)
    if len(tokens) < 3 or not tokens[1].startswith('"') or not _CODE.fullmatch(tokens[2]):
        return None
    method, path, protocol = _request_line(tokens[1])
    rest = tokens[4:]
    # Istio's format has the response code details (a word, not a number) after the flags; Envoy's
    # own default goes on with the byte counts
    istio = bool(rest) and not (rest[0].isascii() and rest[0].isdigit())
    if istio:
        fields = dict(zip(("details", "termination", "transport_failure", "bytes_received", "bytes_sent", "duration",
                           "upstream_ms", "xff", "user_agent", "request_id", "authority", "upstream_host",
                           "upstream_cluster", "upstream_local", "downstream_local", "downstream_remote", "sni",
                           "route"), rest, strict=False))
    else:
        fields = dict(zip(("bytes_received", "bytes_sent", "duration", "upstream_ms", "xff", "user_agent",
                           "request_id", "authority", "upstream_host"), rest, strict=False))

    def f(key: str) -> str:
        return _unquote(fields.get(key, "-"))

    def i(key: str) -> int | None:
        return _int(fields.get(key, "-"))

    return AccessEntry(start_time=tokens[0][1:-1], method=method, path=path, protocol=protocol, code=int(tokens[2]),
                       flags=_flags(tokens[3] if len(tokens) > 3 else "-"), details=f("details"), bytes_received=i("bytes_received"),
                       bytes_sent=i("bytes_sent"), duration_ms=i("duration"), upstream_ms=i("upstream_ms"),
                       user_agent=f("user_agent"), request_id=f("request_id"), authority=f("authority"),
                       upstream_host=f("upstream_host"), upstream_cluster=f("upstream_cluster"),
                       downstream_remote=f("downstream_remote"), route=f("route"))


def flag_words(flags: Sequence[str]) -> str:
    """The flags with what each means ("UF: upstream connection failure"), one per line."""
    return "\n".join(f"{f}: {RESPONSE_FLAGS.get(f, 'a response flag of a newer Envoy')}" for f in flags)


def _percentile(values: Sequence[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(entries: Sequence[AccessEntry]) -> str:
    """One line on a stretch of access log: requests, 5xx and 4xx, no response, each flag with its
    count and meaning, duration p50 and p95."""
    if not entries:
        return "no access log entries"
    n = len(entries)
    parts = [f"{n} request{'s' if n != 1 else ''}"]
    classes = Counter((e.code // 100) if e.code else 0 for e in entries if e.code is not None)
    for cls, word in ((5, "5xx"), (4, "4xx")):
        if classes[cls]:
            parts.append(f"{classes[cls]} {word} ({100.0 * classes[cls] / n:.1f}%)")
    none = sum(1 for e in entries if e.code == 0 and e.method)
    if none:
        parts.append(f"{none} without a response")
    flags = Counter(f for e in entries for f in e.flags)
    if flags:
        parts.append("flags " + ", ".join(f"{f} {c}" for f, c in flags.most_common()))
    durations = [e.duration_ms for e in entries if e.duration_ms is not None]
    if durations:
        parts.append(f"duration p50 {_percentile(durations, 0.5)} ms, p95 {_percentile(durations, 0.95)} ms")
    return "; ".join(parts)
