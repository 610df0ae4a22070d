"""Appender: WorkloadEntry badges (Kiali's workloadEntry appender, in its UI's default set).

A workload or app node of a requested namespace that the user may read gets ``hasWorkloadEntry``: the
names of that namespace's WorkloadEntries whose labels carry the node's app and its version (both
labels must be there: a VM registered as ``reviews`` ``v1`` stands behind the ``reviews v1`` node), in
the node's cluster (an inventory merged from several clusters holds each one's), as Kiali reads them.
Without an inventory it does nothing.
"""

from __future__ import annotations

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext, inventory_lookup
from meshdesk.mesh.graph.trafficmap import TrafficMap
from meshdesk.mesh.inventory import APP_LABELS, VERSION_LABELS, first_label


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    inv = ctx.inventory
    if inv is None or not tm:
        return
    # (cluster, namespace) -> (name, app, version)
    by_namespace: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for we in inv.istio_objects("WorkloadEntry"):
        labels = we.spec.get("labels") if isinstance(we.spec, dict) else None
        app, version = first_label(labels, APP_LABELS), first_label(labels, VERSION_LABELS)
        if app is not None and version is not None:
            by_namespace.setdefault((we.cluster or inv.cluster, we.namespace), []).append((we.name, app, version))
    if not by_namespace:
        return
    requested = set(ctx.namespaces)
    lookup = inventory_lookup(inv, {n.cluster for n in tm.values()})
    for n in tm.values():
        if n.node_type not in (model.NODE_WORKLOAD, model.NODE_APP) or n.namespace not in requested:
            continue
        where = lookup(n.cluster)
        if where is None or not ctx.request.is_accessible(n.cluster, n.namespace):
            continue
        names = [name for name, app, version in by_namespace.get((where, n.namespace), ())
                 if app == n.app and version == n.version]
        if names:
            n.md["hasWorkloadEntry"] = names
