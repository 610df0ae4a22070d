"""Health pass: Kiali's default tolerances and the health.kiali.io/rate annotation."""

from __future__ import annotations

import pytest

from meshdesk.mesh.graph import build, health, model
from meshdesk.mesh.inventory import Container, Inventory, Namespace, Pod, Workload
from tests.graph_samples import grpc, http, snapshot
from tests.test_graph_traffic import edge, node


def status_of(samples: list, label: str = "cart-v1", **kw: object) -> str:
    g = build(snapshot(samples, **kw))
    h = node(g, label).health
    assert h is not None
    return h.status


def test_ten_percent_5xx_is_failure_less_is_degraded_none_is_healthy() -> None:
    assert status_of([http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "500")]) == model.FAILURE
    assert status_of([http("web-v1", "cart-v1", 95), http("web-v1", "cart-v1", 5, "502")]) == model.DEGRADED
    assert status_of([http("web-v1", "cart-v1", 100)]) == model.HEALTHY


def test_4xx_degraded_at_10_percent_and_failure_at_20() -> None:
    assert status_of([http("web-v1", "cart-v1", 95), http("web-v1", "cart-v1", 5, "404")]) == model.HEALTHY
    assert status_of([http("web-v1", "cart-v1", 85), http("web-v1", "cart-v1", 15, "404")]) == model.DEGRADED
    assert status_of([http("web-v1", "cart-v1", 75), http("web-v1", "cart-v1", 25, "403")]) == model.FAILURE


def test_grpc_errors_and_no_response() -> None:
    assert status_of([grpc("web-v1", "cart-v1", 80), grpc("web-v1", "cart-v1", 20, status="14")]) == model.FAILURE
    assert status_of([http("web-v1", "cart-v1", 88), http("web-v1", "cart-v1", 12, "0", flags="DC")]) \
        == model.FAILURE


def test_edge_health_and_caller_outbound_health() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "500"),
                        http("web-v1", "pay-v1", 100)]))
    assert edge(g, "web-v1", "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert edge(g, "web-v1", "pay-v1").health.status == model.HEALTHY  # type: ignore[union-attr]
    web = node(g, "web-v1").health
    assert web is not None and web.status == model.DEGRADED  # 10 of its 200 outbound requests failed
    assert web.error_ratio == pytest.approx(0.05)


def test_the_error_share_shown_is_the_largest_at_the_worst_status() -> None:
    """web's outbound HTTP has 0.5% 5xx and its outbound gRPC 5% errors: both degraded. The share the
    panel puts beside "Degraded" is the 5%, not the first one found (it read "Degraded (0.5% errors)"
    above a "grpc errors: 5.0%" reason)."""
    g = build(snapshot([http("web-v1", "cart-v1", 199), http("web-v1", "cart-v1", 1, "503"),
                        grpc("web-v1", "pay-v1", 95), grpc("web-v1", "pay-v1", 5, status="14")]))
    web = node(g, "web-v1").health
    assert web is not None and web.status == model.DEGRADED
    assert web.error_ratio == pytest.approx(0.05)
    assert len(web.reasons) == 2


def _inventory(annotation: str) -> Inventory:
    pod = Pod(name="cart-v1-abc", namespace="shop", phase="Running")
    cart = Workload(name="cart-v1", namespace="shop", labels={"app": "cart", "version": "v1"},
                    annotations={health.ANNOTATION: annotation}, pods=[pod], replicas=1, available=1)
    return Inventory(cluster="east", namespaces=[Namespace("shop")], workloads=[cart])


def test_annotation_replaces_default_tolerances() -> None:
    samples = [http("web-v1", "cart-v1", 85), http("web-v1", "cart-v1", 15, "404")]
    assert status_of(samples) == model.DEGRADED
    g = build(snapshot(samples, inventory=_inventory("4XX,30,50,http,inbound")))
    cart = node(g, "cart-v1")
    assert cart.health is not None and cart.health.status == model.HEALTHY
    assert cart.health_annotation == "4XX,30,50,http,inbound"
    strict = build(snapshot(samples, inventory=_inventory("4XX,1,10,http,inbound")))
    assert node(strict, "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]


def test_bad_annotation_falls_back_to_defaults_and_says_so() -> None:
    samples = [http("web-v1", "cart-v1", 85), http("web-v1", "cart-v1", 15, "404")]
    g = build(snapshot(samples, inventory=_inventory("4XX,50,20,http")))
    assert node(g, "cart-v1").health.status == model.DEGRADED  # type: ignore[union-attr]
    assert any("health.kiali.io/rate" in w and "expected CODE" in w for w in g.warnings)


def test_parse_annotation_several_entries() -> None:
    tols, problems = health.parse_annotation("5XX,5,10,http,inbound; 4xx,10,20,http,.* ;bad")
    assert len(tols) == 2 and len(problems) == 1
    # thresholds are plain numbers, as Kiali reads them: "1_0" is no ten
    assert health.parse_annotation("5XX,1_0,20,http,inbound") == ([], ["'5XX,1_0,20,http,inbound': thresholds must be numbers"])
    assert len(health.parse_annotation("5XX,.5,1e1,http,inbound")[0]) == 1
    assert tols[0].code.match("503") and not tols[0].code.match("404")
    assert tols[1].code.match("404") and tols[1].direction.match("outbound")


def test_workload_without_available_pods_is_failure() -> None:
    inv = _inventory("")
    inv.workloads[0].available = 0
    g = build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv))
    assert node(g, "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]


def test_pod_reason_only_when_pods_are_missing() -> None:
    inv = _inventory("")
    inv.workloads[0].available = 0
    g = build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv))
    assert node(g, "cart-v1").health.reasons == ["workload has fewer available pods than wanted"]  # type: ignore[union-attr]
    # an idle workload with all its pods: healthy, and nothing claims a pod is missing
    inv.workloads[0].available = 1
    g = build(snapshot([http("web-v1", "pay-v1", 10)], inventory=inv, includeIdleNodes=True))
    idle = node(g, "cart-v1")
    assert idle.is_idle and idle.health is not None
    assert idle.health.status == model.HEALTHY and idle.health.reasons == []


