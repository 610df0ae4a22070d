"""What a desktop app is trusted with between sessions, found in a QA pass through the offline
workflows: a snapshot saved and opened again (by you or a colleague), the arrangement of its nodes, and
the files it replaces. Real windows on the demo mesh, the real command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from meshdesk.sources.snapshot import load_snapshot
from meshdesk.store.layouts import LayoutStore
from meshdesk.ui.mainwindow import DEMO
from tests.ui_helpers import DEMO_NOW, shown, window_test_marks

pytestmark = window_test_marks()

ROOT = Path(__file__).resolve().parent.parent


def graph_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshdesk", "graph", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def dialog_said(qtbot, w) -> QMessageBox:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: w.file_problem_box is not None and w.file_problem_box.isVisible(), timeout=10000)
    box: QMessageBox = w.file_problem_box
    return box


def test_a_read_only_snapshot_file_is_left_as_it_was(qtbot, demo_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A snapshot made read-only to keep it (the incident's evidence) was replaced without a word by
    File > Save snapshot and by `graph --save-snapshot` (a new file renamed over it needs only the folder
    to be writable), and stayed read-only, holding another graph."""
    kept = tmp_path / "incident.json"
    assert graph_cli("--demo", "-n", "shop", "--save-snapshot", str(kept)).returncode == 0
    kept.chmod(0o444)
    before = kept.read_bytes()

    w = demo_window(["hello"])
    shown(qtbot, w, lambda g: bool(g.nodes))
    assert not w.save_snapshot(str(kept))
    box = dialog_said(qtbot, w)
    assert box.windowTitle() == "Snapshot not saved"
    assert box.text() == (f"The snapshot could not be written to {kept}: the file is read-only, so it was left as "
                          "it was (make it writable, or choose another name).")
    box.button(QMessageBox.StandardButton.Ok).click()
    assert kept.read_bytes() == before and load_snapshot(kept).request.namespaces == ("shop",)

    out = graph_cli("--demo", "-n", "travel", "--save-snapshot", str(kept))
    assert out.returncode == 1
    assert out.stderr == (f"meshdesk graph: cannot write snapshot file {kept}: the file is read-only, so it was left "
                          "as it was (make it writable, or choose another name)\n")
    assert kept.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["incident.json"]  # no temporary file left beside it

    # made writable again, it is replaced (keeping its mode, as before)
    kept.chmod(0o640)
    assert w.save_snapshot(str(kept))
    assert load_snapshot(kept).request.namespaces == ("hello",) and (kept.stat().st_mode & 0o777) == 0o640


def test_a_replayed_graph_is_offered_a_file_name_of_its_own_time(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch) -> None:
    """Replay, then File > Save snapshot: the file name offered carried the time the graph was fetched
    (the present), not the moment it shows, and so did a snapshot opened and saved again; a folder of
    them read as if all were taken today."""
    from PySide6.QtWidgets import QFileDialog

    offered: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (offered.append(a[2]), ("", ""))[1])

    def stamp(at: float) -> str:
        return time.strftime("%Y%m%d-%H%M%S", time.localtime(at))

    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    moment = w.replay.time
    assert moment < DEMO_NOW - 1800
    shown(qtbot, w, lambda g: g.request.queryTime == moment)
    w.save_snapshot()
    assert offered == [f"demo-{stamp(moment)}.json"]

    path = tmp_path / "shop.json"
    assert w.save_snapshot(str(path)) and load_snapshot(path).request.queryTime == moment
    w.toolbar.replay_action.trigger()  # live again: the file still holds the moment replayed
    w.open_snapshot(str(path))
    shown(qtbot, w, lambda g: w.context.startswith("snapshot:"))
    w.save_snapshot()
    assert offered[1] == str(tmp_path / f"shop-{stamp(moment)}.json")


