"""One mesh over two kubeconfig contexts, live: two Kubernetes API emulators (east and west, each with an
istiod naming its cluster) and one real Prometheus holding both clusters' series, as a shared or federated
Prometheus of a multi-primary mesh holds them.

web-v1 runs in east and calls cart-v1 in east and in west. West's cart-v1 has no ready pod, and west runs
spare-v1, which nothing calls: read from east alone, west's nodes had no pods to be judged by and
spare-v1 no idle node."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.fileio import write_atomic
from meshdesk.mesh.graph import build, model
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.cluster import ClusterSource, open_source
from meshdesk.sources.mesh_clusters import FOUND_CLUSTER_ID, FOUND_KUBECONFIG, FOUND_TELEMETRY, GIVEN
from tests.kube_emulator import KubeEmulator
from tests.prom_server import PrometheusServer, Series, Workload, binaries_missing, istio_edge

WEB = Workload("shop", "web-v1", "web", "v1")
CRDS = "fixtures/istio/crds/crd-all.gen.yaml"  # (under the shared folder: Istio's, for the tests that need it)
CART = Workload("shop", "cart-v1", "cart", "v1")


def _series() -> list[Series]:
    """web (east) -> cart in east and in west, 5 req/s each, reported by both proxies."""
    out = []
    for dst_cluster in ("east", "west"):
        for reporter in ("source", "destination"):
            labels = istio_edge(WEB, CART, "cart", "shop", reporter=reporter, cluster="east")
            labels["destination_cluster"] = dst_cluster
            out.append(Series("istio_requests_total", labels, 5.0))
    return out


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    srv = PrometheusServer(tmp_path_factory.mktemp("two-clusters"), _series())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _deployment(name: str, namespace: str, labels: dict[str, str], env: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "example/app:1"}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}}


def _app(name: str) -> dict[str, Any]:
    app, _, version = name.rpartition("-")
    return _deployment(name, "shop", {"app": app, "version": version})


def _cluster(emu: KubeEmulator, cluster_id: str | None, workloads: list[str], *, ready: bool = True,
             istiod_ready: bool = True, external: bool = False) -> None:
    """``external``: its istiod may manage remote clusters (``EXTERNAL_ISTIOD=true``, as Istio's primary-remote
    install sets it on the primary)."""
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    env = {"CLUSTER_ID": cluster_id} if cluster_id else {}
    if external:
        env["EXTERNAL_ISTIOD"] = "true"
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod"}, env))
    for name in workloads:
        emu.add(_app(name))
    emu.run_workloads("istio-system", ready=istiod_ready)
    emu.run_workloads("shop", ready=ready)


def _kubeconfig(path: Path, **contexts: KubeEmulator) -> str:
    """One kubeconfig with a context per emulator (its cluster entry named ``kind-<context>``)."""
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
                           "current-context": next(iter(contexts))}
    for name, emu in contexts.items():
        doc["clusters"].append({"name": f"kind-{name}", "cluster": {"server": emu.url}})
        doc["users"].append({"name": f"{name}-user", "user": {}})
        doc["contexts"].append({"name": name, "context": {"cluster": f"kind-{name}", "user": f"{name}-user"}})
    write_atomic(path, yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture
def east() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _cluster(emu, "east", ["web-v1", "cart-v1"], external=True)
        yield emu


@pytest.fixture
def west() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _cluster(emu, "west", ["cart-v1", "spare-v1"], ready=False)
        yield emu


def _request(prometheus: PrometheusServer) -> GraphRequest:
    return GraphRequest(namespaces=("shop",), graphType="workload", includeIdleNodes=True,
                        queryTime=prometheus.query_time)


def _by_cluster(graph: model.TrafficGraph, workload: str) -> dict[str, model.Node]:
    """The nodes of ``workload`` by cluster (a workload node, or a versioned app's node of it)."""
    return {n.cluster: n for n in graph.nodes.values() if n.node_type != model.NODE_BOX and n.workload == workload}


def _linked_snapshot(kubeconfig: str, prometheus: PrometheusServer, **kw: Any) -> tuple[Snapshot, ClusterSource]:
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")], **kw)
    try:
        return source.snapshot(_request(prometheus)), source
    finally:
        source.close()


def test_a_linked_contexts_workloads_judge_its_nodes(east: KubeEmulator, west: KubeEmulator,
                                                      prometheus: PrometheusServer, tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, source = _linked_snapshot(kubeconfig, prometheus)
    # each cluster named as its telemetry names it: istiod's CLUSTER_ID, not the kubeconfig's kind-east
    assert source.clusters() == [("east", "east", FOUND_CLUSTER_ID), ("west", "west", FOUND_CLUSTER_ID)]
    assert snap.inventory is not None and snap.inventory.unread_clusters == {}
    assert {(w.cluster, w.name) for w in snap.inventory.workloads if w.namespace == "shop"} == {
        ("east", "web-v1"), ("east", "cart-v1"), ("west", "cart-v1"), ("west", "spare-v1")}

    graph = build(snap)
    carts = _by_cluster(graph, "cart-v1")
    assert set(carts) == {"east", "west"}
    # west's cart-v1 has its own pods (none ready): a failure, where east's is healthy
    assert carts["east"].health is not None and carts["east"].health.status == model.HEALTHY
    assert carts["west"].health is not None and carts["west"].health.status == model.FAILURE
    # west's spare-v1, which nothing calls, is an idle node of west
    spare = _by_cluster(graph, "spare-v1")
    assert set(spare) == {"west"} and spare["west"].is_idle
    # a snapshot saved from it carries both clusters' workloads and is judged the same when opened
    reopened = Snapshot.from_json(snap.to_json())
    # with each cluster's istiod, as far as it was read (the Istio status judges each)
    assert reopened.inventory is not None and snap.inventory is not None
    assert reopened.inventory.control_planes == snap.inventory.control_planes
    again = build(reopened)
    assert _by_cluster(again, "cart-v1")["west"].health.status == model.FAILURE  # type: ignore[union-attr]
    assert set(_by_cluster(again, "spare-v1")) == {"west"}


def test_a_linked_context_that_is_down_is_named_and_the_others_stay(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    west.stop()
    snap, source = _linked_snapshot(kubeconfig, prometheus)
    inv = snap.inventory
    assert inv is not None
    # west's name could not be asked of its istiod; the telemetry names one cluster besides east, which
    # east's istiod names: west is taken as that one (it was said as the kubeconfig's kind-west, so no box
    # or status of the telemetry's west said it was not read)
    assert list(inv.unread_clusters) == ["west"]
    assert "context west" in inv.unread_clusters["west"]
    assert source.clusters()[1] == ("west", "west", FOUND_TELEMETRY)
    # east's workloads are there and judge east's nodes; the traffic to west's cart is still drawn
    assert {w.name for w in inv.workloads if w.namespace == "shop"} == {"web-v1", "cart-v1"}
    graph = build(snap)
    carts = _by_cluster(graph, "cart-v1")
    assert set(carts) == {"east", "west"}
    assert carts["east"].health is not None and carts["east"].health.status == model.HEALTHY
    assert not _by_cluster(graph, "spare-v1")


def test_cluster_names_given_are_used_and_without_cluster_id_the_kubeconfigs(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer) -> None:
    with KubeEmulator() as bare:  # a cluster whose istiod sets no CLUSTER_ID
        _cluster(bare, None, ["cart-v1"])
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, other=bare)
        source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, cluster="east-given",
                             linked=[("other", "")])
        try:
            snap = source.snapshot(_request(prometheus))
        finally:
            source.close()
    assert source.clusters() == [("east-given", "east", GIVEN), ("kind-other", "other", FOUND_KUBECONFIG)]
    assert snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads if w.name == "cart-v1"} == {"east-given", "kind-other"}


def test_a_remote_clusters_name_is_its_topology_label(east: KubeEmulator, tmp_path: Path,
                                                      prometheus: PrometheusServer) -> None:
    """A primary-remote mesh's remote cluster runs no istiod: Istio labels its istio-system namespace."""
    with KubeEmulator() as remote:
        remote.add_namespace("istio-system", {"topology.istio.io/cluster": "remote-1"})
        remote.add_namespace("shop", {"istio-injection": "enabled"})
        remote.add(_app("cart-v1"))
        remote.run_workloads("shop")
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
        snap, source = _linked_snapshot_of(kubeconfig, prometheus, "remote")
    assert source.clusters()[1] == ("remote-1", "remote", "the topology.istio.io/cluster label of istio-system")
    assert snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads if w.name == "cart-v1"} == {"east", "remote-1"}


def _linked_snapshot_of(kubeconfig: str, prometheus: PrometheusServer, other: str) -> tuple[Snapshot, ClusterSource]:
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[(other, "")])
    try:
        return source.snapshot(_request(prometheus)), source
    finally:
        source.close()


