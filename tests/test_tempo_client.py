"""TempoClient against the Tempo emulator (tests.tempo_emulator, serving the samples the Jaeger emulator
serves, as OTLP) and stub servers: the TraceQL sent, traces read the same as through Jaeger's API, errors."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from meshdesk.mesh.otlp import otlp_id, parse_otlp, traceql, traceql_string
from meshdesk.mesh.traces import TARGET_APP, TARGET_WORKLOAD, TraceQuery, TraceTarget, parse_jaeger
from meshdesk.sources.base import TracingHTTPError, TracingMalformed, TracingQueryError, TracingUnauthorized
from meshdesk.sources.tracing import JaegerClient, TempoClient
from tests.jaeger_emulator import JaegerEmulator
from tests.prom_server import StubRequest, StubResponse, StubServer
from tests.tempo_emulator import Condition, TempoEmulator, otlp_trace, parse_traceql
from tests.test_tracing_client import T0, US, shop_traces
from tests.trace_samples import bookinfo_trace

TOKEN = "tempo-SECRET-4711"


def query(kind: str = TARGET_APP, name: str = "reviews", app: str = "", ns: str = "shop", **kw: Any) -> TraceQuery:
    return TraceQuery(TraceTarget(kind, ns, name, app), T0 - 600, T0 + 60, **kw)


@pytest.fixture
def tempo() -> Any:
    with TempoEmulator(shop_traces()) as emulator:
        yield emulator


def ids(found: Any) -> list[str]:
    return [t.trace_id.lstrip("0") for t in found.traces]


def test_the_list_is_one_search_and_a_trace_is_read_whole_when_opened(tempo: TempoEmulator) -> None:
    """Tempo's search answer is the list (one request, however many traces it finds: it was one more
    request per trace, 101 for 100 traces); opening a trace is one request more."""
    with TempoClient(tempo.url) as client:
        client.services()  # Tempo's service list, asked once a minute, not with each search
        asked_before = len(tempo.requests)
        found = client.find_traces(query(limit=20))
        assert [r.path for r in tempo.requests[asked_before:]] == ["/api/search"]
        assert ids(found) == ["a1", "b2", "c3"]  # d4 started before the window
        assert found.service == "reviews.shop" and not found.limited and found.skipped == 0
        asked = tempo.searches()[-1].params
        assert asked["q"].startswith('{ resource.service.name = "reviews.shop" } | select(status, kind, name, ')
        assert {"start": asked["start"], "end": asked["end"], "limit": asked["limit"], "spss": asked["spss"]} == \
            {"start": str(T0 - 600), "end": str(T0 + 60), "limit": "20", "spss": "20"}
        assert {".node_id", ".http.status_code", "resource.hostname"} <= set(tempo.selects[-1]) | {
            f".{f.split('.', 1)[1]}" for f in tempo.selects[-1] if f.startswith("any.")}
        assert all(t.partial for t in found.traces) and found.traces[0].name.startswith("productpage.shop")
        whole = client.trace(found.traces[0].trace_id)
        assert [r.path for r in tempo.requests[asked_before + 1:]] == ["/api/traces/" + "a1".rjust(32, "0")]
    assert whole is not None and not whole.partial and len(whole.spans) == 3


def test_the_lists_numbers_are_the_whole_traces_and_partial_ones_say_so() -> None:
    """What the list shows of a trace from the search alone (start, name, duration to the millisecond,
    how many of the target's spans matched and failed) is what the whole trace says."""
    from meshdesk.mesh.traces import trace_duration_text
    from tests.jaeger_emulator import jaeger_span, jaeger_trace

    odd = jaeger_trace("e5", [  # a trace of 12.345 ms: the search says 12 ms
        jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", T0 * US, 12_345),
        jaeger_span("2", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", T0 * US + 100, 3_000,
                    parent="1", status=503, error=True),
        jaeger_span("3", "reviews.shop", "ratings.shop.svc.cluster.local:9080/*", T0 * US + 150, 2_000,
                    parent="2", kind="client", status=503, error=True),
    ])
    sample = [*shop_traces(), odd, bookinfo_trace((T0 - 5) * US, ratings_code=503)]
    with TempoEmulator(sample) as tempo:
        client = TempoClient(tempo.url)
        for target in (query(), query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews"),
                       TraceQuery(TraceTarget(TARGET_APP, "bookinfo", "reviews", "reviews"), T0 - 60, T0 + 60)):
            listed = client.find_traces(target)
            assert listed.traces
            for t in listed.traces:
                whole = client.trace(t.trace_id)
                assert whole is not None and t.partial and not whole.partial
                ours = [s for s in whole.spans if s.service == listed.service]
                assert (t.start_us, t.name, t.duration_us // 1000) == \
                       (whole.start_us, whole.name, whole.duration_us // 1000)
                assert (t.span_count, t.errors) == (len(ours), sum(1 for s in ours if s.error))
                assert sorted(s.span_id for s in t.spans) == sorted(s.span_id for s in ours)
        e5 = next(t for t in client.find_traces(query()).traces if t.trace_id.endswith("e5"))
    assert trace_duration_text(e5) == "12 ms" and (e5.span_count, e5.errors) == (2, 2)


def test_the_same_traces_as_through_jaegers_api(tempo: TempoEmulator) -> None:
    """Spans, parents, services, kinds, tags and errors come out as Jaeger's JSON gives them."""
    with JaegerEmulator(shop_traces()) as jaeger:
        via_jaeger = JaegerClient(jaeger.url).find_traces(query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews"))
    client = TempoClient(tempo.url)
    via_tempo = client.find_traces(query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews"))
    assert ids(via_tempo) == ids(via_jaeger) == ["a1"]
    opened = [client.trace(t.trace_id) for t in via_tempo.traces]

    def shape(traces: Any) -> list[Any]:
        return [(s.span_id.lstrip("0"), s.parent_id.lstrip("0"), s.service, s.operation, s.start_us, s.duration_us,
                 s.kind, s.error, s.status_code, s.node.pod) for t in traces for s in t.ordered() for s in [s[1]]]
    assert shape(opened) == shape(via_jaeger.traces)


def test_errors_only_and_min_duration_go_into_the_traceql(tempo: TempoEmulator) -> None:
    client = TempoClient(tempo.url)
    assert ids(client.find_traces(query(errors_only=True))) == ["b2"]
    assert Condition("span.error", "=", True) in tempo.queries[-1]
    assert ids(client.find_traces(query(min_duration_ms=25))) == ["a1"]
    assert Condition("duration", ">=", ("duration", 25_000_000)) in tempo.queries[-1]
    assert ids(client.find_traces(query(min_duration_ms=25, errors_only=True))) == []


def test_limit_reached_is_said(tempo: TempoEmulator) -> None:
    found = TempoClient(tempo.url).find_traces(query(limit=2))
    assert ids(found) == ["a1", "b2"] and found.limited


def test_a_hostile_service_name_cannot_change_the_query(tempo: TempoEmulator) -> None:
    evil = 'x" || resource.service.name != "'
    client = TempoClient(tempo.url)
    found = client.find_traces(query(name=evil, ns='sh\\op"'))
    assert found.traces == []  # not every trace, as the unescaped query would find
    conditions = tempo.queries[-1]
    assert conditions == [Condition("resource.service.name", "=", f'{evil}.sh\\op"')]
    assert traceql_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert parse_traceql("{ name = " + traceql_string("a\x00\x1b\n\"") + " }")[1][0].value == "a\x00\x1b\n\""
    # every value is quoted: a tag key with odd characters too
    text = traceql("s", query(), {'we"ird key': 'v"'})
    assert parse_traceql(text)[1][-1] == Condition('any.we"ird key', "=", 'v"')


def test_a_traceql_parse_error_is_a_query_error_with_tempos_words() -> None:
    with TempoEmulator() as tempo:
        assert tempo.search({"q": '{ resource.service.name = "unclosed }'})[0] == 400

    def answer(req: StubRequest) -> StubResponse:
        if req.path == "/api/search":
            return StubResponse(400, "invalid TraceQL query: parse error at line 1, col 30: syntax error: "
                                     f"unexpected IDENTIFIER {TOKEN}", "text/plain")
        return StubResponse(200, {"tagValues": [{"type": "string", "value": "reviews.shop"}]})
    with StubServer(answer) as stub, pytest.raises(TracingQueryError) as err:
        TempoClient(stub.url, token=TOKEN).find_traces(query())
    assert str(err.value).startswith("Tempo refused the query (HTTP 400): invalid TraceQL query: parse error at "
                                     "line 1, col 30")
    assert TOKEN not in str(err.value)


def test_one_trace_whole_in_both_otlp_shapes_and_id_forms() -> None:
    traces = shop_traces()
    for shape, id_form, kinds, old in (("batches", "base64", "name", False), ("resourceSpans", "hex", "number", True)):
        with TempoEmulator(traces, shape=shape, ids=id_form, kinds=kinds, old_scopes=old) as tempo:
            client = TempoClient(tempo.url)
            got = client.trace("a1")
            assert got is not None and got.trace_id == "a1".rjust(32, "0")
            assert [(s.span_id.lstrip("0"), s.parent_id.lstrip("0"), s.kind) for s in got.spans] == \
                [("1", "", "server"), ("2", "1", "client"), ("3", "2", "server")]
            assert client.trace("ffff") is None  # 404: not found, no error
            assert client.trace("not-an-id") is None


def test_otlp_ids_times_values_and_status() -> None:
    tid = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    assert otlp_id(base64.b64encode(tid).decode(), 16) == tid.hex()
    assert otlp_id(tid.hex().upper(), 16) == tid.hex()
    assert otlp_id("abc", 16) == "abc".rjust(32, "0")  # Tempo's search drops leading zeros
    assert otlp_id("AAAAAAAAAAA=", 8) == "" and otlp_id("%%%", 8) == ""
    doc = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "reviews.shop"}},
        {"key": "hostname", "value": {"stringValue": "reviews-v1-abc"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": tid.hex(), "spanId": "00f067aa0ba902b7", "name": "op", "kind": 2,
            "startTimeUnixNano": "1700000000000001000", "endTimeUnixNano": 1700000000004001999,
            "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
            "attributes": [{"key": "http.status_code", "value": {"intValue": "503"}},
                           {"key": "ok", "value": {"boolValue": True}},
                           {"key": "ratio", "value": {"doubleValue": 0.5}},
                           {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
                           {"key": "bad", "value": {"stringValue": 5}}]},
            {"spanId": "", "startTimeUnixNano": "1"}]}]}]}
    trace, skipped = parse_otlp({"trace": doc})
    assert trace is not None and skipped == 1
    (span,) = trace.spans
    assert (span.start_us, span.duration_us, span.service, span.kind) == (1_700_000_000_000_001, 4000, "reviews.shop",
                                                                          "server")
    assert span.tags["http.status_code"] == "503" and span.status_code == 503 and span.error
    assert span.tags["ok"] == "true" and span.tags["ratio"] == "0.5" and span.tags["list"] == '["a"]'
    assert span.tags["otel.status_description"] == "boom" and "bad" not in span.tags and span.notes
    assert span.process_tags == {"hostname": "reviews-v1-abc"} and span.node.pod == "reviews-v1-abc"
    assert parse_otlp({"nothing": 1}) == (None, 1) and parse_otlp([]) == (None, 1)


