"""One mesh over two kubeconfig contexts, live: two Kubernetes API emulators (east and west, each with an
istiod naming its cluster) and one real Prometheus holding both clusters' series, as a shared or federated
Prometheus of a multi-primary mesh holds them.

web-v1 runs in east and calls cart-v1 in east and in west. West's cart-v1 has no ready pod, and west runs
spare-v1, which nothing calls: read from east alone, west's nodes had no pods to be judged by and
spare-v1 no idle node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.fileio import write_atomic
from meshdesk.mesh.graph import build, model
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.cluster import ClusterSource, open_source
from meshdesk.sources.mesh_clusters import FOUND_CLUSTER_ID, FOUND_KUBECONFIG, GIVEN
from tests.kube_emulator import KubeEmulator
from tests.prom_server import PrometheusServer, Series, Workload, binaries_missing, istio_edge

WEB = Workload("shop", "web-v1", "web", "v1")
CART = Workload("shop", "cart-v1", "cart", "v1")


def _series() -> list[Series]:
    """web (east) -> cart in east and in west, 5 req/s each, reported by both proxies."""
    out = []
    for dst_cluster in ("east", "west"):
        for reporter in ("source", "destination"):
            labels = istio_edge(WEB, CART, "cart", "shop", reporter=reporter, cluster="east")
            labels["destination_cluster"] = dst_cluster
            out.append(Series("istio_requests_total", labels, 5.0))
    return out


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("two-clusters"), _series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _deployment(name: str, namespace: str, labels: dict[str, str], env: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "example/app:1"}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}}


def _app(name: str) -> dict[str, Any]:
    app, _, version = name.rpartition("-")
    return _deployment(name, "shop", {"app": app, "version": version})


def _cluster(emu: KubeEmulator, cluster_id: str | None, workloads: list[str], *, ready: bool = True) -> None:
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    env = {"CLUSTER_ID": cluster_id} if cluster_id else {}
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod"}, env))
    for name in workloads:
        emu.add(_app(name))
    emu.run_workloads("istio-system")
    emu.run_workloads("shop", ready=ready)


def _kubeconfig(path: Path, **contexts: KubeEmulator) -> str:
    """One kubeconfig with a context per emulator (its cluster entry named ``kind-<context>``)."""
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
                           "current-context": next(iter(contexts))}
    for name, emu in contexts.items():
        doc["clusters"].append({"name": f"kind-{name}", "cluster": {"server": emu.url}})
        doc["users"].append({"name": f"{name}-user", "user": {}})
        doc["contexts"].append({"name": name, "context": {"cluster": f"kind-{name}", "user": f"{name}-user"}})
    write_atomic(path, yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture
def east() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _cluster(emu, "east", ["web-v1", "cart-v1"])
        yield emu


@pytest.fixture
def west() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _cluster(emu, "west", ["cart-v1", "spare-v1"], ready=False)
        yield emu


def _request(prometheus: PrometheusServer) -> GraphRequest:
    return GraphRequest(namespaces=("shop",), graphType="workload", includeIdleNodes=True,
                        queryTime=prometheus.query_time)


def _by_cluster(graph: model.TrafficGraph, workload: str) -> dict[str, model.Node]:
    """The nodes of ``workload`` by cluster (a workload node, or a versioned app's node of it)."""
    return {n.cluster: n for n in graph.nodes.values() if n.node_type != model.NODE_BOX and n.workload == workload}


def _linked_snapshot(kubeconfig: str, prometheus: PrometheusServer, **kw: Any) -> tuple[Snapshot, ClusterSource]:
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")], **kw)
    try:
        return source.snapshot(_request(prometheus)), source
    finally:
        source.close()


def test_a_linked_contexts_workloads_judge_its_nodes(east: KubeEmulator, west: KubeEmulator,
                                                      prometheus: PrometheusServer, tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, source = _linked_snapshot(kubeconfig, prometheus)
    # each cluster named as its telemetry names it: istiod's CLUSTER_ID, not the kubeconfig's kind-east
    assert source.clusters() == [("east", "east", FOUND_CLUSTER_ID), ("west", "west", FOUND_CLUSTER_ID)]
    assert snap.inventory is not None and snap.inventory.unread_clusters == {}
    assert {(w.cluster, w.name) for w in snap.inventory.workloads if w.namespace == "shop"} == {
        ("east", "web-v1"), ("east", "cart-v1"), ("west", "cart-v1"), ("west", "spare-v1")}

    graph = build(snap)
    carts = _by_cluster(graph, "cart-v1")
    assert set(carts) == {"east", "west"}
    # west's cart-v1 has its own pods (none ready): a failure, where east's is healthy
    assert carts["east"].health is not None and carts["east"].health.status == model.HEALTHY
    assert carts["west"].health is not None and carts["west"].health.status == model.FAILURE
    # west's spare-v1, which nothing calls, is an idle node of west
    spare = _by_cluster(graph, "spare-v1")
    assert set(spare) == {"west"} and spare["west"].is_idle
    # a snapshot saved from it carries both clusters' workloads and is judged the same when opened
    again = build(Snapshot.from_json(snap.to_json()))
    assert _by_cluster(again, "cart-v1")["west"].health.status == model.FAILURE  # type: ignore[union-attr]
    assert set(_by_cluster(again, "spare-v1")) == {"west"}


def test_a_linked_context_that_is_down_is_named_and_the_others_stay(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    west.stop()
    snap, source = _linked_snapshot(kubeconfig, prometheus)
    inv = snap.inventory
    assert inv is not None
    # west's name could not be asked of its istiod: the kubeconfig's name for it, and why it is missing
    assert list(inv.unread_clusters) == ["kind-west"]
    assert "context west" in inv.unread_clusters["kind-west"]
    assert source.clusters()[1] == ("kind-west", "west", "")
    # east's workloads are there and judge east's nodes; the traffic to west's cart is still drawn
    assert {w.name for w in inv.workloads if w.namespace == "shop"} == {"web-v1", "cart-v1"}
    graph = build(snap)
    carts = _by_cluster(graph, "cart-v1")
    assert set(carts) == {"east", "west"}
    assert carts["east"].health is not None and carts["east"].health.status == model.HEALTHY
    assert not _by_cluster(graph, "spare-v1")


def test_cluster_names_given_are_used_and_without_cluster_id_the_kubeconfigs(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer) -> None:
    with KubeEmulator() as bare:  # a cluster whose istiod sets no CLUSTER_ID
        _cluster(bare, None, ["cart-v1"])
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, other=bare)
        source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, cluster="east-given",
                             linked=[("other", "")])
        try:
            snap = source.snapshot(_request(prometheus))
        finally:
            source.close()
    assert source.clusters() == [("east-given", "east", GIVEN), ("kind-other", "other", FOUND_KUBECONFIG)]
    assert snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads if w.name == "cart-v1"} == {"east-given", "kind-other"}


