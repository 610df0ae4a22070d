"""Metric chart queries: real Prometheus values, splits, escaping, gaps and failures; demo range data."""

from __future__ import annotations

import math
from typing import cast

import pytest

from meshdesk.mesh.graph.model import NODE_SERVICE, NODE_WORKLOAD, TrafficGraph
from meshdesk.mesh.metrics import (
    SPLIT_REMOTE_APP,
    SPLIT_RESPONSE_CODE,
    SPLIT_VERSION,
    MetricsResult,
    MetricsSpec,
    MetricsTarget,
    target_for_edge,
    target_for_node,
)
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo.metrics import DemoMetrics
from meshdesk.sources.metrics import PrometheusMetrics, line_queries
from meshdesk.sources.prometheus import PrometheusClient, PrometheusUnreachable
from tests.prom_server import (
    DETAILS,
    PRODUCTPAGE,
    PrometheusServer,
    Series,
    StubRequest,
    StubResponse,
    StubServer,
    binaries_missing,
    free_port,
    istio_edge,
    prometheus_server,  # noqa: F401 - the fixture
)


def _spec(srv: PrometheusServer, **kw: object) -> MetricsSpec:
    return MetricsSpec(range_s=600, step_s=60, end=srv.query_time, **kw)  # type: ignore[arg-type]


def _last(result: object, chart: str) -> dict[tuple[str, str], float]:
    return {(ln.split_value, ln.stat): ln.values[-1] for ln in result.chart_lines(chart)}  # type: ignore[attr-defined]


def test_workload_charts_from_real_prometheus(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    r = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"), _spec(prometheus_server))
    assert r.errors == {} and r.warnings == []
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(10.0)}
    assert _last(r, "request_errors") == {("", "rate"): pytest.approx(2.0)}
    assert _last(r, "error_share") == {("", "rate"): pytest.approx(0.2)}
    durations = _last(r, "request_duration")
    assert durations[("", "avg")] == pytest.approx(24.5)
    assert set(durations) == {("", "avg"), ("", "p50"), ("", "p95"), ("", "p99")}
    assert r.chart_lines("tcp_sent") == []  # no TCP for this workload: an empty chart, not an error
    line = r.chart_lines("request_volume")[0]
    assert len(line.times) == 11 and line.times[-1] == r.end and all(b - a == 60 for a, b in zip(line.times, line.times[1:], strict=False))


def test_an_ambient_workloads_charts_read_its_waypoints_reports(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    # orders-v1 (namespace mall) has no sidecar: only the waypoint reported its requests. For an ambient
    # target the waypoint's reports count (as Kiali includes them for an ambient workload); for any
    # other they would repeat what the proxies reported, and do not
    from dataclasses import replace

    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    target = replace(MetricsTarget.workload("mall", "orders-v1"), waypoint=True)
    r = metrics.fetch(target, _spec(prometheus_server))
    assert r.errors == {}
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(7.0)}
    assert _last(r, "error_share") == {("", "rate"): pytest.approx(1.0 / 7.0)}
    out = metrics.fetch(replace(MetricsTarget.workload("mall", "web-v1", "outbound"), waypoint=True),
                        _spec(prometheus_server))
    assert _last(out, "request_volume") == {("", "rate"): pytest.approx(7.0)}
    plain = metrics.fetch(MetricsTarget.workload("mall", "orders-v1"), _spec(prometheus_server))
    assert _last(plain, "request_volume") == {}


def test_sizes_throughput_and_tcp(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    r = metrics.fetch(MetricsTarget.workload("istio-system", "istio-ingressgateway", "outbound"),
                      _spec(prometheus_server))
    assert _last(r, "request_size")[("", "avg")] == pytest.approx(512.0)
    assert _last(r, "response_size")[("", "avg")] == pytest.approx(2048.0)
    assert _last(r, "request_throughput") == {("", "rate"): pytest.approx(5120.0)}
    assert _last(r, "response_throughput") == {("", "rate"): pytest.approx(20480.0)}
    r = metrics.fetch(MetricsTarget.workload("bookinfo", "ratings-v1", "outbound"), _spec(prometheus_server))
    # as Kiali (and the graph's TCP edges) read Istio's L4 bytes, named from the other side: "sent" is
    # istio_tcp_received_bytes_total (250 B/s here), "received" istio_tcp_sent_bytes_total
    assert _last(r, "tcp_sent") == {("", "rate"): pytest.approx(250.0)}
    assert _last(r, "tcp_received") == {("", "rate"): pytest.approx(1000.0)}


def test_splits(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    r = metrics.fetch(MetricsTarget.workload("bookinfo", "productpage-v1"), _spec(prometheus_server, split=SPLIT_REMOTE_APP))
    assert _last(r, "request_volume") == {("istio-ingressgateway", "rate"): pytest.approx(10.0),
                                          ("customer", "rate"): pytest.approx(2.0),
                                          ("unknown", "rate"): pytest.approx(1.0)}
    r = metrics.fetch(MetricsTarget.app("bookinfo", "reviews"), _spec(prometheus_server, split=SPLIT_VERSION))
    assert _last(r, "request_volume") == {("v1", "rate"): pytest.approx(3.0), ("v2", "rate"): pytest.approx(5.0)}
    r = metrics.fetch(MetricsTarget.service("bookinfo", "details"), _spec(prometheus_server, split=SPLIT_RESPONSE_CODE))
    assert _last(r, "request_volume") == {("200", "rate"): pytest.approx(8.0), ("503", "rate"): pytest.approx(2.0)}
    assert _last(r, "error_share") == {("200", "rate"): 0.0, ("503", "rate"): pytest.approx(0.2)}  # of all requests


def test_hostile_names_select_nothing(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    evil = 'x"} or vector(1) or {a="'
    r = metrics.fetch(MetricsTarget.workload("bookinfo", evil), _spec(prometheus_server))
    assert r.errors == {}
    assert all(lines == [] for lines in r.lines.values())
    assert all('\\"' in q.promql for q in line_queries(MetricsTarget.workload("bookinfo", evil), MetricsSpec()))


def test_graph_targets() -> None:
    from meshdesk.mesh.graph.model import Edge, Node, TrafficGraph, edge_id, node_id
    from meshdesk.mesh.request import GraphRequest
    g = TrafficGraph(GraphRequest())
    src = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="shop", workload="a"), NODE_WORKLOAD, namespace="shop",
                          workload="a"))
    svc = g.add_node(Node(node_id(NODE_SERVICE, namespace="shop", service="b"), NODE_SERVICE, namespace="shop",
                          service="b"))
    e = g.add_edge(Edge(edge_id(src.id, svc.id, "http"), src.id, svc.id, "http"))
    t = target_for_edge(g, e.id)
    assert t is not None and t.reporter == "source"
    assert dict(t.labels) == {"source_workload_namespace": "shop", "source_workload": "a",
                              "destination_service_namespace": "shop", "destination_service_name": "b",
                              "request_protocol": "http"}  # the edge's protocol only, as Kiali charts it
    # an HTTP edge's error chart counts HTTP error codes, not gRPC statuses (Kiali's edge charts)
    spec = MetricsSpec(range_s=600, step_s=60, charts=("request_errors",))
    assert "grpc_response_status" not in line_queries(t, spec)[0].promql
    # without injected service nodes, an edge ends at a service only for what no workload served: its
    # charts keep to those requests (they charted all the caller's traffic to the service)
    plain = TrafficGraph(GraphRequest(injectServiceNodes=False))
    for n in (src, svc):
        plain.add_node(n)
    plain.add_edge(Edge(e.id, src.id, svc.id, "http"))
    bare = target_for_edge(plain, e.id)
    assert bare is not None and dict(bare.labels)["destination_workload"] == "unknown"
    assert target_for_node(g, svc.id, "outbound") is None
    assert target_for_node(g, src.id, "outbound") == MetricsTarget.workload("shop", "a", "outbound")


