"""Pass 1: telemetry samples -> traffic map.

Follows how Kiali's Istio telemetry vendor reads its query results:

- A namespace graph looks, for each requested namespace, at three slices of the telemetry:
  source-reported requests *into* the namespace's services that no workload served (destination
  workload "unknown"), destination-reported requests into the namespace's workloads, and
  source-reported requests out of the namespace's workloads. Each namespace gets its own traffic map;
  the maps are merged afterwards (a node is taken from the map of its own namespace).
- A series reported by both proxies (source and destination) is counted once per edge: the first
  slice that carries it wins (destination reports come before source reports).
- Istio ambient mode (``request.ambientTraffic``, see ``ambient.py``): a waypoint's report
  (reporter "waypoint") is read both as an incoming and as an outgoing series, like Kiali's
  reporter=~"waypoint|destination" and reporter=~"waypoint|source" queries; ztunnel's TCP series
  (app "ztunnel") are read like any other. An ambient namespace also reads source-reported requests
  from other namespaces into its workloads.
- A node-detail graph looks at the node's incoming (destination-reported) and outgoing
  (source-reported) series only.
- TCP rates are backwards in Istio's telemetry: "sent" bytes are ``istio_tcp_received_bytes_total``
  and "received" bytes are ``istio_tcp_sent_bytes_total``; "total" adds both. gRPC "sent" is request
  messages, "received" response messages.
- Series with missing labels, odd label values, NaN or infinite values, unknown metric names are
  skipped and counted (``SampleWarnings``), never fatal.

Samples are indexed once into groups (``Group``: one metric and protocol between one source and one
destination, as one proxy reported them); the hot loop caches every per-label-set decision, so each
series costs a few dict look-ups. A map then counts whole groups: their nodes and edges are resolved
once per map, twins are found by comparing the groups' (code, flags) marks, and a group's rates are
summed before they are added to each leg they cross.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any

from meshdesk.mesh import telemetry as tm_
from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.trafficmap import (
    GRPC,
    HTTP,
    HTTP_CODE_CLASS_RATES,
    PASSTHROUGH,
    TCP,
    UNKNOWN,
    TNode,
    TrafficMap,
    add_dest_service,
    add_outgoing,
    is_http_error,
    is_ok,
    merge_edge_traffic,
    new_node,
    node_key,
    reset_outgoing,
)
from meshdesk.mesh.inventory import ISTIO_NAMESPACE
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings

MAX_LABEL_LENGTH = 253  # the longest DNS name; no Istio identity label is longer
EGRESS_HOST = "istio-egressgateway.istio-system.svc.cluster.local"

_SRC_LABELS = ("source_workload_namespace", "source_workload", "source_canonical_service",
               "source_canonical_revision")
_DST_LABELS = ("destination_service_namespace", "destination_service", "destination_service_name",
               "destination_workload_namespace", "destination_workload", "destination_canonical_service",
               "destination_canonical_revision")
_get_src = itemgetter(*_SRC_LABELS)
_get_dst = itemgetter(*_DST_LABELS)
_get_req = itemgetter("request_protocol", "response_code", "response_flags")
# the fast path's getters: the same labels with the cluster (and gRPC status) Istio always writes
_get_req_g = itemgetter("request_protocol", "response_code", "response_flags", "grpc_response_status")
_get_ident = itemgetter("reporter", "source_cluster", *_SRC_LABELS, "destination_cluster", *_DST_LABELS,
                        "request_protocol")
_IP_HOST = re.compile(r"^\d+\.\d+\.\d+\.\d+(:\d+)?$")

KIND_REQUESTS = "requests"
KIND_GRPC_MESSAGES = "grpc-messages"
KIND_TCP = "tcp"
_KIND = {
    tm_.REQUESTS: KIND_REQUESTS,
    tm_.REQUEST_MESSAGES: KIND_GRPC_MESSAGES,
    tm_.RESPONSE_MESSAGES: KIND_GRPC_MESSAGES,
    tm_.TCP_SENT: KIND_TCP,
    tm_.TCP_RECEIVED: KIND_TCP,
}

REASON_UNKNOWN_METRIC = "unknown metric name"
REASON_NOT_FINITE = "value is NaN or infinite"
REASON_TOO_LARGE = "value beyond any real rate, duration or size (over 1e15)"
# no series carries a rate, a duration or a size this large (a petabyte a second); values beyond it
# would add up to infinity and turn shares into NaN, so they are skipped like infinite ones
MAX_VALUE = 1e15
_INF = (math.inf, -math.inf)
REASON_NEGATIVE = "negative value"
REASON_ODD_LABEL = f"odd label value (not ASCII, control characters or longer than {MAX_LABEL_LENGTH})"
REASON_NO_NODE = "labels name no workload, app or service"


def _missing(label: str) -> str:
    return f"missing label '{label}'"


def _odd(values: Iterable[str]) -> bool:
    for v in values:
        if type(v) is not str or len(v) > MAX_LABEL_LENGTH or not v.isascii() or not v.isprintable():
            return True
    return False


# A source or destination as the index holds it (one shared tuple per distinct value):
#   src = (cluster, cluster_ok, namespace, workload, app, version)
#   dst = (cluster, cluster_ok, svc_ns, host, svc_name, wl_ns, workload, app, version)
# A group's entries are keyed by (protocol, response code label, flags, gRPC status or None).
Req = tuple[str, str, str, str | None]
# (cluster, service namespace, service, workload namespace, workload, app, version)
NodeArgs = tuple[str, str, str, str, str, str, str]


class Group:
    """The usable series of one metric and protocol between one source and one destination as one
    proxy reported them, summed per response code, flags and gRPC status (``entries``, keyed by
    ``Req``; series finer than that, e.g. split by ``request_operation``, add up like Prometheus'
    ``sum by`` in Kiali's queries). ``secured`` sums the rates of series with a
    ``connection_security_policy`` label (None: no such series), ``mtls`` those with ``mutual_tls``,
    ``unknown_policy`` those with ``unknown`` (what a waypoint's reports may say);
    ``principals`` are the first such series' source and destination principals.
    ``marks`` are the (response code, flags) of its entries, what twin reports are told apart by.

    Groups keep the order in which series first named them, so nodes and edges are made in the
    order the series name them."""

    __slots__ = ("metric", "reporter", "src", "dst", "protocol", "pkey", "entries", "secured", "mtls",
                 "unknown_policy", "principals", "marks")

    def __init__(self, metric: str, reporter: str, src: tuple[Any, ...], dst: tuple[Any, ...],
                 protocol: str) -> None:
        self.metric = metric
        self.reporter = reporter
        self.src = src
        self.dst = dst
        self.protocol = protocol
        self.pkey = (id(src), id(dst), protocol)
        self.entries: dict[Req, float] = {}
        self.secured: float | None = None
        self.mtls = 0.0
        self.unknown_policy = 0.0
        self.principals: tuple[str, str] | None = None
        self.marks: frozenset[tuple[str, str]] | None = None  # made on first use


class SampleIndex:
    """Usable traffic series grouped the ways the graph slices them, plus the other samples by metric."""

    def __init__(self) -> None:
        self.groups: dict[str, list[Group]] = {}  # metric -> groups, in the order series first named them
        self.others: dict[str, list[Sample]] = {}  # non-traffic metrics (duration, bytes, ...)
        # metric -> (destination-reported by destination workload namespace, source-reported by source
        # namespace, source-reported that no workload served, source-reported by destination workload
        # namespace: what an ambient namespace also reads). Waypoint-reported groups are in the first
        # three, like both reporters' (Kiali asks for reporter=~"waypoint|destination" and
        # reporter=~"waypoint|source").
        self.slices: dict[str, tuple[dict[str, list[Group]], dict[str, list[Group]], list[Group],
                                     dict[str, list[Group]]]] = {}
        self.all_groups: list[Group] = []  # every group, idle ones too (their security labels count)
        # per entry key: (response code, flags), what tells twin series apart, and how it is counted
        # (``_traffic_class``: rate names, response code key, error rates; False: not counted)
        self.marks: dict[Req, tuple[str, str]] = {}
        self.classes: dict[Req, Any] = {}
        self.ztunnel: list[Group] = []  # TCP groups ztunnel reported (app="ztunnel"), to spot waypoints by
        self.warnings = SampleWarnings()

    def of(self, metric: str) -> list[Group]:
        return self.groups.get(metric, [])


MUTUAL_TLS = "mutual_tls"
UNKNOWN_POLICY = "unknown"


def _first_secured(g: Group, labels: Mapping[str, str], policy: str, value: float) -> None:
    """Start a group's security sums with its first series that has a security policy label."""
    g.secured = value
    g.mtls = value if policy == MUTUAL_TLS else 0.0
    g.unknown_policy = value if policy == UNKNOWN_POLICY else 0.0
    sp, dp = labels.get("source_principal"), labels.get("destination_principal")
    if sp is not None and dp is not None:
        g.principals = (sp, dp)


def _req_ok(req: tuple[Any, ...]) -> bool:
    """Whether an entry key's label values are usable (ASCII, printable, not too long)."""
    protocol, rc, flags, grpc_status = req
    return not _odd((protocol, rc, flags)) and (grpc_status is None or not _odd((grpc_status,)))


def index_samples(samples: Iterable[Sample], request: GraphRequest) -> SampleIndex:
    """Validate samples once and group them (``Group``); everything later works on the groups."""
    idx = SampleIndex()
    warn = idx.warnings
    default_cluster = request.cluster or UNKNOWN
    keep_idle = request.includeIdleEdges
    # ambient telemetry the request asks for (Kiali's ambientTraffic option)
    waypoint_reports = request.waypoint_reports
    ztunnel_reports = request.ztunnel_reports
    ztunnel_groups: dict[int, Group] = {}
    src_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    dst_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # one tuple per distinct src/dst value
    groups: dict[tuple[Any, ...], Group] = {}  # (metric, reporter, id(src), id(dst), protocol) -> group
    codes = idx.marks
    classes = idx.classes
    req_ok: dict[tuple[Any, ...], bool] = {}
    reqs: dict[Any, Any] = {}  # usable entry keys, each to the one tuple groups are keyed by
    kinds = _KIND

    slices = idx.slices
    by_metric = idx.groups

    def canonical(end: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        return None if end is None else shared.setdefault(end, end)

    def group_of(metric: str, reporter: str, src: tuple[Any, ...], dst: tuple[Any, ...], protocol: str) -> Group:
        """The group of a series (``src`` and ``dst`` are canonical); a new group joins its slice."""
        key = (metric, reporter, id(src), id(dst), protocol)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(metric, reporter, src, dst, protocol)
            sl = slices.get(metric)
            if sl is None:
                by_metric[metric] = []
                sl = slices[metric] = ({}, {}, [], {})
            by_metric[metric].append(g)
            if reporter != "source":  # destination or waypoint
                part = sl[0].get(dst[5])
                if part is None:
                    part = sl[0][dst[5]] = []
                part.append(g)
            if reporter != "destination":  # source or waypoint
                part = sl[1].get(src[2])
                if part is None:
                    part = sl[1][src[2]] = []
                part.append(g)
                if dst[5] == UNKNOWN and dst[6] == UNKNOWN:
                    sl[2].append(g)
                if reporter == "source" and src[2] != dst[5]:
                    part = sl[3].get(dst[5])
                    if part is None:
                        part = sl[3][dst[5]] = []
                    part.append(g)
        return g

    def general(s: Sample) -> tuple[Group, Req] | None:
        """One sample, every case (the fast path below takes the common one): the group and entry key
        it counts under, or None when it is not a traffic series or is skipped (and counted)."""
        metric = s.metric
        kind = kinds.get(metric)
        value = s.value
        if kind is None:
            if metric in tm_.KNOWN_METRICS or metric in tm_.EXTENSION_METRICS:
                if not -MAX_VALUE <= value <= MAX_VALUE:  # NaN compares false too
                    warn.add(REASON_NOT_FINITE if value != value or value in _INF else REASON_TOO_LARGE)
                elif value < 0:  # a duration or a byte rate is never negative
                    warn.add(REASON_NEGATIVE)
                elif value > 0 or keep_idle and metric in tm_.EXTENSION_METRICS:
                    # as Kiali's response time and throughput queries (``> 0``): a zero is no measurement;
                    # an extension's idle series make its idle edges when those are asked for
                    idx.others.setdefault(metric, []).append(s)
            else:
                warn.add(REASON_UNKNOWN_METRIC)
            return None
        if not -MAX_VALUE <= value <= MAX_VALUE:
            warn.add(REASON_NOT_FINITE if value != value or value in _INF else REASON_TOO_LARGE)
            return None
        if value < 0:
            warn.add(REASON_NEGATIVE)
            return None
        labels = s.labels
        try:
            reporter = labels["reporter"]
            src_raw = _get_src(labels)
            dst_raw = _get_dst(labels)
            if kind == KIND_REQUESTS:
                protocol, rc, flags = _get_req(labels)
            elif kind == KIND_TCP:
                protocol, rc, flags = TCP, "", labels["response_flags"]
            else:
                protocol, rc, flags = GRPC, "", ""
        except (KeyError, TypeError):
            warn.add(_first_missing(labels, kind))
            return None
        if reporter != "source" and reporter != "destination":
            # a recorded query result may carry the matcher it answered, e.g. "waypoint|destination"
            parts = reporter.split("|") if isinstance(reporter, str) else ()
            if "destination" in parts:
                reporter = "destination"
            elif "source" in parts:
                reporter = "source"
            elif reporter == "waypoint":
                if not waypoint_reports:
                    return None  # left out on request, as Kiali's query would leave it out
            else:
                warn.add("unknown reporter")
                return None
        ztunnel = kind == KIND_TCP and labels.get("app") == "ztunnel"
        if ztunnel and not ztunnel_reports:
            return None  # left out on request, as Kiali's query would leave it out
        sc = labels.get("source_cluster")
        skey = (sc, src_raw)
        src: Any = src_cache.get(skey, False)
        if src is False:
            src = src_cache[skey] = canonical(_checked_end(sc, src_raw, default_cluster))
        dc = labels.get("destination_cluster")
        dkey = (dc, dst_raw)
        dst: Any = dst_cache.get(dkey, False)
        if dst is False:
            dst = dst_cache[dkey] = canonical(_checked_end(dc, dst_raw, default_cluster))
        if src is None or dst is None:
            warn.add(REASON_ODD_LABEL)
            return None
        req = (protocol, rc, flags, labels.get("grpc_response_status") if kind == KIND_REQUESTS else None)
        ok = req_ok.get(req)
        if ok is None:
            ok = req_ok[req] = _req_ok(req)
        if not ok:
            warn.add(REASON_ODD_LABEL)
            return None
        known = reqs.get(req)
        if known is None:
            known = reqs[req] = req
            code = _response_code(protocol, rc, req[3]) if kind == KIND_REQUESTS else ""
            codes[req] = (code, flags)
            classes[req] = _traffic_class(protocol, code)
        g = group_of(metric, reporter, src, dst, protocol)
        if ztunnel:
            ztunnel_groups[id(g)] = g
        return g, known

    # the common case, decided with cheaper look-ups: a request series carrying every label Istio
    # writes (clusters and gRPC status included), a plain reporter, usable label values and response
    # codes seen before. Its group is found by the raw identity labels in one look-up. Anything else
    # goes through general(), which changes nothing the fast path read before it gave up. Either way a
    # group is made by the first series that is counted in it.
    fast: dict[tuple[Any, ...], Group | None] = {}  # (reporter, source, destination labels, protocol) -> group
    fast_src: dict[tuple[Any, ...], Any] = {}  # raw labels -> src (None when odd)
    fast_dst: dict[tuple[Any, ...], Any] = {}

    def fast_group(ident: tuple[Any, ...]) -> Group | None:
        """The group of a request series named by its raw identity labels; None: general() decides."""
        reporter = ident[0]
        if reporter != "source" and reporter != "destination" and (reporter != "waypoint" or not waypoint_reports):
            return None
        skey = ident[1:6]
        src = fast_src.get(skey, False)
        if src is False:
            src = fast_src[skey] = canonical(_checked_end(ident[1], ident[2:6], default_cluster))
        dkey = ident[6:14]
        dst = fast_dst.get(dkey, False)
        if dst is False:
            dst = fast_dst[dkey] = canonical(_checked_end(ident[6], ident[7:14], default_cluster))
        if src is None or dst is None:
            return None
        return group_of(tm_.REQUESTS, reporter, src, dst, ident[14])

    requests_metric = tm_.REQUESTS
    get_ident, get_req = _get_ident, _get_req_g
    for s in samples:
        g: Any = None
        if s.metric == requests_metric:
            value = s.value
            labels = s.labels
            try:
                if 0 <= value <= MAX_VALUE:  # not NaN, infinite, negative or beyond any real rate
                    ident = get_ident(labels)
                    # one tuple per distinct entry key, rather than one per series
                    req = reqs.get(get_req(labels))
                    if req is not None:
                        g = fast.get(ident, False)
                        if g is False:
                            g = fast[ident] = fast_group(ident)
            except (KeyError, TypeError):
                g = None
        if g is None:
            found = general(s)
            if found is None:
                continue
            g, req = found
            value = s.value
            labels = s.labels
        entries = g.entries
        entries[req] = entries.get(req, 0.0) + value
        policy = labels.get("connection_security_policy")
        if policy is not None and value > 0:
            if g.secured is None:
                _first_secured(g, labels, policy, value)
            else:
                g.secured += value
                if policy == MUTUAL_TLS:
                    g.mtls += value
                elif policy == UNKNOWN_POLICY:
                    g.unknown_policy += value
    idx.all_groups = list(groups.values())
    idx.ztunnel = list(ztunnel_groups.values())
    if not keep_idle:
        # rates of exactly 0 are idle traffic: kept only when idle edges are asked for
        emptied = False
        for g in idx.all_groups:
            if 0.0 in g.entries.values():
                g.entries = {k: v for k, v in g.entries.items() if v != 0.0}
                emptied = emptied or not g.entries
        if emptied:
            for metric, gs in by_metric.items():
                by_metric[metric] = [g for g in gs if g.entries]
                incoming, outgoing, unserviced, into = slices[metric]
                slices[metric] = ({k: [g for g in v if g.entries] for k, v in incoming.items()},
                                  {k: [g for g in v if g.entries] for k, v in outgoing.items()},
                                  [g for g in unserviced if g.entries],
                                  {k: [g for g in v if g.entries] for k, v in into.items()})
    return idx


def _checked_end(cluster: Any, raw: tuple[Any, ...], default_cluster: str) -> tuple[Any, ...] | None:
    """A source or destination as groups hold it: (cluster, whether a cluster label was there) and the
    raw identity labels; None when a value is odd (as index_samples decides it)."""
    if _odd(raw) or (cluster is not None and _odd((cluster,))):
        return None
    return (cluster if cluster is not None else default_cluster, cluster is not None) + raw


def _first_missing(labels: Mapping[str, str], kind: str) -> str:
    if not isinstance(labels, Mapping):
        return "labels are not a mapping"
    needed: tuple[str, ...] = ("reporter",) + _SRC_LABELS + _DST_LABELS
    if kind == KIND_REQUESTS:
        needed += ("request_protocol", "response_code", "response_flags")
    elif kind == KIND_TCP:
        needed += ("response_flags",)
    for label in needed:
        if label not in labels:
            return _missing(label)
        if not isinstance(labels[label], str):
            return f"label '{label}' is not a string"
    return "malformed labels"


def _response_code(protocol: str, code: str, grpc_status: str | None) -> str:
    """The code a series is counted under: "-" for no response (code 0), else the HTTP code, or the gRPC
    status for gRPC requests whose transport did not fail."""
    if code == "0":
        return "-"
    if protocol != GRPC or code[:1] in ("4", "5") or grpc_status is None:
        return code
    return grpc_status


# -- metric choice per requested rate ------------------------------------------------------------

def grpc_message_metrics(rate: str) -> tuple[str, ...]:
    return {"sent": (tm_.REQUEST_MESSAGES,), "received": (tm_.RESPONSE_MESSAGES,),
            "total": (tm_.REQUEST_MESSAGES, tm_.RESPONSE_MESSAGES)}.get(rate, ())


def tcp_metrics(rate: str) -> tuple[str, ...]:
    # Istio's L4 telemetry is named from the other side's point of view (istio/istio#32399)
    return {"sent": (tm_.TCP_RECEIVED,), "received": (tm_.TCP_SENT,),
            "total": (tm_.TCP_RECEIVED, tm_.TCP_SENT)}.get(rate, ())


# -- building ----------------------------------------------------------------------------------------

class _Builder:
    """Applies groups to one traffic map (Kiali's populateTrafficMap/addTraffic)."""

    def __init__(self, request: GraphRequest, warnings: SampleWarnings,
                 caches: dict[str, dict[Any, Any]]) -> None:
        self.request = request
        self.graph_type = request.graphType
        self.inject = request.injectServiceNodes or request.graphType == "service"
        self.skip_grpc_requests = request.rateGrpc != "requests"
        self.skip_http_requests = request.rateHttp != "requests"
        self.warnings = warnings
        # caches survive across namespaces (they only depend on labels and the request)
        self.src_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = caches.setdefault("src", {})
        self.dst_cache: dict[tuple[str, tuple[Any, ...]], tuple[Any, ...] | None] = caches.setdefault("dst", {})
        self.tm: TrafficMap = {}
        # metric -> id of the ends and host -> (code, flags) already counted on this map
        self.seen: dict[str, dict[int, frozenset[tuple[str, str]]]] = {}
        self.pairs: dict[tuple[int, int, str], Any] = {}  # (id(src), id(dst), protocol) -> _pair()
        self.canon: dict[tuple[Any, ...], int] = caches.setdefault("canon", {})
        # ambient waypoints, (namespace, workload) -> the clusters running it ("" for any), filled by
        # ambient.prepare
        self.waypoints: dict[tuple[str, str], frozenset[str]] = caches.setdefault("waypoints", {})

    def is_waypoint(self, cluster: str, namespace: str, workload: str) -> bool:
        """Whether telemetry naming this workload names an ambient waypoint (Kiali matches the cluster,
        or any waypoint of that name when the telemetry's cluster is unknown)."""
        if not self.waypoints:
            return False
        clusters = self.waypoints.get((namespace, workload))
        return clusters is not None and (cluster in clusters or "" in clusters or cluster == UNKNOWN)

    def _source(self, src: tuple[Any, ...]) -> tuple[Any, ...] | None:
        try:
            return self.src_cache[src]
        except KeyError:
            pass
        cluster, cluster_ok, ns, wl, app, ver = src
        res: tuple[Any, ...] | None
        if (is_ok(ns) and not is_ok(wl) and not is_ok(app)) or (is_ok(ns) and cluster_ok and not is_ok(cluster)):
            res = None  # known-bad source telemetry
        else:
            waypoint = self.is_waypoint(cluster, ns, wl)
            if waypoint:
                app = ""  # a waypoint is no app: it is a workload node in every graph type
            args: NodeArgs = (cluster, ns, "", ns, wl, app, ver)
            key = node_key(*args, self.graph_type)
            res = None if key is None else (args, key[0], key[1], waypoint)
        self.src_cache[src] = res
        return res

    def _dest(self, src_cluster: str, dst: tuple[Any, ...]) -> tuple[Any, ...] | None:
        ck = (src_cluster, dst)
        try:
            return self.dst_cache[ck]
        except KeyError:
            pass
        cluster, cluster_ok, svc_ns, host, svc_name, wl_ns, wl, app, ver = dst
        res: tuple[Any, ...] | None = None
        if host == EGRESS_HOST and host == svc_name:
            cluster, svc_ns, svc_name = src_cluster, ISTIO_NAMESPACE, "istio-egressgateway"
            wl_ns, wl, app, ver = ISTIO_NAMESPACE, "istio-egressgateway", "istio-egressgateway", "latest"
        elif not is_ok(cluster) and is_ok(src_cluster) and is_ok(svc_ns):
            cluster = src_cluster
        bad = (not is_ok(wl) and is_ok(host) and is_ok(svc_name) and host == svc_name
               and _IP_HOST.match(svc_name) is not None) or (is_ok(svc_ns) and cluster_ok and not is_ok(cluster))
        if not bad:
            waypoint = self.is_waypoint(cluster, wl_ns, wl)
            if waypoint:
                app = ""
            args: NodeArgs = (cluster, svc_ns, svc_name, wl_ns, wl, app, ver)
            key = node_key(*args, self.graph_type)
            if key is not None:
                injected: tuple[NodeArgs, str, str] | None = None
                if (self.inject and not waypoint and is_ok(svc_name) and svc_name != PASSTHROUGH
                        and key[1] != model.NODE_SERVICE):
                    svc_args: NodeArgs = (cluster, svc_ns, svc_name, "", "", "", "")
                    ikey = node_key(*svc_args, self.graph_type)
                    injected = None if ikey is None else (svc_args, ikey[0], ikey[1])
                res = (args, key[0], key[1], injected, (cluster, svc_ns, svc_name), waypoint)
            else:
                res = ()
        self.dst_cache[ck] = res
        return res

    def _node(self, args: NodeArgs, key: str, node_type: str) -> TNode:
        node = self.tm.get(key)
        if node is None:
            node = self.tm[key] = new_node(key, node_type, *args, self.graph_type)
        return node

    def _pair(self, src: tuple[Any, ...], dst: tuple[Any, ...], protocol: str) -> Any:
        """What every series from ``src`` to ``dst`` over ``protocol`` shares in this map, made on the
        first one: None when the labels are skipped silently, () when they name no node, else
        (series identity prefix, the legs to count on as (source md, dest md, edge md), destination
        services to note as (md, service)). No service node is injected next to an ambient waypoint.
        Nodes, edges and destination services appear here in the order the series-by-series counting
        made them (an edge's first series is never a twin: a twin has an earlier series with the same
        ends, which made the edge)."""
        s = self._source(src)
        if s is None:
            return None
        d = self._dest(s[0][0], dst)
        if d is None:
            return None
        if not d:
            return ()
        node_of = self._node
        source = node_of(s[0], s[1], s[2])
        dest = node_of(d[0], d[1], d[2])
        if s[3]:
            source.md["isWaypoint"] = True
        if d[5]:
            dest.md["isWaypoint"] = True
        host = dst[3]
        # twins are told apart by the node identities and series labels, not by the raw label tuples
        canon = self.canon
        ident = (s[0], d[0], protocol, host)
        cid = canon.get(ident)
        if cid is None:
            cid = canon[ident] = len(canon)
        inject = None if s[3] else d[3]
        ds = d[4]
        if inject is not None:
            svc = node_of(*inject)
            svc.md["isInjected"] = True
            e1 = source.edges.get((svc.key, protocol)) or source.add_edge(svc, protocol)
            e2 = svc.edges.get((dest.key, protocol)) or svc.add_edge(dest, protocol)
            legs: tuple[tuple[dict[str, Any], dict[str, Any], dict[str, Any]], ...] = (
                (source.md, svc.md, e1.md), (svc.md, dest.md, e2.md))
            add_dest_service(svc.md, *ds)
            add_dest_service(dest.md, *ds)
        else:
            e = source.edges.get((dest.key, protocol)) or source.add_edge(dest, protocol)
            legs = ((source.md, dest.md, e.md),)
            add_dest_service(dest.md, *ds)
        return cid, legs, host

    def populate(self, groups: Iterable[Group], kind: str, idx: SampleIndex) -> None:
        """Count groups on this map (Kiali's addTraffic, series by series): a series whose twin (the
        same code and flags between the same nodes, reported by the other proxy) was counted on this
        map already is left out, and so is a series with the code and flags of another of its group."""
        skip_grpc = kind == KIND_REQUESTS and self.skip_grpc_requests
        skip_http = kind == KIND_REQUESTS and self.skip_http_requests
        pairs = self.pairs
        pair_of = self._pair
        seen_by_metric = self.seen
        mark_of = idx.marks.__getitem__
        seen: dict[int, frozenset[tuple[str, str]]] | None = None
        for g in groups:
            if seen is None:
                seen = seen_by_metric.get(g.metric)
                if seen is None:
                    seen = seen_by_metric[g.metric] = {}
            protocol = g.protocol
            if (skip_grpc and protocol == GRPC) or (skip_http and protocol == HTTP):
                continue
            p = pairs.get(g.pkey, False)
            if p is False:
                p = pairs[g.pkey] = pair_of(g.src, g.dst, protocol)
            if not p:
                if p is not None:
                    self.warnings.add(REASON_NO_NODE, len(g.entries))
                continue
            marks = g.marks
            if marks is None:
                marks = g.marks = frozenset(map(mark_of, g.entries))
            cid, legs, host = p
            counted = seen.get(cid)
            if counted is None:
                seen[cid] = marks
                _count(g, legs, host, None, idx, len(marks) != len(g.entries))
            elif counted.isdisjoint(marks):
                seen[cid] = counted | marks
                _count(g, legs, host, None, idx, len(marks) != len(g.entries))
            elif not marks <= counted:  # else all are twins of series counted already
                seen[cid] = counted | marks
                _count(g, legs, host, counted, idx, True)


def _count(g: Group, legs: tuple[tuple[dict[str, Any], dict[str, Any], dict[str, Any]], ...], host: str,
           counted: frozenset[tuple[str, str]] | None, idx: SampleIndex, check_marks: bool) -> None:
    """Add a group's series to each leg's source, destination and edge (Kiali's AddToMetadata), all but
    those whose marks are ``counted``; with ``check_marks``, one series per mark (the first)."""
    total = 0.0
    names: tuple[str, str, str] | None = None
    errs: dict[tuple[str, str], float] | None = None
    responses: dict[str, tuple[dict[str, float], list[float]]] = {}
    classes = idx.classes
    if check_marks:
        marks = idx.marks
        done: set[tuple[str, str]] = set(counted) if counted else set()
    for req, value in g.entries.items():
        if check_marks:
            mark = marks[req]
            if mark in done:
                continue
            done.add(mark)
        if value <= 0.0:
            continue
        cls = classes[req]
        if cls is False:
            continue
        out_key, in_key, edge_key, rkey, err = cls
        names = (out_key, in_key, edge_key)
        total += value
        if err is not None:
            if errs is None:
                errs = {err: value}
            else:
                errs[err] = errs.get(err, 0.0) + value
        r = responses.get(rkey)
        if r is None:
            r = responses[rkey] = ({}, [0.0])
        flags = req[2]
        if flags:
            r[0][flags] = r[0].get(flags, 0.0) + value
        r[1][0] += value
    if names is None:
        return
    out_key, in_key, edge_key = names
    for source_md, dest_md, edge_md in legs:
        source_md[out_key] = source_md.get(out_key, 0.0) + total
        dest_md[in_key] = dest_md.get(in_key, 0.0) + total
        edge_md[edge_key] = edge_md.get(edge_key, 0.0) + total
        if errs is not None:
            for (dest_err, edge_err), v in errs.items():
                dest_md[dest_err] = dest_md.get(dest_err, 0.0) + v
                edge_md[edge_err] = edge_md.get(edge_err, 0.0) + v
        by_flags = edge_md.get("responses")
        if by_flags is None:
            by_flags = edge_md["responses"] = {}
            by_hosts = edge_md["responseHosts"] = {}
        else:
            by_hosts = edge_md["responseHosts"]
        for rkey, (flags_rates, code_rate) in responses.items():
            fl: dict[str, float] | None = by_flags.get(rkey)
            if fl is None:
                fl = by_flags[rkey] = {}
                by_hosts[rkey] = {}
            for f, fv in flags_rates.items():
                fl[f] = fl.get(f, 0.0) + fv
            if host:
                hs = by_hosts[rkey]
                hs[host] = hs.get(host, 0.0) + code_rate[0]


def _traffic_class(protocol: str, code: str) -> Any:
    """(source rate, dest rate, edge rate, response code key, (dest, edge) error rates or None) a series
    of this protocol and code counts under, or False for a protocol that is not counted: the branches
    of ``trafficmap.add_traffic``, taken once per build."""
    cls: Any
    if protocol == HTTP:
        out_key, in_key, edge_key = "httpOut", "httpIn", "http"
    elif protocol == GRPC:
        out_key, in_key, edge_key = "grpcOut", "grpcIn", "grpc"
    elif protocol == TCP:
        out_key, in_key, edge_key = "tcpOut", "tcpIn", "tcp"
    else:
        cls = False
    if protocol in (HTTP, GRPC, TCP):
        if protocol == TCP:
            cls = (out_key, in_key, edge_key, "-", None)
        else:
            err: tuple[str, str] | None
            if code == "-":
                err = ("httpInNoResponse", "httpNoResponse") if protocol == HTTP else ("grpcInNoResponse",
                                                                                       "grpcNoResponse")
            elif protocol == HTTP:
                err = HTTP_CODE_CLASS_RATES.get(code[:1])
            else:
                # old telemetry may carry HTTP codes for gRPC
                bad = is_http_error(code) if len(code) == 3 else (code != "0" and code != "")
                err = ("grpcInErr", "grpcErr") if bad else None
            cls = (out_key, in_key, edge_key, code or "-", err)
    return cls


def _host_in_namespace(ns: str) -> re.Pattern[str]:
    return re.compile(r"^.+\." + re.escape(ns) + r"\..+$")


def _namespace_slices(idx: SampleIndex, metric: str, ns: str, ambient: bool,
                      sidecars: frozenset[str] = frozenset()) -> list[list[Group]]:
    """The slices of one metric that make a namespace's traffic (see the module docstring); an ambient
    namespace (``ambient``) also reads source-reported requests from other namespaces into its
    workloads, which may have no destination report (e.g. from an ingress gateway), but not into those
    of the clusters where it is not ambient (``sidecars``: their proxies report what comes in)."""
    sl = idx.slices.get(metric)
    if sl is None:
        return []
    incoming, outgoing, unserviced_all, into = sl
    unserviced: list[Group] = []
    if unserviced_all:
        in_ns = _host_in_namespace(ns)
        # as Kiali's query: by the host alone (a short host, "unknown" included, is not the namespace's)
        unserviced = [g for g in unserviced_all if g.src[2] != ns and in_ns.match(g.dst[3]) is not None]
    if ambient and _KIND.get(metric) != KIND_TCP:
        callers = into.get(ns, [])
        if sidecars:
            callers = [g for g in callers if g.dst[0] not in sidecars]
        return [unserviced, callers, incoming.get(ns, []), outgoing.get(ns, [])]
    return [unserviced, incoming.get(ns, []), outgoing.get(ns, [])]


def namespaces_in(idx: SampleIndex) -> tuple[str, ...]:
    """The namespaces workloads in the telemetry belong to (sorted, "unknown" left out)."""
    found: set[str] = set()
    for groups in idx.groups.values():
        for g in groups:
            found.add(g.src[2])
            found.add(g.dst[5])
    found.discard(UNKNOWN)
    found.discard("")
    return tuple(sorted(found))


def _metric_plan(request: GraphRequest) -> list[tuple[str, str]]:
    """(metric, kind) in the order Kiali reads them."""
    plan: list[tuple[str, str]] = []
    if request.rateHttp == "requests" or request.rateGrpc == "requests":
        plan.append((tm_.REQUESTS, KIND_REQUESTS))
    if request.rateGrpc not in ("none", "requests"):
        plan += [(m, KIND_GRPC_MESSAGES) for m in grpc_message_metrics(request.rateGrpc)]
    plan += [(m, KIND_TCP) for m in tcp_metrics(request.rateTcp)]
    return plan


def build_namespace_map(idx: SampleIndex, request: GraphRequest, ns: str,
                        caches: dict[str, dict[Any, Any]]) -> TrafficMap:
    b = _Builder(request, idx.warnings, caches)
    ambient = ns in caches.setdefault("ambient_namespaces", {})
    # an inventory merged from several clusters: the clusters where the namespace is not ambient
    sidecars = caches.get("sidecar_clusters", {}).get(ns, frozenset())
    for metric, kind in _metric_plan(request):
        for part in _namespace_slices(idx, metric, ns, ambient, sidecars):
            b.populate(part, kind, idx)
    return b.tm


def build_node_map(idx: SampleIndex, request: GraphRequest, caches: dict[str, dict[Any, Any]]) -> TrafficMap:
    """A node-detail graph: the focus node's incoming and outgoing traffic."""
    focus = request.node
    assert focus is not None
    ns = focus.namespace
    b = _Builder(request, idx.warnings, caches)
    if focus.service:
        svc_prefix = f"{focus.service}.{ns}."
    # the reporters read for the node's incoming and outgoing traffic: a waypoint's report counts as both
    inbound = {"destination", "waypoint"} if request.waypoint_reports else {"destination"}
    outbound = {"source", "waypoint"} if request.waypoint_reports else {"source"}
    # ztunnel reports a waypoint's L4 traffic from the other side: its clients' reports are its inbound
    focus_waypoint = bool(focus.workload) and (ns, focus.workload) in b.waypoints
    # in an ambient namespace requests coming in are also read from their callers' reports (an
    # ingress gateway's, say: no sidecar reports them on arrival), as Kiali reads them
    # (a namespace of that name in sidecar mode in the node's cluster: its proxies report them)
    ambient_in = request.waypoint_reports and ns in caches.get("ambient_namespaces", {}) \
        and focus.cluster not in caches.get("sidecar_clusters", {}).get(ns, ())
    for metric, kind in _metric_plan(request):
        groups = idx.of(metric)
        if not groups:
            continue
        inc_r, out_r = (outbound, inbound) if focus_waypoint and kind == KIND_TCP else (inbound, outbound)
        if ambient_in and kind != KIND_TCP:
            inc_r = inc_r | {"source"}
        if focus.workload:
            inc = [g for g in groups if g.reporter in inc_r and g.dst[5] == ns and g.dst[6] == focus.workload]
            out = [g for g in groups if g.reporter in out_r and g.src[2] == ns and g.src[3] == focus.workload]
            parts = [(True, inc), (False, out)]  # (traffic into the node, its groups)
        elif focus.app:
            version = focus.version if focus.version and is_ok(focus.version) else None
            inc = [g for g in groups if g.reporter in inc_r and g.dst[2] == ns and g.dst[7] == focus.app
                   and (version is None or g.dst[8] == version)]
            out = [g for g in groups if g.reporter in out_r and g.src[2] == ns and g.src[4] == focus.app
                   and (version is None or g.src[5] == version)]
            parts = [(True, inc), (False, out)]
        elif focus.service:
            # the service is named by its host (FQDN) or, for short hosts, by name and namespace
            def is_focus(d: tuple[Any, ...]) -> bool:
                return bool(d[3].startswith(svc_prefix) or (d[4] == focus.service and d[2] == ns))

            parts = []
            if kind == KIND_REQUESTS:
                parts.append((True, [g for g in groups if g.reporter in out_r and g.dst[6] == UNKNOWN
                                     and is_focus(g.dst)]))
            parts.append((True, [g for g in groups if g.reporter in inc_r and g.dst[2] == ns and is_focus(g.dst)]))
        else:
            parts = []
        for into, part in parts:
            if focus.cluster:
                # as Kiali's queries for a node of a known cluster: what comes in by destination_cluster,
                # what goes out by source_cluster (a series without that label is not the node's)
                part = [g for g in part if _labelled(g.dst if into else g.src, focus.cluster)]
            b.populate(part, kind, idx)
    return b.tm


def _labelled(end: tuple[Any, ...], cluster: str) -> bool:
    """Whether a source or destination (as the index holds it) carries this cluster label."""
    return bool(end[1]) and end[0] == cluster


def build_operation_map(idx: SampleIndex, request: GraphRequest, caches: dict[str, dict[Any, Any]]) -> TrafficMap:
    """An operation's node graph (Kiali's aggregate node graph): the traffic of the requests that
    carry the operation, as their destinations reported it (the samples are already those alone, see
    ``operations.focus_samples``); the operation node is put between the ends by the operations pass."""
    b = _Builder(request, idx.warnings, caches)
    b.populate([g for g in idx.of(tm_.REQUESTS) if g.reporter != "source"], KIND_REQUESTS, idx)
    return b.tm


def merge_maps(into: TrafficMap, ns: str, other: TrafficMap) -> None:
    """Merge a namespace's map into the whole: one node per key, preferring the instance built for the
    node's own namespace; edges already present are not added twice (Kiali's MergeTrafficMaps)."""
    for key, other_node in other.items():
        node = into.get(key)
        if node is None:
            into[key] = other_node
            continue
        if other_node.namespace == ns:
            into[key] = other_node
            node, other_node = other_node, node
        for ekey, edge in other_node.edges.items():
            if ekey not in node.edges:
                node.edges[ekey] = edge
                add_outgoing(node.md, edge.md)


def reduce_to_service_graph(tm: TrafficMap,
                            origins: list[tuple[TNode, TNode, TNode, str]] | None = None) -> TrafficMap:
    """Keep service nodes (and root nodes that call services); join service->workload->service paths
    into service->service edges (Kiali's ReduceToServiceGraph). Each joined edge is the first
    workload->service edge it takes in; ``origins`` gets (service, that workload, destination,
    protocol) for each, so what was judged of that edge before (its health, as in Kiali) can follow."""
    out: TrafficMap = {}
    own_breakdown: set[int] = set()  # the joined edges whose response breakdown is a copy already
    for key, n in tm.items():
        if n.node_type != model.NODE_SERVICE:
            if n.md.get("isRoot"):
                kept = {k: e for k, e in n.edges.items() if e.dest.node_type == model.NODE_SERVICE}
                if not kept:
                    continue
                reset_outgoing(n.md)
                for e in kept.values():
                    add_outgoing(n.md, e.md)
                n.edges = kept
                out[key] = n
            continue
        out[key] = n
        reset_outgoing(n.md)
        to_workloads = list(n.edges.values())
        n.edges = {}
        for e in to_workloads:
            # an edge straight to a service is an extension's (Kiali's reduction fails the whole graph
            # on one): it is service-to-service already, and stays
            onward = (e,) if e.dest.node_type == model.NODE_SERVICE else e.dest.edges.values()
            for e2 in onward:
                if e2.dest.node_type != model.NODE_SERVICE:
                    continue
                k = (e2.dest.key, e2.protocol)
                existing = n.edges.get(k)
                if existing is None:
                    if origins is not None and e2 is not e:
                        # the workload, not e2.source: another service may have taken e2
                        origins.append((n, e.dest, e2.dest, e2.protocol))
                    e2.source = n
                    n.edges[k] = e2
                    add_outgoing(n.md, e2.md)
                else:
                    add_outgoing(existing.source.md, e2.md)
                    if id(existing) not in own_breakdown:
                        # the model made before the reduction (whose health was judged) shares these
                        # dicts with this edge: add into copies, so that it keeps the edge's own
                        own_breakdown.add(id(existing))
                        for part in ("responses", "responseHosts"):
                            codes = existing.md.get(part)
                            if codes:
                                existing.md[part] = {c: dict(v) for c, v in codes.items()}
                    merge_edge_traffic(e2.md, existing.md, e2.protocol)
    return out


class EdgeResolver:
    """Find which traffic-map edge a non-traffic sample (duration, bytes, security labels) speaks of,
    with the same identity rules the traffic pass uses."""

    def __init__(self, request: GraphRequest, caches: dict[str, dict[Any, Any]] | None = None) -> None:
        self._b = _Builder(request, SampleWarnings(), caches if caches is not None else {})
        self._default_cluster = request.cluster or UNKNOWN

    def record_endpoints(self, src: tuple[Any, ...], dst: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
        """Like ``endpoints`` for the (src, dst) tuples of an indexed record."""
        s = self._b._source(src)
        if s is None:
            return None
        d = self._b._dest(s[0][0], dst)
        if not d:
            return None
        return s[1], d[1], (d[3][1] if d[3] is not None and not s[3] else None)

    def endpoints(self, labels: Mapping[str, str]) -> tuple[str, str, str | None, str] | None:
        """(source key, destination key, injected service key or None, host), or None when the labels
        name no usable edge."""
        try:
            src_raw = _get_src(labels)
            dst_raw = _get_dst(labels)
        except (KeyError, TypeError):
            return None
        if _odd(src_raw) or _odd(dst_raw):
            return None
        sc = labels.get("source_cluster")
        dc = labels.get("destination_cluster")
        src = (sc if sc is not None else self._default_cluster, sc is not None) + src_raw
        dst = (dc if dc is not None else self._default_cluster, dc is not None) + dst_raw
        s = self._b._source(src)
        if s is None:
            return None
        d = self._b._dest(s[0][0], dst)
        if not d:
            return None
        inject = d[3][1] if d[3] is not None and not s[3] else None
        return s[1], d[1], inject, dst[3]


def reporter_of(labels: Mapping[str, str], waypoints: bool = True) -> str:
    """The reporter of a non-traffic sample; a sample without one counts as destination-reported, and
    so does an ambient waypoint's (Kiali reads them with reporter=~"waypoint|destination") unless
    ``waypoints`` is False (the request leaves waypoint reports out: Kiali then asks for
    reporter="destination" alone), when it is "waypoint", neither side."""
    rep = labels.get("reporter", "destination")
    if rep in ("source", "destination"):
        return rep
    if rep == "waypoint":
        return "destination" if waypoints else rep
    parts = rep.split("|")
    return "destination" if "destination" in parts else ("source" if "source" in parts else rep)
