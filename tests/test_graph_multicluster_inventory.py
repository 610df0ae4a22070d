"""Graph passes with an inventory merged from two clusters (east and west, each object naming its own):
every pass judges a node by its own cluster's objects, as Kiali looks a node up in the node's cluster.

The same workloads run in both clusters (web-v1 calls cart-v1 in each); each case makes the two
clusters' copies differ in one thing and checks each cluster's node shows its own copy's."""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build, model
from meshdesk.mesh.inventory import (
    Container,
    Inventory,
    IstioObject,
    Namespace,
    Pod,
    Service,
    ServicePort,
    Workload,
)
from meshdesk.mesh.metrics import target_for_node
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, labels, snapshot

CLUSTERS = ("east", "west")


def _in(sample: Sample, cluster: str) -> Sample:
    return Sample(sample.metric, {**sample.labels, "source_cluster": cluster, "destination_cluster": cluster},
                  sample.value)


def _traffic(*pairs: tuple[str, str]) -> list[Sample]:
    """Each call (source, destination) in both clusters, reported by the destination."""
    return [_in(http(src, dst, 1), c) for c in CLUSTERS for src, dst in pairs]


def _workload(name: str, cluster: str, *, labels: dict[str, str] | None = None, sidecar: bool = True,
              pods: int = 1, available: int | None = None, annotations: dict[str, str] | None = None,
              pod_annotations: dict[str, str] | None = None) -> Workload:
    app, _, version = name.rpartition("-")
    containers = [Container("app", ready=True)] + ([Container("istio-proxy", ready=True)] if sidecar else [])
    return Workload(name=name, namespace="shop", cluster=cluster,
                    labels={"app": app, "version": version, **(labels or {})},
                    annotations=dict(annotations or {}),
                    pods=[Pod(f"{name}-{cluster}-{i}", "shop", containers=list(containers),
                              annotations=dict(pod_annotations or {})) for i in range(pods)],
                    replicas=pods, available=pods if available is None else available)


def _service(name: str, cluster: str, labels: dict[str, str] | None = None) -> Service:
    return Service(name, "shop", ports=[ServicePort("http", 9080)], selector={"app": name},
                   labels={"app": name, **(labels or {})}, cluster=cluster)


def _inventory(*workloads: Workload, services: tuple[Service, ...] = (), istio: tuple[IstioObject, ...] = (),
               namespaces: tuple[Namespace, ...] = ()) -> Inventory:
    return Inventory(cluster="east", namespaces=list(namespaces) or [Namespace("shop", cluster=c) for c in CLUSTERS],
                     workloads=list(workloads), services=list(services), istio=list(istio))


def _both(name: str, **kw: Any) -> list[Workload]:
    return [_workload(name, c, **kw) for c in CLUSTERS]


def _by_cluster(g: model.TrafficGraph, **identity: str) -> dict[str, model.Node]:
    out: dict[str, model.Node] = {}
    for n in g.nodes.values():
        if n.node_type != model.NODE_BOX and all(getattr(n, k) == v for k, v in identity.items()):
            assert n.cluster not in out, f"two nodes {identity} in {n.cluster}"
            out[n.cluster] = n
    return out


# ------------------------------------------------------------------------------------------- labeler

def test_each_clusters_node_takes_its_own_workloads_labels() -> None:
    """The reproduction: each cluster's workloads labelled site=<cluster>; east's nodes showed west's
    labels, west's none."""
    inv = _inventory(*(_workload(name, c, labels={"site": c}) for c in CLUSTERS for name in ("web-v1", "cart-v1")))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    for name in ("web-v1", "cart-v1"):
        nodes = _by_cluster(g, workload=name)
        assert {c: n.extra.get("labels") for c, n in nodes.items()} == {c: {"site": c} for c in CLUSTERS}, name


def test_app_and_service_nodes_take_their_own_clusters_labels() -> None:
    inv = _inventory(*(_workload(name, c, labels={"site": c}) for c in CLUSTERS for name in ("web-v1", "cart-v1")),
                     services=tuple(_service("cart", c, {"tier": c}) for c in CLUSTERS))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="app", injectServiceNodes=True))
    apps = _by_cluster(g, node_type=model.NODE_APP, app="cart")
    assert {c: n.extra.get("labels") for c, n in apps.items()} == {c: {"site": c, "tier": c} for c in CLUSTERS}
    services = _by_cluster(g, node_type=model.NODE_SERVICE, service="cart")
    assert {c: n.extra.get("labels") for c, n in services.items()} == {c: {"tier": c} for c in CLUSTERS}


