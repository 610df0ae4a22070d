"""Creating an AuthorizationPolicy and a Sidecar from the Actions menu, as Kiali's "Create Istio config"
does: against the Kubernetes API emulator through the official client (the object read back from it),
and on the demo cluster, whose traffic obeys the policy. Real widgets, offscreen; no sleeps."""

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
from meshdesk.sources.writes import CONFLICT_TEXT
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.change_dialog import DONE, FORM, REVIEW, ChangeDialog
from meshdesk.ui.dialogs.security_forms import AuthorizationPolicyForm, SidecarForm
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.ui_helpers import answered_menu, open_answered_action

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NET = "networking.istio.io"
SEC = "security.istio.io"
GRAPH = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))

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


def open_action(ctl: ActionsController, qtbot: QtBot, key: str, node: Node | None, inv: Inventory) -> ChangeDialog:
    menu = answered_menu(ctl, qtbot, node, GRAPH, inv)
    action = next(a for a in menu.actions() if a.objectName() == key)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, ChangeDialog)
    qtbot.addWidget(dialog)
    return dialog


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
    """Review refuses the form (nothing is sent): the reason under it."""
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and not dialog.busy
    return dialog.form_error.text()


def test_deny_all_is_written_with_a_warning_that_the_namespace_is_cut_off(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    texts = [a.text() for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions()]
    assert "Add an AuthorizationPolicy in bookinfo…" in texts and "Add a Sidecar in bookinfo…" in texts
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    assert form.policy.currentText() == "DENY_ALL"  # as Kiali starts it
    assert "denies every request to every workload in bookinfo" in form.warning.text()
    assert form.warning.isVisibleTo(form)
    qtbot.keyClicks(form.name, "deny-all")
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "Warning: this denies every request to every workload in namespace bookinfo" in notes
    assert "cut off" in notes
    assert "spec: {}" in dialog.preview_text.toPlainText()
    confirm(dialog, qtbot)
    ap = emu.get("authorizationpolicies", "bookinfo", "deny-all", SEC)
    assert ap is not None and ap["spec"] == {}
    assert ap["metadata"]["labels"][MANAGED_LABEL] == "meshdesk"

    # the same name again: said before anything is sent
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "deny-all")
    assert "AuthorizationPolicy named deny-all already exists in bookinfo" in refused(dialog, qtbot)

    # and removing what meshdesk created takes it away
    dialog = open_action(ctl, qtbot, "remove", None, inventory(emu))
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.objects("authorizationpolicies", SEC, "bookinfo") == []


def test_allow_all_and_rules_are_written_as_istio_reads_them(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    form.policy.setCurrentText("ALLOW_ALL")
    assert not form.warning.isVisibleTo(form) and not form.action.isEnabled()
    qtbot.keyClicks(form.name, "allow-all")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("authorizationpolicies", "bookinfo", "allow-all", SEC)["spec"] == {"action": "ALLOW", "rules": [{}]}

    # a method may be matched by prefix or suffix, as Istio (and Kiali's check) take it
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "writes")
    dialog.form.policy.setCurrentText("RULES")
    qtbot.keyClicks(dialog.form.rules[0].edits["methods"], "P*, *ETE")
    assert dialog.form.error.text() == ""
    review(dialog, qtbot)
    assert "- P*\n" in dialog.preview_text.toPlainText() and "- '*ETE'" in dialog.preview_text.toPlainText()

    # rules for one workload: its node's context prefills the selector
    node = Node("wl", NODE_WORKLOAD, namespace="bookinfo", workload="ratings-v1")
    dialog = open_action(ctl, qtbot, "workload-authorization-policy", node, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    assert form.selector.enabled.isChecked() and form.selector.labels.text() == "app=ratings, version=v1"
    qtbot.keyClicks(form.name, "ratings-from-reviews")
    form.policy.setCurrentText("RULES")
    assert form.action.isEnabled() and len(form.rules) == 1
    edits = form.rules[0].edits
    qtbot.keyClicks(edits["principals"], "cluster.local/ns/bookinfo/sa/bookinfo-reviews")
    qtbot.keyClicks(edits["namespaces"], "bookinfo")
    qtbot.keyClicks(edits["ipBlocks"], "10.0.0.0/8")
    qtbot.keyClicks(edits["ports"], "9080")
    qtbot.keyClicks(edits["methods"], "get, HEAD")
    qtbot.keyClicks(edits["paths"], "/ratings/*")
    qtbot.keyClicks(edits["when"], "request.headers[x-user]=alice, bob")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "a request to the workloads of namespace bookinfo its selector picks (app=ratings, version=v1) " \
           "that none of its rules" in dialog.notes.text()
    assert "Principals and namespaces are read from the client's mutual-TLS certificate" in dialog.notes.text()
    confirm(dialog, qtbot)
    ap = emu.get("authorizationpolicies", "bookinfo", "ratings-from-reviews", SEC)
    assert ap["spec"] == {
        "selector": {"matchLabels": {"app": "ratings", "version": "v1"}},
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/bookinfo-reviews"],
                                        "namespaces": ["bookinfo"], "ipBlocks": ["10.0.0.0/8"]}}],
                   "to": [{"operation": {"ports": ["9080"], "methods": ["GET", "HEAD"], "paths": ["/ratings/*"]}}],
                   "when": [{"key": "request.headers[x-user]", "values": ["alice", "bob"]}]}]}


@pytest.mark.parametrize(("field", "text", "said"), [
    ("principals", "spiffe://cluster.local/ns/a/sa/b", "leave out 'spiffe://'"),
    ("principals", "cluster.local/ns/*/sa/b", "a '*' may stand only at the start or at the end"),
    ("namespaces", "Bad_NS", "'Bad_NS' is not a namespace name"),
    ("ipBlocks", "10.0.0.0/33", "'10.0.0.0/33' is not an IP address or a CIDR range"),
    ("ipBlocks", "10.0.0", "'10.0.0' is not an IP address or a CIDR range"),
    ("ports", "70000", "port '70000' is not a port number from 1 to 65535"),
    ("ports", "http", "port 'http' is not a port number"),
    # digits of another script: Istio reads ports in ASCII digits only (the form wrote "８０" as it was, and
    # "²" was a traceback as it was typed)
    ("ports", "８０", "port '８０' is not a port number from 1 to 65535"),
    ("ports", "²", "port '²' is not a port number from 1 to 65535"),
    ("when", "destination.port=²", "port '²' is not a port number"),
    ("methods", "FETCH", "method 'FETCH' is not an HTTP method"),
    ("paths", "api/v1", "path 'api/v1' must start with '/'"),
    # matched as a request sends it, percent-encoded: it never matched (a DENY rule denied nothing)
    ("paths", "/ädmin", "carries percent-encoded (%C3%A4)"),
    # pasted with a tab or a line feed inside: said by name (it was "has a space in it")
    ("paths", "/ad\tmin", "path '/ad\\tmin' holds the control character tab (\\t)"),
    ("principals", "cluster.local/ns/a/sa/b\nc", "holds the control character line feed (\\n)"),
    # a client sends an internationalised host in its xn-- form: as typed, it matched nothing
    ("hosts", "bücher.example", "in its xn-- form as DNS carries it ('xn--bcher-kva.example')"),
    ("when", "source.ip", "is not like source.ip=10.0.0.0/8"),
    ("when", "source.ip=nowhere", "source.ip value 'nowhere' is not an IP address"),
    ("when", "request.header=x", "condition key 'request.header' is not one Istio knows"),
    ("when", "source.namespace=", "condition source.namespace needs at least one value"),
])
def test_bad_rule_input_is_said_in_words_before_anything_is_sent(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot, field: str, text: str, said: str) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "p")
    form.policy.setCurrentText("RULES")
    if text.isascii() and text.isprintable():
        qtbot.keyClicks(form.rules[0].edits[field], text)
    else:  # QTest types printable ASCII keys only: pasted
        form.rules[0].edits[field].setText(text)
    assert said in form.error.text()  # as it is typed
    calls = len(emu.calls)
    error = refused(dialog, qtbot)
    assert error.startswith("rule 1: ") and said in error
    assert len(emu.calls) == calls  # nothing was sent
    assert form.rules[0].edits[field].text() == text  # nothing typed is lost


