"""The built-in demo cluster behaves like a small real mesh: Istio's proxies' telemetry for the selected
namespaces, traffic that follows the Istio config it is given, and config writes with a real cluster's
rules (resource versions, not found, dry runs). Time comes from an injected clock: no sleeps."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import pytest

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.find import FIND_PRESETS, compile_expression
from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import Edge, TrafficGraph
from meshdesk.mesh.inventory import IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.base import Cancelled, Conflict, MeshSource, NotFound, SourceError, WritableSource
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo import traffic as sim
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.sources.telemetry import GROUP_MESSAGES, GROUP_REQUESTS, GROUP_TCP, fetch_samples
from tests.prom_server import PrometheusServer, Series, binaries_missing

T0 = 1_780_000_000.0  # a fixed moment; every test drives time itself
ALL = ("hello", "shop", "istio-system")


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def snap(demo: DemoCluster, namespaces: Iterable[str] = ALL, **kw: object) -> Snapshot:
    return demo.snapshot(GraphRequest(namespaces=tuple(namespaces), **kw))  # type: ignore[arg-type]


def requests(samples: Iterable[Sample], **labels: str) -> list[Sample]:
    return [s for s in samples if s.metric == tm.REQUESTS and all(s.labels.get(k) == v for k, v in labels.items())]


def total(samples: Iterable[Sample], pred: Callable[[Sample], bool] = lambda s: True) -> float:
    return sum(s.value for s in samples if pred(s))


def five_xx(s: Sample) -> bool:
    return s.labels.get("response_code", "").startswith("5")


def vs(demo: DemoCluster, namespace: str, name: str) -> IstioObject:
    inv = snap(demo).inventory
    assert inv is not None
    found = [o for o in inv.istio_objects("VirtualService", namespace) if o.name == name]
    assert found, f"no VirtualService {namespace}/{name}"
    return copy.deepcopy(found[0])


def put(demo: DemoCluster, obj: IstioObject) -> IstioObject:
    """Create ``obj``, or replace the object of that name with the resource version it has now
    (as the app's write path does after its preview)."""
    inv = snap(demo).inventory
    assert inv is not None
    current = next((o for o in inv.istio_objects(obj.kind, obj.namespace) if o.name == obj.name), None)
    obj = copy.deepcopy(obj)
    obj.resource_version = current.resource_version if current else ""
    return demo.apply(obj)


def reviews_vs(demo: DemoCluster, http: list[dict[str, object]]) -> IstioObject:
    obj = vs(demo, "shop", "reviews")
    obj.spec = {"hosts": ["reviews"], "http": http}
    return put(demo, obj)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def demo(clock: Clock) -> DemoCluster:
    return DemoCluster(clock=clock)


# -- the source interface -------------------------------------------------------------------------


def test_it_is_a_mesh_source_named_demo(demo: DemoCluster) -> None:
    assert isinstance(demo, MeshSource)
    writable: WritableSource = demo  # checked by mypy: the demo takes config writes like a live cluster
    assert callable(writable.apply) and callable(writable.label_namespace)
    info = demo.info()
    assert (info.context, info.cluster, info.prometheus, info.live) == ("demo", "demo", "built-in simulation", True)
    names = {n.name: n for n in demo.namespaces()}
    assert set(names) == set(ALL) | {"travel"}  # travel: the ambient namespace (see test_ambient_namespace)
    assert names["shop"].injection_enabled and names["hello"].injection_enabled
    assert names["travel"].labels["istio.io/dataplane-mode"] == "ambient" and not names["travel"].injection_enabled
    assert not names["istio-system"].injection_enabled
    demo.close()


def test_a_demo_snapshot_says_when_it_was_taken_as_a_live_one_does(demo: DemoCluster, clock: Clock) -> None:
    """QA s13: a demo snapshot's meta.takenAt was a number of seconds, a live one's an RFC 3339 time:
    a script reading saved snapshots had to handle both. The demo's logs still end at that moment."""
    import time as _time

    from meshdesk.sources.demo.logs import pod_logs

    taken = snap(demo).meta["takenAt"]
    assert taken == _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(int(clock.t)))
    inv = snap(demo, ["shop"]).inventory
    assert inv is not None
    pod = next(p for w in inv.workloads if w.name == "productpage-v1" for p in w.pods)
    lines = pod_logs(demo, "shop", pod.name, "istio-proxy")
    assert lines and int(clock.t) - 60 < max(line.unix for line in lines) <= int(clock.t)


def test_samples_cover_the_selected_namespaces_only(demo: DemoCluster) -> None:
    hello = snap(demo, ["hello"])
    assert hello.samples
    for s in hello.samples:
        # as the live queries select: reported by or about a workload of the namespace
        assert "hello" in (s.labels["destination_workload_namespace"], s.labels["source_workload_namespace"]), s
    assert {w.namespace for w in hello.inventory.workloads} == {"hello"}  # type: ignore[union-attr]
    # the gateway's calls into hello: helloworld's proxy reports them, and the gateway's own reports of
    # them come too (Kiali asks for callers' reports into a namespace, which an ambient one needs);
    # the gateway's reports of its calls elsewhere do not
    assert requests(hello.samples, source_workload="istio-ingressgateway", reporter="destination")
    assert requests(hello.samples, source_workload="istio-ingressgateway", reporter="source",
                    destination_workload_namespace="hello")
    assert not requests(hello.samples, source_workload="istio-ingressgateway", destination_workload_namespace="shop")

    shop = snap(demo, ["shop"])
    workloads = {s.labels.get("source_workload") for s in shop.samples} | \
        {s.labels.get("destination_workload") for s in shop.samples}
    assert "sleep" not in workloads and "helloworld-v1" not in workloads
    assert {"productpage-v1", "reviews-v2", "ratings-v1", "mongodb-v1", "inventory-v1"} <= workloads

    everything = snap(demo)
    assert len(everything.samples) > len(shop.samples) + len(hello.samples) - 1


def test_each_proxy_reports_its_side_and_a_sidecarless_side_reports_nothing(demo: DemoCluster) -> None:
    samples = snap(demo).samples
    # both ends have sidecars: both report the same requests, the server's proxy with mTLS
    by_src = total(requests(samples, source_workload="productpage-v1", destination_workload="details-v1",
                            reporter="source"))
    by_dst = requests(samples, source_workload="productpage-v1", destination_workload="details-v1",
                      reporter="destination")
    assert by_src > 1.0
    assert total(by_dst) == pytest.approx(by_src, rel=1e-6)
    assert {s.labels["connection_security_policy"] for s in by_dst} == {"mutual_tls"}
    # the database has no sidecar: only ratings' proxy reports the TCP traffic
    tcp = [s for s in samples if s.metric.startswith("istio_tcp_") and s.labels["destination_workload"] == "mongodb-v1"]
    assert {s.labels["reporter"] for s in tcp} == {"source"}
    assert {s.metric for s in tcp} == {tm.TCP_SENT, tm.TCP_RECEIVED, tm.TCP_OPENED, tm.TCP_CLOSED}
    assert all(s.labels["source_workload"] == "ratings-v1" for s in tcp)
    assert not [s for s in samples if s.labels.get("destination_workload") == "mongodb-v1"
                and s.labels["reporter"] == "destination"]
    # the payments API is outside the mesh: only the client reports, with the ServiceEntry host
    ext = requests(samples, destination_service_name="api.payments.example.com")
    assert ext and {s.labels["reporter"] for s in ext} == {"source"}
    assert {s.labels["destination_workload"] for s in ext} == {"unknown"}
    # the ingress gateway reports as a client; there is nothing reported by or about the idle workload
    assert requests(samples, source_workload="istio-ingressgateway", reporter="source")
    assert not [s for s in samples if "recommendations-v1" in s.labels.values()]


def test_a_client_without_sidecar_is_unknown_to_the_server(demo: DemoCluster) -> None:
    samples = snap(demo, ["hello"]).samples
    assert not [s for s in samples if "uptime-checker" in s.labels.values()]
    unknown = requests(samples, source_workload="unknown", destination_service_name="helloworld")
    assert unknown and {s.labels["reporter"] for s in unknown} == {"destination"}
    assert {s.labels["connection_security_policy"] for s in unknown} == {"none"}
    assert {s.labels["source_workload_namespace"] for s in unknown} == {"unknown"}
    # plaintext is refused once the namespace requires mutual TLS; the sidecar clients carry on
    put(demo, IstioObject("PeerAuthentication", "default", "hello", api_version="security.istio.io/v1",
                           spec={"mtls": {"mode": "STRICT"}}))
    samples = snap(demo, ["hello"]).samples
    assert not requests(samples, source_workload="unknown")
    assert requests(samples, source_workload="sleep", reporter="destination")


