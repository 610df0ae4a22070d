"""Finding Istio's Prometheus and reaching it through the API server: a real Prometheus behind the
emulator's service proxy and port-forward, queried by the real PrometheusClient."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.sources.base import PrometheusError
from meshdesk.sources.discovery import (
    connect_prometheus,
    find_prometheus_service,
    service_proxy_url,
    session_for,
)
from meshdesk.sources.kubeconfig import load_kubeconfig
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer

prometheus_server = prom_server.prometheus_server  # the session-scoped real Prometheus fixture


def _prometheus(emu: KubeEmulator, ns: str = "istio-system", name: str = "prometheus",
                labels: dict[str, str] | None = None, port: int = 9090) -> None:
    emu.add_namespace(ns)
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": name, "namespace": ns, "labels": labels or {"app.kubernetes.io/name": "prometheus"}},
             "spec": {"selector": {"app.kubernetes.io/name": "prometheus"},
                      "ports": [{"name": "http", "port": port, "targetPort": "web", "protocol": "TCP"}]}})
    emu.add({"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"{name}-7d9f-abcde", "namespace": ns,
                          "labels": {"app.kubernetes.io/name": "prometheus"}},
             "spec": {"containers": [{"name": "prometheus-server", "image": "prom/prometheus",
                                      "ports": [{"name": "web", "containerPort": 9090}]}]},
             "status": {"phase": "Running"}})


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _requests_total(conn: Any, at: int) -> float:
    result = conn.client.query('sum(rate(istio_requests_total{reporter="destination"}[5m]))', time=at)
    assert len(result) == 1
    return float(result[0].value)


@pytest.fixture
def tls_emulator() -> Iterator[KubeEmulator]:
    with KubeEmulator(tls=True) as emu:
        yield emu


def test_finds_istio_prometheus_first(kube_emulator: KubeEmulator) -> None:
    _prometheus(kube_emulator, ns="monitoring", name="kube-prom", port=80)
    assert str(find_prometheus_service(kube_emulator.api_client())) == "monitoring/kube-prom:80"
    _prometheus(kube_emulator)
    svc = find_prometheus_service(kube_emulator.api_client())
    assert svc is not None and str(svc) == "istio-system/prometheus:9090" and svc.target_port == "web"


def test_finds_by_label_when_rbac_hides_cluster_wide_lists(kube_emulator: KubeEmulator) -> None:
    _prometheus(kube_emulator, ns="monitoring", name="prom", labels={"app": "prometheus"})
    kube_emulator.forbid(namespace="default", resource="services")  # no cluster-wide service list
    assert str(find_prometheus_service(kube_emulator.api_client())) == "monitoring/prom:9090"


def test_a_user_who_may_not_read_services_is_told_so_not_that_prometheus_is_missing(
        kube_emulator: KubeEmulator) -> None:
    _prometheus(kube_emulator)
    kube_emulator.forbid(resource="services")
    with pytest.raises(PrometheusError) as err:
        connect_prometheus(kube_emulator.api_client())
    message = str(err.value)
    assert "could not be looked for" in message and "istio-system/prometheus" in message
    assert "not found" not in message and "install" not in message
    assert "is not allowed to read the service istio-system/prometheus, to list the services of" in message


def test_not_found_says_what_was_looked_for(kube_emulator: KubeEmulator) -> None:
    with pytest.raises(PrometheusError) as err:
        connect_prometheus(kube_emulator.api_client())
    assert "istio-system/prometheus" in str(err.value) and "meshdesk graph --prometheus URL" in str(err.value)


def test_service_proxy_with_the_users_token_over_tls(tls_emulator: KubeEmulator,
                                                     prometheus_server: PrometheusServer) -> None:
    emu = tls_emulator
    _prometheus(emu)
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    emu.require_token("user-token-9f8e7d")
    conn = connect_prometheus(emu.api_client(token="user-token-9f8e7d"))
    try:
        assert conn.description == "API server service proxy to istio-system/prometheus:9090"
        assert conn.relay is None
        assert _requests_total(conn, prometheus_server.query_time) > 0
        sent = [h for m, p, h in emu.requests if "/services/prometheus:9090/proxy/api/v1/query" in p]
        assert sent and all(h.get("Authorization") == "Bearer user-token-9f8e7d" for h in sent)
        assert "user-token-9f8e7d" not in repr(conn.client) and "user-token" not in conn.description
    finally:
        conn.close()


def test_service_proxy_honours_the_kubeconfigs_tls_server_name(tmp_path: Path,
                                                                prometheus_server: PrometheusServer) -> None:
    """A cluster reached by an address its certificate does not name, with ``tls-server-name`` naming
    what it does (a tunnel, a VM's IP): API calls worked, Prometheus through the same server failed the
    certificate check."""
    with KubeEmulator(tls=True, tls_names="DNS:kube-emulator.test") as emu:
        _prometheus(emu)
        emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
        path = emu.write_kubeconfig(tmp_path / "kc", context="tunnel", token="t")
        doc = yaml.safe_load(path.read_text())
        doc["clusters"][0]["cluster"]["tls-server-name"] = "kube-emulator.test"
        path.write_text(yaml.safe_dump(doc))
        api = load_kubeconfig(str(path)).api_client("tunnel")
        conn = connect_prometheus(api)
        try:
            assert conn.description == "API server service proxy to istio-system/prometheus:9090"
            assert _requests_total(conn, prometheus_server.query_time) > 0
        finally:
            conn.close()


def test_an_explicit_url_through_the_api_server_uses_the_kubeconfigs_login(kube_emulator: KubeEmulator,
                                                                           prometheus_server: PrometheusServer) -> None:
    """A Prometheus discovery cannot reach as it is (served under a path prefix, say) is given as its
    address through the API server's proxy: that address wants the kubeconfig's login, which an
    explicit URL did not send (401). And the hint for a 404 says so."""
    emu = kube_emulator
    _prometheus(emu)
    emu.require_token("user-token")
    api = emu.api_client(token="user-token")
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url + "/not-here")
    with pytest.raises(PrometheusError) as err:
        connect_prometheus(api)
    assert "/services/prometheus:9090/proxy/prometheus" in (err.value.hint or "")
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    svc = find_prometheus_service(api)
    assert svc is not None
    conn = connect_prometheus(api, url=service_proxy_url(api, svc))
    try:
        assert conn.description.startswith("URL through the API server")
        assert _requests_total(conn, prometheus_server.query_time) > 0
    finally:
        conn.close()


def test_session_carries_client_certificate_settings(tls_emulator: KubeEmulator) -> None:
    api = tls_emulator.api_client(token="t")
    api.configuration.cert_file, api.configuration.key_file = "/tmp/c.crt", "/tmp/c.key"
    s = session_for(api)
    assert s.cert == ("/tmp/c.crt", "/tmp/c.key") and s.verify == tls_emulator.ca_file
    api.configuration.verify_ssl = False
    assert session_for(api).verify is False


def test_falls_back_to_port_forward_when_the_proxy_is_forbidden(kube_emulator: KubeEmulator,
                                                                prometheus_server: PrometheusServer) -> None:
    emu = kube_emulator
    _prometheus(emu)
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    emu.port_forward_pod("istio-system", "prometheus-7d9f-abcde", 9090, _port(prometheus_server.url))
    emu.forbid(namespace="istio-system", resource="services/proxy")
    conn = connect_prometheus(emu.api_client())
    try:
        assert conn.description == "port-forward to pod istio-system/prometheus-7d9f-abcde:9090"
        assert conn.relay is not None and conn.client.url.startswith("http://127.0.0.1:")
        assert "service proxy" in conn.tried[0] and "forbidden" in conn.tried[0]
        assert _requests_total(conn, prometheus_server.query_time) > 0
        assert any(p.endswith("/pods/prometheus-7d9f-abcde/portforward") for _, p in emu.calls)
    finally:
        conn.close()
    # closed means closed: the local port takes no connection (each would open a port-forward) and
    # the relay's thread has ended
    assert conn.relay is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", conn.relay.local_port), timeout=5).close()
    assert not any(t.name == "meshdesk-port-forward" and t.is_alive() for t in threading.enumerate())


def test_falls_back_when_the_service_has_no_endpoints(kube_emulator: KubeEmulator,
                                                      prometheus_server: PrometheusServer) -> None:
    emu = kube_emulator
    _prometheus(emu)  # no proxy_service: the API server answers 503 "no endpoints available"
    emu.port_forward_pod("istio-system", "prometheus-7d9f-abcde", 9090, _port(prometheus_server.url))
    conn = connect_prometheus(emu.api_client())
    try:
        assert conn.description.startswith("port-forward to pod istio-system/prometheus-7d9f-abcde")
        assert _requests_total(conn, prometheus_server.query_time) > 0
    finally:
        conn.close()


def test_both_ways_refused(kube_emulator: KubeEmulator) -> None:
    """The port-forward refused too (RBAC): it was said as "the port-forward ... failed (Cannot reach
    Prometheus at http://127.0.0.1:PORT: connection reset)", the local end of the relay, not the refusal."""
    _prometheus(kube_emulator)
    kube_emulator.forbid(resource="services/proxy")
    kube_emulator.forbid(resource="pods/portforward")
    with pytest.raises(PrometheusError) as err:
        connect_prometheus(kube_emulator.api_client(), timeout=5)
    text = str(err.value)
    assert "service proxy" in text and "port-forward" in text and "meshdesk graph --prometheus URL" in text
    assert "failed (not allowed to create pods/portforward in istio-system)" in text
    assert "127.0.0.1" not in text.split("port-forward to", 1)[1]


def test_explicit_url(kube_emulator: KubeEmulator, prometheus_server: PrometheusServer) -> None:
    conn = connect_prometheus(kube_emulator.api_client(), url=prometheus_server.url + "/",
                              auth={"token": "abc-secret"})
    try:
        assert conn.description == f"URL {prometheus_server.url}"
        assert _requests_total(conn, prometheus_server.query_time) > 0
        assert kube_emulator.calls == []  # the cluster is not asked at all
    finally:
        conn.close()


def test_istio_prometheus_addon_manifest(kube_emulator: KubeEmulator, shared_dir: Path,
                                         prometheus_server: PrometheusServer) -> None:
    """Istio's own addon manifest (samples/addons/prometheus.yaml): found, and reached by port-forward
    to the pod its Deployment runs when the service proxy is not allowed."""
    emu = kube_emulator
    emu.load_yaml(shared_dir / "fixtures/istio/addons/prometheus.yaml")
    emu.run_workloads("istio-system")
    svc = find_prometheus_service(emu.api_client())
    assert svc is not None and str(svc) == "istio-system/prometheus:9090"
    pod = emu.objects("pods", namespace="istio-system")[0]["metadata"]["name"]
    emu.port_forward_pod("istio-system", pod, 9090, _port(prometheus_server.url))
    emu.forbid(resource="services/proxy")
    conn = connect_prometheus(emu.api_client())
    try:
        assert conn.description == f"port-forward to pod istio-system/{pod}:9090"
        assert _requests_total(conn, prometheus_server.query_time) > 0
    finally:
        conn.close()


def test_service_proxy_with_a_client_certificate(tmp_path: Path, prometheus_server: PrometheusServer) -> None:
    """A kubeconfig user with a client certificate: Prometheus requests present it to the API server too."""
    import kubernetes.config

    with KubeEmulator(tls=True, client_certs=True) as emu:
        _prometheus(emu)
        emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
        emu.require_client_cert()
        config = emu.write_kubeconfig(tmp_path / "config", client_cert=emu.client_cert("jane"))
        conn = connect_prometheus(kubernetes.config.new_client_from_config(config_file=str(config)))
        try:
            assert conn.description == "API server service proxy to istio-system/prometheus:9090"
            assert _requests_total(conn, prometheus_server.query_time) > 0
        finally:
            conn.close()


def test_the_chart_parts_labelled_prometheus_that_are_not_it_are_passed_over(kube_emulator: KubeEmulator) -> None:
    """The stable/prometheus chart labels every part app=prometheus: its alertmanager sorted first by name
    and was chosen, and no other candidate was tried."""
    for name in ("prometheus-alertmanager", "prometheus-node-exporter", "prometheus-pushgateway",
                 "prometheus-kube-state-metrics", "prometheus-server"):
        _prometheus(kube_emulator, ns="monitoring", name=name, labels={"app": "prometheus"}, port=80)
    assert str(find_prometheus_service(kube_emulator.api_client())) == "monitoring/prometheus-server:80"
    # the old prometheus-operator chart's Prometheus is named after the operator: it is one
    from meshdesk.sources.discovery import NOT_PROMETHEUS

    assert not NOT_PROMETHEUS.search("prometheus-operator-prometheus")
    assert NOT_PROMETHEUS.search("monitoring-kube-prometheus-operator")


def test_prometheus_operator_service(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add_namespace("monitoring")
    kube_emulator.add({"apiVersion": "v1", "kind": "Service",
                       "metadata": {"name": "prometheus-operated", "namespace": "monitoring",
                                    "labels": {"operated-prometheus": "true"}},
                       "spec": {"clusterIP": "None", "selector": {"app.kubernetes.io/name": "prometheus"},
                                "ports": [{"name": "web", "port": 9090, "targetPort": "web"}]}})
    assert str(find_prometheus_service(kube_emulator.api_client())) == "monitoring/prometheus-operated:9090"


def test_explicit_url_description_hides_credentials(kube_emulator: KubeEmulator,
                                                    prometheus_server: PrometheusServer) -> None:
    url = prometheus_server.url.replace("http://", "http://admin:pa55word@") + "/prom-prefix"
    conn = connect_prometheus(kube_emulator.api_client(), url=url, probe=False)
    try:
        assert conn.description == f"URL {prometheus_server.url}/prom-prefix"
        assert "pa55word" not in conn.description and "pa55word" not in repr(conn.client)
    finally:
        conn.close()


def test_explicit_url_auth_as_the_settings_store_it(kube_emulator: KubeEmulator) -> None:
    """The settings dialog keeps a token and a user name side by side; ``type`` says which one is used."""
    from tests.prom_server import StubResponse, StubServer, prometheus_vector

    seen: list[str] = []

    def responder(req: Any) -> Any:
        seen.append(req.headers.get("Authorization", ""))
        return StubResponse(body=prometheus_vector([({}, "1")]))

    with StubServer(responder) as stub:
        for auth, expected in (({"type": "bearer", "token": "tk-1", "username": "u", "password": "p"}, "Bearer tk-1"),
                               ({"type": "basic", "token": "tk-1", "username": "u", "password": "p"}, "Basic dTpw"),
                               ({"type": "none", "token": "tk-1"}, ""),
                               ({"token": "tk-2"}, "Bearer tk-2")):
            conn = connect_prometheus(kube_emulator.api_client(), url=stub.url, auth=auth)
            conn.close()
            assert seen[-1] == expected, auth


def test_the_prometheus_proxy_path_skips_the_proxy_no_proxy_names() -> None:
    """The kubernetes client goes straight to an API server NO_PROXY names; the session used for
    Prometheus through that API server went to the proxy (a dead one: "Prometheus unreachable")."""
    from kubernetes import client as k8s

    cfg = k8s.Configuration()
    cfg.host, cfg.proxy, cfg.no_proxy = "https://127.0.0.1:6443", "http://127.0.0.1:9", "127.0.0.1,localhost"
    assert session_for(k8s.ApiClient(cfg)).proxies == {}
    far = k8s.Configuration()
    far.host, far.proxy, far.no_proxy = "https://10.0.0.1:6443", "http://127.0.0.1:9", "127.0.0.1,localhost"
    assert session_for(k8s.ApiClient(far)).proxies == {"http": "http://127.0.0.1:9", "https": "http://127.0.0.1:9"}


def test_a_refused_proxy_and_no_pod_to_port_forward_to_says_both(kube_emulator: KubeEmulator) -> None:
    """QA: with the service proxy refused and no pod behind the service, the message named the refused
    proxy only, as if the port-forward had been refused too: that no pod was found was left out."""
    _prometheus(kube_emulator)
    kube_emulator.delete("pods", "istio-system", "prometheus-7d9f-abcde")
    kube_emulator.forbid(resource="services/proxy")
    with pytest.raises(PrometheusError) as err:
        connect_prometheus(kube_emulator.api_client(), timeout=5)
    text = str(err.value)
    assert "service proxy" in text and "forbidden" in text
    assert "no pod of it was found to port-forward to (selector app.kubernetes.io/name=prometheus)" in text


def test_the_contexts_extra_headers_go_to_the_prometheus_found(kube_emulator: KubeEmulator) -> None:
    """QA: extra headers saved for a context without a URL (a tenant's X-Scope-OrgID, "empty: find
    Prometheus in the cluster") were dropped without a word: neither the service proxy nor the
    port-forward sent them."""
    from tests.prom_server import StubResponse, StubServer, prometheus_vector

    emu = kube_emulator
    _prometheus(emu)
    auth = {"headers": {"X-Scope-OrgID": "team-a"}}
    with StubServer(lambda r: StubResponse(200, prometheus_vector([({}, "1")]))) as stub:
        emu.proxy_service("istio-system", "prometheus", 9090, stub.url)
        conn = connect_prometheus(emu.api_client(), auth=auth, timeout=5)
        conn.close()
        assert conn.description.startswith("API server service proxy")
        proxied = [h for _, path, h in emu.requests if "/services/prometheus:9090/proxy/" in path]
        assert proxied and all(h.get("X-Scope-Orgid", h.get("X-Scope-OrgID")) == "team-a" for h in proxied)
        emu.forbid(namespace="istio-system", resource="services/proxy")
        emu.port_forward_pod("istio-system", "prometheus-7d9f-abcde", 9090, stub.port)
        conn = connect_prometheus(emu.api_client(), auth=auth, timeout=5)
        conn.close()
        assert conn.relay is not None and stub.requests
        assert stub.requests[-1].headers.get("X-Scope-OrgID") == "team-a"


def test_a_prometheus_service_with_an_odd_port_is_passed_over_not_a_crash(kube_emulator: KubeEmulator) -> None:
    """QA: a service istio-system/prometheus whose port is no number (an odd object) raised ValueError
    "invalid literal for int()", which ``meshdesk graph`` printed as a usage error (exit 2); a pod's
    named container port likewise."""
    emu = kube_emulator
    emu.add_namespace("istio-system")
    emu.add_raw("services", "istio-system", {"metadata": {"name": "prometheus", "namespace": "istio-system"},
                                             "spec": {"ports": [{"port": "abc", "name": "http"}],
                                                      "selector": {"app": "prometheus"}}}, key="prometheus")
    assert find_prometheus_service(emu.api_client(), timeout=5) is None
    _prometheus(emu, ns="monitoring")
    pod = emu.get("pods", "monitoring", "prometheus-7d9f-abcde")
    assert pod is not None
    pod["spec"]["containers"][0]["ports"] = [{"name": "web", "containerPort": "x"}]
    svc = find_prometheus_service(emu.api_client(), timeout=5)
    assert svc is not None and (svc.namespace, svc.port) == ("monitoring", 9090)
    from meshdesk.sources.discovery import find_prometheus_pod

    assert find_prometheus_pod(emu.api_client(), svc, timeout=5) == ("prometheus-7d9f-abcde", 9090)


@pytest.mark.parametrize("port", [
    {"name": "web", "port": 9091, "targetPort": "web"},  # OpenShift's openshift-monitoring/prometheus-k8s
    {"name": "https", "port": 443, "targetPort": 9090},
    {"name": "metrics", "port": 8443, "targetPort": 9090, "appProtocol": "https"},
])
def test_a_prometheus_on_a_tls_port_is_proxied_as_https(kube_emulator: KubeEmulator, tmp_path: Path,
                                                       port: dict[str, Any]) -> None:
    from tests.prom_server import StubResponse, StubServer, prometheus_vector, self_signed_cert

    pair = self_signed_cert(tmp_path)
    if pair is None:
        pytest.skip("openssl is missing")
    emu = kube_emulator
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "prometheus", "namespace": "istio-system"},
             "spec": {"selector": {"app": "prometheus"}, "ports": [port]}})
    body = prometheus_vector([({"job": "x"}, "1")])
    with StubServer(lambda _req: StubResponse(200, body), tls=pair) as stub:
        emu.proxy_service("istio-system", "prometheus", port["port"], stub.url)
        svc = find_prometheus_service(emu.api_client())
        assert svc is not None and svc.tls
        conn = connect_prometheus(emu.api_client())
        try:
            assert conn.client.query("up")[0].value == 1.0
        finally:
            conn.close()
    assert "/services/https:prometheus:" in service_proxy_url(emu.api_client(), svc)