def test_a_search_entry_without_an_id_is_skipped_and_a_trace_gone_before_it_is_opened_is_none() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if req.path == "/api/search":
            return StubResponse(200, {"traces": [{"traceID": "a1", "startTimeUnixNano": str(T0 * 10**9),
                                                  "durationMs": 4}, {"nope": 1}]})
        if req.path.startswith("/api/traces/"):
            return StubResponse(404, "trace not found", "text/plain")
        return StubResponse(200, {"tagValues": ["reviews.shop"]})
    with StubServer(answer) as stub:
        client = TempoClient(stub.url)
        found = client.find_traces(query())
        assert ids(found) == ["a1"] and found.skipped == 1 and found.traces[0].duration_us == 4000
        assert client.trace("a1") is None


def test_services_from_the_v2_tag_api_or_the_older_one() -> None:
    with TempoEmulator(shop_traces(), v2_tags=False) as tempo:
        client = TempoClient(tempo.url)
        assert client.services() == ["productpage.shop", "ratings.shop", "reviews.shop"]
    with TempoEmulator(shop_traces()) as tempo:
        found = TempoClient(tempo.url).find_traces(query(name="nothere"))
    assert found.traces == [] and "Tempo has no recent traces of nothere.shop" in found.notes[0]


def test_ping_is_tempos_echo_and_other_apis_are_told_apart(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with TempoEmulator(token=TOKEN) as tempo:
        TempoClient(tempo.url, token=TOKEN).ping()
        with pytest.raises(TracingUnauthorized):
            TempoClient(tempo.url, token="wrong").ping()
    with JaegerEmulator(shop_traces()) as jaeger, pytest.raises(TracingHTTPError) as err:
        TempoClient(jaeger.url).ping()  # Jaeger has no /api/echo
    assert err.value.status == 404 and "port 3200" in err.value.hint
    with StubServer(lambda req: StubResponse(200, "<html>Grafana</html>", "text/html")) as stub, \
            pytest.raises(TracingMalformed) as bad:
        TempoClient(stub.url).ping()
    assert "did not answer as Tempo's API does" in str(bad.value)
    assert TOKEN not in caplog.text


def test_a_storage_failure_is_said_as_such() -> None:
    with StubServer(lambda req: StubResponse(500, "error querying store in Querier.FindTraceByID", "text/plain")) as stub, \
            pytest.raises(TracingHTTPError) as err:
        TempoClient(stub.url).trace("a1")
    assert "failed (HTTP 500): error querying store" in str(err.value) and not isinstance(err.value, TracingQueryError)


def test_bookinfo_through_both_apis_alike() -> None:
    sample = [bookinfo_trace(T0 * US), bookinfo_trace((T0 + 5) * US, ratings_code=503)]
    q = TraceQuery(TraceTarget(TARGET_APP, "bookinfo", "reviews", "reviews"), T0 - 60, T0 + 60)
    with TempoEmulator(sample) as tempo:
        client = TempoClient(tempo.url)
        found = [client.trace(t.trace_id) for t in client.find_traces(q).traces]
    direct = parse_jaeger({"data": sample})
    assert [(t.trace_id, len(t.spans), t.errors, t.name) for t in found if t is not None] == \
        [(t.trace_id, len(t.spans), t.errors, t.name) for t in direct.traces]


def test_no_trace_found_is_an_answer_but_another_apis_json_is_not() -> None:
    """Tempo leaves an empty list of traces out of its JSON ({"metrics": {...}} alone): no traces, not
    a malformed answer; Jaeger's JSON at the same path is one."""
    def answer(body: Any) -> Any:
        return lambda req: StubResponse(200, body if req.path == "/api/search" else {"metrics": {}})
    with StubServer(answer({"metrics": {"inspectedBytes": "10"}})) as stub:
        found = TempoClient(stub.url).find_traces(query())
    assert found.traces == [] and found.skipped == 0
    with StubServer(answer({"data": [], "errors": None})) as stub, pytest.raises(TracingMalformed) as err:
        TempoClient(stub.url).find_traces(query())
    assert "instead of Tempo's API JSON" in str(err.value)


def test_a_zipkin_shared_span_id_keeps_both_halves_as_through_jaeger() -> None:
    """A client and its server span under one id (Zipkin's shared span context, kept so by Tempo): both
    shown, the server under its client, as Jaeger's JSON is read; one was dropped as a repeat."""
    from tests.jaeger_emulator import jaeger_span, jaeger_trace

    raw = jaeger_trace("e5", [
        jaeger_span("1", "productpage.shop", "reviews.shop.svc.cluster.local:9080/*", T0 * US, 9_000, kind="client"),
        jaeger_span("1", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", T0 * US + 100, 8_000),
        jaeger_span("2", "reviews.shop", "ratings.shop.svc.cluster.local:9080/*", T0 * US + 200, 3_000, parent="1",
                    kind="client"),
    ])
    trace, skipped = parse_otlp(otlp_trace(raw))
    direct = parse_jaeger({"data": [raw]}).traces[0]
    assert trace is not None and skipped == 0

    def shape(t: Any) -> list[Any]:
        return [(d, s.span_id.lstrip("0"), s.parent_id.lstrip("0"), s.service, s.kind) for d, s in t.ordered()]
    assert shape(trace) == shape(direct) and len(trace.spans) == 3


def test_a_search_cancelled_before_or_while_it_is_asked(tempo: TempoEmulator) -> None:
    """Cancelled before: nothing is asked; while Tempo answers: the answer is not read, and no trace is
    fetched."""
    from meshdesk.sources.base import Cancelled

    with pytest.raises(Cancelled):
        TempoClient(tempo.url).find_traces(query(), lambda: True)
    assert tempo.requests == []
    with pytest.raises(Cancelled):
        TempoClient(tempo.url).find_traces(query(), lambda: bool(tempo.searches()))
    assert len(tempo.searches()) == 1 and tempo.fetches() == []


def test_a_multi_tenant_tempo_without_its_tenant_says_which_header() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if req.headers.get("X-Scope-OrgID") != "team-a":
            return StubResponse(401, "no org id\n", "text/plain")
        return StubResponse(200, "echo", "text/plain")
    with StubServer(answer) as stub:
        with pytest.raises(TracingUnauthorized) as err:
            TempoClient(stub.url).ping()
        assert "wants a tenant" in str(err.value) and "X-Scope-OrgID" in err.value.hint
        TempoClient(stub.url, headers={"X-Scope-OrgID": "team-a"}).ping()


def test_a_list_or_map_value_of_another_shape_is_left_out_not_raised() -> None:
    """An arrayValue or kvlistValue written as a bare list (not ``{"values": [...]}``) raised
    AttributeError out of the parser (an intValue of Infinity, OverflowError): one odd attribute failed the whole search, where a value of
    another shape is to be left out and counted."""
    doc = {"batches": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "r.shop"}}]},
                        "scopeSpans": [{"spans": [{
                            "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00f067aa0ba902b7",
                            "startTimeUnixNano": "1700000000000001000", "endTimeUnixNano": "1700000000004001000",
                            "attributes": [{"key": "a", "value": {"arrayValue": [{"stringValue": "x"}]}},
                                           {"key": "k", "value": {"kvlistValue": [{"key": "x"}]}},
                                           {"key": "n", "value": {"arrayValue": {"values": [{"arrayValue": 3}]}}},
                                           {"key": "i", "value": {"intValue": float("inf")}},
                                           {"key": "ok", "value": {"stringValue": "yes"}}]}]}]}]}
    trace, skipped = parse_otlp(doc)
    assert trace is not None and skipped == 0
    (span,) = trace.spans
    assert span.tags == {"ok": "yes"} and span.notes == ("4 tag(s) of another shape left out",)


