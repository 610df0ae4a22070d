"""Binding a service's routes to a gateway (Kiali's wizard "Advanced Options -> Gateways"), as a user
does it: the Gateways action on a service, a Gateway the cluster has or a new one, the review's YAML, the
form reopened on what was applied, and removal. Against the Kubernetes API emulator; real widgets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.builder import build
from meshdesk.mesh.graph.model import NODE_SERVICE
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import GATEWAYS_WRITTEN, MANAGED_LABEL
from meshdesk.sources.demo import DemoCluster
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.change_dialog import DONE, FORM, REVIEW
from meshdesk.ui.dialogs.forms import GatewaysForm, RemovalForm, TrafficShiftingForm
from tests import test_actions_ui as ui
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_actions_ui import (
    NET,
    controller_for,
    inventory,
    open_action,
    review_and_confirm,
    service_node,
)
from tests.ui_helpers import answered_menu, open_answered_action

# the cluster, settings and parent window of test_actions_ui
emu, settings, window = ui.emu, ui.settings, ui.window

pytestmark = pytest.mark.ui

REVIEWS = service_node("bookinfo", "reviews")


def _gateways_form(emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot):  # type: ignore[no-untyped-def]
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateways", REVIEWS, inventory(emu))
    assert isinstance(dialog.form, GatewaysForm)
    return ctl, dialog, dialog.form


def _review(dialog, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)


def test_routes_bound_to_a_new_gateway_are_shown_applied_reopened_and_removed(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """ratings without bookinfo's VirtualService: binding it to a new Gateway creates the Gateway (an HTTP server on
    the port and hosts typed) and meshdesk's VirtualService bound to it and to the mesh, with the host
    clients use at the gateway besides the service's own. Reopened, the form shows the binding; Delete
    traffic routing removes the VirtualService and the Gateway meshdesk made for it."""
    emu.delete("virtualservices", "bookinfo", "ratings", NET)
    ctl = controller_for(emu, settings, window)
    node = service_node("bookinfo", "ratings")
    dialog = open_action(ctl, qtbot, "gateways", node, inventory(emu))
    form = dialog.form
    assert isinstance(form, GatewaysForm)
    assert not form.bind.isChecked() and not form.port.isEnabled()
    form.bind.setChecked(True)
    assert form.make_new.isChecked()  # the cluster has no Gateway: a new one
    assert form.port.isEnabled() and form.gateway_hosts.text() == "*" and form.mesh.isChecked()
    form.port.setValue(8080)
    form.gateway_hosts.setText("ratings.example.com")
    form.hosts.setText("Ratings.Example.com")
    _review(dialog, qtbot)
    assert dialog.page == REVIEW, dialog.form_error.text()
    preview = dialog.preview_text.toPlainText()
    assert "# Create Gateway bookinfo/ratings-gateway" in preview
    assert preview.index("kind: Gateway") < preview.index("kind: VirtualService")
    review_and_confirm(dialog, qtbot, emu)
    gw = emu.get("gateways", "bookinfo", "ratings-gateway", NET)
    assert gw["spec"] == {"selector": {"istio": "ingressgateway"}, "servers": [
        {"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["ratings.example.com"]}]}
    assert gw["metadata"]["labels"][MANAGED_LABEL] == "meshdesk"
    vs = emu.get("virtualservices", "bookinfo", "ratings", NET)
    assert vs["spec"]["hosts"] == ["ratings.bookinfo.svc.cluster.local", "ratings.example.com"]
    assert vs["spec"]["gateways"] == ["ratings-gateway", "mesh"]
    assert vs["spec"]["http"] == [{"route": [{"destination": {"host": "ratings.bookinfo.svc.cluster.local"}}]}]
    assert json.loads(vs["metadata"]["annotations"][GATEWAYS_WRITTEN]) == {
        "gateways": ["ratings-gateway", "mesh"], "hosts": ["ratings.example.com"]}

    again = open_action(ctl, qtbot, "gateways", node, inventory(emu))
    assert isinstance(again.form, GatewaysForm)
    assert again.form.bind.isChecked() and again.form.pick_existing.isChecked() and again.form.mesh.isChecked()
    assert again.form.gateway.currentData() == "ratings-gateway"
    assert again.form.hosts.text() == "ratings.example.com"
    _review(again, qtbot)
    assert again.preview_text.toPlainText().startswith("Nothing to change")

    removal = open_action(ctl, qtbot, "delete-routing", node, inventory(emu))
    assert isinstance(removal.form, RemovalForm)
    assert [removal.form.objects.item(i).text() for i in range(removal.form.objects.count())] == [
        "VirtualService bookinfo/ratings", "Gateway bookinfo/ratings-gateway"]
    review_and_confirm(removal, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "ratings", NET) is None
    assert emu.get("gateways", "bookinfo", "ratings-gateway", NET) is None


def test_an_existing_gateway_binds_bookinfos_own_virtual_service_and_unbinds_it(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot, shared_dir: Path) -> None:
    """reviews' VirtualService is bookinfo's: bound to bookinfo-gateway (hosts *) it keeps its routes
    and its short host; unbound, it is as it was, and other forms keep the binding meanwhile."""
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    before = emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]
    ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    assert form.pick_existing.isChecked() and form.gateway.currentData() == "bookinfo-gateway"
    review_and_confirm(dialog, qtbot, emu)
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    assert vs["spec"] == {**before, "gateways": ["bookinfo-gateway", "mesh"]}
    assert MANAGED_LABEL not in (vs["metadata"].get("labels") or {})

    shifting = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    assert isinstance(shifting.form, TrafficShiftingForm)
    shifting.form.sliders["v2"].setValue(100)
    review_and_confirm(shifting, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["gateways"] == ["bookinfo-gateway", "mesh"]

    ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    assert form.bind.isChecked()
    form.bind.setChecked(False)
    review_and_confirm(dialog, qtbot, emu)
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    assert "gateways" not in vs["spec"] and vs["spec"]["hosts"] == before["hosts"]
    assert GATEWAYS_WRITTEN not in (vs["metadata"].get("annotations") or {})


def test_a_virtual_service_bound_to_gateways_alone_is_said_to_leave_the_mesh_as_it_is(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot, shared_dir: Path) -> None:
    """Gateways with the mesh unticked leaves reviews' VirtualService routing what enters bookinfo-gateway
    only. Traffic shifting then edited it with nothing said: all to v2 reached the gateway's requests, and
    productpage's requests to reviews still went to every version. The routing forms say so when they
    open (circuit breaking, which acts on every caller, says nothing)."""
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    form.mesh.setChecked(False)
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["gateways"] == ["bookinfo-gateway"]
    for key in ("traffic-shifting", "request-routing", "fault-injection", "timeouts"):
        opened = open_action(ctl, qtbot, key, REVIEWS, inventory(emu))
        assert opened.attention.isVisibleTo(opened), key
        assert ("Its VirtualService reviews routes only what enters through bookinfo-gateway: the requests of the "
                "service") in opened.attention.text() and "this change leaves them as they are" in opened.attention.text()
    breaker = open_action(ctl, qtbot, "circuit-breaking", REVIEWS, inventory(emu))
    assert not breaker.attention.isVisibleTo(breaker)
    ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    assert not dialog.attention.isVisibleTo(dialog) and form.bind.isChecked() and not form.mesh.isChecked()
    form.mesh.setChecked(True)
    review_and_confirm(dialog, qtbot, emu)
    shifting = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    assert not shifting.attention.isVisibleTo(shifting)


def test_a_new_gateway_for_a_service_named_at_the_limit_gets_a_name_istio_takes(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A service named with 63 characters (Kubernetes' limit) whose "<service>-gateway" is taken already:
    the form offered a new Gateway named that plus "-2", 65 characters, then refused the name it had made
    itself ("not a valid Gateway name (at most 63 ...)"), a name the user could not change. The name made
    is cut to fit."""
    name = "orders-" + "x" * 56
    assert len(name) == 63
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "bookinfo"},
             "spec": {"selector": {"app": "orders"}, "ports": [{"name": "http", "port": 8080}]}}, "bookinfo")
    first = f"{name[:55]}-gateway"
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Gateway", "metadata": {"name": first, "namespace": "bookinfo"},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["other.example.com"]}]}},
            "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "gateways", service_node("bookinfo", name), inventory(emu))
    form = dialog.form
    assert isinstance(form, GatewaysForm)
    form.bind.setChecked(True)
    form.make_new.setChecked(True)
    made = f"{name[:53]}-gateway-2"
    assert form.new_name == made and len(made) == 63
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("gateways", "bookinfo", made, NET)["spec"]["servers"][0]["hosts"] == ["*"]
    assert emu.get("virtualservices", "bookinfo", name, NET)["spec"]["gateways"] == [made, "mesh"]


