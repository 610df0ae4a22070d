"""The Prometheus queries behind a graph, and their results as ``Sample``s.

The series selected are the ones Kiali's graph queries select (``graph/telemetry/istio``: the traffic
queries per namespace and the responseTime / throughput / securityPolicy / aggregate-node appenders),
but the number of queries does not grow with the number of namespaces: Kiali sends several queries
per namespace and metric; we send ONE query per metric family for all namespaces together. The
namespaces become a regex alternation, and Kiali's several selectors for a family are joined with
PromQL ``or`` inside one query string (``or`` drops a series the left side already has, so a series
two selectors both find comes back once).

Every grouping keeps ``reporter`` (Kiali asks one reporter per query, so adding it to ``by`` splits
nothing) so a graph pass can tell source- from destination-reported twins.

Kiali's appenders are folded into the same queries instead of sending their own:

- securityPolicy (on unless ``request.appenders`` leaves it out): the traffic families also group by
  ``connection_security_policy``, ``source_principal`` and ``destination_principal``, and gain one
  more selector, destination-reported traffic whose source is in the namespaces (the mTLS view of
  edges leaving them; its source-reported twin is already there, so the graph counts it once);
- operation nodes (only when asked for): ``istio_requests_total`` also groups by
  ``request_operation`` (or ``request.extra["aggregate"]``);
- responseTime and throughput are one query each, for the requested quantile / direction;
- extensions (only those ``request.extensions`` names): Kiali's extensions appender asks each
  extension's ``kiali_ext_*`` traffic of the whole mesh, whatever the namespaces, one query per metric
  and extension; we ask one query per metric for all the named extensions together, grouped by
  ``extension`` too so the graph tells them apart.

Samples follow the conventions of ``meshdesk.mesh.telemetry``: counters are per-second rates over
``request.duration``; response times carry ``stat`` (``avg``/``0.5``/``0.95``/``0.99``);
throughput samples are ``istio_request_bytes``/``istio_response_bytes`` with ``stat="rate"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.gcpause import paused_gc
from meshdesk.mesh.request import GraphRequest, quantile_stat
from meshdesk.mesh.telemetry import PROMETHEUS_WARNED, Sample, SampleWarnings
from meshdesk.sources import promql
from meshdesk.sources.base import Cancelled

_SOURCE = (
    "source_cluster", "source_workload_namespace", "source_workload", "source_canonical_service",
    "source_canonical_revision",
)
_DEST = (
    "destination_cluster", "destination_service_namespace", "destination_service", "destination_service_name",
    "destination_workload_namespace", "destination_workload", "destination_canonical_service",
    "destination_canonical_revision",
)
# Kiali's ``by`` lists, plus "reporter".
GROUP_REQUESTS = ("reporter", *_SOURCE, *_DEST, "request_protocol", "response_code", "grpc_response_status",
                  "response_flags")
GROUP_MESSAGES = ("reporter", *_SOURCE, *_DEST)
GROUP_TCP = ("reporter", "app", *_SOURCE, *_DEST, "response_flags")
GROUP_RESPONSE_TIME = ("reporter", *_SOURCE, *_DEST, "request_protocol")
GROUP_THROUGHPUT = ("reporter", *_SOURCE, *_DEST)
# Kiali's extensions appender's ``by`` lists, plus the extension's name
GROUP_EXT_TCP = ("dest_cluster", "dest_namespace", "dest_name", "flags", "secure", "source_cluster",
                 "source_is_root", "source_namespace", "source_name", tm.EXTENSION_LABEL)
GROUP_EXT_REQUESTS = ("dest_cluster", "dest_namespace", "dest_name", "flags", "protocol", "secure",
                      "source_cluster", "source_is_root", "source_namespace", "source_name", "status_code",
                      tm.EXTENSION_LABEL)

SECURITY_LABEL = "connection_security_policy"
PRINCIPAL_LABELS = ("source_principal", "destination_principal")
DEFAULT_AGGREGATE = "request_operation"

# Appender names (meshdesk's and Kiali's spellings) that change what we query.
RESPONSE_TIME = "responseTime"
THROUGHPUT = "throughput"
SECURITY_POLICY = "securityPolicy"
OPERATION_NODES = ("operationNodes", "aggregateNode")

_CANCEL_POLL_S = 0.05  # how often a waiting refresh looks at its cancel flag


# L4 telemetry is reported backwards (istio/istio#32399): Kiali reads "sent" from the received counter.
_TCP_METRICS = {
    "sent": (tm.TCP_RECEIVED,),
    "received": (tm.TCP_SENT,),
    "total": (tm.TCP_RECEIVED, tm.TCP_SENT),
    "none": (),
}
_GRPC_MESSAGE_METRICS = {
    "sent": (tm.REQUEST_MESSAGES,),
    "received": (tm.RESPONSE_MESSAGES,),
    "total": (tm.REQUEST_MESSAGES, tm.RESPONSE_MESSAGES),
}


@dataclass(frozen=True)
class TelemetryQuery:
    """One PromQL instant query; its result series become samples named ``metric`` with ``labels``
    added (e.g. ``stat``)."""

    metric: str
    promql: str
    purpose: str  # "traffic", "responseTime", "throughput" or "extension"
    labels: Mapping[str, str] = field(default_factory=dict)
    # the label matchers of each selector the query's union reads (a series any of them matches is
    # asked for): what a source without PromQL, the demo, answers with
    selectors: tuple[tuple[str, ...], ...] = ()


class InstantQuerier(Protocol):
    """What ``fetch_samples`` needs of a client (``PrometheusClient`` has it)."""

    def query(self, promql: str, time: float | int | None = None) -> Sequence[object]: ...


def wants(request: GraphRequest, appender: str) -> bool:
    """Whether the request runs ``appender``; no list means Kiali's default (all of them, except
    operation nodes, which must be asked for)."""
    if appender in OPERATION_NODES:
        if request.node is not None and request.node.aggregateValue:
            return True  # an operation's node graph
        return request.appenders is not None and any(a in OPERATION_NODES for a in request.appenders)
    return request.appenders is None or appender in request.appenders


def response_time_stat(request: GraphRequest) -> str:
    """The ``stat`` label for the request's quantile: "avg", "0.5", "0.95" or "0.99"."""
    return quantile_stat(request.responseTimeQuantile)


