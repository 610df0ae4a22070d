"""The behaviour Kiali's appender unit tests pin down, rebuilt for meshdesk (part A): dead nodes, idle
nodes, ServiceEntry nodes, outsiders, operation (aggregate) nodes and WorkloadEntry badges.

Each scenario is made the way a user gets it: telemetry samples, a graph request and an inventory, through
``build`` (and the Kiali JSON export where Kiali's fields are what the scenario is about). Kiali's tests
hand-make traffic maps; where such a map cannot come out of Istio's telemetry the closest shape that can
is used, and the docstring says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build, model
from meshdesk.mesh.inventory import (
    Container,
    Inventory,
    IstioObject,
    MeshConfig,
    Namespace,
    Pod,
    Service,
    Workload,
)
from meshdesk.mesh.request import NodeFocus
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, labels, snapshot, tcp

# --------------------------------------------------------------------------------------------- helpers


def _deployment(name: str, ns: str = "shop", *, pods: int = 1, cluster: str = "") -> Workload:
    app, _, version = name.rpartition("-")
    containers = [Container("app", ready=True), Container("istio-proxy", ready=True)]
    return Workload(name=name, namespace=ns, cluster=cluster, labels={"app": app, "version": version},
                    pods=[Pod(f"{name}-{i}", ns, containers=containers) for i in range(pods)],
                    replicas=pods, available=pods)


def _inventory(*workloads: Workload, services: tuple[Service, ...] = (), istio: tuple[IstioObject, ...] = (),
               namespaces: tuple[str, ...] = ("shop",)) -> Inventory:
    return Inventory(cluster="east", namespaces=[Namespace(n) for n in namespaces], workloads=list(workloads),
                     services=list(services), istio=list(istio))


def _to_host(src: str, host: str, value: float, *, protocol: str = "http", host_ns: str = "unknown",
             host_cluster: str = "unknown", src_ns: str = "shop", src_cluster: str = "east") -> Sample:
    """A call from workload ``src`` to a host no workload of the mesh served (an external API, a
    ServiceEntry's host), as the caller's proxy reports it."""
    lab = labels(src, None, reporter="source", src_ns=src_ns)
    lab.update(source_cluster=src_cluster, destination_service=host, destination_service_name=host,
               destination_service_namespace=host_ns, destination_cluster=host_cluster, response_flags="-")
    if protocol == "tcp":
        return Sample("istio_tcp_received_bytes_total", lab, value)
    lab.update(request_protocol=protocol, response_code="200", grpc_response_status="0")
    return Sample("istio_requests_total", lab, value)


def _labels_of(g: model.TrafficGraph) -> set[str]:
    return {n.label for n in g.nodes.values() if n.node_type != model.NODE_BOX}


def _one(g: model.TrafficGraph, **identity: str) -> model.Node:
    found = [n for n in g.nodes.values() if all(getattr(n, k) == v for k, v in identity.items())]
    assert len(found) == 1, f"{len(found)} nodes with {identity}: {[n.label for n in found]}"
    return found[0]


def _out(g: model.TrafficGraph, n: model.Node) -> list[tuple[str, str]]:
    """(target's label, protocol) of each edge leaving ``n``, sorted."""
    return sorted((g.nodes[e.target].label, e.protocol) for e in g.edges.values() if e.source == n.id)


def _kiali_node(g: model.TrafficGraph, node_id: str) -> dict[str, Any]:
    found = [n["data"] for n in to_kiali(g)["elements"]["nodes"] if n["data"]["id"] == node_id]
    assert len(found) == 1
    return found[0]


# ------------------------------------------------------------------------------------------ dead nodes

_GATEWAY = {"src_ns": "istio-system"}


def _dead_node_mesh() -> tuple[list[Sample], Inventory]:
    """An ingress gateway calling into shop, as in Kiali's dead-node test: workloads with and without
    pods, with and without traffic, some no longer deployed; TCP in and out; a ServiceEntry's host and a
    plain external host with traffic, and the same without traffic; an idle unknown source."""
    samples = [
        http("ingress-gw", "busy-v1", 0.8, **_GATEWAY),
        http("ingress-gw", "quiet-v1", 0, **_GATEWAY),
        http("ingress-gw", "podless-v1", 0.8, **_GATEWAY),
        http("ingress-gw", "podlessquiet-v1", 0, **_GATEWAY),
        http("ingress-gw", "removed-v1", 0.8, **_GATEWAY),
        http("ingress-gw", "removedquiet-v1", 0, **_GATEWAY),
        tcp("ingress-gw", "tcpin-v1", 74.1, **_GATEWAY),
        tcp("ingress-gw", "tcpout-v1", 0, **_GATEWAY),
        _to_host("tcpout-v1", "db.example.com", 74.1, protocol="tcp"),
        _to_host("busy-v1", "egress.example.com", 0.8),
        _to_host("busy-v1", "undeclared.example.com", 0.8),
        _to_host("busy-v1", "quiet-entry.example.com", 0),
        _to_host("busy-v1", "quiet-undeclared.example.com", 0),
        http(None, "busy-v1", 0), http(None, "quiet-v1", 0),
    ]
    entry = IstioObject("ServiceEntry", "egress-api", "shop",
                        spec={"hosts": ["egress.example.com"], "location": "MESH_EXTERNAL"})
    quiet_entry = IstioObject("ServiceEntry", "quiet-api", "shop",
                              spec={"hosts": ["quiet-entry.example.com"], "location": "MESH_EXTERNAL"})
    inv = _inventory(_deployment("ingress-gw", "istio-system"), _deployment("busy-v1"), _deployment("quiet-v1"),
                     _deployment("podless-v1", pods=0), _deployment("podlessquiet-v1", pods=0),
                     istio=(entry, quiet_entry), namespaces=("shop", "istio-system"))
    return samples, inv


def test_nodes_without_traffic_are_removed_or_marked_dead_as_kiali_judges_them() -> None:
    """Kiali's TestDeadNode: a node without traffic whose workload is gone is removed (so is the idle
    unknown source), one whose workload has no pods is marked dead, one whose workload runs stays as it
    is; nodes with traffic (HTTP, TCP in or out) stay whatever the inventory says; a ServiceEntry's node
    is never dead, a plain service node without traffic or edges is removed."""
    samples, inv = _dead_node_mesh()
    g = build(snapshot(samples, inventory=inv, includeIdleEdges=True, graphType="versionedApp"))
    assert _labels_of(g) == {
        "ingress gw", "busy v1", "quiet v1", "podless v1", "podlessquiet v1", "removed v1", "tcpin v1", "tcpout v1",
        "db.example.com", "egress-api", "undeclared.example.com", "quiet-api"}
    assert not [n for n in g.nodes.values() if n.node_type == model.NODE_UNKNOWN]
    dead = {n.label for n in g.nodes.values() if n.is_dead}
    assert dead == {"podlessquiet v1"}  # podless v1 has traffic: not judged
    gateway = _one(g, workload="ingress-gw")
    assert _out(g, gateway) == sorted([
        ("busy v1", "http"), ("quiet v1", "http"), ("podless v1", "http"), ("podlessquiet v1", "http"),
        ("removed v1", "http"), ("tcpin v1", "tcp"), ("tcpout v1", "tcp")])
    quiet_api = _one(g, service="quiet-api")
    assert quiet_api.is_service_entry is not None and quiet_api.traffic == {}
    assert _kiali_node(g, _one(g, workload="podlessquiet-v1").id).get("isDead") is True
    assert "isDead" not in _kiali_node(g, _one(g, workload="quiet-v1").id)


def test_removing_dead_nodes_repeats_until_nothing_is_left_to_remove() -> None:
    """Kiali's issue 2783: zero-rate requests from a workload that is gone, through an injected service
    node, to another workload that is gone: both workloads go, and then the service node, which has
    lost its only edge. Issue 2982: the same behind a caller with traffic, which stays."""
    idle_chain = [http("orphan-v1", "ghost-v1", 0, service="ghost")]
    inv = _inventory(_deployment("busy-v1"))
    g = build(snapshot(idle_chain, inventory=inv, includeIdleEdges=True, graphType="versionedApp",
                       injectServiceNodes=True))
    assert g.nodes == {} and g.edges == {}
    with_caller = [http("ingress-gw", "busy-v1", 0.8, **_GATEWAY), http("busy-v1", "ghost-v1", 0, service="ghost")]
    g = build(snapshot(with_caller, inventory=_inventory(_deployment("busy-v1"), _deployment("ingress-gw", "istio-system"),
                                                         namespaces=("shop", "istio-system")),
                       includeIdleEdges=True, graphType="versionedApp", injectServiceNodes=True))
    assert _labels_of(g) == {"ingress gw", "busy v1", "busy"}  # busy: the service injected before busy v1
    assert _out(g, _one(g, workload="busy-v1")) == []


def test_a_workload_the_user_cannot_read_is_never_taken_for_dead() -> None:
    """Kiali's issue 7179: a traffic-less node of a cluster the user may not read is kept (its workload
    cannot be looked up); so is one of a namespace the user may not read."""
    def in_west(sample: Sample) -> Sample:
        return Sample(sample.metric, {**sample.labels, "destination_cluster": "west"}, sample.value)

    samples = [http("ingress-gw", "busy-v1", 0.8, **_GATEWAY), in_west(http("busy-v1", "elsewhere-v1", 0)),
               http("busy-v1", "hidden-v1", 0, dst_ns="vault", reporter="source")]
    inv = _inventory(_deployment("busy-v1"), _deployment("ingress-gw", "istio-system"),
                     namespaces=("shop", "istio-system", "vault"))
    g = build(snapshot(samples, inventory=inv, includeIdleEdges=True, graphType="versionedApp",
                       accessibleNamespaces=("east:shop", "east:istio-system")))
    kept = _one(g, workload="elsewhere-v1")
    assert kept.cluster == "west" and not kept.is_dead and kept.is_inaccessible
    hidden = _one(g, workload="hidden-v1")
    assert not hidden.is_dead and hidden.is_inaccessible
    # readable, the same nodes are judged: neither workload exists
    g = build(snapshot(samples[:1] + samples[2:], inventory=inv, includeIdleEdges=True, graphType="versionedApp"))
    assert g.find_node(workload="hidden-v1") is None


# ------------------------------------------------------------------------------------------ idle nodes

def _customer_mesh() -> Inventory:
    return _inventory(
        _deployment("customer-v1"), _deployment("preference-v1"), _deployment("recommendation-v1"),
        _deployment("recommendation-v2"),
        services=tuple(Service(name, "shop", selector={"app": name})
                       for name in ("customer", "preference", "recommendation")))


def test_a_namespace_without_traffic_shows_every_workload_and_service_idle() -> None:
    """Kiali's TestNonTrafficScenario: no telemetry at all, idle nodes and service nodes on: one idle
    node per app version and per Service (recommendation's two versions share one Service node)."""
    g = build(snapshot([], inventory=_customer_mesh(), includeIdleNodes=True, injectServiceNodes=True,
                       graphType="versionedApp"))
    idle = {(n.node_type, n.label) for n in g.nodes.values() if n.node_type != model.NODE_BOX}
    assert idle == {("app", "customer v1"), ("app", "preference v1"), ("app", "recommendation v1"),
                    ("app", "recommendation v2"), ("service", "customer"), ("service", "preference"),
                    ("service", "recommendation")}
    assert all(n.is_idle for n in g.nodes.values() if n.node_type != model.NODE_BOX)
    recommendation_v2 = _one(g, workload="recommendation-v2")
    assert (recommendation_v2.app, recommendation_v2.version, recommendation_v2.cluster) == ("recommendation", "v2", "east")
    assert g.edges == {}
    assert _kiali_node(g, recommendation_v2.id).get("isIdle") is True
    assert "traffic" not in _kiali_node(g, recommendation_v2.id)  # Kiali writes no zero rates


def test_idle_nodes_join_the_traffic_without_service_nodes_when_those_are_off() -> None:
    """Kiali's TestOneNodeTrafficScenario and TestVersionWithNoTrafficScenario: with service nodes off,
    the workloads without traffic are added idle beside the ones with traffic (which are not idle),
    no idle Service node is added, and the traffic's edges stay as they were."""
    inv = _customer_mesh()
    g = build(snapshot([http(None, "customer-v1", 0.8)], inventory=inv, includeIdleNodes=True,
                       graphType="versionedApp"))
    assert _labels_of(g) == {"unknown", "customer v1", "preference v1", "recommendation v1", "recommendation v2"}
    assert {n.label for n in g.nodes.values() if n.is_idle} == {"preference v1", "recommendation v1",
                                                                "recommendation v2"}
    assert [(g.nodes[e.source].label, g.nodes[e.target].label, e.rate) for e in g.edges.values()] == \
        [("unknown", "customer v1", pytest.approx(0.8))]

    chain = [http(None, "customer-v1", 0.8), http("customer-v1", "preference-v1", 0.8),
             http("preference-v1", "recommendation-v1", 0.8)]
    g = build(snapshot(chain, inventory=inv, includeIdleNodes=True, graphType="versionedApp"))
    assert _labels_of(g) == {"unknown", "customer v1", "preference v1", "recommendation v1", "recommendation v2"}
    assert {n.label for n in g.nodes.values() if n.is_idle} == {"recommendation v2"}
    v2 = _one(g, workload="recommendation-v2")
    assert v2.cluster == _one(g, workload="recommendation-v1").cluster == "east"
    assert _out(g, _one(g, workload="preference-v1")) == [("recommendation v1", "http")]


# ------------------------------------------------------------------------------------ ServiceEntries

def _entries(namespace: str = "shop", export_to: list[str] | None = None) -> tuple[IstioObject, IstioObject]:
    """An external entry (two hosts) and an internal one (a short host and a full one), as in Kiali's tests."""
    external: dict[str, Any] = {"hosts": ["host1.external.com", "host2.external.com"], "location": "MESH_EXTERNAL"}
    if export_to is not None:
        external["exportTo"] = export_to
    internal = {"hosts": ["internal-one", "internal-two.shop.svc.cluster.local"], "location": "MESH_INTERNAL"}
    return (IstioObject("ServiceEntry", "external-se", namespace, spec=external),
            IstioObject("ServiceEntry", "internal-se", namespace, spec=internal))


def _entry_traffic() -> list[Sample]:
    """front-v1 -> plain (a Service) -> plain-v1, which calls both external hosts, a host no entry declares,
    and both internal hosts (the second over TCP). The hosts' telemetry names shop, as Istio names the
    namespace of the entry that declared them."""
    return [
        http("front-v1", "plain-v1", 4, service="plain"),
        _to_host("plain-v1", "host1.external.com", 1, host_ns="shop", host_cluster="east"),
        _to_host("plain-v1", "host2.external.com", 2, host_ns="shop", host_cluster="east"),
        _to_host("plain-v1", "hostx.external.com", 3, host_ns="shop", host_cluster="east"),
        _to_host("plain-v1", "internal-one", 5, host_ns="shop", host_cluster="east"),
        _to_host("plain-v1", "internal-two", 6, protocol="tcp", host_ns="shop", host_cluster="east"),
    ]


def _entry_graph(inv: Inventory, **request: Any) -> model.TrafficGraph:
    return build(snapshot(_entry_traffic(), inventory=inv, graphType="versionedApp", injectServiceNodes=True,
                          **request))


def _assert_both_entries_fold(g: model.TrafficGraph) -> None:
    assert _labels_of(g) == {"front v1", "plain", "plain v1", "external-se", "internal-se", "hostx.external.com"}
    external, internal = _one(g, service="external-se"), _one(g, service="internal-se")
    assert external.is_service_entry is not None and internal.is_service_entry is not None
    assert external.is_service_entry.location == "MESH_EXTERNAL"
    assert external.is_service_entry.hosts == ("host1.external.com", "host2.external.com")
    assert internal.is_service_entry.location == "MESH_INTERNAL"
    assert internal.is_service_entry.hosts == ("internal-one", "internal-two.shop.svc.cluster.local")
    assert sorted(d.name for d in external.dest_services) == ["host1.external.com", "host2.external.com"]
    assert sorted(d.name for d in internal.dest_services) == ["internal-one", "internal-two"]
    # the internal entry's two hosts were called over two protocols: one edge each
    assert _out(g, _one(g, workload="plain-v1")) == [
        ("external-se", "http"), ("hostx.external.com", "http"), ("internal-se", "http"), ("internal-se", "tcp")]
    assert _out(g, external) == [] and _out(g, internal) == []
    calls = {(g.nodes[e.target].label, e.protocol): e.rate for e in g.edges.values()}
    assert calls[("external-se", "http")] == pytest.approx(3)
    assert calls[("internal-se", "tcp")] == pytest.approx(6)
    for n in (_one(g, service="plain"), _one(g, workload="plain-v1"), _one(g, service="hostx.external.com")):
        assert n.is_service_entry is None
    exported = _kiali_node(g, external.id)
    assert exported["isServiceEntry"] == {"hosts": ["host1.external.com", "host2.external.com"],
                                          "location": "MESH_EXTERNAL", "namespace": "shop"}
    assert [d["name"] for d in exported["destServices"]] == ["host1.external.com", "host2.external.com"]


@pytest.mark.parametrize("export_to", [None, ["*"], ["elsewhere", "shop"], ["."]],
                         ids=["no-exportTo", "everywhere", "listed", "own-namespace"])
def test_service_entry_hosts_fold_into_one_node_per_entry(export_to: list[str] | None) -> None:
    """Kiali's TestServiceEntry, TestServiceEntryExportAll, TestServiceEntryExportNamespaceFound and
    TestServiceEntryExportDefinitionNamespace: each entry visible to shop gathers the hosts it
    declares (an internal entry's short host also matches by its first label)."""
    g = _entry_graph(_inventory(_deployment("front-v1"), _deployment("plain-v1"), istio=_entries(export_to=export_to)))
    _assert_both_entries_fold(g)


@pytest.mark.parametrize("default", [(".",), ("*",)], ids=["own-namespace", "everywhere"])
def test_service_entries_follow_the_mesh_configs_default_export(default: tuple[str, ...]) -> None:
    """Kiali's TestServiceEntryMeshExportDefinitionNamespace and TestServiceEntryMeshExportAll: an entry
    without exportTo is seen where the mesh config's defaultServiceExportTo says; both defaults
    include the entry's own namespace."""
    inv = _inventory(_deployment("front-v1"), _deployment("plain-v1"), istio=_entries())
    inv.mesh_settings = MeshConfig(source="istio-system/istio", default_service_export_to=default)
    _assert_both_entries_fold(_entry_graph(inv))


def test_a_service_entry_not_exported_to_the_callers_namespace_folds_nothing() -> None:
    """Kiali's TestServiceEntryExportNamespaceNotFound: the external entry is exported to two other
    namespaces only, so its hosts stay plain service nodes; the internal entry still folds."""
    g = _entry_graph(_inventory(_deployment("front-v1"), _deployment("plain-v1"),
                                istio=_entries(export_to=["elsewhere", "further"])))
    assert g.find_node(service="external-se") is None
    assert _labels_of(g) == {"front v1", "plain", "plain v1", "host1.external.com", "host2.external.com",
                             "hostx.external.com", "internal-se"}
    assert len(_out(g, _one(g, workload="plain-v1"))) == 5
    assert _one(g, service="internal-se").is_service_entry is not None


def test_a_service_entry_of_another_namespace_exported_everywhere_folds_in_the_callers() -> None:
    """Kiali's TestKiali7153_1: the entries are defined in another namespace without exportTo; shop's
    calls fold into entry nodes of shop (Kiali writes shop as the entry's namespace too; meshdesk keeps
    the namespace it is defined in, see docs/kiali-differences.md)."""
    inv = _inventory(_deployment("front-v1"), _deployment("plain-v1"), istio=_entries(namespace="vendors"),
                     namespaces=("shop", "vendors"))
    g = _entry_graph(inv)
    assert _labels_of(g) == {"front v1", "plain", "plain v1", "external-se", "internal-se", "hostx.external.com"}
    for name in ("external-se", "internal-se"):
        se = _one(g, service=name)
        assert se.namespace == "shop" and se.is_service_entry is not None
        assert se.is_service_entry.namespace == "vendors"


def test_a_multicluster_global_host_matches_only_exactly() -> None:
    """Kiali's TestDisjointMulticlusterEntries: an internal entry for ``svc1.shop.global`` takes the
    calls to that host, not those to the local service ``svc1`` (its first label is not matched for a
    ``.global`` host)."""
    entry = IstioObject("ServiceEntry", "remote-svc1", "shop",
                        spec={"hosts": ["svc1.shop.global"], "location": "MESH_INTERNAL"})
    samples = [_to_host("caller-v0", "svc1.shop.global", 1, host_ns="shop", host_cluster="east"),
               _to_host("caller-v0", "svc1", 2, host_ns="shop", host_cluster="east")]
    g = build(snapshot(samples, inventory=_inventory(_deployment("caller-v0"), istio=(entry,)),
                       graphType="versionedApp"))
    assert _labels_of(g) == {"caller v0", "svc1", "remote-svc1"}
    remote = _one(g, service="remote-svc1")
    assert remote.is_service_entry is not None and remote.is_service_entry.location == "MESH_INTERNAL"
    assert remote.is_service_entry.namespace == "shop"
    assert _one(g, service="svc1").is_service_entry is None
    assert len(_out(g, _one(g, workload="caller-v0"))) == 2


def test_of_two_entries_for_one_host_the_one_exported_to_the_caller_by_name_wins() -> None:
    """Kiali's TestServiceEntrySameHostMatchNamespace: two entries declare host1, one exported
    everywhere from another namespace, one to its own namespace only; the caller in that namespace
    gets the more specific one, which also takes host2; host3 is declared by none."""
    broad = IstioObject("ServiceEntry", "broad", "vendors", spec={
        "hosts": ["host1.external.com"], "location": "MESH_EXTERNAL", "exportTo": ["*"]})
    narrow = IstioObject("ServiceEntry", "narrow", "shop", spec={
        "hosts": ["host1.external.com", "host2.external.com"], "location": "MESH_EXTERNAL", "exportTo": ["."]})
    samples = [_to_host("caller-v1", h, 1, host_ns="shop", host_cluster="east")
               for h in ("host3.external.com", "host1.external.com", "host2.external.com")]
    for entries in ((broad, narrow), (narrow, broad)):  # whichever is listed first
        g = build(snapshot(samples, inventory=_inventory(_deployment("caller-v1"), istio=entries,
                                                         namespaces=("shop", "vendors")),
                           graphType="versionedApp"))
        assert _labels_of(g) == {"caller v1", "host3.external.com", "narrow"}
        se = _one(g, service="narrow")
        assert se.is_service_entry is not None and se.is_service_entry.namespace == "shop"
        assert len(se.dest_services) == 2
        assert len(_out(g, _one(g, workload="caller-v1"))) == 2


def test_an_entry_in_a_namespace_the_user_cannot_read_is_unknown() -> None:
    """Kiali's TestServiceEntrySameHostNoMatchNamespace: the graph of ``other``, whose caller calls
    three hosts that telemetry places in shop; the user may read ``other`` only. The entry of
    ``other`` (exported to itself) takes host1; shop's entry (exported everywhere, host1 and host2) is
    unknown, so host2 stays a plain node, as host3."""
    mine = IstioObject("ServiceEntry", "mine", "other", spec={
        "hosts": ["host1.external.com"], "location": "MESH_EXTERNAL", "exportTo": ["."]})
    theirs = IstioObject("ServiceEntry", "theirs", "shop", spec={
        "hosts": ["host1.external.com", "host2.external.com"], "location": "MESH_EXTERNAL", "exportTo": ["*"]})
    samples = [_to_host("caller-v1", h, 1, src_ns="other", host_ns="shop", host_cluster="east")
               for h in ("host3.external.com", "host1.external.com", "host2.external.com")]
    inv = _inventory(_deployment("caller-v1", "other"), istio=(mine, theirs), namespaces=("shop", "other"))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", namespaces=("other",),
                       accessibleNamespaces=("east:other",)))
    assert _labels_of(g) == {"caller v1", "host3.external.com", "mine", "host2.external.com"}
    se = _one(g, service="mine")
    assert (se.cluster, se.namespace) == ("east", "other")
    assert se.is_service_entry is not None and se.is_service_entry.namespace == "other"
    assert [d.name for d in se.dest_services] == ["host1.external.com"]
    assert len(_out(g, _one(g, workload="caller-v1"))) == 3


