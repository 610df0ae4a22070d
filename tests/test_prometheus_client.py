"""PrometheusClient against the real Prometheus (tests.prom_server) and against a stub HTTP server
that plays the things a user may point the app at by mistake: an HTML page, an error, a hang, a
proxy demanding credentials."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from meshdesk.sources.base import PrometheusError, Unauthorized, Unreachable
from meshdesk.sources.prometheus import (
    MalformedResponse,
    PrometheusClient,
    PrometheusForbidden,
    PrometheusHTTPError,
    PrometheusTimeout,
    PrometheusUnauthorized,
    PrometheusUnreachable,
    PromQLError,
    parse_value,
)
from tests.prom_server import (
    HANG,
    PrometheusServer,
    StubRequest,
    StubResponse,
    StubServer,
    free_port,
    prometheus_server,  # noqa: F401 - the session fixture
    prometheus_vector,
    self_signed_cert,
)

TOKEN = "tok-SECRET-4711"
PASSWORD = "pw-SECRET-0815"

OK_BODY = prometheus_vector([({"job": "x"}, "1")])
MATRIX_BODY = {"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"job": "x"}, "values": [[1700000000, "1"], [1700000030, "NaN"]]}]}}


def ok(_req: StubRequest) -> StubResponse:
    return StubResponse(200, OK_BODY)


# --- real Prometheus ------------------------------------------------------------------------------


@pytest.mark.prometheus
def test_instant_query_returns_exact_rate(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    client = PrometheusClient(prometheus_server.url)
    result = client.query(
        'sum(rate(istio_requests_total{reporter="destination",source_workload="istio-ingressgateway"}[600s]))',
        time=prometheus_server.query_time,
    )
    assert len(result) == 1
    assert result[0].value == pytest.approx(10.0, abs=1e-6)
    assert result[0].timestamp == prometheus_server.query_time
    assert result.warnings == []


@pytest.mark.prometheus
def test_query_range_and_buildinfo_and_ping(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    client = PrometheusClient(prometheus_server.url)
    end = prometheus_server.query_time
    series = client.query_range(
        'sum(rate(istio_requests_total{reporter="destination",destination_workload="details-v1"}[300s]))',
        end - 1200, end, 60)
    assert len(series) == 1
    assert [t for t, _ in series[0].points] == [float(t) for t in range(end - 1200, end + 1, 60)]
    assert all(v == pytest.approx(10.0, abs=1e-6) for _, v in series[0].points)  # 8 ok + 2 failed per s
    assert client.buildinfo()["version"].startswith("2.")
    assert client.ping() >= 0.0


@pytest.mark.prometheus
def test_nan_and_infinities_are_floats(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    client = PrometheusClient(prometheus_server.url)
    assert math.isinf(client.query("1/0")[0].value) and client.query("1/0")[0].value > 0
    assert client.query("-1/0")[0].value == -math.inf
    assert math.isnan(client.query("0/0")[0].value)
    assert parse_value("+Inf") == math.inf and parse_value("-Inf") == -math.inf and math.isnan(parse_value("NaN"))


@pytest.mark.prometheus
def test_syntax_error_is_promql_error_with_prometheus_message(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    client = PrometheusClient(prometheus_server.url)
    with pytest.raises(PromQLError) as err:
        client.query("sum(rate(istio_requests_total[5m])")
    assert err.value.error_type == "bad_data"
    assert "parse error" in str(err.value)
    assert isinstance(err.value, PrometheusError)


@pytest.mark.prometheus
def test_long_query_fits_in_post(prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A query far longer than URLs may be (~100 kB of namespaces) still runs."""
    client = PrometheusClient(prometheus_server.url)
    names = "|".join(f"namespace-number-{i:05d}" for i in range(4000)) + "|bookinfo"
    result = client.query(
        f'sum(rate(istio_requests_total{{reporter="destination",destination_workload_namespace=~"{names}"}}[600s]))',
        time=prometheus_server.query_time)
    assert len(names) > 90_000
    assert result[0].value == pytest.approx(10 + 8 + 2 + 3 + 5 + 4 + 1 + 2 + 1, abs=1e-6)


def test_closed_port_is_unreachable() -> None:
    port = free_port()
    client = PrometheusClient(f"http://127.0.0.1:{port}", token=TOKEN)
    with pytest.raises(PrometheusUnreachable) as err:
        client.query("up")
    assert "connection refused" in str(err.value)
    assert isinstance(err.value, Unreachable) and isinstance(err.value, PrometheusError)
    assert TOKEN not in str(err.value) and TOKEN not in repr(err.value)


def test_unknown_host_is_unreachable() -> None:
    client = PrometheusClient("http://prometheus.invalid:9090", timeout=10)
    with pytest.raises(PrometheusUnreachable) as err:
        client.query("up")
    assert "prometheus.invalid" in str(err.value)


