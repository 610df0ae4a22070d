"""A cluster reached through its kubeconfig ``proxy-url``, as kubectl reaches it: the API calls and the
port-forwards (the Envoy dock's admin port, a Prometheus only a port-forward reaches) all go through
the proxy - a SOCKS one (a bastion's ``ssh -D``) that looks the server's name up itself, or an HTTP one
asked to CONNECT with the user and password the URL holds. Real proxies in the test process in front
of the Kubernetes API emulator; the real clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.sources.base import Unreachable
from meshdesk.sources.cluster import open_source
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.sources.kubeconfig import load_kubeconfig
from tests.envoy_samples import sidecar_dump
from tests.http_proxy import ConnectProxy
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

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


