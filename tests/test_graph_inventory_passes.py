"""Passes that read the inventory: service entries, dead and idle nodes, Istio badges, missing sidecars;
and the ones that only shape the graph: operation nodes, outsiders, boxes."""

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
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, labels, snapshot, tcp
from tests.test_graph_traffic import edge, node


def _workload(name: str, ns: str = "shop", *, sidecar: bool = True, pods: int = 1) -> Workload:
    app, _, ver = name.rpartition("-")
    containers = [Container("main", ready=True)] + ([Container("istio-proxy", ready=True)] if sidecar else [])
    return Workload(name=name, namespace=ns, labels={"app": app, "version": ver},
                    pods=[Pod(f"{name}-{i}", ns, containers=containers) for i in range(pods)],
                    replicas=pods, available=pods)


def _inventory(*workloads: Workload, services: tuple[Service, ...] = (), istio: tuple[IstioObject, ...] = (),
               namespaces: tuple[str, ...] = ("shop",)) -> Inventory:
    return Inventory(cluster="east", namespaces=[Namespace(n) for n in namespaces], workloads=list(workloads),
                     services=list(services), istio=list(istio))


def _external(src: str, host: str, value: float) -> Sample:
    lab = labels(src, None, reporter="source", request_protocol="http", response_code="200",
                 response_flags="-", grpc_response_status="0")
    lab.update(destination_service=host, destination_service_name=host, destination_service_namespace="unknown",
               destination_cluster="unknown")
    return Sample("istio_requests_total", lab, value)


def test_service_entry_folds_its_hosts_into_one_external_node() -> None:
    se = IstioObject("ServiceEntry", "payments-api", "shop",
                     spec={"hosts": ["api.pay.example.com", "eu.pay.example.com"], "location": "MESH_EXTERNAL"})
    samples = [http("web-v1", "cart-v1", 5), _external("web-v1", "api.pay.example.com", 3),
               _external("web-v1", "eu.pay.example.com", 1)]
    plain = build(snapshot(samples))
    assert plain.find_node(service="api.pay.example.com") is not None
    g = build(snapshot(samples, inventory=_inventory(_workload("web-v1"), _workload("cart-v1"), istio=(se,))))
    se_node = g.find_node(service="payments-api")
    assert se_node is not None and se_node.is_service_entry is not None
    assert se_node.is_service_entry.location == "MESH_EXTERNAL"
    assert se_node.is_service_entry.hosts == ("api.pay.example.com", "eu.pay.example.com")
    assert g.find_node(service="api.pay.example.com") is None
    e = edge(g, "web-v1", "payments-api")
    assert e.rate == pytest.approx(4)
    assert e.rates["httpPercentReq"] == pytest.approx(4 / 9 * 100)


def _external_from(src: str, ns: str, host: str, value: float, cluster: str = "east") -> Sample:
    sample = _external(src, host, value)
    sample.labels.update(source_workload_namespace=ns, source_cluster=cluster)
    return sample


def test_a_service_entry_node_belongs_to_the_namespace_that_calls_it() -> None:
    """Telemetry to an external host names no namespace or cluster ("unknown"). The entry's node is in the
    caller's cluster and namespace, as Kiali makes it - not an inaccessible node in "unknown" - and each
    namespace that calls the API gets its own node for it, even for an entry defined in istio-system."""
    se = IstioObject("ServiceEntry", "payments-api", "istio-system",
                     spec={"hosts": ["api.pay.example.com"], "location": "MESH_EXTERNAL"})
    inv = _inventory(_workload("web-v1"), _workload("teller-v1", "bank"), istio=(se,),
                     namespaces=("shop", "bank", "istio-system"))
    samples = [_external_from("web-v1", "shop", "api.pay.example.com", 3),
               _external_from("teller-v1", "bank", "api.pay.example.com", 4)]
    g = build(snapshot(samples, inventory=inv, namespaces=("shop", "bank")))
    entries = sorted((n for n in g.nodes.values() if n.is_service_entry is not None), key=lambda n: n.namespace)
    assert [(n.cluster, n.namespace, n.service) for n in entries] == \
        [("east", "bank", "payments-api"), ("east", "shop", "payments-api")]
    assert not any(n.is_inaccessible or n.is_outside for n in entries)
    assert all(n.is_service_entry.namespace == "istio-system" for n in entries)  # type: ignore[union-attr]
    calls = {(g.nodes[e.source].workload, g.nodes[e.target].namespace): e.rate for e in g.edges.values()}
    assert calls == {("web-v1", "shop"): pytest.approx(3), ("teller-v1", "bank"): pytest.approx(4)}
    assert g.find_node(service="api.pay.example.com") is None


def test_service_entries_the_user_cannot_read_or_from_another_cluster_fold_nothing() -> None:
    se = IstioObject("ServiceEntry", "payments-api", "payments",
                     spec={"hosts": ["api.pay.example.com"], "location": "MESH_EXTERNAL"})
    inv = _inventory(_workload("web-v1"), istio=(se,), namespaces=("shop", "payments"))
    samples = [_external_from("web-v1", "shop", "api.pay.example.com", 3)]
    hidden = build(snapshot(samples, inventory=inv, accessibleNamespaces=("shop",)))
    assert hidden.find_node(service="payments-api") is None
    assert build(snapshot(samples, inventory=inv, accessibleNamespaces=("east:shop", "east:payments"))) \
        .find_node(service="payments-api") is not None
    # a caller in another cluster asks that cluster's entries: its call stays on the host's node
    two = build(snapshot(samples + [_external_from("web-v1", "shop", "api.pay.example.com", 2, cluster="west")],
                         inventory=inv))
    host = two.find_node(service="api.pay.example.com")
    assert host is not None
    assert [two.nodes[e.source].cluster for e in two.edges.values() if e.target == host.id] == ["west"]
    # a host's service node known in each cluster (its namespace and cluster in the labels): the entry,
    # read from east, stands for east's node only
    local = IstioObject("ServiceEntry", "payments-api", "shop",
                        spec={"hosts": ["api.pay.example.com"], "location": "MESH_EXTERNAL"})

    def placed(cluster: str, value: float) -> Sample:
        sample = _external_from("web-v1", "shop", "api.pay.example.com", value, cluster=cluster)
        sample.labels.update(destination_service_namespace="shop", destination_cluster=cluster)
        return sample

    both = build(snapshot([placed("east", 3), placed("west", 2)], inventory=_inventory(_workload("web-v1"),
                                                                                        istio=(local,))))
    entries = [(n.cluster, n.service) for n in both.nodes.values() if n.is_service_entry is not None]
    assert entries == [("east", "payments-api")]
    assert both.find_node(service="api.pay.example.com") is not None  # west's call, to the plain host


