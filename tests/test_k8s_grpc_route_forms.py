"""Kiali's "K8s GRPC Routing" in meshdesk: a gRPC service's Gateway API GRPCRoute written from its context
menu (matches on the gRPC method and headers, a header modifier, weighted backends to its versions'
Services), reviewed, dry-run and applied; opened again to be edited; refused where the form would lose
something; removed by "Delete traffic routing". Against the Kubernetes API emulator serving Istio's and the
Gateway API's CRDs with Bookinfo and a gRPC service; real widgets, offscreen; no sleeps."""
# ruff: noqa: F811 - the fixtures emu and window, imported from the HTTPRoute form's tests, are parameters here

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from meshdesk.mesh.k8s_route_config import GRPC_ROUTE, Backend, RouteMatch, RouteRule, build_http_route
from meshdesk.mesh.routing import MANAGED_LABEL, RoutingError
from meshdesk.ui.dialogs.change_dialog import FORM
from meshdesk.ui.dialogs.k8s_route_forms import GRPCRouteForm, HTTPRouteForm
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_k8s_route_forms import (  # noqa: F401 - emu and window are fixtures
    GW,
    MENU_LOG,
    confirm,
    controller_for,
    emu,
    inventory,
    menu_actions,
    review,
    trigger,
    window,
)

pytestmark = pytest.mark.ui