def test_errors_are_kialis_errors() -> None:
    """No response, HTTP 4xx/5xx, and gRPC statuses 1-16 behind an HTTP 200 are errors; a 101 (a
    websocket upgrade) or a 3xx is none. The chart queries ask for the same two kinds of series."""
    from meshdesk.mesh.metrics import is_error

    def err(code: str, grpc: str = "") -> bool:
        return is_error({"response_code": code, "grpc_response_status": grpc})

    assert [err("0"), err("404"), err("503"), err("200", "14")] == [True, True, True, True]
    assert [err("101"), err("302"), err("200", "0"), err("200", "17")] == [False, False, False, False]
    spec = MetricsSpec(range_s=600, step_s=60, charts=("request_errors",))
    q = line_queries(MetricsTarget.workload("shop", "cart-v1"), spec)[0].promql
    assert 'response_code=~"0|[45][0-9][0-9]"' in q and 'grpc_response_status=~"[1-9]|1[0-6]"' in q


def _matrix(values: list[tuple[float, str]], warnings: list[str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[t, v] for t, v in values]}]}}
    if warnings:
        body["warnings"] = warnings
    return body


def test_gaps_nan_and_partial_answers_are_kept() -> None:
    end = 1_700_000_040.0

    def answer(req: StubRequest) -> StubResponse:
        # 5 grid points; the one at end-120 is missing (a gap) and the one at end-60 is NaN
        return StubResponse(body=_matrix([(end - 240, "1"), (end - 180, "2"), (end - 60, "NaN"), (end, "+Inf")],
                                         ["partial response: store eu-1 unreachable"]))

    with StubServer(answer) as stub:
        metrics = PrometheusMetrics(PrometheusClient(stub.url), clock=lambda: end)
        r = metrics.fetch(MetricsTarget.workload("a", "b"), MetricsSpec(range_s=240, step_s=60, charts=("request_volume",)))
    values = r.chart_lines("request_volume")[0].values
    assert values[:2] == [1.0, 2.0] and all(math.isnan(v) for v in values[2:])
    assert r.warnings == ["partial response: store eu-1 unreachable"]


def test_unreachable_prometheus_raises_typed_error() -> None:
    metrics = PrometheusMetrics(PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout=2))
    with pytest.raises(PrometheusUnreachable):
        metrics.fetch(MetricsTarget.workload("a", "b"), MetricsSpec(charts=("request_volume", "tcp_sent")))


def test_demo_range_series_follows_its_snapshots() -> None:
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    r = DemoMetrics(demo).fetch(MetricsTarget.workload("shop", "reviews-v3"),
                                MetricsSpec(range_s=600, step_s=60, split=SPLIT_REMOTE_APP))
    line = r.chart_lines("request_volume")[0]
    assert line.split_value == "productpage" and len(line.values) == 11
    assert all(v > 0 for v in line.values)
    assert len({round(v, 6) for v in line.values}) > 1  # it moves with the demo's load curve
    # each point is the demo's own snapshot for the minute before it
    from meshdesk.sources.demo.metrics import samples_at
    at = samples_at(demo, line.times[-1])
    expected = sum(s.value for s in at if s.metric == "istio_requests_total" and s.labels.get("reporter") == "destination"
                   and s.labels.get("destination_workload") == "reviews-v3")
    assert line.values[-1] == pytest.approx(expected)
    d = {ln.stat for ln in r.chart_lines("request_duration")}
    assert d == {"avg", "p50", "p95", "p99"}


def _charted(result: MetricsResult) -> dict[str, list[tuple[str, str, list[float], list[str]]]]:
    """What a result's charts draw, NaN (no point) written out so that two of them compare."""
    return {key: [(ln.stat, ln.split_value, ln.times, [repr(v) for v in ln.values]) for ln in lines]
            for key, lines in result.lines.items()}


def test_the_demo_charts_a_moment_asked_again_as_it_charted_it_first() -> None:
    """The demo keeps its simulation's answer for each moment its charts ask: the Metrics dock and the
    sparklines ask many of the same moments, and again at every poll and for every node selected (each
    computed again froze the window after a click). The numbers are the same whoever asks them next, in
    whatever order, and what one caller does with the samples it was given changes no other's answer."""
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    metrics = DemoMetrics(demo)
    target = MetricsTarget.workload("shop", "reviews-v3")
    spec = MetricsSpec(range_s=1800, step_s=60, split=SPLIT_REMOTE_APP)
    first = metrics.fetch(target, spec)
    # another node's charts over the sparklines' range and steps: many of the same moments
    metrics.fetch(MetricsTarget.workload("shop", "productpage-v1", "outbound"), MetricsSpec(range_s=600, step_s=30))
    from meshdesk.sources.demo.metrics import samples_at

    for sample in samples_at(demo, first.end):  # a caller writing on the samples of the last point
        cast(dict[str, str], sample.labels)["destination_workload"] = "someone-else"
    again = metrics.fetch(target, spec)
    fresh = DemoMetrics(DemoCluster(clock=lambda: now)).fetch(target, spec)  # nothing kept yet
    assert _charted(again) == _charted(first) == _charted(fresh)
    volume = again.chart_lines("request_volume")
    assert [ln.split_value for ln in volume] == ["productpage"] and len(volume[0].values) == 31


