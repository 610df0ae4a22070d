"""Distributed traces as data: what a tracing backend (Jaeger's query API, or Tempo: its own API, read by
``meshdesk.mesh.otlp`` into the same model, or its Jaeger query frontend) holds for an app, a workload or
a service, read the way Kiali reads it (Qt-free).

Istio's proxies report a span for every request they pass on (the client side, ``span.kind=client``)
and every request they receive (``span.kind=server``), under the Jaeger service ``<app>.<namespace>``
(the pod's canonical service and namespace), with an operation named after the route's host and port
(``reviews.shop.svc.cluster.local:9080/*``) and tags of their own: ``node_id``
(``sidecar~10.1.2.3~reviews-v2-7d9c-xk2p.shop~shop.svc.cluster.local``), ``http.status_code``,
``response_flags``, ``upstream_cluster``, ``istio.canonical_service``, ``istio.namespace``...

So, as in Kiali:

- an app's traces are the backend's traces of the service ``<app>.<namespace>``;
- a workload's are its app's traces that have a span of one of its pods (``node_id``'s pod name starts
  with the workload's name and its namespace is the workload's; a ``hostname`` tag, as Tempo's spans
  carry, starting with the workload's name does too; a waypoint's span names its workload in
  ``istio.source_workload`` / ``istio.destination_workload``);
- a service's are the traces of the app behind it that have a span whose operation starts with
  ``<service>.<namespace>`` (or whose ``istio.destination_canonical_service`` names it).

``parse_jaeger(document)`` turns the query API's JSON into ``Trace`` objects; what it cannot read (a
span without an id, a time that is not a number) is skipped and counted in ``TraceSet.skipped``, never
raised. ``TraceSource`` is what the demo and a live backend offer the UI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

TARGET_APP = "app"
TARGET_WORKLOAD = "workload"
TARGET_SERVICE = "service"
# the span tag naming the Istio cluster whose proxy made the span (Istio sets it; Kiali narrows a cluster's
# traces by it)
CLUSTER_TAG = "istio.cluster_id"

KIND_CLIENT = "client"
KIND_SERVER = "server"

# which API a tracing backend is asked through: Tempo's own (TraceQL) or Jaeger's query API (which Tempo
# also serves through its Jaeger query frontend); auto: Tempo's when the backend answers as Tempo
TRACING_API_AUTO, TRACING_API_JAEGER, TRACING_API_TEMPO = "auto", "jaeger", "tempo"
TRACING_APIS = (TRACING_API_AUTO, TRACING_API_JAEGER, TRACING_API_TEMPO)

# the longest a trace list may be asked for, and what is asked by default (Kiali offers 20 to 500)
LIMITS = (20, 100, 200, 500)
DEFAULT_LIMIT = 100
# cap on spans read from one answer: a runaway trace (millions of spans) must not eat the laptop
MAX_SPANS = 200_000
# a tag value longer than this is cut (a request body logged as a tag)
MAX_TAG_CHARS = 4096


@dataclass(frozen=True)
class TraceTarget:
    """Whose traces: an app (all its versions), a workload or a service, in a namespace.

    ``app`` is the app label the backend knows the traces by (for a workload, its app label; for a
    service, the app of the workloads behind it, else the service's own name); ``cluster`` is "" for
    a single-cluster mesh."""

    kind: str
    namespace: str
    name: str
    app: str = ""
    # an ambient target's waypoint (its name, and its namespace when another): its pods have no proxy of
    # their own, the waypoint reports their requests, so its spans are asked for and narrowed to the
    # target's by the ``istio.*`` tags naming it (as Kiali asks the waypoint)
    waypoint: str = ""
    waypoint_namespace: str = ""
    # the Istio cluster whose proxies' spans are the target's, in a mesh of several clusters (their spans
    # carry it in ``istio.cluster_id``); "" for a single-cluster mesh
    cluster: str = ""

    @property
    def lookup(self) -> str:
        """The app name whose traces are asked for."""
        return self.app or self.name

    def jaeger_service(self, namespace_selector: bool = True) -> str:
        """The Jaeger service name: ``<app>.<namespace>`` (Istio's proxies report under their canonical
        service and namespace), or the bare app when the backend was set up without namespaces; for an
        ambient target, its waypoint's."""
        name, namespace = (self.waypoint, self.waypoint_namespace or self.namespace) if self.waypoint \
            else (self.lookup, self.namespace)
        return f"{name}.{namespace}" if namespace_selector else name

    def title(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class TraceQuery:
    """When and which: the traces that started in [start, end] (unix seconds), at most ``limit``, with a
    span of at least ``min_duration_ms`` (0: any), only those with an error when ``errors_only``, and with
    the ``tags`` asked for."""

    target: TraceTarget
    start: float
    end: float
    limit: int = DEFAULT_LIMIT
    min_duration_ms: float = 0.0
    errors_only: bool = False
    # (key, value) pairs one span of the service carries (or its process), compared as text, as Jaeger's
    # ``tags`` parameter asks: ``(("http.method", "POST"),)``
    tags: tuple[tuple[str, str], ...] = ()


def parse_tags(text: str) -> tuple[tuple[str, str], ...]:
    """Tags as a person types them in Kiali's traces tab: ``error=true http.status_code=500``, KEY=VALUE
    pairs apart by spaces, for ``TraceQuery.tags``. ValueError, in words, for what cannot be one: a word
    without "=", an empty key or value, a key given twice, or quotes (a value holds no space, and quotes
    would be taken as part of it)."""
    out: dict[str, str] = {}
    for word in text.split():
        if '"' in word or "'" in word:
            raise ValueError(f"{word}: no quotes, please: give each tag as KEY=VALUE, e.g. http.status_code=500 "
                             "(a value cannot hold a space)")
        key, eq, value = word.partition("=")
        if not eq:
            raise ValueError(f"{word} is no tag: give each as KEY=VALUE, e.g. error=true http.status_code=500")
        if not key:
            raise ValueError(f"{word} has no key before its =: give each tag as KEY=VALUE")
        if not value:
            raise ValueError(f"{word} has no value after its =: give each tag as KEY=VALUE")
        if key in out and out[key] != value:
            raise ValueError(f"{key} is given twice ({key}={out[key]} and {word}): a span carries one value of it")
        out[key] = value
    return tuple(out.items())


def tags_text(tags: Iterable[tuple[str, str]]) -> str:
    return " ".join(f"{k}={v}" for k, v in tags)


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str  # "" for a root span
    operation: str
    service: str  # the reporting process's service name (``reviews.shop``)
    start_us: int  # unix microseconds
    duration_us: int
    tags: Mapping[str, str] = field(default_factory=dict)
    process_tags: Mapping[str, str] = field(default_factory=dict)
    # a bad reference, a tag of an odd shape ... said when the span is shown
    notes: tuple[str, ...] = ()

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    @property
    def kind(self) -> str:
        return self.tags.get("span.kind", "")

    def tag(self, *keys: str) -> str:
        """The first of ``keys`` the span carries: Envoy's and OpenTelemetry's older names, then the
        current semantic conventions' (an application's own spans)."""
        for key in keys:
            value = self.tags.get(key)
            if value:
                return value
        return ""

    @cached_property
    def status_code(self) -> int | None:
        raw = self.tag("http.status_code", "http.response.status_code")
        try:
            return int(float(raw)) if raw else None
        except ValueError:
            return None

    @property
    def grpc_status(self) -> str:
        return self.tag("grpc.status_code", "rpc.grpc.status_code")

    @property
    def response_flags(self) -> str:
        flags = self.tags.get("response_flags", "")
        return "" if flags == "-" else flags

    @cached_property
    def error(self) -> bool:
        """Whether the span failed: Envoy's ``error=true`` (a 5xx, a reset, no healthy upstream), an
        OpenTelemetry error status, or no response at all."""
        if self.tags.get("error", "").lower() == "true":
            return True
        if self.tags.get("otel.status_code", "").upper() == "ERROR":
            return True
        code = self.status_code
        if code is not None and (code >= 500 or code == 0):
            return True
        status = self.grpc_status
        return bool(status) and status not in ("0", "OK")

    @cached_property
    def node(self) -> ProxyNode:
        return proxy_node(self)

    def summary(self) -> str:
        """One line for a span table: ``GET /reviews/0 -> 200`` with flags, or the upstream cluster."""
        parts: list[str] = []
        method = self.tag("http.method", "http.request.method")
        url = self.tag("http.url", "url.full", "http.target", "url.path")
        if method or url:
            path = url
            if "://" in path:  # the host is the operation's; the path says what was asked
                rest = path.split("://", 1)[1]
                path = rest[rest.find("/"):] if "/" in rest else "/"
            parts.append(" ".join(p for p in (method, path) if p))
        code, grpc = self.status_code, self.grpc_status
        if code is not None:
            parts.append(f"-> {code}")
            # a gRPC call that failed is mostly an HTTP 200 (its status is in the trailers): the 200 alone
            # would say a failed span succeeded
            if grpc and grpc not in ("0", "OK"):
                parts.append(f"gRPC {grpc}")
        elif grpc:
            parts.append(f"-> gRPC {grpc}")
        if self.response_flags:
            parts.append(f"flags {self.response_flags}")
        if self.tags.get("otel.status_code", "").upper() == "ERROR":
            # an application's span that failed says so, with its reason when it gives one
            reason = " ".join(self.tags.get("otel.status_description", "").split())
            if reason:
                parts.append(f"error: {reason[:200]}")
            elif code is None and not grpc:
                parts.append("error")
        return " ".join(parts)


@dataclass(frozen=True)
class ProxyNode:
    """Where a span was reported: namespace, pod and the workload its name suggests (Istio does not tag
    the workload of a sidecar's span), the app and version when tagged."""

    namespace: str = ""
    pod: str = ""
    app: str = ""
    version: str = ""
    proxy: str = ""  # sidecar, router (a gateway), waypoint ... from node_id

    def matches_workload(self, workload: str, namespace: str) -> bool:
        return bool(self.pod) and self.pod.startswith(workload) and (not self.namespace or self.namespace == namespace)


def proxy_node(span: Span) -> ProxyNode:
    t = span.tags
    namespace = t.get("istio.namespace", "")
    pod, proxy = "", ""
    node_id = t.get("node_id", "")
    parts = node_id.split("~") if node_id else []
    if len(parts) >= 3:
        proxy = parts[0]
        pod_ns = parts[2]
        pod, _, ns = pod_ns.rpartition(".")
        if not pod:  # no dot: the pod name alone
            pod, ns = ns, ""
        namespace = namespace or ns
    if not pod:
        pod = t.get("hostname", "") or span.process_tags.get("hostname", "")
    app = t.get("istio.canonical_service", "")
    if not app and span.service:
        app = span.service.split(".", 1)[0]
    if not namespace and "." in span.service:
        namespace = span.service.rsplit(".", 1)[1]
    return ProxyNode(namespace, pod, app, t.get("istio.canonical_revision", ""), proxy)


@dataclass(frozen=True)
class TraceOutline:
    """What a search says of a whole trace when only some of its spans come with the answer (Tempo's
    search: the spans that matched the query, at most so many of them): when it started, how long it took
    (to the millisecond: Tempo says whole milliseconds), its root span's service and operation, and how
    many of its spans matched."""

    start_us: int
    duration_us: int
    root_service: str = ""
    root_operation: str = ""
    matched: int = 0


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: tuple[Span, ...]
    # None: ``spans`` are the whole trace; else the trace as a search outlined it, ``spans`` only those of its
    # spans the search matched (read whole with ``TraceSource.trace`` when it is opened)
    outline: TraceOutline | None = None

    @property
    def partial(self) -> bool:
        return self.outline is not None

    @cached_property
    def start_us(self) -> int:
        if self.outline is not None:
            return self.outline.start_us
        return min((s.start_us for s in self.spans), default=0)

    @cached_property
    def end_us(self) -> int:
        if self.outline is not None:
            return self.outline.start_us + self.outline.duration_us
        return max((s.end_us for s in self.spans), default=0)

    @cached_property
    def duration_us(self) -> int:
        return self.end_us - self.start_us

    @property
    def span_count(self) -> int:
        """How many spans it has; of a partial trace, how many matched the search."""
        return self.outline.matched or len(self.spans) if self.outline is not None else len(self.spans)

    @cached_property
    def errors(self) -> int:
        return sum(1 for s in self.spans if s.error)

    @cached_property
    def root(self) -> Span | None:
        """The span nothing in the trace is the parent of (the earliest, when several are: a trace
        whose first spans the backend has not got yet)."""
        ids = {s.span_id for s in self.spans}
        roots = [s for s in self.spans if not s.parent_id or s.parent_id not in ids]
        return min(roots, key=lambda s: (s.start_us, s.span_id)) if roots else None

    @cached_property
    def name(self) -> str:
        """Kiali's trace name: the root span's service and operation."""
        outline = self.outline
        if outline is not None and (outline.root_service or outline.root_operation):
            if not outline.root_operation:
                return outline.root_service
            return f"{outline.root_service}: {outline.root_operation}" if outline.root_service \
                else outline.root_operation
        root = self.root
        if root is None:
            return self.trace_id
        return f"{root.service}: {root.operation}" if root.service else root.operation

    @cached_property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({s.service for s in self.spans if s.service}))

    def children(self) -> dict[str, list[Span]]:
        """Parent span id -> its spans, by start time ("" holds the roots and orphans)."""
        ids = {s.span_id for s in self.spans}
        out: dict[str, list[Span]] = {}
        for s in self.spans:
            out.setdefault(s.parent_id if s.parent_id in ids else "", []).append(s)
        for spans in out.values():
            spans.sort(key=lambda s: (s.start_us, s.span_id))
        return out

    def ordered(self) -> list[tuple[int, Span]]:
        """The spans depth first (a parent before its children, siblings by start), with their depth;
        a cycle of parent ids (a broken backend) is cut, every span appears once."""
        kids = self.children()
        out: list[tuple[int, Span]] = []
        seen: set[str] = set()
        stack: list[tuple[int, Span]] = [(0, s) for s in reversed(kids.get("", []))]
        while stack:
            depth, span = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            out.append((depth, span))
            stack.extend((depth + 1, c) for c in reversed(kids.get(span.span_id, [])))
        out.extend((0, s) for s in sorted(self.spans, key=lambda s: (s.start_us, s.span_id))
                   if s.span_id not in seen)  # spans in a cycle: shown flat at the end
        return out


@dataclass
class TraceSet:
    """A backend's answer: traces newest first, what was skipped and what the backend said. A trace's
    summary (start, duration, errors, root, name) is worked out once, on first use; ``prepared()`` does it
    for all of them (on a worker thread, so the UI thread only reads them)."""

    traces: list[Trace] = field(default_factory=list)
    service: str = ""  # the backend service that was asked for
    skipped: int = 0  # spans or traces that could not be read
    errors: list[str] = field(default_factory=list)  # the backend's own messages (partial answers)
    notes: list[str] = field(default_factory=list)  # what the reader has to add (the app is unknown to it...)
    limit: int = 0  # the limit asked with; ``limited`` says it was reached
    fetched: int = 0  # traces the backend returned before filtering to the target

    def prepared(self) -> TraceSet:
        for t in self.traces:
            _ = (t.start_us, t.end_us, t.errors, t.name, t.services)
        return self

    @property
    def limited(self) -> bool:
        return bool(self.limit) and self.fetched >= self.limit


class TraceSource(Protocol):
    """What the demo and a tracing backend offer: the traces of a target, and one trace whole."""

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet: ...

    def trace(self, trace_id: str) -> Trace | None: ...


# --- reading Jaeger's JSON -------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = value if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else ""
    return text[:MAX_TAG_CHARS]


def _tags(raw: Any) -> tuple[dict[str, str], int]:
    """Jaeger's ``[{"key", "type", "value"}]`` as a dict of text; entries of another shape counted."""
    out: dict[str, str] = {}
    bad = 0
    if not isinstance(raw, list):
        return out, (0 if raw is None else 1)
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            bad += 1
            continue
        value = item.get("value")
        if isinstance(value, (dict, list)):
            bad += 1
            continue
        out[item["key"]] = _text(value)
    return out, bad


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _parent(raw: Mapping[str, Any]) -> str:
    """The parent span id: ``parentSpanID`` (Zipkin's JSON v1 and older Jaeger), else the first
    CHILD_OF reference, else the first reference of any kind."""
    direct = raw.get("parentSpanID")
    if isinstance(direct, str) and direct.strip("0"):
        return str(direct)
    refs = raw.get("references")
    if not isinstance(refs, list):
        return ""
    first = ""
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("spanID"), str):
            if ref.get("refType", "CHILD_OF") == "CHILD_OF":
                return str(ref["spanID"])
            first = first or str(ref["spanID"])
    return first


