"""Editing and deleting Istio config from the Istio config dock, as Kiali's YAML editor and Delete: the
YAML made editable, Save and Delete through the actions' review dialog (dry run, Confirm), conflicts,
bad text, read-only mode, RBAC, a snapshot and the demo. Against the Kubernetes API emulator through
the official client and the demo cluster; real widgets, offscreen; no sleeps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from meshdesk.mesh.changes import RESOURCES
from meshdesk.mesh.config_edit import EditError, edit_plan
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.validation_badges import key_of
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.inventory import read_inventory
from meshdesk.sources.writes import CONFLICT_TEXT, PENDING_TEXT, ClusterWriter
from meshdesk.store.settings import Settings
from meshdesk.ui.actions import ActionsController
from meshdesk.ui.config_view import ConfigView
from meshdesk.ui.dialogs.change_dialog import DONE, REVIEW, ChangeDialog
from meshdesk.ui.offline import SnapshotSource
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NET = "networking.istio.io"
SEC = "security.istio.io"
REVIEWS_DR = ("DestinationRule", "bookinfo", "reviews")

pytestmark = pytest.mark.ui


@pytest.fixture
def emu(kube_emulator: KubeEmulator, shared_dir: Path) -> Iterator[KubeEmulator]:
    for doc in load_docs(shared_dir / CRDS):  # with their schemas, as a real cluster serves them
        kube_emulator.add_crd(doc)
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    kube_emulator.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml",
                            namespace="bookinfo")
    kube_emulator.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/destination-rule-all.yaml",
                            namespace="bookinfo")
    kube_emulator.add({"apiVersion": f"{SEC}/v1", "kind": "AuthorizationPolicy",
                       "metadata": {"name": "allow-get", "namespace": "bookinfo"},
                       "spec": {"action": "ALLOW", "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}},
                      "bookinfo")
    kube_emulator.run_workloads()
    yield kube_emulator


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


def inventory(emu: KubeEmulator) -> Inventory:
    return read_inventory(emu.api_client(), ["bookinfo"], cluster="Kubernetes")


def view_on(qtbot: QtBot, source: object, settings: Settings, inv: Inventory,
            key: tuple[str, str, str]) -> tuple[ConfigView, ActionsController]:
    view = ConfigView()
    qtbot.addWidget(view)
    ctl = ActionsController(source, settings, view)
    view.set_actions(ctl)
    view.set_data(inv)
    view.show_object(key)
    view.show()
    assert view.current == key
    # RBAC is asked on a worker thread: Edit and Delete wait for its answer
    qtbot.waitUntil(lambda: not any(PENDING_TEXT in b.toolTip() for b in (view.edit_button, view.delete_button)),
                    timeout=10000)
    return view, ctl


def cluster_view(emu: KubeEmulator, settings: Settings, qtbot: QtBot,
                 key: tuple[str, str, str] = REVIEWS_DR) -> tuple[ConfigView, ActionsController]:
    return view_on(qtbot, ClusterSource(emu.api_client(), context="emu"), settings, inventory(emu), key)


def edit_text(view: ConfigView, old: str, new: str) -> None:
    text = view.yaml.toPlainText()
    assert old in text, text
    view.yaml.setPlainText(text.replace(old, new, 1))


def reviewed(view: ConfigView, qtbot: QtBot, *, delete: bool = False, owned: bool = True) -> ChangeDialog:
    button = view.delete_button if delete else view.save_button
    qtbot.waitUntil(button.isEnabled)  # (Delete: once RBAC has answered)
    with qtbot.waitSignal(view.dialogOpened) as opened:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    assert isinstance(dialog, ChangeDialog)
    if owned:
        qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
        pass
    assert ready.args == [True], dialog.form_error.text()
    assert dialog.page == REVIEW
    return dialog


def test_edit_saves_the_object_and_it_reads_back(emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    view, ctl = cluster_view(emu, settings, qtbot)
    qtbot.waitUntil(lambda: view.edit_button.isEnabled())
    assert view.edit_button.isVisible() and view.edit_button.isEnabled(), view.edit_button.toolTip()
    assert view.yaml.isReadOnly()
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    assert not view.yaml.isReadOnly() and view.save_button.isVisible() and not view.edit_button.isVisible()
    assert "resourceVersion" not in view.yaml.toPlainText()  # bookkeeping: not the user's to edit
    edit_text(view, "  host: reviews\n", "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
                                         "      simple: LEAST_REQUEST\n")
    dialog = reviewed(view, qtbot)
    assert "Dry run passed" in dialog.dry_run_text.toPlainText()
    assert "+  trafficPolicy:" in dialog.diff_text.toPlainText()
    assert dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    stored = emu.get("destinationrules", "bookinfo", "reviews", NET)
    assert stored["spec"]["trafficPolicy"] == {"loadBalancer": {"simple": "LEAST_REQUEST"}}
    assert [s["name"] for s in stored["spec"]["subsets"]] == ["v1", "v2", "v3"]  # the rest as it was
    # the dock leaves editing; the next refresh shows the object as saved
    assert view.editing is None and view.yaml.isReadOnly() and view.edit_button.isVisible()
    view.set_data(inventory(emu))
    assert "LEAST_REQUEST" in view.yaml.toPlainText()


def test_any_kind_the_dock_lists_is_writable(emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    """An AuthorizationPolicy (not one of the kinds the traffic actions write) is edited the same way."""
    view, _ctl = cluster_view(emu, settings, qtbot, ("AuthorizationPolicy", "bookinfo", "allow-get"))
    assert view.edit()
    line = next(x for x in view.yaml.toPlainText().splitlines() if x.strip() == "- GET")
    edit_text(view, line, f"{line}\n{line.replace('GET', 'HEAD')}")
    dialog = reviewed(view, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    spec = emu.get("authorizationpolicies", "bookinfo", "allow-get", SEC)["spec"]
    assert spec["rules"][0]["to"][0]["operation"]["methods"] == ["GET", "HEAD"]


def test_every_listed_kind_has_a_resource_the_cluster_serves(shared_dir: Path) -> None:
    """Each kind the dock lists is writable, under the group and plural its CRD gives it."""
    from meshdesk.sources.gateway_api import GATEWAY_API_CONFIG
    from meshdesk.sources.inventory import ISTIO_RESOURCES, OPTIONAL_ISTIO_RESOURCES
    from tests.gateway_api_crds import GROUP, SERVED

    listed = {kind: (group, plural) for kind, group, plural in
              (*ISTIO_RESOURCES, *OPTIONAL_ISTIO_RESOURCES, *GATEWAY_API_CONFIG)}
    assert {k: RESOURCES[k] for k in listed} == listed
    assert set(RESOURCES) <= set(listed)  # and each kind meshdesk writes is listed (ProxyConfig was not)
    crds = {(d["spec"]["group"], d["spec"]["names"]["plural"]) for d in load_docs(shared_dir / CRDS)
            if d.get("kind") == "CustomResourceDefinition"} | {(GROUP, plural) for plural, _v, _n in SERVED.values()}
    assert set(RESOURCES.values()) <= crds


PROXY_CONFIG = {"apiVersion": f"{NET}/v1beta1", "kind": "ProxyConfig",
                "metadata": {"name": "reviews-proxy", "namespace": "bookinfo"},
                "spec": {"selector": {"matchLabels": {"app": "reviews"}}, "concurrency": 2}}


def test_a_proxy_config_is_listed_edited_and_deleted(emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    """ProxyConfig (networking.istio.io/v1beta1 only) is a kind meshdesk writes, but the dock did not list
    it: it was never read."""
    emu.add(PROXY_CONFIG, "bookinfo")
    key = ("ProxyConfig", "bookinfo", "reviews-proxy")
    view, _ctl = cluster_view(emu, settings, qtbot, key)
    assert key in view.visible_keys()
    assert "apiVersion: networking.istio.io/v1beta1" in view.yaml.toPlainText()
    qtbot.waitUntil(view.edit_button.isEnabled)
    assert view.edit()
    edit_text(view, "concurrency: 2", "concurrency: 4")
    dialog = reviewed(view, qtbot)
    assert "Dry run passed" in dialog.dry_run_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("proxyconfigs", "bookinfo", "reviews-proxy", NET)["spec"]["concurrency"] == 4
    view.set_data(inventory(emu))
    dialog = reviewed(view, qtbot, delete=True)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("proxyconfigs", "bookinfo", "reviews-proxy", NET) is None
    view.set_data(inventory(emu))
    assert key not in view.visible_keys()


def test_the_demo_takes_a_proxy_config(qtbot: QtBot, settings: Settings) -> None:
    """The demo refused a ProxyConfig as an unknown kind."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    demo.apply(IstioObject("ProxyConfig", "proxy", "shop", spec=dict(PROXY_CONFIG["spec"]), api_version=""))
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    view, _ctl = view_on(qtbot, demo, settings, inv, ("ProxyConfig", "shop", "proxy"))
    assert "apiVersion: networking.istio.io/v1beta1" in view.yaml.toPlainText()
    assert view.edit()
    edit_text(view, "concurrency: 2", "concurrency: 3")
    dialog = reviewed(view, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    after = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert after is not None
    assert next(o for o in after.istio if o.kind == "ProxyConfig").spec["concurrency"] == 3


def test_values_with_no_break_spaces_and_line_separators_survive_an_edit(emu: KubeEmulator, settings: Settings,
                                                                         qtbot: QtBot) -> None:
    """A no-break space came back from the editor as a plain space, and a Unicode line separator (or NEL)
    as a line break folded to a space: saving an edit of something else changed those values too, with
    a diff showing two lines that look the same."""
    doc = dict(emu.get("destinationrules", "bookinfo", "reviews", NET))
    odd = {"note": "timeout 10\u00a0ms", "lines": "first\u2028second\u2029third\x85fourth", "name": "Zoë 😀"}
    doc["metadata"] = {**doc["metadata"], "annotations": dict(odd)}
    emu.add(doc, "bookinfo")
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    with qtbot.waitSignal(view.editChecked):
        assert view.check_edit()
    assert view.edit_note.text().startswith("No change yet"), view.edit_note.text()
    assert "Zoë 😀" in view.yaml.toPlainText()  # Unicode shown as itself where it comes back as it was
    edit_text(view, "  host: reviews\n", "  host: reviews\n  exportTo:\n  - .\n")
    dialog = reviewed(view, qtbot)
    assert "note" not in dialog.diff_text.toPlainText(), dialog.diff_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    stored = emu.get("destinationrules", "bookinfo", "reviews", NET)
    assert stored["spec"]["exportTo"] == ["."]
    assert {k: stored["metadata"]["annotations"][k] for k in odd} == odd


LUA = "function envoy_on_request(handle)\n  handle:headers():add(\"x-canary\", \"1\")\nend\n"


def test_an_envoy_filters_lua_reads_as_code_and_its_edit_as_one_line(emu: KubeEmulator, settings: Settings,
                                                                      qtbot: QtBot) -> None:
    """An EnvoyFilter's Lua (any text of several lines) was shown as one double-quoted line with "\\n" for
    its line breaks, edited so, and the review's diff of a one-word change was that whole line replaced.
    As kubectl and Kiali show it, it is a block of its lines; the diff names the line changed."""
    emu.add({"apiVersion": f"{NET}/v1alpha3", "kind": "EnvoyFilter", "metadata": {"name": "canary-header", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "productpage"}}, "configPatches": [{
                 "applyTo": "HTTP_FILTER", "match": {"context": "SIDECAR_INBOUND"},
                 "patch": {"operation": "INSERT_BEFORE", "value": {
                     "name": "envoy.lua", "typed_config": {
                         "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                         "inlineCode": LUA}}}}]}}, "bookinfo")
    view, _ctl = cluster_view(emu, settings, qtbot, ("EnvoyFilter", "bookinfo", "canary-header"))
    shown = view.yaml.toPlainText()
    lines = [line.strip() for line in shown.splitlines()]
    assert "inlineCode: |" in lines and 'handle:headers():add("x-canary", "1")' in lines, shown
    assert view.edit()
    edit_text(view, 'add("x-canary", "1")', 'add("x-canary", "2")')
    dialog = reviewed(view, qtbot)
    changed = [line for line in dialog.diff_text.toPlainText().splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert [(line[0], line[1:].strip()) for line in changed] == [
        ("-", 'handle:headers():add("x-canary", "1")'), ("+", 'handle:headers():add("x-canary", "2")')], changed
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    stored = emu.get("envoyfilters", "bookinfo", "canary-header", NET)
    assert stored["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["inlineCode"] == LUA.replace('"1"', '"2"')


def test_a_change_made_meanwhile_is_a_conflict_with_the_choice_to_reload(emu: KubeEmulator, settings: Settings,
                                                                         qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, "name: v3", "name: v3-renamed")
    theirs = dict(emu.get("destinationrules", "bookinfo", "reviews", NET))
    theirs["spec"] = {**theirs["spec"], "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    emu.add(theirs, "bookinfo")  # someone else changes it while the user edits
    with qtbot.waitSignal(view.dialogOpened) as opened:
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
        pass
    assert ready.args == [False]
    assert CONFLICT_TEXT in dialog.form_error.text() and "DestinationRule bookinfo/reviews" in dialog.form_error.text()
    assert dialog.reload_button.isVisible()
    assert emu.get("destinationrules", "bookinfo", "reviews", NET)["spec"] == theirs["spec"]  # nothing written
    # reloaded, the same text is reviewed against their copy: the diff shows what it would undo
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
        qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True] and dialog.page == REVIEW
    assert "ISTIO_MUTUAL" in dialog.diff_text.toPlainText() and "changed since you began" in dialog.notes.text()
    # and the dock, refreshed meanwhile, keeps the text and says the copy changed
    view.set_data(inventory(emu))
    assert "v3-renamed" in view.yaml.toPlainText() and "changed in the cluster" in view.edit_note.text()


def test_text_that_does_not_parse_is_said_with_its_line_and_nothing_is_sent(
        emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot)
    before = emu.get("destinationrules", "bookinfo", "reviews", NET)["metadata"]["resourceVersion"]
    calls = len(emu.calls)
    assert view.edit()
    edit_text(view, "  host: reviews\n", "  host: [reviews\n")
    with qtbot.waitSignal(view.editChecked):
        pass  # judged as the user types (after a pause)
    assert "does not parse" in view.edit_note.text() and "line " in view.edit_note.text() \
        and "column " in view.edit_note.text()
    assert view.save() is None
    assert "does not parse" in view.edit_note.text()
    assert [(m, p) for m, p in emu.calls[calls:] if m != "GET" and "selfsubjectaccessreviews" not in p] == []
    assert emu.get("destinationrules", "bookinfo", "reviews", NET)["metadata"]["resourceVersion"] == before
    # Cancel puts back the text as read
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert view.yaml.isReadOnly() and "host: reviews" in view.yaml.toPlainText() and not view.edit_note.isVisible()


@pytest.mark.parametrize(("old", "new", "said"), [
    ("kind: DestinationRule", "kind: VirtualService", "another object"),
    ("  name: reviews\n", "  name: reviews-copy\n", "metadata.name was changed"),
    ("  namespace: bookinfo\n", "  namespace: default\n", "metadata.namespace was changed"),
    ("apiVersion: networking.istio.io/", "apiVersion: security.istio.io/", "API group"),
    ("  name: reviews\n", "", "metadata.name is missing"),
    ("kind: DestinationRule\n", "", "kind is missing"),
])
def test_text_naming_another_object_is_refused(old: str, new: str, said: str) -> None:
    dr = IstioObject("DestinationRule", "reviews", "bookinfo", spec={"host": "reviews"}, resource_version="7")
    from meshdesk.mesh.config_edit import editable_yaml

    with pytest.raises(EditError, match=said):
        edit_plan(dr, editable_yaml(dr).replace(old, new))


def test_a_label_value_that_is_no_text_is_said_before_sending() -> None:
    dr = IstioObject("DestinationRule", "reviews", "bookinfo", spec={"host": "reviews"}, labels={"team": "a"})
    from meshdesk.mesh.config_edit import editable_yaml

    with pytest.raises(EditError, match=r"metadata.labels.version: the value 1 is not text.*\"1\""):
        edit_plan(dr, editable_yaml(dr).replace("team: a", "team: a\n    version: 1"))


def test_findings_of_the_edited_object_show_while_editing(emu: KubeEmulator, settings: Settings,
                                                         qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    # a subset that selects no pod: Kiali's KIA0203
    edit_text(view, "version: v3", "version: v9")
    with qtbot.waitSignal(view.editChecked):
        pass
    codes = [row[0] for row in view.finding_rows()]
    assert "KIA0203" in codes, view.finding_rows()


def test_a_finding_the_edit_gives_another_object_shows_while_editing(emu: KubeEmulator, settings: Settings,
                                                                     qtbot: QtBot) -> None:
    """The live check runs on a thread: a VirtualService routing to the subset the edited
    DestinationRule removes is shown as the edit's finding, and only the latest text's findings show."""
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    text = view.yaml.toPlainText()
    assert "  - name: v1\n    labels:\n      version: v1\n" in text, text
    edit_text(view, "version: v3", "version: v9")  # a first text, checked ...
    assert view.check_edit()
    # ... and, before its result comes, the latest: subset v1 (the VirtualService's route) removed
    view.yaml.setPlainText(text.replace("  - name: v1\n    labels:\n      version: v1\n", ""))
    with qtbot.waitSignal(view.editChecked):
        assert view.check_edit()
    rows = view.finding_rows()
    assert any(code == "KIA1107" and "VirtualService bookinfo/reviews" in message
               for code, _severity, message, _path in rows), rows
    assert "KIA0203" not in [row[0] for row in rows]  # the first text's finding: stale, never shown
    # leaving the edit drops a check under way
    view.yaml.setPlainText(text.replace("version: v3", "version: v9"))
    assert view.check_edit()
    view.cancel_edit()
    shown = view.finding_rows()  # the object's findings as read
    with qtbot.assertNotEmitted(view.editChecked):
        qtbot.waitUntil(lambda: not view._check_busy)  # the thread is done, its result posted ...
        QApplication.processEvents()  # ... and delivered: dropped
    assert view.finding_rows() == shown and "KIA0203" not in [row[0] for row in shown]


def test_a_spec_the_crd_schema_refuses_is_shown_and_blocks_confirm(emu: KubeEmulator, settings: Settings,
                                                                  qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, "  host: reviews\n", "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
                                         "      simple: FASTEST\n")
    dialog = reviewed(view, qtbot)
    assert "FASTEST" in dialog.findings_text.toPlainText() or "simple" in dialog.findings_text.toPlainText()
    assert "schema problem" in dialog.verdict.text() and not dialog.confirm_button.isEnabled()


def test_delete_removes_the_object(emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot, ("AuthorizationPolicy", "bookinfo", "allow-get"))
    dialog = reviewed(view, qtbot, delete=True)
    assert "# (deleted)" in dialog.preview_text.toPlainText()
    assert emu.get("authorizationpolicies", "bookinfo", "allow-get", SEC) is not None  # not before Confirm
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE
    assert emu.get("authorizationpolicies", "bookinfo", "allow-get", SEC) is None
    view.set_data(inventory(emu))
    assert "no longer in the cluster" in view.title.text()


def test_deleting_an_object_someone_deleted_meanwhile_is_said_as_such(emu: KubeEmulator, settings: Settings,
                                                                     qtbot: QtBot) -> None:
    """Deleted by someone else between the review and Confirm, the delete said "Not applied: ... was
    changed by someone else": it was not changed, and it is gone as asked."""
    view, _ctl = cluster_view(emu, settings, qtbot)
    dialog = reviewed(view, qtbot, delete=True)
    emu.delete("destinationrules", "bookinfo", "reviews", NET)
    with qtbot.waitSignal(dialog.applied, timeout=10000):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert dialog.page == DONE and dialog.outcome.text().startswith("Applied"), dialog.outcome.text()
    assert "already gone (deleted by someone else meanwhile)" in dialog.outcome_details.toPlainText()
    assert CONFLICT_TEXT not in dialog.outcome.text()


def test_the_demo_says_an_object_deleted_meanwhile_is_gone_too(qtbot: QtBot, settings: Settings) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    obj = next(o for o in inv.istio if o.kind == "DestinationRule")
    view, _ctl = view_on(qtbot, demo, settings, inv, (obj.kind, obj.namespace, obj.name))
    dialog = reviewed(view, qtbot, delete=True)
    demo.delete(obj.kind, obj.namespace, obj.name)
    with qtbot.waitSignal(dialog.applied, timeout=10000):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert "already gone" in dialog.outcome_details.toPlainText()


def test_read_only_mode_and_rbac_disable_edit_and_delete_saying_why(emu: KubeEmulator, settings: Settings,
                                                                    qtbot: QtBot) -> None:
    emu.forbid(resource="destinationrules", verb="delete")
    view, ctl = cluster_view(emu, settings, qtbot)
    qtbot.waitUntil(lambda: "RBAC" in view.delete_button.toolTip() and view.edit_button.isEnabled())
    assert not view.delete_button.isEnabled() and "RBAC" in view.delete_button.toolTip()
    settings.read_only = True
    view.set_data(inventory(emu))
    assert not view.edit_button.isEnabled() and "Read-only" in view.edit_button.toolTip()
    assert not view.edit() and view.yaml.isReadOnly()


def test_a_snapshot_takes_no_writes_and_says_so(qtbot: QtBot, tmp_path: Path, settings: Settings) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    obj = snap.inventory.istio[0]
    view, _ctl = view_on(qtbot, SnapshotSource(tmp_path / "snap.json", snap), settings, snap.inventory,
                         (obj.kind, obj.namespace, obj.name))
    assert not view.edit_button.isEnabled() and "takes no writes" in view.edit_button.toolTip()
    assert not view.delete_button.isEnabled()


def test_the_demo_takes_edits(qtbot: QtBot, settings: Settings) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    obj = next(o for o in inv.istio if o.kind == "DestinationRule")
    view, _ctl = view_on(qtbot, demo, settings, inv, (obj.kind, obj.namespace, obj.name))
    assert view.edit()
    edit_text(view, "spec:\n", "spec:\n  exportTo:\n  - .\n")
    dialog = reviewed(view, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    after = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert after is not None
    assert next(o for o in after.istio if o.name == obj.name and o.kind == obj.kind).spec["exportTo"] == ["."]


def test_schemas_note_only_what_is_missing_of_installed_kinds(emu: KubeEmulator) -> None:
    """Without the Gateway API installed, no note about its CRDs in every review."""
    schemas, notes = ClusterWriter(emu.api_client()).schemas()
    assert notes == [] and ("AuthorizationPolicy", f"{SEC}/v1") in schemas.schemas


def test_the_demo_takes_edits_of_the_http_route_it_lists(qtbot: QtBot, settings: Settings) -> None:
    """The demo lists an HTTPRoute (travel/flights): its dry run refused it as an unknown kind."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inv = demo.snapshot(GraphRequest(namespaces=("travel",))).inventory
    assert inv is not None
    view, _ctl = view_on(qtbot, demo, settings, inv, ("K8sHTTPRoute", "travel", "flights"))
    assert view.edit()
    edit_text(view, "request: 5s", "request: 7s")
    dialog = reviewed(view, qtbot)
    assert "Dry run passed: Replace HTTPRoute travel/flights" in dialog.dry_run_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    after = demo.snapshot(GraphRequest(namespaces=("travel",))).inventory
    assert after is not None
    route = next(o for o in after.istio if o.name == "flights" and o.kind == "K8sHTTPRoute")
    assert route.spec["rules"][0]["timeouts"] == {"request": "7s"}


def test_a_kind_served_in_older_versions_of_its_group_is_saved(emu: KubeEmulator, settings: Settings,
                                                              qtbot: QtBot) -> None:
    """networking.istio.io serves v1, but EnvoyFilter only as v1alpha3: the save read it under v1, found
    nothing, and said it had been deleted by someone else."""
    emu.add({"apiVersion": f"{NET}/v1alpha3", "kind": "EnvoyFilter", "metadata": {"name": "lua", "namespace": "bookinfo"},
             "spec": {"workloadSelector": {"labels": {"app": "reviews"}}, "configPatches": []}}, "bookinfo")
    view, _ctl = cluster_view(emu, settings, qtbot, ("EnvoyFilter", "bookinfo", "lua"))
    assert view.edit()
    edit_text(view, "app: reviews", "app: ratings")
    dialog = reviewed(view, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    stored = emu.get("envoyfilters", "bookinfo", "lua", NET)
    assert stored["spec"]["workloadSelector"] == {"labels": {"app": "ratings"}}


def test_a_gateway_api_route_is_saved_under_its_own_version(emu: KubeEmulator, settings: Settings,
                                                           qtbot: QtBot) -> None:
    """A TCPRoute (gateway.networking.k8s.io/v1alpha2 only), whose CRD here carries no schema: the
    server's dry run judges it, and the missing schema is a note, not a problem blocking Confirm."""
    from tests import gateway_api_crds

    gateway_api_crds.install(emu)
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute",
             "metadata": {"name": "db", "namespace": "bookinfo"},
             "spec": {"rules": [{"backendRefs": [{"name": "mongodb", "port": 27017}]}]}}, "bookinfo")
    view, _ctl = cluster_view(emu, settings, qtbot, ("K8sTCPRoute", "bookinfo", "db"))
    assert view.edit()
    assert "kind: TCPRoute" in view.yaml.toPlainText()
    edit_text(view, "27017", "27018")
    dialog = reviewed(view, qtbot)
    assert "carry no schema for" in dialog.findings_text.toPlainText()
    assert dialog.confirm_button.isEnabled(), dialog.verdict.text()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    stored = emu.get("tcproutes", "bookinfo", "db", "gateway.networking.k8s.io")
    assert stored["spec"]["rules"][0]["backendRefs"][0]["port"] == 27018


def test_the_window_refreshes_the_dock_after_a_save(qtbot: QtBot, tmp_path: Path) -> None:
    """In the main window: the dock's Edit goes through the window's actions; right after Confirm the
    dock shows the saved text (it showed the copy read before the save, as if the save was lost), and
    the refresh the save triggers brings the cluster's copy."""
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    w = MainWindow(context=DEMO, namespaces=["shop"], settings=Settings(tmp_path / "settings.json"),
                   factories={DEMO: lambda: demo}, backoff_base=0.05, backoff_cap=0.2)
    qtbot.addWidget(w)
    try:
        w.actions_controller = install_actions(w)
        views = PerformanceViews(w)
        w.add_extension(views)
        w.show()
        view = views.config
        qtbot.waitUntil(lambda: view.inventory is not None and ("DestinationRule", "shop", "reviews") in
                        view.visible_keys(), timeout=10000)
        view.show_object(("DestinationRule", "shop", "reviews"))
        assert view.edit(), view.edit_button.toolTip()
        edit_text(view, "spec:\n", "spec:\n  exportTo:\n  - .\n")
        dialog = reviewed(view, qtbot, owned=False)  # a child of the window, closed with it
        old = view.inventory
        with qtbot.waitSignal(dialog.applied):
            qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        assert view.editing is None and "exportTo" in view.yaml.toPlainText()
        assert w.statusBar().currentMessage().startswith("Applied: Save the edited DestinationRule shop/reviews")
        qtbot.waitUntil(lambda: view.inventory is not old, timeout=10000)
        assert "exportTo" in view.yaml.toPlainText() and not view.edit_note.isVisible()
    finally:
        w.close()


def test_a_key_written_twice_is_refused_not_dropped() -> None:
    """PyYAML keeps the last of two equal keys: a trafficPolicy added lower down dropped the one above."""
    from meshdesk.mesh.config_edit import editable_yaml

    dr = IstioObject("DestinationRule", "reviews", "bookinfo",
                     spec={"host": "reviews", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}})
    text = editable_yaml(dr) + "  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n"
    with pytest.raises(EditError, match=r"line \d+, column 3: the key 'trafficPolicy' is there twice"):
        edit_plan(dr, text)


def test_tab_indents_with_spaces_while_editing(emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    cursor = view.yaml.textCursor()
    cursor.setPosition(view.yaml.toPlainText().index("  host: reviews") + len("  host: reviews"))
    view.yaml.setTextCursor(cursor)
    qtbot.keyClick(view.yaml, Qt.Key.Key_Return)
    qtbot.keyClick(view.yaml, Qt.Key.Key_Tab)
    qtbot.keyClicks(view.yaml, "exportTo: ['.']")
    assert "\t" not in view.yaml.toPlainText()
    assert view.check_edit(), view.edit_note.text()


def test_read_only_turned_on_in_the_settings_disables_edit_at_once(qtbot: QtBot, tmp_path: Path) -> None:
    """Edit stayed enabled until the next refresh after Read-only was saved in the settings."""
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    demo = DemoCluster(clock=lambda: 1_767_000_000.0)
    w = MainWindow(context=DEMO, namespaces=["shop"], settings=Settings(tmp_path / "settings.json"),
                   factories={DEMO: lambda: demo}, backoff_base=0.05, backoff_cap=0.2)
    qtbot.addWidget(w)
    try:
        w.actions_controller = install_actions(w)
        views = PerformanceViews(w)
        w.add_extension(views)
        w.show()
        view = views.config
        qtbot.waitUntil(lambda: view.inventory is not None and ("DestinationRule", "shop", "reviews") in
                        view.visible_keys(), timeout=10000)
        view.show_object(("DestinationRule", "shop", "reviews"))
        assert view.edit_button.isEnabled()
        w.settings.read_only = True
        w._on_settings_saved(w.settings)
        assert not view.edit_button.isEnabled() and "Read-only" in view.edit_button.toolTip()
        assert not view.delete_button.isEnabled()
    finally:
        w.close()


def test_picking_an_object_does_not_wait_for_rbac_answers(emu: KubeEmulator, settings: Settings,
                                                          qtbot: QtBot) -> None:
    """Each object of a new kind or namespace asked RBAC on the UI thread as it was shown: with the
    API server slow or gone, picking an object in the list froze the window for the requests'
    timeout. The question is asked on a thread; the buttons say so meanwhile, and follow the answer.
    One rules review answers every object of the namespace."""
    held = emu.hold_rbac_answers()
    view = ConfigView()
    qtbot.addWidget(view)
    ctl = ActionsController(ClusterSource(emu.api_client(), context="emu"), settings, view)
    view.set_actions(ctl)
    view.set_data(inventory(emu))
    view.show_object(REVIEWS_DR)
    # the view answered at once: the buttons wait for the answer, the window does not
    assert not view.edit_button.isEnabled() and PENDING_TEXT in view.edit_button.toolTip()
    assert not view.edit()  # nor does Edit: it says why nothing happens
    assert PENDING_TEXT in view.edit_note.text()
    held.set()
    qtbot.waitUntil(lambda: view.edit_button.isEnabled() and view.delete_button.isEnabled())
    assert not view.edit_note.isVisibleTo(view)  # "checking…" is not left behind
    assert emu.rbac_calls() == [("SelfSubjectRulesReview", "bookinfo")]
    # another object of the namespace: answered from what is known, no question asked
    view.show_object(("AuthorizationPolicy", "bookinfo", "allow-get"))
    assert view.edit_button.isEnabled() and view.delete_button.isEnabled()
    assert emu.rbac_calls() == [("SelfSubjectRulesReview", "bookinfo")]


def test_the_text_is_locked_while_its_save_dialog_is_open(emu: KubeEmulator, settings: Settings,
                                                          qtbot: QtBot) -> None:
    """Typing on in the dock while the Save dialog was open was silently dropped by its Confirm (the
    dock then left editing): the text under review is locked until the dialog closes."""
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, "name: v3", "name: v3-b")
    assert view.check_edit()  # a live check under way as Save is clicked: its result keeps the note
    dialog = reviewed(view, qtbot)
    qtbot.waitUntil(lambda: not view._check_busy)
    QApplication.processEvents()
    assert view.yaml.isReadOnly() and not view.save_button.isEnabled() and not view.cancel_button.isEnabled()
    assert "under review" in view.edit_note.text()
    dialog.reject()  # closed without applying: editing goes on where it was
    assert not view.yaml.isReadOnly() and view.save_button.isEnabled() and view.editing is not None
    assert "v3-b" in view.yaml.toPlainText()


def test_a_conflict_on_the_demo_can_be_reloaded_too(qtbot: QtBot, settings: Settings) -> None:
    """On the demo a conflict said 'close it and open the action again': for the dock's edit that meant
    cancelling it and losing the text. The demo's dialogs read it again as a cluster's do."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    view, _ctl = view_on(qtbot, demo, settings, inv, ("DestinationRule", "shop", "reviews"))
    assert view.edit()
    edit_text(view, "spec:\n", "spec:\n  exportTo:\n  - .\n")
    theirs = next(o for o in inv.istio if key_of(o) == ("DestinationRule", "shop", "reviews"))
    demo.apply(IstioObject(**{**theirs.__dict__, "annotations": {"owner": "them"}}))  # changed meanwhile
    with qtbot.waitSignal(view.dialogOpened) as opened:
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
        pass
    assert ready.args == [False] and CONFLICT_TEXT in dialog.form_error.text()
    assert dialog.reload_button.isVisible()
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
        qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    assert ready.args == [True] and "-    owner: them" in dialog.diff_text.toPlainText()
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    after = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert after is not None
    saved = next(o for o in after.istio if key_of(o) == ("DestinationRule", "shop", "reviews"))
    assert saved.spec["exportTo"] == ["."]


def test_a_namespace_no_longer_chosen_is_said_as_such_while_editing(emu: KubeEmulator, settings: Settings,
                                                                   qtbot: QtBot) -> None:
    """The namespace of the object edited was unchosen (a refresh without it): the dock said the object
    had been deleted and that saving it would be refused, though saving writes it well."""
    emu.add_namespace("other")
    view, _ctl = cluster_view(emu, settings, qtbot, ("AuthorizationPolicy", "bookinfo", "allow-get"))
    assert view.edit()
    edit_text(view, "action: ALLOW", "action: AUDIT")
    view.set_data(read_inventory(emu.api_client(), ["other"], cluster="Kubernetes"))
    assert "no longer among those chosen" in view.edit_note.text() and "deleted" not in view.edit_note.text()
    assert "AUDIT" in view.yaml.toPlainText()
    dialog = reviewed(view, qtbot)
    with qtbot.waitSignal(dialog.applied):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert emu.get("authorizationpolicies", "bookinfo", "allow-get", SEC)["spec"]["action"] == "AUDIT"


def test_what_the_crd_schema_refuses_shows_while_editing(emu: KubeEmulator, settings: Settings,
                                                         qtbot: QtBot) -> None:
    """The schema's verdict showed only on the Save dialog's Checks page; Edit reads the schemas (on a
    thread) and the edited text is judged against them as it is typed, as the validations are."""
    view, ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, "  host: reviews\n", "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
                                         "      simple: FASTEST\n")
    qtbot.waitUntil(lambda: ctl.cached_schemas() is not None)
    qtbot.waitUntil(lambda: any(row[0] == "schema" for row in view.finding_rows()))
    row = next(row for row in view.finding_rows() if row[0] == "schema")
    assert row[1] == "error" and row[3] == "spec.trafficPolicy.loadBalancer.simple" and "LEAST_REQUEST" in row[2]


def test_a_version_the_cluster_does_not_serve_is_said_not_replaced_silently(
        emu: KubeEmulator, settings: Settings, qtbot: QtBot) -> None:
    """apiVersion networking.istio.io/v1alpha9 typed in the editor was written as v1 without a word: the
    review says which version it is written as, and why."""
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, f"apiVersion: {NET}/v1\n", f"apiVersion: {NET}/v1alpha9\n")
    dialog = reviewed(view, qtbot)
    assert (f"DestinationRule bookinfo/reviews is written as {NET}/v1: the cluster does not serve "
            f"{NET}/v1alpha9.") in dialog.notes.text()


def test_the_inventory_judged_after_a_change_leaves_the_shown_one_as_it_was() -> None:
    """The live checks judge the inventory as a change would leave it without deep-copying the mesh (on
    a big one that copy took longer than the checks, at each pause in typing): the one shown must be
    left exactly as it was, relabelled namespaces and replaced objects included."""
    import copy as copying

    from meshdesk.mesh.changes import LABEL, REPLACE, Change, ChangePlan, inventory_after
    from meshdesk.mesh.validations import validate
    from meshdesk.sources.demo import DemoCluster

    inv = DemoCluster(clock=lambda: 1_767_000_000.0).snapshot(GraphRequest(namespaces=("shop", "hello"))).inventory
    assert inv is not None
    before = copying.deepcopy(inv)
    dr = next(o for o in inv.istio if o.kind == "DestinationRule" and o.namespace == "shop")
    edited = copying.deepcopy(dr)
    edited.spec["host"] = "nowhere"
    plan = ChangePlan("x", changes=[Change(REPLACE, obj=edited, before=dr),
                                    Change(LABEL, namespace="hello", labels={"istio-injection": None})])
    after = inventory_after(inv, plan)
    judged = validate(after)
    assert any(c.code == "KIA0202" for c in judged[("DestinationRule", "shop", dr.name)].checks)  # the edit is judged
    assert after.namespace("hello").labels.get("istio-injection") is None
    assert inv == before  # and what is shown is untouched


def test_the_list_stays_usable_while_editing_and_keeps_the_edit(emu: KubeEmulator, settings: Settings,
                                                               qtbot: QtBot) -> None:
    """The object list and its filter were disabled while editing (not even scrollable): they work, and a
    click on another object keeps the edit, marked in the list, with a note."""
    view, _ctl = cluster_view(emu, settings, qtbot)
    assert view.edit()
    edit_text(view, "  host: reviews\n", "  host: reviews\n  # mine\n")
    assert view.objects.isEnabled() and view.filter.isEnabled()
    row = next(i for i in range(view.objects.count()) if "DestinationRule bookinfo/reviews"
               not in view.objects.item(i).text())
    rect = view.objects.visualItemRect(view.objects.item(row))
    qtbot.mouseClick(view.objects.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.editing is not None and "# mine" in view.yaml.toPlainText()
    assert "DestinationRule bookinfo/reviews" in view.objects.currentItem().text()
    assert view.edit_note.text().startswith("Save or cancel the edit of")
    qtbot.keyClicks(view.filter, "virtual")
    assert view.editing is not None and "# mine" in view.yaml.toPlainText()


def test_rights_granted_later_enable_edit_without_switching_contexts(emu: KubeEmulator, settings: Settings,
                                                                     qtbot: QtBot) -> None:
    """The dock kept its RBAC answers for the whole session: once an admin granted the right, Edit still
    said "Your RBAC role does not allow you ..." until the context was switched. It takes the actions'
    answers now, asked again after a minute (the writer's clock, set here rather than waited for)."""
    from meshdesk.sources.writes import RBAC_ANSWER_SECONDS

    emu.forbid(resource="destinationrules", verb="update")
    view, ctl = cluster_view(emu, settings, qtbot)
    now = [time.monotonic()]  # (the clock the answers above were kept by)
    ctl.writer.clock = lambda: now[0]
    assert not view.edit_button.isEnabled() and "does not allow you to update destinationrules" in \
        view.edit_button.toolTip()
    assert view.delete_button.isEnabled()
    emu.clear_faults()  # the admin grants it
    now[0] += 2 * RBAC_ANSWER_SECONDS
    view.show_object(("AuthorizationPolicy", "bookinfo", "allow-get"))
    view.show_object(REVIEWS_DR)
    qtbot.waitUntil(view.edit_button.isEnabled, timeout=10000)
    assert view.edit()


def test_a_gateway_api_gateway_is_not_judged_by_istios_gateway_schema(shared_dir: Path) -> None:
    """The schemas are kept by kind and group: a Gateway API Gateway, whose CRD carries no schema here
    (the dry run judges it), was judged by Istio's Gateway's and refused as 'not served by this cluster's
    CRDs', so nothing could be written."""
    from meshdesk.mesh.changes import CREATE, Change, ChangePlan, check
    from meshdesk.mesh.schema import CRDSchemas

    schemas = CRDSchemas.from_crds(load_docs(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml"))
    gw = IstioObject("K8sGateway", "books", "bookinfo", "gateway.networking.k8s.io/v1", {
        "gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]})
    plan = ChangePlan("a Gateway API Gateway", changes=[Change(CREATE, obj=gw)])
    assert check(plan, schemas, None).schema == []
    istio_gw = IstioObject("Gateway", "bad", "bookinfo", spec={"servers": "not a list"})
    assert check(ChangePlan("an Istio Gateway", changes=[Change(CREATE, obj=istio_gw)]), schemas, None).schema


def test_schemas_read_for_a_context_left_are_not_kept_for_the_next(emu: KubeEmulator, settings: Settings,
                                                                  qtbot: QtBot, shared_dir: Path) -> None:
    """Edit reads the CRD schemas on a thread. When another context was chosen while they were read, the
    answer of the cluster left was kept as the new one's: its edits were judged by the other cluster's
    Istio for the rest of the session (a value the new cluster's Istio knows called an error, Confirm
    blocked). Here the cluster left runs an older Istio whose DestinationRule knows no LEAST_REQUEST."""
    older = _older_istio(shared_dir)
    try:
        view, ctl = view_on(qtbot, ClusterSource(older.api_client(), context="older"), settings,
                            inventory(older), REVIEWS_DR)
        gate, held = older.hold_requests("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/")
        try:
            assert view.edit()  # the schemas are read on a thread: held at the API server
            assert held.wait(10)
            view.cancel_edit()
            # another context is chosen meanwhile (as the window does: the actions' source, then its data)
            ctl.set_source(ClusterSource(emu.api_client(), context="emu"))
            view.set_data(inventory(emu))
            view.show_object(REVIEWS_DR)
        finally:
            with qtbot.waitSignal(view._schemasRead, timeout=10000):  # the older cluster's answer comes
                gate.set()
        qtbot.waitUntil(view.edit_button.isEnabled, timeout=10000)  # RBAC of the new context
        assert view.edit()
        edit_text(view, "  host: reviews\n", "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
                                             "      simple: FASTEST\n")
        qtbot.waitUntil(lambda: any(row[0] == "schema" for row in view.finding_rows()), timeout=10000)
        row = next(row for row in view.finding_rows() if row[0] == "schema")
        assert "LEAST_REQUEST" in row[2]  # the schema of this cluster's Istio, which knows it
    finally:
        older.stop()



def test_a_change_dialog_left_open_across_a_context_switch_checks_its_own_clusters_schemas(
        emu: KubeEmulator, settings: Settings, qtbot: QtBot, shared_dir: Path) -> None:
    """The change dialog is not modal: another context may be chosen while it is open, and it still writes
    to the cluster it was opened for. Reviewed again there (Back, Review), it judged its objects by the CRD
    schemas of the context chosen since: here an older Istio's, which knows no LEAST_REQUEST, so a value
    its own cluster takes was called a schema problem and Confirm was blocked."""
    older = _older_istio(shared_dir)
    try:
        view, ctl = cluster_view(emu, settings, qtbot)
        assert view.edit()
        edit_text(view, "  host: reviews\n", "  host: reviews\n  trafficPolicy:\n    loadBalancer:\n"
                                             "      simple: LEAST_REQUEST\n")
        dialog = reviewed(view, qtbot)
        assert dialog.confirm_button.isEnabled(), dialog.verdict.text()
        view.cancel_edit()
        ctl.set_source(ClusterSource(older.api_client(), context="older"))  # another context is chosen
        view.set_data(inventory(older))
        dialog.back()
        with qtbot.waitSignal(dialog.reviewReady, timeout=10000) as ready:
            assert dialog.review()
        assert ready.args == [True]
        assert "schema problem" not in dialog.verdict.text() and dialog.confirm_button.isEnabled()
        with qtbot.waitSignal(dialog.applied, timeout=10000):
            qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        dr = emu.get("destinationrules", "bookinfo", "reviews", NET)
        assert dr["spec"]["trafficPolicy"]["loadBalancer"]["simple"] == "LEAST_REQUEST"  # its own cluster's
    finally:
        older.stop()


def _older_istio(shared_dir: Path) -> KubeEmulator:
    """A cluster whose Istio is older: its DestinationRule CRD knows no LEAST_REQUEST (started; stop it)."""
    older = KubeEmulator().start()
    for doc in load_docs(shared_dir / CRDS):
        if doc["spec"]["names"]["kind"] == "DestinationRule":
            _drop_enum_value(doc, "LEAST_REQUEST")
        older.add_crd(doc)
    older.add_namespace("bookinfo", {"istio-injection": "enabled"})
    older.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/destination-rule-all.yaml", namespace="bookinfo")
    return older

def _drop_enum_value(node: object, value: str) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and value in node["enum"]:
            node["enum"].remove(value)
        for child in node.values():
            _drop_enum_value(child, value)
    elif isinstance(node, list):
        for child in node:
            _drop_enum_value(child, value)