def test_settings_that_cannot_be_used_are_plain_errors(tmp_path: Path) -> None:
    """A CA bundle file gone since it was saved, or a token no HTTP header can carry (saved by hand):
    a Prometheus error that says which, not a raw OSError or UnicodeEncodeError in the banner."""
    with pytest.raises(PrometheusUnreachable) as err:  # checked before any connection is made
        PrometheusClient(f"https://127.0.0.1:{free_port()}", ca_bundle=str(tmp_path / "gone.pem")).query("up")
    assert "CA bundle" in str(err.value)
    with StubServer(lambda r: StubResponse(200, prometheus_vector([({}, "1")]))) as stub:
        with pytest.raises(PrometheusUnreachable) as err:
            PrometheusClient(stub.url, token="tok€n").query("up")
        assert "characters an HTTP header cannot carry" in str(err.value) and "tok€n" not in str(err.value)


# --- stub server: wrong answers -------------------------------------------------------------------


def test_html_page_is_malformed_response() -> None:
    page = "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"
    with StubServer(lambda r: StubResponse(200, page, "text/html")) as stub:
        with pytest.raises(MalformedResponse) as err:
            PrometheusClient(stub.url).query("up")
    assert "a web page instead of the Prometheus API's JSON" in str(err.value)
    assert "path prefix" in str(err.value) and "<html" not in str(err.value)


LOGIN_PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign In &middot; Corp SSO</title>'
              '</head><body><form method="POST" action="/oauth2/start"><input type="hidden" name="csrf" '
              'value="csrf-SECRET-9b1e"><button>Sign in with Okta</button></form></body></html>')


def test_an_auth_proxys_login_page_is_said_to_want_a_login_not_a_path_prefix() -> None:
    """Prometheus behind an auth proxy (oauth2-proxy) answers a request without its login with the proxy's
    sign-in page, straight away or through a redirect: the message quoted the page's HTML (its form's
    hidden token included) and sent the user to check the path prefix; it names the page and says to give
    the credentials or headers the proxy takes in Settings."""

    def proxy(req: StubRequest) -> StubResponse:
        if req.path.startswith("/oauth2/"):
            return StubResponse(200, LOGIN_PAGE, "text/html; charset=utf-8")
        return StubResponse(302, "", "text/html", {"Location": "/oauth2/sign_in?rd=%2Fapi%2Fv1%2Fquery"})

    for responder in (proxy, lambda r: StubResponse(200, LOGIN_PAGE, "text/html")):
        with StubServer(responder) as stub:
            with pytest.raises(MalformedResponse) as err:
                PrometheusClient(stub.url, token=TOKEN).query("up")
        text = str(err.value)
        assert 'answered with a web page ("Sign In · Corp SSO")' in text
        assert "a login page of an auth proxy in front of Prometheus" in text
        assert err.value.hint.startswith("if it wants a login, give Prometheus a bearer token, a user name and "
                                         "password or the headers the proxy takes in Settings for this context")
        assert "csrf-SECRET-9b1e" not in text and "<form" not in text and TOKEN not in text
    # the sign-in page on another address (the company's SSO) is not followed, and not taken for Prometheus
    with StubServer(lambda r: StubResponse(302, "", "text/html",
                                           {"Location": "https://sso.example.invalid/login?client=prom"})) as stub:
        with pytest.raises(PrometheusUnreachable) as moved:
            PrometheusClient(stub.url, token=TOKEN).query("up")
    assert "if it is a login page, give Prometheus a bearer token" in moved.value.hint


def test_a_403_at_prometheus_own_address_points_at_the_credentials_given_for_it() -> None:
    """A Prometheus URL given in Settings (or --prometheus) whose auth proxy refuses the token: the hint
    said the user's account may not use the API server's service proxy, which was not used at all."""
    with StubServer(lambda r: StubResponse(403, "Forbidden")) as stub:
        with pytest.raises(PrometheusForbidden) as err:
            PrometheusClient(stub.url, token=TOKEN).query("up")
    assert "service proxy" not in str(err.value)
    assert err.value.hint == ("what is in front of it (an auth proxy) did not accept the credentials or headers "
                              "sent: check them in Settings for this context")


def test_json_of_the_wrong_shape_is_malformed_response() -> None:
    answers = [
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": "oops"}]}},
        {"status": "success", "data": {"resultType": "surprise", "result": []}},
        {"hello": "world"},
        ["not", "an", "object"],
    ]
    for body in answers:
        with StubServer(lambda r, b=body: StubResponse(200, b)) as stub:  # type: ignore[misc]
            with pytest.raises(MalformedResponse):
                PrometheusClient(stub.url).query("up")