def test_without_linked_contexts_the_cluster_keeps_istios_default_name(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer) -> None:
    """A context alone is read as before: named Kubernetes, its istiod not asked for a name."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url)
    try:
        snap = source.snapshot(_request(prometheus))
    finally:
        source.close()
    assert source.clusters() == [("Kubernetes", "east", "")] and snap.inventory is not None
    assert {w.cluster for w in snap.inventory.workloads} == {"Kubernetes"}
    assert snap.inventory.unread_clusters == {} and "unread_clusters" not in snap.inventory.to_json()




# ------------------------------------------------------------------------------------------- settings

def test_a_contexts_mesh_clusters_are_saved_and_a_damaged_list_is_dropped_saying_so() -> None:
    import json

    from meshdesk.store.paths import settings_file
    from meshdesk.store.settings import load_settings

    settings = load_settings()
    cs = settings.context_settings("east")
    cs.mesh_contexts, cs.cluster_name = (("west", ""), ("remote", "remote-1")), "east-1"
    settings.set_context_settings("east", cs)
    settings.save()
    again = load_settings().context_settings("east")
    assert (again.mesh_contexts, again.cluster_name) == ((("west", ""), ("remote", "remote-1")), "east-1")
    doc = json.loads(settings_file().read_text())
    assert doc["contexts"]["east"]["mesh_contexts"] == [{"context": "west", "cluster": ""},
                                                        {"context": "remote", "cluster": "remote-1"}]
    # edited by hand into something else: dropped, saying so, and the context is read alone
    doc["contexts"]["east"]["mesh_contexts"] = ["west"]
    settings_file().write_text(json.dumps(doc))
    damaged = load_settings()
    assert damaged.context_settings("east").mesh_contexts == ()
    assert any("mesh_contexts entry 1 names no context" in w for w in damaged.warnings)


# ------------------------------------------------------------------------------------------ the command

def test_meshdesk_graph_reads_each_context_given_and_saves_every_clusters_inventory(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.commands.graph import main as graph_main
    from meshdesk.sources.snapshot import load_snapshot

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    saved = tmp_path / "mesh.json"
    common = ["--kubeconfig", kubeconfig, "--prometheus", prometheus.url, "-n", "shop", "--graph-type", "workload",
              "--include-idle-nodes", "--format", "json"]
    assert graph_main(["--context", "east", "--context", "west", *common, "--save-snapshot", str(saved)]) == 0
    out = capsys.readouterr()
    assert "could not be read" not in out.err
    snap = load_snapshot(saved)
    assert snap.inventory is not None
    assert {(w.cluster, w.name) for w in snap.inventory.workloads if w.namespace == "shop"} == {
        ("east", "web-v1"), ("east", "cart-v1"), ("west", "cart-v1"), ("west", "spare-v1")}
    # the graph printed has west's idle spare-v1, as a graph of the saved snapshot has
    assert "spare-v1" in out.out
    assert set(_by_cluster(build(snap), "spare-v1")) == {"west"}

    west.fail(503)  # its API server stops answering: said, and east's graph printed all the same
    assert graph_main(["--context", "east", "--context", "west", *common]) == 0
    out = capsys.readouterr()
    # (a run that never reached west's istiod names it as the telemetry does: the one cluster left)
    assert "cluster west of the mesh could not be read (context west: " in out.err
    assert "spare-v1" not in out.out
    assert "cart-v1" in out.out


def test_meshdesk_graph_with_the_first_context_down_graphs_the_others(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """East, the context graphed through, does not answer; west does: the graph of west's objects beside the
    telemetry is printed and east is said not read. (The run failed: east was checked before anything was read.)"""
    from meshdesk.commands.graph import main as graph_main

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    east.fail(503)
    assert graph_main(["--context", "east", "--context", "west", "--kubeconfig", kubeconfig, "--prometheus",
                       prometheus.url, "-n", "shop", "--graph-type", "workload", "--include-idle-nodes",
                       "--format", "json"]) == 0
    out = capsys.readouterr()
    assert "cluster kind-east of the mesh could not be read (context east: " in out.err
    assert "spare-v1" in out.out  # west's idle workload, from west's inventory
    west.fail(503)  # neither answers: the run fails as before
    assert graph_main(["--context", "east", "--context", "west", "--kubeconfig", kubeconfig, "--prometheus",
                       prometheus.url, "-n", "shop"]) != 0


# ------------------------------------------------------------------------------------------- the window

@pytest.fixture
def make_window(qtbot: Any) -> Iterator[Callable[..., Any]]:
    from meshdesk.ui.mainwindow import MainWindow
    from tests.ui_helpers import open_windows

    def new_window(**kw: Any) -> MainWindow:
        kw.setdefault("backoff_base", 0.05)
        kw.setdefault("backoff_cap", 0.2)
        return MainWindow(**kw)

    yield from open_windows(qtbot, new_window, all_threads=True)


def _workload_rows(perf: Any) -> dict[tuple[str, str], Any]:
    from meshdesk.ui.lists import WORKLOADS

    return {(row.cluster, row.name): row for row in perf.lists.pages[WORKLOADS].visible_rows()
            if row.namespace == "shop"}


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_the_window_reads_the_linked_contexts_and_says_which_cluster_is_down(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.perf_views import PerformanceViews
    from meshdesk.ui.settings_dialog import SettingsDialog

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    settings = load_settings()
    cs = settings.context_settings("east")
    cs.prometheus_url = prometheus.url
    settings.set_context_settings("east", cs)
    settings.save()
    w = make_window(contexts=["east", "west"], context="east", kubeconfig=kubeconfig, namespaces=["shop"])
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    qtbot.waitUntil(lambda: ("east", "cart-v1") not in _workload_rows(perf)
                    and ("", "cart-v1") in _workload_rows(perf), timeout=15000)

    # Settings: west is another cluster of east's mesh
    dialog = SettingsDialog(w, contexts=["east", "west"], current_context="east", settings=w.settings)
    qtbot.addWidget(dialog)
    dialog.settingsSaved.connect(w._on_settings_saved)  # as the Settings menu entry connects it
    form = dialog.form()
    assert [c for c, _box, _field in form.mesh_rows] == ["west"]
    form.mesh_rows[0][1].setChecked(True)
    with qtbot.waitSignal(dialog.settingsSaved):
        dialog.accept()
    assert load_settings().context_settings("east").mesh_contexts == (("west", ""),)

    # both clusters' workloads are listed, each with its cluster; west's cart-v1 has no ready pod
    qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "cart-v1"), ("west", "spare-v1")}
                    <= set(_workload_rows(perf)), timeout=15000)
    rows = _workload_rows(perf)
    assert rows[("west", "cart-v1")].pods.startswith("0/1") and rows[("east", "cart-v1")].pods.startswith("1/1")
    assert (rows[("west", "cart-v1")].health, rows[("east", "cart-v1")].health) == (model.FAILURE, model.HEALTHY)
    # and the graph's node of west's cart (its app box) is judged by west's pods
    carts = _by_cluster(w.graph, "cart-v1")
    assert carts["west"].extra["appHealth"].status == model.FAILURE
    assert carts["east"].extra["appHealth"].status == model.HEALTHY
    # the logs dock reads each cluster's pods: east's cart-v1's, then west's (through west's own context)
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([carts["east"].id])
    qtbot.waitUntil(lambda: perf.logs.workload is not None and perf.logs.workload.cluster == "east", timeout=5000)
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([carts["west"].id])
    qtbot.waitUntil(lambda: perf.logs.workload is not None and perf.logs.workload.cluster == "west", timeout=5000)
    # the names found are shown in Settings
    dialog = SettingsDialog(w, contexts=["east", "west"], current_context="east", settings=w.settings,
                            clusters_found={c: (n, how) for n, c, how in w.poller.source.clusters()})
    qtbot.addWidget(dialog)
    assert dialog.form().mesh_rows[0][2].placeholderText() == f"west (found: {FOUND_CLUSTER_ID})"
    assert dialog.form().cluster_name.placeholderText() == f"east (found: {FOUND_CLUSTER_ID})"
    dialog.reject()

    # west's API server stops answering (503): the banner names it, and east's workloads and judgement stay
    west.fail(503)
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: w.banner.isVisible() and "cluster west" in w.banner.note_text, timeout=15000)
    assert "context west" in w.banner.note_text
    rows = _workload_rows(perf)
    # (east's alone: its rows need not say their cluster)
    assert sorted(rows) == [("", "cart-v1"), ("", "web-v1")] and rows[("", "cart-v1")].health == model.HEALTHY
    assert _by_cluster(w.graph, "cart-v1")["east"].extra["appHealth"].status == model.HEALTHY


@pytest.mark.ui
def test_another_clusters_istio_config_is_changed_in_its_own_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        shared_dir: Path) -> None:
    """West's VirtualService, read beside east's, is reviewed against and written to west, through west's own
    context (it was not offered for editing: writes went to the context shown)."""
    from PySide6.QtCore import Qt

    from meshdesk.store.settings import Settings
    from meshdesk.ui.actions import ActionsController
    from meshdesk.ui.config_view import PENDING_TEXT, ConfigView
    from meshdesk.ui.dialogs.change_dialog import DONE, REVIEW
    from tests.kube_emulator import load_docs

    for emu in (east, west):
        for doc in load_docs(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml"):
            emu.add_crd(doc)
        emu.add({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                 "metadata": {"name": "cart", "namespace": "shop"},
                 "spec": {"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart"}}]}]}}, "shop")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")])
    try:
        inv = source.snapshot(_request(prometheus)).inventory
        assert inv is not None
        view = ConfigView()
        qtbot.addWidget(view)
        view.set_actions(ActionsController(source, Settings(tmp_path / "settings.json"), view))
        view.set_data(inv)
        buttons = (view.edit_button, view.delete_button)
        view.show_object(("VirtualService", "shop", "cart", "east"))
        view.show()
        qtbot.waitUntil(lambda: not any(PENDING_TEXT in b.toolTip() for b in buttons), timeout=10000)
        assert view.edit_button.isEnabled() and view.delete_button.isEnabled()
        # west's is west's to change: its RBAC asked of west (east forbids deletes, west does not)
        east.forbid(namespace="shop", resource="virtualservices", verb="delete")
        view.show_object(("VirtualService", "shop", "cart", "west"))
        qtbot.waitUntil(lambda: not any(PENDING_TEXT in b.toolTip() for b in buttons), timeout=10000)
        assert view.edit_button.isEnabled() and view.delete_button.isEnabled(), view.delete_button.toolTip()
        with qtbot.waitSignal(view.dialogOpened) as opened:
            qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
        dialog = opened.args[0]
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.page == REVIEW, timeout=10000)
        assert "in cluster west" in dialog.summary.text() and dialog.confirm_button.isEnabled(), dialog.verdict.text()
        with qtbot.waitSignal(dialog.applied, timeout=10000):
            qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        assert dialog.page == DONE
        # deleted in west; east's VirtualService of the same name stays
        assert [o["metadata"]["name"] for o in west.objects("virtualservices", "networking.istio.io", "shop")] == []
        assert [o["metadata"]["name"] for o in east.objects("virtualservices", "networking.istio.io", "shop")] == [
            "cart"]
    finally:
        source.close()


def _pod_of(emu: KubeEmulator, workload: str) -> str:
    return next(p["metadata"]["name"] for p in emu.objects("pods", "", "shop")
                if p["metadata"]["name"].startswith(f"{workload}-"))


def _linked_window(make_window: Callable[..., Any], kubeconfig: str, prometheus: PrometheusServer,
                   **context_settings: Any) -> tuple[Any, Any]:
    """East's window with west linked in Settings, and its docks."""
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.perf_views import PerformanceViews

    settings = load_settings()
    cs = settings.context_settings("east")
    cs.prometheus_url, cs.mesh_contexts = prometheus.url, (("west", ""),)
    for key, value in context_settings.items():
        setattr(cs, key, value)
    settings.set_context_settings("east", cs)
    settings.save()
    w = make_window(contexts=["east", "west"], context="east", kubeconfig=kubeconfig, namespaces=["shop"])
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    return w, perf


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_another_clusters_node_has_its_logs_envoy_config_and_traces_from_its_own_cluster(
        east: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """West's cart-v1 node: its pods' logs and proxy config are asked of west's API server (through west's
    own context), and its traces are west's proxies' spans; east's cart-v1 is read through east as before.
    (The docks declined west's node: its pods are not east's to read.)"""
    with KubeEmulator() as west:  # (its pods running, for logs to read)
        _cluster(west, "west", ["cart-v1"])
        _read_from_own_clusters(east, west, prometheus, tmp_path, qtbot, make_window)


def _read_from_own_clusters(east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
                            qtbot: Any, make_window: Callable[..., Any]) -> None:
    from tests.envoy_samples import sidecar_dump
    from tests.jaeger_emulator import JaegerEmulator, jaeger_span, jaeger_trace

    east_pod, west_pod = _pod_of(east, "cart-v1"), _pod_of(west, "cart-v1")
    east.add_pod_log("shop", east_pod, "app", ["east says hello"])
    west.add_pod_log("shop", west_pod, "app", ["west says hello"])
    asked = west.serve_envoy_admin("shop", west_pod, sidecar_dump())
    now_us = int(time.time() * 1_000_000)  # (the dock's window ends at the cluster's present)

    def trace(trace_id: str, cluster: str, pod: str) -> dict[str, Any]:
        return jaeger_trace(trace_id, [jaeger_span(
            f"{trace_id}1", "cart.shop", "cart.shop.svc.cluster.local:9080/*", now_us - 60_000_000, 2_000,
            node_id=f"sidecar~10.0.0.9~{pod}.shop~shop.svc.cluster.local", tags={"istio.cluster_id": cluster})])

    with JaegerEmulator([trace("e1", "east", east_pod), trace("a2", "west", west_pod)]) as jaeger:
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
        w, perf = _linked_window(make_window, kubeconfig, prometheus, tracing_url=jaeger.url)
        qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "cart-v1")} <= set(_workload_rows(perf)),
                        timeout=15000)
        for title in ("Logs", "Envoy", "Traces"):
            perf.docks[title].show()
        carts = _by_cluster(w.graph, "cart-v1")

        with qtbot.waitSignal(perf.logs.linesLoaded, timeout=10000):
            w.view.select([carts["west"].id])
        assert perf.logs.workload is not None and perf.logs.workload.cluster == "west"
        assert perf.logs.pod.currentText() == west_pod
        assert "west says hello" in perf.logs.text.toPlainText()
        qtbot.waitUntil(lambda: perf.envoy.config is not None, timeout=20000)
        assert any(p.startswith("/config_dump") for p in asked)  # west's proxy was read, through west
        # the one backend's traces of cart, narrowed to those west's proxies made
        qtbot.waitUntil(lambda: perf.traces.found is not None and bool(perf.traces.found.traces), timeout=20000)
        assert [t.trace_id for t in perf.traces.found.traces] == ["a2"]
        assert perf.traces.table.rowCount() == 1

        # east's cart-v1 is read through east again
        with qtbot.waitSignal(perf.logs.linesLoaded, timeout=10000):
            w.view.select([carts["east"].id])
        assert perf.logs.pod.currentText() == east_pod and "east says hello" in perf.logs.text.toPlainText()
        assert "west says hello" not in perf.logs.text.toPlainText()


