"""The proxies' own metrics (Envoy's statistics as Prometheus scrapes them from each pod), charted one
line per pod, as Kiali's "Envoy Metrics" tab of a workload: real Prometheus numbers, escaping, the
words when Prometheus does not scrape the proxies, and the metrics view's "Envoy proxy" choice in the
demo."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.inventory import Container, Pod, Workload
from meshdesk.mesh.metrics import (
    PROXY,
    PROXY_CHARTS,
    PROXY_OTHER_CLUSTERS,
    PROXY_SCRAPED,
    MetricsSpec,
    MetricsTarget,
)
from meshdesk.sources.metrics import PrometheusMetrics
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.ui.charts import duration_text, format_value
from meshdesk.ui.metrics_view import MetricsView
from tests.prom_server import PrometheusServer, Series, binaries_missing, prometheus_server  # noqa: F401

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]

NS = "shop"
PODS = ("reviews-v2-7f9c-abcde", "reviews-v2-7f9c-fghij")
# a pod name with a dot (a DNS subdomain may have one): matched literally, never as "any character"
DOTTED = "api.v1-0"
LEAN = "details-v1-0"


def _envoy_series() -> list[Series]:
    out: list[Series] = []
    for i, pod in enumerate(PODS):
        labels = {"namespace": NS, "pod": pod, "app": "reviews", "version": "v2"}
        out += [
            # gauges: a series growing 1 a second (uptime), or not at all
            Series("envoy_server_uptime", labels, 1.0, start_value=3600.0 * (i + 1)),
            Series("envoy_server_memory_allocated", labels, 0.0, start_value=25e6 + 1e6 * i),
            Series("envoy_server_memory_heap_size", labels, 0.0, start_value=32e6),
            # per upstream cluster: summed per pod
            Series("envoy_cluster_upstream_cx_active", {**labels, "cluster_name": "xds-grpc"}, 0.0, start_value=1.0),
            Series("envoy_cluster_upstream_cx_active", {**labels, "cluster_name": "outbound|9080||ratings"}, 0.0,
                   start_value=4.0 + i),
            Series("envoy_cluster_upstream_rq_total", {**labels, "cluster_name": "xds-grpc"}, 0.5),
            Series("envoy_cluster_upstream_rq_total", {**labels, "cluster_name": "outbound|9080||ratings"}, 3.0 + i),
            Series("envoy_listener_downstream_cx_active", {**labels, "listener_address": "0.0.0.0_15006"}, 0.0,
                   start_value=2.0),
            Series("envoy_listener_http_downstream_rq", {**labels, "listener_address": "0.0.0.0_15006"}, 2.5),
        ]
    # a proxy as Istio configures it by default: its server's statistics and istiod connection's only
    lean = {"namespace": NS, "pod": LEAN, "app": "details", "version": "v1"}
    out += [Series("envoy_server_uptime", lean, 1.0, start_value=600.0),
            Series("envoy_server_memory_allocated", lean, 0.0, start_value=20e6),
            Series("envoy_cluster_upstream_cx_active", {**lean, "cluster_name": "xds-grpc"}, 0.0, start_value=1.0),
            Series("envoy_cluster_upstream_rq_total", {**lean, "cluster_name": "xds-grpc"}, 0.5)]
    # the same names in another namespace, and a pod whose name only matches the dotted one as a regex
    out.append(Series("envoy_server_memory_allocated", {"namespace": "other", "pod": PODS[0]}, 0.0, start_value=9e9))
    out.append(Series("envoy_server_memory_allocated", {"namespace": NS, "pod": "apiXv1-0"}, 0.0, start_value=7e9))
    out.append(Series("envoy_server_memory_allocated", {"namespace": NS, "pod": DOTTED}, 0.0, start_value=30e6))
    return out


@pytest.fixture(scope="module")
def envoy_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    srv = PrometheusServer(Path(tmp_path_factory.mktemp("envoy-prometheus")), _envoy_series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _spec(srv: PrometheusServer) -> MetricsSpec:
    return MetricsSpec(range_s=600, step_s=60, end=srv.query_time)


def _last(result: object, chart: str) -> dict[str, float]:
    return {ln.split_value: ln.values[-1] for ln in result.chart_lines(chart)}  # type: ignore[attr-defined]


def test_proxy_charts_read_each_pods_envoy_statistics(envoy_prometheus: PrometheusServer) -> None:
    metrics = PrometheusMetrics(PrometheusClient(envoy_prometheus.url))
    r = metrics.fetch(MetricsTarget.proxy(NS, "reviews-v2", PODS), _spec(envoy_prometheus))
    assert r.errors == {} and set(r.lines) == {c.key for c in PROXY_CHARTS} | {PROXY_SCRAPED, PROXY_OTHER_CLUSTERS}
    # the clusters the two report besides istiod's: one each
    assert [ln.values[-1] for ln in r.chart_lines(PROXY_OTHER_CLUSTERS)] == [pytest.approx(2.0)]
    # every proxy Prometheus has, whatever its pod: the two, the lean one, the dotted one
    assert [ln.values[-1] for ln in r.chart_lines(PROXY_SCRAPED)] == [pytest.approx(3.0)]
    # a second more up each second: at the range's end (on the step grid, before the data's "now")
    behind = envoy_prometheus.query_time - r.end
    assert _last(r, "proxy_uptime") == {PODS[0]: pytest.approx(3600.0 - behind), PODS[1]: pytest.approx(7200.0 - behind)}
    # the pod of the same name in another namespace is not this one
    assert _last(r, "proxy_memory_allocated") == {PODS[0]: pytest.approx(25e6), PODS[1]: pytest.approx(26e6)}
    assert _last(r, "proxy_heap_size") == {PODS[0]: pytest.approx(32e6), PODS[1]: pytest.approx(32e6)}
    # every upstream cluster of a pod adds up: istiod's connection and the service's
    assert _last(r, "proxy_upstream_cx_active") == {PODS[0]: pytest.approx(5.0), PODS[1]: pytest.approx(6.0)}
    assert _last(r, "proxy_upstream_rq") == {PODS[0]: pytest.approx(3.5), PODS[1]: pytest.approx(4.5)}
    assert _last(r, "proxy_downstream_cx_active") == {PODS[0]: pytest.approx(2.0), PODS[1]: pytest.approx(2.0)}
    assert _last(r, "proxy_downstream_rq") == {PODS[0]: pytest.approx(2.5), PODS[1]: pytest.approx(2.5)}
    # a dot in a pod's name is a dot: the pod whose name matches it only as a regex is left out
    # (two pods: a regex match, where an unescaped dot would take in "apiXv1-0" too)
    dotted = metrics.fetch(MetricsTarget.proxy(NS, "api", [DOTTED, "api-v2-0"]), _spec(envoy_prometheus))
    assert _last(dotted, "proxy_memory_allocated") == {DOTTED: pytest.approx(30e6)}


def test_a_duration_reads_in_its_two_largest_units() -> None:
    assert [duration_text(s) for s in (42, 200, 3 * 3600 + 720, 24 * 86400 + 3 * 3600 + 59)] == \
        ["42 s", "3 min 20 s", "3 h 12 min", "24 d 3 h"]
    assert format_value(7200.0, "s") == "2 h 0 min" and format_value(5.0, "conn") == "5 conn"


def test_an_uptime_axis_ticks_at_whole_days(qtbot: QtBot) -> None:
    from meshdesk.ui.charts import UnitAxis

    axis = UnitAxis("s", orientation="left")
    axis.setRange(0, 29.5 * 86400)
    spacings = [spacing for spacing, _offset in axis.tickSpacing(0, 29.5 * 86400, 300)]
    assert spacings and all(s % 86400 == 0 for s in spacings)
    values = axis.tickValues(0, 29.5 * 86400, 300)[0][1]
    labels = axis.tickStrings(values, 1.0, spacings[0])
    assert labels[:2] == ["0 d", f"{spacings[0] // 86400:.0f} d"] and all(re.fullmatch(r"\d+ d", t) for t in labels)
    # under two days of seconds: hours, the same way; under two minutes: plain seconds, pyqtgraph's steps
    axis.setRange(0, 30 * 3600)
    assert all(s % 3600 == 0 for s, _o in axis.tickSpacing(0, 30 * 3600, 300))
    axis.setRange(0, 100)
    assert axis.tickSpacing(0, 100, 300) == pg_levels(0, 100, 300)


def pg_levels(lo: float, hi: float, size: float) -> list[tuple[float, float]]:
    import pyqtgraph as pg

    return list(pg.AxisItem(orientation="left").tickSpacing(lo, hi, size))


def _workload(pods: tuple[str, ...], *, sidecar: bool = True) -> Workload:
    containers = [Container("app", "img:1", True)] + ([Container("istio-proxy", "proxyv2:1.24", True)] if sidecar else [])
    return Workload("reviews-v2", NS, labels={"app": "reviews", "version": "v2"},
                    pods=[Pod(p, NS, containers=containers) for p in pods])


def _proxy_view(qtbot: QtBot, source: PrometheusMetrics, srv: PrometheusServer) -> MetricsView:
    view = MetricsView(source, poll_ms=0)
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    view.clock = lambda: float(srv.query_time)
    source.clock = lambda: float(srv.query_time)
    view.direction.setCurrentIndex(view.direction.findData(PROXY))
    return view


def test_the_metrics_views_envoy_proxy_choice_charts_a_workloads_pods(
        qtbot: QtBot, envoy_prometheus: PrometheusServer) -> None:
    view = _proxy_view(qtbot, PrometheusMetrics(PrometheusClient(envoy_prometheus.url)), envoy_prometheus)
    try:
        view.workload = _workload(PODS)
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(None, ["a node"])
        assert view.title.text() == f"proxies of workload {NS}/reviews-v2"
        shown = {k for k, c in view.charts.items() if c.isVisible()}
        assert shown == {c.key for c in PROXY_CHARTS}, "only the proxy's charts, not the traffic's"
        lines = view.charts["proxy_upstream_rq"].data()
        assert {split for _stat, split in lines} == set(PODS)
        assert lines[("rate", PODS[1])][1][-1] == pytest.approx(4.5)
        assert not view.notice.isVisible() and not view.split.isEnabled()
        # a chart empty beside full ones: the proxy does not keep that statistic (Istio's default), how to add it
        assert view.charts["proxy_memory_allocated"].status_text == ""
        assert view.charts["proxy_upstream_rq"].status_text == "", "the reviews pods report their services' clusters"
        view.workload = _workload((LEAN,))
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(None, ["a node"])
        assert not view.notice.isVisible()
        assert view.charts["proxy_upstream_rq"].data()[("rate", LEAN)][1][-1] == pytest.approx(0.5)
        for key in ("proxy_downstream_rq", "proxy_downstream_cx_active", "proxy_heap_size"):
            status = view.charts[key].status_text
            assert status.startswith("No data: Istio's proxies report only some") and "proxyStatsMatcher" in status
        assert view.charts["proxy_uptime"].status_text == ""
        # its upstream charts show the connection to istiod alone: said, with how to have the others
        for key in ("proxy_upstream_rq", "proxy_upstream_cx_active"):
            status = view.charts[key].status_text
            assert status.startswith("The connection to istiod only") and "cluster.outbound" in status
        # pods Prometheus has nothing of, though it has other proxies': labelled otherwise, or not yet
        # scraped - said once, in the charts' place
        view.workload = _workload(("ratings-v1-0",))
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(None, ["a node"])
        assert view.notice.isVisible()
        assert "though it has those of other proxies" in view.notice.text()
        assert "labels them otherwise" in view.notice.text() and "namespace and pod" in view.notice.text()
        # a workload without a sidecar has no proxy to chart: why, and nothing asked
        view.workload = _workload(("legacy-0",), sidecar=False)
        view.show_graph_selection(None, ["a node"])
        assert view.target is None and "runs an Envoy proxy" in view.notice.text()
        # back to inbound traffic: the traffic charts again, split usable
        view.direction.setCurrentIndex(0)
        assert not any(view.charts[c.key].isVisible() for c in PROXY_CHARTS) and view.split.isEnabled()
    finally:
        view.shutdown()


def test_the_proxy_charts_are_made_when_first_chosen_and_show_their_data_at_once(
        qtbot: QtBot, envoy_prometheus: PrometheusServer) -> None:
    """The dock's first show made its seven Envoy proxy charts beside the traffic charts, unseen (a third of
    the half second it stalled the window): they are made when Envoy proxy is first chosen, with the
    answer drawn on them, laid out and reached with the keyboard like the others."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from meshdesk.mesh.metrics import CHARTS
    from meshdesk.ui.charts import MetricChart

    source = PrometheusMetrics(PrometheusClient(envoy_prometheus.url))
    source.clock = lambda: float(envoy_prometheus.query_time)
    view = MetricsView(source, poll_ms=0)
    qtbot.addWidget(view)
    view.clock = lambda: float(envoy_prometheus.query_time)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    try:
        made = {c.key for c in view.findChildren(MetricChart)}
        assert made == {c.key for c in CHARTS}, "the traffic charts only"
        view.workload = _workload(PODS)
        view.show_graph_selection(None, ["a node"])
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.direction.setCurrentIndex(view.direction.findData(PROXY))
        shown = [c for c in view.findChildren(MetricChart) if c.isVisible()]
        assert {c.key for c in shown} == {c.key for c in PROXY_CHARTS}
        upstream = next(c for c in shown if c.key == "proxy_upstream_rq")
        assert upstream.data()[("rate", PODS[1])][1][-1] == pytest.approx(4.5)
        first = next(c for c in shown if c.key == view.chart_order[0])
        first.plot.setFocus()
        QTest.keyClick(first.plot, Qt.Key.Key_End)
        assert QApplication.focusWidget() is next(c for c in shown if c.key == view.chart_order[-1]).plot
    finally:
        view.shutdown()