def test_a_fault_injected_in_the_demo_shows_in_the_moments_charted_before() -> None:
    """The demo simulates its past from its present config (as the README says): after a fault injected
    through its writes, or a workload restarted out of its sidecar, the very moments charted before are
    charted as the mesh is now, not as they were kept."""
    from meshdesk.mesh.request import GraphRequest

    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    metrics = DemoMetrics(demo)
    target = MetricsTarget.workload("shop", "productpage-v1", "outbound")
    spec = MetricsSpec(range_s=600, step_s=60)

    def errors() -> list[float]:
        lines = metrics.fetch(target, spec).chart_lines("request_errors")
        return [sum(v for ln in lines if not math.isnan(v := ln.values[i])) for i in range(11)]

    def reports() -> set[str]:
        result = metrics.fetch(MetricsTarget.workload("shop", "reviews-v1"),
                               MetricsSpec(range_s=600, step_s=60, split=SPLIT_REMOTE_APP))
        return {ln.split_value for ln in result.chart_lines("request_volume")}

    before = errors()
    assert reports() == {"productpage"}
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    vs = next(o for o in inv.istio_objects("VirtualService", "shop") if o.name == "reviews")
    vs.spec = {"hosts": ["reviews"], "http": [{"fault": {"abort": {"percentage": {"value": 50}, "httpStatus": 503}},
                                               "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}
    demo.apply(vs)
    after = errors()
    # half of productpage's calls to reviews (and reviews' own calls no longer made) fail at every point
    assert all(a > b + 1.0 for a, b in zip(after, before, strict=True)), (before, after)
    # productpage restarted without its sidecar (injection turned off): shop is STRICT, reviews refuses its
    # plain-text calls, and the requests charted into reviews-v1 from it are gone from every point
    demo.label_namespace("shop", {"istio-injection": "disabled"})
    demo.restart_workload("shop", "Deployment", "productpage-v1")
    assert "productpage" not in reports()


def test_demo_charts_have_both_sizes_whichever_side_reports() -> None:
    """The demo's charts read the graph's samples, which hold only what the graph's queries ask for:
    request bytes as the clients report them, response bytes as the servers do. An app's inbound
    charts had no request size and its outbound none of the responses, though every proxy reports
    both (as a live Prometheus shows them)."""
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    spec = MetricsSpec(range_s=300, step_s=60)
    for direction in ("inbound", "outbound"):
        r = DemoMetrics(demo).fetch(MetricsTarget.workload("shop", "productpage-v1", direction), spec)
        for key in ("request_size", "response_size", "request_throughput", "response_throughput"):
            values = [v for ln in r.chart_lines(key) for v in ln.values if not math.isnan(v)]
            assert values and all(v > 0 for v in values), (direction, key)


def test_a_refused_query_empties_only_its_chart() -> None:
    end = 1_700_000_040.0

    def answer(req: StubRequest) -> StubResponse:
        if "histogram_quantile" in req.params["query"]:
            return StubResponse(status=422, body={"status": "error", "errorType": "execution",
                                                  "error": "query processing would load too many samples"})
        return StubResponse(body=_matrix([(end, "3")]))

    with StubServer(answer) as stub:
        metrics = PrometheusMetrics(PrometheusClient(stub.url), clock=lambda: end)
        r = metrics.fetch(MetricsTarget.workload("a", "b"),
                          MetricsSpec(range_s=120, step_s=60, charts=("request_volume", "request_duration")))
    volume = r.chart_lines("request_volume")[0].values
    assert math.isnan(volume[0]) and math.isnan(volume[1]) and volume[2] == 3.0
    assert "volume" not in " ".join(r.errors)
    # the quantiles were refused: the chart keeps the line that worked (the average) and says why
    assert "too many samples" in r.errors["request_duration"]
    assert [ln.stat for ln in r.chart_lines("request_duration")] == ["avg"]


def test_an_app_box_reads_its_callers_reports_only_when_no_member_has_a_proxy() -> None:
    """A box is marked "missing sidecar" when any member is; reading the callers' reports for all of
    it dropped the requests from callers without a proxy (the unknown node, a CronJob) to the
    versions that have one. The servers' reports, as Kiali reads an app box, unless none has a proxy."""
    from meshdesk.mesh.graph import box as boxing
    from meshdesk.mesh.graph.model import BOX_APP, NODE_APP, NODE_BOX, Node, TrafficGraph, node_id
    from meshdesk.mesh.request import GraphRequest

    def graph(missing: tuple[bool, bool]) -> tuple[TrafficGraph, str]:
        g = TrafficGraph(GraphRequest(graphType="versionedApp"))
        for version, gone in zip(("v1", "v2"), missing, strict=True):
            g.add_node(Node(node_id(NODE_APP, namespace="shop", app="reviews", version=version), NODE_APP,
                            namespace="shop", app="reviews", version=version, has_missing_sidecar=gone))
        boxing.apply(g)
        found = g.find_node(node_type=NODE_BOX, box=BOX_APP)
        assert found is not None and found.has_missing_sidecar == any(missing)
        return g, found.id

    for missing, reporter in (((False, False), "destination"), ((True, False), "destination"),
                              ((True, True), "source")):
        g, box_id = graph(missing)
        target = target_for_node(g, box_id)
        assert target is not None and target.reporter == reporter, missing
        assert dict(target.labels) == {"destination_workload_namespace": "shop",
                                       "destination_canonical_service": "reviews"}


def test_what_comes_into_a_workload_without_a_sidecar_is_read_from_its_callers() -> None:
    """mongodb runs without a sidecar: nothing on its side reports the bytes it receives, so its
    inbound charts read its callers' reports (as its edges do); outbound and sidecar'd nodes keep
    their own side's."""
    from meshdesk.mesh.graph.model import Node, TrafficGraph, node_id
    from meshdesk.mesh.request import GraphRequest

    g = TrafficGraph(GraphRequest())
    db = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="shop", workload="mongodb-v1"), NODE_WORKLOAD,
                         namespace="shop", workload="mongodb-v1", has_missing_sidecar=True))
    app = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="shop", workload="ratings-v1"), NODE_WORKLOAD,
                          namespace="shop", workload="ratings-v1"))
    inbound = target_for_node(g, db.id)
    assert inbound is not None and inbound.reporter == "source"
    assert dict(inbound.labels) == {"destination_workload_namespace": "shop", "destination_workload": "mongodb-v1"}
    assert target_for_node(g, db.id, "outbound") == MetricsTarget.workload("shop", "mongodb-v1", "outbound")
    assert target_for_node(g, app.id) == MetricsTarget.workload("shop", "ratings-v1")


