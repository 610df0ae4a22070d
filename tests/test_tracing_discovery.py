"""Finding a cluster's tracing backend and reaching it through the API server: the Jaeger emulator behind
the kube emulator's service proxy, read by the real JaegerClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from meshdesk.mesh.traces import TARGET_APP, TraceQuery, TraceTarget
from meshdesk.sources.base import TracingError, TracingURLError
from meshdesk.sources.tracing_discovery import connect_tracing, find_tracing_services
from tests.jaeger_emulator import JaegerEmulator
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_tracing_client import T0, shop_traces

QUERY = TraceQuery(TraceTarget(TARGET_APP, "shop", "reviews"), T0 - 600, T0 + 60)


def _service(emu: KubeEmulator, ns: str, name: str, ports: list[dict[str, Any]],
             labels: dict[str, str] | None = None) -> None:
    if emu.get("namespaces", "", ns) is None:
        emu.add_namespace(ns)
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
             "spec": {"selector": {"app": name}, "ports": ports}})


def _istio_addon(emu: KubeEmulator) -> None:
    _service(emu, "istio-system", "tracing", [{"name": "http-query", "port": 80, "targetPort": 16686}],
             {"app": "jaeger"})
    _service(emu, "istio-system", "jaeger-collector", [{"name": "jaeger-collector-http", "port": 14268}],
             {"app": "jaeger"})


@pytest.fixture
def jaeger() -> Iterator[JaegerEmulator]:
    with JaegerEmulator(shop_traces(), base_path="/jaeger") as emulator:
        yield emulator


@pytest.fixture
def plain_jaeger() -> Iterator[JaegerEmulator]:
    with JaegerEmulator(shop_traces()) as emulator:
        yield emulator


def _root(j: JaegerEmulator) -> str:
    return f"http://127.0.0.1:{j.port}"


def test_istios_jaeger_addon_through_the_service_proxy_under_jaeger(kube_emulator: KubeEmulator,
                                                                     jaeger: JaegerEmulator) -> None:
    emu = kube_emulator
    _istio_addon(emu)
    emu.proxy_service("istio-system", "tracing", 80, _root(jaeger))
    emu.require_token("user-token-1234abcd")
    conn = connect_tracing(emu.api_client(token="user-token-1234abcd"))
    try:
        assert conn.description == ("API server service proxy to istio-system/tracing:80 (Istio's Jaeger addon), "
                                    "under /jaeger")
        assert [t.trace_id for t in conn.client.find_traces(QUERY).traces] == ["a1", "b2", "c3"]
        assert any("/services/tracing:80/proxy/jaeger/api/traces" in p for _m, p, _h in emu.requests)
        assert "user-token" not in repr(conn.client)
    finally:
        conn.close()


def test_a_jaeger_query_service_elsewhere_without_base_path(kube_emulator: KubeEmulator,
                                                             plain_jaeger: JaegerEmulator) -> None:
    emu = kube_emulator
    # a collector labelled as Jaeger has no query port: passed over
    _service(emu, "observability", "jaeger-collector", [{"name": "grpc", "port": 14250}], {"app": "jaeger"})
    _service(emu, "observability", "jaeger-query", [{"name": "http-query", "port": 16686},
                                                    {"name": "grpc-query", "port": 16685}])
    emu.proxy_service("observability", "jaeger-query", 16686, _root(plain_jaeger))
    conn = connect_tracing(emu.api_client())
    try:
        assert conn.description == "API server service proxy to observability/jaeger-query:16686 (Jaeger)"
        assert len(conn.client.find_traces(QUERY).traces) == 3
    finally:
        conn.close()


def test_tempos_query_frontend(kube_emulator: KubeEmulator, plain_jaeger: JaegerEmulator) -> None:
    emu = kube_emulator
    _service(emu, "tempo", "tempo-query-frontend", [{"name": "http", "port": 3100},
                                                    {"name": "tempo-query-jaeger-ui", "port": 16686}],
             {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "query-frontend"})
    _service(emu, "tempo", "tempo-distributor", [{"name": "http", "port": 3100}],
             {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "distributor"})
    emu.proxy_service("tempo", "tempo-query-frontend", 16686, _root(plain_jaeger))
    assert [str(s) for s in find_tracing_services(emu.api_client(), tracing_api="jaeger")] == \
        ["tempo/tempo-query-frontend:16686"]
    # auto: its own API (the port named http) first, then its Jaeger frontend
    assert [(str(s), s.api) for s in find_tracing_services(emu.api_client())] == \
        [("tempo/tempo-query-frontend:3100", "tempo"), ("tempo/tempo-query-frontend:16686", "jaeger")]
    conn = connect_tracing(emu.api_client())  # its own API does not answer here: the Jaeger frontend
    try:
        assert conn.description == ("API server service proxy to tempo/tempo-query-frontend:16686 "
                                    "(Tempo's query frontend)")
    finally:
        conn.close()


def test_tempo_as_one_binary_and_the_frontends_discovery_twin(kube_emulator: KubeEmulator) -> None:
    """Tempo run as one binary carries no component label; tempo-distributed's query frontend has a headless
    "-discovery" twin (asked second); a Tempo without the Jaeger frontend's port 16686 is passed over."""
    emu = kube_emulator
    labels = {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "query-frontend"}
    _service(emu, "tracing", "tempo-query-frontend-discovery", [{"name": "jaeger-ui", "port": 16686}], labels)
    _service(emu, "tracing", "tempo-query-frontend", [{"name": "jaeger-ui", "port": 16686}], labels)
    _service(emu, "tracing", "tempo-querier", [{"name": "http-query", "port": 3100}],
             {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "querier"})
    _service(emu, "single", "tempo", [{"name": "tempo-prom-metrics", "port": 3100},
                                      {"name": "tempo-query-jaeger-ui", "port": 16686}],
             {"app.kubernetes.io/name": "tempo"})
    _service(emu, "bare", "tempo", [{"name": "http-query", "port": 3100}], {"app.kubernetes.io/name": "tempo"})
    found = find_tracing_services(emu.api_client(), tracing_api="jaeger")
    assert [(str(s), s.what) for s in found] == [
        ("tracing/tempo-query-frontend:16686", "Tempo's query frontend"),
        ("tracing/tempo-query-frontend-discovery:16686", "Tempo's query frontend"),
        ("single/tempo:16686", "Tempo")]
    # auto: a Tempo's own API (its port 3200, or one named for it) before its Jaeger frontend
    assert [(str(s), s.api) for s in find_tracing_services(emu.api_client())] == [
        ("tracing/tempo-query-frontend:16686", "jaeger"), ("tracing/tempo-query-frontend-discovery:16686", "jaeger"),
        ("single/tempo:3100", "tempo"), ("single/tempo:16686", "jaeger")]