def test_an_injected_service_node_is_never_taken_for_an_entry() -> None:
    """Kiali's TestServiceEntryMultipleEdges hand-makes a service node that is not injected yet has edges
    to two versions; Istio's telemetry never gives one (service nodes in front of workloads are injected,
    in a service graph too, and Kiali's appender leaves injected nodes alone). What telemetry gives: an
    internal entry with a workload selector, named as the Service, its short and full hosts; the injected
    reviews node stays the Service's, with its edges to both versions, in every graph type."""
    entry = IstioObject("ServiceEntry", "reviews", "shop", spec={
        "hosts": ["reviews", "reviews.shop.svc.cluster.local"], "location": "MESH_INTERNAL",
        "workloadSelector": {"labels": {"app": "reviews"}}})
    samples = [http("productpage-v1", "reviews-v1", 3), http("productpage-v1", "reviews-v2", 2)]
    inv = _inventory(_deployment("productpage-v1"), _deployment("reviews-v1"), _deployment("reviews-v2"),
                     istio=(entry,))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", injectServiceNodes=True))
    reviews = _one(g, service="reviews", node_type=model.NODE_SERVICE)
    assert reviews.is_service_entry is None and reviews.is_injected
    assert _out(g, reviews) == [("reviews v1", "http"), ("reviews v2", "http")]
    g = build(snapshot(samples, inventory=inv, graphType="service"))
    reviews = _one(g, service="reviews")
    assert reviews.is_service_entry is None
    assert [e.rate for e in g.edges.values() if e.target == reviews.id] == [pytest.approx(5)]
    # the same host called with no workload serving it is no injected node: it is the entry's
    g = build(snapshot([_to_host("productpage-v1", "reviews", 1, host_ns="shop", host_cluster="east")],
                       inventory=inv, graphType="versionedApp", injectServiceNodes=True))
    reviews = _one(g, service="reviews")
    assert reviews.is_service_entry is not None and reviews.is_service_entry.hosts == (
        "reviews", "reviews.shop.svc.cluster.local")


