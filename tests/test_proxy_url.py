"""A cluster reached through its kubeconfig ``proxy-url``, as kubectl reaches it: the API calls and the
port-forwards (the Envoy dock's admin port, a Prometheus only a port-forward reaches) all go through
the proxy - a SOCKS one (a bastion's ``ssh -D``) that looks the server's name up itself, or an HTTP one
asked to CONNECT with the user and password the URL holds. Real proxies in the test process in front
of the Kubernetes API emulator; the real clients."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.sources.base import ConfigError, Unreachable
from meshdesk.sources.cluster import open_source
from meshdesk.sources.discovery import connect_prometheus
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.sources.kubeconfig import load_kubeconfig
from meshdesk.sources.portforward import open_port_forward
from tests import prom_server
from tests.envoy_samples import sidecar_dump
from tests.http_proxy import ConnectProxy
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer
from tests.socks_proxy import SocksProxy

prometheus_server = prom_server.prometheus_server  # the session-scoped real Prometheus fixture

TOKEN = "sha256~cHJveHktdXJsLXRva2VuLWZvci10ZXN0cw"
PASSWORD = "pr0xy-Pa55"
NS, POD = "shop", "productpage-v1-7d9f-abcde"


def _kubeconfig(path: Path, server: str, proxy_url: str, ca_file: str | None = None) -> Path:
    cluster: dict[str, Any] = {"server": server, "proxy-url": proxy_url}
    if ca_file:
        cluster["certificate-authority"] = ca_file
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "private",
           "clusters": [{"name": "private", "cluster": cluster}],
           "users": [{"name": "u", "user": {"token": TOKEN}}],
           "contexts": [{"name": "private", "context": {"cluster": "private", "user": "u"}}]}
    path.write_text(yaml.safe_dump(doc))
    return path


def _envoy_pod(emu: KubeEmulator) -> None:
    emu.add_namespace(NS, {"istio-injection": "enabled"})
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": NS, "labels": {"app": "x"}},
             "spec": {"containers": [{"name": "productpage", "image": "example/productpage:1"},
                                     {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"}]},
             "status": {"phase": "Running"}})
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    emu.forbid(namespace=NS, resource="pods/proxy")  # read through a port-forward, as Istio's admin port needs


def _prometheus_pod(emu: KubeEmulator, prometheus_url: str) -> None:
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "prometheus", "namespace": "istio-system"},
             "spec": {"selector": {"app.kubernetes.io/name": "prometheus"},
                      "ports": [{"name": "http", "port": 9090, "targetPort": 9090, "protocol": "TCP"}]}})
    emu.add({"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "prometheus-7d9f-abcde", "namespace": "istio-system",
                          "labels": {"app.kubernetes.io/name": "prometheus"}},
             "spec": {"containers": [{"name": "prometheus-server", "image": "prom/prometheus"}]},
             "status": {"phase": "Running"}})
    emu.port_forward_pod("istio-system", "prometheus-7d9f-abcde", 9090, int(prometheus_url.rsplit(":", 1)[1]))
    emu.forbid(namespace="istio-system", resource="services/proxy")  # only a port-forward reaches it


def _requests_total(conn: Any, at: int) -> float:
    result = conn.client.query('sum(rate(istio_requests_total{reporter="destination"}[5m]))', time=at)
    assert len(result) == 1
    return float(result[0].value)


def test_a_cluster_behind_an_http_proxy_that_wants_a_login_is_read_through_it(tmp_path: Path) -> None:
    """``proxy-url: http://USER:PASSWORD@...`` (a corporate proxy that wants a login): kubectl sends the
    URL's user and password to the proxy; meshdesk sent none, and every call was refused (407), said as
    the proxy not connecting to the server."""
    hosts = {"kube.corp.internal": "127.0.0.1"}  # a name only the proxy's network knows
    with KubeEmulator(tls=True, tls_names="DNS:kube.corp.internal") as emu, \
            ConnectProxy(user="jane", password=PASSWORD, hosts=hosts) as proxy:
        emu.require_token(TOKEN)
        emu.add_namespace("shop")
        config = _kubeconfig(tmp_path / "config", f"https://kube.corp.internal:{emu.port}", proxy.url, emu.ca_file)
        source = open_source(str(config), timeout=10)
        try:
            assert "shop" in {ns.name for ns in source.namespaces()}
        finally:
            source.close()
        assert proxy.refused == 0 and set(proxy.connects) == {("kube.corp.internal", emu.port)}
    assert set(proxy.authorizations) == {"Basic amFuZTpwcjB4eS1QYTU1"}  # jane:pr0xy-Pa55


def test_envoy_admin_port_forward_goes_through_a_socks_proxy(kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """A cluster behind a bastion (``proxy-url: socks5://``, a server name only the bastion knows): the API
    calls went through the proxy, the port-forward to a proxy's admin port did not (it spoke HTTP CONNECT
    to the SOCKS port), so the Envoy dock could not show any proxy's config."""
    emu = kube_emulator
    emu.require_token(TOKEN)
    _envoy_pod(emu)
    with SocksProxy(hosts={"kube.bastion.internal": "127.0.0.1"}) as proxy:
        config = _kubeconfig(tmp_path / "config", f"http://kube.bastion.internal:{emu.port}", proxy.url)
        admin = KubeEnvoyAdmin(load_kubeconfig(str(config)).api_client("private"), timeout=10)
        dump = admin.config_dump(NS, POD)
        assert admin.last_way == "port-forward"
        assert len(dump["configs"]) > 3
        admin.config_dump(NS, POD)  # straight to a second port-forward over the same proxy
        levels = admin.log_levels(NS, POD)
    assert levels and set(levels.values()) == {"warning"}
    # every connection went through the proxy, asking it for the name (not an address looked up here)
    assert set(proxy.connects) == {("kube.bastion.internal", emu.port)}
    forwards = [h for _, p, h in emu.requests if p.endswith("/portforward?ports=15000")]
    assert len(forwards) == 3 and all(h.get("Authorization") == f"Bearer {TOKEN}" for h in forwards)


