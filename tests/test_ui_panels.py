"""The side panel shows what a user needs about the selection, from the graph plus the inventory.

Data comes from the built-in demo cluster through the real graph builder."""

from __future__ import annotations

import pytest

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE, NODE_WORKLOAD, TrafficGraph
from meshdesk.mesh.inventory import Inventory, Workload
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.canvas.items import fmt_percent, fmt_rps
from meshdesk.ui.panels import SidePanel, error_share, host_matches, rules_for_host

pytestmark = pytest.mark.ui

NOW = 1_790_000_000.0


@pytest.fixture(scope="module")
def demo_data() -> tuple[TrafficGraph, Inventory, TrafficGraph]:
    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="workload", namespaces=("hello", "shop")))
    svc_snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("hello", "shop")))
    assert snap.inventory is not None
    return build(snap), snap.inventory, build(svc_snap)


@pytest.fixture
def panel(qtbot, demo_data) -> SidePanel:
    p = SidePanel()
    qtbot.addWidget(p)
    graph, inv, _ = demo_data
    p.set_data(graph, inv)
    return p


def test_host_matching_follows_istio_short_names() -> None:
    assert host_matches("reviews", "reviews", "shop", "shop")
    assert host_matches("reviews.shop.svc.cluster.local", "reviews", "bookinfo", "shop")
    assert not host_matches("reviews", "reviews", "other", "shop"), "a short host means the object's namespace"
    assert host_matches("*.shop.svc.cluster.local", "ratings", "x", "shop")
    assert not host_matches("*.shop.svc.cluster.local", "ratings", "x", "hello")
    assert host_matches("api.example.com", "api.example.com", "shop")
    assert host_matches("*", "anything", "shop", "hello")


def test_nothing_selected_summarises_the_namespaces(panel: SidePanel, demo_data) -> None:
    _graph, inv, _ = demo_data
    assert panel.kind == "summary"
    text = panel.text()
    assert "Namespace shop" in text and "Namespace hello" in text
    shop_wl = len([w for w in inv.workloads if w.namespace == "shop"])
    assert f"Workloads\n{shop_wl}" in text
    missing = [w.name for w in inv.workloads if w.has_sidecar is False]
    assert missing and all(m in text for m in missing), "workloads without a sidecar are named"
    assert "Control plane\nistiod\n" in text and "\nIstio\n" not in text  # Istio is there: its control plane says so
    graph = _graph
    # as Kiali's graph totals, an injected service node's onward edge is left out: it repeats the edge
    # into the service (the list named each failure twice)
    listed = [e for e in graph.edges.values() if e.rate > 0 and not graph.nodes[e.source].is_injected]
    worst = max(listed, key=error_share)
    assert error_share(worst) > 0
    section = text.split("Highest error shares\n", 1)[1]
    first = section.splitlines()[0]
    assert first.startswith(f"{graph.nodes[worst.source].label} → {graph.nodes[worst.target].label}: ")
    injected = {n.label for n in graph.nodes.values() if n.is_injected}
    assert injected and not any(line.split(" → ")[0] in injected for line in section.splitlines()[:5])
    busiest = max((e for e in listed if e.protocol != "tcp"), key=lambda e: e.rate)
    assert text.split("Busiest edges\n", 1)[1].splitlines()[0].startswith(graph.nodes[busiest.source].label)


def test_the_summary_counts_each_namespaces_istio_config_and_its_findings(qtbot) -> None:  # type: ignore[no-untyped-def]
    """As Kiali's overview: per namespace, how many Istio objects and how many with errors or warnings;
    said when some of its config could not be read."""
    import dataclasses

    from meshdesk.mesh.inventory import IstioObject
    from meshdesk.mesh.validations import validate

    snap = DemoCluster(clock=lambda: NOW).snapshot(GraphRequest(namespaces=("hello",)))
    inv = snap.inventory
    assert inv is not None
    graph = build(snap)
    panel = SidePanel()
    qtbot.addWidget(panel)
    objects = len([o for o in inv.istio if o.namespace == "hello"])
    graph.validations = validate(inv)
    panel.set_data(graph, inv)
    assert f"Istio config\n{objects} objects, all valid\n" in panel.text()
    # a route to a subset no DestinationRule has (a warning), one through a Gateway that does not
    # exist (an error), and the namespace's AuthorizationPolicies could not be read
    route = {"hosts": ["helloworld"], "http": [{"route": [{"destination": {"host": "helloworld", "subset": "v9"}}]}]}
    broken = dataclasses.replace(inv, istio=[
        *inv.istio, IstioObject("VirtualService", "typo", "hello", spec=route),
        IstioObject("VirtualService", "edge", "hello", spec={**route, "hosts": ["hello.example.com"],
                                                             "gateways": ["nowhere"]})],
        hidden={**inv.hidden, "hello/authorizationpolicies": "forbidden: authorizationpolicies is forbidden"})
    graph.validations = validate(broken)
    panel.set_data(graph, broken)
    assert (f"Istio config\n{objects + 2} objects: 1 with errors, 1 with warnings (not all could be read)\n"
            in panel.text())
    # without validations (a graph made outside the app's poller) the row is left out
    graph.validations = None
    panel.set_data(graph, inv)
    assert "Istio config" not in panel.text()