def parse_trace(raw: Any, budget: list[int] | None = None) -> tuple[Trace | None, int]:
    """One trace of Jaeger's JSON (``{"traceID", "spans", "processes"}``) and how many spans were
    skipped; None when nothing of it can be read. ``budget`` (a one-item list) counts down the spans
    still allowed in the whole answer."""
    if not isinstance(raw, dict):
        return None, 1
    spans_raw = raw.get("spans")
    if not isinstance(spans_raw, list):
        return None, 1
    raw_id = raw.get("traceID")
    trace_id = raw_id if isinstance(raw_id, str) else ""
    processes: dict[str, tuple[str, dict[str, str]]] = {}
    for pid, proc in (raw.get("processes") or {}).items() if isinstance(raw.get("processes"), dict) else ():
        if isinstance(proc, dict):
            name = proc.get("serviceName")
            processes[str(pid)] = (name if isinstance(name, str) else "", _tags(proc.get("tags"))[0])
    skipped = 0
    spans: list[Span] = []
    seen: set[str] = set()
    shared: set[str] = set()  # span ids more than one span carries
    for item in spans_raw:
        if budget is not None:
            if budget[0] <= 0:
                skipped += 1
                continue
            budget[0] -= 1
        if not isinstance(item, dict):
            skipped += 1
            continue
        span_id = item.get("spanID")
        start, duration = _whole(item.get("startTime")), _whole(item.get("duration"))
        if not isinstance(span_id, str) or not span_id or start is None or duration is None:
            skipped += 1
            continue
        if span_id in seen:
            shared.add(span_id)
        seen.add(span_id)
        tags, bad_tags = _tags(item.get("tags"))
        service, ptags = "", {}
        process = item.get("process")
        if isinstance(process, dict):  # inlined (a single-trace answer of some versions)
            name = process.get("serviceName")
            service, ptags = (name if isinstance(name, str) else ""), _tags(process.get("tags"))[0]
        elif isinstance(item.get("processID"), str) and item["processID"] in processes:
            service, ptags = processes[item["processID"]]
        raw_tid = item.get("traceID")
        tid: str = raw_tid if isinstance(raw_tid, str) and raw_tid else trace_id
        notes = (f"{bad_tags} tag(s) of another shape left out",) if bad_tags else ()
        operation = item.get("operationName")
        spans.append(Span(tid, span_id, _parent(item), operation if isinstance(operation, str) else "",
                          service, start, max(0, duration), tags, ptags, notes))
    if not spans:
        return None, skipped or 1
    if shared:
        spans = _unshare(spans, shared, seen)
    return Trace(trace_id or spans[0].trace_id, tuple(spans)), skipped