def test_samples_follow_istios_label_conventions(demo: DemoCluster) -> None:
    samples = snap(demo).samples
    metrics = {s.metric for s in samples}
    assert metrics == set(tm.KNOWN_METRICS)
    http = requests(samples, source_workload="productpage-v1", destination_service_name="reviews")[0]
    assert http.labels["destination_service"] == "reviews.shop.svc.cluster.local"
    assert http.labels["destination_service_namespace"] == "shop"
    assert http.labels["request_operation"] == "GET /reviews/{id}"
    for key in ("source_canonical_service", "source_canonical_revision", "source_cluster",
                "destination_canonical_service", "destination_canonical_revision", "destination_cluster",
                "request_protocol", "response_code", "response_flags"):
        assert http.labels[key], key
    grpc = requests(samples, destination_service_name="inventory")
    assert {s.labels["request_protocol"] for s in grpc} == {"grpc"}
    assert "0" in {s.labels["grpc_response_status"] for s in grpc}
    assert [s for s in samples if s.metric == tm.REQUEST_MESSAGES and s.labels["destination_workload"] == "inventory-v1"]
    stats = {s.labels["stat"]: s.value for s in samples if s.metric == tm.REQUEST_DURATION
             and s.labels["source_workload"] == "istio-ingressgateway"
             and s.labels["destination_workload"] == "productpage-v1" and s.labels["reporter"] == "source"}
    assert set(stats) == {"avg", "0.5", "0.95", "0.99"}
    assert 10.0 < stats["0.5"] < stats["0.95"] < stats["0.99"] < 2000.0
    assert all(s.labels["stat"] == "rate" for s in samples if s.metric in (tm.REQUEST_BYTES, tm.RESPONSE_BYTES))
    # and the snapshot survives the file format
    again = Snapshot.from_json(snap(demo).to_json())
    assert len(again.samples) == len(samples) and again.warnings.total == 0


def test_rates_drift_smoothly_with_time(demo: DemoCluster, clock: Clock) -> None:
    def ingress(s: Snapshot) -> float:
        return total(requests(s.samples, source_workload="istio-ingressgateway", reporter="source"))

    first = snap(demo)
    clock.t += 10
    second = snap(demo)
    assert first.samples != second.samples
    assert ingress(second) != ingress(first)
    assert ingress(second) == pytest.approx(ingress(first), rel=0.1)  # a little, not a jump
    clock.t += 6 * 3600
    assert ingress(snap(demo)) != pytest.approx(ingress(first), rel=0.02)
    # deterministic for a given seed and time
    assert DemoCluster(clock=Clock(T0)).snapshot(GraphRequest(namespaces=ALL)).samples == first.samples
    assert DemoCluster(clock=Clock(T0), seed=8).snapshot(GraphRequest(namespaces=ALL)).samples != first.samples


def test_query_time_and_duration_come_from_the_request(demo: DemoCluster, clock: Clock) -> None:
    now = snap(demo)
    explicit = snap(demo, queryTime=int(T0))
    assert explicit.samples == now.samples
    assert snap(demo, queryTime=int(T0) - 3600).samples != now.samples
    assert snap(demo, duration=60).samples != now.samples


def test_silent_until_traffic_starts(clock: Clock) -> None:
    demo = DemoCluster(traffic=False, clock=clock)
    quiet = snap(demo)
    assert not demo.traffic_running
    assert quiet.samples == []
    assert quiet.inventory is not None and len(quiet.inventory.workloads) > 10
    demo.start_traffic()
    assert demo.traffic_running
    assert requests(snap(demo).samples, destination_service_name="productpage")
    demo.stop_traffic()
    assert snap(demo).samples == []


def test_virtual_service_weights_split_the_traffic(demo: DemoCluster) -> None:
    def to_reviews(samples: list[Sample], version: str) -> float:
        return total(requests(samples, source_workload="productpage-v1", destination_workload=f"reviews-{version}",
                              reporter="destination"))

    before = snap(demo).samples
    assert to_reviews(before, "v3") > 0
    reviews_vs(demo, [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
                                 {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}]}])
    after = snap(demo).samples
    assert to_reviews(after, "v1") / to_reviews(after, "v2") == pytest.approx(4.0, rel=0.05)
    assert to_reviews(after, "v3") == 0
    # reviews v1 never asks ratings, so ratings gets less work than before
    ratings = lambda s: total(requests(s, destination_workload="ratings-v1", reporter="destination"))  # noqa: E731
    assert ratings(after) < 0.6 * ratings(before)


def test_gateway_routes_follow_the_gateway_virtual_services(demo: DemoCluster) -> None:
    demo.delete("VirtualService", "hello", "hello-ingress")
    samples = snap(demo).samples
    lost = requests(samples, source_workload="istio-ingressgateway", response_code="404", response_flags="NR")
    assert lost and {s.labels["request_operation"] for s in lost} == {"GET /hello"}
    assert not requests(samples, source_workload="istio-ingressgateway", destination_service_name="helloworld")


