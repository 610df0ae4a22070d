"""Runtime dashboards (Kiali's custom dashboards): a workload's own Go, JVM or Node.js metrics charted
beside its traffic, found as Kiali finds them (the pods' kiali.io/dashboards annotation, else discovery by
each dashboard's discovery metric), from a real Prometheus; the user's Kiali custom_dashboards pasted into
Settings (refused in words when malformed); and the demo's Go and Node.js workloads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from meshdesk.mesh.dashboards import (
    HOW_FOUND,
    TEMPLATES_ANNOTATION,
    DashboardsConfig,
    dashboards_summary,
    read_custom_dashboards,
)
from meshdesk.mesh.inventory import Pod, Workload
from meshdesk.sources.metrics import PrometheusMetrics
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.store.settings import ContextSettings
from meshdesk.ui.metrics_view import MetricsView
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import Histogram, PrometheusServer, Series, binaries_missing

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]

NS = "shop"
INVENTORY = ("inventory-v1-6d8f-aaaaa", "inventory-v1-6d8f-bbbbb")
DETAILS = ("details-v1-7c4d-ccccc",)


def _pod_labels(pod: str, app: str, version: str, namespace: str = NS) -> dict[str, str]:
    # as Istio's sample Prometheus (its kubernetes-pods job) labels what it scrapes from a pod
    return {"namespace": namespace, "pod": pod, "app": app, "version": version}


CHECKOUT = Histogram("shop_checkout_seconds", _pod_labels(INVENTORY[0], "inventory", "v1"), 2.0,
                     {0.2: 0.5, 0.8: 0.5}, buckets=(0.1, 0.25, 0.5, 1.0, 2.5))


def _series() -> list[Series | Histogram]:
    out: list[Series | Histogram] = [CHECKOUT]
    for i, pod in enumerate(INVENTORY):
        labels = _pod_labels(pod, "inventory", "v1")
        out += [
            Series("go_info", {**labels, "version": "v1", "go_version": "go1.22.5"}, 0.0, start_value=1.0),
            Series("go_goroutines", labels, 0.0, start_value=40.0 + 10 * i),
            Series("go_memstats_heap_inuse_bytes", labels, 0.0, start_value=12e6 + 1e6 * i),
            Series("go_memstats_alloc_bytes_total", labels, 1e6 * (i + 1)),  # 1 MB/s and 2 MB/s
            Series("shop_orders_total", labels, 2.0 + i),
            Series("shop_refunds_total", labels, 0.5),
        ]
    # the same app's other version, and the same names in another namespace: not this workload's
    out.append(Series("go_goroutines", _pod_labels("inventory-v2-0", "inventory", "v2"), 0.0, start_value=999.0))
    out.append(Series("go_info", _pod_labels("inventory-v2-0", "inventory", "v2"), 0.0, start_value=1.0))
    out.append(Series("go_goroutines", _pod_labels(INVENTORY[0], "inventory", "v1", "other"), 0.0, start_value=777.0))
    # a queue per shard, whose lines a dashboard orders by the shard's number
    out += [Series("shop_queue_depth", {**_pod_labels(INVENTORY[0], "inventory", "v1"), "shard": shard}, 0.0,
                   start_value=float(shard)) for shard in ("10", "2", "1")]
    # a Go app whose series carry its pod's app.kubernetes.io labels, not the app and version Istio reads
    orders = {"namespace": NS, "pod": "orders-v1-0", "app_kubernetes_io_name": "orders",
              "app_kubernetes_io_version": "v1"}
    out += [Series("go_info", orders, 0.0, start_value=1.0), Series("go_goroutines", orders, 0.0, start_value=7.0)]
    # a JVM (Micrometer) app, and its memory by area
    jvm = _pod_labels(DETAILS[0], "details", "v1")
    out += [Series("jvm_threads_live_threads", jvm, 0.0, start_value=31.0),
            Series("jvm_memory_used_bytes", {**jvm, "area": "heap", "id": "G1 Eden Space"}, 0.0, start_value=50e6),
            Series("jvm_memory_used_bytes", {**jvm, "area": "nonheap", "id": "Metaspace"}, 0.0, start_value=20e6)]
    return out


@pytest.fixture(scope="module")
def runtime_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    srv = PrometheusServer(Path(tmp_path_factory.mktemp("runtime-prometheus")), _series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _workload(name: str, app: str, pods: tuple[str, ...], annotations: dict[str, str] | None = None) -> Workload:
    labels = {"app": app, "version": "v1"}
    return Workload(name=name, namespace=NS, labels=labels, replicas=len(pods), available=len(pods),
                    pods=[Pod(name=p, namespace=NS, labels=dict(labels), annotations=dict(annotations or {}),
                              phase="Running") for p in pods])


_KEPT: list[MetricsView] = []


@pytest.fixture(autouse=True)
def _views_shut_down() -> Iterator[None]:
    """The views a test made are shut down (their threads ended) as it ends, before the collector may
    take a view qtbot holds only weakly."""
    yield
    while _KEPT:
        _KEPT.pop().shutdown()


def _view(qtbot: QtBot, srv: PrometheusServer, config: DashboardsConfig | None = None) -> MetricsView:
    view = MetricsView(PrometheusMetrics(PrometheusClient(srv.url)), poll_ms=0)
    qtbot.addWidget(view)
    _KEPT.append(view)
    view.set_end(float(srv.query_time))  # the charts end where the data is
    if config is not None:
        view.dashboards_config = lambda: config
    view.resize(1200, 900)
    view.show()
    qtbot.waitExposed(view)
    return view


def _select(view: MetricsView, workload: Workload) -> None:
    """As the window does when a workload's node is selected: its workload, then the selection."""
    view.workload = workload
    view.show_graph_selection(None, [f"{workload.namespace}/{workload.name}"])


def _offered(view: MetricsView) -> list[str]:
    return [view.direction.itemText(i) for i in range(3, view.direction.count())]


def _choose(qtbot: QtBot, view: MetricsView, title: str) -> None:
    index = view.direction.findText(title)
    assert index >= 3, _offered(view)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(index)


def _chart(view: MetricsView, title: str) -> object:
    shown = [c for k, c in view.charts.items() if k.startswith("dashboard:") and c.isVisible()]
    return next(c for c in shown if c.chart.title == title)


def _last(chart: object) -> dict[str, float]:
    return {line.name: line.values[-1] for line in chart._lines.values()}  # type: ignore[attr-defined]


def test_pods_naming_the_go_dashboard_get_its_charts_with_prometheus_numbers(qtbot: QtBot,
                                                                           runtime_prometheus: PrometheusServer) -> None:
    """The pods' kiali.io/dashboards annotation names "go": the Metrics dock offers "Go Metrics" beside
    Inbound, Outbound and Envoy proxy; chosen, its charts show the workload's own pods' numbers (not another
    version's, not another namespace's), summed, or a line per pod by Show by; made only when chosen."""
    view = _view(qtbot, runtime_prometheus)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "go"}))
    assert _offered(view) == ["Go Metrics"]
    assert "Go Metrics (named by its pods' kiali.io/dashboards annotation)" in view.direction.toolTip()
    assert not [k for k in view.charts if k.startswith("dashboard:")]  # none made with the traffic charts
    _choose(qtbot, view, "Go Metrics")
    assert view.title.text() == "Go Metrics of workload shop/inventory-v1"
    assert view.show_by.isVisible() and not view.split.isEnabled() and not view.reporter.isEnabled()
    goroutines = _chart(view, "Goroutines")
    assert _last(goroutines) == {"Goroutines": pytest.approx(90.0)}  # 40 + 50: not v2's 999 nor other's 777
    assert _last(_chart(view, "Allocation rate")) == {"Allocation rate": pytest.approx(3e6)}
    heap = _chart(view, "Heap in use")
    assert _last(heap) == {"Heap in use": pytest.approx(25e6)}
    assert "(B)" in heap.title_text()  # type: ignore[attr-defined]
    # the process collector's metrics are not in this Prometheus: said on the chart, not left blank
    assert _chart(view, "Resident memory").status_text.startswith(  # type: ignore[attr-defined]
        "No data: Prometheus has no process_resident_memory_bytes")
    # a line per pod
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_by.setCurrentIndex(view.show_by.findData("pod"))
    assert _last(_chart(view, "Goroutines")) == {INVENTORY[0]: pytest.approx(40.0), INVENTORY[1]: pytest.approx(50.0)}
    assert _last(_chart(view, "Allocation rate")) == {INVENTORY[0]: pytest.approx(1e6), INVENTORY[1]: pytest.approx(2e6)}