def test_prometheus_port_forward_goes_through_an_http_proxy_with_its_login(
        tmp_path: Path, prometheus_server: PrometheusServer, caplog: pytest.LogCaptureFixture) -> None:
    """An HTTP proxy that wants a login (``proxy-url: http://USER:PASSWORD@...``): kubectl sends the URL's
    credentials. meshdesk sent them neither for its API calls (every call refused, 407) nor for a port-forward
    (no Proxy-Authorization on its CONNECT). Now both go through, and the password is in no log line."""
    caplog.set_level(logging.DEBUG)
    hosts = {"kube.corp.internal": "127.0.0.1"}  # a name only the proxy's network knows
    with KubeEmulator(tls=True, tls_names="DNS:kube.corp.internal") as emu, \
            ConnectProxy(user="jane", password=PASSWORD, hosts=hosts) as proxy:
        emu.require_token(TOKEN)
        _prometheus_pod(emu, prometheus_server.url)
        config = _kubeconfig(tmp_path / "config", f"https://kube.corp.internal:{emu.port}", proxy.url, emu.ca_file)
        conn = connect_prometheus(load_kubeconfig(str(config)).api_client("private"), timeout=10)
        try:
            assert conn.description == "port-forward to pod istio-system/prometheus-7d9f-abcde:9090"
            assert _requests_total(conn, prometheus_server.query_time) > 0
        finally:
            conn.close()
        assert proxy.refused == 0 and set(proxy.connects) == {("kube.corp.internal", emu.port)}
    assert set(proxy.authorizations) == {"Basic amFuZTpwcjB4eS1QYTU1"}  # jane:pr0xy-Pa55
    forwards = [p for _, p, _ in emu.requests if p.endswith("/pods/prometheus-7d9f-abcde/portforward?ports=9090")]
    assert forwards and len(proxy.connects) > len(forwards)  # the API calls went through it too
    assert PASSWORD not in caplog.text


