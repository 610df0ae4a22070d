"""Details the side panel gives beside the other views: an operation's rows next to its charts, and the
routes a service's Istio config sets (its VirtualService's rules, its DestinationRule's subsets and
traffic policy), in real widgets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_AGGREGATE
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.panels import SidePanel
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.ui

NOW = 1_790_000_000.0


def test_an_operation_panel_says_no_response_time_it_does_not_have(qtbot: QtBot) -> None:
    """The panel said "Response time n/a" while the Metrics dock charted the same operation's durations.
    As in Kiali, the graph keeps no response time on an operation's edges: the row is left out."""
    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",),
                                      appenders=("operationNodes", "responseTime", "health")))
    graph = build(snap)
    op = next(n for n in graph.nodes.values() if n.node_type == NODE_AGGREGATE)
    assert all(e.response_time is None for e in graph.edges.values() if op.id in (e.source, e.target))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    panel.show_selection([op.id])
    text = panel.text()
    assert panel.kind == "operation" and "Rate\n" in text
    assert "Response time" not in text



# -- the routes a service's Istio config sets --------------------------------------------------------

REVIEWS_VS: dict[str, Any] = {"hosts": ["reviews"], "http": [
    {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
     "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
    {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
               {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}],
     "timeout": "2s", "retries": {"attempts": 3, "perTryTimeout": "500ms", "retryOn": "5xx,connect-failure"}}]}
REVIEWS_DR: dict[str, Any] = {
    "host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}],
    "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}, "http": {"http1MaxPendingRequests": 10}},
                      "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s"},
                      "tls": {"mode": "ISTIO_MUTUAL"}}}


def _reviews_panel(qtbot: QtBot, vs_spec: Any, dr_spec: Any, vs_name: str = "reviews") -> SidePanel:
    """The service panel of reviews (called by productpage, served by v1 and v2) under these specs."""
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.mesh.inventory import IstioObject, Service, ServicePort
    from tests.graph_samples import http, snapshot
    from tests.ui_helpers import small_inventory, workload

    inv = small_inventory("shop")
    inv.workloads += [workload("productpage-v1", "shop", "productpage"), workload("reviews-v1", "shop", "reviews"),
                      workload("reviews-v2", "shop", "reviews", "v2")]
    inv.services.append(Service("reviews", "shop", ports=[ServicePort("http", 9080)], selector={"app": "reviews"}))
    inv.istio += [IstioObject("VirtualService", vs_name, "shop", spec=vs_spec),
                  IstioObject("DestinationRule", "reviews", "shop", spec=dr_spec)]
    graph = build(snapshot([http("productpage-v1", "reviews-v1", 8.0), http("productpage-v1", "reviews-v2", 2.0)],
                           inv, graphType="versionedApp", injectServiceNodes=True))
    reviews = graph.find_node(node_type=NODE_SERVICE, service="reviews")
    assert reviews is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.resize(420, 900)
    panel.set_data(graph, inv)
    panel.show_selection([reviews.id])
    assert panel.kind == "service"
    return panel


def test_a_service_panel_shows_its_routes_and_traffic_policy(qtbot: QtBot) -> None:
    """It named the routing features ("circuit breaker, request routing, request timeout, traffic
    shifting") and the objects, but not what they do: now each route (match -> subsets with weights,
    timeout, retries) and the DestinationRule's subsets and policy are written out."""
    text = _reviews_panel(qtbot, REVIEWS_VS, REVIEWS_DR).text()
    assert "Routing\ncircuit breaker, request routing, request timeout, traffic shifting" in text
    routes = text.split("VirtualServices\n", 1)[1].split("DestinationRules\n", 1)
    assert routes[0].splitlines()[:3] == [
        "shop/reviews",
        "header end-user = jason \u2192 v2",
        "any other request \u2192 v1 80%, v2 20%; timeout 2s; 3 retries, 500ms per try, on 5xx,connect-failure",
    ]
    assert routes[1].splitlines()[:5] == [
        "shop/reviews",
        "subsets v1 (version=v1); v2 (version=v2)",
        "connection pool max 100 connections, max 10 pending requests",
        "outlier detection eject a host after 5 consecutive 5xx errors, checked every 10s, for at least 30s",
        "TLS ISTIO_MUTUAL",
    ]