def test_a_remote_clusters_name_is_its_topology_label(east: KubeEmulator, tmp_path: Path,
                                                      prometheus: PrometheusServer) -> None:
    """A primary-remote mesh's remote cluster runs no istiod: Istio labels its istio-system namespace."""
    with KubeEmulator() as remote:
        remote.add_namespace("istio-system", {"topology.istio.io/cluster": "remote-1"})
        remote.add_namespace("shop", {"istio-injection": "enabled"})
        remote.add(_app("cart-v1"))
        remote.run_workloads("shop")
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
        snap, source = _linked_snapshot_of(kubeconfig, prometheus, "remote")
    assert source.clusters()[1] == ("remote-1", "remote", "the topology.istio.io/cluster label of istio-system")
    assert snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads if w.name == "cart-v1"} == {"east", "remote-1"}


def _linked_snapshot_of(kubeconfig: str, prometheus: PrometheusServer, other: str) -> tuple[Snapshot, ClusterSource]:
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[(other, "")])
    try:
        return source.snapshot(_request(prometheus)), source
    finally:
        source.close()


def test_without_linked_contexts_the_cluster_keeps_istios_default_name(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer) -> None:
    """A context alone is read as before: named Kubernetes, its istiod not asked for a name."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url)
    try:
        snap = source.snapshot(_request(prometheus))
    finally:
        source.close()
    assert source.clusters() == [("Kubernetes", "east", "")] and snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads} == {"Kubernetes"}
    assert snap.inventory.unread_clusters == {} and "unread_clusters" not in snap.inventory.to_json()