def test_a_service_entry_without_export_to_follows_the_mesh_configs_default_export() -> None:
    """Istio's mesh config may narrow where ServiceEntries that set no ``exportTo`` are seen
    (``defaultServiceExportTo``): another namespace's callers then do not see the entry, and their call
    stays on the host's node, as Kiali folds it; an entry's own ``exportTo`` still wins."""
    se = IstioObject("ServiceEntry", "payments-api", "payments",
                     spec={"hosts": ["api.pay.example.com"], "location": "MESH_EXTERNAL"})
    inv = _inventory(_workload("web-v1"), _workload("teller-v1", "payments"), istio=(se,),
                     namespaces=("shop", "payments"))
    samples = [_external_from("web-v1", "shop", "api.pay.example.com", 3),
               _external_from("teller-v1", "payments", "api.pay.example.com", 4)]

    def entry_namespaces() -> list[str]:
        g = build(snapshot(samples, inventory=inv, namespaces=("shop", "payments")))
        return sorted(n.namespace for n in g.nodes.values() if n.is_service_entry is not None)

    assert entry_namespaces() == ["payments", "shop"]  # Istio's default: everywhere
    inv.mesh_settings = MeshConfig(source="istio-system/istio", default_service_export_to=(".",))
    assert entry_namespaces() == ["payments"]
    g = build(snapshot(samples, inventory=inv, namespaces=("shop",)))
    host = g.find_node(service="api.pay.example.com")
    assert host is not None and [g.nodes[e.source].workload for e in g.edges.values() if e.target == host.id] == \
        ["web-v1"]
    se.spec["exportTo"] = ["*"]
    assert entry_namespaces() == ["payments", "shop"]
    # a default naming the caller's namespace lets it see the entry
    del se.spec["exportTo"]
    inv.mesh_settings = MeshConfig(default_service_export_to=(".", "shop"))
    assert entry_namespaces() == ["payments", "shop"]
    # of several istiod revisions, the entry's own namespace's (payments on canary, which narrows it)
    inv.mesh_settings = MeshConfig(source="istio-system/istio")
    inv.revision_settings = {"": inv.mesh_settings,
                             "canary": MeshConfig(source="istio-system/istio-canary", revision="canary",
                                                  default_service_export_to=(".",))}
    for ns in inv.namespaces:
        ns.labels = {"istio.io/rev": "canary"} if ns.name == "payments" else {"istio-injection": "enabled"}
    assert entry_namespaces() == ["payments"]


def test_dead_node_removed_or_marked() -> None:
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", "gone-v1", 0), http("web-v1", "idle-v1", 0)]
    g = build(snapshot(samples, includeIdleEdges=True,
                       inventory=_inventory(_workload("web-v1"), _workload("cart-v1"), _workload("idle-v1", pods=0))))
    assert g.find_node(workload="gone-v1") is None  # its workload no longer exists
    idle = g.find_node(workload="idle-v1")
    assert idle is not None and idle.is_dead  # exists, but has no pods
    assert edge(g, "web-v1", "idle-v1").is_idle
    # Kiali's form of the namespaces a user may read, cluster:namespace, is judged alike
    scoped = build(snapshot(samples, includeIdleEdges=True, accessibleNamespaces=("east:shop",),
                            inventory=_inventory(_workload("web-v1"), _workload("cart-v1"),
                                                 _workload("idle-v1", pods=0))))
    assert scoped.find_node(workload="gone-v1") is None
    assert scoped.find_node(workload="idle-v1").is_dead  # type: ignore[union-attr]
    # a namespace whose deployments (or pods) the user may not list: a workload not found, or found
    # without pods, may be there all the same, so nothing is removed or marked dead (gone-v1 vanished)
    for hidden in ({"shop/deployments": "forbidden: not allowed to list deployments in shop"},
                   {"shop/pods": "forbidden: not allowed to list pods in shop"},
                   {"*/replicasets": "unavailable: the server answered 503"}):
        partial = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("idle-v1", pods=0))
        partial.hidden = dict(hidden)
        g = build(snapshot(samples, includeIdleEdges=True, inventory=partial))
        assert g.find_node(workload="gone-v1") is not None, hidden
        assert not g.find_node(workload="idle-v1").is_dead, hidden  # type: ignore[union-attr]


def test_dead_services_and_the_silent_unknown_source_go_only_with_an_inventory() -> None:
    """Idle telemetry into a service no workload served, and from the unknown source: with no traffic and
    no outgoing edge, Kiali drops both. Without an inventory nothing is dropped: a snapshot without one
    says nothing of what exists (and Kiali's own golden graphs keep such nodes)."""
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", None, 0, service="ghost", reporter="source"),
               http(None, "cart-v1", 0)]
    g = build(snapshot(samples, includeIdleEdges=True, inventory=_inventory(_workload("web-v1"), _workload("cart-v1"))))
    assert g.find_node(service="ghost") is None
    assert not [n for n in g.nodes.values() if n.node_type == model.NODE_UNKNOWN]
    kept = build(snapshot(samples, includeIdleEdges=True))
    assert kept.find_node(service="ghost") is not None


def test_a_host_called_from_two_clusters_folds_into_each_clusters_service_entry() -> None:
    """An inventory merged from two clusters holds each cluster's payments-api entry. Kiali asks each
    caller's cluster for its entries, so east's call goes to east's entry node and west's to west's
    (meshdesk folded the host into the first cluster's only, and west's call stayed on the host)."""
    entries = tuple(IstioObject("ServiceEntry", "payments-api", "shop", cluster=c,
                                spec={"hosts": ["api.pay.example.com"], "location": "MESH_EXTERNAL"})
                    for c in ("east", "west"))
    web_west = _workload("web-v1")
    web_west.cluster = "west"
    inv = _inventory(_workload("web-v1"), web_west, istio=entries)
    samples = [_external_from("web-v1", "shop", "api.pay.example.com", 3),
               _external_from("web-v1", "shop", "api.pay.example.com", 2, cluster="west")]
    g = build(snapshot(samples, inventory=inv))
    assert g.find_node(service="api.pay.example.com") is None
    calls = {(g.nodes[e.source].cluster, g.nodes[e.target].cluster, g.nodes[e.target].service): e.rate
             for e in g.edges.values()}
    assert calls == {("east", "east", "payments-api"): pytest.approx(3), ("west", "west", "payments-api"): pytest.approx(2)}
    assert all(n.is_service_entry is not None for n in g.nodes.values() if n.service == "payments-api")


