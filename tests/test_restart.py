"""Restarting a workload (``kubectl rollout restart``, Lens's and k9s's Restart): what turning on a
namespace's sidecar injection waits for, since injection only changes pods when they start. Through
the Actions menu and its review, dry run and confirm, against the Kubernetes API emulator; refused in
words for what has no rollout; and in the demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.changes import RESTARTED_AT, restart_plan, waiting_for_restart
from meshdesk.mesh.graph.model import NODE_WORKLOAD, Node
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import RoutingError
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.inventory import read_inventory
from meshdesk.sources.writes import SourceWriter, apply, dry_run, refresh
from meshdesk.store.settings import Settings
from meshdesk.ui.dialogs.change_dialog import REVIEW
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_actions_ui import GRAPH, controller_for, open_action, review_and_confirm
from tests.ui_helpers import answered_menu, window_test_marks

pytestmark = window_test_marks()
NS = "bookinfo"


def _deployment(name: str, labels: dict[str, str], replicas: int = 2) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"example/{name}:1"}]}}}}


@pytest.fixture
def emu(kube_emulator: KubeEmulator) -> KubeEmulator:
    """Workloads started before sidecar injection was turned on in their namespace: no sidecar yet."""
    kube_emulator.add_namespace(NS)
    kube_emulator.add(_deployment("web-v1", {"app": "web", "version": "v1"}))
    kube_emulator.add(_deployment("idle-v1", {"app": "idle", "version": "v1"}, replicas=0))
    kube_emulator.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": NS},
                       "spec": {"template": {"metadata": {"labels": {"app": "migrate"}},
                                             "spec": {"containers": [{"name": "m", "image": "m:1"}]}}}})
    kube_emulator.run_workloads()
    kube_emulator.add_namespace(NS, {"istio-injection": "enabled"})  # turned on since
    return kube_emulator


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def _inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), [NS], cluster="Kubernetes")


def _template_annotations(emu: KubeEmulator, name: str) -> dict[str, str]:
    dep = emu.get("deployments", NS, name, "apps")
    assert dep is not None
    return dict(dep["spec"]["template"]["metadata"].get("annotations") or {})


def test_a_workload_without_its_sidecar_is_restarted_from_the_actions_menu(emu: KubeEmulator, settings: Settings,
                                                                           window: QWidget, qtbot: QtBot) -> None:
    """The panel said "restart it to get one"; the restart itself was for kubectl. The review says the new
    pods get the sidecar; the dry run changes nothing; Confirm patches the template as kubectl does."""
    inv = _inventory(emu)
    web = inv.workload(NS, "web-v1")
    assert web is not None and web.has_sidecar is False
    ctl = controller_for(emu, settings, window)
    node = Node("wl", NODE_WORKLOAD, namespace=NS, workload="web-v1")
    dialog = open_action(ctl, qtbot, "restart", node, inv)
    # it read "Restart deployment for Deployment bookinfo/web-v1"
    assert dialog.heading.text() == "<b>Restart Deployment bookinfo/web-v1</b>"
    assert dialog.windowTitle() == "meshdesk - Restart Deployment bookinfo/web-v1"
    review_and_confirm(dialog, qtbot, emu)  # (it checks the dry run kept nothing)
    assert "the new pods get the istio-proxy sidecar" in dialog.notes.text()  # what the review said
    stamp = _template_annotations(emu, "web-v1").get(RESTARTED_AT, "")
    assert stamp.endswith("Z") and stamp[:4].isdigit()
    # restarted again later: the annotation moves on (a new rollout each time)
    plan = restart_plan(_inventory(emu), web, "2030-01-01T00:00:00Z")
    assert apply(ctl.writer, refresh(ctl.writer, plan)).ok
    assert _template_annotations(emu, "web-v1")[RESTARTED_AT] == "2030-01-01T00:00:00Z"


def test_what_cannot_be_restarted_is_offered_disabled_saying_why(emu: KubeEmulator, settings: Settings,
                                                                  window: QWidget, qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    inv = _inventory(emu)
    for name, why in (("idle-v1", "is scaled to zero: it runs no pod to restart"),
                      ("migrate", "a Job's pods run to completion")):
        node = Node("wl", NODE_WORKLOAD, namespace=NS, workload=name)
        action = next(a for a in answered_menu(ctl, qtbot, node, GRAPH, inv).actions() if a.objectName() == "restart")
        assert not action.isEnabled() and why in action.toolTip(), (name, action.toolTip())
        w = inv.workload(NS, name)
        assert w is not None
        with pytest.raises(RoutingError, match=why):
            restart_plan(inv, w, "2030-01-01T00:00:00Z")


def test_rbac_and_a_workload_gone_meanwhile(emu: KubeEmulator, settings: Settings, window: QWidget,
                                            qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    inv = _inventory(emu)
    web = inv.workload(NS, "web-v1")
    assert web is not None
    emu.forbid(namespace=NS, resource="deployments", verb="patch")
    node = Node("wl", NODE_WORKLOAD, namespace=NS, workload="web-v1")
    action = next(a for a in answered_menu(ctl, qtbot, node, GRAPH, inv).actions() if a.objectName() == "restart")
    assert not action.isEnabled() and "patch" in action.toolTip()
    emu.clear_faults()
    plan = refresh(ctl.writer, restart_plan(inv, web, "2030-01-01T00:00:00Z"))
    emu.delete("deployments", NS, "web-v1", "apps")
    result = dry_run(ctl.writer, plan)
    assert not result.ok and "is gone: there is nothing to restart" in str(result.error)


def test_the_demo_restarts_a_workloads_pods() -> None:
    """The demo's pods are replaced (new names, started now), with or without the sidecar as the
    namespace's injection says now, and its simulated traffic follows."""
    now = 1_790_000_000.0
    demo = DemoCluster(clock=lambda: now)
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    product = inv.workload("shop", "productpage-v1")
    assert product is not None
    before = [p.name for p in product.pods]
    writer = SourceWriter(demo)
    assert dry_run(demo, restart_plan(inv, product, "2026-11-29T00:00:00Z")).ok
    assert [p.name for p in demo.snapshot(GraphRequest(namespaces=("shop",))).inventory.workload(  # type: ignore[union-attr]
        "shop", "productpage-v1").pods] == before
    assert apply(demo, refresh(writer, restart_plan(inv, product, "2026-11-29T00:00:00Z"))).ok
    after = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert after is not None
    restarted = after.workload("shop", "productpage-v1")
    assert restarted is not None and len(restarted.pods) == len(before)
    assert not set(p.name for p in restarted.pods) & set(before)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now)))
    assert {p.created for p in restarted.pods} == {started} and all(p.restarts == 0 for p in restarted.pods)
    assert restarted.has_sidecar
    # the demo's logs follow the new pods
    assert demo.pod_logs("shop", restarted.pods[0].name, "istio-proxy", tail_lines=3)

    def shop() -> Any:
        return demo.snapshot(GraphRequest(namespaces=("shop",)))

    def productpage_reports(snap: Any) -> set[str]:
        return {s.labels["reporter"] for s in snap.samples if s.metric == "istio_requests_total"
                and s.labels.get("source_workload") == "productpage-v1"}

    assert productpage_reports(shop()) == {"source", "destination"}
    # injection turned off since: the new pods come without the sidecar (1/1), and the traffic follows
    demo.label_namespace("shop", {"istio-injection": "disabled"})
    demo.restart_workload("shop", "Deployment", "productpage-v1")
    snap = shop()
    bare = snap.inventory.workload("shop", "productpage-v1")  # type: ignore[union-attr]
    assert bare is not None and bare.has_sidecar is False
    assert all([c.name for c in p.containers] == ["productpage"] and not p.init_containers for p in bare.pods)
    # no proxy of its own reports its calls: the servers' proxies do, seeing a plain-text client; shop is
    # STRICT, so its calls to the meshed services are refused (nothing is reported), the ones to the
    # sidecar-less database still work
    assert productpage_reports(snap) <= {"destination"}
    assert not any(s.labels.get("source_workload") == "productpage-v1" and s.labels.get("reporter") == "destination"
                   and s.labels.get("connection_security_policy") == "mutual_tls" for s in snap.samples)
    # and on again: a restart gives it back (2/2), reported by both proxies, mutual TLS
    demo.label_namespace("shop", {"istio-injection": "enabled"})
    demo.restart_workload("shop", "Deployment", "productpage-v1")
    snap = shop()
    again = snap.inventory.workload("shop", "productpage-v1")  # type: ignore[union-attr]
    assert again is not None and again.has_sidecar and all(p.ready_count == (2, 2) for p in again.pods)
    assert productpage_reports(snap) == {"source", "destination"}


