"""Istio ambient mode in the app: the Waypoints and Ambient traffic choices shape the request, and the
demo's ambient namespace (travel) shows its waypoint with a badge and a two-way edge, on the canvas,
in the legend and in the side panel. Real window, real demo cluster, real graph builder."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from meshdesk.mesh.graph.model import Edge, Node, TrafficGraph
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.canvas import shapes
from meshdesk.ui.canvas.items import fmt_bytes_rate, two_way_return
from meshdesk.ui.canvas.legend import Legend
from meshdesk.ui.mainwindow import DEMO, MainWindow
from tests.ui_helpers import DEMO_NOW, shown, window_test_marks

pytestmark = window_test_marks()


def waypoint_of(g: TrafficGraph) -> Node | None:
    return next((n for n in g.nodes.values() if n.namespace == "travel" and n.workload == "waypoint"), None)


def travel_edges(g: TrafficGraph) -> list[Edge]:
    return [e for e in g.edges.values() if g.nodes[e.source].namespace == "travel"
            or g.nodes[e.target].namespace == "travel"]


def edge_pixels(w: MainWindow, at: QPointF, colour: QColor) -> int:
    """Pixels close to ``colour`` in a small square of the scene around ``at``, rendered at 4x."""
    image = QImage(48, 48, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    w.view.scene().render(painter, QRectF(0, 0, 48, 48), QRectF(at.x() - 6, at.y() - 6, 12, 12))
    painter.end()
    near = 0
    for x in range(48):
        for y in range(48):
            c = image.pixelColor(x, y)
            if abs(c.red() - colour.red()) + abs(c.green() - colour.green()) + abs(c.blue() - colour.blue()) < 90:
                near += 1
    return near


def ends(w: MainWindow, eid: str) -> tuple[int, int]:
    """(edge-coloured pixels where the edge leaves its source, where it reaches its target): an arrowhead
    covers far more of that square than the bare line does."""
    item = w.view.edge_item(eid)
    assert item is not None
    x1, y1, x2, y2 = item.ends()
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    at_source = QPointF(x1 + ux * 4, y1 + uy * 4)
    at_target = QPointF(x2 - ux * 4, y2 - uy * 4)
    return edge_pixels(w, at_source, item.colour), edge_pixels(w, at_target, item.colour)


def test_waypoints_and_ambient_traffic_choices_shape_the_request(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel"])
    g = shown(qtbot, w, lambda g: waypoint_of(g) is not None)
    assert "ambient" in (g.request.appenders or ()), "the app asks for the ambient finalizer"
    assert g.request.showWaypoints and g.request.ambientTraffic == "total"
    labels = [a.text() for a in w.toolbar.display_menu.actions()]
    assert "Waypoints" in labels and "Ambient traffic" in labels  # beside the other graph-shaping choices
    assert w.toolbar.display_actions["waypoints"].isChecked()
    assert w.toolbar.ambient_actions["total"].isChecked()

    w.toolbar.display_actions["waypoints"].trigger()
    shown(qtbot, w, lambda g: not g.request.showWaypoints)
    w.toolbar.ambient_actions["ztunnel"].trigger()
    # ztunnel's telemetry only, waypoints hidden: nothing is left in an ambient-only namespace
    g = shown(qtbot, w, lambda g: g.request.ambientTraffic == "ztunnel", canvas=False)
    assert not g.request.showWaypoints, "one choice does not undo the other"
    assert travel_edges(g) == [] and w.empty.mode == "no-traffic"
    assert [a for a in w.toolbar.ambient_actions.values() if a.isChecked()] == [w.toolbar.ambient_actions["ztunnel"]]

    # the choices stay when the user switches to another context and back, as the other toggles do
    w.switch_context(DEMO)
    g = shown(qtbot, w, lambda g: g.request.ambientTraffic == "ztunnel", canvas=False)
    assert not g.request.showWaypoints and w.toolbar.ambient_actions["ztunnel"].isChecked()


@pytest.mark.parametrize("graph_type", ["versionedApp", "workload"])
def test_the_demo_waypoint_is_badged_and_its_two_way_edge_has_two_arrowheads(qtbot, demo_window, graph_type) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel"])
    w.toolbar.choose(graph_type=graph_type)
    g = shown(qtbot, w, lambda g: g.request.graphType == graph_type and waypoint_of(g) is not None)
    waypoint = waypoint_of(g)
    assert waypoint is not None and waypoint.extra.get("isWaypoint")
    item = w.view.node_item(waypoint.id)
    assert item is not None and "waypoint" in item.badges and "missing-sidecar" not in item.badges
    assert item.tooltip().startswith("Ambient waypoint: waypoint")
    plain = [w.view.node_item(n.id) for n in g.nodes.values() if n.namespace == "travel" and n is not waypoint]
    assert plain and not any("waypoint" in i.badges or "missing-sidecar" in i.badges for i in plain if i)

    # search calls flights through the waypoint and is called through it: one edge, both ways
    two_way = [e for e in g.edges.values() if two_way_return(e) is not None]
    assert len(two_way) == 1
    edge = two_way[0]
    assert edge.target == waypoint.id and g.nodes[edge.source].app == "search"
    assert edge.extra["waypoint"]["fromEdge"].id not in g.edges, "the return edge is folded in, not drawn apart"
    edge_item = w.view.edge_item(edge.id)
    assert edge_item is not None and edge_item.two_way
    w.view.fit()
    source_end, target_end = ends(w, edge.id)
    assert source_end > 0.6 * target_end, "an arrowhead at the source end too"
    one_way = next(e for e in g.edges.values() if e.target == waypoint.id and e is not edge)
    source_end, target_end = ends(w, one_way.id)
    assert source_end < 0.6 * target_end, "a one-way edge has its arrowhead at the target only"

    legend = Legend()
    qtbot.addWidget(legend)
    assert {"Ambient waypoint", "Two-way (with a waypoint)"} <= set(legend.entries())


def test_side_panel_explains_the_waypoint_and_both_directions(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel"])
    w.toolbar.choose(graph_type="workload")
    g = shown(qtbot, w, lambda g: g.request.graphType == "workload" and waypoint_of(g) is not None)
    waypoint = waypoint_of(g)
    assert waypoint is not None
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([waypoint.id])
    text = w.panel.text()
    assert w.panel.title.text() == "Waypoint waypoint" and "Ambient waypoint" in text
    assert "missing" not in text.lower()

    edge = next(e for e in g.edges.values() if two_way_return(e) is not None)
    back = two_way_return(edge)
    assert back is not None
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([edge.id])
    text = w.panel.text()
    assert w.panel.title.text() == "search-v1 ⇄ waypoint"
    to_part, from_part = text.split("From the waypoint: waypoint → search-v1", 1)
    assert "To the waypoint: search-v1 → waypoint" in to_part
    assert f"Rate\n{fmt_bytes_rate(edge.rate)}" in to_part and f"Rate\n{fmt_bytes_rate(back.rate)}" in from_part
    assert edge.rate != back.rate, "the two directions carry different traffic"
    assert "search.travel.svc.cluster.local" in from_part  # the return traffic's host, from its responses

    # the summary of an ambient namespace does not call its pods sidecar-less
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([])
    text = w.panel.text()
    assert "Data plane\nambient" in text and "Waypoints\nwaypoint" in text and "Missing sidecars" not in text


def test_turning_waypoints_off_removes_the_waypoint_node(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel"])
    g = shown(qtbot, w, lambda g: waypoint_of(g) is not None)
    gone = waypoint_of(g)
    assert gone is not None and w.view.node_item(gone.id) is not None
    w.toolbar.display_actions["waypoints"].trigger()
    g = shown(qtbot, w, lambda g: not g.request.showWaypoints)
    assert waypoint_of(g) is None
    assert w.view.node_item(gone.id) is None, "gone from the canvas too"
    assert not any(two_way_return(e) for e in g.edges.values())
    # the requests the waypoint reported between the apps stay
    http = {(g.nodes[e.source].label, g.nodes[e.target].label) for e in travel_edges(g) if e.protocol == "http"}
    assert {("traveller latest", "search"), ("search", "search v1"), ("search v1", "flights")} <= http


def test_ambient_traffic_none_removes_the_ambient_edges(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel", "hello"])
    g = shown(qtbot, w, lambda g: any(e.protocol == "http" for e in travel_edges(g)))
    hello = {e.id for e in g.edges.values() if g.nodes[e.source].namespace == "hello"}
    assert hello
    w.toolbar.ambient_actions["waypoint"].trigger()
    g = shown(qtbot, w, lambda g: g.request.ambientTraffic == "waypoint")
    assert {e.protocol for e in travel_edges(g)} == {"http"}, "waypoint telemetry only: no ztunnel TCP"
    ambient_l7 = [e.id for e in travel_edges(g)]
    assert ambient_l7 and all(w.view.edge_item(eid) is not None for eid in ambient_l7)
    w.toolbar.ambient_actions["none"].trigger()
    g = shown(qtbot, w, lambda g: g.request.ambientTraffic == "none")
    assert travel_edges(g) == []
    assert all(w.view.edge_item(eid) is None for eid in ambient_l7), "gone from the canvas too"
    assert hello <= set(g.edges), "sidecar traffic is still graphed"
    w.toolbar.ambient_actions["total"].trigger()
    shown(qtbot, w, lambda g: g.request.ambientTraffic == "total" and waypoint_of(g) is not None)


def test_waypoint_badge_is_visible_on_the_canvas(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["travel"])
    g = shown(qtbot, w, lambda g: waypoint_of(g) is not None)
    waypoint = waypoint_of(g)
    other = next(n for n in g.nodes.values() if n.namespace == "travel" and n.workload == "traveller")
    assert waypoint is not None

    def purple(nid: str) -> int:
        item = w.view.node_item(nid)
        assert item is not None
        rect = item.sceneBoundingRect()
        return edge_pixels_in(w, rect, shapes.C_WAYPOINT)

    assert purple(waypoint.id) > 20 and purple(other.id) == 0


def edge_pixels_in(w: MainWindow, rect: QRectF, colour: QColor) -> int:
    image = QImage(int(rect.width() * 3), int(rect.height() * 3), QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    w.view.scene().render(painter, QRectF(0, 0, image.width(), image.height()), rect)
    painter.end()
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if abs(image.pixelColor(x, y).red() - colour.red()) + abs(image.pixelColor(x, y).green() - colour.green())
               + abs(image.pixelColor(x, y).blue() - colour.blue()) < 40)


def test_lists_say_ambient_rather_than_missing_sidecar(qtbot) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.ui.lists import WORKLOADS, MeshLists

    snap = DemoCluster(clock=lambda: DEMO_NOW).snapshot(GraphRequest(namespaces=("travel", "hello")))
    assert snap.inventory is not None
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snap), snap.inventory)
    sidecar = {r.name: r.sidecar for r in lists.pages[WORKLOADS].model.rows}
    assert sidecar["search-v1"] == "ambient" and sidecar["waypoint"] == "waypoint"
    # a sidecar namespace's pod without one is not "ambient": it opts out (as the namespace summary says)
    assert sidecar["uptime-checker"] == "opted out"


def test_the_idle_nodes_toggle_decides_whether_idle_workloads_are_drawn(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    g = shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    assert not w.toolbar.display_actions["idle_nodes"].isChecked()
    assert [n.label for n in g.nodes.values() if n.is_idle] == []
    w.toolbar.display_actions["idle_nodes"].trigger()
    g = shown(qtbot, w, lambda g: any(n.is_idle for n in g.nodes.values()))
    assert g.request.includeIdleNodes
    w.toolbar.display_actions["idle_nodes"].trigger()
    shown(qtbot, w, lambda g: not g.request.includeIdleNodes and not any(n.is_idle for n in g.nodes.values()))


def test_an_app_box_lists_both_directions_of_its_members_waypoint_edge(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The search box's inbound traffic left out the waypoint's traffic back to search v1, which the
    member's own panel lists."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_BOX
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.panels import SidePanel
    from tests.ui_helpers import DEMO_NOW

    snap = DemoCluster(clock=lambda: DEMO_NOW).snapshot(GraphRequest(graphType="versionedApp", namespaces=("travel",)))
    g = build(snap)
    edge = next(e for e in g.edges.values() if two_way_return(e) is not None)
    member = g.nodes[edge.source] if g.nodes[edge.source].parent else g.nodes[edge.target]
    box = g.nodes[member.parent]
    assert box.node_type == NODE_BOX
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(g, snap.inventory)
    p.show_selection([box.id])
    inbound = p.text().split("Inbound traffic", 1)[1].split("Outbound traffic", 1)[0]
    back = two_way_return(edge)
    assert back is not None
    assert f"from waypoint (into {member.label}): tcp {fmt_bytes_rate(back.rate)}" in inbound, inbound


def test_the_summary_of_a_namespace_labelled_ambient_and_injected_says_the_conflict(qtbot) -> None:  # type: ignore[no-untyped-def]
    """An ambient namespace also labelled ``istio-injection=enabled`` was summed up as "ambient (ztunnel;
    no sidecars needed)" while each of its workloads carried KIA1311. The summary says both labels are
    set, that sidecar injection wins (ztunnel leaves pods with a sidecar alone), and that it is a
    finding."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.validations import WORKLOAD, validate
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.panels import SidePanel
    from tests.ui_helpers import DEMO_NOW

    snap = DemoCluster(clock=lambda: DEMO_NOW).snapshot(GraphRequest(namespaces=("travel",)))
    inv = snap.inventory
    assert inv is not None
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(build(snap), inv)
    assert "Data plane\nambient (ztunnel; no sidecars needed)" in p.text()

    travel = inv.namespace("travel")
    assert travel is not None
    travel.labels["istio-injection"] = "enabled"
    assert "KIA1311" in [c.code for c in validate(inv)[(WORKLOAD, "travel", "search-v1")].checks]
    p.set_data(build(snap), inv)
    text = p.text()
    assert "no sidecars needed" not in text
    assert ("Data plane\nconflict: labelled both istio.io/dataplane-mode=ambient and istio-injection=enabled. "
            "Sidecar injection wins") in text
    assert "KIA1311 (an error) on its workloads: remove one of the two labels" in text

    # istio-injection=yes is not "enabled", and it keeps the revision's webhook off: no conflict, as
    # the checks say (the same rule, inventory.namespace_injects)
    travel.labels.update({"istio-injection": "yes", "istio.io/rev": "canary"})
    assert "KIA1311" not in [c.code for c in validate(inv)[(WORKLOAD, "travel", "search-v1")].checks]
    p.set_data(build(snap), inv)
    assert "Data plane\nambient (ztunnel; no sidecars needed)" in p.text()
    del travel.labels["istio-injection"]  # the revision alone injects: the conflict names it
    assert "KIA1311" in [c.code for c in validate(inv)[(WORKLOAD, "travel", "search-v1")].checks]
    p.set_data(build(snap), inv)
    assert "labelled both istio.io/dataplane-mode=ambient and istio.io/rev=canary" in p.text()