def _unshare(spans: list[Span], shared: set[str], taken: set[str]) -> list[Span]:
    """Spans that carry the same id, each kept under an id of its own. Zipkin's shared span context (a
    proxy not configured as Istio configures Envoy, a backend that does not tell them apart as Jaeger's
    query service does) gives a call's server span its client span's id: the client keeps the id and the
    server span becomes its child. Other repeats keep their parent, under a new id; children of the id
    stay with the span that keeps it (the client, else the first)."""
    keeper: dict[str, Span] = {}
    for span in spans:
        if span.span_id in shared and span.span_id not in keeper:
            same = [s for s in spans if s.span_id == span.span_id]
            keeper[span.span_id] = next((s for s in same if s.kind == KIND_CLIENT), same[0])
    renamed: dict[int, Span] = {}  # by id() of the span given
    server_half: dict[tuple[str, str], str] = {}  # (shared id, the server's service) -> the server's new id
    for span in spans:
        kept = keeper.get(span.span_id)
        if kept is None or kept is span:
            continue
        n = 2
        while f"{span.span_id}-{n}" in taken:
            n += 1
        new_id = f"{span.span_id}-{n}"
        taken.add(new_id)
        if span.kind == KIND_SERVER and kept.kind == KIND_CLIENT:
            parent, note = span.span_id, f"shares span id {span.span_id} with its client span (Zipkin's shared span)"
            if span.service != kept.service:
                server_half.setdefault((span.span_id, span.service), new_id)
        else:
            parent, note = span.parent_id, f"another span has its id {span.span_id}; shown as {new_id}"
        renamed[id(span)] = replace(span, span_id=new_id, parent_id=parent, notes=(*span.notes, note))
    out: list[Span] = []
    for span in spans:
        span = renamed.get(id(span), span)
        # the server's own work (its application's spans, its calls onward) names the shared id as its
        # parent: it belongs under the server half, which the same service reported
        under = server_half.get((span.parent_id, span.service))
        if under is not None and span.span_id != under:
            span = replace(span, parent_id=under)
        out.append(span)
    return out