def test_charts_keep_to_their_cluster_in_a_multi_cluster_graph(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Two clusters run a details-v1 each: selected in a graph that spans both, a node's charts and an
    edge's keep to their own cluster (as Kiali narrows its metrics by cluster); in a one-cluster graph
    no cluster label is asked for, so telemetry without cluster labels still charts."""
    from meshdesk.mesh.graph.model import Edge, Node, TrafficGraph, edge_id, node_id
    from meshdesk.mesh.request import GraphRequest
    from tests.prom_server import CLUSTER

    def graph(clusters: tuple[str, str]) -> tuple[TrafficGraph, Node, Edge]:
        g = TrafficGraph(GraphRequest())
        src = g.add_node(Node(node_id(NODE_WORKLOAD, clusters[0], namespace="bookinfo", workload="productpage-v1"),
                              NODE_WORKLOAD, cluster=clusters[0], namespace="bookinfo", workload="productpage-v1"))
        dst = g.add_node(Node(node_id(NODE_WORKLOAD, clusters[1], namespace="bookinfo", workload="details-v1"),
                              NODE_WORKLOAD, cluster=clusters[1], namespace="bookinfo", workload="details-v1"))
        e = g.add_edge(Edge(edge_id(src.id, dst.id, "http"), src.id, dst.id, "http"))
        return g, dst, e

    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    single, details, _ = graph((CLUSTER, CLUSTER))
    target = target_for_node(single, details.id)
    assert target == MetricsTarget.workload("bookinfo", "details-v1")
    for clusters, rate in (((CLUSTER, CLUSTER + "-west"), None), ((CLUSTER + "-west", CLUSTER), 10.0)):
        g, details, e = graph(clusters)
        node_target, edge_target = target_for_node(g, details.id), target_for_edge(g, e.id)
        assert node_target is not None and edge_target is not None
        assert ("destination_cluster", clusters[1]) in node_target.labels
        assert {("source_cluster", clusters[0]), ("destination_cluster", clusters[1])} <= set(edge_target.labels)
        got = _last(metrics.fetch(node_target, _spec(prometheus_server)), "request_volume")
        assert got == ({} if rate is None else {("", "rate"): pytest.approx(rate)})


def test_an_edge_into_a_service_entry_charts_the_hosts_it_stands_for(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A ServiceEntry's node is named after the entry, while its telemetry names the hosts callers
    reached (as the graph matched them to it): an edge into it charts those hosts' requests (it
    charted nothing). Here an entry standing for details and reviews: productpage sends 10 + 8 rps."""
    from meshdesk.mesh.graph.model import (
        DestService,
        Edge,
        Node,
        ServiceEntryInfo,
        TrafficGraph,
        edge_id,
        node_id,
    )
    from meshdesk.mesh.request import GraphRequest
    from tests.prom_server import CLUSTER

    g = TrafficGraph(GraphRequest())
    src = g.add_node(Node(node_id(NODE_WORKLOAD, CLUSTER, namespace="bookinfo", workload="productpage-v1"),
                          NODE_WORKLOAD, cluster=CLUSTER, namespace="bookinfo", workload="productpage-v1"))
    entry = Node(node_id(NODE_SERVICE, CLUSTER, namespace="bookinfo", service="partners"), NODE_SERVICE,
                 cluster=CLUSTER, namespace="bookinfo", service="partners")
    entry.is_service_entry = ServiceEntryInfo("MESH_EXTERNAL", ("details", "reviews"), "partners", "bookinfo")
    entry.dest_services = [DestService(CLUSTER, "bookinfo", "details"), DestService(CLUSTER, "bookinfo", "reviews")]
    g.add_node(entry)
    e = g.add_edge(Edge(edge_id(src.id, entry.id, "http"), src.id, entry.id, "http"))
    target = target_for_edge(g, e.id)
    assert target is not None
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    got = _last(metrics.fetch(target, _spec(prometheus_server)), "request_volume")
    assert got == {("", "rate"): pytest.approx(18.0)}


def test_service_charts_match_the_graph_without_sidecars_and_through_waypoints() -> None:
    """The demo's mongodb runs without a sidecar: the charts of its service and of the edge from the
    service to it read the callers' reports (they charted nothing). In the ambient travel namespace
    ztunnel reports a request's bytes on the hop into the waypoint and again on the hop out of it,
    both under the service: its chart counts them once, as the graph does."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_APP
    from meshdesk.mesh.request import GraphRequest

    now = 1_749_999_960.0  # on the charts' one-minute grid: their last point is the graph's minute
    demo = DemoCluster(clock=lambda: now)
    metrics = DemoMetrics(demo)
    spec = MetricsSpec(range_s=600, step_s=60, end=now)

    def tcp_chart(target: MetricsTarget | None) -> float:
        assert target is not None
        lines = metrics.fetch(target, spec).chart_lines("tcp_sent")
        assert lines, f"{target.title} charts its TCP bytes"
        return lines[0].values[-1]

    shop = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now), duration=60)))
    mongodb = shop.find_node(node_type=NODE_SERVICE, service="mongodb")
    db = shop.find_node(node_type=NODE_APP, app="mongodb", version="v1")
    assert mongodb is not None and db is not None and db.has_missing_sidecar
    edge = next(e for e in shop.out_edges(mongodb.id) if e.target == db.id)
    assert tcp_chart(target_for_edge(shop, edge.id)) == pytest.approx(edge.rates["tcp"], rel=0.02)
    assert tcp_chart(target_for_node(shop, mongodb.id)) == pytest.approx(edge.rates["tcp"], rel=0.02)

    travel = build(demo.snapshot(GraphRequest(namespaces=("travel",), queryTime=int(now), duration=60)))
    flights = travel.find_node(node_type=NODE_SERVICE, service="flights")
    served = travel.find_node(node_type=NODE_APP, app="flights", version="v1")
    assert flights is not None and served is not None
    into = sum(e.rates.get("tcp", 0.0) for e in travel.in_edges(served.id))
    assert into > 0 and tcp_chart(target_for_node(travel, flights.id)) == pytest.approx(into, rel=0.02)


def _real_graph(srv: PrometheusServer, **kw: object) -> TrafficGraph:
    """The graph meshdesk draws from the real Prometheus' telemetry."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.telemetry import fetch_samples

    kw.setdefault("queryTime", srv.query_time)
    request = GraphRequest(**kw)  # type: ignore[arg-type]
    samples, _ = fetch_samples(PrometheusClient(srv.url), request)
    return build(Snapshot(request, samples))


@pytest.mark.parametrize("inject", [False, True])
def test_operation_nodes_and_their_edges_chart_that_operation(prometheus_server: PrometheusServer,  # noqa: F811
                                                               inject: bool) -> None:
    """productpage sends 18 rps in all, 5 of them to reviews-v2 as operation "GetReviews": the edges
    into and out of the GetReviews node chart those 5 (they charted all 18 of productpage's
    outbound, or all of reviews-v2's inbound), and the operation node has charts of its own."""
    from meshdesk.mesh.graph.model import NODE_AGGREGATE

    g = _real_graph(prometheus_server, namespaces=("bookinfo",), graphType="workload",
                    appenders=("operationNodes",), injectServiceNodes=inject)
    op = g.find_node(node_type=NODE_AGGREGATE)
    assert op is not None and op.aggregate_value == "GetReviews"
    into = [e for e in g.in_edges(op.id)]
    out = [e for e in g.out_edges(op.id)]
    assert into and out
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    spec = _spec(prometheus_server, charts=("request_volume",))
    for e in into + out:
        assert e.rate == pytest.approx(5.0)
        target = target_for_edge(g, e.id)
        assert target is not None
        assert _last(metrics.fetch(target, spec), "request_volume") == {("", "rate"): pytest.approx(5.0)}, target
    node_target = target_for_node(g, op.id)
    assert node_target is not None and "GetReviews" in node_target.title
    assert _last(metrics.fetch(node_target, spec), "request_volume") == {("", "rate"): pytest.approx(5.0)}
    by_version = metrics.fetch(node_target, _spec(prometheus_server, charts=("request_volume",), split=SPLIT_VERSION))
    assert _last(by_version, "request_volume") == {("v2", "rate"): pytest.approx(5.0)}
    assert target_for_node(g, op.id, "outbound") is None  # an operation sends nothing of its own


def test_a_service_graphs_service_to_service_edge_says_it_has_no_charts(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """In a service graph a service -> service edge stands for the traffic of every workload behind
    the source service; no label selects it (its chart said "No data"): no target, and a reason."""
    from meshdesk.mesh.metrics import no_charts_reason

    g = _real_graph(prometheus_server, namespaces=("bookinfo",), graphType="service")
    edges = [e for e in g.edges.values()
             if g.nodes[e.source].node_type == NODE_SERVICE and g.nodes[e.target].node_type == NODE_SERVICE]
    assert edges
    for e in edges:
        assert target_for_edge(g, e.id) is None
        assert "not available for service-to-service edges" in no_charts_reason(g, e.id)
    other = next(e for e in g.edges.values() if g.nodes[e.source].node_type != NODE_SERVICE)
    assert target_for_edge(g, other.id) is not None and no_charts_reason(g, other.id) == ""


def test_the_tcp_hop_out_of_a_waypoint_charts_ztunnels_report(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """ztunnel reports the TCP hop from the mall waypoint to orders-v1 (300 B/s) on the destination's
    side, as Kiali reads a waypoint's "from" edge; the edge's chart read the source's side (empty)."""
    g = _real_graph(prometheus_server, namespaces=("mall",), graphType="workload")
    edge = next(e for e in g.edges.values()
                if g.nodes[e.source].workload == "waypoint" and g.nodes[e.target].workload == "orders-v1"
                and e.protocol == "tcp")
    assert edge.extra["waypoint"]["direction"] == "from"
    target = target_for_edge(g, edge.id)
    assert target is not None
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    got = _last(metrics.fetch(target, _spec(prometheus_server, charts=("tcp_sent",))), "tcp_sent")
    assert got == {("", "rate"): pytest.approx(300.0)}
    assert got[("", "rate")] == pytest.approx(edge.rates["tcp"])


def test_grpc_message_charts(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Kiali charts a gRPC stream's messages ("gRPC sent" / "gRPC received"); we had no such chart.
    reviews-v2 -> ratings: 6 request and 12 response messages a second, seen from either end."""
    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url), clock=lambda: prometheus_server.query_time)
    spec = MetricsSpec(range_s=600, step_s=60, charts=("grpc_request_messages", "grpc_response_messages"))
    for target in (MetricsTarget.workload("bookinfo", "reviews-v2", "outbound"),
                   MetricsTarget.workload("bookinfo", "ratings-v1"), MetricsTarget.service("bookinfo", "ratings")):
        r = metrics.fetch(target, spec)
        assert r.chart_lines("grpc_request_messages")[0].values[-1] == pytest.approx(6.0), target.title
        assert r.chart_lines("grpc_response_messages")[0].values[-1] == pytest.approx(12.0), target.title
    r = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"), spec)  # HTTP only: none
    assert r.chart_lines("grpc_request_messages") == []
    # the demo's gRPC call (productpage -> inventory) has them too
    now = 1_750_000_000.0
    demo = DemoMetrics(DemoCluster(clock=lambda: now)).fetch(MetricsTarget.workload("shop", "inventory-v1"),
                                                              MetricsSpec(range_s=120, step_s=60, charts=spec.charts))
    assert all(ln.values[-1] > 0 for key in spec.charts for ln in demo.chart_lines(key))
    assert demo.chart_lines("grpc_request_messages")


def test_charts_of_a_prometheus_scraping_every_minute(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prometheus's own default scrape interval is a minute. Our rate window was a minute too: it held
    one sample of each series, rate() of one sample is nothing, and every chart said "No data". The
    window takes in four scrape intervals, read from the server's configuration."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    labels = istio_edge(PRODUCTPAGE, DETAILS, "details", "bookinfo")
    srv = PrometheusServer(tmp_path_factory.mktemp("scrape60"), [Series("istio_requests_total", labels, 10.0)],
                           scrape_s=60, phase_s=7)
    srv.start()
    try:
        client = PrometheusClient(srv.url)
        assert client.scrape_interval() == 60.0
        metrics = PrometheusMetrics(client, clock=lambda: srv.query_time)
        spec = MetricsSpec(range_s=600, step_s=60, charts=("request_volume",))
        assert metrics.rate_window(spec) == 240
        lines = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"), spec).chart_lines("request_volume")
        assert lines and all(v == pytest.approx(10.0) for v in lines[0].values)
        # a window the caller fixes is kept as it is
        assert metrics.rate_window(MetricsSpec(rate_window_s=60)) == 60
        client.close()
    finally:
        srv.stop()


def test_the_rate_window_without_a_readable_scrape_interval() -> None:
    """Thanos or Mimir offer no configuration: the window stays a minute (or the step)."""
    with StubServer(lambda req: StubResponse(status=404, body="404 page not found")) as stub:
        metrics = PrometheusMetrics(PrometheusClient(stub.url))
        assert metrics.rate_window(MetricsSpec(step_s=60)) == 60
        assert metrics.rate_window(MetricsSpec(step_s=300)) == 300
    yaml_body = {"status": "success", "data": {"yaml": "global:\n  scrape_interval: 1m30s\n"}}
    with StubServer(lambda req: StubResponse(body=yaml_body)) as stub:
        assert PrometheusMetrics(PrometheusClient(stub.url)).rate_window(MetricsSpec(step_s=60)) == 360


def test_namespace_and_cluster_boxes_chart_their_traffic(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A namespace box had no charts. As Kiali charts a namespace: inbound, the requests into its
    workloads (their reports); outbound, those its workloads sent; a request between two of its workloads
    counts in both. In the ambient namespace mall ztunnel reports web's bytes on the hop into the
    waypoint and again on the hop out of it: counted once. A cluster box charts the namespaces the
    graph shows in it, in that cluster."""
    from meshdesk.mesh.graph.model import BOX_CLUSTER, BOX_NAMESPACE, NODE_BOX

    metrics = PrometheusMetrics(PrometheusClient(prometheus_server.url))
    g = _real_graph(prometheus_server, namespaces=("bookinfo", "tutorial", "mall"), boxBy=("namespace",))
    expected = {("bookinfo", "inbound"): (36.0, 3.0), ("bookinfo", "outbound"): (23.0, 3.0),
                ("tutorial", "inbound"): (8.5, 0.5), ("tutorial", "outbound"): (10.5, 0.5),
                ("mall", "inbound"): (7.0, 1.0), ("mall", "outbound"): (7.0, 1.0)}
    for (ns, direction), (volume, errors) in expected.items():
        box = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace=ns)
        assert box is not None
        target = target_for_node(g, box.id, direction)
        assert target is not None and target.title == f"namespace {ns} ({direction})"
        side = "destination" if direction == "inbound" else "source"
        assert (f"{side}_workload_namespace", ns) in target.labels and target.reporter == side
        r = metrics.fetch(target, _spec(prometheus_server))
        assert r.errors == {}
        assert _last(r, "request_volume") == {("", "rate"): pytest.approx(volume)}, (ns, direction)
        assert _last(r, "request_errors") == {("", "rate"): pytest.approx(errors)}, (ns, direction)
        if ns == "mall":
            assert _last(r, "tcp_sent") == {("", "rate"): pytest.approx(300.0)}, direction
    bookinfo = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="bookinfo")
    assert bookinfo is not None
    r = metrics.fetch(target_for_node(g, bookinfo.id), _spec(prometheus_server))  # type: ignore[arg-type]
    assert _last(r, "tcp_sent") == {("", "rate"): pytest.approx(250.0)}
    assert _last(r, "tcp_received") == {("", "rate"): pytest.approx(1000.0)}
    assert _last(r, "error_share") == {("", "rate"): pytest.approx(3.0 / 36.0)}
    by_version = metrics.fetch(target_for_node(g, bookinfo.id), _spec(prometheus_server, split=SPLIT_VERSION))  # type: ignore[arg-type]
    assert _last(by_version, "request_volume") == {("v1", "rate"): pytest.approx(31.0),
                                                   ("v2", "rate"): pytest.approx(5.0)}

    # the fixture's telemetry is of one cluster ("Kubernetes"): a second cluster's box beside it
    from meshdesk.mesh.graph import box as boxing
    from meshdesk.mesh.graph.model import Node, node_id
    from meshdesk.mesh.request import GraphRequest
    from tests.prom_server import CLUSTER

    two = TrafficGraph(GraphRequest(boxBy=("cluster",)))
    for cluster, ns, name in ((CLUSTER, "bookinfo", "details-v1"), (CLUSTER, "tutorial", "customer-v1"),
                              ("west", "bookinfo", "details-v1"), ("west", "bookinfo", "reviews-v1")):
        two.add_node(Node(node_id(NODE_WORKLOAD, cluster, namespace=ns, workload=name), NODE_WORKLOAD,
                          cluster=cluster, namespace=ns, workload=name))
    boxing.apply(two)
    here = two.find_node(node_type=NODE_BOX, box=BOX_CLUSTER, cluster=CLUSTER)
    assert here is not None
    target = target_for_node(two, here.id, "outbound")
    assert target is not None and target.title == f"cluster {CLUSTER}, namespaces bookinfo, tutorial (outbound)"
    assert ("source_cluster", CLUSTER) in target.labels
    assert target.any_of == (("source_workload_namespace", ("bookinfo", "tutorial")),)
    r = metrics.fetch(target, _spec(prometheus_server))
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(23.0 + 10.5)}
    west = two.find_node(node_type=NODE_BOX, box=BOX_CLUSTER, cluster="west")
    assert west is not None
    r = metrics.fetch(target_for_node(two, west.id), _spec(prometheus_server))  # type: ignore[arg-type]
    assert _last(r, "request_volume") == {}


def test_a_namespace_box_reads_its_callers_reports_only_when_no_workload_in_it_has_a_proxy() -> None:
    """As an app box: the servers' reports of what comes into the namespace, unless none of its workloads
    (in app boxes inside it too) has a proxy; a hostile namespace name is escaped."""
    from meshdesk.mesh.graph import box as boxing
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_APP, NODE_BOX, Node, node_id
    from meshdesk.mesh.request import GraphRequest

    evil = 'x"} or vector(1) or {a="'
    for missing, reporter in (((False, True, True), "destination"), ((True, True, True), "source")):
        g = TrafficGraph(GraphRequest(graphType="versionedApp", boxBy=("namespace",)))
        for (app, version), gone in zip((("db", "v1"), ("db", "v2"), ("cache", "v1")), missing, strict=True):
            g.add_node(Node(node_id(NODE_APP, namespace=evil, app=app, version=version), NODE_APP,
                            namespace=evil, app=app, version=version, has_missing_sidecar=gone))
        g.add_node(Node(node_id(NODE_APP, namespace="other", app="web", version="v1"), NODE_APP,
                        namespace="other", app="web", version="v1"))
        boxing.apply(g)
        box = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace=evil)
        assert box is not None  # the db app box and cache inside it
        target = target_for_node(g, box.id)
        assert target is not None and target.reporter == reporter, missing
        outbound = target_for_node(g, box.id, "outbound")
        assert outbound is not None and outbound.reporter == "source"
        assert all('workload_namespace="x\\"} or vector(1) or {a=\\""' in q.promql
                   for q in line_queries(target, MetricsSpec()))