def test_an_injected_abort_fails_its_share_of_requests(demo: DemoCluster) -> None:
    reviews_vs(demo, [{"fault": {"abort": {"percentage": {"value": 50}, "httpStatus": 503}},
                       "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}])
    out = requests(snap(demo).samples, source_workload="productpage-v1", destination_service_name="reviews",
                   reporter="source")
    share = total(out, five_xx) / total(out)
    assert share == pytest.approx(0.5, abs=0.03)
    assert {s.labels["response_flags"] for s in out if five_xx(s)} >= {"FI"}
    # aborted requests never reach a reviews pod
    reached = total(requests(snap(demo).samples, destination_service_name="reviews", reporter="destination"))
    assert reached == pytest.approx(total(out) / 2, rel=0.05)


def test_an_abort_or_delay_without_a_percentage_touches_no_request(demo: DemoCluster) -> None:
    """Istio's API: "If not specified, no request will be aborted" (and delayed); istiod leaves Envoy's
    percentage unset, 0. The demo failed every request of such a fault, as Kiali's wizard reads it (100%),
    while meshdesk's Fault injection form reads it as 0%, as Istio does."""
    reviews_vs(demo, [{"fault": {"abort": {"httpStatus": 503}, "delay": {"fixedDelay": "5s"}},
                       "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}])
    out = requests(snap(demo).samples, source_workload="productpage-v1", destination_service_name="reviews",
                   reporter="source")
    assert total(out) > 0 and total(out, five_xx) == 0
    assert not {s.labels["response_flags"] for s in out} & {"FI", "DI"}


def test_a_mirror_copies_its_share_of_the_requests_to_a_version_whose_answers_are_dropped(demo: DemoCluster) -> None:
    """All of reviews' requests routed to v1 with half of them mirrored to v3 (as the Traffic shifting form
    writes it): the graph shows an edge to reviews v3 at half v1's rate, reported by v3's proxy alone, and v3's
    answers (its errors too) change nothing the caller sees."""
    to_v1 = [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 100}]
    reviews_vs(demo, [{"route": to_v1}])
    plain = snap(demo, ["shop"], graphType="versionedApp")
    reviews_vs(demo, [{"route": to_v1, "mirror": {"host": "reviews", "subset": "v3"},
                       "mirrorPercentage": {"value": 50.0}}])
    mirrored = snap(demo, ["shop"], graphType="versionedApp")

    plain_graph, mirrored_graph = build(plain), build(mirrored)
    before, after = _edges_by_name(plain_graph), _edges_by_name(mirrored_graph)
    to = lambda es, label: es[("shop", "reviews", "shop", label, "http")]  # noqa: E731
    assert ("shop", "reviews", "shop", "reviews v3", "http") not in before
    assert to(after, "reviews v3").rates["http"] == pytest.approx(0.5 * to(after, "reviews v1").rates["http"], rel=0.05)
    assert ("shop", "reviews v3", "shop", "ratings", "http") in after  # v3 serves its copies: it asks ratings
    # Replay an hour back simulates that hour with the config of now, the mirror with it
    past = _edges_by_name(build(snap(demo, ["shop"], graphType="versionedApp", queryTime=int(T0) - 3600)))
    assert to(past, "reviews v3").rates["http"] == pytest.approx(0.5 * to(past, "reviews v1").rates["http"], rel=0.05)
    # the caller's own reports, its answers and errors, are the same as without the mirror
    caller = lambda s: sorted((tuple(sorted(x.labels.items())), round(x.value, 9))  # noqa: E731
                              for x in requests(s.samples, source_workload="productpage-v1", reporter="source"))
    assert caller(mirrored) == caller(plain)
    assert not requests(mirrored.samples, destination_workload="reviews-v3", reporter="source")
    # v3 fails some of its copies, and its proxy says so; productpage's health, judged on what it was answered,
    # does not change
    assert total(requests(mirrored.samples, destination_workload="reviews-v3", reporter="destination"), five_xx) > 0
    page = lambda g: next(n.health for n in g.nodes.values() if n.label == "productpage v1")  # noqa: E731
    assert page(mirrored_graph) is not None and page(plain_graph) is not None
    assert (page(mirrored_graph).status, page(mirrored_graph).error_ratio) == \
        (page(plain_graph).status, page(plain_graph).error_ratio)


def test_istios_mirrors_list_and_a_matched_rules_own_mirror_copy_their_shares(demo: DemoCluster) -> None:
    """Istio 1.22's ``mirrors`` (each its own ``percentage``; all the requests without one) and a mirror on a rule
    that matches part of the requests: each copies its share of the requests its rule takes."""
    to_v1 = [{"destination": {"host": "reviews", "subset": "v1"}}]
    reviews_vs(demo, [{"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": to_v1,
                       "mirror": {"host": "reviews", "subset": "v3"}},
                      {"route": to_v1, "mirrors": [{"destination": {"host": "reviews", "subset": "v2"},
                                                    "percentage": {"value": 25.0}}]}])
    samples = snap(demo, ["shop"]).samples
    got = lambda version: total(requests(samples, source_workload="productpage-v1",  # noqa: E731
                                         destination_workload=f"reviews-{version}", reporter="destination"))
    # a header condition catches a tenth of the requests (the demo's rule for headers): all of that tenth is
    # copied to v3, a quarter of the other nine tenths to v2; v1 answers them all
    assert got("v3") == pytest.approx(0.1 * got("v1"), rel=0.05)
    assert got("v2") == pytest.approx(0.25 * 0.9 * got("v1"), rel=0.05)


def test_a_rule_on_the_scheme_or_authority_takes_only_the_requests_that_name_it(demo: DemoCluster) -> None:
    """Request routing on the scheme and the authority (as Kiali's wizard writes them): productpage calls
    reviews as http://reviews:9080, so a rule for https or for another host takes none of its requests, and
    one for its own authority takes them all (the demo took every request for any such rule)."""
    def to_reviews(version: str) -> float:
        return total(requests(snap(demo).samples, source_workload="productpage-v1",
                              destination_workload=f"reviews-{version}", reporter="destination"))

    default = {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}
    reviews_vs(demo, [{"match": [{"scheme": {"exact": "https"}}, {"authority": {"exact": "reviews.example.com"}}],
                       "route": [{"destination": {"host": "reviews", "subset": "v2"}}]}, default])
    assert to_reviews("v2") == 0 and to_reviews("v1") > 0
    reviews_vs(demo, [{"match": [{"scheme": {"exact": "http"}, "authority": {"exact": "reviews:9080"}}],
                       "route": [{"destination": {"host": "reviews", "subset": "v3"}}]}, default])
    assert to_reviews("v1") == 0 and to_reviews("v3") > 0


def test_a_route_timeout_cuts_a_slow_upstream_into_504s_but_not_the_delay_a_fault_adds(demo: DemoCluster) -> None:
    """As Envoy: a route's timeout counts the time upstream, from when the request is routed; a delay
    fault holds the request before that (Istio's own timeout task delays ratings to time reviews out)."""
    def p50(samples: list[Sample], src: str = "productpage-v1", dst: str = "reviews-v2") -> float:
        return next(s.value for s in samples if s.metric == tm.REQUEST_DURATION and s.labels["stat"] == "0.5"
                    and s.labels["source_workload"] == src and s.labels["destination_workload"] == dst
                    and s.labels["reporter"] == "source")

    base = p50(snap(demo).samples)
    assert base < 500
    held = reviews_vs(demo, [{"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "2s"}},
                              "timeout": "1s", "route": [{"destination": {"host": "reviews", "subset": "v2"}}]}])
    samples = snap(demo).samples
    assert p50(samples) > 2000  # held 2 s, then answered well within the second the route allows upstream
    assert not requests(samples, destination_service_name="reviews", response_code="504")
    # the time upstream made long: ratings held 2 s, so reviews v2 (which calls it) answers after 2 s
    held.spec["http"][0].pop("fault")
    put(demo, held)
    put(demo, IstioObject("VirtualService", "ratings", "shop", spec={
        "hosts": ["ratings"], "http": [{"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "2s"}},
                                        "route": [{"destination": {"host": "ratings"}}]}]}))
    samples = snap(demo).samples
    sent = total(requests(samples, source_workload="productpage-v1", destination_service_name="reviews",
                          reporter="source"))
    timed_out = requests(samples, source_workload="productpage-v1", destination_service_name="reviews",
                         response_code="504", response_flags="UT")
    assert total(timed_out) > 0.9 * sent
    assert p50(samples) <= 1000
    # reviews' proxy had not answered when productpage's gave up: it reports no response, the client gone
    cut = requests(samples, source_workload="productpage-v1", destination_workload="reviews-v2",
                   reporter="destination", response_code="0", response_flags="DC")
    assert total(cut) == pytest.approx(total(timed_out), rel=0.01)


def test_requests_held_by_a_delay_fault_say_DI_in_their_flags_as_envoy_reports_them(demo: DemoCluster) -> None:
    def flags_share(samples: list[Sample], reporter: str) -> float:
        out = requests(samples, source_workload="productpage-v1", destination_service_name="reviews",
                       reporter=reporter)
        return total(out, lambda s: "DI" in s.labels["response_flags"].split(",")) / total(out)

    assert flags_share(snap(demo).samples, "source") == 0
    reviews_vs(demo, [{"fault": {"delay": {"percentage": {"value": 40}, "fixedDelay": "300ms"}},
                       "route": [{"destination": {"host": "reviews", "subset": "v2"}}]}])
    samples = snap(demo).samples
    # the client's proxy held 40% of the requests (the fault filter is on the client's side) ...
    assert flags_share(samples, "source") == pytest.approx(0.4, abs=0.01)
    # ... and the server's proxy saw nothing of it
    assert flags_share(samples, "destination") == 0
    # a held request that also failed says both, in the order Envoy writes them
    assert [sim.with_flag(f, "DI") for f in ("-", "UF", "URX", "UT,URX", "DI")] == ["DI", "UF,DI", "DI,URX",
                                                                                  "UT,DI,URX", "DI"]


def test_routing_to_a_missing_subset_gives_no_cluster_errors(demo: DemoCluster) -> None:
    reviews_vs(demo, [{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}])
    out = requests(snap(demo).samples, source_workload="productpage-v1", destination_service_name="reviews")
    assert out and {(s.labels["response_code"], s.labels["response_flags"]) for s in out} == {("503", "NC")}


def test_without_its_service_entry_the_external_api_is_passthrough(demo: DemoCluster) -> None:
    demo.delete("ServiceEntry", "shop", "payments-api")
    samples = snap(demo).samples
    assert not requests(samples, destination_service_name="api.payments.example.com")
    assert requests(samples, source_workload="productpage-v1", destination_service_name="PassthroughCluster")


def test_error_bursts_come_and_go_and_retries_hide_them_from_clients(demo: DemoCluster, clock: Clock) -> None:
    def ratings(reporter: str) -> tuple[float, float]:
        out = requests(snap(demo, ["shop"], duration=60).samples, destination_service_name="ratings", reporter=reporter)
        return total(out), total(out, five_xx)

    shares = []
    for step in range(144):  # a day in ten-minute steps
        clock.t = T0 + 600 * step
        sent, failed = ratings("source")
        shares.append((failed / sent, clock.t))
    calm = [share for share, _ in shares if share < 0.01]
    assert len(calm) > 100  # mostly quiet ...
    worst, when = max(shares)
    assert worst > 0.05  # ... with the odd burst
    clock.t = when
    received_before = ratings("destination")[0]
    retrying = IstioObject("VirtualService", "ratings", "shop", spec={
        "hosts": ["ratings"],
        "http": [{"route": [{"destination": {"host": "ratings"}}], "retries": {"attempts": 3, "retryOn": "5xx,connect-failure"}}],
    })
    put(demo, retrying)
    sent, failed = ratings("source")
    assert failed / sent < worst / 3
    assert ratings("destination")[0] > received_before  # the retries are extra requests for ratings
    flags = {s.labels["response_flags"] for s in requests(snap(demo, ["shop"], duration=60).samples,
                                                         destination_service_name="ratings", reporter="source")
             if five_xx(s)}
    assert flags == {"URX"}


def test_peer_authentication_decides_mutual_tls(demo: DemoCluster) -> None:
    def policies() -> set[str]:
        return {s.labels["connection_security_policy"]
                for s in requests(snap(demo, ["shop"]).samples, destination_workload="details-v1", reporter="destination")}

    assert policies() == {"mutual_tls"}
    put(demo, IstioObject("PeerAuthentication", "default", "shop", api_version="security.istio.io/v1",
                           spec={"mtls": {"mode": "DISABLE"}}))
    assert policies() == {"none"}
    # back to STRICT, with a DestinationRule that makes clients talk plaintext: connections are reset
    put(demo, IstioObject("PeerAuthentication", "default", "shop", api_version="security.istio.io/v1",
                           spec={"mtls": {"mode": "STRICT"}}))
    put(demo, IstioObject("DestinationRule", "details", "shop",
                           spec={"host": "details", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}))
    samples = snap(demo, ["shop"]).samples
    assert not requests(samples, destination_workload="details-v1", reporter="destination")
    reset = requests(samples, source_workload="productpage-v1", destination_service_name="details")
    assert reset and {(s.labels["response_code"], s.labels["response_flags"]) for s in reset} == {("503", "UC")}


def test_a_workloads_own_and_per_port_mtls_decide_whether_plain_text_fails(demo: DemoCluster) -> None:
    """Istio weighs a workload's own PeerAuthentication (its portLevelMtls for the port first) before
    its namespace's. TLS mode DISABLE to a workload STRICT on the service's port fails every request
    with 503 UC at the client (URX once a retry policy retries resets); a PERMISSIVE port under a
    STRICT policy takes the plain text."""
    sec = "security.istio.io/v1"

    put(demo, IstioObject("PeerAuthentication", "default", "shop", api_version=sec, spec={"mtls": {"mode": "PERMISSIVE"}}))
    put(demo, IstioObject("DestinationRule", "details", "shop",
                           spec={"host": "details", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}))
    served = requests(snap(demo, ["shop"]).samples, destination_workload="details-v1", reporter="destination")
    assert served and {s.labels["connection_security_policy"] for s in served} == {"none"}  # PERMISSIVE: it gets through
    put(demo, IstioObject("PeerAuthentication", "details", "shop", api_version=sec, spec={
        "selector": {"matchLabels": {"app": "details"}}, "mtls": {"mode": "STRICT"}}))
    samples = requests(snap(demo, ["shop"]).samples, source_workload="productpage-v1", destination_service_name="details")
    assert samples and {(s.labels["reporter"], s.labels["response_code"], s.labels["response_flags"])
                        for s in samples} == {("source", "503", "UC")}
    put(demo, IstioObject("VirtualService", "details", "shop", spec={
        "hosts": ["details"], "http": [{"route": [{"destination": {"host": "details"}}],
                                        "retries": {"attempts": 2, "retryOn": "reset"}}]}))
    samples = requests(snap(demo, ["shop"]).samples, source_workload="productpage-v1", destination_service_name="details")
    assert {(s.labels["response_code"], s.labels["response_flags"]) for s in samples} == {("503", "URX")}
    # the service's port 9080 set apart as PERMISSIVE: the plain text reaches details again
    put(demo, IstioObject("PeerAuthentication", "details", "shop", api_version=sec, spec={
        "selector": {"matchLabels": {"app": "details"}}, "mtls": {"mode": "STRICT"},
        "portLevelMtls": {"9080": {"mode": "PERMISSIVE"}}}))
    served = requests(snap(demo, ["shop"]).samples, destination_workload="details-v1", reporter="destination")
    assert served and {s.labels["connection_security_policy"] for s in served} == {"none"}


def test_authorization_policies_deny_with_403(demo: DemoCluster) -> None:
    def codes(source: str) -> set[str]:
        return {s.labels["response_code"] for s in requests(snap(demo, ["shop"]).samples, source_workload=source,
                                                              destination_service_name="ratings")}

    only_reviews = IstioObject("AuthorizationPolicy", "ratings-readers", "shop", api_version="security.istio.io/v1", spec={
        "selector": {"matchLabels": {"app": "ratings"}},
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/reviews"]}}],
                   "to": [{"operation": {"methods": ["GET"], "paths": ["/ratings/*"]}}]}],
    })
    put(demo, only_reviews)
    assert "403" not in codes("reviews-v2")
    deny_v3 = IstioObject("AuthorizationPolicy", "no-v3", "shop", api_version="security.istio.io/v1", spec={
        "selector": {"matchLabels": {"app": "ratings"}},
        "action": "DENY",
        "rules": [{"from": [{"source": {"principals": ["*/sa/reviews"]}}], "to": [{"operation": {"methods": ["GET"]}}]}],
    })
    put(demo, deny_v3)
    assert codes("reviews-v2") == {"403"} and codes("reviews-v3") == {"403"}
    samples = snap(demo, ["shop"]).samples
    assert requests(samples, destination_workload="ratings-v1", response_code="403", reporter="destination")
    # denied requests never reach the application, so ratings stops asking its database
    tcp = total(s for s in samples if s.metric == tm.TCP_RECEIVED and s.labels["source_workload"] == "ratings-v1")
    assert tcp == 0
    demo.delete("AuthorizationPolicy", "shop", "no-v3")
    # identities come from mutual TLS: without it the ALLOW rule cannot match anybody
    put(demo, IstioObject("PeerAuthentication", "default", "shop", api_version="security.istio.io/v1",
                           spec={"mtls": {"mode": "DISABLE"}}))
    assert codes("reviews-v2") == {"403"}


def test_a_connection_pool_limit_overflows_when_the_backend_slows_down(demo: DemoCluster) -> None:
    def overflowed() -> float:
        return total(requests(snap(demo, ["shop"]).samples, destination_service_name="reviews", reporter="source",
                              source_workload="productpage-v1", response_flags="UO"))

    put(demo, IstioObject("DestinationRule", "reviews", "shop", spec={
        "host": "reviews", "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2", "v3")],
        "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
    }))
    assert overflowed() < 0.01  # fast answers: one connection is plenty
    # ratings held 800 ms: reviews (v2 and v3 call it) answers that much later, and keeps productpage's
    # connections that long
    put(demo, IstioObject("VirtualService", "ratings", "shop", spec={
        "hosts": ["ratings"],
        "http": [{"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "800ms"}},
                  "route": [{"destination": {"host": "ratings"}}]}],
    }))
    assert overflowed() > 0.1


def test_a_delay_fault_holds_requests_before_they_take_a_connection(demo: DemoCluster) -> None:
    """The delay is the caller's proxy's own doing, before the request is routed: it takes none of the
    destination's connection pool."""
    put(demo, IstioObject("DestinationRule", "ratings", "shop", spec={
        "host": "ratings",
        "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
    }))
    put(demo, IstioObject("VirtualService", "ratings", "shop", spec={
        "hosts": ["ratings"],
        "http": [{"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "800ms"}},
                  "route": [{"destination": {"host": "ratings"}}]}],
    }))
    out = requests(snap(demo, ["shop"]).samples, destination_service_name="ratings", reporter="source")
    assert out and total(out, lambda s: "UO" in s.labels["response_flags"].split(",")) < 0.01
    assert total(out, lambda s: "DI" in s.labels["response_flags"].split(",")) == pytest.approx(total(out))


# -- writes ----------------------------------------------------------------------------------------------


def test_apply_bumps_the_resource_version_and_a_stale_one_conflicts(demo: DemoCluster) -> None:
    old = vs(demo, "shop", "reviews")
    assert old.resource_version
    changed = copy.deepcopy(old)
    changed.spec["http"][0]["route"][0]["weight"] = 60
    changed.spec["http"][0]["route"][1]["weight"] = 20
    stored = demo.apply(changed)
    assert stored.resource_version and stored.resource_version != old.resource_version
    assert vs(demo, "shop", "reviews").spec == changed.spec
    stale = copy.deepcopy(old)
    stale.spec["http"][0]["route"][0]["weight"] = 10
    stale.spec["http"][0]["route"][1]["weight"] = 70
    with pytest.raises(Conflict, match="changed by someone else"):
        demo.apply(stale)
    assert vs(demo, "shop", "reviews").spec == changed.spec  # the other writer's change survives
    # a new object is created; the caller's object is not modified
    new = IstioObject("DestinationRule", "ratings", "shop", spec={"host": "ratings"})
    created = demo.apply(new)
    assert new.resource_version == "" and created.resource_version
    assert created.cluster == "demo"
    # creating an object that exists meanwhile is a conflict too: nothing is overwritten blindly
    again = IstioObject("DestinationRule", "ratings", "shop", spec={"host": "ratings", "subsets": []})
    with pytest.raises(Conflict, match="already exists"):
        demo.apply(again)


def test_delete_and_missing_objects(demo: DemoCluster) -> None:
    with pytest.raises(NotFound):
        demo.delete("VirtualService", "shop", "no-such-thing")
    with pytest.raises(NotFound):
        demo.label_namespace("nowhere", {"a": "b"})
    gone = vs(demo, "shop", "reviews")
    demo.delete("VirtualService", "shop", "reviews")
    inv = snap(demo).inventory
    assert inv is not None and not inv.istio_objects("VirtualService", "shop") == []
    assert [o.name for o in inv.istio_objects("VirtualService", "shop")] == ["storefront"]
    with pytest.raises(NotFound):  # replacing a deleted object by resource version
        demo.apply(gone)
    with pytest.raises(NotFound):
        demo.apply(IstioObject("VirtualService", "x", "nowhere", spec={"hosts": ["x"]}))
    # without a VirtualService, the three reviews versions share the traffic evenly
    samples = snap(demo).samples
    rates = [total(requests(samples, destination_workload=f"reviews-{v}", reporter="destination")) for v in "123"]
    assert max(rates) == pytest.approx(min(rates), rel=0.02)


def test_dry_run_changes_nothing(demo: DemoCluster) -> None:
    before = snap(demo)
    obj = vs(demo, "shop", "reviews")
    obj.spec = {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v3"}}]}]}
    preview = demo.apply(obj, dry_run=True)
    assert preview.spec == obj.spec
    demo.delete("VirtualService", "shop", "storefront", dry_run=True)
    demo.label_namespace("shop", {"istio-injection": None, "team": "x"}, dry_run=True)
    with pytest.raises(Conflict):  # a dry run still checks
        stale = copy.deepcopy(obj)
        stale.resource_version = "1"
        demo.apply(stale, dry_run=True)
    after = snap(demo)
    assert after.samples == before.samples
    assert after.inventory.to_json() == before.inventory.to_json()  # type: ignore[union-attr]


def test_weights_are_shares_of_their_total_as_istio_reads_them(demo: DemoCluster) -> None:
    """Istio (1.15 and later) takes weights that do not add up to 100 and shares the requests in proportion
    to them; the demo refused them ("route weights add up to 60, not 100"), though its webhook is Istio's."""
    obj = vs(demo, "shop", "reviews")
    obj.spec["http"][-1]["route"] = [
        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 2},
        {"destination": {"host": "reviews", "subset": "v2"}, "weight": 1}]
    put(demo, obj)
    assert [d["weight"] for d in vs(demo, "shop", "reviews").spec["http"][-1]["route"]] == [2, 1]
    samples = requests(snap(demo).samples, reporter="destination", destination_canonical_service="reviews")
    into = {v: sum(s.value for s in samples if s.labels.get("destination_canonical_revision") == v)
            for v in ("v1", "v2", "v3")}
    assert into["v3"] == pytest.approx(0.0, abs=1e-6)
    assert into["v1"] / into["v2"] == pytest.approx(2.0, rel=0.1)


def test_label_namespace_sets_and_removes(demo: DemoCluster) -> None:
    demo.label_namespace("hello", {"istio-injection": None, "owner": "greeters"})
    hello = next(n for n in demo.namespaces() if n.name == "hello")
    assert hello.labels.get("owner") == "greeters" and "istio-injection" not in hello.labels
    assert not hello.injection_enabled
    with pytest.raises(SourceError):
        demo.label_namespace("hello", {"": "x"})


def test_invalid_config_is_refused_with_a_reason(demo: DemoCluster) -> None:
    obj = vs(demo, "shop", "reviews")
    for route in obj.spec["http"][0]["route"]:
        route["weight"] = 0
    with pytest.raises(SourceError, match="add up to 0"):  # as Istio's webhook (a total of 60 is taken)
        put(demo, obj)
    with pytest.raises(SourceError, match="unknown kind"):
        put(demo, IstioObject("Deployment", "x", "shop"))
    bad_fault = vs(demo, "shop", "reviews")
    bad_fault.spec["http"][0]["fault"] = {"abort": {"percentage": {"value": 150}, "httpStatus": 500}}
    with pytest.raises(SourceError, match="between 0 and 100"):
        put(demo, bad_fault)
    assert vs(demo, "shop", "reviews").spec["http"][0]["route"][0]["weight"] == 50


# -- inventory ---------------------------------------------------------------------------------------


def test_inventory_is_a_real_looking_cluster(demo: DemoCluster) -> None:
    inv = snap(demo).inventory
    assert inv is not None and inv.cluster == "demo"
    product = inv.workload("shop", "productpage-v1")
    assert product is not None and product.has_sidecar and product.pods
    for pod in product.pods:
        assert pod.ready_count == (2, 2)
        assert pod.proxy_version == "1.24.2"
        assert pod.phase == "Running" and pod.ip and pod.node_name
    mongo = inv.workload("shop", "mongodb-v1")
    assert mongo is not None and mongo.kind == "StatefulSet" and mongo.has_sidecar is False
    assert mongo.pods[0].ready_count == (1, 1)
    missing = [w.name for w in inv.workloads if w.namespace != "istio-system" and not w.has_sidecar]
    assert sorted(missing) == ["mongodb-v1", "uptime-checker"]
    assert sum(p.restarts for w in inv.workloads for p in w.pods) > 0
    assert {a.name for a in inv.apps("shop")} >= {"productpage", "reviews", "ratings", "inventory", "recommendations"}
    reviews = inv.service("shop", "reviews")
    assert reviews is not None and [w.name for w in inv.workloads_for_service(reviews)] == \
        ["reviews-v1", "reviews-v2", "reviews-v3"]
    assert inv.service("hello", "helloworld").ports[0].port == 5000  # type: ignore[union-attr]
    kinds = {o.kind for o in inv.istio}
    assert kinds >= {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "PeerAuthentication"}
    se = inv.istio_objects("ServiceEntry")[0]
    assert se.spec["location"] == "MESH_EXTERNAL" and "api.payments.example.com" in se.spec["hosts"]
    assert all(o.resource_version for o in inv.istio)
    gateway = inv.workload("istio-system", "istio-ingressgateway")
    assert gateway is not None and gateway.has_sidecar and gateway.pods[0].proxy_version == "1.24.2"
    assert Snapshot.from_json(snap(demo).to_json()).inventory.to_json() == inv.to_json()  # type: ignore[union-attr]


def test_a_crash_looping_pod_shows_in_the_inventory(clock: Clock) -> None:
    demo = DemoCluster(traffic=False, clock=clock)  # the cluster's state does not need traffic to be read
    seen_restarts: list[int] = []
    crashes = 0
    for step in range(3 * 288):  # three days in five-minute steps
        clock.t = T0 + 300 * step
        inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
        assert inv is not None
        ratings = inv.workload("shop", "ratings-v1")
        assert ratings is not None
        pod = ratings.pods[0]
        seen_restarts.append(pod.restarts)
        if pod.ready_count == (1, 2):
            crashes += 1
            assert ratings.available == 0
            assert pod.containers[0].state == "waiting:CrashLoopBackOff" and pod.proxy is not None and pod.proxy.ready
    assert crashes > 0
    assert seen_restarts == sorted(seen_restarts) and seen_restarts[-1] > seen_restarts[0]
    details = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory.workload("shop", "details-v1")  # type: ignore[union-attr]
    assert details is not None and details.pods[0].ready_count == (2, 2)


def test_snapshot_can_be_cancelled(demo: DemoCluster) -> None:
    with pytest.raises(Cancelled):
        demo.snapshot(GraphRequest(namespaces=ALL), cancelled=lambda: True)


def test_polling_and_writing_from_two_threads(demo: DemoCluster) -> None:
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            for _ in range(15):
                snap(demo)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    poller = threading.Thread(target=poll)
    poller.start()
    for i in range(30):
        w = 10 + i % 80
        reviews_vs(demo, [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": w},
                                     {"destination": {"host": "reviews", "subset": "v2"}, "weight": 100 - w}]}])
    poller.join(timeout=60)
    assert not poller.is_alive() and not errors


