"""RBAC questions as the actions ask them: one SelfSubjectRulesReview per namespace answers what it
grants, a SelfSubjectAccessReview confirms what it does not (or everything, when the review is
incomplete), and none is asked on the UI thread: a menu opens at once, its actions "checking your
permissions…" until the answers come, then updated in place. Against the Kubernetes API emulator over
HTTP, real widgets offscreen; no sleeps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_SERVICE, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.inventory import read_inventory
from meshdesk.sources.writes import PENDING_TEXT, ClusterWriter, RulesReview, permission_problem
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ALL_NEEDS, ActionsController
from meshdesk.ui.dialogs.change_dialog import ChangeDialog
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
GRAPH = TrafficGraph(request=GraphRequest(namespaces=("bookinfo",)))
REVIEWS = Node("svc-reviews", NODE_SERVICE, namespace="bookinfo", service="reviews")
RULES = "SelfSubjectRulesReview"
ACCESS = "SelfSubjectAccessReview"

pytestmark = pytest.mark.ui


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    for ns in ("bookinfo", "travel"):
        kube_emulator.add_namespace(ns, {"istio-injection": "enabled"})
        kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace=ns)
    kube_emulator.run_workloads()
    yield kube_emulator


@pytest.fixture
def ctl(emu: KubeEmulator, tmp_path: Path, qtbot: QtBot) -> Iterator[ActionsController]:
    window = QWidget()
    qtbot.addWidget(window)
    controller = ActionsController(ClusterSource(emu.api_client(), context="emu"), Settings(tmp_path / "s.json"),
                                   window)
    yield controller
    controller.wait_prefetch()


def inventory(emu: KubeEmulator, namespaces: list[str] | None = None) -> Inventory:
    return read_inventory(emu.api_client(), namespaces or ["bookinfo"], cluster="Kubernetes")


def answered(ctl: ActionsController, qtbot: QtBot, namespaces: list[str]) -> None:
    """Prefetch as the window does when a graph is shown, and wait for every namespace's answers."""
    got: set[str] = set()
    ctl.permissionsKnown.connect(got.add)
    ctl.prefetch_permissions(namespaces)
    qtbot.waitUntil(lambda: got >= set(namespaces), timeout=10000)


def held_clock(ctl: ActionsController) -> list[float]:
    """The writer's clock, held still: the test moves it by adding to the one number in the list."""
    writer = ctl.writer
    now = [writer.clock()]
    writer.clock = lambda: now[0]
    return now


def by_key(menu: object) -> dict[str, object]:
    return {a.objectName(): a for a in menu.actions() if a.objectName()}  # type: ignore[attr-defined]


def test_one_rules_review_answers_every_question_of_a_namespace(emu: KubeEmulator, ctl: ActionsController,
                                                                 qtbot: QtBot) -> None:
    """Each (verb, kind) was one SelfSubjectAccessReview: 17 round trips per namespace. A user the
    rules grant everything is answered by one rules review per namespace, and asks nothing more."""
    answered(ctl, qtbot, ["bookinfo", "travel"])
    assert sorted(emu.rbac_calls()) == [(RULES, "bookinfo"), (RULES, "travel")]
    inv = inventory(emu, ["bookinfo", "travel"])
    for node in (REVIEWS, None, Node("svc-r", NODE_SERVICE, namespace="travel", service="reviews")):
        menu = ctl.menu_for(node, TrafficGraph(request=GraphRequest(namespaces=("bookinfo", "travel"))), inv)
        actions = by_key(menu)
        for key in ("traffic-shifting", "circuit-breaking", "injection", "namespace-mtls", "service-entry"):
            if key in actions:
                assert actions[key].isEnabled(), (key, actions[key].toolTip())  # type: ignore[attr-defined]
    assert len(emu.rbac_calls()) == 2  # the menus asked nothing