def test_idle_nodes_only_when_asked() -> None:
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("spare-v1"),
                     services=(Service("spare", "shop", selector={"app": "spare"}),))
    samples = [http("web-v1", "cart-v1", 5)]
    assert build(snapshot(samples, inventory=inv)).find_node(workload="spare-v1") is None
    g = build(snapshot(samples, inventory=inv, includeIdleNodes=True, injectServiceNodes=True))
    spare = g.find_node(workload="spare-v1")
    assert spare is not None and spare.is_idle and spare.traffic == {}
    svc = g.find_node(node_type=model.NODE_SERVICE, service="spare")
    assert svc is not None and svc.is_idle


def test_service_entry_hosts_are_idle_service_nodes_as_in_kiali() -> None:
    """Kiali's service list names every host of a namespace's ServiceEntries beside its Services, so
    with idle nodes and service nodes on each becomes an idle service node named by the host as
    written: whatever the entry's location or exportTo, wildcards too, once per host, in the entry's
    namespace, with the entry's labels (its app label as the node's app). A host naming a Service of
    the namespace is that Service; the ServiceEntry node (named by the entry) is made from traffic
    only, so an entry with traffic also gets an idle node for its host."""
    pay = IstioObject("ServiceEntry", "payments-api", "shop", labels={"app": "payments", "team": "pay"},
                      spec={"hosts": ["api.pay.example.com", "*.wikipedia.org", "cart",
                                      "cart.shop.svc.cluster.local", "reviews.other"],
                            "location": "MESH_INTERNAL", "exportTo": ["."]})
    twin = IstioObject("ServiceEntry", "wiki", "shop", spec={"hosts": ["*.wikipedia.org"]})
    hidden = IstioObject("ServiceEntry", "hidden", "shop", spec={"hosts": ["hidden.example.com"], "exportTo": ["other"]})
    elsewhere = IstioObject("ServiceEntry", "ext", "other", spec={"hosts": ["ext.example.com"]})
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"),
                     services=(Service("cart", "shop", selector={"app": "cart"}), Service("reviews", "other")),
                     istio=(pay, twin, hidden, elsewhere), namespaces=("shop", "other"))
    samples = [http("web-v1", "cart-v1", 5), _external("web-v1", "api.pay.example.com", 3)]
    hosts = ["*.wikipedia.org", "api.pay.example.com", "hidden.example.com", "reviews.other"]

    def idle_services(g: model.TrafficGraph) -> list[str]:
        return sorted(n.service for n in g.nodes.values() if n.is_idle and n.node_type == model.NODE_SERVICE)

    g = build(snapshot(samples, inventory=inv, includeIdleNodes=True, injectServiceNodes=True))
    assert idle_services(g) == hosts
    assert g.find_node(service="payments-api").is_service_entry is not None  # type: ignore[union-attr]
    wiki = g.find_node(service="*.wikipedia.org")
    assert wiki is not None and wiki.is_service_entry is None and not wiki.traffic
    node = next(n for n in to_kiali(g)["elements"]["nodes"] if n["data"].get("service") == "api.pay.example.com")
    assert node["data"] == {"id": node["data"]["id"], "nodeType": "service", "cluster": "east", "namespace": "shop",
                            "app": "payments", "service": "api.pay.example.com",
                            # an idle node's health data, as Kiali's: no requests, no verdict
                            "healthData": {"requests": {"healthAnnotations": {}, "inbound": {}, "outbound": {}},
                                           "status": {"errorRatio": -1, "status": "NA"}},
                            "isIdle": True, "labels": {"team": "pay"}}
    # the app comes from the cluster's service list, where other/reviews is the Service of that name
    crossing = g.find_node(service="reviews.other")
    assert crossing is not None and crossing.extra.get("labels") == {"team": "pay"} and crossing.app == ""
    assert idle_services(build(snapshot(samples, inventory=inv, includeIdleNodes=True, graphType="service"))) == hosts
    # no service nodes, no service list (Kiali reads it only then)
    assert idle_services(build(snapshot(samples, inventory=inv, includeIdleNodes=True))) == []
    both = build(snapshot(samples, inventory=inv, includeIdleNodes=True, injectServiceNodes=True,
                          namespaces=("shop", "other")))
    assert idle_services(both) == sorted([*hosts, "ext.example.com", "reviews"])
    assert both.find_node(service="ext.example.com").namespace == "other"  # type: ignore[union-attr]


def test_a_service_entry_node_takes_the_app_of_its_last_host_naming_a_service_with_one() -> None:
    """Kiali's addLabels looks each host of a ServiceEntry's node up by its first label in the
    cluster's service list and sets the app of every one found with an app label: the last wins."""
    se = IstioObject("ServiceEntry", "internal", "shop", spec={
        "hosts": ["reviews.shop.svc.cluster.local", "plain.shop.svc.cluster.local", "ratings.shop.svc.cluster.local"],
        "location": "MESH_INTERNAL"})
    inv = _inventory(_workload("web-v1"), istio=(se,), services=(
        Service("reviews", "shop", labels={"app": "reviews"}), Service("plain", "shop"),
        Service("ratings", "shop", labels={"app": "ratings"})))
    g = build(snapshot([http("web-v1", None, 2, service="reviews", reporter="source")], inventory=inv))
    entry = g.find_node(service="internal")
    assert entry is not None and entry.is_service_entry is not None
    assert entry.app == "ratings"


def test_istio_badges_and_missing_sidecar() -> None:
    vs = IstioObject("VirtualService", "cart", "shop", spec={
        "hosts": ["cart"],
        "http": [{"route": [{"destination": {"host": "cart", "subset": "v1"}, "weight": 80},
                            {"destination": {"host": "cart", "subset": "v2"}, "weight": 20}],
                  "timeout": "2s"}]})
    dr = IstioObject("DestinationRule", "cart", "shop", spec={
        "host": "cart.shop.svc.cluster.local", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 3}}})
    inv = _inventory(_workload("web-v1", sidecar=False), _workload("cart-v1"), istio=(vs, dr))
    g = build(snapshot([http("web-v1", "cart-v1", 5)], inventory=inv, injectServiceNodes=True))
    cart = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert cart is not None and cart.has_virtual_service and cart.has_destination_rule
    assert cart.extra["hasTrafficShifting"] and cart.extra["hasRequestTimeout"] and cart.extra["hasCB"]
    assert node(g, "web-v1").has_missing_sidecar
    assert not node(g, "cart-v1").has_missing_sidecar


