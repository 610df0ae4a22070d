"""Kiali's ``healthData``: per node, the numbers behind its health, as Kiali's health appender hands
them to its UI (``graph/telemetry/istio/appender/health.go``, shapes of ``models/health.go``).

Made when an export asks (``export.to_kiali``), not by every build: the health pass leaves what it
judged from on the graph (``TrafficGraph.health_basis``); a graph the pass did not run on has none, and
its nodes' ``healthData`` is null, as in Kiali without its health appender.

Per node type:

- service: ServiceHealth ``{"requests": ..., "status": ...}``;
- workload: WorkloadHealth ``{"requests": ..., "status": ..., "workloadStatus": {...} | null}``;
- app: AppHealth ``{"requests": ..., "status": ..., "workloadStatuses": [...]}``: an app node's are its
  app's workloads; a versioned app node (an app node with a workload) has none (Kiali hands the app's
  to its box only, ``healthDataApp``);
- an app box: the app's health (its versions' requests added up, all its workloads, the box's verdict);
  an app graph's box that of its app node; other boxes, unknown and operation nodes: null.

``requests`` is Kiali's RequestHealth: ``inbound``/``outbound`` map protocol -> response code -> rate,
what the node's incoming and outgoing edges carried (requests per second, TCP in bytes per second under
code "-", as Kiali tallies its edges' responses; to 12 significant digits, see ``exact``), and ``healthAnnotations`` the service's or
workload's ``health.kiali.io/rate`` annotation (apps: none, as in Kiali). ``status`` is the verdict the
health pass made (Kiali's CalculatedHealthStatus: ``status``; ``errorRatio`` in percent, -1 when no
tolerance spoke of its traffic (none for its directions and protocols: TCP, or a rule of its own for
other ones), left out when 0; ``totalRequestRate``, left out when 0); an inaccessible node has
none, as it has no verdict. ``workloadStatus`` is Kiali's WorkloadStatus from the inventory (replicas
wanted, running and available, a gateway's outside the selection too, proxies in sync with istiod, -1 when not known or not asked: no sidecar,
a gateway), the node's own cluster's (an inventory merged from several clusters holds each one's); without
an inventory (an offline snapshot that carries none), or for a node of a cluster the inventory holds
nothing of, it is null and ``workloadStatuses`` empty, what Kiali writes for a workload it does not find.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import inventory_part
from meshdesk.mesh.graph.health import (
    ANNOTATION,
    available_as_kiali_counts,
    configured_tolerances,
    counted_outside_gateway,
    node_tolerances,
)
from meshdesk.mesh.graph.istio import is_gateway
from meshdesk.mesh.graph.trafficmap import is_ok
from meshdesk.mesh.health_rates import Tolerance
from meshdesk.mesh.inventory import Inventory, Workload

Requests = dict[str, dict[str, float]]  # protocol -> code -> rate
_KINDS = frozenset({model.NODE_APP, model.NODE_WORKLOAD, model.NODE_SERVICE})


def exact(rate: float) -> float:
    """A rate to 12 significant digits: the same whether it was added up from an edge's raw rates or
    taken back from its percentages (which an edge makes once its breakdown is read, and which give
    90.00000000000001 for 90), so that every export writes the same numbers."""
    return float(f"{rate:.12g}")


def code_rates(e: model.Edge) -> dict[str, float]:
    """Per response code, the rate the edge carried with it, as Kiali adds an edge's responses into its
    nodes' health: the rates behind each code's response flags, added up (from the raw breakdown while
    the edge has not made its percentages, else from them)."""
    raw = e._raw_responses
    if raw is not None:
        return {code: sum(flags.values()) for code, flags in raw.items()}
    return e.code_rates()


def _tally(graph: model.TrafficGraph) -> tuple[dict[str, Requests], dict[str, Requests]]:
    """Per node id (of the types Kiali gives health data), its inbound and outbound requests."""
    inbound: dict[str, Requests] = {}
    outbound: dict[str, Requests] = {}
    kept = {nid for nid, n in graph.nodes.items() if n.node_type in _KINDS}
    for e in graph.edges.values():
        source, target = e.source in kept, e.target in kept
        if not (source or target):
            continue
        codes = code_rates(e)
        if not codes:
            continue
        for side, nid, on in ((outbound, e.source, source), (inbound, e.target, target)):
            if not on:
                continue
            by_protocol = side.get(nid)
            if by_protocol is None:
                by_protocol = side[nid] = {}
            mine = by_protocol.get(e.protocol)
            if mine is None:
                by_protocol[e.protocol] = dict(codes)
                continue
            for code, v in codes.items():
                mine[code] = mine.get(code, 0.0) + v
    return inbound, outbound


def _added(parts: list[Requests]) -> Requests:
    out: Requests = {}
    for part in parts:
        for protocol, codes in part.items():
            mine = out.setdefault(protocol, {})
            for code, v in codes.items():
                mine[code] = mine.get(code, 0.0) + v
    return out


def _sorted(requests: Requests | None) -> Requests:
    """As Go writes a map: keys in order."""
    if not requests:
        return {}
    return {p: {c: exact(requests[p][c]) for c in sorted(requests[p])} for p in sorted(requests)}


def workload_status(w: Workload) -> dict[str, Any]:
    """Kiali's WorkloadStatus of a workload (its ``CastWorkloadStatus``), fields in Kiali's order. A
    controller that does not say how many pods it runs (a bare pod, a CronJob) runs as many as it wants,
    as Kiali counts them."""
    synced = -1 if is_gateway(w) else w.synced_proxies
    return {"availableReplicas": available_as_kiali_counts(w),
            "currentReplicas": w.current if w.current >= 0 else w.replicas,
            "desiredReplicas": w.replicas, "name": w.name, "syncedProxies": synced}


def _judged(inbound: Requests, outbound: Requests, tolerances: tuple[Tolerance, ...]) -> bool:
    """Whether a tolerance spoke of some of this traffic: one for its direction and protocol (of those
    the node was judged by: its own annotation's, else the configured or default ones, the defaults
    covering HTTP and gRPC either way). Kiali's error ratio is -1 otherwise, the verdict coming from
    the pods alone."""
    for direction, side in (("inbound", inbound), ("outbound", outbound)):
        for protocol, codes in side.items():
            if any(v > 0 for v in codes.values()) and any(
                    t.direction.search(direction) and t.protocol.search(protocol) for t in tolerances):
                return True
    return False


def _status(h: model.Health, inbound: Requests, outbound: Requests, tolerances: tuple[Tolerance, ...]) -> dict[str, Any]:
    """Kiali's CalculatedHealthStatus of a verdict on this traffic (``tolerances``: those it was judged by)."""
    judged = _judged(inbound, outbound, tolerances)
    ratio = exact(h.error_ratio * 100.0) if judged and h.status != model.NO_HEALTH else -1
    out: dict[str, Any] = {}
    if ratio:
        out["errorRatio"] = ratio
    out["status"] = h.status
    total = exact(sum(v for side in (inbound, outbound) for codes in side.values() for v in codes.values()))
    if total:
        out["totalRequestRate"] = total
    return out


