"""Appender: response time on request edges (``edge.response_time``, ms).

Reads ``istio_request_duration_milliseconds`` samples whose ``stat`` label is the requested quantile
(``request.responseTimeQuantile``: "avg", "0.5", "0.95" or "0.99"; Kiali's "50"/"95"/"99" are
accepted too). As in Kiali, destination-reported values win over source-reported ones, except that in
an ambient namespace what callers from outside reported comes first, and that an edge from a selected
namespace into another one takes its caller's report: Kiali reads each namespace's edges in that
namespace's own queries (destination reports of its services, then its workloads' own reports) and keeps
the caller's namespace's copy of an edge; a report by a caller outside the chosen namespaces alone
gives an edge no time. The first value for an edge is kept (quantiles cannot be
added), and with injected service nodes the time is put on the service -> workload edge.
"""

from __future__ import annotations

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver, reporter_of
from meshdesk.mesh.graph.trafficmap import GRPC, HTTP, TrafficMap

_ALIASES = {"50": "0.5", "95": "0.95", "99": "0.99", "0.50": "0.5", "average": "avg"}


def quantile(value: str) -> str:
    return _ALIASES.get(value, value)


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    req = ctx.request
    if req.rateHttp != "requests" and req.rateGrpc != "requests":
        return
    samples = ctx.index.others.get(telemetry.REQUEST_DURATION, [])
    if not samples or not tm:
        return
    wanted = quantile(req.responseTimeQuantile)
    resolver = EdgeResolver(req, ctx.caches)
    times: dict[tuple[str, str, str], tuple[int, float]] = {}
    ambient = ctx.caches.get("ambient_namespaces", {})
    sidecars = ctx.caches.get("sidecar_clusters", {})  # where a namespace of that name is not ambient
    selected = set(req.namespaces)
    # first, in an ambient namespace, the callers' reports of requests from outside (as Kiali's extra
    # query for such a namespace comes first); then destination reports; then source reports
    for phase in ("callers into ambient", "destination", "source"):
        for s in samples:
            labels = s.labels
            if quantile(labels.get(telemetry.STAT_LABEL, labels.get("quantile", ""))) != wanted:
                continue
            if phase == "callers into ambient":
                dest_ns = labels.get("destination_service_namespace")
                if labels.get("reporter") != "source" or dest_ns not in ambient \
                        or labels.get("source_workload_namespace") == dest_ns \
                        or labels.get("destination_cluster") in sidecars.get(dest_ns, ()):
                    continue
            elif reporter_of(labels, req.waypoint_reports) != phase:
                continue
            elif phase == "source" and selected and labels.get("source_workload_namespace") not in selected:
                # Kiali reads a namespace's own workloads' reports only: what a caller outside the chosen
                # namespaces reported (a gateway's requests no workload served) gives its edge no time
                continue
            protocol = labels.get("request_protocol", HTTP)
            if (protocol == HTTP and req.rateHttp != "requests") or (protocol == GRPC and req.rateGrpc != "requests"):
                continue
            ends = resolver.endpoints(labels)
            if ends is None:
                ctx.warnings.add("response-time sample names no edge")
                continue
            src, dst, svc, _host = ends
            key: tuple[str, str, str] = (svc, dst, protocol) if svc is not None else (src, dst, protocol)
            rank = ("callers into ambient", "destination", "source").index(phase)
            caller_ns = labels.get("source_workload_namespace")
            if svc is None and phase != "callers into ambient" and caller_ns in selected \
                    and labels.get("destination_service_namespace") != caller_ns:
                rank = 1 if phase == "source" else 2  # the caller's namespace's copy of the edge wins
            if key not in times or rank < times[key][0]:
                times[key] = (rank, s.value)
    for n in tm.values():
        for e in n.edges.values():
            found = times.get((e.source.key, e.dest.key, e.protocol))
            if found is not None:
                e.md["responseTime"] = found[1]
