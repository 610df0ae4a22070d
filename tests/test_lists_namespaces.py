"""The Lists dock's Namespaces page, as Kiali's namespace overview: every namespace of the cluster, whether
it is in the mesh (and the label that says so), whether the graph shows it, and for those it shows their
apps' health, Istio config and mTLS as the Details summary says them; a double-click adds a namespace to
the graph or selects its box. On the demo mesh, a snapshot of it, and the Kubernetes API emulator read
through a kubeconfig; real widgets offscreen."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor, QContextMenuEvent, QImage
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.dialogs.change_dialog import REVIEW
from meshdesk.ui.lists import (
    APPS,
    COLUMNS,
    CONFIG,
    NAMESPACES,
    SPARK_ERRORS,
    SPARK_REQUESTS,
    SPARK_WIDTH,
    WORKLOADS,
    MeshLists,
)
from meshdesk.ui.mainwindow import MainWindow
from meshdesk.ui.perf_views import PerformanceViews
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
from tests.prom_server import Workload as Pw
from tests.ui_helpers import (
    DEMO_NOW,
    open_windows,
    sample,
    shown,
    small_inventory,
    window_test_marks,
    workload,
)

pytestmark = window_test_marks()

NOT_SHOWN = "not shown"


def _cells(lists: MeshLists) -> dict[str, dict[str, str]]:
    """The Namespaces page as shown: each row's cells by column, by namespace."""
    page = lists.pages[NAMESPACES]
    columns = COLUMNS[NAMESPACES]
    out = {}
    for r in range(page.proxy.rowCount()):
        cells = {c: str(page.proxy.index(r, i).data()) for i, c in enumerate(columns)}
        out[cells["Namespace"]] = cells
    return out


def _double_click_row(qtbot: QtBot, lists: MeshLists, namespace: str) -> None:
    """Double-click the row's Namespace cell, as a mouse does it (a click, then the second press)."""
    page = lists.pages[NAMESPACES]
    lists.setCurrentWidget(page)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == namespace)
    index = page.proxy.index(row, 0)
    page.table.scrollTo(index)
    point: QPoint = page.table.visualRect(index).center()
    viewport: QWidget = page.table.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=point)


def _perf(w: MainWindow) -> PerformanceViews:
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    return perf