def parse_jaeger(document: Any) -> TraceSet:
    """Jaeger's query API answer (``{"data": [trace...], "errors": [...]}``) as a ``TraceSet``, newest
    trace first. Traces or spans that cannot be read are counted in ``skipped``."""
    out = TraceSet()
    if not isinstance(document, dict):
        out.skipped = 1
        return out
    errors = document.get("errors")
    # a list, as Jaeger sends them; one error alone (a text, an object, a number: a proxy's or another
    # server's) is said whole, not letter by letter, nor failing the answer
    for err in errors if isinstance(errors, list) else [errors] if errors not in (None, "", {}) else []:
        if isinstance(err, dict):
            msg = err.get("msg") or err.get("message")
            out.errors.append(str(msg) if msg else str(err))
        else:
            out.errors.append(str(err))
    data = document.get("data")
    if data is None:
        return out
    if isinstance(data, dict):  # a single trace as some proxies answer /api/traces/{id}
        data = [data]
    if not isinstance(data, list):
        out.skipped += 1
        return out
    budget = [MAX_SPANS]
    by_id: dict[str, Trace] = {}
    for raw in data:
        trace, skipped = parse_trace(raw, budget)
        out.skipped += skipped
        if trace is None:
            continue
        if trace.trace_id in by_id:  # the same trace twice (two backends merged): keep the bigger
            if len(trace.spans) <= len(by_id[trace.trace_id].spans):
                continue
        by_id[trace.trace_id] = trace
    out.traces = sorted(by_id.values(), key=lambda t: (-t.start_us, t.trace_id))
    out.fetched = len(data)
    return out