def test_a_namespace_box_reads_what_comes_into_its_workloads_without_a_sidecar_from_their_callers(
        prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """The demo's shop runs mongodb without a sidecar: nothing on its side reports the bytes it receives,
    so the namespace's inbound TCP charts said "No data" beside the graph's TCP edge into it. Those
    destinations are read from their callers' reports, every other one from the servers' (a namespace
    with one sidecar-less workload must not lose the rest)."""
    import copy

    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_APP, NODE_BOX
    from meshdesk.mesh.request import GraphRequest

    now = 1_749_999_960.0
    demo = DemoCluster(clock=lambda: now)
    shop = build(demo.snapshot(GraphRequest(namespaces=("shop", "hello"), boxBy=("namespace",), queryTime=int(now),
                                            duration=60)))
    box = shop.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="shop")
    db = shop.find_node(node_type=NODE_APP, app="mongodb", version="v1")
    assert box is not None and db is not None and db.has_missing_sidecar
    target = target_for_node(shop, box.id)
    assert target is not None and target.reporter == "destination"
    assert target.by_callers == (("destination_workload", ("mongodb-v1",), ""),)
    into_db = sum(e.rates.get("tcp", 0.0) for e in shop.in_edges(db.id))
    lines = DemoMetrics(demo).fetch(target, MetricsSpec(range_s=600, step_s=60, end=now)).chart_lines("tcp_sent")
    assert into_db > 0 and lines and lines[0].values[-1] == pytest.approx(into_db, rel=0.02)

    # the real Prometheus: productpage's sidecar taken out, its callers' reports tell what came in (the
    # unknown caller has no proxy: 12/s of its 13/s), the servers' the rest of bookinfo's 36/s
    g = copy.deepcopy(_real_graph(prometheus_server, namespaces=("bookinfo", "tutorial"), boxBy=("namespace",)))
    page = g.find_node(node_type=NODE_APP, app="productpage")
    bookinfo = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="bookinfo")
    assert page is not None and bookinfo is not None
    page.has_missing_sidecar = True
    target = target_for_node(g, bookinfo.id)
    assert target is not None and target.by_callers == (("destination_workload", ("productpage-v1",), ""),)
    r = PrometheusMetrics(PrometheusClient(prometheus_server.url)).fetch(target, _spec(prometheus_server))
    assert r.errors == {}
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(35.0)}
    assert _last(r, "request_errors") == {("", "rate"): pytest.approx(3.0)}
    # ingress -> productpage's durations (source-reported now) and details' (destination-reported)
    assert _last(r, "request_duration")[("", "avg")] == pytest.approx(22.25)
    assert _last(r, "tcp_received") == {("", "rate"): pytest.approx(1000.0)}