# --- building blocks ------------------------------------------------------------------------------


def _rate(metric: str, matchers: Sequence[str], duration: int) -> str:
    return f"rate({promql.selector(metric, matchers)}[{int(duration)}s])"


def _sum_rate(metric: str, matchers: Sequence[str], group: Sequence[str], duration: int) -> str:
    return f"sum by ({promql.by(group)}) ({_rate(metric, matchers, duration)})"


def _union(parts: Sequence[str]) -> str:
    """Kiali's several selectors as one query; duplicates dropped, each operand parenthesised."""
    unique = list(dict.fromkeys(parts))
    if len(unique) == 1:
        return unique[0]
    return " or ".join(f"({p})" for p in unique)


def _reporter(which: str, request: GraphRequest) -> str:
    """Series one side reported; with ambient waypoint traffic asked for, the waypoints' too (Kiali's
    ``reporter=~"waypoint|destination"``)."""
    if request.waypoint_reports:
        return promql.matches("reporter", f"waypoint|{which}")
    return promql.eq("reporter", which)


def _no_ztunnel(request: GraphRequest) -> list[str]:
    """ztunnel's own L4 series are left out unless ambient ztunnel traffic is asked for."""
    return [] if request.ztunnel_reports else [promql.ne("app", "ztunnel")]


def _service_host_pattern(namespaces: Sequence[str]) -> str:
    """Kiali's ``destination_service=~"^.+\\.<ns>\\..+$"`` for several namespaces."""
    return rf"^.+\.(?:{promql.regex_union(namespaces)})\..+$"


def _node_selectors(request: GraphRequest, family: str) -> list[list[str]]:
    """The incoming and outgoing selectors of a node-detail graph (Kiali's ``buildNodeTrafficMap``),
    without the metric-specific extras; with the node's cluster known, each keeps to it, as Kiali's
    do: traffic into the node by ``destination_cluster``, traffic out of it by ``source_cluster``."""
    node = request.node
    assert node is not None
    cluster = node.cluster
    return [[*sel, promql.eq(f"{side}_cluster", cluster)] if cluster and side else sel
            for side, sel in _node_sides(request, family)]


