"""The traces core: Jaeger's JSON read into traces, and Kiali's rules for whose traces they are."""

from __future__ import annotations

import math

from meshdesk.mesh import traces as tr
from tests.trace_samples import bookinfo_trace, jaeger_answer

T0 = 1_700_000_000_000_000


def test_a_bookinfo_trace_reads_with_its_root_name_order_and_istio_tags() -> None:
    found = tr.parse_jaeger(jaeger_answer(bookinfo_trace(T0, reviews="v2")))
    assert found.skipped == 0 and len(found.traces) == 1
    trace = found.traces[0]
    assert trace.name == "istio-ingressgateway.istio-system: productpage.bookinfo.svc.cluster.local:9080/*"
    assert len(trace.spans) == 8
    assert trace.errors == 0
    assert trace.duration_us == (30 + 12 + 5) * 1000
    ordered = trace.ordered()
    # a parent before its children, depth by depth: gateway, productpage server, its two calls ...
    assert [d for d, _s in ordered] == [0, 1, 2, 3, 2, 3, 4, 5]
    assert [s.service for _d, s in ordered][:4] == ["istio-ingressgateway.istio-system", "productpage.bookinfo",
                                                   "productpage.bookinfo", "details.bookinfo"]
    server = ordered[5][1]
    assert server.kind == tr.KIND_SERVER
    assert server.node == tr.ProxyNode("bookinfo", "reviews-v2-7d9c-pqrst", "reviews", "v2", "sidecar")
    assert server.summary() == "GET /reviews/0 -> 200"
    assert ordered[0][1].node.proxy == "router"


def test_a_circuit_breaker_trip_is_an_error_with_its_flags() -> None:
    trace = tr.parse_jaeger(jaeger_answer(bookinfo_trace(T0, ratings_code=503))).traces[0]
    failed = [s for s in trace.spans if s.error]
    assert len(failed) == 1 and trace.errors == 1
    assert failed[0].summary() == "GET /ratings/0 -> 503 flags UO"
    assert failed[0].response_flags == "UO"
    s = tr.stats([trace, tr.parse_jaeger(jaeger_answer(bookinfo_trace(T0))).traces[0]])
    assert s.count == 2 and s.errors == 1


def test_traces_are_narrowed_to_a_workload_by_its_pods_and_to_a_service_by_its_host() -> None:
    v1, v2 = bookinfo_trace(T0, reviews="v1"), bookinfo_trace(T0 + 10, reviews="v2")
    found = tr.parse_jaeger(jaeger_answer(v1, v2))
    assert [t.trace_id for t in found.traces] == [v2["traceID"], v1["traceID"]]  # newest first
    mine = tr.for_target(found, tr.TraceTarget(tr.TARGET_WORKLOAD, "bookinfo", "reviews-v2", "reviews"))
    assert [t.trace_id for t in mine.traces] == [v2["traceID"]]
    # a pod of the same name in another namespace is not the workload's
    assert not tr.for_target(found, tr.TraceTarget(tr.TARGET_WORKLOAD, "other", "reviews-v2", "reviews")).traces
    # ratings is called only through reviews v2: as a service of another app's name it is found by its host
    ratings = tr.for_target(found, tr.TraceTarget(tr.TARGET_SERVICE, "bookinfo", "ratings", "reviews"))
    assert [t.trace_id for t in ratings.traces] == [v2["traceID"]]
    # an app target keeps all its app's traces; the Jaeger service is <app>.<namespace>
    app = tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews")
    assert len(tr.for_target(found, app).traces) == 2
    assert app.jaeger_service() == "reviews.bookinfo" and app.jaeger_service(False) == "reviews"


def test_a_waypoint_span_names_its_workload_and_service_in_istio_tags() -> None:
    span = tr.Span("t", "s", "", "flights.travel.svc.cluster.local:8080/*", "waypoint.travel", T0, 10,
                   {"istio.destination_workload": "flights-v1", "istio.destination_namespace": "travel",
                    "istio.destination_canonical_service": "flights"})
    assert tr.span_of_workload(span, "travel", "flights-v1")
    assert not tr.span_of_workload(span, "travel", "hotels-v1")
    assert tr.span_of_service(span, "travel", "flights")


def test_odd_input_is_skipped_and_counted_never_raised() -> None:
    good = bookinfo_trace(T0)
    bad_spans = bookinfo_trace(T0 + 5)
    bad_spans["spans"][3]["startTime"] = "soon"  # not a number
    bad_spans["spans"][4]["spanID"] = None
    bad_spans["spans"][5] = "not a span"
    bad_spans["spans"][6]["tags"].append({"key": "blob", "value": {"nested": 1}})
    bad_spans["spans"][7]["tags"] = "garbage"
    doc = jaeger_answer(good, bad_spans, {"traceID": "x", "spans": "nope"}, 42,
                        {"traceID": "y", "spans": [{"spanID": "a", "startTime": float("nan"), "duration": 1}]},
                        errors=[{"code": 500, "msg": "storage partially unavailable"}, "plain"])
    found = tr.parse_jaeger(doc)
    assert len(found.traces) == 2
    assert found.skipped == 3 + 1 + 1 + 1  # three spans; a trace with no span list; 42; y's only span
    assert found.errors == ["storage partially unavailable", "plain"]
    odd = next(t for t in found.traces if t.trace_id == bad_spans["traceID"])
    # tags of another shape are left out of the span, and said on it
    assert sum(1 for s in odd.spans for n in s.notes if "tag(s) of another shape" in n) == 2
    assert all(isinstance(v, str) for s in odd.spans for v in s.tags.values())
    for doc in (None, [], {"data": "x"}, {"data": None}, {"data": {"traceID": "z", "spans": []}}):
        assert tr.parse_jaeger(doc).traces == []


