"""The graph's Prometheus queries, run against a real Prometheus with the standard Istio dataset
(tests.prom_server.istio_dataset): the numbers that come back, the series Kiali's own per-namespace
queries would return, and a constant number of queries however many namespaces are selected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping

import pytest

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.request import GraphRequest, NodeFocus
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.base import Cancelled
from meshdesk.sources.prometheus import PrometheusClient, PromQLError
from meshdesk.sources.telemetry import (
    GROUP_MESSAGES,
    GROUP_REQUESTS,
    GROUP_TCP,
    build_queries,
    fetch_samples,
)
from tests.prom_server import (
    FRESH_AGE_S,
    HANG,
    Histogram,
    PrometheusServer,
    Series,
    StubRequest,
    StubResponse,
    StubServer,
    Workload,
    binaries_missing,
    istio_edge,
    prometheus_server,  # noqa: F401 - the session fixture
    prometheus_vector,
)

NS = ("bookinfo", "tutorial")
FIFTY = tuple(f"team-{i:02d}" for i in range(49)) + ("bookinfo",)


def client_for(srv: PrometheusServer) -> PrometheusClient:
    return PrometheusClient(srv.url)


def fetch(srv: PrometheusServer, **kw: object) -> list[Sample]:
    kw.setdefault("queryTime", srv.query_time)
    request = GraphRequest(**kw)  # type: ignore[arg-type]
    samples, warnings = fetch_samples(client_for(srv), request)
    assert warnings.total == 0, warnings.messages()
    return samples


def pick(samples: list[Sample], metric: str, **labels: str) -> list[Sample]:
    return [s for s in samples if s.metric == metric and all(s.labels.get(k) == v for k, v in labels.items())]


def one(samples: list[Sample], metric: str, **labels: str) -> Sample:
    found = pick(samples, metric, **labels)
    assert len(found) == 1, (metric, labels, found)
    return found[0]


# --- how many queries -----------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [
    {},
    {"appenders": ()},
    {"rateGrpc": "total", "rateTcp": "total", "appenders": ("responseTime", "throughput", "securityPolicy", "operationNodes")},
    {"rateHttp": "none", "rateGrpc": "sent", "rateTcp": "none", "responseTimeQuantile": "avg"},
    {"includeIdleEdges": True, "throughputType": "request"},
])
def test_query_count_does_not_grow_with_namespaces(kw: dict[str, object]) -> None:
    few = build_queries(GraphRequest(namespaces=("bookinfo",), **kw))  # type: ignore[arg-type]
    many = build_queries(GraphRequest(namespaces=FIFTY, **kw))  # type: ignore[arg-type]
    assert len(few) == len(many) > 0
    assert [q.metric for q in few] == [q.metric for q in many]


def test_default_request_issues_one_query_per_family() -> None:
    queries = build_queries(GraphRequest(namespaces=NS))
    # requests, tcp (sent -> Kiali reads the received counter), response time, throughput
    assert [q.metric for q in queries] == [tm.REQUESTS, tm.TCP_RECEIVED, tm.REQUEST_DURATION, tm.RESPONSE_BYTES]
    assert build_queries(GraphRequest(namespaces=())) == []


def test_families_follow_the_rates() -> None:
    def metrics(**kw: object) -> list[str]:
        return [q.metric for q in build_queries(GraphRequest(namespaces=NS, appenders=(), **kw))]  # type: ignore[arg-type]

    assert metrics(rateGrpc="requests", rateTcp="none") == [tm.REQUESTS]
    assert metrics(rateGrpc="sent", rateTcp="none") == [tm.REQUESTS, tm.REQUEST_MESSAGES]
    assert metrics(rateGrpc="received", rateTcp="received") == [tm.REQUESTS, tm.RESPONSE_MESSAGES, tm.TCP_SENT]
    assert metrics(rateHttp="none", rateGrpc="total", rateTcp="total") == [
        tm.REQUEST_MESSAGES, tm.RESPONSE_MESSAGES, tm.TCP_RECEIVED, tm.TCP_SENT]
    assert metrics(rateHttp="none", rateGrpc="none", rateTcp="none") == []


# --- Kiali equivalence ----------------------------------------------------------------------------


def kiali_style_queries(metric: str, namespace: str, group: tuple[str, ...], duration: int) -> list[tuple[str, str]]:
    """(reporter, PromQL) of the per-namespace queries Kiali's namespace graph sends for one metric
    (graph/telemetry/istio/istio.go, sidecar mode), written out here to compare against."""
    by = ",".join(g for g in group if g != "reporter")
    app = 'app!="ztunnel",' if metric.startswith("istio_tcp") else ""
    d = f"[{duration}s]"
    return [
        ("source", f'sum(rate({metric}{{{app}reporter="source",source_workload_namespace!="{namespace}",'
                   f'destination_workload_namespace="unknown",destination_workload="unknown",'
                   f'destination_service=~"^.+\\\\.{namespace}\\\\..+$"}} {d})) by ({by}) > 0'),
        ("destination", f'sum(rate({metric}{{{app}reporter="destination",destination_workload_namespace="{namespace}"}} {d})) '
                        f"by ({by}) > 0"),
        ("source", f'sum(rate({metric}{{{app}reporter="source",source_workload_namespace="{namespace}"}} {d})) by ({by}) > 0'),
    ]


def as_set(samples: list[Sample]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.metric, tuple(sorted(s.labels.items()))): s.value for s in samples}


@pytest.mark.parametrize("namespaces", [("bookinfo",), ("tutorial",), NS, ("bookinfo", "istio-system")])
@pytest.mark.prometheus
def test_same_series_as_kialis_per_namespace_queries(prometheus_server: PrometheusServer,  # noqa: F811
                                                     namespaces: tuple[str, ...]) -> None:
    srv = prometheus_server
    client = client_for(srv)
    request = GraphRequest(namespaces=namespaces, rateGrpc="total", rateTcp="total", appenders=(),
                           ambientTraffic="none", queryTime=srv.query_time)
    ours, _ = fetch_samples(client, request)
    kiali: list[Sample] = []
    families = [(tm.REQUESTS, GROUP_REQUESTS), (tm.REQUEST_MESSAGES, GROUP_MESSAGES),
                (tm.RESPONSE_MESSAGES, GROUP_MESSAGES), (tm.TCP_SENT, GROUP_TCP), (tm.TCP_RECEIVED, GROUP_TCP)]
    for metric, group in families:
        for ns in namespaces:
            for reporter, query in kiali_style_queries(metric, ns, group, request.duration):
                for series in client.query(query, time=srv.query_time):
                    kiali.append(Sample(metric, {**series.labels, "reporter": reporter}, series.value))
    assert len(kiali) >= 5
    mine, theirs = as_set(ours), as_set(kiali)
    assert len(ours) == len(mine)  # no duplicates on our side
    assert {k: mine[k] for k in theirs} == pytest.approx(theirs, abs=1e-9)
    # beyond Kiali's queries for a sidecar namespace: only what its ambient-namespace query adds, the
    # callers' reports of requests coming in from other namespaces (the graph reads them for an
    # ambient namespace only; which one is the inventory says, after the query)
    for metric, labels in set(mine) - set(theirs):
        lab = dict(labels)
        assert not metric.startswith("istio_tcp") and lab["reporter"] == "source"
        assert lab["destination_workload_namespace"] in namespaces
        assert lab["source_workload_namespace"] not in namespaces


def kiali_ambient_queries(metric: str, namespace: str, group: tuple[str, ...], duration: int) -> list[str]:
    """Kiali's namespace-graph queries for one metric of an ambient namespace with its default ambient
    option ("total": waypoint reports and ztunnel's series too), with ``reporter`` added to ``by``
    (Kiali's results have no reporter label; adding it to the grouping splits nothing)."""
    by = ",".join(group)
    d = f"[{duration}s]"
    out = [
        f'sum(rate({metric}{{reporter=~"waypoint|source",source_workload_namespace!="{namespace}",'
        f'destination_workload_namespace="unknown",destination_workload="unknown",'
        f'destination_service=~"^.+\\\\.{namespace}\\\\..+$"}} {d})) by ({by}) > 0',
        f'sum(rate({metric}{{reporter=~"waypoint|destination",destination_workload_namespace="{namespace}"}} {d})) '
        f"by ({by}) > 0",
        f'sum(rate({metric}{{reporter=~"waypoint|source",source_workload_namespace="{namespace}"}} {d})) by ({by}) > 0',
    ]
    if not metric.startswith("istio_tcp"):
        out.append(f'sum(rate({metric}{{reporter="source",source_workload_namespace!="{namespace}",'
                   f'destination_workload_namespace="{namespace}"}} {d})) by ({by}) > 0')
    return out


@pytest.mark.prometheus
def test_ambient_namespace_same_series_as_kialis_ambient_queries(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    srv = prometheus_server
    client = client_for(srv)
    request = GraphRequest(namespaces=("mall",), rateGrpc="total", rateTcp="total", appenders=(),
                           queryTime=srv.query_time)
    ours, _ = fetch_samples(client, request)
    kiali: list[Sample] = []
    families = [(tm.REQUESTS, GROUP_REQUESTS), (tm.REQUEST_MESSAGES, GROUP_MESSAGES),
                (tm.RESPONSE_MESSAGES, GROUP_MESSAGES), (tm.TCP_SENT, GROUP_TCP), (tm.TCP_RECEIVED, GROUP_TCP)]
    for metric, group in families:
        for query in kiali_ambient_queries(metric, "mall", group, request.duration):
            for series in client.query(query, time=srv.query_time):
                kiali.append(Sample(metric, dict(series.labels), series.value))
    # the waypoint's request reports and ztunnel's byte counts are both there
    assert {s.labels["reporter"] for s in kiali} == {"waypoint", "source", "destination"}
    assert as_set(ours) == pytest.approx(as_set(kiali), abs=1e-9)
    assert len(ours) == len(as_set(kiali))
    # turned off, neither comes back; what callers outside the ambient namespace reported of their
    # requests into it still does, as Kiali reads it whatever the ambient option
    off, _ = fetch_samples(client, GraphRequest(namespaces=("mall",), appenders=(), ambientTraffic="none",
                                                queryTime=srv.query_time))
    assert all(s.labels["reporter"] == "source" and s.labels["source_workload_namespace"] != "mall"
               and s.labels["destination_workload_namespace"] == "mall" for s in off)
    into = 'reporter="source",source_workload_namespace!="mall",destination_workload_namespace="mall"'
    none = build_queries(GraphRequest(namespaces=("mall",), appenders=(), ambientTraffic="none"))
    assert into in none[0].promql.replace(", ", ",")


@pytest.mark.prometheus
def test_ambient_graph_from_prometheus(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    from meshdesk.mesh.graph import build

    samples = fetch(prometheus_server, namespaces=("mall",), graphType="workload", injectServiceNodes=False)
    g = build(Snapshot(GraphRequest(namespaces=("mall",), graphType="workload", injectServiceNodes=False,
                                    queryTime=prometheus_server.query_time), samples))
    by_name = {n.workload: n for n in g.nodes.values()}
    assert set(by_name) == {"web-v1", "orders-v1", "waypoint"}
    assert by_name["waypoint"].extra.get("isWaypoint") is True  # told by ztunnel's telemetry alone
    edges = {(g.nodes[e.source].workload, g.nodes[e.target].workload, e.protocol): e for e in g.edges.values()}
    calls = edges[("web-v1", "orders-v1", "http")]
    assert calls.rate == pytest.approx(7.0, abs=1e-6)
    assert calls.rates["httpPercentErr"] == pytest.approx(100.0 / 7.0, abs=1e-6)
    assert edges[("web-v1", "waypoint", "tcp")].rate == pytest.approx(300.0, abs=1e-6)
    assert edges[("waypoint", "orders-v1", "tcp")].rate == pytest.approx(300.0, abs=1e-6)
    assert edges[("web-v1", "waypoint", "tcp")].extra["waypoint"]["direction"] == "to"


# --- young namespaces -----------------------------------------------------------------------------


def test_a_young_namespace_is_read_over_its_age_in_the_same_queries() -> None:
    """Kiali reads a namespace younger than the graph's window over its age; meshdesk does the same
    inside its one query per family (a branch per window), with the other namespaces' windows as they were."""
    kw = {"rateGrpc": "total", "rateTcp": "total",
          "appenders": ("responseTime", "throughput", "securityPolicy", "operationNodes")}
    plain = build_queries(GraphRequest(namespaces=("bookinfo", "fresh"), **kw))  # type: ignore[arg-type]
    young = build_queries(GraphRequest(namespaces=("bookinfo", "fresh"), namespaceDurations={"fresh": 180},
                                       **kw))  # type: ignore[arg-type]
    assert [q.metric for q in young] == [q.metric for q in plain]
    for q in young:
        assert "[180s]" in q.promql and "[600s]" in q.promql, q.metric
        # every branch over 180 s selects the fresh namespace only (bookinfo may only be excluded)
        for branch in q.promql.split(" or "):
            if "[180s]" in branch:
                positive = re.sub(r'!~?"[^"]*"', "", branch)
                assert "fresh" in positive and "bookinfo" not in positive, branch
    node = build_queries(GraphRequest(namespaces=("fresh",), node=NodeFocus("fresh", workload="api-v1"),
                                      namespaceDurations={"fresh": 180}, appenders=()))
    assert all("[180s]" in q.promql and "[600s]" not in q.promql for q in node)


def test_namespace_durations_follow_the_namespaces_age() -> None:
    from meshdesk.mesh.request import namespace_durations

    end = 10_000.0
    born = {"old": end - 3600, "fresh": end - 180.7, "future": end + 50, "edge": end - 600}
    got = namespace_durations(["old", "fresh", "future", "edge", "unknown"], born, 600, end)
    assert got == {"fresh": 180}  # "future" did not exist yet: whatever telemetry has is read as usual
    request = GraphRequest(namespaces=("old", "fresh"), namespaceDurations=got)
    assert (request.duration_of("old"), request.duration_of("fresh")) == (600, 180)
    assert GraphRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    assert GraphRequest.from_json({"namespaces": ["fresh"], "namespaceDurations": {"fresh": "180s"}}) \
        .namespaceDurations == {"fresh": 180}
    for bad in ({"fresh": 0}, {"fresh": "three minutes"}, {"fresh": 1.5}, [180]):
        with pytest.raises(ValueError, match="namespaceDurations"):
            GraphRequest.from_json({"namespaces": ["fresh"], "namespaceDurations": bad})


@pytest.mark.prometheus
def test_a_young_namespaces_rates_are_not_diluted(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """storefront -> api runs at 3 requests/s in a namespace three minutes old: read over its age (as
    Kiali reads it) that is what comes back; over the whole ten minutes it would read about a third,
    the minutes before the namespace existed counted as silence. The older namespace keeps its window."""
    from tests.prom_server import FRESH_AGE_S

    both = ("bookinfo", "fresh")
    young = fetch(prometheus_server, namespaces=both, appenders=(), namespaceDurations={"fresh": FRESH_AGE_S})
    diluted = fetch(prometheus_server, namespaces=both, appenders=())
    calls = one(young, tm.REQUESTS, reporter="destination", destination_workload="api-v1")
    assert calls.value == pytest.approx(3.0, rel=0.02)
    assert one(diluted, tm.REQUESTS, reporter="destination", destination_workload="api-v1").value < 1.5
    ingress = one(young, tm.REQUESTS, reporter="destination", source_workload="istio-ingressgateway",
                  destination_workload="productpage-v1")
    assert ingress.value == pytest.approx(10.0, abs=1e-6)
    assert len(young) == len(diluted)


@pytest.fixture(scope="module")
def young_neighbour_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """shop (old) and fresh (three minutes old), calling each other since fresh was made: web -> api,
    api -> db, and web -> a service of fresh that no workload served; each with its request bytes."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    web, db, api = Workload("shop", "web-v1", "web"), Workload("shop", "db-v1", "db"), Workload("fresh", "api-v1", "api")
    series: list[Series | Histogram] = []
    for src, dst, service, ns, rate, size in ((web, api, "api", "fresh", 2.0, 1000.0), (api, db, "db", "shop", 1.0, 500.0),
                                              (web, None, "gone", "fresh", 1.0, 300.0)):
        for reporter in ("source", "destination") if dst is not None else ("source",):
            labels = istio_edge(src, dst, service, ns, reporter=reporter)
            series.append(Series(tm.REQUESTS, labels, rate, born_s=FRESH_AGE_S))
            if reporter == "source":
                series.append(Series(tm.REQUEST_BYTES + "_sum", labels, size, born_s=FRESH_AGE_S))
    srv = PrometheusServer(tmp_path_factory.mktemp("young-neighbour"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.prometheus
def test_throughput_between_an_older_and_a_younger_namespace_is_read_over_kialis_window(
        young_neighbour_prometheus: PrometheusServer) -> None:
    """Kiali reads the bytes between two chosen namespaces in both namespaces' maps, each over its own
    window, and keeps the copy of the namespace of the edge's source node: without injected service
    nodes the caller's (shop -> fresh over shop's ten minutes, fresh -> shop over fresh's three);
    with them the service's, for the service -> workload edge the bytes go on, but the caller's for
    requests no workload served."""
    from meshdesk.mesh.graph import build

    srv = young_neighbour_prometheus
    client = client_for(srv)

    def over(window: int, src: str, service: str) -> float:
        found = client.query(f'sum(rate({tm.REQUEST_BYTES}_sum{{source_workload="{src}",'
                             f'destination_service_name="{service}"}}[{window}s]))', time=srv.query_time)
        return found[0].value

    assert over(600, "web-v1", "api") < 0.5 * over(FRESH_AGE_S, "web-v1", "api")  # the windows tell apart
    for inject in (False, True):
        request = GraphRequest(namespaces=("shop", "fresh"), graphType="workload", injectServiceNodes=inject,
                               namespaceDurations={"fresh": FRESH_AGE_S}, throughputType="request",
                               appenders=("throughput",), queryTime=srv.query_time)
        samples, warnings = fetch_samples(client, request)
        assert warnings.total == 0, warnings.messages()
        g = build(Snapshot(request, samples))
        bytes_on = {(g.nodes[e.source].label, g.nodes[e.target].label): e.throughput
                    for e in g.edges.values() if e.throughput is not None}
        if inject:
            expected = {("api", "api-v1"): over(FRESH_AGE_S, "web-v1", "api"),
                        ("db", "db-v1"): over(600, "api-v1", "db"), ("web-v1", "gone"): over(600, "web-v1", "gone")}
        else:
            expected = {("web-v1", "api-v1"): over(600, "web-v1", "api"),
                        ("api-v1", "db-v1"): over(FRESH_AGE_S, "api-v1", "db"),
                        ("web-v1", "gone"): over(600, "web-v1", "gone")}
        assert bytes_on == pytest.approx(expected, rel=1e-9), inject


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.prometheus
def test_request_rates_and_error_share(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    samples = fetch(prometheus_server, namespaces=NS, appenders=())
    ingress = one(samples, tm.REQUESTS, reporter="destination", source_workload="istio-ingressgateway",
                  destination_workload="productpage-v1")
    assert ingress.value == pytest.approx(10.0, abs=1e-6)
    assert ingress.labels["response_code"] == "200" and ingress.labels["request_protocol"] == "http"
    details = pick(samples, tm.REQUESTS, reporter="destination", destination_workload="details-v1")
    total = sum(s.value for s in details)
    errors = sum(s.value for s in details if s.labels["response_code"].startswith("5"))
    assert total == pytest.approx(10.0, abs=1e-6)
    assert errors / total == pytest.approx(0.2, abs=1e-9)
    assert one(samples, tm.REQUESTS, reporter="destination", response_code="503").labels["response_flags"] == "UF"
    grpc = pick(samples, tm.REQUESTS, reporter="source", request_protocol="grpc")
    assert {s.labels["grpc_response_status"]: s.value for s in grpc} == pytest.approx({"0": 4.0, "14": 1.0}, abs=1e-6)
    # requests no workload served, from outside the namespaces (Kiali's "unserviced" query)
    unserviced = one(samples, tm.REQUESTS, destination_workload="unknown")
    assert unserviced.labels["source_workload"] == "istio-ingressgateway"
    assert unserviced.value == pytest.approx(0.25, abs=1e-6)
    # nothing about series that Kiali would not show: no connection policy labels without the appender
    assert all("connection_security_policy" not in s.labels for s in samples)


@pytest.mark.prometheus
def test_query_at_now_also_works(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    samples = fetch(prometheus_server, namespaces=("bookinfo",), appenders=(), queryTime=0)
    ingress = one(samples, tm.REQUESTS, reporter="destination", source_workload="istio-ingressgateway")
    assert ingress.value == pytest.approx(10.0, abs=1e-6)


@pytest.mark.prometheus
def test_idle_edges_only_when_asked(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    busy = fetch(prometheus_server, namespaces=("bookinfo",), appenders=())
    idle = fetch(prometheus_server, namespaces=("bookinfo",), appenders=(), includeIdleEdges=True)
    assert pick(busy, tm.REQUESTS, source_workload="productpage-v1", destination_workload="ratings-v1") == []
    zero = pick(idle, tm.REQUESTS, source_workload="productpage-v1", destination_workload="ratings-v1")
    assert {s.labels["reporter"] for s in zero} == {"source", "destination"}
    assert all(s.value == 0.0 for s in zero)


@pytest.mark.prometheus
def test_mtls_share_series(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    samples = fetch(prometheus_server, namespaces=("bookinfo",), appenders=("securityPolicy",))
    policy = {
        s.labels["destination_workload"]: s.labels["connection_security_policy"]
        for s in pick(samples, tm.REQUESTS, reporter="destination", source_workload="productpage-v1")
    }
    assert policy == {"details-v1": "mutual_tls", "reviews-v1": "mutual_tls", "reviews-v2": "none"}
    assert one(samples, tm.REQUESTS, reporter="destination", source_workload="unknown").labels[
        "connection_security_policy"] == "none"
    assert one(samples, tm.TCP_RECEIVED, reporter="destination").labels["connection_security_policy"] == "mutual_tls"
    assert "spiffe://" in one(samples, tm.TCP_RECEIVED, reporter="destination").labels["source_principal"]
    # the destination's view of traffic leaving the selected namespaces (here: tutorial -> bookinfo)
    out = fetch(prometheus_server, namespaces=("tutorial",), appenders=("securityPolicy",))
    leaving = one(out, tm.REQUESTS, reporter="destination", source_workload="customer-v1",
                  destination_workload="productpage-v1")
    assert leaving.labels["connection_security_policy"] == "mutual_tls"


@pytest.mark.parametrize(("quantile", "ingress_ms", "details_ms"), [
    ("avg", 20.0, 24.5),
    ("0.5", 17.5, 1 + 4 * 0.5 / 0.9),
    ("0.95", 24.25, 175.0),
    ("99", 24.85, 100 + 150 * 0.09 / 0.1),
])
@pytest.mark.prometheus
def test_response_times(prometheus_server: PrometheusServer, quantile: str, ingress_ms: float,  # noqa: F811
                        details_ms: float) -> None:
    samples = fetch(prometheus_server, namespaces=("bookinfo",), appenders=("responseTime",),
                    responseTimeQuantile=quantile)
    stat = {"99": "0.99"}.get(quantile, quantile)
    assert {s.metric for s in samples} == {tm.REQUESTS, tm.TCP_RECEIVED, tm.REQUEST_DURATION}
    ingress = one(samples, tm.REQUEST_DURATION, reporter="destination", source_workload="istio-ingressgateway")
    assert ingress.labels["stat"] == stat
    assert ingress.value == pytest.approx(ingress_ms, abs=1e-6)
    for reporter in ("destination", "source"):
        details = one(samples, tm.REQUEST_DURATION, reporter=reporter, destination_workload="details-v1")
        assert details.value == pytest.approx(details_ms, abs=1e-6)


@pytest.mark.prometheus
def test_throughput(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    response = fetch(prometheus_server, namespaces=("bookinfo",), appenders=("throughput",))
    sample = one(response, tm.RESPONSE_BYTES)
    assert sample.labels["stat"] == "rate" and sample.labels["reporter"] == "destination"
    assert sample.value == pytest.approx(2048 * 10.0, abs=1e-6)
    request = fetch(prometheus_server, namespaces=("bookinfo",), appenders=("throughput",), throughputType="request")
    assert pick(request, tm.RESPONSE_BYTES) == []
    # request bytes are source-reported, here by the ingress gateway outside the namespace
    sample = one(request, tm.REQUEST_BYTES)
    assert sample.labels["reporter"] == "source" and sample.labels["source_workload"] == "istio-ingressgateway"
    assert sample.value == pytest.approx(512 * 10.0, abs=1e-6)


@pytest.mark.parametrize(("rate_tcp", "expected"), [
    ("sent", {tm.TCP_RECEIVED: 250.0}),
    ("received", {tm.TCP_SENT: 1000.0}),
    ("total", {tm.TCP_RECEIVED: 250.0, tm.TCP_SENT: 1000.0}),
    ("none", {}),
])
@pytest.mark.prometheus
def test_tcp_follows_kialis_direction(prometheus_server: PrometheusServer, rate_tcp: str,  # noqa: F811
                                     expected: Mapping[str, float]) -> None:
    samples = fetch(prometheus_server, namespaces=("bookinfo",), appenders=(), rateTcp=rate_tcp)
    tcp = [s for s in samples if s.metric.startswith("istio_tcp")]
    assert {s.metric for s in tcp} == set(expected)
    for s in tcp:
        assert s.value == pytest.approx(expected[s.metric], abs=1e-6)
        assert s.labels["destination_workload"] == "mongodb-v1"
        assert s.labels["app"] in ("ratings", "mongodb")


@pytest.mark.parametrize(("rate_grpc", "expected"), [
    ("requests", {}),
    ("sent", {tm.REQUEST_MESSAGES: 6.0}),
    ("received", {tm.RESPONSE_MESSAGES: 12.0}),
    ("total", {tm.REQUEST_MESSAGES: 6.0, tm.RESPONSE_MESSAGES: 12.0}),
])
@pytest.mark.prometheus
def test_grpc_messages_only_when_asked(prometheus_server: PrometheusServer, rate_grpc: str,  # noqa: F811
                                       expected: Mapping[str, float]) -> None:
    samples = fetch(prometheus_server, namespaces=("bookinfo",), appenders=(), rateHttp="none", rateGrpc=rate_grpc,
                    rateTcp="none")
    messages = [s for s in samples if s.metric.endswith("_messages_total")]
    assert {s.metric for s in messages} == set(expected)
    for s in messages:
        assert s.value == pytest.approx(expected[s.metric], abs=1e-6)
    assert bool(pick(samples, tm.REQUESTS)) == (rate_grpc == "requests")


@pytest.mark.prometheus
def test_operation_labels_only_for_operation_nodes(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    plain = fetch(prometheus_server, namespaces=("bookinfo",), appenders=())
    assert all("request_operation" not in s.labels for s in plain)
    ops = fetch(prometheus_server, namespaces=("bookinfo",), appenders=("operationNodes",))
    op = one(ops, tm.REQUESTS, reporter="destination", request_operation="GetReviews")
    assert op.labels["destination_workload"] == "reviews-v2"
    assert op.value == pytest.approx(5.0, abs=1e-6)


@pytest.mark.prometheus
def test_an_operations_node_graph_reads_that_operation_alone(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """The node graph of operation "GetReviews" of service reviews: one query for requests, the
    destination's reports of that operation alone (no TCP or message queries); the graph built from
    them is productpage -> GetReviews -> reviews -> reviews-v2 at 5 requests per second."""
    from meshdesk.mesh.graph import build, model

    focus = NodeFocus("bookinfo", aggregate="request_operation", aggregateValue="GetReviews", service="reviews")
    request = GraphRequest(namespaces=("bookinfo",), node=focus, appenders=(), queryTime=prometheus_server.query_time)
    assert [q.metric for q in build_queries(request)] == [tm.REQUESTS]
    samples = fetch(prometheus_server, namespaces=("bookinfo",), node=focus, appenders=())
    requests = pick(samples, tm.REQUESTS)
    assert requests and all(s.labels["request_operation"] == "GetReviews" and s.labels["reporter"] == "destination"
                            for s in requests)
    g = build(Snapshot(request, samples))
    rate = {(g.nodes[e.source].label, g.nodes[e.target].label): e.rate for e in g.edges.values()}
    op = g.find_node(node_type=model.NODE_AGGREGATE)
    assert op is not None and op.aggregate_value == "GetReviews"
    assert rate == pytest.approx({("productpage v1", "GetReviews"): 5.0, ("GetReviews", "reviews"): 5.0,
                                  ("reviews", "reviews v2"): 5.0}, abs=1e-6)


def test_operation_nodes_read_calls_leaving_the_namespace_as_their_destination_reports_them() -> None:
    """Kiali's aggregate appender also asks for destination-reported requests from the namespace's
    workloads to other namespaces; without the security policy that series was not fetched."""
    def parts(appenders: tuple[str, ...]) -> list[str]:
        q = build_queries(GraphRequest(namespaces=("bookinfo",), appenders=appenders))[0]
        return q.promql.split(" or ")

    wanted = 'reporter=~"waypoint|destination",source_workload_namespace="bookinfo"'
    assert not any(wanted in p for p in parts(()))
    assert any(wanted in p for p in parts(("operationNodes",)))


# --- node-detail graphs ---------------------------------------------------------------------------


@pytest.mark.prometheus
def test_workload_node_graph(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    samples = fetch(prometheus_server, namespaces=("bookinfo",), node=NodeFocus("bookinfo", workload="productpage-v1"),
                    appenders=())
    requests = pick(samples, tm.REQUESTS)
    for s in requests:
        # what comes in, as either side reported it (the callers' reports count in an ambient namespace)
        inbound = s.labels["destination_workload"] == "productpage-v1"
        outbound = s.labels["reporter"] == "source" and s.labels["source_workload"] == "productpage-v1"
        assert inbound or outbound, s.labels
    callers = {s.labels["source_workload"] for s in requests if s.labels["reporter"] == "destination"}
    assert callers == {"istio-ingressgateway", "customer-v1", "unknown"}
    callees = {s.labels["destination_workload"] for s in requests if s.labels["reporter"] == "source"
               and s.labels["source_workload"] == "productpage-v1"}
    assert callees == {"details-v1", "reviews-v1", "reviews-v2"}


@pytest.mark.prometheus
def test_a_node_graph_of_a_known_cluster_keeps_to_it(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Kiali narrows a node graph to its node's cluster: what comes in by destination_cluster, what goes
    out by source_cluster. The test mesh runs in cluster "Kubernetes", except its unknown caller."""
    def node_graph(cluster: str | None) -> list[Sample]:
        return fetch(prometheus_server, namespaces=("bookinfo",), appenders=(), rateTcp="none",
                     node=NodeFocus("bookinfo", workload="productpage-v1", cluster=cluster))

    query = build_queries(GraphRequest(namespaces=("bookinfo",), appenders=(),
                                       node=NodeFocus("bookinfo", workload="productpage-v1", cluster="east")))[0]
    assert 'destination_workload="productpage-v1",destination_cluster="east"' in query.promql
    assert 'source_workload="productpage-v1",source_cluster="east"' in query.promql
    anywhere = node_graph(None)
    here = node_graph("Kubernetes")
    assert here and {(s.labels["reporter"], s.labels["source_workload"], s.labels["destination_workload"])
                     for s in here} == {(s.labels["reporter"], s.labels["source_workload"],
                                         s.labels["destination_workload"]) for s in anywhere}
    assert node_graph("west") == []


@pytest.mark.prometheus
def test_app_and_service_node_graphs(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    v2 = fetch(prometheus_server, namespaces=("bookinfo",), graphType="versionedApp", appenders=(), rateTcp="none",
               node=NodeFocus("bookinfo", app="reviews", version="v2"))
    assert {(s.labels["source_workload"], s.labels["destination_workload"]) for s in v2} == {
        ("productpage-v1", "reviews-v2"), ("reviews-v2", "ratings-v1")}
    assert {s.labels["reporter"] for s in v2 if s.labels["destination_workload"] == "reviews-v2"} == \
        {"destination", "source"}  # the callers' reports too, which an ambient namespace reads
    app = fetch(prometheus_server, namespaces=("bookinfo",), graphType="app", appenders=(), rateTcp="none",
                node=NodeFocus("bookinfo", app="reviews", version="v2"))
    assert ("productpage-v1", "reviews-v1") in {(s.labels["source_workload"], s.labels["destination_workload"])
                                                for s in app}
    svc = fetch(prometheus_server, namespaces=("bookinfo",), graphType="service", appenders=(), rateTcp="none",
                node=NodeFocus("bookinfo", service="ratings"))
    assert {(s.labels["reporter"], s.labels["source_workload"], s.labels["destination_workload"]) for s in svc} == {
        ("destination", "reviews-v2", "ratings-v1"),
        ("source", "reviews-v2", "ratings-v1"),  # the caller's report, read in an ambient namespace
        ("source", "istio-ingressgateway", "unknown"),  # requests to ratings that no workload served
    }


# --- results the graph cannot use, cancellation ---------------------------------------------------


def test_nan_series_and_warnings_are_counted_not_kept() -> None:
    body = prometheus_vector(
        [({"reporter": "destination", "source_workload": "a"}, "NaN"),
         ({"reporter": "destination", "source_workload": "b"}, "+Inf"),
         ({"reporter": "destination", "source_workload": "c"}, "3.5")],
        warnings=["partial response: store unavailable"])
    with StubServer(lambda r: StubResponse(200, body)) as stub:
        request = GraphRequest(namespaces=("x",), appenders=(), rateTcp="none")
        samples, warnings = fetch_samples(PrometheusClient(stub.url), request)
    assert [(s.labels["source_workload"], s.value) for s in samples] == [("c", 3.5)]
    assert warnings.counts == {
        "istio_requests_total: value is NaN or infinite": 2,
        "results may be incomplete, Prometheus warned: partial response: store unavailable": 1,
    }


def test_series_labels_become_sample_labels() -> None:
    """A vector's label objects become the samples' labels: ``__name__`` left out, values that a
    Prometheus-compatible store sent as numbers turned into text, and plain label sets kept as sent."""
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "istio_requests_total", "reporter": "source", "response_code": 200},
         "value": [1700000000, "2.5"]},
        {"metric": {"reporter": "destination", "response_code": "503", "source_workload": "b"},
         "value": [1700000000, "1e-3"]},
        {"value": [1700000000, "4"]},
    ]}})
    with StubServer(lambda r: StubResponse(200, body)) as stub:
        request = GraphRequest(namespaces=("x",), appenders=(), rateTcp="none")
        samples, warnings = fetch_samples(PrometheusClient(stub.url), request)
    assert [(dict(s.labels), s.value) for s in samples] == [
        ({"reporter": "source", "response_code": "200"}, 2.5),
        ({"reporter": "destination", "response_code": "503", "source_workload": "b"}, 0.001),
        ({}, 4.0),
    ]
    assert all(s.metric == "istio_requests_total" for s in samples)
    assert warnings.counts == {}