def test_route_badges_as_kiali_sets_them() -> None:
    """Kiali marks a feature when its field is there at all, even empty (``fault: {}``), and mirroring
    only for ``mirror`` (not the newer ``mirrors`` list)."""
    def badges(route: dict) -> set[str]:  # type: ignore[type-arg]
        vs = IstioObject("VirtualService", "cart", "shop", spec={
            "hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart"}}], **route}]})
        inv = _inventory(_workload("web-v1"), _workload("cart-v1"), istio=(vs,))
        g = build(snapshot([http("web-v1", "cart-v1", 5)], inventory=inv, injectServiceNodes=True))
        cart = g.find_node(node_type=model.NODE_SERVICE, service="cart")
        assert cart is not None
        return {k for k in ("hasFaultInjection", "hasMirroring", "hasRequestTimeout") if cart.extra.get(k)}

    assert badges({"fault": {}, "mirror": {}}) == {"hasFaultInjection", "hasMirroring"}
    assert badges({"mirrors": [{"destination": {"host": "cart-shadow"}}]}) == set()
    assert badges({"timeout": "0s", "fault": None}) == {"hasRequestTimeout"}


def test_circuit_breakers_of_one_subset_mark_only_that_version() -> None:
    """As Kiali: a DestinationRule whose v1 subset breaks circuits marks the service and cart v1, not cart
    v2; a workload node without a version label gets no CB badge from its services' rules."""
    dr = IstioObject("DestinationRule", "cart", "shop", spec={
        "host": "cart", "subsets": [
            {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}}}},
            {"name": "v2", "labels": {"version": "v2"}}]})
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("cart-v2"), istio=(dr,))
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", "cart-v2", 5)]
    g = build(snapshot(samples, inventory=inv, injectServiceNodes=True, graphType="versionedApp"))
    badged = {n.label for n in g.nodes.values() if n.extra.get("hasCB")}
    assert badged == {"cart", "cart v1"}
    plain = Sample("istio_requests_total", {**http("web-v1", "cart-v1", 5).labels,
                                            "destination_workload": "cart", "destination_canonical_revision": "latest"}, 5)
    g = build(snapshot([plain], inventory=_inventory(_workload("web-v1"), istio=(dr,))))
    assert not node(g, "cart").extra.get("hasCB")



def test_an_empty_outlier_detection_or_connection_pool_is_a_circuit_breaker_as_in_kiali() -> None:
    """``outlierDetection: {}`` turns on Istio's default ejection, and Kiali counts the field being there
    (a non-nil policy) as a circuit breaker, at the top level or in a subset; a null one is unset."""
    def badged(policy: dict[str, Any], *, subset: bool = False) -> set[str]:
        spec: dict[str, Any] = {"host": "cart"}
        if subset:
            spec["subsets"] = [{"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": policy}]
        else:
            spec["trafficPolicy"] = policy
        dr = IstioObject("DestinationRule", "cart", "shop", spec=spec)
        inv = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("cart-v2"), istio=(dr,))
        samples = [http("web-v1", "cart-v1", 5), http("web-v1", "cart-v2", 5)]
        g = build(snapshot(samples, inventory=inv, injectServiceNodes=True, graphType="versionedApp"))
        return {n.label for n in g.nodes.values() if n.extra.get("hasCB")}

    assert badged({"outlierDetection": {}}) == {"cart", "cart v1", "cart v2"}
    assert badged({"connectionPool": {}}, subset=True) == {"cart", "cart v1"}
    assert badged({"outlierDetection": None, "connectionPool": None}) == set()
    assert badged({"tls": {"mode": "ISTIO_MUTUAL"}}) == set()

def test_a_service_node_takes_its_services_app_label_and_joins_the_app_box() -> None:
    """Kiali labels a service node with its Kubernetes Service's app, so in an app graph the reviews
    service sits in the reviews box with the reviews versions."""
    svc = Service("reviews", "shop", selector={"app": "reviews"}, labels={"app": "reviews"})
    inv = _inventory(_workload("web-v1"), _workload("reviews-v1"), _workload("reviews-v2"), services=(svc,))
    samples = [http("web-v1", "reviews-v1", 5), http("web-v1", "reviews-v2", 5)]
    g = build(snapshot(samples, inventory=inv, injectServiceNodes=True, graphType="versionedApp"))
    reviews = g.find_node(node_type=model.NODE_SERVICE, service="reviews")
    assert reviews is not None and reviews.app == "reviews"
    box = g.nodes[reviews.parent]
    assert box.box == model.BOX_APP and box.app == "reviews"
    assert {n.label for n in g.nodes.values() if n.parent == box.id} == {"reviews", "reviews v1", "reviews v2"}
    assert not build(snapshot(samples, inventory=_inventory(_workload("web-v1")), injectServiceNodes=True,
                              graphType="versionedApp")).find_node(node_type=model.NODE_SERVICE, service="reviews").app  # type: ignore[union-attr]