def test_service_annotation_applies_to_service_nodes() -> None:
    from meshdesk.mesh.inventory import Service

    inv = Inventory(cluster="east", namespaces=[Namespace("shop")],
                    services=[Service("cart", "shop", annotations={health.ANNOTATION: "5XX,40,60,http,.*"})])
    samples = [http("web-v1", "cart-v1", 80), http("web-v1", "cart-v1", 20, "500")]
    g = build(snapshot(samples, inventory=inv, injectServiceNodes=True))
    svc = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert svc is not None and svc.health is not None and svc.health.status == model.HEALTHY
    assert node(g, "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]


def test_reasons_name_direction_protocol_code_class_and_share() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 80), http("web-v1", "cart-v1", 20, "503"),
                        http("web-v1", "pay-v1", 70), http("web-v1", "pay-v1", 30, "404")]))
    cart = edge(g, "web-v1", "cart-v1").health
    assert cart is not None and cart.reasons == ["inbound http 5XX: 20.0%"]
    assert cart.error_ratio == pytest.approx(0.2)
    web = node(g, "web-v1").health
    # outbound over both edges: 20 of 200 are 5xx (10 %: Failure), 30 of 200 are 4xx (15 %: Degraded)
    assert web is not None and web.status == model.FAILURE
    assert web.reasons == ["outbound http 5XX: 10.0%", "outbound http 4XX: 15.0%"]
    assert web.error_ratio == pytest.approx(0.10)


def test_grpc_errors_and_no_response_are_named_in_words() -> None:
    """Kiali's default tolerances match gRPC statuses and "no response" with patterns; a reason names
    them in words rather than as the regular expression ("outbound grpc ^[1-9]$|^1[0-6]$: 2.3%")."""
    g = build(snapshot([http("web-v1", "cart-v1", 90, protocol="grpc"),
                        http("web-v1", "cart-v1", 10, protocol="grpc", grpc_status="14"),
                        http("web-v1", "pay-v1", 95), http("web-v1", "pay-v1", 5, "0", flags="DC")]))
    web = node(g, "web-v1").health
    assert web is not None
    assert "outbound grpc errors (status 1-16): 10.0%" in web.reasons
    assert "outbound http no response: 5.0%" in web.reasons
    assert not any("^" in r or "$" in r for r in web.reasons)