def test_decoding_gives_the_garbage_collector_back_as_it_was() -> None:
    """The client pauses the collector while it decodes an answer; whatever the answer, the app gets
    the collector back as it had it (on or off)."""
    import gc

    bad = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": "oops"}]}}
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            with StubServer(ok) as stub:
                assert PrometheusClient(stub.url).query("up")[0].value == 1.0
            assert gc.isenabled() is enabled
            with StubServer(lambda r: StubResponse(200, bad)) as stub:
                with pytest.raises(MalformedResponse):
                    PrometheusClient(stub.url).query("up")
            assert gc.isenabled() is enabled
            with StubServer(lambda r: StubResponse(200, MATRIX_BODY)) as stub:
                assert PrometheusClient(stub.url).query_range("up", 0, 60, 30)
            assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_server_error_is_http_error_with_excerpt() -> None:
    with StubServer(lambda r: StubResponse(502, "Bad Gateway: upstream prometheus is down")) as stub:
        with pytest.raises(PrometheusHTTPError) as err:
            PrometheusClient(stub.url).query("up")
    assert err.value.status == 502
    assert "HTTP 502" in str(err.value) and "upstream prometheus is down" in str(err.value)
    # a web page (a proxy's error or login page) is named by its title, its HTML (form tokens) not quoted
    page = ('<html><head><meta name="csrf" content="csrf-SECRET-77"><title>502 Bad Gateway</title></head>'
            '<body><center>nginx</center></body></html>')
    with StubServer(lambda r: StubResponse(502, page, "text/html")) as stub:
        with pytest.raises(PrometheusHTTPError) as err:
            PrometheusClient(stub.url).query("up")
    assert str(err.value).endswith('answered HTTP 502: a web page ("502 Bad Gateway")')
    assert "csrf-SECRET" not in str(err.value) + err.value.body


def test_an_answer_cut_short_is_said_so_not_blamed_on_the_address() -> None:
    """A 200 whose JSON ends early (a proxy's size or time limit) was "answered with something else than
    the Prometheus API's JSON ... (check the Prometheus address and its path prefix)"; a connection closed in
    the middle of the answer was "Cannot reach Prometheus at ...: ChunkedEncodingError"."""
    import socket
    import threading

    cut = '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"x"},"value":[1700000000,"1'
    with StubServer(lambda r: StubResponse(200, cut, "application/json")) as stub:
        with pytest.raises(MalformedResponse) as err:
            PrometheusClient(stub.url).query("up")
    assert err.value.message == f"{stub.url} sent an answer that ends before its JSON does ({len(cut)} bytes came)"
    assert "cut short" in err.value.hint and "path prefix" not in err.value.hint

    server = socket.create_server(("127.0.0.1", 0))

    def answer_half() -> None:  # says 1000 bytes are coming, sends 40 and hangs up
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                         + cut[:40].encode())

    thread = threading.Thread(target=answer_half, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        with pytest.raises(PrometheusUnreachable) as closed:
            PrometheusClient(url).query("up")
    finally:
        thread.join(10)
        server.close()
    assert closed.value.message == (f"Prometheus at {url} stopped in the middle of its answer (the connection closed "
                                    "before the answer's end)")
    assert "Error" not in str(closed.value)


def test_an_api_server_status_answer_reads_as_its_message() -> None:
    """Through the API server's service proxy a dead Prometheus answers with a Kubernetes Status
    object: the error says what the API server said, not its JSON."""
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": "error trying to reach service: dial tcp 10.244.0.12:9090: connect: connection refused",
              "reason": "ServiceUnavailable", "code": 503}
    with StubServer(lambda r: StubResponse(503, status)) as stub:
        with pytest.raises(PrometheusHTTPError) as err:
            PrometheusClient(stub.url).query("up")
    assert "HTTP 503: error trying to reach service: dial tcp 10.244.0.12:9090: connect: connection refused" \
        in str(err.value)
    assert '"kind"' not in str(err.value) and "ServiceUnavailable" not in str(err.value)


def test_hanging_server_is_timeout() -> None:
    with StubServer(lambda r: HANG) as stub:
        with pytest.raises(PrometheusTimeout) as err:
            PrometheusClient(stub.url, timeout=0.5).query("up")
    assert "did not answer within 0.5 s" in str(err.value)


def test_prometheus_error_types() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if req.params["query"] == "slow":
            return StubResponse(503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"})
        return StubResponse(422, {"status": "error", "errorType": "execution", "error": "many-to-many matching not allowed"})

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url)
        with pytest.raises(PrometheusTimeout, match="timed out"):
            client.query("slow")
        with pytest.raises(PromQLError, match="many-to-many") as err:
            client.query("a / b")
    assert err.value.error_type == "execution"