def _service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    """A Service whose first port is its metrics' (HTTP) and whose gRPC port is named grpc-api."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"app": "greeter"}},
            "spec": {"selector": selector, "ports": [{"name": "http-metrics", "port": 9090},
                                                     {"name": "grpc-api", "port": 50051}]}}


@pytest.fixture
def grpc_emu(emu: KubeEmulator) -> Iterator[KubeEmulator]:
    emu.add(_service("greeter", {"app": "greeter"}), "bookinfo")
    for version in ("v1", "v2"):
        emu.add(_service(f"greeter-{version}", {"app": "greeter", "version": version}), "bookinfo")
    yield emu


def grpc_route(emu: KubeEmulator, name: str = "greeter") -> Any:
    return emu.get("grpcroutes", "bookinfo", name, GW)


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_grpc_services_grpcroute_is_written_edited_and_deleted_from_its_menu(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    """As Kiali's wizard: named after the service, labelled kiali_wizard k8s_grpc_request_routing, sending to
    its versions' Services on their gRPC port; a rule matching a gRPC method and a header. Opened again it
    edits that route; K8s request routing (HTTPRoute) is then off, saying why; Delete traffic routing
    deletes it."""
    emu = grpc_emu
    ctl = controller_for(emu, tmp_path, window)
    actions = menu_actions(ctl, qtbot, emu, "greeter")
    assert actions["k8s-grpc-routing"].text() == "K8s gRPC routing…"
    assert actions["k8s-request-routing"].isEnabled()  # beside it, as in Kiali
    dialog = trigger(ctl, qtbot, actions["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm)
    assert form.name.text() == "greeter" and form.mesh.isChecked()
    assert not form.warning.isVisible() or not form.warning.text()
    rule = form.rules[0]
    assert [(name, port.value(), weight.value()) for name, port, weight in rule.weights] == [
        ("greeter-v1", 50051, 50), ("greeter-v2", 50051, 50)]
    match = rule.matches[0]
    assert not match.path.isVisibleTo(form) and not match.query.isVisibleTo(form)  # no HTTP path or query
    assert not match.rpc_service.isEnabled()
    match.rpc_type.setCurrentText("Exact")
    assert form.error.text() == "A method match needs a gRPC service or a method (or both)"
    qtbot.keyClicks(match.rpc_service, "helloworld.Greeter")
    qtbot.keyClicks(match.rpc_method, "SayHello")
    match.headers.setPlainText("x-canary=yes")
    assert form.error.text() == ""
    rule.weights[0][2].setValue(0)
    rule.weights[1][2].setValue(100)
    other = form.add_rule()  # every other call to v1
    other.weights[1][2].setValue(0)
    other.weights[0][2].setValue(100)
    review(dialog, qtbot)
    assert [c.title() for c in dialog.plan.changes] == ["Create GRPCRoute bookinfo/greeter"]
    confirm(dialog, qtbot)
    written = grpc_route(emu)
    assert written["metadata"]["labels"] == {"kiali_wizard": "k8s_grpc_request_routing", MANAGED_LABEL: "meshdesk"}
    assert written["spec"] == {
        "parentRefs": [{"group": "", "kind": "Service", "name": "greeter", "port": 50051}],
        "rules": [
            {"matches": [{"headers": [{"name": "x-canary", "type": "Exact", "value": "yes"}],
                          "method": {"type": "Exact", "service": "helloworld.Greeter", "method": "SayHello"}}],
             "backendRefs": [{"name": "greeter-v2", "port": 50051, "weight": 100}]},
            {"backendRefs": [{"name": "greeter-v1", "port": 50051, "weight": 100}]}]}
    assert emu.get("httproutes", "bookinfo", "greeter", GW) is None

    actions = menu_actions(ctl, qtbot, emu, "greeter")
    assert not actions["k8s-request-routing"].isEnabled()
    assert actions["k8s-request-routing"].toolTip().startswith(
        "Service bookinfo/greeter is routed by GRPCRoute bookinfo/greeter: edit that one (K8s gRPC routing)")
    assert not actions["traffic-shifting"].isEnabled()
    assert actions["k8s-grpc-routing"].text() == "K8s gRPC routing (GRPCRoute greeter)…"
    dialog = trigger(ctl, qtbot, actions["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm) and form.name.isReadOnly()
    match = form.rules[0].matches[0]
    assert (match.rpc_type.currentText(), match.rpc_service.text(), match.rpc_method.text()) == (
        "Exact", "helloworld.Greeter", "SayHello")
    assert match.headers.toPlainText() == "x-canary=yes" and form.error.text() == ""
    match.rpc_type.setCurrentText("RegularExpression")
    match.rpc_method.setText("Say.*")
    review(dialog, qtbot)
    assert sorted(changed_lines(dialog.diff_text.toPlainText())) == [
        "+        method: Say.*", "+        type: RegularExpression", "-        method: SayHello",
        "-        type: Exact"], dialog.diff_text.toPlainText()
    confirm(dialog, qtbot)
    assert grpc_route(emu)["spec"]["rules"][0]["matches"][0]["method"] == {
        "type": "RegularExpression", "service": "helloworld.Greeter", "method": "Say.*"}

    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, emu, "greeter")["delete-routing"])
    assert [dialog.form.objects.item(i).text() for i in range(dialog.form.objects.count())] == [
        "K8sGRPCRoute bookinfo/greeter"]
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert grpc_route(emu) is None
    actions = menu_actions(ctl, qtbot, emu, "greeter")
    assert actions["k8s-request-routing"].isEnabled() and actions["traffic-shifting"].isEnabled()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_the_grpc_form_checks_as_the_gateway_api_does(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    """A method match's service and method as GRPCMethodMatch's rules take them, RE2 for a regular
    expression, the CRD's 16 rules and 8 matches: said under the form, and the review refuses them."""
    ctl = controller_for(grpc_emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "greeter")["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm)
    rule = form.rules[0]
    match = rule.matches[0]
    match.rpc_type.setCurrentText("Exact")
    match.rpc_service.setText("helloworld/Greeter")
    assert form.error.text().startswith("The gRPC service 'helloworld/Greeter' is not a service name")
    match.rpc_service.setText("helloworld.Greeter")
    match.rpc_method.setText("2Say")
    assert form.error.text().startswith("The gRPC method '2Say' is not a method name")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and dialog.form_error.text().startswith("the gRPC method '2Say' is not a method name")
    match.rpc_type.setCurrentText("RegularExpression")
    match.rpc_method.setText("(?=Say)")
    assert "is not a regular expression" in form.error.text()
    match.rpc_method.setText("Say.*")
    assert form.error.text() == ""
    match.headers.setPlainText("bad header=1")
    assert form.error.text().startswith("Header name 'bad header' is not a header name")
    match.headers.setPlainText("")
    while rule.match_list.add_button.isEnabled():
        rule.add_match()
    assert len(rule.matches) == 8
    while form.rule_list.add_button.isEnabled():
        form.add_rule()
    assert len(form.rules) == 16
    svc = inventory(grpc_emu).service("bookinfo", "greeter")
    assert svc is not None
    one = RouteRule([RouteMatch(rpc_type="Exact", rpc_method="SayHello")], [], [Backend("greeter", 50051)])
    with pytest.raises(RoutingError, match="a route has at most 16 rules"):
        build_http_route("greeter", svc, mesh=True, gateways=[], hostnames=[], rules=[one] * 17, kind=GRPC_ROUTE)
    with pytest.raises(RoutingError, match="a rule takes at most 8 matches"):
        build_http_route("greeter", svc, mesh=True, gateways=[], hostnames=[], kind=GRPC_ROUTE,
                         rules=[RouteRule(one.matches * 9, [], one.backends)])
    with pytest.raises(RoutingError, match="a GRPCRoute matches on the gRPC method and headers only"):
        build_http_route("greeter", svc, mesh=True, gateways=[], hostnames=[], kind=GRPC_ROUTE,
                         rules=[RouteRule([RouteMatch("PathPrefix", "/")], [], one.backends)])


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_grpcroute_the_form_cannot_show_is_refused_and_not_deleted(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    grpc_emu.add({"apiVersion": f"{GW}/v1", "kind": "GRPCRoute", "metadata": {"name": "greeter-limited"},
                  "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "greeter", "port": 50051}],
                           "rules": [{"filters": [{"type": "ExtensionRef",
                                                   "extensionRef": {"group": "example.io", "kind": "Limit",
                                                                    "name": "slow"}}],
                                      "backendRefs": [{"name": "greeter-v1", "port": 50051}]}]}}, "bookinfo")
    ctl = controller_for(grpc_emu, tmp_path, window)
    actions = menu_actions(ctl, qtbot, grpc_emu, "greeter")
    action = actions["k8s-grpc-routing"]
    assert not action.isEnabled()
    assert action.toolTip() == (
        "The form cannot show all of GRPCRoute bookinfo/greeter-limited: it has spec.rules[0].filters[0] "
        "(ExtensionRef: the form knows header modifiers, a mirror), which the form does not know, and saving from "
        "the form would drop it. Edit it as YAML instead (Istio config dock, Edit).")
    assert not actions["delete-routing"].isEnabled()
    assert "its GRPCRoute greeter-limited is not meshdesk's" in actions["delete-routing"].toolTip()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_grpcroute_kialis_wizard_wrote_opens_and_saves_unchanged(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    """Kiali writes a method match without its type Exact, the Gateway's namespace and ``filters: []``: read
    and reviewed untouched nothing changes; a change touches only what was changed."""
    grpc_emu.add({"apiVersion": f"{GW}/v1", "kind": "GRPCRoute",
                  "metadata": {"name": "greeter", "labels": {"kiali_wizard": "k8s_grpc_request_routing"}},
                  "spec": {"hostnames": ["greeter"], "parentRefs": [{"name": "books", "namespace": "bookinfo"}],
                           "rules": [{"matches": [{"method": {"service": "helloworld.Greeter"}}], "filters": [],
                                      "backendRefs": [{"name": "greeter-v1", "port": 50051}]}]}}, "bookinfo")
    ctl = controller_for(grpc_emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "greeter")["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm) and form.error.text() == ""
    assert not form.mesh.isChecked() and form.gateways.item(0).checkState() == Qt.CheckState.Checked
    match = form.rules[0].matches[0]
    assert (match.rpc_type.currentText(), match.rpc_service.text(), match.rpc_method.text()) == (
        "Exact", "helloworld.Greeter", "")
    review(dialog, qtbot)
    assert dialog.plan.empty, dialog.diff_text.toPlainText()
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    match.rpc_method.setText("SayHello")
    review(dialog, qtbot)
    assert changed_lines(dialog.diff_text.toPlainText()) == ["+        method: SayHello"]
    confirm(dialog, qtbot)
    assert grpc_route(grpc_emu)["metadata"]["labels"] == {"kiali_wizard": "k8s_grpc_request_routing"}


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_the_grpc_form_warns_of_a_service_that_names_no_grpc_port(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    ctl = controller_for(grpc_emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "details")["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm) and not isinstance(form, type(None))
    assert form.warning.isVisibleTo(form) and form.warning.text().startswith(
        "Service bookinfo/details names no gRPC port (appProtocol grpc, or a name grpc or grpc-*)")
    assert issubclass(GRPCRouteForm, HTTPRouteForm)


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_remove_meshdesk_config_in_a_namespace_deletes_the_grpcroute_meshdesk_made(
        grpc_emu: KubeEmulator, tmp_path: Any, window: Any, qtbot: QtBot) -> None:
    grpc_emu.add({"apiVersion": f"{GW}/v1", "kind": "GRPCRoute",
                  "metadata": {"name": "greeter", "labels": {"kiali_wizard": "k8s_grpc_request_routing",
                                                             MANAGED_LABEL: "meshdesk"}},
                  "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "greeter", "port": 50051}],
                           "rules": [{"backendRefs": [{"name": "greeter-v1", "port": 50051}]}]}}, "bookinfo")
    ctl = controller_for(grpc_emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "greeter")["remove"])
    assert "K8sGRPCRoute bookinfo/greeter" in [dialog.form.objects.item(i).text()
                                               for i in range(dialog.form.objects.count())]
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert grpc_route(grpc_emu) is None
