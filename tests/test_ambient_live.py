"""An ambient mesh in live mode, in the window: the Kubernetes API emulator (with the Gateway API served,
as ambient waypoints need it) and a real Prometheus holding the series ztunnel and a waypoint write.

bank's ledger is enrolled through its Service (``istio.io/use-waypoint``) in the waypoint shared-wp of the
namespace infra (``istio.io/use-waypoint-namespace``); teller calls it. ledger-v1's pods are captured by
ztunnel (``ambient.istio.io/redirection``) and run no Envoy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
from meshdesk.ui.mainwindow import MainWindow
from tests import gateway_api_crds
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
from tests.prom_server import Workload as Pw
from tests.ui_helpers import open_windows, shown

CONTEXT = "ambient-lab"
WAYPOINT = {"gateway.istio.io/managed": "istio.io-mesh-controller", "gateway.networking.k8s.io/gateway-name": "shared-wp",
            "istio.io/dataplane-mode": "none"}

pytestmark = [pytest.mark.prometheus, pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def shared_waypoint_series() -> list[Series]:
    """bank's teller-v1 calling ledger through infra's shared waypoint: the waypoint's HTTP reports (3 rps)
    and ztunnel's TCP bytes of both hops (30 B/s each way, reported by both ends)."""
    teller, ledger = Pw("bank", "teller-v1", "teller"), Pw("bank", "ledger-v1", "ledger")
    wp = Pw("infra", "shared-wp", "shared-wp", "latest")
    ztunnel = {"app": "ztunnel", "namespace": "istio-system"}
    series = [Series("istio_requests_total", istio_edge(teller, ledger, "ledger", "bank", reporter="waypoint",
                                                        extra={"app": "shared-wp"}), 3.0)]
    for reporter in ("source", "destination"):
        series += [Series(metric, istio_edge(a, b, "ledger", "bank", reporter=reporter, protocol="tcp",
                                             extra=ztunnel), 30.0)
                   for a, b in ((teller, wp), (wp, ledger))
                   for metric in ("istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total")]
    return series


@pytest.fixture(scope="module")
def bank_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("bank-prometheus"), shared_waypoint_series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _deployment(ns: str, name: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels, "annotations": annotations},
                                  "spec": {"containers": [{"name": "app", "image": f"example/{name}:1"}]}}}}


LEDGER_USES = {"istio.io/use-waypoint": "shared-wp", "istio.io/use-waypoint-namespace": "infra"}


def cluster(emu: KubeEmulator, shared_dir: Path, tmp_path: Path, prometheus_url: str,
            ledger_uses: dict[str, str] = LEDGER_USES) -> str:
    """The cluster of the module docstring; ``ledger_uses``: the waypoint labels of the ledger Service."""
    emu.load_crds(shared_dir / "fixtures" / "istio" / "crds" / "crd-all.gen.yaml")
    gateway_api_crds.install(emu)
    emu.add_namespace("bank", {"istio.io/dataplane-mode": "ambient"})
    emu.add_namespace("infra", {"istio.io/dataplane-mode": "ambient"})
    captured = {"ambient.istio.io/redirection": "enabled"}
    emu.add(_deployment("bank", "teller-v1", {"app": "teller", "version": "v1"}, captured))
    emu.add(_deployment("bank", "ledger-v1", {"app": "ledger", "version": "v1"}, captured))
    emu.add(_deployment("infra", "shared-wp", WAYPOINT, {}))
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "ledger", "namespace": "bank", "labels": dict(ledger_uses)},
             "spec": {"selector": {"app": "ledger"}, "ports": [{"name": "http", "port": 8080}]}})
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "shared-wp", "namespace": "infra", "labels": {"istio.io/waypoint-for": "service"}},
             "spec": {"gatewayClassName": "istio-waypoint",
                      "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}})
    emu.run_workloads()
    from meshdesk.store.settings import load_settings

    settings = load_settings()
    cs = settings.context_settings(CONTEXT)
    cs.prometheus_url = prometheus_url
    settings.set_context_settings(CONTEXT, cs)
    settings.save()
    return str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))


@pytest.fixture
def app_window(qtbot: Any) -> Iterator[Callable[..., MainWindow]]:
    """The app's own window (as ``meshdesk`` opens it, with its docks) on a kubeconfig's context."""
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None))

    yield from open_windows(qtbot, new_window)