@pytest.mark.parametrize(("status", "error_type", "error"), [
    (503, "unavailable", "TSDB not ready"),
    (500, "internal", "store gateway: rpc error"),
    (200, "canceled", "query was canceled"),
    (502, "", None),
])
def test_an_error_of_prometheus_own_is_not_said_as_the_query_refused(status: int, error_type: str,
                                                                     error: str | None) -> None:
    """A Prometheus that is starting (or a Thanos missing a store) answering ``status: error`` of its own
    was said to have "refused the query", which sends the user looking at a query meshdesk made."""
    body = {"status": "error", "errorType": error_type, "error": error}
    with StubServer(lambda r: StubResponse(status, body)) as stub, pytest.raises(PromQLError) as err:
        PrometheusClient(stub.url).query("up")
    said = f"({error_type or f'HTTP {status}'}): {error or 'unknown error'}"
    assert err.value.message == f"Prometheus could not run the query {said}"
    assert "refused" not in str(err.value) and "asked again" in err.value.hint


def test_warnings_are_kept() -> None:
    body = prometheus_vector([({"a": "1"}, "2.5")], warnings=["PromQL info: partial response, store X unavailable"])
    with StubServer(lambda r: StubResponse(200, body)) as stub:
        client = PrometheusClient(stub.url)
        result = client.query("up")
    assert result[0].value == 2.5
    assert result.warnings == ["PromQL info: partial response, store X unavailable"]
    assert client.last_warnings == result.warnings


@pytest.mark.parametrize(("sent", "kept"), [
    ("store X unavailable", ["store X unavailable"]),  # one text: not split into its letters
    (5, ["5"]),  # a number: the answer failed with Python's TypeError (a traceback on meshdesk graph's stderr)
    ({"store": "X"}, ["{'store': 'X'}"]),
    (None, []),
])
def test_warnings_that_are_no_list_neither_fail_the_answer_nor_fall_apart(sent: object, kept: list[str]) -> None:
    body = prometheus_vector([({"a": "1"}, "2.5")])
    body["warnings"] = sent
    with StubServer(lambda r: StubResponse(200, body)) as stub:
        result = PrometheusClient(stub.url).query("up")
    assert result[0].value == 2.5
    assert result.warnings == kept


# --- what the client sends ------------------------------------------------------------------------


def test_path_prefix_post_form_and_time() -> None:
    def answer(req: StubRequest) -> StubResponse:
        return StubResponse(200, MATRIX_BODY if req.path.endswith("query_range") else OK_BODY)

    with StubServer(answer) as stub:
        prefix = "/api/v1/namespaces/istio-system/services/prometheus:9090/proxy"
        client = PrometheusClient(stub.url + prefix + "/")
        client.query('up{job="a b"}', time=1700000000)
        series = client.query_range("up", 1700000000, 1700000600, 30)
    assert series[0].points[0] == (1700000000.0, 1.0) and math.isnan(series[0].points[1][1])
    first, second = stub.requests
    assert (first.method, first.path) == ("POST", prefix + "/api/v1/query")
    assert first.params == {"query": 'up{job="a b"}', "time": "1700000000.0"}
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (second.method, second.path) == ("POST", prefix + "/api/v1/query_range")
    assert second.params == {"query": "up", "start": "1700000000.0", "end": "1700000600.0", "step": "30.0"}


def test_get_fallback_when_post_is_not_allowed() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if req.method == "POST":
            return StubResponse(405, "Method Not Allowed")
        return StubResponse(200, OK_BODY)

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url)
        assert client.query("up")[0].labels == {"job": "x"}
        assert client.query("up")[0].value == 1.0
    assert [r.method for r in stub.requests] == ["POST", "GET", "GET"]  # POST is tried once only
    assert stub.requests[1].params == {"query": "up"}


def test_bearer_token_and_extra_headers_are_sent() -> None:
    with StubServer(ok) as stub:
        PrometheusClient(stub.url, token=TOKEN, headers={"X-Scope-OrgID": "tenant-a"}).query("up")
    sent = stub.requests[0].headers
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["X-Scope-OrgID"] == "tenant-a"


def test_basic_auth_is_sent() -> None:
    import base64

    with StubServer(ok) as stub:
        PrometheusClient(stub.url, basic_auth=("alice", PASSWORD)).query("up")
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert stub.requests[0].headers["Authorization"] == expected


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_gets_no_credentials_or_headers(status: int) -> None:
    with StubServer(ok) as other:
        def redirect(_req: StubRequest) -> StubResponse:
            return StubResponse(status, "", headers={"Location": other.url + "/api/v1/query"})

        with StubServer(redirect) as first:
            for kwargs in ({"token": TOKEN}, {"basic_auth": ("alice", PASSWORD)}):
                client = PrometheusClient(first.url, headers={"X-Scope-OrgID": "tenant-a", "X-Api-Key": "key-SECRET-1"},
                                          **kwargs)  # type: ignore[arg-type]
                with pytest.raises(PrometheusUnreachable) as err:
                    client.query("up")
                assert "redirected to another address" in str(err.value)
                assert TOKEN not in str(err.value) and PASSWORD not in str(err.value)
    assert other.requests == []  # nothing at all went to the other host


