"""Appender: dead nodes.

A node with no traffic at all (no in/out rate; only idle telemetry makes one) is judged as Kiali does:

- a service node with no outgoing edge is removed, unless it is a ServiceEntry or
  PassthroughCluster/BlackHoleCluster; the unknown source is removed;
- a workload (or versioned app) node is checked against the inventory when it covers the node's
  namespace and the user may read it (``request.is_accessible``, and every list the namespace's
  workloads are made from was read): removed when its workload no longer exists, marked ``is_dead``
  when the workload has no pods. The workload is looked up in the node's cluster (an inventory merged
  from several clusters holds each one's), as Kiali looks it up.

Removing nodes may leave others without traffic or edges, so the rules repeat until nothing changes.
Without an inventory the pass does nothing: a snapshot without one tells nothing of what exists (Kiali
always has its cluster to ask; its own golden graphs, built without this pass, keep such nodes).
"""

from __future__ import annotations

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext, inventory_lookup
from meshdesk.mesh.graph.trafficmap import IN_RATE, OUT_RATE, TrafficMap, is_ok
from meshdesk.mesh.inventory import WORKLOAD_LISTS

MAX_ROUNDS = 5


def _has_traffic(md: dict[str, object]) -> bool:
    return any(float(md.get(r, 0.0) or 0.0) > 0 for r in (*IN_RATE.values(), *OUT_RATE.values()))  # type: ignore[arg-type]


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    inv = ctx.inventory
    if inv is None or not tm:
        return
    home = inv.cluster
    covered = {(n.cluster or home, n.name) for n in inv.namespaces} | {(w.cluster or home, w.namespace)
                                                                       for w in inv.workloads}
    workloads = {(w.cluster or home, w.namespace, w.name): w for w in inv.workloads}
    request = ctx.request
    # the inventory's cluster a node is looked up in; None: a cluster it does not hold, not judged
    lookup = inventory_lookup(inv, {n.cluster for n in tm.values()})
    judged: dict[str, bool] = {}  # namespace -> every list its workloads are made from was read
    for _ in range(max(MAX_ROUNDS, len(tm))):
        removed = []
        for key, n in tm.items():
            if _has_traffic(n.md) or n.node_type == model.NODE_AGGREGATE:
                continue
            if n.node_type == model.NODE_SERVICE:
                if not (n.edges or n.md.get("isServiceEntry") or n.md.get("isEgressCluster")):
                    removed.append(key)
                continue
            if n.node_type == model.NODE_UNKNOWN:
                removed.append(key)
                continue
            where = lookup(n.cluster) if is_ok(n.workload) else None
            if where is None or (where, n.namespace) not in covered \
                    or not request.is_accessible(n.cluster, n.namespace):
                continue
            if n.namespace not in judged:
                judged[n.namespace] = not inv.unread(n.namespace, WORKLOAD_LISTS)
            if not judged[n.namespace]:
                continue  # the user may not read all of it: a workload not found may exist all the same
            w = workloads.get((where, n.namespace, n.workload))
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
