"""Working offline from a snapshot, as the user meets it: a file that cannot be opened is said in a
dialog and the live view stays (nothing added to the context switcher, no retry loop, no kubeconfig
advice); the app started on such a file offers a way on; a snapshot that cannot be written says where
and why; an offline snapshot's Metrics and Logs docks say they are not available there.

Live contexts are the Kubernetes API emulator with bookinfo and a real Prometheus behind its service
proxy, through the official client, as a user's cluster."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
from meshdesk.ui.mainwindow import DEMO, SNAPSHOT_PREFIX, MainWindow
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer
from tests.ui_helpers import open_windows, window_test_marks

prometheus_server = prom_server.prometheus_server  # the session's real Prometheus (skips without the binary)

pytestmark = [*window_test_marks(), pytest.mark.prometheus, pytest.mark.shared]

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"


@pytest.fixture
def cluster(kube_emulator: KubeEmulator, shared_dir: Path, prometheus_server: PrometheusServer,
            tmp_path: Path) -> str:
    """A kubeconfig whose context "east" is bookinfo on the API emulator, its Prometheus found
    through the API server's service proxy."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.run_workloads()
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    return str(emu.write_kubeconfig(tmp_path / "kubeconfig", context="east"))


@pytest.fixture
def app_window(qtbot) -> Iterator[Callable[..., MainWindow]]:  # type: ignore[no-untyped-def]
    """``app_window(**opts)``: the window ``meshdesk`` opens for those command-line options (with the
    metrics, lists, config and logs docks); closed at the end, no thread of it left running."""
    from meshdesk.ui.app import make_window

    def new_window(**kw: Any) -> MainWindow:
        opts = argparse.Namespace(**{"demo": False, "kubeconfig": None, "context": None, "namespace": None,
                                     "snapshot": None, **kw})
        return make_window(opts)

    yield from open_windows(qtbot, new_window, all_threads=True)


def live_graph(qtbot, w: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: w.graph is not None and w.info is not None and w.info.live
                    and w.stack.currentWidget() is w.view, timeout=20000)


def switcher(w: MainWindow) -> list[str]:
    combo = w.toolbar.context_combo
    return [combo.itemData(i) for i in range(combo.count())]


def dialog_said(qtbot, w: MainWindow) -> QMessageBox:  # type: ignore[no-untyped-def]
    """The dialog about a file, once it is up."""
    qtbot.waitUntil(lambda: w.file_problem_box is not None and w.file_problem_box.isVisible(), timeout=10000)
    box = w.file_problem_box
    assert box is not None
    return box


def dismiss(box: QMessageBox) -> None:
    box.button(QMessageBox.StandardButton.Ok).click()
    assert not box.isVisible()


