"""Appender: ServiceEntry nodes.

As Kiali, this pass runs on each requested namespace's traffic map before the maps are merged
(``namespace`` is the one being processed; a node graph's is the focus node's). A service node whose
name is a host of a ServiceEntry (inventory ``istio`` objects of kind ServiceEntry) visible from the
asking namespace becomes one node standing for the ServiceEntry (``is_service_entry`` with location
MESH_EXTERNAL/MESH_INTERNAL and the hosts):

- a non-injected service node with a known cluster and namespace (a MESH_INTERNAL entry) asks in its
  own cluster and namespace; any other non-injected service node is asked for by its callers (an
  external host rarely has a namespace of its own), in the caller's cluster and namespace;
- the ServiceEntry's node is in the cluster it was asked in and in the namespace being processed, so
  each namespace calling an external API gets its own node for it, as in Kiali;
- for MESH_INTERNAL entries the first label of a host also matches (``reviews`` for
  ``reviews.bookinfo.svc``), except for multi-cluster ``name.namespace.global`` hosts;
- all service nodes matching the same entry are folded into one (unless another node has the entry
  node's name and place: a Service of the namespace named as the entry, or another namespace's entry
  of the same name folded first; then the hosts are left as they are): their traffic adds up, edges into
  them from the entry's cluster are redirected (parallel edges merged; a node still called from
  another cluster stays for those calls) and their outgoing edges move to the new node. A host called
  from several clusters (an inventory merged from them) folds into each cluster's entry in turn, each
  entry's node taking the host node's traffic as Kiali aggregates it, and goes once no call is left.

An entry without ``exportTo`` is visible where the mesh config's ``defaultServiceExportTo`` says
(everywhere when it says nothing), as Kiali reads it.

PassthroughCluster/BlackHoleCluster and injected service nodes are never candidates; entries are only
looked up for namespaces the user may read, and only entries defined in such namespaces are known. ``ServiceEntryInfo.namespace`` is where the entry is
defined (what its details and config links need). Needs an inventory; without one it does nothing.

``listed_hosts`` gives the ServiceEntry hosts Kiali's service lists name beside the Kubernetes
Services (for the idle-node, labeler and istio passes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.trafficmap import (
    TNode,
    TrafficMap,
    is_ok,
    merge_edge_traffic,
    merge_node_traffic,
)
from meshdesk.mesh.inventory import Inventory, IstioObject, exported_to


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
    for obj in inv.mesh_config("ServiceEntry"):  # from the whole cluster, as Kiali
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        raw_hosts = spec.get("hosts")
        hosts = tuple(h for h in raw_hosts if isinstance(h, str)) if isinstance(raw_hosts, list) else ()
        if not hosts:
            continue
        location = "MESH_INTERNAL" if spec.get("location") == "MESH_INTERNAL" else "MESH_EXTERNAL"
        # its own exportTo, or the mesh config's defaultServiceExportTo, as Kiali
        out.append(_Entry(obj, location, hosts, tuple(inv.settings_for(obj.namespace).export_to(obj))))
    return out


def _visible(entry: _Entry, namespace: str) -> bool:
    return exported_to(entry.export_to, entry.obj.namespace, namespace)


def _match(entries: list[_Entry], namespace: str, service: str, readable: Callable[[str], bool]) -> _Entry | None:
    # entries exported to specific namespaces are more specific than "*" ones; entries in namespaces the
    # user may not read are unknown to them
    ranked = sorted((e for e in entries if _visible(e, namespace) and readable(e.obj.namespace)),
                    key=lambda e: "*" in (e.export_to or ("*",)))
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


@dataclass(frozen=True)
class ListedHost:
    """A ServiceEntry host as Kiali's service list offers it: a service named by the host as written
    (wildcards and all), in the entry's cluster and namespace, with the entry's labels."""

    cluster: str
    namespace: str
    name: str
    labels: dict[str, str]
    entry: str  # the ServiceEntry's name (the first one of the namespace with the host)


def _names_service(host: str, namespace: str) -> tuple[str, str]:
    """(namespace, service) a host is taken to name when the list checks it against the Kubernetes
    Services: its first two labels, or a one-label host in the entry's namespace."""
    parts = host.split(".")
    return (namespace, host) if len(parts) == 1 else (parts[1], parts[0])