def test_dashboards_are_discovered_by_their_metric_for_the_workloads_app(qtbot: QtBot,
                                                                        runtime_prometheus: PrometheusServer) -> None:
    """Without the annotation, a dashboard is offered when Prometheus has its discovery metric for the
    workload's app and version (a JVM's jvm_threads_live_threads: "JVM Metrics"); a workload whose app has
    none of them gets no further choice, and the tooltip says how Kiali finds them."""
    view = _view(qtbot, runtime_prometheus)
    _select(view, _workload("details-v1", "details", DETAILS))
    qtbot.waitUntil(lambda: _offered(view) == ["JVM Metrics"], timeout=20000)
    assert "found by their discovery metrics in Prometheus" in view.direction.toolTip()
    _choose(qtbot, view, "JVM Metrics")
    assert _last(_chart(view, "Live threads")) == {"Live threads": pytest.approx(31.0)}
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_by.setCurrentIndex(view.show_by.findText("Area"))
    assert _last(_chart(view, "Memory used")) == {"heap": pytest.approx(50e6), "nonheap": pytest.approx(20e6)}
    # another workload, whose app has no runtime metrics: the dashboard goes, the view is Inbound again
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, _workload("reviews-v1", "reviews", ("reviews-v1-0",)))
    assert _offered(view) == [] and view.direction.currentText() == "Inbound"
    assert HOW_FOUND in view.direction.toolTip()


def test_a_dashboard_chosen_for_one_workload_is_not_charted_for_the_next_until_it_is_found_there(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """JVM Metrics chosen for details, then the inventory workload selected (a Go app, its dashboards still
    being discovered): the view did chart "JVM Metrics of workload shop/inventory-v1", empty, until
    discovery dropped it; it says it is finding that workload's dashboards instead. Found without it: Inbound;
    another JVM workload (found with it): its JVM charts, the choice kept."""
    view = _view(qtbot, runtime_prometheus)
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, _workload("details-v1", "details", DETAILS))
    _choose(qtbot, view, "JVM Metrics")
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, _workload("inventory-v1", "inventory", INVENTORY))
        assert view.title.text() == "workload shop/inventory-v1"  # not "JVM Metrics of" it
        assert view.notice.isVisible() and view.notice.text().startswith(
            "Finding the runtime dashboards of workload shop/inventory-v1")
        assert view.target is None  # nothing asked of Prometheus for it meanwhile
    assert _offered(view) == ["Go Metrics"] and view.direction.currentText() == "Inbound"
    assert "Finding" not in view.notice.text()  # (the Inbound charts of a graph's node: no graph in this test)
    _select(view, _workload("details-v1", "details", DETAILS))
    qtbot.waitUntil(lambda: _offered(view) == ["JVM Metrics"], timeout=20000)
    _choose(qtbot, view, "JVM Metrics")
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        _select(view, _workload("details-v1-canary", "details", DETAILS))
        assert view.target is None and view.notice.isVisible()
    assert view.direction.currentText() == "JVM Metrics" and not view.notice.isVisible()
    assert view.title.text() == "JVM Metrics of workload shop/details-v1-canary"
    assert _last(_chart(view, "Live threads")) == {"Live threads": pytest.approx(31.0)}


def test_discovery_turned_off_or_past_its_pod_threshold_finds_nothing_but_the_annotation_still_counts(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """discovery_enabled: false, as pasted from Kiali's config: the JVM app's dashboard is not looked for
    (the tooltip says why); "auto" with a workload of more pods than discovery_auto_threshold: neither; the
    annotation is read whatever discovery says; enabled: false, none at all."""
    off, _ = read_custom_dashboards("external_services:\n  custom_dashboards:\n    discovery_enabled: false\n")
    view = _view(qtbot, runtime_prometheus, off)
    _select(view, _workload("details-v1", "details", DETAILS))
    assert _offered(view) == []
    assert "discovery is off for it (discovery_enabled: false)" in view.direction.toolTip()
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "go"}))
    assert _offered(view) == ["Go Metrics"]

    small, _ = read_custom_dashboards("external_services:\n  custom_dashboards:\n    discovery_auto_threshold: 1\n")
    small_view = _view(qtbot, runtime_prometheus, small)
    _select(small_view, _workload("inventory-v1", "inventory", INVENTORY))
    assert _offered(small_view) == []
    assert "2 pods, more than discovery_auto_threshold 1" in small_view.direction.toolTip()
    with qtbot.waitSignal(small_view.discovery().done, timeout=20000):
        _select(small_view, _workload("details-v1", "details", DETAILS))  # one pod: discovered
    assert _offered(small_view) == ["JVM Metrics"]

    # custom dashboards turned off altogether: not even the annotation's
    none, _ = read_custom_dashboards("external_services:\n  custom_dashboards:\n    enabled: false\n")
    none_view = _view(qtbot, runtime_prometheus, none)
    _select(none_view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "go"}))
    assert _offered(none_view) == []
    assert "they are turned off in Settings (custom_dashboards enabled: false)" in none_view.direction.toolTip()


USERS = """\
spec:
  custom_dashboards:
    - name: micrometer-1.1-jvm
    - name: go
      title: Go runtime
      discoverOn: go_info
      items:
        - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, aggregations: [{label: pod}]}
    - name: shop
      title: Shop Metrics
      runtime: Shop
      discoverOn: shop_orders_total
      items:
        - chart:
            name: Orders and refunds
            unit: ops
            dataType: rate
            metrics:
              - {metricName: shop_orders_total, displayName: Orders}
              - {metricName: shop_refunds_total, displayName: Refunds}
        - chart:
            name: Heap in use
            unit: MB
            unitScale: 0.000001
            metricName: go_memstats_heap_inuse_bytes
            dataType: raw
            aggregator: max
        - include: go$Goroutines
        - chart: {name: Checkout time, unit: seconds, metricName: shop_checkout_seconds, dataType: histogram}
        - chart: {name: Orders per pod, metricName: shop_orders_total, dataType: rate, groupLabels: [pod]}
"""


def test_a_users_own_kiali_dashboards_replace_and_add_to_the_built_in_ones(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's CR pasted: its JVM dashboard with neither a discovery metric nor items turns the built-in one
    off; its "go" takes the built-in one's place; its own "Shop Metrics" is discovered by shop_orders_total
    and charts a line per metric, a raw metric through its aggregator and scaled to its unit, and one chart
    of its "go", a histogram's average and quantiles, and a chart always split by its groupLabels."""
    config, problems = read_custom_dashboards(USERS)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY))
    qtbot.waitUntil(lambda: _offered(view) == ["Go runtime", "Shop Metrics"], timeout=20000)
    _choose(qtbot, view, "Shop Metrics")
    assert [c.chart.title for k, c in view.charts.items() if k.startswith("dashboard:shop:") and c.isVisible()] == \
        ["Orders and refunds", "Heap in use", "Goroutines", "Checkout time", "Orders per pod"]
    assert _last(_chart(view, "Orders and refunds")) == {"Orders": pytest.approx(5.0), "Refunds": pytest.approx(1.0)}
    assert _last(_chart(view, "Heap in use")) == {"Heap in use": pytest.approx(13.0)}  # the bigger pod's, in MB
    assert "(MB)" in _chart(view, "Heap in use").title_text()  # type: ignore[attr-defined]
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(90.0)}  # its "go"'s chart
    # a histogram: its average and quantiles, in seconds
    assert _last(_chart(view, "Checkout time")) == {
        "avg": pytest.approx(CHECKOUT.mean), "p50": pytest.approx(CHECKOUT.quantile(0.5)),
        "p95": pytest.approx(CHECKOUT.quantile(0.95)), "p99": pytest.approx(CHECKOUT.quantile(0.99))}
    checkout = _chart(view, "Checkout time")
    times = next(iter(checkout._lines.values())).times  # type: ignore[attr-defined]
    assert "avg: 0.5 s" in checkout.text_at(times[-1])  # type: ignore[attr-defined]  # (not "0 s")
    # groupLabels: a line per pod, always
    assert _last(_chart(view, "Orders per pod")) == {INVENTORY[0]: pytest.approx(2.0), INVENTORY[1]: pytest.approx(3.0)}
    _choose(qtbot, view, "Go runtime")
    assert [c.chart.title for k, c in view.charts.items() if k.startswith("dashboard:") and c.isVisible()] == \
        ["Goroutines"]
    # the JVM app: its dashboard is turned off
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, _workload("details-v1", "details", DETAILS))
    assert _offered(view) == [] and view.direction.currentText() == "Inbound"