@pytest.fixture(scope="module")
def tls_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus that serves HTTPS only (a web config file's tls_server_config), with one edge."""
    from tests.prom_server import Series, Workload, binaries_missing, istio_edge, self_signed_cert

    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("tls-prometheus")
    pair = self_signed_cert(workdir)
    if pair is None:
        pytest.skip("openssl is missing")
    web, db = Workload("shop", "web-v1", "web"), Workload("shop", "db-v1", "db")
    srv = PrometheusServer(workdir, [Series("istio_requests_total", istio_edge(web, db, "db", "shop"), 4.0)],
                           tls=pair)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(("port_name", "proxy"), [("https-web", False), ("http-web", False), ("http-web", True)])
def test_the_port_forward_to_a_prometheus_serving_only_https_speaks_https(
        kube_emulator: KubeEmulator, tls_prometheus: PrometheusServer, port_name: str, proxy: bool) -> None:
    """s18: when the service proxy was refused, the port-forward fallback spoke plain HTTP to a
    Prometheus that serves HTTPS only (behind kube-rbac-proxy, or with a web config's TLS), and failed
    with a 400. It speaks HTTPS to a port the service marks as TLS ("https-..."), and to one that is not
    marked but answers only HTTPS. The certificate is not checked, as the API server's own service proxy
    does not check it: it is the pod's, for its service's name, reached here as 127.0.0.1."""
    emu = kube_emulator
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "prometheus", "namespace": "istio-system", "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"},
                      "ports": [{"name": port_name, "port": 9090, "targetPort": 9090}]}})
    emu.add({"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "prometheus-0", "namespace": "istio-system", "labels": {"app": "prometheus"}},
             "spec": {"containers": [{"name": "prometheus", "image": "prom/prometheus"}]},
             "status": {"phase": "Running"}})
    emu.port_forward_pod("istio-system", "prometheus-0", 9090, _port(tls_prometheus.url))
    if proxy:  # the service proxy allowed: a port not marked as TLS is asked for as https: once it says so
        emu.proxy_service("istio-system", "prometheus", 9090, tls_prometheus.url)
    else:
        emu.forbid(namespace="istio-system", resource="services/proxy")
    conn = connect_prometheus(emu.api_client(), timeout=10)
    try:
        if proxy:
            assert conn.relay is None and "/services/https:prometheus:9090/proxy" in conn.client.url
            assert conn.description == "API server service proxy to istio-system/prometheus:9090 (HTTPS)"
        else:
            assert conn.relay is not None and conn.client.url.startswith("https://127.0.0.1:")
            assert conn.description == "port-forward to pod istio-system/prometheus-0:9090 (HTTPS)"
        assert _requests_total(conn, tls_prometheus.query_time) == pytest.approx(4.0)
    finally:
        conn.close()


def test_a_plain_http_prometheus_answering_400_is_not_taken_for_an_https_one(kube_emulator: KubeEmulator) -> None:
    """The way to a Prometheus that speaks HTTPS only is found from what it answers plain HTTP; another
    400 (a proxy in front refusing the query) is said as it is, not retried in HTTPS."""
    from tests.prom_server import StubResponse, StubServer

    emu = kube_emulator
    _prometheus(emu)
    refusal = StubResponse(400, "request refused by the gateway (see https://gateway.example/help)", "text/plain")
    with StubServer(lambda r: refusal) as stub:
        emu.forbid(namespace="istio-system", resource="services/proxy")
        emu.port_forward_pod("istio-system", "prometheus-7d9f-abcde", 9090, stub.port)
        with pytest.raises(PrometheusError) as err:
            connect_prometheus(emu.api_client(), timeout=5)
    assert "the port-forward to prometheus-7d9f-abcde failed" in str(err.value)
    assert "https://127.0.0.1" not in str(err.value) and "http://127.0.0.1" in str(err.value)