def test_an_ingress_gateway_is_marked_with_its_gateways_hosts() -> None:
    gw = Workload(name="istio-ingressgateway", namespace="istio-system",
                  labels={"app": "istio-ingressgateway", "istio": "ingressgateway",
                          "operator.istio.io/component": "IngressGateways"},
                  pods=[Pod("gw-0", "istio-system", containers=[Container("istio-proxy", ready=True)])])
    gateway = IstioObject("Gateway", "public", "istio-system", spec={
        "selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80}, "hosts": ["shop.example.com"]}]})
    inv = _inventory(gw, _workload("web-v1"), istio=(gateway,), namespaces=("shop", "istio-system"))
    sample = http("istio-ingressgateway", "web-v1", 5, src_ns="istio-system")
    g = build(snapshot([sample], inventory=inv))
    ingress = node(g, "istio-ingressgateway")
    assert ingress.is_gateway and not node(g, "web-v1").is_gateway
    from meshdesk.mesh.export import to_kiali

    data = next(n["data"] for n in to_kiali(g)["elements"]["nodes"] if n["data"].get("workload") == "istio-ingressgateway")
    # Kiali's GWInfo: all three parts (Go writes empty structs despite omitempty)
    assert data["isGateway"] == {"ingressInfo": {"hostnames": ["shop.example.com"]}, "egressInfo": {},
                                 "gatewayAPIInfo": {}}


def test_workload_entries_stand_behind_the_app_version_they_label() -> None:
    """Two VMs registered as cart v1 and one as cart v2 (WorkloadEntries), one labelled with an app only:
    the cart v1 node names the first two, cart v2 the third; Find's "we" finds both nodes."""
    from meshdesk.mesh.find import compile_expression

    def entry(name: str, **labels: str) -> IstioObject:
        return IstioObject("WorkloadEntry", name, "shop", spec={"address": "10.0.0.1", "labels": labels})

    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("cart-v2"), istio=(
        entry("vm-a", app="cart", version="v1"), entry("vm-b", app="cart", version="v1"),
        entry("vm-c", app="cart", version="v2"), entry("vm-d", app="cart")))
    g = build(snapshot([http("web-v1", "cart-v1", 5), http("web-v1", "cart-v2", 5)], inventory=inv,
                       graphType="versionedApp"))
    entries = {n.label: n.extra.get("hasWorkloadEntry") for n in g.nodes.values() if n.node_type == model.NODE_APP}
    assert entries == {"web v1": None, "cart v1": ["vm-a", "vm-b"], "cart v2": ["vm-c"]}
    assert {n.label for n in g.nodes.values() if compile_expression("we").matches_node(n)} == {"cart v1", "cart v2"}


def test_an_idle_node_gets_no_workload_entry_badge_as_in_kiali() -> None:
    """Kiali's workloadEntry appender runs before its idleNode appender: with idle nodes shown, the
    idle cart v2 (a VM registered as cart v2) is drawn without the badge the busy cart v1 gets."""
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), _workload("cart-v2"), istio=tuple(
        IstioObject("WorkloadEntry", f"vm-{v}", "shop", spec={"address": "10.0.0.1",
                                                              "labels": {"app": "cart", "version": v}})
        for v in ("v1", "v2")))
    g = build(snapshot([http("web-v1", "cart-v1", 5)], inventory=inv, graphType="versionedApp",
                       includeIdleNodes=True))
    entries = {n.label: (n.is_idle, n.extra.get("hasWorkloadEntry")) for n in g.nodes.values()
               if n.node_type == model.NODE_APP}
    assert entries == {"web v1": (False, None), "cart v1": (False, ["vm-v1"]), "cart v2": (True, None)}


def test_nodes_carry_their_kubernetes_labels_for_find() -> None:
    """As Kiali's labeler: a workload's labels (app and version left out), an app's from all its
    workloads and Services (values sorted and joined), a service's from its Service; Find's label:
    operands then work."""
    from meshdesk.mesh.find import compile_expression

    east, west = _workload("cart-v1"), _workload("cart-v2")
    east.labels["datacenter"], west.labels["datacenter"] = "east", "west"
    svc = Service("cart", "shop", selector={"app": "cart"}, labels={"app": "cart", "tier": "backend"})
    inv = _inventory(_workload("web-v1"), east, west, services=(svc,))
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", "cart-v2", 5)]
    versioned = build(snapshot(samples, inventory=inv, graphType="versionedApp", injectServiceNodes=True))
    labels = {n.label: n.extra.get("labels") for n in versioned.nodes.values() if n.node_type != model.NODE_BOX}
    assert labels == {"web v1": None, "cart v1": {"datacenter": "east"}, "cart v2": {"datacenter": "west"},
                      "cart": {"tier": "backend"}}
    app = build(snapshot(samples, inventory=inv, graphType="app"))
    # an app's labels are its workloads' and its Services', each label's values sorted (Kiali's app list)
    assert node(app, "cart").extra["labels"] == {"datacenter": "east,west", "tier": "backend"}
    east.labels["datacenter"], west.labels["datacenter"] = "west", "east"
    app = build(snapshot(samples, inventory=inv, graphType="app"))
    assert node(app, "cart").extra["labels"] == {"datacenter": "east,west", "tier": "backend"}
    found = compile_expression("label:datacenter = west")
    assert [n.label for n in versioned.nodes.values() if found.matches_node(n)] == ["cart v2"]


def test_operation_nodes_on_request() -> None:
    samples = [http("web-v1", "cart-v1", 6, request_operation="GET /items"),
               http("web-v1", "cart-v1", 4, request_operation="POST /items")]
    assert build(snapshot(samples)).find_node(node_type=model.NODE_AGGREGATE) is None
    g = build(snapshot(samples, appenders=("operationNodes",)))
    ops = sorted((n.aggregate_value, n) for n in g.nodes.values() if n.node_type == model.NODE_AGGREGATE)
    assert [v for v, _ in ops] == ["GET /items", "POST /items"]
    get = ops[0][1]
    assert get.aggregate == "request_operation" and get.traffic["http"] == {"httpIn": 6, "httpOut": 6}
    assert edge(g, "web-v1", "GET /items").rate == pytest.approx(6)
    assert edge(g, "POST /items", "cart-v1").rate == pytest.approx(4)
    assert not [e for e in g.edges.values() if e.source == node(g, "web-v1").id
                and e.target == node(g, "cart-v1").id]


def test_an_operations_node_graph_shows_who_calls_it_and_what_serves_it() -> None:
    """Kiali's aggregate node graph: double-clicking "GET /items" shows the callers of that operation,
    the operation node and the services and workloads that served it - drawn from the destination's
    reports of that operation alone (not POST, not another namespace's, not another service's)."""
    from meshdesk.mesh.request import NodeFocus

    samples = [http("web-v1", "cart-v1", 6, request_operation="GET /items"),
               http("web-v1", "cart-v1", 6, request_operation="GET /items", reporter="source"),
               http("admin-v1", "cart-v2", 2, request_operation="GET /items"),
               http("admin-v1", "cart-v2", 1, "503", request_operation="GET /items"),
               http("web-v1", "cart-v1", 4, request_operation="POST /items"),
               http("web-v1", "stock-v1", 3, request_operation="GET /items"),
               http("web-v1", "cart-v1", 5, request_operation="GET /items", dst_ns="other", service="cart"),
               tcp("cart-v1", "db-v1", 100.0)]
    focus = NodeFocus("shop", aggregate="request_operation", aggregateValue="GET /items", service="cart")
    g = build(snapshot(samples, node=focus, injectServiceNodes=True))
    op = g.find_node(node_type=model.NODE_AGGREGATE)
    assert op is not None and (op.aggregate_value, op.service, op.namespace) == ("GET /items", "cart", "shop")
    assert {n.label for n in g.nodes.values() if n.node_type != model.NODE_BOX} == {
        "web-v1", "admin-v1", "GET /items", "cart", "cart-v1", "cart-v2"}
    assert edge(g, "web-v1", "GET /items").rate == pytest.approx(6)  # counted once, not with its twin
    into = edge(g, "admin-v1", "GET /items")
    assert into.rate == pytest.approx(3) and into.rates["http5xx"] == pytest.approx(1)
    svc = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert svc is not None
    rate = {(g.nodes[e.source].label, g.nodes[e.target].label): e.rate for e in g.edges.values()}
    assert rate[("GET /items", "cart")] == pytest.approx(9) and rate[("cart", "cart-v2")] == pytest.approx(3)
    # every service's share of the operation when no service is named
    g = build(snapshot(samples, node=NodeFocus("shop", aggregate="request_operation", aggregateValue="GET /items")))
    assert {n.label for n in g.nodes.values() if n.node_type == model.NODE_WORKLOAD} == {
        "web-v1", "admin-v1", "cart-v1", "cart-v2", "stock-v1"}
    ops = [n for n in g.nodes.values() if n.node_type == model.NODE_AGGREGATE]
    assert [n.aggregate_value for n in ops] == ["GET /items"]  # without service nodes: one operation node
    assert edge(g, "GET /items", "stock-v1").rate == pytest.approx(3)