def test_the_namespaces_page_lists_every_demo_namespace_and_shows_one_on_a_double_click(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    w = demo_window(["shop"])
    perf = _perf(w)
    lists = perf.lists
    assert lists.tabText(0) == NAMESPACES  # the first page, as Kiali's overview is its landing page
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: set(_cells(lists)) == {"hello", "shop", "travel", "istio-system"}, timeout=10000)
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["App health"] != NOT_SHOWN, timeout=10000)
    cells = _cells(lists)
    assert cells["hello"]["Mesh"] == "sidecar injection (istio-injection=enabled)"
    assert cells["travel"]["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)"
    assert cells["istio-system"]["Mesh"] == "control plane"
    assert {n: c["Shown"] for n, c in cells.items()} == {"hello": "no", "shop": "yes", "travel": "no",
                                                         "istio-system": "no"}
    # the namespaces not shown: nothing read of them, said so
    for name in ("hello", "travel", "istio-system"):
        assert [cells[name][c] for c in ("App health", "Istio config", "mTLS")] == [NOT_SHOWN] * 3
    # shop's, as the Details summary of the namespace says them
    summary = w.panel.text()
    assert "Namespace shop" in summary
    shop = cells["shop"]
    for part in shop["App health"].split(", "):  # "4 Degraded, 3 Healthy"
        assert part in summary
    assert shop["Istio config"].startswith("6 objects") and shop["Istio config"] in summary
    assert shop["mTLS"] == "Strict" and "mTLS\nStrict" in summary
    # the filter: a text, a label selector
    page = lists.pages[NAMESPACES]
    page.filter.setText("ambient")
    assert list(_cells(lists)) == ["travel"]
    page.filter.setText("istio-injection=enabled")
    assert sorted(_cells(lists)) == ["hello", "shop"]
    page.filter.setText("not validated")  # (Kiali's Config filter's words: the namespaces whose config is unread)
    assert sorted(_cells(lists)) == ["hello", "istio-system", "travel"]
    page.filter.clear()

    # a double-click on a namespace the graph does not show adds it to the graph's namespaces
    _double_click_row(qtbot, lists, "hello")
    assert w.toolbar.selected_namespaces() == ["hello", "shop"]
    shown(qtbot, w, lambda g: any(n.namespace == "hello" and n.node_type != NODE_BOX for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists)["hello"]["Shown"] == "yes", timeout=10000)
    hello = _cells(lists)["hello"]
    assert NOT_SHOWN not in (hello["App health"], hello["Istio config"], hello["mTLS"])
    # ... and on one it shows, selects its box in the graph
    graph = w.graph
    assert graph is not None
    box = next(n.id for n in graph.nodes.values()
               if n.node_type == NODE_BOX and n.box == BOX_NAMESPACE and n.namespace == "hello")
    _double_click_row(qtbot, lists, "hello")
    qtbot.waitUntil(lambda: w.view.selected_ids() == [box], timeout=5000)
    assert "Namespace hello" in w.panel.text()


def test_with_no_namespace_chosen_the_page_still_offers_them_all(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """Nothing chosen, the graph and the other lists are empty: the Namespaces page is where to pick one."""
    w = demo_window(["shop"])
    perf = _perf(w)
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(perf.lists).get("shop", {}).get("Shown") == "yes", timeout=10000)
    w.toolbar.select_namespaces([])
    qtbot.waitUntil(lambda: _cells(perf.lists)["shop"]["Shown"] == "no", timeout=10000)
    cells = _cells(perf.lists)
    assert set(cells) == {"hello", "shop", "travel", "istio-system"}
    assert all(c["Shown"] == "no" and c["App health"] == NOT_SHOWN for c in cells.values())
    assert cells["shop"]["Mesh"] == "sidecar injection (istio-injection=enabled)"
    _double_click_row(qtbot, perf.lists, "travel")
    assert w.toolbar.selected_namespaces() == ["travel"]
    qtbot.waitUntil(lambda: _cells(perf.lists)["travel"]["Shown"] == "yes"
                    and _cells(perf.lists)["travel"]["App health"] != NOT_SHOWN, timeout=10000)


def test_a_snapshot_lists_the_namespaces_it_holds(qtbot: QtBot, demo_window: Callable[..., MainWindow],
                                                  tmp_path: Path) -> None:
    w = demo_window(["shop", "travel"])
    perf = _perf(w)
    shown(qtbot, w, lambda g: any(n.namespace == "travel" for n in g.nodes.values()))
    path = tmp_path / "mesh.json"
    assert w.save_snapshot(str(path))
    w.switch_context(w.add_snapshot(str(path)))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and w.graph is not None, timeout=10000)
    qtbot.waitUntil(lambda: set(_cells(perf.lists)) == {"shop", "travel"}
                    and _cells(perf.lists)["travel"]["App health"] != NOT_SHOWN, timeout=10000)
    cells = _cells(perf.lists)
    assert cells["shop"]["Mesh"] == "sidecar injection (istio-injection=enabled)"
    assert cells["travel"]["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)"
    assert cells["shop"]["Shown"] == cells["travel"]["Shown"] == "yes"
    # the graph narrowed to shop: travel is still listed (the file holds it), in the mesh by the labels the
    # file holds for it (it said "not in the mesh" for want of them)
    w.toolbar.select_namespaces(["shop"])
    qtbot.waitUntil(lambda: _cells(perf.lists)["travel"]["Shown"] == "no", timeout=10000)
    travel = _cells(perf.lists)["travel"]
    assert travel["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)" and travel["App health"] == NOT_SHOWN


def _two_version_shop() -> tuple[Inventory, list[Sample]]:
    """shop with frontend calling cart's two versions, 100 requests a second each (both proxies report
    them): cart v1 answers 12 of its 100 with a 500, cart v2 none; legacy has no traffic."""
    inv = small_inventory("shop")
    inv.workloads.append(workload("cart-v2", "shop", "cart", "v2"))
    samples = []
    for reporter in ("source", "destination"):
        for dst, version, rate, code in (("cart-v1", "v1", 88.0, "200"), ("cart-v1", "v1", 12.0, "500"),
                                         ("cart-v2", "v2", 100.0, "200")):
            labels = dict(sample("frontend-v1", dst, "shop", rate, code).labels)
            labels.update(reporter=reporter, destination_canonical_revision=version)
            samples.append(Sample("istio_requests_total", labels, rate))
    return inv, samples


def test_a_namespaces_app_health_is_the_same_whatever_the_graph_type(
        qtbot: QtBot, demo_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    """The App health cell is Kiali's overview's: each app judged by all its versions' requests in and out
    with its pods' state, whatever the graph shows. It said "1 Degraded, 2 Healthy" on the service graph
    (which has no app nodes to judge frontend by) and "1 Failure, ..." on the workload graph (cart v1 alone
    fails 12 % of its requests, the app cart 6 %)."""
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.snapshot import save_snapshot

    inv, samples = _two_version_shop()
    path = tmp_path / "shop.json"
    save_snapshot(Snapshot(GraphRequest(namespaces=("shop",), queryTime=int(DEMO_NOW)), samples, inv), path)
    w = demo_window(["shop"])
    perf = _perf(w)
    w.show()
    perf.docks["Lists"].show()  # the page in view, as the user reads it
    perf.docks["Lists"].raise_()
    w.switch_context(w.add_snapshot(str(path)))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and w.graph is not None, timeout=10000)
    # Kiali's rules on these numbers: cart's requests in, 12 of 200 a 5xx (6 %: Degraded, under the 10 % of
    # Failure); frontend's out, the same 6 %; legacy none (its pods ready: Healthy)
    kiali = "2 Degraded, 1 Healthy"
    combo = w.toolbar.graph_type_combo
    for graph_type in ("versionedApp", "service", "workload", "app"):
        combo.setCurrentIndex(combo.findData(graph_type))
        combo.activated.emit(combo.currentIndex())
        shown(qtbot, w, lambda g, t=graph_type: g.request.graphType == t)  # type: ignore[misc]
        qtbot.waitUntil(lambda: _cells(perf.lists).get("shop", {}).get("App health") == kiali, timeout=10000)
        # the Applications list says the same of each app (cart: Degraded, not its v1's Failure)
        apps = {r.name: r.health for r in perf.lists.pages[APPS].model.rows}
        assert apps == {"cart": "Degraded", "frontend": "Degraded", "legacy": "Healthy"}, (graph_type, apps)
        summary = w.panel.text()  # the namespace's Details summary counts them alike
        assert "Namespace shop" in summary and "App health\n2 Degraded, 1 Healthy" in summary, (graph_type, summary)


def test_the_namespace_summary_counts_apps_as_kiali_with_the_lists_hidden(
        qtbot: QtBot, demo_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    """The Details summary of a namespace counts its apps as the Namespaces list does even while the Lists
    dock is hidden (no list judged them then, so a service graph's summary called frontend Healthy)."""
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.snapshot import save_snapshot

    inv, samples = _two_version_shop()
    path = tmp_path / "shop.json"
    request = GraphRequest(namespaces=("shop",), graphType="service", queryTime=int(DEMO_NOW))
    save_snapshot(Snapshot(request, samples, inv), path)
    w = demo_window(["shop"])
    perf = _perf(w)
    w.show()
    perf.docks["Lists"].hide()
    w.switch_context(w.add_snapshot(str(path)))
    shown(qtbot, w, lambda g: g.request.graphType == "service" and not perf.docks["Lists"].isVisible())
    qtbot.waitUntil(lambda: "App health\n2 Degraded, 1 Healthy" in w.panel.text(), timeout=10000)
    assert "Namespace shop" in w.panel.text()


# -- on the Kubernetes API emulator, read through a kubeconfig ------------------------------------

CONTEXT = "ns-lab"


def _deployment(ns: str, name: str, app: str) -> dict[str, Any]:
    labels = {"app": app, "version": "v1"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": f"example/{name}:1"}]}}}}


@pytest.fixture
def lab(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path) -> str:
    """Namespaces in the mesh by sidecar injection (shop, with a VirtualService routing to a subset its
    DestinationRule lacks), by a revision (canary-ns), by ambient mode (travel), and one in none (plain),
    each with a workload; a kubeconfig to them."""
    emu = kube_emulator
    emu.load_crds(shared_dir / "fixtures" / "istio" / "crds" / "crd-all.gen.yaml")
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add_namespace("canary-ns", {"istio.io/rev": "canary"})
    emu.add_namespace("travel", {"istio.io/dataplane-mode": "ambient"})
    emu.add_namespace("plain")
    for ns, name, app in (("shop", "cart-v1", "cart"), ("canary-ns", "pay-v1", "pay"),
                          ("travel", "hotels-v1", "hotels"), ("plain", "web-v1", "web")):
        emu.add(_deployment(ns, name, app))
    emu.add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
             "metadata": {"name": "cart", "namespace": "shop"},
             "spec": {"host": "cart", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}})
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop"},
             "spec": {"selector": {"app": "cart"}, "ports": [{"name": "http", "port": 8080}]}})
    emu.add({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
             "metadata": {"name": "cart", "namespace": "shop"},
             "spec": {"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart", "subset": "v3"}}]}]}})
    emu.run_workloads()
    return str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))


