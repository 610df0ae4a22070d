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
