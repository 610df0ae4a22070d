"""Istio ambient mode: waypoints and ztunnel in the graph (Kiali's ambient support).

In an ambient mesh no sidecar reports traffic. ztunnel, the per-node L4 proxy, reports TCP series
(``app="ztunnel"``), and a waypoint, the per-namespace L7 proxy, reports requests with
``reporter="waypoint"``. The traffic pass reads both, as the request's ``ambientTraffic`` says
(Kiali's option of that name: total, waypoint, ztunnel or none). Two things need more than the
telemetry:

- **Which workloads are waypoints** (``prepare``). Kiali asks the cluster: a waypoint is a workload
  whose pods carry ``gateway.istio.io/managed=istio.io-mesh-controller``. We read the same label from
  the inventory (an inventory merged from several clusters: in each cluster that runs the workload). A workload the inventory does not list (no inventory in a snapshot, parts the user
  may not list, a namespace not selected) is recognised from ztunnel's telemetry instead, by what only a proxy does: it receives L4 traffic addressed to another service
  and sends traffic addressed to that same service on to the service's own workloads. A waypoint node
  is always a workload node (it is no app), is flagged ``isWaypoint``, and no service node is
  injected in front of it or behind it.
- **Which namespaces are ambient** (``istio.io/dataplane-mode=ambient`` on the namespace, from the
  inventory; for a namespace the inventory does not list, one whose workloads ztunnel reported for):
  such a namespace also reads source-reported requests coming in from other namespaces, which may
  have no destination report. With an inventory merged from several clusters a namespace of one name
  may be ambient in one and not in another: it is read as ambient for its ambient clusters' traffic
  only (``sidecar_clusters``).

``apply`` is Kiali's ambient finalizer. A Kubernetes Gateway API gateway with edges to a waypoint is
marked ``hasIngressWaypoint``. With ``showWaypoints`` (the default) a waypoint's edges are
marked as leaving a waypoint (``waypoint: {direction: from}``) and a node's edge to a waypoint is
marked as going to it; when the waypoint also sends traffic back to that node, that return edge is
folded into the edge to the waypoint (``fromEdge``), so the pair is one two-way edge. Without
``showWaypoints`` waypoint nodes and the edges to them are removed, and so are nodes left with no
edges at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshdesk.mesh.graph.context import PassContext, merged
from meshdesk.mesh.graph.trafficmap import TNode, TrafficMap, is_ok
from meshdesk.mesh.inventory import AMBIENT_ANNOTATION, DATAPLANE_MODE_LABEL, Inventory, Workload

WAYPOINT_LABEL = "gateway.istio.io/managed"
WAYPOINT_VALUE = "istio.io-mesh-controller"
WAYPOINT_KEY = "waypoint"  # edge metadata: {"direction": "to" | "from", "fromEdge": TEdge}
DIRECTION_TO = "to"
DIRECTION_FROM = "from"


def is_waypoint(w: Workload) -> bool:
    """Whether an inventory workload is an Istio ambient waypoint (by its pods' labels, as Kiali tells)."""
    return w.labels.get(WAYPOINT_LABEL) == WAYPOINT_VALUE


def is_ambient(w: Workload, ambient: set[str]) -> bool:
    """Whether ztunnel carries a workload's traffic (``ambient``: the namespaces in ambient mode): its
    pods say so (Kiali's test); a namespace in ambient mode says so for a pod without annotations (a
    snapshot that kept none) unless it opted out."""
    if is_waypoint(w) or w.labels.get("app") == "ztunnel":
        return True
    if any(p.annotations.get(AMBIENT_ANNOTATION) == "enabled" for p in w.pods):
        return True
    return w.namespace in ambient and w.labels.get(DATAPLANE_MODE_LABEL) != "none" and \
        not any(p.annotations for p in w.pods)


def ambient_namespaces(inventory: Inventory | None) -> set[str]:
    """Namespaces in ambient mode (``istio.io/dataplane-mode=ambient``): their pods are in the mesh
    through ztunnel and need no sidecar."""
    if inventory is None:
        return set()
    return {n.name for n in inventory.namespaces if n.ambient}


def sidecar_clusters(inventory: Inventory | None, ambient: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each of the ``ambient`` namespaces, the clusters of an inventory merged from several where a
    namespace of that name is listed not in ambient mode (its pods have sidecars there): a namespace is
    ambient in one cluster and not in another, as Kiali reads a namespace in its own cluster. Empty for
    an inventory of one cluster (its namespaces are the ones read)."""
    if inventory is None or not merged(inventory):
        return {}
    wanted = set(ambient)
    out: dict[str, set[str]] = {}
    for n in inventory.namespaces:
        if n.name in wanted and not n.ambient:
            out.setdefault(n.name, set()).add(n.cluster or inventory.cluster)
    return {ns: frozenset(clusters) for ns, clusters in out.items()}


def waypoints_in(inventory: Inventory) -> dict[tuple[str, str], frozenset[str]]:
    """The inventory's waypoints: (namespace, workload) -> the clusters running it ("" when the inventory
    does not say); an inventory merged from several clusters may run a waypoint of one name in each.
    Those of namespaces not chosen are among the gateways read outside the selection (a waypoint's pods
    carry the Gateway API's gateway label): Kiali finds waypoints in the whole cluster, and a namespace's
    services may use one in another (``istio.io/use-waypoint-namespace``)."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for w in (*inventory.workloads, *inventory.outside_gateways):
        if is_waypoint(w):
            key = (w.namespace, w.name)
            out[key] = out.get(key, frozenset()) | {w.cluster or inventory.cluster}
    return out


def waypoints_seen(ztunnel_groups: Iterable[Any]) -> dict[tuple[str, str], str]:
    """Waypoints as ztunnel's telemetry shows them (see the module docstring): a workload that receives
    traffic for a service that is not its own and sends traffic for that service to another workload.
    ``ztunnel_groups`` are ``traffic.Group``s whose ``src`` is (cluster, cluster_ok, namespace, workload,
    app, version) and ``dst`` (cluster, cluster_ok, svc_ns, host, svc_name, wl_ns, workload, app,
    version)."""
    groups = list(ztunnel_groups)
    receives: dict[tuple[str, str, str], str] = {}  # (wl namespace, workload, service) -> cluster
    for g in groups:
        cluster, _, svc_ns, _, svc_name, wl_ns, wl, app, _ = g.dst
        if is_ok(svc_name) and is_ok(wl) and svc_name != app and svc_name != wl:
            receives[(wl_ns, wl, f"{svc_name}.{svc_ns}")] = cluster
    found: dict[tuple[str, str], str] = {}
    if not receives:
        return found
    for g in groups:
        _, _, ns, wl, _, _ = g.src
        _, _, svc_ns, _, svc_name, wl_ns, dest_wl, _, _ = g.dst
        if (wl_ns, dest_wl) == (ns, wl) or not is_ok(dest_wl):
            continue
        cluster = receives.get((ns, wl, f"{svc_name}.{svc_ns}"))
        if cluster is not None:
            found[(ns, wl)] = cluster
    return found


def namespaces_seen(ztunnel_groups: Iterable[Any]) -> set[str]:
    """Namespaces ztunnel carries workloads of (it reported for them as their own node proxy: as the
    source of what they sent, as the destination of what they received): ambient namespaces."""
    out = set()
    for g in ztunnel_groups:
        ns = g.src[2] if g.reporter == "source" else g.dst[5] if g.reporter == "destination" else ""
        if is_ok(ns):
            out.add(ns)
    return out


def prepare(ctx: PassContext) -> None:
    """Note the waypoints and the ambient namespaces where the traffic pass reads them (``ctx.caches``)."""
    inventory = ctx.inventory
    waypoints: dict[tuple[str, str], frozenset[str]] = {}
    if ctx.request.ambientTraffic != "none":
        # the inventory decides for the workloads it lists; for the others (no inventory, parts RBAC
        # hid, namespaces it does not cover) what ztunnel saw them do
        waypoints = {k: frozenset((c,)) for k, c in waypoints_seen(ctx.index.ztunnel).items()}
        if inventory is not None:
            listed = {(w.namespace, w.name) for w in (*inventory.workloads, *inventory.outside_gateways)}
            waypoints = {k: c for k, c in waypoints.items() if k not in listed}
            waypoints.update(waypoints_in(inventory))
    ctx.caches["waypoints"] = dict(waypoints)
    # likewise the inventory decides for the namespaces it lists, ztunnel's telemetry for the others
    ambient_ns = ambient_namespaces(inventory)
    listed_ns = {n.name for n in inventory.namespaces} if inventory is not None else set()
    ambient_ns |= namespaces_seen(ctx.index.ztunnel) - listed_ns
    ctx.caches["ambient_namespaces"] = dict.fromkeys(ambient_ns, True)
    # an inventory merged from several clusters: where such a namespace is not ambient
    ctx.caches["sidecar_clusters"] = dict(sidecar_clusters(inventory, ambient_ns))


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    """Kiali's ambient finalizer (see the module docstring)."""
    waypoints: dict[str, TNode] = {key: n for key, n in tm.items() if n.md.get("isWaypoint")}
    if not waypoints:
        return
    for n in tm.values():
        # a Gateway API gateway that sends its traffic through a waypoint is that waypoint's ingress
        if n.md.get("isGatewayAPI") and any(e.dest.key in waypoints for e in n.edges.values()):
            n.md["hasIngressWaypoint"] = True
    if not ctx.request.showWaypoints:
        _hide(tm, waypoints)
        return
    for wp in waypoints.values():
        wp.md.pop("hasMissingSC", None)  # a waypoint is part of the mesh though it has no sidecar
        for e in wp.edges.values():
            e.md[WAYPOINT_KEY] = {"direction": DIRECTION_FROM}
    for n in list(tm.values()):
        for to_edge in list(n.edges.values()):
            target = waypoints.get(to_edge.dest.key)
            if target is None:
                continue
            info: dict[str, Any] = {"direction": DIRECTION_TO}
            back = [k for k, e in target.edges.items() if e.dest is n]
            for k in back:
                info["fromEdge"] = target.edges.pop(k)
            to_edge.md[WAYPOINT_KEY] = info


def _hide(tm: TrafficMap, waypoints: dict[str, TNode]) -> None:
    orphans: dict[str, bool] = {}
    for key, wp in waypoints.items():
        for e in wp.edges.values():
            orphans[e.dest.key] = True
        del tm[key]
    for key, n in tm.items():
        kept = {k: e for k, e in n.edges.items() if e.dest.key not in waypoints}
        if len(kept) != len(n.edges):
            n.edges = kept
        if not n.md.get("isIdle") and not n.edges:
            orphans[key] = True
    for n in tm.values():
        for e in n.edges.values():
            orphans[e.dest.key] = False
    for key, no_incoming in orphans.items():
        node = tm.get(key)
        if no_incoming and node is not None and not node.edges:
            del tm[key]