@pytest.fixture
def app_window(qtbot: QtBot) -> Iterator[Callable[..., MainWindow]]:
    """The app's own window (as ``meshdesk`` opens it, with its docks) on a kubeconfig's context."""
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None))

    yield from open_windows(qtbot, new_window)


def test_the_namespaces_page_says_which_cluster_namespaces_are_in_the_mesh(
        qtbot: QtBot, lab: str, app_window: Callable[..., MainWindow]) -> None:
    """Without Prometheus (none in this cluster) the lists still show what was read of the cluster."""
    w = app_window(lab, ["shop"])
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    qtbot.waitUntil(lambda: {"shop", "canary-ns", "travel", "plain", "istio-system"} <= set(_cells(lists))
                    and _cells(lists)["shop"]["Istio config"] != NOT_SHOWN, timeout=15000)
    cells = _cells(lists)
    assert cells["shop"]["Mesh"] == "sidecar injection (istio-injection=enabled)"
    assert cells["canary-ns"]["Mesh"] == "sidecar injection, revision canary (istio.io/rev=canary)"
    assert cells["travel"]["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)"
    assert cells["plain"]["Mesh"] == "not in the mesh"
    assert cells["istio-system"]["Mesh"] == "control plane"
    assert cells["shop"]["Shown"] == "yes" and cells["plain"]["Shown"] == "no"
    # shop's VirtualService routes to a subset its DestinationRule lacks (KIA1107, a warning), counted as the
    # Details summary counts it
    assert cells["shop"]["Istio config"] == "2 objects: 1 with warnings"
    assert [(r.kind, r.name) for r in lists.pages[CONFIG].model.rows if r.warnings] == [("VirtualService", "cart")]
    assert cells["shop"]["App health"] == "1 Healthy"
    assert cells["plain"]["App health"] == cells["plain"]["Istio config"] == NOT_SHOWN
    # no traffic without Prometheus: said so, and why, rather than left blank
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Traffic"] == "not read", timeout=15000)
    page = lists.pages[NAMESPACES]
    shop = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "shop")
    tip = page.proxy.index(shop, COLUMNS[NAMESPACES].index("Traffic")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Its inbound traffic could not be read: Prometheus was not found"), tip
    # Enter on plain adds it to the graph's namespaces; its row then says what was read of it
    page = lists.pages[NAMESPACES]
    lists.setCurrentWidget(page)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "plain")
    page.table.setFocus()
    page.table.setCurrentIndex(page.proxy.index(row, 0))
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert w.toolbar.selected_namespaces() == ["plain", "shop"]
    qtbot.waitUntil(lambda: _cells(lists)["plain"]["Shown"] == "yes"
                    and _cells(lists)["plain"]["Istio config"] != NOT_SHOWN, timeout=15000)
    plain = _cells(lists)["plain"]
    assert plain["Istio config"] == "0 objects" and plain["App health"] == "1 Healthy"


