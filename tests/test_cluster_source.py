"""ClusterSource end to end: a kubeconfig for the emulator, the official client, a real Prometheus behind
the emulator's service proxy, and the errors a user meets."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from meshdesk.mesh.inventory import IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.base import (
    Cancelled,
    Conflict,
    MeshSource,
    NotFound,
    SourceError,
    Timeout,
    Unauthorized,
    Unreachable,
    WritableSource,
)
from meshdesk.sources.cluster import ClusterSource, open_source
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer
from tests.socks_proxy import SocksProxy

prometheus_server = prom_server.prometheus_server  # the session-scoped real Prometheus fixture

TOKEN = "eyJhbGciOi.user-token-5a4b3c2d1e"
CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"


def _mesh(emu: KubeEmulator, shared: Path, prom_url: str | None = None) -> None:
    emu.load_crds(shared / CRDS)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared / BOOKINFO, namespace="bookinfo")
    emu.load_yaml(shared / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml", namespace="bookinfo")
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.run_workloads()
    if prom_url:
        emu.proxy_service("istio-system", "prometheus", 9090, prom_url)


@pytest.fixture
def tls_emulator() -> Iterator[KubeEmulator]:
    with KubeEmulator(tls=True) as emu:
        yield emu


def test_snapshot_through_kubeconfig_and_service_proxy(tls_emulator: KubeEmulator, shared_dir: Path,
                                                       prometheus_server: PrometheusServer, tmp_path: Path) -> None:
    emu = tls_emulator
    _mesh(emu, shared_dir, prometheus_server.url)
    emu.require_token(TOKEN)
    config = emu.write_kubeconfig(tmp_path / "kubeconfig", context="prod-east", token=TOKEN)
    source = open_source(str(config), "prod-east")
    try:
        assert isinstance(source, MeshSource)
        writable: WritableSource = source  # mypy checks the write methods' signatures
        assert callable(writable.apply)
        assert [n.name for n in source.namespaces()] == ["bookinfo", "default", "istio-system", "kube-system"]
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time))
        info = source.info()
        assert (info.context, info.cluster, info.live) == ("prod-east", "Kubernetes", True)
        assert info.prometheus == "API server service proxy to istio-system/prometheus:9090"
        assert snap.meta["prometheus"] == info.prometheus and snap.meta["context"] == "prod-east"
        # the moment the telemetry is of (a replayed one when the request names it), not the clock's
        import time
        assert snap.meta["takenAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(prometheus_server.query_time))
        workloads = {s.labels.get("destination_workload") for s in snap.samples}
        assert {"reviews-v1", "details-v1", "ratings-v1"} <= workloads
        assert snap.inventory is not None and len(snap.inventory.workloads) == 6
        assert [o.name for o in snap.inventory.istio] == ["details", "productpage", "ratings", "reviews"]
        # with_inventory=False asks the API server nothing
        before = len(emu.calls)
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time),
                               with_inventory=False)
        assert snap.inventory is None and snap.samples
        assert all("/proxy/" in p for _, p in emu.calls[before:])
    finally:
        source.close()


def test_a_replayed_snapshot_records_when_its_inventory_was_read(
        kube_emulator: KubeEmulator, shared_dir: Path,  # noqa: F811
        prometheus_server: PrometheusServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A graph replayed an hour back has that hour's telemetry and the workloads and Istio config as read
    now: the snapshot records when the inventory was read (the cluster's present), and `meshdesk graph
    --snapshot` says it, the file having said only the replayed moment."""
    from datetime import datetime

    from meshdesk.commands.graph import main as graph_main
    from meshdesk.sources.snapshot import save_snapshot

    def moment_of(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    past = prometheus_server.query_time - 3600
    try:
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo",), queryTime=past))
    finally:
        source.close()
    assert snap.samples and snap.inventory is not None
    assert moment_of(snap.meta["takenAt"]) == past
    read = moment_of(snap.meta["inventoryAt"])
    assert read >= prometheus_server.query_time  # the present, not the moment replayed
    path = tmp_path / "replayed.json"
    save_snapshot(snap, path)
    capsys.readouterr()
    assert graph_main(["--snapshot", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"meshdesk graph: the snapshot's traffic is of {time.strftime('%Y-%m-%d %H:%M', time.gmtime(past))} UTC; " \
           f"its workloads and Istio config were read at {time.strftime('%Y-%m-%d %H:%M', time.gmtime(read))} UTC\n" in err


def test_rejected_token_never_shows(kube_emulator: KubeEmulator, tmp_path: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    kube_emulator.require_token("the-right-one")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", token=TOKEN)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthorized) as err:
        open_source(str(config))
    text = f"{err.value} {err.value.message} {err.value.hint} {err.value!r}"
    assert "credentials expired or rejected" in text
    assert TOKEN not in text and "user-token" not in text
    assert TOKEN not in caplog.text and "user-token" not in caplog.text


def test_unreachable_api_server(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "gone",
              "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
              "users": [{"name": "u", "user": {"token": TOKEN}}],
              "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(Unreachable) as err:
        open_source(str(path), timeout=5)
    assert "connection refused" in str(err.value) and TOKEN not in str(err.value)


def test_a_cluster_behind_a_socks_proxy_is_read_through_it_as_kubectl_reads_it(
        kube_emulator: KubeEmulator, shared_dir: Path, prometheus_server: PrometheusServer, tmp_path: Path) -> None:
    """A private cluster reached through a bastion (``ssh -D`` and ``proxy-url: socks5://...``): opening
    it failed with "No module named 'socks'", and a server name only the bastion's network knows was
    looked up on the laptop ("the host name does not resolve") where kubectl leaves it to the proxy.
    The API calls and Prometheus' queries (the API server's service proxy) both go through the proxy."""
    emu = kube_emulator
    _mesh(emu, shared_dir, prometheus_server.url)
    emu.require_token(TOKEN)
    with SocksProxy(hosts={"kube.bastion.internal": "127.0.0.1"}) as proxy:
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "private",
                  "clusters": [{"name": "private", "cluster": {"server": f"http://kube.bastion.internal:{emu.port}",
                                                               "proxy-url": proxy.url}}],
                  "users": [{"name": "u", "user": {"token": TOKEN}}],
                  "contexts": [{"name": "private", "context": {"cluster": "private", "user": "u"}}]}
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(config))
        source = open_source(str(path), timeout=10)
        try:
            snap = source.snapshot(GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time))
        finally:
            source.close()
    assert {"reviews-v1", "details-v1"} <= {s.labels.get("destination_workload") for s in snap.samples}
    assert snap.inventory is not None and len(snap.inventory.workloads) == 6
    assert source.info().context == "private" and snap.meta["prometheus"].startswith("API server service proxy")
    assert proxy.connects and set(proxy.connects) == {("kube.bastion.internal", emu.port)}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_proxy_that_is_down_is_said_to_be_the_proxy_not_the_api_server(tmp_path: Path) -> None:
    """The bastion's tunnel not started (``proxy-url`` naming a port nothing listens on): the message said
    the API server could not be reached ("cannot reach https://10.0.0.1:6443: connection refused"), an
    address the laptop never talks to directly; it names the proxy and says to start it. When the proxy
    is up but cannot reach the server, that is said too. The proxy's password never shows."""
    def opened(server: str, proxy_url: str) -> str:
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "private",
                  "clusters": [{"name": "private", "cluster": {"server": server, "proxy-url": proxy_url}}],
                  "users": [{"name": "u", "user": {"token": TOKEN}}],
                  "contexts": [{"name": "private", "context": {"cluster": "private", "user": "u"}}]}
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(config))
        with pytest.raises(Unreachable) as err:
            open_source(str(path), timeout=5)
        text = f"{err.value.message} {err.value.hint}"
        assert "pr0xy-Pa55" not in text and TOKEN not in text
        # the window's banner says the hint, not its usual "Check the VPN or network, and that the API server is up"
        assert err.value.advice == f"{err.value.hint[0].upper()}{err.value.hint[1:]}, then Retry."
        return text

    port = _closed_port()
    assert opened("https://10.0.0.1:6443", f"socks5://jane:pr0xy-Pa55@127.0.0.1:{port}") == (
        f"contact the API server: cannot reach the SOCKS proxy 127.0.0.1:{port} (proxy-url): connection refused "
        "start the SOCKS proxy (an ssh -D session to a bastion, say), or check the cluster's proxy-url in your "
        "kubeconfig")
    assert opened("https://10.0.0.1:6443", f"http://jane:pr0xy-Pa55@127.0.0.1:{port}") == (
        f"contact the API server: cannot reach the proxy 127.0.0.1:{port} (proxy-url): connection refused "
        "start the proxy, or check the cluster's proxy-url in your kubeconfig")
    with SocksProxy() as proxy:
        assert opened(f"https://127.0.0.1:{port}", proxy.url) == (
            f"contact the API server: the SOCKS proxy 127.0.0.1:{proxy.port} (proxy-url) could not connect to "
            f"https://127.0.0.1:{port}: connection refused check the server address, and that the proxy's network "
            "reaches it")


