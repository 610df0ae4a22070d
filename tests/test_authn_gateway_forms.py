"""Creating and editing a RequestAuthentication and an Istio Gateway from the Actions menu, as Kiali's
"Create Istio config" does: against the Kubernetes API emulator through the official client (the object
read back from it), and on the demo cluster. Real widgets, offscreen; no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_WORKLOAD, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import MANAGED_LABEL
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.inventory import read_inventory
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.authn_gateway_forms import GatewayForm, RequestAuthenticationForm
from meshdesk.ui.dialogs.change_dialog import DONE, FORM, REVIEW, ChangeDialog
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.ui_helpers import answered_menu, open_answered_action

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NET = "networking.istio.io"
SEC = "security.istio.io"
GRAPH = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
JWKS = '{"keys": [{"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "xyz"}]}'

pytestmark = pytest.mark.ui


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    kube_emulator.run_workloads()
    yield kube_emulator


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="Kubernetes")


def controller_for(emu: KubeEmulator, settings: Settings, window: QWidget) -> ActionsController:
    return ActionsController(ClusterSource(emu.api_client(), context="emu"), settings, window)


def trigger(ctl: ActionsController, qtbot: QtBot, action: Any) -> ChangeDialog:
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, ChangeDialog)
    qtbot.addWidget(dialog)
    return dialog


def open_action(ctl: ActionsController, qtbot: QtBot, key: str, node: Node | None, inv: Inventory) -> ChangeDialog:
    menu = answered_menu(ctl, qtbot, node, GRAPH, inv)
    return trigger(ctl, qtbot, next(a for a in menu.actions() if a.objectName() == key))


def open_by_text(ctl: ActionsController, qtbot: QtBot, inv: Inventory, text: str) -> ChangeDialog:
    return trigger(ctl, qtbot, next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inv).actions() if a.text() == text))


def review(dialog: ChangeDialog, qtbot: QtBot) -> None:
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW, dialog.form_error.text()


def confirm(dialog: ChangeDialog, qtbot: QtBot) -> None:
    assert dialog.confirm_button.isEnabled(), dialog.verdict.text() + dialog.dry_run_text.toPlainText()
    assert "Dry run passed" in dialog.dry_run_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE and dialog.outcome.text().startswith("Applied")


def refused(dialog: ChangeDialog, qtbot: QtBot) -> str:
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and not dialog.busy
    return dialog.form_error.text()


# -- RequestAuthentication ------------------------------------------------------------------------------

@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")
def test_a_request_authentication_for_a_workload_is_written_with_the_policy_that_requires_a_token(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    inv = inventory(emu)
    texts = [a.text() for a in answered_menu(ctl, qtbot, None, GRAPH, inv).actions()]
    assert "Add a RequestAuthentication in bookinfo…" in texts and "Add a Gateway in bookinfo…" in texts
    node = Node(id="w", node_type=NODE_WORKLOAD, namespace="bookinfo", workload="reviews-v1", app="reviews")
    dialog = open_action(ctl, qtbot, "workload-request-authentication", node, inv)
    form = dialog.form
    assert isinstance(form, RequestAuthenticationForm)
    assert form.selector.enabled.isChecked() and form.selector.labels.text() == "app=reviews, version=v1"
    assert form.error.text() == ""  # an empty issuer is said on Review, not as the form opens
    qtbot.keyClicks(form.name, "jwt")
    box = form.rules[0]
    qtbot.keyClicks(box.issuer, "https://issuer.example.com")
    box.audiences.setText("reviews, ratings")
    box.jwks.setPlainText(JWKS)
    box.from_headers.setText("Authorization=Bearer , x-token")
    box.from_params.setText("access_token")
    box.from_cookies.setText("session")
    box.forward.setChecked(True)
    box.payload_header.setText("x-jwt-payload")
    box.claim_headers.setText("x-user=sub")
    assert "requests without a token still get through" in form.warning.text()
    form.require.setChecked(True)
    assert form.error.text() == ""
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "AuthorizationPolicy bookinfo/jwt-require-jwt is added" in notes
    assert "picks workload reviews-v1" in notes
    confirm(dialog, qtbot)
    ra = emu.get("requestauthentications", "bookinfo", "jwt", SEC)
    assert ra is not None and ra["metadata"]["labels"][MANAGED_LABEL] == "meshdesk"
    assert ra["spec"] == {"selector": {"matchLabels": {"app": "reviews", "version": "v1"}}, "jwtRules": [{
        "issuer": "https://issuer.example.com", "audiences": ["reviews", "ratings"], "jwks": JWKS,
        "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}, {"name": "x-token"}],
        "fromParams": ["access_token"], "fromCookies": ["session"], "forwardOriginalToken": True,
        "outputPayloadToHeader": "x-jwt-payload", "outputClaimToHeaders": [{"header": "x-user", "claim": "sub"}]}]}
    ap = emu.get("authorizationpolicies", "bookinfo", "jwt-require-jwt", SEC)
    assert ap["spec"] == {"selector": {"matchLabels": {"app": "reviews", "version": "v1"}}, "action": "ALLOW",
                          "rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]}

    # edited later: the policy now in force is named, not warned about as missing
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit RequestAuthentication jwt in a form…")
    assert "still get through" not in dialog.form.warning.text()
    dialog.form.rules[0].audiences.setText("reviews")
    review(dialog, qtbot)
    assert "Requests without a token are denied by bookinfo/jwt-require-jwt" in dialog.notes.text()
    assert "WITHOUT a token" not in dialog.notes.text()
    # its selector changed: the policy added with it, which still picks the old workloads, is said to need it too
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit RequestAuthentication jwt in a form…")
    dialog.form.selector.labels.setText("app=reviews")
    review(dialog, qtbot)
    assert ("Warning: AuthorizationPolicy bookinfo/jwt-require-jwt, which requires a token beside this "
            "RequestAuthentication, picks the workloads of namespace bookinfo its selector picks (app=reviews, "
            "version=v1)") in dialog.notes.text()
    # ticking "Require a token" again would add the policy twice: refused, naming it
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit RequestAuthentication jwt in a form…")
    dialog.form.require.setChecked(True)
    assert "AuthorizationPolicy named jwt-require-jwt already exists" in refused(dialog, qtbot)


def test_without_the_policy_the_review_says_requests_without_a_token_get_through(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "request-authentication", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "jwt")
    form.rules[0].issuer.setText("https://issuer.example.com")
    form.rules[0].jwks_uri.setText("http://issuer.example.com/jwks.json")
    assert "plain HTTP" in form.warning.text()
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "lets requests WITHOUT a token through" in notes
    assert "fetches its keys over plain HTTP" in notes
    confirm(dialog, qtbot)
    assert emu.get("requestauthentications", "bookinfo", "jwt", SEC)["spec"] == {"jwtRules": [
        {"issuer": "https://issuer.example.com", "jwksUri": "http://issuer.example.com/jwks.json"}]}
    assert emu.objects("authorizationpolicies", SEC, "bookinfo") == []


@pytest.mark.parametrize(("fill", "message"), [
    ({}, "An issuer is needed"),
    ({"jwks_uri": "not a url"}, "jwksUri 'not a url' is not a URL"),
    # a port no server listens on (Istio takes it as written, and the keys are never fetched)
    ({"jwks_uri": "https://keys.example.com:65536/jwks.json"}, "port '65536' is not a port number from 1 to 65535"),
    ({"jwks_uri": "https://keys.example.com:0/jwks.json"}, "port '0' is not a port number from 1 to 65535"),
    # an IPv6 address without its closing bracket: Python's ValueError ("Invalid IPv6 URL") out of the form
    ({"jwks_uri": "https://[2001:db8::1/jwks.json"}, "jwksUri 'https://[2001:db8::1/jwks.json' is not a URL"),
    ({"jwks": "{keys: 1"}, "inline jwks is not JSON"),
    ({"jwks": '{"kid": 1}'}, 'it needs a "keys" list'),
    ({"from_headers": "x token"}, "header 'x token' is not a name an HTTP request can carry"),
    ({"claim_headers": "x:user=sub"}, "header 'x:user' is not a name"),
    ({"payload_header": "x y"}, "outputPayloadToHeader"),
])
def test_bad_jwt_rule_input_is_refused_in_words(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                 qtbot: QtBot, fill: dict[str, str], message: str) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "request-authentication", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "jwt")
    box = form.rules[0]
    if fill:
        box.issuer.setText("https://issuer.example.com")
    for key, value in fill.items():
        edit = getattr(box, key)
        (edit.setPlainText if key == "jwks" else edit.setText)(value)
    assert message.lower() in refused(dialog, qtbot).lower()
    assert emu.objects("requestauthentications", SEC, "bookinfo") == []


def test_two_rules_with_one_issuer_are_refused(emu: KubeEmulator, settings: Settings, window: QWidget,
                                               qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "request-authentication", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "jwt")
    form.rules[0].issuer.setText("https://a.example.com")
    qtbot.mouseClick(form.add_rule_button, Qt.MouseButton.LeftButton)
    form.rules[1].issuer.setText("https://a.example.com")
    assert "issuer https://a.example.com is given to two JWT rules" in refused(dialog, qtbot)


def test_editing_a_request_authentication_keeps_what_the_form_does_not_show(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "RequestAuthentication",
             "metadata": {"name": "jwt", "namespace": "bookinfo", "labels": {"team": "ops"},
                          "annotations": {"note": "keep"}},
             "spec": {"selector": {"matchLabels": {"app": "ratings"}},
                      "jwtRules": [{"issuer": "https://a.example.com", "jwksUri": "https://a.example.com/jwks",
                                    "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit RequestAuthentication jwt in a form…")
    form = dialog.form
    assert isinstance(form, RequestAuthenticationForm)
    assert form.name.text() == "jwt" and form.name.isReadOnly()
    assert form.selector.labels.text() == "app=ratings"
    assert form.rules[0].from_headers.text() == "Authorization=Bearer "
    form.rules[0].audiences.setText("ratings")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    ra = emu.get("requestauthentications", "bookinfo", "jwt", SEC)
    assert ra["spec"]["jwtRules"] == [{"issuer": "https://a.example.com", "audiences": ["ratings"],
                                       "jwksUri": "https://a.example.com/jwks",
                                       "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}]}]
    assert ra["metadata"]["labels"] == {"team": "ops"} and ra["metadata"]["annotations"] == {"note": "keep"}

    # a field the form does not know (timeout): offered disabled, pointing at the YAML editor
    ra["spec"]["jwtRules"][0]["timeout"] = "5s"
    emu.add(ra, "bookinfo")
    action = next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions()
                  if a.text() == "Edit RequestAuthentication jwt in a form…")
    assert not action.isEnabled() and "spec.jwtRules[0].timeout" in action.toolTip()


# -- Gateway --------------------------------------------------------------------------------------------

def test_a_gateway_is_written_with_its_servers_and_the_review_shows_its_validations(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateway", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, GatewayForm)
    assert form.selector.currentText() == "istio=ingressgateway"
    qtbot.keyClicks(form.name, "web")
    first = form.servers[0]
    assert (first.number.text(), first.protocol.currentText(), first.hosts.text()) == ("80", "HTTP", "*")
    first.hosts.setText("bookinfo.example.com")
    first.redirect.setChecked(True)
    qtbot.mouseClick(form.add_server_button, Qt.MouseButton.LeftButton)
    second = form.servers[1]
    second.number.setText("443")
    second.protocol.setCurrentText("HTTPS")
    second.hosts.setText("./bookinfo.example.com")
    assert "needs TLS settings" in form.error.text()
    second.tls_mode.setCurrentText("SIMPLE")
    assert "needs the certificate" in form.error.text()
    second.credential.setText("bookinfo-cert")
    assert form.error.text() == ""
    review(dialog, qtbot)
    # no gateway workload has istio=ingressgateway here: the validation the new Gateway would have is shown
    assert "no workload matches the gateway selector" in dialog.findings_text.toPlainText()
    assert "Secret bookinfo-cert" in dialog.notes.text()
    confirm(dialog, qtbot)
    gw = emu.get("gateways", "bookinfo", "web", NET)
    assert gw["spec"] == {"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 80, "name": "http-80", "protocol": "HTTP"}, "hosts": ["bookinfo.example.com"],
         "tls": {"httpsRedirect": True}},
        {"port": {"number": 443, "name": "https-443", "protocol": "HTTPS"}, "hosts": ["./bookinfo.example.com"],
         "tls": {"mode": "SIMPLE", "credentialName": "bookinfo-cert"}}]}


@pytest.mark.parametrize(("server", "message"), [
    ({"number": "70000"}, "port '70000' is not a port number from 1 to 65535"),
    ({"hosts": "a/b/c"}, "is not like example.com"),
    ({"hosts": "Bad_Host!"}, "is not a host name"),
    ({"hosts": ""}, "needs at least one host"),
    ({"protocol": "TLS"}, "a TLS server needs TLS settings"),
    ({"tls_mode": "SIMPLE", "credential": "c"}, "a HTTP server takes no TLS mode"),
    ({"protocol": "HTTPS", "tls_mode": "SIMPLE", "credential": "My Cert"}, "credentialName: 'My Cert' is not a valid name"),
    # a DNS label of more than 63 characters, which Istio refuses in a Gateway's host (QA pass: it was sent)
    ({"hosts": "a" * 64 + ".example.com"}, "is 64 characters long; a DNS label (the part between dots) is at most 63"),
    ({"hosts": "*." + "b" * 70 + ".com"}, "is 70 characters long; a DNS label (the part between dots) is at most 63"),
])
def test_bad_server_input_is_refused_in_words(emu: KubeEmulator, settings: Settings, window: QWidget,
                                              qtbot: QtBot, server: dict[str, str], message: str) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateway", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "web")
    box = form.servers[0]
    for key, value in server.items():
        widget = getattr(box, key)
        (widget.setCurrentText if hasattr(widget, "setCurrentText") else widget.setText)(value)
    assert message.lower() in refused(dialog, qtbot).lower()
    assert emu.objects("gateways", NET, "bookinfo") == []


def test_one_port_with_two_protocols_is_refused(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateway", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "web")
    qtbot.mouseClick(form.add_server_button, Qt.MouseButton.LeftButton)
    form.servers[1].protocol.setCurrentText("TCP")
    assert "port 80 is given protocols HTTP and TCP" in refused(dialog, qtbot)


def test_editing_a_gateway_keeps_what_the_form_does_not_show(emu: KubeEmulator, settings: Settings,
                                                             window: QWidget, qtbot: QtBot) -> None:
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Gateway",
             "metadata": {"name": "bookinfo-gateway", "namespace": "bookinfo", "labels": {"team": "ops"}},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
            "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit Gateway bookinfo-gateway in a form…")
    form = dialog.form
    assert isinstance(form, GatewayForm) and form.name.isReadOnly()
    assert form.servers[0].number.text() == "8080" and form.servers[0].port_name.text() == "http"
    form.servers[0].hosts.setText("*, bookinfo.example.com")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    gw = emu.get("gateways", "bookinfo", "bookinfo-gateway", NET)
    assert gw["spec"]["servers"] == [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"},
                                      "hosts": ["*", "bookinfo.example.com"]}]
    assert gw["metadata"]["labels"] == {"team": "ops"}

    # a server field the form does not know (tls.minProtocolVersion): not opened in the form
    gw["spec"]["servers"][0]["tls"] = {"httpsRedirect": True, "minProtocolVersion": "TLSV1_2"}
    emu.add(gw, "bookinfo")
    action = next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions()
                  if a.text() == "Edit Gateway bookinfo-gateway in a form…")
    assert not action.isEnabled() and "spec.servers[0].tls.minProtocolVersion" in action.toolTip()


# -- the demo -------------------------------------------------------------------------------------------

def test_the_demo_stores_a_request_authentication_and_a_gateway(settings: Settings, window: QWidget,
                                                                qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    dialog = open_answered_action(ctl, qtbot, "request-authentication", None, TrafficGraph(request=request), snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "jwt")
    dialog.form.rules[0].issuer.setText("https://issuer.example.com")
    dialog.form.require.setChecked(True)
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    dialog = open_answered_action(ctl, qtbot, "gateway", None, TrafficGraph(request=request), snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "shop-gateway")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    after = demo.snapshot(request).inventory
    assert after is not None
    assert [o.name for o in after.istio_objects("RequestAuthentication", "shop")] == ["jwt"]
    assert "jwt-require-jwt" in [o.name for o in after.istio_objects("AuthorizationPolicy", "shop")]
    assert [o.name for o in after.istio_objects("Gateway", "shop")] == ["shop-gateway"]


def test_removing_a_request_authentication_says_the_policies_asking_for_its_tokens_then_match_nothing(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Remove meshdesk config deleted a RequestAuthentication that someone's ALLOW policy on request
    principals relied on without a word: every request that policy allowed is denied once it is gone."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "request-authentication", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "jwt")
    dialog.form.rules[0].issuer.setText("https://issuer.example.com")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "users", "namespace": "bookinfo"},
             "spec": {"selector": {"matchLabels": {"app": "reviews"}}, "action": "ALLOW", "rules": [
                 {"from": [{"source": {"requestPrincipals": ["https://issuer.example.com/*"]}}]}]}}, "bookinfo")
    dialog = open_action(ctl, qtbot, "remove", None, inventory(emu))
    review(dialog, qtbot)
    assert ("Warning: once RequestAuthentication bookinfo/jwt is deleted, no token sent to every workload in "
            "namespace bookinfo is validated, so the rules of AuthorizationPolicy bookinfo/users (ALLOW)") \
        in dialog.notes.text()


def test_a_request_authentication_in_an_ambient_namespace_is_said_to_check_nothing(
        settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """In ambient mode ztunnel checks no token and a waypoint ignores a RequestAuthentication by selector:
    the review said nothing and the user believed tokens were checked."""
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("travel",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    dialog = open_answered_action(ctl, qtbot, "request-authentication", None, TrafficGraph(request=request), snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "jwt")
    dialog.form.rules[0].issuer.setText("https://issuer.example.com")
    review(dialog, qtbot)
    assert "namespace travel is in ambient mode: ztunnel does not check tokens" in dialog.notes.text()


def test_headers_are_taken_as_written_in_http_too(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                  qtbot: QtBot) -> None:
    """A token header typed as a header is written (``Authorization: Bearer``, as Kiali's form takes it) was
    refused as no header name; it is the same as ``Authorization=Bearer ``."""
    from meshdesk.mesh.request_auth import parse_pairs

    assert parse_pairs("Authorization: Bearer , x-token, x-b=a:b") == [
        ("Authorization", "Bearer "), ("x-token", ""), ("x-b", "a:b")]
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "request-authentication", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "jwt")
    box = form.rules[0]
    box.issuer.setText("https://issuer.example.com")
    box.jwks_uri.setText("https://issuer.example.com/keys")
    box.from_headers.setText("Authorization: Bearer ")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page == REVIEW, timeout=10000)


def test_a_gateways_bad_selector_is_said_as_the_gateway_form_names_it(emu: KubeEmulator, settings: Settings,
                                                                       window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateway", None, inventory(emu))
    form = dialog.form
    qtbot.keyClicks(form.name, "web")
    form.selector.setCurrentText("x")
    message = refused(dialog, qtbot)
    assert message.startswith("selector: 'x' is not a label like app=reviews") or \
        "selector: 'x' is not a label" in message and "workload selector" not in message, message


def test_editing_a_gateway_keeps_spellings_istio_reads_alike(emu: KubeEmulator, settings: Settings,
                                                             window: QWidget, qtbot: QtBot) -> None:
    """Edited in the form, a Gateway's lower-case protocol came back upper-cased and a tls without a mode
    came back with mode SIMPLE: the diff showed changes the user never made. They are kept as written."""
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Gateway",
             "metadata": {"name": "web", "namespace": "bookinfo"},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 443, "name": "https", "protocol": "https"}, "hosts": ["*"],
                                   "tls": {"credentialName": "web-cert"}}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit Gateway web in a form…")
    dialog.form.servers[0].hosts.setText("web.example.com")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("gateways", "bookinfo", "web", NET)["spec"]["servers"] == [
        {"port": {"number": 443, "name": "https", "protocol": "https"}, "hosts": ["web.example.com"],
         "tls": {"credentialName": "web-cert"}}]


def test_editing_a_gateway_keeps_the_order_of_its_fields(emu: KubeEmulator, settings: Settings,
                                                        window: QWidget, qtbot: QtBot) -> None:
    """A server written as Istio's docs write one (port, tls, then hosts) came back from the form in the
    form's order (port, hosts, tls): the review's diff showed the hosts and tls moved though only the
    certificate changed. The Gateway's own order is kept."""
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Gateway",
             "metadata": {"name": "secure", "namespace": "bookinfo"},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                                   "tls": {"mode": "SIMPLE", "credentialName": "old-cert"},
                                   "hosts": ["httpbin.example.com"]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit Gateway secure in a form…")
    dialog.form.servers[0].credential.setText("new-cert")
    review(dialog, qtbot)
    changed = [line[0] + line[1:].strip() for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-credentialName: old-cert", "+credentialName: new-cert"], changed


@pytest.mark.parametrize("length", [244, 252, 253])
def test_the_token_policy_of_a_very_long_request_authentication_has_a_valid_name(length: int) -> None:
    """The policy requiring a token was named '<name>-require-jwt' cut to 253 characters: a name of 244
    (or 252) gave '...-require-' ('...-'), which no object may be named, refused by the API server in its
    own words at the dry run (and written as it was by the demo)."""
    from meshdesk.mesh.request_auth import (
        JwtRule,
        build_request_authentication,
        request_authentication_plan,
    )
    from meshdesk.mesh.security import name_problem

    ra = build_request_authentication("a" * length, "shop", [JwtRule(issuer="https://issuer.example.com")])
    plan = request_authentication_plan(Inventory(), ra, require=True)
    (policy,) = [c.obj for c in plan.changes if c.obj is not None and c.obj.kind == "AuthorizationPolicy"]
    assert name_problem(policy.name) == "" and len(policy.name) <= 253


def test_keeping_spellings_follows_a_server_by_its_port_and_keeps_https_redirect_false() -> None:
    """Editing a Gateway whose first server the user removed: the second's spellings were matched against
    the removed one's and lost; and a tls ``httpsRedirect: false`` was dropped (the tick box off). Both are
    kept as read."""
    from meshdesk.mesh.gateway_config import keep_spellings

    before = {"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]},
        {"port": {"number": 443, "name": "https", "protocol": "https"}, "hosts": ["*"],
         "tls": {"httpsRedirect": False, "credentialName": "cert"}}]}
    form = {"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*"],
         "tls": {"mode": "SIMPLE", "credentialName": "cert"}}]}
    assert keep_spellings(form, before)["servers"] == [
        {"port": {"number": 443, "name": "https", "protocol": "https"}, "hosts": ["*"],
         "tls": {"httpsRedirect": False, "credentialName": "cert"}}]


