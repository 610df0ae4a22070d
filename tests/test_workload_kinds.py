"""Workloads of every kind as Kiali, Lens and k9s users know them: what the inventory reads of each
controller (from the Kubernetes API emulator), the words the workload panel says it in, the
Workloads list's Type column, and the app/version labels Kiali marks missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.health import workload_status
from meshdesk.mesh.graph.model import DEGRADED, FAILURE, HEALTHY, NOT_READY, TrafficGraph
from meshdesk.mesh.inventory import Inventory, Workload
from meshdesk.sources.inventory import read_inventory
from meshdesk.ui.lists import COLUMNS, WORKLOADS, MeshLists
from meshdesk.ui.panels import SidePanel
from tests.graph_samples import http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

NS = "batch"
LAST_RUN, LAST_SUCCESS = "2026-11-27T02:00:00Z", "2026-11-26T02:00:00Z"


def _tmpl(labels: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": "img:1"}]}}


def _controller(kind: str, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    group = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    obj: dict[str, Any] = {"apiVersion": group, "kind": kind, "metadata": {"name": name, "namespace": NS},
                           "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def _every_kind(emu: KubeEmulator) -> None:
    """A namespace with a controller of every kind in a state worth telling apart, as their
    controllers report them (no ``run_workloads``: it would overwrite the statuses)."""
    emu.add_namespace(NS)
    both = {"app": "shop", "version": "v2"}
    emu.add(_controller("Deployment", "web", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 3, "readyReplicas": 2, "availableReplicas": 1}))
    emu.add(_controller("StatefulSet", "db", {"replicas": 2, "template": _tmpl(both)},
                        {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}))
    emu.add(_controller("DaemonSet", "agent", {"template": _tmpl({"app": "agent"})},
                        {"desiredNumberScheduled": 3, "currentNumberScheduled": 2, "numberReady": 1,
                         "numberAvailable": 1}))
    emu.add(_controller("Job", "migrate", {"completions": 3, "template": _tmpl({})},
                        {"succeeded": 3, "conditions": [{"type": "Complete", "status": "True"}]}))
    emu.add(_controller("Job", "broken", {"template": _tmpl(both)},
                        {"failed": 4, "conditions": [
                            {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"},
                            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}))
    emu.add(_controller("Job", "index", {"parallelism": 2, "template": _tmpl(both)}, {"active": 2, "ready": 2}))
    emu.add(_controller("Job", "paused", {"suspend": True, "template": _tmpl(both)}))
    emu.add(_controller("CronJob", "nightly", {
        "schedule": "0 2 * * *", "timeZone": "Europe/Paris", "suspend": True,
        "jobTemplate": {"spec": {"template": _tmpl(both)}}},
        {"active": [{"kind": "Job", "name": "nightly-1", "namespace": NS},
                    {"kind": "Job", "name": "nightly-2", "namespace": NS}],
         "lastScheduleTime": LAST_RUN, "lastSuccessfulTime": LAST_SUCCESS}))
    emu.add(_controller("CronJob", "hourly", {"schedule": "@hourly", "jobTemplate": {"spec": {"template": _tmpl(both)}}}))
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": NS,
                                                            "labels": {"app": "debug"}},
             "spec": {"containers": [{"name": "sh", "image": "busybox"}]}, "status": {"phase": "Pending"}})


@pytest.fixture
def every_kind(kube_emulator: KubeEmulator) -> Inventory:
    _every_kind(kube_emulator)
    return read_inventory(kube_emulator.api_client(), [NS], cluster="east")


# -- what the inventory reads --------------------------------------------------------------------------

def test_each_controller_is_read_in_its_kinds_terms(every_kind: Inventory) -> None:
    got = {w.name: w for w in every_kind.workloads}
    web, db, agent = got["web"], got["db"], got["agent"]
    assert (web.replicas, web.ready, web.available, web.current) == (3, 2, 1, 3)
    assert (db.replicas, db.ready) == (2, 2)
    assert (agent.replicas, agent.current, agent.ready, agent.available) == (3, 2, 1, 1)
    jobs = {n: (got[n].completions, got[n].succeeded, got[n].failed, got[n].active, got[n].job_state,
                got[n].job_reason) for n in ("migrate", "broken", "index", "paused")}
    assert jobs == {"migrate": (3, 3, 0, 0, "Complete", ""),
                    "broken": (-1, 0, 4, 0, "Failed", "BackoffLimitExceeded"),
                    "index": (-1, 0, 0, 2, "Running", ""),
                    "paused": (-1, 0, 0, 0, "Suspended", "")}
    assert (got["index"].parallelism, got["migrate"].parallelism) == (2, -1)
    nightly, hourly = got["nightly"], got["hourly"]
    assert (nightly.schedule, nightly.time_zone, nightly.suspended, nightly.active, nightly.last_schedule,
            nightly.last_success) == ("0 2 * * *", "Europe/Paris", True, 2, LAST_RUN, LAST_SUCCESS)
    assert (hourly.schedule, hourly.suspended, hourly.active, hourly.last_schedule) == ("@hourly", False, 0, "")
    # Kiali's pod-based health is what it was
    assert {n: workload_status([w])[0] for n, w in got.items()} == {
        "web": DEGRADED, "db": HEALTHY, "agent": DEGRADED, "migrate": HEALTHY, "broken": FAILURE, "index": HEALTHY,
        "paused": NOT_READY, "nightly": NOT_READY, "hourly": NOT_READY, "debug": FAILURE}


def test_the_controllers_word_survives_a_snapshot_and_older_snapshots_still_read(every_kind: Inventory) -> None:
    assert Inventory.from_json(json.loads(json.dumps(every_kind.to_json()))).to_json() == every_kind.to_json()
    old = every_kind.to_json()
    added = ("ready", "completions", "parallelism", "succeeded", "failed", "active", "job_state", "job_reason", "schedule",
             "time_zone", "suspended", "last_schedule", "last_success")
    for w in old["workloads"]:
        for key in added:
            del w[key]
    web = Inventory.from_json(old).workload(NS, "web")
    assert web is not None and (web.replicas, web.available, web.ready, web.job_state, web.suspended) == \
        (3, 1, -1, "", None)
    bad = every_kind.to_json()
    bad["workloads"][0]["suspended"] = "yes"
    with pytest.raises(ValueError, match=r"workloads\[0\]\.suspended has the wrong type"):
        Inventory.from_json(bad)


def test_odd_controller_fields_never_crash_the_read(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.add_namespace(NS)
    emu.add_raw("jobs", NS, {"metadata": {"name": "odd-job", "namespace": NS},
                             "spec": {"completions": "three", "suspend": "yes", "template": _tmpl({})},
                             "status": {"succeeded": "many", "failed": -2, "active": [1], "ready": None,
                                        "conditions": ["Complete", {"type": "Failed"}, None]}}, group="batch")
    emu.add_raw("jobs", NS, {"metadata": {"name": "no-status", "namespace": NS}, "spec": None, "status": "??"},
                group="batch")
    emu.add_raw("cronjobs", NS, {"metadata": {"name": "odd-cron", "namespace": NS},
                                 "spec": {"schedule": 5, "timeZone": ["UTC"], "suspend": 1},
                                 "status": {"active": "x", "lastScheduleTime": 7}}, group="batch")
    emu.add_raw("daemonsets", NS, {"metadata": {"name": "odd-ds", "namespace": NS}, "spec": {},
                                   "status": {"desiredNumberScheduled": 1e999, "numberReady": {"n": 1}}},
                group="apps")
    emu.add_raw("deployments", NS, {"metadata": {"name": "odd-dep", "namespace": NS}, "spec": {"replicas": 2},
                                    "status": {"readyReplicas": "2"}}, group="apps")
    got = {w.name: w for w in read_inventory(emu.api_client(), [NS], cluster="east").workloads}
    job = got["odd-job"]
    assert (job.completions, job.succeeded, job.failed, job.active, job.ready, job.job_state, job.suspended) == \
        (-1, 0, 0, 0, -1, "Running", False)
    assert (got["no-status"].job_state, got["no-status"].succeeded) == ("Running", 0)
    cron = got["odd-cron"]
    assert (cron.schedule, cron.time_zone, cron.suspended, cron.active, cron.last_schedule) == ("", "", False, 0, "")
    assert (got["odd-ds"].replicas, got["odd-ds"].ready) == (0, 0)
    assert got["odd-dep"].ready == 2  # a number written as text, as the counts are read


# -- what the workload panel says -----------------------------------------------------------------------

def _panels(qtbot: QtBot, inventory: Inventory) -> dict[str, str]:
    """Each workload's panel text, web-v1 calling every one of them (so each has a node)."""
    graph: TrafficGraph = build(snapshot([http("web-v1", w.name, 1, ns=NS) for w in inventory.workloads],
                                         inventory=inventory, namespaces=(NS,)))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inventory)
    out = {}
    for w in inventory.workloads:
        node = graph.find_node(workload=w.name)
        assert node is not None, w.name
        panel.show_selection([node.id])
        assert panel.kind == "workload"
        out[w.name] = panel.text()
    return out