def test_an_egress_port_in_digits_istio_cannot_read_is_refused_in_words(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """An egress port of "²" (which ``str.isdigit`` takes and ``int`` refuses) was a traceback as it was
    typed and, at Review, Python's "invalid literal for int()"; "８０" was taken as port 80."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "sidecar", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, SidecarForm)
    form.name.setText("default")
    calls = len(emu.calls)
    for port in ("²", "８０"):
        form.listeners[0].port.setText(port)
        said = f"ort '{port}' is not a port number from 1 to 65535"  # "Port" under the form, "port" at Review
        assert said in form.error.text()  # as it is typed
        assert said in refused(dialog, qtbot)
    assert len(emu.calls) == calls  # nothing was sent


def test_a_name_taken_already_is_refused_in_words(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                 qtbot: QtBot) -> None:
    """It said "a AuthorizationPolicy named ... already exists"."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "admin-only", "namespace": "bookinfo"},
             "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}}, "bookinfo")
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": "default", "namespace": "bookinfo"},
             "spec": {"egress": [{"hosts": ["./*"]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    dialog.form.name.setText("admin-only")
    assert refused(dialog, qtbot) == ("an AuthorizationPolicy named admin-only already exists in bookinfo (not added "
                                      "by meshdesk): pick another name")
    dialog = open_action(ctl, qtbot, "workload-sidecar", Node("wl", NODE_WORKLOAD, namespace="bookinfo",
                                                              workload="reviews-v2"), inventory(emu))
    dialog.form.name.setText("default")
    assert refused(dialog, qtbot).startswith("a Sidecar named default already exists in bookinfo")


@pytest.mark.parametrize(("name", "said"), [
    ("", "a name is needed"),
    ("Deny All", "'Deny All' is not a valid name"),
    ("-deny", "'-deny' is not a valid name"),
    ("a" * 254, "is not a valid name: at most 253 characters (254 given)"),
])
def test_a_bad_or_empty_name_is_refused(emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot,
                                        name: str, said: str) -> None:
    ctl = controller_for(emu, settings, window)
    for key in ("authorization-policy", "sidecar"):
        dialog = open_action(ctl, qtbot, key, None, inventory(emu))
        dialog.form.name.setText(name)
        assert said in refused(dialog, qtbot)


def test_a_deny_rule_matching_everything_is_warned_and_deny_needs_a_selector_that_parses(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "deny-everything")
    form.policy.setCurrentText("RULES")
    form.action.setCurrentText("DENY")
    assert "a DENY rule with no field set matches every request" in form.warning.text()
    form.selector.enabled.setChecked(True)
    qtbot.keyClicks(form.selector.labels, "app")
    assert "'app' is not a label like app=reviews" in refused(dialog, qtbot)
    form.selector.enabled.setChecked(False)
    review(dialog, qtbot)
    assert "Warning: a DENY rule that matches every request denies every request to every workload in " \
           "namespace bookinfo" in dialog.notes.text()


def test_a_sidecar_is_written_and_its_bad_hosts_are_refused(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "sidecar", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, SidecarForm)
    assert form.hosts.text() == "./*, istio-system/*"
    qtbot.keyClicks(form.name, "default")
    form.hosts.setText("./*, reviews.bookinfo.svc.cluster.local")
    assert "not in namespace/host form" in form.error.text()
    assert "not in namespace/host form" in refused(dialog, qtbot)
    form.hosts.setText("./*, Bad NS/*")
    assert "is not a namespace" in refused(dialog, qtbot)
    # a part of a host name longer than DNS allows, which Istio refuses; a name outside ASCII, with its
    # xn-- form (both were said only as "not a host name", or not at all)
    form.hosts.setText(f"./*, */{'a' * 64}.example.com")
    assert "is 64 characters long; a DNS label (the part between dots) is at most 63" in refused(dialog, qtbot)
    form.hosts.setText("./*, */bücher.example")
    assert "holds 'ü': a host name is written in ASCII" in form.error.text()
    assert "('xn--bcher-kva.example')" in form.error.text()
    form.hosts.setText("./*, istio-system/*")
    review(dialog, qtbot)
    assert "will know only the hosts of ./*, istio-system/*" in dialog.notes.text()
    confirm(dialog, qtbot)
    sc = emu.get("sidecars", "bookinfo", "default", NET)
    assert sc["spec"] == {"egress": [{"hosts": ["./*", "istio-system/*"]}]}
    assert sc["metadata"]["labels"][MANAGED_LABEL] == "meshdesk"

    # a second one without a selector would make Istio pick either: refused
    dialog = open_action(ctl, qtbot, "sidecar", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "another")
    assert "already has a Sidecar without a workload selector (default)" in refused(dialog, qtbot)
    # one for a workload is fine, its selector prefilled
    node = Node("wl", NODE_WORKLOAD, namespace="bookinfo", workload="reviews-v2")
    dialog = open_action(ctl, qtbot, "workload-sidecar", node, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "reviews-v2")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("sidecars", "bookinfo", "reviews-v2", NET)["spec"]["workloadSelector"] == {
        "labels": {"app": "reviews", "version": "v2"}}


def test_rbac_read_only_and_a_snapshot_are_obeyed(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                  qtbot: QtBot) -> None:
    emu.forbid(resource="authorizationpolicies", verb="create")
    ctl = controller_for(emu, settings, window)
    by_key = {a.objectName(): a for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions() if a.objectName()}
    assert not by_key["authorization-policy"].isEnabled()
    assert "does not allow you to create authorizationpolicies in namespace bookinfo" in \
        by_key["authorization-policy"].toolTip()
    assert by_key["sidecar"].isEnabled()
    settings.read_only = True
    assert ctl.actions_for(None, GRAPH, inventory(emu)) == []
    assert ActionsController(object(), Settings(settings.path), window).actions_for(None, GRAPH, inventory(emu)) == []


def test_the_demo_obeys_a_deny_all(settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    graph = build(snap)
    assert snap.inventory is not None
    dialog = open_answered_action(ctl, qtbot, "authorization-policy", None, graph, snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "deny-all")
    review(dialog, qtbot)
    assert "Warning: this denies every request to every workload in namespace shop" in dialog.notes.text()
    confirm(dialog, qtbot)
    after = demo.snapshot(request)
    assert after.inventory is not None
    assert [o.name for o in after.inventory.istio_objects("AuthorizationPolicy", "shop")] == ["deny-all"]
    graph = build(after)
    into_shop = [e for e in graph.edges.values() if graph.nodes[e.target].namespace == "shop"
                 and graph.nodes[e.source].namespace != "shop"]
    assert into_shop and all(e.rates.get("http", 0.0) == pytest.approx(e.rates.get("http4xx", 0.0))
                             for e in into_shop if e.rates.get("http", 0.0))
    # Remove meshdesk config lists the deny-all among what it deletes, and says what that lets back in
    # (it said nothing: a DENY policy's removal opens what it kept out)
    dialog = open_answered_action(ctl, qtbot, "remove", None, graph, after.inventory)
    qtbot.addWidget(dialog)
    review(dialog, qtbot)
    assert ("Warning: AuthorizationPolicy shop/deny-all denies every request to every workload in namespace shop "
            "(it allows nothing): once it is deleted they take requests again") in dialog.notes.text()


def test_a_deny_all_in_the_root_namespace_is_said_to_cut_off_the_whole_mesh(settings: Settings, window: QWidget,
                                                                           qtbot: QtBot) -> None:
    """A policy in Istio's root namespace applies to every namespace: the warning said it cut off
    "every workload in namespace istio-system" only."""
    from meshdesk.mesh.graph.builder import build
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "istio-system")))
    assert snap.inventory is not None and snap.inventory.mesh_settings.root_namespace == "istio-system"
    box = Node("box", NODE_BOX, namespace="istio-system", box=BOX_NAMESPACE)
    dialog = open_answered_action(ctl, qtbot, "authorization-policy", box, build(snap), snap.inventory)
    qtbot.addWidget(dialog)
    assert "every workload in the mesh" in dialog.form.warning.text()
    qtbot.keyClicks(dialog.form.name, "deny-all")
    review(dialog, qtbot)
    assert "denies every request to every workload in the mesh (namespace istio-system is the mesh's root " \
           "namespace, so it applies to every namespace)" in dialog.notes.text()


def test_a_sidecar_in_an_ambient_namespace_is_said_to_change_nothing(settings: Settings, window: QWidget,
                                                                     qtbot: QtBot) -> None:
    """The pods of an ambient namespace run no sidecar: a Sidecar there was written with no word that
    it does nothing."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    snap = demo.snapshot(GraphRequest(namespaces=("travel", "hello")))
    assert snap.inventory is not None
    graph = build(snap)
    for ns, said in (("travel", "namespace travel is in ambient mode: its pods run no sidecar"),
                     ("hello", "uptime-checker runs no sidecar: this changes nothing for it")):
        box = Node(f"box-{ns}", "box", namespace=ns, box="namespace")
        dialog = open_answered_action(ctl, qtbot, "sidecar", box, graph, snap.inventory)
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.form.name, "default")
        review(dialog, qtbot)
        assert said in dialog.notes.text()


def test_removal_asks_only_for_the_rights_to_delete_what_meshdesk_made(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A user who may not delete Sidecars (or ServiceEntries) found "Remove meshdesk config" disabled for
    that reason in a namespace where meshdesk made only an AuthorizationPolicy."""
    emu.forbid(resource="sidecars", verb="delete")
    emu.forbid(resource="serviceentries", verb="delete")
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "deny-all")
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    dialog = open_action(ctl, qtbot, "remove", None, inventory(emu))
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.objects("authorizationpolicies", SEC, "bookinfo") == []
    # where there is a Sidecar of meshdesk's to delete, the missing right is said
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar",
             "metadata": {"name": "default", "namespace": "bookinfo", "labels": {MANAGED_LABEL: "meshdesk"}},
             "spec": {"egress": [{"hosts": ["./*"]}]}}, "bookinfo")
    action = next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inventory(emu)).actions() if a.objectName() == "remove")
    assert not action.isEnabled() and "does not allow you to delete sidecars" in action.toolTip()