@pytest.mark.parametrize("odd", [5, "a1b2", {"traceID": "a1"}, True])
def test_a_list_of_traces_or_services_of_another_shape_is_a_malformed_answer(odd: Any) -> None:
    """"traces" or "tagValues" that is no list: a number raised TypeError out of the client (a traceback
    in the log, Python's words in the dock), a text or a map was read letter by letter or key by key
    into ids and service names. It is said as an answer that is not Tempo's API JSON."""
    def answer(req: StubRequest) -> StubResponse:
        return StubResponse(200, {"traces": odd} if req.path == "/api/search" else {"tagValues": odd})
    with StubServer(answer) as stub:
        with pytest.raises(TracingMalformed) as err:
            TempoClient(stub.url).services()
        assert "instead of Tempo's API JSON" in str(err.value)
        with pytest.raises(TracingMalformed) as err:
            TempoClient(stub.url).find_traces(query())
        assert "instead of Tempo's API JSON" in str(err.value)


def test_a_tag_of_a_number_or_a_process_is_found_through_tempo_as_through_jaeger() -> None:
    """Jaeger's tags compare as text and look at the process's tags too; the TraceQL asked
    'span.retries = "2"', which a typed attribute (an intValue 2, as OpenTelemetry's SDKs write numbers)
    never equals, and no span attribute for a tag of the process (a resource attribute in OTLP): the
    traces Jaeger's API finds, Tempo's did not."""
    traces = shop_traces()
    b2 = next(t for t in traces if t["traceID"] == "b2")
    failing = next(s for s in b2["spans"] if s["spanID"] == "2")
    failing["tags"] = [*failing.get("tags", []), {"key": "retries", "type": "int64", "value": 2},
                       {"key": "sampled", "type": "bool", "value": True}]
    b2["processes"][failing["processID"]]["tags"] = [{"key": "zone", "type": "string", "value": "eu-1"}]
    with JaegerEmulator(traces) as jaeger, TempoEmulator(traces) as tempo:
        for tags in ((("retries", "2"),), (("sampled", "true"),), (("zone", "eu-1"),)):
            through_jaeger = ids(JaegerClient(jaeger.url).find_traces(query(tags=tags)))
            assert through_jaeger == ["b2"], tags
            assert ids(TempoClient(tempo.url).find_traces(query(tags=tags))) == through_jaeger, tags
        assert ids(TempoClient(tempo.url).find_traces(query(tags=(("retries", "3"),)))) == []