def test_an_inventory_of_one_cluster_labels_as_before() -> None:
    """An inventory read from one cluster, its objects naming none: its nodes are labelled by it."""
    inv = Inventory(cluster="east", namespaces=[Namespace("shop")],
                    workloads=[_workload(n, "", labels={"site": "x"}) for n in ("web-v1", "cart-v1")])
    g = build(snapshot([http("web-v1", "cart-v1", 1)], inventory=inv, graphType="workload"))
    assert [n.extra.get("labels") for n in _by_cluster(g, workload="cart-v1").values()] == [{"site": "x"}]


# ---------------------------------------------------------------------------------------- mesh check

def test_a_missing_sidecar_is_shown_on_its_own_clusters_node_only() -> None:
    """cart-v1 runs without a sidecar in west only: west's node is out of the mesh, east's is not."""
    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"), _workload("cart-v1", "west", sidecar=False))
    for graph_type in ("workload", "versionedApp", "app"):
        g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType=graph_type))
        nodes = _by_cluster(g, app="cart")
        assert {c: n.has_missing_sidecar for c, n in nodes.items()} == {"east": False, "west": True}, graph_type


def test_ambient_is_judged_by_the_nodes_own_clusters_namespace() -> None:
    """shop is in ambient mode in west only, and cart-v1 runs without a sidecar in both: west's node is
    ambient, east's lacks its sidecar."""
    namespaces = (Namespace("shop", cluster="east"),
                  Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"}, cluster="west"))
    inv = _inventory(*_both("web-v1"), *_both("cart-v1", sidecar=False), namespaces=namespaces)
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    assert {c: (n.has_missing_sidecar, bool(n.extra.get("isAmbient"))) for c, n in nodes.items()} == {
        "east": (True, False), "west": (False, True)}


# ----------------------------------------------------------------------------------------- gateways

def test_a_gateway_is_marked_in_its_own_cluster_only() -> None:
    """west runs gw-v1 as an ingress gateway that a Gateway of west selects; east's gw-v1 is a plain
    workload."""
    gateway = IstioObject("Gateway", "public", "shop", spec={"selector": {"istio": "ingressgateway"},
                                                             "servers": [{"hosts": ["shop.example.com"]}]},
                          cluster="west")
    inv = _inventory(_workload("gw-v1", "east"),
                     _workload("gw-v1", "west", labels={"istio": "ingressgateway",
                                                        "operator.istio.io/component": "IngressGateways"}),
                     *_both("cart-v1"), istio=(gateway,))
    g = build(snapshot(_traffic(("gw-v1", "cart-v1")), inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, workload="gw-v1")
    assert {c: n.is_gateway for c, n in nodes.items()} == {"east": False, "west": True}


# ------------------------------------------------------------------------------- VS, DR and CB badges

def test_routing_badges_come_from_every_clusters_config() -> None:
    """A VirtualService and a DestinationRule with a circuit breaker for cart exist in west only. Kiali
    applies each cluster's config to the whole graph, so both clusters' cart service and app nodes carry
    the badges (meshdesk badged the inventory's first cluster's nodes only, east's here)."""
    vs = IstioObject("VirtualService", "cart", "shop", cluster="west",
                     spec={"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart"}}],
                                                        "timeout": "2s"}]})
    dr = IstioObject("DestinationRule", "cart", "shop", cluster="west",
                     spec={"host": "cart", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 3}}})
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                     istio=(vs, dr))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="versionedApp",
                       injectServiceNodes=True))
    services = _by_cluster(g, node_type=model.NODE_SERVICE, service="cart")
    assert {c: (n.has_virtual_service, n.has_destination_rule, bool(n.extra.get("hasCB")),
                bool(n.extra.get("hasRequestTimeout"))) for c, n in services.items()} == {
        c: (True, True, True, True) for c in CLUSTERS}
    versions = _by_cluster(g, node_type=model.NODE_APP, app="cart")
    assert {c: bool(n.extra.get("hasCB")) for c, n in versions.items()} == {c: True for c in CLUSTERS}


def test_a_service_node_takes_its_app_from_its_own_clusters_service() -> None:
    """A service node with no app takes the app label of its Service: west's Service of that name
    names another app than east's."""
    services = (Service("shared", "shop", labels={"app": "east-app"}, cluster="east"),
                Service("shared", "shop", labels={"app": "west-app"}, cluster="west"))
    inv = _inventory(*_both("web-v1"), services=services)
    samples = [_in(http("web-v1", None, 1, service="shared", reporter="source"), c) for c in CLUSTERS]
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, node_type=model.NODE_SERVICE, service="shared")
    assert {c: n.app for c, n in nodes.items()} == {"east": "east-app", "west": "west-app"}