def test_the_review_names_the_workloads_a_selector_picks(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                         qtbot: QtBot) -> None:
    """A selector picking more workloads than the one the action was opened on was not said."""
    ctl = controller_for(emu, settings, window)
    node = Node("wl", NODE_WORKLOAD, namespace="bookinfo", workload="reviews-v1")
    dialog = open_action(ctl, qtbot, "workload-authorization-policy", node, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "reviews")
    dialog.form.selector.labels.setText("app=reviews")
    review(dialog, qtbot)
    assert "The selector (app=reviews) picks workloads reviews-v1, reviews-v2, reviews-v3." in dialog.notes.text()
    dialog.back()
    dialog.form.selector.labels.setText("app=reviews, version=v9")
    review(dialog, qtbot)
    assert "Warning: no workload in bookinfo has the labels app=reviews, version=v9: the policy applies to nothing " \
           "yet." in dialog.notes.text()


def test_a_deny_all_beside_an_allow_policy_says_what_still_gets_in(emu: KubeEmulator, settings: Settings,
                                                                  window: QWidget, qtbot: QtBot) -> None:
    """A deny-all is an ALLOW-mode policy that matches nothing: beside an ALLOW policy with rules, what
    that one allows still gets in. The review said every request would be denied."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "allow-get", "namespace": "bookinfo"},
             "spec": {"action": "ALLOW", "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "deny-all")
    # the form's own warning says it too (it said they were cut off)
    said = dialog.form.warning.text()
    assert "what bookinfo/allow-get allows still gets in" in said and "cut off" not in said, said
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "what bookinfo/allow-get allows still gets in" in notes and "cut off" not in notes


def test_a_sidecar_in_the_root_namespace_is_said_to_be_the_mesh_default(settings: Settings, window: QWidget,
                                                                      qtbot: QtBot) -> None:
    """A Sidecar without a selector in the root namespace is the default of every namespace that has none
    of its own; it was said to apply to the sidecars of namespace istio-system."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "istio-system")))
    assert snap.inventory is not None
    box = Node("box", "box", namespace="istio-system", box="namespace")
    dialog = open_answered_action(ctl, qtbot, "sidecar", box, build(snap), snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.name, "default")
    review(dialog, qtbot)
    assert "The sidecars of every workload of a namespace without a Sidecar of its own (namespace istio-system " \
           "is the mesh's root namespace, so this is the mesh's default) will know only" in dialog.notes.text()


def test_an_error_of_the_new_policy_itself_is_not_blamed_on_other_objects(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A policy naming a service account no pod runs as (KIA0106) is an error of that policy; the review
    said "other objects would stop working as written"."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    qtbot.keyClicks(dialog.form.name, "from-nobody")
    dialog.form.policy.setCurrentText("RULES")
    qtbot.keyClicks(dialog.form.rules[0].edits["principals"], "cluster.local/ns/bookinfo/sa/nobody")
    review(dialog, qtbot)
    assert "KIA0106" in dialog.findings_text.toPlainText()
    verdict = dialog.verdict.text()
    assert "But what it writes has 1 error (see Checks): it may not work as meant." in verdict
    assert "other objects" not in verdict and dialog.confirm_button.isEnabled()


def test_removing_deny_and_allow_policies_says_what_changes_for_traffic() -> None:
    """A DENY policy's removal lets in what it blocked; an ALLOW policy's shuts out what only it allowed,
    or, the last ALLOW there, opens the namespace to every request no DENY policy stops."""
    from meshdesk.mesh.changes import removal_plan
    from meshdesk.mesh.inventory import IstioObject

    snap = DemoCluster(clock=lambda: 1_767_000_000.0).snapshot(GraphRequest(namespaces=("shop",)))
    inv = snap.inventory
    assert inv is not None
    mine = {MANAGED_LABEL: "meshdesk"}
    inv.istio += [
        IstioObject("AuthorizationPolicy", "no-admin", "shop", f"{SEC}/v1", labels=mine, spec={
            "action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}),
        IstioObject("AuthorizationPolicy", "front", "shop", f"{SEC}/v1", labels=mine, spec={
            "selector": {"matchLabels": {"app": "productpage"}}, "action": "ALLOW",
            "rules": [{"from": [{"source": {"namespaces": ["istio-system"]}}]}]})]
    notes = " ".join(removal_plan(inv, "shop").notes)
    assert ("AuthorizationPolicy shop/no-admin is a DENY policy: the requests to every workload in namespace shop "
            "its rules block get in once it is deleted") in notes
    assert ("AuthorizationPolicy shop/front is an ALLOW policy for the workloads of namespace shop its selector "
            "picks (app=productpage): once it is deleted, no ALLOW policy is left there, so every request not "
            "denied gets in.") in notes
    # another ALLOW policy, not meshdesk's, stays: what only the deleted one allowed is denied
    inv.istio.append(IstioObject("AuthorizationPolicy", "ops", "shop", f"{SEC}/v1", spec={
        "action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": ["ops"]}}]}]}))
    assert "what only it allowed is denied (shop/ops still in force)" in " ".join(removal_plan(inv, "shop").notes)


def test_a_rule_takes_several_sources_and_operations_and_the_negative_fields(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Kiali lets a rule have lists of from and to entries, with the not... fields and request principals;
    the form had one source and one operation, with none of those."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "several")
    form.policy.setCurrentText("RULES")
    rule = form.rules[0]
    qtbot.keyClicks(rule.edits["principals"], "cluster.local/ns/bookinfo/sa/bookinfo-productpage")
    qtbot.keyClicks(rule.edits["notIpBlocks"], "10.0.5.0/24")
    qtbot.mouseClick(rule.sources.add_button, Qt.MouseButton.LeftButton)
    assert len(rule.sources.boxes) == 2
    # an empty second source is said: Istio refuses an empty one
    assert "from 2 is empty" in form.error.text()
    second = rule.sources.boxes[1].edits
    qtbot.keyClicks(second["requestPrincipals"], "https://accounts.example.com/alice")
    qtbot.keyClicks(second["notNamespaces"], "legacy")
    assert form.error.text() == ""
    qtbot.keyClicks(rule.edits["methods"], "get")
    qtbot.mouseClick(rule.operations.add_button, Qt.MouseButton.LeftButton)
    ops = rule.operations.boxes[1].edits
    qtbot.keyClicks(ops["notPorts"], "15000")
    qtbot.keyClicks(ops["notPaths"], "/admin*")
    qtbot.keyClicks(ops["notMethods"], "delete")
    # each negative field is checked as its positive one
    for edit, text, said in ((ops["notPorts"], "99999", "to 2, notPorts: port '99999' is not a port number"),
                             (rule.edits["notIpBlocks"], "10.0.0.0/40", "from 1, notIpBlocks: IP block '10.0.0.0/40'"),
                             (second["requestPrincipals"], "alice", "request principal 'alice' is not like "
                                                                    "<issuer>/<subject>"),
                             (ops["notPaths"], "admin", "path 'admin' must start with '/'")):
        kept = edit.text()
        edit.setText(text)
        assert said in form.error.text()
        assert said in refused(dialog, qtbot)
        edit.setText(kept)
    assert form.error.text() == ""
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    ap = emu.get("authorizationpolicies", "bookinfo", "several", SEC)
    assert ap["spec"] == {"action": "ALLOW", "rules": [{
        "from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"],
                             "notIpBlocks": ["10.0.5.0/24"]}},
                 {"source": {"requestPrincipals": ["https://accounts.example.com/alice"],
                             "notNamespaces": ["legacy"]}}],
        "to": [{"operation": {"methods": ["GET"]}},
               {"operation": {"notPorts": ["15000"], "notMethods": ["DELETE"], "notPaths": ["/admin*"]}}]}]}


def test_a_sidecar_takes_several_egress_listeners_each_with_its_port(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A Sidecar had one egress listener; Istio takes one per port, plus one without a port, last."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "sidecar", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, SidecarForm)
    qtbot.keyClicks(form.name, "default")
    qtbot.mouseClick(form.add_listener_button, Qt.MouseButton.LeftButton)
    assert len(form.listeners) == 2
    assert "Egress listener 2: needs at least one egress host" in form.error.text()
    second = form.listeners[1]
    qtbot.keyClicks(second.hosts, "*/api.example.com")
    assert "listeners 1 and 2 both have no port" in form.error.text()
    qtbot.keyClicks(second.port, "99999")
    assert "egress listener 2: port '99999' is not a port number" in refused(dialog, qtbot)
    second.port.setText("443")
    second.protocol.setCurrentText("TLS")
    assert "listener 1 has no port: the listener without a port must be the last one" in form.error.text()
    qtbot.keyClicks(form.listeners[0].port, "443")
    assert "port 443 is given to two egress listeners" in refused(dialog, qtbot)
    form.listeners[0].port.setText("")
    # the one without a port moved down: the first becomes the port's
    form.listeners[0].fill(second.listener())
    second.hosts.setText("./*, istio-system/*")
    second.port.setText("")
    second.protocol.setCurrentText("")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "will know only the hosts of */api.example.com on port 443; ./*, istio-system/* on other ports" \
        in dialog.notes.text()
    confirm(dialog, qtbot)
    assert emu.get("sidecars", "bookinfo", "default", NET)["spec"] == {"egress": [
        {"port": {"number": 443, "protocol": "TLS"}, "hosts": ["*/api.example.com"]},
        {"hosts": ["./*", "istio-system/*"]}]}


def edit_action(ctl: ActionsController, inv: Inventory, text: str, qtbot: QtBot) -> Any:
    return next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inv).actions() if a.text() == text)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")  # a popup, offscreen