def test_bad_gateway_input_is_refused_with_the_reason(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                     qtbot: QtBot, shared_dir: Path) -> None:
    """Hosts that are no host names, the host * kept for the mesh (Istio refuses it there), a new
    Gateway's hosts in a form meshdesk does not write or none, and a Gateway that takes none of the
    VirtualService's hosts. A VirtualService bound to a gateway only is still the service's."""
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Gateway", "metadata": {"name": "shop-gw"},
             "spec": {"selector": {"istio": "ingressgateway"},
                      "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                                   "hosts": ["shop.example.com"]}]}}, "bookinfo")
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    cases = [
        ("shop_example.com", "'shop_example.com' is not a host name"),
        ("*", "the host * cannot route the mesh's own traffic"),
        ("", "Gateway bookinfo/shop-gw takes the hosts shop.example.com only"),
    ]
    for hosts, said in cases:
        form.hosts.setText(hosts)
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
        assert dialog.page == FORM and said in dialog.form_error.text(), dialog.form_error.text()
    form.make_new.setChecked(True)
    form.gateway_hosts.setText("bookinfo/shop.example.com")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "meshdesk does not write the namespace/host form" in dialog.form_error.text()
    form.gateway_hosts.setText("")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "a new Gateway needs at least one host" in dialog.form_error.text()
    # the service's own name typed again is not written twice
    form.pick_existing.setChecked(True)
    form.mesh.setChecked(False)
    form.hosts.setText("shop.example.com, reviews, reviews.bookinfo.svc.cluster.local")
    review_and_confirm(dialog, qtbot, emu)
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    assert vs["spec"]["gateways"] == ["shop-gw"] and vs["spec"]["hosts"] == ["reviews", "shop.example.com"]
    # bookinfo's VirtualService routes the gateway's traffic only now: still the one its forms edit, so
    # the mesh can be given back its routes
    ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    assert form.bind.isChecked() and not form.mesh.isChecked() and form.gateway.currentData() == "shop-gw"
    form.mesh.setChecked(True)
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["gateways"] == ["shop-gw", "mesh"]


def test_a_gateway_deleted_before_the_review_or_the_apply_is_said_not_written(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot, shared_dir: Path) -> None:
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    """The form was filled in from what was read when it opened; the Gateway it binds to went since:
    the review says so (nothing is dry-run against a Gateway that is not there), and so does Confirm
    when it went after the review."""
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    emu.delete("gateways", "bookinfo", "bookinfo-gateway", NET)
    _review(dialog, qtbot)
    assert dialog.page == FORM
    assert "Gateway bookinfo/bookinfo-gateway is not in the cluster any more" in dialog.form_error.text()
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    _review(dialog, qtbot)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled()
    emu.delete("gateways", "bookinfo", "bookinfo-gateway", NET)
    with qtbot.waitSignal(dialog.applyDone):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE
    assert "Gateway bookinfo/bookinfo-gateway is not in the cluster any more" in dialog.outcome.text()
    assert "gateways" not in emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]


