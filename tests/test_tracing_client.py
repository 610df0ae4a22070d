"""JaegerClient against the Jaeger query API emulator (tests.jaeger_emulator) and against stub servers
that play what a user may point the tracing address at by mistake."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests

from meshdesk.mesh import traces as core
from meshdesk.mesh.traces import TARGET_APP, TARGET_SERVICE, TARGET_WORKLOAD, TraceQuery, TraceTarget
from meshdesk.sources.base import (
    Cancelled,
    TracingError,
    TracingForbidden,
    TracingHTTPError,
    TracingMalformed,
    TracingQueryError,
    TracingTimeout,
    TracingUnauthorized,
    TracingUnreachable,
)
from meshdesk.sources.tracing import JaegerClient, TempoClient, client_from_settings
from tests.jaeger_emulator import JaegerEmulator, go_duration_us, jaeger_emulator, jaeger_span, jaeger_trace  # noqa: F401 - the fixture
from tests.prom_server import StubRequest, StubResponse, StubServer, free_port

TOKEN = "jaeger-SECRET-4711"
PASSWORD = "pw-SECRET-0815"
T0 = 1_700_000_000  # seconds
US = 1_000_000


def _node(pod: str, ns: str = "shop") -> str:
    return f"sidecar~10.0.0.1~{pod}.{ns}~{ns}.svc.cluster.local"


def shop_traces() -> list[dict[str, Any]]:
    """t1: productpage -> reviews-v2 (through the reviews-v2-svc service), 40 ms; t2: productpage ->
    reviews-v1 failing 503, 5 ms; t3: reviews-v3 -> ratings, 20 ms; t4: reviews two hours earlier."""
    t1 = jaeger_trace("a1", [
        jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", (T0 + 3) * US, 40_000,
                    node_id=_node("productpage-v1-5b7c-aaaa")),
        jaeger_span("2", "productpage.shop", "reviews-v2-svc.shop.svc.cluster.local:9080/*", (T0 + 3) * US + 100,
                    30_000, parent="1", kind="client", node_id=_node("productpage-v1-5b7c-aaaa")),
        jaeger_span("3", "reviews.shop", "reviews-v2-svc.shop.svc.cluster.local:9080/*", (T0 + 3) * US + 200,
                    29_000, parent="2", node_id=_node("reviews-v2-7d9c-xk2p")),
    ])
    t2 = jaeger_trace("b2", [
        jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", (T0 + 2) * US, 5_000,
                    node_id=_node("productpage-v1-5b7c-aaaa")),
        jaeger_span("2", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", (T0 + 2) * US + 100, 4_000,
                    parent="1", node_id=_node("reviews-v1-6f4d-qq12"), status=503, error=True),
    ])
    t3 = jaeger_trace("c3", [
        jaeger_span("1", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", (T0 + 1) * US, 20_000,
                    node_id=_node("reviews-v3-88aa-zz99")),
        jaeger_span("2", "ratings.shop", "ratings.shop.svc.cluster.local:9080/*", (T0 + 1) * US + 100, 8_000,
                    parent="1", node_id=_node("ratings-v1-1234-abcd")),
    ])
    t4 = jaeger_trace("d4", [
        jaeger_span("1", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", (T0 - 7200) * US, 9_000,
                    node_id=_node("reviews-v2-7d9c-xk2p")),
    ])
    return [t1, t2, t3, t4]


def query(kind: str = TARGET_APP, name: str = "reviews", app: str = "", **kw: Any) -> TraceQuery:
    return TraceQuery(TraceTarget(kind, "shop", name, app), T0 - 600, T0 + 60, **kw)


@pytest.fixture
def jaeger() -> Any:
    with JaegerEmulator(shop_traces()) as emulator:
        yield emulator


def ids(found: core.TraceSet) -> list[str]:
    return [t.trace_id for t in found.traces]


# --- what is asked, and what comes back ------------------------------------------------------------


def test_app_traces_in_the_window_newest_first_asked_as_kiali_asks(jaeger: JaegerEmulator) -> None:
    with JaegerClient(jaeger.url) as client:
        found = client.find_traces(query(limit=20))
    assert ids(found) == ["a1", "b2", "c3"]  # d4 started before the window
    assert found.service == "reviews.shop" and found.errors == [] and not found.limited
    asked = [r for r in jaeger.requests if r.path == "/api/traces"][-1].params
    assert asked == {"service": "reviews.shop", "start": str((T0 - 600) * US), "end": str((T0 + 60) * US),
                     "limit": "20"}
    assert found.traces[0].root is not None and found.traces[0].name.startswith("productpage.shop")


def test_limit_reached_is_said(jaeger: JaegerEmulator) -> None:
    found = JaegerClient(jaeger.url).find_traces(query(limit=2))
    assert ids(found) == ["a1", "b2"] and found.limited


def test_workload_keeps_traces_with_a_span_of_its_pods(jaeger: JaegerEmulator) -> None:
    client = JaegerClient(jaeger.url)
    assert ids(client.find_traces(query(TARGET_WORKLOAD, "reviews-v2", "reviews"))) == ["a1"]
    assert ids(client.find_traces(query(TARGET_WORKLOAD, "reviews-v1", "reviews"))) == ["b2"]
    assert ids(client.find_traces(query(TARGET_WORKLOAD, "reviews-v9", "reviews"))) == []


def test_service_keeps_traces_with_an_operation_on_it(jaeger: JaegerEmulator) -> None:
    found = JaegerClient(jaeger.url).find_traces(query(TARGET_SERVICE, "reviews-v2-svc", "reviews"))
    assert ids(found) == ["a1"] and found.fetched == 3
    # a service named as its app: all of the app's traces
    assert ids(JaegerClient(jaeger.url).find_traces(query(TARGET_SERVICE, "reviews"))) == ["a1", "b2", "c3"]


def test_errors_only_and_min_duration(jaeger: JaegerEmulator) -> None:
    client = JaegerClient(jaeger.url)
    assert ids(client.find_traces(query(errors_only=True))) == ["b2"]
    assert json.loads(jaeger.requests[-1].params["tags"]) == {"error": "true"}
    assert ids(client.find_traces(query(min_duration_ms=10))) == ["a1", "c3"]
    assert jaeger.requests[-1].params["minDuration"] == "10000us"


def test_an_app_the_backend_has_no_traces_of_is_said(jaeger: JaegerEmulator) -> None:
    found = JaegerClient(jaeger.url).find_traces(query(name="nope"))
    assert found.traces == [] and found.service == "nope.shop"
    assert found.errors == []
    assert found.notes == ["The tracing backend has no traces of nope.shop at all: is tracing enabled in the mesh "
                            "(a sampling rate above 0), and has the app been sent requests?"]
    # an app it lists, with no traces in the window: nothing more to say than the empty list
    assert JaegerClient(jaeger.url).find_traces(query(min_duration_ms=1000)).errors == []


def test_a_backend_that_does_not_list_its_services_is_asked_anyway() -> None:
    """Some proxies in front of Tempo serve /api/traces but not /api/services: the traces are still read."""
    answer = {"data": [jaeger_trace("a1", [jaeger_span("1", "reviews.shop", "x", (T0 + 1) * US, 1000)])]}

    def respond(req: StubRequest) -> StubResponse:
        if req.path == "/api/services":
            return StubResponse(404, "404 page not found")
        return StubResponse(200, answer)

    with StubServer(respond) as stub:
        found = JaegerClient(stub.url).find_traces(query())
        assert ids(found) == ["a1"] and found.errors == []
        assert stub.requests[-1].params["service"] == "reviews.shop"


@pytest.mark.parametrize(("sent", "said"), [
    ("storage backend unavailable", ["storage backend unavailable"]),  # one text: not split into its letters
    (5, ["5"]),  # not a list: reading the answer failed with Python's TypeError
    ({"code": 503, "msg": "partial results"}, ["partial results"]),
])
def test_errors_that_are_no_list_are_said_whole_with_the_traces(sent: Any, said: list[str]) -> None:
    trace = jaeger_trace("a1", [jaeger_span("1", "reviews.shop", "x", (T0 + 1) * US, 1000)])

    def respond(req: StubRequest) -> StubResponse:
        if req.path == "/api/services":
            return StubResponse(200, {"data": ["reviews.shop"]})
        return StubResponse(200, {"data": [trace], "errors": sent})

    with StubServer(respond) as stub:
        client = JaegerClient(stub.url)
        found = client.find_traces(query())
        assert ids(found) == ["a1"] and found.errors == said
        whole = client.trace("a1")
        assert whole is not None and whole.trace_id == "a1"


def test_a_backend_naming_services_without_namespace(jaeger: JaegerEmulator) -> None:
    jaeger.traces = [jaeger_trace("e5", [jaeger_span("1", "reviews", "x", (T0 + 5) * US, 1000)])]
    found = JaegerClient(jaeger.url).find_traces(query())
    assert ids(found) == ["e5"] and found.service == "reviews"


def test_one_trace_whole_and_unknown_or_bad_ids(jaeger: JaegerEmulator) -> None:
    client = JaegerClient(jaeger.url)
    trace = client.trace("c3")
    assert trace is not None and len(trace.spans) == 2 and trace.services == ("ratings.shop", "reviews.shop")
    assert client.trace("ffff") is None  # Jaeger's 404
    assert client.trace("../api/services") is None
    assert all("/api/services" not in r.path or r.path == "/api/services" for r in jaeger.requests)


def test_base_path_and_bearer_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with JaegerEmulator(shop_traces(), token=TOKEN, base_path="/jaeger") as jaeger:
        assert jaeger.url.endswith("/jaeger")
        assert ids(JaegerClient(jaeger.url, token=TOKEN).find_traces(query())) == ["a1", "b2", "c3"]
        assert jaeger.requests[-1].path == "/jaeger/api/traces"
        with pytest.raises(TracingUnauthorized) as err:
            JaegerClient(jaeger.url, token="wrong-" + TOKEN[::-1]).ping()
        assert "401" in str(err.value) and TOKEN[::-1] not in str(err.value)
        with pytest.raises(TracingHTTPError) as missing:  # the prefix left out
            JaegerClient(jaeger.url.removesuffix("/jaeger"), token=TOKEN).ping()
        assert missing.value.status == 404 and "/jaeger" in str(missing.value)
    assert TOKEN not in caplog.text and TOKEN[::-1] not in caplog.text


def test_settings_auth_is_used(jaeger: JaegerEmulator) -> None:
    client = client_from_settings(jaeger.url, {"type": "bearer", "token": TOKEN, "headers": {"X-Org": "shop"}})
    client.ping()
    assert jaeger.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert jaeger.requests[-1].headers["X-Org"] == "shop"
    assert TOKEN not in repr(client) and "bearer token" in repr(client)


def test_a_huge_answer_is_bounded_by_max_spans(jaeger: JaegerEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    jaeger.traces = [jaeger_trace("f6", [jaeger_span(str(i), "reviews.shop", "x", (T0 + 1) * US + i, 10)
                                         for i in range(1, 51)])]
    monkeypatch.setattr(core, "MAX_SPANS", 10)
    found = JaegerClient(jaeger.url).find_traces(query())
    assert len(found.traces[0].spans) == 10 and found.skipped == 40


def test_cancelled_before_asking(jaeger: JaegerEmulator) -> None:
    with pytest.raises(Cancelled):
        JaegerClient(jaeger.url).find_traces(query(), cancelled=lambda: True)


# --- the emulator's own semantics ---------------------------------------------------------------------


def test_emulator_answers_bad_parameters_as_jaeger(jaeger: JaegerEmulator) -> None:
    bad = requests.get(f"{jaeger.url}/api/traces", params={"service": "reviews.shop", "minDuration": "10 apples"},
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["errors"][0]["msg"].startswith("time: invalid duration")
    assert requests.get(f"{jaeger.url}/api/traces", timeout=10).status_code == 400
    assert requests.get(f"{jaeger.url}/api/traces/0", timeout=10).json()["errors"][0]["code"] == 404
    assert go_duration_us("1.5ms") == 1500 and go_duration_us("1m30s") == 90 * US


# --- failures: each says what happened, none carries a secret ------------------------------------------


def _stub(status: int, body: Any, content_type: str = "") -> StubServer:
    return StubServer(lambda _r: StubResponse(status, body, content_type=content_type))


def test_unreachable_port() -> None:
    with pytest.raises(TracingUnreachable) as err:
        JaegerClient(f"http://127.0.0.1:{free_port()}", token=TOKEN).ping()
    assert "Cannot reach the tracing backend" in str(err.value) and "connection refused" in str(err.value)
    assert isinstance(err.value, TracingError) and err.value.kind == "tracing"


def test_forbidden() -> None:
    with _stub(403, "RBAC: access denied " + TOKEN) as stub, pytest.raises(TracingForbidden) as err:
        JaegerClient(stub.url, token=TOKEN).ping()
    assert "forbidden (HTTP 403)" in str(err.value) and TOKEN not in str(err.value) + err.value.body


def test_html_answer() -> None:
    with _stub(200, "<!DOCTYPE html><html><body>Jaeger UI</body></html>", "text/html") as stub, \
            pytest.raises(TracingMalformed) as err:
        JaegerClient(stub.url).ping()
    assert "a web page instead of Jaeger's query API JSON" in str(err.value)
    assert "path prefix" in err.value.hint


LOGIN_PAGE = ('<!DOCTYPE html><html><head><meta name="csrf" content="csrf-SECRET-77"><title>Sign in | Corp SSO'
              '</title></head><body><form><input type="hidden" name="state" value="state-SECRET-88"></form></body></html>')


@pytest.mark.parametrize("api", ["jaeger", "tempo"])
def test_a_login_page_is_named_by_its_title_not_quoted(api: str) -> None:
    """An auth proxy's login page where the API was expected: its first 80 characters were quoted in the
    error (the banner, the log, meshdesk traces' stderr), form tokens among them; it is named by its title,
    as Prometheus' client names one."""
    with _stub(200, LOGIN_PAGE, "text/html") as stub, pytest.raises(TracingMalformed) as err:
        (JaegerClient if api == "jaeger" else TempoClient)(stub.url).ping()
    said = str(err.value) + err.value.hint
    assert '("Sign in | Corp SSO")' in str(err.value)
    assert "csrf-SECRET" not in said and "state-SECRET" not in said and "<meta" not in said


def test_garbage_json() -> None:
    with _stub(200, "{not json", "application/json") as stub, pytest.raises(TracingMalformed):
        JaegerClient(stub.url).ping()
    with _stub(200, {"status": "success"}) as stub, pytest.raises(TracingMalformed) as err:
        JaegerClient(stub.url).ping()  # JSON, but Prometheus's
    assert "not Jaeger's query API answer" in str(err.value)


def test_jaeger_error_json_is_a_clear_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"data": None, "total": 0, "errors": [{"code": 400, "msg": f"bad token {TOKEN}: invalid duration"}]}
    with _stub(400, body) as stub, pytest.raises(TracingQueryError) as err:
        JaegerClient(stub.url, token=TOKEN).ping()
    text = str(err.value)
    assert text.startswith("The tracing backend refused the query (HTTP 400): bad token [redacted]: invalid duration")
    assert TOKEN not in text and TOKEN not in caplog.text


