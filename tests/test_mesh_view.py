"""The Mesh view (View > Mesh), as Kiali 2's Mesh page: the mesh's infrastructure, not its traffic. Each
istiod revision is a control plane with an edge to each namespace it takes (by Istio's webhooks, the
namespaces outside the graph's selection too), coloured by health as Kiali colours them; a click shows a
node's details beside the drawing, a double-click on a namespace shows it in the traffic graph.
Read from the Kubernetes API emulator over HTTP and shown by real widgets offscreen."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from meshdesk.mesh.mesh_map import GREEN, GREY, ISTIOD, NAMESPACE, ORANGE, RED
from meshdesk.ui.canvas import shapes
from meshdesk.ui.mainwindow import MainWindow
from meshdesk.ui.mesh_view import MeshCanvas, MeshNodeItem
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_mesh_command import CONTEXT, cluster
from tests.ui_helpers import open_windows, shown


@pytest.fixture
def app_window(qtbot: Any) -> Iterator[Callable[..., MainWindow]]:
    """The app's own window on a kubeconfig's context, as ``meshdesk`` opens it."""
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None))

    yield from open_windows(qtbot, new_window)


def _open_mesh(qtbot: Any, w: MainWindow, ready: Callable[[MeshCanvas], bool]) -> MeshCanvas:
    """View > Mesh, and wait until its drawing shows what ``ready`` looks for."""
    w.mesh_action.trigger()
    canvas = w.mesh_dock.view.canvas
    qtbot.waitUntil(lambda: w.mesh_dock.isVisible() and ready(canvas), timeout=20000)
    return canvas


def _items(canvas: MeshCanvas, kind: str) -> dict[str, MeshNodeItem]:
    return {i.node.name: i for i in canvas.items_by_id.values() if i.node.kind == kind}


def _managed(canvas: MeshCanvas, cp: MeshNodeItem) -> set[str]:
    """The names of the nodes an edge goes to from ``cp``, as drawn."""
    names = {i.node.id: i.node.name for i in canvas.items_by_id.values()}
    return {names[target] for source, target, _line in canvas.edge_items if source == cp.node.id}


def _click(qtbot: Any, canvas: MeshCanvas, item: MeshNodeItem, double: bool = False) -> None:
    canvas.ensureVisible(item)
    at = canvas.mapFromScene(item.scenePos())
    if double:
        qtbot.mouseDClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)
    else:
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)


@pytest.mark.ui
@pytest.mark.shared
def test_two_istiod_revisions_are_two_control_planes_each_with_its_namespaces(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    emu = cluster(kube_emulator, shared_dir)
    # the graph shows shop alone: legacy, on canary, comes from the namespace list and its labels
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    canvas = _open_mesh(qtbot, w, lambda c: len(_items(c, ISTIOD)) == 2 and len(_items(c, NAMESPACE)) == 2)
    planes = _items(canvas, ISTIOD)
    assert set(planes) == {"istiod", "istiod-canary"}
    assert _managed(canvas, planes["istiod"]) == {"shop"}
    assert _managed(canvas, planes["istiod-canary"]) == {"legacy"}
    assert "plain" not in _items(canvas, NAMESPACE)  # in no mesh: no part of its data plane
    assert all(i.node.health == GREEN and i.health_colour == shapes.C_HEALTHY for i in planes.values())
    assert "1.24.2" in planes["istiod-canary"].node.subtitle and "canary" in planes["istiod-canary"].node.subtitle

    # a click: the control plane's details beside the drawing, its own mesh config and its namespaces
    _click(qtbot, canvas, planes["istiod-canary"])
    details = w.mesh_dock.view.details
    qtbot.waitUntil(lambda: "Control plane istiod-canary" in details.toPlainText(), timeout=5000)
    text = details.toPlainText()
    for said in ("Revision", "canary", "1/1 ready", "istio-system/istio-canary", "REGISTRY_ONLY", "canary.example",
                 "legacy"):
        assert said in text, said
    assert "shop" not in text.split("Manages", 1)[1]

    # a namespace's details: its revision and the label that puts it in the mesh
    legacy = _items(canvas, NAMESPACE)["legacy"]
    _click(qtbot, canvas, legacy)
    qtbot.waitUntil(lambda: "Namespace legacy" in details.toPlainText(), timeout=5000)
    assert "istio.io/rev=canary" in details.toPlainText() and "not shown" in details.toPlainText()

    # a double-click shows it in the traffic graph: added to the graph's namespaces
    _click(qtbot, canvas, legacy, double=True)
    qtbot.waitUntil(lambda: "legacy" in w.toolbar.selected_namespaces(), timeout=5000)
    assert sorted(w.toolbar.selected_namespaces()) == ["legacy", "shop"]


@pytest.mark.ui
@pytest.mark.shared
def test_an_istiod_with_no_ready_pod_is_red_and_so_are_its_edges(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    emu = cluster(kube_emulator, shared_dir, canary=False, istiod_ready=False)
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    canvas = _open_mesh(qtbot, w, lambda c: "istiod" in _items(c, ISTIOD))
    istiod = _items(canvas, ISTIOD)["istiod"]
    assert istiod.node.health == RED and istiod.health_colour == shapes.C_FAILURE
    # its namespace waits for it (orange), and the edge to it is coloured as the namespace is
    shop = _items(canvas, NAMESPACE)["shop"]
    assert shop.node.health == ORANGE
    [(_s, _t, line)] = [e for e in canvas.edge_items if e[0] == istiod.node.id]
    assert line.pen().color() == shapes.C_DEGRADED
    # legacy names a revision no istiod of runs: drawn, without an edge, and said
    legacy = _items(canvas, NAMESPACE)["legacy"]
    assert legacy.node.health == ORANGE and not [e for e in canvas.edge_items if e[1] == legacy.node.id]
    _click(qtbot, canvas, istiod)
    qtbot.waitUntil(lambda: "0/1 ready" in w.mesh_dock.view.details.toPlainText(), timeout=5000)
    assert "Unhealthy (no pod of it is ready" in w.mesh_dock.view.details.toPlainText()
    _click(qtbot, canvas, shop)
    qtbot.waitUntil(lambda: "its istiod is not healthy (0/1 ready)" in w.mesh_dock.view.details.toPlainText(),
                    timeout=5000)
    _click(qtbot, canvas, legacy)
    qtbot.waitUntil(lambda: "no istiod of revision canary runs" in w.mesh_dock.view.details.toPlainText(),
                    timeout=5000)


def test_the_demo_mesh_and_a_snapshot_of_it_say_what_was_recorded(qtbot, demo_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.nodes))
    # Ctrl+M shows the Mesh view with the keyboard in it, and hides it again
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    w.view.setFocus()
    canvas = w.mesh_dock.view.canvas
    QTest.keyClick(w.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.mesh_dock.isVisible() and "istiod" in _items(canvas, ISTIOD), timeout=10000)
    qtbot.waitUntil(lambda: w.mesh_dock.isAncestorOf(QApplication.focusWidget()), timeout=5000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not w.mesh_dock.isVisible(), timeout=5000)
    canvas = _open_mesh(qtbot, w, lambda c: "istiod" in _items(c, ISTIOD))
    istiod = _items(canvas, ISTIOD)["istiod"]
    # every namespace in the mesh, the graph's or not, under its istiod; the gateway too, and ambient's
    # ztunnel and travel's waypoint
    assert _managed(canvas, istiod) == {"hello", "shop", "travel", "istio-ingressgateway", "ztunnel", "waypoint"}
    addons = _items(canvas, "addon")
    assert {n: i.node.health for n, i in addons.items()} == {"Prometheus": GREEN, "Tracing backend": GREEN,
                                                             "Grafana": GREY}

    saved = tmp_path / "demo.json"
    assert w.save_snapshot(str(saved))
    w.open_snapshot(str(saved))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live
                    and _items(canvas, "addon").get("Grafana") is not None
                    and _items(canvas, "addon")["Grafana"].node.subtitle == "not recorded", timeout=10000)
    # the control plane as the snapshot recorded it; the addons as they were when it was saved (Grafana,
    # not checked then, not recorded)
    assert _items(canvas, ISTIOD)["istiod"].node.health == GREEN
    assert {n: (i.node.health, i.node.subtitle) for n, i in _items(canvas, "addon").items()} == {
        "Prometheus": (GREEN, "reachable"), "Tracing backend": (GREEN, "reachable"),
        "Grafana": (GREY, "not recorded")}
    _click(qtbot, canvas, _items(canvas, "addon")["Prometheus"])
    qtbot.waitUntil(lambda: "when the snapshot was saved" in w.mesh_dock.view.details.toPlainText(), timeout=5000)

    # one saved by an older meshdesk recorded none of them
    older = tmp_path / "older.json"
    doc = json.loads(saved.read_text())
    del doc["meta"]["addons"]
    older.write_text(json.dumps(doc))
    w.open_snapshot(str(older))
    qtbot.waitUntil(lambda: w.info is not None and "older.json" in w.info.context
                    and all(i.node.subtitle == "not recorded" for i in _items(canvas, "addon").values())
                    and len(_items(canvas, "addon")) == 3, timeout=10000)

    # a snapshot of the traffic alone: nothing to draw, and said why
    bare = tmp_path / "traffic-only.json"
    saved_json = json.loads(saved.read_text())
    del saved_json["inventory"]
    bare.write_text(json.dumps(saved_json))
    w.open_snapshot(str(bare))
    details = w.mesh_dock.view.details
    qtbot.waitUntil(lambda: "taken without an inventory" in details.toPlainText(), timeout=10000)
    assert not canvas.items_by_id and "not recorded" in details.toPlainText()


@pytest.mark.ui
@pytest.mark.shared
def test_grafana_is_as_view_in_grafana_last_found_it(kube_emulator, shared_dir, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Nothing is asked for the Mesh view: Grafana is "not checked yet" until View in Grafana looks for
    it, then reachable (green, and how), and unreachable (red) once it stops answering."""
    from meshdesk.ui.perf_views import PerformanceViews
    from tests.grafana_emulator import GrafanaEmulator
    from tests.test_grafana import _istio_addon

    grafana = GrafanaEmulator().start()
    running = [True]
    emu = cluster(kube_emulator, shared_dir, canary=False)
    _istio_addon(emu, grafana)
    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))
    # (no Prometheus: the window reads the inventory, then waits an hour before it tries again, and
    # refreshes only when asked: what changes in the view comes from View in Grafana alone)
    w = MainWindow(contexts=[CONTEXT], context=CONTEXT, kubeconfig=config, namespaces=["shop"],
                   backoff_base=3600, backoff_cap=3600)
    qtbot.addWidget(w)
    w.poller.set_interval(0)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    perf.grafana._open_url = lambda url: True  # (the browser)
    w.show()
    try:
        canvas = _open_mesh(qtbot, w, lambda c: "Grafana" in _items(c, "addon"))
        assert not w.poller.busy and w.poller.retry_delay() > 60
        assert _items(canvas, "addon")["Grafana"].node.subtitle == "not checked yet"
        assert _items(canvas, "addon")["Grafana"].node.health == GREY
        qtbot.waitUntil(perf.metrics.grafana_button.isEnabled, timeout=10000)
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: _items(canvas, "addon")["Grafana"].node.health == GREEN, timeout=20000)
        node = _items(canvas, "addon")["Grafana"].node
        assert node.subtitle == "reachable" and "port-forward" in dict(node.rows)["Where"]
        # the status bar's Istio status lists it too, as Kiali lists Grafana: an addon, not core
        grafana_row = next(c for c in w.status_istio.status.components if c.name == "Grafana")  # type: ignore[union-attr]
        assert grafana_row.state == "Healthy" and not grafana_row.core
        grafana.stop()
        running.clear()
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: _items(canvas, "addon")["Grafana"].node.health == RED, timeout=20000)
        assert dict(_items(canvas, "addon")["Grafana"].node.rows)["State"] == "Unreachable"
        # an addon in trouble is orange in the status bar, never red (it is not core)
        ind = w.status_istio
        # (Prometheus, which this cluster has none of, is the other)
        qtbot.waitUntil(lambda: ind.status is not None and "Grafana" in [c.name for c in ind.status.trouble],
                        timeout=5000)
        assert ind.status.level == "warning" and "Grafana" in ind.toolTip()  # type: ignore[union-attr]
    finally:
        perf.shutdown()
        w.close()
        if running:
            grafana.stop()