def test_a_parent_cycle_or_a_missing_parent_still_shows_every_span_once() -> None:
    spans = [tr.Span("t", "a", "b", "op-a", "s", T0, 5), tr.Span("t", "b", "a", "op-b", "s", T0 + 1, 5),
             tr.Span("t", "c", "gone", "op-c", "s", T0 + 2, 5)]
    trace = tr.Trace("t", tuple(spans))
    shown = [s.span_id for _d, s in trace.ordered()]
    assert sorted(shown) == ["a", "b", "c"]
    assert trace.root is not None and trace.root.span_id == "c"  # the only span whose parent is not here


def test_a_runaway_answer_is_cut_at_the_span_budget() -> None:
    big = {"traceID": "big", "processes": {}, "spans": [
        {"spanID": f"{i:x}", "startTime": T0 + i, "duration": 1, "operationName": "op"}
        for i in range(tr.MAX_SPANS + 50)]}
    found = tr.parse_jaeger(jaeger_answer(big))
    assert len(found.traces[0].spans) == tr.MAX_SPANS and found.skipped == 50


def test_the_query_rule_matches_what_jaeger_finds() -> None:
    trace = tr.parse_jaeger(jaeger_answer(bookinfo_trace(T0, ratings_code=503, slow_ms=200))).traces[0]
    target = tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews")
    base = tr.TraceQuery(target, T0 / 1e6 - 1, T0 / 1e6 + 1)
    assert tr.matches_query(trace, base, "reviews.bookinfo")
    assert not tr.matches_query(trace, base, "nosuch.bookinfo")
    assert tr.matches_query(trace, tr.TraceQuery(target, base.start, base.end, errors_only=True), "reviews.bookinfo")
    assert not tr.matches_query(trace, tr.TraceQuery(target, base.start, base.end, errors_only=True), "details.bookinfo")
    assert tr.matches_query(trace, tr.TraceQuery(target, base.start, base.end, min_duration_ms=200), "reviews.bookinfo")
    assert not tr.matches_query(trace, tr.TraceQuery(target, base.start, base.end, min_duration_ms=900),
                                "reviews.bookinfo")
    assert not tr.matches_query(trace, tr.TraceQuery(target, base.end + 5, base.end + 9), "reviews.bookinfo")


def test_durations_read_as_people_say_them() -> None:
    assert tr.duration_text(850) == "850 µs"
    assert tr.duration_text(12_340) == "12.3 ms"
    assert tr.duration_text(4_200_000) == "4.20 s"
    assert tr.duration_text(math.nan) == "-"
    assert math.isnan(tr.percentile([], 0.5))
    assert tr.percentile([1, 2, 3, 4], 0.5) == 2.5



def test_a_failed_grpc_call_answered_http_200_says_its_grpc_status() -> None:
    span = tr.Span("t1", "s1", "", "ratings.shop.svc.cluster.local:9090/*", "reviews.shop", T0, 1000,
                   {"http.method": "POST", "http.url": "http://ratings:9090/shop.Ratings/Get",
                    "http.status_code": "200", "grpc.status_code": "14", "span.kind": "client"})
    assert span.error
    assert span.summary() == "POST /shop.Ratings/Get -> 200 gRPC 14"  # not a bare "-> 200" on a failed span
    ok = tr.Span("t1", "s2", "", "op", "reviews.shop", T0, 1000, {"http.status_code": "200", "grpc.status_code": "0"})
    assert not ok.error and ok.summary() == "-> 200"


def test_a_trace_is_set_beside_those_that_began_at_the_same_operation_only() -> None:
    """Traces that began elsewhere (another root span) are no measure of this one; with none alike
    nothing is said, and with one its duration is said, not a mean of one."""
    base = 1_700_000_000 * 1_000_000
    one, two, slow = (tr.parse_jaeger(jaeger_answer(bookinfo_trace(base + i * 1_000_000, slow_ms=ms))).traces[0]
                      for i, ms in ((0, 0), (1, 0), (2, 30)))
    elsewhere = tr.Trace("e" * 32, tuple(s for s in one.spans if s.parent_id))  # its gateway span not got
    assert elsewhere.name != one.name
    assert tr.against_similar(slow, [elsewhere]) == ""
    assert tr.against_similar(slow, [slow]) == ""  # itself is no other
    beside_one = tr.against_similar(slow, [one, elsewhere])
    assert beside_one == (f"Beside the other trace listed that began at the same operation: "
                          f"{tr.duration_text(slow.duration_us - one.duration_us)} slower than it "
                          f"({tr.duration_text(one.duration_us)})")
    assert tr.against_similar(one, [two, slow]).endswith("faster than 1 of them")
