"""The working structure the passes share while a graph is built: a traffic map.

A traffic map is a dict ``key -> TNode``; each node owns its outgoing edges. Node and edge metadata
(``md``) hold raw per-second rates under Kiali's rate names (``httpIn``, ``http5xx``, ``tcp``...),
response breakdowns and flags. Percentages are derived only when the map is turned into the typed
model (``meshdesk.mesh.graph.finalize``), because passes may still move traffic around.

The key scheme mirrors how Kiali decides node identity (which labels make two series land on the
same node for a given graph type); the public, stable id is ``model.node_id`` of the node's fields.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import model

UNKNOWN = model.UNKNOWN
PASSTHROUGH = model.PASSTHROUGH
BLACKHOLE = model.BLACKHOLE

HTTP = "http"
GRPC = "grpc"
TCP = "tcp"
PROTOCOLS = (GRPC, HTTP, TCP)

# node rate names per protocol (the order Kiali lists them in)
NODE_RATES: dict[str, tuple[str, ...]] = {
    GRPC: ("grpcIn", "grpcInNoResponse", "grpcInErr", "grpcOut"),
    HTTP: ("httpIn", "httpInNoResponse", "httpIn3xx", "httpIn4xx", "httpIn5xx", "httpOut"),
    TCP: ("tcpIn", "tcpOut"),
}
OUT_RATE = {GRPC: "grpcOut", HTTP: "httpOut", TCP: "tcpOut"}
IN_RATE = {GRPC: "grpcIn", HTTP: "httpIn", TCP: "tcpIn"}
# edge rate names: the total, then the error rates (summed for the error percentage)
EDGE_RATES: dict[str, tuple[str, ...]] = {
    GRPC: ("grpc", "grpcNoResponse", "grpcErr"),
    HTTP: ("http", "httpNoResponse", "http3xx", "http4xx", "http5xx"),
    TCP: ("tcp",),
}
EDGE_ERROR_RATES: dict[str, tuple[str, ...]] = {
    GRPC: ("grpcNoResponse", "grpcErr"),
    HTTP: ("httpNoResponse", "http4xx", "http5xx"),
    TCP: (),
}
PERCENT_ERR = {GRPC: "grpcPercentErr", HTTP: "httpPercentErr"}
PERCENT_REQ = {GRPC: "grpcPercentReq", HTTP: "httpPercentReq"}

# response breakdown, two maps so that metadata holds only dicts of floats (which the cyclic garbage
# collector never has to track): md["responses"] code -> flags -> rate, md["responseHosts"] code -> host -> rate
Responses = dict[str, dict[str, float]]


def is_ok(value: str) -> bool:
    """A telemetry label value that says something (not empty, not "unknown")."""
    return value != "" and value != UNKNOWN


def is_ok_version(value: str) -> bool:
    """Like ``is_ok``; "latest" is what a canonical revision says when there is no version label."""
    return value != "" and value != UNKNOWN and value != "latest"


class TNode:
    __slots__ = ("key", "node_type", "cluster", "namespace", "workload", "app", "version", "service",
                 "edges", "md")

    def __init__(self, key: str, node_type: str, cluster: str, namespace: str, workload: str = "",
                 app: str = "", version: str = "", service: str = "") -> None:
        self.key = key
        self.node_type = node_type
        self.cluster = cluster
        self.namespace = namespace
        self.workload = workload
        self.app = app
        self.version = version
        self.service = service
        # (dest key, protocol) -> edge; insertion ordered
        self.edges: dict[tuple[str, str], TEdge] = {}
        self.md: dict[str, Any] = {}

    def add_edge(self, dest: TNode, protocol: str) -> TEdge:
        edge = TEdge(self, dest, protocol)
        self.edges[(dest.key, protocol)] = edge
        return edge

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"TNode({self.key})"


class TEdge:
    __slots__ = ("source", "dest", "protocol", "md")

    def __init__(self, source: TNode, dest: TNode, protocol: str) -> None:
        self.source = source
        self.dest = dest
        self.protocol = protocol
        self.md: dict[str, Any] = {}

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"TEdge({self.source.key} -> {self.dest.key} {self.protocol})"


TrafficMap = dict[str, TNode]


def node_key(cluster: str, svc_ns: str, service: str, wl_ns: str, workload: str, app: str, version: str,
             graph_type: str) -> tuple[str, str] | None:
    """(key, node type) for a node seen in telemetry, or None when the labels name nothing."""
    namespace = wl_ns if is_ok(wl_ns) else svc_ns
    if namespace == UNKNOWN and workload == UNKNOWN and app == UNKNOWN and service == "":
        return f"{cluster}_unknown_source", model.NODE_UNKNOWN
    if workload == UNKNOWN and app == UNKNOWN and service == UNKNOWN:
        return f"svc_{cluster}_{namespace}_unknown", model.NODE_SERVICE
    wl_ok = is_ok(workload)
    app_ok = is_ok(app)
    svc_ok = is_ok(service)
    if not wl_ok and not app_ok and not svc_ok:
        return None
    if graph_type in ("workload", "service"):
        if not wl_ok:
            return f"svc_{cluster}_{namespace}_{service if svc_ok else UNKNOWN}", model.NODE_SERVICE
        return f"wl_{cluster}_{namespace}_{workload}", model.NODE_WORKLOAD
    if app_ok:
        if graph_type == "versionedApp":
            if wl_ok:
                return f"vapp_{cluster}_{namespace}_{workload}", model.NODE_APP
            if is_ok_version(version):
                return f"vapp_{cluster}_{namespace}_{app}_{version}", model.NODE_APP
        return f"app_{cluster}_{namespace}_{app}", model.NODE_APP
    if wl_ok:
        return f"wl_{cluster}_{namespace}_{workload}", model.NODE_WORKLOAD
    return f"svc_{cluster}_{namespace}_{service}", model.NODE_SERVICE


def new_node(key: str, node_type: str, cluster: str, svc_ns: str, service: str, wl_ns: str, workload: str,
             app: str, version: str, graph_type: str) -> TNode:
    """A node carrying only the fields that matter for its type (as Kiali trims them)."""
    namespace = wl_ns if is_ok(wl_ns) else svc_ns
    node = TNode(key, node_type, cluster, namespace)
    if node_type == model.NODE_APP:
        node.app = app
        if graph_type == "versionedApp":
            node.workload = workload
            node.version = version
    elif node_type == model.NODE_SERVICE:
        node.service = service
        if service in (PASSTHROUGH, BLACKHOLE):
            node.md["isEgressCluster"] = True
    elif node_type == model.NODE_WORKLOAD:
        node.workload = workload
        node.app = "" if app == UNKNOWN else app
        node.version = "" if version == UNKNOWN else version
    else:  # unknown source
        node.workload = workload
        node.app = app
        node.version = version
        node.service = service
    return node


def add_value(md: dict[str, Any], key: str, value: float) -> None:
    if value > 0:
        md[key] = md.get(key, 0.0) + value


def add_response(md: dict[str, Any], code: str, flags: str, host: str, value: float) -> None:
    if code == "":
        code = "-"
    by_flags: Responses = md.setdefault("responses", {})
    by_hosts: Responses = md.setdefault("responseHosts", {})
    fl = by_flags.get(code)
    if fl is None:
        fl = by_flags[code] = {}
        by_hosts[code] = {}
    if flags:
        fl[flags] = fl.get(flags, 0.0) + value
    if host:
        hs = by_hosts[code]
        hs[host] = hs.get(host, 0.0) + value


def is_http_error(code: str) -> bool:
    return code[:1] in ("4", "5")


# first digit of an HTTP code -> (node, edge) rate it also counts under
HTTP_CODE_CLASS_RATES = {"3": ("httpIn3xx", "http3xx"), "4": ("httpIn4xx", "http4xx"), "5": ("httpIn5xx", "http5xx")}
_HTTP_CLASS = HTTP_CODE_CLASS_RATES


def add_traffic(protocol: str, value: float, code: str, flags: str, host: str,
                source_md: dict[str, Any], dest_md: dict[str, Any], edge_md: dict[str, Any]) -> None:
    """Count one series on an edge and on its two ends (Kiali's AddToMetadata). Hot path: plain dict
    operations only."""
    if value <= 0.0:
        return
    if protocol == HTTP:
        out_key, in_key, edge_key = "httpOut", "httpIn", "http"
    elif protocol == GRPC:
        out_key, in_key, edge_key = "grpcOut", "grpcIn", "grpc"
    elif protocol == TCP:
        out_key, in_key, edge_key, code = "tcpOut", "tcpIn", "tcp", "-"
    else:
        return
    source_md[out_key] = source_md.get(out_key, 0.0) + value
    dest_md[in_key] = dest_md.get(in_key, 0.0) + value
    edge_md[edge_key] = edge_md.get(edge_key, 0.0) + value
    by_flags = edge_md.get("responses")
    if by_flags is None:
        by_flags = edge_md["responses"] = {}
        edge_md["responseHosts"] = {}
    rkey = code or "-"
    fl: dict[str, float] | None = by_flags.get(rkey)
    if fl is None:
        fl = by_flags[rkey] = {}
        edge_md["responseHosts"][rkey] = {}
    if flags:
        fl[flags] = fl.get(flags, 0.0) + value
    if host:
        hs: dict[str, float] = edge_md["responseHosts"][rkey]
        hs[host] = hs.get(host, 0.0) + value
    if protocol == TCP:
        return
    pair: tuple[str, str] | None
    if code == "-":
        pair = ("httpInNoResponse", "httpNoResponse") if protocol == HTTP else ("grpcInNoResponse", "grpcNoResponse")
    elif protocol == HTTP:
        pair = _HTTP_CLASS.get(code[:1])
    else:
        # old telemetry may carry HTTP codes for gRPC
        err = is_http_error(code) if len(code) == 3 else (code != "0" and code != "")
        pair = ("grpcInErr", "grpcErr") if err else None
    if pair is not None:
        dest_md[pair[0]] = dest_md.get(pair[0], 0.0) + value
        edge_md[pair[1]] = edge_md.get(pair[1], 0.0) + value


def add_outgoing(source_md: dict[str, Any], edge_md: dict[str, Any]) -> None:
    """Add an edge's total to its source's outgoing rate."""
    for proto, out in OUT_RATE.items():
        v = edge_md.get(proto)
        if v is not None:
            add_value(source_md, out, v)


def reset_outgoing(source_md: dict[str, Any]) -> None:
    for out in OUT_RATE.values():
        source_md.pop(out, None)


def merge_edge_traffic(from_md: dict[str, Any], to_md: dict[str, Any], protocol: str) -> None:
    """Add one edge's traffic (rates and response breakdown) into another edge of the same protocol."""
    for rate in EDGE_RATES.get(protocol, ()):
        v = from_md.get(rate)
        if v is not None:
            add_value(to_md, rate, v)
    by_flags: Responses = from_md.get("responses") or {}
    by_hosts: Responses = from_md.get("responseHosts") or {}
    for code, flags in by_flags.items():
        add_response(to_md, code, "", "", 0.0)
        for f, v in flags.items():
            add_response(to_md, code, f, "", v)
        for h, v in by_hosts.get(code, {}).items():
            add_response(to_md, code, "", h, v)


def merge_node_traffic(from_md: dict[str, Any], to_md: dict[str, Any]) -> None:
    for names in NODE_RATES.values():
        for rate in names:
            v = from_md.get(rate)
            if v is not None:
                add_value(to_md, rate, v)


def add_dest_service(md: dict[str, Any], cluster: str, namespace: str, service: str) -> None:
    if not is_ok(service):
        return
    md.setdefault("destServices", {})[(cluster, namespace, service)] = None


def all_edges(tm: TrafficMap) -> list[TEdge]:
    return [e for n in tm.values() for e in n.edges.values()]
