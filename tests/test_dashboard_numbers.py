"""Numbers users can trust: our chart values equal what Istio's own Grafana dashboards compute.

The dashboards are read from ``../shared/fixtures/istio/dashboards`` at test time (never copied into
the repo); their panel queries get the dashboard variables substituted and run against the same real
Prometheus as our metrics queries, over the same range and step, and every point must agree within
1e-6 relative. The dashboards use ``irate`` where we use ``rate``: on the fixture's linearly growing
counters both are exact, so any difference is a difference in selection or arithmetic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.metrics import MetricsResult, MetricsSpec, MetricsTarget
from meshdesk.sources.metrics import PrometheusMetrics
from meshdesk.sources.prometheus import PrometheusClient
from tests.prom_server import PrometheusServer, prometheus_server  # noqa: F401 - the fixture

DASHBOARDS = Path("fixtures/istio/dashboards")
RANGE_S, STEP_S = 1200, 60


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from _panels(p.get("panels") or [])


def dashboard_queries(shared: Path, name: str, title: str) -> dict[str, str]:
    """legendFormat (or refId) -> expression of the panel titled ``title``."""
    data = json.loads((shared / DASHBOARDS / name).read_text(encoding="utf-8"))
    for panel in _panels(data["panels"]):
        if panel.get("title") == title:
            return {(t.get("legendFormat") or t.get("refId") or "").strip(): t["expr"]
                    for t in panel.get("targets") or [] if t.get("expr")}
    raise AssertionError(f"{name} has no panel {title!r}")


def substitute(expr: str, variables: dict[str, str]) -> str:
    for key in sorted(variables, key=len, reverse=True):  # $srcwl before $srcns before ...
        expr = expr.replace(f"${key}", variables[key])
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


@pytest.fixture(scope="module")
def ours(prometheus_server: PrometheusServer) -> Iterator[tuple[PrometheusClient, PrometheusMetrics]]:  # noqa: F811
    client = PrometheusClient(prometheus_server.url)
    yield client, PrometheusMetrics(client)
    client.close()


def dashboard_points(client: PrometheusClient, expr: str, result: MetricsResult) -> list[float]:
    series = client.query_range(expr, result.end - RANGE_S, result.end, STEP_S)
    assert len(series) <= 1, f"the dashboard query gave {len(series)} series: {expr}"
    grid = result.spec.grid(result.end)
    by_time = {round(t): v for t, v in series[0].points} if series else {}
    return [by_time.get(round(t), math.nan) for t in grid]


def our_points(result: MetricsResult, chart: str, stat: str = "rate") -> list[float]:
    lines = [ln for ln in result.chart_lines(chart) if ln.stat == stat]
    assert len(lines) == 1, f"{chart}/{stat}: {len(lines)} lines"
    return lines[0].values


def assert_same(theirs: list[float], mine: list[float], what: str) -> None:
    pairs = [(a, b) for a, b in zip(theirs, mine, strict=True) if math.isfinite(a) or math.isfinite(b)]
    assert len(pairs) >= RANGE_S // STEP_S, f"{what}: too few points to compare ({len(pairs)})"
    for a, b in pairs:
        assert math.isfinite(a) and math.isfinite(b), f"{what}: a point is missing on one side ({a} vs {b})"
        assert b == pytest.approx(a, rel=1e-6, abs=1e-12), f"{what}: dashboard {a} vs ours {b}"


def _spec(srv: PrometheusServer) -> MetricsSpec:
    return MetricsSpec(range_s=RANGE_S, step_s=STEP_S, split="", end=srv.query_time, rate_window_s=60)


@pytest.mark.parametrize("workload", ["details-v1", "productpage-v1", "reviews-v2"])
def test_workload_dashboard_http_numbers(shared_dir: Path, prometheus_server: PrometheusServer,  # noqa: F811
                                         ours: tuple[PrometheusClient, PrometheusMetrics], workload: str) -> None:
    client, metrics = ours
    result = metrics.fetch(MetricsTarget.workload("bookinfo", workload), _spec(prometheus_server))
    variables = {"qrep": "destination", "namespace": "bookinfo", "workload": workload, "__rate_interval": "60s"}
    name = "istio-workload-dashboard.json"

    volume = dashboard_queries(shared_dir, name, "Incoming Request Volume")
    assert_same(dashboard_points(client, substitute(next(iter(volume.values())), variables), result),
                our_points(result, "request_volume"), f"{workload} request volume")

    success = dashboard_queries(shared_dir, name, "Incoming Success Rate (non-5xx responses)")
    theirs = dashboard_points(client, substitute(next(iter(success.values())), variables), result)
    assert_same(theirs, [1.0 - v for v in our_points(result, "error_share")], f"{workload} success rate")

    durations = dashboard_queries(shared_dir, name, "Request Duration")
    for legend, stat in (("P50", "p50"), ("P99", "p99")):
        seconds = dashboard_points(client, substitute(durations[legend], variables), result)
        if workload == "reviews-v2":  # no duration histogram in the fixture: both sides have nothing
            assert all(math.isnan(v) for v in seconds)
            assert result.chart_lines("request_duration") == []
            continue
        assert_same([v * 1000.0 for v in seconds], our_points(result, "request_duration", stat),
                    f"{workload} duration {legend}")


def test_workload_dashboard_tcp_numbers(shared_dir: Path, prometheus_server: PrometheusServer,  # noqa: F811
                                        ours: tuple[PrometheusClient, PrometheusMetrics]) -> None:
    client, metrics = ours
    spec = _spec(prometheus_server)
    name = "istio-workload-dashboard.json"
    server = dashboard_queries(shared_dir, name, "TCP Server Traffic")
    inbound = metrics.fetch(MetricsTarget.workload("bookinfo", "mongodb-v1"), spec)
    variables = {"qrep": "destination", "namespace": "bookinfo", "workload": "mongodb-v1", "__rate_interval": "60s"}
    total = [a + b for a, b in zip(our_points(inbound, "tcp_sent"), our_points(inbound, "tcp_received"), strict=True)]
    assert_same(dashboard_points(client, substitute(next(iter(server.values())), variables), inbound), total,
                "mongodb TCP server traffic")

    client_q = dashboard_queries(shared_dir, name, "TCP Client Traffic")
    outbound = metrics.fetch(MetricsTarget.workload("bookinfo", "ratings-v1", "outbound"), spec)
    variables = {"qrep": "source", "namespace": "bookinfo", "workload": "ratings-v1", "__rate_interval": "60s"}
    total = [a + b for a, b in zip(our_points(outbound, "tcp_sent"), our_points(outbound, "tcp_received"),
                                   strict=True)]
    assert_same(dashboard_points(client, substitute(next(iter(client_q.values())), variables), outbound), total,
                "ratings TCP client traffic")


def test_service_dashboard_numbers(shared_dir: Path, prometheus_server: PrometheusServer,  # noqa: F811
                                   ours: tuple[PrometheusClient, PrometheusMetrics]) -> None:
    client, metrics = ours
    result = metrics.fetch(MetricsTarget.service("bookinfo", "details"), _spec(prometheus_server))
    variables = {"service": "details.bookinfo.svc.cluster.local", "qrep": "destination", "__rate_interval": "60s"}
    name = "istio-service-dashboard.json"
    volume = dashboard_queries(shared_dir, name, "Server Request Volume")
    assert_same(dashboard_points(client, substitute(next(iter(volume.values())), variables), result),
                our_points(result, "request_volume"), "details server request volume")
    success = dashboard_queries(shared_dir, name, "Server Success Rate (non-5xx responses)")
    assert_same(dashboard_points(client, substitute(next(iter(success.values())), variables), result),
                [1.0 - v for v in our_points(result, "error_share")], "details server success rate")
    durations = dashboard_queries(shared_dir, name, "Server Request Duration")
    for legend, stat in (("P50", "p50"), ("P99", "p99")):
        seconds = dashboard_points(client, substitute(durations[legend], variables), result)
        assert_same([v * 1000.0 for v in seconds], our_points(result, "request_duration", stat),
                    f"details server duration {legend}")


@pytest.mark.parametrize(("panel_title", "chart", "scale", "workload", "source_app"), [
    ("Incoming Request Duration By Source", "request_duration", 1000.0, "details-v1", "productpage"),
    ("Incoming Request Duration By Source", "request_duration", 1000.0, "productpage-v1", "istio-ingressgateway"),
    ("Incoming Request Size By Source", "request_size", 1.0, "productpage-v1", "istio-ingressgateway"),
    ("Response Size By Source", "response_size", 1.0, "productpage-v1", "istio-ingressgateway"),
])
def test_workload_dashboard_histograms_by_source(shared_dir: Path, prometheus_server: PrometheusServer,  # noqa: F811
                                                 ours: tuple[PrometheusClient, PrometheusMetrics], panel_title: str,
                                                 chart: str, scale: float, workload: str, source_app: str) -> None:
    """The by-source panels (mTLS and plain queries, "All" sources) against our split by remote app
    (durations: the dashboard answers seconds, we answer milliseconds)."""
    client, metrics = ours
    spec = MetricsSpec(range_s=RANGE_S, step_s=STEP_S, split="remote_app", end=prometheus_server.query_time,
                       rate_window_s=60, charts=(chart,))
    result = metrics.fetch(MetricsTarget.workload("bookinfo", workload), spec)
    variables = {"qrep": "destination", "namespace": "bookinfo", "workload": workload, "srcwl": ".*",
                 "srcns": ".*", "__rate_interval": "60s"}
    panel = dashboard_queries(shared_dir, "istio-workload-dashboard.json", panel_title)
    grid = result.spec.grid(result.end)
    for stat in ("P50", "P95", "P99"):
        found: list[list[float]] = []
        for legend, expr in panel.items():
            if f" {stat}" not in legend:
                continue
            series = client.query_range(substitute(expr, variables), result.end - RANGE_S, result.end, STEP_S)
            for s in series:  # only sources with a histogram answer
                by_time = {round(t): v for t, v in s.points}
                found.append([by_time.get(round(t), math.nan) * scale for t in grid])
        assert len(found) == 1, f"{workload} {stat}: {len(found)} sources with {chart}"
        mine = [ln for ln in result.chart_lines(chart) if ln.stat == stat.lower()]
        assert [ln.split_value for ln in mine] == [source_app]
        assert_same(found[0], mine[0].values, f"{workload} {chart} {stat} from {source_app}")
