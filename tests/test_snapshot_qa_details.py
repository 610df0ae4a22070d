"""Snapshot details a QA round found: a snapshot saved while replaying says when its inventory was read;
a snapshot that asks for no boxes is drawn without them by the window as by `meshdesk graph`; a
gzip-compressed snapshot opens in both, and a snapshot is not written under a .gz name. Real windows on
the demo mesh, real files, the real command line through its main."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from meshdesk.commands.graph import main as graph_main
from meshdesk.sources.snapshot import load_snapshot
from tests.ui_helpers import DEMO_NOW, shown, window_test_marks

pytestmark = window_test_marks()


def graph_cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """``meshdesk graph ARGS`` through its main: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = graph_main(list(args))
    except SystemExit as e:  # argparse's usage errors
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def opened(qtbot, w, path: Path) -> None:  # type: ignore[no-untyped-def]
    w.open_snapshot(str(path))
    shown(qtbot, w, lambda g: w.info is not None and not w.info.live and w.context.endswith(path.name)
          and bool(g.edges))


def test_a_snapshot_saved_while_replaying_says_when_its_inventory_was_read(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                            capsys) -> None:
    """Saved while replaying an hour back, a snapshot holds that moment's traffic and the workloads and
    Istio config as read when it was saved; the file said the moment alone, and a colleague took the
    inventory for that moment's. The file records when the inventory was read, and the window's status
    bar and `meshdesk graph --snapshot` say it when it is not the traffic's moment."""
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    live = tmp_path / "live.json"
    assert w.save_snapshot(str(live))
    w.toolbar.replay_action.trigger()
    moment = w.replay.time
    assert moment <= DEMO_NOW - 1800
    shown(qtbot, w, lambda g: g.request.queryTime == moment)
    replayed = tmp_path / "replayed.json"
    assert w.save_snapshot(str(replayed))

    meta = load_snapshot(replayed).meta
    assert meta["takenAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
    assert meta["inventoryAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(DEMO_NOW))

    w.toolbar.replay_action.trigger()  # live again, then the file as a colleague opens it
    opened(qtbot, w, replayed)
    assert utc(moment)[:10] == utc(DEMO_NOW)[:10]  # (one day: said once)
    assert w.status_prometheus.text() == (f"Prometheus: none (offline snapshot, taken {utc(moment)}; inventory read "
                                          f"{utc(DEMO_NOW)[11:]})")
    code, out, err = graph_cli(capsys, "--snapshot", str(replayed))
    assert code == 0 and "SOURCE" in out
    assert (f"meshdesk graph: the snapshot's traffic is of {utc(moment)}; its workloads and Istio config were "
            f"read at {utc(DEMO_NOW)}\n") in err

    # a live graph's inventory is read with its traffic: nothing more is said of it
    opened(qtbot, w, live)
    assert w.status_prometheus.text() == f"Prometheus: none (offline snapshot, taken {utc(DEMO_NOW)})"
    code, _out, err = graph_cli(capsys, "--snapshot", str(live))
    assert code == 0 and "read at" not in err
