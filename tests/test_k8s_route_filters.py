"""The filters of Kiali's "K8s Request Routing" and "K8s GRPC Routing" wizards in meshdesk's route forms: a
response header modifier, a redirect (HTTPRoute only) and a mirror, besides the request header modifier.
Written as Kiali's wizard writes them for the same choices (its filters' order, a mirror to a version's
Service by name and port, a redirect's scheme, host, port and status), but as the Gateway API takes them:
one filter a modifier (the wizard writes one a header, which the CRD refuses) and no backends beside a
redirect. Opened again, the route's filters are in the form and an untouched review changes nothing. Against
the Kubernetes API emulator; real widgets, offscreen; no sleeps."""

# ruff: noqa: F811 - the fixtures emu, grpc_emu and window, imported from the route forms' tests, are parameters

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.ui.dialogs.change_dialog import FORM
from meshdesk.ui.dialogs.k8s_route_forms import GRPCRouteForm, HTTPRouteForm
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_k8s_grpc_route_forms import grpc_emu, grpc_route  # noqa: F401 - grpc_emu is a fixture
from tests.test_k8s_route_forms import (  # noqa: F401 - emu and window are fixtures
    MENU_LOG,
    confirm,
    controller_for,
    emu,
    menu_actions,
    review,
    route,
    trigger,
    window,
)

pytestmark = pytest.mark.ui


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_an_httproute_rule_redirects_mirrors_and_changes_response_headers_as_kialis_wizard_offers(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, emu, "reviews")["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm)
    # rule 1: /old is redirected (Kiali's "requestRedirect https://reviews.example.com:8443 301")
    old = form.rules[0]
    old.matches[0].path_type.setCurrentText("PathPrefix")
    old.matches[0].path.setText("/old")
    assert not old.redirect_host.isEnabled() and old.backend_box.isEnabled()
    old.redirect.setChecked(True)
    assert old.redirect_host.isEnabled() and not old.backend_box.isEnabled()  # a redirect goes to no backend
    old.redirect_scheme.setCurrentText("https")
    old.redirect_host.setText("*.example.com")
    assert form.error.text() == "A redirect names one host, not a wildcard ('*.example.com')"
    old.redirect_host.setText("reviews.example.com")
    old.redirect_port.setValue(8443)
    assert [old.redirect_status.itemData(i) for i in range(old.redirect_status.count())] == [301, 302]
    assert form.error.text() == ""
    # rule 2: every other request to v1 and v2, a copy of each to v2, response headers changed
    rest = form.add_rule()
    rest.response_header_changes.setPlainText("set Cache-Control: no-store\nremove Server")
    assert rest.mirror.itemText(0) == "(no mirror)"
    rest.mirror.setCurrentText("reviews-v2:9080")
    rest.response_header_changes.setPlainText("set Cache-Control: no-store\nset cache-control: x")
    assert form.error.text() == "Rule 2: response headers: header cache-control is given twice to set"
    rest.response_header_changes.setPlainText("set Cache-Control: no-store\nremove Server")
    assert form.error.text() == ""
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert route(emu)["spec"]["rules"] == [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/old"}}],
         "filters": [{"type": "RequestRedirect",
                      "requestRedirect": {"scheme": "https", "hostname": "reviews.example.com", "port": 8443,
                                          "statusCode": 301}}]},
        {"filters": [{"type": "ResponseHeaderModifier",
                      "responseHeaderModifier": {"set": [{"name": "Cache-Control", "value": "no-store"}],
                                                 "remove": ["Server"]}},
                     {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "reviews-v2", "port": 9080}}}],
         "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 50},
                         {"name": "reviews-v2", "port": 9080, "weight": 50}]}]

    # opened again: the filters are in the form, and a review of it untouched changes nothing
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, emu, "reviews")["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm) and form.error.text() == ""
    old, rest = form.rules
    assert old.redirect.isChecked() and not old.backend_box.isEnabled()
    assert (old.redirect_scheme.currentText(), old.redirect_host.text(), old.redirect_port.value(),
            old.redirect_status.currentData()) == ("https", "reviews.example.com", 8443, 301)
    assert rest.mirror.currentText() == "reviews-v2:9080"
    assert rest.response_header_changes.toPlainText() == "set Cache-Control: no-store\nremove Server"
    review(dialog, qtbot)
    assert dialog.plan.empty, dialog.diff_text.toPlainText()
    # the redirect taken off, the rule sends to the versions again, shared as a new rule's are
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert [w.value() for _n, _p, w in old.weights] == [0, 0]
    old.redirect.setChecked(False)
    assert old.backend_box.isEnabled() and [w.value() for _n, _p, w in old.weights] == [50, 50]
    assert form.error.text() == ""


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_redirect_someone_wrote_with_the_default_status_is_kept_as_written(
        emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """A redirect without its status (302, the Gateway API's default) and a mirror's Service with its kind
    spelled out open in the form and are saved as they were; one with a path to replace is the form's no
    longer (it says so)."""
    spec: dict[str, Any] = {
        "parentRefs": [{"group": "", "kind": "Service", "name": "ratings", "port": 9080}],
        "rules": [{"matches": [{"path": {"type": "Exact", "value": "/v0"}}],
                   "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "http"}}]},
                  {"filters": [{"type": "RequestMirror",
                                "requestMirror": {"backendRef": {"kind": "Service", "name": "ratings", "port": 9080}}}],
                   "backendRefs": [{"name": "ratings", "port": 9080}]}]}
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "ratings"},
             "spec": spec}, "bookinfo")
    ctl = controller_for(emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, emu, "ratings")["k8s-request-routing"])
    form = dialog.form
    assert isinstance(form, HTTPRouteForm) and form.error.text() == ""
    assert form.rules[0].redirect.isChecked() and form.rules[0].redirect_status.currentData() == 302
    assert form.rules[1].mirror.currentText() == "ratings:9080"
    review(dialog, qtbot)
    assert dialog.plan.empty, dialog.diff_text.toPlainText()

    spec["rules"][0]["filters"][0]["requestRedirect"]["path"] = {"type": "ReplaceFullPath", "replaceFullPath": "/v1"}
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "ratings"},
             "spec": spec}, "bookinfo")
    action = menu_actions(ctl, qtbot, emu, "ratings")["k8s-request-routing"]
    assert not action.isEnabled()
    assert "spec.rules[0].filters[0].requestRedirect.path" in action.toolTip()


