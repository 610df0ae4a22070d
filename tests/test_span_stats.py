"""A span against the metrics (Kiali's comparison map): which side of a hop a span is, the statistics
of its workload over the last 10 minutes, hour and 3 hours from a real Prometheus and from the demo,
and the words and numbers each cell shows."""

from __future__ import annotations

import pytest

from meshdesk.mesh.metrics import INBOUND, OUTBOUND, MetricsTarget
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.span_stats import (
    STATS,
    STATS_INTERVALS,
    SpanComparison,
    diff_text,
    span_direction,
    why_not_compared,
)
from meshdesk.mesh.traces import Span, Trace
from meshdesk.sources.base import PrometheusError
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo.metrics import DemoMetrics
from meshdesk.sources.metrics import PrometheusMetrics, compare_span
from meshdesk.sources.prometheus import PrometheusClient
from tests.prom_server import PrometheusServer, free_port, prometheus_server  # noqa: F401 - the fixture


def span(duration_ms: float, kind: str = "server", *, upstream: str = "", proxy: str = "sidecar",
         node: bool = True) -> Span:
    tags = {"span.kind": kind}
    if node:
        tags["node_id"] = f"{proxy}~10.1.0.6~details-v1-5f4d-fghij.bookinfo~bookinfo.svc.cluster.local"
    if upstream:
        tags["upstream_cluster"] = upstream
    return Span("t1", "s1", "", "details.bookinfo.svc.cluster.local:9080/*", "details.bookinfo", 1_700_000_000_000_000,
                int(duration_ms * 1000), tags)


def test_a_proxy_span_is_a_request_in_or_out_by_its_upstream_cluster_else_its_kind() -> None:
    assert span_direction(span(5, upstream="inbound|9080||")) == INBOUND
    # Envoy's upstream cluster says it even when the kind does not
    assert span_direction(span(5, "server", upstream="outbound|9080||ratings.bookinfo.svc.cluster.local")) == OUTBOUND
    assert span_direction(span(5, "client")) == OUTBOUND
    assert span_direction(span(5, "server")) == INBOUND
    # an application's own span, a waypoint's (both sides at once) and a kindless one: nothing to compare
    assert span_direction(span(5, node=False)) == "" and "not reported by a proxy" in why_not_compared(span(5, node=False))
    assert span_direction(span(5, proxy="waypoint")) == ""
    assert "waypoint" in why_not_compared(span(5, proxy="waypoint"))
    assert span_direction(span(5, "")) == "" and "neither" in why_not_compared(span(5, ""))
    # an ambient waypoint's span naming where it carried the request: a request into that workload
    carried = span(5, proxy="waypoint")
    carried.tags.update({"istio.destination_workload": "flights-v1",  # type: ignore[attr-defined]
                         "istio.destination_namespace": "travel"})
    assert span_direction(carried) == INBOUND and why_not_compared(carried) == ""
    assert why_not_compared(span(5)) == ""


def test_a_span_against_its_workloads_requests_from_real_prometheus(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """details-v1's inbound requests: 90% at 5 ms and 10% at 200 ms, an average of 24.5 ms; a request of
    30 ms was 5.5 ms slower than the average and slower than the median, faster than the 99th percentile."""
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    got = compare_span(metrics, MetricsTarget.workload("bookinfo", "details-v1"), span(30),
                       end=prometheus_server.query_time)
    assert got.errors == ()
    assert got.diff("10m", "avg") == pytest.approx(5.5)
    assert got.diff("10m", "p50") is not None and got.diff("10m", "p50") > 0  # type: ignore[operator]
    assert got.diff("10m", "p99") is not None and got.diff("10m", "p99") < 0  # type: ignore[operator]
    # the longer windows hold the same steady traffic
    assert got.diff("60m", "avg") == pytest.approx(5.5) and got.diff("3h", "avg") == pytest.approx(5.5)
    assert got.subject() == "requests into workload bookinfo/details-v1"
    assert got.sentence("10m", "avg") == ("This request was 5.5 ms slower than the average of all requests into "
                                          "workload bookinfo/details-v1 in the last 10m (24.5 ms; it took 30.0 ms).")
    # a workload with no requests in the window: every cell empty, said so
    none = compare_span(metrics, MetricsTarget.workload("bookinfo", "no-such-v1"), span(30),
                        end=prometheus_server.query_time)
    assert none.values == {} and none.diff("10m", "avg") is None
    assert none.sentence("3h", "p95").startswith("No requests into workload bookinfo/no-such-v1 in the last 3h")


def test_an_unreachable_prometheus_is_said_not_shown_as_no_requests() -> None:
    metrics = PrometheusMetrics(PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout=2.0))
    with pytest.raises(PrometheusError):
        compare_span(metrics, MetricsTarget.workload("bookinfo", "details-v1"), span(30), end=1_700_000_000)