def test_a_namespace_whose_labels_could_not_be_read_is_not_said_out_of_the_mesh(
        qtbot: QtBot, kube_emulator: KubeEmulator, lab: str, tmp_path: Path,
        app_window: Callable[..., MainWindow]) -> None:
    """An account that may not list namespaces is offered its context's namespace by name alone: whether
    that one is in the mesh is not known until it is shown (its inventory then says), not "not in the mesh"."""
    kube_emulator.forbid(resource="namespaces", verb="list")
    config = str(kube_emulator.write_kubeconfig(tmp_path / "kubeconfig-ns", context=CONTEXT, namespace="shop"))
    w = app_window(config, ["travel"])
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    qtbot.waitUntil(lambda: {"shop", "travel"} <= set(_cells(lists))
                    and _cells(lists)["travel"]["Istio config"] != NOT_SHOWN, timeout=15000)
    cells = _cells(lists)
    assert cells["shop"]["Shown"] == "no" and cells["shop"]["Mesh"] == "unknown"
    assert cells["travel"]["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)"  # read with its inventory
    _double_click_row(qtbot, lists, "shop")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Shown"] == "yes", timeout=15000)
    assert _cells(lists)["shop"]["Mesh"] == "sidecar injection (istio-injection=enabled)"


# -- traffic: a sparkline of each namespace's inbound requests --------------------------------------

def _traffic_cell(lists: MeshLists, namespace: str) -> QImage:
    """The Traffic cell of a namespace's row as drawn on screen."""
    page = lists.pages[NAMESPACES]
    lists.setCurrentWidget(page)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == namespace)
    index = page.proxy.index(row, COLUMNS[NAMESPACES].index("Traffic"))
    page.table.scrollTo(index)
    return page.table.viewport().grab(page.table.visualRect(index)).toImage()


def _pixels_like(image: QImage, colour: str) -> int:
    """How many pixels are about ``colour`` (a line drawn smooth blends with the background at its edges)."""
    want = QColor(colour)
    near = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 120:
                near += 1
    return near


def _inbound_rate(samples: list[Sample], namespace: str) -> float:
    return sum(s.value for s in samples if s.metric == "istio_requests_total"
               and s.labels.get("reporter") in ("destination", "waypoint")
               and s.labels.get("destination_workload_namespace") == namespace)


def test_each_namespace_has_a_sparkline_of_its_inbound_traffic_on_the_demo(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """Every namespace, shown or not, from one reading: its mean inbound rate over the graph's window beside a
    sparkline, its errors in red; one with no inbound requests says so."""
    w = demo_window(["shop"])
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: all(_cells(lists).get(ns, {}).get("Traffic") for ns in ("shop", "hello", "travel")),
                    timeout=10000)
    cells = _cells(lists)
    # the window's requests into each namespace, as the demo simulates them over the graph's 10 minutes
    demo = DemoCluster(clock=lambda: DEMO_NOW)
    window = list(demo.snapshot(GraphRequest(queryTime=int(DEMO_NOW), duration=600), with_inventory=False,
                                every_series=True).samples)
    for ns in ("shop", "hello", "travel"):
        said = cells[ns]["Traffic"]
        assert said.split(" rps")[0].replace(".", "").isdigit(), said
        assert float(said.split(" rps")[0]) == pytest.approx(_inbound_rate(window, ns), rel=0.1)
    assert "% errors" in cells["shop"]["Traffic"] and "errors" not in cells["hello"]["Traffic"]
    assert cells["hello"]["Shown"] == "no"  # (read with the others: no query of its own)
    assert cells["istio-system"]["Traffic"] == "no requests"
    # drawn: the requests' line, and shop's errors in red; hello has no red line
    shop, hello = _traffic_cell(lists, "shop"), _traffic_cell(lists, "hello")
    assert _pixels_like(shop, SPARK_REQUESTS) > 20 and _pixels_like(shop, SPARK_ERRORS) > 5
    assert _pixels_like(hello, SPARK_REQUESTS) > 20 and _pixels_like(hello, SPARK_ERRORS) == 0
    page = lists.pages[NAMESPACES]
    # on a selected row's highlight the line takes the highlight's text colour (the blue was hard to see)
    page.select_identities([("hello", "hello")])
    cell = _traffic_cell(lists, "hello")
    line = cell.copy(0, 0, SPARK_WIDTH + 4, cell.height())
    assert _pixels_like(line, page.table.palette().highlightedText().color().name()) > 20
    page.table.clearSelection()
    tip = page.proxy.index(0, COLUMNS[NAMESPACES].index("Traffic")).data(Qt.ItemDataRole.ToolTipRole)
    assert "over the last 10 min" in tip
    # sorted by traffic: the busiest first
    page.table.sortByColumn(COLUMNS[NAMESPACES].index("Traffic"), Qt.SortOrder.AscendingOrder)
    assert list(_cells(lists))[:3] == ["shop", "travel", "hello"]
    # the graph's window is the sparklines': another one chosen, they are read again over it
    combo = w.toolbar.duration_combo
    hour = combo.findData(3600)
    combo.setCurrentIndex(hour)
    combo.activated.emit(hour)
    qtbot.waitUntil(lambda: "over the last 1 h" in str(
        page.proxy.index(0, COLUMNS[NAMESPACES].index("Traffic")).data(Qt.ItemDataRole.ToolTipRole)), timeout=10000)


WEB, CART = Pw("plain", "web-v1", "web"), Pw("shop", "cart-v1", "cart")
PAY, HOTELS = Pw("canary-ns", "pay-v1", "pay"), Pw("travel", "hotels-v1", "hotels")


def _lab_series() -> list[Series]:
    """shop's cart gets 10 rps answered 200 and 2 rps 503 (its caller's proxy reports them too: not counted
    again); canary-ns's pay 3 gRPC rps fine and 1 with status 14 (UNAVAILABLE, an HTTP 200); travel's hotels
    3 rps, reported by its waypoint (ambient: it has no proxy); plain's web gets none."""
    out = []
    for code, rate in (("200", 10.0), ("503", 2.0)):
        for reporter in ("destination", "source"):
            out.append(Series("istio_requests_total", istio_edge(WEB, CART, "cart", "shop", reporter=reporter,
                                                                 code=code), rate))
    for status, rate in (("0", 3.0), ("14", 1.0)):
        out.append(Series("istio_requests_total", istio_edge(WEB, PAY, "pay", "canary-ns", protocol="grpc",
                                                             grpc_status=status), rate))
    out.append(Series("istio_requests_total", istio_edge(WEB, HOTELS, "hotels", "travel", reporter="waypoint"), 3.0))
    return out