IN, OUT = "destination", "source"  # the side of a node graph's selector: traffic into or out of the node


def _node_sides(request: GraphRequest, family: str) -> list[tuple[str, list[str]]]:
    """(side, selector): "destination" for traffic into the node, "source" for traffic out of it, ""
    where Kiali does not narrow by cluster (an operation's graph)."""
    node = request.node
    assert node is not None
    ns = node.namespace
    dest_r, src_r = _reporter("destination", request), _reporter("source", request)
    # an ambient namespace's workloads have no sidecar to report what comes in: Kiali also reads the
    # callers' reports (which namespaces are ambient the graph learns from the inventory)
    ambient_in = family != "tcp" and request.waypoint_reports
    if node.aggregate and node.aggregateValue:
        # an operation: requests into the namespace's services (or one of them) that carry it, as their
        # destination reported them (Kiali's one query for an aggregate node graph); nothing else
        if family != "requests":
            return []
        served = [_reporter("destination", request), promql.eq("destination_service_namespace", ns),
                  promql.eq(_aggregate_label(request), node.aggregateValue)]
        if node.service:
            served.append(promql.eq("destination_service_name", node.service))
        return [("", served)]
    if node.workload:
        into = [promql.eq("destination_workload_namespace", ns), promql.eq("destination_workload", node.workload)]
        from_it = [promql.eq("source_workload_namespace", ns), promql.eq("source_workload", node.workload)]
        out = [(IN, [dest_r, *into]), (OUT, [src_r, *from_it])]
        if ambient_in:
            out.append((IN, [src_r, *into]))
        if family == "tcp" and request.ambientTraffic != "none":
            # if the workload is an ambient waypoint, ztunnel reports its L4 traffic from the other side
            out += [(IN, [src_r, *into]), (OUT, [dest_r, *from_it])]
        return out
    if node.app:
        versioned = bool(node.version) and node.version != "unknown" and request.graphType != "app"
        dest = [dest_r, promql.eq("destination_service_namespace", ns),
                promql.eq("destination_canonical_service", node.app)]
        src = [src_r, promql.eq("source_workload_namespace", ns), promql.eq("source_canonical_service", node.app)]
        if versioned:
            assert node.version is not None
            dest.append(promql.eq("destination_canonical_revision", node.version))
            src.append(promql.eq("source_canonical_revision", node.version))
        return [(IN, dest), (OUT, src), (IN, [src_r, *dest[1:]])] if ambient_in else [(IN, dest), (OUT, src)]
    if node.service:
        host = rf"^{promql.regex_escape(node.service)}\.{promql.regex_escape(ns)}\..*$"
        served = [dest_r, promql.eq("destination_service_namespace", ns), promql.matches("destination_service", host)]
        extra = [(IN, [src_r, *served[1:]])] if ambient_in else []
        if family != "requests":
            return [(IN, served), *extra]
        unserved = [src_r, promql.eq("destination_workload", "unknown"), promql.matches("destination_service", host)]
        return [(IN, unserved), (IN, served), *extra]
    raise ValueError("a node-detail graph needs a workload, an app or a service")


def _namespace_selectors(request: GraphRequest, namespaces: Sequence[str], family: str, *,
                         security: bool, every: Sequence[str] | None = None) -> list[list[str]]:
    """Kiali's ``buildNamespaceTrafficMap`` selectors for all namespaces at once:

    - destination-reported traffic into the namespaces' workloads;
    - source-reported traffic out of the namespaces' workloads;
    - source-reported requests to the namespaces' services that no workload served (Kiali adds
      ``source_workload_namespace!=<ns>``; the source-reported branch above already has every series
      that condition removes, so the union is the same without it);
    - with the security policy appender, destination-reported traffic out of the namespaces'
      workloads (what Kiali's securityPolicy appender reads for the mTLS share of outgoing edges);
    - for requests and gRPC messages, source-reported traffic from other namespaces into the
      namespaces' workloads, which an ambient namespace also reads (its workloads have no sidecar to
      report it; which namespaces are ambient the graph learns from the inventory). Kiali sends that
      query for ambient namespaces, whatever the ambient option (none included).

    ``every`` is all the requested namespaces when ``namespaces`` is one window's share of them.
    """
    every = namespaces if every is None else every
    out = [
        [_reporter("destination", request), promql.one_of("destination_workload_namespace", namespaces)],
        [_reporter("source", request), promql.one_of("source_workload_namespace", namespaces)],
        [_reporter("source", request), promql.eq("destination_workload_namespace", "unknown"),
         promql.eq("destination_workload", "unknown"),
         promql.matches("destination_service", _service_host_pattern(namespaces))],
    ]
    if family != "tcp":
        out.append([promql.eq("reporter", "source"), promql.none_of("source_workload_namespace", every),
                    promql.one_of("destination_workload_namespace", namespaces)])
    if security:
        out.append([_reporter("destination", request), promql.one_of("source_workload_namespace", namespaces)])
    return out