# -- the graph builder on demo data -------------------------------------------------------------------


def test_demo_snapshot_builds_the_expected_graph(demo: DemoCluster) -> None:
    graph_pkg = pytest.importorskip("meshdesk.mesh.graph")
    build = getattr(graph_pkg, "build", None)
    if build is None:
        pytest.skip("meshdesk.mesh.graph.build is not written yet")
    builder = pytest.importorskip("meshdesk.mesh.graph.builder")
    # operation nodes would sit between clients and services; leave them out to read the plain topology
    appenders = tuple(a for a in builder.known_appenders() if a not in ("aggregateNode", "operationNodes", "operations"))
    graph = build(snap(demo, ["shop"], graphType="versionedApp", appenders=appenders))

    def edges() -> set[tuple[str, str, str]]:
        return {(graph.nodes[e.source].label, graph.nodes[e.target].label, e.protocol) for e in graph.edges.values()}

    found = edges()
    expected = {
        ("istio-ingressgateway latest", "productpage", "http"),
        ("productpage", "productpage v1", "http"),
        ("productpage v1", "details", "http"),
        ("productpage v1", "reviews", "http"),
        ("productpage v1", "inventory", "grpc"),
        ("reviews", "reviews v1", "http"),
        ("reviews", "reviews v2", "http"),
        ("reviews", "reviews v3", "http"),
        ("reviews v2", "ratings", "http"),
        ("reviews v3", "ratings", "http"),
        ("ratings v1", "mongodb", "tcp"),
    }
    assert expected <= found, expected - found
    # the external API: a service node for the host, or for its ServiceEntry once that pass names it so
    external = [graph.nodes[e.target] for e in graph.edges.values() if graph.nodes[e.source].label == "productpage v1"
                and graph.nodes[e.target].service in ("api.payments.example.com", "payments-api")]
    assert len(external) == 1 and external[0].node_type == "service"
    assert not any(src == "reviews v1" for src, _, _ in found)  # v1 shows no stars: it never asks ratings
    split = {graph.nodes[e.target].version: e.rates.get("httpPercentReq") for e in graph.edges.values()
             if graph.nodes[e.source].label == "reviews"}
    assert split == pytest.approx({"v1": 50.0, "v2": 30.0, "v3": 20.0}, abs=0.5)  # the default VirtualService


