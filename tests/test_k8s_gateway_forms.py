"""Creating and editing a Kubernetes Gateway API Gateway and a ReferenceGrant, from the
Actions menu, as Kiali's "Create Istio config" offers K8sGateway and K8sReferenceGrant: against the
Kubernetes API emulator serving the Gateway API's CRDs (the object read back from it), on a cluster
without them (the items disabled, saying so) and on the demo cluster. Real widgets, offscreen; no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.gateway_config import gateway_host_problem
from meshdesk.mesh.graph.model import TrafficGraph
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.k8s_gateway_config import (
    GrantSide,
    Listener,
    address_problem,
    build_k8s_gateway,
    build_reference_grant,
    hostname_problem,
    k8s_gateway_fields,
)
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.request_auth import jwks_uri_problem
from meshdesk.mesh.routing import MANAGED_LABEL, RoutingError
from meshdesk.mesh.security import egress_host_problem, name_problem
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.inventory import read_inventory
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.change_dialog import DONE, FORM, REVIEW, ChangeDialog
from meshdesk.ui.dialogs.k8s_gateway_forms import K8sGatewayForm, ReferenceGrantForm
from tests import gateway_api_crds
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.ui_helpers import answered_menu, open_answered_action

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
GW = "gateway.networking.k8s.io"
GRAPH = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
MENU_LOG = r"^This plugin does not support (raise\(\)|grabbing the keyboard)$"

pytestmark = pytest.mark.ui


def _cluster(emu: KubeEmulator, shared: Path, *, gateway_api: bool) -> KubeEmulator:
    for doc in load_docs(shared / CRDS):
        emu.add_crd(doc)
    if gateway_api:
        gateway_api_crds.install(emu)
        emu.add({"apiVersion": f"{GW}/v1", "kind": "GatewayClass", "metadata": {"name": "istio"},
                 "spec": {"controllerName": "istio.io/gateway-controller"}})
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.add_namespace("shop")
    return emu


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    yield _cluster(kube_emulator, shared_dir, gateway_api=True)


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="Kubernetes")


def controller_for(emu: KubeEmulator, tmp_path: Path, window: QWidget) -> ActionsController:
    return ActionsController(ClusterSource(emu.api_client(), context="emu"), Settings(tmp_path / "s.json"), window)


def trigger(ctl: ActionsController, qtbot: QtBot, action: Any) -> ChangeDialog:
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    return dialog


def open_by_text(ctl: ActionsController, qtbot: QtBot, inv: Inventory, text: str) -> ChangeDialog:
    menu = answered_menu(ctl, qtbot, None, GRAPH, inv)
    return trigger(ctl, qtbot, next(a for a in menu.actions() if a.text() == text))


def review(dialog: ChangeDialog, qtbot: QtBot) -> None:
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW, dialog.form_error.text()


def confirm(dialog: ChangeDialog, qtbot: QtBot) -> None:
    assert dialog.confirm_button.isEnabled(), dialog.verdict.text() + dialog.dry_run_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE and dialog.outcome.text().startswith("Applied")


def refused(dialog: ChangeDialog, qtbot: QtBot) -> str:
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and not dialog.busy
    return dialog.form_error.text()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_kubernetes_gateway_is_written_read_back_and_edited_in_its_form(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a Kubernetes Gateway in bookinfo…")
    form = dialog.form
    assert isinstance(form, K8sGatewayForm)
    assert form.class_name.currentText() == "istio"
    assert form.class_label.text() == "GatewayClass istio is run by istio.io/gateway-controller."
    qtbot.keyClicks(form.name, "books")
    http = form.listeners[0]
    http.hostname.setText("*.example.com")
    http.routes_from.setCurrentText("Selector")
    assert "needs the labels of the namespaces" in form.error.text()
    http.routes_selector.setText("shared-gateway=true")
    qtbot.mouseClick(form.add_listener_button, Qt.MouseButton.LeftButton)
    https = form.listeners[1]
    https.name.setText("https")
    https.port.setText("443")
    https.protocol.setCurrentText("HTTPS")
    assert "needs the certificate" in form.error.text()
    https.certificates.setText("books-cert, certs/wildcard")
    form.add_address().value.setText("192.0.2.10")
    assert form.error.text() == ""
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "GatewayClass istio is run by istio.io/gateway-controller" in notes
    # not to be taken for Istio's Gateway in the review's titles
    assert [c.title() for c in dialog.plan.changes] == ["Create Kubernetes Gateway bookinfo/books"]
    assert "reads Secret certs/wildcard from another namespace: a ReferenceGrant there" in notes
    confirm(dialog, qtbot)
    gw = emu.get("gateways", "bookinfo", "books", GW)
    assert gw is not None and gw["metadata"]["labels"][MANAGED_LABEL] == "meshdesk"
    assert gw["spec"] == {"gatewayClassName": "istio", "listeners": [
        {"name": "http", "port": 80, "protocol": "HTTP", "hostname": "*.example.com",
         "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"shared-gateway": "true"}}}}},
        {"name": "https", "port": 443, "protocol": "HTTPS", "allowedRoutes": {"namespaces": {"from": "Same"}},
         "tls": {"mode": "Terminate", "certificateRefs": [
             {"group": "", "kind": "Secret", "name": "books-cert"},
             {"group": "", "kind": "Secret", "name": "wildcard", "namespace": "certs"}]}}],
        "addresses": [{"type": "IPAddress", "value": "192.0.2.10"}]}

    # edited in its form: prefilled, and saved over the object as read
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit Kubernetes Gateway books in a form…")
    form = dialog.form
    assert isinstance(form, K8sGatewayForm) and form.name.isReadOnly()
    assert form.title == "Edit Kubernetes Gateway bookinfo/books"  # not Kiali's inner name, K8sGateway
    assert [b.name.text() for b in form.listeners] == ["http", "https"]
    assert form.listeners[1].certificates.text() == "books-cert, certs/wildcard"
    form.listeners[0].port.setText("8080")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("gateways", "bookinfo", "books", GW)["spec"]["listeners"][0]["port"] == 8080
    # the name is taken now
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a Kubernetes Gateway in bookinfo…")
    qtbot.keyClicks(dialog.form.name, "books")
    assert "Kubernetes Gateway named books already exists in bookinfo" in refused(dialog, qtbot)


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_the_review_shows_the_findings_the_new_gateway_would_have(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A listener another Gateway has too (KIA1501), a class the cluster lacks (KIA1504); two listeners of
    one Gateway sharing port, protocol and hostname are refused (the Gateway API's CRD refuses them)."""
    emu.add({"apiVersion": f"{GW}/v1", "kind": "Gateway", "metadata": {"name": "books", "namespace": "bookinfo"},
             "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
                                                                 "hostname": "example.com"}]}})
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a Kubernetes Gateway in bookinfo…")
    form = dialog.form
    qtbot.keyClicks(form.name, "twice")
    form.class_name.setCurrentText("nginx")
    assert "The cluster has no GatewayClass nginx (it has istio)" in form.class_label.text()
    other = form.add_listener()
    other.name.setText("other")
    assert form.error.text() == ("Listeners 1 and 2 share port 80, protocol HTTP and no hostname: the Gateway API "
                                 "refuses the Gateway (give one a hostname or another port)")
    other.hostname.setText("example.com")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "KIA1504 the cluster has no GatewayClass nginx" in dialog.findings_text.toPlainText()
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    form.class_name.setCurrentText("istio")
    review(dialog, qtbot)
    text = dialog.findings_text.toPlainText()
    assert "KIA1501 example.com:80 (HTTP) is also a listener of bookinfo/books" in text and "KIA1504" not in text, text


