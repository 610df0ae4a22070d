"""Appender: throughput on HTTP edges (``edge.throughput``, bytes per second).

Reads ``istio_request_bytes`` or ``istio_response_bytes`` (``request.throughputType``) samples, the
per-second rate of the byte counters for an edge, as Kiali reads them: request bytes as the caller's
proxy reported them, response bytes as the server's did (its waypoint's, in ambient). Values for the
same edge add up. With injected service nodes the value goes on the service -> workload edge, as Kiali
does.
"""

from __future__ import annotations

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver
from meshdesk.mesh.graph.trafficmap import HTTP, TrafficMap


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    req = ctx.request
    if req.rateHttp != "requests" or not tm:
        return
    metric = telemetry.REQUEST_BYTES if req.throughputType == "request" else telemetry.RESPONSE_BYTES
    samples = ctx.index.others.get(metric, [])
    if not samples:
        return
    resolver = EdgeResolver(req, ctx.caches)
    wanted = "source" if req.throughputType == "request" else "destination"
    found: dict[tuple[str, str], float] = {}
    for s in samples:
        labels = s.labels
        stat = labels.get(telemetry.STAT_LABEL, "rate")
        if stat != "rate" or labels.get("request_protocol", HTTP) != HTTP:
            continue
        reporter = labels.get("reporter")
        # as Kiali asks: the wanted side's proxy, or in ambient the waypoint that stands for either
        if reporter != wanted and not (reporter == "waypoint" and req.waypoint_reports):
            continue
        ends = resolver.endpoints(labels)
        if ends is None:
            ctx.warnings.add("throughput sample names no edge")
            continue
        src, dst, svc, _host = ends
        key = (svc, dst) if svc is not None else (src, dst)
        found[key] = found.get(key, 0.0) + s.value
    for n in tm.values():
        for e in n.edges.values():
            if e.protocol != HTTP:
                continue
            v = found.get((e.source.key, e.dest.key))
            if v is not None:
                e.md["throughput"] = v