def test_malformed_custom_dashboards_are_refused_in_settings_with_a_message(qtbot: QtBot, qapp: QApplication) -> None:
    """A chart with a dataType Kiali does not know: the editor stays open naming it; pasted into the row
    anyway, the dialog's OK refuses it and saves nothing. A good one is saved and read back."""
    from meshdesk.store import paths
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(contexts=["kind-dev"])
    qtbot.addWidget(dialog)
    assert dialog.dashboards.summary.text() == \
        "meshdesk's built-in (Go, JVM, Node.js); discovery up to 10 pods"
    bad = USERS.replace("dataType: rate", "dataType: rates", 1)
    editor = dialog.dashboards.edit()
    qtbot.addWidget(editor)
    editor.text.setPlainText(bad)
    editor.accept()
    assert editor.isVisible()
    assert editor.error.text() == \
        "dashboard 'shop', chart 'Orders and refunds': dataType 'rates' is none of rate, raw, histogram"
    editor.reject()
    dialog.dashboards.set_text(USERS.replace("metricName: go_memstats_heap_inuse_bytes", "metricname: heap"))
    assert dialog.dashboards.summary.text() == "not valid: edit them"
    assert not dialog.apply()
    assert dialog.error.text() == "Runtime dashboards: dashboard 'shop', chart 'Heap in use': 'metricname' is not " \
        "a field of a chart"
    assert not paths.settings_file().exists()
    dialog.dashboards.set_text(USERS)
    assert dialog.dashboards.summary.text() == \
        "3 of your own and meshdesk's built-in (Go, JVM, Node.js); discovery up to 10 pods"
    assert dialog.apply()
    saved = load_settings()
    assert saved.custom_dashboards == USERS
    assert [d.name for d in saved.dashboards_config().dashboards] == ["micrometer-1.1-jvm", "go", "shop"]


def test_a_settings_file_with_unreadable_dashboards_keeps_the_built_in_ones_and_says_so() -> None:
    import json

    from meshdesk.store import paths
    from meshdesk.store.settings import load_settings

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(json.dumps({"schema_version": 2, "general": {
        "custom_dashboards": "custom_dashboards: {name: go}"}}), encoding="utf-8")
    settings = load_settings()
    assert settings.custom_dashboards == ""
    assert any(w.startswith("settings: custom_dashboards is not a list of dashboards; dropped")
               for w in settings.warnings)


def test_the_demos_go_and_nodejs_workloads_have_their_runtime_dashboards(qtbot: QtBot) -> None:
    """python -m meshdesk --demo: inventory's pods name the Go dashboard, ratings' Node.js one is
    discovered; the charts are the demo's numbers for those pods."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import DemoMetrics, runtime_values

    now = 1_700_000_400.0
    demo = DemoCluster(clock=lambda: now)
    inventory = demo.snapshot(GraphRequest(queryTime=int(now), duration=60, namespaces=("shop",))).inventory
    assert inventory is not None
    view = MetricsView(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(view)
    _KEPT.append(view)
    view.show()
    go = inventory.workload("shop", "inventory-v1")
    assert go is not None
    _select(view, go)
    assert _offered(view) == ["Go Metrics"]
    _choose(qtbot, view, "Go Metrics")
    want = sum(runtime_values("go", p.name, now)["go_goroutines"] for p in go.pods)
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(want)}
    node = inventory.workload("shop", "ratings-v1")
    assert node is not None
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, node)
    assert _offered(view) == ["Node.js Metrics"] and view.direction.currentText() == "Inbound"
    _choose(qtbot, view, "Node.js Metrics")
    lag = runtime_values("nodejs", node.pods[0].name, now)["nodejs_eventloop_lag_seconds"] * 1000
    assert _last(_chart(view, "Event loop lag")) == {"Event loop lag": pytest.approx(lag)}


def test_tab_reaches_a_runtime_dashboards_charts_chosen_after_the_traffic_charts(qtbot: QtBot) -> None:
    """The demo's inventory workload on Inbound, then its Go Metrics: Tab from Refresh went past the Go
    charts (made after the traffic charts, they were at the end of the window's Tab chain) to whatever came
    after the dock; now it reaches the first Go chart, and one more Tab leaves the charts."""
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import DemoMetrics

    now = 1_700_000_400.0
    demo = DemoCluster(clock=lambda: now)
    inventory = demo.snapshot(GraphRequest(queryTime=int(now), duration=60, namespaces=("shop",))).inventory
    assert inventory is not None
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    view = MetricsView(DemoMetrics(demo), poll_ms=0)
    _KEPT.append(view)
    after = QLineEdit()
    lay.addWidget(view)
    lay.addWidget(after)
    host.resize(1000, 900)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is host, timeout=5000)
    go = inventory.workload("shop", "inventory-v1")
    assert go is not None
    _select(view, go)  # on Inbound: the traffic charts, made when the view was shown
    _choose(qtbot, view, "Go Metrics")
    view.refresh_button.setFocus()
    qtbot.waitUntil(view.refresh_button.hasFocus, timeout=5000)
    QTest.keyClick(view.refresh_button, Qt.Key.Key_Tab)
    reached = QApplication.focusWidget()
    QTest.keyClick(reached, Qt.Key.Key_Tab)
    left_to = QApplication.focusWidget()
    view.shutdown()  # (before the host takes the view with it)
    _KEPT.remove(view)
    # (the charts read after the keys: reading them all makes any not made yet, and orders them anew)
    assert reached is _chart(view, "Goroutines").plot  # type: ignore[attr-defined]
    assert left_to is after


def test_the_dashboard_chosen_is_named_whole_in_a_1024_pixel_windows_metrics_dock(qtbot: QtBot) -> None:
    """The demo's inventory workload's Go Metrics in the Metrics dock of a 1024x700 window (880 pixels wide):
    Show by came beside Split and Reported by, which a dashboard does not use (both off), and the choice
    read "Go Metri". They give way to it while a dashboard is charted, and are back on Inbound."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import DemoMetrics

    now = 1_700_000_400.0
    demo = DemoCluster(clock=lambda: now)
    inventory = demo.snapshot(GraphRequest(queryTime=int(now), duration=60, namespaces=("shop",))).inventory
    assert inventory is not None
    view = MetricsView(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(view)
    _KEPT.append(view)
    view.resize(880, 270)
    view.show()
    qtbot.waitExposed(view)
    go = inventory.workload("shop", "inventory-v1")
    assert go is not None
    _select(view, go)
    _choose(qtbot, view, "Go Metrics")
    choice = view.direction
    QApplication.sendPostedEvents()  # (the choices' row laid out anew, as the window's next turn does)
    assert choice.width() >= choice.sizeHint().width()  # "Go Metrics", whole
    assert view.show_by.isVisible() and not view.split.isVisible() and not view.reporter.isVisible()
    choice.setCurrentIndex(choice.findText("Inbound"))
    assert view.split.isVisible() and view.reporter.isVisible() and not view.show_by.isVisible()


def test_selecting_the_demos_go_workload_in_the_window_offers_its_dashboard(qtbot: QtBot) -> None:
    """The window passes the selected node's workload to the Metrics dock: the demo's inventory node offers
    "Go Metrics", charted when chosen; the reviews node, whose pods expose no runtime metrics, offers none;
    the inventory app's box, its app's."""
    import argparse

    from meshdesk.mesh.graph.model import BOX_APP, NODE_APP, NODE_BOX
    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    perf = w.extensions[0]
    perf.docks["Metrics"].show()
    qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
    metrics = perf.metrics
    node = w.graph.find_node(node_type=NODE_APP, namespace="shop", workload="inventory-v1")
    assert node is not None
    w.view.select([node.id])
    assert _offered(metrics) == ["Go Metrics"]
    _choose(qtbot, metrics, "Go Metrics")
    assert metrics.title.text() == "Go Metrics of workload shop/inventory-v1"
    assert _chart(metrics, "Goroutines").data()  # type: ignore[attr-defined]
    other = w.graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
    assert other is not None
    with qtbot.waitSignal(metrics.discovery().done, timeout=20000):
        w.view.select([other.id])
    assert _offered(metrics) == [] and metrics.direction.currentText() == "Inbound"
    # the inventory app's box: its app's dashboards (of every version's pods)
    box = next(n for n in w.graph.nodes.values() if n.node_type == NODE_BOX and n.box == BOX_APP
               and n.namespace == "shop" and n.app == "inventory")
    w.view.select([box.id])
    assert _offered(metrics) == ["Go Metrics"]
    _choose(qtbot, metrics, "Go Metrics")
    assert metrics.title.text() == "Go Metrics of app shop/inventory"
    w.close()
    next(windows, None)


def test_an_apps_dashboards_chart_all_its_workloads_pods_split_by_version(qtbot: QtBot,
                                                                         runtime_prometheus: PrometheusServer) -> None:
    """An app's node (no one workload behind it): its dashboards are found for its app label alone and
    chart every version's pods (inventory v1's two and v2's one), split by version if asked, as Kiali's app
    page adds "Version" to its dashboards."""
    from meshdesk.mesh.dashboards import DEFAULT_CONFIG, app_pods

    v1 = _workload("inventory-v1", "inventory", INVENTORY)
    v2 = Workload(name="inventory-v2", namespace=NS, labels={"app": "inventory", "version": "v2"},
                  pods=[Pod(name="inventory-v2-0", namespace=NS, labels={"app": "inventory", "version": "v2"})])
    view = _view(qtbot, runtime_prometheus)
    view.app_pods = app_pods(DEFAULT_CONFIG, NS, "inventory", [v1, v2])
    view.show_graph_selection(None, ["app inventory"])
    qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
    assert "Runtime dashboards of this app: Go Metrics" in view.direction.toolTip()
    _choose(qtbot, view, "Go Metrics")
    assert view.title.text() == "Go Metrics of app shop/inventory"
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(40.0 + 50.0 + 999.0)}
    # a chart of none of the app's pods' series says so of the app (it said "this workload's pods")
    assert _chart(view, "Resident memory").status_text == (  # type: ignore[attr-defined]
        "No data: Prometheus has no process_resident_memory_bytes of this app's pods in this range")
    assert [view.show_by.itemText(i) for i in range(view.show_by.count())] == ["No split", "Pod", "Version"]
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_by.setCurrentIndex(view.show_by.findText("Version"))
    assert _last(_chart(view, "Goroutines")) == {"v1": pytest.approx(90.0), "v2": pytest.approx(999.0)}


def test_discovery_asks_prometheus_once_for_every_dashboard_and_says_when_it_cannot(qtbot: QtBot) -> None:
    """One instant query for all the dashboards' discovery metrics of the workload's app and version (not
    one per dashboard, nor per pod); a Prometheus that refuses it leaves no further choice and the tooltip
    says why, and the next selection asks again."""
    from tests.prom_server import StubRequest, StubResponse, StubServer, prometheus_vector

    refuse: list[bool] = []

    def answer(req: StubRequest) -> StubResponse:
        if refuse:
            return StubResponse(status=503, body="upstream connect error")
        return StubResponse(body=prometheus_vector([({"__name__": "jvm_threads_live_threads"}, "1")]))

    with StubServer(answer) as server:
        view = MetricsView(PrometheusMetrics(PrometheusClient(server.url, timeout=5.0)), poll_ms=0)
        qtbot.addWidget(view)
        _KEPT.append(view)
        details = _workload("details-v1", "details", ("details-v1-0", "details-v1-1", "details-v1-2"))
        with qtbot.waitSignal(view.discovery().done, timeout=20000):
            _select(view, details)
        assert _offered(view) == ["JVM Metrics"]
        asked = [r.params["query"] for r in server.requests if r.path == "/api/v1/query"]
        names = '__name__=~"go_info|jvm_threads_live_threads|nodejs_active_handles_total",namespace="shop"'
        assert asked == [  # under each of Istio's label schemes, as Kiali tries them, in one query
            f'count({{{names},service_istio_io_canonical_name="details",service_istio_io_canonical_revision="v1"}} or '
            f'{{{names},app_kubernetes_io_name="details",app_kubernetes_io_version="v1"}} or '
            f'{{{names},app="details",version="v1"}}) by (__name__,service_istio_io_canonical_name,'
            'service_istio_io_canonical_revision,app_kubernetes_io_name,app_kubernetes_io_version,app,version)']
        refuse.append(True)
        with qtbot.waitSignal(view.discovery().failed, timeout=20000):
            _select(view, _workload("reviews-v1", "reviews", ("reviews-v1-0",)))
        assert _offered(view) == []
        assert "finding them failed: " in view.direction.toolTip()
        refuse.clear()
        with qtbot.waitSignal(view.discovery().done, timeout=20000):
            _select(view, details)
        assert _offered(view) == ["JVM Metrics"]


NAMESPACE_TEMPLATES = """\
- name: micrometer-1.1-jvm
- name: go
  title: Go in shop
  items:
    - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw}
"""
WORKLOAD_TEMPLATES = """\
- name: orders
  title: Orders
  items:
    - chart: {name: Orders, metricName: shop_orders_total, dataType: rate}
"""


def test_namespace_and_workload_template_annotations_define_dashboards_as_kiali_reads_them(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator) -> None:
    """A namespace's dashboards.kiali.io/templates annotation (a list of dashboards, as custom_dashboards)
    adds to the configured dashboards and takes the place of one of the same name (its "go" retitled, its
    JVM one turned off); a workload's pod template's adds dashboards of its own, which its pods may name;
    a malformed one is left out and the tooltip says why. Read from the cluster as Kiali reads them."""
    emu = kube_emulator
    emu.add({"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": NS, "annotations": {TEMPLATES_ANNOTATION: NAMESPACE_TEMPLATES}}})

    def deployment(name: str, annotations: dict[str, str]) -> dict[str, Any]:
        app, _, version = name.rpartition("-")
        labels = {"app": app, "version": version}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
                "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels, "annotations": annotations},
                                      "spec": {"containers": [{"name": app, "image": "i:1"}]}}}}

    emu.add(deployment("inventory-v1", {TEMPLATES_ANNOTATION: WORKLOAD_TEMPLATES, "kiali.io/dashboards": "orders,go"}))
    emu.add(deployment("details-v1", {}))
    emu.add(deployment("reviews-v1", {TEMPLATES_ANNOTATION: "- name: broken\n  items:\n    - chart: {name: Lag}\n"}))
    emu.run_workloads()
    from meshdesk.sources.inventory import read_inventory

    inv = read_inventory(emu.api_client(), [NS], cluster="Kubernetes")
    workloads = {w.name: w for w in inv.workloads}
    view = _view(qtbot, runtime_prometheus)
    view.namespace_of = inv.namespace
    _select(view, workloads["inventory-v1"])
    assert _offered(view) == ["Orders", "Go in shop"]  # the workload's own, and the namespace's "go"
    _choose(qtbot, view, "Orders")
    assert _last(_chart(view, "Orders")) == {"Orders": pytest.approx(5.0)}  # its pods' 2/s and 3/s
    _choose(qtbot, view, "Go in shop")
    assert [c.chart.title for k, c in view.charts.items() if k.startswith("dashboard:go:") and c.isVisible()] == \
        ["Goroutines"]
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(90.0)}
    # the JVM app: the namespace turned its dashboard off, so discovery finds none
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, workloads["details-v1"])
    assert _offered(view) == []
    # the malformed template: said, not a silent nothing
    with qtbot.waitSignal(view.discovery().done, timeout=20000):
        _select(view, workloads["reviews-v1"])
    assert "Left out: workload shop/reviews-v1's dashboards.kiali.io/templates: dashboard 'broken', chart 'Lag'" \
        in view.direction.toolTip()
    # without the namespace known, its templates are not: the built-in JVM dashboard is found again
    view.namespace_of = lambda _name: None
    _select(view, workloads["details-v1"])
    qtbot.waitUntil(lambda: _offered(view) == ["JVM Metrics"], timeout=20000)