def test_slow_api_server_is_a_timeout(kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    config = kube_emulator.write_kubeconfig(tmp_path / "config")
    source = open_source(str(config), timeout=0.3)
    try:
        kube_emulator.slow(5)
        with pytest.raises(Timeout):
            source.namespaces()
    finally:
        source.close()


def test_forbidden_namespace_is_hidden_in_the_snapshot(kube_emulator: KubeEmulator, shared_dir: Path,
                                                       prometheus_server: PrometheusServer) -> None:
    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    kube_emulator.forbid(namespace="bookinfo", resource="pods")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo", "istio-system"),
                                            queryTime=prometheus_server.query_time))
        assert snap.inventory is not None
        # no cluster-wide pod list either: gateways outside the selection are said to be unmarked
        assert snap.inventory.hidden.keys() == {"bookinfo/pods", "*/gateway pods", "*/istiod pods outside istio-system"}
        assert snap.meta["hidden"] == snap.inventory.hidden
        assert len(snap.inventory.workloads) == 6 and snap.samples
    finally:
        source.close()


def test_namespaces_fall_back_to_the_contexts_namespace(kube_emulator: KubeEmulator) -> None:
    kube_emulator.forbid(resource="namespaces", verb="list")
    source = ClusterSource(kube_emulator.api_client(), context="emu", default_namespace="team-a")
    assert [n.name for n in source.namespaces()] == ["team-a"]


