"""Pass 1: telemetry samples -> traffic map.

Follows how Kiali's Istio telemetry vendor reads its query results:

- A namespace graph looks, for each requested namespace, at three slices of the telemetry:
  source-reported requests *into* the namespace's services that no workload served (destination
  workload "unknown"), destination-reported requests into the namespace's workloads, and
  source-reported requests out of the namespace's workloads. Each namespace gets its own traffic map;
  the maps are merged afterwards (a node is taken from the map of its own namespace).
- A series reported by both proxies (source and destination) is counted once per edge: the first
  slice that carries it wins (destination reports come before source reports).
- A node-detail graph looks at the node's incoming (destination-reported) and outgoing
  (source-reported) series only.
- TCP rates are backwards in Istio's telemetry: "sent" bytes are ``istio_tcp_received_bytes_total``
  and "received" bytes are ``istio_tcp_sent_bytes_total``; "total" adds both. gRPC "sent" is request
  messages, "received" response messages.
- Series with missing labels, odd label values, NaN or infinite values, unknown metric names are
  skipped and counted (``SampleWarnings``), never fatal.

The hot loop works on plain tuples and caches every per-label-set decision, so each series costs a
few dict look-ups; nodes and edges are created once.
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
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings

MAX_LABEL_LENGTH = 253  # the longest DNS name; no Istio identity label is longer
EGRESS_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
ISTIO_NAMESPACE = "istio-system"

_SRC_LABELS = ("source_workload_namespace", "source_workload", "source_canonical_service",
               "source_canonical_revision")
_DST_LABELS = ("destination_service_namespace", "destination_service", "destination_service_name",
               "destination_workload_namespace", "destination_workload", "destination_canonical_service",
               "destination_canonical_revision")
_get_src = itemgetter(*_SRC_LABELS)
_get_dst = itemgetter(*_DST_LABELS)
_get_req = itemgetter("request_protocol", "response_code", "response_flags")
# the fast path's getters: the same labels with the cluster (and gRPC status) Istio always writes
_get_src_c = itemgetter("source_cluster", *_SRC_LABELS)
_get_dst_c = itemgetter("destination_cluster", *_DST_LABELS)
_get_req_g = itemgetter("request_protocol", "response_code", "response_flags", "grpc_response_status")
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
_INF = (math.inf, -math.inf)

REASON_UNKNOWN_METRIC = "unknown metric name"
REASON_NOT_FINITE = "value is NaN or infinite"
REASON_NEGATIVE = "negative value"
REASON_ODD_LABEL = f"odd label value (not ASCII, control characters or longer than {MAX_LABEL_LENGTH})"
REASON_NO_NODE = "labels name no workload, app or service"
REASON_AMBIENT = "reported by an ambient waypoint/ztunnel (not graphed)"


def _missing(label: str) -> str:
    return f"missing label '{label}'"


def _odd(values: Iterable[str]) -> bool:
    for v in values:
        if len(v) > MAX_LABEL_LENGTH or not v.isascii() or not v.isprintable():
            return True
    return False


# A record is one usable traffic series, reduced to what the graph needs:
# (metric, reporter, src, dst, protocol, code, flags, value)
#   src = (cluster, cluster_ok, namespace, workload, app, version)
#   dst = (cluster, cluster_ok, svc_ns, host, svc_name, wl_ns, workload, app, version)
Record = tuple[str, str, tuple[Any, ...], tuple[Any, ...], str, str, str, float]
# (cluster, service namespace, service, workload namespace, workload, app, version)
NodeArgs = tuple[str, str, str, str, str, str, str]


class SampleIndex:
    """Usable traffic series grouped the ways the graph slices them, plus the other samples by metric."""

    def __init__(self) -> None:
        self.records: dict[str, list[Record]] = {}  # metric -> records
        self.others: dict[str, list[Sample]] = {}  # non-traffic metrics (duration, bytes, ...)
        self.slices: dict[str, Any] = {}  # per-metric groupings, made on first use
        # (reporter, src, dst) -> connection_security_policy -> rate; (src, dst) -> principals
        self.security: dict[tuple[Any, ...], dict[str, float]] = {}
        self.principals: dict[tuple[Any, ...], tuple[str, str]] = {}
        self.warnings = SampleWarnings()

    def of(self, metric: str) -> list[Record]:
        return self.records.get(metric, [])


def index_samples(samples: Iterable[Sample], request: GraphRequest) -> SampleIndex:
    """Validate and reduce samples once; everything later works on the records."""
    idx = SampleIndex()
    warn = idx.warnings
    default_cluster = request.cluster or UNKNOWN
    keep_idle = request.includeIdleEdges
    src_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    dst_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    code_cache: dict[tuple[Any, ...], str] = {}
    records = idx.records
    kinds = _KIND
    agg: dict[tuple[Any, ...], float] = {}
    security = idx.security

    def general(s: Sample) -> None:
        """One sample, every case (the fast path below takes the common one)."""
        metric = s.metric
        kind = kinds.get(metric)
        value = s.value
        if kind is None:
            if metric in tm_.KNOWN_METRICS:
                if value != value or value in _INF:
                    warn.add(REASON_NOT_FINITE)
                else:
                    idx.others.setdefault(metric, []).append(s)
            else:
                warn.add(REASON_UNKNOWN_METRIC)
            return
        if value != value or value in _INF:
            warn.add(REASON_NOT_FINITE)
            return
        if value < 0:
            warn.add(REASON_NEGATIVE)
            return
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
            return
        if reporter != "source" and reporter != "destination":
            # a recorded query result may carry the matcher it answered, e.g. "waypoint|destination"
            parts = reporter.split("|") if isinstance(reporter, str) else ()
            if "destination" in parts:
                reporter = "destination"
            elif "source" in parts:
                reporter = "source"
            else:
                warn.add(REASON_AMBIENT if reporter == "waypoint" else "unknown reporter")
                return
        if kind == KIND_TCP and labels.get("app") == "ztunnel":
            warn.add(REASON_AMBIENT)
            return
        sc = labels.get("source_cluster")
        skey = (sc, src_raw)
        src: Any = src_cache.get(skey, False)
        if src is False:
            if _odd(src_raw) or (sc is not None and _odd((sc,))):
                src = None
            else:
                src = (sc if sc is not None else default_cluster, sc is not None) + src_raw
            src_cache[skey] = src
        dc = labels.get("destination_cluster")
        dkey = (dc, dst_raw)
        dst: Any = dst_cache.get(dkey, False)
        if dst is False:
            if _odd(dst_raw) or (dc is not None and _odd((dc,))):
                dst = None
            else:
                dst = (dc if dc is not None else default_cluster, dc is not None) + dst_raw
            dst_cache[dkey] = dst
        if src is None or dst is None:
            warn.add(REASON_ODD_LABEL)
            return
        grpc_status = labels.get("grpc_response_status") if kind == KIND_REQUESTS else None
        if kind == KIND_REQUESTS:
            ckey = (protocol, rc, grpc_status)
            code = code_cache.get(ckey)
            if code is None:
                if _odd((protocol, rc, flags)) or (grpc_status is not None and _odd((grpc_status,))):
                    warn.add(REASON_ODD_LABEL)
                    return
                code = code_cache[ckey] = _response_code(protocol, rc, grpc_status)
        else:
            code = ""
        if flags and (len(flags) > MAX_LABEL_LENGTH or not flags.isascii()):
            warn.add(REASON_ODD_LABEL)
            return
        # series finer than the graph needs (e.g. split by request_operation) are summed, like
        # Prometheus' sum by (...) in Kiali's queries
        akey = (metric, reporter, src, dst, protocol, rc, grpc_status if kind == KIND_REQUESTS else None,
                flags, code)
        agg[akey] = agg.get(akey, 0.0) + value
        policy = labels.get("connection_security_policy")
        if policy is not None and value > 0:
            sec_key = (reporter, src, dst)
            per = security.get(sec_key)
            if per is None:
                per = security[sec_key] = {}
                sp, dp = labels.get("source_principal"), labels.get("destination_principal")
                if sp is not None and dp is not None:
                    idx.principals[sec_key] = (sp, dp)
            per[policy] = per.get(policy, 0.0) + value

    # the common case, decided with cheaper look-ups: a request series carrying every label Istio
    # writes (clusters and gRPC status included), a plain reporter, known label values and response
    # codes seen before. Anything else goes through general(), which changes nothing the fast path
    # read before it gave up (the caches here only remember pure functions of their keys).
    fast_src: dict[tuple[Any, ...], Any] = {}
    fast_dst: dict[tuple[Any, ...], Any] = {}
    flags_ok: dict[Any, bool] = {}
    requests_metric = tm_.REQUESTS
    get_src, get_dst, get_req = _get_src_c, _get_dst_c, _get_req_g
    for s in samples:
        if s.metric != requests_metric:
            general(s)
            continue
        value = s.value
        labels = s.labels
        try:
            if value - value != 0.0 or value < 0:  # NaN, infinite or negative
                general(s)
                continue
            reporter = labels["reporter"]
            skey = get_src(labels)
            dkey = get_dst(labels)
            protocol, rc, flags, grpc_status = get_req(labels)
        except (KeyError, TypeError):
            general(s)
            continue
        if reporter != "source" and reporter != "destination":
            general(s)
            continue
        src = fast_src.get(skey, False)
        if src is False:
            src = fast_src[skey] = _checked_end(skey[0], skey[1:], default_cluster)
        dst = fast_dst.get(dkey, False)
        if dst is False:
            dst = fast_dst[dkey] = _checked_end(dkey[0], dkey[1:], default_cluster)
        code = code_cache.get((protocol, rc, grpc_status))
        if src is None or dst is None or code is None:
            general(s)
            continue
        fok = flags_ok.get(flags)
        if fok is None:
            fok = flags_ok[flags] = not (flags and (len(flags) > MAX_LABEL_LENGTH or not flags.isascii()))
        if not fok:
            general(s)
            continue
        akey = (requests_metric, reporter, src, dst, protocol, rc, grpc_status, flags, code)
        agg[akey] = agg.get(akey, 0.0) + value
        policy = labels.get("connection_security_policy")
        if policy is not None and value > 0:
            sec_key = (reporter, src, dst)
            per = security.get(sec_key)
            if per is None:
                per = security[sec_key] = {}
                sp, dp = labels.get("source_principal"), labels.get("destination_principal")
                if sp is not None and dp is not None:
                    idx.principals[sec_key] = (sp, dp)
            per[policy] = per.get(policy, 0.0) + value
    # records, and at the same time the slices _slice_index would make of them
    slices = idx.slices
    rec: list[Record] = []
    incoming: dict[str, list[Record]] = {}
    outgoing: dict[str, list[Record]] = {}
    unserviced: list[Record] = []
    last_metric = None
    for (metric, reporter, src, dst, protocol, _rc, _gs, flags, code), value in agg.items():
        if value == 0 and not keep_idle:
            continue
        if metric != last_metric:
            last_metric = metric
            rec = records.get(metric)  # type: ignore[assignment]
            if rec is None:
                rec = records[metric] = []
                slices[metric] = (incoming, outgoing, unserviced) = ({}, {}, [])
            else:
                incoming, outgoing, unserviced = slices[metric]
        r = (metric, reporter, src, dst, protocol, code, flags, value)
        rec.append(r)
        if reporter == "destination":
            part = incoming.get(dst[5])
            if part is None:
                part = incoming[dst[5]] = []
            part.append(r)
        else:
            part = outgoing.get(src[2])
            if part is None:
                part = outgoing[src[2]] = []
            part.append(r)
            if dst[5] == UNKNOWN and dst[6] == UNKNOWN:
                unserviced.append(r)
    return idx


def _checked_end(cluster: Any, raw: tuple[Any, ...], default_cluster: str) -> tuple[Any, ...] | None:
    """A source or destination as records hold it: (cluster, whether a cluster label was there) and the
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
    """Applies records to one traffic map (Kiali's populateTrafficMap/addTraffic)."""

    def __init__(self, request: GraphRequest, warnings: SampleWarnings,
                 caches: dict[str, dict[Any, Any]]) -> None:
        self.request = request
        self.graph_type = request.graphType
        self.inject = request.injectServiceNodes or request.graphType == "service"
        self.skip_grpc_requests = request.rateGrpc != "requests"
        self.skip_http_requests = request.rateHttp != "requests"
        self.warnings = warnings
        # caches survive across namespaces (they only depend on labels and the request)
        self.src_cache = caches.setdefault("src", {})
        self.dst_cache = caches.setdefault("dst", {})
        self.tm: TrafficMap = {}
        self.seen: set[tuple[Any, ...]] = set()  # (ends and host, metric, code, flags) already counted
        self.pairs: dict[tuple[int, int, str], Any] = {}  # (id(src), id(dst), protocol) -> _pair()
        self.canon: dict[tuple[Any, ...], int] = caches.setdefault("canon", {})
        self.classes: dict[tuple[str, str], Any] = caches.setdefault("classes", {})

    def _source(self, src: tuple[Any, ...]) -> tuple[Any, ...] | None:
        hit = self.src_cache.get(src, False)
        if hit is not False:
            return hit
        cluster, cluster_ok, ns, wl, app, ver = src
        res: tuple[Any, ...] | None
        if (is_ok(ns) and not is_ok(wl) and not is_ok(app)) or (is_ok(ns) and cluster_ok and not is_ok(cluster)):
            res = None  # known-bad source telemetry
        else:
            args: NodeArgs = (cluster, ns, "", ns, wl, app, ver)
            key = node_key(*args, self.graph_type)
            res = None if key is None else (args, key[0], key[1])
        self.src_cache[src] = res
        return res

    def _dest(self, src_cluster: str, dst: tuple[Any, ...]) -> tuple[Any, ...] | None:
        ck = (src_cluster, dst)
        hit = self.dst_cache.get(ck, False)
        if hit is not False:
            return hit
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
            args: NodeArgs = (cluster, svc_ns, svc_name, wl_ns, wl, app, ver)
            key = node_key(*args, self.graph_type)
            if key is not None:
                injected: tuple[NodeArgs, str, str] | None = None
                if self.inject and is_ok(svc_name) and svc_name != PASSTHROUGH and key[1] != model.NODE_SERVICE:
                    svc_args: NodeArgs = (cluster, svc_ns, svc_name, "", "", "", "")
                    ikey = node_key(*svc_args, self.graph_type)
                    injected = None if ikey is None else (svc_args, ikey[0], ikey[1])
                res = (args, key[0], key[1], injected, (cluster, svc_ns, svc_name))
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
        services to note as (md, service)). Nodes, edges and destination services appear here in the
        order the series-by-series counting made them (an edge's first series is never a twin: a twin
        has an earlier series with the same ends, which made the edge)."""
        s = self._source(src)
        if s is None:
            return None
        d = self._dest(s[0][0], dst)
        if d is None:
            return None
        if not d:
            return ()
        node_of = self._node
        source = node_of(*s)
        dest = node_of(d[0], d[1], d[2])
        host = dst[3]
        # twins are told apart by the node identities and series labels, not by the raw label tuples
        canon = self.canon
        ident = (s[0], d[0], protocol, host)
        cid = canon.get(ident)
        if cid is None:
            cid = canon[ident] = len(canon)
        inject = d[3]
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

    def populate(self, records: Iterable[Record], kind: str) -> None:
        skip_grpc = kind == KIND_REQUESTS and self.skip_grpc_requests
        skip_http = kind == KIND_REQUESTS and self.skip_http_requests
        pairs = self.pairs
        pair_of = self._pair
        seen = self.seen
        warn = self.warnings
        classes = self.classes
        for metric, _reporter, src, dst, protocol, code, flags, value in records:
            if (skip_grpc and protocol == GRPC) or (skip_http and protocol == HTTP):
                continue
            pkey = (id(src), id(dst), protocol)  # src/dst tuples are interned by the index
            p = pairs.get(pkey, False)
            if p is False:
                p = pairs[pkey] = pair_of(src, dst, protocol)
            if not p:
                if p is not None:
                    warn.add(REASON_NO_NODE)
                continue
            cid, legs, host = p
            mark = (cid, metric, code, flags)
            if mark in seen:
                continue  # the twin report of a series already counted on these edges
            seen.add(mark)
            if value <= 0.0:
                continue
            cls = classes.get((protocol, code))
            if cls is None:
                cls = classes[(protocol, code)] = _traffic_class(protocol, code)
            if cls is False:
                continue
            out_key, in_key, edge_key, rkey, err = cls
            # Kiali's AddToMetadata, as trafficmap.add_traffic does it, once per leg
            for source_md, dest_md, edge_md in legs:
                source_md[out_key] = source_md.get(out_key, 0.0) + value
                dest_md[in_key] = dest_md.get(in_key, 0.0) + value
                edge_md[edge_key] = edge_md.get(edge_key, 0.0) + value
                by_flags = edge_md.get("responses")
                if by_flags is None:
                    by_flags = edge_md["responses"] = {}
                    edge_md["responseHosts"] = {}
                fl = by_flags.get(rkey)
                if fl is None:
                    fl = by_flags[rkey] = {}
                    edge_md["responseHosts"][rkey] = {}
                if flags:
                    fl[flags] = fl.get(flags, 0.0) + value
                if host:
                    hs = edge_md["responseHosts"][rkey]
                    hs[host] = hs.get(host, 0.0) + value
                if err is not None:
                    dest_md[err[0]] = dest_md.get(err[0], 0.0) + value
                    edge_md[err[1]] = edge_md.get(err[1], 0.0) + value


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


def _slice_index(idx: SampleIndex, metric: str) -> tuple[dict[str, list[Record]], dict[str, list[Record]],
                                                          list[Record]]:
    """Records of one metric grouped once: destination-reported by destination workload namespace,
    source-reported by source namespace, and the source-reported ones no workload served."""
    cached = idx.slices.get(metric)
    if cached is None:
        incoming: dict[str, list[Record]] = {}
        outgoing: dict[str, list[Record]] = {}
        unserviced: list[Record] = []
        for r in idx.of(metric):
            dst = r[3]
            if r[1] == "destination":
                incoming.setdefault(dst[5], []).append(r)
            else:
                outgoing.setdefault(r[2][2], []).append(r)
                if dst[5] == UNKNOWN and dst[6] == UNKNOWN:
                    unserviced.append(r)
        cached = idx.slices[metric] = (incoming, outgoing, unserviced)
    return cached


def _namespace_slices(idx: SampleIndex, metric: str, ns: str) -> list[list[Record]]:
    """The three slices of one metric that make a namespace's traffic (see the module docstring)."""
    incoming, outgoing, unserviced_all = _slice_index(idx, metric)
    unserviced: list[Record] = []
    if unserviced_all:
        in_ns = _host_in_namespace(ns)
        unserviced = [r for r in unserviced_all if r[2][2] != ns
                      and (in_ns.match(r[3][3]) is not None or r[3][2] == ns)]
    return [unserviced, incoming.get(ns, []), outgoing.get(ns, [])]