# -------------------------------------------------------------------------------------------- health

def test_node_health_weighs_its_own_clusters_pods() -> None:
    """cart-v1's pods are down in west only: west's node fails, east's is healthy (east's was judged by
    whichever copy came first, west's by none)."""
    for down in CLUSTERS:
        up = "west" if down == "east" else "east"
        inv = _inventory(*_both("web-v1"), _workload("cart-v1", up), _workload("cart-v1", down, available=0))
        g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
        nodes = _by_cluster(g, workload="cart-v1")
        status = {c: n.health.status for c, n in nodes.items() if n.health is not None}
        assert status == {up: model.HEALTHY, down: model.FAILURE}, down
        data = to_kiali(g)["elements"]["nodes"]
        statuses = {d["data"]["cluster"]: d["data"]["healthData"]["workloadStatus"]
                    for d in data if d["data"].get("workload") == "cart-v1"}
        assert {c: s["availableReplicas"] for c, s in statuses.items()} == {up: 1, down: 0}, down


def test_health_tolerances_come_from_the_nodes_own_clusters_annotation() -> None:
    """west's cart-v1 fails from 0.8 % of server errors on (its health.kiali.io/rate); east's keeps the
    defaults. With 1 % errors in both, west's node is failing and east's degraded."""
    strict = {"health.kiali.io/rate": "5XX,0.5,0.8,http,inbound"}
    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"),
                     _workload("cart-v1", "west", annotations=strict))
    samples = [_in(s, c) for c in CLUSTERS for s in (http("web-v1", "cart-v1", 99), http("web-v1", "cart-v1", 1, "500"))]
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    assert {c: n.health.status for c, n in nodes.items() if n.health is not None} == {
        "east": model.DEGRADED, "west": model.FAILURE}
    assert {c: n.health_annotation for c, n in nodes.items()} == {"east": "", "west": strict["health.kiali.io/rate"]}


def test_an_app_box_weighs_its_own_clusters_pods() -> None:
    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"), _workload("cart-v1", "west", available=0))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="versionedApp"))
    nodes = _by_cluster(g, node_type=model.NODE_APP, app="cart")
    assert {c: n.extra["appHealth"].status for c, n in nodes.items()} == {"east": model.HEALTHY,
                                                                          "west": model.FAILURE}


# ---------------------------------------------------------------------------------------------- idle

def test_idle_nodes_are_drawn_in_the_cluster_that_runs_them() -> None:
    """idle-v1 runs in west only: its idle node is west's; one running in both gets one per cluster."""
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), _workload("idle-v1", "west"), *_both("spare-v1"))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload", includeIdleNodes=True))
    idle = _by_cluster(g, workload="idle-v1")
    assert {c: n.is_idle for c, n in idle.items()} == {"west": True}
    assert {c: n.is_idle for c, n in _by_cluster(g, workload="spare-v1").items()} == {"east": True, "west": True}
    assert not any(n.is_idle for n in _by_cluster(g, workload="cart-v1").values())


# ------------------------------------------------------------------------------------------- ambient

def test_a_waypoint_of_each_cluster_is_a_waypoint() -> None:
    """Both clusters run a waypoint of the same name: each cluster's waypoint node is one (the inventory
    kept one cluster per waypoint name, so the other's was drawn as a plain workload)."""
    waypoint_labels = {"gateway.istio.io/managed": "istio.io-mesh-controller"}
    namespaces = tuple(Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"}, cluster=c) for c in CLUSTERS)
    ambient = {"ambient.istio.io/redirection": "enabled"}
    inv = _inventory(*_both("web-v1", sidecar=False, pod_annotations=ambient),
                     *_both("cart-v1", sidecar=False, pod_annotations=ambient),
                     *_both("waypoint-v1", sidecar=False, labels=waypoint_labels), namespaces=namespaces)
    samples = [_in(http("web-v1", "waypoint-v1", 1, service="cart", reporter="waypoint"), c) for c in CLUSTERS]
    samples += [_in(http("waypoint-v1", "cart-v1", 1, reporter="destination"), c) for c in CLUSTERS]
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, workload="waypoint-v1")
    assert {c: bool(n.extra.get("isWaypoint")) for c, n in nodes.items()} == {"east": True, "west": True}
    assert not any(n.has_missing_sidecar for n in g.nodes.values())