def _restarted_at(emu: KubeEmulator, name: str) -> str:
    from meshdesk.mesh.changes import RESTARTED_AT

    dep = next(d for d in emu.objects("deployments", "apps", "shop") if d["metadata"]["name"] == name)
    return str((dep["spec"]["template"]["metadata"].get("annotations") or {}).get(RESTARTED_AT, ""))


@pytest.mark.ui
def test_another_clusters_node_is_changed_in_its_own_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any) -> None:
    """The Actions menu of west's cart-v1 node reviews, dry-runs and applies against west's API server (its
    RBAC asked there), the review naming the cluster; east's cart-v1 of the same name is left alone. (The
    menu had no action for it: changes went to the shown context only.)"""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    from meshdesk.store.settings import Settings
    from meshdesk.ui.actions import ActionsController
    from meshdesk.ui.dialogs.change_dialog import DONE, REVIEW
    from tests.ui_helpers import answered_menu

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")])
    parent = QWidget()
    qtbot.addWidget(parent)
    try:
        snap = source.snapshot(_request(prometheus))
        graph, inv = build(snap), snap.inventory
        ctl = ActionsController(source, Settings(tmp_path / "settings.json"), parent)
        east.forbid(namespace="shop", resource="deployments", verb="patch")  # each cluster answers its own RBAC
        carts = _by_cluster(graph, "cart-v1")
        menu = answered_menu(ctl, qtbot, carts["east"], graph, inv)
        restart = next(a for a in menu.actions() if a.objectName() == "restart")
        assert not restart.isEnabled() and "patch" in restart.toolTip()
        menu = answered_menu(ctl, qtbot, carts["west"], graph, inv)
        restart = next(a for a in menu.actions() if a.objectName() == "restart")
        assert restart.isEnabled(), restart.toolTip()
        with qtbot.waitSignal(ctl.dialogOpened) as opened:
            restart.trigger()
        dialog = opened.args[0]
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.reviewReady, timeout=10000):
            qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
        assert dialog.page == REVIEW and "in cluster west" in dialog.summary.text()
        assert dialog.confirm_button.isEnabled(), dialog.verdict.text()
        with qtbot.waitSignal(dialog.applied, timeout=10000):
            qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        assert dialog.page == DONE
        assert _restarted_at(west, "cart-v1") and not _restarted_at(east, "cart-v1")
    finally:
        source.close()


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_the_status_bar_names_the_clusters_read_and_which_clusters_istiod_is_down(
        east: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path) -> None:
    """West's istiod has no ready pod: the Istio status says it is west's (east's is up), and the status bar
    names both contexts and clusters; west stopping to answer is said there too. (The status bar named east
    alone, and the Istio status judged east's istiod only: all healthy.)"""
    from tests.kube_emulator import load_docs

    with KubeEmulator() as west:
        _cluster(west, "west", ["cart-v1"], istiod_ready=False)
        for emu in (east, west):  # (Istio is served: its status is judged)
            for doc in load_docs(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml"):
                emu.add_crd(doc)
        # east enforces mTLS mesh-wide, west does not
        east.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                  "metadata": {"name": "default", "namespace": "istio-system"}, "spec": {"mtls": {"mode": "STRICT"}}},
                 "istio-system")
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
        w, perf = _linked_window(make_window, kubeconfig, prometheus)
        qtbot.waitUntil(lambda: ("west", "cart-v1") in _workload_rows(perf), timeout=15000)
        qtbot.waitUntil(lambda: "Context: east + west · clusters east + west" in w.status_source.text(),
                        timeout=5000)
        assert w.status_istio.label.text() == "Istio: 1 component unhealthy in cluster west"
        tip = w.status_istio.toolTip()
        assert "istio-system/istiod (cluster west)" in tip and "istio-system/istiod (cluster east)" in tip
        assert [(c.cluster, c.state) for c in w.status_istio.status.components if c.core] == [
            ("east", "Healthy"), ("west", "Unhealthy")]
        # the mTLS lock says each cluster's where they differ (it judged the PeerAuthentications of both as one
        # mesh: east's STRICT policy was taken for west's too)
        assert w.status_mtls.text() == "mTLS: enabled in east, automatic in west"
        tip = w.status_mtls.toolTip()
        assert "Cluster east: Mesh-wide mTLS is enabled" in tip and "PeerAuthentication istio-system/default" in tip
        assert "Cluster west: Only automatic mTLS" in tip

        west.fail(503)
        w.poller.refresh_now()
        qtbot.waitUntil(lambda: "clusters east + west (not read)" in w.status_source.text(), timeout=15000)
        assert w.status_source.text().startswith("Context: east + west")


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_the_shown_context_down_keeps_the_linked_clusters_and_says_it(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """East's API server stops answering while west's answers (and the shared Prometheus): west's workloads
    stay listed and judged, and the banner and the status bar say east could not be read. (The whole
    refresh failed: the window kept the last graph and said the cluster was unreachable.)"""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "spare-v1")} <= set(_workload_rows(perf)), timeout=15000)
    east.fail(503)
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: w.banner.isVisible() and "cluster east" in w.banner.note_text, timeout=15000)
    assert "context east" in w.banner.note_text
    qtbot.waitUntil(lambda: "clusters east (not read) + west" in w.status_source.text(), timeout=5000)
    # west's rows stay (now the only ones read: they need not say their cluster), judged by west's pods
    rows = _workload_rows(perf)
    assert sorted(rows) == [("", "cart-v1"), ("", "spare-v1")] and rows[("", "cart-v1")].health == model.FAILURE
    carts = _by_cluster(w.graph, "cart-v1")
    assert set(carts) == {"east", "west"}  # (east's drawn from the telemetry)
    assert carts["west"].extra["appHealth"].status == model.FAILURE