def test_a_service_graphs_summary_lists_its_service_to_service_edges(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A service graph is reduced from an injected one (its service nodes still marked injected): its
    edges were all left out of the busiest and failing lists, which then named the gateway alone."""
    snap = DemoCluster(clock=lambda: NOW).snapshot(GraphRequest(graphType="service", namespaces=("shop",)))
    graph = build(snap)
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, snap.inventory)
    text = p.text()
    between = [e for e in graph.edges.values() if e.rate > 0 and e.protocol == "http"
               and graph.nodes[e.source].node_type == graph.nodes[e.target].node_type == NODE_SERVICE]
    assert between
    busiest = text.split("Busiest edges\n", 1)[1].splitlines()[:5]
    top = max(between, key=lambda e: e.rate)
    assert any(line.startswith(f"{graph.nodes[top.source].label} → {graph.nodes[top.target].label}: ")
               for line in busiest), busiest
    assert "Highest error shares" in text


def test_workload_panel_shows_pods_sidecar_services_and_traffic(panel: SidePanel, demo_data) -> None:
    graph, inv, _ = demo_data
    node = next(n for n in graph.nodes.values() if n.node_type == NODE_WORKLOAD and n.workload.startswith("reviews")
                and any(True for _ in graph.in_edges(n.id)))
    panel.show_selection([node.id])
    assert panel.kind == "workload"
    text = panel.text()
    w = inv.workload(node.namespace, node.workload)
    assert w is not None
    assert f"Workload {w.name}" in text and w.kind in text
    pod = w.pods[0]
    ready, total = pod.ready_count
    assert f"{pod.name}: {ready}/{total} ready" in text
    assert "sidecar" in text and "Services\nreviews" in text
    assert "Inbound traffic\nfrom " in text
    assert "Outbound traffic" in text


def test_service_panel_lists_workloads_and_the_rules_that_apply(panel: SidePanel, demo_data) -> None:
    _g, inv, app_graph = demo_data
    panel.set_data(app_graph, inv)
    node = app_graph.find_node(node_type=NODE_SERVICE, service="reviews", namespace="shop")
    assert node is not None
    panel.show_selection([node.id])
    assert panel.kind == "service"
    text = panel.text()
    assert "Service reviews" in text
    assert "shop/reviews" in text.split("VirtualServices", 1)[1], "the reviews VirtualService applies"
    assert "DestinationRules\nshop/reviews" in text
    assert "storefront" not in text, "a gateway VS routing elsewhere does not apply to reviews"
    for w in inv.workloads_for_service(inv.service("shop", "reviews")):
        assert w.name in text


def test_service_entry_panel(panel: SidePanel, demo_data) -> None:
    _g, inv, app_graph = demo_data
    panel.set_data(app_graph, inv)
    node = next((n for n in app_graph.nodes.values() if n.is_service_entry is not None), None)
    if node is None:
        pytest.skip("the graph builder's serviceEntry pass has not marked a ServiceEntry node yet")
    panel.show_selection([node.id])
    assert panel.kind == "serviceentry"
    text = panel.text()
    assert "MESH_EXTERNAL" in text and "DNS" in text
    assert "payments-api-tls" in text, "the DestinationRule for the external host applies"


def test_edge_panel_shows_protocol_rates_and_errors(panel: SidePanel, demo_data) -> None:
    graph, _inv, _ = demo_data
    edge = max((e for e in graph.edges.values() if e.protocol == "http"), key=lambda e: e.rate)
    panel.show_selection([edge.id])
    assert panel.kind == "edge"
    text = panel.text()
    assert graph.nodes[edge.source].label in text and graph.nodes[edge.target].label in text
    assert "Protocol\nhttp" in text
    assert "Errors\n" in text and "mTLS\n" in text


def test_selection_that_disappears_falls_back_to_the_summary(panel: SidePanel, demo_data) -> None:
    graph, inv, _ = demo_data
    nid = next(iter(graph.nodes))
    panel.show_selection([nid])
    assert panel.kind != "summary"
    panel.set_data(TrafficGraph(request=graph.request), inv)
    assert panel.kind == "summary"


def test_the_summary_shown_again_is_the_graphs_of_the_moment(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """A click on the background shows the summary kept from before (not made again from every
    edge of a big mesh): it must be the summary of what is shown now, after a node was selected,
    after a refresh brought other traffic, and after the snapshot's namespaces were said."""
    from meshdesk.ui.panels import fmt_rate

    graph, inv, _ = demo_data
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    first = p.text()
    nid = next(n for n in graph.nodes if graph.nodes[n].node_type == NODE_WORKLOAD)
    p.show_selection([nid])
    assert p.kind != "summary"
    p.show_selection([])
    assert p.kind == "summary" and p.text() == first

    def total(g: TrafficGraph) -> str:
        moving = [e for e in g.edges.values() if e.rate > 0 and not e.is_idle and e.protocol == "http"]
        return fmt_rate(sum(e.rate for e in moving if not g.nodes[e.source].is_injected), "http")

    later = DemoCluster(clock=lambda: NOW + 3600).snapshot(GraphRequest(graphType="workload",
                                                                          namespaces=("hello", "shop")))
    refreshed = build(later)
    assert total(refreshed) != total(graph), "the demo's traffic an hour later differs"
    p.show_selection([nid])
    p.set_data(refreshed, later.inventory)
    p.show_selection([])
    assert f"Total\nhttp {total(refreshed)}," in p.text()
    p.snapshot_holds = ["hello"]
    p.show_selection([])
    assert "not in this snapshot: it was taken for hello" in p.text(), "shop was not recorded in the snapshot"


def test_rules_for_host_from_the_demo_inventory(demo_data) -> None:
    _g, inv, _ = demo_data
    vss, drs = rules_for_host(inv, "helloworld", "hello")
    assert [d.name for d in drs] == ["helloworld"]
    assert "hello-ingress" in [v.name for v in vss], "the ingress VS routes to helloworld"


def test_edge_panel_breaks_errors_down_by_code_and_host(panel: SidePanel, demo_data) -> None:
    graph, _inv, _ = demo_data
    edge = next((e for e in graph.edges.values() if e.rates.get("http5xx", 0) > 0), None)
    assert edge is not None, "the demo has failing HTTP calls"
    panel.show_selection([edge.id])
    text = panel.text()
    codes = sorted(c for c in edge.responses if c.startswith("5"))
    assert codes and all(f"code {c}" in text for c in codes)
    host = next(iter(edge.responses[codes[0]].hosts))
    assert "Hosts\n" in text and host in text
    share = 100 * sum(edge.rates.get(k, 0.0) for k in ("http4xx", "http5xx", "httpNoResponse")) / edge.rate
    assert f"Errors\n{fmt_percent(share)}" in text, "small shares too (written '<0.1%')"


def test_operation_panel(qtbot) -> None:
    from meshdesk.mesh.graph.model import NODE_AGGREGATE

    demo = DemoCluster(clock=lambda: NOW)
    req = GraphRequest(graphType="versionedApp", namespaces=("shop",),
                       appenders=("operationNodes", "responseTime", "health"))
    snap = demo.snapshot(req)
    graph = build(snap)
    op = next((n for n in graph.nodes.values() if n.node_type == NODE_AGGREGATE), None)
    assert op is not None, "the demo names its operations"
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, snap.inventory)
    p.show_selection([op.id])
    assert p.kind == "operation"
    text = p.text()
    assert f"Operation {op.aggregate_value}" in text and f"Service\n{op.service or '-'}" in text
    rate = sum(e.rate for e in graph.in_edges(op.id))
    assert rate > 0 and f"Rate\n{fmt_rps(rate)}" in text
    assert "Errors\n" in text  # no response time: the graph keeps none for an operation (test_panel_details)