@pytest.fixture(scope="module")
def lab_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("ns-traffic-prometheus"), _lab_series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _use_prometheus(url: str) -> None:
    from meshdesk.store.settings import load_settings

    settings = load_settings()
    cs = settings.context_settings(CONTEXT)
    cs.prometheus_url = url
    cs.refresh_interval = 0  # refreshed when asked only: every query the test counts is one it made
    settings.set_context_settings(CONTEXT, cs)
    settings.save()


def _range_queries(srv: PrometheusServer) -> float:
    """How many range queries Prometheus has answered (its own counter of its API's requests)."""
    text = requests.get(f"{srv.url}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query_range"' in line)


@pytest.mark.prometheus
def test_the_cluster_namespaces_traffic_is_read_from_prometheus_in_one_query(
        qtbot: QtBot, lab: str, lab_prometheus: PrometheusServer, app_window: Callable[..., MainWindow]) -> None:
    """On a cluster, from its Prometheus: each namespace's inbound requests and errors (an HTTP 5xx, a gRPC
    status), a waypoint's reports for an ambient namespace, the requests its callers' proxies report not
    counted twice; every namespace from one range query, the graph's namespaces or not."""
    _use_prometheus(lab_prometheus.url)
    before = _range_queries(lab_prometheus)
    w = app_window(lab, ["shop"])
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    with qtbot.waitSignal(w.poller.namespaceTraffic, timeout=20000):
        pass
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("Traffic", "") not in ("", NOT_SHOWN), timeout=10000)
    assert _range_queries(lab_prometheus) - before == 1
    cells = _cells(lists)
    assert cells["shop"]["Traffic"] == "12.00 rps, 16.7% errors"
    assert cells["canary-ns"]["Traffic"] == "4.00 rps, 25.0% errors"
    assert cells["travel"]["Traffic"] == "3.00 rps"
    assert cells["plain"]["Traffic"] == "no requests"
    assert [cells[ns]["Shown"] for ns in ("shop", "canary-ns", "travel")] == ["yes", "no", "no"]
    # drawn, shop's errors in red
    assert _pixels_like(_traffic_cell(lists, "shop"), SPARK_ERRORS) > 5
    assert _pixels_like(_traffic_cell(lists, "travel"), SPARK_ERRORS) == 0
    # kept up to date: the next refresh reads them again (one more query)
    with qtbot.waitSignal(w.poller.namespaceTraffic, timeout=20000):
        w.refresh_now()
    assert _range_queries(lab_prometheus) - before == 2


@pytest.mark.prometheus
def test_a_cluster_namespaces_app_health_is_the_same_on_every_graph_type(
        qtbot: QtBot, lab: str, lab_prometheus: PrometheusServer, app_window: Callable[..., MainWindow]) -> None:
    """Live, from the cluster's Prometheus: shop's one app, cart, answers 2 of its 12 requests a second with
    a 503 (16.7 %: Kiali's Failure, at 10 % or more); the service graph (no app nodes) said "1 Healthy"."""
    _use_prometheus(lab_prometheus.url)
    w = app_window(lab, ["shop"])
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    perf.docks["Lists"].show()
    perf.docks["Lists"].raise_()
    lists: MeshLists = perf.lists
    combo = w.toolbar.graph_type_combo
    for graph_type in ("versionedApp", "service", "workload"):
        combo.setCurrentIndex(combo.findData(graph_type))
        combo.activated.emit(combo.currentIndex())
        shown(qtbot, w, lambda g, t=graph_type: g.request.graphType == t)  # type: ignore[misc]
        qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("App health") == "1 Failure", timeout=15000)


def _reporters_disagree() -> list[Series]:
    """web (plain) calls shop's cart 12 times a second: cart's proxy reports the 10 it answered 200; web's
    proxy reports those and 2 more it failed itself, 503 UF (the connection to cart's pod failed: cart's
    proxy never saw them)."""
    out = [Series("istio_requests_total", istio_edge(WEB, CART, "cart", "shop", reporter=reporter), 10.0)
           for reporter in ("destination", "source")]
    out.append(Series("istio_requests_total", istio_edge(WEB, CART, "cart", "shop", reporter="source", code="503",
                                                         flags="UF"), 2.0))
    return out


@pytest.fixture(scope="module")
def disagreeing_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("reporters-prometheus"), _reporters_disagree())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.prometheus
def test_an_apps_health_counts_the_errors_only_its_callers_proxy_saw_as_kiali_does(
        qtbot: QtBot, lab: str, disagreeing_prometheus: PrometheusServer,
        app_window: Callable[..., MainWindow]) -> None:
    """Kiali's app health takes each response code's inbound rate from whichever proxy reported more of it
    (its callers' or its own) and its outbound from its own proxy: cart's 2 503s a second that only web's
    proxy saw make 2 of 12 (16.7 %: Failure), on every graph type, though cart's own proxy saw no error."""
    _use_prometheus(disagreeing_prometheus.url)
    w = app_window(lab, ["shop"])
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    perf.docks["Lists"].show()
    perf.docks["Lists"].raise_()
    lists: MeshLists = perf.lists
    combo = w.toolbar.graph_type_combo
    for graph_type in ("versionedApp", "service", "workload"):
        combo.setCurrentIndex(combo.findData(graph_type))
        combo.activated.emit(combo.currentIndex())
        shown(qtbot, w, lambda g, t=graph_type: g.request.graphType == t)  # type: ignore[misc]
        qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("App health") == "1 Failure", timeout=15000)


# -- a namespace row's menu: its graph, its lists, the changes the actions make -------------------------