def test_the_workload_panel_speaks_each_controllers_language(qtbot: QtBot, every_kind: Inventory) -> None:
    """Every kind said "Replicas x/y available"; a Job has completions and a state, a CronJob a
    schedule, a DaemonSet pods per node, a bare pod a phase."""
    text = _panels(qtbot, every_kind)
    assert "Replicas\n2/3 ready, 1 available" in text["web"]
    assert "Replicas\n2/2 ready\n" in text["db"]
    assert "Pods\n3 desired, 2 scheduled, 1 ready\n" in text["agent"]
    assert "Completions\n3/3\nState\nComplete\n" in text["migrate"]
    assert "Completions\n0/1, 4 failed\nState\nFailed (BackoffLimitExceeded)\n" in text["broken"]
    # as kubectl's COMPLETIONS: no count wanted, two at once (it said "0/1, 2 running")
    assert "Completions\n0/1 of 2, 2 running\nState\nRunning\n" in text["index"]
    assert "State\nSuspended\n" in text["paused"]
    assert (f"Schedule\n0 2 * * * (Europe/Paris)\nSuspended\nyes\nLast schedule\n{LAST_RUN}\n"
            f"Last success\n{LAST_SUCCESS}\nActive jobs\n2\n") in text["nightly"]
    assert "Schedule\n@hourly\nSuspended\nno\nLast schedule\nnever\nActive jobs\n0\n" in text["hourly"]
    assert "Phase\nPending\n" in text["debug"]
    for name in ("agent", "migrate", "broken", "index", "paused", "nightly", "hourly", "debug"):
        assert "Replicas" not in text[name] and "available" not in text[name].split("Health")[0], name
    # health is Kiali's, as before
    assert "Health\nFailure" in text["broken"] and "Health\nHealthy" in text["migrate"]