def _namespaces(request: GraphRequest) -> list[str]:
    if request.node is not None:
        return [request.node.namespace]
    return list(dict.fromkeys(n for n in request.namespaces if n != ""))


def _windows(request: GraphRequest, namespaces: Sequence[str]) -> list[tuple[int, list[str]]]:
    """The namespaces grouped by rate window (a young namespace's is shorter: Kiali's namespace
    durations), in the order the windows first appear."""
    groups: dict[int, list[str]] = {}
    for ns in namespaces:
        groups.setdefault(request.duration_of(ns), []).append(ns)
    return list(groups.items())


def _windowed(metric: str, group: Sequence[str], kinds: Sequence[tuple[int, list[list[str]]]],
              suffix: str = "") -> list[str]:
    """``sum by (group) (rate(metric{selector}[window]))`` for every window's selectors, kind by kind:
    the selectors of the same kind (slice of the telemetry) in different windows pick disjoint series,
    and where two kinds pick the same series the earlier kind's window holds in the union, as the
    namespace map that Kiali's merge keeps takes it."""
    if not kinds:
        return []
    return [_sum_rate(metric, selectors[k], group, window) + suffix
            for k in range(len(kinds[0][1])) for window, selectors in kinds]


def _selectors(kinds: Sequence[tuple[int, list[list[str]]]]) -> tuple[tuple[str, ...], ...]:
    """Every window's selectors of ``kinds``, once each."""
    return tuple(dict.fromkeys(tuple(sel) for _window, selectors in kinds for sel in selectors))


def _aggregate_label(request: GraphRequest) -> str:
    if request.node is not None and request.node.aggregate:
        return promql.label_name(request.node.aggregate)
    return promql.label_name(str(request.extra.get("aggregate") or DEFAULT_AGGREGATE))


# --- the queries ----------------------------------------------------------------------------------