def _edges_by_name(graph: TrafficGraph) -> dict[tuple[str, str, str, str, str], Edge]:
    def name(nid: str) -> tuple[str, str]:
        return graph.nodes[nid].namespace, graph.nodes[nid].label

    return {(*name(e.source), *name(e.target), e.protocol): e for e in graph.edges.values()}


def test_edges_leaving_the_graphed_namespace_show_their_mutual_tls(demo: DemoCluster) -> None:
    """QA: graphing istio-system alone showed the ingress gateway's calls into hello and shop without
    mTLS, and "Edges with traffic but without mTLS" lit them, while the whole mesh's graph says mTLS
    100% on the same edges. The live queries ask for the servers' reports of calls leaving the
    namespaces (Kiali's securityPolicy appender); the demo answers them too."""
    graph = build(snap(demo, ["istio-system"]))
    edges = _edges_by_name(graph)
    into = {k[3]: e for k, e in edges.items() if k[1] == "istio-ingressgateway latest"}
    assert set(into) == {"helloworld", "productpage"}
    assert {name: e.is_mtls for name, e in into.items()} == {"helloworld": 100.0, "productpage": 100.0}
    without_mtls = dict(FIND_PRESETS)["Edges with traffic but without mTLS"]
    assert compile_expression(without_mtls).edges(graph) == set()


def test_an_edges_mutual_tls_does_not_depend_on_the_namespaces_graphed(demo: DemoCluster) -> None:
    """Every edge between two namespaces shows the same mTLS share whichever of its ends is graphed.
    (An edge inside a namespace seen from outside may carry only the outsiders' part of its traffic, as
    in Kiali: the helloworld service's edges in the istio-system graph carry the gateway's calls only.)"""
    whole = _edges_by_name(build(snap(demo, [*ALL, "travel"])))
    crossing = []
    for ns in (*ALL, "travel"):
        for key, e in _edges_by_name(build(snap(demo, [ns]))).items():
            if key[0] != key[2]:
                assert e.is_mtls == whole[key].is_mtls, (ns, key)
                crossing.append((ns, key[1], key[3]))
    assert {("istio-system", "istio-ingressgateway latest", "helloworld"), ("hello", "istio-ingressgateway latest", "helloworld"),
            ("istio-system", "istio-ingressgateway latest", "productpage"),
            ("shop", "istio-ingressgateway latest", "productpage")} <= set(crossing)