def test_a_bare_pod_gone_is_not_said_in_replicas(qtbot: QtBot, every_kind: Inventory) -> None:
    """A bare pod's workload whose pod is gone (a snapshot, the pod deleted): its panel said
    "Replicas 0/0 available", replica words for a kind that has none."""
    import dataclasses

    debug = every_kind.workload(NS, "debug")
    assert debug is not None and debug.kind == "Pod"
    gone = dataclasses.replace(every_kind, workloads=[dataclasses.replace(w, pods=[]) if w is debug else w
                                                      for w in every_kind.workloads])
    text = _panels(qtbot, gone)["debug"]
    assert "Phase\ngone: the cluster no longer lists this pod\n" in text
    assert "Replicas" not in text and "available" not in text.split("Health")[0]


def test_a_panel_from_an_older_snapshot_counts_from_the_pods(qtbot: QtBot, every_kind: Inventory) -> None:
    """A snapshot written before the controllers' own word was kept: a Deployment says what it did, a
    Job its pods, in none of the words it cannot back."""
    old = every_kind.to_json()
    for w in old["workloads"]:
        for key in ("ready", "completions", "succeeded", "failed", "active", "job_state", "job_reason", "schedule",
                    "time_zone", "suspended", "last_schedule", "last_success"):
            w.pop(key)
    text = _panels(qtbot, Inventory.from_json(old))
    assert "Replicas\n1/3 available\n" in text["web"]
    assert "Pods\n0/4 available\n" in text["broken"] and "State" not in text["broken"]
    assert "Pods\n0/0 available\n" in text["nightly"] and "Schedule" not in text["nightly"]