def test_a_file_that_is_not_a_snapshot_is_said_and_the_live_view_stays(qtbot, app_window, cluster,
                                                                        tmp_path) -> None:
    """File > Open snapshot on a truncated, not-JSON, empty, binary, newer-format, far too large file
    or a folder replaced the live graph by "No cluster to show", a "Configuration problem ... Check
    the kubeconfig" banner retrying for ever, and one dead switcher entry per try."""
    w = app_window(kubeconfig=cluster, context="east", namespace=["bookinfo"])
    live_graph(qtbot, w)
    live = w.graph
    good = tmp_path / "good.json"
    assert w.save_snapshot(str(good))
    text = good.read_text()
    newer = {**json.loads(text), "formatVersion": 99}
    files: dict[str, bytes | None] = {
        "truncated.json": text[: len(text) // 2].encode(),
        "not-json.json": b"hello, this is not JSON\n",
        "empty.json": b"",
        "binary.json": bytes(range(256)) * 4,
        "newer.json": json.dumps(newer).encode(),
        "folder.json": None,
    }
    for name, content in files.items():
        if content is None:
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_bytes(content)
    with open(tmp_path / "huge.json", "wb") as fh:  # sparse: 600 MB on paper, nothing on the disk
        fh.truncate(600 * 1024 * 1024)
    with pytest.raises(json.JSONDecodeError) as cut:  # the line the cut falls on, as the parser says
        json.loads(text[: len(text) // 2])
    cut_at = f"{cut.value.msg} (line {cut.value.lineno}, column {cut.value.colno})"
    expected = {
        "truncated.json": f"not valid JSON: {cut_at}",
        "not-json.json": "not valid JSON: Expecting value (line 1, column 1)",
        "empty.json": "the file is empty",
        "binary.json": "not UTF-8 text",
        "newer.json": "written by a newer meshdesk (format 99",
        "folder.json": "it is a folder, not a file",
        "huge.json": "it is too large (600 MB; meshdesk opens snapshots of up to 512 MB)",
    }
    offered = switcher(w)
    failures: list[Any] = []
    w.poller.failed.connect(failures.append)
    for name, reason in expected.items():
        path = str(tmp_path / name)
        w.open_snapshot(path)  # what File > Open snapshot does with the file chosen
        box = dialog_said(qtbot, w)
        assert box.windowTitle() == "Cannot open the snapshot"
        assert box.text().startswith(f"Cannot open the snapshot {path}: ") and reason in box.text(), box.text()
        assert "kubeconfig" not in box.text() + box.informativeText()
        assert box.informativeText() == "The window keeps showing context east."
        # the live graph is still on screen, the context and the switcher as they were
        assert w.graph is live and w.stack.currentWidget() is w.view and w.context == "east"
        assert w.toolbar.current_context() == "east" and switcher(w) == offered
        assert not w.banner.isVisible() and not failures
        dismiss(box)
    assert w.info is not None and w.info.live and w.poller.retry_delay() == 0


def test_a_snapshot_cut_short_since_it_was_opened_is_said_once(qtbot, app_window, cluster, tmp_path) -> None:
    """A snapshot that opened, then was cut short on the disk: chosen again in the switcher, it is
    said once in a dialog and its entry goes; the live view stays. Shown from the switcher without
    a check (another window's way in), it is one error without kubeconfig advice, not retried."""
    w = app_window(kubeconfig=cluster, context="east", namespace=["bookinfo"])
    live_graph(qtbot, w)
    path = tmp_path / "mesh.json"
    assert w.save_snapshot(str(path))
    w.open_snapshot(str(path))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and w.graph is not None, timeout=10000)
    name = w.context
    assert name == SNAPSHOT_PREFIX + str(path.resolve()) and name in switcher(w)
    w.toolbar.context_combo.setCurrentIndex(switcher(w).index("east"))
    w.toolbar.context_combo.activated.emit(w.toolbar.context_combo.currentIndex())
    live_graph(qtbot, w)
    live = w.graph
    whole = path.read_text()
    path.write_text(whole[:100])
    combo = w.toolbar.context_combo
    combo.setCurrentIndex(switcher(w).index(name))
    combo.activated.emit(combo.currentIndex())  # as the user picks it
    box = dialog_said(qtbot, w)
    assert f"Cannot open the snapshot {path}: not valid JSON" in box.text()
    assert w.graph is live and w.context == "east" and w.toolbar.current_context() == "east"
    assert name not in switcher(w), "an entry that cannot open is not offered"
    dismiss(box)

    # shown without that check: the poller reads it and fails; said once, not retried by itself
    failures: list[Any] = []
    w.poller.failed.connect(failures.append)
    w.switch_context(w.add_snapshot(str(path)))
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=10000)
    assert failures[0].retry_in is None and w.poller.retry_delay() == 0
    banner = w.banner.text()
    assert w.banner.isVisible() and "Cannot open the snapshot" in banner and "not valid JSON" in banner
    assert "Retrying" not in banner and "kubeconfig" not in banner and "Configuration problem" not in banner
    assert w.empty.mode == "no-snapshot" and str(path) in w.empty.text.text()
    assert w.empty.retry_button.isVisible() and w.empty.snapshot_button.isVisible()
    w.poller.set_interval(0.05)  # not even a timed refresh reads it again
    with qtbot.assertNotEmitted(w.poller.failed, wait=500):
        pass
    w.poller.set_interval(0)
    # the user's Retry reads it again: still bad, said; mended, shown
    path.write_text("")
    w.banner.retry_button.click()
    qtbot.waitUntil(lambda: len(failures) == 2, timeout=10000)
    assert "is empty" in str(failures[1].error) and failures[1].retry_in is None
    path.write_text(whole)
    w.empty.retry_button.click()
    qtbot.waitUntil(lambda: w.graph is not None and w.info is not None and not w.info.live, timeout=10000)
    assert not w.banner.isVisible() and len(failures) == 2


def test_started_on_a_bad_snapshot_the_window_offers_a_way_on(qtbot, app_window, cluster, tmp_path) -> None:
    """`meshdesk --snapshot BAD`: "No cluster to show" with a kubeconfig retry loop. Now the page says
    which file and what is wrong, offers another snapshot and the demo, and the contexts stay in the
    switcher."""
    bad = tmp_path / "cut.json"
    bad.write_text('{"name": "x", "request": {"graphType": "app"}, "samples": [')
    w = app_window(kubeconfig=cluster, snapshot=str(bad))
    qtbot.waitUntil(lambda: w.empty.mode == "no-snapshot", timeout=10000)
    assert w.stack.currentWidget() is w.empty and w.empty.title.text() == "Cannot open the snapshot"
    page = w.empty.text.text()
    assert str(bad) in page and "not valid JSON" in page and "line 1" in page
    assert w.empty.snapshot_button.isVisible() and w.empty.demo_button.isVisible()
    assert not w.empty.retry_button.isVisible() and not w.banner.isVisible()
    assert "east" in switcher(w) and DEMO in switcher(w)
    assert not any(c.startswith(SNAPSHOT_PREFIX) for c in switcher(w))
    assert w.poller.request is None, "nothing is fetched, nor retried"
    w.empty.demo_button.click()
    qtbot.waitUntil(lambda: w.graph is not None and w.info is not None and w.context == DEMO, timeout=15000)


def test_a_snapshot_that_cannot_be_written_says_where_and_why(qtbot, app_window, cluster, tmp_path) -> None:
    """Saving to a folder's name, through a file, or into a read-only folder was a ten-second status
    line titled "Configuration problem"."""
    w = app_window(kubeconfig=cluster, context="east", namespace=["bookinfo"])
    live_graph(qtbot, w)
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "afile").write_text("x")
    cases = [(str(folder), "it is a folder"), (str(tmp_path / "afile" / "s.json"), "afile is a file, not a folder")]
    read_only = folder / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        if not os.access(read_only, os.W_OK):  # (root writes anywhere)
            cases.append((str(read_only / "s.json"), f"permission denied: you may not write in the folder {read_only}"))
        for path, reason in cases:
            assert not w.save_snapshot(path)
            box = dialog_said(qtbot, w)
            assert box.windowTitle() == "Snapshot not saved"
            assert box.text() == f"The snapshot could not be written to {path}: {reason}." or \
                (box.text().startswith(f"The snapshot could not be written to {path}: ") and reason in box.text())
            assert "Configuration problem" not in w.statusBar().currentMessage()
            dismiss(box)
    finally:
        read_only.chmod(0o755)
    assert w.graph is not None and w.context == "east"


