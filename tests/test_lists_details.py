"""The Lists dock's Details and Labels columns, as Kiali's list pages show them: the Istio config tied
to each app, workload and service, opened from the row; each one's labels, and the filter taking a
label selector; sorting by health and by details as Kiali's lists sort. Bookinfo's own manifests on the
Kubernetes API emulator, read by the real ClusterSource (and the demo cluster, whose error shares are
known); real widgets offscreen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.label_filter import parse_label_selector
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.cluster import open_source
from meshdesk.ui.config_view import ConfigView
from meshdesk.ui.lists import APPS, COLUMNS, CONFIG, SERVICES, WORKLOADS, MeshLists
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer

prometheus_server = prom_server.prometheus_server  # the session-scoped real Prometheus fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NETWORKING = "fixtures/istio/bookinfo/networking"

# an authorization policy for the reviews workloads only, beside Bookinfo's own config
REVIEWS_POLICY = {
    "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
    "metadata": {"name": "reviews-viewer", "namespace": "bookinfo"},
    "spec": {"selector": {"matchLabels": {"app": "reviews", "version": "v1"}},
             "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]}}]}]},
}


# an EnvoyFilter patching the ratings workload's proxy
RATINGS_FILTER = {
    "apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
    "metadata": {"name": "ratings-lua", "namespace": "bookinfo"},
    "spec": {"workloadSelector": {"labels": {"app": "ratings"}},
             "configPatches": [{"applyTo": "HTTP_FILTER", "match": {"context": "SIDECAR_INBOUND"},
                                "patch": {"operation": "INSERT_BEFORE", "value": {"name": "envoy.lua"}}}]},
}


@pytest.fixture
def bookinfo_snapshot(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                      prometheus_server: PrometheusServer) -> Iterator[Snapshot]:
    """Bookinfo with its gateway, its DestinationRules and the all-v1 VirtualServices, read through a
    kubeconfig as the app reads a cluster, its traffic from a real Prometheus behind the API server."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    for manifest in ("bookinfo-gateway.yaml", "destination-rule-all.yaml", "virtual-service-all-v1.yaml"):
        emu.load_yaml(shared_dir / NETWORKING / manifest, namespace="bookinfo")
    emu.add(REVIEWS_POLICY)
    emu.add(RATINGS_FILTER)
    yield _read(emu, ("bookinfo",), tmp_path, prometheus_server)


def _read(emu: KubeEmulator, namespaces: tuple[str, ...], tmp_path: Path,
          prometheus_server: PrometheusServer) -> Snapshot:
    """What the app reads of these namespaces through a kubeconfig, Prometheus behind the API server."""
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.run_workloads()
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    source = open_source(str(emu.write_kubeconfig(tmp_path / "kubeconfig")))
    try:
        snap = source.snapshot(GraphRequest(namespaces=namespaces, queryTime=prometheus_server.query_time))
    finally:
        source.close()
    assert snap.inventory is not None
    return snap


@pytest.fixture
def bookinfo(bookinfo_snapshot: Snapshot) -> Inventory:
    assert bookinfo_snapshot.inventory is not None
    return bookinfo_snapshot.inventory


@pytest.fixture
def lists(qtbot: QtBot, bookinfo_snapshot: Snapshot, bookinfo: Inventory) -> MeshLists:
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(1400, 600)
    lists.show()
    qtbot.waitExposed(lists)
    graph = build(bookinfo_snapshot)
    with qtbot.waitSignal(lists.rowsUpdated):
        lists.set_data(graph, bookinfo)
    return lists


def _details(lists: MeshLists, title: str, name: str) -> str:
    page = lists.pages[title]
    column = COLUMNS[title].index("Details")
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    return str(page.proxy.index(row, column).data())


def _cell_point(lists: MeshLists, title: str, name: str) -> tuple[QPoint, QModelIndex]:
    page = lists.pages[title]
    lists.setCurrentWidget(page)
    column = COLUMNS[title].index("Details")
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    index = page.proxy.index(row, column)
    page.table.scrollTo(index)
    return page.table.visualRect(index).center(), index