def test_a_service_routed_by_a_gateway_api_route_says_so(qtbot: QtBot) -> None:
    """Istio turns a Gateway API route into a VirtualService named ``...-autogenerated-k8s-...``; as
    Kiali's "(K8s GW API)", the Routing row says the route, not a VirtualService, is what to change."""
    made = _reviews_panel(qtbot, REVIEWS_VS, REVIEWS_DR, vs_name="bookinfo-0-autogenerated-k8s-gateway-reviews")
    assert "Routing\ncircuit breaker, request routing, request timeout, traffic shifting " \
        "(from a Gateway API route)" in made.text()
    assert "Gateway API" not in _reviews_panel(qtbot, REVIEWS_VS, REVIEWS_DR).text()


def test_faults_mirrors_and_tcp_routes_are_written_out(qtbot: QtBot) -> None:
    vs = {"hosts": ["reviews"], "http": [
        {"match": [{"uri": {"prefix": "/api"}, "method": {"exact": "GET"}}, {"headers": {"x-canary": {"regex": "^1$"}}}],
         "route": [{"destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}}}],
         "fault": {"delay": {"percentage": {"value": 10}, "fixedDelay": "5s"},
                   "abort": {"percentage": {"value": 1.5}, "httpStatus": 500}}},
        {"route": [{"destination": {"host": "reviews", "subset": "v1"}}],
         "mirror": {"host": "reviews", "subset": "v2"}, "mirrorPercentage": {"value": 5}, "retries": {"attempts": 0}}],
        "tcp": [{"match": [{"port": 9090}], "route": [{"destination": {"host": "ratings.other.svc.cluster.local"}}]}]}
    text = _reviews_panel(qtbot, vs, {"host": "reviews"}).text()
    routes = text.split("VirtualServices\n", 1)[1].splitlines()
    assert routes[1:4] == [
        "URI starts with /api and method = GET or header x-canary ~ ^1$ \u2192 v2:9080; delay 5s for 10% of requests; "
        "abort with 500 for 1.5% of requests",
        "any other request \u2192 v1; no retries; mirror to v2 (5%)",
        "TCP port 9090 \u2192 ratings.other.svc.cluster.local",
    ]
    assert text.split("DestinationRules\n", 1)[1].splitlines()[0] == "shop/reviews"


def test_a_delay_with_the_deprecated_integer_percent_says_its_share(qtbot: QtBot) -> None:
    """Istio still applies a delay's integer ``percent`` when ``percentage`` is not set: the panel says
    that share (it said 0%), and ``percentage`` wins when both are written."""
    vs = {"hosts": ["reviews"], "http": [
        {"match": [{"uri": {"prefix": "/slow"}}], "route": [{"destination": {"host": "reviews", "subset": "v1"}}],
         "fault": {"delay": {"fixedDelay": "7s", "percent": 50}}},
        {"route": [{"destination": {"host": "reviews", "subset": "v2"}}],
         "fault": {"delay": {"fixedDelay": "2s", "percent": 50, "percentage": {"value": 0.5}}}}]}
    routes = _reviews_panel(qtbot, vs, {"host": "reviews"}).text().split("VirtualServices\n", 1)[1].splitlines()
    assert routes[1:3] == ["URI starts with /slow \u2192 v1; delay 7s for 50% of requests",
                           "any other request \u2192 v2; delay 2s for 0.5% of requests"]


def _odd_variants(spec: Any) -> Iterator[Any]:
    """The spec with each part in turn replaced by a value of another shape (missing, null, a number, a
    string, a list, a map), as a hand-written or half-applied object may hold."""
    odd: list[Any] = [None, 7, "x", [], [1, "y"], {}, {"exact": {"z": 1}}, -3.5, True]
    if isinstance(spec, dict):
        for key in spec:
            yield {k: v for k, v in spec.items() if k != key}
            for value in odd:
                yield {**spec, key: value}
            for variant in _odd_variants(spec[key]):
                yield {**spec, key: variant}
    elif isinstance(spec, list):
        for i, item in enumerate(spec):
            for variant in _odd_variants(item):
                yield [*spec[:i], variant, *spec[i + 1:]]


def test_odd_routing_specs_do_not_break_the_service_panel(qtbot: QtBot) -> None:
    """Missing fields and fields of the wrong type, anywhere in the VirtualService or DestinationRule:
    the panel still shows the service, its objects and what it can read of them."""
    from meshdesk.mesh.inventory import IstioObject
    from meshdesk.mesh.routing import destination_rule_texts, route_texts
    from meshdesk.ui.panels import _rules_with_routes

    count = 0
    for vs_spec in _odd_variants(REVIEWS_VS):
        vs = IstioObject("VirtualService", "reviews", "shop", spec=vs_spec)
        # each rule read is a line with words in it, under the object's name, with nothing of Python's
        lines = [str(r) for r in route_texts(vs)]
        assert all(line.strip() and "Traceback" not in line and "object at 0x" not in line for line in lines)
        shown = _rules_with_routes([vs], [])
        assert "shop/<b>reviews</b>" in shown and "Traceback" not in shown
        count += 1
    for dr_spec in _odd_variants(REVIEWS_DR):
        dr = IstioObject("DestinationRule", "reviews", "shop", spec=dr_spec)
        assert all(isinstance(how, str) for _what, how in destination_rule_texts(dr))
        assert "shop/<b>reviews</b>" in _rules_with_routes([], [dr])
        count += 1
    assert count > 400
    # and in the panel itself, a few of them together
    for vs_spec, dr_spec in zip(_odd_variants(REVIEWS_VS), _odd_variants(REVIEWS_DR), strict=False):
        text = _reviews_panel(qtbot, vs_spec, dr_spec).text()
        assert text.startswith("Service reviews\n") and "VirtualServices\n" in text and "DestinationRules\n" in text


def test_a_pod_names_the_container_that_does_not_run(qtbot: QtBot) -> None:
    """A pod whose sidecar crash-loops read "Running (CrashLoopBackOff), sidecar yes", as if the app
    crashed; the fix for each is different (the app's code or config, or the mesh's)."""
    from meshdesk.mesh.inventory import Container, Inventory, Namespace, Pod, Workload
    from tests.graph_samples import http, snapshot

    pods = [Pod("web-1", "shop", labels={"app": "web"}, phase="Running", containers=[
                Container("web", ready=True, state="running"),
                Container("istio-proxy", "istio/proxyv2:1.24.0", ready=False, restarts=5,
                          state="waiting:CrashLoopBackOff")]),
            Pod("web-2", "shop", labels={"app": "web"}, phase="Pending", containers=[
                Container("web", state="waiting:ImagePullBackOff"),
                Container("istio-proxy", "istio/proxyv2:1.24.0", state="waiting:PodInitializing")],
                init_containers=[Container("istio-init", state="terminated:Error", restarts=2)])]
    web = Workload("web", "shop", labels={"app": "web", "version": "v1"}, replicas=2, pods=pods)
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[web])
    graph = build(snapshot([http("web-v1", "web", 5, ns="shop")], inventory=inv))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([graph.find_node(workload="web").id])  # type: ignore[union-attr]
    text = panel.text()
    assert "web-1: 1/2 ready, Running (istio-proxy: CrashLoopBackOff), sidecar 1.24.0, 5 restarts" in text
    assert ("web-2: 0/2 ready, Pending (web: ImagePullBackOff; istio-proxy: PodInitializing; "
            "istio-init: Error), sidecar 1.24.0, 2 restarts") in text


# -- an idle app node of a workload without a version label ----------------------------------------------

def test_an_idle_app_node_without_a_version_label_lists_its_workloads(qtbot: QtBot) -> None:
    """With idle nodes shown, a workload without a version label (istio-system's istiod) is an app node of
    version "unknown", as Kiali's idle-node appender names it. Its panel said "Workloads: none" and
    "Versions: -", as if nothing ran it: only "latest" (the telemetry's name) was taken for no label."""
    from meshdesk.mesh.graph.model import NODE_APP

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("istio-system",),
                                      includeIdleNodes=True, injectServiceNodes=True))
    graph = build(snap)
    istiod = graph.find_node(node_type=NODE_APP, app="istiod")
    assert istiod is not None and istiod.version == "unknown"
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    panel.show_selection([istiod.id])
    text = panel.copy_text()
    assert panel.kind == "app"
    workloads = text.split("\nWorkloads\n", 1)[1].split("\n", 1)[0]
    assert workloads.startswith("istiod (no version): 1/1 pods ready")


