"""An Istio object's references, as Kiali's Istio config page lists them: the workloads it applies to,
the services it is about or sends to, the objects tied to it; in the Istio config view, as links that
select the workload or service in the graph or show the other object."""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh import references as references_module
from meshdesk.mesh.inventory import Inventory, IstioObject, Service, ServicePort
from meshdesk.mesh.references import BINDS_IT, BOUND_TO, ROUTES_TO, SAME_HOST, references
from meshdesk.mesh.validation_badges import SELECTS_IT, WHOLE_MESH, WHOLE_NAMESPACE
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_workload_config import _inventory, _obj
from tests.ui_helpers import shown, small_inventory, window_test_marks, workload

pytestmark = window_test_marks()


def _about(inv: Inventory, kind: str, ns: str, name: str) -> IstioObject:
    return next(o for o in [*inv.istio, *inv.outside_config] if (o.kind, o.namespace, o.name) == (kind, ns, name))


def _routing_inventory() -> Inventory:
    inv = _inventory()
    inv.services += [Service("reviews", "shop", ports=[ServicePort("http", 9080)], selector={"app": "reviews"}),
                     Service("ratings", "shop", ports=[ServicePort("http", 9080)], selector={"app": "ratings"})]
    inv.istio += [
        _obj("Gateway", "shop-gw", "shop", {"selector": {"istio": "ingressgateway"},
                                            "servers": [{"hosts": ["*"], "port": {"number": 80}}]}),
        _obj("VirtualService", "reviews", "shop", {
            "hosts": ["reviews"], "gateways": ["shop-gw", "mesh"],
            "http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}, "weight": 90},
                                {"destination": {"host": "ratings"}, "weight": 5},
                                {"destination": {"host": "typo-svc"}, "weight": 5}]}]}),
        _obj("DestinationRule", "reviews", "shop", {"host": "reviews.shop.svc.cluster.local",
                                                    "subsets": [{"name": "v2", "labels": {"version": "v2"}}]}),
        _obj("DestinationRule", "ratings", "shop", {"host": "ratings"}),
    ]
    return inv


def test_the_workloads_a_policy_applies_to_and_how() -> None:
    inv = _inventory()
    shop = {w.name for w in inv.workloads if w.namespace == "shop"}
    got = {(w.name, how) for w, how in references(inv, _about(inv, "AuthorizationPolicy", "shop", "deny-all")).workloads}
    assert got == {(name, WHOLE_NAMESPACE) for name in shop} and len(shop) > 3
    reviews_only = references(inv, _about(inv, "AuthorizationPolicy", "shop", "reviews-only"))
    assert [(w.name, how) for w, how in reviews_only.workloads] == [("reviews-v2", SELECTS_IT)]
    mesh_wide = references(inv, _about(inv, "PeerAuthentication", "istio-system", "default"))
    assert {w.name for w, how in mesh_wide.workloads if how == WHOLE_MESH} == {w.name for w in inv.workloads}
    # the namespace's Sidecar is not in effect for reviews, whose own Sidecar selects it
    default = references(inv, _about(inv, "Sidecar", "shop", "default"))
    assert {w.name for w, _how in default.workloads} == shop - {"reviews-v2"}
    # attached to a gateway by targetRefs: no workload by labels
    assert references(inv, _about(inv, "AuthorizationPolicy", "shop", "at-the-gateway")).workloads == []


def test_a_virtual_services_services_gateway_and_rules() -> None:
    inv = _routing_inventory()
    vs = references(inv, _about(inv, "VirtualService", "shop", "reviews"))
    assert [(s.name, why) for s, why in vs.services] == [("reviews", "its host"), ("ratings", "routes to it")]
    assert [(o.kind, o.name, why) for o, why in vs.objects] == [
        ("Gateway", "shop-gw", BOUND_TO), ("DestinationRule", "reviews", SAME_HOST),
        ("DestinationRule", "ratings", ROUTES_TO)]
    assert vs.hosts == ["typo-svc.shop.svc.cluster.local"]  # a destination no Service has
    dr = references(inv, _about(inv, "DestinationRule", "shop", "ratings"))
    assert [(o.name, why) for o, why in dr.objects] == [("reviews", ROUTES_TO)]
    gw = references(inv, _about(inv, "Gateway", "shop", "shop-gw"))
    assert [(o.name, why) for o, why in gw.objects] == [("reviews", BINDS_IT)]


