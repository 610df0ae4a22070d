"""Lists with health, sidecars and validation badges; list <-> canvas selection; the Istio config view;
validation badges for graph nodes. All on the demo cluster's snapshot and the real graph builder."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE, TrafficGraph
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.validation_badges import annotate, node_badges
from meshdesk.mesh.validations import validate
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.canvas import GraphView
from meshdesk.ui.config_view import ConfigView
from meshdesk.ui.lists import APPS, COLUMNS, CONFIG, SERVICES, WORKLOADS, MeshLists

BAD_DR = ("DestinationRule", "shop", "reviews-canary")


@pytest.fixture(scope="module")
def mesh() -> tuple[TrafficGraph, Inventory]:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    demo.apply(IstioObject("DestinationRule", "reviews-canary", "shop", spec={
        "host": "reviews",
        "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "canary", "labels": {"version": "v9"}}],
        "futureField": {"rolloutStrategy": "blue-green"},  # a field this meshdesk does not know
    }))
    # a route to the canary subset, which selects no workload: an error (unrouted, Kiali only notes it)
    demo.apply(IstioObject("VirtualService", "reviews-beta", "shop", spec={
        "hosts": ["reviews-beta"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "canary"}}]}]}))
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    return build(snap), snap.inventory


@pytest.fixture
def lists(qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory]) -> Iterator[MeshLists]:
    w = MeshLists()
    qtbot.addWidget(w)
    w.set_data(*mesh)
    yield w


def _row(lists: MeshLists, title: str, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in lists.pages[title].model.rows if r.name == name)


def test_rows_carry_health_sidecars_and_badges(lists: MeshLists, mesh: tuple[TrafficGraph, Inventory]) -> None:
    graph, inventory = mesh
    reviews_svc = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
    assert reviews_svc is not None and reviews_svc.health is not None
    svc = _row(lists, SERVICES, "reviews")
    assert svc.health == reviews_svc.health.status and svc.node_ids == [reviews_svc.id]
    # the canary subset selects no workload; the warnings beside the error are counted too (they
    # were left out: "1 error")
    assert svc.badge == "1 error, 2 warnings"
    for w in inventory.workloads:
        row = _row(lists, WORKLOADS, w.name)
        assert row.sidecar == ("yes" if w.has_sidecar else "opted out" if w.name == "mongodb-v1"
                               else "missing" if w.has_sidecar is False else "unknown")
    assert _row(lists, WORKLOADS, "mongodb-v1").sidecar == "opted out"  # sidecar.istio.io/inject: "false"
    v3 = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v3")
    assert v3 is not None and v3.health is not None
    assert _row(lists, WORKLOADS, "reviews-v3").health == v3.health.status
    assert _row(lists, APPS, "reviews").health == min(
        (n.health.status for n in graph.nodes.values() if n.app == "reviews" and n.node_type == NODE_APP and n.health),
        key=["Failure", "Degraded", "Healthy", "NA"].index)
    bad = _row(lists, CONFIG, "reviews-canary")
    assert bad.badge == "1 error, 1 warning" and bad.node_ids == [reviews_svc.id]  # and another DR for v1
    assert _row(lists, CONFIG, "storefront").badge == "ok"


def _cell(lists: MeshLists, title: str, name: str, column: str, role: Qt.ItemDataRole) -> object:
    """What the list's table shows in ``column`` of the row ``name`` (through the view's model)."""
    model = lists.pages[title].table.model()
    col = COLUMNS[title].index(column)
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
    return model.index(row, col).data(role)


def test_a_workload_that_opts_out_is_opted_out_in_the_lists_as_in_the_panel(qtbot: QtBot) -> None:
    """The demo's mongodb-v1 and uptime-checker refuse the sidecar with the label
    sidecar.istio.io/inject: "false". The namespace summary said "Opted out", the lists "missing" in
    warning orange; now the lists say "opted out", uncoloured, and the tooltip names the mark."""
    from meshdesk.ui.panels import SidePanel

    snap = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("hello", "shop")))
    assert snap.inventory is not None
    graph, inv = build(snap), snap.inventory
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, inv)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    shown = panel.text()
    assert "Opted out\nmongodb-v1" in shown and "Opted out\nuptime-checker" in shown
    display, colour, tip = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole
    for title, name, workload in ((WORKLOADS, "mongodb-v1", "mongodb-v1"), (APPS, "mongodb", "mongodb-v1"),
                                  (WORKLOADS, "uptime-checker", "uptime-checker"),
                                  (APPS, "uptime-checker", "uptime-checker")):
        assert _cell(lists, title, name, "Sidecar", display) == "opted out", (title, name)
        assert _cell(lists, title, name, "Sidecar", colour) is None, "no warning colour: nothing to do"
        assert _cell(lists, title, name, "Sidecar", tip) == (
            f'{workload} opts out of the sidecar (label sidecar.istio.io/inject: "false"): Istio injects none '
            "into its pods, on purpose")
    assert _cell(lists, SERVICES, "mongodb", "Sidecar", display) == "opted out"
    # a workload with its sidecar is as before
    assert _cell(lists, WORKLOADS, "reviews-v1", "Sidecar", display) == "yes"
    # and the canvas marks them as Kiali does: a workload without a sidecar has the missing-sidecar badge
    assert any(n.has_missing_sidecar for n in graph.nodes.values() if n.workload == "mongodb-v1")


def test_a_services_config_column_agrees_with_its_graph_badge(qtbot: QtBot) -> None:
    """Two gateway VirtualServices claiming host "*" warn about each other; that is no finding about
    every service of the mesh (the list said "2 warnings" on each). The list and the canvas's badge
    now count the same objects for a service."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    # a second VirtualService on the public gateway claiming every host of shop, beside storefront
    storefront = next(o for o in demo.snapshot(GraphRequest(namespaces=("shop",))).inventory.istio  # type: ignore[union-attr]
                      if o.name == "storefront")
    demo.apply(IstioObject("VirtualService", "storefront-b", "shop", spec=dict(storefront.spec)))
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "hello", "travel")))
    assert snap.inventory is not None
    graph = build(snap)
    validations = validate(snap.inventory)
    assert any(v.checks and k[2] == "storefront" for k, v in validations.items()), "the warning is there"
    annotate(graph, node_badges(graph, snap.inventory, validations))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, snap.inventory, validations)
    for row in lists.pages[SERVICES].model.rows:
        node = graph.find_node(node_type=NODE_SERVICE, namespace=row.namespace, service=row.name)
        if node is None:  # no traffic to it: no node to badge
            continue
        badge = node.extra.get("validation")
        assert bool(row.errors or row.warnings) == (badge in ("error", "warning")), row.name
    assert _row(lists, SERVICES, "helloworld").badge == "ok"
    # a Service's own finding counts: sleep's port 80 goes to a port its Deployment does not declare
    assert _row(lists, SERVICES, "sleep").badge == "1 warning"


