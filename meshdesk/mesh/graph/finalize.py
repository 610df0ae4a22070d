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
    TEdge,
    TNode,
    TrafficMap,
)
from meshdesk.mesh.request import GraphRequest

# metadata keys that set a Node flag (or field) or go to ``Node.extra``; most nodes carry none of them
_NODE_FLAG_KEYS = frozenset({"isInaccessible", "isOutside", "isRoot", "isIdle", "isDead", "isEgressCluster",
                             "isServiceEntry", "hasMissingSC", "hasVS", "hasDR", "isGateway", "isInjected",
                             "healthAnnotation"})
_NODE_EXTRA_KEYS = ("hasCB", "hasTrafficShifting", "hasRequestRouting", "hasFaultInjection", "hasMirroring",
                    "hasRequestTimeout", "hasTCPTrafficShifting", "vsHosts", "isWaypoint", "labels", "gateway",
                    "hasWorkloadEntry", "hasIngressWaypoint", "isAmbient", "isK8sGatewayAPI", "isExtension")
_NODE_EXTRA_SET = frozenset(_NODE_EXTRA_KEYS)
_NODE_RATES_BY_PROTO = tuple((proto, NODE_RATES[proto]) for proto in PROTOCOLS)


# flag metadata key -> the Node field it sets, and how its value is turned into the field's value
_NODE_FLAGS: dict[str, tuple[str, Any]] = {
    "isInaccessible": ("is_inaccessible", bool), "isOutside": ("is_outside", bool), "isRoot": ("is_root", bool),
    "isIdle": ("is_idle", bool), "isDead": ("is_dead", bool), "isEgressCluster": ("is_egress_cluster", bool),
    "isServiceEntry": ("is_service_entry", None), "hasMissingSC": ("has_missing_sidecar", bool),
    "hasVS": ("has_virtual_service", bool), "hasDR": ("has_destination_rule", bool),
    "isGateway": ("is_gateway", bool), "isInjected": ("is_injected", bool),
    "healthAnnotation": ("health_annotation", None),
}
assert _NODE_FLAGS.keys() == _NODE_FLAG_KEYS


def node_id_of(n: TNode) -> str:
    """The model id of traffic-map node ``n``."""
    get = n.md.get
    ident = (n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service, get("aggregate", ""),
             get("aggregateValue", ""), "")
    nid = model.known_node_id(ident)
    if nid is None:
        nid = model.node_id(*ident)
    return nid


def _model_node(n: TNode, dest_service_of: dict[tuple[str, str, str], model.DestService]) -> model.Node:
    """``n`` as a model node. ``dest_service_of`` (per call of ``to_model``) shares one DestService
    (they are immutable) among the nodes of a build that name the same service."""
    md = n.md
    get = md.get
    aggregate = get("aggregate", "")
    aggregate_value = get("aggregateValue", "")
    nid = node_id_of(n)
    traffic: dict[str, dict[str, float]] = {}
    for proto, names in _NODE_RATES_BY_PROTO:
        rates: dict[str, float] | None = None
        for r in names:
            v = get(r)
            if v is not None and v > 0.0:
                if rates is None:
                    rates = traffic[proto] = {}
                rates[r] = v
    ds = get("destServices")
    dest_services: list[model.DestService] = []
    if ds:
        for key in (ds if len(ds) == 1 else sorted(ds)):
            one = dest_service_of.get(key)
            if one is None:
                one = dest_service_of[key] = model.DestService(*key)
            dest_services.append(one)
    node = model.plain_node(nid, n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service,
                            aggregate, aggregate_value, dest_services, traffic)
    keys = md.keys()
    flags = keys & _NODE_FLAG_KEYS
    if flags:
        # only the keys present: an absent one leaves its field at the default, which is what the field
        # would get from its converter applied to nothing (False, None or "")
        for key in flags:
            name, convert = _NODE_FLAGS[key]
            value = md[key]
            setattr(node, name, value if convert is None else convert(value))
    if keys & _NODE_EXTRA_SET:
        for key in _NODE_EXTRA_KEYS:
            if get(key):
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