def test_discovery_tries_each_of_istios_label_schemes_and_charts_by_the_one_found(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """A workload labelled app/version whose runtime's series carry its pod's app.kubernetes.io/name and
    /version labels instead: Kiali tries each of Istio's label schemes with the workload's app and version,
    so it finds its Go dashboard; meshdesk asked under app and version alone and found none. Its charts
    read the series under the scheme it was found by."""
    view = _view(qtbot, runtime_prometheus)
    _select(view, _workload("orders-v1", "orders", ("orders-v1-0",)))
    qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
    _choose(qtbot, view, "Go Metrics")
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(7.0)}
    # with istio_labels naming app and version, only those are read (as Kiali): none found
    named, _ = read_custom_dashboards("istio_labels:\n  app_label_name: app\n  version_label_name: version\n"
                                      "custom_dashboards: []\n")
    strict = _view(qtbot, runtime_prometheus, named)
    with qtbot.waitSignal(strict.discovery().done, timeout=20000):
        _select(strict, _workload("orders-v1", "orders", ("orders-v1-0",)))
    assert _offered(strict) == []


LAYOUT = """\
custom_dashboards:
  - name: shop-layout
    title: Shop layout
    rows: 3
    items:
      - chart: {name: Orders, metricName: shop_orders_total, dataType: rate, spans: 12}
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, spans: 6}
      - chart: {name: Heap, metricName: go_memstats_heap_inuse_bytes, dataType: raw, spans: 6}
      - chart: {name: Refunds, metricName: shop_refunds_total, dataType: rate, spans: 4}
      - chart: {name: Queue, metricName: shop_queue_depth, dataType: raw}
"""