def test_a_window_longer_than_tempo_searches_is_cut_to_its_most_recent_part_and_said(tempo: TempoEmulator) -> None:
    """Tempo refuses a search window over its max_duration (168 h by default) with an HTTP 400, which was
    all the user saw of a 30-day search. The last 7 days are searched, and the answer says so."""
    client = TempoClient(tempo.url)
    found = client.find_traces(TraceQuery(TraceTarget(TARGET_APP, "shop", "reviews"), T0 + 60 - 30 * 86400, T0 + 60))
    assert ids(found) == ["a1", "b2", "c3", "d4"]
    (asked,) = [r.params for r in tempo.searches()]
    assert int(asked["end"]) - int(asked["start"]) == 168 * 3600 and asked["end"] == str(T0 + 60)
    assert "Tempo searches at most 7 days at once: showing the last 7 days of the 30 days asked." in found.notes
    assert client.find_traces(query()).notes == []  # a window it takes whole says nothing


def test_a_tempo_configured_to_search_less_is_asked_again_within_the_limit_it_names() -> None:
    """A Tempo whose max_duration is an hour refuses six: its refusal names the limit ("exceeds 1h0m0s"),
    the search is asked again over the last hour, and later searches keep within it at once."""
    from tests.tempo_emulator import go_duration

    assert go_duration(3600) == "1h0m0s" and go_duration(168 * 3600) == "168h0m0s"
    with TempoEmulator(shop_traces(), max_duration_s=3600) as tempo:
        client = TempoClient(tempo.url)
        six_hours = TraceQuery(TraceTarget(TARGET_APP, "shop", "reviews"), T0 + 60 - 6 * 3600, T0 + 60)
        found = client.find_traces(six_hours)
        assert ids(found) == ["a1", "b2", "c3"]
        assert "Tempo searches at most 1 hour at once: showing the last 1 hour of the 6 hours asked." in found.notes
        assert [int(r.params["end"]) - int(r.params["start"]) for r in tempo.searches()] == [6 * 3600, 3600]
        assert client.find_traces(six_hours).notes == found.notes and len(tempo.searches()) == 3
    with StubServer(lambda req: StubResponse(400, "range specified by start and end exceeds 0s.", "text/plain")
                    if req.path == "/api/search" else StubResponse(200, {"tagValues": ["reviews.shop"]})) as stub:
        with pytest.raises(TracingQueryError) as err:  # a refusal naming no usable limit is said as it is
            TempoClient(stub.url).find_traces(six_hours)
    assert "exceeds 0s" in str(err.value)