class _Index:
    """One cluster's workloads and services by name (an inventory's, or its part of one merged from
    several clusters), looked up as the health pass does."""

    def __init__(self, inv: Inventory) -> None:
        self.workloads: dict[tuple[str, str], Workload] = {}
        self.apps: dict[tuple[str, str], list[Workload]] = {}
        self.services: dict[tuple[str, str], dict[str, str]] = {}
        for w in inv.workloads:
            self.workloads.setdefault((w.namespace, w.name), w)  # the first, as Inventory.workload
            self.apps.setdefault((w.namespace, w.app), []).append(w)
        inside_apps = set(self.apps)
        for w in inv.outside_gateways:  # those whose pods the health pass weighed (health.counted_outside_gateway)
            if counted_outside_gateway(inv, w.namespace, w.name) is w and (w.namespace, w.name) not in self.workloads:
                self.workloads[(w.namespace, w.name)] = w
                if (w.namespace, w.app) not in inside_apps:
                    self.apps.setdefault((w.namespace, w.app), []).append(w)
        for s in inv.services:
            self.services.setdefault((s.namespace, s.name), s.annotations)


class _Lookup:
    """The inventory's workloads and services by name, each node's looked up in its own cluster's
    (``context.inventory_part``), as the health pass does."""

    def __init__(self, inv: Inventory | None, clusters: set[str]) -> None:
        self.part_of = inventory_part(inv, clusters)
        self.indexes: dict[int, _Index] = {}

    def index(self, n: model.Node) -> _Index | None:
        """The index of the node's cluster, None when the node is not known there."""
        if n.is_inaccessible:
            return None
        part = self.part_of(n.cluster)
        if part is None:
            return None
        found = self.indexes.get(id(part))
        if found is None:
            found = self.indexes[id(part)] = _Index(part)
        return found

    def annotations(self, ann: dict[str, str] | None) -> dict[str, str]:
        return {ANNOTATION: ann[ANNOTATION]} if ann and ANNOTATION in ann else {}

    def app_statuses(self, n: model.Node) -> list[dict[str, Any]]:
        index = self.index(n)
        return [workload_status(w) for w in index.apps.get((n.namespace, n.app), [])] if index is not None else []