def test_a_dashboards_spans_and_rows_lay_out_its_charts_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's layout of a dashboard: a chart ``spans`` twelfths of the row (12: alone on it, 6: two side by
    side, 4: a third), one without spans a whole row; ``rows: 3``: three rows of charts fill the charts'
    place. meshdesk laid out every chart two to a row."""
    config, problems = read_custom_dashboards(LAYOUT)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "shop-layout"}))
    _choose(qtbot, view, "Shop layout")
    orders, goroutines, heap = _chart(view, "Orders"), _chart(view, "Goroutines"), _chart(view, "Heap")
    refunds, shards = _chart(view, "Refunds"), _chart(view, "Queue")
    height = view._scroll.viewport().height()  # type: ignore[attr-defined]

    def laid_out() -> bool:
        return heap.x() > goroutines.x() and abs(orders.height() - height / 3) < 12  # type: ignore[attr-defined]

    qtbot.waitUntil(laid_out, timeout=5000)
    g = {name: c.geometry() for name, c in (("orders", orders), ("goroutines", goroutines), ("heap", heap),
                                             ("refunds", refunds), ("shards", shards))}  # type: ignore[attr-defined]
    assert g["goroutines"].y() == g["heap"].y() > g["orders"].y()  # two side by side under the wide one
    assert g["orders"].width() == pytest.approx(2 * g["goroutines"].width(), abs=16)
    assert g["refunds"].y() > g["heap"].y() and g["refunds"].width() == pytest.approx(g["orders"].width() / 3, abs=16)
    assert g["shards"].y() > g["refunds"].y() and g["shards"].width() == g["orders"].width()  # no spans: a row
    assert {r.height() for r in g.values()} == {g["orders"].height()}  # each a third of the place
    # the arrow keys go between the charts as they are laid out: Down from Heap to Refunds under it (not two
    # charts on, as if every row held two), Up from Refunds to Goroutines, then to Orders
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=5000)
    heap.plot.setFocus()  # type: ignore[attr-defined]
    qtbot.waitUntil(heap.plot.hasFocus, timeout=5000)  # type: ignore[attr-defined]
    for key, then in ((Qt.Key.Key_Down, refunds), (Qt.Key.Key_Up, goroutines), (Qt.Key.Key_Up, orders)):
        QTest.keyClick(QApplication.focusWidget(), key)
        assert QApplication.focusWidget() is then.plot, then.chart.title  # type: ignore[attr-defined]
    _, problems = read_custom_dashboards(LAYOUT.replace("spans: 4", "spans: 13"))
    assert problems == ["dashboard 'shop-layout', chart 'Refunds': spans 13 is not a width from 1 to 12 (twelfths of a row)"]
    # meshdesk's own Go dashboard: two to a row, as high as the place allows
    view.workload = None
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "go"}))
    _choose(qtbot, view, "Go Metrics")
    first, second = _chart(view, "Goroutines"), _chart(view, "Heap in use")
    qtbot.waitUntil(lambda: second.x() > first.x(), timeout=5000)  # type: ignore[attr-defined]
    assert first.y() == second.y() and first.width() == second.width()  # type: ignore[attr-defined]


SHORT_ROWS = """\
custom_dashboards:
  - name: go
    title: Go Metrics
    rows: 3
    items:
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, spans: 4}
      - chart: {name: Threads, metricName: go_threads, dataType: raw, spans: 4}
      - chart: {name: Heap, metricName: go_memstats_heap_inuse_bytes, dataType: raw, spans: 4}
      - chart: {name: CPU, metricName: process_cpu_seconds_total, dataType: rate, spans: 12}
"""


def test_a_dashboards_rows_in_a_short_dock_leave_each_chart_its_time_axis(qtbot: QtBot) -> None:
    """``rows: 3`` in a dock as short as a 1024x700 window gives it (the demo's inventory workload): a third of
    the place is less than a chart needs, and the charts were cut to it, their time axis and lower values
    hidden below their edge. Each is as high as it needs to be now (the others scrolled to), and in a tall
    dock still a third of the place."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import DemoMetrics

    config, problems = read_custom_dashboards(SHORT_ROWS)
    assert problems == []
    now = 1_700_000_400.0
    demo = DemoCluster(clock=lambda: now)
    inventory = demo.snapshot(GraphRequest(queryTime=int(now), duration=60, namespaces=("shop",))).inventory
    assert inventory is not None
    view = MetricsView(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(view)
    _KEPT.append(view)
    view.dashboards_config = lambda: config
    view.resize(880, 270)  # the Metrics dock of a 1024x700 window
    view.show()
    qtbot.waitExposed(view)
    go = inventory.workload("shop", "inventory-v1")
    assert go is not None
    _select(view, go)
    _choose(qtbot, view, "Go Metrics")
    charts = [_chart(view, title) for title in ("Goroutines", "Threads", "Heap", "CPU")]

    def whole(chart: Any) -> bool:  # its plot, the time axis at its foot, inside the chart
        return bool(chart.plot.geometry().bottom() < chart.height())

    qtbot.waitUntil(lambda: charts[3].y() > charts[0].y(), timeout=5000)  # laid out
    assert [c.chart.title for c in charts if not whole(c)] == []
    view.resize(880, 1000)
    height = view._scroll.viewport().height()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: abs(charts[0].height() - height / 3) < 12, timeout=5000)
    assert all(whole(c) for c in charts)


SORTED = """\
custom_dashboards:
  - name: queues
    title: Queues
    items:
      - chart: {name: Queue by shard, metricName: shop_queue_depth, dataType: raw, sortLabel: shard,
                sortLabelParseAs: int}
      - chart: {name: Queue by shard as text, metricName: shop_queue_depth, dataType: raw, sortLabel: shard}
"""


def test_a_charts_sort_label_orders_its_lines_as_in_kiali(qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """``sortLabel``: a line per value of that label, in its order in the legend (as numbers with
    ``sortLabelParseAs: int``: shard 1, 2, 10; else as text: 1, 10, 2). meshdesk read the field and drew
    one line of the sum."""
    config, problems = read_custom_dashboards(SORTED)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "queues"}))
    _choose(qtbot, view, "Queues")
    shards = _chart(view, "Queue by shard")
    assert list(_last(shards)) == ["1", "2", "10"]
    assert _last(shards) == {"1": pytest.approx(1.0), "2": pytest.approx(2.0), "10": pytest.approx(10.0)}
    assert list(_last(_chart(view, "Queue by shard as text"))) == ["1", "10", "2"]
    # a label that is not a label name is refused in words
    _, problems = read_custom_dashboards(SORTED.replace("sortLabel: shard}", "sortLabel: 'shard-id'}"))
    assert problems == ["dashboard 'queues', chart 'Queue by shard as text': sortLabel 'shard-id' is not a label name"]


DRAWN = """\
custom_dashboards:
  - name: drawn
    title: Drawn
    items:
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, chartType: bar, spans: 6}
      - chart: {name: Heap, metricName: go_memstats_heap_inuse_bytes, dataType: raw, chartType: area, spans: 6}
      - chart: {name: Orders, metricName: shop_orders_total, dataType: rate, chartType: scatter, spans: 6}
      - chart: {name: Refunds, metricName: shop_refunds_total, dataType: rate, spans: 6}
      - chart: {name: Orders per pod, metricName: shop_orders_total, dataType: rate, chartType: bar, spans: 6,
                groupLabels: [pod]}
"""


def test_a_charts_type_draws_its_lines_as_bars_an_area_or_points_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's ``chartType``: a bar chart draws a bar at each time (the goroutines, 90, as high as that), the
    bars of several lines side by side; an area chart fills under its line; a scatter chart draws points and
    no line; a chart that says nothing, a line. meshdesk drew every chart as lines."""
    import pyqtgraph as pg

    config, problems = read_custom_dashboards(DRAWN)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "drawn"}))
    _choose(qtbot, view, "Drawn")
    bars = next(iter(_chart(view, "Goroutines").items.values()))  # type: ignore[attr-defined]
    assert isinstance(bars, pg.BarGraphItem)
    heights = bars.opts["height"]
    assert len(heights) >= 10 and all(h == pytest.approx(90.0) for h in heights)
    area = next(iter(_chart(view, "Heap").items.values()))  # type: ignore[attr-defined]
    assert isinstance(area, pg.PlotDataItem) and area.opts["fillLevel"] == 0.0 and area.opts["fillBrush"] is not None
    points = next(iter(_chart(view, "Orders").items.values()))  # type: ignore[attr-defined]
    assert points.opts["symbol"] == "o" and points.opts["pen"] is None
    line = next(iter(_chart(view, "Refunds").items.values()))  # type: ignore[attr-defined]
    assert line.opts["symbol"] is None and line.opts["fillLevel"] is None and line.opts["pen"] is not None
    # two lines' bars at each time: side by side, not over each other
    per_pod = list(_chart(view, "Orders per pod").items.values())  # type: ignore[attr-defined]
    assert len(per_pod) == 2 and all(isinstance(b, pg.BarGraphItem) for b in per_pod)
    first, second = (b.opts["x"][-1] for b in per_pod)
    width = per_pod[0].opts["width"]
    assert second - first == pytest.approx(width) and width > 0
    assert sorted(b.opts["height"][-1] for b in per_pod) == [pytest.approx(2.0), pytest.approx(3.0)]
    legend = _chart(view, "Orders per pod").legend  # type: ignore[attr-defined]
    assert sorted(label.text for _, label in legend.items) == sorted(INVENTORY)  # each pod once
    _, problems = read_custom_dashboards(DRAWN.replace("chartType: scatter", "chartType: pie"))
    assert problems == ["dashboard 'drawn', chart 'Orders': chartType 'pie' is none of line, area, bar, scatter"]


RANGED = """\
custom_dashboards:
  - name: ranged
    title: Ranged
    items:
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, min: 20, max: 200, spans: 4}
      - chart: {name: Goroutines up to, metricName: go_goroutines, dataType: raw, max: 150, spans: 4}
      - chart: {name: Goroutines free, metricName: go_goroutines, dataType: raw, spans: 4}
