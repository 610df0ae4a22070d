"""What the window shows of a node with an inventory of several clusters (merged from them, as a
snapshot may hold), or of one cluster beside another cluster's telemetry (a shared Prometheus): a node
is shown with its own cluster's objects, never another cluster's of the same name."""

from __future__ import annotations

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import Inventory, Namespace
from meshdesk.ui.perf_views import selected_workload
from tests.graph_samples import snapshot
from tests.test_graph_multicluster_inventory import _both, _by_cluster, _inventory, _traffic, _workload


def test_a_selected_nodes_workload_is_its_own_clusters() -> None:
    """The logs and Envoy docks show the selected node's workload's pods: west's cart-v1 node showed
    east's pods (the first cart-v1 of the merged inventory)."""
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    for cluster, node in _by_cluster(g, workload="cart-v1").items():
        w = selected_workload(g, inv, [node.id])
        assert w is not None and w.cluster == cluster and w.pods[0].name.startswith(f"cart-v1-{cluster}-")


def test_a_node_of_a_cluster_the_inventory_was_not_read_from_has_no_workload() -> None:
    """Connected to east, its Prometheus shared with west: west's cart-v1 node is not east's cart-v1, so
    its logs are not east's pods' (nothing of west was read)."""
    east = Inventory(cluster="east", namespaces=[Namespace("shop")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")])
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=east, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    assert set(nodes) == {"east", "west"}
    own = selected_workload(g, east, [nodes["east"].id])
    assert own is not None and own.name == "cart-v1"
    assert selected_workload(g, east, [nodes["west"].id]) is None