def test_a_redirect_within_the_same_address_is_followed_with_its_headers() -> None:
    def answer(req: StubRequest) -> StubResponse:
        if req.path == "/old/api/v1/query":
            return StubResponse(302, "", headers={"Location": "/new/api/v1/query"})
        return StubResponse(200, OK_BODY)

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url + "/old", token=TOKEN, headers={"X-Scope-OrgID": "tenant-a"})
        assert client.query("up")[0].value == 1.0
    first, second = stub.requests
    assert (second.method, second.path, second.params) == ("GET", "/new/api/v1/query", {"query": "up"})
    assert second.headers["Authorization"] == f"Bearer {TOKEN}" and second.headers["X-Scope-OrgID"] == "tenant-a"


def test_401_and_403_say_what_happened_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def answer(req: StubRequest) -> StubResponse:
        # a hostile proxy echoing the credentials back in its error page
        echo = f"denied for {req.headers.get('Authorization')}"
        return StubResponse(401 if req.params["query"] == "a" else 403, echo)

    with StubServer(answer) as stub:
        client = PrometheusClient(stub.url, token=TOKEN)
        with pytest.raises(PrometheusUnauthorized) as unauthorized:
            client.query("a")
        basic = PrometheusClient(stub.url, basic_auth=("alice", PASSWORD))
        with pytest.raises(PrometheusForbidden) as forbidden:
            basic.query("b")
    assert "rejected credentials" in str(unauthorized.value)
    assert isinstance(unauthorized.value, Unauthorized)
    assert unauthorized.value.status == 401
    assert "forbidden" in str(forbidden.value)
    for text in (str(unauthorized.value), repr(unauthorized.value), unauthorized.value.body,
                 str(forbidden.value), repr(forbidden.value), forbidden.value.body,
                 repr(client), repr(basic), client.describe(), caplog.text):
        assert TOKEN not in text
        assert PASSWORD not in text
    assert "bearer token" in repr(client) and "basic auth" in repr(basic)


def test_secrets_stay_out_of_errors_for_every_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    url_with_password = f"http://alice:{PASSWORD}@127.0.0.1:{free_port()}"
    for client in (PrometheusClient(url_with_password, token=TOKEN),):
        with pytest.raises(PrometheusError) as err:
            client.query("up")
        errors.append(err.value)
        assert PASSWORD not in repr(client)
    with StubServer(lambda r: StubResponse(500, f"crash {r.headers.get('Authorization')}")) as stub:
        with pytest.raises(PrometheusHTTPError) as err:
            PrometheusClient(stub.url, token=TOKEN).query("up")
        errors.append(err.value)
    with StubServer(lambda r: StubResponse(400, {"status": "error", "errorType": "bad_data",
                                                 "error": f"bad {r.headers.get('Authorization')}"})) as stub:
        with pytest.raises(PromQLError) as perr:
            PrometheusClient(stub.url, token=TOKEN).query("up")
        errors.append(perr.value)
    with StubServer(lambda r: StubResponse(200, prometheus_vector([], warnings=[f"w {TOKEN}"]))) as stub:
        warned = PrometheusClient(stub.url, token=TOKEN).query("up")
    assert all(TOKEN not in w for w in warned.warnings)
    for e in errors:
        assert TOKEN not in str(e) and TOKEN not in repr(e)
        assert PASSWORD not in str(e) and PASSWORD not in repr(e)
    assert TOKEN not in caplog.text and PASSWORD not in caplog.text
    assert "[redacted]" in str(errors[1])


def test_a_token_in_the_urls_query_stays_out_of_errors() -> None:
    """A proxy's token may ride in the URL's query (``?token=...``): errors named the whole URL."""
    from meshdesk.sources.prometheus import safe_url

    secret = "q-SECRET-token"
    url = f"http://127.0.0.1:{free_port()}/prom?token={secret}&tenant=a"
    with pytest.raises(PrometheusError) as err:
        PrometheusClient(url).query("up")
    assert secret not in str(err.value) and secret not in repr(err.value)
    assert safe_url(url).endswith("/prom?token=***&tenant=***")
    assert safe_url(f"admin:pw@prometheus:9090?token={secret}") == "prometheus:9090?token=***"
    assert safe_url(f"http://[::1]:9090/api?token={secret}") == "http://[::1]:9090/api?token=***"  # brackets kept