def test_a_namespace_box_of_a_service_graph_reads_its_sidecar_less_workloads_from_the_inventory() -> None:
    """A service graph has no workload nodes, so no node said mongodb-v1 runs without a sidecar: the shop
    box's inbound TCP said "No data" beside the graph's ratings -> mongodb TCP edge. The inventory tells
    which workloads of the namespace lack a proxy, in every graph type (hello's uptime-checker, in no
    graph, too)."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX
    from meshdesk.mesh.request import GraphRequest

    now = 1_749_999_960.0
    demo = DemoCluster(clock=lambda: now)
    for graph_type in ("service", "app", "workload"):
        g = build(demo.snapshot(GraphRequest(graphType=graph_type, namespaces=("shop", "hello"),
                                             boxBy=("namespace",), queryTime=int(now), duration=60)))
        shop = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="shop")
        hello = g.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="hello")
        db = g.find_node(node_type=NODE_SERVICE, service="mongodb")
        assert shop is not None and hello is not None and db is not None, graph_type
        target = target_for_node(g, shop.id)
        assert target is not None and target.reporter == "destination"
        assert ("destination_workload", ("mongodb-v1",), "") in target.by_callers, graph_type
        hello_target = target_for_node(g, hello.id)
        assert hello_target is not None and hello_target.by_callers == (
            ("destination_workload", ("uptime-checker",), ""),)
        if graph_type == "service":
            into_db = sum(e.rates.get("tcp", 0.0) for e in g.in_edges(db.id))
            lines = DemoMetrics(demo).fetch(target, MetricsSpec(range_s=600, step_s=60, end=now)).chart_lines(
                "tcp_sent")
            assert into_db > 0 and lines and lines[0].values[-1] == pytest.approx(into_db, rel=0.02)


def test_a_cluster_box_reads_each_workload_without_a_sidecar_from_its_callers(
        prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A cluster box read its callers' reports only when no workload in it had a proxy: with productpage's
    sidecar taken out beside details and customer, what came into productpage was lost. Each such
    workload is read from its callers in its own namespace, the rest from the servers: bookinfo's 35/s
    (as its namespace box) and tutorial's 8.5/s."""
    from meshdesk.mesh.graph import box as boxing
    from meshdesk.mesh.graph.model import BOX_CLUSTER, NODE_BOX, Node, node_id
    from meshdesk.mesh.request import GraphRequest
    from tests.prom_server import CLUSTER

    two = TrafficGraph(GraphRequest(boxBy=("cluster",)))
    for cluster, ns, name in ((CLUSTER, "bookinfo", "details-v1"), (CLUSTER, "bookinfo", "productpage-v1"),
                              (CLUSTER, "tutorial", "customer-v1"), ("west", "bookinfo", "reviews-v1")):
        two.add_node(Node(node_id(NODE_WORKLOAD, cluster, namespace=ns, workload=name), NODE_WORKLOAD,
                          cluster=cluster, namespace=ns, workload=name,
                          has_missing_sidecar=name == "productpage-v1"))
    boxing.apply(two)
    here = two.find_node(node_type=NODE_BOX, box=BOX_CLUSTER, cluster=CLUSTER)
    assert here is not None
    target = target_for_node(two, here.id)
    assert target is not None and target.reporter == "destination"
    assert target.by_callers == (("destination_workload", ("productpage-v1",), "bookinfo"),)
    for labels, counted in (({"reporter": "source", "destination_workload_namespace": "bookinfo",
                              "destination_workload": "productpage-v1"}, True),
                            ({"reporter": "destination", "destination_workload_namespace": "bookinfo",
                              "destination_workload": "productpage-v1"}, False),
                            ({"reporter": "destination", "destination_workload_namespace": "tutorial",
                              "destination_workload": "productpage-v1"}, True),
                            ({"reporter": "source", "destination_workload_namespace": "tutorial",
                              "destination_workload": "productpage-v1"}, False)):
        assert target.matches({**labels, "destination_cluster": CLUSTER}) == counted, labels
    r = PrometheusMetrics(PrometheusClient(prometheus_server.url)).fetch(target, _spec(prometheus_server))
    assert r.errors == {}
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(35.0 + 8.5)}