def test_editing_a_gateway_keeps_a_port_without_a_name() -> None:
    """A server whose port has no name (Istio needs none) came back from the form with the name the form
    makes up ('http-80'), so an edit that changed only a host showed the port changed too."""
    from meshdesk.mesh.gateway_config import build_gateway, gateway_fields, keep_spellings

    before = {"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 80, "protocol": "HTTP"}, "hosts": ["shop.example.com"]},
        {"port": {"number": 8080, "protocol": "http"}, "hosts": ["*"]}]}
    values, cannot = gateway_fields(before)
    assert cannot == []
    values["servers"][0].hosts = ["books.example.com"]
    gw = build_gateway("gw", "edge", values["servers"], selector=values["selector"])
    assert keep_spellings(gw.spec, before)["servers"] == [
        {"port": {"number": 80, "protocol": "HTTP"}, "hosts": ["books.example.com"]},
        {"port": {"number": 8080, "protocol": "http"}, "hosts": ["*"]}]
    # a name typed in the form is written
    values["servers"][0].port_name = "web"
    gw = build_gateway("gw", "edge", values["servers"], selector=values["selector"])
    assert keep_spellings(gw.spec, before)["servers"][0]["port"]["name"] == "web"


def test_editing_a_request_authentication_keeps_defaults_written_out(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A RequestAuthentication written with its defaults spelled out (forwardOriginalToken: false, a
    header's prefix: "", audiences: [], as some tools write them) lost them when edited in the form: the
    diff showed them removed though the user changed only the jwksUri. They are kept as written."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "RequestAuthentication",
             "metadata": {"name": "jwt", "namespace": "bookinfo"},
             "spec": {"jwtRules": [{"issuer": "https://a.example.com", "audiences": [],
                                    "jwksUri": "https://a.example.com/jwks",
                                    "fromHeaders": [{"name": "Authorization", "prefix": ""}],
                                    "forwardOriginalToken": False}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_by_text(ctl, qtbot, inventory(emu), "Edit RequestAuthentication jwt in a form…")
    dialog.form.rules[0].jwks_uri.setText("https://a.example.com/keys")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("requestauthentications", "bookinfo", "jwt", SEC)["spec"]["jwtRules"] == [
        {"issuer": "https://a.example.com", "audiences": [], "jwksUri": "https://a.example.com/keys",
         "fromHeaders": [{"name": "Authorization", "prefix": ""}], "forwardOriginalToken": False}]