def test_cancel_stops_before_the_next_query() -> None:
    sent: list[StubRequest] = []

    def answer(req: StubRequest) -> StubResponse:
        sent.append(req)
        return StubResponse(200, prometheus_vector([]))

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url)
        request = GraphRequest(namespaces=NS)
        with pytest.raises(Cancelled):
            fetch_samples(client, request, cancelled=lambda: True)
        assert sent == []
        flag = iter([False, False, True])
        with pytest.raises(Cancelled):
            fetch_samples(client, request, cancelled=lambda: next(flag), max_parallel=1)
    assert len(sent) == 1


def test_cancel_does_not_wait_for_a_hanging_prometheus() -> None:
    """Queries run side by side; cancelling returns at once although none of them has answered
    (waiting for them would end in PrometheusTimeout instead)."""
    with StubServer(lambda r: HANG) as stub:
        client = PrometheusClient(stub.url, timeout=60)
        request = GraphRequest(namespaces=NS)
        with pytest.raises(Cancelled):
            fetch_samples(client, request, cancelled=lambda: len(stub.requests) == len(build_queries(request)))
        assert len(stub.requests) == 4  # all four queries were under way together


def test_parallel_and_serial_fetches_agree_and_first_error_wins() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if "istio_request_duration_milliseconds" in req.params["query"]:
            return StubResponse(400, {"status": "error", "errorType": "bad_data", "error": "duration broke"})
        metric = req.params["query"].split("(rate(")[1].split("{")[0]
        return StubResponse(200, prometheus_vector([({"reporter": "source", "m": metric}, "1.5")]))

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url)
        request = GraphRequest(namespaces=NS, appenders=("throughput",), rateTcp="total")
        parallel, _ = fetch_samples(client, request)
        serial, _ = fetch_samples(client, request, max_parallel=1)
        assert parallel == serial
        assert [s.metric for s in parallel] == [tm.REQUESTS, tm.TCP_RECEIVED, tm.TCP_SENT, tm.RESPONSE_BYTES]
        assert [s.labels["m"] for s in parallel] == [
            "istio_requests_total", "istio_tcp_received_bytes_total", "istio_tcp_sent_bytes_total",
            "istio_response_bytes_sum"]
        with pytest.raises(PromQLError, match="duration broke"):
            fetch_samples(client, GraphRequest(namespaces=NS, appenders=("responseTime",)))