"""


def test_a_charts_min_and_max_are_its_y_axis_ends_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's ``min`` and ``max``: the y axis runs from the one to the other whatever the data (90 goroutines
    on an axis of 20 to 200), from 0 when only the max is given, and stays so after a double-click returns the
    chart to following the data; a chart without them ranges on its data from 0. meshdesk read neither."""
    config, problems = read_custom_dashboards(RANGED)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "ranged"}))
    _choose(qtbot, view, "Ranged")
    both, up_to, free = (_chart(view, t) for t in ("Goroutines", "Goroutines up to", "Goroutines free"))

    def y_range(chart: Any) -> tuple[float, float]:
        low, high = chart.view_box.viewRange()[1]
        return round(low, 6), round(high, 6)

    qtbot.waitUntil(lambda: y_range(free)[1] > 90.0, timeout=5000)
    assert y_range(both) == (20.0, 200.0)
    assert y_range(up_to) == (0.0, 150.0)
    assert y_range(free)[0] == pytest.approx(0.0, abs=2) and y_range(free)[1] < 150.0
    both.reset_view()  # (what a double-click does)
    assert y_range(both) == (20.0, 200.0) and not both.user_zoomed
    _, problems = read_custom_dashboards(RANGED.replace("min: 20", "min: 0.5"))
    assert problems == ["dashboard 'ranged', chart 'Goroutines': min 0.5 is not a whole number (Kiali reads the "
                        "y axis' ends as such)"]
    _, problems = read_custom_dashboards(RANGED.replace("min: 20", "min: 300"))
    assert problems == ["dashboard 'ranged', chart 'Goroutines': min 300 is not below max 200"]


FOLDED = """\
custom_dashboards:
  - name: folded
    title: Folded
    rows: 2
    items:
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw, spans: 6}
      - chart: {name: Heap, metricName: go_memstats_heap_inuse_bytes, dataType: raw, spans: 6, startCollapsed: true}
"""


def test_a_chart_that_starts_collapsed_is_folded_until_clicked_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's ``startCollapsed``: the chart shows its title alone, folded, until its title (or the arrow
    beside it) is clicked; opened, it shows its data (25 MB of heap) as high as its neighbour; clicked again,
    it folds. meshdesk showed it open."""
    config, problems = read_custom_dashboards(FOLDED)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "folded"}))
    _choose(qtbot, view, "Folded")
    goroutines, heap = _chart(view, "Goroutines"), _chart(view, "Heap")
    assert heap.title.isVisible() and not heap.plot.isVisible()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: goroutines.height() > 150, timeout=5000)  # type: ignore[attr-defined]
    assert heap.height() < 50  # type: ignore[attr-defined]  # its title's height
    assert heap.y() == goroutines.y()  # type: ignore[attr-defined]  # (at the top of its row)
    assert not goroutines.collapsed and goroutines.fold_button is None  # type: ignore[attr-defined]
    with qtbot.waitSignal(heap.folded, timeout=5000):  # type: ignore[attr-defined]
        qtbot.mouseClick(heap.title, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: heap.plot.isVisible() and heap.height() == goroutines.height(),  # type: ignore[attr-defined]
                    timeout=5000)
    assert _last(heap) == {"Heap": pytest.approx(25e6)}
    with qtbot.waitSignal(heap.folded, timeout=5000):  # type: ignore[attr-defined]
        qtbot.mouseClick(heap.fold_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not heap.plot.isVisible() and heap.height() < 50, timeout=5000)  # type: ignore[attr-defined]
    _, problems = read_custom_dashboards(FOLDED.replace("startCollapsed: true", "startCollapsed: 'yes'"))
    assert problems == ["dashboard 'folded', chart 'Heap': startCollapsed 'yes' is neither true nor false"]


SERIES = """\
custom_dashboards:
  - name: series
    title: Series
    items:
      - chart: {name: Goroutines per pod, metricName: go_goroutines, dataType: raw, xAxis: series, groupLabels: [pod]}
      - chart: {name: Orders per pod, metricName: shop_orders_total, dataType: rate, xAxis: series, chartType: scatter,
                groupLabels: [pod]}
"""


def test_a_chart_of_series_draws_a_bar_per_line_of_its_latest_value_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's ``xAxis: series``: no time axis, a bar per line (each pod's goroutines, 40 and 50: their latest
    values), named under it; the crosshair says the bar's value; with ``chartType: scatter``, a point per line.
    meshdesk drew lines over time."""
    import pyqtgraph as pg

    config, problems = read_custom_dashboards(SERIES)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "series"}))
    _choose(qtbot, view, "Series")
    chart = _chart(view, "Goroutines per pod")
    assert chart.time_axis is None and chart.plot.getAxis("bottom") is chart.series_axis  # type: ignore[attr-defined]
    bars = list(chart.items.values())  # type: ignore[attr-defined]
    assert all(isinstance(b, pg.BarGraphItem) for b in bars)
    drawn = {chart.series_axis.names[int(b.opts["x"][0]) - 1]: b.opts["height"][0] for b in bars}  # type: ignore[attr-defined]
    assert drawn == {INVENTORY[0]: pytest.approx(40.0), INVENTORY[1]: pytest.approx(50.0)}
    assert sorted(float(b.opts["x"][0]) for b in bars) == [1.0, 2.0]
    assert chart.series_axis.tickStrings([1.0, 2.0], 1.0, 1.0) == list(INVENTORY)  # type: ignore[attr-defined]
    def bars_in_sight() -> bool:  # (pyqtgraph ranges its view at its next paint: the bars, not the time of day)
        low, high = chart.view_box.viewRange()[0]  # type: ignore[attr-defined]
        return bool(low < 1.0 and 2.0 < high < 10.0)
    qtbot.waitUntil(bars_in_sight, timeout=5000)
    assert chart.text_at(2.0).endswith(f"{INVENTORY[1]}: 50")  # type: ignore[attr-defined]
    points = list(_chart(view, "Orders per pod").items.values())  # type: ignore[attr-defined]
    assert [p.opts["symbol"] for p in points] == ["o", "o"]
    assert sorted(float(p.yData[0]) for p in points) == [pytest.approx(2.0), pytest.approx(3.0)]
    _, problems = read_custom_dashboards(SERIES.replace("xAxis: series, chartType", "xAxis: pods, chartType"))
    assert problems == ["dashboard 'series', chart 'Orders per pod': xAxis 'pods' is none of time, series"]


SINGLE = """\
custom_dashboards:
  - name: single
    title: One pod at a time
    items:
      - chart:
          name: Goroutines
          metricName: go_goroutines
          dataType: raw
          aggregations: [{label: pod, displayName: Pod, singleSelection: true}]
      - chart: {name: Heap, metricName: go_memstats_heap_inuse_bytes, dataType: raw, aggregations: [{label: pod}]}
"""


def test_a_label_of_single_selection_shows_one_of_its_values_at_a_time_as_in_kiali(
        qtbot: QtBot, runtime_prometheus: PrometheusServer) -> None:
    """Kiali's aggregation ``singleSelection``: shown by that label (the pod), the charts show the lines of one
    of its values at a time, the first met at first; a choice beside Show by offers the others, and another
    chosen shows its lines alone. meshdesk drew every pod's line at once."""
    config, problems = read_custom_dashboards(SINGLE)
    assert problems == []
    view = _view(qtbot, runtime_prometheus, config)
    _select(view, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "single"}))
    _choose(qtbot, view, "One pod at a time")
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(90.0)}  # (no split: summed)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_by.setCurrentIndex(view.show_by.findData("pod"))
    assert len(_last(_chart(view, "Goroutines"))) == 1  # one pod's line
    assert view.show_value.isVisible() and view.show_value.isEnabled()
    offered = [view.show_value.itemText(i) for i in range(view.show_value.count())]
    assert sorted(offered) == sorted(INVENTORY)
    first = offered[0]
    assert view.show_value.currentText() == first
    goroutines = {INVENTORY[0]: pytest.approx(40.0), INVENTORY[1]: pytest.approx(50.0)}
    assert _last(_chart(view, "Goroutines")) == {first: goroutines[first]}
    assert list(_last(_chart(view, "Heap"))) == [first]  # (split by the same label: the same pod's)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_value.setCurrentIndex(1)
    assert _last(_chart(view, "Goroutines")) == {offered[1]: goroutines[offered[1]]}
    # a refresh keeps the pod chosen; No split: the choice goes
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.refresh()
    assert view.show_value.currentText() == offered[1]
    assert _last(_chart(view, "Goroutines")) == {offered[1]: goroutines[offered[1]]}
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_by.setCurrentIndex(0)
    assert not view.show_value.isVisible()
    assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(90.0)}
    _, problems = read_custom_dashboards(SINGLE.replace("singleSelection: true", "singleSelection: 'one'"))
    assert problems == ["dashboard 'single', chart 'Goroutines': aggregation 'pod': singleSelection 'one' is neither "
                        "true nor false"]