def test_a_caller_the_user_cannot_read_folds_nothing() -> None:
    """Kiali's TestSEKiali7305: a caller of a cluster the user may not read calls an external host
    that an entry declares; its call is left on the host's node. Readable, the same call folds."""
    entry = IstioObject("ServiceEntry", "external-se", "shop",
                        spec={"hosts": ["host1.external.com"], "location": "MESH_EXTERNAL"})
    samples = [_to_host("caller-v1", "host1.external.com", 1, src_cluster="west")]
    inv = _inventory(_deployment("plain-v1"), istio=(entry,))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", accessibleNamespaces=("east:shop",)))
    assert g.find_node(service="external-se") is None
    assert _one(g, service="host1.external.com").is_service_entry is None
    assert _labels_of(g) == {"caller v1", "host1.external.com"}
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", accessibleNamespaces=("west:shop",)))
    assert _labels_of(g) == {"caller v1", "external-se"}
    assert _one(g, service="external-se").is_service_entry is not None


def test_each_cluster_calling_one_host_gets_its_own_clusters_entry_node() -> None:
    """Kiali's TestSEKiali7589: the same workload in two clusters calls one external host; each cluster
    defines its own entry for it. The host's node is replaced by one entry node per cluster, each
    called from its own cluster."""
    def entry(cluster: str) -> IstioObject:
        return IstioObject("ServiceEntry", f"{cluster}-se", "shop", cluster=cluster,
                           spec={"hosts": ["host1.external.com"], "location": "MESH_EXTERNAL"})

    inv = _inventory(_deployment("caller-v1"), _deployment("caller-v1", cluster="west"),
                     istio=(entry("east"), entry("west")))
    samples = [_to_host("caller-v1", "host1.external.com", 1),
               _to_host("caller-v1", "host1.external.com", 2, src_cluster="west")]
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp"))
    assert g.find_node(service="host1.external.com") is None
    calls = sorted((g.nodes[e.source].cluster, g.nodes[e.target].cluster, g.nodes[e.target].service, e.rate)
                   for e in g.edges.values())
    assert calls == [("east", "east", "east-se", pytest.approx(1)), ("west", "west", "west-se", pytest.approx(2))]
    assert all(n.is_service_entry is not None for n in g.nodes.values() if n.node_type == model.NODE_SERVICE)