def test_an_offline_snapshot_says_metrics_logs_and_envoy_are_not_available(qtbot, app_window, cluster, tmp_path) -> None:
    """Offline, the Metrics and Logs docks said "No metrics source" / "No log source" with their
    controls on, and four empty sparklines filled half the Details dock."""
    w = app_window(kubeconfig=cluster, context="east", namespace=["bookinfo"])
    live_graph(qtbot, w)
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    path = tmp_path / "bookinfo.json"
    assert w.save_snapshot(str(path))

    def select_productpage() -> None:
        node = next(n for n in w.graph.nodes.values()  # type: ignore[union-attr]
                    if n.node_type in (NODE_WORKLOAD, NODE_APP) and n.workload == "productpage-v1")
        w.view.select([node.id])

    select_productpage()
    qtbot.waitUntil(lambda: perf.sparkline_area.isVisible(), timeout=5000)  # live: charts under the details
    w.open_snapshot(str(path))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and w.graph is not None, timeout=10000)
    for title in ("Metrics", "Logs", "Envoy", "Traces"):
        perf.docks[title].show()
    select_productpage()
    qtbot.waitUntil(lambda: perf.logs.pod.count() > 0, timeout=5000)
    taken = json.loads(path.read_text())["meta"]["takenAt"]  # "2026-11-28T01:47:55Z"
    said = f"Not available in an offline snapshot (taken {taken[:10]} {taken[11:16]} UTC)"
    metrics, logs = perf.metrics, perf.logs
    assert metrics.notice.isVisible() and metrics.notice.text().startswith(said)
    assert not metrics._scroll.isVisible(), "no empty charts"
    assert not any(c.isEnabled() for c in (metrics.range, metrics.step, metrics.split, metrics.direction,
                                           metrics.refresh_button))
    assert "No metrics source" not in metrics.notice.text()
    assert logs.status.isVisible() and logs.status.text().startswith(said)
    assert not any(c.isEnabled() for c in (logs.pod, logs.container, logs.tail, logs.follow, logs.reload))
    assert perf.envoy.status.text().startswith(said) and not perf.envoy.refresh.isEnabled()
    # the Traces dock said why in words that named charts, logs and proxy config, never traces
    qtbot.waitUntil(lambda: perf.traces.note.text().startswith(said), timeout=5000)
    assert "traces" in perf.traces.note.text()[len(said):]
    perf.docks["Traces"].hide()  # (live, it would search the cluster for a tracing backend: not this test's)
    assert not perf.sparkline_area.isVisible(), "no empty sparklines under the details"
    # the Actions menu says why nothing can be changed, and where changes can be made ("This source takes
    # no writes" said neither)
    menu = w.actions_controller.menu
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == [
        "An offline snapshot is shown: open the context it was taken from to change the mesh"]
    # live again: all of it back
    w.switch_context("east")
    live_graph(qtbot, w)
    select_productpage()
    qtbot.waitUntil(lambda: perf.sparkline_area.isVisible(), timeout=5000)
    assert not metrics.notice.isVisible() and metrics._scroll.isVisible() and metrics.range.isEnabled()
    assert logs.reload.isEnabled() and not logs.status.text().startswith("Not available")