def test_a_node_graph_of_a_known_cluster_keeps_to_it() -> None:
    """Two clusters run web-v1 in shop: the node graph of east's web-v1 shows what east's calls and
    what calls it there, not west's twin (Kiali narrows by destination_cluster and source_cluster)."""
    from meshdesk.mesh.request import NodeFocus

    def in_west(sample: Any, *sides: str) -> Any:
        return type(sample)(sample.metric, {**sample.labels, **{f"{s}_cluster": "west" for s in sides}}, sample.value)

    samples = [http("gw-v1", "web-v1", 5), http("web-v1", "cart-v1", 4, reporter="source"),
               in_west(http("gw-v1", "web-v1", 7), "source", "destination"),
               in_west(http("web-v1", "cart-v1", 3, reporter="source"), "source", "destination")]
    both = build(snapshot(samples, node=NodeFocus("shop", workload="web-v1")))
    assert {n.cluster for n in both.nodes.values() if n.workload == "web-v1"} == {"east", "west"}
    east = build(snapshot(samples, node=NodeFocus("shop", workload="web-v1", cluster="east")))
    assert {(n.workload, n.cluster) for n in east.nodes.values() if n.workload} == {
        ("gw-v1", "east"), ("web-v1", "east"), ("cart-v1", "east")}
    assert edge(east, "gw-v1", "web-v1").rate == pytest.approx(5)
    assert edge(east, "web-v1", "cart-v1").rate == pytest.approx(4)


def test_outside_inaccessible_and_root() -> None:
    samples = [http("gw-v1", "web-v1", 10, src_ns="edge"), http("web-v1", "bank-v1", 3, dst_ns="bank",
                                                                 reporter="source")]
    g = build(snapshot(samples, accessibleNamespaces=("shop", "edge")))
    gw, web, bank = node(g, "gw-v1"), node(g, "web-v1"), node(g, "bank-v1")
    assert gw.is_outside and gw.is_root and not gw.is_inaccessible
    assert not web.is_outside and not web.is_root
    assert bank.is_outside and bank.is_inaccessible
    scoped = build(snapshot(samples, accessibleNamespaces=("east:shop", "west:edge")))
    assert node(scoped, "gw-v1").is_inaccessible and not node(scoped, "web-v1").is_inaccessible


def test_boxes_by_namespace_and_cluster() -> None:
    samples = [http("web-v1", "cart-v1", 10), http("web-v1", "bank-v1", 3, dst_ns="bank", reporter="source")]
    g = build(snapshot(samples, boxBy=("namespace",)))
    shop = g.find_node(node_type=model.NODE_BOX, box=model.BOX_NAMESPACE, namespace="shop")
    assert shop is not None and node(g, "cart-v1").parent == shop.id and node(g, "web-v1").parent == shop.id
    # a single member gets no box
    assert g.find_node(node_type=model.NODE_BOX, namespace="bank") is None
    one_cluster = build(snapshot(samples, boxBy=("cluster",)))
    assert one_cluster.find_node(node_type=model.NODE_BOX) is None  # boxes only when there are two or more


def test_config_badges_and_app_labels_stay_off_nodes_outside_the_requested_namespaces() -> None:
    """Kiali's istio finalizer runs after outsiders are marked and leaves them alone: shop's
    VirtualService and DestinationRule for cart in the other namespace badge shop's own cart service
    node, not the other namespace's, and that one takes no app label from its Service either."""
    cb = {"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}}}}
    istio = tuple(IstioObject(kind, f"{kind.lower()}-{ns}", "shop", spec=spec) for ns in ("shop", "other")
                  for kind, spec in (("VirtualService", {"hosts": [f"cart.{ns}.svc.cluster.local"], "http": [
                      {"route": [{"destination": {"host": f"cart.{ns}.svc.cluster.local"}}]}]}),
                                     ("DestinationRule", {"host": f"cart.{ns}.svc.cluster.local", **cb})))
    services = tuple(Service("cart", ns, selector={"app": "cart"}, labels={"app": "cart"}) for ns in ("shop", "other"))
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), services=services, istio=istio)
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", "cart-v1", 5, dst_ns="other", reporter="source")]
    g = build(snapshot(samples, inventory=inv, injectServiceNodes=True))
    inside = g.find_node(node_type=model.NODE_SERVICE, service="cart", namespace="shop")
    outside = g.find_node(node_type=model.NODE_SERVICE, service="cart", namespace="other")
    assert inside is not None and outside is not None and outside.is_outside
    assert inside.has_virtual_service and inside.extra.get("hasCB") and inside.app == "cart"
    assert not outside.has_virtual_service and not outside.extra.get("hasCB") and not outside.app