def test_a_search_answer_of_odd_shapes_is_read_as_far_as_it_goes() -> None:
    """Tempo's older answer (the one ``spanSet``), a count given as text, and entries, span sets, spans and
    attributes of another shape: what can be read is listed, the rest counted, nothing raised."""
    start = str(T0 * 10**9)
    span = {"spanID": "00f067aa0ba902b7", "name": "reviews.shop.svc.cluster.local:9080/*",
            "startTimeUnixNano": start, "durationNanos": "2500000",
            "attributes": [{"key": "status", "value": {"stringValue": "error"}},
                           {"key": "kind", "value": {"stringValue": "client"}},
                           {"key": "hostname", "value": {"stringValue": "reviews-v1-abc"}},
                           {"key": "odd", "value": {"arrayValue": 3}}]}
    answer = {"traces": [
        {"traceID": "a1", "rootServiceName": "productpage.shop", "rootTraceName": "GET /", "startTimeUnixNano": start,
         "durationMs": 3, "spanSet": {"spans": [span, {"spanID": 7}, "x"], "matched": "4"}},
        {"traceID": "b2", "startTimeUnixNano": start, "spanSets": [5, {"spans": "none", "matched": 1}],
         "rootServiceName": "<root span not yet received>"},
        {"traceID": "c3", "startTimeUnixNano": "soon"}, "d4",
    ]}
    with StubServer(lambda req: StubResponse(200, answer if req.path == "/api/search"
                                             else {"tagValues": ["reviews.shop"]})) as stub:
        found = TempoClient(stub.url).find_traces(query())
    assert ids(found) == ["a1", "b2"] and found.skipped == 5  # 2 spans, 1 span set, 2 entries
    a1, b2 = found.traces
    assert (a1.name, a1.duration_us, a1.span_count, a1.errors) == ("productpage.shop: GET /", 3000, 4, 1)
    (s,) = a1.spans
    assert (s.kind, s.service, s.node.pod, s.duration_us) == ("client", "reviews.shop", "reviews-v1-abc", 2500)
    assert s.notes == ("1 tag(s) of another shape left out",)
    assert (b2.name, b2.span_count, b2.spans) == ("b2".rjust(32, "0"), 1, ())  # no root yet: named by its id