def test_a_session_id_in_the_urls_path_stays_out_of_errors() -> None:
    """A servlet-style session id rides in a path segment's parameters (``/prom;jsessionid=...``), as a proxy's
    token rides in a query: errors (and the traces' alike) named the whole URL, the session's id in it."""
    from meshdesk.sources.prometheus import safe_url
    from meshdesk.sources.tracing import JaegerClient, TracingUnreachable

    secret = "Sess10n-SECRET-77"
    url = f"http://127.0.0.1:{free_port()}/prom;jsessionid={secret};v=1/api"
    with pytest.raises(PrometheusError) as err:
        PrometheusClient(url).query("up")
    assert secret not in str(err.value) and "/prom;jsessionid=***;v=***/api: connection refused" in str(err.value)
    with pytest.raises(TracingUnreachable) as traced:
        JaegerClient(url).ping()
    assert secret not in str(traced.value) and "/prom;jsessionid=***" in str(traced.value)
    assert safe_url(f"prometheus:9090/p;jsessionid={secret}") == "prometheus:9090/p;jsessionid=***"
    assert safe_url("http://h:9090/a;b/c") == "http://h:9090/a;b/c"  # no value: nothing hidden


def test_password_in_the_url_stays_out_of_an_echoed_authorization_header() -> None:
    """http://user:password@host sends the password as basic auth; a server that echoes the header in
    its error must not show the base64 of it (the basic_auth setting is already safe)."""
    import base64
    from urllib.parse import quote

    password = "p@ss:w0rd-SECRET"  # percent-encoded in the URL; sent (and echoed) decoded
    header = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

    def answer(req: StubRequest) -> StubResponse:
        sent = req.headers.get("Authorization")
        if req.params["query"] == "bad":
            return StubResponse(400, {"status": "error", "errorType": "bad_data", "error": f"header was {sent}"})
        return StubResponse(500, f"crash with {sent}; user admin, password {password}")

    with StubServer(answer) as stub:
        client = PrometheusClient(f"http://admin:{quote(password, safe='')}@127.0.0.1:{stub.port}")
        with pytest.raises(PromQLError) as bad:
            client.query("bad")
        with pytest.raises(PrometheusHTTPError) as crash:
            client.query("up")
    assert stub.requests[0].headers["Authorization"] == header  # the credentials were sent
    for err in (bad.value, crash.value):
        text = f"{err} {err!r} {getattr(err, 'body', '')}"
        assert header.split()[1] not in text and password not in text and quote(password, safe="") not in text
    assert "header was Basic [redacted]" in str(bad.value)


def test_configured_headers_and_a_sessions_own_credentials_stay_out_of_errors(
        caplog: pytest.LogCaptureFixture) -> None:
    """Headers set in Settings (``Authorization: Bearer ...``, ``X-Scope-OrgID``) and the credentials a
    given session adds (the kubeconfig's token, through the API server's proxy) were shown when the
    server echoed them: "answered HTTP 400: bad request from Bearer HdrSecretTok42"."""
    import requests

    caplog.set_level(logging.DEBUG)
    header_token, tenant, session_token = "HdrSecretTok42", "tenant-7731", "SessTok-0042"

    def answer(req: StubRequest) -> StubResponse:
        echoed = f"{req.headers.get('Authorization')} for {req.headers.get('X-Scope-OrgID')}"
        bare = str(req.headers.get("Authorization")).split()[-1]  # the credential alone, without its scheme
        if req.params["query"] == "bad":
            return StubResponse(400, {"status": "error", "errorType": "bad_data", "error": f"bad {echoed}"})
        if req.params["query"] == "warn":
            return StubResponse(200, prometheus_vector([], warnings=[f"partial: {echoed}"]))
        return StubResponse(400, f"bad request from {echoed}; credential {bare}")

    class SessionAuth(requests.auth.AuthBase):
        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            r.headers["Authorization"] = f"Bearer {session_token}"
            return r

    texts: list[str] = []
    with StubServer(answer) as stub:
        configured = PrometheusClient(stub.url, headers={"Authorization": f"Bearer {header_token}",
                                                         "X-Scope-OrgID": tenant})
        session = requests.Session()
        session.auth = SessionAuth()
        proxied = PrometheusClient(stub.url, session=session, headers={"X-Scope-OrgID": tenant})
        for client in (configured, proxied):
            with pytest.raises(PrometheusHTTPError) as http_error:
                client.query("up")
            with pytest.raises(PromQLError) as promql_error:
                client.query("bad")
            warnings = client.query("warn").warnings
            texts += [str(http_error.value), http_error.value.body, str(promql_error.value), *warnings]
    assert stub.requests[0].headers["X-Scope-OrgID"] == tenant  # the headers were sent
    assert texts[0].startswith("Prometheus at ") and "answered HTTP 400: bad request from Bearer [redacted] for [redacted]" in texts[0]
    for text in [*texts, caplog.text]:
        assert header_token not in text and tenant not in text and session_token not in text