def test_out_of_mesh_follows_kialis_mesh_check() -> None:
    """As Kiali's meshCheck judges it: an app is out of the mesh when not all its workloads have a
    sidecar (so the reviews app with a sidecar-less v2 is, and so is reviews v2, but not v1); a pod
    Istio's CNI captured for ambient needs no sidecar, even in a sidecar namespace; in an ambient
    namespace a workload that opted out of ambient does; a gateway made by injection needs none."""
    def pod_annotated(name: str, annotations: dict[str, str], sidecar: bool = False) -> Workload:
        w = _workload(name, sidecar=sidecar)
        w.pods[0].annotations.update(annotations)
        return w

    v2 = _workload("reviews-v2", sidecar=False)
    captured = pod_annotated("ledger-v1", {"ambient.istio.io/redirection": "enabled"})
    gateway = pod_annotated("edge-v1", {"inject.istio.io/templates": "gateway"}, sidecar=False)
    inv = _inventory(_workload("web-v1"), _workload("reviews-v1"), v2, captured, gateway)
    samples = [http("web-v1", "reviews-v1", 5), http("web-v1", "reviews-v2", 5), http("web-v1", "ledger-v1", 1),
               http("edge-v1", "web-v1", 2)]
    apps = build(snapshot(samples, inventory=inv, graphType="app"))
    assert {n.app for n in apps.nodes.values() if n.has_missing_sidecar} == {"reviews"}
    versions = build(snapshot(samples, inventory=inv, graphType="versionedApp"))
    assert {n.label for n in versions.nodes.values() if n.has_missing_sidecar and n.node_type == model.NODE_APP} == \
        {"reviews v2"}
    assert {n.label for n in versions.nodes.values() if n.extra.get("isAmbient")} == {"ledger v1"}

    # an ambient namespace: its pods need no sidecar, unless one opted out
    opted_out = _workload("batch-v1", sidecar=False)
    opted_out.labels["istio.io/dataplane-mode"] = "none"
    opted_out.pods[0].annotations["kubectl.kubernetes.io/restartedAt"] = "2026-11-27T10:00:00Z"
    inv = Inventory(cluster="east", namespaces=[Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"})],
                    workloads=[_workload("web-v1", sidecar=False), _workload("cart-v1", sidecar=False), opted_out])
    g = build(snapshot([http("web-v1", "cart-v1", 5), http("web-v1", "batch-v1", 1)], inventory=inv))
    assert {n.workload for n in g.nodes.values() if n.has_missing_sidecar} == {"batch-v1"}
    assert {n.workload for n in g.nodes.values() if n.extra.get("isAmbient")} == {"web-v1", "cart-v1"}


def test_hand_edited_config_with_odd_shapes_never_breaks_the_graph() -> None:
    """Istio objects whose fields have the wrong shape (a number where a list belongs, a string for a
    host list) are read as having nothing there: the graph is still built, and the well-formed
    VirtualService next to them still badges its service."""
    odd = [IstioObject("VirtualService", "odd-vs", "shop", spec={"hosts": "cart", "http": 5, "tcp": [{"route": 3}]}),
           IstioObject("DestinationRule", "odd-dr", "shop", spec={"host": "cart", "subsets": 3, "trafficPolicy": 1}),
           IstioObject("Gateway", "odd-gw", "shop", spec={"selector": {"app": "web"}, "servers": "all"}),
           IstioObject("ServiceEntry", "odd-se", "shop", spec={"hosts": "api.example.com", "exportTo": 7}),
           IstioObject("VirtualService", "good", "shop", spec={"hosts": ["web"], "http": [
               {"route": [{"destination": {"host": "web"}}]}]})]
    inv = _inventory(_workload("web-v1"), _workload("cart-v1"), istio=tuple(odd))
    inv.k8s_gateways = [IstioObject("K8sGateway", "web", "shop", spec={"listeners": 7})]
    g = build(snapshot([http("web-v1", "cart-v1", 5), http("cart-v1", "web-v1", 1)], inventory=inv,
                       injectServiceNodes=True))
    web = g.find_node(node_type=model.NODE_SERVICE, service="web")
    cart = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert web is not None and web.has_virtual_service and cart is not None and not cart.has_virtual_service


def test_another_clusters_nodes_are_not_judged_by_this_clusters_inventory() -> None:
    """A shared Prometheus carries a second cluster's telemetry: east's inventory marks east's gateway
    only, and does not remove west's workload it does not know (as Kiali looks a node up in its own
    cluster). When the telemetry does not name the inventory's cluster, names alone still match."""
    from meshdesk.mesh.telemetry import Sample
    from tests.graph_samples import labels

    gw = Workload("istio-ingressgateway", "istio-system", labels={
        "istio": "ingressgateway", "operator.istio.io/component": "IngressGateways"}, cluster="east")
    gateway = IstioObject("Gateway", "bookinfo-gateway", "istio-system", spec={
        "selector": {"istio": "ingressgateway"}, "servers": [{"hosts": ["bookinfo.example.com"]}]})

    def call(cluster: str) -> Sample:
        lab = labels("istio-ingressgateway", "productpage-v1", src_ns="istio-system", ns="bookinfo",
                     request_protocol="http", response_code="200", grpc_response_status="", response_flags="-")
        lab.update(source_cluster=cluster, destination_cluster=cluster, source_canonical_service="istio-ingressgateway",
                   source_canonical_revision="latest")
        return Sample("istio_requests_total", lab, 5.0)

    def idle(cluster: str) -> Sample:
        lab = labels("reviews-v9", "ratings-v1", ns="bookinfo", request_protocol="http", response_code="200",
                     grpc_response_status="", response_flags="-")
        lab.update(source_cluster=cluster, destination_cluster=cluster)
        return Sample("istio_requests_total", lab, 0.0)

    inv = Inventory(cluster="east", namespaces=[Namespace("bookinfo"), Namespace("istio-system")],
                    workloads=[gw, Workload("productpage-v1", "bookinfo", labels={"app": "productpage", "version": "v1"},
                                            cluster="east"),
                               Workload("ratings-v1", "bookinfo", labels={"app": "ratings", "version": "v1"}, cluster="east")],
                    istio=[gateway])
    g = build(snapshot([call("east"), call("west"), idle("west")], inventory=inv, graphType="workload",
                       namespaces=("bookinfo",), includeIdleEdges=True))
    gateways = {n.cluster: n.is_gateway for n in g.nodes.values() if n.workload == "istio-ingressgateway"}
    assert gateways == {"east": True, "west": False}
    assert any(n.workload == "reviews-v9" and n.cluster == "west" for n in g.nodes.values())
    # one cluster, named otherwise in the telemetry (Istio's cluster id): names match as before
    g = build(snapshot([call("Kubernetes")], inventory=inv, graphType="workload", namespaces=("bookinfo",)))
    assert [n.is_gateway for n in g.nodes.values() if n.workload == "istio-ingressgateway"] == [True]


def test_a_workload_scaled_to_zero_is_not_out_of_the_mesh() -> None:
    """As Kiali: a workload without pods cannot be shown to lack a sidecar, even when its template
    opts out of injection (it was badged out of the mesh while its last requests still showed)."""
    idle = Workload("legacy-v1", "shop", labels={"app": "legacy", "version": "v1", "sidecar.istio.io/inject": "false"},
                    annotations={"sidecar.istio.io/inject": "false"}, pods=[], replicas=0)
    running = _workload("batch-v1", sidecar=False)
    inv = _inventory(_workload("web-v1"), idle, running)
    g = build(snapshot([http("web-v1", "legacy-v1", 5), http("web-v1", "batch-v1", 5)], inventory=inv,
                       graphType="workload"))
    assert {n.workload for n in g.nodes.values() if n.has_missing_sidecar} == {"batch-v1"}


def test_another_clusters_workloads_take_no_badge_labels_or_pods_from_this_inventory() -> None:
    """A shared Prometheus with east's and west's telemetry and east's inventory: west's web-v1 is not
    out of the mesh because east's is, does not wear east's labels, and west's cart-v1 is not failing
    because east's has no pods."""
    def call(cluster: str) -> Sample:
        lab = labels("web-v1", "cart-v1", request_protocol="http", response_code="200", grpc_response_status="",
                     response_flags="-")
        lab.update(source_cluster=cluster, destination_cluster=cluster)
        return Sample("istio_requests_total", lab, 5.0)

    web = _workload("web-v1", sidecar=False)
    web.labels["team"] = "east-team"
    cart = Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"}, pods=[], replicas=2, available=0)
    for w in (web, cart):
        w.cluster = "east"
    inv = _inventory(web, cart)
    g = build(snapshot([call("east"), call("west")], inventory=inv, graphType="workload"))
    by = {(n.cluster, n.workload): n for n in g.nodes.values()}
    assert by[("east", "web-v1")].has_missing_sidecar and by[("east", "web-v1")].extra.get("labels") == {"team": "east-team"}
    assert not by[("west", "web-v1")].has_missing_sidecar and "labels" not in by[("west", "web-v1")].extra
    assert by[("east", "cart-v1")].health is not None and by[("east", "cart-v1")].health.status == model.FAILURE
    assert by[("west", "cart-v1")].health is not None and by[("west", "cart-v1")].health.status == model.HEALTHY


def test_a_service_routed_by_a_virtual_service_made_from_a_gateway_api_route_is_marked_as_in_kiali() -> None:
    """Istio names the VirtualServices it makes from Gateway API routes ``...-autogenerated-k8s-...``;
    Kiali marks a service whose (first) VirtualService is one ``isK8sGatewayAPI``, beside ``hasVS``."""
    def service_data(name: str) -> dict[str, Any]:
        vs = IstioObject("VirtualService", name, "shop", spec={
            "hosts": ["cart.example.com"], "http": [{"route": [{"destination": {"host": "cart"}}]}]})
        inv = _inventory(_workload("web-v1"), _workload("cart-v1"), istio=(vs,))
        g = build(snapshot([http("web-v1", "cart-v1", 5)], inventory=inv, injectServiceNodes=True))
        return next(n["data"] for n in to_kiali(g)["elements"]["nodes"] if n["data"]["nodeType"] == "service")

    made = service_data("web-autogenerated-k8s-gateway-cart")
    assert made["isK8sGatewayAPI"] is True
    assert made["hasVS"] == {"hostnames": ["cart.example.com"]} and made["hasRequestRouting"] is True
    assert "isK8sGatewayAPI" not in service_data("cart")


def test_no_out_of_mesh_badge_in_a_namespace_an_istiod_runs_in_as_in_kiali() -> None:
    """Kiali's mesh check leaves the control plane's namespaces alone, wherever istiod is installed: a
    sidecar-less workload of ``istio-control`` (where the istiod runs) is not out of the mesh; one of a
    plain namespace is; istio-system stays exempt whatever the inventory says."""
    from meshdesk.mesh.inventory import Istiod

    def out_of_mesh(planes: list[Istiod] | None) -> set[str]:
        inv = _inventory(_workload("web-v1"), _workload("tracer-v1", "istio-control", sidecar=False),
                         _workload("probe-v1", "istio-system", sidecar=False),
                         _workload("batch-v1", "jobs", sidecar=False),
                         namespaces=("shop", "istio-control", "istio-system", "jobs"))
        inv.control_planes = planes
        samples = [http("tracer-v1", "web-v1", 1, src_ns="istio-control"),
                   http("probe-v1", "web-v1", 1, src_ns="istio-system"),
                   http("batch-v1", "web-v1", 1, src_ns="jobs")]
        g = build(snapshot(samples, inventory=inv, namespaces=("shop", "istio-control", "istio-system", "jobs")))
        return {n.label for n in g.nodes.values() if n.has_missing_sidecar}

    assert out_of_mesh([Istiod("istio-control", pods=1, ready=1)]) == {"batch-v1"}
    assert out_of_mesh(None) == {"batch-v1", "tracer-v1"}  # not read: only istio-system is known as one


def test_the_lists_and_panel_agree_with_the_graph_about_an_istiod_installed_elsewhere() -> None:
    """With istiod in ``istio-control`` the graph gives its sidecar-less workloads no out-of-mesh badge
    (above); the Workloads list said "missing" for them, and the namespace advice asked for injection
    there. They say "control plane", as for istio-system, and no advice is given."""
    from meshdesk.mesh.inventory import Istiod
    from meshdesk.mesh.traffic_advice import mesh_gap
    from meshdesk.ui.lists import WORKLOADS, build_rows

    inv = _inventory(_workload("web-v1"), _workload("tracer-v1", "istio-control", sidecar=False),
                     _workload("batch-v1", "jobs", sidecar=False), namespaces=("shop", "istio-control", "jobs"))
    inv.control_planes = [Istiod("istio-control", pods=1, ready=1)]
    g = build(snapshot([http("tracer-v1", "web-v1", 1, src_ns="istio-control"),
                        http("batch-v1", "web-v1", 1, src_ns="jobs")],
                       inventory=inv, namespaces=("shop", "istio-control", "jobs")))
    sidecar = {r.name: r.sidecar for r in build_rows(g, inv, {})[WORKLOADS]}
    assert sidecar == {"web-v1": "yes", "tracer-v1": "control plane", "batch-v1": "missing"}
    assert mesh_gap(inv, "istio-control") is None
    assert mesh_gap(inv, "jobs") is not None