@pytest.mark.ui
@pytest.mark.shared
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_the_shown_context_down_has_its_istio_components_not_known_in_the_status_bar(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path) -> None:
    """East (the context shown) stops answering while west answers: the status bar's Istio indicator says
    east's components are not known, and is not green. (It said "Istio: healthy", west's istiod being the
    only one judged, as if east's were up.)"""
    from meshdesk.mesh.istio_status import OK, UNKNOWN

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: w.status_istio.label.text() == "Istio: healthy", timeout=15000)
    assert w.status_istio.status.level == OK
    east.fail(503)
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: "clusters east (not read) + west" in w.status_source.text(), timeout=15000)
    qtbot.waitUntil(lambda: w.status_istio.label.text() == "Istio: not known in cluster east, healthy in cluster west",
                    timeout=5000)
    assert w.status_istio.status.level == UNKNOWN  # (grey, not green)
    assert "could not be read" in w.status_istio.toolTip()
    # east answering again: all healthy
    east.clear_faults()
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: w.status_istio.label.text() == "Istio: healthy", timeout=15000)


@pytest.mark.shared
def test_the_shown_context_down_keeps_the_linked_clusters_istiod(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        shared_dir: Path) -> None:
    """East (the context shown) stops answering while west answers: west's istiod is still drawn in the Mesh
    view and judged in the Istio status, east's said not known. (East's control planes not known made every
    cluster's not known: west's istiod was dropped and said to be unlisted.)"""
    from meshdesk.mesh.istio_status import HEALTHY, NOT_KNOWN, istio_status
    from meshdesk.mesh.mesh_map import GREEN, GREY, ISTIOD, build_mesh_map

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")])
    try:
        source.snapshot(_request(prometheus))  # (east read once: its cluster's name known)
        east.fail(503)
        inv = source.snapshot(_request(prometheus)).inventory
    finally:
        source.close()
    assert inv is not None and list(inv.unread_clusters) == ["east"]
    assert inv.planes_of("east") is None and [p.cluster for p in inv.planes_of("west") or ()] == ["west"]
    status = istio_status(inv)
    assert status is not None
    assert [(c.cluster, c.state) for c in status.components if c.core] == [("east", NOT_KNOWN), ("west", HEALTHY)]
    # the Mesh view: east's box says it was not read (grey), west's istiod is drawn, green
    assert [(n.cluster, n.subtitle.startswith("cluster not read"), n.health)
            for n in build_mesh_map(inv).of_kind(ISTIOD)] == [("east", True, GREY), ("west", False, GREEN)]


@pytest.mark.shared
def test_a_linked_cluster_whose_istiod_pods_cannot_be_listed_has_its_istiod_not_known(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        shared_dir: Path) -> None:
    """West's RBAC refuses listing its istio-system's pods: west's istiod is not known (no trouble), not a
    missing one. (It read as "no istiod pod runs", and the status bar said 1 component unhealthy in west.)"""
    from meshdesk.mesh.istio_status import HEALTHY, NOT_KNOWN, istio_status
    from meshdesk.mesh.mesh_map import GREEN, ISTIOD, RED, build_mesh_map

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    west.forbid(namespace="istio-system", resource="pods", verb="list")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    inv = snap.inventory
    assert inv is not None and inv.unread_clusters == {}
    assert inv.planes_of("west") is None and [p.namespace for p in inv.planes_of("east") or ()] == ["istio-system"]
    status = istio_status(inv)
    assert status is not None and status.label == "healthy"
    assert [(c.cluster, c.state) for c in status.components if c.core] == [("east", HEALTHY), ("west", NOT_KNOWN)]
    assert RED not in [n.health for n in build_mesh_map(inv).of_kind(ISTIOD)]
    assert [n.health for n in build_mesh_map(inv).of_kind(ISTIOD) if n.cluster == "east"] == [GREEN]
    # and so in a snapshot
    again = Snapshot.from_json(snap.to_json()).inventory
    assert again is not None and again.planes_of("west") is None and again.planes_of("east") == inv.planes_of("east")


@pytest.mark.shared
def test_each_clusters_control_plane_is_kept_drawn_in_its_box_and_judged_by_name(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        shared_dir: Path) -> None:
    """Multi-primary: west's istiod was lost in the merged inventory (east's alone were kept), so the Mesh
    view drew west's namespace with no control plane and the Istio status listed east's istiod only."""
    from meshdesk.mesh.istio_status import HEALTHY, NOT_FOUND, UNHEALTHY, istio_status
    from meshdesk.mesh.mesh_map import GREEN, ISTIOD, ORANGE, build_mesh_map

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    west.add_namespace("istio-ingress")
    west.add(_deployment("istio-ingressgateway", "istio-ingress",
                         {"app": "istio-ingressgateway", "istio": "ingressgateway",
                          "operator.istio.io/component": "IngressGateways"}))
    west.run_workloads("istio-ingress", ready=False)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    inv = snap.inventory
    assert inv is not None
    assert sorted((p.cluster or inv.cluster, p.namespace) for p in inv.control_planes or ()) == [
        ("east", "istio-system"), ("west", "istio-system")]

    mesh = build_mesh_map(inv)
    planes = {n.cluster: n for n in mesh.of_kind(ISTIOD)}
    assert set(planes) == {"east", "west"} and all(p.health == GREEN for p in planes.values())
    # each istiod takes its own cluster's shop, and west's gateway
    assert {(t.cluster, t.name) for t in mesh.targets(planes["west"].id)} == {
        ("west", "shop"), ("west", "istio-ingressgateway")}
    assert {(t.cluster, t.name) for t in mesh.targets(planes["east"].id)} == {("east", "shop")}
    assert mesh.nodes["gateway:west:istio-ingress:istio-ingressgateway"].health == ORANGE
    text = "\n".join(mesh.lines())
    assert "Cluster west\n  istiod" in text

    # the Istio status: each cluster's istiod and gateways, each naming its cluster
    status = istio_status(inv)
    assert status is not None
    rows = {c.title: c.state for c in status.components}
    assert rows["istio-system/istiod (cluster east)"] == HEALTHY
    assert rows["istio-system/istiod (cluster west)"] == HEALTHY
    assert rows["istio-ingress/istio-ingressgateway (cluster west)"] == UNHEALTHY
    assert rows["istio-ingressgateway (cluster east)"] == NOT_FOUND  # (said, optional)
    # (one row for the clusters without one, rather than a row each)
    assert rows["istio-egressgateway (clusters east, west)"] == NOT_FOUND
    assert [c.title for c in status.trouble] == ["istio-ingress/istio-ingressgateway (cluster west)"]

    # the namespace summary's "Control plane" is the shown cluster's: west's istiod is not east's second
    # revision, nor is a namespace of west judged by east's istiods
    from meshdesk.mesh.words import control_plane_rows, namespace_revision_rows

    assert [name for name, _text, _bad in control_plane_rows(inv) if name.startswith("istiod")] == ["istiod"]
    assert not any("no istiod of it runs" in text for _n, text, _b in namespace_revision_rows(inv, "shop"))

    # a snapshot keeps both; one written before clusters were kept (no "cluster") reads as before
    again = Snapshot.from_json(snap.to_json()).inventory
    assert again is not None and again.planes_of("west") and again.planes_of("east")
    old = snap.to_json()
    for p in old["inventory"]["control_planes"]:
        p.pop("cluster", None)
    older = Snapshot.from_json(old).inventory
    assert older is not None and older.planes_of("west") == [] and len(older.planes_of("east") or ()) == 2
    # one written while the other clusters' istiods were kept apart (cluster -> its istiods) reads the same
    apart = snap.to_json()
    planes = apart["inventory"]["control_planes"]
    apart["inventory"]["control_planes"] = [p for p in planes if p.get("cluster") != "west"]
    apart["inventory"]["linked_control_planes"] = {"west": [
        {k: v for k, v in p.items() if k != "cluster"} for p in planes if p.get("cluster") == "west"]}
    read = Snapshot.from_json(apart).inventory
    assert read is not None and read.control_planes == inv.control_planes
    assert [p.cluster for p in read.planes_of("west") or ()] == ["west"]

    # `meshdesk mesh --snapshot` of it: each cluster with its own istiod
    import io
    import json

    from meshdesk.commands.mesh import main

    saved = tmp_path / "two-clusters.json"
    saved.write_text(json.dumps(snap.to_json()))
    printed = io.StringIO()
    assert main(["--snapshot", str(saved)], stdout=printed) == 0
    text = printed.getvalue()
    assert "Cluster west\n  istiod  1 · revision default  Healthy\n    -> namespace shop" in text


def _remote(emu: KubeEmulator, managed_by: str | None) -> None:
    """A primary-remote mesh's remote cluster: no istiod, its istio-system labelled with its name (and
    annotated with its primaries' as Istio's install guide does), shop in the mesh."""
    ns = emu.add_namespace("istio-system", {"topology.istio.io/cluster": "remote-1"})
    if managed_by is not None:
        ns["metadata"]["annotations"] = {"topology.istio.io/controlPlaneClusters": managed_by}
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_app("cart-v1"))
    emu.run_workloads("shop")


@pytest.mark.shared
@pytest.mark.parametrize("managed_by", ["east", "*"])
def test_a_remote_clusters_namespaces_are_drawn_under_its_primarys_istiod(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer, managed_by: str, shared_dir: Path) -> None:
    from meshdesk.mesh.istio_status import istio_status
    from meshdesk.mesh.mesh_map import GREEN, ISTIOD, NAMESPACE, build_mesh_map

    east.load_crds(shared_dir / CRDS)
    with KubeEmulator() as remote:
        remote.load_crds(shared_dir / CRDS)
        _remote(remote, managed_by)
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
        snap, _source = _linked_snapshot_of(kubeconfig, prometheus, "remote")
    inv = snap.inventory
    assert inv is not None
    mesh = build_mesh_map(inv)
    # the remote runs no istiod: no control plane of its own is drawn, not even a red "not found"
    assert [(n.cluster, n.name) for n in mesh.of_kind(ISTIOD)] == [("east", "istiod")]
    istiod = mesh.of_kind(ISTIOD)[0]
    shop = mesh.nodes["namespace:remote-1:shop"]
    assert shop.kind == NAMESPACE and shop.health == GREEN
    # an edge across the clusters, from east's istiod to the remote's namespace
    assert {(t.cluster, t.name) for t in mesh.targets(istiod.id)} == {("east", "shop"), ("remote-1", "shop")}
    assert "in cluster east (primary-remote)" in dict(shop.rows)["Control plane"]
    assert "remote-1" in dict(istiod.rows)["Manages"]
    # the namespace summary's control plane of the remote: its primary's istiod, not "none running"
    from meshdesk.mesh.words import control_plane_rows_by_cluster

    planes = dict(control_plane_rows_by_cluster(inv))
    assert planes["remote-1"][0] == ("istiod", "none of its own: the istiod of cluster east manages it "
                                     "(primary-remote)", False)
    assert planes["east"][0][:1] == ("istiod",) and planes["east"][0][2] is False
    # nor is a missing istiod in the remote a core trouble of the Istio status
    status = istio_status(inv)
    assert status is not None and status.level == "ok"
    assert [c.title for c in status.components if c.core] == ["istio-system/istiod (cluster east)"]
    # it stays so in a snapshot
    again = Snapshot.from_json(snap.to_json()).inventory
    assert again is not None and again.managing_clusters("remote-1") == ["east"]


