"""The namespace actions Create and Delete traffic policies against the Kubernetes API emulator, through the
official client: RBAC decides whether they are offered, an object of the same name is not overwritten, and a
namespace without traffic is asked about before a deny-all alone is written. Real widgets, offscreen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.builder import build
from meshdesk.mesh.graph.model import TrafficGraph
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import NodeFocus
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.inventory import read_inventory
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.dialogs.change_dialog import DONE, FORM, REVIEW, ChangeDialog
from tests.graph_samples import http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.ui_helpers import answered_menu

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
SEC = "security.istio.io"
NET = "networking.istio.io"

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
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def _inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="Kubernetes")


def _graph(inv: Inventory, traffic: bool = True) -> TrafficGraph:
    samples = [http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo"),
               http("reviews-v2", "ratings-v1", 3.0, ns="bookinfo")] if traffic else []
    return build(snapshot(samples, inv, namespaces=("bookinfo",)))


def _controller(emu: KubeEmulator, tmp_path: Path, window: QWidget) -> ActionsController:
    return ActionsController(ClusterSource(emu.api_client(), context="emu"), Settings(tmp_path / "s.json"), window)


def _open(ctl: ActionsController, qtbot: QtBot, text: str, graph: TrafficGraph, inv: Inventory) -> ChangeDialog:
    menu = answered_menu(ctl, qtbot, None, graph, inv)
    action = next(a for a in menu.actions() if a.text() == text)
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    return dialog


def _review(dialog: ChangeDialog, qtbot: QtBot) -> None:
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)


def test_the_traffic_policies_are_written_to_the_namespaces_cluster_after_a_dry_run(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    dialog = _open(ctl, qtbot, "Create traffic policies in bookinfo…", _graph(inv), inv)
    _review(dialog, qtbot)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    assert "Dry run passed: Create AuthorizationPolicy bookinfo/deny-all-bookinfo" in dialog.dry_run_text.toPlainText()
    # nothing is written before Confirm
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is None
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is not None
    assert emu.get("authorizationpolicies", "bookinfo", "reviews-v2", SEC)["spec"]["rules"] == [
        {"from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]}}]}]
    assert emu.get("sidecars", "bookinfo", "productpage-v1", NET) is not None


def test_rbac_that_forbids_creating_sidecars_disables_the_action_saying_why(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    emu.forbid(namespace="bookinfo", resource="sidecars", verb="create")
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    menu = answered_menu(ctl, qtbot, None, _graph(inv), inv)
    action = next(a for a in menu.actions() if a.text() == "Create traffic policies in bookinfo…")
    assert not action.isEnabled()
    assert action.toolTip().startswith("Your RBAC role does not allow you to create sidecars in namespace bookinfo")


def test_a_service_graph_offers_no_traffic_policies_saying_why(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    graph = build(snapshot([http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo")], inv, namespaces=("bookinfo",),
                           graphType="service"))
    menu = answered_menu(ctl, qtbot, None, graph, inv)
    action = next(a for a in menu.actions() if a.text() == "Create traffic policies in bookinfo…")
    assert not action.isEnabled()
    assert action.toolTip().startswith("A service graph shows no workloads: show a workload or app graph")


def test_a_policy_of_the_same_name_is_named_in_the_form_and_the_review_refuses_to_overwrite_it(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    emu.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "ratings-v1", "namespace": "bookinfo"},
             "spec": {"action": "ALLOW", "rules": [{}]}})
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    dialog = _open(ctl, qtbot, "Create traffic policies in bookinfo…", _graph(inv), inv)
    assert ("Already there, not made by this action (not overwritten): AuthorizationPolicy bookinfo/ratings-v1."
            in dialog.form.summary.text())
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and not dialog.busy
    assert "AuthorizationPolicy bookinfo/ratings-v1 already exists" in dialog.form_error.text()
    assert emu.get("authorizationpolicies", "bookinfo", "ratings-v1", SEC)["spec"] == {"action": "ALLOW", "rules": [{}]}
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is None


def test_a_namespace_without_traffic_is_asked_about_before_a_deny_all_alone(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    dialog = _open(ctl, qtbot, "Create traffic policies in bookinfo…", _graph(inv, traffic=False), inv)
    form = dialog.form
    assert form.summary.text().startswith("No workload of bookinfo receives requests from the mesh in the graph")
    assert form.deny_alone.isVisibleTo(dialog) and not form.deny_alone.isChecked()
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == FORM and "the deny-all alone would deny every request to bookinfo" in dialog.form_error.text()
    form.deny_alone.setChecked(True)
    _review(dialog, qtbot)
    assert dialog.page == REVIEW and dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC)["spec"] == {}
    # Delete traffic policies removes it again (and only it)
    after = _inventory(emu)
    dialog = _open(ctl, qtbot, "Delete traffic policies in bookinfo…", _graph(after, traffic=False), after)
    assert [dialog.form.objects.item(i).text() for i in range(dialog.form.objects.count())] == [
        "AuthorizationPolicy bookinfo/deny-all-bookinfo"]
    _review(dialog, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("authorizationpolicies", "bookinfo", "deny-all-bookinfo", SEC) is None


def test_a_node_graph_offers_no_update_that_would_delete_the_policies_of_what_it_leaves_out(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    dialog = _open(ctl, qtbot, "Create traffic policies in bookinfo…", _graph(inv), inv)
    _review(dialog, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    after = _inventory(emu)
    # drilled into ratings: the graph shows reviews-v2 calling it, not productpage calling reviews-v2
    node_graph = build(snapshot([http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo"),
                                 http("reviews-v2", "ratings-v1", 3.0, ns="bookinfo")], after,
                                namespaces=("bookinfo",), node=NodeFocus("bookinfo", workload="ratings-v1")))
    assert "productpage-v1" in {n.workload for n in _graph(after).nodes.values()}
    assert "productpage-v1" not in {n.workload for n in node_graph.nodes.values()}
    menu = answered_menu(ctl, qtbot, None, node_graph, after)
    action = next(a for a in menu.actions() if a.text() == "Update traffic policies in bookinfo…")
    assert not action.isEnabled()
    assert action.toolTip().startswith("A node graph shows only the traffic of one node: go back to the full graph")
    # what the full graph made stays (reviews-v2's ALLOW policy lets productpage in)
    assert emu.get("authorizationpolicies", "bookinfo", "reviews-v2", SEC) is not None


def test_a_graph_without_tcp_traffic_offers_no_traffic_policies_saying_why(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    graph = build(snapshot([http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo")], inv, namespaces=("bookinfo",),
                           rateTcp="none"))
    menu = answered_menu(ctl, qtbot, None, graph, inv)
    action = next(a for a in menu.actions() if a.text() == "Create traffic policies in bookinfo…")
    assert not action.isEnabled()
    assert action.toolTip().startswith("The graph leaves TCP traffic out (Traffic menu): show it")


def test_remove_meshdesk_config_deletes_the_deny_all_before_the_allow_policies_of_workloads_named_before_it(
        emu: KubeEmulator, qtbot: QtBot, tmp_path: Path, window: QWidget) -> None:
    # a workload whose name sorts before "deny-all-bookinfo": its ALLOW policy was deleted first, and until
    # the deny-all went too (or for good, should the removal stop there) its requests were denied
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api-v1", "namespace": "bookinfo"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api", "version": "v1"}},
                      "template": {"metadata": {"labels": {"app": "api", "version": "v1"}},
                                   "spec": {"containers": [{"name": "api", "image": "example/api:1"}]}}}})
    emu.run_workloads("bookinfo")
    ctl = _controller(emu, tmp_path, window)
    inv = _inventory(emu)
    graph = build(snapshot([http("productpage-v1", "api-v1", 2.0, ns="bookinfo"),
                            http("productpage-v1", "reviews-v2", 5.0, ns="bookinfo")], inv, namespaces=("bookinfo",)))
    dialog = _open(ctl, qtbot, "Create traffic policies in bookinfo…", graph, inv)
    _review(dialog, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("authorizationpolicies", "bookinfo", "api-v1", SEC) is not None
    after = _inventory(emu)
    dialog = _open(ctl, qtbot, "Remove meshdesk config in bookinfo…", graph, after)
    _review(dialog, qtbot)
    deletes = [line for line in dialog.dry_run_text.toPlainText().splitlines() if "Delete AuthorizationPolicy" in line]
    assert deletes and deletes[0].endswith("bookinfo/deny-all-bookinfo"), deletes