def _bank(node_graph: bool, infra: str) -> TrafficGraph:
    """bank's teller calls ledger, whose Service uses the waypoint shared-wp of the namespace ``infra``: bank's
    graph, or (``node_graph``) ledger-v1's node graph, where the waypoint has no edge but the one to ledger-v1."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.inventory import Inventory, Namespace, Workload
    from meshdesk.mesh.request import NodeFocus
    from tests.graph_samples import http, snapshot, tcp

    zt = {"app": "ztunnel"}
    samples = [http("teller-v1", "ledger-v1", 3.0, ns="bank", reporter="waypoint"),
               tcp("teller-v1", "shared-wp", 30.0, ns="bank", dst_ns=infra, service="ledger", reporter="source", **zt),
               tcp("shared-wp", "ledger-v1", 30.0, src_ns=infra, ns="bank", service="ledger", **zt)]
    wp = Workload("shared-wp", infra, labels={"gateway.istio.io/managed": "istio.io-mesh-controller",
                                                "gateway.networking.k8s.io/gateway-name": "shared-wp"})
    inv = Inventory(cluster="east", namespaces=[Namespace("bank", labels={"istio.io/dataplane-mode": "ambient"})],
                    workloads=[Workload("teller-v1", "bank", labels={"app": "teller", "version": "v1"}),
                               Workload("ledger-v1", "bank", labels={"app": "ledger", "version": "v1"})],
                    outside_gateways=[wp])
    focus = NodeFocus("bank", workload="ledger-v1") if node_graph else None
    return build(snapshot(samples, inv, namespaces=("bank",), injectServiceNodes=True, node=focus))


@pytest.mark.parametrize(("node_graph", "infra"), [(True, "infra"), (False, "infra"), (False, "ambient")],
                         ids=["node graph", "namespace graph", "namespace graph, waypoint's namespace first"])
def test_a_waypoint_of_another_namespace_is_laid_out_after_its_clients(qtbot, node_graph, infra) -> None:  # type: ignore[no-untyped-def]
    """The layered layout put infra's box, the waypoint's, left of bank's: its edge to ledger-v1, at the
    far right of bank's box, ran straight through teller-v1 and the ledger service node. It is ranked
    after the workloads it serves now, as a waypoint of their own namespace is, and its edge crosses no node."""
    from meshdesk.ui.canvas import GraphView

    g = _bank(node_graph, infra)
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    with qtbot.waitSignal(view.layoutFinished, timeout=10000):
        view.set_graph(g)

    def item(name: str):  # type: ignore[no-untyped-def]
        nid = next(n.id for n in g.nodes.values() if (n.workload or n.service) == name)
        it = view.node_item(nid)
        assert it is not None
        return it

    waypoint, teller, ledger_svc, ledger = item("shared-wp"), item("teller-v1"), item("ledger"), item("ledger-v1")
    assert waypoint.node.extra.get("isWaypoint") and waypoint.node.namespace == infra
    assert waypoint.scenePos().x() > teller.scenePos().x()
    assert waypoint.scenePos().x() > ledger.scenePos().x()
    # the edge between the waypoint and ledger-v1 runs across no other node
    from PySide6.QtCore import QLineF

    edge = next(e for e in g.edges.values() if {e.source, e.target} == {waypoint.node_id, ledger.node_id})
    edge_item = view.edge_item(edge.id)
    assert edge_item is not None
    x1, y1, x2, y2 = edge_item.ends()
    line = QLineF(x1, y1, x2, y2)
    for other in (teller, ledger_svc):
        box = other.sceneBoundingRect()
        sides = [QLineF(box.topLeft(), box.topRight()), QLineF(box.topRight(), box.bottomRight()),
                 QLineF(box.bottomRight(), box.bottomLeft()), QLineF(box.bottomLeft(), box.topLeft())]
        assert not any(line.intersects(s)[0] == QLineF.IntersectionType.BoundedIntersection for s in sides), \
            other.node_id
    view.shutdown()


def _crossed(view, g: TrafficGraph) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(edge, node) for each drawn edge line that runs through the drawn rectangle of a node not its end."""
    from PySide6.QtCore import QLineF

    def name(nid: str) -> str:
        n = g.nodes[nid]
        return f"{n.node_type}:{n.workload or n.app or n.service}"

    out = []
    for e in g.edges.values():
        item = view.edge_item(e.id)
        if item is None:
            continue
        x1, y1, x2, y2 = item.ends()
        line = QLineF(x1, y1, x2, y2)
        for nid in g.nodes:
            node_item = view.node_item(nid)
            if nid in (e.source, e.target) or node_item is None:
                continue
            box = node_item.sceneBoundingRect()
            sides = [QLineF(box.topLeft(), box.topRight()), QLineF(box.topRight(), box.bottomRight()),
                     QLineF(box.bottomRight(), box.bottomLeft()), QLineF(box.bottomLeft(), box.topLeft())]
            if any(line.intersects(s)[0] == QLineF.IntersectionType.BoundedIntersection for s in sides):
                out.append((f"{name(e.source)} -> {name(e.target)}", name(nid)))
    return out