# -- a ServiceEntry's host nobody has called yet ---------------------------------------------------------

def test_an_idle_service_entry_hosts_panel_tells_the_entry_and_opens_it(qtbot: QtBot) -> None:
    """With idle nodes shown, a ServiceEntry host nothing has called yet is a service node of the entry's
    namespace. Its panel said only "a host of shop/payments", with no link to the entry (every other Istio
    object a panel names opens in the config view) and nothing of what the entry says: where the calls
    go (resolution, endpoints), its ports."""
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.mesh.inventory import IstioObject
    from meshdesk.mesh.validations import validate
    from tests.graph_samples import http, snapshot
    from tests.ui_helpers import small_inventory

    inv = small_inventory("shop")
    inv.istio.append(IstioObject("ServiceEntry", "payments", "shop", spec={
        "hosts": ["api.payments.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": 443, "name": "https", "protocol": "TLS"}]}))
    graph = build(snapshot([http("frontend-v1", "cart-v1", 8.0)], inv, graphType="versionedApp",
                           injectServiceNodes=True, includeIdleNodes=True))
    graph.validations = validate(inv)
    host = graph.find_node(node_type=NODE_SERVICE, service="api.payments.example.com")
    assert host is not None and host.is_service_entry is None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([host.id])
    text = panel.copy_text()
    assert panel.kind == "service"
    assert "Defined by: shop/payments\nHosts: api.payments.example.com\nLocation: MESH_EXTERNAL\nResolution: DNS\n" \
           "Ports: https 443/TLS" in text
    assert "none listed: Istio resolves the hosts by DNS" in text
    href = dict(panel.links())["shop/payments"]
    with qtbot.waitSignal(panel.configRequested) as opened:
        panel.body.anchorClicked.emit(QUrl(href))
    assert opened.args == [("ServiceEntry", "shop", "payments")]


