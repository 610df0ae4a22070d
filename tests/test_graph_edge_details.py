"""Edge decoration passes: mTLS share, response time, throughput."""

from __future__ import annotations

import pytest

from meshdesk.mesh.graph import build
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, labels, snapshot
from tests.test_graph_traffic import edge


def test_mtls_share_from_connection_security_policy() -> None:
    g = build(snapshot([
        http("web-v1", "cart-v1", 30, connection_security_policy="mutual_tls"),
        http("web-v1", "cart-v1", 10, connection_security_policy="none"),
        http("web-v1", "pay-v1", 10),
    ]))
    assert edge(g, "web-v1", "cart-v1").is_mtls == pytest.approx(75)
    assert edge(g, "web-v1", "pay-v1").is_mtls is None  # no label: unknown, not 0 %


def test_mtls_share_is_per_protocol() -> None:
    """web calls cart over HTTP in plain text and streams TCP to it over mutual TLS: the HTTP edge is 0 %
    mTLS, the TCP edge 100 % (the bytes must not lend the requests their share)."""
    from tests.graph_samples import tcp

    g = build(snapshot([http("web-v1", "cart-v1", 10, connection_security_policy="none"),
                        tcp("web-v1", "cart-v1", 5000, connection_security_policy="mutual_tls")]))
    shares = {e.protocol: e.is_mtls for e in g.edges.values()}
    assert shares == {"http": pytest.approx(0), "tcp": pytest.approx(100)}


def test_mtls_prefers_destination_reports() -> None:
    g = build(snapshot([
        http("web-v1", "cart-v1", 10, connection_security_policy="mutual_tls", reporter="destination"),
        http("web-v1", "cart-v1", 10, connection_security_policy="unknown", reporter="source"),
    ]))
    assert edge(g, "web-v1", "cart-v1").is_mtls == pytest.approx(100)


def test_an_edge_only_the_client_reported_has_no_mtls_share_or_principals() -> None:
    """As Kiali reads security labels from destination reports only: a call to a workload without a
    sidecar (reported by the caller alone) shows no share and no principals."""
    g = build(snapshot([
        http("web-v1", "legacy-v1", 10, connection_security_policy="unknown", reporter="source",
             source_principal="spiffe://cluster.local/ns/shop/sa/web", destination_principal="unknown"),
        http("web-v1", "cart-v1", 10, connection_security_policy="mutual_tls", reporter="destination",
             source_principal="spiffe://cluster.local/ns/shop/sa/web",
             destination_principal="spiffe://cluster.local/ns/shop/sa/cart"),
    ]))
    legacy = edge(g, "web-v1", "legacy-v1")
    assert legacy.is_mtls is None and not legacy.source_principal and not legacy.dest_principal
    cart = edge(g, "web-v1", "cart-v1")
    assert cart.is_mtls == pytest.approx(100) and cart.dest_principal.endswith("/sa/cart")


def _duration(src: str, dst: str, stat: str, ms: float, **kw: str) -> Sample:
    return Sample("istio_request_duration_milliseconds",
                  labels(src, dst, request_protocol="http", stat=stat, **kw), ms)


def test_response_time_at_the_requested_quantile() -> None:
    samples = [http("web-v1", "cart-v1", 10), _duration("web-v1", "cart-v1", "0.95", 120),
               _duration("web-v1", "cart-v1", "0.5", 40), _duration("web-v1", "cart-v1", "avg", 55)]
    assert edge(build(snapshot(samples)), "web-v1", "cart-v1").response_time == pytest.approx(120)
    assert edge(build(snapshot(samples, responseTimeQuantile="0.5")), "web-v1", "cart-v1").response_time \
        == pytest.approx(40)
    assert edge(build(snapshot(samples, responseTimeQuantile="avg")), "web-v1", "cart-v1").response_time \
        == pytest.approx(55)


def test_response_time_goes_on_the_service_to_workload_edge_when_injected() -> None:
    samples = [http("web-v1", "cart-v1", 10), _duration("web-v1", "cart-v1", "0.95", 80)]
    g = build(snapshot(samples, injectServiceNodes=True))
    assert edge(g, "cart", "cart-v1").response_time == pytest.approx(80)
    assert edge(g, "web-v1", "cart").response_time is None