def test_a_tiny_5xx_share_degrades_and_says_so_without_reading_zero() -> None:
    # Kiali's 5xx tolerance degrades past 0%: one failed request in 4,000 is enough
    g = build(snapshot([http("web-v1", "cart-v1", 3999), http("web-v1", "cart-v1", 1, "503")]))
    cart = edge(g, "web-v1", "cart-v1").health
    assert cart is not None and cart.status == model.DEGRADED
    assert cart.reasons == ["inbound http 5XX: <0.1%"]


def test_a_node_with_its_own_tolerances_next_to_nodes_with_the_defaults() -> None:
    samples = [http("web-v1", "cart-v1", 85), http("web-v1", "cart-v1", 15, "404"),
               http("cart-v1", "pay-v1", 95), http("cart-v1", "pay-v1", 5, "404"),
               http("web-v1", "pay-v1", 50), http("web-v1", "pay-v1", 50, "500")]
    g = build(snapshot(samples, inventory=_inventory("4XX,1,3,http,.*")))
    cart = node(g, "cart-v1").health
    assert cart is not None and cart.status == model.FAILURE  # 15 % inbound, 5 % outbound 4xx
    assert cart.reasons == ["inbound http 4XX: 15.0%", "outbound http 4XX: 5.0%"]
    pay = node(g, "pay-v1").health
    assert pay is not None and pay.status == model.FAILURE  # defaults: 50 of 150 are 5xx
    assert pay.reasons == ["inbound http 5XX: 25.0%"]
    assert edge(g, "web-v1", "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    # as Kiali, an edge is judged by the worse of its target's inbound and its source's outbound
    # tolerances: pay's defaults let 5 % 404s pass, cart's own (4xx failing at 3 %) do not
    assert edge(g, "cart-v1", "pay-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert edge(g, "cart-v1", "pay-v1").health.reasons == ["outbound http 4XX: 5.0%"]  # type: ignore[union-attr]


def test_tolerances_with_the_same_code_text_give_a_reason_each() -> None:
    samples = [http("web-v1", "cart-v1", 80), http("web-v1", "cart-v1", 20, "500")]
    g = build(snapshot(samples, inventory=_inventory("5XX,1,2,http,inbound;5XX,5,30,http,inbound")))
    cart = node(g, "cart-v1").health
    assert cart is not None and cart.status == model.FAILURE
    assert cart.reasons == ["inbound http 5XX: 20.0%", "inbound http 5XX: 20.0%"]
    # the edge: cart's inbound reasons, then its caller's (default) outbound one
    assert edge(g, "web-v1", "cart-v1").health.reasons == cart.reasons + ["outbound http 5XX: 20.0%"]  # type: ignore[union-attr]


def test_scaled_to_zero_is_not_ready_and_more_pods_than_wanted_is_degraded() -> None:
    """Kiali's pod rules: a Deployment scaled to zero is "Not Ready" (between Healthy and Degraded), one
    with more available pods than it wants is degraded."""
    inv = _inventory("")
    inv.workloads[0].replicas = inv.workloads[0].available = 0
    g = build(snapshot([http("web-v1", "pay-v1", 10)], inventory=inv, includeIdleNodes=True))
    cart = node(g, "cart-v1").health
    assert cart is not None and cart.status == model.NOT_READY and cart.reasons == ["workload is scaled to zero"]
    inv.workloads[0].replicas, inv.workloads[0].available = 1, 2
    g = build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv))
    assert node(g, "cart-v1").health.status == model.DEGRADED  # type: ignore[union-attr]


@pytest.mark.parametrize(("desired", "available", "current", "status"), [
    (2, 2, 3, model.FAILURE),  # as many available as wanted, and one more pod that is not: pending
    (2, 2, -1, model.HEALTHY),  # the controller did not say how many pods it runs: no such judgement
    (3, 1, 3, model.DEGRADED),  # fewer available than wanted
    (3, 1, 1, model.DEGRADED),
    (2, 0, 2, model.FAILURE),  # none available
    (2, 3, 3, model.DEGRADED),  # more than wanted
    (2, 2, 2, model.HEALTHY),
])
def test_pod_counts_follow_kialis_ratio_check(desired: int, available: int, current: int, status: str) -> None:
    """Kiali judges a workload's pods by wanted, current (what its controller runs) and available."""
    inv = _inventory("")
    w = inv.workloads[0]
    w.replicas, w.available, w.current = desired, available, current
    g = build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv))
    cart = node(g, "cart-v1").health
    assert cart is not None and cart.status == status
    if (desired, available, current) == (2, 2, 3):
        assert cart.reasons == ["workload has pods that are not available (pending)"]


