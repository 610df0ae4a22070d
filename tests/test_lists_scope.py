"""The lists filtered to one namespace (or cluster) exactly: ``namespace:shop``, ``cluster:east``, as the
Namespaces page's row menu opens them and as the user can type them. On the demo cluster's snapshot, an
inventory merged from two clusters, and the real graph builder; real widgets offscreen."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import IstioObject, Namespace
from meshdesk.mesh.namespace_traffic import (
    ERROR_LABEL,
    NAMESPACE_LABEL,
    NamespaceTraffic,
    TrafficGrid,
    TrafficReading,
    traffic_from_series,
)
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.lists import (
    APPS,
    COLUMNS,
    CONFIG,
    FILTER_ROLE,
    NAMESPACES,
    SERVICES,
    WORKLOADS,
    ListModel,
    ListRow,
    MeshLists,
)
from tests.graph_samples import snapshot
from tests.test_graph_multicluster_inventory import CLUSTERS, _both, _inventory, _service, _traffic


def _entry(menu: QMenu, text: str) -> QAction:
    return next(a for a in menu.actions() if a.text() == text)


def _shown(lists: MeshLists, title: str) -> set[tuple[str, str, str]]:
    """(namespace, name, cluster) of the rows the list shows."""
    return {(r.namespace, r.name, r.cluster) for r in lists.pages[title].visible_rows()}


def _namespace_row(lists: MeshLists, name: str, cluster: str = "") -> ListRow:
    return next(r for r in lists.pages[NAMESPACES].model.rows if r.name == name and r.cluster == cluster)


def _demo_lists(qtbot: QtBot) -> MeshLists:
    """shop and travel of the demo, travel holding config and a ServiceEntry whose names say "shop"."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    demo.apply(IstioObject("ServiceEntry", "shop-api", "travel", spec={
        "hosts": ["shop.partner.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}]}))
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "travel")))
    assert snap.inventory is not None
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snap), snap.inventory)
    return lists


def test_a_namespace_rows_menu_lists_that_namespaces_objects_only(qtbot: QtBot) -> None:
    """"Services of shop" filtered the list by the text "shop": travel's ServiceEntry for
    shop.partner.example.com (and its config, shop-api) were listed as shop's. The menu filters by the
    namespace itself, with a term the user can read and type: namespace:shop."""
    lists = _demo_lists(qtbot)
    # (travel's rows that say "shop": what the text filter wrongly kept)
    assert ("travel", "shop.partner.example.com", "") in _shown(lists, SERVICES)
    assert ("travel", "shop-api", "") in _shown(lists, CONFIG)
    shop = _namespace_row(lists, "shop")
    for title in (APPS, WORKLOADS, SERVICES, CONFIG):
        what = title if title == CONFIG else title.lower()
        menu = lists.namespace_menu_of(shop)
        _entry(menu, f"{what[0].upper()}{what[1:]} of shop").trigger()
        page = lists.pages[title]
        assert lists.currentWidget() is page
        assert page.filter.text() == "namespace:shop"
        everything = {(r.namespace, r.name, r.cluster) for r in page.model.rows}
        assert _shown(lists, title) == {row for row in everything if row[0] == "shop"}, title
        assert _shown(lists, title), title
    # typed, with a name: the rows of that namespace that say it
    services = lists.pages[SERVICES]
    services.filter.setText("namespace:travel shop")
    assert _shown(lists, SERVICES) == {("travel", "shop.partner.example.com", "")}
    services.filter.setText("NAMESPACE:shop reviews")
    assert _shown(lists, SERVICES) == {("shop", "reviews", "")}
    # either of two namespaces
    services.filter.setText("namespace:shop,travel")
    assert len(_shown(lists, SERVICES)) == services.model.rowCount()
    # with a label selector and a config word: all of them hold
    workloads = lists.pages[WORKLOADS]
    workloads.filter.setText("namespace:shop app=reviews")
    assert {name for _n, name, _c in _shown(lists, WORKLOADS)} == {"reviews-v1", "reviews-v2", "reviews-v3"}
    # a namespace that has none: nothing, and said so
    workloads.filter.setText("namespace:sho")
    assert _shown(lists, WORKLOADS) == set() and workloads.filter_note.isVisibleTo(workloads)
    # being typed, no value yet: every row
    workloads.filter.setText("namespace:")
    assert len(_shown(lists, WORKLOADS)) == workloads.model.rowCount()
    # the next refresh keeps it
    workloads.filter.setText("namespace:travel")
    travel = _shown(lists, WORKLOADS)
    lists.set_data(lists.graph, lists.inventory)
    qtbot.waitUntil(lambda: _shown(lists, WORKLOADS) == travel)
    assert travel and {n for n, _w, _c in travel} == {"travel"}
    # the field says how
    assert "namespace:shop" in services.filter.placeholderText() and "namespace:shop" in services.filter.toolTip()