def test_a_storage_failure_is_not_blamed_on_the_query() -> None:
    body = {"data": None, "errors": [{"code": 500, "msg": "elasticsearch: no living connections"}]}
    with _stub(500, body) as stub, pytest.raises(TracingHTTPError) as err:
        JaegerClient(stub.url).ping()
    assert not isinstance(err.value, TracingQueryError) and err.value.status == 500
    assert "failed (HTTP 500): elasticsearch: no living connections" in str(err.value)
    assert "try again later" in err.value.hint


def test_other_http_error() -> None:
    with _stub(502, "upstream connect error") as stub, pytest.raises(TracingHTTPError) as err:
        JaegerClient(stub.url).ping()
    assert err.value.status == 502 and "HTTP 502: upstream connect error" in str(err.value)


def test_timeout_from_a_server_that_does_not_answer() -> None:
    with JaegerEmulator(hang=True) as jaeger, pytest.raises(TracingTimeout) as err:
        JaegerClient(jaeger.url, timeout=0.3).ping()
    assert "did not answer within 0.3 s" in str(err.value) and err.value.kind == "tracing"


def test_redirect_elsewhere_is_not_followed() -> None:
    other = f"http://localhost:{free_port()}/api/services"

    def answer(req: StubRequest) -> StubResponse:
        return StubResponse(302, "", headers={"Location": other})

    with StubServer(answer) as stub, pytest.raises(TracingUnreachable) as err:
        JaegerClient(stub.url, basic_auth=("admin", PASSWORD)).ping()
    assert "redirected to another address" in str(err.value) and PASSWORD not in str(err.value)
    assert err.value.hint == "if that address is the right one, set it as the tracing URL"
    assert len(stub.requests) == 1


