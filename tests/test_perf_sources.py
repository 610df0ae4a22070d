"""Metrics and logs sources for a live cluster source: Prometheus through the ClusterSource's own
connection, pod logs through its API client (the API emulator and a real Prometheus)."""

from __future__ import annotations

import pytest

from meshdesk.mesh.metrics import MetricsSpec, MetricsTarget
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo.metrics import DemoMetrics
from meshdesk.sources.perf import ClusterMetrics, log_source_for, metrics_source_for
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer, prometheus_server  # noqa: F401 - the fixture


def test_cluster_source_metrics_and_logs(kube_emulator: KubeEmulator,
                                         prometheus_server: PrometheusServer) -> None:  # noqa: F811
    source = ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=prometheus_server.url)
    try:
        metrics = metrics_source_for(source)
        assert isinstance(metrics, ClusterMetrics)
        r = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"),
                          MetricsSpec(range_s=300, step_s=60, end=prometheus_server.query_time,
                                      charts=("request_volume", "error_share")))
        assert r.chart_lines("request_volume")[0].values[-1] == pytest.approx(10.0)
        assert r.chart_lines("error_share")[0].values[-1] == pytest.approx(0.2)
        kube_emulator.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                           "spec": {"containers": [{"name": "app"}]}})
        kube_emulator.add_pod_log("default", "p", "app", ["hello"])
        logs = log_source_for(source)
        assert logs is not None
        assert [ln.text for ln in logs.pod_logs("default", "p", "app", tail_lines=5)] == ["hello"]
    finally:
        source.close()


def test_demo_and_snapshot_sources() -> None:
    demo = DemoCluster()
    assert isinstance(metrics_source_for(demo), DemoMetrics)
    assert log_source_for(demo) is demo
    assert metrics_source_for(object()) is None and log_source_for(object()) is None


def test_cluster_source_traces_found_lazily_through_the_api_server(kube_emulator: KubeEmulator) -> None:
    """A live cluster's traces: nothing is asked until traces are, then Istio's Jaeger addon is found
    behind the API server's service proxy (once: the connection is kept), and a way that stops working
    is looked for again on the next ask."""
    from meshdesk.mesh.traces import TARGET_WORKLOAD, TraceQuery, TraceTarget
    from meshdesk.sources.base import TracingError
    from meshdesk.sources.perf import ClusterTraces, tracing_source_for
    from tests.jaeger_emulator import JaegerEmulator
    from tests.test_tracing_client import T0, shop_traces

    query = TraceQuery(TraceTarget(TARGET_WORKLOAD, "shop", "reviews-v2", "reviews"), T0 - 600, T0 + 60)
    emu = kube_emulator
    source = ClusterSource(emu.api_client(), context="emu")
    try:
        traces = tracing_source_for(source)
        assert isinstance(traces, ClusterTraces)
        assert not [p for _m, p, _h in emu.requests if "services" in p]  # lazily: nothing asked yet
        with pytest.raises(TracingError) as err:
            traces.find_traces(query)
        assert "No tracing backend was found" in str(err.value)
        assert source.tracing_how().startswith("not reachable: No tracing backend was found")

        emu.add_namespace("istio-system")
        emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tracing", "namespace": "istio-system"},
                 "spec": {"ports": [{"name": "http-query", "port": 80, "targetPort": 16686}]}})
        with JaegerEmulator(shop_traces(), base_path="/jaeger") as jaeger:
            emu.proxy_service("istio-system", "tracing", 80, f"http://127.0.0.1:{jaeger.port}")
            traces.look_again()  # none was found a moment ago: looked for again when the user asks (Refresh)
            assert [t.trace_id for t in traces.find_traces(query).traces] == ["a1"]  # looked for again
            assert "istio-system/tracing:80" in source.tracing_how()
            looked = len([p for _m, p, _h in emu.requests if p.startswith("/api/v1/namespaces/istio-system/services/tracing")
                          and "/proxy" not in p])
            trace = traces.trace("a1")
            assert trace is not None and len(trace.spans) == 3
            assert len([p for _m, p, _h in emu.requests if p.startswith("/api/v1/namespaces/istio-system/services/tracing")
                        and "/proxy" not in p]) == looked  # the connection was kept
        with pytest.raises(TracingError):  # the backend went away: said, and forgotten
            traces.find_traces(query)
        assert source.tracing_how().startswith("not reachable:")
    finally:
        source.close()
    assert tracing_source_for(object()) is None


def test_closing_a_cluster_does_not_wait_for_a_tracing_search_under_way(kube_emulator: KubeEmulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Picking another context closes the source on the UI thread: it must not wait for a worker thread
    probing a tracing backend that does not answer (up to the timeout); what that probe finds is let go."""
    import threading

    from meshdesk.mesh.traces import TARGET_APP, TraceQuery, TraceTarget
    from meshdesk.sources.base import SourceError
    from meshdesk.sources.perf import tracing_source_for
    from tests.jaeger_emulator import JaegerEmulator

    outcome: list[BaseException] = []
    with JaegerEmulator(hang=True) as jaeger:
        source = ClusterSource(kube_emulator.api_client(), context="emu", tracing_url=jaeger.url, timeout=20)
        traces = tracing_source_for(source)
        assert traces is not None

        def ask() -> None:
            try:
                traces.find_traces(TraceQuery(TraceTarget(TARGET_APP, "shop", "reviews"), 0, 1))
            except SourceError as e:
                outcome.append(e)

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        qtbot.waitUntil(lambda: bool(jaeger.requests), timeout=10000)
        source.close()  # returns while the probe still waits
        assert worker.is_alive()
    worker.join(timeout=30)  # the emulator gone, the probe fails at once
    assert not worker.is_alive() and outcome and source._tracing is None


def test_live_charts_end_at_prometheus_time_when_the_machine_clock_is_ahead(
        kube_emulator: KubeEmulator, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """This machine's clock is two hours ahead of the cluster's. The live charts (no replayed end) charted
    the two hours after Prometheus' newest data, so every chart read "No data" beside a graph with traffic;
    they end at Prometheus' present now."""
    import time

    source = ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=prometheus_server.url,
                           clock=lambda: time.time() + 2 * 3600)
    try:
        metrics = metrics_source_for(source)
        assert metrics is not None
        r = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"),
                          MetricsSpec(range_s=600, step_s=60, charts=("request_volume",)))
        assert r.errors == {}
        assert [ln.values[-1] for ln in r.chart_lines("request_volume")] == [pytest.approx(10.0)]
    finally:
        source.close()