def test_the_demo_offers_the_ingress_gateway_of_istio_system(window: QWidget, qtbot: QtBot, tmp_path: Path) -> None:
    """The demo's ingress Gateway lives in istio-system, outside the namespace shown: the form offered
    none (so only "create one") until Gateways outside the selection were listed too. Bound to it, the
    VirtualService names it with its namespace, and the reopened form has it selected."""
    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, Settings(tmp_path / "settings.json"), window)
    request = GraphRequest(namespaces=("shop",))

    def open_gateways() -> GatewaysForm:
        snap = demo.snapshot(request)
        graph = build(snap)
        node = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        dialog = open_answered_action(ctl, qtbot, "gateways", node, graph, snap.inventory)
        qtbot.addWidget(dialog)
        assert isinstance(dialog.form, GatewaysForm)
        return dialog

    dialog = open_gateways()
    form = dialog.form
    assert [form.gateway.itemText(i) for i in range(form.gateway.count())] == ["istio-system/public-gateway"]
    form.bind.setChecked(True)
    assert form.pick_existing.isChecked() and form.gateway.currentData() == "istio-system/public-gateway"
    form.hosts.setText("shop.example.com")
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "Dry run passed: Replace VirtualService shop/reviews" in dialog.dry_run_text.toPlainText()
    with qtbot.waitSignal(ctl.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    again = open_gateways()
    assert again.form.bind.isChecked() and again.form.gateway.currentData() == "istio-system/public-gateway"
    assert again.form.hosts.text() == "shop.example.com"


def test_a_gateway_the_user_may_not_read_again_does_not_block_the_review(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot, shared_dir: Path) -> None:
    """The review reads each Gateway the binding relies on again; one the user may list but not get
    (RBAC) failed the whole review with the 403. It is left to the server's dry run."""
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    emu.forbid(resource="gateways", verb="get")
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["gateways"] == ["bookinfo-gateway", "mesh"]


def test_binding_keeps_routes_meshdesk_cannot_rewrite(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                     qtbot: QtBot, shared_dir: Path) -> None:
    """reviews' VirtualService has a rewrite, which meshdesk's routing cannot hold: its routes forms say
    so and refuse. Binding it to a gateway changes only its hosts and gateways, so it is done, the
    rewrite kept; unbinding gives back the VirtualService as it was."""
    emu.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/bookinfo-gateway.yaml", namespace="bookinfo")
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    vs["spec"]["http"][0]["rewrite"] = {"uri": "/v1"}
    vs["metadata"]["resourceVersion"] = str(int(vs["metadata"]["resourceVersion"]) + 100)
    before = emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    assert form.attention == ""  # no "cannot rewrite its routes": its routes are not rewritten
    form.bind.setChecked(True)
    form.hosts.setText("reviews.example.com")
    review_and_confirm(dialog, qtbot, emu)
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    assert vs["spec"] == {**before, "hosts": ["reviews", "reviews.example.com"],
                          "gateways": ["bookinfo-gateway", "mesh"]}
    assert list(vs["spec"])[:2] == ["hosts", "gateways"]
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(False)
    review_and_confirm(dialog, qtbot, emu)
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    assert vs["spec"] == before and GATEWAYS_WRITTEN not in (vs["metadata"].get("annotations") or {})


def test_a_binding_to_a_gateway_gone_does_not_block_other_changes(emu: KubeEmulator, settings: Settings,
                                                                 window: QWidget, qtbot: QtBot) -> None:
    """reviews' VirtualService names a Gateway that is gone (Istio ignores that binding): traffic shifting
    does not touch the binding, so it is not refused for it."""
    vs = emu.get("virtualservices", "bookinfo", "reviews", NET)
    vs["spec"]["gateways"] = ["gone-gateway", "mesh"]
    vs["metadata"]["resourceVersion"] = str(int(vs["metadata"]["resourceVersion"]) + 100)
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    assert isinstance(dialog.form, TrafficShiftingForm)
    dialog.form.sliders["v2"].setValue(100)
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["gateways"] == ["gone-gateway", "mesh"]
    gateways = open_action(ctl, qtbot, "gateways", REVIEWS, inventory(emu))
    assert isinstance(gateways.form, GatewaysForm)
    assert gateways.form.gateway.currentText() == "bookinfo/gone-gateway (not in the cluster)"
    # nor a change to the binding's other parts (the form cannot drop that Gateway but by unbinding)
    gateways.form.hosts.setText("reviews.example.com")
    review_and_confirm(gateways, qtbot, emu)
    spec = emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]
    assert spec["gateways"] == ["gone-gateway", "mesh"] and spec["hosts"] == ["reviews", "reviews.example.com"]