def test_a_url_that_is_no_url() -> None:
    with pytest.raises(ValueError, match="cannot be used"):
        JaegerClient("jaeger:16686")
    with pytest.raises(ValueError) as err:
        JaegerClient(f"http://admin:{PASSWORD}@ho st/jaeger")
    assert PASSWORD not in str(err.value)


def test_no_secret_in_any_failure_or_log(caplog: pytest.LogCaptureFixture) -> None:
    """Every failure, with a token and a secret header, or a user name and password, set and echoed back by
    the server: the messages, hints, bodies, reprs and the log never carry them."""
    caplog.set_level(logging.DEBUG)

    def answers(echo: str) -> list[StubResponse]:
        return [
            StubResponse(401, echo), StubResponse(403, echo), StubResponse(502, echo),
            StubResponse(200, f"<html>{echo}</html>", content_type="text/html"),
            StubResponse(200, "{" + echo, content_type="application/json"),
            StubResponse(400, {"data": None, "errors": [{"code": 400, "msg": echo}]}),
            StubResponse(500, {"data": None, "errors": [{"code": 500, "msg": echo}]}),
            StubResponse(302, "", headers={"Location": f"http://elsewhere.invalid/?t={echo.replace(' ', '+')}"}),
        ]

    said: list[str] = []
    clients = (
        (lambda url: JaegerClient(url, token=TOKEN, headers={"X-Api-Key": "secret-key-998877"}),
         f"Bearer {TOKEN} X-Api-Key secret-key-998877"),
        (lambda url: JaegerClient(url, basic_auth=("admin", PASSWORD)), f"admin:{PASSWORD} {PASSWORD}"),
    )
    for make, echo in clients:
        for answer in answers(echo):
            with StubServer(lambda _r, a=answer: a) as stub:
                client = make(stub.url)
                with pytest.raises(TracingError) as err:
                    client.find_traces(query())
                said += [str(err.value), err.value.hint, str(getattr(err.value, "body", "")), repr(client)]
    with JaegerEmulator(hang=True) as jaeger, pytest.raises(TracingTimeout) as late:
        JaegerClient(f"{jaeger.url}/?access_token={TOKEN}", timeout=0.2).ping()
    said.append(str(late.value))
    with pytest.raises(TracingUnreachable) as gone:
        JaegerClient(f"http://admin:{PASSWORD}@127.0.0.1:{free_port()}", token=TOKEN).ping()
    said.append(str(gone.value))
    text = "\n".join(said) + caplog.text
    for secret in (TOKEN, PASSWORD, "secret-key-998877"):
        assert secret not in text
    assert text.count("[redacted]") >= 6