def test_proxies_out_of_sync_degrade_a_workload_but_not_a_gateway() -> None:
    """Kiali's proxy check: two pods wanted and available, one proxy in sync with istiod, is Degraded
    and says how many are not; unknown sync state (no state read) and gateways are not judged."""
    inv = _inventory("")
    cart = inv.workloads[0]
    sidecar = Container("istio-proxy", ready=True)
    synced = dict.fromkeys(("CDS", "EDS", "LDS", "RDS"), "Synced")
    cart.pods = [Pod(name=f"cart-v1-{i}", namespace="shop", phase="Running", containers=[sidecar],
                     proxy_sync=dict(synced, EDS="Stale") if i else dict(synced)) for i in range(2)]
    cart.replicas = cart.available = cart.current = 2

    def cart_health() -> model.Health:
        h = node(build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv)), "cart-v1").health
        assert h is not None
        return h

    h = cart_health()
    assert h.status == model.DEGRADED and h.reasons == ["1 proxy not in sync with istiod"]
    cart.pods[1].proxy_sync = dict(synced)
    assert cart_health().status == model.HEALTHY
    cart.pods[1].proxy_sync = {}  # one state unknown: counted as not in sync, as Kiali counts it
    assert cart_health().status == model.DEGRADED
    for p in cart.pods:
        p.proxy_sync = {}
    assert cart_health().status == model.HEALTHY  # nothing known: no judgement
    cart.pods[0].proxy_sync = dict(synced, CDS="NOT_SENT")
    assert cart_health().status == model.DEGRADED
    # as Kiali asks: a StatefulSet with a pod without a sidecar is not judged on its proxies
    cart.kind, cart.pods[1].containers = "StatefulSet", []
    assert cart_health().status == model.HEALTHY
    cart.kind, cart.pods[1].containers = "Deployment", [sidecar]
    cart.labels["istio"] = "ingressgateway"  # nor is a gateway
    assert cart_health().status == model.HEALTHY


def test_an_app_box_is_judged_on_the_requests_of_all_its_versions() -> None:
    """The cart box stands for the whole app: v1 answers all its 50 requests, v2 fails some of its 10,
    and the app fails that share of all 60 (5xx: Degraded above 0, a Failure from 10%). Kiali's box
    takes its first version's requests only, so it showed v1's health whichever version failed. The
    Apps list says the same as the box."""
    from meshdesk.ui.lists import APPS, build_rows

    def box_and_list(v2_failing: float) -> tuple[str, str]:
        inv = _inventory("")
        inv.workloads.append(Workload(name="cart-v2", namespace="shop", labels={"app": "cart", "version": "v2"},
                                      pods=[Pod(name="cart-v2-x", namespace="shop", phase="Running")], replicas=1,
                                      available=1))
        g = build(snapshot([http("web-v1", "cart-v1", 50), http("web-v1", "cart-v2", 10 - v2_failing),
                            http("web-v1", "cart-v2", v2_failing, "503")], inventory=inv, graphType="versionedApp"))
        v1 = next(n for n in g.nodes.values() if n.node_type == model.NODE_APP and n.app == "cart"
                  and n.version == "v1")
        assert v1.health is not None and v1.health.status == model.HEALTHY
        assert v1.parent is not None
        box = g.nodes[v1.parent]
        assert box.health is not None
        row = next(r for r in build_rows(g, inv, {})[APPS] if r.name == "cart")
        return box.health.status, row.health

    assert box_and_list(0) == (model.HEALTHY, model.HEALTHY)
    assert box_and_list(3) == (model.DEGRADED, model.DEGRADED)  # 3 of 60: 5%
    assert box_and_list(9) == (model.FAILURE, model.FAILURE)  # 9 of 60: 15%