# -------------------------------------------------------------------------------------------- outsider

def test_a_node_of_a_namespace_the_user_cannot_read_is_inaccessible() -> None:
    """Kiali's TestOutsider: of two app nodes, the one in a namespace the user may read is accessible,
    the other (outside the chosen namespaces too) inaccessible."""
    samples = [http("test-v1", "test-v1", 1, src_ns="locked", dst_ns="open")]
    g = build(snapshot(samples, namespaces=("open",), graphType="versionedApp",
                       accessibleNamespaces=("east:open",)))
    locked, open_ = _one(g, namespace="locked"), _one(g, namespace="open")
    assert locked.is_inaccessible and locked.is_outside
    assert not open_.is_inaccessible and not open_.is_outside
    assert _kiali_node(g, locked.id).get("isInaccessible") is True
    assert "isInaccessible" not in _kiali_node(g, open_.id)


# ------------------------------------------------------------------------------- operation (aggregate)

def _op(src: str, dst: str, value: float, op: str, *, protocol: str = "http", **kw: Any) -> Sample:
    return http(src, dst, value, protocol=protocol, request_operation=op, **kw)


_OPS = [_op("productpage-v1", "reviews-v1", 70, "Top"), _op("productpage-v1", "reviews-v1", 30, "All")]


def test_operations_sit_between_the_caller_and_the_injected_service() -> None:
    """Kiali's TestNamespacesGraphWithServiceInjection: two operations of reviews become two operation
    nodes (of service reviews, app reviews) between productpage and the reviews service node, which
    keeps its one edge to reviews v1."""
    g = build(snapshot(_OPS, graphType="versionedApp", injectServiceNodes=True,
                       appenders=("aggregateNode",)))
    pp = _one(g, workload="productpage-v1")
    assert _out(g, pp) == [("All", "http"), ("Top", "http")]
    for value, rate in (("Top", 70), ("All", 30)):
        op = _one(g, node_type=model.NODE_AGGREGATE, aggregate_value=value)
        assert (op.aggregate, op.app, op.service, op.namespace) == ("request_operation", "reviews", "reviews", "shop")
        assert _out(g, op) == [("reviews", "http")]
        assert [e.rate for e in g.edges.values() if e.target == op.id] == [pytest.approx(rate)]
        assert _kiali_node(g, op.id)["aggregate"] == f"request_operation={value}"
    svc = _one(g, node_type=model.NODE_SERVICE, service="reviews")
    assert _out(g, svc) == [("reviews v1", "http")]


