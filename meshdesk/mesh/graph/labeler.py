"""Finalizer: Kubernetes labels on nodes (Kiali's labeler), for Find/Hide's ``label:`` operands and the
Kiali JSON's ``labels``.

A workload node (or a versioned app node naming its workload) takes its workload's labels; an
unversioned app node the labels of the app's workloads and of the Services in front of them together
(values that differ are sorted and joined with commas, ``east,west``); a service node its Service's
labels, or, named by a host of a ServiceEntry of its namespace, the entry's (Kiali's service list
offers such hosts as services). The app and version labels are left out (the node says those already). Outside and inaccessible nodes get none, nor does anything without an
inventory. An inventory merged from several clusters labels each node from its own cluster's objects.
"""

from __future__ import annotations

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext, inventory_parts
from meshdesk.mesh.graph.service_entry import listed_hosts
from meshdesk.mesh.graph.trafficmap import TNode, TrafficMap, is_ok
from meshdesk.mesh.inventory import APP_LABELS, VERSION_LABELS, Inventory, Service


def _without_app_and_version(labels: dict[str, str]) -> dict[str, str]:
    out = dict(labels)
    for names in (APP_LABELS, VERSION_LABELS):
        found = next((k for k in names if k in out), None)
        if found is not None:
            del out[found]
    return out


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    inv = ctx.inventory
    if inv is None or not tm:
        return
    # each node by its own cluster's objects (another cluster's workload of the same name is not its)
    for part, nodes in inventory_parts(inv, tm.values()):
        _label(nodes, part)


def _label(nodes: list[TNode], inv: Inventory) -> None:
    workloads = {(w.namespace, w.name): w for w in inv.workloads}
    services = {(s.namespace, s.name): s.labels for s in inv.services}
    listed: dict[tuple[str, str], dict[str, str]] | None = None
    apps: dict[tuple[str, str], dict[str, str]] | None = None
    for n in nodes:
        md = n.md
        if md.get("isOutside") or md.get("isInaccessible"):
            continue
        labels: dict[str, str] | None = None
        if n.node_type == model.NODE_WORKLOAD or (n.node_type == model.NODE_APP and n.version):
            w = workloads.get((n.namespace, n.workload)) if is_ok(n.workload) else None
            labels = dict(w.labels) if w is not None else None
        elif n.node_type == model.NODE_APP:
            if apps is None:
                apps = {}
                services_in: dict[str, list[Service]] = {}
                for front in inv.services:
                    services_in.setdefault(front.namespace, []).append(front)
                for app in inv.apps():
                    # as Kiali's app list: the labels of the Services in front of the app and of its
                    # workloads, each label's values sorted
                    merged: dict[str, set[str]] = {}
                    fronts = [s for s in services_in.get(app.namespace, ())
                              if any(s.selects(w.labels) for w in app.workloads)]
                    for labelled in [*(f.labels for f in fronts), *(w.labels for w in app.workloads)]:
                        for k, v in labelled.items():
                            merged.setdefault(k, set()).add(v)
                    apps[(app.namespace, app.name)] = {k: ",".join(sorted(vs)) for k, vs in merged.items()}
            labels = apps.get((n.namespace, n.app))
        elif n.node_type == model.NODE_SERVICE:
            found = services.get((n.namespace, n.service))
            if found is None:
                if listed is None:
                    listed = {}
                    for h in listed_hosts(inv):
                        listed.setdefault((h.namespace, h.name), h.labels)
                found = listed.get((n.namespace, n.service))
            labels = dict(found) if found is not None else None
        if labels:
            labels = _without_app_and_version(labels)
            if labels:
                md["labels"] = labels