# -- the ambient namespace ------------------------------------------------------------------------


def test_ambient_namespace_has_a_waypoint_and_no_sidecars(demo: DemoCluster) -> None:
    inv = snap(demo, ["travel"]).inventory
    assert inv is not None
    waypoint = inv.workload("travel", "waypoint")
    assert waypoint is not None
    assert waypoint.pods[0].labels["gateway.istio.io/managed"] == "istio.io-mesh-controller"
    apps = [w for w in inv.workloads if w.name != "waypoint"]
    assert {w.name for w in apps} == {"traveller", "search-v1", "flights-v1"}
    assert all(w.has_sidecar is False for w in apps)  # ztunnel carries them, not a sidecar
    assert "waypoint" not in {a.name for a in inv.apps("travel")}  # a waypoint is no app


def test_ambient_telemetry_is_reported_by_the_waypoint_and_ztunnel(demo: DemoCluster) -> None:
    samples = snap(demo, ["travel"]).samples
    l7 = requests(samples, source_workload="traveller", destination_workload="search-v1")
    assert l7 and {s.labels["reporter"] for s in l7} == {"waypoint"}  # reported once, by the waypoint
    assert total(l7) == pytest.approx(2.0, rel=0.15)
    assert {s.labels["destination_service"] for s in l7} == {"search.travel.svc.cluster.local"}
    tcp = [s for s in samples if s.metric == tm.TCP_SENT and s.labels.get("app") == "ztunnel"]
    hops = {(s.labels["source_workload"], s.labels["destination_workload"], s.labels["destination_service_name"])
            for s in tcp}
    assert hops == {("traveller", "waypoint", "search"), ("waypoint", "search-v1", "search"),
                    ("search-v1", "waypoint", "flights"), ("waypoint", "flights-v1", "flights")}
    # a sidecar namespace's traffic has no ambient series
    shop = snap(demo, ["shop"]).samples
    assert not [s for s in shop if s.labels.get("reporter") == "waypoint" or s.labels.get("app") == "ztunnel"]


def test_ambient_graph_shows_the_waypoint_with_a_two_way_edge(demo: DemoCluster) -> None:
    graph = build(snap(demo, ["travel"], graphType="workload"))
    by_name = {n.workload: n for n in graph.nodes.values() if n.workload}
    waypoint = by_name["waypoint"]
    assert waypoint.extra.get("isWaypoint")
    assert not any(n.has_missing_sidecar for n in graph.nodes.values())  # ambient pods need no sidecar
    two_way = [e for e in graph.edges.values() if e.target == waypoint.id and "fromEdge" in e.extra.get("waypoint", {})]
    assert [graph.nodes[e.source].workload for e in two_way] == ["search-v1"]  # it is a server and a client
    hidden = build(snap(demo, ["travel"], graphType="workload", showWaypoints=False))
    assert "waypoint" not in {n.workload for n in hidden.nodes.values()}


def test_the_shop_graph_marks_the_ingress_gateway_in_istio_system(clock: Clock) -> None:
    """Looking at shop alone, the ingress gateway that sends its users in (istio-system, outside the
    selection) is still drawn as an ingress gateway with public-gateway's hosts, as Kiali draws it;
    shop's own nodes are not gateways."""
    demo = DemoCluster(clock=clock)
    clock.t = T0
    shot = snap(demo, ("shop",))
    assert shot.inventory is not None and {w.namespace for w in shot.inventory.workloads} == {"shop"}
    g = build(Snapshot.from_json(shot.to_json()))  # as saved to a file and opened again
    gateway = g.find_node(workload="istio-ingressgateway")
    assert gateway is not None and gateway.is_outside and gateway.is_gateway
    assert gateway.extra["gateway"] == {"ingressInfo": {"hostnames": ["*"]}}
    assert [n.label for n in g.nodes.values() if n.is_gateway] == [gateway.label]


# -- the demo answers as a live cluster's Prometheus would ----------------------------------------------


