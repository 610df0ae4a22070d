"""Appender: operation nodes (Kiali's aggregate nodes for ``request_operation``).

For destination-reported ``istio_requests_total`` samples that carry a ``request_operation`` label
(other than "unknown"), the source -> destination edge is replaced by source -> operation ->
destination, one aggregate node per operation (and per service when service nodes are injected, where
the destination is the service node). Traffic is counted on the new edges; the operation node gets
the outgoing rates, the destination keeps the incoming ones it already had. Not for service graphs.
Runs only when asked for (``request.appenders`` containing "operationNodes" / "aggregateNode"); the
label is ``request.extra["aggregate"]`` when set.
"""

from __future__ import annotations

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver, _response_code, reporter_of
from meshdesk.mesh.graph.trafficmap import GRPC, HTTP, TNode, TrafficMap, add_traffic
from meshdesk.mesh.request import GraphRequest

AGGREGATE = "request_operation"


def apply(tm: TrafficMap, ctx: PassContext, aggregate: str | None = None) -> None:
    req = ctx.request
    if aggregate is None:
        extra = req.extra.get("aggregate") if isinstance(req.extra, dict) else None
        aggregate = extra if isinstance(extra, str) and extra else AGGREGATE
    if req.graphType == "service" or not tm:
        return
    if req.rateHttp != "requests" and req.rateGrpc != "requests":
        return
    resolver = EdgeResolver(req, ctx.caches)
    inject = req.injectServiceNodes
    namespaces = set(ctx.namespaces)
    for s in ctx.samples:
        if s.metric != telemetry.REQUESTS:
            continue
        labels = s.labels
        op = labels.get(aggregate)
        value = s.value
        if not op or op == model.UNKNOWN or not isinstance(op, str) or not (value > 0) or value == float("inf"):
            continue
        if reporter_of(labels, ctx.request.waypoint_reports) != "destination":
            continue
        if labels.get("destination_service_namespace") not in namespaces \
                and labels.get("source_workload_namespace") not in namespaces:
            continue
        protocol = labels.get("request_protocol", "")
        if (protocol == HTTP and req.rateHttp != "requests") or (protocol == GRPC and req.rateGrpc != "requests"):
            continue
        if "response_code" not in labels or "response_flags" not in labels:
            continue
        ends = resolver.endpoints(labels)
        if ends is None:
            continue
        src_key, dst_key, svc_key, host = ends
        source = tm.get(src_key)
        dest_key = svc_key if (inject and svc_key is not None) else dst_key
        dest = tm.get(dest_key) if dest_key is not None else None
        if source is None or dest is None:
            continue
        cluster = dest.cluster
        svc_name = labels.get("destination_service_name", "") if inject else ""
        namespace = labels.get("destination_service_namespace", "") if inject else \
            labels.get("destination_workload_namespace", "")
        app = labels.get("destination_canonical_service", "") if inject else ""
        key = f"agg_{cluster}_{namespace}_{aggregate}_{op}" + (f"_{svc_name}" if svc_name else "")
        agg = tm.get(key)
        if agg is None:
            agg = tm[key] = TNode(key, model.NODE_AGGREGATE, cluster, namespace, app=app, service=svc_name)
            agg.md["aggregate"] = aggregate
            agg.md["aggregateValue"] = op
        for ekey in [k for k in source.edges if k[0] == dest.key]:
            del source.edges[ekey]
        code = _response_code(protocol, labels["response_code"], labels.get("grpc_response_status"))
        flags = labels["response_flags"]
        _add(source, agg, protocol, value, code, flags, host, to_aggregate=True)
        _add(agg, dest, protocol, value, code, flags, host, to_aggregate=False)


def focus_samples(samples: list[telemetry.Sample], request: GraphRequest) -> list[telemetry.Sample]:
    """The samples an operation's node graph is drawn from: the requests into the focus namespace's
    services (of the focus service, when one is named) carrying the operation, as their destination
    reported them (Kiali's one query for an aggregate node graph), and every non-request sample, which
    the other passes match to the edges that remain."""
    focus = request.node
    assert focus is not None and focus.aggregate is not None
    aggregate, value, ns, service = focus.aggregate, focus.aggregateValue, focus.namespace, focus.service
    waypoints = request.waypoint_reports
    out = []
    for s in samples:
        if s.metric == telemetry.REQUESTS:
            labels = s.labels
            if labels.get(aggregate) != value or labels.get("destination_service_namespace") != ns:
                continue
            if service and labels.get("destination_service_name") != service:
                continue
            if reporter_of(labels, waypoints) != "destination":
                continue
        out.append(s)
    return out


def _add(source: TNode, dest: TNode, protocol: str, value: float, code: str, flags: str, host: str,
         *, to_aggregate: bool) -> None:
    edge = source.edges.get((dest.key, protocol)) or source.add_edge(dest, protocol)
    # the aggregate node carries the traffic passing through it; the real ends keep theirs
    src_md = {} if to_aggregate else source.md
    dst_md = dest.md if to_aggregate else {}
    add_traffic(protocol, value, code, flags, host, src_md, dst_md, edge.md)