def health_data(graph: model.TrafficGraph) -> dict[str, Any] | None:
    """Each node's ``healthData`` by node id (None for a node that has none), or None when the health
    pass did not run on the graph."""
    basis = graph.health_basis
    if basis is None:
        return None
    judged = basis.judged or graph
    inbound, outbound = _tally(judged)
    look = _Lookup(basis.inventory, {n.cluster for n in judged.nodes.values()})
    out: dict[str, Any] = {}
    for nid, n in graph.nodes.items():
        if n.node_type in _KINDS:
            out[nid] = _node_data(n, look, inbound.get(nid) or {}, outbound.get(nid) or {}, basis.rates)
    boxes = {nid: n for nid, n in graph.nodes.items() if n.node_type == model.NODE_BOX and n.box == model.BOX_APP}
    if boxes:
        apps: dict[str, list[model.Node]] = {}
        for n in graph.nodes.values():
            if n.parent in boxes and n.node_type == model.NODE_APP:
                apps.setdefault(n.parent, []).append(n)
        for nid, n in boxes.items():
            out[nid] = _box_data(n, apps.get(nid, []), look, inbound, outbound, out, basis.rates)
    return out


def _node_data(n: model.Node, look: _Lookup, ins: Requests, outs: Requests, rates: tuple[Any, ...]) -> dict[str, Any]:
    annotations: dict[str, str] = {}
    workload: Workload | None = None
    index = look.index(n)
    if index is not None:
        if n.node_type == model.NODE_SERVICE:
            annotations = look.annotations(index.services.get((n.namespace, n.service)))
        elif n.node_type == model.NODE_WORKLOAD:
            workload = index.workloads.get((n.namespace, n.workload))
            annotations = look.annotations(workload.health_annotations if workload is not None else None)
    d: dict[str, Any] = {"requests": {"healthAnnotations": annotations, "inbound": _sorted(ins),
                                      "outbound": _sorted(outs)}}
    if n.health is not None:
        d["status"] = _status(n.health, ins, outs, node_tolerances(n, rates))
    if n.node_type == model.NODE_WORKLOAD:
        d["workloadStatus"] = workload_status(workload) if workload is not None else None
    elif n.node_type == model.NODE_APP:
        # a versioned app node's workload statuses go to its box (Kiali's healthDataApp)
        d["workloadStatuses"] = [] if is_ok(n.workload) else look.app_statuses(n)
    return d


def _box_data(box: model.Node, apps: list[model.Node], look: _Lookup, inbound: dict[str, Requests],
              outbound: dict[str, Requests], nodes: dict[str, Any], rates: tuple[Any, ...]) -> dict[str, Any] | None:
    """An app box's: its app's health (``apps``: its app nodes)."""
    if not apps:
        return None
    versions = [m for m in apps if is_ok(m.workload)]
    if not versions:  # an app graph's app node is the whole app
        data: dict[str, Any] = nodes[apps[0].id]
        return data
    ins = _added([inbound.get(m.id) or {} for m in versions])
    outs = _added([outbound.get(m.id) or {} for m in versions])
    d: dict[str, Any] = {"requests": {"healthAnnotations": {}, "inbound": _sorted(ins), "outbound": _sorted(outs)}}
    if box.health is not None:
        d["status"] = _status(box.health, ins, outs, configured_tolerances(versions[0], rates))
    d["workloadStatuses"] = look.app_statuses(versions[0])
    return d