@pytest.mark.ui
@pytest.mark.shared
def test_no_edge_crosses_a_node_it_does_not_join_when_a_control_planes_namespaces_wrap(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Nine namespaces on one istiod wrap into columns: the edges to the second column went straight
    through the first column's namespaces and names; they go round them."""
    from PySide6.QtGui import QPainterPathStroker

    emu = cluster(kube_emulator, shared_dir, canary=False)
    for i in range(8):
        emu.add_namespace(f"team-{i}", {"istio-injection": "enabled"})
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    canvas = _open_mesh(qtbot, w, lambda c: len(_items(c, NAMESPACE)) == 10)
    istiod = _items(canvas, ISTIOD)["istiod"]
    assert len(_managed(canvas, istiod)) == 9
    assert len({round(i.pos().x()) for i in _items(canvas, NAMESPACE).values() if i.node.name != "legacy"}) > 1
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    for source, target, line in canvas.edge_items:
        drawn = stroker.createStroke(line.path())
        for node_id, item in canvas.items_by_id.items():
            if node_id in (source, target):
                continue
            assert not drawn.intersects(item.mapToScene(item.shape())), f"{source} -> {target} crosses {node_id}"


@pytest.mark.ui
@pytest.mark.shared
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_a_gateway_with_pods_not_ready_is_orange_as_the_istio_status_warns_of_it(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A gateway is not core: the status bar warns of one not ready (orange), and the Mesh view drew it
    red, as it draws an istiod that is down. Kiali's Mesh page draws no gateway red."""
    emu = cluster(kube_emulator, shared_dir, canary=False)
    emu.add_namespace("istio-ingress")
    labels = {"app": "istio-ingressgateway", "istio": "ingressgateway",
              "operator.istio.io/component": "IngressGateways"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "istio-ingressgateway", "namespace": "istio-ingress", "labels": labels},
             "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "istio-proxy",
                                                            "image": "docker.io/istio/proxyv2:1.24.2"}]}}}})
    emu.run_workloads("istio-ingress", ready=False)
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    canvas = _open_mesh(qtbot, w, lambda c: "istio-ingressgateway" in _items(c, "gateway"))
    gateway = _items(canvas, "gateway")["istio-ingressgateway"]
    assert gateway.node.health == ORANGE and gateway.health_colour == shapes.C_DEGRADED
    [(_s, _t, line)] = [e for e in canvas.edge_items if e[1] == gateway.node.id]
    assert line.pen().color() == shapes.C_DEGRADED
    # the status bar says the same: a warning, not the red of a control plane down
    qtbot.waitUntil(lambda: w.status_istio.status is not None and bool(w.status_istio.status.trouble), timeout=10000)
    assert [c.name for c in w.status_istio.status.trouble if not c.addon] == ["istio-ingressgateway"]
    assert not any(c.core for c in w.status_istio.status.trouble)
    _click(qtbot, canvas, gateway)
    qtbot.waitUntil(lambda: "0/2 ready" in w.mesh_dock.view.details.toPlainText(), timeout=5000)
    assert "not core" in w.mesh_dock.view.details.toPlainText()


