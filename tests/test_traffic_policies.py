"""Kiali's one-step "Create Traffic Policies" for a namespace, computed from the traffic graph: a deny-all, an
ALLOW policy per workload naming the principals of its callers, a Sidecar per workload limiting its egress.
On the demo mesh, whose traffic obeys the policies, and against the Kubernetes API emulator through the
official client (written for real, read back); "Delete traffic policies" removes only what it made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import CustomObjectsApi

from meshdesk.mesh.graph.builder import build
from meshdesk.mesh.graph.model import TrafficGraph
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.traffic_policies import (
    TRAFFIC_POLICIES_MARK,
    compute,
    delete_traffic_policies_plan,
    traffic_policies_plan,
)
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.inventory import read_inventory
from meshdesk.sources.writes import ClusterWriter, apply
from tests.graph_samples import http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
SEC = "security.istio.io"
NET = "networking.istio.io"


def _by_name(objects: list[IstioObject], kind: str) -> dict[str, dict[str, Any]]:
    return {o.name: o.spec for o in objects if o.kind == kind}


def _denied_into(graph: TrafficGraph, namespace: str) -> float:
    """The rate of requests into ``namespace``'s workloads answered 4xx (what a denial looks like)."""
    return sum(e.rates.get("http4xx", 0.0) for e in graph.edges.values()
               if graph.nodes[e.target].namespace == namespace)


def test_the_demo_shop_gets_a_deny_all_and_an_allow_policy_per_called_workload_and_keeps_its_traffic() -> None:
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    graph = build(snap)
    policies = compute(graph, snap.inventory, "shop")
    aps = _by_name(policies.objects, "AuthorizationPolicy")
    # the deny-all is named as Kiali names it, and written last
    assert aps["deny-all-shop"] == {}
    assert policies.objects[-1].name == "deny-all-shop"
    # productpage is called by the ingress gateway (a workload outside the graph's namespaces, by its own
    # service account); reviews-v2 by productpage; ratings by both reviews versions that call it
    assert aps["productpage-v1"] == {
        "selector": {"matchLabels": {"app": "productpage", "version": "v1"}}, "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": [
            "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"]}}]}]}
    assert aps["reviews-v2"]["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/productpage"]
    assert aps["ratings-v1"]["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/reviews"]
    # a workload nobody calls gets none, and the user is told the deny-all cuts it off
    assert "recommendations-v1" not in aps
    assert ("Warning: recommendations-v1 receives no requests in the graph: the deny-all will deny every request "
            "to it.") in policies.notes
    # Sidecars: the control plane's namespace and what each workload was seen calling (a ServiceEntry's host
    # as declared); none for mongodb, which runs without a sidecar
    sidecars = _by_name(policies.objects, "Sidecar")
    assert sidecars["productpage-v1"]["egress"] == [{"hosts": [
        "istio-system/*", "shop/details.shop.svc.cluster.local", "shop/inventory.shop.svc.cluster.local",
        "shop/reviews.shop.svc.cluster.local", "shop/api.payments.example.com"]}]
    assert sidecars["reviews-v1"]["egress"] == [{"hosts": ["istio-system/*"]}]
    assert "mongodb-v1" not in sidecars
    # every object is marked as this action's, as Kiali marks its wizards'
    assert all(o.labels.get("kiali_wizard") == o.kind and TRAFFIC_POLICIES_MARK in o.annotations
               for o in policies.objects)

    # applied on the demo, whose traffic obeys AuthorizationPolicies: nothing that flowed is denied now
    denied_before = _denied_into(graph, "shop")
    plan = traffic_policies_plan(snap.inventory, policies)
    assert plan.summary == "Create traffic policies in shop: a deny-all, 8 ALLOW policies, 7 Sidecars"
    result = apply(demo, plan)
    assert result.ok, result.text()
    after = demo.snapshot(request)
    assert after.inventory is not None
    assert _denied_into(build(after), "shop") == pytest.approx(denied_before)

    # Update: made again from the graph, nothing changes; Delete removes exactly what it made
    again = traffic_policies_plan(after.inventory, compute(build(after), after.inventory, "shop"))
    assert again.summary.startswith("Update traffic policies in shop") and again.empty
    delete = delete_traffic_policies_plan(after.inventory, "shop")
    assert [c.title() for c in delete.changes][0] == "Delete AuthorizationPolicy shop/deny-all-shop"
    assert len(delete.changes) == 16
    assert apply(demo, delete).ok
    gone = demo.snapshot(request)
    assert gone.inventory is not None
    assert gone.inventory.istio_objects("AuthorizationPolicy", "shop") == []
    assert gone.inventory.istio_objects("Sidecar", "shop") == []