def test_a_prometheus_without_any_proxy_metrics_is_said_not_to_scrape_them(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Istio's telemetry but no envoy_* series at all (the shared Istio dataset): the proxies are not
    scraped, and what to check."""
    source = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    found = source.fetch(MetricsTarget.proxy(NS, "reviews-v2", PODS), _spec(prometheus_server))
    assert found.errors == {} and not any(found.chart_lines(c.key) for c in PROXY_CHARTS)
    assert found.chart_lines(PROXY_SCRAPED) == []
    view = _proxy_view(qtbot, source, prometheus_server)
    try:
        view.workload = _workload(PODS)
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(None, ["a node"])
        text = view.notice.text()
        assert view.notice.isVisible() and not view._scroll.isVisible()
        assert text.startswith(f"Prometheus has none of the proxies' own metrics (envoy_*) for the pods of workload {NS}/reviews-v2")
        assert "does not scrape them" in text and "port 15020" in text and "Stats tab" in text
    finally:
        view.shutdown()


def test_the_demo_charts_its_proxies(qtbot: QtBot) -> None:
    """In the built-in demo the choice shows each pod's proxy: up since the pod started, requests as the
    demo's traffic sends them."""
    from meshdesk.mesh.graph.model import NODE_APP
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews
    from tests.ui_helpers import extra_threads

    before = {t.ident for t in threading.enumerate()}
    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and w.inventory is not None, timeout=20000)
        graph = w.graph
        assert graph is not None
        reviews = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert reviews is not None
        view = perf.metrics
        with qtbot.waitSignal(perf.envoy.loaded, timeout=30000):
            w.view.select([reviews.id])
            perf.docks["Envoy"].show()
        # from the Envoy dock's Stats tab: its charts over time, in the Metrics dock
        perf.envoy.tabs.setCurrentIndex(perf.envoy.tabs.indexOf(perf.envoy._stats_page))  # the Stats tab
        assert perf.envoy.stats_charts.isVisible()
        with qtbot.waitSignal(view.refreshed, timeout=30000):
            perf.envoy.stats_charts.click()
        assert perf.docks["Metrics"].isVisible() and view.direction.currentData() == PROXY
        pods = [p.name for p in w.inventory.workload("shop", "reviews-v2").pods]  # type: ignore[union-attr]
        assert view.target == MetricsTarget.proxy("shop", "reviews-v2", pods)
        uptime = view.charts["proxy_uptime"].data()
        assert {split for _stat, split in uptime} == set(pods)
        assert all(values[-1] > 86400 for _times, values in uptime.values()), "up for days, as the demo's pods"
        assert any(values[-1] > 0 for _times, values in view.charts["proxy_downstream_rq"].data().values())
        mongodb = graph.find_node(node_type=NODE_APP, namespace="shop", workload="mongodb-v1")
        assert mongodb is not None
        w.view.select([mongodb.id])  # runs without a sidecar in the demo
        assert view.target is None and "no istio-proxy container" in view.notice.text()
    finally:
        perf.shutdown()
        w.close()
    qtbot.waitUntil(lambda: [t for t in extra_threads(before) if "QThread" in t or "meshdesk" in t] == [],
                    timeout=10000)