def test_an_app_box_with_its_service_node_inside_reads_its_callers_when_no_version_has_a_proxy() -> None:
    """A versioned-app graph draws the service node inside its app box: the service node, which has no
    sidecar flag of its own, counted as a member with a proxy, so the mongodb box (one version, without
    a sidecar) read the servers' reports and its TCP charts said "No data" beside the graph's edge."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import BOX_APP, NODE_BOX
    from meshdesk.mesh.request import GraphRequest

    now = 1_749_999_960.0
    demo = DemoCluster(clock=lambda: now)
    g = build(demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",), boxBy=("app",),
                                         queryTime=int(now), duration=60)))
    box = g.find_node(node_type=NODE_BOX, box=BOX_APP, app="mongodb")
    db = g.find_node(node_type=NODE_SERVICE, service="mongodb")
    assert box is not None and db is not None and db.parent == box.id
    target = target_for_node(g, box.id)
    assert target is not None and target.reporter == "source"
    into_db = sum(e.rates.get("tcp", 0.0) for e in g.in_edges(db.id))
    lines = DemoMetrics(demo).fetch(target, MetricsSpec(range_s=600, step_s=60, end=now)).chart_lines("tcp_sent")
    assert into_db > 0 and lines and lines[0].values[-1] == pytest.approx(into_db, rel=0.02)


def test_reported_by_the_destination_of_a_workload_without_a_sidecar_says_none_reports() -> None:
    """Charted as its own side reports them, what comes into a workload without a sidecar (or along an
    edge to it) is nothing at all: the title says why the charts are empty rather than showing empty
    charts as if no request came; with a proxy there, nothing is added."""
    from meshdesk.mesh.graph.model import Edge, Node, TrafficGraph, edge_id, node_id
    from meshdesk.mesh.metrics import reported_by
    from meshdesk.mesh.request import GraphRequest

    g = TrafficGraph(GraphRequest())
    db = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="shop", workload="mongodb-v1"), NODE_WORKLOAD,
                         namespace="shop", workload="mongodb-v1", has_missing_sidecar=True))
    app = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="shop", workload="ratings-v1"), NODE_WORKLOAD,
                          namespace="shop", workload="ratings-v1"))
    edge = g.add_edge(Edge(edge_id(app.id, db.id, "tcp"), app.id, db.id, "tcp"))
    why = "(the destination has no proxy to report them: nothing to show)"
    into_db = reported_by(target_for_node(g, db.id), "destination")
    assert into_db is not None and into_db.title == f"workload shop/mongodb-v1 (inbound), reported by the destination {why}"
    along = reported_by(target_for_edge(g, edge.id), "destination")
    assert along is not None and along.title.endswith(why)
    by_callers = reported_by(target_for_node(g, db.id), "source")
    assert by_callers is not None and why not in by_callers.title
    into_app = reported_by(target_for_node(g, app.id), "destination")
    assert into_app is not None and into_app.title == "workload shop/ratings-v1 (inbound), reported by the destination"


def test_errors_of_both_kinds_are_added(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A gRPC service fails 1 call a second with an HTTP 503 and 2 with UNAVAILABLE behind a 200, of 9.
    The Errors chart reads 3 a second and the error share a third. Kiali sums the two kinds apart and
    joins the sums with `or`, which keeps the left one wherever both have a value: it would read 1 (a
    difference kept on purpose, docs/kiali-differences.md)."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    grpc = {"protocol": "grpc"}
    series = [Series("istio_requests_total", istio_edge(PRODUCTPAGE, DETAILS, "details", "bookinfo", code=code,
                                                        grpc_status=status, **grpc), rate)  # type: ignore[arg-type]
              for code, status, rate in (("200", "0", 6.0), ("503", "", 1.0), ("200", "14", 2.0))]
    srv = PrometheusServer(tmp_path_factory.mktemp("errors"), series)
    srv.start()
    try:
        client = PrometheusClient(srv.url)
        metrics = PrometheusMetrics(client, clock=lambda: srv.query_time)
        r = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"),
                          MetricsSpec(range_s=300, step_s=60, charts=("request_volume", "request_errors", "error_share")))
        assert _last(r, "request_volume") == {("", "rate"): pytest.approx(9.0)}
        assert _last(r, "request_errors") == {("", "rate"): pytest.approx(3.0)}
        assert _last(r, "error_share") == {("", "rate"): pytest.approx(1.0 / 3.0)}
        sel = 'reporter="destination",destination_workload_namespace="bookinfo",destination_workload="details-v1"'
        codes = '"^0$|^[4-5]\\\\d\\\\d$"'
        kiali = (f"sum(rate(istio_requests_total{{{sel},response_code=~{codes}}}[1m])) OR "
                 f"sum(rate(istio_requests_total{{{sel},grpc_response_status=~\"^[1-9]$|^1[0-6]$\","
                 f"response_code!~{codes}}}[1m]))")
        theirs = client.query_range(kiali, r.end - 60, r.end, 60)
        assert [s.points[-1][1] for s in theirs] == [pytest.approx(1.0)]
        client.close()
    finally:
        srv.stop()


def test_a_gateways_edge_to_requests_no_workload_served_reads_the_gateways_reports(
        prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Without injected service nodes, the ingress gateway's edge to the ratings service carries the
    0.25 requests a second no workload served (503 UH), which only the gateway reports. A gateway's
    edges are read from the server's reports, and there is no server here: the edge's charts were
    empty beside an edge the graph labels 0.25. They read the caller's reports, as the graph does."""
    from meshdesk.mesh.graph.model import Edge, Node, edge_id, node_id
    from meshdesk.mesh.request import GraphRequest

    g = TrafficGraph(GraphRequest(namespaces=("bookinfo",), graphType="workload", injectServiceNodes=False))
    gw = g.add_node(Node(node_id(NODE_WORKLOAD, namespace="istio-system", workload="istio-ingressgateway"),
                         NODE_WORKLOAD, namespace="istio-system", workload="istio-ingressgateway", is_gateway=True))
    svc = g.add_node(Node(node_id(NODE_SERVICE, namespace="bookinfo", service="ratings"), NODE_SERVICE,
                          namespace="bookinfo", service="ratings"))
    e = g.add_edge(Edge(edge_id(gw.id, svc.id, "http"), gw.id, svc.id, "http"))
    target = target_for_edge(g, e.id)
    assert target is not None
    r = PrometheusMetrics(PrometheusClient(prometheus_server.url)).fetch(target, _spec(prometheus_server))
    assert _last(r, "request_volume") == {("", "rate"): pytest.approx(0.25)}
    assert _last(r, "error_share") == {("", "rate"): pytest.approx(1.0)}