@pytest.mark.shared
def test_a_remote_cluster_no_istiod_is_said_to_manage_has_none(
        east: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer, shared_dir: Path) -> None:
    from meshdesk.mesh.istio_status import NOT_FOUND, istio_status
    from meshdesk.mesh.mesh_map import ORANGE, RED, build_mesh_map

    east.load_crds(shared_dir / CRDS)
    with KubeEmulator() as remote:
        remote.load_crds(shared_dir / CRDS)
        _remote(remote, None)
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
        snap, _source = _linked_snapshot_of(kubeconfig, prometheus, "remote")
    assert snap.inventory is not None
    mesh = build_mesh_map(snap.inventory)
    assert mesh.nodes["istiod:remote-1:?"].health == RED
    assert mesh.nodes["namespace:remote-1:shop"].health == ORANGE
    status = istio_status(snap.inventory)
    assert status is not None and status.level == "danger"
    assert {c.title: c.state for c in status.components if c.core}["istiod (cluster remote-1)"] == NOT_FOUND


@pytest.mark.ui
@pytest.mark.shared
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$",
                           r"^This plugin does not support raise\(\)$")
def test_the_window_draws_each_linked_clusters_istiod_and_the_status_names_them(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        shared_dir: Path, make_window: Callable[..., Any]) -> None:
    """Two contexts linked in Settings: the Mesh view draws each cluster's istiod in its own box (west's
    was lost, its namespace drawn without a control plane), and the status bar's Istio status lists each
    cluster's istiod by name."""
    from PySide6.QtWidgets import QToolTip

    from meshdesk.mesh.mesh_map import GREEN, ISTIOD, NAMESPACE
    from meshdesk.store.settings import load_settings

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    settings = load_settings()
    cs = settings.context_settings("east")
    cs.prometheus_url = prometheus.url
    cs.mesh_contexts = (("west", ""),)
    settings.set_context_settings("east", cs)
    settings.save()
    w = make_window(contexts=["east", "west"], context="east", kubeconfig=kubeconfig, namespaces=["shop"])
    w.mesh_action.trigger()
    canvas = w.mesh_dock.view.canvas

    def planes() -> dict[str, Any]:
        return {i.node.cluster: i for i in canvas.items_by_id.values() if i.node.kind == ISTIOD}

    qtbot.waitUntil(lambda: w.mesh_dock.isVisible() and set(planes()) == {"east", "west"}, timeout=20000)
    assert all(i.node.health == GREEN for i in planes().values())
    assert "2 clusters: 2 control planes, 2 data-plane namespaces" in w.mesh_dock.view.details.toPlainText()
    # each istiod inside its own cluster's box, with an edge to its own cluster's shop
    for cluster, item in planes().items():
        assert canvas.box_items[cluster].sceneBoundingRect().contains(item.scenePos())
        [(_s, target, _line)] = [e for e in canvas.edge_items if e[0] == item.node.id]
        shop = canvas.items_by_id[target]
        assert (shop.node.kind, shop.node.cluster, shop.node.name) == (NAMESPACE, cluster, "shop")
        assert canvas.box_items[cluster].sceneBoundingRect().contains(shop.scenePos())

    # the status bar: both istiods, each naming its cluster
    qtbot.waitUntil(lambda: w.status_istio.isVisible() and w.status_istio.status is not None, timeout=5000)
    tip = w.status_istio.toolTip()
    assert "istio-system/istiod (cluster east)" in tip and "istio-system/istiod (cluster west)" in tip
    assert w.status_istio.label.text() == "Istio: healthy"
    QToolTip.hideText()


@pytest.mark.ui
@pytest.mark.shared
def test_a_remotes_edge_goes_round_the_clusters_between_and_its_text_names_it_once(
        east: KubeEmulator, west: KubeEmulator, tmp_path: Path, prometheus: PrometheusServer, shared_dir: Path,
        qtbot: Any) -> None:
    """east manages remote-1, drawn below west: the edge from east's istiod went straight down through
    west's nodes, and ``meshdesk mesh`` listed remote-1's shop under east's istiod as if it were east's."""
    from PySide6.QtGui import QPainterPathStroker

    from meshdesk.mesh.istio_status import HEALTHY, addon
    from meshdesk.mesh.mesh_map import build_mesh_map
    from meshdesk.ui.mesh_view import MeshCanvas

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    with KubeEmulator() as remote:
        remote.load_crds(shared_dir / CRDS)
        _remote(remote, "east")
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west, remote=remote)
        source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", ""), ("remote", "")])
        try:
            snap = source.snapshot(_request(prometheus))
        finally:
            source.close()
    assert snap.inventory is not None
    # (with the addons meshdesk reads, drawn in east's box: its istiod stands in the column of west's shop)
    mesh = build_mesh_map(snap.inventory, addons=[addon("Prometheus", HEALTHY, prometheus.url)])
    text = mesh.lines()
    east_part = text[:text.index("Cluster west")]
    assert sum("namespace shop" in line for line in east_part) == 1
    assert "  istiod (cluster east) -> namespace shop  revision default" in text

    canvas = MeshCanvas()
    qtbot.addWidget(canvas)
    canvas.show_map(mesh)
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    [cross] = [e for e in canvas.edge_items if e[1] == "namespace:remote-1:shop"]
    drawn = stroker.createStroke(cross[2].path())
    for node_id, item in canvas.items_by_id.items():
        if node_id not in cross[:2]:
            assert not drawn.intersects(item.mapToScene(item.shape())), f"the edge to remote-1 crosses {node_id}"


@pytest.mark.shared
def test_a_linked_cluster_that_is_down_has_its_box_saying_it_was_not_read(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, shared_dir: Path) -> None:
    """west stopped answering: the Mesh view drew east alone, as if the mesh had one cluster."""
    from meshdesk.mesh.istio_status import NOT_KNOWN, istio_status
    from meshdesk.mesh.mesh_map import GREY, ISTIOD, build_mesh_map

    east.load_crds(shared_dir / CRDS)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    west.stop()
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    assert snap.inventory is not None
    mesh = build_mesh_map(snap.inventory)
    assert {n.name for n in mesh.of_kind("cluster")} == {"east", "west"}
    lost = {n.cluster: n for n in mesh.of_kind(ISTIOD)}["west"]
    assert lost.health == GREY and lost.subtitle == "cluster not read"
    assert "context west" in dict(lost.rows)["Why"]
    # the status: west's not known, said (not green: west may be in any state), east's healthy
    status = istio_status(snap.inventory)
    assert status is not None and status.level == "unknown"
    assert status.label == "not known in cluster west, healthy in cluster east"
    assert {c.title: c.state for c in status.components if c.core}["istiod (cluster west)"] == NOT_KNOWN


def _service(emu: KubeEmulator, name: str) -> None:
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"},
             "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 9080}]}}, "shop")