# --- which traces belong to a target (Kiali's filters) ----------------------------------------------


def _tag_pair(span: Span, name_key: str, ns_key: str) -> tuple[str, str] | None:
    name, ns = span.tags.get(name_key, ""), span.tags.get(ns_key, "")
    return (name, ns) if name and ns else None


def span_of_workload(span: Span, namespace: str, workload: str) -> bool:
    """A span a pod of the workload reported (``node_id``/``hostname``), or a waypoint's span naming the
    workload as its source or destination."""
    for prefix in ("istio.destination", "istio.source"):
        pair = _tag_pair(span, f"{prefix}_workload", f"{prefix}_namespace")
        if pair == (workload, namespace):
            return True
    return span.node.matches_workload(workload, namespace)


def span_of_service(span: Span, namespace: str, service: str) -> bool:
    """A span about the service: its operation is the service's host (``svc.ns...:port/*``), or a
    waypoint's span naming it as canonical service."""
    for prefix in ("istio.destination", "istio.source"):
        pair = _tag_pair(span, f"{prefix}_canonical_service", f"{prefix}_namespace")
        if pair == (service, namespace):
            return True
    return span.operation.startswith(f"{service}.{namespace}")


def belongs(trace: Trace, target: TraceTarget) -> bool:
    """Whether a trace of the target's app is the target's own: every trace for an app; for a workload
    one with a span of its pods; for a service (whose app has another name) one with a span about it;
    for an ambient target (its waypoint's traces) one with a span naming it."""
    if target.kind == TARGET_WORKLOAD:
        return any(span_of_workload(s, target.namespace, target.name) for s in trace.spans)
    if target.kind == TARGET_SERVICE and (target.lookup != target.name or target.waypoint):
        return any(span_of_service(s, target.namespace, target.name) for s in trace.spans)
    if target.waypoint:  # an ambient app: the waypoint's traces that name it
        return any(span_of_service(s, target.namespace, target.lookup) for s in trace.spans)
    return True


