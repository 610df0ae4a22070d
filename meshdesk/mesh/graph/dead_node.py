"""Appender: dead nodes.

A node with no traffic at all (no in/out rate) is checked against the inventory: a workload (or
versioned app) node whose workload no longer exists is removed, one whose workload has no pods is
marked ``is_dead``; a service node with no traffic and no outgoing edge is removed (unless it is a
ServiceEntry or PassthroughCluster/BlackHoleCluster); the unknown source without traffic is removed.
Repeats until nothing changes. Only namespaces the inventory covers are judged; without an inventory
it does nothing.
"""

from __future__ import annotations

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.trafficmap import IN_RATE, OUT_RATE, TrafficMap, is_ok

MAX_ROUNDS = 5


def _has_traffic(md: dict[str, object]) -> bool:
    return any(float(md.get(r, 0.0) or 0.0) > 0 for r in (*IN_RATE.values(), *OUT_RATE.values()))  # type: ignore[arg-type]


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    inv = ctx.inventory
    if inv is None or not tm:
        return
    covered = {n.name for n in inv.namespaces} | {w.namespace for w in inv.workloads}
    workloads = {(w.namespace, w.name): w for w in inv.workloads}
    accessible = ctx.request.accessibleNamespaces
    for _ in range(MAX_ROUNDS):
        removed = []
        for key, n in tm.items():
            if _has_traffic(n.md) or n.node_type == model.NODE_AGGREGATE:
                continue
            if n.node_type == model.NODE_SERVICE:
                if n.edges or n.md.get("isServiceEntry") or n.md.get("isEgressCluster"):
                    continue
                if n.namespace in covered or n.namespace == model.UNKNOWN:
                    removed.append(key)
                continue
            if n.node_type == model.NODE_UNKNOWN:
                removed.append(key)
                continue
            if not is_ok(n.workload) or n.namespace not in covered:
                continue
            if accessible is not None and n.namespace not in accessible:
                continue
            w = workloads.get((n.namespace, n.workload))
            if w is None:
                removed.append(key)
            elif not w.pods and w.available == 0:
                n.md["isDead"] = True
        if not removed:
            return
        for key in removed:
            del tm[key]
        gone = set(removed)
        for n in tm.values():
            for k in [k for k in n.edges if k[0] in gone]:
                del n.edges[k]
