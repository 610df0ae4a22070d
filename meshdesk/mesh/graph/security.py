"""Appender: mutual TLS share and principals on edges (``edge.is_mtls`` percent, principals).

Reads the ``connection_security_policy`` label (``mutual_tls`` / ``none`` / ...) of traffic samples
(``istio_requests_total``, and the TCP/gRPC counters when they carry it): the share of an edge's
traffic that used mutual TLS is ``mutual_tls / all * 100``. Destination-reported samples are the
authority (the server side knows whether the connection was mTLS); source-reported ones are used
for edges with no destination report. With injected service nodes both halves of the path get the
value. ``source_principal``/``destination_principal`` labels, when present, become the edge's
principals. Edges without any security label get nothing (unknown, not 0%).
"""

from __future__ import annotations

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver, reporter_of
from meshdesk.mesh.graph.trafficmap import TrafficMap

POLICY_LABEL = "connection_security_policy"
MUTUAL_TLS = "mutual_tls"
_METRICS = (telemetry.REQUESTS, telemetry.TCP_SENT, telemetry.TCP_RECEIVED, telemetry.REQUEST_MESSAGES,
            telemetry.RESPONSE_MESSAGES)


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    if not tm:
        return
    wanted = set(_METRICS)
    resolver = EdgeResolver(ctx.request)
    # reporter -> (src, dst) -> policy -> rate
    rates: dict[str, dict[tuple[str, str], dict[str, float]]] = {"destination": {}, "source": {}}
    principals: dict[tuple[str, str], tuple[str, str]] = {}
    for s in ctx.samples:
        if s.metric not in wanted:
            continue
        labels = s.labels
        policy = labels.get(POLICY_LABEL)
        if policy is None or not isinstance(policy, str) or s.value != s.value or s.value <= 0 \
                or s.value == float("inf"):
            continue
        reporter = reporter_of(labels)
        if reporter not in rates:
            continue
        ends = resolver.endpoints(labels)
        if ends is None:
            continue
        src, dst, svc, _host = ends
        pairs = [(src, svc), (svc, dst)] if svc is not None else [(src, dst)]
        for pair in pairs:
            per = rates[reporter].setdefault(pair, {})
            per[policy] = per.get(policy, 0.0) + s.value
            sp, dp = labels.get("source_principal"), labels.get("destination_principal")
            if sp is not None and dp is not None and pair not in principals:
                principals[pair] = (sp, dp)
    merged = dict(rates["source"])
    merged.update(rates["destination"])
    if not merged and not principals:
        return
    for n in tm.values():
        for e in n.edges.values():
            pair = (e.source.key, e.dest.key)
            per = merged.get(pair)
            if per:
                total = sum(per.values())
                mtls = per.get(MUTUAL_TLS, 0.0)
                if total > 0:
                    e.md["isMTLS"] = mtls / total * 100.0
            pr = principals.get(pair)
            if pr is not None:
                e.md["sourcePrincipal"], e.md["destPrincipal"] = pr