@pytest.mark.ui
def test_the_shown_clusters_node_acts_on_its_own_clusters_objects_only(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        shared_dir: Path) -> None:
    """Routing meshdesk made for cart exists in west only. East's cart-v1 node offered "Delete traffic
    routing" all the same (its form saw west's VirtualService and DestinationRule of the same name, and would
    have deleted them from east, where they are not); it now has nothing to delete, while west's node does."""
    from PySide6.QtWidgets import QWidget

    from meshdesk.mesh.routing import MANAGED_LABEL, MANAGED_VALUE
    from meshdesk.store.settings import Settings
    from meshdesk.ui.actions import ActionsController
    from tests.kube_emulator import load_docs
    from tests.ui_helpers import answered_menu

    for emu in (east, west):
        for doc in load_docs(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml"):
            emu.add_crd(doc)
        _service(emu, "cart")
    labels = {MANAGED_LABEL: MANAGED_VALUE}
    west.add({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
              "metadata": {"name": "cart", "namespace": "shop", "labels": labels},
              "spec": {"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart", "subset": "v1"}}]}]}},
             "shop")
    west.add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
              "metadata": {"name": "cart", "namespace": "shop", "labels": labels},
              "spec": {"host": "cart", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}}, "shop")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")])
    parent = QWidget()
    qtbot.addWidget(parent)
    try:
        snap = source.snapshot(_request(prometheus))
        graph, inv = build(snap), snap.inventory
        ctl = ActionsController(source, Settings(tmp_path / "settings.json"), parent)
        carts = _by_cluster(graph, "cart-v1")

        def delete_routing(cluster: str) -> Any:
            menu = answered_menu(ctl, qtbot, carts[cluster], graph, inv)
            return next(a for a in menu.actions() if a.objectName() == "delete-routing")

        east_delete = delete_routing("east")
        assert not east_delete.isEnabled(), east_delete.toolTip()
        assert "created no traffic routing" in east_delete.toolTip()
        assert delete_routing("west").isEnabled()
    finally:
        source.close()


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_a_shown_context_down_at_the_start_opens_with_the_linked_clusters_and_is_retried(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """East's API server does not answer when the window opens (no namespace chosen), west's does: west's
    namespaces are offered and its workloads listed, the banner says east could not be read, and once east
    answers again a refresh shows its workloads too. (Opening east failed whole: the window showed nothing
    but the unreachable cluster, west's answers unused.)"""
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.perf_views import PerformanceViews

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    settings = load_settings()
    cs = settings.context_settings("east")
    cs.prometheus_url, cs.mesh_contexts = prometheus.url, (("west", ""),)
    settings.set_context_settings("east", cs)
    settings.save()
    east.fail(503)
    w = make_window(contexts=["east", "west"], context="east", kubeconfig=kubeconfig)
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    # (east's Istio name is not known yet: it is said by its context and the kubeconfig's name of its cluster)
    qtbot.waitUntil(lambda: w.banner.isVisible() and "context east" in w.banner.note_text, timeout=15000)
    assert "cluster kind-east" in w.banner.note_text, w.banner.note_text
    # the namespaces are west's list (in the mesh: shop), and west's workloads are shown
    qtbot.waitUntil(lambda: ("", "spare-v1") in _workload_rows(perf), timeout=15000)
    assert w.toolbar.selected_namespaces() == ["shop"]
    assert set(_by_cluster(w.graph, "cart-v1")) == {"east", "west"}
    # the Actions menu with nothing selected offers no change of east's namespaces made of west's objects (they
    # would be written to east, judged by what west holds); west's node has its own cluster's
    from tests.ui_helpers import answered_menu

    ctl = w.actions_controller = install_actions(w)
    menu = answered_menu(ctl, qtbot, None, w.graph, w.inventory)
    assert not any(a.objectName() == "injection" for a in menu.actions())
    menu = answered_menu(ctl, qtbot, _by_cluster(w.graph, "cart-v1")["west"], w.graph, w.inventory)
    assert any(a.objectName() == "restart" and a.isEnabled() for a in menu.actions())

    east.clear_faults()  # east answers again: read at the next refresh
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: ("east", "cart-v1") in _workload_rows(perf), timeout=15000)
    assert ("west", "spare-v1") in _workload_rows(perf)
    qtbot.waitUntil(lambda: not w.banner.isVisible() or "context east" not in w.banner.note_text, timeout=5000)


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_the_details_panel_and_the_node_graph_name_the_selections_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """Two cart-v1 nodes, east's and west's: the details panel said "workload" of both, nothing telling them
    apart but their pods. It names the cluster of a node, of an edge's ends and of a namespace's box, and the
    node graph of west's cart-v1 says it is west's (its panel too)."""
    from meshdesk.ui.nodegraph import focus_for

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "cart-v1")} <= set(_workload_rows(perf)), timeout=15000)
    carts = _by_cluster(w.graph, "cart-v1")
    for cluster in ("east", "west"):
        w.view.select([carts[cluster].id])
        qtbot.waitUntil(lambda c=cluster: w.panel.subtitle.text().endswith(f"cluster {c}"), timeout=5000)
    edge = next(e for e in w.graph.edges.values()
                if w.graph.nodes[e.source].cluster == "east" and w.graph.nodes[e.target].cluster == "west")
    w.view.select([edge.id])
    qtbot.waitUntil(lambda: w.panel.subtitle.text().endswith("cluster east → cluster west"), timeout=5000)
    box = next(n for n in w.graph.nodes.values() if n.node_type == model.NODE_BOX and n.box == model.BOX_NAMESPACE
               and n.cluster == "west")
    w.view.select([box.id])
    qtbot.waitUntil(lambda: w.panel.subtitle.text().endswith("cluster west"), timeout=5000)

    # west's cart-v1's node graph
    focus = focus_for(carts["west"], w.toolbar.choices.graph_type, w.graph)
    assert focus is not None
    with qtbot.waitSignal(w.poller.graphReady, timeout=15000):
        w.set_focus(focus)
    assert "of app shop/cart v1 in west" in w.focus_bar.label.text()
    qtbot.waitUntil(lambda: w.graph is not None and w.graph.request.node is not None, timeout=15000)
    node = next(n for n in w.graph.nodes.values() if n.workload == "cart-v1" and n.node_type != model.NODE_BOX)
    w.view.select([node.id])
    qtbot.waitUntil(lambda: w.panel.subtitle.text().endswith("cluster west"), timeout=5000)


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_each_clusters_automatic_mtls_is_its_own_mesh_configs(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path) -> None:
    """West's mesh config turns automatic mTLS off (enableAutoMtls: false), east's leaves it on, and no
    PeerAuthentication enforces mTLS: the lock said "mTLS: automatic" of both, west weighed by east's mesh
    config; it now says west's clients send plain text unless told otherwise."""
    from tests.kube_emulator import load_docs

    for emu in (east, west):
        for doc in load_docs(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml"):
            emu.add_crd(doc)
    west.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
              "data": {"mesh": "enableAutoMtls: false\n"}}, "istio-system")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: ("west", "cart-v1") in _workload_rows(perf), timeout=15000)
    qtbot.waitUntil(lambda: w.status_mtls.text() == "mTLS: automatic in east, not enabled in west", timeout=5000)
    tip = w.status_mtls.toolTip()
    assert "Cluster west" in tip and "automatic mTLS off (enableAutoMtls: false)" in tip.split("Cluster west")[1]
    assert "automatic mTLS off" not in tip.split("Cluster west")[0]
    # a snapshot saved from it keeps each cluster's mesh config: opened again, its lock says the same
    from meshdesk.mesh.inventory import Inventory
    from meshdesk.mesh.tls_status import mesh_tls_by_cluster

    assert w.inventory is not None
    again = Inventory.from_json(w.inventory.to_json())
    assert [(c, t.label) for c, t in mesh_tls_by_cluster(again)] == [("east", "automatic"), ("west", "not enabled")]

    # east stops answering: west's status is said as west's (it was weighed by a default mesh config, east's
    # unread one, and said "mTLS: automatic")
    east.fail(503)
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: "east (not read)" in w.status_source.text(), timeout=15000)
    assert w.status_mtls.text() == "mTLS: not enabled in west", w.status_mtls.text()
    assert "not read" in w.status_mtls.toolTip().split("Cluster east")[1]


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)\(?\)?$")
def test_a_namespace_rows_changes_are_asked_of_the_rows_own_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """The Namespaces list has a shop row per cluster; east forbids patching namespaces, west allows it. West's
    row's menu offered east's changes to shop (east's RBAC asked, east's namespace changed); each row's are now
    its own cluster's, and the review of west's says so."""
    from PySide6.QtCore import Qt

    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.dialogs.change_dialog import REVIEW
    from meshdesk.ui.lists import NAMESPACES

    east.forbid(resource="namespaces", verb="patch")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    ctl = w.actions_controller = install_actions(w)
    qtbot.waitUntil(lambda: ("west", "spare-v1") in _workload_rows(perf), timeout=15000)
    qtbot.waitUntil(lambda: {(r.cluster, r.name) for r in perf.lists.pages[NAMESPACES].visible_rows()}
                    >= {("east", "shop"), ("west", "shop")}, timeout=15000)
    rows = {r.cluster: r for r in perf.lists.pages[NAMESPACES].visible_rows() if r.name == "shop"}

    def injection(cluster: str) -> Any:
        menu = perf.lists.namespace_menu_of(rows[cluster])
        qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()), timeout=10000)
        return next(a for a in menu.actions() if a.objectName() == "injection")

    east_action = injection("east")
    assert not east_action.isEnabled() and "patch" in east_action.toolTip()
    west_action = injection("west")
    assert west_action.isEnabled(), west_action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        west_action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.reviewReady, timeout=10000):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.page == REVIEW and "in cluster west" in dialog.summary.text(), dialog.summary.text()
    dialog.reject()


def test_a_cluster_not_read_is_named_beside_another_clusters_trouble() -> None:
    """East not read and west's istiod down: the status bar says both (it said west's trouble alone)."""
    from meshdesk.mesh.istio_status import DANGER, NOT_KNOWN, UNHEALTHY, ComponentStatus, IstioStatus

    status = IstioStatus((ComponentStatus("istiod", NOT_KNOWN, core=True, cluster="east", unread=True),
                          ComponentStatus("istiod", UNHEALTHY, core=True, cluster="west")))
    assert status.label == "1 component unhealthy in cluster west, not known in cluster east"
    assert status.level == DANGER
    # istiod's pods alone not listed (the cluster read): no word of it, as before
    listed = IstioStatus((ComponentStatus("istiod", NOT_KNOWN, core=True, cluster="east"),
                          ComponentStatus("istiod", "Healthy", core=True, cluster="west")))
    assert listed.label == "healthy" and listed.level == "ok"


