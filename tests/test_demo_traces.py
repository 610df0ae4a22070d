"""The demo mesh's traces: Istio's spans for the demo's own traffic, following its routing, faults and
policies as the graph does, found as Jaeger's query finds them, the same trace for the same id."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh import traces as tr
from meshdesk.mesh.inventory import IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo.traces import SAMPLING
from meshdesk.sources.perf import tracing_source_for

NOW = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


def _demo() -> tuple[DemoCluster, Clock]:
    clock = Clock()
    return DemoCluster(clock=clock), clock


def _find(demo: DemoCluster, ns: str, name: str, *, kind: str = tr.TARGET_APP, app: str = "", seconds: float = 900,
          end: float | None = None, **kw: Any) -> tr.TraceSet:
    end = demo._clock() if end is None else end
    target = tr.TraceTarget(kind, ns, name, app or name)
    return demo.find_traces(tr.TraceQuery(target, end - seconds, end, **kw))


def _servers(traces: list[tr.Trace], app: str) -> list[tr.Span]:
    return [s for t in traces for s in t.spans if s.kind == tr.KIND_SERVER and s.tags.get("istio.canonical_service") == app]


def _apply(demo: DemoCluster, kind: str, ns: str, name: str, spec: dict[str, Any]) -> None:
    current = next((o for o in demo.snapshot(GraphRequest(namespaces=(ns,))).inventory.istio  # type: ignore[union-attr]
                    if (o.kind, o.namespace, o.name) == (kind, ns, name)), None)
    demo.apply(IstioObject(kind=kind, name=name, namespace=ns, spec=spec,
                           resource_version=current.resource_version if current else ""))


def test_spans_are_istios_client_and_server_spans_of_each_hop_on_the_demos_pods() -> None:
    demo, _ = _demo()
    found = _find(demo, "shop", "productpage", limit=200)
    assert found.service == "productpage.shop" and found.limit == 200 and 10 <= len(found.traces) <= 200
    assert found.fetched == len(found.traces)
    inventory = demo.snapshot(GraphRequest(namespaces=("shop", "istio-system", "hello"))).inventory
    assert inventory is not None
    pods = {(p.name, p.ip) for w in inventory.workloads for p in w.pods}
    starts = [t.start_us for t in found.traces]
    assert starts == sorted(starts, reverse=True)  # newest first
    for trace in found.traces:
        ids = {s.span_id for s in trace.spans}
        assert len(ids) == len(trace.spans)
        assert all(s.parent_id in ids for s in trace.spans if s is not trace.root)  # every parent is there
        root = trace.root
        assert root is not None and root.service == "istio-ingressgateway.istio-system" and root.kind == tr.KIND_CLIENT
        assert root.tags["node_id"].startswith("router~")
        by_id = {s.span_id: s for s in trace.spans}
        for s in trace.spans:
            t = s.tags
            assert t["component"] == "proxy" and t["istio.mesh_id"] == "cluster.local"
            assert t["guid:x-request-id"] == root.tags["guid:x-request-id"]
            kind, ip, pod_ns, domain = t["node_id"].split("~")
            pod, _, ns = pod_ns.rpartition(".")
            assert (pod, ip) in pods and domain == f"{ns}.svc.cluster.local" and t["istio.namespace"] == ns
            assert s.service == f"{t['istio.canonical_service']}.{ns}"
            for key in ("http.method", "http.url", "http.protocol", "http.status_code", "response_flags",
                        "upstream_cluster", "peer.address", "request_size", "response_size", "istio.canonical_revision"):
                assert t.get(key), (key, t)
            if s.kind == tr.KIND_SERVER:  # the callee's sidecar, a child of its caller's client span
                parent = by_id[s.parent_id]
                assert parent.kind == tr.KIND_CLIENT and parent.operation == s.operation
                port = s.operation.rsplit(":", 1)[1].split("/")[0]
                assert t["upstream_cluster"] == f"inbound|{port}||"
                assert t["peer.address"] == parent.tags["node_id"].split("~")[1]
            if s.error:
                assert t["error"] == "true"
    reviews = [s for t in found.traces for s in t.spans if s.operation == "reviews.shop.svc.cluster.local:9080/*"
               and s.kind == tr.KIND_CLIENT]
    assert reviews and all(s.service == "productpage.shop" for s in reviews)
    assert {s.tags["upstream_cluster"] for s in reviews} <= {f"outbound|9080|v{i}|reviews.shop.svc.cluster.local"
                                                              for i in (1, 2, 3)}
    # the TCP database has no span, the external API only its caller's
    every = [s for t in found.traces for s in t.spans]
    assert not any("mongodb" in s.operation for s in every)
    payments = [s for s in every if s.operation.startswith("api.payments.example.com")]
    assert all(s.kind == tr.KIND_CLIENT for s in payments)


@pytest.mark.parametrize(("ns", "workload", "app"), [("shop", "productpage-v1", "productpage"),
                                                      ("shop", "reviews-v2", "reviews"), ("shop", "ratings-v1", "ratings"),
                                                      ("hello", "helloworld-v1", "helloworld"),
                                                      ("travel", "search-v1", "search")])
def test_span_durations_are_those_the_metrics_show(ns: str, workload: str, app: str) -> None:
    from meshdesk.mesh import telemetry as tm

    demo, _ = _demo()
    samples = demo.snapshot(GraphRequest(namespaces=(ns,), duration=3600, queryTime=int(NOW)), every_series=True).samples
    charted: dict[str, list[float]] = {}
    for sample in samples:
        labels = sample.labels
        if sample.metric == tm.REQUEST_DURATION and labels.get("destination_workload") == workload \
                and labels.get("reporter") in ("destination", "waypoint") and labels.get("source_workload") != "unknown":
            charted.setdefault(labels[tm.STAT_LABEL], []).append(sample.value)
    found = _find(demo, ns, workload, kind=tr.TARGET_WORKLOAD, app=app, seconds=3600, limit=500).traces
    # the server's own span (a waypoint's span towards it in the ambient namespace)
    spans = [s.duration_us / 1000 for t in found for s in t.spans
             if (s.kind == tr.KIND_SERVER and s.node.pod.startswith(workload + "-"))
             or (s.kind == tr.KIND_CLIENT and s.tags.get("istio.destination_workload") == workload)]
    assert len(spans) > 30
    for stat, q in (("0.5", 0.5), ("0.95", 0.95)):
        expected = max(charted[stat])
        assert 0.6 * expected <= tr.percentile(spans, q) <= 1.4 * expected, (stat, expected, tr.percentile(spans, q))


def test_reviews_traces_follow_the_routing_weights_and_a_shift_shows_in_later_traces() -> None:
    demo, clock = _demo()
    found = _find(demo, "shop", "reviews", seconds=3600, limit=500)
    versions = Counter(s.tags["istio.canonical_revision"] for s in _servers(found.traces, "reviews"))
    total = sum(versions.values())
    assert total > 200
    for version, weight in (("v1", 0.5), ("v2", 0.3), ("v3", 0.2)):
        assert abs(versions[version] / total - weight) < 0.07, versions
    # only v2 and v3 ask ratings
    callers = {by.tags["istio.canonical_revision"] for t in found.traces for by in t.spans
               if by.kind == tr.KIND_CLIENT and by.operation.startswith("ratings.shop")}
    assert callers == {"v2", "v3"}
    _apply(demo, "VirtualService", "shop", "reviews",
           {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v3"}}]}]})
    changed = clock.t
    clock.t += 900
    after = _find(demo, "shop", "reviews", seconds=900, end=clock.t, limit=500)
    late = [s for s in _servers(after.traces, "reviews") if s.start_us > changed * 1e6 + 1e6]
    assert late and {s.tags["istio.canonical_revision"] for s in late} == {"v3"}
    # what happened before the change stays as it was
    assert found.traces[0] == demo.trace(found.traces[0].trace_id)


def test_a_mirrors_copies_show_as_its_server_spans_under_the_callers_client_span() -> None:
    """All of reviews' requests to v1, half of them mirrored to v3: later traces show v3's server spans beside
    v1's, under the same client span of productpage (whose outcome is v1's), their URL's host suffixed
    "-shadow" as Envoy names a copy; about one copy for two requests."""
    demo, clock = _demo()
    _apply(demo, "VirtualService", "shop", "reviews",
           {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}],
                                            "mirror": {"host": "reviews", "subset": "v3"},
                                            "mirrorPercentage": {"value": 50}}]})
    changed = clock.t
    clock.t += 900
    after = _find(demo, "shop", "reviews", seconds=900, end=clock.t, limit=500)
    late = [s for s in _servers(after.traces, "reviews") if s.start_us > changed * 1e6 + 1e6]
    versions = Counter(s.tags["istio.canonical_revision"] for s in late)
    assert set(versions) == {"v1", "v3"} and versions["v1"] > 100, versions
    assert abs(versions["v3"] / versions["v1"] - 0.5) < 0.12, versions
    for trace in after.traces:
        by_id = {s.span_id: s for s in trace.spans}
        for span in trace.spans:
            if span.kind != tr.KIND_SERVER or span.tags.get("istio.canonical_service") != "reviews" \
                    or span.start_us <= changed * 1e6 + 1e6:
                continue
            parent = by_id[span.parent_id]
            assert parent.kind == tr.KIND_CLIENT and parent.tags["istio.canonical_service"] == "productpage"
            shadow = span.tags["istio.canonical_revision"] == "v3"
            assert ("-shadow" in span.tags["http.url"]) == shadow, span.tags["http.url"]


def test_a_route_to_another_service_names_that_service_and_its_port() -> None:
    demo, clock = _demo()
    _apply(demo, "VirtualService", "hello", "helloworld", {"hosts": ["helloworld"], "http": [{
        "route": [{"destination": {"host": "details.shop.svc.cluster.local"}}]}]})
    clock.t += 900
    found = _find(demo, "hello", "sleep", seconds=600, limit=500)
    hops = [s for t in found.traces for s in t.spans]
    assert hops and {(s.service, s.kind, s.operation, s.tags["upstream_cluster"]) for s in hops} == {
        ("sleep.hello", tr.KIND_CLIENT, "details.shop.svc.cluster.local:9080/*",
         "outbound|9080||details.shop.svc.cluster.local"),
        ("details.shop", tr.KIND_SERVER, "details.shop.svc.cluster.local:9080/*", "inbound|9080||")}
    assert all(s.tags["http.url"] == "http://helloworld:5000/hello" for s in hops)  # what the client asked for


def test_a_sidecar_that_does_not_import_a_service_sends_it_through_passthrough_or_the_blackhole() -> None:
    demo, clock = _demo()
    egress = {"egress": [{"hosts": ["./details.shop.svc.cluster.local", "istio-system/*"]}],
              "workloadSelector": {"labels": {"app": "productpage"}}}
    _apply(demo, "Sidecar", "shop", "productpage", egress)
    clock.t += 900

    def reviews_calls() -> list[tr.Span]:
        found = _find(demo, "shop", "productpage", seconds=600, end=clock.t, limit=500)
        return [s for t in found.traces for s in t.spans if s.operation.startswith("reviews.")]

    # plain text to a STRICT server: its proxy closes the connection, the client's answers 503 UC
    calls = reviews_calls()
    assert calls and {(s.kind, s.status_code, s.response_flags, s.tags["upstream_cluster"]) for s in calls} == {
        (tr.KIND_CLIENT, 503, "UC", "PassthroughCluster")}
    _apply(demo, "Sidecar", "shop", "productpage", {**egress, "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}})
    clock.t += 900
    calls = reviews_calls()
    assert calls and {(s.kind, s.status_code, s.tags["upstream_cluster"]) for s in calls} == {
        (tr.KIND_CLIENT, 502, "BlackHoleCluster")}


def test_a_routing_loop_gives_traces_of_bounded_size() -> None:
    from meshdesk.sources.demo.traces import MAX_DEPTH, MAX_TRACE_SPANS

    demo, clock = _demo()
    _apply(demo, "VirtualService", "travel", "flights", {"hosts": ["flights"], "http": [{
        "route": [{"destination": {"host": "search"}}]}]})
    clock.t += 900
    found = _find(demo, "travel", "search", seconds=300, limit=20)
    # (the hops under way when the budget runs out still end with their spans)
    assert found.traces and all(len(t.spans) <= MAX_TRACE_SPANS + 2 * (MAX_DEPTH + 2) for t in found.traces)
    assert max(len(t.spans) for t in found.traces) > 50  # search calls itself, again and again
    for trace in found.traces:
        ids = {s.span_id for s in trace.spans}
        assert all(s.parent_id in ids for s in trace.spans if s is not trace.root)


def test_a_fault_applied_shows_as_errors_with_its_flags_in_later_traces() -> None:
    demo, clock = _demo()
    before = _find(demo, "shop", "reviews", seconds=600, errors_only=True, limit=500)
    assert not any(s.response_flags == "FI" for t in before.traces for s in t.spans)
    _apply(demo, "VirtualService", "shop", "ratings", {"hosts": ["ratings"], "http": [{
        "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 100}},
                  "delay": {"fixedDelay": "2s", "percentage": {"value": 0}}},
        "route": [{"destination": {"host": "ratings"}}]}]})
    clock.t += 600
    # the caller's traces: the requests never reach ratings, whose proxy reports nothing now
    assert _find(demo, "shop", "ratings", seconds=500).traces == []
    after = _find(demo, "shop", "reviews", seconds=600, errors_only=True, limit=500)
    aborted = [s for t in after.traces for s in t.spans if s.response_flags == "FI"]
    assert aborted and len(after.traces) >= 5
    for s in aborted:  # the caller's proxy answers: no server span, an error
        assert s.kind == tr.KIND_CLIENT and s.status_code == 503 and s.error and s.tags["error"] == "true"
        assert s.service == "reviews.shop" and s.operation == "ratings.shop.svc.cluster.local:9080/*"
    assert not _servers(after.traces, "ratings")
    assert all(t.errors for t in after.traces)


def test_a_slow_backend_overloads_a_circuit_breaker_503_uo_and_a_subset_without_pods_is_503_uh() -> None:
    demo, clock = _demo()
    # reviews' pool is one connection; ratings held 5 s makes reviews v2/v3 answer that late
    _apply(demo, "DestinationRule", "shop", "reviews", {"host": "reviews", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}},
        {"name": "v3", "labels": {"version": "v3"}}],
        "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}})
    _apply(demo, "DestinationRule", "shop", "ratings", {"host": "ratings", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v9", "labels": {"version": "v9"}}]})
    _apply(demo, "VirtualService", "shop", "ratings", {"hosts": ["ratings"], "http": [{
        "fault": {"delay": {"fixedDelay": "5s", "percentage": {"value": 100}}},
        "route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})
    clock.t += 600
    flags = Counter(s.response_flags for t in _find(demo, "shop", "productpage", seconds=600, limit=500).traces
                    for s in t.spans if s.operation.startswith("reviews.") and s.kind == tr.KIND_CLIENT)
    assert flags["UO"] > 0  # turned away by productpage's proxy
    # the delay itself takes no connection: ratings' callers are held, never turned away
    held = Counter(s.response_flags for t in _find(demo, "shop", "reviews", seconds=600, limit=500).traces
                   for s in t.spans if s.operation.startswith("ratings.") and s.kind == tr.KIND_CLIENT)
    assert held["DI"] > 0 and not any("UO" in f for f in held)
    _apply(demo, "VirtualService", "shop", "ratings", {"hosts": ["ratings"], "http": [{
        "route": [{"destination": {"host": "ratings", "subset": "v9"}}]}]})
    clock.t += 600
    spans = [s for t in _find(demo, "shop", "reviews", seconds=500, limit=500).traces for s in t.spans
             if s.operation.startswith("ratings.")]
    assert spans and all((s.kind, s.status_code, s.response_flags) == (tr.KIND_CLIENT, 503, "UH") for s in spans)
    assert all(s.tags["upstream_cluster"] == "outbound|9080|v9|ratings.shop.svc.cluster.local" for s in spans)


def test_a_delay_makes_later_traces_slower_and_a_route_timeout_cuts_them_504_ut() -> None:
    demo, clock = _demo()
    _apply(demo, "VirtualService", "shop", "ratings", {"hosts": ["ratings"], "http": [{
        "fault": {"delay": {"fixedDelay": "2s", "percentage": {"value": 100}}},
        "route": [{"destination": {"host": "ratings"}}]}]})
    clock.t += 600
    slow = _find(demo, "shop", "reviews", seconds=500, limit=500, min_duration_ms=2000)
    calls = [s for t in slow.traces for s in t.spans if s.operation.startswith("ratings.") and s.kind == tr.KIND_CLIENT]
    assert calls and all(s.duration_us >= 2_000_000 and s.response_flags == "DI" for s in calls)
    assert len(slow.traces) > 10  # every request to ratings is held: every trace through it is that slow
    _apply(demo, "VirtualService", "shop", "reviews", {"hosts": ["reviews"], "http": [{
        "timeout": "500ms", "route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]})
    clock.t += 600
    spans = [s for t in _find(demo, "shop", "productpage", seconds=500, limit=500).traces for s in t.spans
             if s.operation.startswith("reviews.") and s.kind == tr.KIND_CLIENT]
    assert spans and all((s.status_code, s.response_flags, s.duration_us) == (504, "UT", 500_000) for s in spans)
    # reviews' proxy had not answered when productpage's gave up: its span says no response, the caller gone,
    # and ends when the caller reset the request
    ids = {s.span_id: s for s in spans}
    servers = [s for t in _find(demo, "shop", "reviews", seconds=500, limit=500).traces for s in t.spans
               if s.parent_id in ids and s.kind == tr.KIND_SERVER]
    assert servers and all((s.status_code, s.response_flags, s.error) == (0, "DC", True) for s in servers)
    assert all(s.end_us <= ids[s.parent_id].end_us for s in servers)


def test_a_search_stops_after_building_so_many_traces_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshdesk.sources.demo import traces as demo_traces

    demo, _ = _demo()
    monkeypatch.setattr(demo_traces, "MAX_BUILT", 300)
    found = _find(demo, "shop", "productpage", seconds=86400, limit=500, errors_only=True)
    assert len(found.traces) < 500 and found.notes and "narrow the time range" in found.notes[0]
    # the same search again (the dock's next refresh) builds only the traces it found, and goes further back
    again = _find(demo, "shop", "productpage", seconds=86400, limit=500, errors_only=True)
    assert [t.trace_id for t in again.traces[:len(found.traces)]] == [t.trace_id for t in found.traces]
    assert len(again.traces) > len(found.traces) and again.notes != found.notes
    assert again.traces[:len(found.traces)] == found.traces


def test_authorization_refusals_are_403_from_the_servers_proxy() -> None:
    demo, clock = _demo()
    _apply(demo, "AuthorizationPolicy", "shop", "ratings-deny", {"selector": {"matchLabels": {"app": "ratings"}},
                                                                  "action": "DENY", "rules": [{}]})
    _apply(demo, "AuthorizationPolicy", "shop", "productpage-gate", {
        "selector": {"matchLabels": {"app": "productpage"}}, "action": "CUSTOM",
        "provider": {"name": "ext-authz"}, "rules": [{}]})
    clock.t += 900
    found = _find(demo, "shop", "productpage", seconds=900, limit=500).traces
    ratings = _servers(found, "ratings")
    assert ratings and all((s.status_code, s.response_flags) == (403, "") for s in ratings)
    pages = _servers(found, "productpage")
    writes = [s for s in pages if s.tags["http.method"] == "POST"]
    reads = [s for s in pages if s.tags["http.method"] == "GET"]
    assert writes and all((s.status_code, s.response_flags) == (403, "UAEX") for s in writes)
    assert reads and all(s.status_code != 403 for s in reads)
    # the refused request reached no further: no span under its server span
    refused_ids = {s.span_id for s in writes}
    assert not any(s.parent_id in refused_ids for t in found for s in t.spans)


def test_ambient_traces_go_through_the_waypoint() -> None:
    demo, _ = _demo()
    found = _find(demo, "travel", "flights", limit=100)
    assert found.traces and found.service == "waypoint.travel"
    for trace in found.traces:
        assert {s.service for s in trace.spans} == {"waypoint.travel"}
        assert all(s.tags["node_id"].startswith("waypoint~") for s in trace.spans)
        ids = {s.span_id for s in trace.spans}
        assert all(s.parent_id in ids for s in trace.spans if s is not trace.root)
        hops = {(s.tags["istio.source_workload"], s.tags["istio.destination_workload"]) for s in trace.spans}
        assert hops == {("traveller", "search-v1"), ("search-v1", "flights-v1")}
        flights = [s for s in trace.spans if s.tags["istio.destination_canonical_service"] == "flights"]
        assert {s.kind for s in flights} == {tr.KIND_CLIENT, tr.KIND_SERVER}
        assert all(s.operation == "flights.travel.svc.cluster.local:8080/*" for s in flights)
    workload = _find(demo, "travel", "search-v1", kind=tr.TARGET_WORKLOAD, app="search", limit=100)
    assert workload.traces and all(any(s.tags.get("istio.destination_workload") == "search-v1" for s in t.spans)
                                   for t in workload.traces)


def test_a_route_from_the_gateway_into_the_ambient_namespace_gives_its_apps_those_traces() -> None:
    demo, clock = _demo()
    assert not any(t.root is not None and t.root.service.startswith("istio-ingressgateway")
                   for t in _find(demo, "travel", "search", limit=500).traces)
    _apply(demo, "VirtualService", "hello", "hello-ingress", {
        "hosts": ["*"], "gateways": ["istio-system/public-gateway"],
        "http": [{"match": [{"uri": {"prefix": "/hello"}}],
                  "route": [{"destination": {"host": "search.travel.svc.cluster.local", "port": {"number": 8080}}}]}]})
    clock.t += 900
    through = [t for t in _find(demo, "travel", "search", limit=500).traces
               if t.root is not None and t.root.service == "istio-ingressgateway.istio-system"]
    assert through
    for trace in through:  # the gateway's span, then search's calls through the waypoint
        assert trace.root is not None and trace.root.operation == "search.travel.svc.cluster.local:8080/*"
        assert any(s.tags.get("istio.source_workload") == "search-v1" for s in trace.spans)


def test_a_workload_target_keeps_the_traces_with_its_pods() -> None:
    demo, _ = _demo()
    app = _find(demo, "shop", "reviews", seconds=1800, limit=500)
    mine = _find(demo, "shop", "reviews-v2", kind=tr.TARGET_WORKLOAD, app="reviews", seconds=1800, limit=500)
    assert 0 < len(mine.traces) < len(app.traces) and mine.fetched == app.fetched
    inventory = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inventory is not None
    workload = inventory.workload("shop", "reviews-v2")
    assert workload is not None
    pods = {p.name for p in workload.pods}
    assert all(any(s.node.pod in pods for s in t.spans) for t in mine.traces)
    others = [t for t in app.traces if t.trace_id not in {m.trace_id for m in mine.traces}]
    assert others and not any(s.node.pod in pods for t in others for s in t.spans)
    # a restart gives the workload new pods: the traces after it name them
    demo.restart_workload("shop", "Deployment", "reviews-v2")
    demo._clock.t += 1800  # type: ignore[attr-defined]
    inventory = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inventory is not None
    new = {p.name for p in inventory.workload("shop", "reviews-v2").pods}  # type: ignore[union-attr]
    later = _find(demo, "shop", "reviews-v2", kind=tr.TARGET_WORKLOAD, app="reviews", seconds=600, limit=100)
    assert later.traces and all(any(s.node.pod in new for s in t.spans) for t in later.traces)


def test_the_same_id_gives_the_same_trace_and_an_unknown_id_none() -> None:
    demo, _ = _demo()
    found = _find(demo, "hello", "helloworld", limit=20)
    assert found.traces
    for trace in found.traces[:5]:
        assert demo.trace(trace.trace_id) == trace
        assert DemoCluster(clock=lambda: NOW + 5).trace(trace.trace_id) == trace  # a second demo: a replay
        assert DemoCluster(clock=lambda: NOW, seed=8).trace(trace.trace_id) is None  # another seed made none
    # a sidecar-less client: the server's span starts the trace, the client's pod its peer
    inventory = demo.snapshot(GraphRequest(namespaces=("hello",))).inventory
    assert inventory is not None
    checker = inventory.workload("hello", "uptime-checker")
    assert checker is not None
    unmeshed = [t.root for t in _find(demo, "hello", "helloworld", seconds=3600, limit=500).traces
                if t.root is not None and t.root.kind == tr.KIND_SERVER]
    assert unmeshed and all(s.service == "helloworld.hello" and s.tags["peer.address"] == checker.pods[0].ip
                            for s in unmeshed)
    trace_id = found.traces[0].trace_id
    for bad in ("", "0" * 32, trace_id[:-1] + ("0" if trace_id[-1] != "0" else "1"), "zz" * 16, trace_id + "00", None,
                42):
        assert demo.trace(bad) is None  # type: ignore[arg-type]
    future = DemoCluster(clock=lambda: NOW - 3600)
    assert future.trace(trace_id) is None  # not happened yet at that demo's clock


def test_the_query_filters_are_obeyed() -> None:
    demo, _ = _demo()
    window = _find(demo, "shop", "details", seconds=1200, limit=500)
    start, end = NOW - 1200, NOW
    assert window.traces and all(
        any(s.service == "details.shop" and start * 1e6 <= s.start_us <= end * 1e6 for s in t.spans)
        for t in window.traces)
    # about SAMPLING of what reaches details (0.9 calls per productpage request)
    assert 0.3 < len(window.traces) / (1200 * 11 * 0.9 * 0.9 * SAMPLING) < 3
    limited = _find(demo, "shop", "details", seconds=1200, limit=20)
    assert [t.trace_id for t in limited.traces] == [t.trace_id for t in window.traces[:20]] and limited.limited
    slow = _find(demo, "shop", "details", seconds=1200, limit=500, min_duration_ms=10)
    assert slow.traces and len(slow.traces) < len(window.traces)
    assert all(any(s.service == "details.shop" and s.duration_us >= 10_000 for s in t.spans) for t in slow.traces)
    errors = _find(demo, "shop", "productpage", seconds=6 * 3600, limit=50, errors_only=True)
    assert errors.traces and all(any(s.service == "productpage.shop" and s.error for s in t.spans)
                                 for t in errors.traces)
    # a past window holds that time's traces only
    past = _find(demo, "shop", "details", seconds=600, end=NOW - 3600, limit=500)
    assert past.traces and all(t.start_us <= (NOW - 3600) * 1e6 for t in past.traces)
    assert not {t.trace_id for t in past.traces} & {t.trace_id for t in window.traces}
    # a whole day: the newest traces, limit of them
    day = _find(demo, "shop", "productpage", seconds=86400, limit=500)
    assert len(day.traces) == 500 and day.traces[0].start_us >= (NOW - 300) * 1e6


def test_nothing_when_the_traffic_is_stopped_or_the_query_makes_no_sense() -> None:
    demo, _ = _demo()
    for start, end in ((NOW, NOW - 60), (float("nan"), NOW), (NOW + 3600, NOW + 7200)):
        target = tr.TraceTarget(tr.TARGET_APP, "shop", "reviews", "reviews")
        assert demo.find_traces(tr.TraceQuery(target, start, end)).traces == []
    assert _find(demo, "nowhere", "reviews").traces == []
    target = tr.TraceTarget(tr.TARGET_APP, "shop", "reviews", "reviews")
    for bad in (tr.TraceQuery(target, "soon", NOW),  # type: ignore[arg-type]
                tr.TraceQuery(target, NOW - 60, NOW, min_duration_ms=float("nan")),
                tr.TraceQuery(target, NOW - 60, NOW, min_duration_ms="slow")):  # type: ignore[arg-type]
        assert demo.find_traces(bad).traces == []
    assert _find(demo, "shop", "reviews", limit=0).traces  # no limit given: the default
    trace_id = _find(demo, "shop", "reviews").traces[0].trace_id
    demo.stop_traffic()
    assert _find(demo, "shop", "reviews").traces == [] and demo.trace(trace_id) is None


def test_the_tracing_source_of_the_demo_is_the_demo_and_of_anything_else_none() -> None:
    demo, _ = _demo()
    assert tracing_source_for(demo) is demo
    assert tracing_source_for(None) is None and tracing_source_for(object()) is None


@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_in_the_window_the_traces_dock_shows_the_demos_traces_of_the_selection(qtbot: QtBot) -> None:
    from tests.test_envoy_view import _demo_window_with_docks
    from tests.ui_helpers import DEMO_NOW, shown

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        graph = shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        perf.set_time(DEMO_NOW)  # the demo's clock is fixed: the dock's window ends there
        node = next(n for n in graph.nodes.values() if n.workload == "reviews-v2")
        w.view.select([node.id])
        with qtbot.waitSignal(perf.traces.loaded, timeout=20000) as got:
            perf.docks["Traces"].show()
        found = got.args[0]
        assert isinstance(found, tr.TraceSet) and found.traces
        assert all(any(s.node.pod.startswith("reviews-v2-") for s in t.spans) for t in found.traces)
        # a trace of the demo lights its path on the graph: its pods are the graph's workloads
        assert perf.show_trace(found.traces[0])
        chosen = {graph.nodes[i].workload for i in w.view.selected_ids() if i in graph.nodes}
        assert {"productpage-v1", "reviews-v2"} <= chosen
    finally:
        next(windows, None)


def test_a_workload_restarted_without_its_sidecar_reports_no_spans_from_then_on() -> None:
    """Injection turned off in shop and details restarted: its new pods have no proxy, so the traces
    after the restart have no span of details' own; those before keep theirs."""
    demo, clock = _demo()
    before = _find(demo, "shop", "productpage", seconds=600, limit=500).traces
    assert _servers(before, "details")
    demo.label_namespace("shop", {"istio-injection": "disabled"})
    demo.restart_workload("shop", "Deployment", "details-v1")
    clock.t += 600
    after = _find(demo, "shop", "productpage", seconds=500, limit=500).traces
    assert after and not _servers(after, "details")
    # productpage's proxy still reports its calls to details
    assert any(s.kind == tr.KIND_CLIENT and s.operation.startswith("details.") for t in after for s in t.spans)
    # the earlier window still has them: the traces keep the pods of their own time
    assert _servers(_find(demo, "shop", "productpage", seconds=600, end=clock.t - 600, limit=500).traces, "details")