def test_a_versioned_app_is_judged_on_requests_and_its_app_box_on_every_pod() -> None:
    """As Kiali: in a versioned app graph, cart v1 with no pod available but answering every request
    is healthy as a node; the cart box, which stands for the whole app, shows the failure."""
    inv = _inventory("")
    v2 = Workload(name="cart-v2", namespace="shop", labels={"app": "cart", "version": "v2"},
                  pods=[Pod(name="cart-v2-x", namespace="shop", phase="Running")], replicas=1, available=0)
    inv.workloads.append(v2)
    g = build(snapshot([http("web-v1", "cart-v1", 10), http("web-v1", "cart-v2", 10)], inventory=inv,
                       graphType="versionedApp"))
    v2_node = next(n for n in g.nodes.values() if n.node_type == model.NODE_APP and n.version == "v2")
    assert v2_node.health is not None and v2_node.health.status == model.HEALTHY
    box = g.nodes[v2_node.parent]
    assert box.box == model.BOX_APP and box.health is not None and box.health.status == model.FAILURE
    # in the app graph the cart node is the whole app: its pods count
    g = build(snapshot([http("web-v1", "cart-v1", 10), http("web-v1", "cart-v2", 10)], inventory=inv, graphType="app"))
    cart = next(n for n in g.nodes.values() if n.node_type == model.NODE_APP and n.app == "cart")
    assert cart.health is not None and cart.health.status == model.FAILURE


def test_only_workload_and_service_annotations_set_tolerances() -> None:
    """Kiali reads health.kiali.io/rate from workloads and services; an app node keeps the defaults."""
    samples = [http("web-v1", "cart-v1", 85), http("web-v1", "cart-v1", 15, "404")]
    inv = _inventory("4XX,30,50,http,inbound")
    assert node(build(snapshot(samples, inventory=inv)), "cart-v1").health.status == model.HEALTHY  # type: ignore[union-attr]
    app = build(snapshot(samples, inventory=inv, graphType="app"))
    cart = next(n for n in app.nodes.values() if n.app == "cart")
    assert cart.health is not None and cart.health.status == model.DEGRADED  # 15 % 4xx, by the defaults


