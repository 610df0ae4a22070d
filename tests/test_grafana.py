"""View in Grafana: Istio's dashboard of what the Metrics dock charts, opened in the browser, as Kiali's
links open it. Grafana is a small emulator of its HTTP API (tests/grafana_emulator.py) behind the
Kubernetes API emulator's port-forward, or at a URL given in Settings; the browser is Qt's URL handler,
and what it was given is fetched as a browser would, through the same port-forward."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from meshdesk.mesh.metrics import MetricsTarget
from meshdesk.sources.grafana import GrafanaError, GrafanaNotFound, GrafanaOpener
from tests.grafana_emulator import GrafanaEmulator
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture


@pytest.fixture
def grafana() -> Iterator[GrafanaEmulator]:
    emu = GrafanaEmulator().start()
    yield emu
    emu.stop()


def _istio_addon(emu: KubeEmulator, grafana: GrafanaEmulator, ns: str = "istio-system", name: str = "grafana",
                 labels: dict[str, str] | None = None, port: int = 3000) -> str:
    """Grafana as Istio's addon deploys it (a service on 3000 targeting the pod's named port), its pod's
    port forwarded to the emulator. Returns the pod's name."""
    emu.add_namespace(ns)
    selector = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"}
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": name, "namespace": ns, "labels": labels or selector},
             "spec": {"selector": selector,
                      "ports": [{"name": "service", "port": port, "targetPort": "grafana", "protocol": "TCP"}]}})
    pod = f"{name}-5f9b8c6d4-x2x7q"
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns, "labels": selector},
             "spec": {"containers": [{"name": "grafana", "image": "grafana/grafana",
                                      "ports": [{"name": "grafana", "containerPort": 3000}]}]},
             "status": {"phase": "Running"}})
    emu.port_forward_pod(ns, pod, 3000, grafana.port)
    return pod


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_workloads_dashboard_is_found_by_its_title_and_opened_through_a_port_forward(
        kube_emulator: KubeEmulator, grafana: GrafanaEmulator) -> None:
    """As `istioctl dashboard grafana` with Kiali's link: Istio's addon found, a local port forwarded to its
    pod, the Istio Workload Dashboard found by its title (its uid is Grafana's own), and the link sets
    the workload, its namespace and the time range shown; the page it names is there for the browser."""
    pod = _istio_addon(kube_emulator, grafana)
    opener = GrafanaOpener(kube_emulator.api_client())
    try:
        link = opener.link("workload", "shop", "reviews-v1", 1800)
        uid = grafana.uid("Istio Workload Dashboard")
        parts = urlsplit(link.url)
        assert parts.hostname == "127.0.0.1" and parts.path == f"/d/{uid}/istio-workload-dashboard"
        assert _query(link.url) == {"var-workload": "reviews-v1", "var-namespace": "shop",
                                    "from": "now-1800s", "to": "now"}
        assert not link.searched and f"pod istio-system/{pod}:3000" in opener.description
        page = requests.get(link.url, timeout=10)  # what the browser gets
        assert page.status_code == 200 and "Istio Workload Dashboard - Grafana" in page.text
        assert any(p.endswith(f"/pods/{pod}/portforward") for _, p in kube_emulator.calls)
        service = opener.link("service", "shop", "reviews", 600)
        assert urlsplit(service.url).path == f"/d/{grafana.uid('Istio Service Dashboard')}/istio-service-dashboard"
        assert _query(service.url)["var-service"] == "reviews.shop.svc.cluster.local"
        mesh = opener.link("mesh")
        assert urlsplit(mesh.url).path.endswith("/istio-mesh-dashboard") and _query(mesh.url) == {}
    finally:
        opener.close()
    with pytest.raises(OSError):  # the port-forward ended with the context
        requests.get(link.url, timeout=5)


def test_a_grafana_that_wants_a_login_opens_at_its_search_for_the_dashboard(
        kube_emulator: KubeEmulator) -> None:
    """A Grafana without anonymous access refuses its search API (401): its own search page for the
    dashboard's title is opened, where the browser logs in and finds it."""
    grafana = GrafanaEmulator(login=True).start()
    try:
        _istio_addon(kube_emulator, grafana)
        opener = GrafanaOpener(kube_emulator.api_client())
        try:
            link = opener.link("workload", "shop", "reviews-v1", 600)
            assert link.searched and urlsplit(link.url).path == "/dashboards"
            assert _query(link.url) == {"query": "Istio Workload Dashboard"}
            assert requests.get(link.url, timeout=10).status_code == 200
        finally:
            opener.close()
    finally:
        grafana.stop()


