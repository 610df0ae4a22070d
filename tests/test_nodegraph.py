"""Node graphs (Kiali's drill-down): double-click a node to see what calls it and what it calls, in
every namespace; the double-clicked node stays selected; back to the full graph. Real window, real
demo cluster, real graph builder (whose node-detail graphs the Kiali conformance cases check)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from meshdesk.mesh.graph.model import (
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    Node,
    ServiceEntryInfo,
    node_id,
)
from meshdesk.mesh.request import NodeFocus
from meshdesk.ui.nodegraph import focus_for, focus_key, focus_text, no_node_graph
from tests.ui_helpers import shown, window_test_marks

pytestmark = window_test_marks()


def test_which_nodes_open_a_node_graph() -> None:
    wl = Node(node_id(NODE_WORKLOAD, "c", "shop", workload="reviews-v2"), NODE_WORKLOAD, "c", "shop",
              workload="reviews-v2", app="reviews", version="v2")
    app = Node(node_id(NODE_APP, "c", "shop", app="reviews", version="v2"), NODE_APP, "c", "shop", app="reviews",
               version="v2")
    svc = Node(node_id(NODE_SERVICE, "c", "shop", service="reviews"), NODE_SERVICE, "c", "shop", service="reviews")
    entry = Node(node_id(NODE_SERVICE, "c", "shop", service="api.example.com"), NODE_SERVICE, "c", "shop",
                 service="api.example.com", is_service_entry=ServiceEntryInfo("MESH_EXTERNAL"))
    unknown = Node(node_id(NODE_UNKNOWN), NODE_UNKNOWN)
    op = Node(node_id(NODE_AGGREGATE, "c", "shop", aggregate="request_operation", aggregate_value="GET /"),
              NODE_AGGREGATE, "c", "shop", aggregate="request_operation", aggregate_value="GET /")
    assert focus_for(wl, "workload") == NodeFocus("shop", workload="reviews-v2")
    assert focus_for(app, "versionedApp") == NodeFocus("shop", app="reviews", version="v2")
    assert focus_for(app, "app") == NodeFocus("shop", app="reviews")
    assert focus_for(svc, "versionedApp") == NodeFocus("shop", service="reviews")
    assert [focus_for(n, "versionedApp") for n in (entry, unknown)] == [None, None]
    assert focus_for(op, "versionedApp") == NodeFocus("shop", aggregate="request_operation", aggregateValue="GET /")
    focus = NodeFocus("shop", app="reviews", version="v2")
    assert focus_text(focus) == "app shop/reviews v2"
    assert "|" not in focus_key(focus) and "," not in focus_key(focus)
    # a graph spanning two clusters: the node graph keeps to the node's (not in one cluster, where
    # telemetry may carry no cluster label)
    from meshdesk.mesh.graph.model import TrafficGraph
    from meshdesk.mesh.request import GraphRequest

    graph = TrafficGraph(GraphRequest())
    west = Node(node_id(NODE_WORKLOAD, "w", "shop", workload="reviews-v2"), NODE_WORKLOAD, "w", "shop",
                workload="reviews-v2", app="reviews", version="v2")
    graph.add_node(wl)
    assert focus_for(wl, "workload", graph) == NodeFocus("shop", workload="reviews-v2")
    graph.add_node(west)
    assert focus_for(wl, "workload", graph) == NodeFocus("shop", workload="reviews-v2", cluster="c")
    assert focus_for(svc, "workload", graph) == NodeFocus("shop", service="reviews", cluster="c")
    assert focus_text(NodeFocus("shop", workload="reviews-v2", cluster="c")) == "workload shop/reviews-v2 in c"
    assert focus_for(op, "workload", graph) == NodeFocus("shop", aggregate="request_operation", aggregateValue="GET /")
    odd = NodeFocus("shop", service="api", aggregate="request_operation", aggregateValue="GET /a,b|c")
    assert focus_text(odd) == "operation shop/GET /a,b|c of api"
    assert "|" not in focus_key(odd) and "," not in focus_key(odd)


def test_double_click_on_an_operation_opens_its_node_graph(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """With operation nodes on, double-clicking "GET /details/{id}" shows who calls that operation
    and what serves it, and nothing else of the mesh."""
    w = demo_window(["shop"])
    w.toolbar.choose(operation_nodes=True)
    full = shown(qtbot, w, lambda g: any(n.node_type == NODE_AGGREGATE for n in g.nodes.values()))
    op = next(n for n in full.nodes.values() if n.node_type == NODE_AGGREGATE and n.aggregate_value == "GET /details/{id}")
    w.view.nodeDoubleClicked.emit(op.id)
    graph = shown(qtbot, w, lambda g: g.request.node is not None)
    assert graph.request.node == NodeFocus("shop", service="details", aggregate="request_operation",
                                           aggregateValue="GET /details/{id}")
    assert "operation shop/GET /details/{id} of details: who calls it and what serves it" in w.focus_bar.label.text()
    assert [n.aggregate_value for n in graph.nodes.values() if n.node_type == NODE_AGGREGATE] == ["GET /details/{id}"]
    assert {n.app for n in graph.nodes.values() if n.node_type == NODE_APP} == {"productpage", "details"}
    assert w.view.selected_ids() == [op.id]  # the same node, in its own graph


def test_double_click_opens_the_node_graph_and_back(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop", "hello"])
    full = shown(qtbot, w, lambda g: bool(g.edges))
    reviews = next(n for n in full.nodes.values() if n.node_type == NODE_SERVICE and n.service == "reviews")
    w.view.nodeDoubleClicked.emit(reviews.id)
    graph = shown(qtbot, w, lambda g: g.request.node is not None)
    assert graph.request.node == NodeFocus("shop", service="reviews")
    assert graph.request.namespaces == ("shop",)
    # what calls reviews and what it calls: productpage, the service, its three versions; not ratings
    assert {n.app for n in graph.nodes.values() if n.node_type == NODE_APP} == {"productpage", "reviews"}
    assert {n.version for n in graph.nodes.values() if n.app == "reviews" and n.node_type == NODE_APP} == \
        {"v1", "v2", "v3"}
    assert w.focus_bar.isVisible() and "service shop/reviews" in w.focus_bar.label.text()
    assert w.view.selected_ids() == [reviews.id] and w.panel.text().startswith("Service reviews")
    assert w._layout_key is not None and "@service:shop/reviews" in w._layout_key.graph_type
    w.view.select([])  # nothing selected: the panel sums up the node graph
    qtbot.waitUntil(lambda: w.panel.text().startswith("Node graph of service shop/reviews"), timeout=5000)
    qtbot.mouseClick(w.focus_bar.back_button, Qt.MouseButton.LeftButton)
    back = shown(qtbot, w, lambda g: g.request.node is None)
    assert set(back.request.namespaces) == {"shop", "hello"} and not w.focus_bar.isVisible()
    assert set(back.nodes) == set(full.nodes)


def test_choosing_namespaces_leaves_the_node_graph(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    full = shown(qtbot, w, lambda g: bool(g.edges))
    wl = next(n for n in full.nodes.values() if n.node_type == NODE_APP and n.app == "ratings")
    w.view.nodeDoubleClicked.emit(wl.id)
    shown(qtbot, w, lambda g: g.request.node == NodeFocus("shop", app="ratings", version="v1"))
    assert w.back_action.isEnabled()
    w.toolbar.select_namespaces(["hello"])
    shown(qtbot, w, lambda g: g.request.node is None and g.request.namespaces == ("hello",))
    assert not w.focus_bar.isVisible() and not w.back_action.isEnabled()


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard|propagateSizeHints\(\))$")  # a popup, offscreen
def test_the_context_menu_offers_the_node_graph_and_the_way_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from meshdesk.ui.app import make_window as app_window
    from tests.ui_helpers import open_windows

    windows = open_windows(qtbot, lambda: app_window(argparse.Namespace(
        demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)))
    make = next(windows)
    w = make()
    full = shown(qtbot, w, lambda g: bool(g.edges))
    reviews = next(n for n in full.nodes.values() if n.node_type == NODE_SERVICE and n.service == "reviews")

    def menu_at(nid: str) -> list[str]:
        item = w.view.node_item(nid)
        assert item is not None
        w.view.customContextMenuRequested.emit(w.view.mapFromScene(item.pos()))
        popup = w.actions_controller.popup_menu
        assert popup is not None
        return [a.text() for a in popup.actions() if a.text()]

    texts = menu_at(reviews.id)
    assert texts[0] == "Show node graph" and "Traffic shifting…" in texts
    w.actions_controller.popup_menu.actions()[0].trigger()
    w.actions_controller.popup_menu.close()
    shown(qtbot, w, lambda g: g.request.node == NodeFocus("shop", service="reviews"))
    texts = menu_at(reviews.id)
    assert texts[0] == "Back to the full graph" and "Show node graph" not in texts
    w.actions_controller.popup_menu.close()
    next(windows, None)  # closes the window; no thread may be left running


def test_boxes_inaccessible_and_refused_nodes() -> None:
    """As Kiali: an app box opens its app's node graph (all versions); a namespace box and an
    inaccessible node none; a workload without a sidecar and an idle node are refused, saying why."""
    app_box = Node(node_id(NODE_BOX, "c", "shop", app="reviews", box="app"), NODE_BOX, "c", "shop", app="reviews",
                   box="app")
    ns_box = Node(node_id(NODE_BOX, "c", "shop", box="namespace"), NODE_BOX, "c", "shop", box="namespace")
    assert focus_for(app_box, "versionedApp") == NodeFocus("shop", app="reviews")
    assert focus_for(ns_box, "versionedApp") is None
    hidden = Node(node_id(NODE_WORKLOAD, "c", "secret", workload="vault"), NODE_WORKLOAD, "c", "secret",
                  workload="vault", is_inaccessible=True)
    assert focus_for(hidden, "workload") is None
    wl = Node(node_id(NODE_WORKLOAD, "c", "shop", workload="mongodb-v1"), NODE_WORKLOAD, "c", "shop",
              workload="mongodb-v1")
    assert no_node_graph(wl) is None
    wl.has_missing_sidecar = True
    assert "sidecar" in (no_node_graph(wl) or "")
    idle = Node(node_id(NODE_SERVICE, "c", "shop", service="cart"), NODE_SERVICE, "c", "shop", service="cart",
                is_idle=True)
    assert "idle" in (no_node_graph(idle) or "")


def _double_click_box(w, box) -> None:  # type: ignore[no-untyped-def]
    """A real double-click inside ``box``, on no node (its lower left corner)."""
    r = box.boundingRect()
    QTest.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      w.view.mapFromScene(QPointF(r.left() + 4, r.bottom() - 4)))


def test_double_click_on_an_app_box_opens_the_apps_node_graph(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    full = shown(qtbot, w, lambda g: any(n.node_type == NODE_BOX and n.app == "reviews" for n in g.nodes.values()))
    box_id = next(n.id for n in full.nodes.values() if n.node_type == NODE_BOX and n.app == "reviews")
    qtbot.waitUntil(lambda: w.view.box_item(box_id) is not None and not w.view.layout_running, timeout=10000)
    w.view.fit()
    _double_click_box(w, w.view.box_item(box_id))
    graph = shown(qtbot, w, lambda g: g.request.node is not None)
    assert graph.request.node == NodeFocus("shop", app="reviews")
    assert {n.version for n in graph.nodes.values() if n.app == "reviews" and n.node_type == NODE_APP} == \
        {"v1", "v2", "v3"}
    assert "app shop/reviews" in w.focus_bar.label.text()


def test_double_click_on_an_outside_node_shows_its_namespace(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Kiali: a node of a namespace not shown (the ingress gateway calling into shop) leads to that
    namespace's graph, not to a node graph."""
    w = demo_window(["shop"])
    full = shown(qtbot, w, lambda g: any(n.is_outside for n in g.nodes.values()))
    outside = next(n for n in full.nodes.values() if n.is_outside and n.node_type != NODE_BOX)
    w.view.nodeDoubleClicked.emit(outside.id)
    graph = shown(qtbot, w, lambda g: g.request.namespaces == (outside.namespace,))
    assert graph.request.node is None and w.toolbar.selected_namespaces() == [outside.namespace]