def test_operations_sit_between_the_caller_and_the_workload_without_service_nodes() -> None:
    """Kiali's TestNamespacesGraphNoServiceInjection: without service nodes an operation node has no
    app or service and leads to the reviews v1 node, which has no edge of its own."""
    g = build(snapshot(_OPS, graphType="versionedApp", injectServiceNodes=False, appenders=("aggregateNode",)))
    assert _out(g, _one(g, workload="productpage-v1")) == [("All", "http"), ("Top", "http")]
    for value in ("Top", "All"):
        op = _one(g, node_type=model.NODE_AGGREGATE, aggregate_value=value)
        assert (op.app, op.service) == ("", "")
        assert _out(g, op) == [("reviews v1", "http")]
    assert _out(g, _one(g, workload="reviews-v1")) == []


def test_an_operations_node_graph_with_and_without_service_nodes() -> None:
    """Kiali's TestNodeGraphWithServiceInjection and TestNodeGraphNoServiceInjection: the node graph of
    operation Top (of service reviews, or of any service): productpage -> Top -> reviews -> reviews v1,
    or without service nodes productpage -> Top -> reviews v1."""
    focus = NodeFocus("shop", aggregate="request_operation", aggregateValue="Top", service="reviews")
    g = build(snapshot(_OPS, node=focus, graphType="versionedApp", injectServiceNodes=True))
    assert _labels_of(g) == {"productpage v1", "Top", "reviews", "reviews v1"}
    op = _one(g, node_type=model.NODE_AGGREGATE)
    assert (op.aggregate_value, op.app, op.service) == ("Top", "reviews", "reviews")
    assert _out(g, _one(g, workload="productpage-v1")) == [("Top", "http")]
    assert _out(g, op) == [("reviews", "http")]
    assert _out(g, _one(g, node_type=model.NODE_SERVICE)) == [("reviews v1", "http")]
    focus = NodeFocus("shop", aggregate="request_operation", aggregateValue="Top")
    g = build(snapshot(_OPS, node=focus, graphType="versionedApp", injectServiceNodes=False))
    assert _labels_of(g) == {"productpage v1", "Top", "reviews v1"}
    op = _one(g, node_type=model.NODE_AGGREGATE)
    assert (op.app, op.service) == ("", "")
    assert _out(g, op) == [("reviews v1", "http")]
    assert _out(g, _one(g, workload="productpage-v1")) == [("Top", "http")]