def _double_click(qtbot: QtBot, widget: QWidget, point: QPoint) -> None:
    """As a mouse does it: a click, then the second press (QTest's double-click alone is not preceded by
    the press a view's double-click waits for)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=point)


def test_each_row_names_the_istio_config_tied_to_it_as_kiali_does(lists: MeshLists) -> None:
    # productpage: the gateway's VirtualService routes to it (about bookinfo's public host, not its name),
    # the Gateway that VirtualService binds, its own VirtualService and DestinationRule
    assert _details(lists, SERVICES, "productpage") == (
        "VirtualService bookinfo, VirtualService productpage, DestinationRule productpage, Gateway bookinfo-gateway")
    assert _details(lists, SERVICES, "reviews") == "VirtualService reviews, DestinationRule reviews"
    # a workload: what selects it (the policy of reviews v1 only)
    assert _details(lists, WORKLOADS, "reviews-v1") == "AuthorizationPolicy reviews-viewer"
    assert _details(lists, WORKLOADS, "reviews-v2") == ""
    assert _details(lists, WORKLOADS, "ratings-v1") == "EnvoyFilter ratings-lua"  # what patches its proxy
    # an app: its services' and its workloads'
    assert _details(lists, APPS, "reviews") == (
        "VirtualService reviews, DestinationRule reviews, AuthorizationPolicy reviews-viewer")
    # typed in the filter, a config name finds the rows it is tied to
    page = lists.pages[SERVICES]
    page.filter.setText("bookinfo-gateway")
    assert [r.name for r in page.visible_rows()] == ["productpage"]


# a popup menu under the offscreen platform
_POPUP = r"^This plugin does not support (raise\(\)|grabbing the keyboard)$"


@pytest.mark.qt_log_ignore(_POPUP)
def test_double_click_on_details_opens_the_object_or_offers_them(qtbot: QtBot, lists: MeshLists,
                                                                  bookinfo: Inventory) -> None:
    config = ConfigView()
    qtbot.addWidget(config)
    config.set_data(bookinfo, lists.validations)
    lists.configSelected.connect(config.show_object)
    # one object: opened at once
    point, _index = _cell_point(lists, WORKLOADS, "reviews-v1")
    table = lists.pages[WORKLOADS].table
    with qtbot.waitSignal(lists.configSelected) as opened:
        _double_click(qtbot, table.viewport(), point)
    assert opened.args == [("AuthorizationPolicy", "bookinfo", "reviews-viewer")]
    assert "<b>AuthorizationPolicy</b>" in config.title.text() and "name: reviews-viewer" in config.yaml.toPlainText()
    # and from the keyboard: Enter on the cell
    point, index = _cell_point(lists, WORKLOADS, "ratings-v1")
    table.setFocus()
    table.setCurrentIndex(index)
    with qtbot.waitSignal(lists.configSelected) as opened:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened.args == [("EnvoyFilter", "bookinfo", "ratings-lua")]
    # several: a menu of them, and the one chosen is shown
    point, _index = _cell_point(lists, SERVICES, "productpage")
    table = lists.pages[SERVICES].table
    _double_click(qtbot, table.viewport(), point)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert [a.text() for a in menu.actions()] == [
        "Open VirtualService bookinfo", "Open VirtualService productpage", "Open DestinationRule productpage",
        "Open Gateway bookinfo-gateway"]
    with qtbot.waitSignal(lists.configSelected) as opened:
        next(a for a in menu.actions() if a.text() == "Open Gateway bookinfo-gateway").trigger()
    assert opened.args == [("Gateway", "bookinfo", "bookinfo-gateway")]
    assert "<b>Gateway</b>" in config.title.text() and "name: bookinfo-gateway" in config.yaml.toPlainText()
    menu.close()


@pytest.mark.qt_log_ignore(_POPUP)
def test_a_rows_context_menu_offers_its_config_or_says_it_has_none(qtbot: QtBot, lists: MeshLists) -> None:
    point, _index = _cell_point(lists, SERVICES, "reviews")
    table = lists.pages[SERVICES].table
    first = QPoint(5, point.y())  # on its name
    table.customContextMenuRequested.emit(first)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert [a.text() for a in menu.actions()] == ["Open VirtualService reviews", "Open DestinationRule reviews", "",
                                                  "Filter by app=reviews", "Filter by service=reviews"]
    menu.close()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    point, _index = _cell_point(lists, WORKLOADS, "details-v1")
    lists.pages[WORKLOADS].table.customContextMenuRequested.emit(QPoint(5, point.y()))
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert [(a.text(), a.isEnabled()) for a in menu.actions() if not a.text().startswith("Filter by")] == [
        ("No Istio config selects it or is about it", False), ("", True)]
    menu.close()


@pytest.mark.qt_log_ignore(_POPUP)
def test_a_rows_labels_filter_the_list_from_its_context_menu(qtbot: QtBot, lists: MeshLists) -> None:
    """As a click on one of Kiali's label chips: the row's context menu filters the list by one of its
    labels, and a second label narrows it (both must hold)."""
    page = lists.pages[WORKLOADS]

    def choose(name: str, text: str) -> None:
        point, _index = _cell_point(lists, WORKLOADS, name)
        page.table.customContextMenuRequested.emit(QPoint(5, point.y()))
        qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        offered = [a.text() for a in menu.actions() if a.text().startswith("Filter by")]
        assert offered == [f"Filter by app={name.split('-')[0]}", f"Filter by version={name.split('-')[1]}"]
        next(a for a in menu.actions() if a.text() == text).trigger()
        menu.close()
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)

    choose("reviews-v2", "Filter by app=reviews")
    assert page.filter.text() == "app=reviews"
    assert _names(lists, WORKLOADS) == ["reviews-v1", "reviews-v2", "reviews-v3"]
    choose("reviews-v3", "Filter by version=v3")
    assert page.filter.text() == "app=reviews,version=v3"
    assert _names(lists, WORKLOADS) == ["reviews-v3"]
    # a text filter is replaced, not joined
    page.filter.setText("ratings")
    choose("ratings-v1", "Filter by version=v1")
    assert page.filter.text() == "version=v1"
    assert _names(lists, WORKLOADS) == ["details-v1", "productpage-v1", "ratings-v1", "reviews-v1"]


def _names(lists: MeshLists, title: str) -> list[str]:
    return sorted(r.name for r in lists.pages[title].visible_rows())


def _labels(lists: MeshLists, title: str, name: str) -> str:
    page = lists.pages[title]
    column = COLUMNS[title].index("Labels")
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    return str(page.proxy.index(row, column).data())


def test_each_row_shows_its_labels(lists: MeshLists) -> None:
    assert _labels(lists, WORKLOADS, "reviews-v2") == "app=reviews, version=v2"
    assert _labels(lists, SERVICES, "reviews") == "app=reviews, service=reviews"
    # an app: its workloads' and its services', each key once with its values
    assert _labels(lists, APPS, "reviews") == "app=reviews, version=v1,v2,v3, service=reviews"


def test_the_filter_takes_a_label_selector_as_kubectl_does(qtbot: QtBot, lists: MeshLists) -> None:
    workloads = lists.pages[WORKLOADS]
    qtbot.keyClicks(workloads.filter, "app=reviews")
    assert _names(lists, WORKLOADS) == ["reviews-v1", "reviews-v2", "reviews-v3"]
    qtbot.keyClicks(workloads.filter, ",version!=v1")  # both must hold
    assert _names(lists, WORKLOADS) == ["reviews-v2", "reviews-v3"]
    with qtbot.waitSignal(lists.rowsUpdated):  # the next refresh keeps it
        lists.set_data(lists.graph, lists.inventory)
    assert _names(lists, WORKLOADS) == ["reviews-v2", "reviews-v3"]
    workloads.filter.clear()
    assert len(_names(lists, WORKLOADS)) == 6
    qtbot.keyClicks(workloads.filter, "app in (details, ratings)")  # either
    assert _names(lists, WORKLOADS) == ["details-v1", "ratings-v1"]
    workloads.filter.setText("!version")
    assert _names(lists, WORKLOADS) == []
    assert workloads.filter_note.isVisibleTo(workloads)
    assert workloads.filter_note.text().startswith("Nothing matches “!version”: the filter hides all 6 workloads")
    # an app has its versions' labels: v2 is one of reviews'
    qtbot.keyClicks(lists.pages[APPS].filter, "version=v2")
    assert _names(lists, APPS) == ["reviews"]
    qtbot.keyClicks(lists.pages[SERVICES].filter, "service=reviews")
    assert _names(lists, SERVICES) == ["reviews"]
    # a text with no label operator is looked for in the cells, as before
    lists.pages[SERVICES].filter.setText("ratings")
    assert _names(lists, SERVICES) == ["ratings"]


def test_what_is_a_label_selector_and_what_is_not() -> None:
    assert parse_label_selector("reviews") is None  # a name
    assert parse_label_selector("missing: restart") is None
    assert parse_label_selector("n/a") is None
    assert parse_label_selector("app=") is not None  # an empty value, as kubectl takes it
    assert parse_label_selector("app=a=b") is None  # kubectl refuses it: no selector, nothing selected by it
    selector = parse_label_selector("app.kubernetes.io/name==web, tier notin (db,cache), canary")
    assert selector is not None
    assert selector.matches({"app.kubernetes.io/name": "web", "tier": "front", "canary": "true"})
    assert not selector.matches({"app.kubernetes.io/name": "web", "tier": "db", "canary": "true"})
    assert not selector.matches({"app.kubernetes.io/name": "web"})
    # an app's several values
    two = parse_label_selector("version=v2")
    assert two is not None and two.matches({"version": "v1,v2"}) and not two.matches({"version": "v1,v22"})


def test_rows_of_one_health_sort_by_their_error_share_as_kiali(qtbot: QtBot) -> None:
    """Three services are Degraded in the demo: inventory with 1.8% of its requests failing, the payments
    host 0.4%, reviews 0.08%. Sorted by health they came in name order (api.payments... first); Kiali puts
    the one failing most first, which is the one to look at."""
    from meshdesk.sources.demo import DemoCluster

    snap = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("shop",)))
    lists = MeshLists()
    qtbot.addWidget(lists)
    with qtbot.waitSignal(lists.rowsUpdated):
        lists.set_data(build(snap), snap.inventory)
    page = lists.pages[SERVICES]
    health = COLUMNS[SERVICES].index("Health")
    page.table.sortByColumn(health, Qt.SortOrder.AscendingOrder)
    shown = [(page.proxy.index(r, 0).data(), page.proxy.index(r, health).data()) for r in range(page.proxy.rowCount())]
    assert [name for name, status in shown if status == "Degraded"] == ["inventory", "api.payments.example.com",
                                                                       "reviews"]
    assert shown[0] == ("inventory", "Degraded")


def test_sorted_by_details_the_rows_with_most_config_come_last_or_first(lists: MeshLists) -> None:
    page = lists.pages[SERVICES]
    details = COLUMNS[SERVICES].index("Details")
    page.table.sortByColumn(details, Qt.SortOrder.DescendingOrder)
    rows = page.visible_rows()
    assert rows[0].name == "productpage"  # 4 objects: its own VirtualService and DestinationRule, and the gateway's
    counts = [len(r.references) for r in rows]
    assert counts == sorted(counts, reverse=True)
    page.table.sortByColumn(details, Qt.SortOrder.AscendingOrder)
    rows = page.visible_rows()
    assert rows[-1].name == "productpage" and [len(r.references) for r in rows] == sorted(counts)


def test_a_gateway_api_route_and_its_gateway_are_a_services_details(
        qtbot: QtBot, kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
        prometheus_server: PrometheusServer) -> None:
    """httpbin behind a Gateway API Gateway: its HTTPRoute and the Gateway the route is attached to are
    named with the service (Kiali's K8sHTTPRoute and K8sGateway references), as its VirtualServices are."""
    from tests import gateway_api_crds

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    gateway_api_crds.install(emu)
    emu.add_namespace("httpbin")
    emu.load_yaml(shared_dir / "fixtures/istio/httpbin/httpbin.yaml", namespace="httpbin")
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "edge", "namespace": "httpbin"},
             "spec": {"gatewayClassName": "istio",
                      "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "httpbin")
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "httpbin", "namespace": "httpbin"},
             "spec": {"parentRefs": [{"name": "edge"}],
                      "rules": [{"backendRefs": [{"name": "httpbin", "port": 8000}]}]}}, "httpbin")
    snap = _read(emu, ("httpbin",), tmp_path, prometheus_server)
    lists = MeshLists()
    qtbot.addWidget(lists)
    with qtbot.waitSignal(lists.rowsUpdated):
        lists.set_data(build(snap), snap.inventory)
    assert _details(lists, SERVICES, "httpbin") == "K8sGateway edge, K8sHTTPRoute httpbin"
    assert _details(lists, APPS, "httpbin") == "K8sGateway edge, K8sHTTPRoute httpbin"