def test_namespaces_deleted_since_are_forgotten(kube_emulator: KubeEmulator) -> None:
    """A cluster whose CI makes a namespace for each pull request and deletes it after: the source, open all
    day, kept the creation time of every namespace it had ever listed. It keeps those of the namespaces the
    last listing had, and gives no age to one deleted since."""
    kube_emulator.add_namespace("bookinfo")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        names = [f"pr-{i}" for i in range(200)]
        for name in names:  # a namespace listing at each refresh of the list, one pull request's namespace in it
            kube_emulator.add_namespace(name)
            assert name in {n.name for n in source.namespaces()}
            kube_emulator.delete("namespaces", "", name)
        assert not set(names) & {n.name for n in source.namespaces()}  # the listing after the last deletion
        assert source.namespace_births(names) == {}
        assert set(source.namespace_births(["bookinfo"])) == {"bookinfo"}
    finally:
        source.close()


def test_without_istio(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.add_namespace("bookinfo")
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    with pytest.raises(NotFound) as err:
        source.snapshot(GraphRequest(namespaces=("bookinfo",)))
    assert str(err.value).startswith("Istio was not found")
    assert source.info().prometheus.startswith("not reachable: Istio was not found")


def test_prometheus_unreachable_is_reported_and_retried(kube_emulator: KubeEmulator, shared_dir: Path,
                                                        prometheus_server: PrometheusServer) -> None:
    _mesh(kube_emulator, shared_dir)  # no endpoints, no port-forward target yet
    source = ClusterSource(kube_emulator.api_client(), context="emu", timeout=5)
    request = GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time)
    with pytest.raises(Exception) as err:
        source.snapshot(request)
    assert "Prometheus" in str(err.value) and "meshdesk graph --prometheus URL" in str(err.value)
    assert source.info().prometheus.startswith("not reachable")
    kube_emulator.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    assert source.snapshot(request).samples  # found on the next refresh
    assert source.info().prometheus == "API server service proxy to istio-system/prometheus:9090"
    source.close()


def test_writes_istio_config_and_namespace_labels(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.load_crds(shared_dir / CRDS)
    kube_emulator.add_namespace("bookinfo")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    dr = IstioObject("DestinationRule", "reviews", "bookinfo", api_version="",
                     spec={"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]})
    preview = source.apply(dr, dry_run=True)
    assert preview.api_version == "networking.istio.io/v1"
    assert kube_emulator.get("destinationrules", "bookinfo", "reviews", "networking.istio.io") is None
    stored = source.apply(dr)
    assert stored.resource_version and stored.spec["host"] == "reviews"
    changed = IstioObject.from_json({**stored.to_json(), "spec": {"host": "reviews.bookinfo.svc.cluster.local"}})
    updated = source.apply(changed)
    with pytest.raises(Conflict):
        source.apply(changed)  # its resource_version is stale now
    assert int(updated.resource_version) > int(stored.resource_version)
    source.delete("DestinationRule", "bookinfo", "reviews", dry_run=True)
    assert kube_emulator.get("destinationrules", "bookinfo", "reviews", "networking.istio.io") is not None
    source.delete("DestinationRule", "bookinfo", "reviews")
    assert kube_emulator.get("destinationrules", "bookinfo", "reviews", "networking.istio.io") is None
    with pytest.raises(NotFound):
        source.delete("DestinationRule", "bookinfo", "reviews")
    source.label_namespace("bookinfo", {"istio-injection": "enabled"})
    source.label_namespace("bookinfo", {"istio-injection": None}, dry_run=True)
    assert kube_emulator.get("namespaces", "", "bookinfo")["metadata"]["labels"]["istio-injection"] == "enabled"
    source.label_namespace("bookinfo", {"istio-injection": None})
    assert "istio-injection" not in kube_emulator.get("namespaces", "", "bookinfo")["metadata"]["labels"]


EXEC_PLUGIN = """
import json, uuid
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": f"exec-token-{uuid.uuid4().hex}",
                             "expirationTimestamp": "2000-01-01T00:00:00Z"}}))
"""


def test_exec_plugin_tokens_refresh_for_prometheus_too(kube_emulator: KubeEmulator, shared_dir: Path,
                                                       prometheus_server: PrometheusServer, tmp_path: Path) -> None:
    """A credential plugin whose tokens are always expired: every request, API or Prometheus through the
    service proxy, carries a freshly issued token."""
    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    plugin = tmp_path / "plugin.py"
    plugin.write_text(EXEC_PLUGIN)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="sso")
    doc = yaml.safe_load(config.read_text())
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                                        "args": [str(plugin)], "interactiveMode": "Never"}}
    config.write_text(yaml.safe_dump(doc))
    source = open_source(str(config))
    try:
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time))
        assert snap.samples
    finally:
        source.close()
    tokens = [h.get("Authorization", "") for _, p, h in kube_emulator.requests if "/proxy/" in p]
    assert tokens and all(t.startswith("Bearer exec-token-") for t in tokens)
    assert len(set(tokens)) == len(tokens)  # each one freshly issued by the plugin