@pytest.fixture(scope="module")
def demo_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrometheusServer, list[Sample]]]:
    """A real Prometheus holding the demo mesh's counters at T0, every namespace's."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    demo = DemoCluster(clock=Clock())
    counters = [s for s in demo.snapshot(GraphRequest(queryTime=int(T0))).samples if s.metric in _COUNTERS]
    srv = PrometheusServer(tmp_path_factory.mktemp("demo-mesh"), [Series(s.metric, s.labels, s.value) for s in counters])
    srv.start()
    try:
        yield srv, counters
    finally:
        srv.stop()


_COUNTERS = {tm.REQUESTS: GROUP_REQUESTS, tm.REQUEST_MESSAGES: GROUP_MESSAGES, tm.RESPONSE_MESSAGES: GROUP_MESSAGES,
             tm.TCP_SENT: GROUP_TCP, tm.TCP_RECEIVED: GROUP_TCP}


@pytest.mark.prometheus
@pytest.mark.parametrize("namespaces", [("istio-system",), ("hello",), ("shop",), ("travel",), ("hello", "shop")])
@pytest.mark.parametrize("options", [{}, {"ambientTraffic": "waypoint", "appenders": ("responseTime",)}],
                         ids=["defaults", "waypoint-without-security"])
def test_the_demo_returns_the_series_the_live_queries_return(
        demo_prometheus: tuple[PrometheusServer, list[Sample]], namespaces: tuple[str, ...],
        options: dict[str, object]) -> None:
    """The live path's own queries against a real Prometheus holding the demo's series, and the demo
    asked the same request, return the same series (projected on what the queries group by)."""
    srv, _ = demo_prometheus
    request = GraphRequest(namespaces=namespaces, rateGrpc="total", rateTcp="total", queryTime=srv.query_time,
                           **options)  # type: ignore[arg-type]
    live, warnings = fetch_samples(PrometheusClient(srv.url), request)
    assert warnings.total == 0, warnings.messages()
    # the labels the queries group by: the security policy appender's too when it runs
    security = ("connection_security_policy", "source_principal", "destination_principal") \
        if request.appenders is None else ()

    def series(samples: Iterable[Sample]) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        return {(s.metric, tuple(sorted((k, s.labels[k]) for k in (*_COUNTERS[s.metric], *security)
                                        if s.labels.get(k))))
                for s in samples if s.metric in _COUNTERS}

    answered = DemoCluster(clock=Clock()).snapshot(replace(request, queryTime=int(T0))).samples
    assert series(live)
    assert series(answered) == series(live)


def test_the_demo_proxies_have_statistics_and_remember_their_log_level() -> None:
    """Every line of a demo proxy's /stats is a statistic; its clusters' counters add up (2xx + 5xx
    = requests), the BlackHoleCluster sends nothing upstream; a level set is the pod's alone, as a
    proxy keeps it until it restarts."""
    from meshdesk.mesh.envoy import parse_stats
    from meshdesk.sources.demo import DemoCluster

    demo = DemoCluster(clock=lambda: 1_700_000_000.0)
    pods = [(w.namespace, p.name) for w in demo._workloads if w.name in ("productpage-v1", "reviews-v2")
            for p in w.pods]
    (ns, pod), (other_ns, other) = pods[0], pods[-1]
    parsed = parse_stats(demo.stats(ns, pod))
    values = {s.name: s.value for s in parsed.stats}
    assert parsed.skipped == 0 and len(values) > 50 and values["server.live"] == "1"
    reviews = "cluster.outbound|9080||reviews.shop.svc.cluster.local"
    assert int(values[f"{reviews}.upstream_rq_2xx"]) + int(values[f"{reviews}.upstream_rq_5xx"]) == \
        int(values[f"{reviews}.upstream_rq_total"])
    assert not any(n.startswith("cluster.BlackHoleCluster.upstream_rq") for n in values)
    assert any(v.startswith("P0(") for v in values.values())

    assert set(demo.log_levels(ns, pod).values()) == {"warning"}
    demo.set_log_level(ns, pod, "trace")
    assert set(demo.log_levels(ns, pod).values()) == {"trace"}
    assert set(demo.log_levels(other_ns, other).values()) == {"warning"}


def test_plain_text_tcp_into_a_strict_workload_fails_as_envoy_reports_it(demo: DemoCluster) -> None:
    """TLS mode DISABLE to a STRICT workload failed HTTP requests but still showed TCP bytes flowing and
    connections served. The server's proxy closes each plain-text connection before a byte passes: only
    the client's proxy reports, connections opened and closed with UF,URX (an upstream connection
    failure, its one connect attempt used up), no bytes, so the graph has no TCP traffic there. The shop's
    mongodb runs without a sidecar (it takes the plain text, rightly); here it is given one."""
    from meshdesk.sources.demo import traffic as sim

    sec = "security.istio.io/v1"
    put(demo, IstioObject("DestinationRule", "mongodb", "shop",
                          spec={"host": "mongodb", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}))

    def tcp(strict: bool) -> list[Sample]:
        put(demo, IstioObject("PeerAuthentication", "default", "shop", api_version=sec,
                              spec={"mtls": {"mode": "STRICT" if strict else "PERMISSIVE"}}))
        inv = snap(demo).inventory
        assert inv is not None
        config = sim.Config(inv.istio)
        key = ("shop", "mongodb-v1")
        config.specs[key] = replace(config.specs[key], sidecar=True)
        return [s for s in sim.simulate(config, 7, T0, 60.0) if s.metric in (tm.TCP_SENT, tm.TCP_RECEIVED, tm.TCP_OPENED, tm.TCP_CLOSED)
                and s.labels.get("destination_workload") == "mongodb-v1"]

    served = tcp(strict=False)  # PERMISSIVE: the plain text gets through, the server says so
    assert {(s.labels["reporter"], s.labels["connection_security_policy"], s.labels["response_flags"])
            for s in served} == {("source", "unknown", "-"), ("destination", "none", "-")}
    assert total(served, lambda s: s.metric == tm.TCP_SENT) > 0
    refused = tcp(strict=True)
    assert refused and {(s.metric, s.labels["reporter"], s.labels["response_flags"]) for s in refused} == {
        (tm.TCP_OPENED, "source", "UF,URX"), (tm.TCP_CLOSED, "source", "UF,URX")}
    opened = total(refused, lambda s: s.metric == tm.TCP_OPENED)
    assert opened > 0 and total(refused, lambda s: s.metric == tm.TCP_CLOSED) == pytest.approx(opened)
    g = build(Snapshot(GraphRequest(namespaces=("shop",)), refused))
    assert not [e for e in g.edges.values() if e.rates.get("tcp", 0.0) > 0]


# -- authorization in the ambient namespace --------------------------------------------------------


def _authz(name: str, namespace: str, spec: dict[str, object]) -> IstioObject:
    return IstioObject("AuthorizationPolicy", name, namespace, api_version="security.istio.io/v1", spec=spec)


def _travel_graph(demo: DemoCluster) -> TrafficGraph:
    return build(snap(demo, ["travel"], graphType="workload"))


def _edge_codes(graph: TrafficGraph, source: str, target: str) -> dict[str, float]:
    """The response codes (percent of requests) on the HTTP edges from workload ``source`` to service ``target``."""
    out: dict[str, float] = {}
    for e in graph.edges.values():
        if graph.nodes[e.source].workload == source and graph.nodes[e.target].service == target \
                and e.protocol == "http":
            for code, detail in e.responses.items():
                out[code] = out.get(code, 0.0) + sum(detail.flags.values())
    return out


def test_a_policy_attached_to_an_ambient_service_is_enforced_by_its_waypoint(demo: DemoCluster) -> None:
    """QA s20: in the ambient namespace a deny-all attached to the flights Service (targetRefs) changed
    nothing: search-v1 -> flights kept succeeding. The waypoint enforces it: 403, L7 rules included."""
    before = requests(snap(demo, ["travel"]).samples, source_workload="search-v1", destination_service_name="flights")
    assert before and "403" not in {s.labels["response_code"] for s in before}
    demo.apply(_authz("flights-deny-all", "travel", {"targetRefs": [{"kind": "Service", "group": "", "name": "flights"}]}))
    out = requests(snap(demo, ["travel"]).samples, source_workload="search-v1", destination_service_name="flights")
    assert out and {(s.labels["response_code"], s.labels["reporter"]) for s in out} == {("403", "waypoint")}
    codes = _edge_codes(_travel_graph(demo), "search-v1", "flights")
    assert set(codes) == {"403"}, codes
    # the denied requests never reach flights: no bytes from the waypoint to flights-v1
    tcp = [s for s in snap(demo, ["travel"]).samples if s.metric == tm.TCP_SENT
           and s.labels["source_workload"] == "waypoint" and s.labels["destination_workload"] == "flights-v1"]
    assert not tcp
    # an L7 rule is the waypoint's to read: only POSTs denied, and search only GETs
    demo.delete("AuthorizationPolicy", "travel", "flights-deny-all")
    demo.apply(_authz("flights-no-post", "travel", {
        "targetRefs": [{"kind": "Service", "group": "", "name": "flights"}], "action": "DENY",
        "rules": [{"to": [{"operation": {"methods": ["POST"]}}]}]}))
    assert "403" not in _edge_codes(_travel_graph(demo), "search-v1", "flights")
    # attached to the waypoint itself: every request through it
    demo.apply(_authz("waypoint-deny-all", "travel", {
        "targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}]}))
    graph = _travel_graph(demo)
    assert set(_edge_codes(graph, "traveller", "search")) == {"403"}
    assert set(_edge_codes(graph, "search-v1", "flights")) == set()  # search, never reached, asks nothing


def test_a_selector_policy_in_an_ambient_namespace_is_enforced_by_ztunnel(demo: DemoCluster) -> None:
    """QA s20: L4 policies selecting an ambient workload were ignored. Its ztunnel enforces them on the
    connection from the waypoint, whose identity it sees: a denial is a refused connection (ztunnel's
    DENY), which the waypoint answers with 503 UF; a rule naming HTTP attributes fails safe."""
    allow_search = _authz("flights-from-search", "travel", {
        "selector": {"matchLabels": {"app": "flights"}}, "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/travel/sa/search"]}}]}]})
    allow_search = demo.apply(allow_search)
    samples = snap(demo, ["travel"]).samples
    out = requests(samples, source_workload="search-v1", destination_service_name="flights")
    assert out and {(s.labels["response_code"], s.labels["response_flags"]) for s in out} == {("503", "UF")}
    denied = [s for s in samples if s.metric == tm.TCP_OPENED and s.labels.get("response_flags") == "DENY"]
    assert {(s.labels["source_workload"], s.labels["destination_workload"], s.labels["reporter"]) for s in denied} \
        == {("waypoint", "flights-v1", "destination")}
    assert set(_edge_codes(_travel_graph(demo), "search-v1", "flights")) == {"503"}
    # allowing the waypoint's identity lets the requests through again
    allow_search.spec["rules"] = [{"from": [{"source": {"principals": ["cluster.local/ns/travel/sa/waypoint"]}}]}]
    allow_search = demo.apply(allow_search)
    assert "503" not in {s.labels["response_code"] for s in requests(
        snap(demo, ["travel"]).samples, source_workload="search-v1", destination_service_name="flights",
        response_flags="UF")}
    # ztunnel reads no HTTP: an ALLOW rule naming a method allows nothing, a DENY rule's method is dropped
    allow_search.spec["rules"] = [{"to": [{"operation": {"methods": ["GET"]}}]}]
    demo.apply(allow_search)
    assert set(_edge_codes(_travel_graph(demo), "search-v1", "flights")) == {"503"}
    demo.delete("AuthorizationPolicy", "travel", "flights-from-search")
    demo.apply(_authz("flights-no-post", "travel", {
        "selector": {"matchLabels": {"app": "flights"}}, "action": "DENY",
        "rules": [{"to": [{"operation": {"methods": ["POST"], "ports": ["8080"]}}]}]}))
    assert set(_edge_codes(_travel_graph(demo), "search-v1", "flights")) == {"503"}
    # the traveller's calls into search are not touched by a policy on flights
    assert "200" in _edge_codes(_travel_graph(demo), "traveller", "search")


def test_passthrough_telemetry_names_the_host_the_client_asked_for(demo: DemoCluster) -> None:
    """QA s20: the demo's requests through PassthroughCluster said destination_service=PassthroughCluster,
    where Istio reports the request's host (Kiali keeps it on the edge): the Sidecar dialog's "these
    hosts would be blocked by REGISTRY_ONLY" could not name the payments API."""
    from meshdesk.mesh.security import passthrough_calls

    demo.delete("ServiceEntry", "shop", "payments-api")
    s = snap(demo, ["shop"])
    out = requests(s.samples, source_workload="productpage-v1", destination_service_name="PassthroughCluster")
    assert out and {x.labels["destination_service"] for x in out} == {"api.payments.example.com"}
    graph = build(s)
    passthrough = [n for n in graph.nodes.values() if n.service == "PassthroughCluster"]
    assert len(passthrough) == 1  # one PassthroughCluster node, the host on its edge
    assert s.inventory is not None
    assert passthrough_calls(graph, "shop", s.inventory.workloads) == (["api.payments.example.com"], ["productpage-v1"])


# -- Sidecars: what a proxy may reach ---------------------------------------------------------------


def _sidecar(name: str, namespace: str, spec: dict[str, object]) -> IstioObject:
    return IstioObject("Sidecar", name, namespace, spec=spec)


def _edges_from(graph: TrafficGraph, workload: str) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """(target service or workload, protocol) -> code -> flags -> percent, for the edges out of ``workload``."""
    return {(graph.nodes[e.target].service or graph.nodes[e.target].workload, e.protocol):
            {c: dict(d.flags) for c, d in e.responses.items()}
            for e in graph.edges.values() if graph.nodes[e.source].workload == workload}


