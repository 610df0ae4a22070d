"""Finalizer: mark nodes outside the requested namespaces (``isOutside``), nodes the user may not read
(``isInaccessible``), and traffic sources (``isRoot``).

Rules (as Kiali's outsider and traffic-generator finalizers):
- the unknown source, the unknown-namespace service and PassthroughCluster/BlackHoleCluster are
  inaccessible;
- any other node whose namespace is not one of the requested ones is outside; a node in the unknown
  namespace is never outside;
- a node whose namespace is not accessible (``request.accessibleNamespaces``; None means all) is
  inaccessible. Entries may be plain names (any cluster) or ``cluster:namespace``;
- a node with outgoing edges and no incoming edge is a root.
"""

from __future__ import annotations

from collections.abc import Iterable

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.trafficmap import UNKNOWN, TrafficMap


def mark_outsiders(tm: TrafficMap, namespaces: Iterable[str], accessible: Iterable[str] | None) -> None:
    requested = set(namespaces)
    names: set[str] | None = None
    scoped: set[tuple[str, str]] = set()
    if accessible is not None:
        names = set()
        for entry in accessible:
            if ":" in entry:
                cluster, _, ns = entry.partition(":")
                scoped.add((cluster, ns))
            else:
                names.add(entry)
    for n in tm.values():
        md = n.md
        if n.node_type == model.NODE_UNKNOWN:
            md["isInaccessible"] = True
        elif n.node_type == model.NODE_SERVICE and (n.namespace == UNKNOWN or md.get("isEgressCluster")):
            md["isInaccessible"] = True
        elif n.namespace != UNKNOWN and n.namespace not in requested:
            md["isOutside"] = True
        if "isInaccessible" not in md and names is not None:
            if n.namespace not in names and (n.cluster, n.namespace) not in scoped:
                md["isInaccessible"] = True


def mark_roots(tm: TrafficMap) -> None:
    dests = {e.dest.key for n in tm.values() for e in n.edges.values()}
    for n in tm.values():
        if n.edges and n.key not in dests:
            n.md["isRoot"] = True