def test_credentials_rejected_during_a_snapshot(kube_emulator: KubeEmulator, shared_dir: Path,
                                                prometheus_server: PrometheusServer) -> None:
    """The API server's 401 is what the user sees (not the Prometheus proxy's echo of it)."""
    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    source = ClusterSource(kube_emulator.api_client(token=TOKEN), context="emu")
    request = GraphRequest(namespaces=("bookinfo",), queryTime=prometheus_server.query_time)
    assert source.snapshot(request).samples
    kube_emulator.require_token("rotated")
    with pytest.raises(Unauthorized) as err:
        source.snapshot(request)
    assert "credentials expired or rejected" in str(err.value) and TOKEN not in str(err.value)
    source.close()


def _bookinfo_cluster(emu: KubeEmulator, shared_dir: Path, prometheus_url: str | None) -> None:
    """Istio's CRDs and bookinfo running in an injected namespace; with ``prometheus_url``, Istio's
    Prometheus addon service proxying to it."""
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    if prometheus_url is not None:
        emu.load_yaml(shared_dir / "fixtures/istio/addons/prometheus.yaml")
    emu.run_workloads()
    if prometheus_url is not None:
        emu.proxy_service("istio-system", "prometheus", 9090, prometheus_url)


def test_meshdesk_graph_on_a_live_cluster(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                          prometheus_server: PrometheusServer,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's graph over open_source: kubeconfig -> emulator -> Istio's Prometheus addon service -> real
    Prometheus."""
    from meshdesk.cli import main

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] and "bookinfo/reviews v2 (app)" in line
               for line in out.splitlines())


def test_meshdesk_graph_without_the_right_to_list_namespaces(kube_emulator: KubeEmulator, shared_dir: Path,
                                                             tmp_path: Path, prometheus_server: PrometheusServer,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Without -n and without the right to list namespaces, ``meshdesk graph`` graphs the context's
    namespace and says so, as ``meshdesk inventory`` does (it used to say no namespace was in the mesh,
    for the namespace's labels could not be read)."""
    from meshdesk.cli import main

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    kube_emulator.forbid(namespace="", resource="namespaces", verb="list")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab", namespace="bookinfo")
    assert main(["graph", "--kubeconfig", str(config), "--context", "lab"]) == 0
    out, err = capsys.readouterr()
    assert "you may not list namespaces; graphing bookinfo" in err
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] for line in out.splitlines())


def test_meshdesk_graph_reads_prometheus_from_the_contexts_settings(kube_emulator: KubeEmulator, shared_dir: Path,
                                                                    tmp_path: Path,
                                                                    prometheus_server: PrometheusServer,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """No Prometheus in the cluster, but its address saved in Settings for the context (as the app
    uses it): ``meshdesk graph`` uses it too (it said Prometheus was not found, and to set it there)."""
    from meshdesk.cli import main
    from meshdesk.store.settings import ContextSettings, load_settings

    _bookinfo_cluster(kube_emulator, shared_dir, None)  # no Prometheus in the cluster
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(prometheus_url=prometheus_server.url))
    settings.save()
    assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] for line in out.splitlines())