def test_a_workloads_config_column_counts_only_findings_about_it(qtbot: QtBot) -> None:
    """shop's STRICT PeerAuthentication has one finding, about mongodb-v1 (no sidecar, so it cannot be
    enforced there). The lists said it on every app and workload of shop; the canvas badge, rightly,
    only on mongodb. The finding names whom it is about, and both now count it only there."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    graph = build(snap)
    validations = validate(snap.inventory)
    annotate(graph, node_badges(graph, snap.inventory, validations))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, snap.inventory, validations)
    assert _row(lists, WORKLOADS, "mongodb-v1").badge == "1 warning"
    assert _row(lists, APPS, "mongodb").badge == "1 warning"
    for title in (WORKLOADS, APPS):
        for row in lists.pages[title].model.rows:
            nodes = [graph.nodes[i] for i in row.node_ids]
            badged = any(n.extra.get("validation") in ("error", "warning") for n in nodes)
            if nodes:
                assert bool(row.errors or row.warnings) == badged, (title, row.name)
    assert _row(lists, WORKLOADS, "productpage-v1").badge == "ok"
    assert _row(lists, APPS, "reviews").badge == "ok"


def test_a_workloads_own_ambient_findings_in_the_list_and_on_its_node(qtbot: QtBot) -> None:
    """travel is sent to a waypoint that is not there (its namespace names another): Kiali's KIA1313
    on each ambient workload. The Workloads list's Config column and the workload's node say so; the
    waypoint itself, which is no client of a waypoint, stays clean."""
    from meshdesk.mesh.graph.model import NODE_WORKLOAD

    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    demo.label_namespace("travel", {"istio.io/use-waypoint": "waypoint-v2"})
    snap = demo.snapshot(GraphRequest(namespaces=("travel",), graphType="workload"))
    assert snap.inventory is not None
    graph = build(snap)
    validations = validate(snap.inventory)
    annotate(graph, node_badges(graph, snap.inventory, validations))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, snap.inventory, validations)
    for name in ("traveller", "search-v1", "flights-v1"):
        assert _row(lists, WORKLOADS, name).badge == "1 error", name
        node = graph.find_node(node_type=NODE_WORKLOAD, namespace="travel", workload=name)
        assert node is not None and node.extra.get("validation") == "error", name
    assert _row(lists, WORKLOADS, "waypoint").badge == "ok"
    # in an app graph the app's node and row say it too, as for the findings of config about its workloads
    snap = demo.snapshot(GraphRequest(namespaces=("travel",), graphType="versionedApp"))
    assert snap.inventory is not None
    graph = build(snap)
    annotate(graph, node_badges(graph, snap.inventory, validations))
    lists.set_data(graph, snap.inventory, validations)
    assert _row(lists, APPS, "search").badge == "1 error"
    node = graph.find_node(node_type=NODE_APP, namespace="travel", app="search")
    assert node is not None and node.extra.get("validation") == "error"


def test_sort_and_filter(lists: MeshLists, qtbot: QtBot) -> None:
    page = lists.pages[WORKLOADS]
    names = [r.name for r in page.visible_rows()]
    assert names == sorted(names)
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [r.name for r in page.visible_rows()] == sorted(names, reverse=True)
    lists.set_data(lists.graph, lists.inventory)  # the next poll keeps the user's sort
    assert [r.name for r in page.visible_rows()] == sorted(names, reverse=True)
    page.table.sortByColumn(COLUMNS[WORKLOADS].index("Health"), Qt.SortOrder.AscendingOrder)  # the worst first
    ranks = [["Failure", "Degraded", "Healthy", "NA", ""].index(r.health) for r in page.visible_rows()]
    assert ranks == sorted(ranks)
    qtbot.keyClicks(page.filter, "REVIEWS")
    assert sorted(r.name for r in page.visible_rows()) == ["reviews-v1", "reviews-v2", "reviews-v3"]
    page.filter.clear()
    config = lists.pages[CONFIG]
    config.table.sortByColumn(COLUMNS[CONFIG].index("Config"), Qt.SortOrder.AscendingOrder)  # errors first
    badges = [(r.errors, r.warnings) for r in config.visible_rows()]
    assert badges == sorted(badges, reverse=True) and badges[0][0] > 0
    assert "reviews-canary" in [r.name for r in config.visible_rows() if r.errors]


def test_columns_fit_the_names_then_keep_the_users_widths(qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory]) -> None:
    """The first rows size the columns (a workload name is not wrapped or cut); a width the user set
    survives the next refresh."""
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(1000, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(*mesh)
    table = lists.pages[WORKLOADS].table
    longest = max((r.name for r in lists.pages[WORKLOADS].model.rows), key=len)
    assert table.columnWidth(0) >= table.fontMetrics().horizontalAdvance(longest)
    table.setColumnWidth(0, 60)
    lists.set_data(*mesh)
    assert table.columnWidth(0) == 60


def test_list_and_graph_selection_follow_each_other(qtbot: QtBot, lists: MeshLists,
                                                    mesh: tuple[TrafficGraph, Inventory]) -> None:
    graph, _ = mesh
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.layoutFinished, timeout=15000):
        view.set_graph(graph)
    lists.nodesSelected.connect(view.select)
    view.selectionChanged.connect(lists.select_graph_ids)
    try:
        page = lists.pages[SERVICES]
        proxy_row = next(i for i, r in enumerate(page.visible_rows()) if r.name == "reviews")
        reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        assert reviews is not None
        with qtbot.waitSignal(view.selectionChanged, timeout=5000) as sig:
            page.table.selectRow(proxy_row)
        assert sig.args == [[reviews.id]] and view.selected_ids() == [reviews.id]
        # and back: picking a node on the canvas selects its rows, without echoing a selection
        ratings = graph.find_node(node_type=NODE_APP, namespace="shop", workload="ratings-v1")
        assert ratings is not None
        echoed: list[list[str]] = []
        lists.nodesSelected.connect(echoed.append)
        view.select([ratings.id])
        assert [r.name for r in lists.pages[WORKLOADS].selected_rows()] == ["ratings-v1"]
        assert [r.name for r in lists.pages[APPS].selected_rows()] == ["ratings"]
        assert lists.pages[SERVICES].selected_rows() == []
        assert echoed == []
    finally:
        view.shutdown()


def test_config_view_shows_yaml_and_findings(qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory],
                                             lists: MeshLists) -> None:
    _, inventory = mesh
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inventory)
    lists.configSelected.connect(view.show_object)
    page = lists.pages[CONFIG]
    row = next(i for i, r in enumerate(page.visible_rows()) if r.name == "reviews-canary")
    with qtbot.waitSignal(view.objectShown, timeout=5000):
        page.table.selectRow(row)
    text = view.yaml_text
    assert "kind: DestinationRule" in text and "name: reviews-canary" in text
    assert "version: v9" in text
    assert "futureField:" in text and "rolloutStrategy: blue-green" in text  # unknown fields as they are
    findings = view.finding_rows()
    assert len(findings) == 2
    code, severity, message, path = findings[0]
    assert (code, severity, path) == ("KIA0203", "error", "spec/subsets[1]")  # Kiali's path
    assert "canary" in message
    # its subset v1 is the demo's reviews rule's too: Istio would use only one of them
    assert findings[1][:2] == ("KIA0201", "warning") and "shop/reviews" in findings[1][2]
    view.show_object(("VirtualService", "shop", "storefront"))
    assert view.finding_rows() == [] and "name: storefront" in view.yaml_text


def test_validation_badges_for_graph_nodes(mesh: tuple[TrafficGraph, Inventory]) -> None:
    graph, inventory = mesh
    badges = node_badges(graph, inventory)
    reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
    details = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="details")
    assert reviews is not None and details is not None
    assert badges[reviews.id] == "error"
    assert details.id not in badges
    # everything badged has an object with findings behind it
    validations = validate(inventory)
    assert set(badges.values()) <= {"error", "warning", "info"}
    fixed = Inventory.from_json(inventory.to_json())
    fixed.istio = [o for o in fixed.istio if (o.kind, o.namespace, o.name) != BAD_DR]
    assert reviews.id not in node_badges(graph, fixed)
    assert validations[BAD_DR].severity == "error"
    annotate(graph, badges)
    assert reviews.extra["validation"] == "error" and "validation" not in details.extra
    annotate(graph, {})
    assert "validation" not in reviews.extra


def test_a_click_on_a_config_row_the_canvas_selected_opens_it(qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory],
                                                               lists: MeshLists) -> None:
    """Selecting a node on the canvas selects the row of its one Istio object; clicking that row
    (already selected, so no selection changes) still shows its YAML."""
    graph, inventory = mesh
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inventory)
    lists.configSelected.connect(view.show_object)
    lists.show()
    qtbot.waitExposed(lists)
    page = lists.pages[CONFIG]
    lists.setCurrentWidget(page)
    for node in graph.nodes.values():  # a node whose config is one object: its row alone is selected
        lists.select_graph_ids([node.id])
        picked = page.selected_rows()
        if len(picked) == 1:
            break
    assert len(picked) == 1 and view.current is None
    row = next(i for i, r in enumerate(page.visible_rows()) if r is picked[0])
    rect = page.table.visualRect(page.proxy.index(row, 0))
    with qtbot.waitSignal(view.objectShown, timeout=5000):
        qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.current == picked[0].key


def _rows_with_cart_down(graph_type: str, traffic: bool = True) -> tuple[dict, dict]:  # type: ignore[type-arg]
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.ui.lists import build_rows
    from tests.ui_helpers import sample, small_inventory

    inv = small_inventory("shop")
    cart = inv.workload("shop", "cart-v1")
    assert cart is not None
    cart.replicas, cart.available, cart.current = 2, 0, 2  # no pod available: Kiali says Failure
    samples = [sample("frontend-v1", "cart-v1", "shop", 10.0)] if traffic else \
        [sample("frontend-v1", "db-v1", "shop", 10.0)]
    g = build(Snapshot(GraphRequest(graphType=graph_type, namespaces=("shop",)), samples, inv))
    rows = build_rows(g, inv, {})
    return {r.name: r.health for r in rows[WORKLOADS]}, {r.name: r.health for r in rows[APPS]}


@pytest.mark.parametrize("graph_type", ["workload", "versionedApp", "app"])
@pytest.mark.parametrize("traffic", [True, False])
def test_a_workload_without_available_pods_fails_in_the_lists_in_every_graph(graph_type: str, traffic: bool) -> None:
    """A version node's health is its requests alone, and a workload without traffic has no node: the
    Workloads list said Healthy or NA for a workload none of whose pods run. Its pods count, as in
    Kiali's lists."""
    workloads, apps = _rows_with_cart_down(graph_type, traffic)
    assert workloads["cart-v1"] == "Failure"
    assert apps["cart"] == "Failure"