def test_an_edge_takes_the_worse_of_its_ends_tolerances() -> None:
    """cart's own rule covers inbound 4xx only. Its incoming edge with 20% 5xx fails by the caller's
    default outbound rule; traffic that no rule of either end covers is healthy, not NA."""
    samples = [http("web-v1", "cart-v1", 80), http("web-v1", "cart-v1", 20, "500")]
    g = build(snapshot(samples, inventory=_inventory("4XX,10,20,http,inbound")))
    assert edge(g, "web-v1", "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert node(g, "cart-v1").health.status == model.HEALTHY  # type: ignore[union-attr]
    inv = _inventory("5XX,10,20,grpc,.*")  # rules for gRPC only, at both ends
    inv.workloads.append(Workload(name="web-v1", namespace="shop", labels={"app": "web", "version": "v1"},
                                  annotations={health.ANNOTATION: "5XX,10,20,grpc,.*"},
                                  pods=[Pod(name="web-v1-x", namespace="shop", phase="Running")],
                                  replicas=1, available=1))
    g = build(snapshot([http("web-v1", "cart-v1", 10)], inventory=inv))
    assert node(g, "cart-v1").health.status == model.HEALTHY  # type: ignore[union-attr]  # NA requests, pods fine
    e = edge(g, "web-v1", "cart-v1").health
    assert e is not None and e.status == model.HEALTHY


def test_a_service_graph_is_judged_before_it_is_reduced() -> None:
    """Kiali judges health before reducing a service graph: service b, whose own requests all
    succeed, stays Healthy although its workload's calls to c fail; c fails; the joined b -> c edge
    keeps the verdict of the workload edge it was made from."""
    g = build(snapshot([http(None, "b-v1", 100), http("b-v1", "c-v1", 50), http("b-v1", "c-v1", 50, "503")],
                       graphType="service"))
    b, c = node(g, "b"), node(g, "c")
    assert b.node_type == c.node_type == model.NODE_SERVICE
    assert b.health is not None and b.health.status == model.HEALTHY
    assert c.health is not None and c.health.status == model.FAILURE
    joined = edge(g, "b", "c")
    assert joined.health is not None and joined.health.status == model.FAILURE
    assert joined.rates["http"] == pytest.approx(100)  # the reduction itself is unchanged
    # the same traffic as a workload graph judges the same service nodes the same way
    w = build(snapshot([http(None, "b-v1", 100), http("b-v1", "c-v1", 50), http("b-v1", "c-v1", 50, "503")],
                       injectServiceNodes=True))
    assert node(w, "b").health.status == model.HEALTHY  # type: ignore[union-attr]


def test_a_tcp_edge_with_traffic_is_healthy_and_an_operation_has_no_health() -> None:
    from tests.graph_samples import tcp

    g = build(snapshot([tcp("web-v1", "db-v1", 500, reporter="source"), tcp("web-v1", "idle-v1", 0, reporter="source")],
                       includeIdleEdges=True))
    assert edge(g, "web-v1", "db-v1", "tcp").health.status == model.HEALTHY  # type: ignore[union-attr]
    idle = edge(g, "web-v1", "idle-v1", "tcp").health
    assert idle is None or idle.status == model.NO_HEALTH
    assert node(g, "db-v1").health is None or node(g, "db-v1").health.status == model.NO_HEALTH  # type: ignore[union-attr]
    ops = build(snapshot([http("a-v1", "b-v1", 90, request_operation="GetX"),
                          http("a-v1", "b-v1", 10, "503", request_operation="GetX")],
                         appenders=("aggregateNode", "health")))
    op = next(n for n in ops.nodes.values() if n.node_type == model.NODE_AGGREGATE)
    assert op.health is None
    into = [e for e in ops.edges.values() if e.target == op.id]
    assert into and all(e.health is not None and e.health.status == model.FAILURE for e in into)


def test_spaces_inside_an_annotation_entry_are_read_as_kiali_reads_them_and_said() -> None:
    """Kiali trims only the thresholds: " http" is a protocol no traffic has, so the entry judges
    nothing (the node's failing requests count as Healthy there too); the warning says why."""
    samples = [http("web-v1", "cart-v1", 50), http("web-v1", "cart-v1", 50, "503")]
    g = build(snapshot(samples, inventory=_inventory("5XX, 0 , 10, http,inbound")))
    assert node(g, "cart-v1").health.status == model.HEALTHY  # type: ignore[union-attr]
    assert any("spaces around 'http'" in w and "matches nothing" in w for w in g.warnings)
    g = build(snapshot(samples, inventory=_inventory("5XX, 0 , 10,http,inbound")))  # thresholds may be spaced
    assert node(g, "cart-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert not any("spaces" in w for w in g.warnings)


def test_an_app_graphs_app_box_has_its_apps_health() -> None:
    """In an app graph the app node is the whole app: its box shows that health (it said n/a)."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    g = build(DemoCluster(clock=lambda: 1_790_000_000.0).snapshot(GraphRequest(graphType="app", namespaces=("shop",))))
    boxes = [n for n in g.nodes.values() if n.node_type == model.NODE_BOX and n.box == "app"]
    assert boxes
    for box in boxes:
        app = next(n for n in g.nodes.values() if n.parent == box.id and n.node_type == model.NODE_APP)
        assert box.health is not None and app.health is not None and box.health.status == app.health.status
    assert any(b.health.status == model.DEGRADED for b in boxes)  # type: ignore[union-attr]


def test_a_service_graph_judges_each_service_by_its_workloads_own_responses() -> None:
    """The reduction adds other workloads' responses into a joined edge; the judging came after it and
    read c's inbound 5xx share as 7.3% (the real one is 11%). A workload behind two services gives
    both joined edges its verdict."""
    samples = [http(None, "b-v1", 100), http("b-v1", "c-v1", 78), http("b-v1", "c-v1", 22, "503"),
               http(None, "b-v2", 100), http("b-v2", "c-v1", 100, service="c")]
    per_version = build(snapshot(samples, graphType="versionedApp", injectServiceNodes=True))
    services = build(snapshot(samples, graphType="service"))
    c_versioned = next(n for n in per_version.nodes.values() if n.node_type == model.NODE_SERVICE and n.service == "c")
    assert node(services, "c").health.reasons == c_versioned.health.reasons  # type: ignore[union-attr]
    assert any("11.0%" in r for r in node(services, "c").health.reasons)  # type: ignore[union-attr]
    twice = build(snapshot([http(None, "b-v1", 100), http(None, "b-v1", 100, service="b2"),
                            http("b-v1", "c-v1", 50), http("b-v1", "c-v1", 50, "503")], graphType="service"))
    joined = {twice.nodes[e.source].service: e.health.status if e.health else None
              for e in twice.edges.values() if twice.nodes[e.target].service == "c"}
    assert joined == {"b": model.FAILURE, "b2": model.FAILURE}