def test_the_config_cell_says_what_its_findings_are(qtbot: QtBot) -> None:
    """"1 warning" said there was something wrong with mongodb-v1, not what nor in which object: the
    Istio config dock had to be searched for it. Hovering the cell says it, as Kiali's validation icon."""
    from meshdesk.sources.demo import DemoCluster

    snap = DemoCluster(clock=lambda: 1_750_000_000.0).snapshot(GraphRequest(namespaces=("hello", "shop")))
    lists = MeshLists()
    qtbot.addWidget(lists)
    with qtbot.waitSignal(lists.rowsUpdated):
        lists.set_data(build(snap), snap.inventory)

    def tip(title: str, name: str) -> object:
        page = lists.pages[title]
        row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
        cell = page.proxy.index(row, COLUMNS[title].index("Config"))
        assert cell.data() != "ok"
        return cell.data(Qt.ItemDataRole.ToolTipRole)

    said = tip(WORKLOADS, "mongodb-v1")
    assert isinstance(said, str) and said.startswith("PeerAuthentication default: warning MDK0501 STRICT mTLS cannot")
    assert tip(SERVICES, "sleep") == ("Service sleep: warning KIA0701 no Deployment behind this Service declares the "
                                      "container port '80' (spec/ports[0])")
    # the object's own row says it without its name
    own = tip(CONFIG, "default")
    assert isinstance(own, str) and own.startswith("warning MDK0501 STRICT mTLS cannot")
    page = lists.pages[WORKLOADS]
    ok = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "reviews-v1")
    assert page.proxy.index(ok, COLUMNS[WORKLOADS].index("Config")).data(Qt.ItemDataRole.ToolTipRole) is None


def test_a_long_details_cell_is_cut_on_its_line_and_whole_in_its_tooltip(lists: MeshLists) -> None:
    """A service with four objects tied to it: its Details cell wrapped into two half lines in a row one
    line high (the Labels column, as wide as 64 characters, left it a sliver). The cell keeps to its
    line, cut with an ellipsis, and its tooltip names each object on a line of its own."""
    page = lists.pages[SERVICES]
    lists.setCurrentWidget(page)
    assert not page.table.wordWrap()
    column = COLUMNS[SERVICES].index("Details")
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "productpage")
    tip = str(page.proxy.index(row, column).data(Qt.ItemDataRole.ToolTipRole))
    assert tip.splitlines()[:4] == ["VirtualService bookinfo", "VirtualService productpage",
                                    "DestinationRule productpage", "Gateway bookinfo-gateway"]
    labels = COLUMNS[SERVICES].index("Labels")
    widest = page.table.fontMetrics().averageCharWidth() * 40
    assert page.table.horizontalHeader().sectionSize(labels) <= max(widest, page.table.horizontalHeader()
                                                                    .sectionSizeHint(labels))
