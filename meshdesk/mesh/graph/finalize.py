"""Turn the working traffic map into the typed ``TrafficGraph`` the rest of the app reads.

This is where derived numbers appear: per-edge error and request shares (``httpPercentErr``,
``httpPercentReq``, ...) and the response breakdown as percentages, computed like Kiali does when it
renders its graph JSON: an edge's request share is its rate over its source node's outgoing rate
for that protocol.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.trafficmap import (
    EDGE_ERROR_RATES,
    EDGE_RATES,
    NODE_RATES,
    OUT_RATE,
    PERCENT_ERR,
    PERCENT_REQ,
    PROTOCOLS,
    TNode,
    TrafficMap,
)
from meshdesk.mesh.request import GraphRequest

# metadata keys that set a Node flag (or field) or go to ``Node.extra``; most nodes carry none of them
_NODE_FLAG_KEYS = frozenset({"isInaccessible", "isOutside", "isRoot", "isIdle", "isDead", "isEgressCluster",
                             "isServiceEntry", "hasMissingSC", "hasVS", "hasDR", "isGateway", "isInjected",
                             "healthAnnotation"})
_NODE_EXTRA_KEYS = ("hasCB", "hasTrafficShifting", "hasRequestRouting", "hasFaultInjection", "hasMirroring",
                    "hasRequestTimeout", "hasTCPTrafficShifting", "vsHosts", "isWaypoint", "labels")
_NODE_EXTRA_SET = frozenset(_NODE_EXTRA_KEYS)
_NODE_RATES_BY_PROTO = tuple((proto, NODE_RATES[proto]) for proto in PROTOCOLS)


def _model_node(n: TNode) -> model.Node:
    md = n.md
    aggregate = md.get("aggregate", "")
    aggregate_value = md.get("aggregateValue", "")
    nid = model.node_id(n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service,
                        aggregate, aggregate_value)
    traffic: dict[str, dict[str, float]] = {}
    for proto, names in _NODE_RATES_BY_PROTO:
        rates: dict[str, float] | None = None
        for r in names:
            v = md.get(r)
            if v is not None and v > 0.0:
                if rates is None:
                    rates = traffic[proto] = {}
                rates[r] = v
    ds = md.get("destServices")
    dest_services = [model.DestService(c, ns, name) for (c, ns, name) in sorted(ds)] if ds else []
    keys = md.keys()
    if keys & _NODE_FLAG_KEYS:
        node = model.Node(
            nid, n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service, aggregate,
            aggregate_value, "", None, dest_services, traffic,
            is_inaccessible=bool(md.get("isInaccessible")), is_outside=bool(md.get("isOutside")),
            is_root=bool(md.get("isRoot")), is_idle=bool(md.get("isIdle")), is_dead=bool(md.get("isDead")),
            is_egress_cluster=bool(md.get("isEgressCluster")), is_service_entry=md.get("isServiceEntry"),
            has_missing_sidecar=bool(md.get("hasMissingSC")), has_virtual_service=bool(md.get("hasVS")),
            has_destination_rule=bool(md.get("hasDR")), is_gateway=bool(md.get("isGateway")),
            is_injected=bool(md.get("isInjected")), health_annotation=md.get("healthAnnotation", ""),
        )
    else:
        node = model.Node(nid, n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service,
                          aggregate, aggregate_value, "", None, dest_services, traffic)
    if keys & _NODE_EXTRA_SET:
        for key in _NODE_EXTRA_KEYS:
            if md.get(key):
                node.extra[key] = md[key]
    return node


def edge_rates(protocol: str, md: dict[str, Any], source_out: float) -> dict[str, float]:
    """Raw edge rates (> 0) plus the error share and the share of the source's outgoing traffic."""
    rates: dict[str, float] = {}
    for r in EDGE_RATES.get(protocol, ()):
        v = md.get(r)
        if v is not None and v > 0.0:
            rates[r] = v
    total = md.get(protocol, 0.0)
    if total > 0 and protocol in PERCENT_ERR:
        err = sum([md.get(r, 0.0) for r in EDGE_ERROR_RATES[protocol]])
        if err > 0:
            rates[PERCENT_ERR[protocol]] = err / total * 100.0
        if source_out > 0:
            rates[PERCENT_REQ[protocol]] = total / source_out * 100.0
    return rates


def responses(md: dict[str, Any], total: float) -> dict[str, model.ResponseDetail]:
    """The response breakdown as shares (percent) of ``total``. Hot (one per code per edge): plain
    loops, since the dicts are small."""
    by_flags = md.get("responses")
    if total <= 0 or not by_flags:
        return {}
    return model.responses_of((by_flags, md.get("responseHosts") or {}, total))


def to_model(tm: TrafficMap, request: GraphRequest, timestamp: int = 0) -> model.TrafficGraph:
    graph = model.TrafficGraph(request=request, timestamp=timestamp)
    ids: dict[str, str] = {}
    nodes: list[model.Node] = []
    edges: list[model.Edge] = []
    for key, n in tm.items():
        node = _model_node(n)
        nodes.append(node)
        ids[key] = node.id
    make_edge = model.Edge
    make_id = model.edge_id
    lazy = model.LAZY_RESPONSES
    out_rate = OUT_RATE
    for n in tm.values():
        if not n.edges:
            continue
        src = ids[n.key]
        for e in n.edges.values():
            dst = ids.get(e.dest.key)
            if dst is None:  # an edge to a node some pass removed
                continue
            md = e.md
            protocol = e.protocol
            total = md.get(protocol, 0.0)
            source_out = e.source.md.get(out_rate.get(protocol, ""), 0.0)
            # positional, in the order of model.Edge's fields
            edge = make_edge(
                make_id(src, dst, protocol), src, dst, protocol,
                edge_rates(protocol, md, source_out), lazy,
                md.get("responseTime"), md.get("throughput"), md.get("isMTLS"), md.get("destPrincipal", ""),
                md.get("sourcePrincipal", ""), total <= 0,
            )
            # the breakdown as percentages is made when ``edge.responses`` is first read
            by_flags = md.get("responses")
            if by_flags and total > 0:
                edge._raw_responses = by_flags  # type: ignore[misc]
                edge._raw_hosts = md.get("responseHosts") or {}  # type: ignore[misc]
                edge._raw_total = total  # type: ignore[misc]
            edges.append(edge)
    graph.add_all(nodes, edges)
    return graph