def for_target(found: TraceSet, target: TraceTarget) -> TraceSet:
    """``found`` (the traces of the target's app) narrowed to the target's own."""
    kept = [t for t in found.traces if belongs(t, target)]
    return TraceSet(kept, found.service, found.skipped, list(found.errors), list(found.notes), found.limit,
                    found.fetched)


def matches_query(trace: Trace, query: TraceQuery, service: str) -> bool:
    """What the backend does for a query, for sources that hold traces themselves (the demo, tests'
    emulator): a trace with a span of ``service`` started within [start, end], of at least the minimum
    duration, with an error when asked."""
    start_us, end_us = int(query.start * 1e6), int(query.end * 1e6)
    min_us = int(query.min_duration_ms * 1000)
    ours = [s for s in trace.spans if s.service == service]
    if not ours:
        return False
    return any(start_us <= s.start_us <= end_us and s.duration_us >= min_us and (s.error or not query.errors_only)
               and all(s.tags.get(k, s.process_tags.get(k)) == v for k, v in query.tags)
               for s in ours)


# --- summaries ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class TraceStats:
    count: int
    errors: int  # traces with at least one failed span
    p50_ms: float
    p95_ms: float
    max_ms: float


def stats(traces: Iterable[Trace]) -> TraceStats:
    durations, errors = [], 0
    for t in traces:
        durations.append(t.duration_us / 1000)
        errors += 1 if t.errors else 0
    return TraceStats(len(durations), errors, percentile(durations, 0.5), percentile(durations, 0.95),
                      max(durations, default=math.nan))