def test_a_service_entrys_sidecars_and_policies_and_theirs_back() -> None:
    """As Kiali lists them: a ServiceEntry's references named its VirtualServices and DestinationRules
    only, not the Sidecar importing its host nor the AuthorizationPolicy naming it; and those two listed
    none of the entries and Services their hosts name."""
    from meshdesk.mesh.references import EGRESS_HOST, POLICY_HOST

    inv = _routing_inventory()
    inv.istio += [
        _obj("ServiceEntry", "payments", "shop", {"hosts": ["api.payments.example.com"],
                                                  "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]}),
        _obj("Sidecar", "egress", "shop", {"egress": [{"hosts": ["shop/api.payments.example.com", "shop/ratings",
                                                                  "*/*", "./reviews", "istio-system/*"]}]}),
        _obj("AuthorizationPolicy", "payments-only", "shop", {"rules": [{"to": [{"operation": {
            "hosts": ["api.payments.example.com", "reviews.shop.svc.cluster.local", "*.example.com"]}}]}]}),
    ]
    se = references(inv, _about(inv, "ServiceEntry", "shop", "payments"))
    assert [(o.kind, o.name, why) for o, why in se.objects] == [
        ("Sidecar", "egress", EGRESS_HOST), ("AuthorizationPolicy", "payments-only", POLICY_HOST)]
    sidecar = references(inv, _about(inv, "Sidecar", "shop", "egress"))
    assert [(o.kind, o.name) for o, _why in sidecar.objects] == [("ServiceEntry", "payments")]
    assert [(s.name, why) for s, why in sidecar.services] == [("ratings", EGRESS_HOST)]  # "./reviews": any namespace's
    policy = references(inv, _about(inv, "AuthorizationPolicy", "shop", "payments-only"))
    assert [(o.kind, o.name) for o, _why in policy.objects] == [("ServiceEntry", "payments"),
                                                               ("VirtualService", "reviews")]
    assert policy.services == []  # reviews' host is its VirtualService's: the object is listed, as in Kiali


def test_a_gateway_virtual_service_is_about_what_it_routes_to_not_every_service(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Bookinfo's own VirtualService, bound to its ingress Gateway with ``hosts: ["*"]``, was listed as
    about every Service of every namespace read ("its host"), tied to every DestinationRule and
    ServiceEntry ("for the same host"), and each of those named it in turn: its hosts are what the
    gateway serves, not the mesh's Services. As Kiali, it refers to what its routes send to."""
    from meshdesk.ui.config_view import ConfigView

    inv = _routing_inventory()
    inv.services.append(Service("productpage", "shop", ports=[ServicePort("http", 9080)], selector={"app": "productpage"}))
    inv.istio += [
        _obj("VirtualService", "bookinfo", "shop", {
            "hosts": ["*"], "gateways": ["shop-gw"],
            "http": [{"match": [{"uri": {"prefix": "/productpage"}}],
                      "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]}),
        _obj("DestinationRule", "productpage", "shop", {"host": "productpage"}),
        _obj("ServiceEntry", "payments", "shop", {"hosts": ["api.payments.example.com"], "resolution": "DNS"}),
    ]
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    view.show_object(("VirtualService", "shop", "bookinfo"))
    assert view.reference_texts() == ["productpage", "Gateway shop-gw", "DestinationRule productpage"]
    assert "productpage</a>: routes to it" in view.references.text() and ": its host" not in view.references.text()
    view.show_object(("DestinationRule", "shop", "ratings"))  # a service bookinfo does not route to
    assert "bookinfo" not in view.reference_texts() and "VirtualService bookinfo" not in view.reference_texts()
    view.show_object(("ServiceEntry", "shop", "payments"))
    assert view.reference_texts() == []
    view.show_object(("DestinationRule", "shop", "productpage"))
    assert "VirtualService bookinfo" in view.reference_texts() and "routes to its host" in view.references.text()


def test_the_config_view_says_which_kinds_it_could_not_list(qtbot, kube_emulator: KubeEmulator,  # type: ignore[no-untyped-def]
                                                            shared_dir) -> None:
    """RBAC let the user list shop's VirtualServices but not its DestinationRules: the Istio config view
    listed the VirtualServices alone, without a word, as if shop had no DestinationRule (the Lists dock
    and the summary panel say what could not be read). A note over the list says so, and goes when the
    next read has them."""
    from meshdesk.sources.inventory import read_inventory
    from meshdesk.ui.config_view import ConfigView

    emu = kube_emulator
    emu.load_crds(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml")
    emu.add_namespace("shop")
    for kind, spec in (("VirtualService", {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}),
                       ("DestinationRule", {"host": "reviews", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}})):
        emu.add({"apiVersion": "networking.istio.io/v1", "kind": kind, "metadata": {"name": "reviews", "namespace": "shop"},
                 "spec": spec})
    emu.forbid(namespace="shop", resource="destinationrules")
    view = ConfigView()
    qtbot.addWidget(view)
    view.show()
    view.set_data(read_inventory(emu.api_client(), ["shop"], cluster="east"))
    assert view.visible_keys() == [("VirtualService", "shop", "reviews")]
    assert view.unread_note.isVisible()
    assert view.unread_note.text() == "Not listed: the cluster would not let meshdesk list DestinationRules (shop). " \
        "What is there is not shown, and findings about it are not counted."
    emu.clear_faults()
    view.set_data(read_inventory(emu.api_client(), ["shop"], cluster="east"))
    assert view.visible_keys() == [("DestinationRule", "shop", "reviews"), ("VirtualService", "shop", "reviews")]
    assert not view.unread_note.isVisible()


def test_a_findings_message_is_read_whole_at_any_width(qtbot) -> None:  # type: ignore[no-untyped-def]
    """In the docked Istio config view the findings' rows kept the height they were given when the object
    was first shown, at another width: MDK0501's message read "STRICT mTLS cannot be enforced on w…ads
    without …", and the path column, sized to "spec/http[0]/route[0]/destination/host", left the message
    a few letters a line. Rows follow the message column's width, the path takes a share of the table at
    most, and each cell's tooltip holds its whole text."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.config_view import ConfigView

    inv = DemoCluster(traffic=False).snapshot(GraphRequest(namespaces=("shop",))).inventory
    view = ConfigView()
    qtbot.addWidget(view)
    view.resize(1600, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(inv)
    view.show_object(("PeerAuthentication", "shop", "default"))
    table = view.findings
    code, _severity, message, _path = view.finding_rows()[0]
    assert code == "MDK0501" and len(message) > 80
    assert table.item(0, 2).toolTip() == message
    wide = table.rowHeight(0)
    view.resize(900, 500)  # the dock made narrower: the message needs more lines
    qtbot.waitUntil(lambda: table.rowHeight(0) >= table.sizeHintForRow(0) > wide, timeout=5000)
    view.resize(1600, 500)
    inv.istio.append(_obj("VirtualService", "long-path", "shop", {"hosts": ["nowhere"], "http": [
        {"route": [{"destination": {"host": "nowhere"}}]}]}))
    view.set_data(inv)
    view.show_object(("VirtualService", "shop", "long-path"))
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: table.viewport().width() > 400, timeout=5000)
    assert any(p.startswith("spec/http[0]/route[0]") for *_x, p in view.finding_rows())
    assert header.sectionSize(3) <= max(90, table.viewport().width() * 3 // 10)
    assert header.sectionSize(2) > header.sectionSize(3)


def test_the_config_view_links_its_references(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Which workloads a PeerAuthentication covers, which service a VirtualService routes: one click from
    the YAML to the graph's node, or to the other object."""
    from meshdesk.ui.perf_views import PerformanceViews

    w = demo_window(["shop"])
    w.add_extension(PerformanceViews(w, poll_ms=0))
    graph = shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
    config = w.extensions[0].config
    config.show_object(("PeerAuthentication", "shop", "default"))
    texts = config.reference_texts()
    assert {"productpage-v1", "reviews-v2", "ratings-v1"} <= set(texts)
    assert "its whole namespace" in config.references.text()
    with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
        assert config.click_reference("reviews-v2")
    wanted = {n.id for n in graph.nodes.values() if n.workload == "reviews-v2"}
    assert wanted and set(w.view.selected_ids()) == wanted

    config.show_object(("VirtualService", "shop", "reviews"))
    assert "reviews" in config.reference_texts()
    with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
        assert config.click_reference("reviews")  # the service
    assert {graph.nodes[i].service for i in w.view.selected_ids()} == {"reviews"}
    rule = next(t for t in config.reference_texts() if t.startswith("DestinationRule "))
    with qtbot.waitSignal(config.objectShown, timeout=5000):
        assert config.click_reference(rule)
    assert config.current is not None and config.current[0] == "DestinationRule"

    # a workload the graph has no node of: said beside the object, nothing else selected
    config.show_object(("PeerAuthentication", "shop", "default"))
    before = w.view.selected_ids()
    idle = next((t for t in config.reference_texts()
                 if not any(n.workload == t for n in graph.nodes.values())), None)
    assert idle is not None, "the demo's shop has a workload no traffic reaches in this window"
    config.click_reference(idle)
    assert "has no node in the graph shown" in config.edit_note.text()
    assert w.view.selected_ids() == before


def test_the_panels_istio_objects_open_in_the_config_view(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """A service's VirtualService and a workload's PeerAuthentication were names in the panel; to read
    their YAML or findings meant finding them again in the Istio config list. They are links now."""
    from PySide6.QtCore import QUrl

    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.ui.panels import config_key
    from meshdesk.ui.perf_views import PerformanceViews

    w = demo_window(["shop"])
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    graph = shown(qtbot, w, lambda g: g.find_node(node_type=NODE_SERVICE, service="reviews") is not None)
    reviews = graph.find_node(node_type=NODE_SERVICE, service="reviews")
    assert reviews is not None
    w.view.select([reviews.id])
    qtbot.waitUntil(lambda: w.panel.kind == "service", timeout=5000)
    # (each link names the object's cluster too: of a snapshot of several, one name can be an object in each)
    links = [(text, config_key(href)) for text, href in w.panel.links()]
    assert ("shop/reviews", ("VirtualService", "shop", "reviews", "demo")) in links
    assert ("shop/reviews", ("DestinationRule", "shop", "reviews", "demo")) in links
    href = "meshdesk-config:VirtualService/shop/reviews/demo"
    with qtbot.waitSignal(perf.config.objectShown, timeout=5000):
        w.panel.body.anchorClicked.emit(QUrl(href))
    assert perf.config.current == ("VirtualService", "shop", "reviews")
    assert not perf.docks["Istio config"].isHidden()
    # a workload's Istio config section links the same way
    product = next(n for n in graph.nodes.values() if n.workload == "productpage-v1")
    w.view.select([product.id])
    qtbot.waitUntil(lambda: "PeerAuthentication" in w.panel.text(), timeout=5000)
    assert ("default", "meshdesk-config:PeerAuthentication/shop/default/demo") in w.panel.links()
    entry = next(n for n in graph.nodes.values() if n.is_service_entry is not None)  # and a ServiceEntry's node
    w.view.select([entry.id])
    qtbot.waitUntil(lambda: w.panel.kind == "serviceentry", timeout=5000)
    assert any(h.startswith("meshdesk-config:ServiceEntry/") for _t, h in w.panel.links())


def test_a_namespace_sidecar_among_a_sidecar_per_workload_weighs_only_each_workloads_rivals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a Sidecar per workload beside the namespace's default one, the default applies to the
    workloads none selects, found by trying each workload against the Sidecars that could select it,
    not against every Sidecar (with thousands of each it stalled the Istio config view for minutes at
    each refresh); the count of tries stands in for the time."""
    inv = small_inventory("big")
    inv.workloads += [workload(f"app{i}-v1", "big", f"app{i}") for i in range(300)]
    inv.istio += [_obj("Sidecar", f"app{i}", "big", {"workloadSelector": {"labels": {"app": f"app{i}"}}})
                  for i in range(0, 300, 2)]  # every other workload has its own
    default = _obj("Sidecar", "default", "big", {"egress": [{"hosts": ["./*"]}]})
    inv.istio.append(default)
    tries = 0
    real = references_module.applies_how

    def counted(*args: Any) -> str:
        nonlocal tries
        tries += 1
        return real(*args)

    monkeypatch.setattr(references_module, "applies_how", counted)
    got = references(inv, default).workloads
    own_sidecar = {f"app{i}-v1" for i in range(0, 300, 2)}
    assert sorted(w.name for w, _how in got) == sorted(
        w.name for w in inv.workloads if w.namespace == "big" and w.name not in own_sidecar)
    assert {how for _w, how in got} == {WHOLE_NAMESPACE}
    assert tries < 10 * len(inv.workloads)  # each workload against its own few rivals (was 45,000 tries)
    own = references(inv, _about(inv, "Sidecar", "big", "app4")).workloads
    assert [(w.name, how) for w, how in own] == [("app4-v1", SELECTS_IT)]


def test_an_outside_gateways_gateway_object_opens_in_the_config_view(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """The ingress gateway's Gateway in istio-system (not chosen, read because the selection's routes bind
    it) is listed for the gateway workload and named by the VirtualServices that bind it: it opens, with
    the workload it selects and the routes that bind it (it was "not found", and named but not linked)."""
    from meshdesk.ui.perf_views import PerformanceViews

    w = demo_window(["shop"])
    w.add_extension(PerformanceViews(w, poll_ms=0))
    shown(qtbot, w, lambda g: any(n.workload == "istio-ingressgateway" for n in g.nodes.values()))
    config = w.extensions[0].config
    gateway = next(o for o in config.inventory.outside_gateway_configs if o.kind == "Gateway")
    binder = next(o for o in config.inventory.istio if o.kind == "VirtualService"
                  and f"{gateway.namespace}/{gateway.name}" in o.spec.get("gateways", []))
    config.show_object(("VirtualService", binder.namespace, binder.name))
    name = f"Gateway {gateway.namespace}/{gateway.name}"
    with qtbot.waitSignal(config.objectShown, timeout=5000):
        assert config.click_reference(name)
    assert config.current == ("Gateway", gateway.namespace, gateway.name)
    assert gateway.name in config.title.text() and "not found" not in config.title.text().lower()
    assert "istio-ingressgateway" in config.reference_texts()
    assert f"VirtualService {binder.namespace}/{binder.name}" in config.reference_texts()


def test_references_of_a_snapshot_of_two_clusters_stay_in_the_objects_cluster(qtbot, demo_window,  # type: ignore[no-untyped-def]
                                                                             tmp_path) -> None:
    """A snapshot of a multi-primary mesh with the same DestinationRule applied in east and west: its
    references listed both clusters' Services, and a workload's link selected the workload's node in
    both clusters. Each object's references are its own cluster's, and a link selects that cluster's node."""
    from meshdesk.sources.snapshot import save_snapshot
    from meshdesk.ui.perf_views import PerformanceViews
    from tests.graph_samples import snapshot
    from tests.test_graph_multicluster_inventory import CLUSTERS, _both, _inventory, _service, _traffic

    rules = tuple(IstioObject("DestinationRule", "cart", "shop", spec={
        "host": "cart", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}, cluster=c) for c in CLUSTERS)
    policies = tuple(IstioObject("AuthorizationPolicy", "cart", "shop", api_version="security.istio.io/v1",
                                 spec={"selector": {"matchLabels": {"app": "cart"}}}, cluster=c) for c in CLUSTERS)
    inv = _inventory(*_both("cart-v1"), *_both("web-v1"), services=tuple(_service(n, c) for n in ("cart", "web")
                                                                            for c in CLUSTERS), istio=rules + policies)
    east = references(inv, rules[0])
    assert [(s.name, s.cluster) for s, _why in east.services] == [("cart", "east")]
    west = references(inv, policies[1])
    assert [(w.name, w.cluster) for w, _how in west.workloads] == [("cart-v1", "west")]

    path = tmp_path / "two-clusters.json"
    save_snapshot(snapshot(_traffic(("web-v1", "cart-v1")), inv, injectServiceNodes=True), path)
    w = demo_window(["shop"])
    w.add_extension(PerformanceViews(w, poll_ms=0))
    w.open_snapshot(str(path))
    graph = shown(qtbot, w, lambda g: len({n.cluster for n in g.nodes.values() if n.workload == "cart-v1"}) == 2)
    config = w.extensions[0].config
    qtbot.waitUntil(lambda: config.inventory is not None and any(o.cluster == "west" for o in config.inventory.istio),
                    timeout=10000)
    config.show_object(("AuthorizationPolicy", "shop", "cart"))
    assert config.reference_texts() == ["cart-v1"]  # one cluster's workload, not one per cluster
    with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
        assert config.click_reference("cart-v1")
    chosen = [graph.nodes[i] for i in w.view.selected_ids()]
    assert chosen and len({n.cluster for n in chosen}) == 1  # the shown policy's cluster's node alone
    config.show_object(("DestinationRule", "shop", "cart"))
    with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
        assert config.click_reference("cart")  # the service
    chosen = [graph.nodes[i] for i in w.view.selected_ids()]
    assert len(chosen) == 1 and chosen[0].service == "cart"