def _drag(view, nid: str, delta: QPoint) -> None:  # type: ignore[no-untyped-def]
    item = view.node_item(nid)
    start = view.mapFromScene(item.pos())
    vp = view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 6):
        QTest.mouseMove(vp, start + QPoint(delta.x() * i // 5, delta.y() * i // 5))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + delta)


def test_a_snapshot_opens_with_the_nodes_where_they_were_arranged(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    """Nodes arranged on the live graph, then File > Save snapshot: a colleague opening the file (or you,
    in the next session, or after moving it to another folder) saw it laid out afresh, the nodes you
    placed elsewhere. The snapshot carries the arrangement; a view arranged where it was opened keeps its
    own."""
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    qtbot.waitUntil(lambda: not w.view.layout_running and bool(w.view.node_ids()), timeout=10000)
    nid = sorted(w.view.node_ids())[0]
    _drag(w.view, nid, QPoint(150, 90))
    qtbot.waitUntil(lambda: w.view.has_saved_layout, timeout=10000)
    arranged = w.view.positions()
    path = tmp_path / "arranged.json"
    assert w.save_snapshot(str(path))

    def opened_by_a_colleague(where: Path):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / f"config-of-{where.stem}"))
        other = demo_window(["hello"])
        shown(qtbot, other, lambda g: bool(g.edges))
        other.open_snapshot(str(where))
        shown(qtbot, other, lambda g: other.context.startswith("snapshot:") and g.request.namespaces == ("shop",))
        qtbot.waitUntil(lambda: not other.view.layout_running and other.view.node_ids() == set(arranged),
                        timeout=10000)
        return other

    other = opened_by_a_colleague(path)
    placed = other.view.positions()
    assert placed[nid] == pytest.approx(arranged[nid], abs=0.01)
    assert all(placed[n] == pytest.approx(xy, abs=0.01) for n, xy in arranged.items())

    # arranged there in turn, the file opened again keeps that arrangement, not the one it carries
    _drag(other.view, nid, QPoint(-60, 40))
    theirs = other.view.positions()[nid]
    assert theirs != pytest.approx(arranged[nid], abs=0.01)
    key = other.view.layout_key
    qtbot.waitUntil(lambda: LayoutStore().load(key).get(nid) == pytest.approx(theirs, abs=0.01), timeout=10000)
    again = demo_window(["hello"])
    shown(qtbot, again, lambda g: bool(g.edges))
    again.open_snapshot(str(path))
    shown(qtbot, again, lambda g: again.context.startswith("snapshot:"))
    qtbot.waitUntil(lambda: nid in again.view.node_ids() and not again.view.layout_running, timeout=10000)
    assert again.view.positions()[nid] == pytest.approx(theirs, abs=0.01)

    # moved to another folder, it still opens as it was saved
    moved = tmp_path / "archive" / "incident.json"
    moved.parent.mkdir()
    path.rename(moved)
    assert opened_by_a_colleague(moved).view.positions()[nid] == pytest.approx(arranged[nid], abs=0.01)

    # a graph nobody arranged carries nothing, and opens laid out as it was
    plain = tmp_path / "plain.json"
    fresh = demo_window(["travel"])
    shown(qtbot, fresh, lambda g: bool(g.edges))
    assert fresh.save_snapshot(str(plain)) and "layout" not in load_snapshot(plain).meta


@pytest.mark.parametrize("carried", [
    "not a layout", {"graphType": "versionedApp", "namespaces": ["shop"], "positions": {"x": ["a", 1]}},
    {"graphType": 3, "namespaces": ["shop"], "positions": {}}, {"graphType": "versionedApp", "namespaces": "shop"},
    {"graphType": "versionedApp", "namespaces": ["shop"], "positions": {"n": [1e308, 0]}},
])
def test_a_layout_a_snapshot_carries_that_cannot_be_used_is_left_out(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                      carried) -> None:
    """Someone else's file: what it carries of a layout is used only when it is one; otherwise the graph
    is laid out as any other, without a word (the graph is what was asked for)."""
    import json

    path = tmp_path / "odd.json"
    assert graph_cli("--demo", "-n", "shop", "--save-snapshot", str(path)).returncode == 0
    doc = json.loads(path.read_text())
    doc["meta"]["layout"] = carried
    path.write_text(json.dumps(doc))
    w = demo_window(["hello"])
    shown(qtbot, w, lambda g: bool(g.edges))
    w.open_snapshot(str(path))
    shown(qtbot, w, lambda g: w.context.startswith("snapshot:") and g.request.namespaces == ("shop",))
    qtbot.waitUntil(lambda: not w.view.layout_running and bool(w.view.node_ids()), timeout=10000)
    assert not w.view.has_saved_layout and not w.banner.isVisible()


def open_snapshot_action(w):  # type: ignore[no-untyped-def]
    """File > Open snapshot…, as the menu offers it."""
    file_menu = w.menuBar().actions()[0].menu()
    return next(a for a in file_menu.actions() if a.text() == "Open &snapshot…")


def test_the_snapshot_dialogs_start_where_the_last_snapshot_was_saved_or_opened(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                               monkeypatch) -> None:
    """File > Save snapshot and Open snapshot started in the folder meshdesk was started from (a desktop
    launcher's: the home folder) every time, in every session: each save and each open meant finding the
    incidents folder again."""
    import shutil

    from PySide6.QtWidgets import QFileDialog

    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(("save", a[2])), ("", ""))[1])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (asked.append(("open", a[2])), ("", ""))[1])
    incidents = tmp_path / "incidents"
    incidents.mkdir()
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    assert w.save_snapshot(str(incidents / "first.json"))
    w.save_snapshot()
    open_snapshot_action(w).trigger()
    assert asked[0][0] == "save" and Path(asked[0][1]).parent == incidents
    assert asked[1] == ("open", str(incidents))

    # the next session starts there too; a file opened elsewhere moves it there
    again = demo_window(["hello"])
    shown(qtbot, again, lambda g: bool(g.edges))
    open_snapshot_action(again).trigger()
    assert asked[2] == ("open", str(incidents))
    elsewhere = tmp_path / "from-a-colleague"
    elsewhere.mkdir()
    shutil.copy(incidents / "first.json", elsewhere / "theirs.json")
    again.open_snapshot(str(elsewhere / "theirs.json"))
    shown(qtbot, again, lambda g: again.context.startswith("snapshot:"))
    open_snapshot_action(again).trigger()
    assert asked[3] == ("open", str(elsewhere))

    # a folder since removed: the dialog's own start, not a folder that is not there
    shutil.rmtree(elsewhere)
    open_snapshot_action(again).trigger()
    assert asked[4] == ("open", "")


