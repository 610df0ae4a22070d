"""Appender: mutual TLS share and principals on edges (``edge.is_mtls`` percent, principals).

Reads the ``connection_security_policy`` label (``mutual_tls`` / ``none`` / ...) of traffic samples
(``istio_requests_total``, and the TCP/gRPC counters when they carry it), summed while samples are
indexed: the share of an edge's traffic that used mutual TLS is ``mutual_tls / all * 100``.
Destination-reported samples are the authority (the server side knows whether the connection was
mTLS); source-reported ones are used for edges with no destination report. With injected service
nodes both halves of the path get the value. ``source_principal``/``destination_principal`` labels,
when present, become the edge's principals. Edges without any security label get nothing (unknown,
not 0%).
"""

from __future__ import annotations

from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver
from meshdesk.mesh.graph.trafficmap import TrafficMap

POLICY_LABEL = "connection_security_policy"
MUTUAL_TLS = "mutual_tls"


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    idx = ctx.index
    if not tm or not idx.security:
        return
    resolver = EdgeResolver(ctx.request, ctx.caches)
    rates: dict[str, dict[tuple[str, str], dict[str, float]]] = {"destination": {}, "source": {}}
    principals: dict[tuple[str, str], tuple[str, str]] = {}
    for skey, per_policy in idx.security.items():
        reporter, src, dst = skey
        ends = resolver.record_endpoints(src, dst)
        if ends is None:
            continue
        s, d, svc = ends
        pairs = ((s, svc), (svc, d)) if svc is not None else ((s, d),)
        bucket = rates[reporter]
        pr = idx.principals.get(skey)
        for pair in pairs:
            per = bucket.get(pair)
            if per is None:
                per = bucket[pair] = {}
            for policy, v in per_policy.items():
                per[policy] = per.get(policy, 0.0) + v
            if pr is not None and pair not in principals:
                principals[pair] = pr
    merged = rates["source"]
    merged.update(rates["destination"])
    for n in tm.values():
        for e in n.edges.values():
            pair = (e.source.key, e.dest.key)
            per = merged.get(pair)
            if per:
                total = sum(per.values())
                if total > 0:
                    e.md["isMTLS"] = per.get(MUTUAL_TLS, 0.0) / total * 100.0
            p = principals.get(pair)
            if p is not None:
                e.md["sourcePrincipal"], e.md["destPrincipal"] = p