def test_an_apps_and_a_service_entrys_rules_open_in_the_config_view(qtbot: QtBot) -> None:
    """The VirtualServices and DestinationRules an app's panel and a ServiceEntry's panel list were plain
    text, while a service's panel lists the same objects as links that open them in the Istio config
    view: to read productpage's DestinationRule from its app, or the TLS the payments entry's rule
    originates, the user had to find them in the config view's list."""
    from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",), injectServiceNodes=True))
    graph = build(snap)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    entry = next(n for n in graph.nodes.values() if n.node_type == NODE_SERVICE and n.is_service_entry is not None)
    panel.show_selection([entry.id])
    assert panel.kind == "serviceentry"
    href = dict(panel.links())["shop/payments-api-tls"]
    with qtbot.waitSignal(panel.configRequested) as opened:
        panel.body.anchorClicked.emit(QUrl(href))
    assert opened.args[0][:3] == ("DestinationRule", "shop", "payments-api-tls")  # (and the demo's cluster)
    # and it says what the rule does, as a service's panel does (it listed the name alone, and a rule's
    # settings for one port as "own settings for port 80": here the TLS it originates)
    assert "payments-api-tls\nport 80 TLS SIMPLE\n" in panel.text(), panel.text()
    reviews = graph.find_node(node_type=NODE_APP, app="reviews", version="v1")
    assert reviews is not None
    panel.show_selection([reviews.id])
    assert panel.kind == "app"
    opened_keys = []
    for text, href in panel.links():
        with qtbot.waitSignal(panel.configRequested) as opened:
            panel.body.anchorClicked.emit(QUrl(href))
        opened_keys.append((text, opened.args[0][:3]))
    assert ("shop/reviews", ("VirtualService", "shop", "reviews")) in opened_keys
    assert ("shop/reviews", ("DestinationRule", "shop", "reviews")) in opened_keys