@pytest.mark.ui
def test_the_envoy_dock_names_the_waypoint_an_ambient_workload_uses(
        kube_emulator, shared_dir, bank_prometheus, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ledger-v1 has no Envoy: the Envoy dock says which one routes its requests, the waypoint of infra its
    Service names, not "its namespace's waypoint" (bank has none)."""
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, bank_prometheus.url), ["bank"])
    graph = shown(qtbot, w, lambda g: any(n.workload == "ledger-v1" for n in g.nodes.values()))
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    node = next(n for n in graph.nodes.values() if n.node_type in (NODE_APP, NODE_WORKLOAD)
                and n.workload == "ledger-v1")
    w.view.select([node.id])
    perf.docks["Envoy"].show()
    qtbot.waitUntil(lambda: perf.envoy.status.isVisible() and "ledger-v1 runs in ambient mode" in perf.envoy.status.text(),
                    timeout=10000)
    note = perf.envoy.status.text()
    assert "its waypoint infra/shared-wp (select it) is the Envoy that routes its requests" in note
    assert "namespace's waypoint" not in note


@pytest.mark.ui
def test_the_side_panel_of_a_waypoint_says_what_is_enrolled_in_it(
        kube_emulator, shared_dir, bank_prometheus, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The waypoint of infra serves bank's ledger Service: its side panel says so (as Kiali lists a waypoint's
    services and workloads), rather than that it carries requests to its own namespace's workloads."""
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, bank_prometheus.url), ["bank"])
    graph = shown(qtbot, w, lambda g: any(n.workload == "shared-wp" and n.extra.get("isWaypoint")
                                          for n in g.nodes.values()))
    waypoint = next(n for n in graph.nodes.values() if n.workload == "shared-wp")
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([waypoint.id])
    text = w.panel.text()
    assert w.panel.title.text() == "Waypoint shared-wp"
    assert "Serves\nservice bank/ledger" in text
    assert "its namespace's ambient workloads" not in text


@pytest.mark.ui
def test_the_summary_of_a_namespace_names_the_waypoint_of_another_namespace_it_uses(
        kube_emulator, shared_dir, bank_prometheus, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """bank runs no waypoint of its own, but its ledger Service uses infra's: the namespace summary names it
    rather than saying "Waypoints: none", which reads as if no waypoint carried bank's requests."""
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, bank_prometheus.url), ["bank"])
    shown(qtbot, w, lambda g: any(n.workload == "ledger-v1" for n in g.nodes.values()))
    qtbot.waitUntil(lambda: "Data plane" in w.panel.text(), timeout=10000)
    assert "Waypoints\ninfra/shared-wp (of another namespace)" in w.panel.text()


@pytest.mark.ui
def test_the_traces_of_a_service_whose_waypoint_does_not_run_say_why_there_are_none(
        kube_emulator, shared_dir, bank_prometheus, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The ledger Service names a waypoint of bank (missing-wp) that does not run. Its pods have no proxy, so
    nothing reports its requests: the Traces dock asks for the app's traces, as Kiali (which takes such a
    waypoint as none) does, not a waypoint's that is not there, and says why none are found rather than
    that traces are sampled."""
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from tests.tempo_emulator import TempoEmulator

    emu = kube_emulator
    with TempoEmulator([]) as tempo:
        emu.add_namespace("tempo")
        emu.add({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "tempo-query-frontend", "namespace": "tempo",
                              "labels": {"app.kubernetes.io/name": "tempo",
                                         "app.kubernetes.io/component": "query-frontend"}},
                 "spec": {"ports": [{"name": "http", "port": 3200}]}})
        emu.proxy_service("tempo", "tempo-query-frontend", 3200, tempo.url)
        w = app_window(cluster(emu, shared_dir, tmp_path, bank_prometheus.url, {"istio.io/use-waypoint": "missing-wp"}),
                       ["bank"])
        graph = shown(qtbot, w, lambda g: g.find_node(node_type=NODE_SERVICE, namespace="bank", service="ledger")
                      is not None)
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        w.view.select([graph.find_node(node_type=NODE_SERVICE, namespace="bank", service="ledger").id])
        with qtbot.waitSignal(perf.traces.loaded, timeout=30000) as got:
            perf.docks["Traces"].show()
        assert got.args[0].traces == []
        note = perf.traces.note.text()
        assert "its waypoint bank/missing-wp (istio.io/use-waypoint) does not run in the cluster" in note
        assert "send more requests" not in note
        asked = tempo.searches()[-1].params["q"]
        assert "ledger" in asked and "missing-wp" not in asked


@pytest.mark.ui
def test_an_http_edge_a_waypoint_reported_without_a_security_policy_shows_no_mtls_share(
        kube_emulator, shared_dir, bank_prometheus, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """infra's waypoint reports teller's requests to ledger with connection_security_policy="unknown". The
    edge's panel said "mTLS 0% of traffic", as if they went in plain text. Kiali shows a share only when some
    traffic used mutual TLS; so does meshdesk now, and the panel says why there is none."""
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, bank_prometheus.url), ["bank"])
    graph = shown(qtbot, w, lambda g: any(e.protocol == "http" for e in g.edges.values()))
    http = [e for e in graph.edges.values() if e.protocol == "http"]
    assert http and all(e.is_mtls is None for e in http)
    for e in http:
        with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
            w.view.select([e.id])
        text = w.panel.text()
        assert 'not reported: its reports name no security policy (connection_security_policy="unknown"' in text, text
        assert "0% of traffic" not in text