@pytest.mark.parametrize(("fill", "message"), [
    ({"name": "HTTP"}, "listener name 'HTTP' is not a name"),
    ({"port": "70000"}, "port '70000' is not a port number from 1 to 65535"),
    ({"hostname": "*"}, "hostname '*' is not taken: leave the hostname empty"),
    ({"hostname": "a.*.example.com"}, "is not a host name"),
    ({"hostname": "10.0.0.1"}, "is an IP address"),
    ({"protocol": "TCP", "hostname": "example.com"}, "a TCP listener takes no hostname"),
    ({"protocol": "HTTPS"}, "an HTTPS listener that terminates TLS needs the certificate"),
    ({"protocol": "HTTPS", "tls_mode": "Passthrough"}, "Passthrough is for protocol TLS"),
    ({"protocol": "TLS", "tls_mode": "Passthrough", "certificate_refs": ["c"]}, "takes no certificateRefs"),
])
def test_what_the_gateway_api_refuses_is_refused(fill: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message.replace("(", r"\(").replace("*", r"\*")):
        build_k8s_gateway("gw", "ns", "istio", [Listener(**{"name": "http", "port": "80", **fill})])
    with pytest.raises(RoutingError, match="listener name http is given twice"):
        build_k8s_gateway("gw", "ns", "istio", [Listener("http", "80"), Listener("http", "81")])
    with pytest.raises(RoutingError, match="'example' is not an IP address"):
        build_k8s_gateway("gw", "ns", "istio", [Listener("http", "80")], [("IPAddress", "example")])


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_editing_a_gateway_writes_only_what_was_changed(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """The defaults a Gateway leaves unwritten (allowedRoutes from Same, TLS mode Terminate, address type
    IPAddress) stay unwritten: the diff shows the port changed, nothing else."""
    spec = {"gatewayClassName": "istio", "addresses": [{"value": "192.0.2.1"}], "listeners": [
        {"name": "http", "port": 80, "protocol": "HTTP"},
        {"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "example.com",
         "tls": {"certificateRefs": [{"group": "", "kind": "Secret", "name": "cert"}]}}]}
    emu.add({"apiVersion": f"{GW}/v1", "kind": "Gateway", "metadata": {"name": "plain", "namespace": "bookinfo"},
             "spec": spec})
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit Kubernetes Gateway plain in a form…")
    dialog.form.listeners[0].port.setText("8080")
    review(dialog, qtbot)
    changed = [line for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-    port: 80", "+    port: 8080"], changed
    confirm(dialog, qtbot)
    spec["listeners"][0]["port"] = 8080
    assert emu.get("gateways", "bookinfo", "plain", GW)["spec"] == spec


def test_a_gateway_with_fields_the_form_does_not_know_is_not_edited_in_it() -> None:
    _fields, unknown = k8s_gateway_fields({"gatewayClassName": "istio", "infrastructure": {}, "listeners": [
        {"name": "http", "port": 80, "protocol": "HTTP",
         "allowedRoutes": {"kinds": [{"kind": "HTTPRoute"}]}}]})
    assert unknown == ["spec.infrastructure", "spec.listeners[0].allowedRoutes (the form knows namespaces only, "
                                              "not kinds)"]
    # a selector beside from Same (ignored by the Gateway API) would be dropped by the form: said, not lost
    _fields, unknown = k8s_gateway_fields({"gatewayClassName": "istio", "listeners": [
        {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {
            "from": "Same", "selector": {"matchLabels": {"a": "b"}}}}}]})
    assert unknown == ["spec.listeners[0].allowedRoutes.namespaces.selector (with from Same)"]


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_reference_grant_is_written(emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a ReferenceGrant in bookinfo…")
    form = dialog.form
    assert isinstance(form, ReferenceGrantForm)
    assert [form.from_kind.itemText(i) for i in range(form.from_kind.count())] == \
        ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "Gateway"]
    assert [form.to_kind.itemText(i) for i in range(form.to_kind.count())] == ["Service", "Secret"]
    qtbot.keyClicks(form.name, "from-shop")
    form.from_namespace.setCurrentText("bookinfo")
    assert "references within a namespace need no grant" in form.error.text()
    form.from_namespace.setCurrentText("shop")
    form.to_kind.setCurrentText("Secret")
    assert "An HTTPRoute refers to no Secret" in form.warning.text() and not form.warning.isHidden()
    form.to_kind.setCurrentText("Service")
    assert form.warning.isHidden()
    form.to_name.setText("reviews")
    assert form.error.text() == ""
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    grant = emu.get("referencegrants", "bookinfo", "from-shop", GW)
    assert grant["spec"] == {"from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"}],
                             "to": [{"group": "", "kind": "Service", "name": "reviews"}]}


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_without_the_gateway_api_the_items_are_disabled_saying_so(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    emu = _cluster(kube_emulator, shared_dir, gateway_api=False)
    ctl = controller_for(emu, tmp_path, window)
    actions = {a.objectName(): a for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions()}
    for key in ("k8s-gateway", "reference-grant"):
        assert not actions[key].isEnabled()
        assert "does not serve the Kubernetes Gateway API (gateway.networking.k8s.io)" in actions[key].toolTip()
    assert actions["gateway"].isEnabled()  # Istio's own Gateway is still offered


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_the_demo_takes_both(tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    ctl = ActionsController(demo, Settings(tmp_path / "s.json"), window)
    graph = TrafficGraph(request=GraphRequest(namespaces=("travel",)))
    inv = demo.snapshot(graph.request).inventory
    assert inv is not None
    dialog = open_answered_action(ctl, qtbot, "k8s-gateway", None, graph, inv)
    qtbot.addWidget(dialog)
    # the demo knows the GatewayClasses an Istio install makes (it said they were not known)
    assert dialog.form.class_label.text() == "GatewayClass istio is run by istio.io/gateway-controller."
    qtbot.keyClicks(dialog.form.name, "travel-gw")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    inv = demo.snapshot(graph.request).inventory
    assert inv is not None and [o.name for o in inv.istio_objects("K8sGateway", "travel")] == ["travel-gw"]
    dialog = open_answered_action(ctl, qtbot, "reference-grant", None, graph, inv)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "grant")
    dialog.form.from_namespace.setCurrentText("shop")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    inv = demo.snapshot(graph.request).inventory
    assert inv is not None and [o.name for o in inv.istio_objects("K8sReferenceGrant", "travel")] == ["grant"]
    # and edits it in its form
    dialog = open_answered_action(ctl, qtbot, "edit-reference-grant", None, graph, inv)
    qtbot.addWidget(dialog)
    assert dialog.form.from_namespace.currentText() == "shop"
    dialog.form.add_entry("from").value.setCurrentText("hello")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    inv = demo.snapshot(graph.request).inventory
    assert inv is not None
    assert [f["namespace"] for f in inv.istio_objects("K8sReferenceGrant", "travel")[0].spec["from"]] == ["shop", "hello"]


def test_keeping_spellings_skips_what_has_an_odd_shape() -> None:
    from meshdesk.mesh.k8s_gateway_config import keep_k8s_spellings

    new = {"listeners": [{"name": "a", "allowedRoutes": {"namespaces": {"from": "Same"}}}],
           "addresses": [{"type": "IPAddress", "value": "192.0.2.1"}]}
    assert keep_k8s_spellings(new, {"addresses": 1, "listeners": [{"name": ["a"]}]})["listeners"][0][
        "allowedRoutes"] == {"namespaces": {"from": "Same"}}


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_what_the_forms_made_is_removed_with_meshdesks_config_unless_a_route_uses_it(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A Gateway and a ReferenceGrant made by these forms were not among what "Remove meshdesk config"
    deletes (it said meshdesk created nothing there). They are now; a Gateway a route is attached to is
    kept, saying which route, as an Istio Gateway a VirtualService routes through is."""
    managed = {MANAGED_LABEL: "meshdesk"}
    for name in ("unused", "used"):
        emu.add({"apiVersion": f"{GW}/v1", "kind": "Gateway",
                 "metadata": {"name": name, "namespace": "bookinfo", "labels": managed},
                 "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
                                                                      "hostname": f"{name}.example.com"}]}})
    emu.add({"apiVersion": f"{GW}/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "grant", "namespace": "bookinfo", "labels": managed},
             "spec": {"from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Service"}]}})
    emu.add({"apiVersion": f"{GW}/v1", "kind": "HTTPRoute", "metadata": {"name": "web", "namespace": "bookinfo"},
             "spec": {"parentRefs": [{"name": "used"}]}})
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Remove meshdesk config in bookinfo…")
    review(dialog, qtbot)
    assert ("Kept K8sGateway bookinfo/used: HTTPRoute bookinfo/web is attached to it (parentRefs)"
            in dialog.notes.text()), dialog.notes.text()
    confirm(dialog, qtbot)
    assert emu.get("gateways", "bookinfo", "unused", GW) is None
    assert emu.get("referencegrants", "bookinfo", "grant", GW) is None
    assert emu.get("gateways", "bookinfo", "used", GW) is not None


@pytest.mark.parametrize("problem", [
    lambda long: Listener(name="http", port="80", hostname=long + ".example.com").problems()[0],
    lambda long: Listener(name="http", port="80", hostname="\u00c4" * 300).problems()[0],
    lambda long: Listener(name=long.upper(), port="80").problems()[0],
    lambda long: Listener(name="http", port="9" * 300).problems()[0],
    lambda long: Listener(name="http", port="80", routes_from="Selector",
                          routes_selector={"team": long}).problems()[0],
    lambda long: Listener(name="http", port="443", protocol="HTTPS", certificate_refs=[long.upper()]).problems()[0],
    lambda long: address_problem("Hostname", long + ".example.com"),
    lambda long: address_problem("IPAddress", long),
    lambda long: gateway_host_problem(long + ".example.com"),
    lambda long: gateway_host_problem(long + "/example.com"),
    lambda long: jwks_uri_problem("ftp://" + long),
    lambda long: name_problem(long.upper()),
])
def test_a_long_value_is_quoted_shortened(problem: Any) -> None:
    """A value pasted by mistake (300 characters) was quoted whole in the form's message, once or twice,
    filling the form with one line of it; its start and end are quoted, around an ellipsis."""
    text = problem("a" * 300)
    assert text and "a" * 60 not in text and "\u00c4" * 60 not in text and "9" * 60 not in text \
        and "A" * 60 not in text
    assert "\u2026" in text and len(text) < 260


def test_removal_keeps_a_gateway_or_subsets_a_virtual_service_of_a_namespace_not_selected_uses() -> None:
    """Remove meshdesk config with one namespace selected: a VirtualService of another namespace (read
    cluster-wide, outside the selection) bound to meshdesk's Gateway, or routing to its DestinationRule's
    subsets, was not looked at, so both were deleted and that VirtualService's requests failed."""
    from meshdesk.mesh.changes import removal_scope
    from meshdesk.mesh.inventory import IstioObject

    managed = {MANAGED_LABEL: "meshdesk"}
    gw = IstioObject("Gateway", "gw", "edge", spec={"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}, labels=managed)
    dr = IstioObject("DestinationRule", "web", "edge", spec={"host": "web.edge.svc.cluster.local", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}]}, labels=managed)
    elsewhere = IstioObject("VirtualService", "shop", "shop", spec={
        "hosts": ["shop.example.com"], "gateways": ["edge/gw"],
        "http": [{"route": [{"destination": {"host": "web.edge.svc.cluster.local", "subset": "v1"}}]}]})
    inv = Inventory(namespaces=[], istio=[gw, dr], outside_config=[elsewhere])
    scope = removal_scope(inv, "edge")
    assert scope.deleted == []
    kept = {o.kind: why for o, why in scope.kept}
    assert "VirtualService shop/shop routes" in kept["Gateway"]
    assert "VirtualService shop/shop routes to v1" in kept["DestinationRule"]


def test_removing_a_gateway_that_takes_routes_of_other_namespaces_says_those_were_not_read() -> None:
    """A Kubernetes Gateway whose listener takes routes from All namespaces was deleted with only the
    selected namespaces' routes looked at, without a word that a route elsewhere (not read) may use it."""
    from meshdesk.mesh.changes import removal_plan
    from meshdesk.mesh.inventory import IstioObject, Namespace

    def gateway(name: str, allowed: dict[str, Any] | None) -> IstioObject:
        listener: dict[str, Any] = {"name": "http", "port": 80, "protocol": "HTTP"}
        if allowed is not None:
            listener["allowedRoutes"] = allowed
        return IstioObject("K8sGateway", name, "edge", f"{GW}/v1", {"gatewayClassName": "istio",
                                                                   "listeners": [listener]},
                           {MANAGED_LABEL: "meshdesk"})

    inv = Inventory(namespaces=[Namespace("edge")], cluster_namespaces=["edge", "shop"],
                    istio=[gateway("shared", {"namespaces": {"from": "All"}}), gateway("own", None)])
    plan = removal_plan(inv, "edge")
    assert len(plan.changes) == 2
    warnings = [n for n in plan.notes if n.startswith("Warning: Kubernetes Gateway")]
    assert len(warnings) == 1 and "edge/shared takes routes of other namespaces (from All)" in warnings[0]
    # every namespace selected: the routes of all were read, nothing to say
    inv.namespaces.append(Namespace("shop"))
    assert not [n for n in removal_plan(inv, "edge").notes if n.startswith("Warning: Kubernetes Gateway")]


@pytest.mark.parametrize("listener", [
    {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "cert"}]}},
    {"name": "https", "port": 443, "protocol": "HTTPS",
     "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "cert", "namespace": "certs"}]}},
    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {}}},
    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {}},
])
def test_an_edit_that_changes_nothing_keeps_a_listeners_defaults_as_written(listener: dict[str, Any]) -> None:
    """A Gateway written as the Gateway API's docs write one (a certificateRef by its name alone, group and
    kind left to their defaults; allowedRoutes without from) came back from the form with the defaults
    written, so saving it unchanged showed certificateRefs and allowedRoutes changed in the review's diff."""
    from meshdesk.mesh.k8s_gateway_config import keep_k8s_spellings

    spec = {"gatewayClassName": "istio", "listeners": [listener]}
    values, cannot = k8s_gateway_fields(spec)
    assert cannot == []
    gw = build_k8s_gateway("gw", "edge", values["class_name"], values["listeners"], values["addresses"])
    assert keep_k8s_spellings(gw.spec, spec) == spec
    assert list(keep_k8s_spellings(gw.spec, spec)["listeners"][0].get("tls", {}).get("certificateRefs", [{}])[0]) == \
        list(listener.get("tls", {}).get("certificateRefs", [{}])[0])