def against_similar(trace: Trace, others: Iterable[Trace]) -> str:
    """How long ``trace`` took beside the other traces listed that began where it did (their root span's
    service and operation, as their names say), as Kiali's trace details set a trace beside similar ones:
    ``Beside the 3 other traces listed that began at the same operation: 12.3 ms slower than their mean
    (20.1 ms), slower than all 3 of them``. "" when none began there, or where it began is unknown."""
    if trace.outline is None and trace.root is None:
        return ""
    alike = [t.duration_us for t in others if t.trace_id != trace.trace_id and t.name == trace.name
             and (t.outline is not None or t.root is not None)]
    if not alike:
        return ""
    mean = sum(alike) / len(alike)
    diff = trace.duration_us - mean
    word = "slower than" if diff > 0 else "faster than" if diff < 0 else "as long as"
    said = f"{duration_text(abs(diff))} {word}" if diff else word
    many = len(alike)
    if many == 1:
        return f"Beside the other trace listed that began at the same operation: {said} it ({duration_text(mean)})"
    slower = sum(1 for d in alike if trace.duration_us > d)
    faster = sum(1 for d in alike if trace.duration_us < d)
    count, than = (slower, "slower") if slower >= faster else (faster, "faster")
    return (f"Beside the {many} other traces listed that began at the same operation: {said} their mean "
            f"({duration_text(mean)}), {than} than {'all ' if count == many else ''}{count} of them")


def trace_duration_text(trace: Trace) -> str:
    """A trace's duration as :func:`duration_text` says it; a partial one's to the millisecond, as its
    search said it (``12 ms``, ``< 1 ms``)."""
    if trace.outline is None:
        return duration_text(trace.duration_us)
    ms = trace.duration_us // 1000
    return f"{ms} ms" if ms else "< 1 ms"


def duration_text(us: float) -> str:
    """Microseconds as a person reads them: 850 us, 12.3 ms, 4.20 s."""
    if not math.isfinite(us):
        return "-"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 1_000_000:
        ms = us / 1000
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{us / 1e6:.2f} s"