def test_a_clusters_namespace_rows_menu_lists_that_clusters_objects_only(qtbot: QtBot) -> None:
    """Of an inventory merged from east and west, east's shop row's "Workloads of shop" lists east's
    workloads of shop, not west's; cluster:west typed lists west's."""
    vs = IstioObject("VirtualService", "cart", "shop", spec={"hosts": ["cart"]})
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                     istio=tuple(replace(vs, cluster=c) for c in CLUSTERS))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload")), inv)
    _entry(lists.namespace_menu_of(_namespace_row(lists, "shop", "east")), "Workloads of shop").trigger()
    assert lists.pages[WORKLOADS].filter.text() == "namespace:shop cluster:east"
    assert _shown(lists, WORKLOADS) == {("shop", "web-v1", "east"), ("shop", "cart-v1", "east")}
    lists.pages[CONFIG].filter.setText("cluster:west")
    assert _shown(lists, CONFIG) == {("shop", "cart", "west")}


def test_typing_in_the_filter_asks_each_row_once_not_each_cell(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Qt's filter asked every cell of every row for its text, a Python call each: over 5,000 workloads the
    window froze half a second at each key typed. The filter asks a row once, for all its cells, and keeps
    the same rows: a name's part, a Type from its start, "na" for no health, a namespace, labels."""
    from tests.test_lists_config import _many

    graph, inv = _many(300)
    asked: list[int] = []
    real = ListModel.data

    def counted(self: ListModel, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == FILTER_ROLE:
            asked.append(role)
        return real(self, index, role)

    monkeypatch.setattr(ListModel, "data", counted)  # (before the model is made: Qt looks it up then)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, inv)
    page = lists.pages[WORKLOADS]
    for text in ("app29", "team-3", "namespace:team-3", "deploy", "app=app7", "app=app8", "valid"):
        asked.clear()
        page.filter.setText(text)
        assert len(asked) <= 300, (text, len(asked))  # (were up to 10 cells for each of the 300 rows)
        shown = {name for _n, name, _c in _shown(lists, WORKLOADS)}
        if text == "app29":
            assert shown == {"app29-v1"} | {f"app29{i}-v1" for i in range(10) if 290 + i < 300}
        elif text in ("team-3", "namespace:team-3"):
            assert shown == {f"app{i}-v1" for i in range(3, 300, 10)}
        elif text == "deploy":  # (a Type from its start)
            assert len(shown) == 300
        elif text.startswith("app="):  # (another selector, the same pattern: the rows filtered again)
            assert shown == {f"{text[4:]}-v1"}
        else:
            assert len(shown) == 300
    page.filter.setText("ment")  # (inside a Type: not from its start)
    assert _shown(lists, WORKLOADS) == set()
    page.filter.setText("na")  # (no health, shown n/a)
    assert {r.health for r in page.visible_rows()} <= {"", "NA"}


def test_a_namespace_filtered_by_its_traffic_follows_the_next_reading(qtbot: QtBot) -> None:
    """The Traffic cells change in place with each reading: the filter, asking a row's first cell for all its
    cells, is told the rows changed from their first cell on."""
    lists = _demo_lists(qtbot)
    page = lists.pages[NAMESPACES]
    page.filter.setText("rps")
    assert _shown(lists, NAMESPACES) == set()
    lists.set_traffic(TrafficReading(TrafficGrid(600.0, 600, 300, 300), {
        "shop": NamespaceTraffic((300.0, 600.0), (2.0, 2.0), (0.0, 0.0))}))
    qtbot.waitUntil(lambda: {n for _n, n, _c in _shown(lists, NAMESPACES)} == {"shop"})


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_the_menu_key_opens_the_current_rows_menu_on_every_list(qtbot: QtBot) -> None:
    """The Menu key on the Workloads list opened another row's menu (the row under wherever Qt put the
    keyboard's menu: the next one under Xvfb), as it did on the Namespaces list before: the current row's now,
    on the Applications, Workloads and Services lists too."""
    lists = _demo_lists(qtbot)
    lists.show()
    for title in (APPS, WORKLOADS, SERVICES, NAMESPACES):
        page = lists.pages[title]
        lists.setCurrentWidget(page)
        row = page.proxy.rowCount() // 2
        index = page.proxy.index(row, 0)
        page.table.setFocus()
        page.table.setCurrentIndex(index)
        name = page.visible_rows()[row].name
        event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(3, 3), page.table.mapToGlobal(QPoint(3, 3)))
        QApplication.sendEvent(page.table, event)
        menu = lists.namespace_menu if title == NAMESPACES else lists.references_menu
        assert menu is not None and menu.isVisible(), title
        assert menu.accessibleName() == (f"Namespace {name}" if title == NAMESPACES else f"Istio config of {name}"), title
        menu.close()


def _series(namespace: str, cluster: str, rate: float, error: bool = False) -> tuple[dict[str, str], list[tuple[float, float]]]:
    labels = {NAMESPACE_LABEL: namespace, "destination_cluster": cluster,  # (Istio's label)
              ERROR_LABEL: "http" if error else ""}
    return labels, [(300.0, rate), (600.0, rate)]


def test_each_clusters_namespace_row_has_its_own_traffic(qtbot: QtBot) -> None:
    """Of a mesh over east and west, each cluster's shop row had an empty Traffic cell, with nothing saying
    why: the reading was of the clusters together. Each row has its cluster's requests, as Prometheus' series
    name the destination's cluster; a cluster none names says so rather than "no requests"."""
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload")), inv)
    grid = TrafficGrid(600.0, 600, 300, 300)
    lists.set_traffic(traffic_from_series(grid, [_series("shop", "east", 3.0), _series("shop", "east", 1.0, error=True),
                                                 _series("shop", "west", 0.5)]))
    page = lists.pages[NAMESPACES]
    traffic = COLUMNS[NAMESPACES].index("Traffic")
    cells = {page.model.rows[r].cluster: page.model.index(r, traffic) for r in range(page.model.rowCount())}
    assert cells["east"].data() == "4.00 rps, 25.0% errors"
    assert cells["west"].data() == "0.50 rps"
    # a reading whose series name neither cluster (the telemetry calls them otherwise)
    lists.set_traffic(traffic_from_series(grid, [_series("shop", "cluster-1", 3.0)]))
    assert cells["east"].data() == "not read"
    assert "names cluster east" in cells["east"].data(Qt.ItemDataRole.ToolTipRole)


def test_a_namespace_being_added_for_its_list_is_said_so_not_said_to_match_nothing(qtbot: QtBot) -> None:
    """"Workloads of hello" for a namespace the graph did not show yet filtered the list to it at once, and
    until the graph with hello came the list said "Nothing matches namespace:hello": hello's workloads
    seemed not to exist. It says they are being read, then lists them."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_namespaces([Namespace(n) for n in ("shop", "travel", "hello")])
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    lists.set_data(build(snap), snap.inventory)
    asked: list[str] = []
    lists.namespaceRequested.connect(asked.append)
    hello = _namespace_row(lists, "hello")
    assert not hello.shown
    _entry(lists.namespace_menu_of(hello), "Workloads of hello").trigger()
    page = lists.pages[WORKLOADS]
    assert asked == ["hello"] and page.filter.text() == "namespace:hello"
    assert _shown(lists, WORKLOADS) == set()
    assert page.filter_note.isVisibleTo(page)
    assert page.filter_note.text() == "Adding hello to the graph: its workloads are listed once it is read…"
    # the graph with hello: its workloads, and nothing said
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "hello")))
    lists.set_data(build(snap), snap.inventory)
    assert _shown(lists, WORKLOADS) and {n for n, _w, _c in _shown(lists, WORKLOADS)} == {"hello"}
    assert not page.filter_note.isVisibleTo(page)
    # a namespace shown that has none is then said to match nothing, as any filter
    page.filter.setText("namespace:hello app=nothing")
    assert page.filter_note.text().startswith("Nothing matches")


def test_a_namespace_menu_left_open_over_a_refresh_acts_on_the_namespace_as_it_is_now(qtbot: QtBot) -> None:
    """shop's menu opened while the graph showed it; a refresh then showed hello alone. "Select shop in the
    graph" selected shop's box of the old graph, which was gone: nothing happened, nothing was said; and
    "Workloads of shop" filtered to a namespace no longer read. Both add shop to the graph now."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_namespaces([Namespace(n) for n in ("shop", "hello")])
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    lists.set_data(build(snap), snap.inventory)
    menu = lists.namespace_menu_of(_namespace_row(lists, "shop"))
    snap = demo.snapshot(GraphRequest(namespaces=("hello",)))
    lists.set_data(build(snap), snap.inventory)  # (the refresh, the menu still open)
    asked: list[str] = []
    selected: list[list[str]] = []
    lists.namespaceRequested.connect(asked.append)
    lists.nodesSelected.connect(selected.append)
    _entry(menu, "Select shop in the graph").trigger()
    assert asked == ["shop"] and selected == []
    _entry(menu, "Workloads of shop").trigger()
    assert asked == ["shop", "shop"]
    page = lists.pages[WORKLOADS]
    assert page.filter_note.text() == "Adding shop to the graph: its workloads are listed once it is read…"


def test_a_namespace_with_none_of_a_list_says_so(qtbot: QtBot) -> None:
    """"Istio config of shop" on west's row, where shop has none, said "Nothing matches “namespace:shop
    cluster:west”: the filter hides all 1 object", as if the filter were wrong. It says west's shop has none."""
    vs = IstioObject("VirtualService", "cart", "shop", spec={"hosts": ["cart"]})
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                     istio=(replace(vs, cluster="east"),))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload")), inv)
    _entry(lists.namespace_menu_of(_namespace_row(lists, "shop", "west")), "Istio config of shop").trigger()
    page = lists.pages[CONFIG]
    assert _shown(lists, CONFIG) == set()
    assert page.filter_note.isVisibleTo(page)
    assert page.filter_note.text() == "No Istio config in shop in cluster west. Clear the filter to see all 1 object."
    # with more than the namespace: the filter may be what keeps nothing
    page.filter.setText("namespace:shop cart-x")
    assert page.filter_note.text().startswith("Nothing matches “namespace:shop cart-x”")