# ------------------------------------------------------------------------------------------- ambient

def test_response_times_into_a_namespace_ambient_in_one_cluster_only() -> None:
    """shop is ambient in east and in sidecar mode in west: the gateway's own measure of its calls into
    shop (5 ms) is the edge's time in east, where no sidecar reports them on arrival; in west cart's
    sidecar reports them (240 ms) and its measure stands, as in a sidecar namespace. West's time was
    the gateway's because shop is ambient in east."""
    def took(reporter: str, ms: float, cluster: str) -> Sample:
        return _in(Sample("istio_request_duration_milliseconds",
                          labels("gw-v1", "cart-v1", src_ns="istio-system", reporter=reporter,
                                 request_protocol="http", stat="0.95"), ms), cluster)

    samples = [*(_in(http("gw-v1", "cart-v1", 10, src_ns="istio-system", reporter="source"), c) for c in CLUSTERS),
               *(took("source", 5.0, c) for c in CLUSTERS), took("waypoint", 240.0, "east"),
               _in(http("gw-v1", "cart-v1", 10, src_ns="istio-system"), "west"), took("destination", 240.0, "west")]
    namespaces = (Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"}, cluster="east"),
                  Namespace("shop", cluster="west"))
    inv = _inventory(_workload("cart-v1", "east", sidecar=False), _workload("cart-v1", "west"),
                     namespaces=namespaces)
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    carts = _by_cluster(g, workload="cart-v1")
    times = {g.nodes[e.target].cluster: e.response_time for e in g.edges.values() if e.target in
             {n.id for n in carts.values()}}
    assert times == {"east": 5.0, "west": 240.0}
    assert {c: g.ambient_in("shop", c) for c in CLUSTERS} == {"east": True, "west": False}
    # west's cart charts its sidecar's reports, not a waypoint's
    west = target_for_node(g, carts["west"].id)
    east = target_for_node(g, carts["east"].id)
    assert west is not None and east is not None and (east.waypoint, west.waypoint) == (True, False)


# ---------------------------------------------------------------------------------------- box charts

def test_a_boxs_charts_read_its_own_clusters_sidecar_less_workloads_from_their_callers() -> None:
    """cart-v1 runs without a sidecar in west only. West's namespace and cluster boxes read what comes
    into it from its callers' reports (nothing else reports it); east's, where its sidecar reports it,
    do not. The boxes took the inventory's first cluster's workloads: in a service graph (no workload
    node says it) west's charts lost cart's traffic and east's read it from its callers."""
    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"), _workload("cart-v1", "west", sidecar=False))
    for graph_type in ("service", "workload"):
        for box in (model.BOX_NAMESPACE, model.BOX_CLUSTER):
            g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType=graph_type,
                               boxBy=(box,), injectServiceNodes=True))
            boxes = {n.cluster: n for n in g.nodes.values() if n.node_type == model.NODE_BOX and n.box == box}
            targets = {c: target_for_node(g, n.id) for c, n in boxes.items()}
            callers = {c: [values for _label, values, _ns in t.by_callers] if t is not None else None
                       for c, t in targets.items()}
            assert callers == {"east": [], "west": [("cart-v1",)]}, (graph_type, box)
            for c, t in targets.items():
                assert t is not None and ("destination_cluster", c) in t.labels, (graph_type, box)


# ---------------------------------------------------------------------------------------- validations

def test_config_applied_to_both_clusters_is_validated_in_each() -> None:
    """The same VirtualService and DestinationRule applied to east and west (as a multi-primary mesh is
    configured): the VirtualService was said to claim its host twice (KIA1106). Each cluster's config is
    judged among its own; a route to a subset only east's DestinationRule defines is still an error in
    west, where no rule defines it."""
    from dataclasses import replace

    from meshdesk.mesh.validations import validate

    vs = IstioObject("VirtualService", "cart", "shop", spec={"hosts": ["cart"], "http": [
        {"route": [{"destination": {"host": "cart", "subset": "v1"}}]}]})
    dr = IstioObject("DestinationRule", "cart", "shop", spec={
        "host": "cart", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]})
    services = tuple(_service("cart", c) for c in CLUSTERS)
    both = _inventory(*_both("web-v1"), *_both("cart-v1"), services=services,
                      istio=tuple(replace(o, cluster=c) for c in CLUSTERS for o in (vs, dr)))
    assert {k: [c.code for c in v.checks] for k, v in validate(both).items() if v.checks} == {}
    east_rule = _inventory(*_both("web-v1"), *_both("cart-v1"), services=services,
                           istio=(*(replace(vs, cluster=c) for c in CLUSTERS), replace(dr, cluster="east")))
    found = validate(east_rule)[("VirtualService", "shop", "cart")]
    assert [c.code for c in found.checks] == ["KIA1107"], found.checks