def test_a_workload_without_a_sidecar_has_no_node_graph(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    full = shown(qtbot, w, lambda g: any(n.has_missing_sidecar for n in g.nodes.values()))
    bare = next(n for n in full.nodes.values() if n.has_missing_sidecar and n.node_type != NODE_BOX)
    w.view.nodeDoubleClicked.emit(bare.id)
    assert "sidecar" in w.statusBar().currentMessage()
    assert w.view.selected_ids() == [bare.id] and not w.back_action.isEnabled()
    assert w.graph is not None and w.graph.request.node is None


def test_back_from_a_node_graph_takes_the_full_graphs_items_back(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Back from a node graph, the namespaces' graph was drawn anew: on a big mesh its 16,000 items were made
    again and the window froze for over half a second. Its items are kept aside while the node graph is shown
    and come back where they stood, with what the user changed meanwhile (Hide, Find, edge labels) applied;
    the double-clicked node stays selected."""
    w = demo_window(["shop", "hello"])
    full = shown(qtbot, w, lambda g: bool(g.edges))
    qtbot.waitUntil(lambda: not w.view.layout_running, timeout=10000)
    view = w.view
    items = {nid: view.node_item(nid) for nid in view.node_ids()}
    edges = {eid: view.edge_item(eid) for eid in full.edges if view.edge_item(eid) is not None}
    places = view.positions()
    reviews = next(n for n in full.nodes.values() if n.node_type == NODE_SERVICE and n.service == "reviews")
    ratings = {nid for nid, n in full.nodes.items() if n.app == "ratings" and n.node_type != NODE_BOX}
    assert ratings and edges
    view.nodeDoubleClicked.emit(reviews.id)
    focused = shown(qtbot, w, lambda g: g.request.node is not None)
    # the node graph's own items: none of the full graph's is drawn in it
    assert all(view.node_item(nid) is not items.get(nid) for nid in focused.nodes if view.node_item(nid))
    w.toolbar.hide_edit.setText("app = ratings")
    QTest.keyClick(w.toolbar.hide_edit, Qt.Key.Key_Return)
    w.toolbar.find_edit.setText("app = details")
    QTest.keyClick(w.toolbar.find_edit, Qt.Key.Key_Return)
    w.toolbar.choose(edge_labels="requestRate")
    with qtbot.waitSignal(view.layoutFinished, timeout=10000):  # the view settles (and is fitted) after it
        qtbot.mouseClick(w.focus_bar.back_button, Qt.MouseButton.LeftButton)
    back = shown(qtbot, w, lambda g: g.request.node is None)
    assert set(back.nodes) == set(full.nodes)
    assert all(view.node_item(nid) is item for nid, item in items.items())  # the same items, not new ones
    assert all(view.edge_item(eid) is item for eid, item in edges.items())
    assert view.positions() == places
    assert view.selected_ids() == [reviews.id]
    # what changed while they were aside
    assert ratings <= view.hidden_ids() and not any(items[nid].isVisible() for nid in ratings)
    assert {nid for nid, n in back.nodes.items() if n.app == "details" and n.node_type != NODE_BOX} <= \
        view.highlighted_ids()
    labelled = [e for e in edges.values() if e.edge.rate > 0 and not e.edge.is_idle]
    assert labelled and all(e.label for e in labelled)


def test_back_from_a_node_graph_shows_the_whole_arranged_graph(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """A namespaces' graph the user had arranged (a layout chosen) came back from a node graph at the node
    graph's zoom, a few nodes filling the window and the rest out of sight. It comes back fitted."""
    w = demo_window(["shop", "hello"])
    full = shown(qtbot, w, lambda g: bool(g.edges))
    view = w.view
    qtbot.waitUntil(lambda: not view.layout_running, timeout=10000)
    with qtbot.waitSignal(view.layoutFinished, timeout=10000):
        w.toolbar.layoutRequested.emit("grid")
    assert view.has_saved_layout
    reviews = next(n for n in full.nodes.values() if n.node_type == NODE_SERVICE and n.service == "reviews")
    view.nodeDoubleClicked.emit(reviews.id)
    shown(qtbot, w, lambda g: g.request.node is not None)
    qtbot.waitUntil(lambda: not view.layout_running, timeout=10000)
    w.set_focus(None)
    shown(qtbot, w, lambda g: g.request.node is None)

    def all_in_sight() -> bool:
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        return all(seen.contains(view.node_item(nid).sceneBoundingRect().center())  # type: ignore[union-attr]
                   for nid in view.node_ids())

    qtbot.waitUntil(all_in_sight, timeout=5000)