def test_grafana_at_a_url_in_settings_is_opened_there_and_a_chart_or_ingress_grafana_is_found(
        kube_emulator: KubeEmulator, grafana: GrafanaEmulator) -> None:
    """A URL given for the context is used as it is (no cluster asked); without one, a Grafana that is
    not Istio's addon (Helm's chart in monitoring, port 80) is found by its labels, not its renderer."""
    opener = GrafanaOpener(None, url=grafana.url + "/")
    try:
        link = opener.link("workload", "shop", "reviews-v1", 600)
        assert link.url.startswith(f"{grafana.url}/d/{grafana.uid('Istio Workload Dashboard')}/")
        assert opener.description == f"URL {grafana.url}/"
    finally:
        opener.close()
    labels = {"app.kubernetes.io/name": "grafana"}
    kube_emulator.add_namespace("monitoring")
    kube_emulator.add({"apiVersion": "v1", "kind": "Service",
                       "metadata": {"name": "kps-grafana-image-renderer", "namespace": "monitoring", "labels": labels},
                       "spec": {"selector": {"app": "renderer"}, "ports": [{"port": 8081}]}})
    _istio_addon(kube_emulator, grafana, ns="monitoring", name="kps-grafana", labels=labels, port=80)
    opener = GrafanaOpener(kube_emulator.api_client())
    try:
        assert opener.link("mesh").url.startswith("http://127.0.0.1:")
        assert "pod monitoring/kps-grafana-" in opener.description
    finally:
        opener.close()


def test_no_grafana_no_dashboard_or_no_grafana_at_the_address_is_said_with_what_to_do(
        kube_emulator: KubeEmulator) -> None:
    opener = GrafanaOpener(kube_emulator.api_client())
    with pytest.raises(GrafanaNotFound) as missing:
        opener.link("workload", "shop", "reviews-v1")
    assert "no service istio-system/grafana" in missing.value.message
    assert "Settings" in missing.value.hint
    bare = GrafanaEmulator(titles=("Node Exporter Full",)).start()
    try:
        with pytest.raises(GrafanaError) as no_dashboard:
            GrafanaOpener(None, url=bare.url).link("service", "shop", "reviews")
        assert no_dashboard.value.message == "Grafana has no dashboard titled 'Istio Service Dashboard'"
        assert "import Istio's dashboards" in no_dashboard.value.hint
        with pytest.raises(GrafanaError) as elsewhere:  # an address where something else answers
            GrafanaOpener(None, url=bare.url + "/nothing-here").link("mesh")
        assert "did not answer as Grafana does" in elsewhere.value.message
    finally:
        bare.stop()


def test_a_login_page_at_grafanas_address_is_named_by_its_title_not_quoted() -> None:
    """An auth proxy's login page in front of Grafana: the start of its HTML, form tokens among it, was
    quoted in the error ("did not answer as Grafana does at /api/health (HTTP 200: <!DOCTYPE html>...")."""
    from tests.prom_server import StubResponse, StubServer

    page = ('<!DOCTYPE html><html><head><meta name="csrf" content="csrf-SECRET-77"><title>Sign in | Corp SSO'
            '</title></head><body></body></html>')
    with StubServer(lambda _r: StubResponse(200, page, "text/html")) as stub, pytest.raises(GrafanaError) as err:
        GrafanaOpener(None, url=stub.url).link("mesh")
    assert 'HTTP 200: a web page ("Sign in | Corp SSO")' in err.value.message
    assert "csrf-SECRET" not in err.value.message + err.value.hint and "<meta" not in err.value.message