def test_an_empty_node_graph_says_the_nodes_own_cluster_has_no_such_workload() -> None:
    """An inventory merged from east and west, pay-v1 running in east only: the node graph of west's
    pay-v1 (meshdesk graph --node-cluster west) was empty without a word, as east's pay-v1 made it
    'found'. It says west's shop has no such workload; east's is found."""
    from meshdesk.mesh.node_focus import missing_focus
    from meshdesk.mesh.request import NodeFocus

    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), _workload("pay-v1", "east"))
    assert missing_focus(NodeFocus("shop", workload="pay-v1", cluster="west"), inv) == \
        "shop in cluster west has no workload pay-v1 (workloads: cart-v1, web-v1)"
    assert missing_focus(NodeFocus("shop", workload="pay-v1", cluster="east"), inv) == ""
    assert missing_focus(NodeFocus("shop", workload="pay-v1"), inv) == ""
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload",
                       node=NodeFocus("shop", workload="pay-v1", cluster="west")))
    assert not g.edges


def test_a_principal_whose_service_account_runs_in_another_cluster_is_said_so_not_missing() -> None:
    """Kiali's KIA0107: an AuthorizationPolicy in west allowing shop's "pay" service account, whose pods run
    in east only. Validated among west's objects alone, it was an error (KIA0106, no pod runs as it); it is
    said to run in another cluster, as Kiali says. One no cluster runs as stays KIA0106."""
    from dataclasses import replace

    from meshdesk.mesh.validations import validate

    def with_account(w: Workload) -> Workload:
        return replace(w, pods=[replace(p, service_account=w.labels["app"]) for p in w.pods])

    ap = IstioObject("AuthorizationPolicy", "cart", "shop", cluster="west", spec={
        "selector": {"matchLabels": {"app": "cart"}},
        "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/pay",
                                                       "cluster.local/ns/shop/sa/ghost"]}}]}]})
    inv = _inventory(*(with_account(w) for w in (*_both("cart-v1"), _workload("pay-v1", "east"))),
                     services=tuple(_service("cart", c) for c in CLUSTERS), istio=(ap,))
    checks = validate(inv)[("AuthorizationPolicy", "shop", "cart")].checks
    by_path = {c.path: (c.code, c.severity, c.message) for c in checks}
    pay, ghost = "spec/rules[0]/from[0]/source/principals[0]", "spec/rules[0]/from[0]/source/principals[1]"
    assert by_path[pay][:2] == ("KIA0107", "info") and "another cluster (east)" in by_path[pay][2]
    assert by_path[ghost][0] == "KIA0106"
    # the same policy in east, where pay runs: nothing to say of it
    east = validate(replace(inv, istio=[replace(ap, cluster="east")]))[("AuthorizationPolicy", "shop", "cart")].checks
    assert [c.code for c in east] == ["KIA0106"]


def test_traffic_policies_of_west_name_a_caller_in_east_as_east_s_not_as_a_namespace_to_add() -> None:
    """West's shop gets its traffic policies; east's web-v1 calls west's cart-v1 with no principal reported
    (plain text). Its service account is east's to know: the note told the user to "add namespace shop to the
    graph", which it shows already; it now says web-v1 runs in cluster east."""
    from meshdesk.mesh.graph.context import inventory_part
    from meshdesk.mesh.traffic_policies import compute

    calls = [Sample(s.metric, {**s.labels, "source_cluster": "east", "destination_cluster": "west"}, s.value)
             for s in (http("web-v1", "cart-v1", 1),)]
    inv = _inventory(_workload("web-v1", "east"), *_both("cart-v1"))
    graph = build(snapshot(calls, inventory=inv, graphType="workload"))
    west = inventory_part(inv, graph.clusters())("west")
    assert west is not None
    policies = compute(graph, west, "shop", "west")
    allow = next(o for o in policies.objects if o.name == "cart-v1" and o.kind == "AuthorizationPolicy")
    assert allow.spec["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/default"]
    said = "\n".join(policies.notes)
    assert "add namespace shop to the graph" not in said, said
    assert "shop/web-v1 runs in cluster east" in said, said