def test_the_control_plane_is_not_listed_as_missing_sidecars() -> None:
    from meshdesk.ui.lists import build_rows

    demo = DemoCluster()
    snap = demo.snapshot(GraphRequest(graphType="workload", namespaces=("istio-system",)))
    rows = build_rows(build(snap), snap.inventory, {})
    istiod = next(r for r in rows[WORKLOADS] if r.name == "istiod")
    assert istiod.sidecar == "control plane"


def test_a_long_object_name_wraps_in_the_config_view(qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory]) -> None:
    """A DestinationRule named with all 253 characters Kubernetes allows widened the config dock, and
    with it the main window, to 2400 pixels."""
    from dataclasses import replace

    _, inventory = mesh
    name = ".".join(["a" * 62] * 4)[:253]
    inv = replace(inventory, istio=[*inventory.istio, IstioObject("DestinationRule", name, "shop",
                                                                  spec={"host": "reviews"})])
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    before = view.minimumSizeHint().width()
    view.show_object(("DestinationRule", "shop", name))
    view.show()
    QApplication.processEvents()  # the layout takes the new title in
    assert view.minimumSizeHint().width() <= max(before, 400)
    assert name in view.title.text()  # whole: what is copied from it is the name


def test_list_health_does_not_change_with_the_graph_type() -> None:
    """An app graph has no workload nodes and a service graph no app nodes: the lists fell back to
    pod state and called a degraded workload Healthy. The window's builder gives such graphs the
    per-version graph of the same telemetry for the lists, as Kiali's lists do not depend on the graph."""
    from meshdesk.ui.lists import build_rows
    from meshdesk.ui.poller import default_builder

    demo = DemoCluster(clock=lambda: 1_790_000_000.0)
    by_type = {}
    for graph_type in ("workload", "versionedApp", "app", "service"):
        snap = demo.snapshot(GraphRequest(graphType=graph_type, namespaces=("shop",), injectServiceNodes=True))
        graph = default_builder(snap)
        assert snap.inventory is not None
        rows = build_rows(graph, snap.inventory, graph.validations or {})
        by_type[graph_type] = {(kind, r.namespace, r.name): r.health for kind in (WORKLOADS, APPS, SERVICES)
                               for r in rows[kind]}
        for r in rows[WORKLOADS]:  # the rows still point at the shown graph's nodes
            assert all(i in graph.nodes for i in r.node_ids)
    assert by_type["app"] == by_type["versionedApp"] and by_type["service"] == by_type["versionedApp"]
    assert "Degraded" in by_type["app"].values()
    workload_rows = {k: v for k, v in by_type["workload"].items() if k[0] == WORKLOADS}
    assert workload_rows == {k: v for k, v in by_type["app"].items() if k[0] == WORKLOADS}


def test_a_filter_that_hides_every_row_says_so(qtbot: QtBot) -> None:
    """A Lists page whose filter matched nothing was an empty table, as a namespace with nothing in it
    looks: it now says the filter hides them all, and the note goes when a row matches again."""
    demo = DemoCluster(clock=lambda: 1_790_000_000.0)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",)))
    graph = build(snap)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.show()
    lists.set_data(graph, snap.inventory)
    page = lists.pages[WORKLOADS]
    total = len(page.model.rows)
    assert total > 1 and page.filter_note.isHidden()
    qtbot.keyClicks(page.filter, "nosuchworkload")
    assert page.visible_rows() == [] and not page.filter_note.isHidden()
    assert page.filter_note.text() == (f"Nothing matches \u201cnosuchworkload\u201d: the filter hides all {total} "
                                       "workloads. Clear it to see them.")
    lists.set_data(graph, snap.inventory)  # a refresh keeps saying it
    assert not page.filter_note.isHidden()
    page.filter.setText("reviews")
    assert page.visible_rows() and page.filter_note.isHidden()


def test_filter_fields_name_the_columns_they_filter(qtbot: QtBot) -> None:
    """The Istio config list's field said "Filter istio config by name, namespace, health…": it has
    no health column, and Istio is a name."""
    lists = MeshLists()
    qtbot.addWidget(lists)
    assert lists.pages[CONFIG].filter.placeholderText() == \
        "Filter Istio config by name, namespace (namespace:shop), kind or config (Not Valid, Warning)…"
    assert lists.pages[SERVICES].filter.placeholderText() == \
        "Filter services by name, namespace (namespace:shop), type, labels (app=reviews) or config (Not Valid, Warning)…"


def test_columns_grow_for_longer_names_that_come_later_but_not_over_the_users_width(
        qtbot: QtBot, mesh: tuple[TrafficGraph, Inventory]) -> None:
    """The columns were sized once, with the first rows: a workload with a longer name (another
    namespace chosen, a new deployment) came cut off in the Name column until the user widened it.
    Columns grow to fit; one the user sized keeps its width."""
    import copy
    graph, inventory = mesh
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(1000, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(graph, inventory)
    table = lists.pages[WORKLOADS].table
    name_col, ns_col = COLUMNS[WORKLOADS].index("Name"), COLUMNS[WORKLOADS].index("Namespace")
    table.setColumnWidth(ns_col, 50)  # the user's
    grown = copy.deepcopy(inventory)
    newcomer = copy.deepcopy(next(w for w in grown.workloads if w.namespace == "shop"))
    newcomer.name = "recommendations-engine-with-a-long-name-v2"
    grown.workloads.append(newcomer)
    lists.set_data(graph, grown)
    assert any(r.name == newcomer.name for r in lists.pages[WORKLOADS].model.rows)
    assert table.columnWidth(name_col) >= table.fontMetrics().horizontalAdvance(newcomer.name)
    assert table.columnWidth(ns_col) == 50
    wide = table.columnWidth(name_col)
    lists.set_data(graph, inventory)  # the long name gone: the column does not jump back
    assert table.columnWidth(name_col) == wide


def test_the_ingress_gateway_is_a_gateway_in_the_workloads_list(qtbot: QtBot) -> None:
    """QA s13: the ingress gateway's Envoy was called a sidecar ("yes") beside the apps' sidecars."""
    snap = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("istio-system", "shop")))
    assert snap.inventory is not None
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snap), snap.inventory)
    display = Qt.ItemDataRole.DisplayRole
    assert _cell(lists, WORKLOADS, "istio-ingressgateway", "Sidecar", display) == "gateway"
    assert _cell(lists, WORKLOADS, "productpage-v1", "Sidecar", display) == "yes"
    assert _cell(lists, WORKLOADS, "istiod", "Sidecar", display) == "control plane"