def test_box_selection_shows_its_namespace_or_app_and_the_traffic_crossing_it(qtbot) -> None:
    from meshdesk.mesh.graph.model import BOX_APP, BOX_NAMESPACE, NODE_BOX

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("hello", "shop"),
                                      boxBy=("namespace", "app")))
    graph = build(snap)
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, snap.inventory)
    hello = next(n for n in graph.nodes.values() if n.node_type == NODE_BOX and n.box == BOX_NAMESPACE
                 and n.namespace == "hello")
    p.show_selection([hello.id])
    text = p.text()
    assert p.kind == "summary" and text.startswith("Namespace hello") and "Namespace shop" not in text
    inbound = text.split("Inbound traffic\n", 1)[1].split("Outbound traffic", 1)[0]
    assert inbound.startswith("Total: http "), "what enters the namespace from outside, in all"
    assert "from istio-ingressgateway" in inbound, "and edge by edge"
    reviews = next(n for n in graph.nodes.values() if n.node_type == NODE_BOX and n.box == BOX_APP
                   and n.app == "reviews")
    p.show_selection([reviews.id])
    text = p.text()
    assert p.kind == "app" and "reviews-v1" in text and "reviews-v3" in text
    assert "from productpage" in text.split("Inbound traffic\n", 1)[1]
    outbound = text.split("Outbound traffic\n", 1)[1]
    # two versions call ratings: each row says which one
    assert "to ratings (from reviews v2)" in outbound and "to ratings (from reviews v3)" in outbound


@pytest.mark.parametrize(("code", "failing", "written"),
                         [("500", 7.0, "0.1%"), ("500", 3.0, "<0.1%"), ("404", 30.0, "0.3%"), ("500", 0.0, None)])
def test_an_error_share_reads_the_same_everywhere(qtbot, code: str, failing: float, written: str | None) -> None:
    """The Errors row, the response code breakdown and the canvas's tooltip write one share alike
    (4xx count as errors, as in Kiali's httpPercentErr)."""
    from meshdesk.ui.canvas.items import edge_tooltip
    from tests.graph_samples import http, snapshot

    samples = [http("productpage-v1", "reviews-v1", 10000.0 - failing)]
    if failing:
        samples.append(http("productpage-v1", "reviews-v1", failing, code))
    graph = build(snapshot(samples))
    (edge,) = graph.edges.values()
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, None)
    p.show_selection([edge.id])
    text = p.text()
    if written is None:
        assert "Errors\n0.0%" in text and f"code {code}" not in text
        assert "Errors" not in edge_tooltip(edge, None)
        return
    assert f"Errors\n{written}" in text and f"code {code}\n{written}" in text
    assert f"Errors: {written}" in edge_tooltip(edge, None)


