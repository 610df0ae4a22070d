"""Exports of a ``TrafficGraph``: Kiali's graph JSON, our own JSON, Graphviz DOT and a text table.

``to_kiali`` writes what Kiali's ``/api/namespaces/graph`` returns (the "common" config vendor):
rates as strings with Kiali's precision (two decimals for rates, one for percentages), nodes boxes
first, flags only when set; each node's ``healthData`` when the health pass ran (``health_data``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.health_data import health_data
from meshdesk.mesh.graph.trafficmap import NODE_RATES, PROTOCOLS
from meshdesk.mesh.words import padded, text_width

_PERCENT_RATES = frozenset({"httpPercentErr", "httpPercentReq", "grpcPercentErr", "grpcPercentReq"})


def _precision(value: float, minimum: int) -> int:
    """At least ``minimum`` decimals, more (up to 5) until one significant digit shows."""
    p = 0
    v = value
    while p < 5 and 0 < v < 1:
        v *= 10
        p += 1
    return max(p, minimum)


def rate_text(name: str, value: float) -> str:
    if name in _PERCENT_RATES:
        return f"{value:.1f}"
    return f"{value:.{_precision(value, 2)}f}"


def rate_unit(protocol: str, request: Any) -> str:
    """The unit of an edge's rate: requests per second, gRPC messages per second when the graph counts
    messages (``rateGrpc`` sent/received/total), bytes per second for TCP."""
    if protocol == "tcp":
        return "B/s"
    if protocol == "grpc" and getattr(request, "rateGrpc", "requests") != "requests":
        return "msg/s"
    return "rps"


def _box_rank(n: model.Node) -> int:
    return {model.BOX_CLUSTER: 0, model.BOX_NAMESPACE: 1, model.BOX_APP: 2}.get(n.box, 3) \
        if n.node_type == model.NODE_BOX else 3


def _node_order(n: model.Node) -> tuple[Any, ...]:
    return (_box_rank(n), n.cluster, n.namespace, n.app, n.version, n.service, n.workload, n.aggregate_value)


def _health_status(h: model.Health | None) -> str | None:
    return None if h is None or h.status == model.NO_HEALTH else h.status


def _kiali_node(n: model.Node, health_data: dict[str, Any] | None) -> dict[str, Any]:
    d: dict[str, Any] = {"id": n.id}
    if n.parent:
        d["parent"] = n.parent
    d["nodeType"] = n.node_type
    d["cluster"] = n.cluster
    d["namespace"] = n.namespace
    for key, value in (("workload", n.workload), ("app", n.app), ("version", n.version),
                       ("service", n.service)):
        if value:
            d[key] = value
    if n.node_type == model.NODE_AGGREGATE:
        d["aggregate"] = f"{n.aggregate}={n.aggregate_value}"
    if n.dest_services:
        d["destServices"] = [{"cluster": s.cluster, "namespace": s.namespace, "name": s.name}
                             for s in n.dest_services]
    traffic = []
    for proto in PROTOCOLS:
        rates = n.traffic.get(proto)
        if rates:
            ordered = {r: rate_text(r, rates[r]) for r in NODE_RATES[proto] if r in rates}
            traffic.append({"protocol": proto, "rates": ordered})
    if traffic:
        d["traffic"] = traffic
    d["healthData"] = health_data.get(n.id) if health_data is not None else None
    status = _health_status(n.health)
    if status:  # no verdict: no key (Kiali omits it; null is no status of its)
        d["healthStatus"] = status
    if n.health_annotation:
        d["hasHealthConfig"] = {"health.kiali.io/rate": n.health_annotation}
    if n.node_type == model.NODE_BOX:
        d["isBox"] = n.box
    # Kiali's node flags only: it keeps "is egress cluster" and "has DR" internally but writes neither
    flags = (("isDead", n.is_dead), ("isIdle", n.is_idle), ("isInaccessible", n.is_inaccessible),
             ("isInjected", n.is_injected), ("isOutOfMesh", n.has_missing_sidecar), ("isOutside", n.is_outside),
             ("isRoot", n.is_root))
    for flag, on in flags:
        if on:
            d[flag] = True
    if n.has_virtual_service:
        d["hasVS"] = {"hostnames": list(n.extra.get("vsHosts", []))} if n.extra.get("vsHosts") else {}
    for key in ("hasCB", "hasTrafficShifting", "hasRequestRouting", "hasFaultInjection", "hasMirroring",
                "hasRequestTimeout", "hasTCPTrafficShifting"):
        if n.extra.get(key):
            d[key] = True
    if n.is_gateway:
        d["isGateway"] = _gateway_info(n.extra.get("gateway") or {})
        if (n.extra.get("gateway") or {}).get("gatewayAPIInfo"):
            d["isK8sGatewayAPI"] = True
    if n.extra.get("isK8sGatewayAPI"):  # a service routed by a VirtualService made from a Gateway API route
        d["isK8sGatewayAPI"] = True
    if n.extra.get("hasIngressWaypoint"):
        d["hasIngressWaypoint"] = True
    if n.extra.get("isWaypoint"):
        d["isWaypoint"] = True
    if n.extra.get("isExtension"):  # Kiali's ExtInfo: the extension's name, its UI's address when known
        d["isExtension"] = {k: v for k, v in n.extra["isExtension"].items() if v}
    if n.extra.get("isAmbient"):
        d["isAmbient"] = True
    if n.extra.get("labels"):
        d["labels"] = dict(n.extra["labels"])
    if n.extra.get("hasWorkloadEntry"):
        d["hasWorkloadEntry"] = [{"name": name} for name in n.extra["hasWorkloadEntry"]]
    if n.is_service_entry is not None:
        se = n.is_service_entry
        d["isServiceEntry"] = {"hosts": list(se.hosts), "location": se.location, "namespace": se.namespace}
    return d


def _response_detail(flags: dict[str, float], hosts: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if flags:
        out["flags"] = {f: f"{v:.1f}" for f, v in flags.items()}
    if hosts:
        out["hosts"] = {h: f"{v:.1f}" for h, v in hosts.items()}
    return out


def _gateway_info(info: dict[str, Any]) -> dict[str, Any]:
    """Kiali's GWInfo: its three parts always there (Go writes empty structs), a part's hostnames only
    when there are some."""
    out: dict[str, Any] = {}
    for part in ("ingressInfo", "egressInfo", "gatewayAPIInfo"):
        hosts = (info.get(part) or {}).get("hostnames") if isinstance(info.get(part), dict) else None
        out[part] = {"hostnames": list(hosts)} if hosts else {}
    return out


def _kiali_edge(e: model.Edge) -> dict[str, Any]:
    d: dict[str, Any] = {"id": e.id, "source": e.source, "target": e.target}
    h = _health_status(e.health)
    if h:
        d["healthStatus"] = h
    if e.is_mtls:  # Kiali leaves it out when no traffic used mutual TLS
        d["isMTLS"] = f"{e.is_mtls:.0f}"
    if e.response_time is not None:
        d["responseTime"] = f"{e.response_time:.0f}"
    if e.throughput is not None:
        d["throughput"] = f"{e.throughput:.0f}"
    if e.dest_principal:
        d["destPrincipal"] = e.dest_principal
    if e.source_principal:
        d["sourcePrincipal"] = e.source_principal
    traffic: dict[str, Any] = {"protocol": e.protocol}
    if e.rates:
        traffic["rates"] = {k: rate_text(k, v) for k, v in e.rates.items()}
        if e.responses:
            # as Kiali's ResponseDetail: empty flags or hosts are left out
            traffic["responses"] = {code: _response_detail(r.flags, r.hosts) for code, r in e.responses.items()}
    d["traffic"] = traffic
    waypoint = e.extra.get("waypoint")
    if waypoint:
        w: dict[str, Any] = {"direction": waypoint["direction"]}
        if waypoint.get("fromEdge") is not None:
            w["fromEdge"] = _kiali_edge(waypoint["fromEdge"])
        d["waypoint"] = w
    return d


def to_kiali(graph: model.TrafficGraph) -> dict[str, Any]:
    """Kiali's graph JSON (``elements.nodes[].data`` / ``elements.edges[].data``)."""
    nodes = sorted(graph.nodes.values(), key=_node_order)
    edges = sorted(graph.edges.values(), key=lambda e: (e.source, e.target, e.protocol))
    data = health_data(graph)  # made here: only this export writes it
    return {
        "timestamp": graph.timestamp or graph.request.queryTime,
        "duration": graph.request.duration,
        "graphType": graph.request.graphType,
        "elements": {
            "nodes": [{"data": _kiali_node(n, data)} for n in nodes],
            "edges": [{"data": _kiali_edge(e)} for e in edges],
        },
    }