def test_response_time_of_an_edge_between_two_namespaces_is_its_callers() -> None:
    """front/web calls shop/cart; the server's proxy measured 100 ms, the caller's 180 ms. Kiali
    reads each namespace's edges in that namespace's queries and keeps the caller's namespace's copy:
    the caller's 180 (whichever order the namespaces come in); within one namespace the server's
    report wins, and with service nodes the service -> workload edge carries the server's."""
    def both(reporter: str, ms: float) -> Sample:
        return _duration("web-v1", "cart-v1", "0.95", ms, src_ns="front", dst_ns="shop", reporter=reporter)

    def rate(reporter: str) -> Sample:
        return http("web-v1", "cart-v1", 10, src_ns="front", dst_ns="shop", reporter=reporter)

    samples = [rate("destination"), rate("source"), both("destination", 100), both("source", 180)]
    for order in (("front", "shop"), ("shop", "front")):
        g = build(snapshot(samples, namespaces=order, appenders=("responseTime",)))
        assert edge(g, "web-v1", "cart-v1").response_time == pytest.approx(180), order
    g = build(snapshot(samples, namespaces=("shop",), appenders=("responseTime",)))  # the caller's not shown
    assert edge(g, "web-v1", "cart-v1").response_time == pytest.approx(100)
    g = build(snapshot(samples, namespaces=("front", "shop"), appenders=("responseTime",), injectServiceNodes=True))
    assert edge(g, "cart", "cart-v1").response_time == pytest.approx(100)


def test_a_time_reported_only_by_a_caller_outside_the_chosen_namespaces_is_not_the_edges() -> None:
    """The ingress gateway (istio-system, not chosen) sends requests to shop's api that no workload
    served, so only the gateway reported them. Kiali reads a namespace's own workloads' reports and its
    services' destination reports: that edge has no response time (meshdesk showed the gateway's) until
    istio-system is chosen too."""
    gw = dict(src_ns="istio-system", service="api", reporter="source")
    samples = [http("istio-ingressgateway", None, 5, "503", **gw),
               _duration("istio-ingressgateway", None, "0.95", 4.8, **gw)]
    g = build(snapshot(samples, namespaces=("shop",), appenders=("responseTime",)))
    assert [e.response_time for e in g.edges.values()] == [None]
    g = build(snapshot(samples, namespaces=("shop", "istio-system"), appenders=("responseTime",)))
    assert [e.response_time for e in g.edges.values()] == [pytest.approx(4.8)]


def test_throughput_by_type() -> None:
    """As Kiali reads them: request bytes from the caller's proxy, response bytes from the server's
    (their twins from the other proxy are not what it shows)."""
    def bytes_(metric: str, reporter: str, value: float) -> Sample:
        return Sample(metric, labels("web-v1", "cart-v1", request_protocol="http", stat="rate", reporter=reporter),
                      value)

    samples = [http("web-v1", "cart-v1", 10), bytes_("istio_request_bytes", "source", 300),
               bytes_("istio_request_bytes", "destination", 310), bytes_("istio_response_bytes", "destination", 9000),
               bytes_("istio_response_bytes", "source", 9100)]
    assert edge(build(snapshot(samples)), "web-v1", "cart-v1").throughput == pytest.approx(9000)
    assert edge(build(snapshot(samples, throughputType="request")), "web-v1", "cart-v1").throughput \
        == pytest.approx(300)


def test_an_edges_throughput_is_what_the_namespace_map_it_was_kept_from_read() -> None:
    """Web (shop) and ui (front) call api in a namespace that is not chosen. Kiali builds the injected
    api -> api-v1 edge in both chosen namespaces' maps, each with its own callers' requests and bytes,
    and its merge keeps the first one: the edge's throughput is that copy's, like its rate (meshdesk
    added every caller's bytes to the first caller's rate). With the service's namespace chosen too,
    its map has every caller's."""
    def calls(src: str, ns: str, rate: float, size: float) -> list[Sample]:
        sent = http(src, "api-v1", rate, src_ns=ns, dst_ns="back", reporter="source")
        return [sent, Sample("istio_request_bytes", {**sent.labels, "stat": "rate"}, size)]

    samples = calls("web-v1", "shop", 2, 100) + calls("ui-v1", "front", 3, 1000)
    samples += [http(src, "api-v1", rate, src_ns=ns, dst_ns="back") for src, ns, rate in
                (("web-v1", "shop", 2), ("ui-v1", "front", 3))]

    def service_edge(*namespaces: str) -> tuple[float, float | None]:
        g = build(snapshot(samples, namespaces=namespaces, throughputType="request", injectServiceNodes=True))
        e = edge(g, "api", "api-v1")
        return e.rate, e.throughput

    assert service_edge("shop", "front") == (pytest.approx(2), pytest.approx(100))
    assert service_edge("front", "shop") == (pytest.approx(3), pytest.approx(1000))
    assert service_edge("shop", "front", "back") == (pytest.approx(5), pytest.approx(1100))
    assert service_edge("shop") == (pytest.approx(2), pytest.approx(100))


def test_passes_can_be_selected() -> None:
    samples = [http("web-v1", "cart-v1", 10, connection_security_policy="mutual_tls"),
               _duration("web-v1", "cart-v1", "0.95", 80)]
    g = build(snapshot(samples, appenders=("responseTime",)))
    e = edge(g, "web-v1", "cart-v1")
    assert e.response_time == pytest.approx(80) and e.is_mtls is None and e.health is None
    g2 = build(snapshot(samples, appenders=("bogus",)))
    assert "unknown appender 'bogus' ignored" in g2.warnings
