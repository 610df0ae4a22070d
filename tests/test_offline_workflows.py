"""What a desktop app is trusted with between sessions, found in a QA pass through the offline
workflows: a snapshot saved and opened again (by you or a colleague), the arrangement of its nodes, and
the files it replaces. Real windows on the demo mesh, the real command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from meshdesk.sources.snapshot import load_snapshot
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