def test_a_service_panel_names_the_routing_its_istio_config_does(qtbot) -> None:
    """Kiali's node badges for a service's Istio config, written out: traffic shifting, a timeout and a
    circuit breaker from its VirtualService and DestinationRule; nothing when there is none."""
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.mesh.inventory import Container, IstioObject, Namespace, Pod, Workload
    from tests.graph_samples import http, snapshot

    def workload(name: str) -> Workload:
        app, _, ver = name.rpartition("-")
        pod = Pod(f"{name}-0", "shop", containers=[Container("main", ready=True), Container("istio-proxy", ready=True)])
        return Workload(name=name, namespace="shop", labels={"app": app, "version": ver}, pods=[pod])

    vs = IstioObject("VirtualService", "cart", "shop", spec={
        "hosts": ["cart"],
        "http": [{"route": [{"destination": {"host": "cart", "subset": "v1"}, "weight": 80},
                            {"destination": {"host": "cart", "subset": "v2"}, "weight": 20}], "timeout": "2s"}]})
    dr = IstioObject("DestinationRule", "cart", "shop", spec={
        "host": "cart.shop.svc.cluster.local", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 3}}})
    samples = [http("web-v1", "cart-v1", 5), http("web-v1", "pay-v1", 1)]
    for istio, expected in (([vs, dr], "Routing\ncircuit breaker, request routing, request timeout, traffic shifting"), ([], None)):
        inv = Inventory(cluster="east", namespaces=[Namespace("shop")], istio=istio,
                        workloads=[workload("web-v1"), workload("cart-v1"), workload("pay-v1")])
        graph = build(snapshot(samples, inventory=inv, injectServiceNodes=True))
        cart = graph.find_node(node_type=NODE_SERVICE, service="cart")
        assert cart is not None
        p = SidePanel()
        qtbot.addWidget(p)
        p.set_data(graph, inv)
        p.show_selection([cart.id])
        if expected is None:
            assert "Routing" not in p.text()
        else:
            assert expected in p.text()


def test_response_codes_read_in_the_protocols_words(qtbot) -> None:
    """gRPC responses are statuses with names; a request that got no response says so (it read "all",
    what a TCP edge's single line says); HTTP codes stay codes."""
    from meshdesk.ui.panels import response_label
    from tests.graph_samples import http, snapshot

    assert [response_label("grpc", c) for c in ("0", "14", "503")] == \
        ["status 0 (OK)", "status 14 (Unavailable)", "code 503"]
    assert (response_label("http", "-"), response_label("tcp", "-"), response_label("http", "404")) == \
        ("no response", "all", "code 404")
    graph = build(snapshot([http("web-v1", "cart-v1", 90.0), http("web-v1", "cart-v1", 10.0, "0", flags="UF")]))
    (edge,) = graph.edges.values()
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, None)
    p.show_selection([edge.id])
    assert "no response\n10.0%" in p.text() and "\nall\n" not in p.text()