def build_queries(request: GraphRequest) -> list[TelemetryQuery]:
    """The queries for ``request``: one per metric family, whatever the number of namespaces."""
    namespaces = _namespaces(request)
    if not namespaces:
        return []
    node_graph = request.node is not None
    duration = request.duration_of(namespaces[0]) if node_graph else request.duration
    idle = "" if request.includeIdleEdges else " > 0"
    queries: list[TelemetryQuery] = []

    windows = _windows(request, namespaces)

    def traffic(metric: str, family: str, group: Sequence[str], extra: Sequence[str] = (),
                security: bool = False) -> None:
        if node_graph:
            selectors = _node_selectors(request, family)
            if not selectors:
                return  # e.g. an operation's graph reads requests alone
            kinds = [(duration, [[*extra, *sel] for sel in selectors])]
        else:
            kinds = [(window, [[*extra, *sel] for sel in _namespace_selectors(request, share, family,
                                                                                security=security, every=namespaces)])
                     for window, share in windows]
        queries.append(TelemetryQuery(metric, _union(_windowed(metric, group, kinds, idle)), "traffic",
                                      selectors=_selectors(kinds)))

    # With the security policy appender every traffic family also says which share was mTLS and
    # between which principals (what Kiali's securityPolicy appender groups by).
    security = wants(request, SECURITY_POLICY)
    security_labels = [SECURITY_LABEL, *PRINCIPAL_LABELS] if security else []
    outbound_dest = security and not node_graph

    # HTTP / gRPC requests
    if request.rateHttp == "requests" or request.rateGrpc == "requests":
        group: list[str] = [*GROUP_REQUESTS, *security_labels]
        operations = wants(request, OPERATION_NODES[0])
        if operations:
            group.append(_aggregate_label(request))
        # operation nodes also read destination-reported calls leaving the namespaces (Kiali's second
        # aggregate query), as the security policy does
        traffic(tm.REQUESTS, "requests", group, security=outbound_dest or (operations and not node_graph))

    # gRPC messages
    for metric in _GRPC_MESSAGE_METRICS.get(request.rateGrpc, ()):
        traffic(metric, "messages", [*GROUP_MESSAGES, *security_labels], security=outbound_dest)

    # TCP bytes (ztunnel's own series only with ambient ztunnel traffic, as in Kiali)
    for metric in _TCP_METRICS[request.rateTcp]:
        traffic(metric, "tcp", [*GROUP_TCP, *security_labels], extra=_no_ztunnel(request), security=outbound_dest)

    # The appenders' extra telemetry reads destination-reported series of the namespaces' services
    # and source-reported series of their workloads, each namespace over its own window.
    def dest_in(share: Sequence[str]) -> list[str]:
        return [_reporter("destination", request), promql.one_of("destination_service_namespace", share)]

    def src_out(share: Sequence[str]) -> list[str]:
        return [_reporter("source", request), promql.one_of("source_workload_namespace", share)]

    if wants(request, RESPONSE_TIME):
        stat = response_time_stat(request)
        # and, as Kiali asks of an ambient namespace (the graph learns which those are from the
        # inventory), what callers from outside reported of requests into it: no sidecar there reports
        # them on arrival, and these times come first
        kinds = [(window, [dest_in(share), src_out(share),
                           [promql.eq("reporter", "source"), promql.none_of("source_workload_namespace", namespaces),
                            promql.one_of("destination_service_namespace", share)]])
                 for window, share in windows]
        if stat == "avg":
            parts = [f"{s} / {c} > 0" for s, c in zip(
                _windowed(tm.REQUEST_DURATION + "_sum", GROUP_RESPONSE_TIME, kinds),
                _windowed(tm.REQUEST_DURATION + "_count", GROUP_RESPONSE_TIME, kinds), strict=True)]
        else:
            parts = [f"histogram_quantile({stat}, {b}) > 0"
                     for b in _windowed(tm.REQUEST_DURATION + "_bucket", ("le", *GROUP_RESPONSE_TIME), kinds)]
        queries.append(TelemetryQuery(tm.REQUEST_DURATION, _union(parts), "responseTime", {tm.STAT_LABEL: stat},
                                      _selectors(kinds)))

    if wants(request, THROUGHPUT):
        request_side = request.throughputType == "request"
        metric = tm.REQUEST_BYTES if request_side else tm.RESPONSE_BYTES
        reporter = _reporter("source" if request_side else "destination", request)

        def into(share: Sequence[str]) -> list[str]:
            return [reporter, promql.one_of("destination_service_namespace", share)]

        def out_of(share: Sequence[str]) -> list[str]:
            return [reporter, promql.one_of("source_workload_namespace", share)]

        # Bytes between two chosen namespaces are read by both namespaces' maps in Kiali, each over its
        # own window, and its merge keeps the copy of the namespace of the edge's source node. Without
        # injected service nodes that is the caller's: its window comes first. With them the bytes
        # go on the service -> workload edge, whose source is the service: the destination's window
        # first, but for requests no workload served (no service node is injected before a service
        # node), which stay on the caller's edge.
        if not (request.injectServiceNodes or request.graphType == "service"):
            kinds = [(window, [out_of(share), into(share)]) for window, share in windows]
        elif len(windows) > 1:
            unserved = [promql.eq("destination_workload", "unknown")]
            if request.graphType in ("app", "versionedApp"):
                unserved.append(promql.eq("destination_canonical_service", "unknown"))
            kinds = [(window, [[*out_of(share), *unserved], into(share), out_of(share)])
                     for window, share in windows]
        else:
            kinds = [(window, [into(share), out_of(share)]) for window, share in windows]
        parts = _windowed(metric + "_sum", GROUP_THROUGHPUT, kinds, " > 0")
        queries.append(TelemetryQuery(metric, _union(parts), "throughput", {tm.STAT_LABEL: "rate"}, _selectors(kinds)))

    queries += extension_queries(request)
    return queries