def test_a_restricted_user_sees_what_is_forbidden_disabled_with_the_reason(emu: KubeEmulator,
                                                                          ctl: ActionsController,
                                                                          qtbot: QtBot) -> None:
    """What the rules do not grant is asked alone (only an access review says no): the actions that
    need it are disabled with RBAC's reason, the others enabled."""
    emu.forbid(resource="virtualservices", verb="create")
    emu.forbid(namespace="bookinfo", resource="namespaces", verb="patch")
    answered(ctl, qtbot, ["bookinfo"])
    calls = emu.rbac_calls("bookinfo")
    assert calls.count((RULES, "bookinfo")) == 1 and calls.count((ACCESS, "bookinfo")) == 2  # the two it lacks
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    for key in ("traffic-shifting", "request-routing"):
        assert not actions[key].isEnabled()  # type: ignore[attr-defined]
        assert "does not allow you to create virtualservices in namespace bookinfo" in \
            actions[key].toolTip()  # type: ignore[attr-defined]
    injection = actions["injection"]
    assert not injection.isEnabled() and "patch namespaces" in injection.toolTip()  # type: ignore[attr-defined]
    for key in ("circuit-breaking", "namespace-mtls", "service-entry", "authorization-policy"):
        assert actions[key].isEnabled(), key  # type: ignore[attr-defined]
    assert len(emu.rbac_calls()) == 3  # the menu asked nothing more


def test_incomplete_rules_are_confirmed_by_access_reviews(emu: KubeEmulator, ctl: ActionsController,
                                                          qtbot: QtBot) -> None:
    """A rules review a webhook authorizer leaves incomplete lists nothing of its grants: each
    question is then asked alone, and only those answers say no."""
    emu.incomplete_rules()
    emu.forbid(resource="virtualservices", verb="create")
    answered(ctl, qtbot, ["bookinfo"])
    calls = emu.rbac_calls("bookinfo")
    assert calls.count((RULES, "bookinfo")) == 1 and calls.count((ACCESS, "bookinfo")) == len(ALL_NEEDS)
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    assert not actions["traffic-shifting"].isEnabled()  # type: ignore[attr-defined]
    assert "create virtualservices" in actions["traffic-shifting"].toolTip()  # type: ignore[attr-defined]
    assert actions["circuit-breaking"].isEnabled() and actions["injection"].isEnabled()  # type: ignore[attr-defined]


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")
def test_a_menu_opened_while_rbac_is_slow_opens_at_once_and_is_updated_in_place(
        emu: KubeEmulator, ctl: ActionsController, qtbot: QtBot) -> None:
    """A menu opened before the answers came asked its questions on the UI thread, one after the
    other: on a far API server the window froze. It opens at once now, its actions disabled "checking
    your permissions…", and the same items take the answers when they come, menu still open."""
    emu.forbid(resource="virtualservices", verb="create")
    inv = inventory(emu)
    held = emu.hold_rbac_answers()
    try:
        menu = ctl.menu_for(REVIEWS, GRAPH, inv)  # the questions are held: this did not wait for them
        menu.popup(QPoint(10, 10))
        qtbot.waitUntil(menu.isVisible)
        actions = by_key(menu)
        for action in actions.values():
            if action.property("pending"):  # type: ignore[attr-defined]
                assert not action.isEnabled() and action.toolTip() == PENDING_TEXT  # type: ignore[attr-defined]
        shifting, breaking = actions["traffic-shifting"], actions["circuit-breaking"]
        assert shifting.property("pending") and breaking.property("pending")  # type: ignore[attr-defined]
        assert breaking.statusTip() == PENDING_TEXT  # type: ignore[attr-defined]
        with qtbot.waitSignal(ctl.permissionsKnown, timeout=10000):
            held.set()
    finally:
        held.set()
    qtbot.waitUntil(lambda: not any(a.property("pending") for a in actions.values()))  # type: ignore[attr-defined]
    assert menu.isVisible() and by_key(menu)["circuit-breaking"] is breaking  # updated in place
    assert breaking.isEnabled() and not shifting.isEnabled()  # type: ignore[attr-defined]
    assert "does not allow you to create virtualservices" in shifting.toolTip()  # type: ignore[attr-defined]
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        breaking.trigger()  # type: ignore[attr-defined]
    dialog = opened.args[0]
    assert isinstance(dialog, ChangeDialog)
    qtbot.addWidget(dialog)
    menu.close()


