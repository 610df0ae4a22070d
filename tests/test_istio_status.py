"""Istio's own components at a glance, as Kiali's masthead shows them: the status bar's "Istio: healthy"
(or "1 component unhealthy"), red when a core component (istiod) is down or missing, orange when a
gateway or an addon is; its popup lists each component with its ready replicas and state. Read from
the Kubernetes API emulator over HTTP, shown by real widgets offscreen, and by ``meshdesk inventory``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolTip

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.istio_status import DANGER, OK, WARNING, istio_status
from meshdesk.sources.inventory import read_inventory
from meshdesk.ui.istio_status import IstioStatusIndicator
from meshdesk.ui.mainwindow import MainWindow
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.ui_helpers import open_windows, shown

prometheus_server = prom_server.prometheus_server  # the session's real Prometheus (skips without the binary)

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
CONTEXT = "prod-east"

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$",
                                        r"^This plugin does not support raise\(\)$")]  # (offscreen: the tooltip)


def _deployment(name: str, ns: str, labels: dict[str, str], image: str, replicas: int = 1,
                container: str = "app") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": container, "image": image}]}}}}


def _mesh(emu: KubeEmulator, shared_dir: Path, *, istiod_ready: bool, gateway_ready: bool = True) -> KubeEmulator:
    """istiod in istio-system (one replica), an ingress gateway in istio-ingress, no egress gateway, and
    shop's frontend in the mesh."""
    emu.load_crds(shared_dir / CRDS)
    for ns, labels in (("istio-system", {}), ("istio-ingress", {}), ("shop", {"istio-injection": "enabled"})):
        emu.add_namespace(ns, labels)
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod", "istio.io/rev": "default"},
                        "docker.io/istio/pilot:1.24.2", container="discovery"))
    emu.add(_deployment("istio-ingressgateway", "istio-ingress",
                        {"app": "istio-ingressgateway", "istio": "ingressgateway",
                         "operator.istio.io/component": "IngressGateways"},
                        "docker.io/istio/proxyv2:1.24.2", container="istio-proxy"))
    emu.add(_deployment("frontend", "shop", {"app": "frontend"}, "example/frontend:1"))
    emu.run_workloads("istio-system", ready=istiod_ready)
    emu.run_workloads("istio-ingress", ready=gateway_ready)
    emu.run_workloads("shop", proxy_image="docker.io/istio/proxyv2:1.24.2")
    return emu


@pytest.mark.shared
def test_an_istiod_not_ready_is_red_and_a_missing_egress_gateway_is_only_said(
        kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    inv = read_inventory(_mesh(kube_emulator, shared_dir, istiod_ready=False).api_client(), ["shop"], cluster="east")
    status = istio_status(inv)
    assert status is not None
    rows = {c.title: (c.replicas, c.state, c.core) for c in status.components}
    assert rows == {"istio-system/istiod": ("0/1", "Unhealthy", True),
                    "istio-ingress/istio-ingressgateway": ("1/1", "Healthy", False),
                    "istio-egressgateway": ("", "Not found", False)}
    # istiod is core: red; the egress gateway Istio's default profile does not install is no trouble
    assert status.level == DANGER
    assert status.label == "1 component unhealthy"
    assert [c.name for c in status.trouble] == ["istiod"]


@pytest.mark.shared
def test_a_gateway_not_ready_is_orange(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    emu = _mesh(kube_emulator, shared_dir, istiod_ready=True, gateway_ready=False)
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    status = istio_status(inv)
    assert status is not None and status.level == WARNING and status.label == "1 component unhealthy"
    assert [(c.title, c.replicas, c.state) for c in status.trouble] == [
        ("istio-ingress/istio-ingressgateway", "0/1", "Unhealthy")]
    # and `meshdesk inventory` lists them too
    from meshdesk.cli import main

    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))
    assert main(["inventory", "--kubeconfig", config, "--context", CONTEXT, "-n", "shop"]) == 0
    out = capsys.readouterr().out
    table = out.split("ISTIO COMPONENT", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [line.split()[:3] for line in table] == [["istio-system/istiod", "1/1", "Healthy"],
                                                    ["istio-ingress/istio-ingressgateway", "0/1", "!"],
                                                    ["istio-egressgateway", "-", "Not"]]
    assert "! Unhealthy" in table[1]


def test_no_istiod_is_red_and_istiod_pods_not_listed_are_not_known() -> None:
    missing = istio_status(Inventory(control_planes=[]))
    assert missing is not None and missing.level == DANGER and missing.label == "1 component unhealthy"
    assert [(c.name, c.state, c.core) for c in missing.trouble] == [("istiod", "Not found", True)]
    unread = istio_status(Inventory(control_planes=None))
    assert unread is not None and unread.level == "unknown" and unread.label == "not known"
    assert unread.components[0].state == "Not known" and not unread.trouble
    # a cluster without Istio has no Istio status (the window says Istio is not installed)
    assert istio_status(Inventory(istio_found=False, control_planes=[])) is None


@pytest.fixture
def app_window(qtbot: Any) -> Iterator[Callable[..., MainWindow]]:
    """The app's own window on a kubeconfig's context, as ``meshdesk`` opens it."""
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None))

    yield from open_windows(qtbot, new_window)