# -- what RBAC kept from being read is not "none" ---------------------------------------------------------

def test_pods_and_services_that_could_not_be_read_are_not_said_to_be_none(qtbot: QtBot,
                                                                          kube_emulator: KubeEmulator) -> None:
    """RBAC let the user list shop's Deployments but not its pods or Services: a workload's panel said
    "Replicas 2/2 ready" above "Pods: no pods", "Sidecar: unknown (no pods)" and "Services: none", and its
    app's panel "0/0 pods ready", as if it ran nothing and nothing sent to it. Each says what could not be
    read (as the namespace summary's "Missing sidecars" already did)."""
    from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
    from meshdesk.sources.inventory import read_inventory
    from tests.graph_samples import snapshot

    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    labels = {"app": "web", "version": "v1"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-v1", "namespace": "shop"},
             "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "main", "image": "img:1"}]}}}})
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    emu.run_workloads("shop")
    emu.forbid(namespace="shop", resource="pods")
    emu.forbid(namespace="shop", resource="services")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert {"shop/pods", "shop/services"} <= set(inv.hidden)
    panel = SidePanel()
    qtbot.addWidget(panel)
    for graph_type, node_type, kind in (("workload", NODE_WORKLOAD, "workload"), ("versionedApp", NODE_APP, "app")):
        graph = build(snapshot([], inv, graphType=graph_type, includeIdleNodes=True, namespaces=("shop",)))
        node = next(n for n in graph.nodes.values() if n.node_type == node_type)
        panel.set_data(graph, inv)
        panel.show_selection([node.id])
        text = panel.copy_text()
        assert panel.kind == kind
        assert "Services\nnot known: the Services of shop could not be read\n" in text
        if kind == "workload":
            assert "Replicas: 2/2 ready\n" in text and "Sidecar: unknown (its pods could not be read)\n" in text
            assert "Pods\nnot known: the pods of shop could not be read\n" in text
        else:
            assert "Workloads\nweb-v1 (v1): pods not known (they could not be read)\n" in text


# -- the Gateway API's routes of a service ----------------------------------------------------------------

def test_a_services_panel_lists_the_gateway_api_routes_of_it(qtbot: QtBot) -> None:
    """The demo's travel namespace routes flights with a Gateway API HTTPRoute (a mesh route, its parent
    the flights Service, giving the fare search a 5 s timeout), but the flights panel said
    "VirtualServices none, DestinationRules none" and nothing else: what routes its calls was not named.
    As Kiali's service page lists a service's K8sHTTPRoutes, the panel lists the routes that are of it
    or send to it, each a link to its YAML."""
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.mesh.inventory import IstioObject

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("travel",), injectServiceNodes=True))
    assert snap.inventory is not None
    snap.inventory.istio.append(IstioObject("K8sHTTPRoute", "fares-from-the-edge", "travel", spec={
        "parentRefs": [{"name": "edge", "namespace": "istio-system"}],
        "rules": [{"backendRefs": [{"name": "flights", "port": 8080}]}]}, api_version="gateway.networking.k8s.io/v1"))
    graph = build(snap)
    flights = graph.find_node(node_type=NODE_SERVICE, service="flights")
    assert flights is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    panel.show_selection([flights.id])
    text = panel.copy_text()
    assert "Gateway API routes\n" \
        "K8sHTTPRoute travel/flights: mesh route: its parentRef is this Service, so calls to it in the mesh " \
        "follow it\n" \
        "K8sHTTPRoute travel/fares-from-the-edge: sends to it from Gateway istio-system/edge\n" in text
    href = dict(panel.links())["travel/flights"]
    with qtbot.waitSignal(panel.configRequested) as opened:
        panel.body.anchorClicked.emit(QUrl(href))
    assert opened.args[0][:3] == ("K8sHTTPRoute", "travel", "flights")  # (and the demo's cluster)
    search = graph.find_node(node_type=NODE_SERVICE, service="search")
    assert search is not None
    panel.show_selection([search.id])
    assert "Gateway API routes" not in panel.copy_text()  # no route of it: no section