def namespaces_in(idx: SampleIndex) -> tuple[str, ...]:
    """The namespaces workloads in the telemetry belong to (sorted, "unknown" left out)."""
    found: set[str] = set()
    for recs in idx.records.values():
        for r in recs:
            found.add(r[2][2])
            found.add(r[3][5])
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
    for metric, kind in _metric_plan(request):
        for part in _namespace_slices(idx, metric, ns):
            b.populate(part, kind)
    return b.tm


def build_node_map(idx: SampleIndex, request: GraphRequest, caches: dict[str, dict[Any, Any]]) -> TrafficMap:
    """A node-detail graph: the focus node's incoming and outgoing traffic."""
    focus = request.node
    assert focus is not None
    ns = focus.namespace
    b = _Builder(request, idx.warnings, caches)
    if focus.service:
        svc_prefix = f"{focus.service}.{ns}."
    for metric, kind in _metric_plan(request):
        recs = idx.of(metric)
        if not recs:
            continue
        if focus.workload:
            inc = [r for r in recs if r[1] == "destination" and r[3][5] == ns and r[3][6] == focus.workload]
            out = [r for r in recs if r[1] == "source" and r[2][2] == ns and r[2][3] == focus.workload]
            parts = [inc, out]
        elif focus.app:
            version = focus.version if focus.version and is_ok(focus.version) else None
            inc = [r for r in recs if r[1] == "destination" and r[3][2] == ns and r[3][7] == focus.app
                   and (version is None or r[3][8] == version)]
            out = [r for r in recs if r[1] == "source" and r[2][2] == ns and r[2][4] == focus.app
                   and (version is None or r[2][5] == version)]
            parts = [inc, out]
        elif focus.service:
            # the service is named by its host (FQDN) or, for short hosts, by name and namespace
            def is_focus(d: tuple[Any, ...]) -> bool:
                return d[3].startswith(svc_prefix) or (d[4] == focus.service and d[2] == ns)

            parts = []
            if kind == KIND_REQUESTS:
                parts.append([r for r in recs if r[1] == "source" and r[3][6] == UNKNOWN and is_focus(r[3])])
            parts.append([r for r in recs if r[1] == "destination" and r[3][2] == ns and is_focus(r[3])])
        else:
            parts = []
        for part in parts:
            b.populate(part, kind)
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


def reduce_to_service_graph(tm: TrafficMap) -> TrafficMap:
    """Keep service nodes (and root nodes that call services); join service->workload->service paths
    into service->service edges (Kiali's ReduceToServiceGraph)."""
    out: TrafficMap = {}
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
            for e2 in e.dest.edges.values():
                if e2.dest.node_type != model.NODE_SERVICE:
                    continue
                k = (e2.dest.key, e2.protocol)
                existing = n.edges.get(k)
                if existing is None:
                    e2.source = n
                    n.edges[k] = e2
                    add_outgoing(n.md, e2.md)
                else:
                    add_outgoing(existing.source.md, e2.md)
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
        return s[1], d[1], (d[3][1] if d[3] is not None else None)

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
        inject = d[3][1] if d[3] is not None else None
        return s[1], d[1], inject, dst[3]


def reporter_of(labels: Mapping[str, str]) -> str:
    """The reporter of a non-traffic sample; a sample without one counts as destination-reported."""
    rep = labels.get("reporter", "destination")
    if rep in ("source", "destination"):
        return rep
    parts = rep.split("|")
    return "destination" if "destination" in parts else ("source" if "source" in parts else rep)