def _use_prometheus(url: str) -> None:
    from meshdesk.store.settings import load_settings

    settings = load_settings()
    cs = settings.context_settings(CONTEXT)
    cs.prometheus_url = url
    settings.set_context_settings(CONTEXT, cs)
    settings.save()


@pytest.mark.ui
@pytest.mark.prometheus
@pytest.mark.shared
def test_the_status_bar_says_istiod_is_down_in_red_and_lists_every_component(
        kube_emulator, shared_dir, prometheus_server, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    emu = _mesh(kube_emulator, shared_dir, istiod_ready=False)
    _use_prometheus(prometheus_server.url)
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    ind = w.status_istio
    qtbot.waitUntil(lambda: ind.isVisible() and ind.text() == "Istio: 1 component unhealthy", timeout=20000)
    assert ind.status is not None and ind.status.level == DANGER
    # beside the mTLS lock, in the status bar
    assert ind.parent() is w.status_mtls.parent()
    tip = ind.toolTip()
    for said in ("Control plane (core)", "istio-system/istiod", "0/1", "Unhealthy",
                 "istio-ingress/istio-ingressgateway", "1/1", "Healthy", "istio-egressgateway", "Not found",
                 "Prometheus", "Tracing backend", "Not checked yet"):
        assert said in tip, said
    prometheus = next(c for c in ind.status.components if c.name == "Prometheus")
    assert prometheus.state == "Healthy" and not prometheus.core
    # a click shows the list at once
    qtbot.mouseClick(ind, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QToolTip.isVisible() and "istio-system/istiod" in QToolTip.text(), timeout=5000)
    QToolTip.hideText()

    # istiod's pod replaced by a ready one: green
    for pod in emu.objects("pods", "", "istio-system"):
        emu.delete("pods", "istio-system", pod["metadata"]["name"])
    emu.run_workloads("istio-system", ready=True)
    w.refresh_now()
    qtbot.waitUntil(lambda: ind.text() == "Istio: healthy", timeout=20000)
    assert ind.status is not None and ind.status.level == OK


@pytest.mark.ui
@pytest.mark.shared
def test_a_prometheus_that_does_not_answer_is_an_orange_addon(
        kube_emulator, shared_dir, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    emu = _mesh(kube_emulator, shared_dir, istiod_ready=True)
    _use_prometheus("http://127.0.0.1:9")  # nothing listens there
    w = app_window(str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)), ["shop"])
    ind = w.status_istio
    # the graph could not be read, the inventory could: the components are judged, and Prometheus with them
    qtbot.waitUntil(lambda: ind.isVisible() and ind.text() == "Istio: 1 component unhealthy", timeout=20000)
    assert ind.status is not None and ind.status.level == WARNING
    [trouble] = ind.status.trouble
    assert trouble.name == "Prometheus" and trouble.state == "Unreachable"
    assert "istio-system/istiod" in ind.toolTip()