def test_a_runaway_answer_is_not_read_past_the_bound(jaeger: JaegerEmulator) -> None:
    """An answer larger than the client reads (a trace of millions of spans) stops at the bound, said as
    too large with what to do, not read whole into memory; the usual answers fit."""
    from meshdesk.sources.base import TooLarge
    from meshdesk.sources.tracing import MAX_BODY_BYTES

    assert MAX_BODY_BYTES >= 100 * 2**20
    jaeger.traces.append(jaeger_trace("big", [jaeger_span(f"{i:x}", "reviews.shop", "x" * 200, (T0 + 1) * US + i, 10)
                                              for i in range(1, 400)]))
    with pytest.raises(TooLarge) as err:
        JaegerClient(jaeger.url, max_body_bytes=50_000).find_traces(query())
    assert "answer at" in str(err.value) and "is larger than 50000 bytes" in str(err.value)
    assert "a lower limit or a shorter time window" in err.value.hint
    assert len(JaegerClient(jaeger.url).find_traces(query()).traces) == 4


def test_services_and_ping_through_the_fixture(jaeger_emulator: JaegerEmulator) -> None:  # noqa: F811
    client = JaegerClient(jaeger_emulator.url)
    assert client.services() == [] and client.ping() >= 0
    jaeger_emulator.traces.extend(shop_traces())
    assert client.services() == ["productpage.shop", "ratings.shop", "reviews.shop"]