def _names(emu: KubeEmulator, plural: str, group: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in emu.objects(plural, group, "shop"))


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)\(?\)?$")
def test_another_clusters_namespace_takes_its_injection_and_traffic_policies_in_its_own_api_server(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path) -> None:
    """West's shop row in the Namespaces list: disabling its injection, and creating, updating and deleting its
    traffic policies, write to west's API server alone (east's shop keeps its label and gets no policy), and
    its menu reads west's objects (Update once made in west, east's row still Create)."""
    from PySide6.QtCore import Qt

    from meshdesk.mesh.traffic_policies import deny_all_name
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.dialogs.change_dialog import DONE, REVIEW
    from meshdesk.ui.lists import NAMESPACES
    from tests.kube_emulator import load_docs

    for emu in (east, west):
        for doc in load_docs(shared_dir / CRDS):
            emu.add_crd(doc)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    ctl = w.actions_controller = install_actions(w)
    qtbot.waitUntil(lambda: ("west", "spare-v1") in _workload_rows(perf), timeout=15000)

    def rows() -> dict[str, Any]:
        return {r.cluster: r for r in perf.lists.pages[NAMESPACES].visible_rows() if r.name == "shop"}

    qtbot.waitUntil(lambda: {"east", "west"} <= set(rows()), timeout=15000)

    def entry(cluster: str, key: str) -> Any:
        menu = perf.lists.namespace_menu_of(rows()[cluster])
        qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()), timeout=10000)
        return next(a for a in menu.actions() if a.objectName() == key)

    def apply(cluster: str, key: str) -> Any:
        action = entry(cluster, key)
        assert action.isEnabled(), action.toolTip()
        with qtbot.waitSignal(ctl.dialogOpened) as opened:
            action.trigger()
        dialog = opened.args[0]
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.reviewReady, timeout=10000):
            qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
        assert dialog.page == REVIEW and f"in cluster {cluster}" in dialog.summary.text(), dialog.summary.text()
        assert dialog.confirm_button.isEnabled(), dialog.verdict.text()
        with qtbot.waitSignal(dialog.applied, timeout=10000):
            qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        assert dialog.page == DONE
        return dialog

    def labels(emu: KubeEmulator) -> dict[str, str]:
        ns = next(n for n in emu.objects("namespaces") if n["metadata"]["name"] == "shop")
        return dict(ns["metadata"].get("labels") or {})

    # injection: west's shop is switched off, east's stays on
    assert entry("west", "injection").text().startswith("Disable")
    apply("west", "injection")
    assert labels(west).get("istio-injection") == "disabled"
    assert labels(east).get("istio-injection") == "enabled"

    # traffic policies: created in west, from west's part of the graph (cart-v1, called by east's web-v1)
    policies = "authorizationpolicies", "security.istio.io"
    sidecars = "sidecars", "networking.istio.io"
    dialog = apply("west", "traffic-policies")
    assert deny_all_name("shop") in _names(west, *policies) and "cart-v1" in _names(west, *policies)
    assert "web-v1" not in _names(west, *policies) + _names(west, *sidecars)  # (east's workload, not west's)
    assert _names(east, *policies) == [] and _names(east, *sidecars) == []
    # the next refresh reads them: west's row offers to update them, east's still to create its own
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: entry("west", "traffic-policies").text().startswith("Update"), timeout=15000)
    assert entry("east", "traffic-policies").text().startswith("Create")
    assert entry("west", "delete-traffic-policies").isEnabled()
    assert not entry("east", "delete-traffic-policies").isEnabled()
    # an update is reviewed against west's objects: the graph asks for what west has already
    action = entry("west", "traffic-policies")
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    update = opened.args[0]  # (rejected below, it deletes itself: not handed to qtbot to close)
    with qtbot.waitSignal(update.reviewReady, timeout=10000):
        qtbot.mouseClick(update.review_button, Qt.MouseButton.LeftButton)
    assert "as the graph asks already" in update.verdict.text() and not update.confirm_button.isEnabled()
    update.reject()

    # and deleted from west alone
    apply("west", "delete-traffic-policies")
    assert _names(west, *policies) == [] and _names(west, *sidecars) == []
    assert dialog is not None


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_a_linked_cluster_refusing_every_read_is_named_as_not_read(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """West's API server answers 403 to everything (its token lost its RBAC): the window named no cluster, only
    "Not everything could be read: Istio gateways (cluster-wide)..." as if east's were hidden, and the Istio
    status stayed "healthy"; west is now said not read, forbidden, as a cluster that is down, and east's stay."""
    from meshdesk.commands.graph import main as graph_main

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: ("west", "spare-v1") in _workload_rows(perf), timeout=15000)
    assert w.status_istio.label.text() == "Istio: healthy"

    west.forbid()
    w.poller.refresh_now()
    qtbot.waitUntil(lambda: w.banner.isVisible() and "cluster west" in w.banner.note_text, timeout=15000)
    assert "context west: forbidden" in w.banner.note_text, w.banner.note_text
    assert "Istio gateways" not in w.banner.note_text  # (west's refusals are not said as east's)
    assert "clusters east + west (not read)" in w.status_source.text()
    assert w.status_istio.label.text() == "Istio: not known in cluster west, healthy in cluster east"
    rows = _workload_rows(perf)
    assert sorted(rows) == [("", "cart-v1"), ("", "web-v1")] and rows[("", "cart-v1")].health == model.HEALTHY

    # the command line says it too, naming the cluster (the kubeconfig's name: west's istiod was never asked)
    assert graph_main(["--context", "east", "--context", "west", "--kubeconfig", kubeconfig, "--prometheus",
                       prometheus.url, "-n", "shop", "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert "cluster kind-west of the mesh could not be read (context west: forbidden" in err, err
    assert "hidden: shop/pods" not in err


def test_the_shown_context_refusing_every_read_is_named_as_not_read_beside_the_linked_ones(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path) -> None:
    """East, the context shown, answers 403 to everything while west answers: east is said not read, forbidden,
    and west's workloads judge west's nodes (east's refusals were listed as the mesh's hidden objects, and
    east's istiod "not known" was said of no cluster)."""
    from meshdesk.mesh.istio_status import istio_status

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    _linked_snapshot(kubeconfig, prometheus)  # (east's and west's names are asked of their istiods)
    east.forbid()
    source = open_source(kubeconfig, "east", prometheus_url=prometheus.url, linked=[("west", "")])
    try:
        source.snapshot(_request(prometheus))  # (the names found are kept by the source)
        east_ok = source.clusters()[0][0]
        inv = source.snapshot(_request(prometheus)).inventory
    finally:
        source.close()
    assert inv is not None
    assert list(inv.unread_clusters) == [east_ok]
    assert inv.unread_clusters[east_ok].startswith("context east: forbidden"), inv.unread_clusters
    assert not any(k.startswith("shop/") for k in inv.hidden), inv.hidden
    assert {(w.cluster, w.name) for w in inv.workloads if w.namespace == "shop"} == {("west", "cart-v1"),
                                                                                    ("west", "spare-v1")}
    status = istio_status(inv)
    assert status is not None and f"not known in cluster {east_ok}" in status.label


def test_meshdesk_graphs_table_names_each_rows_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--format table`` over two clusters printed "shop/cart (service) -> shop/cart-v1 (workload)" twice, the
    same words for east's and for west's edge; each end now says its cluster. (One cluster: no cluster said.)"""
    from meshdesk.commands.graph import main as graph_main

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    common = ["--kubeconfig", kubeconfig, "--prometheus", prometheus.url, "-n", "shop", "--graph-type", "workload",
              "--format", "table"]
    assert graph_main(["--context", "east", "--context", "west", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) - 1 == len(set(line.split("http")[0] for line in lines[1:])) == 4, lines
    assert any(line.startswith("shop/cart (service, cluster west)") and "shop/cart-v1 (workload, cluster west)" in line
               for line in lines), lines
    assert any(line.startswith("shop/web-v1 (workload, cluster east)") and "shop/cart (service, cluster west)" in line
               for line in lines), lines


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_what_one_cluster_refuses_is_said_of_that_cluster_not_of_the_others(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """West forbids reading its shop namespace and its pods there; east allows both. East's shop row said
    "unknown" with no labels (west's refusal was taken for east's shop: both rows lost their labels), and the
    Workloads list said pods were not listed "in namespaces shop, shop" naming no cluster; east's row now has
    its injection label, and what is said of the refusal names west, also offline from a saved snapshot and
    on the command line."""
    from meshdesk.commands.graph import main as graph_main
    from meshdesk.sources.snapshot import load_snapshot, save_snapshot
    from meshdesk.ui.lists import NAMESPACES, WORKLOADS, namespace_rows

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    west.forbid(namespace="shop", resource="pods")
    west.forbid(namespace="shop", resource="namespaces")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "cart-v1")} <= set(_workload_rows(perf)), timeout=15000)
    qtbot.waitUntil(lambda: {r.cluster for r in perf.lists.pages[NAMESPACES].visible_rows() if r.name == "shop"}
                    == {"east", "west"}, timeout=15000)
    rows = {r.cluster: r for r in perf.lists.pages[NAMESPACES].visible_rows() if r.name == "shop"}
    assert rows["east"].labels.get("istio-injection") == "enabled" and "sidecar injection" in rows["east"].mesh
    assert rows["west"].mesh == "unknown"  # (west's shop could not be read)
    qtbot.waitUntil(lambda: "gateway pods (cluster-wide in west)" in w.banner.note_text, timeout=5000)
    note = perf.lists.pages[WORKLOADS].note.text()
    assert "The cluster west did not let meshdesk list pods in namespace shop:" in note, note

    # a snapshot of it, opened offline, tells the two apart the same way
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    save_snapshot(snap, tmp_path / "mesh.json")
    back = load_snapshot(tmp_path / "mesh.json")
    assert back.inventory is not None and "shop/pods" not in back.inventory.hidden
    offline = {r.cluster: r for r in namespace_rows(build(back), back.inventory, {}) if r.name == "shop"}
    assert "sidecar injection" in offline["east"].mesh and offline["west"].mesh == "unknown"

    assert graph_main(["--context", "east", "--context", "west", "--kubeconfig", kubeconfig, "--prometheus",
                       prometheus.url, "-n", "shop", "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert "hidden: shop/pods in cluster west: forbidden" in err and "hidden: shop/pods:" not in err, err


@pytest.mark.ui
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
def test_one_namespace_of_each_cluster_has_its_box_titled_with_its_cluster(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any]) -> None:
    """shop in east and in west: as in Kiali, a cluster box is drawn only around two or more members, so each
    cluster's one shop box stood alone, both titled "shop", nothing on the canvas telling east's from west's.
    Each now says its cluster; inside a cluster box (two namespaces of a cluster) it is the namespace alone."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, prometheus)
    qtbot.waitUntil(lambda: {("east", "cart-v1"), ("west", "cart-v1")} <= set(_workload_rows(perf)), timeout=15000)
    qtbot.waitUntil(lambda: {b.title for b in w.view.boxes() if b.kind == model.BOX_NAMESPACE}
                    == {"shop (cluster east)", "shop (cluster west)"}, timeout=5000)
    assert not [b for b in w.view.boxes() if b.kind == model.BOX_CLUSTER]


@pytest.mark.ui
def test_validate_inventory_and_the_config_view_say_what_each_cluster_refused(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        shared_dir: Path, qtbot: Any) -> None:
    """A snapshot of east and west, west refusing its VirtualServices in shop: 'meshdesk validate --snapshot'
    says shop was not checked in full in west (exit 4) and names the cluster, as 'meshdesk inventory' and the
    Istio config view do."""
    import io

    from meshdesk.commands.inventory import main as inventory_main
    from meshdesk.commands.validate import NOT_CHECKED
    from meshdesk.commands.validate import main as validate_main
    from meshdesk.sources.snapshot import save_snapshot
    from meshdesk.ui.config_view import ConfigView

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    west.forbid(namespace="shop", resource="virtualservices")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    save_snapshot(snap, tmp_path / "mesh.json")
    out, err = io.StringIO(), io.StringIO()
    assert validate_main(["--snapshot", str(tmp_path / "mesh.json"), "-n", "shop"], stdout=out,
                         stderr=err) == NOT_CHECKED, err.getvalue()
    assert "hidden: shop/virtualservices in cluster west: forbidden" in err.getvalue(), err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert inventory_main(["--snapshot", str(tmp_path / "mesh.json"), "-n", "shop"], stdout=out, stderr=err) == 0
    assert "hidden: shop/virtualservices in cluster west: forbidden" in err.getvalue(), err.getvalue()
    view = ConfigView()
    qtbot.addWidget(view)
    assert snap.inventory is not None
    view.set_data(snap.inventory)
    assert "VirtualServices (shop of cluster west)" in view.unread_note.text(), view.unread_note.text()


def test_the_mesh_view_draws_a_namespace_by_its_own_clusters_refusal(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path,
        shared_dir: Path) -> None:
    """West forbids reading its shop namespace, east does not: the Mesh view dropped east's shop too (west's
    refusal was taken for every shop), and the Istio status named no cluster for the gateways not known."""
    from meshdesk.mesh.istio_status import istio_status
    from meshdesk.mesh.mesh_map import build_mesh_map

    for emu in (east, west):
        emu.load_crds(shared_dir / CRDS)
    west.forbid(namespace="shop", resource="namespaces")
    west.forbid(namespace="", resource="pods")  # (west's pods cluster-wide: its gateways elsewhere not known)
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    snap, _source = _linked_snapshot(kubeconfig, prometheus)
    assert snap.inventory is not None
    mesh = build_mesh_map(snap.inventory)
    assert {(n.cluster, n.name) for n in mesh.of_kind("namespace")} >= {("east", "shop")}
    assert ("west", "shop") not in {(n.cluster, n.name) for n in mesh.of_kind("namespace")}
    status = istio_status(snap.inventory)
    assert status is not None and any("gateway pods forbidden" in note and note.endswith("in cluster west")
                                      for note in status.notes), status.notes


def test_a_namespace_another_cluster_would_not_list_is_not_known_where_the_mesh_is_asked_whole() -> None:
    """West would not list its pods in shop, east did. Asked of the whole mesh (a panel or check that does not
    say which cluster), shop's pods are not known, not "none": west's shop has workloads whose pods were never
    seen. Asked of east's part (what east's nodes are judged by), east's were read. Keeping west's refusal apart
    (so east's row keeps its labels) had made the whole mesh's answer east's alone."""
    from meshdesk.mesh.graph.context import inventory_part
    from meshdesk.mesh.inventory import Inventory, Namespace

    east = Inventory(cluster="east", namespaces=[Namespace("shop", cluster="east")])
    west = Inventory(cluster="west", namespaces=[Namespace("shop", cluster="west")],
                     hidden={"shop/pods": "pods is forbidden"})
    mesh = east.merged([west])
    assert mesh.unread("shop", ("pods",))
    assert not mesh.unread("shop", ("services",))
    part = inventory_part(mesh, ["east", "west"])
    east_part, west_part = part("east"), part("west")
    assert east_part is not None and not east_part.unread("shop", ("pods",))
    assert west_part is not None and west_part.unread("shop", ("pods",))


@pytest.mark.ui
@pytest.mark.shared
def test_the_namespace_summary_lists_each_clusters_control_plane(
        east: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any, shared_dir: Path) -> None:
    """The Details panel with nothing selected listed east's istiod alone: west's, not ready, was not
    there, though the Istio status and the Mesh view name it; nor were west's proxies counted."""
    from meshdesk.ui.panels import SidePanel

    east.load_crds(shared_dir / CRDS)
    with KubeEmulator() as west:
        west.load_crds(shared_dir / CRDS)
        _cluster(west, "west", ["cart-v1", "spare-v1"], istiod_ready=False)
        kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
        snap, _source = _linked_snapshot(kubeconfig, prometheus)
    assert snap.inventory is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(build(snap), snap.inventory)
    text = panel.text()
    assert "\nControl plane\n" not in text
    east_part = text.split("Control plane (cluster east)\nistiod\n", 1)[1].split("Control plane (cluster", 1)[0]
    west_part = text.split("Control plane (cluster west)\nistiod\n", 1)[1].split("Mesh config", 1)[0]
    assert "1/1 ready" in east_part and "0/1 ready" in west_part
    # each cluster's proxies counted in its own section
    assert "shop/web-v1" in east_part and "spare-v1" not in east_part
    assert "shop/spare-v1" in west_part and "web-v1" not in west_part


@pytest.fixture
def plaintext_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """East's web-v1 calls west's cart-v1 in plain text: the telemetry names no principal."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    series = []
    for reporter in ("source", "destination"):
        labels = istio_edge(WEB, CART, "cart", "shop", reporter=reporter, cluster="east", mtls=False)
        labels["destination_cluster"] = "west"
        series.append(Series("istio_requests_total", labels, 5.0))
    srv = PrometheusServer(tmp_path_factory.mktemp("plaintext"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.ui
@pytest.mark.shared
@pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
@pytest.mark.parametrize("east_pods_readable", [True, False])
def test_west_s_traffic_policies_let_in_a_caller_of_east_as_its_own_service_account(
        east: KubeEmulator, west: KubeEmulator, plaintext_prometheus: PrometheusServer, tmp_path: Path, qtbot: Any,
        make_window: Callable[..., Any], shared_dir: Path, east_pods_readable: bool) -> None:
    """West's "Create traffic policies": east's web-v1, whose requests carry no principal, was let in as
    east's ``default`` service account with a warning, though east is read beside west and its pods run as
    ``shop-web``: its requests would have been denied. Now it is read from east's own part of the mesh;
    the warning stays when east's pods could not be read."""
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.lists import NAMESPACES
    from tests.kube_emulator import load_docs

    for emu in (east, west):
        for doc in load_docs(shared_dir / CRDS):
            emu.add_crd(doc)
    for pod in east.objects("pods", "", "shop"):
        if pod["metadata"]["name"].startswith("web-v1-"):
            pod["spec"]["serviceAccountName"] = "shop-web"
    if not east_pods_readable:
        east.forbid(namespace="shop", resource="pods", verb="list")
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    w, perf = _linked_window(make_window, kubeconfig, plaintext_prometheus)
    ctl = w.actions_controller = install_actions(w)
    qtbot.waitUntil(lambda: ("west", "spare-v1") in _workload_rows(perf), timeout=15000)

    def west_shop() -> Any:
        return next((r for r in perf.lists.pages[NAMESPACES].visible_rows() if r.name == "shop" and r.cluster == "west"),
                    None)

    qtbot.waitUntil(lambda: west_shop() is not None, timeout=15000)
    menu = perf.lists.namespace_menu_of(west_shop())
    qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()), timeout=10000)
    action = next(a for a in menu.actions() if a.objectName() == "traffic-policies")
    assert action.isEnabled(), action.toolTip()
    with qtbot.waitSignal(ctl.dialogOpened) as opened:
        action.trigger()
    dialog = opened.args[0]
    qtbot.addWidget(dialog)
    listed = [dialog.form.objects.item(i).text() for i in range(dialog.form.objects.count())]
    notes = dialog.form.notes.text()
    if east_pods_readable:
        assert "AuthorizationPolicy cart-v1: allows cluster.local/ns/shop/sa/shop-web" in listed, listed
        assert "web-v1" not in notes, notes
    else:
        assert "AuthorizationPolicy cart-v1: allows cluster.local/ns/shop/sa/default" in listed, (listed, notes)
        assert "shop/web-v1 runs in cluster east, whose pods in shop could not be read" in notes, notes



@pytest.mark.ui
def test_a_linked_cluster_down_at_its_first_read_is_named_as_its_telemetry_names_it(
        east: KubeEmulator, west: KubeEmulator, prometheus: PrometheusServer, tmp_path: Path, qtbot: Any) -> None:
    """West was down from the start: it was named by the kubeconfig (kind-west) while the telemetry's nodes say
    west, so west's nodes said only that the inventory was read from east, and nothing said west was not
    read. The one cluster the telemetry names that no context read accounts for is west's."""
    from meshdesk.ui.panels import SidePanel

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    west.stop()
    snap, source = _linked_snapshot(kubeconfig, prometheus)
    assert snap.inventory is not None and list(snap.inventory.unread_clusters) == ["west"]
    assert source.clusters()[1] == ("west", "west", FOUND_TELEMETRY)
    graph = build(snap)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    panel.show_selection([_by_cluster(graph, "cart-v1")["west"].id])
    assert "not read: cluster west could not be read (context west: " in panel.text(), panel.text()


@pytest.fixture
def three_clusters_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """East's web-v1 calls cart-v1 in west and in north: two clusters besides east."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    series = []
    for dst_cluster in ("west", "north"):
        labels = istio_edge(WEB, CART, "cart", "shop", reporter="source", cluster="east")
        labels["destination_cluster"] = dst_cluster
        series.append(Series("istio_requests_total", labels, 5.0))
    srv = PrometheusServer(tmp_path_factory.mktemp("three"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_a_linked_cluster_down_is_not_guessed_among_several_the_telemetry_names(
        east: KubeEmulator, west: KubeEmulator, three_clusters_prometheus: PrometheusServer, tmp_path: Path) -> None:
    """The telemetry names west and north besides east: nothing tells which one the unreached context is,
    so it keeps the kubeconfig's name rather than taking another cluster's."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, west=west)
    west.stop()
    snap, source = _linked_snapshot(kubeconfig, three_clusters_prometheus)
    assert snap.inventory is not None and list(snap.inventory.unread_clusters) == ["kind-west"]
    assert source.clusters()[1] == ("kind-west", "west", "")