def _plain(obj: Any) -> Any:
    return asdict(obj) if obj is not None else None


def to_json(graph: model.TrafficGraph) -> dict[str, Any]:
    """Our own JSON: every model field, numbers as numbers."""
    nodes = []
    for n in sorted(graph.nodes.values(), key=_node_order):
        d = asdict(n)
        nodes.append(d)
    edges = [asdict(e) for e in sorted(graph.edges.values(), key=lambda e: (e.source, e.target, e.protocol))]
    return {
        "format": "meshdesk-graph",
        "version": 1,
        "request": graph.request.to_json(),
        "timestamp": graph.timestamp,
        "nodes": nodes,
        "edges": edges,
        "warnings": list(graph.warnings),
    }


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SHAPES = {model.NODE_APP: "box", model.NODE_WORKLOAD: "ellipse", model.NODE_SERVICE: "diamond",
           model.NODE_UNKNOWN: "octagon", model.NODE_AGGREGATE: "hexagon"}


def _node_title(n: model.Node) -> str:
    if n.node_type in (model.NODE_BOX,):
        return n.label
    ns = n.namespace if n.namespace and n.namespace != model.UNKNOWN else ""
    return f"{n.label}\n{ns}" if ns else n.label


def to_dot(graph: model.TrafficGraph) -> str:
    """Graphviz DOT: boxes as clusters, edges labelled with their rate."""
    lines = ["digraph mesh {", "  rankdir=LR;", '  node [fontname="sans-serif"];']
    children: dict[str | None, list[model.Node]] = {}
    for n in sorted(graph.nodes.values(), key=_node_order):
        children.setdefault(n.parent, []).append(n)

    def emit(parent: str | None, indent: str) -> None:
        for n in children.get(parent, []):
            if n.node_type == model.NODE_BOX:
                lines.append(f"{indent}subgraph {_dot_quote('cluster_' + n.id)} {{")
                lines.append(f"{indent}  label={_dot_quote(n.label)};")
                emit(n.id, indent + "  ")
                lines.append(f"{indent}}}")
            else:
                attrs = [f"label={_dot_quote(_node_title(n))}", f"shape={_SHAPES.get(n.node_type, 'ellipse')}"]
                if n.health is not None and n.health.status in (model.FAILURE, model.DEGRADED):
                    attrs.append('color="red"' if n.health.status == model.FAILURE else 'color="orange"')
                if n.is_outside or n.is_inaccessible:
                    attrs.append("style=dashed")
                lines.append(f"{indent}{_dot_quote(n.id)} [{', '.join(attrs)}];")

    emit(None, "  ")
    for e in sorted(graph.edges.values(), key=lambda e: (e.source, e.target, e.protocol)):
        label = f"{e.protocol} {rate_text(e.protocol, e.rate)} {rate_unit(e.protocol, graph.request)}"
        both = ""
        back = (e.extra.get("waypoint") or {}).get("fromEdge")
        if back is not None:  # traffic to an ambient waypoint and back: one two-way edge
            label += f" / back {rate_text(back.protocol, back.rate)} {rate_unit(back.protocol, graph.request)}"
            both = ", dir=both"
        lines.append(f"  {_dot_quote(e.source)} -> {_dot_quote(e.target)} [label={_dot_quote(label)}{both}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _describe(n: model.Node, several_clusters: bool = False) -> str:
    """A node as a table row names it; with ``several_clusters``, with its cluster (east's and west's
    cart-v1 are two nodes, and were two rows of the same words)."""
    if n.node_type == model.NODE_UNKNOWN:
        return "unknown"
    ns = f"{n.namespace}/" if n.namespace else ""
    kind = "waypoint" if n.extra.get("isWaypoint") else "ServiceEntry" if n.is_service_entry is not None \
        else n.node_type
    where = f", cluster {n.cluster}" if several_clusters and n.cluster and n.cluster != model.UNKNOWN else ""
    return f"{ns}{n.label} ({kind}{where})"


NO_TRAFFIC = "no traffic in the requested window"


def to_table(graph: model.TrafficGraph) -> str:
    """One line per edge: source, destination, protocol, rate, error %, share of source's traffic; ""
    (no header either) when there is none."""
    header = ("SOURCE", "DESTINATION", "PROTOCOL", "RATE", "ERR%", "REQ%", "FLAGS")
    rows: list[tuple[str, ...]] = []
    several = len(graph.clusters()) > 1

    def describe(n: model.Node) -> str:
        return _describe(n, several)

    for e in sorted(graph.edges.values(), key=lambda e: (describe(graph.nodes[e.source]),
                                                          describe(graph.nodes[e.target]), e.protocol)):
        src, dst = graph.nodes[e.source], graph.nodes[e.target]
        err = e.rates.get(f"{e.protocol}PercentErr")
        req = e.rates.get(f"{e.protocol}PercentReq")
        flags = []
        if e.is_mtls is not None:
            flags.append(f"mTLS {e.is_mtls:.0f}%")
        if e.response_time is not None:
            flags.append(f"{e.response_time:.0f} ms")
        if e.health is not None and e.health.status not in (model.HEALTHY, model.NO_HEALTH):
            flags.append(e.health.status)
        back = (e.extra.get("waypoint") or {}).get("fromEdge")
        if back is not None:
            flags.append(f"back {rate_text(back.protocol, back.rate)} {rate_unit(back.protocol, graph.request)}")
        rows.append((describe(src), describe(dst), e.protocol,
                     f"{rate_text(e.protocol, e.rate)} {rate_unit(e.protocol, graph.request)}",
                     f"{err:.1f}" if err is not None else "-", f"{req:.1f}" if req is not None else "-",
                     ", ".join(flags)))
    if not rows:
        out = ""  # no header over nothing: whoever prints the table says NO_TRAFFIC (on stderr, as kubectl)
    else:
        widths = [max(text_width(r[i]) for r in rows + [header]) for i in range(len(header))]
        lines = ["  ".join(padded(c, w) for c, w in zip(header, widths, strict=True)).rstrip()]
        lines += ["  ".join(padded(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        out = "\n".join(lines) + "\n"
    return out  # warnings are not data: whoever prints the table says them elsewhere (stderr)