def test_an_app_panel_names_the_workload_entries_behind_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A VM registered as cart v1 (a WorkloadEntry) shows in cart v1's details."""
    from meshdesk.mesh.inventory import IstioObject, Namespace, Workload
    from tests.graph_samples import http, snapshot

    vm = IstioObject("WorkloadEntry", "cart-vm-1", "shop", spec={"address": "10.0.0.9",
                                                                  "labels": {"app": "cart", "version": "v1"}})
    inv = Inventory(cluster="east", namespaces=[Namespace("shop")], istio=[vm],
                    workloads=[Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"})])
    graph = build(snapshot([http("web-v1", "cart-v1", 5)], inventory=inv, graphType="versionedApp"))
    cart = next(n for n in graph.nodes.values() if n.app == "cart")
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    p.show_selection([cart.id])
    assert "WorkloadEntries\ncart-vm-1" in p.text()


def test_the_ingress_gateway_says_what_it_is_and_what_it_serves(panel: SidePanel, demo_data) -> None:
    """Selected in the apps' graph (istio-system not among the namespaces), the ingress gateway's
    details name its role and the hosts its Gateway serves; an ordinary workload has no such row."""
    graph, _, app_graph = demo_data
    gateway = graph.find_node(workload="istio-ingressgateway")
    assert gateway is not None and gateway.is_outside
    panel.show_selection([gateway.id])
    assert "Role\nIngress gateway for *" in panel.text()
    panel.show_selection([graph.find_node(workload="productpage-v1").id])  # type: ignore[union-attr]
    assert "Ingress gateway" not in panel.text()
    panel.set_data(app_graph, demo_data[1])
    app = app_graph.find_node(app="istio-ingressgateway")
    assert app is not None
    panel.show_selection([app.id])
    assert "Role\nIngress gateway for *" in panel.text()


def test_a_gateway_api_gateway_names_its_hostnames(qtbot) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.mesh.inventory import IstioObject, Namespace, Workload
    from tests.graph_samples import http, snapshot

    inv = Inventory(cluster="east", namespaces=[Namespace("shop")], workloads=[
        Workload("shop-gateway-istio", "shop", labels={"gateway.networking.k8s.io/gateway-name": "shop-gateway"}),
        Workload("web-v1", "shop", labels={"app": "web", "version": "v1"})],
        k8s_gateways=[IstioObject("K8sGateway", "shop-gateway", "shop", spec={
            "listeners": [{"hostname": "shop.example.com"}, {"hostname": "api.example.com"}]})])
    graph = build(snapshot([http("shop-gateway-istio", "web-v1", 5)], inventory=inv))
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    p.show_selection([graph.find_node(workload="shop-gateway-istio").id])  # type: ignore[union-attr]
    assert "Role\nGateway API gateway for shop.example.com, api.example.com" in p.text()


def test_a_namespace_box_counts_its_own_nodes_and_edges(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Selecting the shop box says how many nodes are in shop and how many edges go in or out of them,
    as Kiali's namespace box panel does; it said the whole graph's counts."""
    snap = DemoCluster(clock=lambda: NOW).snapshot(GraphRequest(namespaces=("hello", "shop"), boxBy=("namespace",)))
    graph = build(snap)
    box = next(n for n in graph.nodes.values() if n.node_type == "box" and n.box == "namespace" and n.namespace == "shop")
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, snap.inventory)
    p.show_selection([box.id])
    in_shop = {nid for nid, n in graph.nodes.items() if n.node_type != "box" and n.namespace == "shop"}
    touching = [e for e in graph.edges.values() if e.source in in_shop or e.target in in_shop]
    assert len(in_shop) < len([n for n in graph.nodes.values() if n.node_type != "box"])
    assert f"{len(in_shop)} nodes, {len(touching)} edges" in p.text()


def _only_edge_panel(qtbot, graph: TrafficGraph) -> str:  # type: ignore[no-untyped-def]
    """The details panel's text for the graph's one edge."""
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, None)
    p.show_selection([next(iter(graph.edges))])
    return p.text()


def test_a_tcp_edge_shows_its_response_flags(qtbot) -> None:  # type: ignore[no-untyped-def]
    """TCP has one "code"; when some connections failed upstream (UF) the edge still says so."""
    from tests.graph_samples import snapshot, tcp

    sample = tcp("web-v1", "db-v1", 900.0)
    failed = tcp("web-v1", "db-v1", 100.0)
    failed.labels["response_flags"] = "UF"
    graph = build(snapshot([sample, failed]))
    text = _only_edge_panel(qtbot, graph)
    assert "Responses" in text and "UF 10.0%" in text


def test_a_node_panel_totals_its_traffic_per_protocol_with_the_error_share(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """As Kiali's rate tables: productpage v1's outbound HTTP adds up its HTTP edges, and the share of
    those requests that failed is their errors over that total."""
    _, inv, graph = demo_data
    node = next(n for n in graph.nodes.values() if n.app == "productpage" and n.version == "v1")
    http = [e for e in graph.out_edges(node.id) if e.protocol == "http"]
    assert len(http) > 1
    total = sum(e.rate for e in http)
    failed = sum(e.rate * error_share(e) for e in http)
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    p.show_selection([node.id])
    outbound = p.text().split("Outbound traffic\n", 1)[1]
    assert outbound.startswith(f"Total: http {fmt_rps(total)}, {fmt_percent(failed / total * 100)} errors")


def test_an_edge_panel_names_its_rate_classes_with_their_shares(qtbot) -> None:  # type: ignore[no-untyped-def]
    """As Kiali's rate bars: what no error class took is OK, and each class shows its share."""
    from tests.graph_samples import http, snapshot

    graph = build(snapshot([http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 6, "503"),
                            http("web-v1", "cart-v1", 4, "0", flags="DC")]))
    text = _only_edge_panel(qtbot, graph)
    classes = text.split("Rates by class\n", 1)[1]
    assert classes.startswith("OK\n90.0rps (90.0%)\n")
    assert "5xx\n6.00rps (6.0%)" in classes and "no response\n4.00rps (4.0%)" in classes
    assert "http5xx" not in text


def test_an_edge_panel_says_which_host_gave_which_code(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Two hosts behind an edge, one of them failing: the hosts list says which codes each answered
    (Kiali's hosts table has a row per code and host)."""
    from tests.graph_samples import http, snapshot

    ok = http("web-v1", None, 9.0, reporter="source", service="api", destination_service="a.example.com")
    bad = http("web-v1", None, 1.0, "503", reporter="source", service="api", destination_service="b.example.com")
    graph = build(snapshot([ok, bad]))
    text = _only_edge_panel(qtbot, graph)
    hosts = text.split("Hosts\n", 1)[1]
    assert "a.example.com (code 200 90.0%)" in hosts and "b.example.com (code 503 10.0%)" in hosts


def test_a_workload_with_a_pending_pod_says_how_many_run(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Two pods wanted and available, a third one its controller runs but that is not available (a
    rollout stuck on a pending pod): the panel says so next to its Failure."""
    cart = Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"}, replicas=2, available=2, current=3)
    text = _workload_panel_text(qtbot, cart)
    assert "Replicas\n2/2 available, 3 running" in text and "Failure" in text


def _workload_panel_text(qtbot, workload: Workload) -> str:  # type: ignore[no-untyped-def]
    """The panel's text for ``workload``'s node, web-v1 calling it."""
    from meshdesk.mesh.inventory import Namespace
    from tests.graph_samples import http, snapshot

    inv = Inventory(cluster="east", namespaces=[Namespace(workload.namespace)], workloads=[workload])
    graph = build(snapshot([http("web-v1", workload.name, 5, ns=workload.namespace)], inventory=inv))
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    p.show_selection([graph.find_node(workload=workload.name).id])  # type: ignore[union-attr]
    return p.text()


def test_a_workload_says_which_proxies_istiod_has_not_synced(qtbot) -> None:  # type: ignore[no-untyped-def]
    """istiod's sync state (read from /debug/syncz): the workload counts its proxies in sync and the
    pod whose endpoints are stale says which config is behind, next to the Degraded health."""
    from meshdesk.mesh.inventory import Container, Pod

    synced = dict.fromkeys(("CDS", "EDS", "LDS", "RDS"), "Synced")
    pods = [Pod(f"cart-v1-{i}", "shop", phase="Running", containers=[Container("istio-proxy", ready=True)],
                proxy_sync=dict(synced, EDS="Stale") if i else dict(synced)) for i in range(2)]
    cart = Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"}, pods=pods, replicas=2,
                    available=2, current=2)
    text = _workload_panel_text(qtbot, cart)
    assert "Proxy sync\n1 of 2 in sync with istiod" in text and "Degraded" in text
    assert "cart-v1-0: 1/1 ready, Running, sidecar yes, in sync with istiod" in text
    assert "cart-v1-1: 1/1 ready, Running, sidecar yes, not in sync with istiod (EDS Stale)" in text


def test_an_app_without_a_version_label_lists_its_workload(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """Istio names the version of a workload without a ``version`` label "latest": the app node
    "sleep latest" stands for workload sleep, whose panel lists it with its pods."""
    _, inv, versioned = demo_data
    node = next(n for n in versioned.nodes.values() if n.node_type == NODE_APP and n.app == "sleep")
    assert node.version == "latest"
    w = inv.workload(node.namespace, "sleep")
    assert w is not None and w.version == ""
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(versioned, inv)
    p.show_selection([node.id])
    text = p.text()
    assert f"Workloads\n{w.name} (no version): {len(w.pods)}/{len(w.pods)} pods ready" in text


def test_a_service_entry_with_tcp_traffic_only_totals_its_bytes(qtbot) -> None:  # type: ignore[no-untyped-def]
    """It said "0rps in total" above a row of TCP traffic."""
    from meshdesk.mesh.inventory import IstioObject
    from tests.graph_samples import snapshot, tcp
    from tests.ui_helpers import small_inventory

    inv = small_inventory("shop")
    inv.istio.append(IstioObject("ServiceEntry", "db", "shop", spec={
        "hosts": ["db.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": 5432, "name": "tcp-pg", "protocol": "TCP"}]}))
    s = tcp("cart-v1", None, 2048.0, service="db.example.com", destination_service="db.example.com",
            destination_service_namespace="unknown", reporter="source")
    g = build(snapshot([s], inv, graphType="workload"))
    se = next(n for n in g.nodes.values() if n.is_service_entry is not None)
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(g, inv)
    p.show_selection([se.id])
    section = p.text().split("Traffic from the mesh\n", 1)[1].splitlines()[0]
    assert "over TCP" in section and "rps" not in section


def test_the_control_plane_and_proxies_are_not_said_to_miss_sidecars(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """istiod and the gateways run no sidecar by design (Kiali flags none there); a gateway's or a
    waypoint's istio-proxy is the workload itself, not a sidecar."""
    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="workload", namespaces=("istio-system", "travel")))
    graph, inv = build(snap), snap.inventory
    assert inv is not None
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    p.show_selection([])
    summary = p.text()
    assert "none expected (the control plane's namespace)" in summary, summary
    gateway = next(n for n in graph.nodes.values() if n.workload == "istio-ingressgateway")
    p.show_selection([gateway.id])
    text = p.text()
    assert "Sidecar\nnone needed (it is a proxy itself)" in text and ", sidecar " not in text and ", proxy" in text
    waypoint = next(n for n in graph.nodes.values() if n.extra.get("isWaypoint"))
    p.show_selection([waypoint.id])
    assert ", sidecar " not in p.text() and ", proxy" in p.text()


def test_a_pod_says_why_its_containers_do_not_run_and_the_workload_when_it_was_made(qtbot) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.mesh.inventory import Container, Pod

    pod = Pod("cart-v1-abc", "shop", phase="Running", containers=[
        Container("cart", ready=False, restarts=17, state="waiting:CrashLoopBackOff"),
        Container("istio-proxy", "docker.io/istio/proxyv2:1.24.0", ready=True, state="running")])
    cart = Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"}, replicas=1, available=0, current=1,
                    pods=[pod], created="2026-11-20T08:00:00Z")
    text = _workload_panel_text(qtbot, cart)
    assert "1/2 ready, Running (cart: CrashLoopBackOff)" in text and "17 restarts" in text
    assert "Created\n2026-11-20T08:00:00Z" in text
    # one restart reads as one ("1 restarts" was written)
    once = Pod("cart-v1-def", "shop", phase="Running", containers=[Container("cart", ready=True, restarts=1)])
    text = _workload_panel_text(qtbot, Workload("cart-v1", "shop", labels={"app": "cart"}, pods=[once]))
    assert ", 1 restart" in text and "1 restarts" not in text


def test_small_and_nearly_whole_shares_and_rates_say_so(panel: SidePanel, demo_data) -> None:
    """A TCP edge with a trickle of bytes read "0B/s", 1023.6 B/s read "1024B/s", a 99.96% success
    share "100.0%" and 0.4% mTLS "0% of traffic": each now says what it is."""
    from meshdesk.mesh.graph.health import percent_text
    from meshdesk.ui.canvas.items import fmt_bytes_rate
    from meshdesk.ui.panels import _whole_percent

    assert [fmt_bytes_rate(v) for v in (0.0, 0.004, 1023.6, 1048575.0)] == ["0B/s", "<0.01B/s", "1KB/s", "1MB/s"]
    assert [percent_text(v) for v in (99.96, 100.0, 0.01)] == [">99.9%", "100.0%", "<0.1%"]
    assert [_whole_percent(v) for v in (0.0, 0.4, 50.2, 99.6, 100.0)] == ["0%", "<1%", "50%", ">99%", "100%"]
    graph, _inv, _ = demo_data
    tcp = next(e for e in graph.edges.values() if e.protocol == "tcp" and e.rate > 0)
    panel.show_selection([tcp.id])
    assert f"Rate\n{fmt_bytes_rate(tcp.rate)}, bytes sent" in panel.text()  # the graph's TCP rate choice


def test_the_summary_tabulates_the_graphs_traffic_in_out_and_total(panel: SidePanel, demo_data) -> None:
    """As Kiali's graph summary: traffic entering from the traffic sources, leaving the namespaces,
    and all of it (an injected service's onward edges are not counted twice)."""
    from meshdesk.ui.panels import fmt_rate

    graph, _inv, _ = demo_data
    text = panel.text()
    table = text.split("Traffic\n", 1)[1].split("Highest error shares", 1)[0]
    moving = [e for e in graph.edges.values() if e.rate > 0 and not e.is_idle and e.protocol == "http"]
    total = sum(e.rate for e in moving if not graph.nodes[e.source].is_injected)
    inbound = sum(e.rate for e in moving if graph.nodes[e.source].is_root)
    assert f"Total\nhttp {fmt_rate(total, 'http')}," in table
    assert f"Inbound\nhttp {fmt_rate(inbound, 'http')}," in table
    assert total > inbound > 0


def test_the_response_time_statistic_is_named_in_words() -> None:
    from meshdesk.ui.panels import _stat_name

    assert [_stat_name(q) for q in ("avg", "0.5", "0.95", "0.99")] == [
        "average", "median", "95th percentile", "99th percentile"]


def test_an_idle_service_entry_host_names_its_entry(qtbot) -> None:  # type: ignore[no-untyped-def]
    """With idle nodes and service nodes on, a ServiceEntry host is an idle service node (as in Kiali):
    its panel names the entry it is a host of (not "not found in the inventory") and the rules for it."""
    from meshdesk.sources.demo.mesh import PAYMENTS_HOST

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="workload", namespaces=("shop",), includeIdleNodes=True,
                                      injectServiceNodes=True))
    assert snap.inventory is not None
    graph = build(snap)
    node = graph.find_node(node_type=NODE_SERVICE, service=PAYMENTS_HOST, namespace="shop")
    assert node is not None and node.is_idle and node.is_service_entry is None
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, snap.inventory)
    p.show_selection([node.id])
    text = p.text()
    assert p.kind == "service" and "ServiceEntry\nDefined by\nshop/payments-api" in text
    assert "not found in the inventory" not in text and "payments-api-tls" in text