def test_operations_are_drawn_only_for_the_request_rates_asked_for() -> None:
    """Kiali's TestNamespacesGraphWithServiceInjectionSkipRates and TestNodeGraphWithServiceInjection-
    SkipRates: with HTTP rates off (gRPC still by requests) HTTP operations are not drawn; gRPC ones are.
    With neither HTTP nor gRPC by requests, no operation at all; nor in a service graph."""
    samples = [*_OPS, _op("productpage-v1", "ratings-v1", 5, "Rate", protocol="grpc")]
    g = build(snapshot(samples, graphType="versionedApp", injectServiceNodes=True, rateHttp="none",
                       appenders=("aggregateNode",)))
    assert [n.aggregate_value for n in g.nodes.values() if n.node_type == model.NODE_AGGREGATE] == ["Rate"]
    assert _out(g, _one(g, workload="productpage-v1")) == [("Rate", "grpc")]
    g = build(snapshot(samples, graphType="versionedApp", rateHttp="none", rateGrpc="sent",
                       appenders=("aggregateNode",)))
    assert g.find_node(node_type=model.NODE_AGGREGATE) is None
    g = build(snapshot(samples, graphType="service", appenders=("aggregateNode",)))
    assert g.find_node(node_type=model.NODE_AGGREGATE) is None
    focus = NodeFocus("shop", aggregate="request_operation", aggregateValue="Top", service="reviews")
    g = build(snapshot(samples, node=focus, graphType="versionedApp", rateHttp="none"))
    assert g.find_node(node_type=model.NODE_AGGREGATE) is None


