"""Appender: ServiceEntry nodes.

A service node whose name is a host of a ServiceEntry (inventory ``istio`` objects of kind
ServiceEntry) visible from the caller's namespace becomes one node standing for the ServiceEntry
(``is_service_entry`` with location MESH_EXTERNAL/MESH_INTERNAL and the hosts). For MESH_INTERNAL
entries the first label of a host also matches (``reviews`` for ``reviews.bookinfo.svc``). All
service nodes matching the same entry are folded into one: their traffic adds up, edges into them
are redirected (parallel edges merged) and their outgoing edges move to the new node.
PassthroughCluster/BlackHoleCluster and injected service nodes are never candidates. Needs an
inventory; without one it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.trafficmap import (
    TNode,
    TrafficMap,
    is_ok,
    merge_edge_traffic,
    merge_node_traffic,
)
from meshdesk.mesh.inventory import IstioObject


@dataclass
class _Entry:
    obj: IstioObject
    location: str
    hosts: tuple[str, ...]
    export_to: tuple[str, ...]
    nodes: list[TNode] = field(default_factory=list)


def _entries(ctx: PassContext) -> list[_Entry]:
    inv = ctx.inventory
    if inv is None:
        return []
    out = []
    for obj in inv.istio_objects("ServiceEntry"):
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        hosts = tuple(h for h in spec.get("hosts") or [] if isinstance(h, str))
        if not hosts:
            continue
        location = "MESH_INTERNAL" if spec.get("location") == "MESH_INTERNAL" else "MESH_EXTERNAL"
        export_to = tuple(str(x) for x in spec.get("exportTo") or [])
        out.append(_Entry(obj, location, hosts, export_to))
    return out


def _visible(entry: _Entry, namespace: str) -> bool:
    export = entry.export_to or ("*",)
    return "*" in export or namespace in export or ("." in export and entry.obj.namespace == namespace)


def _match(entries: list[_Entry], namespace: str, service: str) -> _Entry | None:
    # entries exported to specific namespaces are more specific than "*" ones
    ranked = sorted((e for e in entries if _visible(e, namespace)), key=lambda e: "*" in (e.export_to or ("*",)))
    for e in ranked:
        for host in e.hosts:
            if host == service:
                return e
            if e.location == "MESH_INTERNAL":
                parts = host.split(".")
                if len(parts) == 3 and parts[2] == "global":
                    continue
                if parts[0] == service:
                    return e
    return None


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    entries = _entries(ctx)
    if not entries or not tm:
        return
    accessible = ctx.request.accessibleNamespaces
    seen: set[str] = set()
    for n in list(tm.values()):
        if n.node_type == model.NODE_SERVICE:
            candidates = [(n, n.namespace)] if not n.md.get("isInjected") and is_ok(n.cluster) \
                and is_ok(n.namespace) else []
        else:
            candidates = [(e.dest, n.namespace) for e in n.edges.values()
                          if e.dest.node_type == model.NODE_SERVICE and not e.dest.md.get("isInjected")]
        for cand, lookup_ns in candidates:
            if cand.key in seen or cand.md.get("isEgressCluster"):
                continue
            if accessible is not None and lookup_ns not in accessible:
                continue
            entry = _match(entries, lookup_ns, cand.service)
            if entry is not None:
                seen.add(cand.key)
                entry.nodes.append(cand)
    for entry in entries:
        if entry.nodes:
            _fold(tm, entry)


def _fold(tm: TrafficMap, entry: _Entry) -> None:
    first = entry.nodes[0]
    key = f"svc_{first.cluster}_{first.namespace}_{entry.obj.name}"
    se_node = tm.get(key)
    if se_node is None or se_node in entry.nodes:
        se_node = TNode(key, model.NODE_SERVICE, first.cluster, first.namespace, service=entry.obj.name)
    se_node.md["isServiceEntry"] = model.ServiceEntryInfo(
        location=entry.location, hosts=entry.hosts, name=entry.obj.name, namespace=entry.obj.namespace)
    doomed = {n.key for n in entry.nodes}
    for n in entry.nodes:
        merge_node_traffic(n.md, se_node.md)
        for ds in n.md.get("destServices", {}):
            se_node.md.setdefault("destServices", {})[ds] = None
        for e in n.edges.values():
            target = se_node.edges.get((e.dest.key, e.protocol))
            if target is None:
                target = se_node.add_edge(e.dest, e.protocol)
            merge_edge_traffic(e.md, target.md, e.protocol)
    for n in tm.values():
        moved = [(k, e) for k, e in n.edges.items() if k[0] in doomed]
        for k, e in moved:
            del n.edges[k]
            target = n.edges.get((se_node.key, e.protocol))
            if target is None:
                target = n.add_edge(se_node, e.protocol)
            merge_edge_traffic(e.md, target.md, e.protocol)
    for doomed_key in doomed:
        tm.pop(doomed_key, None)
    tm[se_node.key] = se_node