def extension_queries(request: GraphRequest) -> list[TelemetryQuery]:
    """The enabled extensions' traffic, as Kiali's extensions appender asks it: every series of theirs
    over the request's duration (not a young namespace's shorter window: Kiali reads them so), the
    mesh's whole, not the chosen namespaces'; idle series only with idle edges. One query per metric
    for all the extensions (none when none is enabled)."""
    if not request.extensions:
        return []
    which = [promql.one_of(tm.EXTENSION_LABEL, request.extensions)]
    idle = "" if request.includeIdleEdges else " > 0"
    return [TelemetryQuery(metric, _sum_rate(metric, which, GROUP_EXT_REQUESTS if metric == tm.EXT_REQUESTS
                                             else GROUP_EXT_TCP, request.duration) + idle,
                           "extension", selectors=(tuple(which),))
            for metric in tm.extension_metrics(request.rateHttp, request.rateGrpc, request.rateTcp)]


def fetch_samples(
    client: InstantQuerier,
    request: GraphRequest,
    *,
    cancelled: Callable[[], bool] | None = None,
    max_parallel: int = 4,
) -> tuple[list[Sample], SampleWarnings]:
    """Run ``build_queries(request)`` at ``request.queryTime`` (0: Prometheus's now) and turn every
    series into a ``Sample``.

    The few queries run side by side (``max_parallel`` at a time; 1 runs them one after another), so
    a refresh through a slow API-server proxy costs the slowest query, not their sum. Series with a
    NaN/Inf value are skipped and counted; Prometheus's warnings (partial results) are counted too.
    Raises ``Cancelled`` as soon as ``cancelled()`` turns true (queries still under way are left to
    finish in the background and their answers dropped), and the client's ``PrometheusError``s
    (the first failing query's, in query order)."""
    queries = build_queries(request)
    at = request.queryTime or None

    def check() -> None:
        if cancelled is not None and cancelled():
            raise Cancelled("the graph refresh was cancelled")

    check()
    results: list[Sequence[object]] = []
    if max_parallel <= 1 or len(queries) <= 1:
        for q in queries:
            check()
            results.append(client.query(q.promql, time=at))
    else:
        pool = ThreadPoolExecutor(max_workers=min(max_parallel, len(queries)), thread_name_prefix="prometheus-query")
        try:
            futures = [pool.submit(client.query, q.promql, time=at) for q in queries]
            for fut in futures:
                while True:
                    try:
                        results.append(fut.result(timeout=_CANCEL_POLL_S))
                        break
                    except FutureTimeout:
                        check()
            check()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    warnings = SampleWarnings()
    samples: list[Sample] = []
    with paused_gc():  # many new objects that all survive (see gcpause)
        for q, result in zip(queries, results, strict=True):
            for w in getattr(result, "warnings", None) or []:
                warnings.add(f"{PROMETHEUS_WARNED}{w}")
            samples += to_samples(q.metric, result, q.labels, warnings)
    return samples, warnings


def to_samples(metric: str, result: Iterable[object], extra_labels: Mapping[str, str],
               warnings: SampleWarnings) -> list[Sample]:
    """One query's series as samples of ``metric``: labels without ``__name__`` plus ``extra_labels``.
    Series with a NaN/Inf value or that are not series at all are skipped and counted. A series'
    label dict becomes the sample's when nothing is to be added or taken out (it is not copied)."""
    samples: list[Sample] = []
    for series in result:
        labels_raw = getattr(series, "labels", None)
        value = getattr(series, "value", None)
        if type(labels_raw) is not dict and not isinstance(labels_raw, Mapping) \
                or type(value) is not float and not isinstance(value, float | int):
            warnings.add(f"{metric}: a result that is not a series")
            continue
        value = float(value)
        if value - value != 0.0:  # NaN or infinite
            warnings.add(f"{metric}: value is NaN or infinite")
            continue
        if extra_labels or type(labels_raw) is not dict or "__name__" in labels_raw:
            labels = {k: v for k, v in labels_raw.items() if k != "__name__"}
            labels.update(extra_labels)
        else:
            labels = labels_raw
        samples.append(Sample(metric, labels, value))
    return samples