def test_removing_a_gateway_meshdesk_made_needs_the_right_to_delete_gateways(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A user who may not delete Gateways was offered Delete traffic routing and Remove meshdesk config for
    a service bound to a Gateway meshdesk made: their RBAC was asked about VirtualServices and
    DestinationRules only, and the dry run failed on the Gateway. They are disabled, saying why."""
    emu.delete("virtualservices", "bookinfo", "ratings", NET)
    ctl = controller_for(emu, settings, window)
    node = service_node("bookinfo", "ratings")
    dialog = open_action(ctl, qtbot, "gateways", node, inventory(emu))
    dialog.form.bind.setChecked(True)
    review_and_confirm(dialog, qtbot, emu)
    assert emu.get("gateways", "bookinfo", "ratings-gateway", NET) is not None
    emu.forbid("bookinfo", "gateways", "delete")
    ctl = controller_for(emu, settings, window)  # RBAC asked afresh
    inv = inventory(emu)
    by_key = {a.objectName(): a for a in answered_menu(ctl, qtbot, node, ui.GRAPH, inv).actions() if a.objectName()}
    for key in ("delete-routing", "remove"):
        assert not by_key[key].isEnabled()
        assert "does not allow you to delete gateways in namespace bookinfo" in by_key[key].toolTip()


def test_a_new_gateways_hosts_are_judged_as_istio_judges_a_gateways(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A new Gateway with the host 'bookinfo' (a short name) was written, and Istio refuses the Gateway;
    a label of 64 characters was said only as 'not a host name (labels of at most 63 ...)'. Both are refused
    in words, the long label named, and nothing is sent."""
    _ctl, dialog, form = _gateways_form(emu, settings, window, qtbot)
    form.bind.setChecked(True)
    form.make_new.setChecked(True)
    calls = len(emu.calls)
    long_label = "shop" + "x" * 60
    for hosts, said in (
            ("bookinfo", "the Gateway host 'bookinfo' is a short name, which Istio refuses in a Gateway: give the "
                         "full name (e.g. bookinfo.example.com)"),
            (f"{long_label}.example.com", f"its label '{long_label[:40]}\u2026{long_label[-15:]}' is 64 characters "
                                          "long; a DNS label (the part between dots) is at most 63")):
        form.gateway_hosts.setText(hosts)
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
        assert dialog.page == FORM and said in dialog.form_error.text().replace("\u200b", ""), dialog.form_error.text()
    # the hosts of the routes: the long label named there too
    form.gateway_hosts.setText("*")
    form.hosts.setText(f"{long_label}.example.com")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and "is 64 characters long; a DNS label" in dialog.form_error.text()
    assert len(emu.calls) == calls
    form.hosts.setText("books.example.com")
    form.gateway_hosts.setText("books.example.com, 192.0.2.10")  # a Gateway takes an IP address
    review_and_confirm(dialog, qtbot, emu)
    gw = emu.get("gateways", "bookinfo", form.new_name, NET)
    assert gw["spec"]["servers"][0]["hosts"] == ["books.example.com", "192.0.2.10"]