def test_a_namespace_of_hundreds_of_policies_keeps_a_menu_that_fits_the_screen(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """300 AuthorizationPolicies and 3 Sidecars in bookinfo: the menu listed an "Edit ... in a form" entry for
    each, 300-odd entries that Qt laid out in columns, a menu several screens wide with the namespace's other
    actions among them. Past a dozen they go in a submenu of each kind, which scrolls; its entries open
    the form on their object."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QGuiApplication

    for i in range(300):
        emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
                 "metadata": {"name": f"allow-{i:03d}", "namespace": "bookinfo"},
                 "spec": {"rules": [{"from": [{"source": {"namespaces": [f"team-{i}"]}}]}]}}, "bookinfo")
    for name in ("first", "second", "third"):
        emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": name, "namespace": "bookinfo"},
                 "spec": {"workloadSelector": {"labels": {"app": name}}, "egress": [{"hosts": ["./*"]}]}},
                "bookinfo")
    ctl = controller_for(emu, settings, window)
    menu = answered_menu(ctl, qtbot, None, GRAPH, inventory(emu))
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert menu.sizeHint().width() <= screen.width() and menu.sizeHint().height() <= screen.height()
    assert next(a for a in menu.actions() if a.objectName() == "remove").text() == "Remove meshdesk config in bookinfo…"
    subs = {a.text(): a.menu() for a in menu.actions() if a.menu() is not None}
    assert set(subs) == {"Edit an AuthorizationPolicy in a form (300)", "Edit a Sidecar in a form (3)"}
    policies = subs["Edit an AuthorizationPolicy in a form (300)"]
    assert [a.text() for a in policies.actions()][:2] == ["allow-000…", "allow-001…"]
    policies.popup(QPoint(0, 0))
    qtbot.waitUntil(policies.isVisible)
    assert policies.height() <= screen.height() and policies.width() <= screen.width() // 2
    policies.close()
    # the window's Actions menu is filled again each time it opens: the last time's submenus and entries go
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    inv = inventory(emu)
    for _ in range(3):
        ctl.populate(menu, None, GRAPH, inv)
        qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()))
    assert len(menu.findChildren(QMenu)) == 2 and len(menu.findChildren(QAction)) < 350
    policies = next(a.menu() for a in menu.actions() if a.text() == "Edit an AuthorizationPolicy in a form (300)")
    entry = next(a for a in policies.actions() if a.text() == "allow-123…")
    assert entry.isEnabled() and entry.toolTip() == "Edit AuthorizationPolicy allow-123 in a form"
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        entry.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    assert isinstance(dialog.form, AuthorizationPolicyForm) and dialog.form.name.text() == "allow-123"


def test_a_policy_deleted_between_review_and_confirm_is_said_deleted(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """An AuthorizationPolicy edited in its form and reviewed, then deleted by someone else before Confirm:
    the outcome said it 'was changed by someone else', and the user looked for a change; after Reload and
    review again the form said 'Copy your text if you need it' (the YAML editor's words: a form has no text).
    It says the policy was deleted, and what to do in a form."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "ratings", "namespace": "bookinfo"},
             "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "action": "DENY",
                      "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit AuthorizationPolicy ratings in a form…", qtbot)
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    assert isinstance(dialog.form, AuthorizationPolicyForm)
    dialog.form.rules[0].edits["paths"].setText("/admin*, /debug*")
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled()
    emu.delete("authorizationpolicies", "bookinfo", "ratings", SEC)
    with qtbot.waitSignal(dialog.applyDone):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.outcome.text().startswith("Not applied: AuthorizationPolicy bookinfo/ratings was deleted by someone "
                                            "else since meshdesk read it")
    assert "changed" not in dialog.outcome.text()
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    assert ready.args == [False] and dialog.page == FORM
    assert dialog.form_error.text() == (
        "AuthorizationPolicy bookinfo/ratings is no longer in the cluster: it was deleted since you began. There "
        "is nothing to save the form over: Cancel, and add a new AuthorizationPolicy from the namespace's Actions "
        "if it is still wanted.")
    assert emu.get("authorizationpolicies", "bookinfo", "ratings", SEC) is None


def test_an_existing_policy_opens_in_its_form_and_is_saved_over_the_copy_read(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Editing by form: the form opens prefilled, saving replaces the spec (labels kept, no meshdesk label
    added), and a copy changed meanwhile is a conflict to reload, as the YAML editor has it."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "ratings", "namespace": "bookinfo", "labels": {"team": "ops"}},
             "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "action": "DENY", "rules": [
                 {"from": [{"source": {"notNamespaces": ["bookinfo"]}}, {"source": {"ipBlocks": ["10.9.0.0/16"]}}],
                  "to": [{"operation": {"paths": ["/admin*"]}}],
                  "when": [{"key": "request.headers[x-user]", "values": ["alice", "bob"]}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit AuthorizationPolicy ratings in a form…", qtbot)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    assert form.name.text() == "ratings" and form.name.isReadOnly()
    assert form.policy.currentText() == "RULES" and form.action.currentText() == "DENY"
    assert form.selector.enabled.isChecked() and form.selector.labels.text() == "app=ratings"
    rule = form.rules[0]
    assert [b.edits["notNamespaces"].text() for b in rule.sources.boxes] == ["bookinfo", ""]
    assert rule.sources.boxes[1].edits["ipBlocks"].text() == "10.9.0.0/16"
    assert rule.edits["paths"].text() == "/admin*" and rule.edits["when"].text() == "request.headers[x-user]=alice, bob"
    rule.edits["paths"].setText("/admin*, /debug*")
    # someone else changes it meanwhile: the save is a conflict, nothing is written
    theirs = emu.get("authorizationpolicies", "bookinfo", "ratings", SEC)
    theirs["metadata"]["annotations"] = {"note": "theirs"}
    emu.add(theirs, "bookinfo")
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert ready.args == [False] and CONFLICT_TEXT in dialog.form_error.text()
    assert emu.get("authorizationpolicies", "bookinfo", "ratings", SEC)["spec"]["rules"][0]["to"] == [
        {"operation": {"paths": ["/admin*"]}}]
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True] and "changed since you began" in dialog.notes.text()
    assert "/debug*" in dialog.diff_text.toPlainText()
    confirm(dialog, qtbot)
    ap = emu.get("authorizationpolicies", "bookinfo", "ratings", SEC)
    assert ap["spec"]["rules"][0]["to"] == [{"operation": {"paths": ["/admin*", "/debug*"]}}]
    assert ap["spec"]["rules"][0]["from"][1] == {"source": {"ipBlocks": ["10.9.0.0/16"]}}
    assert ap["metadata"]["labels"] == {"team": "ops"} and ap["metadata"]["annotations"] == {"note": "theirs"}


def test_config_the_form_cannot_show_points_at_the_yaml_editor(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A policy with fields the form does not know (an AUDIT action, a target the form does not offer, a
    Sidecar's ingress) is not opened in it, where saving would drop them: the action says so and names
    the YAML editor. A Sidecar that fits opens with its listeners."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "ext", "namespace": "bookinfo"},
             "spec": {"action": "AUDIT", "rules": [{"to": [{"operation": {"paths": ["/x"]}}]}]}}, "bookinfo")
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "waypoint", "namespace": "bookinfo"},
             "spec": {"targetRefs": [{"kind": "GatewayClass", "group": "gateway.networking.k8s.io",
                                      "name": "istio-waypoint"}],
                      "rules": [{"when": [{"key": "source.ip", "notValues": ["10.0.0.1"], "values": ["x"]}]}]}},
            "bookinfo")
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar",
             "metadata": {"name": "inbound", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "ratings"}},
                      "ingress": [{"port": {"number": 9080, "protocol": "HTTPS"}, "defaultEndpoint": "127.0.0.1:9080",
                                   "tls": {"mode": "SIMPLE", "serverCertificate": "/etc/certs/cert.pem"}}],
                      "egress": [{"hosts": ["./*"]}]}}, "bookinfo")
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar",
             "metadata": {"name": "default", "namespace": "bookinfo"},
             "spec": {"egress": [{"port": {"number": 9080, "protocol": "HTTP", "name": "http"}, "hosts": ["./*"]},
                                 {"hosts": ["istio-system/*"]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    inv = inventory(emu)
    for text, field in (("Edit AuthorizationPolicy ext in a form…", "spec.action 'AUDIT'"),
                        ("Edit AuthorizationPolicy waypoint in a form…", "spec.targetRefs[0] (a "
                         "gateway.networking.k8s.io/GatewayClass"),
                        ("Edit Sidecar inbound in a form…", "spec.ingress[0].tls")):
        action = edit_action(ctl, inv, text, qtbot)
        assert not action.isEnabled()
        assert field in action.toolTip() and "Edit it as YAML instead (Istio config dock, Edit)" in action.toolTip()
    action = edit_action(ctl, inv, "Edit Sidecar default in a form…", qtbot)
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    assert isinstance(form, SidecarForm)
    assert [(b.hosts.text(), b.port.text(), b.protocol.currentText(), b.port_name.text()) for b in form.listeners] == [
        ("./*", "9080", "HTTP", "http"), ("istio-system/*", "", "", "")]
    form.listeners[1].hosts.setText("istio-system/*, */api.example.com")
    review(dialog, qtbot)
    # a namespace-wide Sidecar edited is not refused as a second one beside itself
    confirm(dialog, qtbot)
    assert emu.get("sidecars", "bookinfo", "default", NET)["spec"]["egress"][1] == {
        "hosts": ["istio-system/*", "*/api.example.com"]}
    assert MANAGED_LABEL not in (emu.get("sidecars", "bookinfo", "default", NET)["metadata"].get("labels") or {})


def test_an_allow_rule_left_empty_is_said_to_allow_every_request(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A second rule added and left empty matches every request, so the ALLOW policy lets everything in;
    the review said that what its rules do not match would be denied."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "from-bookinfo")
    form.policy.setCurrentText("RULES")
    qtbot.keyClicks(form.rules[0].edits["namespaces"], "bookinfo")
    assert not form.warning.isVisibleTo(form)
    qtbot.mouseClick(form.add_rule_button, Qt.MouseButton.LeftButton)
    assert "rule 2 has no field set: it matches every request, so this allows every request" in form.warning.text()
    review(dialog, qtbot)
    notes = dialog.notes.text()
    assert "Warning: rule 2 has no field set, so it matches every request: this allows every request to every " \
           "workload in namespace bookinfo" in notes
    assert "that none of its rules" not in notes


def test_a_condition_takes_values_it_must_not_have(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                   qtbot: QtBot) -> None:
    """Kiali's condition builder has Values and Not Values; the form had values only, so a policy with a
    condition's notValues could not be written, nor edited in the form."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "not-from")
    form.policy.setCurrentText("RULES")
    when = form.rules[0].edits["when"]
    qtbot.keyClicks(when, "source.ip!=10.0.0.0/33")
    assert "source.ip value '10.0.0.0/33' is not an IP address" in form.error.text()
    when.setText("source.ip!=10.0.0.0/8; request.headers[x-user]=alice; request.headers[x-user]!=bot")
    assert form.error.text() == ""
    review(dialog, qtbot)
    confirm(dialog, qtbot)
    assert emu.get("authorizationpolicies", "bookinfo", "not-from", SEC)["spec"]["rules"] == [{"when": [
        {"key": "source.ip", "notValues": ["10.0.0.0/8"]},
        {"key": "request.headers[x-user]", "values": ["alice"], "notValues": ["bot"]}]}]
    # and it opens in the form again as written
    action = edit_action(ctl, inventory(emu), "Edit AuthorizationPolicy not-from in a form…", qtbot)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    qtbot.addWidget(opened.args[0])
    assert opened.args[0].form.rules[0].edits["when"].text() == \
        "source.ip!=10.0.0.0/8; request.headers[x-user]=alice; request.headers[x-user]!=bot"


def test_request_principals_without_a_request_authentication_are_said_to_match_nothing(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A request principal is read from a JWT a RequestAuthentication validated: without one, a rule on
    request principals matches no request (an ALLOW policy on them denies everything), and nothing said so."""
    ctl = controller_for(emu, settings, window)
    said = "request principals and request.auth conditions match only requests whose JWT a RequestAuthentication " \
           "validated, and there is none in bookinfo (the root namespace istio-system was not read"
    for step in ("without", "with"):
        dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
        form = dialog.form
        assert isinstance(form, AuthorizationPolicyForm)
        qtbot.keyClicks(form.name, "jwt-only")
        form.policy.setCurrentText("RULES")
        qtbot.keyClicks(form.rules[0].edits["requestPrincipals"], "*")
        review(dialog, qtbot)
        assert (said in dialog.notes.text()) == (step == "without"), dialog.notes.text()
        emu.add({"apiVersion": f"{SEC}/v1", "kind": "RequestAuthentication",
                 "metadata": {"name": "jwt", "namespace": "bookinfo"},
                 "spec": {"jwtRules": [{"issuer": "https://accounts.example.com"}]}}, "bookinfo")


def test_the_demo_obeys_a_deny_rules_conditions(settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """The demo ignored a rule's when: a DENY rule for requests with a header (none of the demo's carry
    it) cut the whole namespace off, as a deny of everything would."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    for name, when, denied in (("deny-bots", "request.headers[x-user]=bot", False),
                               ("deny-but-from-shop", "source.namespace!=shop", True)):
        dialog = open_answered_action(ctl, qtbot, "authorization-policy", None, build(snap), snap.inventory)
        qtbot.addWidget(dialog)
        form = dialog.form
        qtbot.keyClicks(form.name, name)
        form.policy.setCurrentText("RULES")
        form.action.setCurrentText("DENY")
        qtbot.keyClicks(form.rules[0].edits["when"], when)
        review(dialog, qtbot)
        confirm(dialog, qtbot)
        snap = demo.snapshot(request)
        assert snap.inventory is not None
        graph = build(snap)
        into_shop = [e for e in graph.edges.values() if graph.nodes[e.target].namespace == "shop"
                     and graph.nodes[e.source].namespace != "shop" and e.rates.get("http", 0.0)]
        assert into_shop
        assert all(e.rates.get("http", 0.0) == pytest.approx(e.rates.get("http4xx", 0.0)) for e in into_shop) == denied


def test_editing_a_policy_whose_methods_are_lower_case_says_they_are_rewritten(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """The form writes HTTP methods upper case. A policy read with ``methods: [get]`` matched no request
    (Istio compares the method as the client sends it): saving it from the form changes what it
    matches, and the review says so rather than leaving it to the diff."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "reads", "namespace": "bookinfo"},
             "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "rules": [
                 {"to": [{"operation": {"methods": ["get", "HEAD"], "paths": ["/ratings/*"]}}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit AuthorizationPolicy reads in a form…", qtbot)
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    dialog.form.rules[0].edits["paths"].setText("/ratings/*, /health")
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True], dialog.form_error.text()
    assert "Method get will be written upper case" in dialog.notes.text()
    assert "matched no request" in dialog.notes.text()
    confirm(dialog, qtbot)
    ops = emu.get("authorizationpolicies", "bookinfo", "reads", SEC)["spec"]["rules"][0]["to"][0]["operation"]
    assert ops["methods"] == ["GET", "HEAD"]


def test_one_of_two_namespace_wide_sidecars_can_be_edited_and_the_clash_is_said(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A namespace already holding two Sidecars without a selector (made elsewhere): editing one of them
    by form does not make the clash, so it is let through with a warning that Istio picks one of them
    in no set order - not refused as if it were a new second one."""
    for name in ("first", "second"):
        emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": name, "namespace": "bookinfo"},
                 "spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit Sidecar first in a form…", qtbot)
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    dialog.form.listeners[0].hosts.setText("./*, istio-system/*, */api.example.com")
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True], dialog.form_error.text()
    assert "also has second without a workload selector" in dialog.notes.text()
    confirm(dialog, qtbot)
    assert emu.get("sidecars", "bookinfo", "first", NET)["spec"]["egress"][0]["hosts"][-1] == "*/api.example.com"


def test_the_demo_obeys_a_rules_ip_blocks(settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """The demo took IP blocks to match every request: a DENY rule for addresses no client has cut the
    whole namespace off. It now matches the client's pod address: only a rule naming the ingress
    gateway's address denies the gateway's requests."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    gateway = next(w for w in (*snap.inventory.workloads, *snap.inventory.outside_gateways)
                   if w.name == "istio-ingressgateway")
    address = gateway.pods[0].ip
    assert address

    def gateway_denied(name: str, block: str) -> bool:
        dialog = open_answered_action(ctl, qtbot, "authorization-policy", None, build(snap), snap.inventory)
        qtbot.addWidget(dialog)
        form = dialog.form
        qtbot.keyClicks(form.name, name)
        form.policy.setCurrentText("RULES")
        form.action.setCurrentText("DENY")
        qtbot.keyClicks(form.rules[0].sources.boxes[0].edits["ipBlocks"], block)
        review(dialog, qtbot)
        confirm(dialog, qtbot)
        graph = build(demo.snapshot(request))
        edges = [e for e in graph.edges.values() if graph.nodes[e.source].workload == "istio-ingressgateway"
                 and graph.nodes[e.target].namespace == "shop" and e.rates.get("http", 0.0)]
        assert edges
        return all(e.rates.get("http", 0.0) == pytest.approx(e.rates.get("http4xx", 0.0)) for e in edges)

    assert not gateway_denied("deny-documentation-net", "192.0.2.0/24")
    assert gateway_denied("deny-gateway", f"{address}/32")


def test_jwt_rules_for_workloads_no_request_authentication_selects_are_said_to_match_nothing(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A RequestAuthentication with a selector validates JWTs for the workloads it picks only: a policy
    on request principals for others matches none of their requests. The review named none of them."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "RequestAuthentication",
             "metadata": {"name": "ratings-jwt", "namespace": "bookinfo"},
             "spec": {"selector": {"matchLabels": {"app": "ratings"}},
                      "jwtRules": [{"issuer": "https://accounts.example.com"}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    inv = inventory(emu)
    others = sorted(w.name for w in inv.workloads if w.namespace == "bookinfo" and w.labels.get("app") != "ratings")
    assert others
    for selector, warned in (("", True), ("app=ratings", False)):
        dialog = open_action(ctl, qtbot, "authorization-policy", None, inv)
        form = dialog.form
        assert isinstance(form, AuthorizationPolicyForm)
        qtbot.keyClicks(form.name, "jwt-only")
        form.policy.setCurrentText("RULES")
        if selector:
            form.selector.enabled.setChecked(True)
            qtbot.keyClicks(form.selector.labels, selector)
        qtbot.keyClicks(form.rules[0].edits["requestPrincipals"], "*")
        review(dialog, qtbot)
        text = dialog.notes.text()
        said = f"no RequestAuthentication (bookinfo/ratings-jwt) selects {', '.join(others)}"
        assert (said in text) == warned, text


def _open_edit(ctl: ActionsController, inv: Inventory, name: str, qtbot: QtBot) -> ChangeDialog:
    action = edit_action(ctl, inv, f"Edit AuthorizationPolicy {name} in a form…", qtbot)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    return dialog


def test_a_policy_attached_to_targets_is_written_and_a_target_no_waypoint_serves_is_said_to_enforce_nothing(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Istio 1.22+ attaches a policy to a Gateway, or (ambient) a Service or ServiceEntry whose waypoint
    enforces it (targetRefs). The form offered a workload selector only, and a policy with targetRefs
    (or the older targetRef) could not be opened in it."""
    from tests.gateway_api_crds import GROUP, install

    install(emu, ("GatewayClass", "Gateway"))
    emu.add({"apiVersion": f"{GROUP}/v1", "kind": "Gateway", "metadata": {"name": "waypoint", "namespace": "bookinfo"},
             "spec": {"gatewayClassName": "istio-waypoint",
                      "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}}, "bookinfo")
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "old-style", "namespace": "bookinfo"},
             "spec": {"targetRef": {"kind": "Gateway", "group": GROUP, "name": "waypoint"}, "action": "DENY",
                      "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inventory(emu))
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "reviews-reads")
    form.policy.setCurrentText("RULES")
    qtbot.keyClicks(form.rules[0].edits["methods"], "GET")
    form.scope.setCurrentText("Targets (targetRefs)")
    assert form.targets_box.isVisibleTo(form) and not form.selector.enabled.isVisibleTo(form)
    row = form.targets[0]
    assert [row.name.itemText(i) for i in range(row.name.count())] == ["waypoint"]  # the Gateways of bookinfo
    row.kind.setCurrentText("Service")
    assert "reviews" in [row.name.itemText(i) for i in range(row.name.count())]
    row.name.setCurrentText("reviewz")
    assert "there is no Service reviewz in bookinfo" in form.warning.text()
    row.name.setCurrentText("reviews")
    said = ("no waypoint serves Service bookinfo/reviews (neither it nor namespace bookinfo has the label "
            "istio.io/use-waypoint)")
    assert said in form.warning.text() and "enforces nothing" in form.warning.text()
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert said in dialog.notes.text()
    assert "a request to Service bookinfo/reviews (through its waypoint) that none of its rules" in dialog.notes.text()
    confirm(dialog, qtbot)
    spec = emu.get("authorizationpolicies", "bookinfo", "reviews-reads", SEC)["spec"]
    assert spec["targetRefs"] == [{"kind": "Service", "group": "", "name": "reviews"}] and "selector" not in spec

    # once the Service asks for the waypoint, which runs, nothing is said
    svc = emu.get("services", "bookinfo", "reviews")
    svc["metadata"].setdefault("labels", {})["istio.io/use-waypoint"] = "waypoint"
    emu.add(svc, "bookinfo")
    dialog = _open_edit(ctl, inventory(emu), "reviews-reads", qtbot)
    form = dialog.form
    assert form.scope.currentText() == "Targets (targetRefs)"
    assert [r.value() for r in form.targets] == [("Service", "reviews")]
    assert "waypoint" not in form.warning.text()

    # the older single targetRef opens too, and is written back as targetRefs
    dialog = _open_edit(ctl, inventory(emu), "old-style", qtbot)
    form = dialog.form
    assert [r.value() for r in form.targets] == [("Gateway", "waypoint")] and form.action.currentText() == "DENY"
    review(dialog, qtbot)
    assert "targetRef (the older single field, deprecated) will be written as targetRefs" in dialog.notes.text()
    confirm(dialog, qtbot)
    spec = emu.get("authorizationpolicies", "bookinfo", "old-style", SEC)["spec"]
    assert spec["targetRefs"] == [{"kind": "Gateway", "group": GROUP, "name": "waypoint"}] and "targetRef" not in spec


def test_a_policy_with_both_a_selector_and_targets_is_not_opened_in_the_form(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    from meshdesk.mesh.routing import RoutingError
    from meshdesk.mesh.security import build_authorization_policy

    with pytest.raises(RoutingError, match="either to workloads by selector or to targets"):
        build_authorization_policy("p", "bookinfo", "DENY_ALL", selector={"app": "x"}, targets=[("Service", "x")])
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "both", "namespace": "bookinfo"},
             "spec": {"selector": {"matchLabels": {"app": "reviews"}},
                      "targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}]}}, "bookinfo")
    action = edit_action(controller_for(emu, settings, window), inventory(emu), "Edit AuthorizationPolicy both in a form…", qtbot)
    assert not action.isEnabled()
    assert "spec.selector and spec.targetRefs together (Istio rejects a policy with both)" in action.toolTip()


def test_a_custom_policy_sends_requests_to_a_provider_the_mesh_config_declares(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """CUSTOM (external authorization) with ``provider.name``: the form offered ALLOW and DENY only, and
    opened no policy with a provider. A provider the mesh config does not declare makes Istio deny every
    request the policy matches; what Istio refuses in a CUSTOM rule is said before anything is sent."""
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
             "data": {"mesh": "extensionProviders:\n"
                              "- name: opa\n  envoyExtAuthzGrpc: {service: opa.opa.svc.cluster.local, port: 9191}\n"
                              "- name: otel\n  envoyOtelAls: {service: otel.obs.svc.cluster.local, port: 4317}\n"}})
    ctl = controller_for(emu, settings, window)
    inv = inventory(emu)
    assert inv.mesh_settings.authz_providers == ["opa"]
    dialog = open_action(ctl, qtbot, "authorization-policy", None, inv)
    form = dialog.form
    assert isinstance(form, AuthorizationPolicyForm)
    qtbot.keyClicks(form.name, "ext-authz")
    form.policy.setCurrentText("RULES")
    assert not form.provider.isEnabled()
    form.action.setCurrentText("CUSTOM")
    assert form.provider.isEnabled() and form.provider.currentText() == "opa"
    assert not form.warning.isVisibleTo(form)  # an empty rule sends every request: no "allows every request"
    qtbot.keyClicks(form.rules[0].edits["principals"], "cluster.local/ns/bookinfo/sa/productpage")
    assert "a CUSTOM policy cannot match on principals" in form.error.text()
    assert "a CUSTOM policy cannot match on principals" in refused(dialog, qtbot)
    form.rules[0].edits["principals"].clear()
    qtbot.keyClicks(form.rules[0].edits["when"], "request.auth.claims[group]=admin")
    assert "the condition on request.auth.claims[group]" in form.error.text()
    form.rules[0].edits["when"].clear()
    qtbot.keyClicks(form.rules[0].edits["paths"], "/admin/*")
    form.provider.setCurrentText("otel")
    assert "Provider otel of the mesh config istio-system/istio is an envoyOtelAls provider, not an external " \
        "authorizer" in form.error.text()
    form.provider.setCurrentText("opaa")
    said = "rovider opaa is not among the extensionProviders of the mesh config istio-system/istio (it declares opa)"
    assert said in form.error.text() and "Istio would deny every request the policy matches" in form.error.text()
    assert said in refused(dialog, qtbot)
    form.provider.setCurrentText("")
    assert "a CUSTOM policy needs the external authorizer" in refused(dialog, qtbot)
    form.provider.setCurrentText("opa")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "sent to the external authorizer opa first" in dialog.notes.text()
    confirm(dialog, qtbot)
    assert emu.get("authorizationpolicies", "bookinfo", "ext-authz", SEC)["spec"] == {
        "action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{"to": [{"operation": {"paths": ["/admin/*"]}}]}]}

    # it opens in the form again, provider and all
    dialog = _open_edit(ctl, inventory(emu), "ext-authz", qtbot)
    assert (dialog.form.action.currentText(), dialog.form.provider.currentText()) == ("CUSTOM", "opa")
    assert dialog.form.rules[0].edits["paths"].text() == "/admin/*"


def test_a_sidecars_outbound_policy_is_set_and_registry_only_names_the_external_hosts_it_would_block(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """The Sidecar form had no outbound traffic policy: REGISTRY_ONLY could not be set from it, and a
    Sidecar with one could not be opened in it. REGISTRY_ONLY blocks hosts no ServiceEntry registers: the
    hosts the graph shows the workload calling through PassthroughCluster are named."""
    from meshdesk.mesh.graph.model import NODE_SERVICE, Edge, ResponseDetail

    graph = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
    page = graph.add_node(Node("pp", NODE_WORKLOAD, namespace="bookinfo", workload="productpage-v1", app="productpage"))
    out = graph.add_node(Node("pt", NODE_SERVICE, namespace="unknown", service="PassthroughCluster"))
    graph.add_edge(Edge("pp-pt", page.id, out.id, "http", rates={"http": 2.0},
                        responses={"200": ResponseDetail({"-": 100.0}, {"api.github.com": 100.0})}))
    ctl = controller_for(emu, settings, window)
    node = Node("wl", NODE_WORKLOAD, namespace="bookinfo", workload="productpage-v1")
    action = next(a for a in answered_menu(ctl, qtbot, node, graph, inventory(emu)).actions() if a.objectName() == "workload-sidecar")
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    assert isinstance(form, SidecarForm)
    qtbot.keyClicks(form.name, "productpage")
    assert form.outbound.currentText().startswith("Mesh default (ALLOW_ANY")
    assert not form.warning.isVisibleTo(form)
    form.outbound.setCurrentIndex(form.outbound.findData("REGISTRY_ONLY"))
    said = "the graph shows productpage-v1 calling api.github.com through PassthroughCluster"
    assert said in form.warning.text() and "would be blocked" in form.warning.text()
    review(dialog, qtbot)
    assert said in dialog.notes.text()
    assert "calls to any other service of the mesh fail (REGISTRY_ONLY)" in dialog.notes.text()
    confirm(dialog, qtbot)
    spec = emu.get("sidecars", "bookinfo", "productpage", NET)["spec"]
    assert spec["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    # in an app graph the caller is the app (ratings' calls are not productpage's)
    from meshdesk.mesh.graph.model import NODE_APP
    from meshdesk.mesh.security import passthrough_calls

    apps = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
    for app in ("productpage", "ratings"):
        apps.add_node(Node(app, NODE_APP, namespace="bookinfo", app=app))
        apps.add_edge(Edge(f"{app}-pt", app, out.id, "http", rates={"http": 1.0},
                           responses={"200": ResponseDetail({"-": 100.0}, {f"{app}.example.com": 100.0})}))
    apps.add_node(out)
    chosen = [w for w in inventory(emu).workloads if w.name == "productpage-v1"]
    assert passthrough_calls(apps, "bookinfo", chosen) == (["productpage.example.com"], ["productpage"])

    # it opens in the form with its policy; one without a mode (Istio reads it as REGISTRY_ONLY) does not
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": "modeless", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "ratings"}}, "egress": [{"hosts": ["./*"]}],
                      "outboundTrafficPolicy": {}}}, "bookinfo")
    inv = inventory(emu)
    action = edit_action(ctl, inv, "Edit Sidecar modeless in a form…", qtbot)
    assert not action.isEnabled() and "spec.outboundTrafficPolicy without a mode" in action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        edit_action(ctl, inv, "Edit Sidecar productpage in a form…", qtbot).trigger()
    qtbot.addWidget(opened.args[0])
    assert opened.args[0].form.outbound.currentData() == "REGISTRY_ONLY"


def test_an_l7_policy_by_selector_in_an_ambient_namespace_is_said_not_to_be_enforced_as_written(
        settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """In ambient mode a waypoint ignores policies that pick workloads by selector and ztunnel cannot
    check L7 rules: the review of such a policy said nothing, pointing at no targetRefs."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    snap = demo.snapshot(GraphRequest(namespaces=("travel",)))
    assert snap.inventory is not None
    for scope, warned in (("Workloads (by selector)", True), ("Targets (targetRefs)", False)):
        dialog = open_answered_action(ctl, qtbot, "authorization-policy", None, build(snap), snap.inventory)
        qtbot.addWidget(dialog)
        form = dialog.form
        qtbot.keyClicks(form.name, "reads-only")
        form.policy.setCurrentText("RULES")
        qtbot.keyClicks(form.rules[0].edits["methods"], "GET")
        form.scope.setCurrentText(scope)
        # travel has no Gateway: its Services are offered first
        assert form.targets[0].value() == ("Service", "flights")
        review(dialog, qtbot)
        said = "namespace travel is in ambient mode and this policy has L7 rules (its HTTP methods)"
        assert (said in dialog.notes.text()) == warned, dialog.notes.text()


def test_the_demo_ignores_a_policy_attached_to_a_service_no_waypoint_serves(
        settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Sidecars ignore a policy attached by targetRefs (a waypoint enforces it): the demo took such a
    deny-all for one Service as a deny-all for its whole namespace, cutting the shop off."""
    from meshdesk.mesh.graph.builder import build

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    ctl = ActionsController(demo, settings, window)
    request = GraphRequest(namespaces=("shop",))
    snap = demo.snapshot(request)
    assert snap.inventory is not None
    dialog = open_answered_action(ctl, qtbot, "authorization-policy", None, build(snap), snap.inventory)
    qtbot.addWidget(dialog)
    form = dialog.form
    qtbot.keyClicks(form.name, "deny-reviews")
    form.scope.setCurrentText("Targets (targetRefs)")
    form.targets[0].set("Service", "reviews")
    review(dialog, qtbot)
    assert "no waypoint serves Service shop/reviews" in dialog.notes.text()
    confirm(dialog, qtbot)
    graph = build(demo.snapshot(request))
    served = [e for e in graph.edges.values() if graph.nodes[e.target].namespace == "shop" and e.rates.get("http", 0.0)]
    assert served and all(e.rates.get("http4xx", 0.0) < 0.5 * e.rates["http"] for e in served)


def test_a_deny_all_names_only_the_allow_policies_that_reach_the_same_proxies() -> None:
    """An ALLOW policy attached to a Service's waypoint by targetRefs was named beside a deny-all for the
    namespace's workloads as letting requests in: the workloads' sidecars never weigh it."""
    from meshdesk.mesh.inventory import IstioObject
    from meshdesk.mesh.security import authorization_policy_plan
    from tests.ui_helpers import small_inventory

    inv = small_inventory("shop")
    allow_by_target = IstioObject("AuthorizationPolicy", "allow-web-at-waypoint", "shop", spec={
        "targetRefs": [{"kind": "Service", "group": "", "name": "web"}], "action": "ALLOW",
        "rules": [{"from": [{"source": {"namespaces": ["shop"]}}]}]})
    allow_by_selector = IstioObject("AuthorizationPolicy", "allow-frontend", "shop", spec={
        "selector": {"matchLabels": {"app": "frontend"}}, "action": "ALLOW", "rules": [{}]})
    inv.istio += [allow_by_target, allow_by_selector]
    workloads = authorization_policy_plan(inv, IstioObject("AuthorizationPolicy", "deny", "shop", spec={}))
    said = " ".join(workloads.notes)
    assert "shop/allow-frontend" in said and "allow-web-at-waypoint" not in said
    at_web = authorization_policy_plan(inv, IstioObject("AuthorizationPolicy", "deny-web", "shop", spec={
        "targetRefs": [{"kind": "Service", "group": "", "name": "web"}]}))
    said = " ".join(at_web.notes)
    assert "shop/allow-web-at-waypoint" in said and "allow-frontend" not in said


def test_a_long_name_kubernetes_takes_is_taken() -> None:
    """Kubernetes checks an object's name as a whole (at most 253 characters); a part between dots may be
    longer than 63 (a label's limit): such a name was refused, saying to use lower-case letters."""
    from meshdesk.mesh.security import name_problem

    assert name_problem("a" * 64) == ""
    assert name_problem("deny-" + "x" * 100 + ".team") == ""
    assert name_problem("a" * 254).endswith("at most 253 characters (254 given)")


def test_editing_a_policy_keeps_the_order_of_its_fields(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A policy whose fields are written in another order than the form's (action before the selector,
    paths before methods) came back in the form's: the review's diff showed them moved though only a path
    was added. The policy's own order is kept."""
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "reads", "namespace": "bookinfo"},
             "spec": {"action": "ALLOW", "selector": {"matchLabels": {"app": "ratings"}}, "rules": [
                 {"to": [{"operation": {"paths": ["/ratings/*"], "methods": ["GET"]}}]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit AuthorizationPolicy reads in a form…", qtbot)
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    dialog.form.rules[0].edits["paths"].setText("/ratings/*, /health")
    with qtbot.waitSignal(dialog.reviewReady) as ready:
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True], dialog.form_error.text()
    changed = [line[0] + line[1:].strip() for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["+- /health"], changed


def test_a_sidecar_takes_ingress_listeners_and_an_egress_listeners_bind_and_capture_mode(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """The form wrote egress hosts and ports only: a workload whose app listens on 127.0.0.1, or one
    whose egress goes through a bound address, needed its Sidecar written as YAML. Each field is
    judged as Istio's validation judges it, before anything is sent."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "workload-sidecar", Node("wl", NODE_WORKLOAD, namespace="bookinfo",
                                                              workload="ratings-v1"), inventory(emu))
    form = dialog.form
    assert isinstance(form, SidecarForm)
    qtbot.keyClicks(form.name, "ratings")
    assert form.ingress == []  # none unless asked for: Istio makes them from the Services
    qtbot.mouseClick(form.add_ingress_button, Qt.MouseButton.LeftButton)
    inbound = form.ingress[0]
    assert form.error.text() == "Ingress listener: needs a port number (the port its workloads take traffic on)"
    for port, said in (("0", "port '0' is not a port number from 1 to 65535"),
                       ("65536", "port '65536' is not a port number from 1 to 65535"), ("９０８０", "not a port number")):
        inbound.port.setText(port)
        assert said in form.error.text()
    inbound.port.setText("9080")
    inbound.protocol.setCurrentText("HTTP")
    inbound.port_name.setText("Http_9080")
    assert "port name 'Http_9080' is not a name" in form.error.text()
    inbound.port_name.setText("http-9080")
    for endpoint, said in (
            ("10.0.0.1:8080", "the host must be the workload's own (127.0.0.1, 0.0.0.0, ::1 or ::), not '10.0.0.1'"),
            ("127.0.0.1", "is not one of 127.0.0.1:PORT"),
            ("::1:8080", "write an IPv6 address in brackets ([::1]:PORT)"),
            ("127.0.0.1:0", "port '0' is not a port number"),
            ("unix://var/run/app.sock", "after unix:// comes an absolute path"),
            ("unix://", "names no socket")):
        inbound.default_endpoint.setText(endpoint)
        assert said in form.error.text(), endpoint
    for endpoint in ("[::1]:8080", ":8080", "unix://@app", "unix:///var/run/app.sock"):
        inbound.default_endpoint.setText(endpoint)
        assert form.error.text() == "", endpoint
    inbound.default_endpoint.setText("127.0.0.1:8080")
    inbound.bind.setText("localhost")
    assert "bind 'localhost' is not an IP address" in form.error.text()
    inbound.bind.setText("0.0.0.0")
    inbound.capture_mode.setCurrentText("NONE")
    qtbot.mouseClick(form.add_ingress_button, Qt.MouseButton.LeftButton)
    form.ingress[1].port.setText("9080")
    assert form.error.text() == "Port 9080 is given to two ingress listeners: one listener per port"
    qtbot.mouseClick(form.ingress[1].remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(form.ingress) == 1)
    # the egress listener: its bind and capture mode; port 0 is a Unix domain socket
    egress = form.listeners[0]
    egress.bind.setText("127.0.0.1")
    assert form.error.text() == "Egress listener: a protocol, port name or bind address needs a port number"
    egress.port.setText("0")
    assert "port 0 is for a Unix domain socket" in form.error.text()
    egress.bind.setText("unix:///var/run/egress.sock")
    egress.capture_mode.setCurrentText("IPTABLES")
    assert "takes capture mode DEFAULT or NONE, not IPTABLES" in form.error.text()
    egress.capture_mode.setCurrentText("NONE")
    assert form.error.text() == ""
    egress.port.setText("9080")
    assert form.error.text() == ("Egress listener: bind 'unix:///var/run/egress.sock' is a Unix domain socket, "
                                 "which takes port 0; or bind an IP address")
    egress.bind.setText("127.0.0.1")
    egress.protocol.setCurrentText("HTTP")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "will take inbound traffic on port 9080 (HTTP) to 127.0.0.1:8080" in dialog.notes.text()
    confirm(dialog, qtbot)
    spec = emu.get("sidecars", "bookinfo", "ratings", NET)["spec"]
    assert spec == {
        "workloadSelector": {"labels": {"app": "ratings", "version": "v1"}},
        "ingress": [{"port": {"number": 9080, "protocol": "HTTP", "name": "http-9080"}, "bind": "0.0.0.0",
                     "captureMode": "NONE", "defaultEndpoint": "127.0.0.1:8080"}],
        "egress": [{"port": {"number": 9080, "protocol": "HTTP"}, "bind": "127.0.0.1", "captureMode": "NONE",
                    "hosts": ["./*", "istio-system/*"]}]}


def test_a_sidecar_of_ingress_listeners_only_is_written_and_edited_in_its_form(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A Sidecar with ingress listeners and no egress (its sidecars know every host) could not be made,
    nor opened in the form: it was said to have fields the form does not know."""
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": "inbound", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "ratings"}},
                      "ingress": [{"port": {"number": 9080, "protocol": "HTTP", "name": "http"},
                                   "defaultEndpoint": "unix:///var/run/ratings.sock", "captureMode": "IPTABLES"}],
                      "egress": [{"port": {"number": 0, "protocol": "HTTP"}, "bind": "unix://@egress",
                                  "captureMode": "DEFAULT", "hosts": ["./*"]}, {"hosts": ["istio-system/*"]}]}},
            "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit Sidecar inbound in a form…", qtbot)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    assert isinstance(form, SidecarForm) and form.error.text() == ""
    inbound = form.ingress[0]
    assert (inbound.port.text(), inbound.protocol.currentText(), inbound.port_name.text(),
            inbound.default_endpoint.text(), inbound.capture_mode.currentText()) == \
        ("9080", "HTTP", "http", "unix:///var/run/ratings.sock", "IPTABLES")
    first = form.listeners[0]
    assert (first.port.text(), first.bind.text(), first.capture_mode.currentText()) == \
        ("0", "unix://@egress", "DEFAULT")
    # the egress listeners emptied: none is written, and the review says the sidecars know every host
    qtbot.mouseClick(first.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(form.listeners) == 1)
    form.listeners[0].hosts.setText("")
    assert form.error.text() == ""
    review(dialog, qtbot)
    assert "has no egress listener: the sidecars of" in dialog.notes.text()
    confirm(dialog, qtbot)
    spec = emu.get("sidecars", "bookinfo", "inbound", NET)["spec"]
    assert spec == {"workloadSelector": {"labels": {"app": "ratings"}},
                    "ingress": [{"port": {"number": 9080, "protocol": "HTTP", "name": "http"},
                                 "captureMode": "IPTABLES", "defaultEndpoint": "unix:///var/run/ratings.sock"}]}


def test_a_workload_deleted_since_its_sidecar_form_opened_is_said_and_nothing_is_applied(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """A Sidecar for a workload deleted meanwhile passed its review, which still said its selector
    picked that workload, and could be created for nothing."""
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "workload-sidecar", Node("wl", NODE_WORKLOAD, namespace="bookinfo",
                                                              workload="ratings-v1"), inventory(emu))
    dialog.form.name.setText("ratings")
    emu.delete("deployments", "bookinfo", "ratings-v1", "apps")
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW
    assert dialog.verdict.text().startswith("Deployment bookinfo/ratings-v1 was deleted since this form opened")
    assert not dialog.confirm_button.isEnabled()
    assert emu.get("sidecars", "bookinfo", "ratings", NET) is None


def test_a_sidecar_whose_protocols_are_lower_case_is_edited_in_its_form_keeping_them(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Istio reads a listener's protocol in any case; the form took only upper case, so a Sidecar
    written with ``protocol: http`` was sent to the YAML editor. It opens in the form now, and a save
    changes only what was changed: the protocol stays as written."""
    emu.add({"apiVersion": f"{NET}/v1", "kind": "Sidecar", "metadata": {"name": "lower", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "ratings"}},
                      "ingress": [{"port": {"number": 9080, "protocol": "http", "name": "http"},
                                   "defaultEndpoint": "127.0.0.1:9080"}],
                      "egress": [{"port": {"number": 3306, "protocol": "mysql"}, "hosts": ["./*"]},
                                 {"hosts": ["istio-system/*"]}]}}, "bookinfo")
    ctl = controller_for(emu, settings, window)
    action = edit_action(ctl, inventory(emu), "Edit Sidecar lower in a form…", qtbot)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    form = dialog.form
    assert isinstance(form, SidecarForm)
    assert form.ingress[0].protocol.currentText() == "HTTP" and form.listeners[0].protocol.currentText() == "MYSQL"
    form.listeners[1].hosts.setText("istio-system/*, */api.example.com")
    review(dialog, qtbot)
    changed = [line for line in dialog.diff_text.toPlainText().splitlines()
               if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert len(changed) == 1 and "*/api.example.com" in changed[0], changed
    confirm(dialog, qtbot)
    spec = emu.get("sidecars", "bookinfo", "lower", NET)["spec"]
    assert spec["ingress"][0]["port"]["protocol"] == "http" and spec["egress"][0]["port"]["protocol"] == "mysql"
    assert spec["egress"][1]["hosts"] == ["istio-system/*", "*/api.example.com"]