# ------------------------------------------------------------------------------------- WorkloadEntries

def _ratings_traffic() -> list[Sample]:
    """ratings (a Service) in front of three versions, and a call into another namespace, as in Kiali's
    WorkloadEntry tests."""
    return [http("gateway-v1", f"ratings-v{v}", 1, service="ratings") for v in (1, 2, 3)] + [
        http("gateway-v1", "outsider-v1", 1, dst_ns="elsewhere", reporter="source")]


def _workload_entry(name: str, app: str, version: str, ns: str = "shop") -> IstioObject:
    return IstioObject("WorkloadEntry", name, ns, spec={"address": "10.1.2.3",
                                                        "labels": {"app": app, "version": version}})


def _entries_by_node(*entries: IstioObject, **request: Any) -> dict[str, Any]:
    inv = _inventory(_deployment("gateway-v1"), _deployment("ratings-v3"), istio=entries,
                     namespaces=("shop", "elsewhere"))
    inv.workloads.append(_deployment("outsider-v1", "elsewhere"))
    g = build(snapshot(_ratings_traffic(), inventory=inv, graphType="versionedApp", injectServiceNodes=True,
                       **request))
    return {n.label: n.extra.get("hasWorkloadEntry") for n in g.nodes.values()
            if n.node_type in (model.NODE_APP, model.NODE_WORKLOAD)}


def test_workload_entries_badge_the_app_version_they_label() -> None:
    """Kiali's TestWorkloadEntry and TestMultipleWorkloadEntryForSameWorkload: ratings v1 and v2 run on
    VMs (one or two entries each), v3 is a Deployment; a node outside the chosen namespace is not
    badged even when an entry of its own namespace labels it."""
    found = _entries_by_node(_workload_entry("vm-a", "ratings", "v1"), _workload_entry("vm-b", "ratings", "v2"),
                             _workload_entry("vm-out", "outsider", "v1", ns="elsewhere"))
    assert found == {"gateway v1": None, "ratings v1": ["vm-a"], "ratings v2": ["vm-b"], "ratings v3": None,
                     "outsider v1": None}
    found = _entries_by_node(_workload_entry("vm-1a", "ratings", "v1"), _workload_entry("vm-1b", "ratings", "v1"),
                             _workload_entry("vm-2", "ratings", "v2"))
    assert sorted(found["ratings v1"]) == ["vm-1a", "vm-1b"] and found["ratings v2"] == ["vm-2"]
    assert found["ratings v3"] is None


def test_workload_entries_of_another_app_or_none_badge_nothing() -> None:
    """Kiali's TestWorkloadEntryAppLabelNotMatching and TestWorkloadWithoutWorkloadEntries."""
    found = _entries_by_node(_workload_entry("vm-a", "pastamaker", "v1"), _workload_entry("vm-b", "pastamaker", "v2"))
    assert set(found.values()) == {None}
    assert set(_entries_by_node().values()) == {None}


def test_no_workload_entry_badge_where_the_user_cannot_read() -> None:
    """Kiali's TestWEKiali7305: a node of a cluster (or namespace) the user may not read gets no badge."""
    entry = _workload_entry("vm-a", "ratings", "v1")
    assert _entries_by_node(entry, accessibleNamespaces=("east:shop",))["ratings v1"] == ["vm-a"]
    assert _entries_by_node(entry, accessibleNamespaces=("west:shop",))["ratings v1"] is None
    inv = _inventory(_deployment("gateway-v1"), istio=(entry,))
    sample = http("gateway-v1", "ratings-v1", 1, service="ratings")
    west = Sample(sample.metric, {**sample.labels, "destination_cluster": "west", "source_cluster": "west"}, 1)
    g = build(snapshot([west], inventory=inv, graphType="versionedApp", accessibleNamespaces=("east:shop",)))
    assert _one(g, workload="ratings-v1").extra.get("hasWorkloadEntry") is None



# --------------------------------------------------------------------- an inventory of several clusters

def _in_cluster(sample: Sample, cluster: str) -> Sample:
    return Sample(sample.metric, {**sample.labels, "source_cluster": cluster, "destination_cluster": cluster},
                  sample.value)


