"""Why a node graph is empty when its node is not in the namespace: the workload, app, app version or
service it is about is missing from the inventory (a typo, or a snapshot of a node since gone), or
names a ServiceEntry, which has no node graph. Said the same way by ``meshdesk graph`` and by the
window's empty page."""

from __future__ import annotations

from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.inventory import WORKLOAD_LISTS, Inventory
from meshdesk.mesh.request import NodeFocus


def service_entry_focus(focus: NodeFocus | None, inv: Inventory | None) -> str:
    """Why a node graph of service NAME is empty when NAME is a ServiceEntry of the namespace and no
    Service: a ServiceEntry has no node graph (the window opens none for its node, as Kiali's graph
    does not); "" otherwise. One sentence, without advice (the caller knows how its user goes on)."""
    if focus is None or not focus.service or focus.aggregateValue or inv is None \
            or inv.service(focus.namespace, focus.service) is not None:
        return ""
    entry = next((o for o in inv.istio_objects("ServiceEntry", focus.namespace) if o.name == focus.service), None)
    if entry is None:
        return ""
    hosts = entry.spec.get("hosts") if isinstance(entry.spec, dict) else None
    named = ", ".join(str(h) for h in hosts) if isinstance(hosts, list) and hosts else "none"
    return (f"{focus.namespace}/{focus.service} is a ServiceEntry (hosts: {named}), not a service: a ServiceEntry "
            "has no node graph, as in Kiali")


def missing_focus(focus: NodeFocus | None, inv: Inventory | None) -> str:
    """Why a node graph is empty when its workload, app or service is not in the namespace's inventory
    (a typo said "no traffic"); "" when it is there, or when the inventory cannot tell (not read, or
    its workloads or services hidden)."""
    if focus is None or focus.aggregateValue or inv is None:
        return ""
    where = ""
    if focus.cluster and merged(inv):
        # an inventory merged from several clusters: the node's own cluster's objects (as the graph
        # keeps to its cluster); one it holds nothing of cannot tell
        part = inventory_part(inv, ())(focus.cluster)
        if part is None or part.cluster != focus.cluster:
            return ""
        inv, where = part, f" in cluster {focus.cluster}"
    if inv.namespace(focus.namespace) is None:
        return ""
    ns = focus.namespace
    if focus.service:
        if inv.unread(ns, ("services",)):
            return ""
        names = sorted({s.name for s in inv.services if s.namespace == ns})
        if focus.service in names:
            return ""
        what, name = "service", focus.service
    else:
        if inv.unread(ns, WORKLOAD_LISTS):
            return ""
        workloads = [w for w in inv.workloads if w.namespace == ns]
        if focus.workload:
            names = sorted({w.name for w in workloads})
            if focus.workload in names:
                return ""
            what, name = "workload", focus.workload
        else:
            apps = {w.labels.get("app", ""): w for w in workloads}
            names = sorted(a for a in apps if a)
            if focus.app in names:
                if not focus.version or any(w.labels.get("app") == focus.app and w.labels.get("version") == focus.version
                                            for w in workloads):
                    return ""
                versions = sorted({w.labels.get("version", "") for w in workloads
                                   if w.labels.get("app") == focus.app} - {""})
                return (f"app {focus.app} in {ns}{where} has no version {focus.version} "
                        f"(its versions: {', '.join(versions) or 'none'})")
            what, name = "app", focus.app or ""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    plural = {"service": "services", "workload": "workloads", "app": "apps"}[what]
    return f"{ns}{where} has no {what} {name} ({plural}: {shown or 'none'})"