def test_another_meshdesk_or_kiali_file_picked_as_a_snapshot_is_named_for_what_it_is(qtbot, demo_window,  # type: ignore[no-untyped-def]
                                                                                      tmp_path) -> None:
    """A folder of *.json files holds snapshots beside layouts exported and graphs written with --format
    kiali or json; picking the wrong one said "not a snapshot: it has no 'request'" (or "'samples' must be
    a list"), which named neither what the file was nor where it belongs."""
    snap = tmp_path / "incident.json"
    assert graph_cli("--demo", "-n", "shop", "--save-snapshot", str(snap)).returncode == 0
    for fmt in ("kiali", "json"):
        out = graph_cli("--snapshot", str(snap), "--format", fmt)
        assert out.returncode == 0
        (tmp_path / f"graph-{fmt}.json").write_text(out.stdout)
    drawn = ("which holds the graph as it was drawn, not the telemetry it was drawn from: open the snapshot it was "
             "made from (File > Save snapshot, `meshdesk graph --save-snapshot` save one)")
    out = graph_cli("--snapshot", str(tmp_path / "graph-kiali.json"))
    assert out.returncode == 2 and out.stderr == (
        f"meshdesk graph: snapshot file {tmp_path / 'graph-kiali.json'} is not a snapshot: it is a graph in Kiali's "
        f"JSON (Kiali's graph API, `meshdesk graph --format kiali`), {drawn}\n")
    out = graph_cli("--snapshot", str(tmp_path / "graph-json.json"))
    assert out.returncode == 2 and out.stderr == (
        f"meshdesk graph: snapshot file {tmp_path / 'graph-json.json'} is not a snapshot: it is a graph written by "
        f"`meshdesk graph --format json`, {drawn}\n")

    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    layout = tmp_path / "layout.json"
    w.export_layout(str(layout))
    assert layout.exists()
    w.open_snapshot(str(layout))
    box = dialog_said(qtbot, w)
    assert box.text() == (f"Cannot open the snapshot {layout}: not a snapshot: it is a layout exported by meshdesk "
                          "(Layout > Export layout); Layout > Import layout applies it.")
    assert w.context == DEMO

    # the other way round: a snapshot picked in Layout > Import layout
    w.file_problem_box.button(QMessageBox.StandardButton.Ok).click()
    w.import_layout(str(snap))
    box = dialog_said(qtbot, w)
    assert box.text() == (f"Could not import the layout: {snap} is a snapshot, not a layout export: File > Open "
                          "snapshot opens it, with the nodes where they were arranged when it was saved")