def test_a_urls_query_is_kept_after_the_api_path_and_sent() -> None:
    """``http://host/prom?access_token=Q`` got the API path after its query
    (``/prom?access_token=Q/api/v1/query``): the token was mangled and the path wrong."""
    secret = "QueryTok-55aa"

    def answer(req: StubRequest) -> StubResponse:
        if req.method == "POST":
            return StubResponse(405, "Method Not Allowed")
        return StubResponse(200, OK_BODY)

    with StubServer(answer) as stub:
        client = PrometheusClient(f"{stub.url}/prom/?access_token={secret}#frag=FragTok77")
        assert client.query("up")[0].value == 1.0
    post, get = stub.requests
    assert (post.method, post.path) == ("POST", "/prom/api/v1/query")
    assert post.params == {"access_token": secret, "query": "up"}  # the form, and the URL's own query
    assert (get.method, get.path, get.params) == ("GET", "/prom/api/v1/query", {"access_token": secret, "query": "up"})
    assert secret not in repr(client) and "FragTok77" not in repr(client)


def test_a_fragment_is_hidden_like_a_query() -> None:
    from meshdesk.sources.prometheus import safe_url

    assert safe_url("http://h:9090/prom#access_token=FragTok77") == "http://h:9090/prom#access_token=***"
    assert safe_url("http://h:9090/prom?a=1#FragTok77") == "http://h:9090/prom?a=***#***"
    assert safe_url("admin:pw@h:9090#access_token=FragTok77") == "h:9090#access_token=***"
    with pytest.raises(PrometheusUnreachable) as err:
        PrometheusClient(f"http://127.0.0.1:{free_port()}/p#access_token=FragTok77").query("up")
    assert "FragTok77" not in str(err.value) and "/p#access_token=***" in str(err.value)


def test_an_answer_nested_too_deeply_is_malformed_response() -> None:
    """JSON arrays nested 100 000 deep raised RecursionError out of the client: a traceback in
    ``meshdesk graph``."""
    deep = '{"status":"success","data":{"resultType":"vector","result":' + "[" * 100_000 + "]" * 100_000 + "}}"
    with StubServer(lambda r: StubResponse(200, deep, "application/json")) as stub:
        with pytest.raises(MalformedResponse) as err:
            PrometheusClient(stub.url).query("up")
    assert str(err.value) == (f"{stub.url} sent JSON nested too deeply to be a Prometheus API answer "
                              "(check the Prometheus address and its path prefix)")


def test_bad_url_is_refused_early() -> None:
    with pytest.raises(ValueError, match="http"):
        PrometheusClient("prometheus:9090")


@pytest.mark.parametrize("url", ["admin:Sup3rSecret@prometheus.example.com:9090",
                                 "http//admin:Sup3rSecret@prometheus.example.com"])
def test_a_url_without_its_scheme_does_not_echo_its_password(url: str) -> None:
    """Typed without "http://", the URL is refused, and the message shows where, not the password."""
    with pytest.raises(ValueError, match="http") as err:
        PrometheusClient(url)
    assert "Sup3rSecret" not in str(err.value) and "prometheus.example.com" in str(err.value)


# --- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    pair = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if pair is None:
        pytest.skip("openssl is not installed: cannot make a self-signed certificate")
    return pair


def test_self_signed_certificate_is_refused_by_default(tls_pair: tuple[str, str]) -> None:
    with StubServer(ok, tls=tls_pair) as stub:
        with pytest.raises(PrometheusUnreachable) as err:
            PrometheusClient(stub.url).query("up")
    assert "TLS" in str(err.value)
    assert "CA bundle" in str(err.value)
    assert stub.requests == []


def test_ca_bundle_and_insecure_switch_accept_it(tls_pair: tuple[str, str]) -> None:
    with StubServer(ok, tls=tls_pair) as stub:
        assert PrometheusClient(stub.url, ca_bundle=tls_pair[0]).query("up")[0].value == 1.0
        insecure = PrometheusClient(stub.url, insecure=True)
        assert insecure.query("up")[0].value == 1.0
    assert len(stub.requests) == 2
    assert "TLS verification off" in insecure.describe()


def test_a_ca_bundle_given_that_does_not_fit_is_named_with_what_is_wrong(tls_pair: tuple[str, str],
                                                                          tmp_path: Path) -> None:
    """A CA bundle set in Settings that is another CA's, or no certificate at all (a key, a truncated copy):
    the message said "verification failed" or "TLS handshake failed" and advised to set a CA bundle, the
    one set not named."""
    other = self_signed_cert(tmp_path)
    assert other is not None
    junk = tmp_path / "copied-from-a-chat.pem"
    junk.write_text("MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBmR1bW15\n")
    with StubServer(ok, tls=tls_pair) as stub:
        with pytest.raises(PrometheusUnreachable) as wrong_ca:
            PrometheusClient(stub.url, ca_bundle=other[0], token=TOKEN).query("up")
        with pytest.raises(PrometheusUnreachable) as no_cert:
            PrometheusClient(stub.url, ca_bundle=str(junk), token=TOKEN).query("up")
    assert wrong_ca.value.message == (f"Cannot reach Prometheus at {stub.url}: TLS certificate verification failed "
                                      f"(self-signed certificate): its certificate is not signed by a CA of the CA "
                                      f"bundle {other[0]}")
    assert wrong_ca.value.hint.startswith("give the certificate of the CA that signed the one of Prometheus as the "
                                          "CA bundle, or allow insecure TLS")
    assert no_cert.value.message == f"Cannot reach Prometheus at {stub.url}: its CA bundle {junk} holds no certificate"
    assert no_cert.value.hint.startswith("give a PEM file with the certificate of the CA")
    assert stub.requests == []