def long_reviews_trace() -> dict[str, Any]:
    """A trace where reviews-v1 calls itself 25 times before its one call to reviews-v2, which fails: the
    workload's span, and the failure, are the 26th of the app's spans that match."""
    from tests.jaeger_emulator import jaeger_span, jaeger_trace
    from tests.test_tracing_client import _node

    spans = [jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", (T0 + 5) * US, 60_000,
                         node_id=_node("productpage-v1-5b7c-aaaa"))]
    spans += [jaeger_span(f"{10 + i}", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*",
                          (T0 + 5) * US + 100 + i * 10, 1_000, parent="1", node_id=_node("reviews-v1-6f4d-qq12"))
              for i in range(25)]
    spans.append(jaeger_span("99", "reviews.shop", "reviews-v2-svc.shop.svc.cluster.local:9080/*",
                             (T0 + 5) * US + 900, 2_000, parent="1", node_id=_node("reviews-v2-7d9c-xk2p"),
                             status=503, error=True))
    return jaeger_trace("f6", spans)


def test_a_trace_with_more_matching_spans_than_a_span_set_holds_is_asked_again_for_them() -> None:
    """Tempo answers a search with the first spss spans that matched in each trace: a trace of 26 reviews
    spans, whose 26th is reviews-v2's failed one, was missing from reviews-v2's list and counted no error
    in the app's. A span set that came back full is asked again for as many as matched, and later
    searches ask that many at once."""
    with TempoEmulator([*shop_traces(), long_reviews_trace()]) as tempo:
        client = TempoClient(tempo.url)
        workload = client.find_traces(query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews"))
        assert ids(workload) == ["f6", "a1"] and workload.notes == []
        assert [r.params["spss"] for r in tempo.searches()] == ["20", "26"]
        app = client.find_traces(query())
        f6 = app.traces[0]
        assert f6.trace_id.endswith("f6") and (f6.span_count, f6.errors) == (26, 1)
        assert [r.params["spss"] for r in tempo.searches()] == ["20", "26", "26"]
        assert ids(client.find_traces(query(errors_only=True))) == ["f6", "b2"]


def test_more_spans_than_tempo_allows_per_span_set_asks_its_limit_and_says_what_is_left_out() -> None:
    """A Tempo allowing 22 spans per span set refuses 26 ("spans per span set exceeds 22"): its limit is
    asked instead, and the list says a trace had more matching spans than that, so it may lack a failure."""
    with TempoEmulator([*shop_traces(), long_reviews_trace()], max_spans_per_span_set=22) as tempo:
        client = TempoClient(tempo.url)
        found = client.find_traces(query())
        assert [r.params["spss"] for r in tempo.searches()] == ["20", "26", "22"]
        f6 = found.traces[0]
        assert f6.trace_id.endswith("f6") and (f6.span_count, f6.errors) == (26, 0)
        assert ("Tempo answers at most 22 of a trace's spans per search: 1 trace here had more of reviews.shop's, "
                "so its errors are counted from those, and a workload's or service's trace among the rest may be "
                "missing; a trace opened is read whole") in found.notes
        client.find_traces(query())
        assert [r.params["spss"] for r in tempo.searches()][3:] == ["22"]
        opened = client.trace(f6.trace_id)
        assert opened is not None and opened.errors == 1


def test_a_tempo_without_traceql_select_is_searched_without_it_and_its_traces_read_whole() -> None:
    """Tempo 2.0 and 2.1 have no select() in TraceQL and refused every search meshdesk sent ("parse error
    ... unexpected IDENTIFIER"): the dock showed only that. The search is asked without it, and as its span
    sets then say neither whose pod a span is of nor whether it failed, each trace listed is read whole:
    the list is the one a Tempo with select() gives, and later searches leave select() out at once."""
    sample = [*shop_traces(), long_reviews_trace()]
    with TempoEmulator(sample) as tempo:
        client = TempoClient(tempo.url)
        expected = {kind: [(t.trace_id, t.span_count, t.errors) for t in client.find_traces(q).traces]
                    for kind, q in (("app", query()),
                                    ("workload", query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews")))}
    assert expected["workload"] and any(errors for _i, _n, errors in expected["app"])
    with TempoEmulator(sample, select=False) as old:
        client = TempoClient(old.url)
        app = client.find_traces(query())
        assert [r.params["q"].endswith(")") for r in old.searches()] == [True, False]
        assert [(t.trace_id, t.errors) for t in app.traces] == [(i, e) for i, _n, e in expected["app"]]
        assert len(old.fetches()) == len(app.traces) == 4
        assert ("This Tempo's TraceQL has no select() (it is older than 2.2): each of the 4 traces listed was read "
                "whole, one request each") in app.notes
        workload = client.find_traces(query(kind=TARGET_WORKLOAD, name="reviews-v2", app="reviews"))
        assert [t.trace_id for t in workload.traces] == [i for i, _n, _e in expected["workload"]]
        assert "select(" not in old.searches()[-1].params["q"] and len(old.searches()) == 3
        assert client.find_traces(query(errors_only=True, limit=5)).traces[0].errors >= 1


def test_a_parse_error_that_is_not_select_is_said_as_tempo_said_it() -> None:
    """A Tempo whose parser refuses the query for another reason refuses it without select() too: its own
    words are said, and select() is asked again next time."""
    with StubServer(lambda req: StubResponse(400, "invalid TraceQL query: parse error at line 1, col 3: syntax "
                                                  "error: unexpected $end", "text/plain")
                    if req.path == "/api/search" else StubResponse(200, {"tagValues": ["reviews.shop"]})) as stub:
        client = TempoClient(stub.url)
        with pytest.raises(TracingQueryError) as err:
            client.find_traces(query())
        assert "unexpected $end" in str(err.value) and client.selects
        searches = [r for r in stub.requests if r.path == "/api/search"]
    assert ["select(" in r.params["q"] for r in searches] == [True, False]
