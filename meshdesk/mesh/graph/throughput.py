"""Appender: throughput on HTTP edges (``edge.throughput``, bytes per second).

Reads ``istio_request_bytes`` or ``istio_response_bytes`` (``request.throughputType``) samples, the
per-second rate of the byte counters for an edge. Values for the same edge add up; an edge measured
by the destination proxy ignores the source proxy's twin report. With injected service nodes the
value goes on the service -> workload edge, as Kiali does.
"""

from __future__ import annotations

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver, reporter_of
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
    by_reporter: dict[str, dict[tuple[str, str], float]] = {"destination": {}, "source": {}}
    for s in samples:
        labels = s.labels
        stat = labels.get(telemetry.STAT_LABEL, "rate")
        if stat != "rate" or labels.get("request_protocol", HTTP) != HTTP:
            continue
        reporter = reporter_of(labels, req.waypoint_reports)
        if reporter not in by_reporter:
            continue
        ends = resolver.endpoints(labels)
        if ends is None:
            ctx.warnings.add("throughput sample names no edge")
            continue
        src, dst, svc, _host = ends
        key = (svc, dst) if svc is not None else (src, dst)
        bucket = by_reporter[reporter]
        bucket[key] = bucket.get(key, 0.0) + s.value
    merged = dict(by_reporter["source"])
    merged.update(by_reporter["destination"])
    for n in tm.values():
        for e in n.edges.values():
            if e.protocol != HTTP:
                continue
            v = merged.get((e.source.key, e.dest.key))
            if v is not None:
                e.md["throughput"] = v