def test_the_demo_compares_over_each_window_with_its_own_traffic() -> None:
    demo = DemoCluster()
    got = compare_span(DemoMetrics(demo), MetricsTarget.workload("shop", "reviews-v2", INBOUND), span(45))
    assert set(got.values) == {(label, stat) for label, _s in STATS_INTERVALS for stat in STATS}
    assert all(v > 0 for v in got.values.values())
    assert got.values[("10m", "p50")] < got.values[("10m", "p95")] < got.values[("10m", "p99")]
    # a fault that holds every request to reviews 300 ms: productpage's requests out take longer on
    # average, and the same 45 ms request is now far faster than that average, over every window
    before = compare_span(DemoMetrics(demo), MetricsTarget.workload("shop", "productpage-v1", OUTBOUND),
                          span(45, "client"))
    assert before.subject() == "requests sent by workload shop/productpage-v1"
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    vs = next(o for o in inv.istio if o.kind == "VirtualService" and o.name == "reviews")
    vs.spec = {"hosts": ["reviews"], "http": [{"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "300ms"}},
                                               "route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}
    demo.apply(vs)
    after = compare_span(DemoMetrics(demo), MetricsTarget.workload("shop", "productpage-v1", OUTBOUND), span(45, "client"))
    for label, _s in STATS_INTERVALS:
        assert after.values[(label, "avg")] > before.values[(label, "avg")] + 50
        assert after.diff(label, "avg") is not None and after.diff(label, "avg") < -50  # type: ignore[operator]


def test_a_cell_says_how_much_slower_or_faster_in_words_and_numbers() -> None:
    c = SpanComparison(MetricsTarget.app("shop", "reviews", OUTBOUND, "v2"), 40.0,
                       {("10m", "avg"): 30.0, ("10m", "p99"): 40.02, ("60m", "p50"): 1500.0})
    assert [diff_text(c.diff("10m", s)) for s in ("avg", "p50", "p99")] == ["+10.0", "-", "-0.0"]
    assert diff_text(c.diff("60m", "p50")) == "-1460"
    assert c.sentence("10m", "avg").startswith("This request was 10.0 ms slower than the average of all requests "
                                               "sent by app shop/reviews v2 in the last 10m")
    assert c.sentence("60m", "p50").startswith("This request was 1.46 s faster than the median")
    assert c.sentence("10m", "p99").startswith("This request took as long as the 99th percentile")


def test_an_ambient_waypoints_span_is_compared_with_the_requests_it_carried_into_the_workload() -> None:
    """In the demo's ambient namespace the workloads have no proxy: their requests are the waypoint's to
    report, and a waypoint's span is compared with those into the workload it names."""
    from meshdesk.ui.perf_views import span_comparison_job

    demo = DemoCluster()
    way = Span("t1", "w1", "", "flights.travel.svc.cluster.local:8080/*", "waypoint.travel", 1_700_000_000_000_000,
               12_000, {"span.kind": "server", "node_id": "waypoint~10.1.3.9~waypoint-5d9f-abcde.travel~travel.svc",
                        "istio.destination_workload": "flights-v1", "istio.destination_namespace": "travel"})
    job, why = span_comparison_job(None, DemoMetrics(demo), Trace("t1", (way,)), way)
    assert job is not None and why == ""
    got = job()
    assert got.subject() == "requests into workload travel/flights-v1"
    assert got.target.waypoint and "waypoint" in got.target.reporters
    assert got.values[("10m", "avg")] > 0 and got.diff("3h", "p99") is not None
    # one naming no destination: said, nothing read
    bare = Span("t1", "w2", "", "x", "waypoint.travel", 1_700_000_000_000_000, 5_000,
                {"span.kind": "server", "node_id": "waypoint~10.1.3.9~waypoint-5d9f-abcde.travel~travel.svc"})
    job, why = span_comparison_job(None, DemoMetrics(demo), Trace("t1", (bare,)), bare)
    assert job is None and "does not name the workload" in why