def _window(qtbot: QtBot, emu: KubeEmulator, tmp_path: Path) -> tuple[Any, Any]:
    """A window on the cluster's context "prod-east" (its Prometheus as Settings give it), with its docks."""
    from meshdesk.ui.mainwindow import MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    emu.add_namespace(NS)
    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context="prod-east"))
    w = MainWindow(contexts=["prod-east"], context="prod-east", kubeconfig=config, namespaces=[NS])
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    qtbot.waitUntil(lambda: perf.metrics.source is not None, timeout=20000)
    return w, perf


@contextlib.contextmanager
def _grafana_window(qtbot: QtBot, emu: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer, dashboards: str,
                    titles: tuple[str, ...]) -> Iterator[tuple[Any, Any, list[str]]]:
    """The window of context prod-east with ``dashboards`` as its runtime dashboards, its charts read from
    ``prometheus`` and Grafana an emulator holding Istio's dashboards and ``titles``: (the Performance views, the
    Grafana, the URLs the browser was asked to open); all closed after."""
    from meshdesk.store.settings import load_settings
    from tests.grafana_emulator import ISTIO_TITLES, GrafanaEmulator

    grafana = GrafanaEmulator(titles=(*ISTIO_TITLES, *titles)).start()
    settings = load_settings()
    settings.custom_dashboards = dashboards
    settings.set_context_settings("prod-east", ContextSettings(prometheus_url=prometheus.url,
                                                               grafana_url=grafana.url))
    settings.save()
    w, perf = _window(qtbot, emu, tmp_path)
    opened: list[str] = []
    perf.grafana._open_url = lambda url: opened.append(url.toString()) is None  # (the browser)
    try:
        yield perf, grafana, opened
    finally:
        perf.shutdown()
        w.close()
        grafana.stop()


