"""Last pass: box nodes (compound parents) by app, namespace and cluster.

As Kiali: app and versionedApp graphs always box by app; ``request.boxBy`` adds "app", "namespace"
and/or "cluster". A box is made only for two or more members; namespace and cluster boxes only when
there would be more than one of them. Inner boxes come first (app, then namespace, then cluster), and
an outer box takes the nodes (and inner boxes) that have no parent yet. The unknown namespace and
cluster are never boxed. An app box is outside/inaccessible/missing-sidecar when any member is, and
takes the health the health pass made for its app (``extra["appHealth"]`` of its versioned members:
the requests of all its versions and every pod of the app; Kiali takes the first version's requests),
or in an app graph its app node's, which is the whole app.
"""

from __future__ import annotations

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.trafficmap import UNKNOWN


def apply(graph: model.TrafficGraph) -> None:
    box_by = set(graph.request.boxBy)
    if "app" in box_by or graph.request.graphType in ("app", "versionedApp"):
        _box(graph, model.BOX_APP)
    if "namespace" in box_by:
        _box(graph, model.BOX_NAMESPACE)
    if "cluster" in box_by:
        _box(graph, model.BOX_CLUSTER)


def _box(graph: model.TrafficGraph, kind: str) -> None:
    groups: dict[tuple[str, ...], list[model.Node]] = {}
    for n in list(graph.nodes.values()):
        if kind == model.BOX_APP:
            if n.app in ("", UNKNOWN) or n.node_type == model.NODE_BOX:
                continue
            key: tuple[str, ...] = (n.cluster, n.namespace, n.app)
        elif kind == model.BOX_NAMESPACE:
            if n.parent or n.namespace == UNKNOWN:
                continue
            key = (n.cluster, n.namespace)
        else:
            if n.parent or n.cluster == UNKNOWN:
                continue
            key = (n.cluster,)
        groups.setdefault(key, []).append(n)
    if kind != model.BOX_APP and len(groups) <= 1:
        return
    for members in groups.values():
        if len(members) < 2:
            continue
        first = members[0]
        namespace = first.namespace if kind in (model.BOX_APP, model.BOX_NAMESPACE) else ""
        app = first.app if kind == model.BOX_APP else ""
        box = model.Node(
            id=model.node_id(model.NODE_BOX, first.cluster, namespace, app=app, box=kind),
            node_type=model.NODE_BOX, cluster=first.cluster, namespace=namespace, app=app, box=kind,
        )
        for m in members:
            m.parent = box.id
            if kind == model.BOX_APP:
                box.is_outside = box.is_outside or m.is_outside
                box.is_inaccessible = box.is_inaccessible or m.is_inaccessible
                box.has_missing_sidecar = box.has_missing_sidecar or m.has_missing_sidecar
                if box.health is None and isinstance(m.extra.get("appHealth"), model.Health):
                    box.health = m.extra["appHealth"]  # all its versions' requests and all its pods
                elif box.health is None and m.node_type == model.NODE_APP and not m.workload and m.health:
                    box.health = m.health  # an app graph's app node is the whole app (as Kiali takes it)
        graph.add_node(box)
