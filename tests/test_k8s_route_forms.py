"""Kiali's "K8s Request Routing" in meshdesk: a service's Gateway API HTTPRoute written from its context
menu (parents, matches, a header modifier, weighted backends to its versions' Services), reviewed, dry-run
and applied; opened again to be edited; refused where the form would lose something; removed by "Delete
traffic routing". Against the Kubernetes API emulator serving Istio's and the Gateway API's CRDs with
Bookinfo running; real widgets, offscreen; no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_SERVICE, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.k8s_route_config import Backend, RouteMatch, RouteRule, ValueMatch, build_http_route
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import MANAGED_LABEL, RoutingError
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.inventory import read_inventory
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.change_dialog import FORM, ChangeDialog
from meshdesk.ui.dialogs.k8s_route_forms import HTTPRouteForm
from tests import gateway_api_crds
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.test_security_actions import confirm, review  # noqa: F401 - (the GRPCRoute tests take them from here)
from tests.ui_helpers import answered_menu

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
GW = "gateway.networking.k8s.io"
GRAPH = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
MENU_LOG = r"^This plugin does not support (raise\(\)|grabbing the keyboard)$"

pytestmark = pytest.mark.ui


def _version_service(version: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"reviews-{version}", "labels": {"app": "reviews"}},
            "spec": {"selector": {"app": "reviews", "version": version},
                     "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]}}


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    gateway_api_crds.install(kube_emulator)
    kube_emulator.add({"apiVersion": f"{GW}/v1", "kind": "GatewayClass", "metadata": {"name": "istio"},
                       "spec": {"controllerName": "istio.io/gateway-controller"}})
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    for version in ("v1", "v2"):  # the versions' own Services, which Kiali's wizard sends to
        kube_emulator.add(_version_service(version), "bookinfo")
    kube_emulator.add({"apiVersion": f"{GW}/v1", "kind": "Gateway", "metadata": {"name": "books"},
                       "spec": {"gatewayClassName": "istio",
                                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "bookinfo")
    kube_emulator.run_workloads()
    yield kube_emulator


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="Kubernetes")


def service_node(name: str) -> Node:
    return Node(f"svc-{name}", NODE_SERVICE, namespace="bookinfo", service=name)


def controller_for(emu: KubeEmulator, tmp_path: Path, window: QWidget) -> ActionsController:
    return ActionsController(ClusterSource(emu.api_client(), context="emu"), Settings(tmp_path / "s.json"), window)


def menu_actions(ctl: ActionsController, qtbot: QtBot, emu: KubeEmulator, service: str) -> dict[str, Any]:
    menu = answered_menu(ctl, qtbot, service_node(service), GRAPH, inventory(emu))
    return {a.objectName(): a for a in menu.actions()}


def trigger(ctl: ActionsController, qtbot: QtBot, action: Any) -> ChangeDialog:
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    return dialog




def route(emu: KubeEmulator, name: str = "reviews") -> Any:
    return emu.get("httproutes", "bookinfo", name, GW)


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_services_httproute_is_written_edited_and_deleted_from_its_menu(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """As Kiali's wizard: the route is named after the service, sends to its versions' Services (50/50 to
    begin with), labelled kiali_wizard; the mesh's requests (the Service as parent) and a chosen Gateway's
    take it. Opened again it edits that route, and the review's diff is of what was changed; the forms
    that write a VirtualService are then off; "Delete traffic routing" deletes it."""
    ctl = controller_for(emu, tmp_path, window)
    actions = menu_actions(ctl, qtbot, emu, "reviews")
    assert actions["k8s-request-routing"].text() == "K8s request routing…"
    dialog = trigger(ctl, qtbot, actions["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm)
    assert form.name.text() == "reviews" and form.mesh.isChecked()
    rule = form.rules[0]
    assert [(name, port.value(), weight.value()) for name, port, weight in rule.weights] == [
        ("reviews-v1", 9080, 50), ("reviews-v2", 9080, 50)]
    assert [form.gateways.item(i).text() for i in range(form.gateways.count())] == ["Gateway bookinfo/books"]
    form.gateways.item(0).setCheckState(Qt.CheckState.Checked)
    match = rule.matches[0]
    match.path_type.setCurrentText("PathPrefix")
    qtbot.keyClicks(match.path, "api")
    assert form.error.text() == "Path 'api' must start with '/'"
    match.path.setText("/api")
    match.headers.setPlainText("end-user=jason\nx-build~=^v[0-9]+$")
    assert form.error.text() == ""
    rule.header_changes.setPlainText("set X-Canary: yes")
    rule.weights[0][2].setValue(0)
    rule.weights[1][2].setValue(100)
    # a second rule: every other request to v1
    other = form.add_rule()
    other.weights[1][2].setValue(0)
    other.weights[0][2].setValue(100)
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert [c.title() for c in dialog.plan.changes] == ["Create HTTPRoute bookinfo/reviews"]
    assert "The mesh's requests to Service bookinfo/reviews are routed by it" in dialog.notes.text()
    confirm(dialog, qtbot)
    written = route(emu)
    assert written["metadata"]["labels"] == {"kiali_wizard": "k8s_request_routing", MANAGED_LABEL: "meshdesk"}
    assert written["spec"] == {
        "parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}, {"name": "books"}],
        "rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"},
                          "headers": [{"name": "end-user", "type": "Exact", "value": "jason"},
                                      {"name": "x-build", "type": "RegularExpression", "value": "^v[0-9]+$"}]}],
             "filters": [{"type": "RequestHeaderModifier",
                          "requestHeaderModifier": {"set": [{"name": "X-Canary", "value": "yes"}]}}],
             "backendRefs": [{"name": "reviews-v2", "port": 9080, "weight": 100}]},
            {"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 100}]}]}

    # the forms writing a VirtualService are off now (Istio takes one of the two); this one edits the route
    actions = menu_actions(ctl, qtbot, emu, "reviews")
    assert not actions["traffic-shifting"].isEnabled()
    assert "HTTPRoute bookinfo/reviews" in actions["traffic-shifting"].toolTip()
    assert actions["k8s-request-routing"].text() == "K8s request routing (HTTPRoute reviews)…"
    dialog = trigger(ctl, qtbot, actions["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm)
    assert form.title == "Edit HTTPRoute bookinfo/reviews" and form.name.isReadOnly()
    assert len(form.rules) == 2 and form.rules[0].matches[0].path.text() == "/api"
    assert form.rules[0].matches[0].headers.toPlainText() == "end-user=jason\nx-build~=^v[0-9]+$"
    assert form.rules[0].header_changes.toPlainText() == "set X-Canary: yes"
    assert form.gateways.item(0).checkState() == Qt.CheckState.Checked
    assert form.error.text() == ""
    form.rules[0].weights[0][2].setValue(10)  # a canary share to v1 in the first rule
    review(dialog, qtbot)
    diff = dialog.diff_text.toPlainText()  # the review's Diff tab
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["+    - name: reviews-v1", "+      port: 9080", "+      weight: 10"], diff
    confirm(dialog, qtbot)
    assert route(emu)["spec"]["rules"][0]["backendRefs"] == [
        {"name": "reviews-v1", "port": 9080, "weight": 10}, {"name": "reviews-v2", "port": 9080, "weight": 100}]

    # Delete traffic routing removes it
    actions = menu_actions(ctl, qtbot, emu, "reviews")
    dialog = trigger(ctl, qtbot, actions["delete-routing"])
    assert [dialog.form.objects.item(i).text() for i in range(dialog.form.objects.count())] == [
        "K8sHTTPRoute bookinfo/reviews"]
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert route(emu) is None
    assert menu_actions(ctl, qtbot, emu, "reviews")["traffic-shifting"].isEnabled()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_route_the_form_cannot_show_is_refused_saying_what_would_be_lost(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    emu.add({"apiVersion": f"{GW}/v1", "kind": "HTTPRoute", "metadata": {"name": "ratings-moved"},
             "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "ratings", "port": 9080}],
                      "rules": [{"filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": "ratings.example"}}],
                                 "backendRefs": [{"name": "ratings", "port": 9080}]},
                                {"timeouts": {"request": "5s"},
                                 "backendRefs": [{"name": "ratings", "port": 9080}]}]}}, "bookinfo")
    ctl = controller_for(emu, tmp_path, window)
    action = menu_actions(ctl, qtbot, emu, "ratings")["k8s-request-routing"]
    assert not action.isEnabled()
    assert action.toolTip() == (
        "The form cannot show all of HTTPRoute bookinfo/ratings-moved: it has spec.rules[0].filters[0] "
        "(URLRewrite: the form knows header modifiers, a mirror, a redirect), spec.rules[1].timeouts, which the form does "
        "not know, and saving from the form would drop it. Edit it as YAML instead (Istio config dock, Edit).")
    # nor is "Delete traffic routing" offered for a route meshdesk did not make
    assert not menu_actions(ctl, qtbot, emu, "ratings")["delete-routing"].isEnabled()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_the_form_checks_as_the_gateway_api_does(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """Header names, regular expressions (RE2, as Envoy), paths, the CRD's limits: said under the form as
    typed, and the review refuses them with the same words."""
    ctl = controller_for(emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, emu, "details")["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm)
    rule = form.rules[0]
    # details has no versions' Services: the route sends to the service itself
    assert [(n, p.value(), w.value()) for n, p, w in rule.weights] == [("details", 9080, 100)]
    match = rule.matches[0]
    match.headers.setPlainText("end user=jason")
    assert form.error.text().startswith("Header name 'end user' is not a header name as the Gateway API takes one")
    match.headers.setPlainText("x-user~=(?=a)b")
    assert "is not a regular expression" in form.error.text()
    match.headers.setPlainText("")
    match.path_type.setCurrentText("Exact")
    match.path.setText("/a//b")
    assert form.error.text() == "Path '/a//b' must not contain '//'"
    match.path.setText("/a/b")
    form.mesh.setChecked(False)
    assert form.error.text().startswith("Choose where the route applies")
    form.mesh.setChecked(True)
    rule.header_changes.setPlainText("remove X-Debug\nset x-debug: 1")
    assert form.error.text() == ""
    rule.header_changes.setPlainText("set X-A: 1\nset x-a: 2")
    assert form.error.text() == "Header x-a is given twice to set"
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and dialog.form_error.text().startswith("header x-a is given twice to set")
    rule.header_changes.setPlainText("")
    # at most 8 matches a rule and 16 rules, as the CRD: the Add buttons stop there
    while rule.match_list.add_button.isEnabled():
        rule.add_match()
    assert len(rule.matches) == 8
    while form.rule_list.add_button.isEnabled():
        form.add_rule()
    assert len(form.rules) == 16
    # and the builder refuses more, and weights beyond the Gateway API's
    svc = inventory(emu).service("bookinfo", "details")
    assert svc is not None
    one = RouteRule([RouteMatch("PathPrefix", "/")], [], [Backend("details", 9080, 1)])
    with pytest.raises(RoutingError, match="a route has at most 16 rules"):
        build_http_route("details", svc, mesh=True, gateways=[], hostnames=[], rules=[one] * 17)
    with pytest.raises(RoutingError, match="a rule takes at most 8 matches"):
        build_http_route("details", svc, mesh=True, gateways=[], hostnames=[],
                         rules=[RouteRule([RouteMatch("Exact", f"/{i}") for i in range(9)], [], one.backends)])
    with pytest.raises(RoutingError, match="weight 1000001 is not from 0 to 1 000 000"):
        build_http_route("details", svc, mesh=True, gateways=[], hostnames=[],
                         rules=[RouteRule([], [], [Backend("details", 9080, 1_000_001)])])
    with pytest.raises(RoutingError, match="query parameter q is matched twice"):
        build_http_route("details", svc, mesh=True, gateways=[], hostnames=[], rules=[RouteRule(
            [RouteMatch(query=[ValueMatch("q", "1"), ValueMatch("q", "2")])], [], one.backends)])


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_k8s_request_routing_is_off_for_a_service_a_virtual_service_routes(
        emu: KubeEmulator, shared_dir: Path, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """Istio routes a service's requests by one of the two: said in the menu, before the form is filled in."""
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml",
                  namespace="bookinfo")
    ctl = controller_for(emu, tmp_path, window)
    action = menu_actions(ctl, qtbot, emu, "productpage")["k8s-request-routing"]
    assert not action.isEnabled()
    assert action.toolTip().startswith("Service bookinfo/productpage is routed by VirtualService "
                                       "bookinfo/productpage. Istio routes a service's requests by a VirtualService "
                                       "or by a Gateway API route, not both")


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_k8s_request_routing_is_off_on_a_cluster_without_the_gateway_api(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    kube_emulator.run_workloads()
    ctl = controller_for(kube_emulator, tmp_path, window)
    action = menu_actions(ctl, qtbot, kube_emulator, "details")["k8s-request-routing"]
    assert not action.isEnabled() and "does not serve the Kubernetes Gateway API" in action.toolTip()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_route_kialis_wizard_wrote_opens_in_the_form_and_saves_unchanged(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """Kiali's wizard spells some things its own way (the Gateway's namespace beside the route's, an empty
    path match, ``filters: []``, a backend without a weight): opened and reviewed untouched, nothing is
    changed, and a change touches only what was changed."""
    emu.add({"apiVersion": f"{GW}/v1", "kind": "HTTPRoute",
             "metadata": {"name": "reviews", "labels": {"kiali_wizard": "k8s_request_routing"}},
             "spec": {"hostnames": ["reviews"], "parentRefs": [{"name": "books", "namespace": "bookinfo"}],
                      "rules": [{"matches": [{"path": {}, "method": "GET"}], "filters": [],
                                 "backendRefs": [{"name": "reviews-v1", "port": 9080},
                                                 {"name": "reviews-v2", "port": 9080, "weight": 0}]}]}}, "bookinfo")
    ctl = controller_for(emu, tmp_path, window)
    actions = menu_actions(ctl, qtbot, emu, "reviews")
    dialog = trigger(ctl, qtbot, actions["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm) and form.error.text() == ""
    assert not form.mesh.isChecked() and form.hostnames.text() == "reviews"
    assert [(n, w.value()) for n, _p, w in form.rules[0].weights] == [("reviews-v1", 1), ("reviews-v2", 0)]
    review(dialog, qtbot)
    assert dialog.plan.empty, dialog.diff_text.toPlainText()
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    form.rules[0].matches[0].method.setCurrentText("POST")
    review(dialog, qtbot)
    changed = [line for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-      method: GET", "+      method: POST"]
    confirm(dialog, qtbot)
    assert route(emu)["metadata"]["labels"] == {"kiali_wizard": "k8s_request_routing"}  # Kiali's, as they were
    # not meshdesk's: "Delete traffic routing" leaves it, saying so
    delete = menu_actions(ctl, qtbot, emu, "reviews")["delete-routing"]
    assert not delete.isEnabled()
    assert delete.toolTip() == (
        "meshdesk created no traffic routing for service reviews: its HTTPRoute reviews, made by Kiali's k8s request "
        "routing wizard, is not meshdesk's, and only what meshdesk made is deleted here. Delete it in the Istio "
        "config view (its Delete… button).")


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_service_with_several_httproutes_offers_each_and_edits_the_one_picked(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A service routed by two HTTPRoutes (the mesh's requests by one, a Gateway's by another) has an entry
    for each, named; the one picked opens in the form and is the one changed, the other left as it was."""
    mesh_route = {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
                  "rules": [{"backendRefs": [{"name": "reviews-v1", "port": 9080}]}]}
    edge_route = {"parentRefs": [{"name": "books"}],
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/reviews"}}],
                             "backendRefs": [{"name": "reviews-v2", "port": 9080}]}]}
    for name, spec in (("reviews", mesh_route), ("reviews-edge", edge_route)):
        emu.add({"apiVersion": f"{GW}/v1", "kind": "HTTPRoute", "metadata": {"name": name}, "spec": spec}, "bookinfo")
    ctl = controller_for(emu, tmp_path, window)
    menu = answered_menu(ctl, qtbot, service_node("reviews"), GRAPH, inventory(emu))
    entries = [a for a in menu.actions() if a.objectName() == "k8s-request-routing"]
    assert [a.text() for a in entries] == ["K8s request routing (HTTPRoute reviews)…",
                                           "K8s request routing (HTTPRoute reviews-edge)…"]
    dialog = trigger(ctl, qtbot, entries[1])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm)
    assert form.title == "Edit HTTPRoute bookinfo/reviews-edge" and form.name.text() == "reviews-edge"
    assert not form.mesh.isChecked() and form.gateways.item(0).checkState() == Qt.CheckState.Checked
    assert form.rules[0].matches[0].path.text() == "/reviews"
    form.rules[0].weights[0][2].setValue(1)  # reviews-v1 shares the Gateway's requests too
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert route(emu, "reviews-edge")["spec"]["rules"][0]["backendRefs"] == [
        {"name": "reviews-v1", "port": 9080, "weight": 1}, {"name": "reviews-v2", "port": 9080}]
    assert route(emu, "reviews")["spec"] == mesh_route
