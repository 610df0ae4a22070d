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
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX
from meshdesk.ui.lists import COLUMNS, CONFIG, NAMESPACES, MeshLists
from meshdesk.ui.mainwindow import MainWindow
from meshdesk.ui.perf_views import PerformanceViews
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.ui_helpers import open_windows, shown, window_test_marks

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