@pytest.mark.parametrize("check", [
    lambda v: Listener(name="http", port="80", hostname=v).problems()[0],
    gateway_host_problem,
])
def test_an_internationalised_host_is_refused_saying_its_xn_form(check: Any) -> None:
    """'bücher.example.com' was refused as 'not a host name (... in lower case)', though it is in lower
    case: the words did not say that a host is written in ASCII, the xn-- form of the name."""
    assert check("bücher.example.com") == (
        "hostname" if check is not gateway_host_problem else "host") + (
        " 'bücher.example.com' holds 'ü': a host name is written in ASCII, an internationalised one in its xn-- "
        "form as DNS carries it ('xn--bcher-kva.example.com')")
    assert "('*.xn--bcher-kva.de')" in check("*.bücher.de")
    # a character IDNA leaves out (a zero-width space) gives no form to copy
    assert check("shop\u200b.example.com").endswith("as DNS carries it")


def test_removal_keeps_a_reference_grant_a_route_or_gateway_refers_through() -> None:
    """A ReferenceGrant meshdesk made was deleted by Remove meshdesk config though an HTTPRoute of the
    namespace it names sent requests through it to a Service here (the Gateway API then refuses the
    backendRef: those requests fail); it is kept, naming the route. One whose namespace is not selected
    is deleted with a warning that the routes there were not looked at."""
    from meshdesk.mesh.changes import removal_plan, removal_scope
    from meshdesk.mesh.inventory import IstioObject, Namespace

    def grant(name: str, kind: str, source: str, to: str) -> IstioObject:
        return IstioObject("K8sReferenceGrant", name, "books", f"{GW}/v1beta1", {
            "from": [{"group": GW, "kind": kind, "namespace": source}], "to": [{"group": "", "kind": to}]},
            {MANAGED_LABEL: "meshdesk"})

    route = IstioObject("K8sHTTPRoute", "web", "shop", f"{GW}/v1", {"parentRefs": [{"name": "gw"}], "rules": [
        {"backendRefs": [{"name": "reviews", "namespace": "books", "port": 9080}]}]})
    gateway = IstioObject("K8sGateway", "edge", "edge", f"{GW}/v1", {"gatewayClassName": "istio", "listeners": [
        {"name": "https", "port": 443, "protocol": "HTTPS",
         "tls": {"certificateRefs": [{"name": "cert", "namespace": "books"}]}}]})
    grants = [grant("routes", "HTTPRoute", "shop", "Service"), grant("certs", "Gateway", "edge", "Secret"),
              grant("unused", "HTTPRoute", "edge", "Service"), grant("far", "HTTPRoute", "away", "Service")]
    inv = Inventory(namespaces=[Namespace(n) for n in ("books", "shop", "edge")], istio=[*grants, route],
                    k8s_gateways=[gateway], cluster_namespaces=["books", "shop", "edge", "away"])
    scope = removal_scope(inv, "books")
    kept = {o.name: why for o, why in scope.kept}
    assert kept["routes"].startswith("HTTPRoute shop/web refers through it to books")
    assert kept["certs"].startswith("Gateway edge/edge refers through it to books")
    assert sorted(o.name for o in scope.deleted) == ["far", "unused"]
    notes = [n for n in removal_plan(inv, "books").notes if n.startswith("Warning: ReferenceGrant")]
    assert len(notes) == 1 and notes[0].startswith("Warning: ReferenceGrant books/far lets objects of away refer")


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_reference_grant_takes_several_from_and_to_entries(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """The form took one ``from`` and one ``to``: letting the routes of two namespaces reach two
    Services took two grants. The Gateway API takes up to 16 of each, every one checked as typed."""
    emu.add_namespace("travel")
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a ReferenceGrant in bookinfo…")
    form = dialog.form
    assert isinstance(form, ReferenceGrantForm)
    qtbot.keyClicks(form.name, "from-shop-and-travel")
    form.from_namespace.setCurrentText("shop")
    qtbot.mouseClick(form.add_buttons["from"], Qt.MouseButton.LeftButton)
    second = form.sources[1]
    # the new entry starts as the last one's kind, in a namespace no entry names yet
    assert second.kind.currentText() == "HTTPRoute" and second.entry().namespace not in ("shop", "bookinfo", "")
    second.kind.setCurrentText("GRPCRoute")
    assert second.group.text() == f"group {GW}"
    # each entry is judged, and the message says which
    second.value.setCurrentText("Travel_1")
    assert form.error.text().startswith("From 2: namespace 'Travel_1' is not a namespace name")
    second.value.setCurrentText("bookinfo")
    assert "From 2: namespace bookinfo is this ReferenceGrant's own" in form.error.text()
    second.value.setCurrentText("shop")
    second.kind.setCurrentText("HTTPRoute")
    assert form.error.text() == "From 1 and from 2 are the same; remove one"
    second.kind.setCurrentText("GRPCRoute")
    second.value.setCurrentText("travel")
    assert form.error.text() == ""
    form.to_name.setText("reviews")
    qtbot.mouseClick(form.add_buttons["to"], Qt.MouseButton.LeftButton)
    ratings = form.targets[1]
    assert ratings.group.text() == "group core"
    ratings.value.setText("Ratings")
    assert form.error.text().startswith("To 2: name: 'Ratings' is not a valid name")
    ratings.value.setText("")
    assert form.error.text() == "To 1 (the Service reviews) is already granted by to 2 (every Service); remove one"
    ratings.value.setText("ratings")
    # a Secret no route refers to: that entry allows nothing, the rest does
    qtbot.mouseClick(form.add_buttons["to"], Qt.MouseButton.LeftButton)
    form.targets[2].kind.setCurrentText("Secret")
    assert not form.warning.isHidden()
    assert "To 3: only a Gateway (its certificates) refers to a Secret" in form.warning.text()
    qtbot.mouseClick(form.targets[2].remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(form.targets) == 2)
    assert form.warning.isHidden() and form.error.text() == ""
    review(dialog, qtbot)
    assert dialog.plan.summary == ("ReferenceGrant bookinfo/from-shop-and-travel: HTTPRoutes of shop and GRPCRoutes "
                                   "of travel may refer to Service reviews and Service ratings of bookinfo")
    confirm(dialog, qtbot)
    grant = emu.get("referencegrants", "bookinfo", "from-shop-and-travel", GW)
    assert grant["spec"] == {
        "from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"},
                 {"group": GW, "kind": "GRPCRoute", "namespace": "travel"}],
        "to": [{"group": "", "kind": "Service", "name": "reviews"}, {"group": "", "kind": "Service", "name": "ratings"}]}


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_reference_grant_takes_at_most_sixteen_entries_a_side(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a ReferenceGrant in bookinfo…")
    form = dialog.form
    assert isinstance(form, ReferenceGrantForm)
    qtbot.keyClicks(form.name, "many")
    button = form.add_buttons["to"]
    for i in range(2, 17):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        form.targets[-1].value.setText(f"svc-{i}")
    form.to_name.setText("svc-1")
    assert len(form.targets) == 16 and not button.isEnabled()
    assert "at most 16 to entries" in button.toolTip()
    assert form.error.text() == ""
    with pytest.raises(RoutingError, match="17 to entries: the Gateway API takes at most 16"):
        build_reference_grant("many", "bookinfo", GrantSide("HTTPRoute", namespace="shop"),
                              [GrantSide("Service", name=f"s-{i}") for i in range(17)])


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_reference_grant_is_edited_in_its_form(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A ReferenceGrant could be created in its form, not edited: changing who may refer here took the YAML
    editor. Its form opens prefilled with every entry, and saving replaces the grant as read, through a
    review of the diff."""
    emu.add_namespace("travel")
    emu.add({"apiVersion": f"{GW}/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "routes-in", "namespace": "bookinfo", "labels": {"team": "books"}},
             "spec": {"from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"},
                               {"group": GW, "kind": "GRPCRoute", "namespace": "travel"}],
                      "to": [{"group": "", "kind": "Service", "name": "reviews"},
                             {"group": "", "kind": "Service", "name": "ratings"}]}})
    ctl = controller_for(emu, tmp_path, window)
    menu = answered_menu(ctl, qtbot, None, GRAPH, inventory(emu))
    action = next(a for a in menu.actions() if a.text() == "Edit ReferenceGrant routes-in in a form…")
    dialog = trigger(ctl, qtbot, action)
    form = dialog.form
    assert isinstance(form, ReferenceGrantForm)
    assert form.title == "Edit ReferenceGrant bookinfo/routes-in"
    assert form.name.text() == "routes-in" and form.name.isReadOnly()
    assert [(r.kind.currentText(), r.entry().namespace) for r in form.sources] == \
        [("HTTPRoute", "shop"), ("GRPCRoute", "travel")]
    assert [(r.kind.currentText(), r.entry().name) for r in form.targets] == \
        [("Service", "reviews"), ("Service", "ratings")]
    assert form.error.text() == ""
    # travel's routes no longer, and every Service rather than ratings alone
    qtbot.mouseClick(form.sources[1].remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(form.sources) == 1)
    form.targets[1].value.setText("details")
    review(dialog, qtbot)
    assert dialog.plan.summary == "Save the edited ReferenceGrant bookinfo/routes-in"
    changed = [line for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-  - group: gateway.networking.k8s.io", "-    kind: GRPCRoute", "-    namespace: travel",
                       "-    name: ratings", "+    name: details"], changed
    confirm(dialog, qtbot)
    grant = emu.get("referencegrants", "bookinfo", "routes-in", GW)
    assert grant["spec"] == {"from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"}],
                             "to": [{"group": "", "kind": "Service", "name": "reviews"},
                                    {"group": "", "kind": "Service", "name": "details"}]}
    assert grant["metadata"]["labels"] == {"team": "books"}  # only the spec is the form's


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_reference_grant_the_form_cannot_show_is_not_edited_in_it(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A kind the form does not offer would be lost by saving from it: the item says so and stays disabled."""
    emu.add({"apiVersion": f"{GW}/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "odd", "namespace": "bookinfo"},
             "spec": {"from": [{"group": GW, "kind": "UDPRoute", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Service"}]}})
    ctl = controller_for(emu, tmp_path, window)
    menu = answered_menu(ctl, qtbot, None, GRAPH, inventory(emu))
    action = next(a for a in menu.actions() if a.text() == "Edit ReferenceGrant odd in a form…")
    assert not action.isEnabled()
    assert "spec.from[0].kind 'UDPRoute' (the form offers HTTPRoute" in action.toolTip()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_listener_hostname_with_a_label_longer_than_dns_takes_is_refused_naming_it(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """The Gateway API's pattern takes labels of any length, so a 64-character label was let through and
    written; DNS and Istio take 63. The label is named, and nothing is written."""
    ctl = controller_for(emu, tmp_path, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Add a Kubernetes Gateway in bookinfo…")
    form = dialog.form
    assert isinstance(form, K8sGatewayForm)
    qtbot.keyClicks(form.name, "long")
    label = "shop" + "x" * 60
    form.listeners[0].hostname.setText(f"{label}.example.com")
    message = refused(dialog, qtbot).replace("\u200b", "")  # (a long word is shown with places to wrap)
    assert message.endswith(f": its label '{label[:40]}\u2026{label[-15:]}' is 64 characters long; a DNS label (the "
                            "part between dots) is at most 63"), message
    assert emu.objects("gateways", GW, "bookinfo") == []
    form.listeners[0].hostname.setText(f"*.{label[:63]}.example.com")
    assert form.error.text() == ""


@pytest.mark.parametrize(("check", "host", "message"), [
    # a Kubernetes Gateway's listener: the Gateway API's maxLength, 253
    (hostname_problem, ("a" * 63 + ".") * 3 + "b" * 61, None),
    (hostname_problem, ("a" * 63 + ".") * 3 + "b" * 63, "is 255 characters long: a host name is at most 253"),
    (lambda v: address_problem("Hostname", v), f"{'c' * 64}.example.com", "its label 'cccccccccc"),
    # Istio's Gateway: Istio's 255, a label of 63, no all-digit last label but an IP address, no short name
    (gateway_host_problem, ("a" * 63 + ".") * 3 + "b" * 63, None),
    (gateway_host_problem, "x." + "a" * 64 + ".com", "is 64 characters long; a DNS label (the part between dots)"),
    (gateway_host_problem, "shop.123", "its last label '123' is all digits, which Istio refuses"),
    (gateway_host_problem, "192.0.2.10", None),
    (gateway_host_problem, "bookinfo/reviews", "'reviews' is a short name, which Istio refuses in a Gateway"),
    (gateway_host_problem, "*", None),
    (gateway_host_problem, "./*.example.com", None),
    # a Sidecar's egress host: as Istio checks it, an IP address refused too
    (egress_host_problem, "*/192.0.2.10", "its last label '10' is all digits, which Istio refuses"),
    (egress_host_problem, "./reviews", "'reviews' is a short name, which Istio refuses in a Sidecar"),
    (egress_host_problem, "istio-system/*", None),
])
def test_host_names_are_judged_as_istio_judges_them(check: Any, host: str, message: str | None) -> None:
    """Istio checks a host's length (255), each label's (63), refuses an all-digit last label (a Gateway
    takes an IP address) and, in a Gateway or a Sidecar, a short name; a Kubernetes Gateway's hostname is
    at most 253 characters, its CRD's maxLength."""
    if message is None:
        assert check(host) == ""
    else:
        assert message in check(host)