# per protocol, what an edge's rates need (edge_rates, laid out for the loop in to_model): each rate
# name with whether it is one of the error rates summed for the error share, whether the protocol has
# shares at all, the names of the error and the request share, and the source node's outgoing rate
_EdgePlan = tuple[tuple[tuple[str, bool], ...], bool, str, str, str]
_EDGE_PLANS: dict[str, _EdgePlan] = {
    proto: (tuple((r, r in EDGE_ERROR_RATES[proto]) for r in EDGE_RATES[proto]), proto in PERCENT_ERR,
            PERCENT_ERR.get(proto, ""), PERCENT_REQ.get(proto, ""), OUT_RATE[proto])
    for proto in PROTOCOLS
}
# edge_rates sums EDGE_ERROR_RATES in their order; the plans meet them among EDGE_RATES, which must
# hold them all in that same order for the sums to be the same
assert all([r for r in EDGE_RATES[p] if r in EDGE_ERROR_RATES[p]] == list(EDGE_ERROR_RATES[p]) for p in PROTOCOLS)
_NO_PLAN: _EdgePlan = ((), False, "", "", "")


def to_model(tm: TrafficMap, request: GraphRequest, timestamp: int = 0) -> model.TrafficGraph:
    graph = model.TrafficGraph(request=request, timestamp=timestamp)
    ids: dict[str, str] = {}
    nodes: list[model.Node] = []
    edges: list[model.Edge] = []
    dest_service_of: dict[tuple[str, str, str], model.DestService] = {}
    for key, n in tm.items():
        node = _model_node(n, dest_service_of)
        nodes.append(node)
        ids[key] = node.id
    for n in tm.values():
        if not n.edges:
            continue
        src = ids[n.key]
        for e in n.edges.values():
            dst = ids.get(e.dest.key)
            if dst is None:  # an edge to a node some pass removed
                continue
            edge = _model_edge(e, src, dst)
            md = e.md
            waypoint = md.get("waypoint")
            if waypoint is not None:
                edge.extra["waypoint"] = _waypoint_info(waypoint, ids)
            if "mtlsPolicy" in md:  # its reports name no security policy (``security``)
                edge.extra["mtlsPolicy"] = md["mtlsPolicy"]
            edges.append(edge)
    graph.add_all(nodes, edges)
    return graph


def _model_edge(e: TEdge, src: str, dst: str) -> model.Edge:
    """``e`` (from node id ``src`` to ``dst``) as a model edge: its rates with the error share and the
    share of its source's outgoing traffic (``edge_rates``, inline: the error rates present are summed
    as there, absent ones are 0.0, which adds nothing)."""
    md = e.md
    get = md.get
    protocol = e.protocol
    names, shares, pct_err, pct_req, out_name = _EDGE_PLANS.get(protocol, _NO_PLAN)
    rates: dict[str, float] = {}
    errs: list[float] = []
    for r, is_err in names:
        v = get(r)
        if v is not None:
            if v > 0.0:
                rates[r] = v
            if is_err:
                errs.append(v)
    total = get(protocol, 0.0)
    if total > 0 and shares:
        if errs:
            err = sum(errs)
            if err > 0:
                rates[pct_err] = err / total * 100.0
        source_out = e.source.md.get(out_name, 0.0)
        if source_out > 0:
            rates[pct_req] = total / source_out * 100.0
    eid = model.known_edge_id((src, dst, protocol))
    if eid is None:
        eid = model.edge_id(src, dst, protocol)
    # the breakdown as percentages is made when ``edge.responses`` is first read
    by_flags = get("responses")
    if by_flags and total > 0:
        return model.lazy_edge(eid, src, dst, protocol, rates, by_flags, get("responseHosts") or {}, total,
                               get("responseTime"), get("throughput"), get("isMTLS"), get("destPrincipal", ""),
                               get("sourcePrincipal", ""), total <= 0)
    return model.lazy_edge(eid, src, dst, protocol, rates, None, None, 0.0,
                           get("responseTime"), get("throughput"), get("isMTLS"), get("destPrincipal", ""),
                           get("sourcePrincipal", ""), total <= 0)


def _waypoint_info(info: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """An ambient waypoint edge's ``waypoint`` metadata for the model: the direction, and for an edge to
    a waypoint that also sends traffic back, that return edge (``fromEdge``) as a model edge."""
    out: dict[str, Any] = {"direction": info["direction"]}
    back = info.get("fromEdge")
    if back is not None:
        src, dst = ids.get(back.source.key), ids.get(back.dest.key)
        if src is not None and dst is not None:
            out["fromEdge"] = _model_edge(back, src, dst)
    return out