def test_missing_app_and_version_labels_are_marked_as_kiali_marks_them(qtbot: QtBot, every_kind: Inventory) -> None:
    """Kiali says "Missing App" or "Missing Version" of a workload whose pods lack the label (any of
    app, app.kubernetes.io/name, service.istio.io/canonical-name; likewise for the version); a
    waypoint is not asked for them."""
    text = _panels(qtbot, every_kind)
    assert "App\nno app label (it belongs to no app)\n" in text["migrate"]
    assert 'Version\nno version label (its telemetry calls its version "latest")\n' in text["migrate"]
    assert "App\nagent\nVersion\nno version label" in text["agent"]
    assert "App\nshop\nVersion\nv2\n" in text["web"] and "label" not in text["web"].split("Health")[0]
    canonical = Workload("cart", NS, labels={"app.kubernetes.io/name": "cart", "service.istio.io/canonical-revision": ""})
    assert canonical.missing_labels == []  # a label there, even empty, is not missing (Kiali asks only that)
    waypoint = Workload("waypoint", NS, labels={"gateway.networking.k8s.io/gateway-name": "waypoint",
                                                "gateway.istio.io/managed": "istio.io-mesh-controller"})
    assert waypoint.missing_labels == ["app", "version"]
    inv = Inventory(cluster="east", namespaces=every_kind.namespaces, workloads=[waypoint])
    assert "no app label" not in _panels(qtbot, inv)["waypoint"]
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(None, inv)
    assert [(r.name, r.labels_text) for r in lists.pages[WORKLOADS].model.rows] == [("waypoint", "")]


# -- the Workloads list ------------------------------------------------------------------------------

@pytest.fixture
def workload_list(qtbot: QtBot, every_kind: Inventory) -> Iterator[MeshLists]:
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.resize(1200, 400)
    lists.show()
    qtbot.waitExposed(lists)
    lists.set_data(None, every_kind)
    yield lists


def _shown(lists: MeshLists, column: str) -> dict[str, str]:
    """Each visible row's ``column`` as the table shows it, by name."""
    page = lists.pages[WORKLOADS]
    c = page.model.columns.index(column)
    return {page.proxy.index(r, 0).data(): page.proxy.index(r, c).data() for r in range(page.proxy.rowCount())}


def test_the_workloads_list_has_a_type_column_to_sort_and_filter_by(qtbot: QtBot, workload_list: MeshLists) -> None:
    page = workload_list.pages[WORKLOADS]
    header = page.table.horizontalHeader()
    titles = [page.proxy.headerData(i, Qt.Orientation.Horizontal) for i in range(header.count())
              if not page.table.isColumnHidden(i)]  # (Cluster is shown with several clusters' rows only)
    assert titles == ["Name", "Namespace", "Type", "Pods", "Health", "Sidecar", "Labels", "Config", "Details"]
    kind = page.model.columns.index("Type")
    assert page.filter.placeholderText() == \
        "Filter workloads by name, namespace (namespace:shop), type, labels (app=reviews) or config (Not Valid, Warning)…"
    assert _shown(workload_list, "Type") == {
        "agent": "DaemonSet", "broken": "Job", "db": "StatefulSet", "debug": "Pod", "hourly": "CronJob",
        "index": "Job", "migrate": "Job", "nightly": "CronJob", "paused": "Job", "web": "Deployment"}
    # the column fits its longest kind
    assert page.table.columnWidth(kind) >= page.table.fontMetrics().horizontalAdvance("StatefulSet")
    # a kind typed in the filter finds that kind: "Job" finds Jobs, not CronJobs; any case
    for text, names in (("StatefulSet", ["db"]), ("DaemonSet", ["agent"]), ("CronJob", ["hourly", "nightly"]),
                        ("job", ["broken", "index", "migrate", "paused"]), ("Pod", ["debug"]),
                        ("deploy", ["web"]), ("ron", []), ("nightly", ["nightly"])):
        page.filter.clear()
        qtbot.keyClicks(page.filter, text)
        assert sorted(r.name for r in page.visible_rows()) == names, text
    page.filter.clear()
    page.table.sortByColumn(kind, Qt.SortOrder.AscendingOrder)
    kinds = [r.kind for r in page.visible_rows()]
    assert kinds == sorted(kinds, key=str.lower) and kinds[0] == "CronJob"
    workload_list.set_data(None, workload_list.inventory)  # a refresh keeps the sort by type
    assert [r.kind for r in page.visible_rows()] == kinds
    # Pods: ready of wanted, as kubectl's READY; sorted, the fewest ready first
    # (a Job its completions, as kubectl's COMPLETIONS; a CronJob its running Jobs)
    assert _shown(workload_list, "Pods") == {
        "web": "2/3", "db": "2/2", "agent": "1/3", "debug": "0/1", "migrate": "3/3 done", "broken": "0/1 done",
        "index": "0/1 done", "paused": "0/1 done", "nightly": "2 running", "hourly": ""}
    page.table.sortByColumn(COLUMNS[WORKLOADS].index("Pods"), Qt.SortOrder.AscendingOrder)
    assert [r.name for r in page.visible_rows()][:4] == ["broken", "debug", "agent", "web"]