@pytest.mark.qt_log_ignore(MENU_LOG)
def test_a_grpcroute_rule_mirrors_and_changes_response_headers_but_offers_no_redirect(
        grpc_emu: KubeEmulator, tmp_path: Path, window: QWidget, qtbot: QtBot) -> None:
    """Kiali's gRPC wizard offers the header modifiers and a mirror (the Gateway API has no gRPC redirect)."""
    ctl = controller_for(grpc_emu, tmp_path, window)
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "greeter")["k8s-grpc-routing"])
    form = dialog.form
    assert isinstance(form, GRPCRouteForm)
    rule = form.rules[0]
    assert not rule.redirect.isVisibleTo(form)
    rule.response_header_changes.setPlainText("add X-Served-By: greeter")
    rule.mirror.setCurrentText("greeter-v2:50051")
    assert form.error.text() == ""
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    written = grpc_route(grpc_emu)["spec"]["rules"][0]
    assert written["filters"] == [
        {"type": "ResponseHeaderModifier",
         "responseHeaderModifier": {"add": [{"name": "X-Served-By", "value": "greeter"}]}},
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "greeter-v2", "port": 50051}}}]
    dialog = trigger(ctl, qtbot, menu_actions(ctl, qtbot, grpc_emu, "greeter")["k8s-grpc-routing"])
    assert dialog.form.rules[0].mirror.currentText() == "greeter-v2:50051"
    review(dialog, qtbot)
    assert dialog.plan.empty and dialog.page != FORM
