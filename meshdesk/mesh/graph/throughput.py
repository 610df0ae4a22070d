"""Appender: throughput on HTTP edges (``edge.throughput``, bytes per second).

Reads ``istio_request_bytes`` or ``istio_response_bytes`` (``request.throughputType``) samples, the
per-second rate of the byte counters for an edge, as Kiali reads them: request bytes as the caller's
proxy reported them, response bytes as the server's did (its waypoint's, in ambient). Values for the
same edge add up. With injected service nodes the value goes on the service -> workload edge, as Kiali
does.

Kiali reads the bytes in each chosen namespace's map (those its workloads sent, and those sent to its
services from elsewhere) and keeps one map's copy of an edge when it merges them: an edge shows the
bytes read by the map it was kept from (``PassContext.edge_maps``), so the service -> workload edge of a
service outside the chosen namespaces shows the first calling namespace's bytes only, as its request
rate does. (Which window a series was read over is settled in the query: see ``sources.telemetry``.)
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
    # in a namespace graph: the map each edge was kept from (the one namespace's, when there is one),
    # and which maps read a sample
    origins = ctx.edge_maps
    chosen = set(req.namespaces) if req.node is None else set()
    only = next(iter(chosen)) if len(chosen) == 1 else None
    found: dict[tuple[str, str], list[tuple[float, tuple[str, ...]]]] = {}
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
        # Kiali's throughput queries of a namespace: what its workloads sent, what was sent to its services
        maps = tuple(ns for ns in (labels.get("source_workload_namespace"), labels.get("destination_service_namespace"))
                     if ns in chosen)
        found.setdefault(key, []).append((s.value, maps))
    for n in tm.values():
        for e in n.edges.values():
            if e.protocol != HTTP:
                continue
            parts = found.get((e.source.key, e.dest.key))
            if parts is not None:
                kept = origins.get(id(e), only)
                read = [v for v, maps in parts if kept is None or kept in maps]
                if read:
                    e.md["throughput"] = sum(read)