def _row_menu(qtbot: QtBot, lists: MeshLists, namespace: str, keyboard: bool = False) -> QMenu:
    """A namespace row's context menu, as a right click on it (or, ``keyboard``, the Menu key on it) opens it,
    once the actions in it know whether the user may make them."""
    page = lists.pages[NAMESPACES]
    lists.setCurrentWidget(page)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == namespace)
    index = page.proxy.index(row, 0)
    page.table.scrollTo(index)
    page.table.setFocus()
    page.table.setCurrentIndex(index)
    centre = page.table.visualRect(index).center()
    if keyboard:  # (where Qt puts a keyboard's context menu says nothing of the row)
        target: QWidget = page.table
        event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(3, 3), page.table.mapToGlobal(QPoint(3, 3)))
    else:
        target = page.table.viewport()
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, target.mapToGlobal(centre))
    QApplication.sendEvent(target, event)
    menu = lists.namespace_menu
    assert menu is not None and menu.isVisible()
    qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()), timeout=10000)
    return menu


def _entry(menu: QMenu, text: str) -> QAction:
    return next(a for a in menu.actions() if a.text() == text)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_rows_menu_offers_its_graph_its_lists_and_the_changes_to_it(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """As Kiali's namespace actions: the namespace's graph and lists, then the window's actions on it (here
    turning its sidecar injection off, reviewed and confirmed), for a namespace the graph shows; one it does
    not show offers only the changes of how it joins the mesh until it is added."""
    from meshdesk.ui.actions import install_actions

    w = demo_window(["shop"])
    ctl = w.actions_controller = install_actions(w)
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("App health", NOT_SHOWN) != NOT_SHOWN, timeout=10000)

    hello = _row_menu(qtbot, lists, "hello")
    texts = [a.text() for a in hello.actions() if not a.isSeparator()]
    assert texts[:6] == ["Add hello to the graph", "Graph of hello alone", "Applications of hello",
                         "Workloads of hello", "Services of hello", "Istio config of hello"]
    # (how it joins the mesh can be changed from its listed labels; the rest waits for its workloads and config)
    assert texts[6:8] == ["Disable sidecar injection in hello…", "Remove the sidecar injection labels of hello…"]
    assert _entry(hello, "Disable sidecar injection in hello…").isEnabled()
    assert not any("AuthorizationPolicy" in t for t in texts)
    note = _entry(hello, "Other changes to hello: add it to the graph first (its workloads and Istio config are read "
                         "then)")
    assert not note.isEnabled()
    hello.close()

    shop = _row_menu(qtbot, lists, "shop")
    assert [a.text() for a in shop.actions()][0] == "Select shop in the graph"
    for text in ("Disable sidecar injection in shop…", "Add an AuthorizationPolicy in shop…",
                 "mTLS mode for namespace shop…"):
        assert _entry(shop, text).isEnabled(), text
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        _entry(shop, "Disable sidecar injection in shop…").trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    # the refresh after the change: the row says shop is out of the mesh now
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Mesh"] == "not in the mesh (istio-injection=disabled)", timeout=10000)

    # the Menu key on travel: its menu, and its workloads' list (travel added to the graph for them)
    travel = _row_menu(qtbot, lists, "travel", keyboard=True)
    assert [a.text() for a in travel.actions()][0] == "Add travel to the graph"
    _entry(travel, "Workloads of travel").trigger()
    assert lists.currentWidget() is lists.pages[WORKLOADS] and lists.pages[WORKLOADS].filter.text() == "namespace:travel"
    assert "travel" in w.toolbar.selected_namespaces()
    qtbot.waitUntil(lambda: {r.namespace for r in lists.pages[WORKLOADS].visible_rows()} == {"travel"}, timeout=10000)
    # ... and "alone": the graph of that namespace only
    _entry(_row_menu(qtbot, lists, "hello"), "Graph of hello alone").trigger()
    assert w.toolbar.selected_namespaces() == ["hello"]


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_the_graph_does_not_show_is_put_in_the_mesh_from_its_row_and_its_row_says_so(
        qtbot: QtBot, kube_emulator: KubeEmulator, lab: str, app_window: Callable[..., MainWindow]) -> None:
    """plain, listed but not in the graph's namespaces, gets sidecar injection from its row's menu (its
    running workload not read, the form says so); once applied its row says it is in the mesh, while the
    graph still does not show it (the change waited until it was added)."""
    w = app_window(lab, ["shop"])
    ctl = w.actions_controller
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    perf.docks["Lists"].show()
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("Istio config", NOT_SHOWN) != NOT_SHOWN
                    and "plain" in _cells(lists), timeout=15000)
    assert _cells(lists)["plain"]["Mesh"] == "not in the mesh"
    menu = _row_menu(qtbot, lists, "plain")
    entry = _entry(menu, "Enable sidecar injection in plain…")
    assert entry.isEnabled(), entry.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        entry.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    assert "running workloads were not read" in dialog.form.restart_label.text()
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert kube_emulator.get("namespaces", "", "plain")["metadata"]["labels"]["istio-injection"] == "enabled"
    qtbot.waitUntil(lambda: _cells(lists)["plain"]["Mesh"] == "sidecar injection (istio-injection=enabled)",
                    timeout=15000)
    assert _cells(lists)["plain"]["Shown"] == "no" and w.toolbar.selected_namespaces() == ["shop"]


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_rows_menu_says_why_nothing_can_be_changed(
        qtbot: QtBot, demo_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    """In read-only mode, and on a snapshot, the menu still leads to the namespace's graph and lists, and says
    why it offers no change."""
    from meshdesk.ui.actions import install_actions

    w = demo_window(["shop"])
    w.actions_controller = install_actions(w)
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("App health", NOT_SHOWN) != NOT_SHOWN, timeout=10000)
    w.settings.read_only = True
    menu = _row_menu(qtbot, lists, "shop")
    assert _entry(menu, "Workloads of shop").isEnabled()
    assert not _entry(menu, "Read-only mode: actions are hidden").isEnabled()
    assert not any("sidecar injection" in a.text() for a in menu.actions())
    menu.close()
    w.settings.read_only = False
    path = tmp_path / "mesh.json"
    assert w.save_snapshot(str(path))
    w.switch_context(w.add_snapshot(str(path)))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and w.graph is not None, timeout=10000)
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("App health", NOT_SHOWN) != NOT_SHOWN, timeout=10000)
    menu = _row_menu(qtbot, lists, "shop")
    note = _entry(menu, "An offline snapshot is shown: open the context it was taken from to change the mesh")
    assert not note.isEnabled()
    assert _cells(lists)["shop"]["Traffic"] == ""  # (a file holds no traffic over time)


