"""Appender: mutual TLS share and principals on edges (``edge.is_mtls`` percent, principals).

Reads the ``connection_security_policy`` label (``mutual_tls`` / ``none`` / ...) of traffic samples
(``istio_requests_total``, and the TCP/gRPC counters when they carry it), summed while samples are
indexed: the share of an edge's traffic that used mutual TLS is ``mutual_tls / all * 100``.
Destination-reported samples are the authority (the server side knows whether the connection was
mTLS), and as in Kiali the only ones read, with a waypoint's and ztunnel's source-reported TCP series
(ztunnel reports ztunnel-to-sidecar traffic as the source): an edge only a client proxy reported
(to a service without a sidecar, PassthroughCluster) shows no share or principals. With injected service
nodes both halves of the path get the value. ``source_principal``/``destination_principal`` labels,
when present, become the edge's principals. Edges without any security label get nothing (unknown,
not 0%), except an edge to or from an ambient waypoint, which is always mutual TLS (as Kiali has
it). An edge whose reports all say ``unknown`` (a waypoint reports its requests so) gets no share
either, as in Kiali, which shows a share only when some traffic used mutual TLS (its fallback for
waypoint edges applies only where no report was read); the edge is marked ``mtlsPolicy: unknown`` so
its panel can say why, rather than the "0%" a share of unknown policies would read as. Shares are per protocol: an HTTP edge's does not mix with the TCP bytes between the same nodes.
The samples' security labels are summed per series group while samples are indexed
(``traffic.Group.secured`` and ``mtls``); here each group's endpoints are resolved once per source
and destination.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import traffic
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.traffic import EdgeResolver
from meshdesk.mesh.graph.trafficmap import TrafficMap

POLICY_LABEL = "connection_security_policy"
MUTUAL_TLS = traffic.MUTUAL_TLS
UNKNOWN_POLICY = traffic.UNKNOWN_POLICY


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    idx = ctx.index
    if not tm:
        return
    resolver = EdgeResolver(ctx.request, ctx.caches)
    ends_of: dict[tuple[int, int, str], Any] = {}
    # per reporter: (source key, dest key, protocol) -> [mutual TLS rate, rate with any policy, whether a
    # policy other than "unknown" was reported]; per protocol, so an HTTP edge's share is not mixed with
    # the TCP bytes between the same nodes
    by_dest: dict[tuple[str, str, str], list[Any]] = {}
    by_source: dict[tuple[str, str, str], list[Any]] = {}
    principals: dict[tuple[str, str, str], tuple[str, str]] = {}
    ztunnel = {id(g) for g in idx.ztunnel}
    for g in idx.all_groups:
        total = g.secured
        if total is None or (g.reporter == "source" and id(g) not in ztunnel):
            continue
        ekey = (id(g.src), id(g.dst), g.protocol)
        pairs = ends_of.get(ekey, False)
        if pairs is False:
            ends = resolver.record_endpoints(g.src, g.dst)
            if ends is None:
                pairs = None
            else:
                s, d, svc = ends
                proto = g.protocol
                pairs = ((s, svc, proto), (svc, d, proto)) if svc is not None else ((s, d, proto),)
            ends_of[ekey] = pairs
        if pairs is None:
            continue
        mtls = g.mtls
        known = g.unknown_policy != total  # (the same additions: equal when every series said "unknown")
        bucket = by_source if g.reporter == "source" else by_dest  # a waypoint's report counts as the server's
        pr = g.principals
        for pair in pairs:
            acc = bucket.get(pair)
            if acc is None:
                bucket[pair] = [mtls, total, known]
            else:
                acc[0] += mtls
                acc[1] += total
                acc[2] = acc[2] or known
            if pr is not None:
                principals.setdefault(pair, pr)
    merged = by_source
    merged.update(by_dest)
    for n in tm.values():
        for e in n.edges.values():
            pair = (e.source.key, e.dest.key, e.protocol)
            acc = merged.get(pair)
            md = e.md
            if acc is not None:
                if not acc[2] and not acc[0]:
                    md["mtlsPolicy"] = UNKNOWN_POLICY  # as Kiali: no share of reports that name no policy
                elif acc[1] > 0:
                    md["isMTLS"] = acc[0] / acc[1] * 100.0
                p = principals.get(pair)
                if p is not None:
                    md["sourcePrincipal"], md["destPrincipal"] = p
            elif e.source.md.get("isWaypoint") or e.dest.md.get("isWaypoint"):
                md["isMTLS"] = 100.0  # traffic through an ambient waypoint is always mutual TLS (Kiali)