@pytest.mark.ui
def test_view_in_grafana_opens_the_charted_workloads_dashboard_in_the_browser(
        qtbot: Any, kube_emulator: KubeEmulator, grafana: GrafanaEmulator, tmp_path: Any) -> None:
    """Kiali's Metrics tab links to Grafana; the Metrics dock had nothing of the kind. "View in Grafana"
    opens Istio's dashboard of the charted workload (the mesh's when nothing is charted) in the browser,
    over the range shown, and says so; it is greyed out, saying why, on the demo mesh."""
    from PySide6.QtCore import QObject, QUrl, Slot
    from PySide6.QtGui import QDesktopServices

    from meshdesk.ui.mainwindow import MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    class Browser(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.opened: list[str] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.opened.append(url.toString())

    _istio_addon(kube_emulator, grafana)
    config = str(kube_emulator.write_kubeconfig(tmp_path / "kubeconfig", context="prod-east"))
    browser = Browser()
    QDesktopServices.setUrlHandler("http", browser, "open")
    w = MainWindow(contexts=["prod-east"], context="prod-east", kubeconfig=config, namespaces=["shop"])
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    try:
        button, note = perf.metrics.grafana_button, perf.metrics.grafana_note
        qtbot.waitUntil(button.isEnabled, timeout=10000)
        button.click()
        qtbot.waitUntil(lambda: len(browser.opened) == 1, timeout=20000)
        assert urlsplit(browser.opened[0]).path.endswith("/istio-mesh-dashboard")
        assert note.text().startswith("Istio Mesh Dashboard is open in your browser (port-forward to pod istio-system/")
        perf.metrics.set_target(MetricsTarget.workload("shop", "reviews-v1"))
        perf.metrics.range.setCurrentIndex(perf.metrics.range.findData(3600))
        button.click()
        qtbot.waitUntil(lambda: len(browser.opened) == 2, timeout=20000)
        assert _query(browser.opened[1]) == {"var-workload": "reviews-v1", "var-namespace": "shop",
                                             "from": "now-3600s", "to": "now"}
        assert "Istio Workload Dashboard - Grafana" in requests.get(browser.opened[1], timeout=10).text
        # replayed to an hour ago: Grafana opens on the hour charted (it opened on the last hour, as live)
        replayed = 1_700_000_000.0
        perf.set_time(replayed)
        button.click()
        qtbot.waitUntil(lambda: len(browser.opened) == 3, timeout=20000)
        assert _query(browser.opened[2]) == {"var-workload": "reviews-v1", "var-namespace": "shop",
                                             "from": str(int((replayed - 3600) * 1000)),
                                             "to": str(int(replayed * 1000))}
        perf.set_time(None)  # live again: the last hour
        button.click()
        qtbot.waitUntil(lambda: len(browser.opened) == 4, timeout=20000)
        assert _query(browser.opened[3])["from"] == "now-3600s"
    finally:
        QDesktopServices.unsetUrlHandler("http")
        perf.shutdown()
        w.close()


@pytest.mark.ui
def test_the_grafana_url_saved_for_a_context_is_the_one_opened(
        qtbot: Any, kube_emulator: KubeEmulator, grafana: GrafanaEmulator, tmp_path: Any) -> None:
    """Settings' Grafana URL for a context (an ingress the browser reaches) is kept with the context's
    settings and opened as it is: the cluster is not searched for a Grafana, nor a port forwarded."""
    from PySide6.QtCore import QUrl

    from meshdesk.store.settings import ContextSettings, load_settings
    from meshdesk.ui.mainwindow import MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    settings = load_settings()
    settings.set_context_settings("prod-east", ContextSettings(grafana_url=grafana.url))
    settings.save()
    assert load_settings().context_settings("prod-east").grafana_url == grafana.url
    config = str(kube_emulator.write_kubeconfig(tmp_path / "kubeconfig", context="prod-east"))
    w = MainWindow(contexts=["prod-east"], context="prod-east", kubeconfig=config, namespaces=["shop"])
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    opened: list[str] = []
    perf.grafana._open_url = lambda url: opened.append(QUrl(url).toString()) is None  # (the browser)
    try:
        qtbot.waitUntil(perf.metrics.grafana_button.isEnabled, timeout=10000)
        kube_emulator.calls.clear()
        perf.metrics.set_target(MetricsTarget.service("shop", "reviews"))
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: bool(opened), timeout=20000)
        assert opened[0].startswith(f"{grafana.url}/d/{grafana.uid('Istio Service Dashboard')}/")
        assert _query(opened[0])["var-service"] == "reviews.shop.svc.cluster.local"
        assert not any("grafana" in path for _, path in kube_emulator.calls)
        # another address saved: the next link goes there, and the context is not read again for it
        other = GrafanaEmulator().start()
        try:
            source = w.poller.source
            saved = load_settings()
            saved.set_context_settings("prod-east", ContextSettings(grafana_url=other.url))
            saved.save()
            w._on_settings_saved(saved)  # (as the Settings dialog's OK does)
            assert w.poller.source is source
            assert perf.view_in_grafana()
            qtbot.waitUntil(lambda: len(opened) == 2, timeout=20000)
            assert opened[1].startswith(f"{other.url}/d/")
        finally:
            other.stop()
    finally:
        perf.shutdown()
        w.close()


@pytest.mark.ui
def test_on_the_demo_mesh_view_in_grafana_is_greyed_out_saying_why(qtbot: Any) -> None:
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        button = perf.metrics.grafana_button
        assert not button.isEnabled() and button.toolTip() == "The demo mesh has no Grafana"
        assert not perf.view_in_grafana() and perf.metrics.grafana_note.text() == "The demo mesh has no Grafana"
    finally:
        perf.shutdown()
        w.close()