def _apply(qtbot: QtBot, ctl: Any, menu: QMenu, text: str) -> None:
    """Trigger a change in the menu, review it (its dry run) and confirm it."""
    entry = _entry(menu, text)
    assert entry.isEnabled(), entry.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        entry.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_leaves_sidecar_injection_for_ambient_mode_from_its_rows_menu(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """Kiali's other namespace actions on its mesh labels: shop's injection labels removed (it leaves the
    mesh), then shop added to ambient mode; travel, in ambient mode, can leave it or lose its label."""
    from meshdesk.ui.actions import install_actions

    w = demo_window(["shop", "travel"])
    ctl = w.actions_controller = install_actions(w)
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "travel" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists).get("travel", {}).get("App health", NOT_SHOWN) != NOT_SHOWN, timeout=10000)
    travel = [a.text() for a in _row_menu(qtbot, lists, "travel").actions()]
    assert {"Disable ambient mode in travel…", "Remove ambient mode from travel…"} <= set(travel)
    assert not any("injection labels" in t or "Enable ambient" in t for t in travel)
    shop = _row_menu(qtbot, lists, "shop")
    assert not any("ambient" in a.text() for a in shop.actions())  # (it asks for sidecars)
    _apply(qtbot, ctl, shop, "Remove the sidecar injection labels of shop…")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Mesh"] == "not in the mesh", timeout=10000)
    _apply(qtbot, ctl, _row_menu(qtbot, lists, "shop"), "Enable ambient mode in shop…")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Mesh"] == "ambient (istio.io/dataplane-mode=ambient)", timeout=10000)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_switches_to_another_control_plane_revision_from_its_rows_menu(
        qtbot: QtBot, kube_emulator: KubeEmulator, lab: str, app_window: Callable[..., MainWindow]) -> None:
    """Two istiod revisions run (a canary upgrade): canary-ns, on canary, is switched to the default one, as
    Kiali's "Switch to revision" does; the namespace's label is what changes in the cluster."""
    from tests.test_mesh_settings import _istiod

    kube_emulator.add(_istiod())
    kube_emulator.add(_istiod(revision="canary"))
    kube_emulator.run_workloads()
    w = app_window(lab, ["shop", "canary-ns"])
    ctl = w.actions_controller
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    perf.docks["Lists"].show()
    qtbot.waitUntil(lambda: _cells(lists).get("canary-ns", {}).get("Istio config", NOT_SHOWN) != NOT_SHOWN,
                    timeout=15000)
    assert "Switch to istiod revision canary in shop…" in [a.text() for a in _row_menu(qtbot, lists, "shop").actions()]
    menu = _row_menu(qtbot, lists, "canary-ns")
    assert not any(a.text() == "Switch to istiod revision canary in canary-ns…" for a in menu.actions())
    _apply(qtbot, ctl, menu, "Switch to istiod revision default in canary-ns…")
    assert kube_emulator.get("namespaces", "", "canary-ns")["metadata"]["labels"]["istio.io/rev"] == "default"
    qtbot.waitUntil(lambda: _cells(lists)["canary-ns"]["Mesh"] == "sidecar injection (istio.io/rev=default)",
                    timeout=15000)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_ambient_mode_is_offered_to_a_namespace_only_where_ztunnel_runs(
        qtbot: QtBot, kube_emulator: KubeEmulator, lab: str, app_window: Callable[..., MainWindow]) -> None:
    """As Kiali, which offers ambient mode only in a cluster running ztunnel: in the lab, which runs none,
    "Enable ambient mode" on plain is disabled and its tooltip says why; once ztunnel's DaemonSet runs in
    istio-system (Istio's ambient profile installed), a refresh offers it, and it labels the namespace."""
    w = app_window(lab, ["plain"])
    ctl = w.actions_controller
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    perf.docks["Lists"].show()
    qtbot.waitUntil(lambda: _cells(lists).get("plain", {}).get("Istio config", NOT_SHOWN) != NOT_SHOWN,
                    timeout=15000)
    entry = _entry(_row_menu(qtbot, lists, "plain"), "Enable ambient mode in plain…")
    assert not entry.isEnabled()
    assert "No ztunnel runs in this cluster" in entry.toolTip()
    labels = {"app": "ztunnel"}
    kube_emulator.add({"apiVersion": "apps/v1", "kind": "DaemonSet",
                       "metadata": {"name": "ztunnel", "namespace": "istio-system", "labels": labels},
                       "spec": {"selector": {"matchLabels": labels},
                                "template": {"metadata": {"labels": labels},
                                             "spec": {"containers": [{"name": "istio-proxy",
                                                                      "image": "istio/ztunnel:1.24.2"}]}}}})
    kube_emulator.run_workloads("istio-system")
    w.refresh_now()
    qtbot.waitUntil(lambda: lists.inventory is not None and bool(lists.inventory.ztunnels), timeout=15000)
    _apply(qtbot, ctl, _row_menu(qtbot, lists, "plain"), "Enable ambient mode in plain…")
    assert kube_emulator.get("namespaces", "", "plain")["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_is_closed_by_a_deny_all_policy_and_opened_again_from_its_rows_menu(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """Kiali's traffic policies, as meshdesk makes them: a deny-all AuthorizationPolicy for shop (the policy
    form filled in so), then removed with the rest of what meshdesk created there."""
    from meshdesk.ui.actions import install_actions

    w = demo_window(["shop"])
    ctl = w.actions_controller = install_actions(w)
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("Istio config", NOT_SHOWN).startswith("6 objects"),
                    timeout=10000)
    menu = _row_menu(qtbot, lists, "shop")
    assert _entry(menu, "Remove meshdesk config in shop…").toolTip() == "meshdesk created nothing in shop."
    _apply(qtbot, ctl, menu, "Deny all requests in shop…")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Istio config"].startswith("7 objects"), timeout=10000)
    menu = _row_menu(qtbot, lists, "shop")
    deny = _entry(menu, "Deny all requests in shop…")
    assert not deny.isEnabled()
    assert deny.toolTip() == "AuthorizationPolicy shop/deny-all denies every request to shop's workloads already."
    _apply(qtbot, ctl, menu, "Remove meshdesk config in shop…")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Istio config"].startswith("6 objects"), timeout=10000)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_a_namespace_gets_kialis_traffic_policies_from_its_rows_menu_and_loses_them_again(
        qtbot: QtBot, demo_window: Callable[..., MainWindow]) -> None:
    """Kiali's one-step Create Traffic Policies: shop's row menu makes a deny-all, an ALLOW policy for each
    workload the graph shows called (naming its callers' service accounts) and a Sidecar for each, listed in
    the form and reviewed as any change; the menu then offers to update or delete them, and Delete removes
    exactly those."""
    from meshdesk.ui.actions import install_actions

    w = demo_window(["shop"])
    ctl = w.actions_controller = install_actions(w)
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    shown(qtbot, w, lambda g: any(n.namespace == "shop" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: _cells(lists).get("shop", {}).get("Istio config", NOT_SHOWN).startswith("6 objects"),
                    timeout=10000)
    menu = _row_menu(qtbot, lists, "shop")
    delete = _entry(menu, "Delete traffic policies in shop…")
    assert not delete.isEnabled() and delete.toolTip() == "Create traffic policies made nothing in shop."
    entry = _entry(menu, "Create traffic policies in shop…")
    assert entry.isEnabled(), entry.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        entry.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    listed = [form.objects.item(i).text() for i in range(form.objects.count())]
    assert ("AuthorizationPolicy productpage-v1: allows "
            "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account") in listed
    assert "AuthorizationPolicy reviews-v2: allows cluster.local/ns/shop/sa/productpage" in listed
    assert listed[-1] == "AuthorizationPolicy deny-all-shop: denies every request no ALLOW policy allows"
    assert "recommendations-v1 receives no requests in the graph" in form.notes.text()
    assert not form.deny_alone.isVisibleTo(dialog)  # (shop has traffic: nothing to ask)
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    assert "name: deny-all-shop" in dialog.preview_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    # 8 ALLOW policies, 7 Sidecars and the deny-all
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Istio config"].startswith("22 objects"), timeout=10000)
    menu = _row_menu(qtbot, lists, "shop")
    assert _entry(menu, "Update traffic policies in shop…").isEnabled()
    assert not _entry(menu, "Deny all requests in shop…").isEnabled()
    _apply(qtbot, ctl, menu, "Delete traffic policies in shop…")
    qtbot.waitUntil(lambda: _cells(lists)["shop"]["Istio config"].startswith("6 objects"), timeout=10000)


def test_the_traffic_tooltip_says_a_replayed_window_and_a_snapshots_blank_cells_say_why(
        qtbot: QtBot, demo_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    """Replaying, the Traffic tooltip said "over the last 10 min" of a window that ended a day before: it
    says the window as it is ("the 10 min before Jun 14 15:05"). A snapshot file's blank Traffic cells said
    nothing: their tooltip says a snapshot holds no traffic history."""
    import time

    w = demo_window(["shop"])
    perf = _perf(w)
    lists = perf.lists
    perf.docks["Lists"].show()
    page = lists.pages[NAMESPACES]
    column = COLUMNS[NAMESPACES].index("Traffic")

    def tips() -> dict[str, str]:
        return {page.proxy.index(r, 0).data(): str(page.proxy.index(r, column).data(Qt.ItemDataRole.ToolTipRole))
                for r in range(page.proxy.rowCount())}

    qtbot.waitUntil(lambda: "over the last 10 min" in tips().get("shop", ""), timeout=10000)
    # the reading of a moment replayed a day back, as the poller hands it over while replaying
    moment = DEMO_NOW - 86400
    reading = DemoCluster(clock=lambda: DEMO_NOW).namespace_traffic(
        GraphRequest(namespaces=("shop",), queryTime=int(moment), duration=600))
    lists.set_traffic(reading)
    tip = tips()["shop"]
    assert "over the last" not in tip
    end = reading.grid.times[-1] if reading.grid is not None else moment
    said = time.localtime(end)
    assert f"over the 10 min before {time.strftime('%b', said)} {said.tm_mday} {time.strftime('%H:%M', said)}" in tip
    # a snapshot file: no traffic over time, and the blank cells say why
    saved = tmp_path / "demo.json"
    assert w.save_snapshot(str(saved))
    w.open_snapshot(str(saved))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and "a snapshot file holds" in tips().get("shop", ""),
                    timeout=10000)
    assert _cells(lists)["shop"]["Traffic"] == ""