def test_the_namespace_restarts_every_workload_its_injection_waits_on(emu: KubeEmulator, settings: Settings,
                                                                      window: QWidget, qtbot: QtBot) -> None:
    """After turning injection on, the namespace's menu restarts every workload still without its
    sidecar in one reviewed change (the Job and the workload scaled to zero have nothing to restart);
    with injection turned off and no pod running a sidecar, nothing waits: offered disabled, saying so."""
    inv = _inventory(emu)
    assert [w.name for w in waiting_for_restart(inv, NS)] == ["web-v1"]
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "restart-waiting", None, inv)
    assert dialog.form.subject == f"Deployment {NS}/web-v1"
    assert dialog.windowTitle() == f"meshdesk - Restart Deployment {NS}/web-v1"
    review_and_confirm(dialog, qtbot, emu)
    assert RESTARTED_AT in _template_annotations(emu, "web-v1")
    assert RESTARTED_AT not in _template_annotations(emu, "idle-v1")
    assert "the new pods get the istio-proxy sidecar" in dialog.notes.text()

    emu.add_namespace(NS, {"istio-injection": "disabled"})
    inv = _inventory(emu)
    action = next(a for a in answered_menu(ctl, qtbot, None, GRAPH, inv).actions() if a.objectName() == "restart-waiting")
    assert not action.isEnabled() and "No workload in bookinfo waits for a restart" in action.toolTip()