def test_a_live_clusters_workloads_have_their_dashboards_discovered(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """On a cluster (not only the demo), a workload's dashboards are discovered in its Prometheus: the
    cluster's metrics source could not be asked, so only the dashboards its pods named were ever offered."""
    from meshdesk.store.settings import ContextSettings, load_settings

    settings = load_settings()
    settings.set_context_settings("prod-east", ContextSettings(prometheus_url=runtime_prometheus.url))
    settings.save()
    w, perf = _window(qtbot, kube_emulator, tmp_path)
    try:
        with qtbot.waitSignal(perf.metrics.discovery().done, timeout=20000):
            _select(perf.metrics, _workload("details-v1", "details", DETAILS))
        assert _offered(perf.metrics) == ["JVM Metrics"]
    finally:
        perf.shutdown()
        w.close()


def test_a_context_with_its_own_kialis_dashboards_configuration_is_charted_by_it(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """Each cluster's Kiali is configured apart: a context given its own Kiali's configuration in Settings
    (here discovery turned off) has the Metrics dock find its dashboards by it, not by the general one; its
    own forgotten, the general one (discovery on) finds the JVM app's dashboard again."""
    from meshdesk.store.settings import ContextSettings, load_settings

    off = "external_services:\n  custom_dashboards:\n    discovery_enabled: false\n"
    settings = load_settings()
    settings.set_context_settings("prod-east", ContextSettings(prometheus_url=runtime_prometheus.url,
                                                               custom_dashboards=off))
    settings.save()
    assert load_settings().context_settings("prod-east").custom_dashboards == off
    assert load_settings().dashboards_config_for("other").discovery == "auto"  # the general one's
    w, perf = _window(qtbot, kube_emulator, tmp_path)
    try:
        _select(perf.metrics, _workload("details-v1", "details", DETAILS))
        assert _offered(perf.metrics) == []
        assert "discovery is off for it (discovery_enabled: false)" in perf.metrics.direction.toolTip()
        saved = load_settings()
        saved.set_context_settings("prod-east", ContextSettings(prometheus_url=runtime_prometheus.url))
        saved.save()
        w._on_settings_saved(saved)  # (as the Settings dialog's OK does)
        qtbot.waitUntil(lambda: _offered(perf.metrics) == ["JVM Metrics"], timeout=20000)
    finally:
        perf.shutdown()
        w.close()


LINKED = """\
custom_dashboards:
  - name: go-linked
    title: Go with Grafana
    externalLinks:
      - {type: other, name: Not Grafana}
      - name: Go Processes
        type: grafana
        variables: {namespace: var-namespace, app: var-app, workload: var-workload, version: var-version}
    items:
      - chart: {name: Goroutines, metricName: go_goroutines, dataType: raw}
"""


def test_view_in_grafana_opens_the_grafana_dashboard_a_runtime_dashboard_links_to(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """A dashboard's externalLinks (Kiali's: a Grafana dashboard by name, and the Grafana variables it sets):
    with it charted, "View in Grafana" opens that Grafana dashboard with the workload, its namespace and
    version set, over the range shown, as Kiali's link beside its charts; meshdesk opened Istio's workload
    dashboard, which has none of the runtime's metrics. Another dashboard: Istio's again."""
    _, problems = read_custom_dashboards(LINKED.replace("workload: var-workload", "pod: var-pod"))
    assert problems == ["dashboard 'go-linked': external link 'Go Processes' needs a Grafana dashboard's name and "
                        "variables (app, datasource, namespace, service, version, workload) naming Grafana's "
                        "variables ('pod' is not one)"]
    with _grafana_window(qtbot, kube_emulator, tmp_path, runtime_prometheus, LINKED,
                         ("Go Processes",)) as (perf, grafana, opened):
        _select(perf.metrics, _workload("inventory-v1", "inventory", INVENTORY,
                                        {"kiali.io/dashboards": "go-linked,go"}))
        _choose(qtbot, perf.metrics, "Go with Grafana")
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: bool(opened), timeout=20000)
        url = opened[0]
        assert url.startswith(f"{grafana.url}/d/{grafana.uid('Go Processes')}/")
        query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
        assert {k: query[k] for k in ("var-workload", "var-namespace", "var-version")} == {
            "var-workload": "inventory-v1", "var-namespace": NS, "var-version": "v1"}
        assert "var-app" not in query and query["from"] == "now-1800s"
        assert perf.metrics.grafana_note.text().startswith("Go Processes is open in your browser")
        _choose(qtbot, perf.metrics, "Go Metrics")  # meshdesk's own, which links to none: Istio's
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: len(opened) == 2, timeout=20000)
        assert opened[1].startswith(f"{grafana.url}/d/{grafana.uid('Istio Mesh Dashboard')}/")


def test_view_in_grafana_sets_the_datasource_variable_to_kialis_grafana_datasource(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """A runtime dashboard's Grafana link naming a ``datasource`` variable: with Kiali's
    ``external_services.grafana.datasource_uid`` pasted beside the dashboards, "View in Grafana" sets that
    variable to the uid, as Kiali's link does (Grafana's dashboard then reads the Prometheus the runtime's
    metrics are in, not its default one); meshdesk left it out."""
    linked = LINKED.replace("version: var-version}", "version: var-version, datasource: var-ds}")
    text = "external_services:\n  grafana:\n    datasource_uid: P1809F7CD0C75ACF3\n" + linked
    _, problems = read_custom_dashboards(text)
    assert problems == []
    with _grafana_window(qtbot, kube_emulator, tmp_path, runtime_prometheus, text,
                         ("Go Processes",)) as (perf, _grafana, opened):
        _select(perf.metrics, _workload("inventory-v1", "inventory", INVENTORY, {"kiali.io/dashboards": "go-linked"}))
        _choose(qtbot, perf.metrics, "Go with Grafana")
        assert perf.view_in_grafana()
        qtbot.waitUntil(lambda: bool(opened), timeout=20000)
        query = dict(part.split("=", 1) for part in opened[0].split("?", 1)[1].split("&"))
        assert (query.get("var-ds"), query["var-workload"]) == ("P1809F7CD0C75ACF3", "inventory-v1")
    _, problems = read_custom_dashboards(text.replace("datasource_uid: P1809F7CD0C75ACF3", "datasource_uid: [a]"))
    assert problems == ["external_services.grafana.datasource_uid is not text"]


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # (a popup menu, offscreen)
def test_view_in_grafana_offers_every_grafana_dashboard_a_runtime_dashboard_links_to(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """A dashboard linking to two Grafana dashboards (Kiali lists them all): "View in Grafana" offers both in
    a menu under the button, in their order, and the second chosen opens with the workload's variables set
    as the first would be (meshdesk opened the first alone)."""
    linked = LINKED.replace("    items:", "      - name: Go Memory\n        type: grafana\n"
                                       "        variables: {namespace: var-ns, workload: var-wl}\n    items:")
    with _grafana_window(qtbot, kube_emulator, tmp_path, runtime_prometheus, linked,
                         ("Go Processes", "Go Memory",)) as (perf, grafana, opened):
        _select(perf.metrics, _workload("inventory-v1", "inventory", INVENTORY,
                                        {"kiali.io/dashboards": "go-linked,go"}))
        _choose(qtbot, perf.metrics, "Go with Grafana")
        qtbot.waitUntil(lambda: perf.metrics.grafana_button.isEnabled(), timeout=20000)
        qtbot.mouseClick(perf.metrics.grafana_button, Qt.MouseButton.LeftButton)

        def popup() -> QMenu | None:
            return next((m for m in QApplication.topLevelWidgets() if isinstance(m, QMenu) and m.isVisible()
                         and m.accessibleName() == "Grafana dashboards linked"), None)

        qtbot.waitUntil(lambda: popup() is not None or bool(opened), timeout=20000)
        assert opened == []  # (nothing opened before one is chosen: meshdesk opened the first)
        menu = popup()
        assert menu is not None
        assert [a.text() for a in menu.actions()] == ["Go Processes", "Go Memory"]
        menu.actions()[1].trigger()
        qtbot.waitUntil(lambda: bool(opened), timeout=20000)
        url = opened[0]
        assert url.startswith(f"{grafana.url}/d/{grafana.uid('Go Memory')}/")
        query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
        assert (query["var-wl"], query["var-ns"], query["from"]) == ("inventory-v1", NS, "now-1800s")
        assert perf.metrics.grafana_note.text().startswith("Go Memory is open in your browser")


# a login the dashboards' own Prometheus wants (its web config's basic_auth_users: the bcrypt hash of the password)
_LOGIN = ("kiali", "dash-Secret-77", "$2b$04$0dhw3E/BWq6mt17//vWQueKZ4PrhmRDfBsUFVXqCm2B12kvbF1obu")


def test_the_dashboards_own_prometheus_is_logged_in_to_as_kialis_config_says(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, tmp_path: Path) -> None:
    """Kiali's external_services.custom_dashboards.prometheus.auth: a Prometheus of the dashboards' own that
    wants a login (basic auth) is read with the username and password given there, and its Go app's
    goroutines (123) are charted; the password is in neither the settings' repr nor the summary."""
    own = PrometheusServer(tmp_path, [
        Series("go_info", _pod_labels(INVENTORY[0], "inventory", "v1"), 0.0, start_value=1.0),
        Series("go_goroutines", _pod_labels(INVENTORY[0], "inventory", "v1"), 0.0, start_value=123.0)],
        basic_auth=_LOGIN)
    own.start()
    try:
        assert requests.get(f"{own.url}/api/v1/query", params={"query": "go_info"}, timeout=10).status_code == 401
        text = (f"external_services:\n  custom_dashboards:\n    prometheus:\n      url: {own.url}\n"
                f"      auth:\n        type: basic\n        username: {_LOGIN[0]}\n        password: {_LOGIN[1]}\n")
        config, problems = read_custom_dashboards(text)
        assert problems == []
        assert dashboards_summary(config).endswith(f"from the Prometheus at {own.url} (basic auth)")
        assert _LOGIN[1] not in repr(config)
        assert _LOGIN[1] not in repr(ContextSettings(custom_dashboards=text))
        view = _view(qtbot, runtime_prometheus, config)
        _select(view, _workload("inventory-v1", "inventory", INVENTORY))
        qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
        _choose(qtbot, view, "Go Metrics")
        assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(123.0)}
        _, problems = read_custom_dashboards(text.replace("type: basic", "type: bearer"))
        assert problems == ["prometheus.auth.type is bearer but no token is given"]
    finally:
        own.stop()


def test_a_prometheus_of_the_dashboards_own_is_where_they_are_found_and_read(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, tmp_path: Path) -> None:
    """Kiali's external_services.custom_dashboards.prometheus.url: the runtime dashboards are discovered in,
    and charted from, that Prometheus (the runtimes' own, here with the Go app's goroutines at 123), not the
    one the Istio charts read (whose 90 meshdesk charted); Settings' summary names it."""
    own = PrometheusServer(tmp_path, [
        Series("go_info", _pod_labels(INVENTORY[0], "inventory", "v1"), 0.0, start_value=1.0),
        Series("go_goroutines", _pod_labels(INVENTORY[0], "inventory", "v1"), 0.0, start_value=123.0)])
    own.start()
    try:
        config, problems = read_custom_dashboards(
            f"external_services:\n  custom_dashboards:\n    prometheus:\n      url: {own.url}\n")
        assert problems == []
        assert dashboards_summary(config).endswith(f"from the Prometheus at {own.url}")
        view = _view(qtbot, runtime_prometheus, config)
        _select(view, _workload("details-v1", "details", DETAILS))  # a JVM app in the main one only
        qtbot.waitUntil(lambda: "Prometheus has no discovery metric" in view.direction.toolTip(), timeout=20000)
        assert _offered(view) == []
        _select(view, _workload("inventory-v1", "inventory", INVENTORY))
        qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
        _choose(qtbot, view, "Go Metrics")
        assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(123.0)}
        _, problems = read_custom_dashboards("external_services:\n  custom_dashboards:\n    prometheus:\n"
                                             "      url: prometheus:9090\n")
        assert problems == ["prometheus.url 'prometheus:9090' is not an http(s) address"]
    finally:
        own.stop()


def test_the_query_scope_of_the_prometheus_the_dashboards_are_read_from_keeps_every_query_to_it(
        qtbot: QtBot, runtime_prometheus: PrometheusServer, tmp_path: Path) -> None:
    """Kiali's ``query_scope``: a Prometheus shared by two clusters (its series labelled by cluster) is asked
    for the runtime dashboards with the scope's labels added to every query, discovery too, as Kiali adds them
    (a value with a double quote in it matched as written): the east cluster's goroutines (123), not the sum
    with the west's (130); a dashboards' Prometheus of their own is kept to its own scope, not the main one's.
    meshdesk read neither scope and charted both clusters' pods."""
    east = {**_pod_labels(INVENTORY[0], "inventory", "v1"), "cluster": "east", "team": 'shop "blue"'}
    west = {**_pod_labels(INVENTORY[0], "inventory", "v1"), "cluster": "west", "team": "shop"}
    shared = [Series("go_info", east, 0.0, start_value=1.0), Series("go_goroutines", east, 0.0, start_value=123.0),
              Series("go_info", west, 0.0, start_value=1.0), Series("go_goroutines", west, 0.0, start_value=7.0),
              # a JVM app in the west cluster only: not discovered in the east's scope
              Series("jvm_threads_live_threads", {**_pod_labels(DETAILS[0], "details", "v1"), "cluster": "west"}, 0.0,
                     start_value=31.0)]
    (tmp_path / "shared").mkdir()
    srv = PrometheusServer(tmp_path / "shared", shared)
    srv.start()
    try:
        main_scope = "external_services:\n  prometheus:\n    query_scope:\n      cluster: east\n" \
                     "      team: 'shop \"blue\"'\n  custom_dashboards:\n    discovery_enabled: true\n"
        config, problems = read_custom_dashboards(main_scope)
        assert problems == []
        view = _view(qtbot, srv, config)
        _select(view, _workload("inventory-v1", "inventory", INVENTORY))
        qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
        _choose(qtbot, view, "Go Metrics")
        assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(123.0)}
        with qtbot.waitSignal(view.discovery().done, timeout=20000):
            _select(view, _workload("details-v1", "details", DETAILS))
        assert _offered(view) == []
        view.shutdown()
        # the dashboards' own Prometheus (the same server here) with a scope of its own: the main one's is not its
        own = (f"{main_scope}    prometheus:\n      url: {srv.url}\n      query_scope:\n        cluster: west\n")
        config, problems = read_custom_dashboards(own)
        assert problems == []
        view = _view(qtbot, srv, config)
        _select(view, _workload("inventory-v1", "inventory", INVENTORY))
        qtbot.waitUntil(lambda: _offered(view) == ["Go Metrics"], timeout=20000)
        _choose(qtbot, view, "Go Metrics")
        assert _last(_chart(view, "Goroutines")) == {"Goroutines": pytest.approx(7.0)}
        _, problems = read_custom_dashboards(main_scope.replace("      cluster: east\n", "      cluster: [east]\n"))
        assert problems == ["external_services.prometheus.query_scope is not a mapping of label names to values"]
    finally:
        srv.stop()