# -- pods on their way out ---------------------------------------------------------------------------------

def test_a_workloads_terminating_and_evicted_pods_say_so(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """During a rollout the old pods terminate, still ready; a pod the kubelet evicted stays listed as
    Failed. The workload's panel said "2/2 ready, Running" of a terminating pod (its Service's panel said
    the same pod's endpoint was terminating) and "Failed" of an evicted one, without why: kubectl says
    "Terminating" and "Evicted", and so does the panel now."""
    from meshdesk.mesh.graph.model import NODE_WORKLOAD
    from meshdesk.sources.inventory import read_inventory
    from tests.graph_samples import snapshot

    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    labels = {"app": "web", "version": "v1"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-v1", "namespace": "shop"},
             "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "main", "image": "img:1"}]}}}})
    leaving, evicted, running = sorted(p["metadata"]["name"] for p in emu.run_workloads("shop"))
    emu.get("pods", "shop", leaving)["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"  # type: ignore[index]
    gone = emu.get("pods", "shop", evicted)
    assert gone is not None
    gone["status"] = {"phase": "Failed", "reason": "Evicted",
                      "message": "The node was low on resource: memory."}
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    graph = build(snapshot([], inv, graphType="workload", includeIdleNodes=True, namespaces=("shop",)))
    node = next(n for n in graph.nodes.values() if n.node_type == NODE_WORKLOAD)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    pods = panel.copy_text().split("\nPods\n", 1)[1].split("\nServices\n", 1)[0].splitlines()
    said = {line.split(":")[0]: line.split(", ")[:2] for line in pods}
    assert said == {evicted: [f"{evicted}: 0/2 ready", "Evicted"], leaving: [f"{leaving}: 2/2 ready", "Terminating"],
                    running: [f"{running}: 2/2 ready", "Running"]}
    # what a snapshot keeps, it tells again
    from meshdesk.mesh.inventory import Inventory

    again = Inventory.from_json(inv.to_json())
    assert sorted(p.status_text for w in again.workloads for p in w.pods) == ["Evicted", "Running", "Terminating"]


# -- an app node with no workload in the inventory -------------------------------------------------------

def test_an_app_node_without_workloads_says_why(qtbot: QtBot) -> None:
    """An app node the telemetry names but the inventory does not have (a caller from a namespace not
    chosen, or an app deleted since its requests) had a panel with its traffic only: no Workloads
    section, nothing to say whether its pods were not read or are gone (a workload node's panel says);
    a version rolled out since its requests said "Workloads: none"."""
    from meshdesk.mesh.graph.model import NODE_APP
    from tests.graph_samples import http, snapshot
    from tests.ui_helpers import small_inventory

    inv = small_inventory("shop")
    graph = build(snapshot([http("frontend-v1", "cart-v1", 5.0), http("batch-v1", "cart-v1", 1.0, src_ns="jobs"),
                            http("legacy-v0", "cart-v1", 1.0), http("orders-v2", "cart-v1", 1.0)], inv,
                           graphType="versionedApp"))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)

    def workloads(app: str) -> str:
        node = graph.find_node(node_type=NODE_APP, app=app)
        assert node is not None
        panel.show_selection([node.id])
        assert panel.kind == "app"
        return panel.copy_text().split("\nWorkloads\n", 1)[1].split("\n", 1)[0]

    assert workloads("batch") == "not read: jobs is not among the chosen namespaces"
    assert workloads("orders") == "none: no workload of shop has app=orders, version=v2 (deleted since its " \
        "traffic was recorded?)"
    assert workloads("legacy") == "none: no workload of legacy has version=v0 (its versions: v1)"
    assert workloads("frontend").startswith("frontend-v1 (v1): 1/1 pods ready")


def test_a_workload_node_without_its_workload_says_why(qtbot: QtBot) -> None:
    """A workload node the inventory lacks said "not found in the inventory (outside the selected
    namespaces, or not readable)" whatever the reason, also of a workload of a chosen namespace that was
    deleted since its requests (the user went looking for an RBAC problem); it says which it is."""
    from meshdesk.mesh.graph.model import NODE_WORKLOAD
    from tests.graph_samples import http, snapshot
    from tests.ui_helpers import small_inventory

    inv = small_inventory("shop")
    graph = build(snapshot([http("frontend-v1", "cart-v1", 5.0), http("batch-v1", "cart-v1", 1.0, src_ns="jobs"),
                            http("old-v1", "cart-v1", 1.0)], inv, graphType="workload"))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)

    def inventory(name: str) -> str:
        node = graph.find_node(node_type=NODE_WORKLOAD, workload=name)
        assert node is not None
        panel.show_selection([node.id])
        assert panel.kind == "workload"
        return panel.copy_text().split("\nInventory\n", 1)[1].split("\n", 1)[0]

    assert inventory("batch-v1") == "not read: jobs is not among the chosen namespaces"
    assert inventory("old-v1") == "not found: shop has no workload named old-v1 (deleted since its traffic was " \
        "recorded?)"


def _contrast(a: Any, b: Any) -> float:
    def lum(c: Any) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_the_details_text_can_be_read_in_either_theme(qtbot: QtBot, qapp: Any, name: str) -> None:
    """In the dark theme the details panel's keys (Apps, Workloads, Health ...), its notes and its
    subtitle ("27 nodes, 28 edges") were a grey of 3.1:1 against the panel, an error's red 2.7:1; in the
    light theme "6 Degraded" and "1 with warnings" were an amber of 2.6:1. Every coloured run of text
    reads 4.5:1 at least, and switching the theme recolours what is shown."""
    from PySide6.QtGui import QPalette, QTextCharFormat

    from meshdesk.ui import theme

    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("hello", "shop", "travel"),
                                      appenders=("health",)))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(build(snap), snap.inventory)
    panel.show_selection([])  # the namespaces' summary: keys, health counts, notes
    try:
        theme.apply_theme(qapp, "light" if name == "dark" else "dark")  # shown first, then switched
        theme.apply_theme(qapp, name)
        panel.show()
        qtbot.waitExposed(panel)
        assert "Degraded" in panel.text() and "Apps" in panel.text()
        base = qapp.palette().color(QPalette.ColorRole.Base)
        faint = []
        block = panel.body.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt: QTextCharFormat = fragment.charFormat()
                if fmt.hasProperty(QTextCharFormat.Property.ForegroundBrush) and fragment.text().strip():
                    colour = fmt.foreground().color()
                    if _contrast(colour, base) < 4.5:
                        faint.append((fragment.text(), colour.name()))
                it += 1
            block = block.next()
        assert faint == []
        image = panel.subtitle.grab().toImage()
        window = qapp.palette().color(QPalette.ColorRole.Window)
        ink = max((image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())),
                  key=lambda c: _contrast(c, window))
        assert _contrast(ink, window) >= 4.5, ink.name()
    finally:
        theme.reset_theme(qapp)


def test_a_fault_without_a_percentage_is_said_to_touch_no_request(qtbot: QtBot) -> None:
    """Istio aborts (and delays) no request when a fault has no percentage ("If not specified, no request
    will be aborted"); the service panel said "for 0% of requests", and Kiali's wizard reads it as 100%:
    it says no request is touched, and why."""
    vs_spec = {"hosts": ["reviews"], "http": [
        {"fault": {"abort": {"httpStatus": 503}, "delay": {"fixedDelay": "2s"}},
         "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}
    text = _reviews_panel(qtbot, vs_spec, REVIEWS_DR).text()
    assert "delay 2s for no request (no percentage set)" in text
    assert "abort with 503 for no request (no percentage set)" in text