def test_a_backend_that_is_down_is_said_with_what_was_tried(kube_emulator: KubeEmulator) -> None:
    _istio_addon(kube_emulator)  # no endpoints behind it: the API server answers 503
    with pytest.raises(TracingError) as err:
        connect_tracing(kube_emulator.api_client())
    text = str(err.value)
    assert text.startswith("The tracing backend cannot be reached: istio-system/tracing:80 (Istio's Jaeger addon): ")
    assert "HTTP 503" in text and "no endpoints available" in text


def test_istios_addon_comes_first(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    _service(emu, "tempo", "tempo-query-frontend", [{"name": "jaeger-ui", "port": 16686}],
             {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "query-frontend"})
    _service(emu, "observability", "jaeger-query", [{"name": "http-query", "port": 16686}])
    _istio_addon(emu)
    assert [str(s) for s in find_tracing_services(emu.api_client())] == [
        "istio-system/tracing:80", "observability/jaeger-query:16686", "tempo/tempo-query-frontend:16686"]


def test_none_found_says_what_was_looked_for_and_how_to_give_the_url(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add_namespace("istio-system")
    with pytest.raises(TracingError) as err:
        connect_tracing(kube_emulator.api_client())
    text = str(err.value)
    assert text.startswith("No tracing backend was found: no service istio-system/tracing")
    assert "Settings for this context" in text and "--tracing URL" in text


def test_listing_forbidden_is_said(kube_emulator: KubeEmulator) -> None:
    kube_emulator.forbid(resource="services")
    with pytest.raises(TracingError) as err:
        connect_tracing(kube_emulator.api_client())
    assert "could not be looked for: your account is not allowed" in str(err.value)


def test_proxy_refused_is_said(kube_emulator: KubeEmulator, jaeger: JaegerEmulator) -> None:
    emu = kube_emulator
    _istio_addon(emu)
    emu.proxy_service("istio-system", "tracing", 80, _root(jaeger))
    emu.forbid(resource="services/proxy")
    with pytest.raises(TracingError) as err:
        connect_tracing(emu.api_client())
    assert "cannot be reached: istio-system/tracing:80 (Istio's Jaeger addon)" in str(err.value)
    assert "403" in str(err.value) and "services/proxy" in err.value.hint


def test_an_explicit_url_wins(kube_emulator: KubeEmulator, plain_jaeger: JaegerEmulator) -> None:
    _istio_addon(kube_emulator)
    conn = connect_tracing(kube_emulator.api_client(), url=plain_jaeger.url,
                           auth={"type": "basic", "username": "u", "password": "pw-SECRET-77"})
    try:
        assert conn.description == f"URL {plain_jaeger.url}, Jaeger's query API"
        assert "Basic" in plain_jaeger.requests[-1].headers["Authorization"]
    finally:
        conn.close()
    assert not [p for _m, p, _h in kube_emulator.requests if "tracing" in p]


def test_an_explicit_url_that_is_no_url(kube_emulator: KubeEmulator) -> None:
    with pytest.raises(TracingURLError) as err:
        connect_tracing(kube_emulator.api_client(), url="http://user:pw-SECRET-77@ja eger:16686")
    assert "cannot be used" in str(err.value) and "pw-SECRET-77" not in str(err.value)
    assert not err.value.transient


def test_a_backend_that_failed_once_is_found_again_and_none_found_is_not_asked_for_at_every_refresh(
        kube_emulator: KubeEmulator, jaeger: JaegerEmulator) -> None:
    """Through a ClusterSource, as the Traces dock reads: a failure of the backend (a restart of its pod)
    is said, and the next search reaches it again (it said "the cluster was closed" for the rest of the
    session); with no backend in the cluster, the services are not listed again at each refresh, only
    after a while or when the user asks (Refresh)."""
    from meshdesk.sources.base import TracingNotFound
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for

    emu = kube_emulator
    emu.add_namespace("istio-system")
    source = ClusterSource(emu.api_client(), context="lab")
    traces = tracing_source_for(source)
    assert traces is not None
    try:
        with pytest.raises(TracingNotFound, match="No tracing backend was found"):
            traces.find_traces(QUERY)
        listed = sum(1 for _m, p, _h in emu.requests if p.startswith("/api/v1/services"))
        assert listed > 0
        # the next refresh: said again, the cluster not asked
        with pytest.raises(TracingNotFound, match=r"looks again in about 5 min, or now with Refresh"):
            traces.find_traces(QUERY)
        assert sum(1 for _m, p, _h in emu.requests if p.startswith("/api/v1/services")) == listed
        # Istio's addon installed meanwhile; the user presses Refresh: found at once
        _istio_addon(emu)
        emu.proxy_service("istio-system", "tracing", 80, _root(jaeger))
        traces.look_again()  # type: ignore[attr-defined]
        assert [t.trace_id for t in traces.find_traces(QUERY).traces] == ["a1", "b2", "c3"]
        # the backend fails once (its pod restarting): said as the backend's failure ...
        emu.fail(502, path="/api/v1/namespaces/istio-system/services/tracing:80/proxy")
        with pytest.raises(TracingError) as err:
            traces.find_traces(QUERY)
        assert "closed" not in str(err.value)
        # ... and once it is back, the next search reads it
        emu.clear_faults()
        assert [t.trace_id for t in traces.find_traces(QUERY).traces] == ["a1", "b2", "c3"]
    finally:
        source.close()


def test_a_late_failure_on_a_way_given_up_does_not_throw_away_the_way_found_since(
        kube_emulator: KubeEmulator, plain_jaeger: JaegerEmulator) -> None:
    """The Traces dock reads its backend from two threads: its searches, and the trace opened (read whole).
    A failure (the backend restarting) gives up the way to the backend, and the next search finds it again.
    A trace read that failed late, on the way given up already, gave up the new one a search had found
    since: closed while in use, the dock told "not reachable" while the backend answered, and the backend
    looked for again at the next search. Only the way that failed is given up."""
    import threading

    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for

    source = ClusterSource(kube_emulator.api_client(), context="lab", tracing_url=plain_jaeger.url)
    traces = tracing_source_for(source)
    assert traces is not None

    def pings() -> int:  # how often the backend was reached anew (connecting asks it for its services)
        return sum(1 for r in plain_jaeger.requests if r.path == "/api/services")

    try:
        assert traces.find_traces(QUERY).traces
        gate, held = plain_jaeger.hold_trace_reads()
        plain_jaeger.failing.update({"/api/traces": 503, "/api/traces/": 503})  # the backend restarts
        read: list[object] = []

        def open_trace() -> None:
            try:
                read.append(traces.trace("a1"))  # type: ignore[attr-defined]
            except TracingError as e:
                read.append(e)

        reader = threading.Thread(target=open_trace, name="trace-open", daemon=True)
        reader.start()
        try:
            assert held.wait(10)  # a trace is being read whole, on the way found first
            with pytest.raises(TracingError, match="HTTP 503"):
                traces.find_traces(QUERY)  # a search fails: that way is given up
            del plain_jaeger.failing["/api/traces"]
            before = pings()
            assert traces.find_traces(QUERY).traces  # the backend is back: found again
            assert pings() == before + 1
            found_again = traces.describe()
        finally:
            gate.set()  # the trace read fails late, on the way given up
            reader.join(10)
        assert read and isinstance(read[0], TracingError) and "503" in str(read[0])
        assert traces.describe() == found_again and "not reachable" not in found_again
        assert traces.find_traces(QUERY).traces and pings() == before + 1  # not looked for again
    finally:
        source.close()


# --- Tempo's own API ------------------------------------------------------------------------------------


def test_tempos_own_api_through_the_service_proxy(kube_emulator: KubeEmulator) -> None:
    from meshdesk.sources.tracing import TempoClient
    from tests.tempo_emulator import TempoEmulator

    emu = kube_emulator
    _service(emu, "tempo", "tempo-query-frontend", [{"name": "http-metrics", "port": 3200},
                                                    {"name": "grpc", "port": 9095}],
             {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/component": "query-frontend"})
    with TempoEmulator(shop_traces()) as tempo:
        emu.proxy_service("tempo", "tempo-query-frontend", 3200, tempo.url)
        assert find_tracing_services(emu.api_client(), tracing_api="jaeger") == []  # no Jaeger frontend
        conn = connect_tracing(emu.api_client())
        try:
            assert isinstance(conn.client, TempoClient)
            assert conn.description == ("API server service proxy to tempo/tempo-query-frontend:3200 (Tempo's "
                                        "query frontend, its own API)")
            assert [t.trace_id.lstrip("0") for t in conn.client.find_traces(QUERY).traces] == ["a1", "b2", "c3"]
        finally:
            conn.close()
        with pytest.raises(TracingError) as err:
            connect_tracing(emu.api_client(), tracing_api="jaeger")
        assert "no Tempo with its Jaeger query port (16686)" in str(err.value)


def test_a_url_is_asked_through_the_api_it_answers_or_the_one_chosen(plain_jaeger: JaegerEmulator) -> None:
    from meshdesk.sources.base import TracingHTTPError
    from meshdesk.sources.tracing import JaegerClient, TempoClient
    from tests.tempo_emulator import TempoEmulator

    with TempoEmulator(shop_traces()) as tempo:
        conn = connect_tracing(None, url=tempo.url)  # auto: it answers Tempo's echo
        try:
            assert type(conn.client) is TempoClient and conn.description.endswith(", Tempo's API")
            assert [t.trace_id.lstrip("0") for t in conn.client.find_traces(QUERY).traces] == ["a1", "b2", "c3"]
        finally:
            conn.close()
    conn = connect_tracing(None, url=plain_jaeger.url)  # auto: no echo, Jaeger's API
    try:
        assert type(conn.client) is JaegerClient
    finally:
        conn.close()
    with pytest.raises(TracingHTTPError) as err:  # Tempo's API chosen, at a Jaeger: said as such
        connect_tracing(None, url=plain_jaeger.url, tracing_api="tempo")
    assert err.value.status == 404 and "3200" in err.value.hint


def test_none_found_when_only_tempo_is_asked_for(kube_emulator: KubeEmulator) -> None:
    _istio_addon(kube_emulator)
    with pytest.raises(TracingError) as err:
        connect_tracing(kube_emulator.api_client(), tracing_api="tempo")
    assert str(err.value).startswith("No Tempo was found: no service labelled app.kubernetes.io/name=tempo")