def test_the_environments_proxy_is_sent_its_login_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy-url, and ``HTTPS_PROXY=http://USER:PASSWORD@...`` in the environment (a corporate laptop's
    shell profile): kubectl goes through it with that login, and so do the API calls and the Envoy dock's
    port-forward; the login was not sent, and every call was refused (407)."""
    hosts = {"kube.corp.internal": "127.0.0.1"}
    with KubeEmulator(tls=True, tls_names="DNS:kube.corp.internal") as emu, \
            ConnectProxy(user="jane", password=PASSWORD, hosts=hosts) as proxy:
        emu.require_token(TOKEN)
        _envoy_pod(emu)
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        config = emu.write_kubeconfig(tmp_path / "config", token=TOKEN)
        doc = yaml.safe_load(config.read_text())
        doc["clusters"][0]["cluster"]["server"] = f"https://kube.corp.internal:{emu.port}"
        config.write_text(yaml.safe_dump(doc))
        admin = KubeEnvoyAdmin(load_kubeconfig(str(config)).api_client("emu"), timeout=10)
        assert len(admin.config_dump(NS, POD)["configs"]) > 3
        assert admin.last_way == "port-forward"
        assert proxy.refused == 0 and set(proxy.connects) == {("kube.corp.internal", emu.port)}
    assert set(proxy.authorizations) == {"Basic amFuZTpwcjB4eS1QYTU1"}


def test_a_proxy_that_wants_a_login_proxy_url_does_not_give_is_said_so(tmp_path: Path) -> None:
    """An HTTP proxy's 407 was said as the proxy not connecting to the server, with advice to check the
    server address; it says the proxy wants a login and where it goes. A wrong password is never shown."""
    with KubeEmulator(tls=True) as emu, ConnectProxy(user="jane", password=PASSWORD) as proxy:
        _envoy_pod(emu)
        for proxy_url, said in ((f"http://127.0.0.1:{proxy.port}", "asks for a user and password, and "
                                 "proxy-url gives none"),
                                (f"http://jane:wr0ng-Pa55@127.0.0.1:{proxy.port}", "did not take the user and "
                                 "password in proxy-url")):
            config = _kubeconfig(tmp_path / "config", emu.url, proxy_url, emu.ca_file)
            with pytest.raises(Unreachable) as err:
                KubeEnvoyAdmin(load_kubeconfig(str(config)).api_client("private"), timeout=10).config_dump(NS, POD)
            text = f"{err.value.message} {err.value.hint}"
            assert f"the proxy 127.0.0.1:{proxy.port} (proxy-url) {said} (407 Proxy Authentication Required)" in text
            assert "http://USER:PASSWORD@host:port" in text
            assert err.value.advice.startswith("Give the proxy's user and password")
            assert "wr0ng-Pa55" not in text and PASSWORD not in text
    assert not emu.requests  # the API server was never reached


def test_a_port_forward_through_a_socks_proxy_that_is_down_names_the_proxy(kube_emulator: KubeEmulator,
                                                                          tmp_path: Path) -> None:
    """The bastion's tunnel gone (nothing listens where proxy-url points): the port-forward says the SOCKS
    proxy cannot be reached and to start it, as the API calls say it; its password is never shown."""
    emu = kube_emulator
    _envoy_pod(emu)
    with SocksProxy() as proxy:
        port = proxy.port
    config = _kubeconfig(tmp_path / "config", f"http://kube.bastion.internal:{emu.port}",
                         f"socks5://jane:{PASSWORD}@127.0.0.1:{port}")
    with pytest.raises(Unreachable) as err:
        open_port_forward(load_kubeconfig(str(config)).api_client("private"), NS, POD, 15000, timeout=10)
    text = f"{err.value.message} {err.value.hint}"
    assert text.startswith(f"port-forward to {NS}/{POD}: cannot reach the SOCKS proxy 127.0.0.1:{port} (proxy-url): "
                           "connection refused")
    assert "start the SOCKS proxy" in text and PASSWORD not in text
    assert err.value.advice.startswith("Start the SOCKS proxy")


def test_no_proxy_does_not_take_a_cluster_off_its_own_proxy_url(kube_emulator: KubeEmulator, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY is for the environment's proxy: kubectl sends every request of a cluster with a proxy-url
    through it. A shell that lists the company's private names in NO_PROXY (where the bastion's cluster
    is) had meshdesk ask the server directly, by a name only the bastion resolves."""
    emu = kube_emulator
    emu.require_token(TOKEN)
    _envoy_pod(emu)
    monkeypatch.setenv("NO_PROXY", ".bastion.internal,10.0.0.0/8")
    monkeypatch.setenv("no_proxy", ".bastion.internal,10.0.0.0/8")
    with SocksProxy(hosts={"kube.bastion.internal": "127.0.0.1"}) as proxy:
        config = _kubeconfig(tmp_path / "config", f"http://kube.bastion.internal:{emu.port}", proxy.url)
        api = load_kubeconfig(str(config)).api_client("private")
        source = open_source(str(config), timeout=10)
        try:
            assert NS in {ns.name for ns in source.namespaces()}
        finally:
            source.close()
        admin = KubeEnvoyAdmin(api, timeout=10)
        assert len(admin.config_dump(NS, POD)["configs"]) > 3 and admin.last_way == "port-forward"
    assert set(proxy.connects) == {("kube.bastion.internal", emu.port)}


@pytest.mark.parametrize(("proxy_url", "said"), [
    ("proxy.corp:3128", "has no scheme"),
    ("ftp://proxy.corp:21", "uses the scheme ftp, which is no proxy's (http, https or socks5)"),
    (f"http://jane:{PASSWORD}@proxy.corp:99999", "has a port that is not a port number (1 to 65535)"),
    ("socks5://proxy.corp:ssh", "has a port that is not a port number (1 to 65535)"),
    ("http://:3128", "names no host"),
])
def test_a_proxy_url_of_the_wrong_shape_is_refused_naming_it(kube_emulator: KubeEmulator, tmp_path: Path,
                                                            proxy_url: str, said: str) -> None:
    """A proxy-url the client cannot use (no scheme, another scheme, no port number): opening the context
    said the server did not answer ('talking to the server failed: Proxy URL had no scheme'), with advice
    to check the VPN, and the window retried it for ever; it is refused as the kubeconfig's mistake it is,
    as kubectl refuses it, without quoting it (it may hold a password)."""
    config = _kubeconfig(tmp_path / "config", kube_emulator.url, proxy_url)
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(config)).api_client("private")
    assert str(err.value).startswith(f'context "private": its cluster "private" has a proxy-url that {said}')
    assert "http://HOST:PORT" in err.value.hint
    assert PASSWORD not in f"{err.value} {err.value.hint}"
    assert not kube_emulator.requests