def test_of_an_app_graph_each_workload_of_a_called_app_is_allowed_its_callers() -> None:
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",), graphType="app"))
    assert snap.inventory is not None
    aps = _by_name(compute(build(snap), snap.inventory, "shop").objects, "AuthorizationPolicy")
    for name in ("reviews-v1", "reviews-v2", "reviews-v3"):
        assert aps[name]["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/productpage"]
    # ratings is called by the reviews app, whose workloads all run as one service account
    assert aps["ratings-v1"]["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/reviews"]


def test_the_demo_ambient_namespace_gets_no_sidecars_and_its_waypoint_is_allowed_so_its_traffic_flows() -> None:
    """travel is in ambient mode with a waypoint: a request through the waypoint reaches the workload's ztunnel
    under the waypoint's identity, so the waypoint is allowed beside the callers the graph shows; without it,
    traveller's requests to search were all refused once the policies were applied."""
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    request = GraphRequest(namespaces=("travel",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    graph = build(snap)
    policies = compute(graph, snap.inventory, "travel")
    assert policies.receiving
    assert not [o for o in policies.objects if o.kind == "Sidecar"]
    assert ("Namespace travel is in ambient mode: no Sidecar is made (a Sidecar configures sidecar proxies "
            "only).") in policies.notes
    aps = _by_name(policies.objects, "AuthorizationPolicy")
    assert aps["search-v1"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/travel/sa/traveller", "cluster.local/ns/travel/sa/waypoint"]
    assert "waypoint" not in aps  # (a waypoint ignores policies that select workloads)
    assert ("Requests through waypoint travel/waypoint reach the workloads with its identity, not their callers': it "
            "is allowed too.") in policies.notes

    def failing(g: TrafficGraph) -> float:
        return sum(e.rates.get("http4xx", 0.0) + e.rates.get("http5xx", 0.0) for e in g.edges.values())

    before = failing(graph)
    plan = traffic_policies_plan(snap.inventory, policies)
    assert not any("Sidecar" in note for note in plan.notes if "written first" in note)  # it makes none here
    assert apply(demo, plan).ok
    after = build(demo.snapshot(request))
    assert failing(after) == pytest.approx(before)
    assert sum(e.rates.get("http", 0.0) for e in after.edges.values()) == pytest.approx(
        sum(e.rates.get("http", 0.0) for e in graph.edges.values()))


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    kube_emulator.run_workloads()
    yield kube_emulator


def _bookinfo(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="east")


def _curl(emu: KubeEmulator) -> None:
    """A client deployed without a service account of its own: its pods run as the namespace's default one."""
    labels = {"app": "curl", "version": "v1"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "curl-v1", "namespace": "bookinfo"},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                 "metadata": {"labels": labels},
                 "spec": {"containers": [{"name": "curl", "image": "curlimages/curl"}]}}}})
    emu.run_workloads()


def _bookinfo_graph(inv: Inventory) -> TrafficGraph:
    """productpage calls reviews-v2, which calls ratings, as curl does; requests from outside the mesh reach
    productpage."""
    return build(snapshot([http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo"),
                           http("reviews-v2", "ratings-v1", 3.0, ns="bookinfo"),
                           http("curl-v1", "ratings-v1", 1.0, ns="bookinfo"),
                           http(None, "productpage-v1", 2.0, ns="bookinfo")], inv, namespaces=("bookinfo",)))