def test_meshdesk_graph_judges_health_by_the_tolerances_saved_for_the_context(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, prometheus_server: PrometheusServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The app judges a context by the health tolerances saved in Settings (the context's own, else the
    general ones); ``meshdesk graph --context`` judged it by Kiali's defaults, so the terminal called
    Healthy what the window called Failure. It follows them now, says so, and ``--health-config ''``
    goes back to the defaults."""
    import json as _json

    from meshdesk.cli import main
    from meshdesk.store.settings import ContextSettings, load_settings

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    twos_fail = {"namespace": "bookinfo", "kind": "service", "name": "reviews",
                 "tolerance": [{"code": "2XX", "failure": 1}]}

    def reviews(*extra: str) -> tuple[str, str]:
        assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo",
                     "--format", "json", *extra]) == 0
        out, err = capsys.readouterr()
        nodes = _json.loads(out)["nodes"]
        node = next(n for n in nodes if n.get("node_type") == "service" and n.get("service") == "reviews")
        return str((node.get("health") or {}).get("status")), err

    assert reviews() == ("Healthy", "")
    settings = load_settings()
    settings.health_rates = [twos_fail]  # the general ones
    settings.save()
    status, err = reviews()
    assert status == "Failure"
    assert "health judged by the 1 health tolerance saved in Settings for context lab" in err
    settings = load_settings()  # this context's own: none, Kiali's defaults whatever the general ones say
    settings.set_context_settings("lab", ContextSettings(health_rates=()))
    settings.save()
    assert reviews() == ("Healthy", "")
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(health_rates=(twos_fail, twos_fail)))
    settings.save()
    status, err = reviews()
    assert status == "Failure" and "the 2 health tolerances saved in Settings for context lab" in err
    assert reviews("--health-config", "") == ("Healthy", "")


def test_meshdesk_graph_says_a_corrupt_settings_file_was_moved_aside_in_its_own_words(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, prometheus_server: PrometheusServer,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """``graph --context`` reads the app's settings for the context's Prometheus; a corrupt file is
    moved aside and the command says so as its other warnings (it was logged bare, without
    "meshdesk graph:"), once, and still graphs."""
    from meshdesk.cli import main
    from meshdesk.store import paths

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    target = paths.settings_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{not json", encoding="utf-8")
    assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo"]) == 0
    captured = capsys.readouterr()
    said = [line for line in captured.err.splitlines() if "settings file" in line]
    assert len(said) == 1 and said[0].startswith(f"meshdesk graph: warning: settings file {target}"), captured.err
    assert not [r for r in caplog.records if "settings file" in r.getMessage()]
    assert not target.exists() and [p for p in target.parent.iterdir() if p.name.startswith(target.name)]
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] for line in captured.out.splitlines())


def test_untrusted_api_server_certificate(tls_emulator: KubeEmulator, tmp_path: Path) -> None:
    config = tls_emulator.write_kubeconfig(tmp_path / "config", token=TOKEN)
    doc = yaml.safe_load(config.read_text())
    del doc["clusters"][0]["cluster"]["certificate-authority"]  # the emulator's CA is not given
    config.write_text(yaml.safe_dump(doc))
    with pytest.raises(Unreachable) as err:
        open_source(str(config), timeout=5)
    assert "certificate is not trusted" in str(err.value) and TOKEN not in str(err.value)


def _deployment(name: str, namespace: str, labels: dict[str, str]) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": labels["app"]}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": labels["app"], "image": "example/app:1"}]}}}}


@pytest.mark.parametrize("labelled", [True, False], ids=["waypoint label", "no waypoint label"])
def test_an_ambient_namespace_from_a_live_cluster(kube_emulator: KubeEmulator, shared_dir: Path,
                                                  prometheus_server: PrometheusServer, labelled: bool) -> None:
    """The Prometheus dataset's ambient namespace "mall" (a waypoint reports web -> orders; ztunnel the
    bytes of both hops), with its workloads in the cluster: the inventory says which one is the waypoint."""
    from meshdesk.mesh.graph import build

    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    kube_emulator.add_namespace("mall", {"istio.io/dataplane-mode": "ambient"})
    waypoint_labels = {"app": "waypoint", "gateway.networking.k8s.io/gateway-name": "waypoint"}
    if labelled:
        waypoint_labels["gateway.istio.io/managed"] = "istio.io-mesh-controller"
    for name, labels in (("web-v1", {"app": "web", "version": "v1"}), ("orders-v1", {"app": "orders", "version": "v1"}),
                         ("waypoint", waypoint_labels)):
        kube_emulator.add(_deployment(name, "mall", labels))
    kube_emulator.run_workloads("mall")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        snap = source.snapshot(GraphRequest(namespaces=("mall",), graphType="workload", injectServiceNodes=False,
                                            queryTime=prometheus_server.query_time))
    finally:
        source.close()
    g = build(snap)
    nodes = {n.workload: n for n in g.nodes.values()}
    assert set(nodes) == {"web-v1", "orders-v1", "waypoint"}
    assert bool(nodes["waypoint"].extra.get("isWaypoint")) is labelled  # the cluster's word, not a guess
    # no sidecar, and none missing: the namespace is ambient
    assert not any(n.has_missing_sidecar for n in nodes.values())
    calls = next(e for e in g.edges.values() if e.protocol == "http")
    assert (g.nodes[calls.source].workload, g.nodes[calls.target].workload) == ("web-v1", "orders-v1")
    assert calls.rate == pytest.approx(7.0, abs=1e-6)


def test_a_young_namespace_on_a_live_cluster_is_read_over_its_age(kube_emulator: KubeEmulator, shared_dir: Path,
                                                                  prometheus_server: PrometheusServer) -> None:
    """The dataset's namespace "fresh" was created three minutes before the query: the source reads its
    age from the cluster and asks Prometheus for a three-minute window there (ten for bookinfo), so the
    graph shows storefront -> api at its real 3 requests/s, as Kiali does. The snapshot records it."""
    import time as _time

    from meshdesk.mesh.graph import build
    from tests.prom_server import FRESH_AGE_S

    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    created = _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(prometheus_server.query_time - FRESH_AGE_S))
    kube_emulator.add({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": "fresh", "creationTimestamp": created}})
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        snap = source.snapshot(GraphRequest(namespaces=("bookinfo", "fresh"), graphType="workload",
                                            injectServiceNodes=False, queryTime=prometheus_server.query_time))
    finally:
        source.close()
    assert dict(snap.request.namespaceDurations) == {"fresh": FRESH_AGE_S}
    assert Snapshot.from_json(snap.to_json()).request == snap.request
    g = build(snap)
    calls = {(g.nodes[e.source].workload, g.nodes[e.target].workload): e.rate for e in g.edges.values()}
    assert calls[("storefront-v1", "api-v1")] == pytest.approx(3.0, rel=0.02)
    assert calls[("istio-ingressgateway", "productpage-v1")] == pytest.approx(10.0, abs=1e-6)


def test_a_young_namespaces_charts_keep_to_its_life(kube_emulator: KubeEmulator, shared_dir: Path,
                                                     prometheus_server: PrometheusServer) -> None:
    """The namespace "fresh" was created three minutes before the query; api-v1 there has served 3
    requests a second since. Its request volume chart rose over its first minute (0.75, 1.5, 2.25: the
    rate windows reached back to before the namespace existed); as in Kiali, no point is charted before
    a whole window of the namespace's life, and every point reads the 3 requests a second. An older
    namespace's chart keeps its whole range."""
    import math
    import time as _time

    from meshdesk.mesh.metrics import MetricsSpec, MetricsTarget
    from meshdesk.sources.perf import metrics_source_for
    from tests.prom_server import FRESH_AGE_S

    _mesh(kube_emulator, shared_dir, prometheus_server.url)
    born = prometheus_server.query_time - FRESH_AGE_S
    kube_emulator.add({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": "fresh", "creationTimestamp": _time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                         _time.gmtime(born))}})
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        metrics = metrics_source_for(source)
        assert metrics is not None
        spec = MetricsSpec(range_s=300, step_s=15, charts=("request_volume",), end=prometheus_server.query_time)
        [line] = metrics.fetch(MetricsTarget.workload("fresh", "api-v1"), spec).chart_lines("request_volume")
        drawn = [(t, v) for t, v in zip(line.times, line.values, strict=True) if math.isfinite(v)]
        assert len(drawn) >= (FRESH_AGE_S - 60) // 15
        assert all(v == pytest.approx(3.0) for _, v in drawn), drawn
        assert drawn[0][0] >= born + 60
        [older] = metrics.fetch(MetricsTarget.workload("bookinfo", "details-v1"), spec).chart_lines("request_volume")
        assert all(math.isfinite(v) for v in older.values) and len(older.values) == 21
    finally:
        source.close()


def test_meshdesk_graph_prometheus_option_naming_the_saved_address_takes_its_saved_auth(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: ``graph --prometheus URL`` with the very address saved in Settings for the context (a Mimir
    wanting a token and a tenant header) sent neither and failed with 401; another address is still
    never sent the saved credentials."""
    from meshdesk.cli import main
    from meshdesk.store.settings import ContextSettings, load_settings
    from tests.prom_server import StubRequest, StubResponse, StubServer, prometheus_vector

    def mimir(req: StubRequest) -> StubResponse:
        if req.headers.get("Authorization") != "Bearer mimir-token-0042" or req.headers.get("X-Scope-OrgID") != "team-a":
            return StubResponse(401, "no org id")
        return StubResponse(200, prometheus_vector([({}, "1")]) if req.params.get("query") == "1"
                            else prometheus_vector([]))

    _bookinfo_cluster(kube_emulator, shared_dir, None)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    with StubServer(mimir) as saved_one, StubServer(mimir) as other:
        settings = load_settings()
        settings.set_context_settings("lab", ContextSettings(
            prometheus_url=saved_one.url + "/", prometheus_auth={"type": "bearer", "token": "mimir-token-0042",
                                                                 "headers": {"X-Scope-OrgID": "team-a"}}))
        settings.save()
        assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo",
                     "--prometheus", saved_one.url]) == 0, capsys.readouterr().err
        assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo",
                     "--prometheus", other.url]) == 1
        assert "HTTP 401" in capsys.readouterr().err
        assert other.requests and not any("Authorization" in r.headers or "X-Scope-OrgID" in r.headers
                                          for r in other.requests)


def test_meshdesk_graph_says_what_rbac_hid_from_it(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                                  prometheus_server: PrometheusServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """QA: with the right to list a namespace's pods or VirtualServices missing, ``meshdesk graph`` drew
    the graph without their health and routing badges and said nothing (``inventory`` and ``validate``
    list what was hidden on stderr)."""
    from meshdesk.cli import main

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    kube_emulator.forbid(namespace="bookinfo", resource="virtualservices")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo"]) == 0
    out, err = capsys.readouterr()
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] for line in out.splitlines())
    assert "meshdesk graph: hidden: bookinfo/virtualservices: forbidden" in err


def test_meshdesk_graph_takes_a_timeout_as_inventory_and_validate_do(kube_emulator: KubeEmulator, shared_dir: Path,
                                                                     tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """QA: a slow Thanos or Prometheus was given 30 s a query by ``meshdesk graph``, with no way to give it
    more or less (``inventory`` and ``validate`` take --timeout): "did not answer within 30 s"."""
    from meshdesk.cli import main
    from tests.prom_server import HANG, StubServer

    _bookinfo_cluster(kube_emulator, shared_dir, None)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    with StubServer(lambda r: HANG) as slow:
        assert main(["graph", "--kubeconfig", str(config), "-n", "bookinfo", "--prometheus", slow.url,
                     "--timeout", "0.5"]) == 1
    assert f"Prometheus at {slow.url} did not answer within 0.5 s" in capsys.readouterr().err
    for bad in ("0", "nan", "-3"):
        with pytest.raises(SystemExit) as done:
            main(["graph", "--kubeconfig", str(config), "-n", "bookinfo", "--timeout", bad])
        assert done.value.code == 2 and "--timeout must be a positive number" in capsys.readouterr().err


def test_meshdesk_graph_says_a_prometheus_warning_once_as_what_it_is(kube_emulator: KubeEmulator, shared_dir: Path,
                                                                    tmp_path: Path) -> None:
    """QA: a Thanos partial response ("warnings" in its answers) was printed bare on stderr once per query
    ("Prometheus at ... warns: ..." from the log), then as "skipped 4 samples: results may be
    incomplete..." though no sample was skipped."""
    import subprocess

    from tests.prom_server import StubServer, prometheus_vector

    _bookinfo_cluster(kube_emulator, shared_dir, None)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    body = prometheus_vector([], warnings=["partial response: store 10.0.0.1 unavailable"])
    with StubServer(lambda r: prom_server.StubResponse(200, body)) as thanos:
        done = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--kubeconfig", str(config), "-n",
                               "bookinfo", "--prometheus", thanos.url], capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "partial response" in line]
    assert said == ["meshdesk graph: warning: results may be incomplete, Prometheus warned: partial response: "
                    "store 10.0.0.1 unavailable"], done.stderr


def test_an_empty_context_option_is_the_current_context_as_in_kubectl(kube_emulator: KubeEmulator, shared_dir: Path,
                                                                      tmp_path: Path, prometheus_server: PrometheusServer,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: ``--context "$CTX"`` with CTX unset: ``graph`` said "say where the data comes from: ...
    --context" (it had been given), ``inventory`` and ``validate`` that context "" does not exist;
    kubectl takes an empty --context as the current one."""
    from meshdesk.cli import main

    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert main(["graph", "--context", "", "-n", "bookinfo"]) == 0, capsys.readouterr().err
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] for line in capsys.readouterr().out.splitlines())
    assert main(["inventory", "--context", "", "-n", "bookinfo"]) == 0
    assert "reviews-v2" in capsys.readouterr().out
    assert main(["validate", "--context", "", "-n", "bookinfo", "--fail-on", "never"]) == 0
    assert "does not exist" not in capsys.readouterr().err


def test_graph_with_no_source_named_takes_the_current_context_as_kubectl_does(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, prometheus_server: PrometheusServer) -> None:
    """QA: ``meshdesk graph -n bookinfo`` with KUBECONFIG set was refused ("say where the data comes from"),
    where kubectl, ``meshdesk inventory``, ``validate`` and ``traces`` all take the current context."""
    _bookinfo_cluster(kube_emulator, shared_dir, prometheus_server.url)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    env = {**os.environ, "KUBECONFIG": str(config), "MESHDESK_CONFIG_DIR": str(tmp_path / "settings")}
    done = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "-n", "bookinfo"], capture_output=True,
                          text=True, env=env, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert any(line.split()[:2] == ["bookinfo/reviews", "(service)"] and "bookinfo/reviews v2 (app)" in line
               for line in done.stdout.splitlines())


def test_an_api_server_that_never_answers_is_advised_as_a_network_path_or_an_overloaded_server(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: an API server that takes the connection and never answers (a VPN or firewall dropping the
    traffic looks the same) was said with "the server may be overloaded; try again or query less" only."""
    from meshdesk.cli import main
    from tests.prom_server import HANG, StubServer

    with StubServer(lambda r: HANG) as silent:
        config = tmp_path / "config"
        config.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
            f"clusters: [{{name: lab, cluster: {{server: '{silent.url}'}}}}]\n"
            "users: [{name: lab, user: {token: t}}]\n"
            "contexts: [{name: lab, context: {cluster: lab, user: lab}}]\n")
        assert main(["inventory", "--kubeconfig", str(config), "-n", "bookinfo", "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "did not answer in time" in err
    assert f"check the network path to {silent.url.rstrip('/')} (VPN, firewall or proxy)" in err
    assert "overloaded" in err


def test_writes_a_kind_its_group_serves_in_an_older_version_only(kube_emulator: KubeEmulator,
                                                                 shared_dir: Path) -> None:
    """networking.istio.io serves v1, but EnvoyFilter only as v1alpha3: an EnvoyFilter was sent to
    .../v1/.../envoyfilters, which the server does not serve (404)."""
    kube_emulator.load_crds(shared_dir / CRDS)
    kube_emulator.add_namespace("bookinfo")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    ef = IstioObject("EnvoyFilter", "lua", "bookinfo", api_version="", spec={"configPatches": []})
    stored = source.apply(ef)
    assert stored.api_version == "networking.istio.io/v1alpha3"
    assert kube_emulator.get("envoyfilters", "bookinfo", "lua", "networking.istio.io") is not None
    source.delete("EnvoyFilter", "bookinfo", "lua")
    assert kube_emulator.get("envoyfilters", "bookinfo", "lua", "networking.istio.io") is None
    source.close()


def test_closing_a_cluster_does_not_wait_for_its_prometheus_being_looked_for(
        kube_emulator: KubeEmulator, shared_dir: Path, prometheus_server: PrometheusServer) -> None:
    """The Metrics dock finds the cluster's Prometheus on its own thread (the first time, or again after a
    refresh lost it), which takes up to the timeout on a slow cluster. Closing the cluster (another context
    chosen: the poller closes the one left before it opens the new one; the window closing) waited for that
    search to end, so the new context's graph, or the closing window, waited with it. Closing now returns
    at once, and a Prometheus found after it is let go."""
    import threading

    from meshdesk.mesh.metrics import MetricsSpec, MetricsTarget
    from meshdesk.sources.perf import metrics_source_for

    _mesh(kube_emulator, shared_dir)
    kube_emulator.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    source = ClusterSource(kube_emulator.api_client(), context="emu", timeout=30)
    metrics = metrics_source_for(source)
    assert metrics is not None
    first = "/api/v1/namespaces/istio-system/services/prometheus"  # discovery's first question
    gate, held = kube_emulator.hold_requests(first)
    outcome: list[object] = []

    def fetch() -> None:
        try:
            outcome.append(metrics.fetch(MetricsTarget.workload("bookinfo", "reviews-v1"), MetricsSpec()))
        except SourceError as e:
            outcome.append(e)

    charts = threading.Thread(target=fetch, name="metrics", daemon=True)
    charts.start()
    closed = threading.Event()
    closing = threading.Thread(target=lambda: (source.close(), closed.set()), name="closing", daemon=True)
    try:
        assert held.wait(10)  # Prometheus is being looked for
        closing.start()
        # (it waited for the search to end: at the search's own timeout, 10 s)
        assert closed.wait(5), "closing the cluster waited for its Prometheus to be found"
    finally:
        gate.set()
        charts.join(30)
        closing.join(30)
    assert not charts.is_alive() and isinstance(outcome[0], Cancelled), outcome  # what it found is let go
    assert "closed" in str(outcome[0])


@pytest.mark.prometheus
def test_a_live_graph_reads_a_young_namespace_and_its_time_by_prometheus_clock(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path) -> None:
    """This machine's clock is 30 minutes behind the cluster's. The namespace "fresh" was created three
    minutes ago by the cluster's clock, and its storefront has called api 3 times a second since. The live
    graph took the namespace for one not yet created, read it over the whole ten minutes and drew the edge
    at about a third of its rate; its time said half an hour ago. Both follow Prometheus' clock now."""
    import time as _time

    from meshdesk.mesh.graph import build
    from tests.prom_server import API, FRESH_AGE_S, STOREFRONT, Series, istio_edge

    srv = PrometheusServer(tmp_path / "prom", [
        Series("istio_requests_total", istio_edge(STOREFRONT, API, "api", "fresh", reporter=reporter), 3.0,
               born_s=FRESH_AGE_S) for reporter in ("destination", "source")])
    srv.start()
    try:
        _mesh(kube_emulator, shared_dir)
        created = _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(srv.query_time - FRESH_AGE_S))
        kube_emulator.add({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": "fresh", "creationTimestamp": created}})
        behind = 30 * 60
        source = ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=srv.url,
                               clock=lambda: _time.time() - behind)
        try:
            snap = source.snapshot(GraphRequest(namespaces=("fresh",), graphType="workload",
                                                injectServiceNodes=False))
            cluster_now = source.now()
        finally:
            source.close()
    finally:
        srv.stop()
    assert set(snap.request.namespaceDurations) == {"fresh"}
    assert FRESH_AGE_S <= snap.request.namespaceDurations["fresh"] < 600
    g = build(snap)
    calls = {(g.nodes[e.source].workload, g.nodes[e.target].workload): e.rate for e in g.edges.values()}
    assert calls[("storefront-v1", "api-v1")] == pytest.approx(3.0, rel=0.05)
    assert abs(g.timestamp - cluster_now) < 60, "the graph's time is the cluster's present"