def listed_hosts(inv: Inventory, *, cluster_wide: bool = False) -> list[ListedHost]:
    """The ServiceEntry hosts a service list of Kiali names beside the Kubernetes Services.

    Every host of every ServiceEntry (whatever its location, exportTo or resolution) is listed once per
    cluster and namespace, unless it names a Service that the list has already (``reviews``,
    ``reviews.shop`` or ``reviews.shop.svc.cluster.local`` beside Service shop/reviews). A namespace's
    list (the default) checks against the Services of the entry's namespace only; the list of a whole
    cluster (``cluster_wide``) against all of the cluster's."""
    home = inv.cluster
    known = {(s.cluster or home, s.namespace, s.name) for s in inv.services}
    out: list[ListedHost] = []
    seen: set[tuple[str, str, str]] = set()
    for obj in inv.mesh_config("ServiceEntry"):
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        hosts = spec.get("hosts")
        if not isinstance(hosts, list):
            continue
        cluster = obj.cluster or home
        for host in hosts:
            if not isinstance(host, str) or not host:
                continue
            ns, name = _names_service(host, obj.namespace)
            if ns and name and (cluster_wide or ns == obj.namespace) and (cluster, ns, name) in known:
                continue
            key = (cluster, obj.namespace, host)
            if key not in seen:
                seen.add(key)
                out.append(ListedHost(cluster, obj.namespace, host, dict(obj.labels), obj.name))
    return out


def apply(tm: TrafficMap, ctx: PassContext, namespace: str) -> None:
    entries = _entries(ctx)
    if not entries or not tm:
        return
    request = ctx.request
    seen: set[tuple[str, str]] = set()  # (service node, cluster asked in): a host called from two
    # clusters folds into each cluster's entry
    # as Kiali reads ServiceEntries per cluster: in a graph that spans several clusters, an entry of a
    # cluster the graph shows applies in that cluster only (another cluster does not have it)
    clusters = {n.cluster for n in tm.values() if is_ok(n.cluster)}
    home = ctx.inventory.cluster if ctx.inventory is not None else ""

    def defines(entry: _Entry, cluster: str) -> bool:
        own = entry.obj.cluster or home
        return len(clusters) < 2 or own not in clusters or own == cluster

    # (entry, the cluster it was asked in) -> the service nodes it stands for, in the order found
    found: dict[tuple[int, str], tuple[_Entry, list[TNode]]] = {}
    for n in list(tm.values()):
        if n.node_type == model.NODE_SERVICE:
            candidates = [(n, n.cluster, n.namespace)] if not n.md.get("isInjected") and is_ok(n.cluster) \
                and is_ok(n.namespace) else []
        else:
            candidates = [(e.dest, n.cluster, n.namespace) for e in n.edges.values()
                          if e.dest.node_type == model.NODE_SERVICE and not e.dest.md.get("isInjected")]
        for cand, cluster, lookup_ns in candidates:
            if (cand.key, cluster) in seen or cand.md.get("isEgressCluster"):
                continue
            if not request.is_accessible(cluster, lookup_ns):
                continue
            entry = _match([e for e in entries if defines(e, cluster)], lookup_ns, cand.service,
                           partial(request.is_accessible, cluster))
            if entry is not None:
                seen.add((cand.key, cluster))
                found.setdefault((id(entry), cluster), (entry, []))[1].append(cand)
    for (_e, cluster), (entry, nodes) in found.items():
        _fold(tm, entry, cluster, namespace, nodes)


def _fold(tm: TrafficMap, entry: _Entry, cluster: str, namespace: str, nodes: list[TNode]) -> None:
    key = f"svc_{cluster}_{namespace}_{entry.obj.name}"
    se_node = tm.get(key)
    if se_node is not None and se_node not in nodes:
        # the entry's node would be another's (a Service of the namespace, or another namespace's entry of
        # the same name): that node is left as it is, and so are the hosts, rather than drawn as one
        return
    se_node = TNode(key, model.NODE_SERVICE, cluster, namespace, service=entry.obj.name)
    se_node.md["isServiceEntry"] = model.ServiceEntryInfo(
        location=entry.location, hosts=entry.hosts, name=entry.obj.name, namespace=entry.obj.namespace)
    doomed = {n.key for n in nodes}
    kept: set[str] = set()  # folded nodes that callers from another cluster still call
    for n in nodes:
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
            if n.cluster != cluster:  # each cluster has its own ServiceEntries
                kept.add(k[0])
                continue
            del n.edges[k]
            target = n.edges.get((se_node.key, e.protocol))
            if target is None:
                target = n.add_edge(se_node, e.protocol)
            merge_edge_traffic(e.md, target.md, e.protocol)
    for doomed_key in doomed - kept:
        tm.pop(doomed_key, None)
    tm[se_node.key] = se_node