# --- end to end: Prometheus -> samples -> graph ---------------------------------------------------


@pytest.mark.prometheus
def test_graph_from_fetched_samples(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import Edge

    request = GraphRequest(graphType="workload", namespaces=NS, appenders=("securityPolicy", "responseTime"),
                           injectServiceNodes=False, queryTime=prometheus_server.query_time)
    samples, warnings = fetch_samples(client_for(prometheus_server), request)
    assert warnings.total == 0
    g = build(Snapshot(request, samples))

    def edge(src: str, dst: str) -> Edge:
        s = g.find_node(node_type="workload", workload=src)
        d = g.find_node(node_type="workload", workload=dst)
        assert s is not None and d is not None, (src, dst)
        found = [e for e in g.out_edges(s.id) if e.target == d.id]
        assert len(found) == 1
        return found[0]

    ingress = edge("istio-ingressgateway", "productpage-v1")
    assert ingress.rates["http"] == pytest.approx(10.0, abs=0.01)
    assert ingress.response_time == pytest.approx(24.25, abs=0.01)
    details = edge("productpage-v1", "details-v1")
    assert details.rates["http"] == pytest.approx(10.0, abs=0.01)
    assert details.rates["http5xx"] == pytest.approx(2.0, abs=0.01)
    assert details.rates["httpPercentErr"] == pytest.approx(20.0, abs=0.1)
    assert details.is_mtls == pytest.approx(100.0, abs=0.1)
    assert edge("productpage-v1", "reviews-v2").is_mtls in (None, 0.0)
    # source- and destination-reported twins count once, also for traffic leaving a namespace
    assert edge("customer-v1", "productpage-v1").rates["http"] == pytest.approx(2.0, abs=0.01)