def test_a_service_using_a_waypoint_of_another_namespace_charts_its_bytes_once(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """bank's ledger uses the waypoint shared-wp of the namespace infra (``istio.io/use-waypoint-namespace``):
    ztunnel reports a request's bytes on the hop into the waypoint and again on the hop out of it, both
    under ledger. The service's chart counts them once, as the graph's edge into ledger-v1 does (it
    counted the hop into the waypoint too, twice what the graph shows, because only a waypoint of the
    service's own namespace was left out)."""
    from meshdesk.mesh.graph.model import NODE_WORKLOAD
    from tests.test_ambient_live import shared_waypoint_series

    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("bank-prometheus"), shared_waypoint_series())
    srv.start()
    try:
        g = _real_graph(srv, namespaces=("bank",), graphType="workload", injectServiceNodes=True, rateTcp="total")
        svc = g.find_node(node_type=NODE_SERVICE, service="ledger")
        served = g.find_node(node_type=NODE_WORKLOAD, workload="ledger-v1")
        assert svc is not None and served is not None
        into = sum(e.rates.get("tcp", 0.0) for e in g.in_edges(served.id) if e.protocol == "tcp")
        assert into == pytest.approx(60.0)  # sent and received, on the hop out of the waypoint
        target = target_for_node(g, svc.id)
        assert target is not None
        metrics = PrometheusMetrics(PrometheusClient(srv.url))
        got = _last(metrics.fetch(target, _spec(srv, charts=("tcp_sent",))), "tcp_sent")
        assert got == {("", "rate"): pytest.approx(30.0)}
    finally:
        srv.stop()