def test_restarting_a_big_namespaces_workloads_keeps_the_dialog_on_the_screen(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Injection turned on in a namespace of 150 workloads: the restart dialog listed each on a line of its
    own and could not be made shorter than 3,000 pixels (4,000 with its review's notes), Review and Confirm
    out of reach on any screen. The list and the notes scroll; all 150 are restarted."""
    emu.add_namespace(NS, {"istio-injection": "disabled"})  # started before injection was turned on
    for i in range(150):
        emu.add(_deployment(f"batch-{i:03d}", {"app": f"batch-{i:03d}", "version": "v1"}, replicas=1))
    emu.run_workloads()
    emu.add_namespace(NS, {"istio-injection": "enabled"})
    inv = _inventory(emu)
    waiting = len(waiting_for_restart(inv, NS))
    assert waiting > 150
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "restart-waiting", None, inv)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.minimumSizeHint().height() <= dialog.height() == 600
    assert dialog.review_button.geometry().bottom() < dialog.height()
    assert dialog.form.workload_list.count() == waiting
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and dialog.notes.isVisible() and "batch-149" in dialog.notes.text()
    assert dialog.minimumSizeHint().height() <= dialog.height() == 600
    assert dialog.confirm_button.geometry().bottom() < dialog.height()
    with qtbot.waitSignal(dialog.applyDone):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.outcome.text().startswith("Applied")
    assert all(RESTARTED_AT in _template_annotations(emu, f"batch-{i:03d}") for i in range(150))


def test_enabling_injection_in_a_big_namespace_lists_every_workload_to_restart_readably(
        emu: KubeEmulator, settings: Settings, window: QWidget, qtbot: QtBot) -> None:
    """Enable sidecar injection in a namespace of 200 workloads started without it: the form's list of the
    workloads to restart overflowed its place, drawn over the line above it and cut off below (half the names
    unreadable). It scrolls, whole."""
    emu.add_namespace(NS, {"istio-injection": "disabled"})
    for i in range(200):
        emu.add(_deployment(f"batch-{i:03d}", {"app": f"batch-{i:03d}", "version": "v1"}, replicas=1))
    emu.run_workloads()
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "injection", None, _inventory(emu))
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.form.restart_label
    assert label.text().startswith("202 workloads must restart to get their sidecar") and "batch-199" in label.text()
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))  # laid out whole, to scroll
    assert label.visibleRegion().boundingRect().height() < label.height()
    assert dialog.minimumSizeHint().height() <= dialog.height() == 600
    assert dialog.review_button.geometry().bottom() < dialog.height()