def test_questions_that_fail_leave_the_actions_enabled_and_say_so_in_the_log(
        emu: KubeEmulator, ctl: ActionsController, qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    """An API server that cannot answer RBAC questions: the server decides when the change is applied."""
    emu.fail(500, path="/apis/authorization.k8s.io")
    caplog.set_level(logging.INFO, logger="meshdesk")
    inv = inventory(emu)
    menu = ctl.menu_for(REVIEWS, GRAPH, inv)
    actions = by_key(menu)
    qtbot.waitUntil(lambda: not any(a.property("pending") for a in actions.values()),  # type: ignore[attr-defined]
                    timeout=10000)
    assert actions["traffic-shifting"].isEnabled() and actions["injection"].isEnabled()  # type: ignore[attr-defined]
    assert "the server decides when you apply" in caplog.text


def test_rules_match_as_rbac_does(emu: KubeEmulator) -> None:
    """Wildcards, subresources and resourceNames, as the API server's RBAC matches them."""
    rules = RulesReview(({"verbs": ["*"], "apiGroups": ["networking.istio.io"], "resources": ["virtualservices"]},
                         {"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments/scale"]},
                         {"verbs": ["patch"], "apiGroups": [""], "resources": ["namespaces"],
                          "resourceNames": ["bookinfo"]},
                         {"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}))
    assert rules.allows("delete", "networking.istio.io", "virtualservices")
    assert not rules.allows("delete", "networking.istio.io", "destinationrules")
    assert not rules.allows("patch", "apps", "deployments")  # deployments/scale is not deployments
    assert rules.allows("patch", "", "namespaces", "bookinfo") and not rules.allows("patch", "", "namespaces", "x")
    assert not rules.allows("patch", "", "namespaces")
    assert rules.allows("get", "security.istio.io", "authorizationpolicies")
    # a namespace's own object is granted by a RoleBinding in it: the rules of that namespace answer
    emu.forbid(namespace="travel", resource="namespaces", verb="patch")
    writer = ClusterWriter(emu.api_client())
    assert permission_problem(writer, [("patch", "Namespace")], "bookinfo") == ""
    assert "patch namespaces" in permission_problem(writer, [("patch", "Namespace")], "travel")


def test_enable_injection_from_the_empty_graph_waits_for_the_answer_off_the_ui_thread(
        emu: KubeEmulator, ctl: ActionsController, qtbot: QtBot, tmp_path: Path) -> None:
    """The empty graph's "Enable injection" asked RBAC on the UI thread; it says it is checking now, and
    opens the dialog (once, however often it was clicked) when the answer comes."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    w = MainWindow(context=DEMO, namespaces=["shop"], settings=Settings(tmp_path / "settings.json"),
                   factories={DEMO: lambda: demo})
    qtbot.addWidget(w)
    try:
        # the window's first graph (of the demo), then no more: it shows the emulator's namespace below
        qtbot.waitUntil(lambda: w.graph is not None, timeout=10000)
        w.poller.clear_request()
        w.actions_controller = ctl
        w.inventory, w.graph = inventory(emu), GRAPH
        opened: list[object] = []
        ctl.dialogOpened.connect(opened.append)
        held = emu.hold_rbac_answers()
        try:
            w._enable_injection("bookinfo")
            w._enable_injection("bookinfo")  # clicked again while waiting
            assert w.statusBar().currentMessage() == PENDING_TEXT and opened == []
        finally:
            held.set()
        qtbot.waitUntil(lambda: opened != [], timeout=10000)
        assert len(opened) == 1  # (both clicks' waits would have opened it from the same answer)
        dialog = opened[0]
        assert isinstance(dialog, ChangeDialog)
        qtbot.addWidget(dialog)
    finally:
        w.close()


def test_a_menu_after_the_answers_expired_shows_the_last_ones_while_asking_again(
        emu: KubeEmulator, ctl: ActionsController, qtbot: QtBot) -> None:
    """A menu opened a minute after the last answers (refresh paused) showed every action "checking your
    permissions…", greyed out, for a round trip. It shows the last answers, and asks again behind them."""
    emu.forbid(resource="virtualservices", verb="create")
    answered(ctl, qtbot, ["bookinfo"])
    now = held_clock(ctl)
    now[0] += 61.0  # a minute later: every answer is due to be asked again
    asked = len(emu.rbac_calls())
    got: set[str] = set()
    ctl.permissionsKnown.connect(got.add)
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    assert actions["circuit-breaking"].isEnabled()  # type: ignore[attr-defined]
    shifting = actions["traffic-shifting"]
    assert not shifting.isEnabled() and PENDING_TEXT not in shifting.toolTip()  # type: ignore[attr-defined]
    assert "does not allow you to create virtualservices" in shifting.toolTip()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: "bookinfo" in got, timeout=10000)  # asked again, behind the menu
    assert len(emu.rbac_calls()) > asked


def test_a_user_whose_rules_did_not_change_is_asked_one_question_a_minute(emu: KubeEmulator,
                                                                         ctl: ActionsController,
                                                                         qtbot: QtBot) -> None:
    """A user without some write rights had each of them asked again by an access review every minute
    (1 + 17 questions per namespace for a read-only user). While the namespace's rules review answers as
    before, the last answers stand: one question a minute. When the rules change, they are asked again."""
    emu.forbid(resource="virtualservices", verb="create")
    emu.forbid(namespace="bookinfo", resource="namespaces", verb="patch")
    answered(ctl, qtbot, ["bookinfo"])
    now = held_clock(ctl)
    asked = len(emu.rbac_calls())
    now[0] += 61.0
    answered(ctl, qtbot, ["bookinfo"])
    assert emu.rbac_calls()[asked:] == [(RULES, "bookinfo")]
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    assert not actions["traffic-shifting"].isEnabled()  # type: ignore[attr-defined]
    assert "create virtualservices" in actions["traffic-shifting"].toolTip()  # type: ignore[attr-defined]
    assert actions["circuit-breaking"].isEnabled()  # type: ignore[attr-defined]

    # an admin takes away DestinationRules: the rules review changes, and what it lacks is asked again
    emu.forbid(resource="destinationrules", verb="create")
    asked = len(emu.rbac_calls())
    now[0] += 61.0
    answered(ctl, qtbot, ["bookinfo"])
    again = emu.rbac_calls()[asked:]
    assert again.count((RULES, "bookinfo")) == 1 and again.count((ACCESS, "bookinfo")) == 3
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    assert not actions["circuit-breaking"].isEnabled()  # type: ignore[attr-defined]
    assert "create destinationrules" in actions["circuit-breaking"].toolTip()  # type: ignore[attr-defined]

    # and gives everything back: the rules grant it all, no access review is needed
    emu.clear_faults()
    asked = len(emu.rbac_calls())
    now[0] += 61.0
    answered(ctl, qtbot, ["bookinfo"])
    assert emu.rbac_calls()[asked:] == [(RULES, "bookinfo")]
    actions = by_key(ctl.menu_for(REVIEWS, GRAPH, inventory(emu)))
    for key in ("traffic-shifting", "circuit-breaking", "injection"):
        assert actions[key].isEnabled(), key  # type: ignore[attr-defined]


def test_incomplete_rules_asked_again_are_confirmed_again(emu: KubeEmulator, ctl: ActionsController,
                                                          qtbot: QtBot) -> None:
    """An incomplete rules review says nothing of a webhook's grants, so an unchanged one renews nothing:
    every question is asked again a minute later."""
    emu.incomplete_rules()
    answered(ctl, qtbot, ["bookinfo"])
    now = held_clock(ctl)
    asked = len(emu.rbac_calls())
    now[0] += 61.0
    answered(ctl, qtbot, ["bookinfo"])
    assert emu.rbac_calls()[asked:].count((ACCESS, "bookinfo")) == len(ALL_NEEDS)


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")
def test_a_menu_of_the_context_left_offers_nothing_for_the_new_one(emu: KubeEmulator, ctl: ActionsController,
                                                                    qtbot: QtBot) -> None:
    """A menu opened before a context switch (its answers pending, or already in) took the new context's
    answers and, triggered, opened its form with the old cluster's inventory and wrote through the new
    context's writer: a change planned from one cluster's objects applied to another's. Its actions are
    disabled with the reason once the context changes."""
    inv = inventory(emu)
    held = emu.hold_rbac_answers()
    try:
        menu = ctl.menu_for(REVIEWS, GRAPH, inv)
        menu.popup(QPoint(10, 10))
        qtbot.waitUntil(menu.isVisible)
        actions = by_key(menu)
        assert actions["circuit-breaking"].property("pending")  # type: ignore[attr-defined]
        ctl.set_source(ClusterSource(emu.api_client(), context="other"))  # the user switched context
    finally:
        held.set()
    got: set[str] = set()
    ctl.permissionsKnown.connect(got.add)
    ctl.prefetch_permissions(["bookinfo"])
    qtbot.waitUntil(lambda: "bookinfo" in got, timeout=10000)
    ctl.wait_prefetch()
    qtbot.waitUntil(lambda: ctl.known_problem([("create", "DestinationRule")], "bookinfo") is not None,
                    timeout=10000)
    opened: list[object] = []
    ctl.dialogOpened.connect(opened.append)
    for action in actions.values():
        assert not action.isEnabled(), action.objectName()  # type: ignore[attr-defined]
        assert "context" in action.toolTip()  # type: ignore[attr-defined]
        action.trigger()  # type: ignore[attr-defined]
    assert opened == []
    menu.close()


def test_enable_injection_waiting_for_rbac_opens_nothing_after_a_context_switch(
        emu: KubeEmulator, ctl: ActionsController, qtbot: QtBot, tmp_path: Path) -> None:
    """"Enable injection" clicked while its RBAC answer was asked, then another context chosen: the
    answer (the old context's, then the new one's) opened the dialog in the new context, with the
    inventory of the old one, for a namespace of that name the user never chose there."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    w = MainWindow(context=DEMO, namespaces=["shop"], settings=Settings(tmp_path / "settings.json"),
                   factories={DEMO: lambda: demo})
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=10000)
        w.poller.clear_request()
        w.actions_controller = ctl
        w.inventory, w.graph = inventory(emu), GRAPH
        opened: list[object] = []
        ctl.dialogOpened.connect(opened.append)
        got: list[str] = []
        ctl.permissionsKnown.connect(got.append)
        held = emu.hold_rbac_answers()
        try:
            w._enable_injection("bookinfo")
            ctl.set_source(ClusterSource(emu.api_client(), context="other"))  # the user switched context
        finally:
            held.set()
        qtbot.waitUntil(lambda: len(got) >= 1, timeout=10000)
        ctl.prefetch_permissions(["bookinfo"])  # the new context's answers come too
        qtbot.waitUntil(lambda: len(got) >= 2, timeout=10000)
        ctl.wait_prefetch()
        qtbot.waitUntil(lambda: ctl.known_problem([("patch", "Namespace")], "bookinfo") is not None, timeout=10000)
        assert opened == []
    finally:
        w.close()


def test_closing_the_window_does_not_wait_for_rbac_answers(emu: KubeEmulator, qtbot: QtBot, tmp_path: Path) -> None:
    """Closing the window joined the RBAC worker threads on the UI thread: with a slow or hanging API
    server (15 s a question, four namespaces at a time) the closing window froze, 'not responding', until
    every namespace's questions were answered. It asks the workers to stop after the question under way
    and does not wait for them."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.mainwindow import DEMO, MainWindow

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    w = MainWindow(context=DEMO, namespaces=["shop"], settings=Settings(tmp_path / "settings.json"),
                   factories={DEMO: lambda: demo})
    qtbot.waitUntil(lambda: w.graph is not None, timeout=10000)
    w.poller.clear_request()
    ctl = install_actions(w)
    ctl.set_source(ClusterSource(emu.api_client(), context="emu"))
    held = emu.hold_rbac_answers()
    try:
        ctl.ask_permissions(list(ALL_NEEDS), "bookinfo")
        ctl.ask_permissions(list(ALL_NEEDS), "travel")
        qtbot.waitUntil(lambda: len(emu.rbac_calls()) >= 1, timeout=10000)  # a question is under way
        workers = list(ctl._workers.values())
        w.close()
        gone: list[object] = []
        w.destroyed.connect(lambda *_: gone.append(True))
        w.deleteLater()
        qtbot.waitUntil(lambda: gone != [], timeout=5000)
        assert not held.is_set() and any(t.is_alive() for t in workers)  # the window did not wait for them
    finally:
        held.set()
    for t in workers:
        t.join(timeout=20)
    assert not any(t.is_alive() for t in workers)
    assert len(emu.rbac_calls()) <= 2  # they stopped after the questions under way
