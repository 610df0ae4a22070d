"""Snapshot details a QA round found: a snapshot saved while replaying says when its inventory was read;
a snapshot that asks for no boxes is drawn without them by the window as by `meshdesk graph`; a
gzip-compressed snapshot opens in both, and a snapshot is not written under a .gz name. Real windows on
the demo mesh, real files, the real command line through its main."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from meshdesk.commands.graph import main as graph_main
from meshdesk.mesh.graph.model import BOX_CLUSTER, BOX_NAMESPACE, NODE_BOX
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


def _boxes_of_kiali(stdout: str) -> set[tuple[str, str]]:
    nodes = json.loads(stdout)["elements"]["nodes"]
    return {(n["data"]["isBox"], n["data"].get("namespace", "")) for n in nodes if n["data"].get("isBox")}


def _boxes_in_window(graph: Any) -> set[tuple[str, str]]:
    return {(n.box, n.namespace if n.box != BOX_CLUSTER else "") for n in graph.nodes.values()
            if n.node_type == NODE_BOX}


@pytest.mark.parametrize("box_by", [[], None, ["namespace"], ["app"]],
                         ids=["empty", "missing", "namespace", "app-of-a-workload-graph"])
def test_a_snapshot_is_boxed_in_the_window_as_the_command_line_boxes_it(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                        capsys, box_by: list[str] | None) -> None:
    """Snapshots of the first versions ask for no boxes (`boxBy: []`, or no boxBy). As Kiali reads such a
    request (its graph options default to no boxes), `meshdesk graph --snapshot F --format kiali` drew
    none; the window drew a box per namespace, by its own Display toggles. Both now draw what the file
    asks for, and the same numbers."""
    path = tmp_path / "two.json"
    code, _out, err = graph_cli(capsys, "--demo", "-n", "shop", "-n", "hello", "--save-snapshot", str(path))
    assert code == 0, err
    obj = json.loads(path.read_text())
    if box_by is None:
        del obj["request"]["boxBy"]
    else:
        obj["request"]["boxBy"] = box_by
    if box_by == ["app"]:  # (an app graph is boxed by app whatever it asks; a workload graph when asked)
        obj["request"]["graphType"] = "workload"
    path.write_text(json.dumps(obj))

    code, out, err = graph_cli(capsys, "--snapshot", str(path), "--format", "kiali")
    assert code == 0, err
    expected = _boxes_of_kiali(out)
    assert {kind for kind, _ns in expected} == ({"app", BOX_NAMESPACE} if box_by == ["namespace"] else {"app"})

    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    assert w.toolbar.choices.boxes  # the window's own choice, on by default as in Kiali's page
    opened(qtbot, w, path)
    graph = shown(qtbot, w, lambda g: _boxes_in_window(g) == expected)
    assert w.toolbar.choices.boxes == (box_by == ["namespace"])
    assert len(graph.edges) == len(json.loads(out)["elements"]["edges"])


def test_a_gzip_compressed_snapshot_opens_in_the_window_and_the_command_line(qtbot, demo_window, tmp_path,  # type: ignore[no-untyped-def]
                                                                            capsys, monkeypatch) -> None:
    """A big mesh's snapshot is tens of MB and shrinks some tenfold with gzip, the way it is mailed or
    kept: `F.json.gz` was "not UTF-8 text (byte 1)" to both. It opens as its JSON does; one cut short is
    said to be; a snapshot is written as plain JSON only, so a .gz name is refused rather than written."""
    plain = tmp_path / "shop.json"
    code, _out, err = graph_cli(capsys, "--demo", "-n", "shop", "--save-snapshot", str(plain))
    assert code == 0, err
    packed = tmp_path / "shop.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    code, want, _err = graph_cli(capsys, "--snapshot", str(plain), "--format", "kiali")
    code_gz, got, err = graph_cli(capsys, "--snapshot", str(packed), "--format", "kiali")
    assert (code, code_gz) == (0, 0), err
    assert got == want

    w = demo_window(["hello"])
    shown(qtbot, w, lambda g: bool(g.edges))
    opened(qtbot, w, packed)
    assert w.graph is not None and w.graph.request.namespaces == ("shop",)
    assert len(w.graph.edges) == len(json.loads(want)["elements"]["edges"])
    # saved again, it is offered its own name as a .json (not "shop.json-<time>.json")
    from PySide6.QtWidgets import QFileDialog

    offered: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (offered.append(a[2]), ("", ""))[1])
    w.save_snapshot()
    assert len(offered) == 1 and Path(offered[0]).name.startswith("shop-") and offered[0].endswith(".json")

    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(packed.read_bytes()[:2000])
    code, out, err = graph_cli(capsys, "--snapshot", str(cut))
    assert code == 2 and out == ""
    assert err == (f"meshdesk graph: snapshot file {cut} is a gzip file that cannot be decompressed: it ends before "
                   "its compressed data does, so it may have been cut short (a copy or download that did not "
                   "finish)\n")

    # written plain only: a .gz name is refused, by the command line and by the window, and nothing is written
    out_gz = tmp_path / "again.json.gz"
    code, out, err = graph_cli(capsys, "--snapshot", str(plain), "--save-snapshot", str(out_gz))
    assert code == 2 and out == "" and "name it .json (gzip it afterwards" in err
    assert not w.save_snapshot(str(out_gz))
    qtbot.waitUntil(lambda: w.file_problem_box is not None and w.file_problem_box.isVisible(), timeout=10000)
    box = w.file_problem_box
    assert box is not None and "name it .json (gzip it afterwards" in box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    assert not out_gz.exists()