def test_the_workloads_list_marks_missing_labels(qtbot: QtBot, workload_list: MeshLists) -> None:
    page = workload_list.pages[WORKLOADS]
    # what it lacks first, then its labels
    labels = {name: text.partition(" · ")[0] for name, text in _shown(workload_list, "Labels").items()}
    assert labels["migrate"] == "no app label, no version label" and labels["agent"] == "no version label"
    assert labels["web"].startswith("app=") and labels["debug"] == "no version label"
    qtbot.keyClicks(page.filter, "no version")
    assert sorted(r.name for r in page.visible_rows()) == ["agent", "debug", "migrate"]
    page.filter.clear()
    page.table.sortByColumn(COLUMNS[WORKLOADS].index("Labels"), Qt.SortOrder.AscendingOrder)
    assert [r.name for r in page.visible_rows()][0] == "migrate"  # the most missing first
    row = next(i for i, r in enumerate(page.visible_rows()) if r.name == "migrate")
    tip = page.proxy.index(row, COLUMNS[WORKLOADS].index("Labels")).data(Qt.ItemDataRole.ToolTipRole)
    assert "No app label" in tip and "No version label" in tip and '"latest"' in tip


# a window state saved (by closing the app) before the Type and Labels columns came, the Lists dock
# open on the demo: the columns' arrangement is not in it, so it cannot hide or shuffle them
_STATE_BEFORE_THE_TYPE_COLUMN = {
    "window_geometry": "AdnQywADAAAAAAAAAAAAAAAABQMAAAIzAAAAAgAAAAIAAAUBAAACMQAAAAAAAAAAAyAAAAACAAAAAgAABQEAAAIx",
    "window_state": "AAAA/wAAAAH9AAAAAgAAAAEAAAFUAAABwPwCAAAAAfwAAABaAAABwAAAAUMBAAAZ+gAAAAACAAAAAvsAAAAWAGQAZQB0AGEAaQBs"
                    "AHMARABvAGMAawEAAAAA/////wAAASkA////+wAAABQAbABlAGcAZQBuAGQARABvAGMAawEAAAAA/////wAAAFQA////AA"
                    "AAAwAAA6YAAAEK/AEAAAAB/AAAAAAAAAOmAAAAfwD////6AAAAAQEAAAAE+wAAABYAbQBlAHQAcgBpAGMAcwBEAG8AYwBr"
                    "AAAAAAD/////AAACVAD////7AAAAEgBsAGkAcwB0AHMARABvAGMAawEAAAAA/////wAAAH8A////+wAAAB4AaQBzAHQAaQ"
                    "BvAGMAbwBuAGYAaQBnAEQAbwBjAGsAAAAAAP////8AAADaAP////sAAAAQAGwAbwBnAHMARABvAGMAawAAAAAA/////wAA"
                    "AjYA////AAADpgAAALAAAAAEAAAABAAAAAgAAAAC/AAAAAIAAAACAAAAAQAAABYAbQBhAGkAbgBUAG8AbwBsAEIAYQByAQ"
                    "AAAAD/////AAAAAAAAAAAAAAACAAAAAQAAABYAdgBpAGUAdwBUAG8AbwBsAEIAYQByAQAAAAD/////AAAAAAAAAAA=",
}


