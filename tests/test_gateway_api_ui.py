"""Gateway API config in the UI: an HTTPRoute in the Istio config list with its finding's badge, its
YAML (under the API's own kind) and findings in the config view, its finding on the Services it
routes to; and no Gateway API route offered for removal (meshdesk writes none)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_SERVICE
from meshdesk.mesh.inventory import IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import MANAGED_LABEL, MANAGED_VALUE, managed_objects
from meshdesk.mesh.validations import validate
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.config_view import ConfigView
from meshdesk.ui.lists import CONFIG, SERVICES, MeshLists

ROUTE = ("K8sHTTPRoute", "shop", "reviews-split")


def test_the_config_list_shows_an_http_route_with_its_finding(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "travel")))
    inventory = snap.inventory
    assert inventory is not None
    # a mesh route splitting reviews, one of whose backends has a typo
    inventory.istio.append(IstioObject("K8sHTTPRoute", "reviews-split", "shop", "gateway.networking.k8s.io/v1", {
        "parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
        "rules": [{"backendRefs": [{"name": "reviews", "port": 9080, "weight": 90},
                                   {"name": "reviewz", "port": 9080, "weight": 10}]}]}))
    graph = build(snap)
    validations = validate(inventory)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, inventory, validations)
    rows = {(r.kind, r.namespace, r.name): r for r in lists.pages[CONFIG].model.rows}
    row = rows[ROUTE]
    reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
    assert reviews is not None
    assert row.badge == "1 error" and row.node_ids == [reviews.id]  # the row selects the Service it routes
    assert rows[("K8sHTTPRoute", "travel", "flights")].badge == "ok"  # the demo's own mesh route
    # the Service it routes to carries its finding, as for a VirtualService
    reviews_row = next(r for r in lists.pages[SERVICES].model.rows if (r.namespace, r.name) == ("shop", "reviews"))
    assert reviews_row.errors >= 1

    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inventory, validations)
    lists.configSelected.connect(view.show_object)
    page = lists.pages[CONFIG]
    index = next(i for i, r in enumerate(page.visible_rows()) if (r.kind, r.namespace, r.name) == ROUTE)
    with qtbot.waitSignal(view.objectShown, timeout=5000):
        page.table.selectRow(index)
    assert "kind: HTTPRoute" in view.yaml_text and "apiVersion: gateway.networking.k8s.io/v1" in view.yaml_text
    assert "K8sHTTPRoute" in view.title.text()
    [(code, severity, message, path)] = view.finding_rows()
    assert (code, severity, path) == ("KIA1402", "error", "spec/rules[0]/backendRefs[1]/name")
    assert "reviewz" in message
    items = [view.objects.item(i).text() for i in range(view.objects.count())]
    assert "K8sHTTPRoute shop/reviews-split  [1 error]" in items


def test_the_config_view_shows_a_gateways_status_and_what_it_says(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inventory = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inventory is not None
    gw = IstioObject("K8sGateway", "shop-gateway", "shop", "gateway.networking.k8s.io/v1", {
        "gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
        status={"conditions": [{"type": "Programmed", "status": "False", "reason": "Invalid",
                                "message": "Failed to assign to any requested addresses"}]})
    inventory.istio.append(gw)
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inventory)
    with qtbot.waitSignal(view.objectShown, timeout=5000):
        view.show_object(("K8sGateway", "shop", "shop-gateway"))
    text = view.yaml_text
    assert "kind: Gateway" in text and "status:" in text and text.index("spec:") < text.index("status:")
    assert "reason: Invalid" in text
    [(code, severity, message, path)] = view.finding_rows()
    assert (code, severity, path) == ("GWAPI", "warning", "status/conditions[0]")
    assert "Failed to assign" in message


def test_no_gateway_api_object_is_offered_for_removal() -> None:
    """Of the Gateway API, meshdesk writes only Gateways, ReferenceGrants and HTTPRoutes (its forms): a
    TCPRoute carrying meshdesk's label (copied by hand) is not among what it offers to remove."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inventory = demo.snapshot(GraphRequest(namespaces=("travel",))).inventory
    assert inventory is not None
    inventory.istio.append(IstioObject("K8sTCPRoute", "copied", "travel", "gateway.networking.k8s.io/v1alpha2",
                                       {}, labels={MANAGED_LABEL: MANAGED_VALUE}))
    inventory.istio.append(IstioObject("VirtualService", "mine", "travel", spec={"hosts": ["search"]},
                                       labels={MANAGED_LABEL: MANAGED_VALUE}))
    assert [(o.kind, o.name) for o in managed_objects(inventory, "travel")] == [("VirtualService", "mine")]