def test_with_an_inventory_of_two_clusters_a_node_is_judged_by_its_own_clusters_workload() -> None:
    """Kiali looks a traffic-less node's workload up in the node's cluster. An inventory merged from east
    and west, where idle-v1 has pods in one cluster and none in the other: only the copy without pods is
    dead, and a workload only one cluster runs is removed from the other cluster's graph (meshdesk took
    whichever copy came last for both clusters' nodes, and never judged west's)."""
    samples = [_in_cluster(http("web-v1", "idle-v1", 0), c) for c in ("east", "west")] + [
        _in_cluster(http("web-v1", "gone-v1", 0), c) for c in ("east", "west")] + [
        _in_cluster(http("web-v1", "cart-v1", 1), c) for c in ("east", "west")]
    for podless in ("east", "west"):
        inv = _inventory(*(_deployment(name, cluster=c) for c in ("east", "west") for name in ("web-v1", "cart-v1")),
                         _deployment("idle-v1", cluster="east", pods=0 if podless == "east" else 1),
                         _deployment("idle-v1", cluster="west", pods=0 if podless == "west" else 1),
                         _deployment("gone-v1", cluster="east"))
        g = build(snapshot(samples, inventory=inv, includeIdleEdges=True, graphType="workload"))
        idle = {n.cluster: n.is_dead for n in g.nodes.values() if n.workload == "idle-v1"}
        assert idle == {"east": podless == "east", "west": podless == "west"}, podless
        assert {n.cluster for n in g.nodes.values() if n.workload == "gone-v1"} == {"east"}


def test_with_an_inventory_of_two_clusters_a_workload_entry_badges_its_own_clusters_node() -> None:
    """Kiali reads a node's WorkloadEntries in the node's cluster: a VM registered as cart v1 in west
    badges west's cart-v1 only."""
    vm = _workload_entry("vm-west", "cart", "v1")
    vm.cluster = "west"
    inv = _inventory(*(_deployment(name, cluster=c) for c in ("east", "west") for name in ("web-v1", "cart-v1")),
                     istio=(vm,))
    samples = [_in_cluster(http("web-v1", "cart-v1", 1), c) for c in ("east", "west")]
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    badges = {n.cluster: n.extra.get("hasWorkloadEntry") for n in g.nodes.values() if n.workload == "cart-v1"}
    assert badges == {"east": None, "west": ["vm-west"]}


def test_an_entry_named_as_a_service_of_the_namespace_does_not_take_over_its_node() -> None:
    """A ServiceEntry ``reviews`` for a partner's API beside the namespace's own Service ``reviews``: the
    entry's node would have the Service node's name and place. meshdesk turned the in-mesh Service into
    an external ServiceEntry node carrying both's traffic (Kiali's entry node is never added to its map:
    it keeps the Service as it was and draws the partner's calls as a second edge into it). The Service
    keeps its node and traffic; the partner host stays a node of its own."""
    entry = IstioObject("ServiceEntry", "reviews", "shop",
                        spec={"hosts": ["reviews.partner.example.com"], "location": "MESH_EXTERNAL"})
    samples = [http("web-v1", "reviews-v1", 4), _to_host("web-v1", "reviews.partner.example.com", 1)]
    inv = _inventory(_deployment("web-v1"), _deployment("reviews-v1"), istio=(entry,))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", injectServiceNodes=True))
    assert all(n.is_service_entry is None for n in g.nodes.values())
    partner = _one(g, service="reviews.partner.example.com")
    assert [e.rate for e in g.edges.values() if e.target == partner.id] == [pytest.approx(1)]
    svc = _one(g, service="reviews")
    assert svc.is_injected and svc.traffic["http"] == {"httpIn": 4, "httpOut": 4}
    assert [e.rate for e in g.edges.values() if e.target == svc.id] == [pytest.approx(4)]
    # without service nodes no node has the name: the entry's node is drawn
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp", injectServiceNodes=False))
    se = _one(g, service="reviews")
    assert se.is_service_entry is not None and se.traffic["http"] == {"httpIn": 1}


def test_two_entries_of_one_name_from_two_namespaces_do_not_share_a_node() -> None:
    """Two teams each define an entry ``egress`` (for different hosts), both exported everywhere, and
    shop calls both hosts. Their nodes would share one name and place: meshdesk drew one node saying it
    was the second team's entry, with only its host, yet carrying the first team's host's calls too. The
    first entry's node carries its own host only; the other host stays a node of its own."""
    team_a = IstioObject("ServiceEntry", "egress", "team-a", spec={"hosts": ["a.example.com"], "location": "MESH_EXTERNAL"})
    team_b = IstioObject("ServiceEntry", "egress", "team-b", spec={"hosts": ["b.example.com"], "location": "MESH_EXTERNAL"})
    samples = [_to_host("caller-v1", "a.example.com", 1), _to_host("caller-v1", "b.example.com", 2)]
    inv = _inventory(_deployment("caller-v1"), istio=(team_a, team_b), namespaces=("shop", "team-a", "team-b"))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp"))
    entries = [n for n in g.nodes.values() if n.is_service_entry is not None]
    assert len(entries) == 1
    se = entries[0]
    assert se.is_service_entry is not None
    assert [d.name for d in se.dest_services] == list(se.is_service_entry.hosts)
    served = {"a.example.com": 1, "b.example.com": 2}
    assert [e.rate for e in g.edges.values() if e.target == se.id] == [pytest.approx(served[se.is_service_entry.hosts[0]])]
    other = ({"a.example.com", "b.example.com"} - set(se.is_service_entry.hosts)).pop()
    assert _one(g, service=other).is_service_entry is None