def test_plain_http_to_a_tls_port_says_so(tls_pair: tuple[str, str], tmp_path: Path) -> None:
    with StubServer(ok, tls=tls_pair) as stub:
        with pytest.raises(PrometheusError):
            PrometheusClient(stub.url.replace("https://", "http://"), timeout=5).query("up")


def test_a_given_session_keeps_its_own_tls_and_credentials(tls_pair: tuple[str, str]) -> None:
    """Through the API server proxy the session carries the cluster's CA and auth; the client must not
    override them with the system CAs (nor let REQUESTS_CA_BUNDLE do so) or drop the session's auth."""
    import requests

    session = requests.Session()
    session.verify = tls_pair[0]
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    with StubServer(ok, tls=tls_pair) as stub:
        client = PrometheusClient(stub.url, session=session, headers={"X-Scope-OrgID": "t"})
        assert client.query("up")[0].value == 1.0
        client.close()  # not the client's to close: the session still works
        assert PrometheusClient(stub.url, session=session).query("up")[0].value == 1.0
    assert stub.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert stub.requests[0].headers["X-Scope-OrgID"] == "t"
    assert TOKEN not in repr(client)


def test_a_secret_the_excerpt_cuts_does_not_leak_and_a_tenant_id_is_no_secret() -> None:
    """The start of an error body is shown, redacted: a long token echoed twice was cut through its
    second copy, which the redaction of the first (shorter once redacted) brought into view, 46
    characters of it. And a short tenant id (X-Scope-OrgID: 1) was redacted everywhere, garbling
    "1:5: parse error ... position 1"."""
    token = "f00dfeedc0ffee1234567890abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"

    def answer(req: StubRequest) -> StubResponse:
        if req.params.get("query") == "bad":
            return StubResponse(400, {"status": "error", "errorType": "bad_data",
                                      "error": "1:5: parse error: unexpected character at position 1"})
        return StubResponse(502, f"rejected {token} (" + "x" * 120 + f") credential={token}")

    with StubServer(answer) as stub:
        with pytest.raises(PrometheusError) as err:
            PrometheusClient(stub.url, token=token).query("up")
        assert not any(token[:k] in str(err.value) for k in range(8, len(token))), str(err.value)
        with pytest.raises(PrometheusError) as refused:
            PrometheusClient(stub.url, headers={"X-Scope-OrgID": "1"}).query("bad")
        assert "1:5: parse error: unexpected character at position 1" in str(refused.value)


def test_a_missing_ca_bundle_and_a_line_break_in_a_credential_are_said_in_words(tmp_path: Path) -> None:
    """QA: a CA bundle that is gone was "Cannot reach Prometheus at ...: OSError", and a token or header
    value with a line break (a settings file edited by hand, a pasted token's newline) was "...:
    InvalidHeader": the exception's class name, not what is wrong."""
    gone = tmp_path / "gone.pem"
    with pytest.raises(PrometheusUnreachable) as err:
        PrometheusClient(f"https://127.0.0.1:{free_port()}", ca_bundle=str(gone)).query("up")
    assert f"its CA bundle {gone} does not exist" in str(err.value) and "OSError" not in str(err.value)
    with StubServer(lambda r: StubResponse(200, prometheus_vector([({}, "1")]))) as stub:
        for client in (PrometheusClient(stub.url, token="line-token-1234\n"),
                       PrometheusClient(stub.url, headers={"X-Scope-OrgID": "team\nb"})):
            with pytest.raises(PrometheusUnreachable) as err:
                client.query("up")
            message = str(err.value)
            assert "characters an HTTP header cannot carry" in message and "InvalidHeader" not in message
            assert "line-token-1234" not in message


@pytest.mark.parametrize(("said", "seconds"), [("6h", 6 * 3600), ("15d", 15 * 86400), ("1d or 10GiB", 86400),
                                               ("10GiB", None), ("", None)])
def test_storage_retention_as_prometheus_says_it(said: str, seconds: float | None) -> None:
    """How long Prometheus keeps its data (Replay reaches no further), from its runtimeinfo: a time, a time
    or a size (the time counts), or a size alone (no time is known)."""
    answer = {"status": "success", "data": {"startTime": "2026-01-01T00:00:00Z", "storageRetention": said}}
    with StubServer(lambda r: StubResponse(200, answer)) as stub:
        with PrometheusClient(stub.url) as client:
            assert client.storage_retention() == seconds
    assert [r.path for r in stub.requests] == ["/api/v1/status/runtimeinfo"]