def _workload(kind: str, name: str, ns: str, labels: dict[str, str], replicas: int = 1) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels},
                                         "spec": {"containers": [{"name": name, "image": "docker.io/istio/x:1.24.2"}]}}}
    if kind == "Deployment":
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": spec}


@pytest.mark.ui
@pytest.mark.shared
def test_ambient_ztunnel_and_a_waypoint_are_drawn_under_their_istiod_by_their_ready_pods(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ambient mode, as Kiali's Mesh page draws it: the ztunnel DaemonSet (outside the graph's namespaces,
    in istio-system) and shop's waypoint, each with an edge from istiod; ztunnel with no ready pod is red."""
    emu = cluster(kube_emulator, shared_dir, canary=False)
    emu.add(_workload("DaemonSet", "ztunnel", "istio-system", {"app": "ztunnel"}))
    emu.add(_workload("Deployment", "waypoint", "shop", {"gateway.istio.io/managed": "istio.io-mesh-controller",
                                                         "gateway.networking.k8s.io/gateway-name": "waypoint"}))
    emu.run_workloads("istio-system", nodes=("node-1", "node-2"))
    emu.run_workloads("shop")
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    canvas = _open_mesh(qtbot, w, lambda c: "ztunnel" in _items(c, "ztunnel") and "waypoint" in _items(c, "waypoint"))
    istiod = _items(canvas, ISTIOD)["istiod"]
    assert {"ztunnel", "waypoint", "shop"} <= _managed(canvas, istiod)
    ztunnel = _items(canvas, "ztunnel")["ztunnel"]
    assert ztunnel.node.health == GREEN and ztunnel.node.subtitle == "istio-system · 2/2 ready"
    assert _items(canvas, "waypoint")["waypoint"].node.health == GREEN
    assert "istio-ingressgateway" not in _items(canvas, "gateway")  # (a waypoint is no gateway)
    assert "ambient: 1 ztunnel, 1 waypoint" in w.mesh_dock.view.details.toPlainText()
    _click(qtbot, canvas, ztunnel)
    qtbot.waitUntil(lambda: "istio-system/ztunnel (DaemonSet)" in w.mesh_dock.view.details.toPlainText(),
                    timeout=5000)

    # its pods not ready: the ambient pods of those nodes are cut off, red
    for pod in emu.objects("pods", "", "istio-system"):
        if pod["metadata"]["name"].startswith("ztunnel"):
            emu.delete("pods", "istio-system", pod["metadata"]["name"])
    emu.run_workloads("istio-system", ready=False, nodes=("node-1", "node-2"))
    w.refresh_now()
    qtbot.waitUntil(lambda: "ztunnel" in _items(canvas, "ztunnel")
                    and _items(canvas, "ztunnel")["ztunnel"].node.health == RED, timeout=20000)
    assert "0/2 ready" in _items(canvas, "ztunnel")["ztunnel"].node.subtitle


def test_the_demo_clusters_box_says_its_network(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The demo's Mesh view said its cluster's trust domain and mesh ID but no network, though its istio-system
    is labelled with one (demo-net): its box, and its istiod's details, name it, as a live cluster's do."""
    from meshdesk.mesh.mesh_map import build_mesh_map
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mesh_view import MeshView

    inv = DemoCluster().snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    view = MeshView()
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    view.set_map(build_mesh_map(inv))
    canvas = view.canvas
    assert canvas.box_items["demo"].toolTip() == (
        "Cluster demo\nMesh config: trust domain cluster.local · mesh ID cluster.local (its trust domain) · "
        "network demo-net")
    istiod = _items(canvas, ISTIOD)["istiod"]
    _click(qtbot, canvas, istiod)
    qtbot.waitUntil(lambda: view.details.toPlainText().startswith("Control plane istiod"), timeout=5000)
    assert "\nNetwork\ndemo-net\n" in view.details.toPlainText()