def test_the_demo_mesh_is_healthy_and_a_snapshot_says_what_it_recorded(qtbot, demo_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.nodes))
    ind = w.status_istio
    qtbot.waitUntil(lambda: ind.isVisible() and ind.text() == "Istio: healthy", timeout=10000)
    assert ind.status is not None and ind.status.level == OK
    rows = {c.title: c.state for c in ind.status.components}
    # Grafana is listed as Kiali lists it, an addon (not core): not checked until View in Grafana looks
    assert rows == {"istio-system/istiod": "Healthy", "istio-system/istio-ingressgateway": "Healthy",
                    "istio-egressgateway": "Not found", "Prometheus": "Healthy", "Tracing backend": "Healthy",
                    "Grafana": "Not checked yet"}
    assert "built-in simulation" in ind.toolTip() and "Grafana" in ind.toolTip()

    saved = tmp_path / "demo.json"
    assert w.save_snapshot(str(saved))
    w.open_snapshot(str(saved))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and "as the snapshot recorded it" in ind.toolTip(),
                    timeout=10000)
    rows = {c.title: c.state for c in ind.status.components}
    assert rows["istio-system/istiod"] == "Healthy"
    # the addons as they were when it was saved; Grafana, not checked then, is not known
    assert rows["Prometheus"] == rows["Tracing backend"] == "Healthy"
    assert rows["Grafana"] == "Not known"
    prometheus = next(c for c in ind.status.components if c.name == "Prometheus")
    assert prometheus.detail.startswith("when the snapshot was saved")
    assert ind.text() == "Istio: healthy"

    # a snapshot saved by an older meshdesk recorded none of them: not known
    older = tmp_path / "older.json"
    doc = json.loads(saved.read_text())
    del doc["meta"]["addons"]
    older.write_text(json.dumps(doc))
    w.open_snapshot(str(older))
    qtbot.waitUntil(lambda: w.info is not None and "older.json" in w.info.context and ind.status is not None
                    and {c.state for c in ind.status.components if c.addon} == {"Not known"}, timeout=10000)


def test_a_cluster_without_istio_shows_no_istio_status(qtbot) -> None:  # type: ignore[no-untyped-def]
    ind = IstioStatusIndicator()
    qtbot.addWidget(ind)
    ind.show()
    ind.set_status(Inventory(istio_found=False, control_planes=[]))
    assert not ind.isVisible() and ind.status is None
    # istiod's pods not listed: not known, not red
    ind.set_status(Inventory(control_planes=None))
    assert ind.isVisible() and ind.status is not None and ind.status.level != DANGER
    assert "Not known" in ind.toolTip()


def test_the_tracing_backend_is_judged_by_what_the_last_search_found(kube_emulator: KubeEmulator) -> None:
    """Nothing is asked for the status: before the Traces dock searched, the backend is "not checked yet";
    none in the cluster is said but colours nothing (many meshes run none); found, it is healthy; gone
    since, it is unreachable (orange)."""
    from meshdesk.mesh.traces import TARGET_WORKLOAD, TraceQuery, TraceTarget
    from meshdesk.sources.base import SourceInfo, TracingError
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for
    from meshdesk.ui.istio_status import addon_states
    from tests.jaeger_emulator import JaegerEmulator
    from tests.test_tracing_client import T0, shop_traces

    query = TraceQuery(TraceTarget(TARGET_WORKLOAD, "shop", "reviews-v2", "reviews"), T0 - 600, T0 + 60)
    emu = kube_emulator
    info = SourceInfo(context="emu", cluster="east", prometheus="URL http://prometheus:9090")
    source = ClusterSource(emu.api_client(), context="emu")

    def tracing() -> Any:
        return addon_states(source, info, None)[1]

    try:
        traces = tracing_source_for(source)
        assert traces is not None
        asked = len(emu.requests)
        assert tracing().state == "Not checked yet"
        assert len(emu.requests) == asked  # the status asked the cluster nothing
        with pytest.raises(TracingError):
            traces.find_traces(query)
        assert tracing().state == "Not found" and not tracing().trouble

        emu.add_namespace("istio-system")
        emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tracing", "namespace": "istio-system"},
                 "spec": {"ports": [{"name": "http-query", "port": 80, "targetPort": 16686}]}})
        with JaegerEmulator(shop_traces(), base_path="/jaeger") as jaeger:
            emu.proxy_service("istio-system", "tracing", 80, f"http://127.0.0.1:{jaeger.port}")
            traces.look_again()
            traces.find_traces(query)
            assert tracing().state == "Healthy" and "istio-system/tracing:80" in tracing().detail
        with pytest.raises(TracingError):  # the backend went away
            traces.find_traces(query)
        assert tracing().state == "Unreachable" and tracing().trouble
        inv = Inventory(control_planes=[])
        status = istio_status(inv, addon_states(source, info, None))
        assert status is not None and "Tracing backend" in [c.name for c in status.trouble]
    finally:
        source.close()