def test_the_config_view_opens_config_of_other_namespaces_that_shapes_the_graph(qtbot: QtBot) -> None:
    """Asked for a DestinationRule of istio-system that applies to the chosen namespaces (read for the
    graph), the view shows it; asked for one that was not read, it says so rather than nothing."""
    inv = DemoCluster(clock=lambda: 1_790_000_000.0).snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    inv.outside_config.append(IstioObject("DestinationRule", "default-tls", "istio-system", spec={
        "host": "*.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}))
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    with qtbot.waitSignal(view.objectShown, timeout=5000):
        view.show_object(("DestinationRule", "istio-system", "default-tls"))
    assert "host: '*.local'" in view.yaml_text and "istio-system/default-tls" in view.title.text()
    # not validated (its namespace is not chosen): not said to be "ok"
    assert "ok" not in view.title.text() and "not checked" in view.title.text()
    view.show_object(("VirtualService", "travel", "flights"))
    assert "was not read: choose its namespace" in view.title.text()
    assert view.yaml_text == ""


def _many(n: int) -> tuple[TrafficGraph, Inventory]:
    """``n`` workloads, each with its Service, over ten namespaces, a DestinationRule for every fifth
    service, and traffic from each workload to the one ten places on."""
    from meshdesk.mesh.inventory import Namespace, Service, ServicePort
    from meshdesk.mesh.snapshot import Snapshot
    from tests.ui_helpers import sample, workload

    namespaces = [f"team-{i}" for i in range(10)]
    inv = Inventory(cluster="c", namespaces=[Namespace(ns, {"istio-injection": "enabled"}) for ns in namespaces])
    for i in range(n):
        ns = namespaces[i % 10]
        inv.workloads.append(workload(f"app{i}-v1", ns, f"app{i}"))
        inv.services.append(Service(f"app{i}", ns, ports=[ServicePort("http", 80)], selector={"app": f"app{i}"}))
        if i % 5 == 0:
            inv.istio.append(IstioObject("DestinationRule", f"app{i}", ns, spec={
                "host": f"app{i}", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}))
    samples = [sample(f"app{i}-v1", f"app{i + 10}-v1", namespaces[i % 10], 1.0) for i in range(n - 10)]
    return build(Snapshot(request=GraphRequest(namespaces=tuple(namespaces), graphType="workload"),
                          inventory=inv, samples=samples)), inv


def test_the_lists_read_each_objects_hosts_once_however_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """With thousands of workloads and services, asking every Istio object about every row stalled
    the window for a minute at each refresh (5,000 workloads): each object's hosts are read once."""
    import meshdesk.mesh.validation_badges as badges
    from meshdesk.ui.lists import build_rows

    graph, inv = _many(400)
    reads: list[str] = []
    real = badges.object_hosts

    def counted(obj: IstioObject) -> list[str]:
        reads.append(obj.name)
        return real(obj)

    monkeypatch.setattr(badges, "object_hosts", counted)
    rows = build_rows(graph, inv, validate(inv))
    assert len(rows[WORKLOADS]) == len(rows[SERVICES]) == 400 and len(rows[CONFIG]) == 80
    assert len(reads) <= len(inv.istio)
    row = next(r for r in rows[SERVICES] if r.name == "app20")
    node = graph.find_node(node_type=NODE_SERVICE, namespace="team-0", service="app20")
    assert node is not None and row.node_ids == [node.id]
    config = next(r for r in rows[CONFIG] if r.name == "app20")
    assert config.node_ids == [node.id]


def test_sorting_many_rows_does_not_ask_qt_to_compare_them(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy sorted by asking the model for two sort keys per comparison, a Python call each:
    seconds of a stalled window per refresh of 5,000 rows. The rows are sorted in one Python sort,
    and the order (health, worst first; then the user's descending names) is the same."""
    from meshdesk.ui.lists import SORT_ROLE, ListModel

    graph, inv = _many(300)
    lists = MeshLists()
    qtbot.addWidget(lists)
    asked: list[int] = []
    real = ListModel.data

    def counted(self: ListModel, index: object, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == SORT_ROLE:
            asked.append(role)
        return real(self, index, role)  # type: ignore[arg-type]

    monkeypatch.setattr(ListModel, "data", counted)
    lists.set_data(graph, inv)
    page = lists.pages[WORKLOADS]
    page.table.sortByColumn(COLUMNS[WORKLOADS].index("Health"), Qt.SortOrder.AscendingOrder)
    lists.set_data(graph, inv)
    assert len(asked) < 300
    health = ["Failure", "Degraded", "Not Ready", "Healthy", "NA", ""]
    ranks = [health.index(r.health) for r in page.visible_rows()]
    assert ranks == sorted(ranks)
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    names = [r.name for r in page.visible_rows()]
    assert names == sorted(names, reverse=True) and len(names) == 300


def _click_row(qtbot: QtBot, lists: MeshLists, title: str, name: str) -> None:
    page = lists.pages[title]
    lists.setCurrentWidget(page)
    row = next(i for i, r in enumerate(page.visible_rows()) if r.name == name)
    page.table.scrollTo(page.proxy.index(row, 0))
    rect = page.table.visualRect(page.proxy.index(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_picked_row_stays_picked_when_the_canvas_answers(qtbot: QtBot, lists: MeshLists,
                                                          mesh: tuple[TrafficGraph, Inventory]) -> None:
    """Clicking a row without a graph node (a workload without traffic, a VirtualService bound to a
    gateway) while a node was selected cleared the row just clicked: the canvas, selecting nothing,
    told the lists to select nothing. And a config row picked selected every row about the same node."""
    graph, _ = mesh
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    with qtbot.waitSignal(view.layoutFinished, timeout=15000):
        view.set_graph(graph)
    lists.nodesSelected.connect(view.select)
    view.selectionChanged.connect(lists.select_graph_ids)
    lists.show()
    qtbot.waitExposed(lists)
    try:
        _click_row(qtbot, lists, WORKLOADS, "reviews-v2")
        assert view.selected_ids() != []
        assert [r.name for r in lists.pages[APPS].selected_rows()] == ["reviews"]
        idle = next(r for r in lists.pages[WORKLOADS].visible_rows() if not r.node_ids)
        _click_row(qtbot, lists, WORKLOADS, idle.name)
        assert view.selected_ids() == []
        assert [r.name for r in lists.pages[WORKLOADS].selected_rows()] == [idle.name]
        assert lists.pages[APPS].selected_rows() == []  # the other lists follow the canvas
        _click_row(qtbot, lists, CONFIG, "reviews-canary")
        reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        assert reviews is not None and view.selected_ids() == [reviews.id]
        assert [r.key for r in lists.pages[CONFIG].selected_rows()] == [BAD_DR]
        assert [r.name for r in lists.pages[SERVICES].selected_rows()] == ["reviews"]
        # the canvas choosing again: every list follows it, the one picked in too
        view.select([])
        assert lists.pages[CONFIG].selected_rows() == [] and lists.pages[SERVICES].selected_rows() == []
    finally:
        view.shutdown()


def test_a_refresh_keeps_the_picked_row_and_the_scroll_position(qtbot: QtBot) -> None:
    """A refresh kept a selection by graph node only (a picked row without one was dropped) and
    scrolled each list back to its selected row: a list the user scrolled jumped back every poll."""
    from tests.ui_helpers import workload

    graph, inv = _many(300)
    inv.workloads.append(workload("zz-idle-v1", "team-0", "zz-idle"))  # no traffic: no node in the graph
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(800, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(graph, inv)
    page = lists.pages[WORKLOADS]
    last = page.visible_rows()[-1]
    assert last.name == "zz-idle-v1" and last.node_ids == []
    _click_row(qtbot, lists, WORKLOADS, last.name)
    lists.set_data(graph, inv)
    assert [r.name for r in page.selected_rows()] == [last.name]
    assert page.model.rows[page.proxy.mapToSource(page.table.currentIndex()).row()].name == last.name
    # a row picked with a node: the canvas selection it made comes back with it, without scrolling
    first = page.visible_rows()[0]
    assert first.node_ids
    _click_row(qtbot, lists, WORKLOADS, first.name)
    lists.select_graph_ids(first.node_ids)  # the canvas agrees, as it does in the window
    bar = page.table.verticalScrollBar()
    bar.setValue(bar.maximum())
    lists.set_data(graph, inv)
    assert bar.value() == bar.maximum()
    assert first.name in [r.name for r in page.selected_rows()]
    # the row goes away: nothing selected, nothing moved, no error
    gone = inv.workload(first.namespace, first.name)
    inv.workloads.remove(gone)
    lists.set_data(graph, inv)
    assert first.name not in [r.name for r in page.selected_rows()]
    assert bar.value() == bar.maximum()


def test_config_of_a_namespace_no_longer_chosen_is_not_said_to_be_ok(qtbot: QtBot) -> None:
    """The object shown stays shown when other namespaces are chosen (it is still read, as config that
    shapes the graph), but it is no longer validated: its title said "ok" for a PeerAuthentication
    with a warning."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    shop = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    travel = demo.snapshot(GraphRequest(namespaces=("travel",))).inventory
    assert shop is not None and travel is not None
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(shop)
    view.show_object(("PeerAuthentication", "shop", "default"))
    assert "1 warning" in view.title.text()
    view.set_data(travel)
    assert view.current == ("PeerAuthentication", "shop", "default")
    assert "warning" not in view.title.text() and " ok" not in view.title.text()
    assert "not checked: its namespace is not among those chosen" in view.title.text()


def test_a_refresh_leaves_the_config_list_where_the_user_scrolled_it(qtbot: QtBot) -> None:
    """Every refresh put the Istio config dock's list back at its top (or at the object shown)."""
    _, inv = _many(1000)
    view = ConfigView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(inv)
    bar = view.objects.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 100, timeout=5000)
    bar.setValue(100)
    view.set_data(inv)
    assert bar.value() == 100
    view.show_object(("DestinationRule", "team-0", "app0"))  # the first in the list
    bar.setValue(bar.maximum())
    view.set_data(inv)
    assert bar.value() == bar.maximum() and view.current == ("DestinationRule", "team-0", "app0")


def test_rows_of_equal_health_or_findings_are_in_name_order(qtbot: QtBot) -> None:
    """As Kiali's lists: sorted by health (or config findings), rows that tie are in name order, and
    by namespace, in name order within each; not in the order the cluster listed them."""
    from meshdesk.mesh.inventory import Namespace
    from tests.ui_helpers import workload

    inv = Inventory(cluster="c", namespaces=[Namespace("b-team"), Namespace("a-team")], workloads=[
        workload("zeta-v1", "b-team", "zeta"), workload("alpha-v1", "b-team", "alpha"),
        workload("mid-v1", "a-team", "mid"), workload("beta-v1", "a-team", "beta")])
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(None, inv, {})
    page = lists.pages[WORKLOADS]
    for column in ("Health", "Config", "Sidecar", "Type"):
        page.table.sortByColumn(COLUMNS[WORKLOADS].index(column), Qt.SortOrder.AscendingOrder)
        lists.set_data(None, inv, {})  # the next refresh: rows come again in the cluster's order
        assert [r.name for r in page.visible_rows()] == ["alpha-v1", "beta-v1", "mid-v1", "zeta-v1"], column
    page.table.sortByColumn(COLUMNS[WORKLOADS].index("Namespace"), Qt.SortOrder.AscendingOrder)
    lists.set_data(None, inv, {})
    assert [r.name for r in page.visible_rows()] == ["beta-v1", "mid-v1", "alpha-v1", "zeta-v1"]


def test_an_object_shown_that_a_refresh_no_longer_has_is_said_gone(qtbot: QtBot) -> None:
    """The object shown went away (deleted, its namespace no longer chosen, its kind no longer
    readable): the view went blank and asked to pick an object, as if nothing had been picked."""
    import dataclasses

    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    shop = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert shop is not None
    view = ConfigView()
    qtbot.addWidget(view)
    key = ("VirtualService", "shop", "storefront")
    cases = [
        (dataclasses.replace(shop, istio=[o for o in shop.istio if o.name != "storefront"]),
         "is no longer in the cluster: it was deleted or renamed"),
        (dataclasses.replace(shop, istio=[o for o in shop.istio if o.kind != "VirtualService"],
                             hidden={"shop/virtualservices": "forbidden: no"}),
         "could not be read this time: the cluster did not let its kind be listed in shop"),
        (Inventory(cluster="c"), "is not shown: its namespace is no longer chosen"),
    ]
    for inventory, said in cases:
        view.set_data(shop)
        view.show_object(key)
        assert view.current == key
        view.set_data(inventory)
        assert view.current is None and view.yaml_text == ""
        assert "VirtualService</b> shop/storefront " + said in view.title.text()
        view.set_data(inventory)  # and the next refresh says it still
        assert "VirtualService</b> shop/storefront " + said in view.title.text()
    view.set_data(shop)  # it is back: shown again
    assert view.current == key and "kind: VirtualService" in view.yaml_text


def test_a_namespace_whose_istio_config_could_not_be_read_is_not_said_ok(qtbot: QtBot, shared_dir: Path) -> None:
    """The cluster answers 403 to listing VirtualServices in bookinfo: the lists said "ok" in the Config
    column of its apps, workloads and services, as if their config had been read and checked."""
    from meshdesk.sources.inventory import InventoryReader
    from meshdesk.ui.lists import build_rows
    from tests.kube_emulator import KubeEmulator

    with KubeEmulator() as emu:
        emu.load_crds(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml")
        emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
        emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml", namespace="bookinfo")
        emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml",
                      namespace="bookinfo")
        emu.run_workloads()
        emu.forbid(namespace="bookinfo", resource="virtualservices")
        inv = InventoryReader(emu.api_client(), ["bookinfo"], cluster="c").read()
    assert "bookinfo/virtualservices" in inv.hidden and inv.workloads
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(None, inv)
    for title in (APPS, WORKLOADS, SERVICES):
        page = lists.pages[title]
        row = next(r for r in page.model.rows if r.name.startswith("reviews"))
        assert row.badge == "not known", title
        index = page.model.index(page.model.rows.index(row), COLUMNS[title].index("Config"))
        tip = page.model.data(index, Qt.ItemDataRole.ToolTipRole)
        assert "would not let meshdesk list virtualservices in bookinfo" in tip
    # the row knows which lists were missing (the tooltip names them)
    assert build_rows(None, inv, {})[SERVICES][0].config_unread == ("virtualservices",)
    # Kiali's "Not Validated" finds them, its "Valid" not
    services = lists.pages[SERVICES]
    qtbot.keyClicks(services.filter, "Not Validated")
    assert "reviews" in [r.name for r in services.visible_rows()]
    assert {r.badge for r in services.visible_rows()} == {"not known"}
    services.filter.setText("Valid")
    assert services.visible_rows() == []


def test_a_badge_gives_errors_and_warnings_both() -> None:
    from meshdesk.mesh.validation_badges import badge_text

    assert [badge_text(*c) for c in ((0, 0), (1, 0), (0, 1), (2, 3), (1, 1))] == [
        "ok", "1 error", "1 warning", "2 errors, 3 warnings", "1 error, 1 warning"]


def test_an_object_asked_for_that_is_not_there_is_said_why(qtbot: QtBot) -> None:
    """The Envoy dock asks for a cluster's DestinationRule by name; one not in the inventory was always
    said to be of a namespace not chosen ("choose its namespace"), even in a namespace chosen."""
    import dataclasses

    shop = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert shop is not None
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(shop)
    view.show_object(("DestinationRule", "shop", "gone-since"))
    assert "shop/gone-since is not in the cluster as last read" in view.title.text()
    assert "choose its namespace" not in view.title.text()
    view.set_data(dataclasses.replace(shop, hidden={"shop/destinationrules": "forbidden: no"}))
    view.show_object(("DestinationRule", "shop", "gone-since"))
    assert "could not be read: the cluster did not let its kind be listed in shop" in view.title.text()
    view.show_object(("DestinationRule", "travel", "flights"))
    assert "travel/flights was not read: choose its namespace to see it" in view.title.text()


def test_one_very_long_name_does_not_push_the_other_columns_off_screen(qtbot: QtBot,
                                                                      mesh: tuple[TrafficGraph, Inventory]) -> None:
    """A DestinationRule may be named with 253 characters: the Name column grew to fit it, some two
    thousand pixels, and every other column went off screen. It grows to about 64 characters at most,
    and the whole name is in the cell's tooltip."""
    import dataclasses

    _, inv = mesh
    long_name = ("reviews-" * 40)[:253]
    inv = dataclasses.replace(inv, istio=[*inv.istio, IstioObject("DestinationRule", long_name, "shop",
                                                                   spec={"host": "reviews"})])
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(1000, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(None, inv, {})
    page = lists.pages[CONFIG]
    table = page.table
    assert table.columnWidth(0) <= table.fontMetrics().averageCharWidth() * 64 + 40
    assert table.columnWidth(0) >= table.fontMetrics().horizontalAdvance("productpage-v1")
    row = next(i for i, r in enumerate(page.model.rows) if r.name == long_name)
    assert page.model.data(page.model.index(row, 0), Qt.ItemDataRole.ToolTipRole) == long_name


def test_rows_without_health_sort_together_whatever_the_reason(qtbot: QtBot) -> None:
    """A service with a node but no requests ("NA") and one with no node at all ("") both show "n/a"
    (as Kiali says it; they showed "NA"), but sorted apart: sorted by health, the rows without health
    were two runs, each in name order of its own."""
    from meshdesk.ui.lists import ListPage, ListRow

    page = ListPage(SERVICES)
    qtbot.addWidget(page)
    page.set_rows([ListRow("b-svc", "shop", health="NA"), ListRow("a-svc", "shop", health=""),
                   ListRow("c-svc", "shop", health=""), ListRow("d-svc", "shop", health="Healthy")])
    page.table.sortByColumn(COLUMNS[SERVICES].index("Health"), Qt.SortOrder.AscendingOrder)
    assert [(r.name, page.model.data(page.model.index(page.model.rows.index(r), COLUMNS[SERVICES].index("Health")))) for r in page.visible_rows()] \
        == [("d-svc", "Healthy"), ("a-svc", "n/a"), ("b-svc", "n/a"), ("c-svc", "n/a")]


def test_filtering_by_na_finds_the_rows_shown_n_a(qtbot: QtBot) -> None:
    """No health used to read "NA" and now reads "n/a" (as Kiali): typing "na" in the filter stopped
    finding those rows, though a user filters by what they see and either spelling names them."""
    from meshdesk.ui.lists import ListPage, ListRow

    page = ListPage(SERVICES)
    qtbot.addWidget(page)
    page.set_rows([ListRow("b-svc", "shop", health="NA"), ListRow("a-svc", "shop", health=""),
                   ListRow("d-svc", "shop", health="Healthy")])
    for typed in ("na", "NA", "n/a", "N/A"):
        page.filter.setText(typed)
        assert sorted(r.name for r in page.visible_rows()) == ["a-svc", "b-svc"], typed
        assert page.filter_note.isHidden()
    page.filter.setText("healthy")
    assert [r.name for r in page.visible_rows()] == ["d-svc"]


def test_the_config_list_filters_by_name_namespace_kind_and_findings(qtbot: QtBot,
                                                                     mesh: tuple[TrafficGraph, Inventory]) -> None:
    """The Istio config dock's list had no filter (Kiali's has one: name, namespace, kind, validation);
    with thousands of objects it was slow to use. The object shown and the scroll position stay across
    refreshes and filtering, and a filter that hides everything says so."""
    _, inv = mesh
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    assert view.filter.placeholderText().startswith("Filter Istio config by name, namespace, kind")
    everything = view.visible_keys()
    assert BAD_DR in everything and len(everything) == len(inv.istio)
    view.show_object(BAD_DR)
    view.filter.setText("CANARY")  # the name, any case
    assert view.visible_keys() == [BAD_DR] and view.filter_note.isHidden()
    view.filter.setText("virtualservice")  # the kind
    assert view.visible_keys() and all(k[0] == "VirtualService" for k in view.visible_keys())
    # the object shown, hidden by the filter, stays shown, and a refresh keeps it and the filter
    assert view.current == BAD_DR and "reviews-canary" in view.title.text()
    view.set_data(inv)
    assert view.current == BAD_DR and all(k[0] == "VirtualService" for k in view.visible_keys())
    view.filter.setText("error")  # the findings
    assert BAD_DR in view.visible_keys() and ("VirtualService", "shop", "storefront") not in view.visible_keys()
    view.filter.setText("shop/reviews-c")  # namespace/name, as the list writes it
    assert view.visible_keys() == [BAD_DR]
    # a finding's code, as the findings table writes it: the objects with that finding
    code = view.validations[BAD_DR].checks[0].code
    view.filter.setText(code.lower())
    with_code = [k for k, v in view.validations.items() if any(c.code == code for c in v.checks)
                 and k in everything]
    assert BAD_DR in view.visible_keys() and sorted(view.visible_keys()) == sorted(with_code)
    view.filter.setText("no-such-object")
    assert view.visible_keys() == [] and view.filter_note.isVisibleTo(view)
    assert f"No Istio config matches \u201cno-such-object\u201d: the filter hides all {len(inv.istio)} objects" in \
        view.filter_note.text()
    view.set_data(inv)  # said again after a refresh
    assert view.visible_keys() == [] and view.filter_note.isVisibleTo(view)
    view.filter.clear()
    assert view.visible_keys() == everything and not view.filter_note.isVisibleTo(view)
    assert view.current == BAD_DR and view.objects.currentItem().data(Qt.ItemDataRole.UserRole + 1) == BAD_DR


def test_a_refresh_keeps_the_filtered_config_list_where_the_user_scrolled_it(qtbot: QtBot) -> None:
    _, inv = _many(400)  # 80 DestinationRules, 40 in team-5
    view = ConfigView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(inv)
    view.filter.setText("team-5/")
    assert len(view.visible_keys()) == 40 and all(k[1] == "team-5" for k in view.visible_keys())
    bar = view.objects.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 5, timeout=5000)
    bar.setValue(5)
    view.set_data(inv)
    assert bar.value() == 5 and len(view.visible_keys()) == 40


def test_a_namespace_whose_pods_could_not_be_read_is_said_in_the_lists(qtbot: QtBot, shared_dir: Path) -> None:
    """The cluster answers 403 to listing pods (or Deployments) in bookinfo: the Lists dock showed its
    workloads without a word (only the window's banner said so, and it goes), their sidecars "unknown"
    and no pods behind them; with the controllers forbidden too, empty lists. Each list now says which
    namespace's lists could not be read, and what that leaves out."""
    from meshdesk.sources.inventory import InventoryReader
    from tests.kube_emulator import KubeEmulator

    with KubeEmulator() as emu:
        emu.load_crds(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml")
        emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
        emu.add_namespace("travel", {"istio-injection": "enabled"})
        emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml", namespace="bookinfo")
        emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml", namespace="travel")
        emu.run_workloads()
        emu.forbid(namespace="bookinfo", resource="pods")
        pods_hidden = InventoryReader(emu.api_client(), ["bookinfo", "travel"], cluster="c").read()
        emu.forbid(namespace="bookinfo", resource="deployments")
        emu.forbid(namespace="bookinfo", resource="virtualservices")
        all_hidden = InventoryReader(emu.api_client(), ["bookinfo", "travel"], cluster="c").read()
        emu.clear_faults()
        readable = InventoryReader(emu.api_client(), ["bookinfo", "travel"], cluster="c").read()
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(900, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(None, pods_hidden)
    for title in (APPS, WORKLOADS, SERVICES):
        note = lists.pages[title].note
        assert note.isVisibleTo(lists.pages[title]), title
        assert note.text().startswith("The cluster did not let meshdesk list pods in namespace bookinfo: its "), title
        assert "travel" not in note.text()
    assert "its workloads may be missing here, or shown without their pods' state and sidecars" in \
        lists.pages[WORKLOADS].note.text()
    assert not lists.pages[CONFIG].note.isVisibleTo(lists.pages[CONFIG])
    lists.set_data(None, all_hidden)
    assert not [r for r in lists.pages[WORKLOADS].model.rows if r.namespace == "bookinfo"]  # the empty list, said
    assert "list pods or deployments in namespace bookinfo" in lists.pages[WORKLOADS].note.text()
    assert lists.pages[CONFIG].note.text() == (
        "The cluster did not let meshdesk list virtualservices in namespace bookinfo: what is in them is not "
        "listed here, and findings about it are not counted.")
    lists.set_data(None, readable)  # all read again: the notes go
    assert not any(page.note.isVisibleTo(page) for page in lists.pages.values())


def test_a_name_pasted_with_spaces_around_it_filters_as_the_name(qtbot: QtBot) -> None:
    """A workload name copied from a terminal ("reviews-v2 " or with a tab, as kubectl's columns are) hid
    every row, and the note then said nothing matches "reviews-v2", a name plainly in the list. Spaces
    around the text are not part of it; those inside it still are ("missing: restart", "opted out")."""
    demo = DemoCluster(clock=lambda: 1_790_000_000.0)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",)))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.show()
    lists.set_data(build(snap), snap.inventory)
    page = lists.pages[WORKLOADS]
    page.filter.setText("reviews-v2")
    wanted = [r.name for r in page.visible_rows()]
    assert wanted == ["reviews-v2"]
    for pasted in ("reviews-v2 ", "  reviews-v2", "\treviews-v2\n"):
        page.filter.setText(pasted)
        assert [r.name for r in page.visible_rows()] == wanted and page.filter_note.isHidden(), pasted
    page.filter.setText("  ")  # only spaces: no filter, every row
    assert len(page.visible_rows()) == len(page.model.rows) and page.filter_note.isHidden()


def _names(lists: MeshLists, title: str = WORKLOADS) -> list[str]:
    return [r.name for r in lists.pages[title].visible_rows()]


def test_a_big_meshs_rows_are_made_on_a_thread_while_the_lists_say_so(qtbot: QtBot) -> None:
    """With 5,000 workloads and services the window froze for seconds at the first show and at each
    refresh while the rows were made: a big mesh's are made on a thread. Meanwhile the lists still show
    the rows they had and say they are updating; the rows come by ``rowsUpdated``."""
    graph, inv = _many(600)  # 600 workloads, 600 services, 120 DestinationRules
    lists = MeshLists()
    qtbot.addWidget(lists)
    page = lists.pages[WORKLOADS]
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
        assert page.model.rowCount() == 0  # nothing made on the UI thread
        assert lists.updating and not page.busy.isHidden()
        assert page.busy.text() == "Updating the lists (1,320 objects)…"
    assert page.model.rowCount() == 600 and len(lists.pages[SERVICES].model.rows) == 600
    assert not lists.updating and page.busy.isHidden() and page.status.isHidden()
    assert lists.graph is graph and lists.inventory is inv


def test_rows_made_for_older_data_are_dropped(qtbot: QtBot) -> None:
    """Another context (or namespace choice) given while the rows of the previous one were being made:
    only the newest data's rows are ever shown, not the older ones arriving late."""
    from meshdesk.mesh.inventory import Namespace, Service
    from tests.ui_helpers import workload

    graph, inv = _many(600)
    other = Inventory(cluster="other", namespaces=[Namespace("elsewhere")])
    for i in range(1100):
        other.workloads.append(workload(f"other{i}-v1", "elsewhere", f"other{i}"))
    other.services.append(Service("lone", "elsewhere"))
    lists = MeshLists()
    qtbot.addWidget(lists)
    shown: list[set[str]] = []
    page = lists.pages[WORKLOADS]
    page.model.modelReset.connect(lambda: shown.append({r.namespace for r in page.model.rows}))
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
        lists.set_data(None, other)
    assert page.model.rowCount() == 1100 and shown == [{"elsewhere"}]
    # the older rows, if they were being made, come (and are dropped) before the newer: none is left
    assert not lists.updating
    # a small mesh after a big one still being made: shown at once, the big one's rows dropped
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
        assert lists.updating
    small = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert small is not None
    lists.set_data(None, small)  # a few dozen objects: made at once
    assert not lists.updating and "reviews-v1" in _names(lists)
    qtbot.waitUntil(lambda: not lists._busy, timeout=20000)  # the big one's thread is done
    qtbot.wait(0)  # its result, queued, is delivered (and dropped)
    assert "reviews-v1" in _names(lists) and not any(n.startswith("app") for n in _names(lists))
    # no namespace chosen (or another context opening) after a big one: the lists empty, and stay so
    lists.set_data(graph, inv)
    lists.set_data(None, None)
    assert not lists.updating and _names(lists) == []
    qtbot.waitUntil(lambda: not lists._busy, timeout=20000)
    qtbot.wait(0)
    assert _names(lists) == [] and lists.pages[WORKLOADS].busy.isHidden()


def test_a_threaded_update_keeps_the_selection_sort_filter_and_scroll(qtbot: QtBot) -> None:
    """What the user set on a list while its rows are remade on a thread stays: the picked row, the
    sort order, the filter text and where the list was scrolled to."""
    graph, inv = _many(600)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(800, 400)
    lists.show()
    qtbot.waitExposed(lists)
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
    page = lists.pages[WORKLOADS]
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    page.filter.setText("app1")
    names = _names(lists)
    assert names == sorted(names, reverse=True) and len(names) > 50 and all("app1" in n for n in names)
    _click_row(qtbot, lists, WORKLOADS, names[-1])
    bar = page.table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    where = bar.value()
    assert where > 0
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
        assert lists.updating
    QApplication.processEvents()  # the table's delayed layout after the new rows
    assert _names(lists) == names
    assert page.filter.text() == "app1"
    assert [r.name for r in page.selected_rows()] == [names[-1]]
    assert bar.value() == where


def test_a_filter_follows_the_rows_a_threaded_refresh_adds_changes_and_removes(qtbot: QtBot) -> None:
    """A refresh with a filter typed matches the new rows by their own cells (made with them on the
    thread, no longer on the UI thread): a workload whose label changed to the text appears, one whose
    label no longer has it goes, a removed one goes, a new one with it appears; in the list's sort order."""
    graph, inv = _many(600)

    def labelled(teams: dict[str, str], gone: tuple[str, ...] = (), new: tuple[str, ...] = ()) -> Inventory:
        from tests.ui_helpers import workload

        out = Inventory(cluster="c", namespaces=inv.namespaces, services=list(inv.services), istio=list(inv.istio))
        for w in [*inv.workloads, *(workload(f"{app}-v1", "team-0", app) for app in new)]:
            if w.name in gone:
                continue
            if w.name in teams:
                w = copy.copy(w)
                w.labels = {**w.labels, "team": teams[w.name]}
            out.workloads.append(w)
        return out

    lists = MeshLists()
    qtbot.addWidget(lists)
    page = lists.pages[WORKLOADS]
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, labelled({"app1-v1": "crimson", "app2-v1": "crimson", "app3-v1": "blue"}))
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    page.filter.setText("crimson")
    assert _names(lists) == ["app2-v1", "app1-v1"]
    later = labelled({"app1-v1": "blue", "app3-v1": "crimson", "new-v1": "crimson", "app4-v1": "crimson"},
                     gone=("app2-v1",), new=("new",))
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, later)
        assert lists.updating  # (made on the thread)
    assert _names(lists) == ["new-v1", "app4-v1", "app3-v1"]
    assert page.filter_note.isHidden()
    # sorted again the other way, the rows keep their own texts
    page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert _names(lists) == ["app3-v1", "app4-v1", "new-v1"]
    page.filter.setText("blue")
    assert _names(lists) == ["app1-v1"]
    # a refresh that leaves none matching says so
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, labelled({}))
    assert _names(lists) == [] and not page.filter_note.isHidden()


def test_an_error_making_the_rows_is_said_and_the_rows_shown_stay(qtbot: QtBot) -> None:
    """An exception on the thread was not to be lost (the lists would say "Updating…" for ever): it is
    said above the lists, which keep the rows they had; the next good data clears it."""
    from tests.ui_helpers import workload

    graph, inv = _many(600)
    lists = MeshLists()
    qtbot.addWidget(lists)
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
    broken = Inventory(cluster="c", namespaces=inv.namespaces, workloads=list(inv.workloads),
                       services=list(inv.services), istio=list(inv.istio))
    bad = workload("bad-v1", "team-0", "bad")
    bad.labels = None  # type: ignore[assignment] # a workload a source read wrongly
    broken.workloads.append(bad)
    page = lists.pages[WORKLOADS]
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, broken)
    assert not page.status.isHidden()
    assert "could not be updated" in page.status.text() and "previous data" in page.status.text()
    assert page.model.rowCount() == 600 and not lists.updating and page.busy.isHidden()
    with qtbot.waitSignal(lists.rowsUpdated, timeout=20000):
        lists.set_data(graph, inv)
    assert page.status.isHidden()


def test_tab_leaves_a_list_table_the_arrows_walk_its_cells(qtbot: QtBot, lists: MeshLists) -> None:
    """Tab in a list's table went from cell to cell (every column of every row) and never left it:
    the keyboard was stuck in the table. Tab and Shift+Tab move on, the arrows walk the rows."""
    lists.show()
    lists.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is lists, timeout=5000)
    table = lists.pages[APPS].table
    lists.setCurrentWidget(lists.pages[APPS])
    qtbot.waitUntil(table.isVisible, timeout=5000)
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    qtbot.waitUntil(table.hasFocus, timeout=5000)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.hasFocus() and table.currentIndex().row() == 1
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=5000)
    assert lists.isAncestorOf(QApplication.focusWidget())
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5000)
    qtbot.keyClick(table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=5000)
    qtbot.keyRelease(QApplication.focusWidget(), Qt.Key.Key_Shift)  # (else Shift seems held in later tests)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier


def _shown(lists: MeshLists, title: str) -> list[tuple[str, str]]:
    """(name, Config cell) of the rows the list shows, in its order."""
    page = lists.pages[title]
    config = COLUMNS[title].index("Config")
    return [(str(page.proxy.index(r, 0).data()), str(page.proxy.index(r, config).data()))
            for r in range(page.proxy.rowCount())]


def test_the_filter_takes_kialis_config_validation_words(qtbot: QtBot, lists: MeshLists) -> None:
    """Kiali's list pages filter by Config: Valid, Not Valid, Warning, Not Validated. Typed in the filter
    they found nothing ("Nothing matches"), no cell saying those words; they keep the rows whose Config
    cell they ask for, in any case, alone or with other words."""
    services, config = lists.pages[SERVICES], lists.pages[CONFIG]
    qtbot.keyClicks(services.filter, "Not Valid")
    assert _shown(lists, SERVICES) == [("reviews", "1 error, 2 warnings")]
    assert not services.filter_note.isVisibleTo(services)
    services.filter.setText("warning")  # any case
    assert _shown(lists, SERVICES) == [("reviews", "1 error, 2 warnings")]
    # Valid, as Kiali's: validated with no error (warnings or not)
    services.filter.setText("valid")
    valid = [name for name, _c in _shown(lists, SERVICES)]
    assert "reviews" not in valid and {"productpage", "ratings", "api.payments.example.com"} <= set(valid)
    # with other words: those of the rows the config words keep, in any of their cells
    config.filter.setText("Warning default")
    assert _shown(lists, CONFIG) == [("default", "1 warning")]
    config.filter.setText("reviews not valid")
    assert _shown(lists, CONFIG) == [("reviews-canary", "1 error, 1 warning")]
    config.filter.setText("NOT VALID DestinationRule")  # its Kind
    assert _shown(lists, CONFIG) == [("reviews-canary", "1 error, 1 warning")]
    config.filter.setText("not valid storefront")
    assert _shown(lists, CONFIG) == []
    assert config.filter_note.isVisibleTo(config)
    # two of them: either
    config.filter.setText("Not Valid Warning")
    assert sorted(_shown(lists, CONFIG)) == [("default", "1 warning"), ("reviews", "1 warning"),
                                              ("reviews-canary", "1 error, 1 warning")]
    # with a label selector on the apps: both must hold
    apps = lists.pages[APPS]
    apps.filter.setText("warning app=mongodb")
    assert _shown(lists, APPS) == [("mongodb", "1 warning")]
    apps.filter.setText("warning app=reviews")
    assert _shown(lists, APPS) == []
    # a word inside a name is no config word; and clearing the filter shows them all again
    config.filter.setText("invalid")
    assert _shown(lists, CONFIG) == []
    config.filter.clear()
    assert len(_shown(lists, CONFIG)) == len(lists.pages[CONFIG].model.rows)
    # the field says it takes them
    assert "Not Valid" in services.filter.placeholderText() and "Not Validated" in services.filter.toolTip()
    # the next refresh keeps the filter
    services.filter.setText("not valid")
    lists.set_data(lists.graph, lists.inventory)
    qtbot.waitUntil(lambda: _shown(lists, SERVICES) == [("reviews", "1 error, 2 warnings")])


def test_a_virtualservice_mirroring_to_a_service_is_in_its_details(qtbot: QtBot) -> None:
    """Kiali ties a VirtualService to a service by its route destinations only; meshdesk's Details also
    name one that only mirrors to it (docs/kiali-differences.md: the service gets requests because of
    it, and deleting or renaming the service leaves its mirror pointing nowhere)."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    demo.apply(IstioObject("VirtualService", "details-shadow", "shop", spec={
        "hosts": ["details"], "http": [{"route": [{"destination": {"host": "details"}}],
                                        "mirror": {"host": "ratings"}, "mirrorPercentage": {"value": 10.0}}]}))
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    lists = MeshLists()
    qtbot.addWidget(lists)
    with qtbot.waitSignal(lists.rowsUpdated):
        lists.set_data(build(snap), snap.inventory)
    assert "details-shadow" in _row(lists, SERVICES, "ratings").details_text
    assert "details-shadow" in _row(lists, SERVICES, "details").details_text
    assert "details-shadow" not in _row(lists, SERVICES, "reviews").details_text


def test_a_row_named_as_a_config_word_is_still_found_by_its_name(qtbot: QtBot) -> None:
    """Since the filter reads Kiali's Config words, typing "warning" kept only the rows with a warning: a
    service and a workload named warning, with none, could no longer be found by their name (the note
    said nothing matches "warning"). A row named exactly as the word is kept too; the rows the word asks
    for still are, and a name that only holds the word is no match."""
    import dataclasses

    from meshdesk.mesh.inventory import Service, ServicePort
    from tests.ui_helpers import workload

    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    inv = dataclasses.replace(
        snap.inventory,
        workloads=[*snap.inventory.workloads, workload("warning", "shop", "warning"),
                   workload("warning-gateway", "shop", "warning-gateway")],
        services=[*snap.inventory.services,
                  Service("warning", "shop", ports=[ServicePort("http", 80)], selector={"app": "warning"})])
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.show()
    lists.set_data(build(dataclasses.replace(snap, inventory=inv)), inv)
    services, workloads = lists.pages[SERVICES], lists.pages[WORKLOADS]
    assert dict(_shown(lists, SERVICES))["warning"] == "ok"
    with_warnings = {name for name, config in _shown(lists, WORKLOADS) if "warning" in config}
    assert with_warnings  # (the demo has some: the word still keeps them)
    services.filter.setText("warning")
    assert ("warning", "ok") in _shown(lists, SERVICES) and services.filter_note.isHidden()
    workloads.filter.setText("Warning")  # any case
    assert {name for name, _c in _shown(lists, WORKLOADS)} == with_warnings | {"warning"}
    # with other words: the rest found in one of its cells, as for the rows the word keeps
    workloads.filter.setText("warning shop")
    assert "warning" in {name for name, _c in _shown(lists, WORKLOADS)}
    workloads.filter.setText("warning storefront")
    assert "warning" not in {name for name, _c in _shown(lists, WORKLOADS)}
    # the field says so
    assert "named exactly as one of those words" in services.filter.toolTip()