def test_a_service_panel_shows_the_services_own_config_findings(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A Service whose port names no protocol (Kiali's KIA0601) says so in its panel, where the
    badge on its node sends the user; a clean Service shows no findings section."""
    import copy

    from meshdesk.mesh.validations import validate

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",)))
    assert snap.inventory is not None
    inv = copy.deepcopy(snap.inventory)
    ratings = inv.service("shop", "ratings")
    assert ratings is not None
    ratings.ports[0].name, ratings.ports[0].app_protocol = "web", ""
    graph = build(snap)
    graph.validations = validate(inv)
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    node = graph.find_node(node_type=NODE_SERVICE, service="ratings", namespace="shop")
    assert node is not None
    p.show_selection([node.id])
    text = p.text()
    assert "Config findings" in text and "KIA0601" in text and "'web' does not name its protocol" in text
    assert "(spec/ports[0])" in text
    clean = graph.find_node(node_type=NODE_SERVICE, service="reviews", namespace="shop")
    assert clean is not None
    p.show_selection([clean.id])
    assert "Config findings" not in p.text()


def test_errors_read_in_the_colour_their_edge_is_drawn_in(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """details answers some 404s, within its tolerances: the edge is drawn green, and its panel line
    said the errors in red. Now errors that degrade or fail an edge are orange or red, the others
    grey; a healthy node's share says it is within the tolerances."""
    from meshdesk.mesh.graph.model import DEGRADED, FAILURE, HEALTHY
    from meshdesk.ui.panels import HEALTH_COLOUR

    _g, inv, graph = demo_data
    p = SidePanel()
    qtbot.addWidget(p)
    p.set_data(graph, inv)
    edges = [e for e in graph.edges.values() if error_share(e) > 0 and e.health is not None]
    assert {e.health.status for e in edges} & {HEALTHY} and {e.health.status for e in edges} & {DEGRADED, FAILURE}
    import re

    from meshdesk.ui.panels import for_theme
    from meshdesk.ui.theme import current_theme

    def colour(e):  # type: ignore[no-untyped-def]
        # (as text, the edge's colour in its twin that can be read on the theme: a darker amber on white)
        return for_theme(HEALTH_COLOUR[e.health.status] if e.health.status in (DEGRADED, FAILURE) else "#6a6e73",
                         current_theme())

    for target in {e.target for e in edges}:
        p.show_selection([target])
        html = p.body.toHtml().lower().replace(" ", "")
        shown = set(re.findall(r"color:(#[0-9a-f]{6});?\">[^<]*errors</span>", html))
        inbound = [e for e in edges if target in (e.source, e.target)]  # its in and out traffic
        assert shown == {colour(e) for e in inbound}, (target, shown)
    healthy = next(n for n in graph.nodes.values() if n.health is not None and n.health.status == HEALTHY
                   and n.health.error_ratio > 0)
    p.show_selection([healthy.id])
    assert "errors, within the tolerances)" in p.text()


def test_a_workload_panel_shows_the_workloads_own_ambient_findings(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A workload whose namespace sends it to a waypoint that does not exist (Kiali's KIA1313) says
    so in its panel, where the badge on its node sends the user; the same workload once the waypoint
    is the right one shows no findings section."""
    from meshdesk.mesh.validations import validate

    demo = DemoCluster(clock=lambda: NOW)
    p = SidePanel()
    qtbot.addWidget(p)
    for waypoint, expected in (("waypoint-v2", True), ("waypoint", False)):
        demo.label_namespace("travel", {"istio.io/use-waypoint": waypoint})
        snap = demo.snapshot(GraphRequest(graphType="workload", namespaces=("travel",)))
        assert snap.inventory is not None
        graph = build(snap)
        graph.validations = validate(snap.inventory)
        p.set_data(graph, snap.inventory)
        node = graph.find_node(node_type=NODE_WORKLOAD, workload="search-v1", namespace="travel")
        assert node is not None
        p.show_selection([node.id])
        text = p.text()
        assert ("Config findings" in text and "KIA1313" in text and "waypoint travel/waypoint-v2 it asks for" in text) is expected
        assert ("Config findings" in text) is expected
        # an app node names the workload each finding is about
        snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("travel",)))
        assert snap.inventory is not None
        graph = build(snap)
        graph.validations = validate(snap.inventory)
        p.set_data(graph, snap.inventory)
        app = graph.find_node(node_type=NODE_APP, app="search", namespace="travel")
        assert app is not None
        p.show_selection([app.id])
        assert ("search-v1: error KIA1313" in p.text()) is expected


def test_no_health_reads_n_a_as_in_kiali(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """A node without health (NA: no requests to judge) was said "NA" in its panel and in the
    namespace summary's counts, "n/a" for an edge without health: Kiali says "n/a" for all."""
    import dataclasses

    from meshdesk.mesh.graph.model import NO_HEALTH, Health

    graph, inv, _ = demo_data
    node = next(n for n in graph.nodes.values() if n.node_type == NODE_WORKLOAD and n.namespace == "shop")
    before = node.health
    node.health = dataclasses.replace(before, status=NO_HEALTH, error_ratio=0.0, reasons=[]) \
        if before is not None else Health(NO_HEALTH)
    try:
        panel = SidePanel()
        qtbot.addWidget(panel)
        panel.set_data(graph, None)  # (without an inventory the summary counts its nodes' health)
        summary = panel.text()
        assert " n/a" in summary.split("Namespace shop")[1] and " NA" not in summary
        panel.set_data(graph, inv)
        panel.show_selection([node.id])
        assert "Health\nn/a\n" in panel.text() and "NA" not in panel.text().split()
    finally:
        node.health = before


def test_a_namespaces_health_counts_its_apps_as_kialis_overview(qtbot, demo_data) -> None:  # type: ignore[no-untyped-def]
    """The summary's Health row counted every node of the namespace (service nodes, versions, the
    unknown caller: "17 Healthy" for shop's 7 apps), which matches nothing in Kiali's overview; it counts
    the namespace's apps, each by its requests (all versions') and its pods, as the Apps list does."""
    import dataclasses
    import re

    from meshdesk.mesh.graph.model import FAILURE

    graph, inv, _ = demo_data
    reviews = [n for n in graph.nodes.values() if n.app == "reviews" and n.namespace == "shop" and n.health]
    before = {n.id: (n.health, n.extra.get("appHealth")) for n in reviews}
    try:
        for n in reviews:
            n.health = dataclasses.replace(n.health, status=FAILURE)
            box = n.extra.get("appHealth")
            if box is not None:
                n.extra["appHealth"] = dataclasses.replace(box, status=FAILURE)
        panel = SidePanel()
        qtbot.addWidget(panel)
        panel.set_data(graph, inv)
        shop = panel.text().split("Namespace shop")[1]
        counts = re.search(r"App health\n([^\n]+)\n", shop)
        assert counts is not None, shop
        said = {status: int(n) for n, status in re.findall(r"(\d+) (\w[\w ]*?)(?:,|$)", counts.group(1))}
        assert said.get("Failure") == 1 and sum(said.values()) == len(inv.apps("shop")), counts.group(1)
    finally:
        for n in reviews:
            n.health, box = before[n.id]
            if box is not None:
                n.extra["appHealth"] = box