@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_a_window_saved_before_the_new_columns_shows_every_column_in_order(qtbot: QtBot) -> None:
    import argparse

    from meshdesk.store.paths import settings_file
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.app import make_window

    saved = load_settings()
    saved.window_geometry = _STATE_BEFORE_THE_TYPE_COLUMN["window_geometry"]
    saved.window_state = _STATE_BEFORE_THE_TYPE_COLUMN["window_state"]
    saved.save()
    w = make_window(argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None))
    qtbot.addWidget(w)
    try:
        lists = w.extensions[0].lists
        assert not w.extensions[0].docks["Lists"].isHidden(), "the Lists dock the user left open"
        page = lists.pages[WORKLOADS]
        qtbot.waitUntil(lambda: bool(page.model.rows), timeout=20000)
        header = page.table.horizontalHeader()
        assert header.count() == len(COLUMNS[WORKLOADS]) == 10
        assert [header.visualIndex(i) for i in range(header.count())] == list(range(header.count()))
        # every column shown but Cluster (the demo is one cluster)
        shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
        assert shown == [i for i, c in enumerate(COLUMNS[WORKLOADS]) if c != "Cluster"]
        assert all(header.sectionSize(i) > 0 for i in shown)
        assert _shown(lists, "Type")["mongodb-v1"] == "StatefulSet"
    finally:
        w.close()
    general = json.loads(Path(settings_file()).read_text())["general"]
    assert not any("header" in key or "column" in key for key in general), "lists keep no header state"


# -- rollouts ----------------------------------------------------------------------------------------------

def test_a_rollout_under_way_or_stalled_is_said_as_kubectl_rollout_status_says_it(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """A Deployment whose new image does not start looked like any workload one pod short ("2/3 ready"):
    nothing said a rollout was stuck, or under way at all."""
    emu = kube_emulator
    emu.add_namespace(NS)
    both = {"app": "shop", "version": "v1"}
    emu.add(_controller("Deployment", "rolling", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3}))
    emu.add(_controller("Deployment", "stuck", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
                         "conditions": [{"type": "Available", "status": "True"},
                                        {"type": "Progressing", "status": "False",
                                         "reason": "ProgressDeadlineExceeded",
                                         "message": 'ReplicaSet "stuck-5d8f" has timed out progressing.'}]}))
    emu.add(_controller("Deployment", "done", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                         "conditions": [{"type": "Progressing", "status": "True",
                                         "reason": "NewReplicaSetAvailable"}]}))
    emu.add(_controller("StatefulSet", "db", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
                         "currentRevision": "db-6c4f", "updateRevision": "db-7d9b"}))
    emu.add(_controller("DaemonSet", "agent", {"template": _tmpl(both)},
                        {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3,
                         "numberAvailable": 3, "updatedNumberScheduled": 2}))
    emu.add(_controller("Deployment", "odd", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 3, "updatedReplicas": "some", "readyReplicas": 3, "availableReplicas": 3,
                         "conditions": [{"type": "Progressing", "status": "False"}, "Progressing", None]}))
    # the controller has not seen the spec changed since (status of the one before): nothing said
    emu.add(_controller("Deployment", "behind", {"replicas": 3, "template": _tmpl(both)},
                        {"replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3}))
    behind = emu.get("deployments", NS, "behind", "apps")
    assert behind is not None
    behind["metadata"]["generation"] = 5
    behind["status"]["observedGeneration"] = 4
    inv = read_inventory(emu.api_client(), [NS], cluster="east")
    got = {w.name: (w.updated, w.rollout_stalled) for w in inv.workloads}
    assert got == {"rolling": (1, ""), "stuck": (1, "ProgressDeadlineExceeded"), "done": (3, ""), "db": (1, ""),
                   "agent": (2, ""), "odd": (-1, "not progressing"), "behind": (-1, "")}
    assert Inventory.from_json(json.loads(json.dumps(inv.to_json()))).to_json() == inv.to_json()
    text = _panels(qtbot, inv)
    assert "Replicas\n3/3 ready, 4 running\nRollout\nin progress: 1 of 3 pods updated\n" in text["rolling"]
    assert ('Rollout\nstalled (ProgressDeadlineExceeded: ReplicaSet "stuck-5d8f" has timed out progressing.)\n'
            in text["stuck"])
    assert "Rollout\nin progress: 1 of 3 pods updated\n" in text["db"]
    assert "Pods\n3 desired, 3 scheduled, 3 ready\nRollout\nin progress: 2 of 3 pods updated\n" in text["agent"]
    assert "Rollout\nstalled (not progressing)\n" in text["odd"]
    for name in ("done", "behind"):
        assert "Rollout" not in text[name], name
    # the Workloads list's Pods column says it too
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(None, inv)
    pods = _shown(lists, "Pods")
    assert (pods["rolling"], pods["stuck"], pods["done"], pods["agent"]) == \
        ("3/3 · rolling out", "3/3 · rollout stalled", "3/3", "3/3 · rolling out")