def test_the_policies_are_written_to_a_cluster_and_deleted_without_touching_anyone_elses(emu: KubeEmulator) -> None:
    _curl(emu)
    inv = _bookinfo(emu)
    policies = compute(_bookinfo_graph(inv), inv, "bookinfo")
    aps = _by_name(policies.objects, "AuthorizationPolicy")
    # the callers' service accounts, as their pods run them
    assert aps["reviews-v2"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/bookinfo/sa/bookinfo-productpage"]
    # (curl names no service account: it runs as default)
    assert aps["ratings-v1"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/bookinfo/sa/bookinfo-reviews", "cluster.local/ns/bookinfo/sa/default"]
    # requests from outside the mesh have no identity to allow: said, and productpage gets no ALLOW policy
    assert ("Warning: requests from outside the mesh (unknown source) will be denied: they carry no mesh identity "
            "for an ALLOW policy to name.") in policies.notes
    assert "productpage-v1" not in aps
    assert ("Warning: every caller of productpage-v1 in the graph is outside the mesh: it gets no ALLOW policy, and "
            "the deny-all will deny every request to it.") in policies.notes
    writer = ClusterWriter(emu.api_client(), cluster="east")
    # a policy of someone else's, which Delete must keep
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "allow-health", "namespace": "bookinfo"},
             "spec": {"action": "ALLOW", "rules": [{"to": [{"operation": {"paths": ["/health"]}}]}]}})
    result = apply(writer, traffic_policies_plan(inv, policies))
    assert result.ok, result.text()
    deny = emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC)
    assert deny["spec"] == {} and deny["metadata"]["labels"]["kiali_wizard"] == "AuthorizationPolicy"
    ratings = emu.get("authorizationpolicies", "bookinfo", "ratings-v1", SEC)
    assert ratings["spec"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/bookinfo/sa/bookinfo-reviews", "cluster.local/ns/bookinfo/sa/default"]
    sidecar = emu.get("sidecars", "bookinfo", "reviews-v2", NET)
    assert sidecar["spec"]["egress"] == [{"hosts": ["istio-system/*", "bookinfo/ratings.bookinfo.svc.cluster.local"]}]

    # a hand edit to one of them is undone by Update, and said so
    CustomObjectsApi(emu.api_client()).patch_namespaced_custom_object(
        SEC, "v1", "bookinfo", "authorizationpolicies", "ratings-v1",
        {"spec": {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/anyone"]}}]}]}})
    edited = _bookinfo(emu)
    update = traffic_policies_plan(edited, compute(_bookinfo_graph(edited), edited, "bookinfo"))
    assert [c.title() for c in update.changes] == ["Replace AuthorizationPolicy bookinfo/ratings-v1"]
    assert ("Made again as the graph asks now (see Diff; a change made to them by hand is undone): "
            "AuthorizationPolicy ratings-v1.") in update.notes

    after = _bookinfo(emu)
    delete = delete_traffic_policies_plan(after, "bookinfo")
    assert apply(writer, delete).ok
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is None
    assert emu.get("sidecars", "bookinfo", "reviews-v2", NET) is None
    assert emu.get("authorizationpolicies", "bookinfo", "allow-health", SEC) is not None


def test_a_principal_the_telemetry_reported_is_allowed_as_reported(emu: KubeEmulator) -> None:
    """The security appender's principals (mutual TLS reported with source_principal) win over the service
    account the inventory says: they are what the proxy presented."""
    inv = _bookinfo(emu)
    secured = {"connection_security_policy": "mutual_tls",
               "source_principal": "spiffe://cluster.local/ns/bookinfo/sa/reviews-canary",
               "destination_principal": "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings"}
    graph = build(snapshot([http("reviews-v2", "ratings-v1", 3.0, ns="bookinfo", **secured)], inv,
                           namespaces=("bookinfo",), appenders=("securityPolicy",)))
    aps = _by_name(compute(graph, inv, "bookinfo").objects, "AuthorizationPolicy")
    assert aps["ratings-v1"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/bookinfo/sa/reviews-canary"]


def test_an_object_of_the_same_name_is_not_overwritten_and_a_namespace_without_traffic_asks_first(
        emu: KubeEmulator) -> None:
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "ratings-v1", "namespace": "bookinfo"},
             "spec": {"action": "ALLOW", "rules": [{}]}})
    inv = _bookinfo(emu)
    policies = compute(_bookinfo_graph(inv), inv, "bookinfo")
    with pytest.raises(RoutingError, match=r"AuthorizationPolicy bookinfo/ratings-v1 already exists and was not made "
                                           r"by Create traffic policies: it is not overwritten"):
        traffic_policies_plan(inv, policies)
    assert emu.get("authorizationpolicies", "bookinfo", "ratings-v1", SEC)["spec"] == {"action": "ALLOW", "rules": [{}]}

    # no traffic in the graph: the deny-all alone would cut the namespace off, so it is asked for explicitly
    quiet = compute(build(snapshot([], inv, namespaces=("bookinfo",))), inv, "bookinfo")
    assert quiet.no_traffic
    with pytest.raises(RoutingError, match="No workload of bookinfo receives requests from the mesh in the graph"):
        traffic_policies_plan(inv, quiet)
    alone = traffic_policies_plan(inv, quiet, deny_alone=True)
    assert [c.title() for c in alone.changes] == ["Create AuthorizationPolicy bookinfo/deny-all-bookinfo"]


def test_an_apply_that_stops_part_way_says_what_was_written_and_never_leaves_the_deny_all_alone(
        emu: KubeEmulator) -> None:
    """The API server refuses the Sidecars: the ALLOW policies are written, the run says so and that the rest
    were not, and the deny-all (written last) is not there to cut the namespace off. Run again once the server
    takes them, it finishes the job (the policies it made are its own: updated, not refused as taken)."""
    inv = _bookinfo(emu)
    policies = compute(_bookinfo_graph(inv), inv, "bookinfo")
    writer = ClusterWriter(emu.api_client(), cluster="east")
    emu.fail(500, path=f"/apis/{NET}/")
    result = apply(writer, traffic_policies_plan(inv, policies))
    assert not result.ok
    text = result.text()
    assert "Done: Create AuthorizationPolicy bookinfo/ratings-v1" in text
    assert "Failed: Create Sidecar bookinfo/" in text
    assert "The changes above were applied; the rest were not." in text
    assert emu.get("authorizationpolicies", "bookinfo", "ratings-v1", SEC) is not None
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is None
    emu.clear_faults()
    again = _bookinfo(emu)
    plan = traffic_policies_plan(again, compute(_bookinfo_graph(again), again, "bookinfo"))
    assert plan.summary.startswith("Update traffic policies in bookinfo")
    assert apply(writer, plan).ok
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is not None
    assert emu.get("sidecars", "bookinfo", "ratings-v1", NET) is not None


def test_a_caller_in_plain_text_is_let_in_as_its_pods_service_account_not_as_unknown() -> None:
    """Istio reports ``source_principal="unknown"`` for a request sent in plain text (a PERMISSIVE namespace):
    the ALLOW policy named the principal "unknown", which no request carries, so web-v1 was denied."""
    from meshdesk.mesh.inventory import Container, Namespace, Pod, Workload

    def workload(name: str, account: str) -> Workload:
        app, _, version = name.rpartition("-")
        pod = Pod(f"{name}-0", "shop", containers=[Container("app", ready=True), Container("istio-proxy", ready=True)],
                  service_account=account)
        return Workload(name=name, namespace="shop", labels={"app": app, "version": version}, pods=[pod],
                        replicas=1, available=1)

    inv = Inventory(namespaces=[Namespace("shop")], workloads=[workload("web-v1", "shop-web"),
                                                              workload("cart-v1", "cart")])
    calls = [http("web-v1", "cart-v1", 1, source_principal="unknown", destination_principal="unknown",
                  connection_security_policy="none")]
    graph = build(snapshot(calls, inventory=inv))
    aps = _by_name(compute(graph, inv, "shop").objects, "AuthorizationPolicy")
    assert aps["cart-v1"]["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/shop-web"]