@pytest.mark.parametrize("graph_type", ["versionedApp", "app", "workload"])
def test_no_line_of_the_travel_graph_runs_through_a_node(qtbot, graph_type) -> None:  # type: ignore[no-untyped-def]
    """A box is laid out on its own, before the layout around it: in the demo's travel graph the waypoint's
    line to flights v1, which enters the flights box from the left, ran straight through the flights
    service node ranked before it on its row. That end is moved off the line now (its box grows to hold
    it), and no line of the graph runs through a node it does not join."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.ui.canvas import GraphView

    g = build(DemoCluster(clock=lambda: DEMO_NOW).snapshot(GraphRequest(graphType=graph_type, namespaces=("travel",))))
    assert waypoint_of(g) is not None
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    try:
        with qtbot.waitSignal(view.layoutFinished, timeout=10000):
            view.set_graph(g)
        assert _crossed(view, g) == []
    finally:
        view.shutdown()


@pytest.mark.parametrize("infra", ["infra", "ambient"], ids=["waypoint's namespace after", "waypoint's namespace first"])
def test_no_line_to_another_namespaces_waypoint_runs_through_a_node(qtbot, infra) -> None:  # type: ignore[no-untyped-def]
    """bank's graph, its ledger Service on infra's waypoint: teller-v1's line to the waypoint, in infra's box
    laid out after bank's, ran straight through ledger-v1 and the ledger service on teller's row of bank's
    box. No line runs through a node it does not join now."""
    from meshdesk.ui.canvas import GraphView

    g = _bank(False, infra)
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    try:
        with qtbot.waitSignal(view.layoutFinished, timeout=10000):
            view.set_graph(g)
        assert _crossed(view, g) == []
    finally:
        view.shutdown()