def test_registry_only_sends_unregistered_hosts_to_the_blackhole(demo: DemoCluster) -> None:
    """QA s20: in shop, without the payments ServiceEntry and with a REGISTRY_ONLY Sidecar,
    productpage -> PassthroughCluster kept succeeding. Istio's proxy answers 502 (BlackHoleCluster)."""
    from meshdesk.sources.demo.mesh import default_istio_config

    demo.delete("ServiceEntry", "shop", "payments-api")
    demo.apply(_sidecar("default", "shop", {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert ("PassthroughCluster", "http") not in edges
    assert edges[("BlackHoleCluster", "http")] == {"502": {"-": pytest.approx(100.0)}}
    assert "200" in edges[("details", "http")]  # mesh services are in the registry
    out = requests(snap(demo, ["shop"]).samples, destination_service_name="BlackHoleCluster")
    assert {s.labels["destination_service"] for s in out} == {"api.payments.example.com"}
    # with its ServiceEntry back, the host is registered again
    demo.apply(next(o for o in default_istio_config() if o.name == "payments-api"))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert ("BlackHoleCluster", "http") not in edges
    # a Sidecar selecting another workload leaves productpage alone; the root namespace's applies to all
    demo.delete("Sidecar", "shop", "default")
    demo.delete("ServiceEntry", "shop", "payments-api")
    demo.apply(_sidecar("ratings-only", "shop", {"workloadSelector": {"labels": {"app": "ratings"}},
                                                 "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert ("PassthroughCluster", "http") in edges and ("BlackHoleCluster", "http") not in edges
    demo.apply(_sidecar("default", "istio-system", {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert ("BlackHoleCluster", "http") in edges


def test_a_service_the_sidecar_does_not_import_is_reached_through_passthrough(demo: DemoCluster) -> None:
    """QA s20: Sidecar egress hosts were ignored. A service they do not import is unknown to the proxy:
    the request goes through PassthroughCluster as plain text (a STRICT server refuses it: 503 UC), or
    with REGISTRY_ONLY to BlackHoleCluster; a VirtualService for it is not applied."""
    demo.apply(_sidecar("default", "shop", {"egress": [{"hosts": ["./reviews.shop.svc.cluster.local",
                                                                  "istio-system/*"]}]}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert ("details", "http") not in edges and ("inventory", "grpc") not in edges
    assert set(edges[("PassthroughCluster", "grpc")]) == {"503"}
    assert "UC" in edges[("PassthroughCluster", "http")]["503"]
    assert "200" in edges[("reviews", "http")]  # imported: routed as before
    samples = snap(demo, ["shop"]).samples
    out = requests(samples, source_workload="productpage-v1", destination_service_name="PassthroughCluster",
                   request_protocol="http")
    assert {s.labels["destination_service"] for s in out} == {"details.shop.svc.cluster.local",
                                                               "api.payments.example.com"}
    assert not requests(samples, destination_workload="details-v1")  # refused before a request was read
    # a server that takes plain text (hello has no PeerAuthentication) serves it, not knowing the client
    demo.apply(_sidecar("default", "hello", {"egress": [{"hosts": ["istio-system/*"]}]}))
    samples = snap(demo, ["hello"]).samples
    sent = requests(samples, source_workload="sleep", reporter="source")
    assert sent and {(s.labels["destination_service_name"], s.labels["response_code"]) for s in sent} \
        == {("PassthroughCluster", "200")}
    served = requests(samples, destination_workload="helloworld-v1", reporter="destination",
                      source_workload="unknown")
    assert served and {s.labels["connection_security_policy"] for s in served} == {"none"}
    # with REGISTRY_ONLY the same call goes nowhere, and the reviews VirtualService is no longer seen
    demo.apply(_sidecar("strict-egress", "shop", {"workloadSelector": {"labels": {"app": "productpage"}},
                                                  "egress": [{"hosts": ["./details"]}],
                                                  "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert "200" in edges[("details", "http")]
    assert set(edges[("BlackHoleCluster", "http")]) == {"502"}
    assert ("reviews", "http") not in edges


def test_custom_policies_ask_the_demos_read_only_authorizer(demo: DemoCluster) -> None:
    """QA s20: CUSTOM AuthorizationPolicies were ignored. The demo's external authorizer (ext-authz in
    its mesh config) allows GET and HEAD and refuses other methods (403, UAEX); a provider the mesh
    config does not declare denies what the policy matches, as istiod does."""
    def productpage(samples: list[Sample]) -> dict[tuple[str, str, str], float]:
        out: dict[tuple[str, str, str], float] = {}
        for s in requests(samples, destination_workload="productpage-v1", reporter="destination"):
            key = (s.labels["request_operation"], s.labels["response_code"], s.labels["response_flags"])
            out[key] = out.get(key, 0.0) + s.value
        return out

    custom = _authz("ext-check", "shop", {"selector": {"matchLabels": {"app": "productpage"}}, "action": "CUSTOM",
                                          "provider": {"name": "ext-authz"}, "rules": [{"to": [{"operation": {
                                              "paths": ["/api/*"]}}]}]})
    custom = demo.apply(custom)
    seen = productpage(snap(demo, ["shop"]).samples)
    assert {k[1:] for k in seen if k[0] == "POST /api/v1/orders"} == {("403", "UAEX")}
    assert all(k[1] != "403" for k in seen if k[0] != "POST /api/v1/orders")  # reads pass, as does what it does not match
    graph = build(snap(demo, ["shop"], graphType="workload"))
    into = [e for e in graph.edges.values() if graph.nodes[e.target].service == "productpage" and e.protocol == "http"]
    assert any("403" in e.responses for e in into)
    # a provider the mesh config does not declare: what the policy matches is denied
    custom.spec["provider"] = {"name": "opa"}
    demo.apply(custom)
    seen = productpage(snap(demo, ["shop"]).samples)
    api = {k[1:] for k in seen if k[0].split(" ", 1)[1].startswith("/api/")}
    assert api == {("403", "-")}
    assert ("GET /productpage", "403", "-") not in seen
    # in the ambient namespace the waypoint asks the authorizer too; search only reads
    ext = demo.apply(_authz("flights-ext", "travel", {
        "targetRefs": [{"kind": "Service", "group": "", "name": "flights"}], "action": "CUSTOM",
        "provider": {"name": "ext-authz"}, "rules": [{}]}))
    assert "403" not in _edge_codes(_travel_graph(demo), "search-v1", "flights")
    ext.spec["provider"] = {"name": "opa"}
    demo.apply(ext)
    assert set(_edge_codes(_travel_graph(demo), "search-v1", "flights")) == {"403"}


def test_the_demo_proxys_config_dump_follows_its_sidecar(demo: DemoCluster) -> None:
    """QA s20: the demo's Envoy config dump listed every service's cluster and sent unknown hosts to
    PassthroughCluster whatever the workload's Sidecar said, beside traffic that follows it."""
    def dump() -> tuple[set[str], set[str], str]:
        inv = snap(demo, ["shop"]).inventory
        assert inv is not None
        pod = next(p for w in inv.workloads if w.name == "productpage-v1" for p in w.pods)
        configs = demo.config_dump("shop", pod.name)["configs"]
        clusters = {c["cluster"]["name"] for part in configs for c in part.get("dynamic_active_clusters", [])}
        vhosts = {v["name"] for part in configs for r in part.get("dynamic_route_configs", [])
                  for v in r["route_config"]["virtual_hosts"]}
        outbound = next(x["active_state"]["listener"] for part in configs for x in part.get("dynamic_listeners", [])
                        if x["name"] == "virtualOutbound")
        return clusters, vhosts, outbound["default_filter_chain"]["filters"][0]["typed_config"]["cluster"]

    clusters, vhosts, unknown = dump()
    assert "outbound|9080||details.shop.svc.cluster.local" in clusters and "allow_any" in vhosts
    assert unknown == "PassthroughCluster"
    demo.apply(_sidecar("default", "shop", {"egress": [{"hosts": ["./reviews"]}],
                                            "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}))
    clusters, vhosts, unknown = dump()
    assert "outbound|9080||reviews.shop.svc.cluster.local" in clusters
    assert not any("details" in c or "payments" in c for c in clusters)
    assert "block_all" in vhosts and "allow_any" not in vhosts and unknown == "BlackHoleCluster"


def test_a_sidecar_shapes_plain_tcp_too(demo: DemoCluster) -> None:
    """QA s20: ratings' TCP connections to its database ignored its Sidecar. Not imported, mongodb is
    reached through PassthroughCluster (it has no sidecar to refuse plain text); with REGISTRY_ONLY each
    connection goes to BlackHoleCluster and no byte gets through."""
    def tcp(metric: str) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for s in snap(demo, ["shop"]).samples:
            if s.metric == metric and s.labels.get("source_workload") == "ratings-v1":
                key = (s.labels["destination_service_name"], s.labels["response_flags"])
                out[key] = out.get(key, 0.0) + s.value
        return out

    assert set(tcp(tm.TCP_SENT)) == {("mongodb", "-")}
    sidecar = demo.apply(_sidecar("ratings", "shop", {"workloadSelector": {"labels": {"app": "ratings"}},
                                                      "egress": [{"hosts": ["istio-system/*"]}]}))
    assert set(tcp(tm.TCP_SENT)) == {("PassthroughCluster", "-")}
    sidecar.spec["outboundTrafficPolicy"] = {"mode": "REGISTRY_ONLY"}
    demo.apply(sidecar)
    assert not tcp(tm.TCP_SENT)
    assert set(tcp(tm.TCP_OPENED)) == {("BlackHoleCluster", "UH")}


def test_a_sidecar_egress_listener_with_a_port_decides_that_ports_calls(demo: DemoCluster) -> None:
    """QA s20: a Sidecar's egress listeners were merged whatever their port. A listener naming a port
    decides the calls on it; the listener naming none, the others."""
    demo.apply(_sidecar("default", "shop", {"egress": [
        {"port": {"number": 9080, "protocol": "HTTP", "name": "http"}, "hosts": ["./details"]},
        {"hosts": ["*/*"]}]}))
    edges = _edges_from(build(snap(demo, ["shop"], graphType="workload")), "productpage-v1")
    assert "200" in edges[("details", "http")]
    assert ("reviews", "http") not in edges  # on 9080 only details is imported: reviews goes out unrouted
    assert "UC" in edges[("PassthroughCluster", "http")]["503"]
    assert "0" in edges[("inventory", "grpc")]  # gRPC OK on 50051: the catch-all listener imports everything