def test_file_save_snapshot_writes_on_a_thread_and_says_when_it_is_done(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    """File > Save snapshot turned the graph's telemetry into JSON and wrote it on the UI thread: a big
    mesh's (60 000 samples, 58 MB) froze the window for 4-5 s, saying nothing meanwhile. It is written on
    a thread now: the status bar says it is being saved, then that it was (or the dialog why not)."""
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "incident.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Snapshots (*.json)"))
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    with qtbot.waitSignal(w.snapshotSaved, timeout=20000) as saved:
        w.save_snapshot_action.trigger()
        assert w.statusBar().currentMessage() == f"Saving the snapshot to {target}…"
    assert saved.args == [str(target), True]
    assert w.statusBar().currentMessage() == f"Snapshot saved to {target}"
    assert load_snapshot(target).request.namespaces == ("shop",)
    assert not [p for p in tmp_path.iterdir() if p.name != "incident.json"]  # no temporary file left

    target.chmod(0o444)
    with qtbot.waitSignal(w.snapshotSaved, timeout=20000) as saved:
        w.save_snapshot_action.trigger()
    assert saved.args == [str(target), False]
    box = dialog_said(qtbot, w)
    assert box.windowTitle() == "Snapshot not saved" and "the file is read-only" in box.text()


def test_settings_that_could_not_be_saved_are_said_until_dismissed_and_saved_later(qtbot, demo_window,  # type: ignore[no-untyped-def]
                                                                                    monkeypatch, tmp_path) -> None:
    """A settings save that failed (a full disk, a read-only home, something else in the file's place) was
    a ten-second status line: the namespaces chosen meanwhile were gone at the next start, without a word
    the user was likely to see. The banner says it, as it says a layout not saved; the next save once
    the file can be written keeps what was chosen meanwhile."""
    from meshdesk.store.paths import config_dir
    from meshdesk.store.settings import load_settings

    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    settings_file = config_dir() / "settings.json"
    qtbot.waitUntil(settings_file.exists, timeout=5000)
    settings_file.unlink()
    settings_file.mkdir()  # something else in its place
    w.toolbar.select_namespaces(["hello"])
    qtbot.waitUntil(w.banner.isVisible, timeout=5000)
    assert w.banner.text() == (f"Settings not saved: the settings file {settings_file} is a folder, not a file. What "
                               "you chose since holds in this window until it closes; it is saved with the next "
                               "change once the settings can be written.")
    assert w.banner.kind == "warning"

    settings_file.rmdir()
    combo = w.toolbar.graph_type_combo  # another change: the namespaces chosen before are saved with it
    combo.setCurrentIndex(combo.findData("workload"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(settings_file.is_file, timeout=5000)
    saved = load_settings()
    assert saved.namespaces_for(DEMO) == ["hello"] and saved.context_settings(DEMO).graph_type == "workload"
    assert not w.banner.isVisible()  # (what it said is over)
