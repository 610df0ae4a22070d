"""Ctrl+C in the main window as a user meets it: in the YAML, log and Envoy views (and their tables) it
copies what is selected there; on the graph and in the details panel it copies the details, as the
View menu's "Copy details" does. Real widgets on the demo, offscreen; no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_APP
from tests.ui_helpers import DEMO_NOW, open_windows, shown

# a dock floated offscreen cannot be raised (not ours to fix)
pytestmark = [pytest.mark.ui, pytest.mark.qt_log_ignore(r"^This plugin does not support (propagateSizeHints|raise)\(\)$")]


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[Any]:
    """A main window on the demo with the performance views' docks, as the app has them; active, so its
    window-wide shortcuts are live."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    def new_window() -> MainWindow:
        w = MainWindow(context=DEMO, namespaces=["shop"], factories={DEMO: lambda: DemoCluster(clock=lambda: DEMO_NOW)})
        w.add_extension(PerformanceViews(w, poll_ms=0))
        return w

    windows = open_windows(qtbot, new_window)
    w = next(windows)()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    shown(qtbot, w, lambda g: any(n.workload == "productpage-v1" for n in g.nodes.values()))
    yield w
    next(windows, None)


def _select(w: Any, workload: str) -> None:
    w.view.select([next(n.id for n in w.graph.nodes.values() if n.node_type == NODE_APP and n.workload == workload)])


def _ctrl_c(qtbot: QtBot, widget: QWidget) -> str:
    """Ctrl+C with ``widget`` focused (as after a click in it); what the clipboard holds then."""
    QApplication.clipboard().setText("before")
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=3000)
    QTest.keyClick(widget, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    return QApplication.clipboard().text()


def _select_line(text: QPlainTextEdit, line: int) -> str:
    """Selects line ``line`` of ``text`` as a drag over it would; returns the line."""
    cursor = QTextCursor(text.document().findBlockByNumber(line))
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
    text.setTextCursor(cursor)
    selected = cursor.selectedText()
    assert selected
    return selected


def test_ctrl_c_copies_the_selected_yaml_and_log_lines_not_the_details(qtbot: QtBot, window: Any) -> None:
    w = window
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    with qtbot.waitSignal(perf.logs.linesLoaded, timeout=20000):
        _select(w, "reviews-v2")
    qtbot.waitUntil(lambda: bool(w.panel.copy_text()), timeout=5000)
    details = w.panel.copy_text()
    # the logs: a line the user selected
    perf.docks["Logs"].show()
    perf.docks["Logs"].raise_()
    line = _select_line(perf.logs.text, 0)
    assert line != details and _ctrl_c(qtbot, perf.logs.text) == line
    # the YAML of an Istio object
    with qtbot.waitSignal(perf.config.objectShown, timeout=5000):
        perf.config.show_object(("DestinationRule", "shop", "reviews"))
    perf.docks["Istio config"].show()
    perf.docks["Istio config"].raise_()
    assert perf.config.yaml.find("kind: DestinationRule")
    assert _ctrl_c(qtbot, perf.config.yaml) == "kind: DestinationRule"
    # with nothing selected there, Ctrl+C copies nothing (and not the details either)
    perf.config.yaml.moveCursor(QTextCursor.MoveOperation.Start)
    assert _ctrl_c(qtbot, perf.config.yaml) == "before"
    # on the graph and in the details panel Ctrl+C still copies the details, as "Copy details" does
    assert _ctrl_c(qtbot, w.view) == details
    w.panel.body.selectAll()
    assert _ctrl_c(qtbot, w.panel.body) == details


def test_ctrl_c_copies_the_envoy_views_selection_and_table_cell(qtbot: QtBot, window: Any) -> None:
    w = window
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    envoy = perf.envoy
    _select(w, "productpage-v1")
    with qtbot.waitSignal(envoy.loaded, timeout=20000):
        perf.docks["Envoy"].show()
    perf.docks["Envoy"].raise_()
    # a cell of the clusters table
    table = envoy.clusters.table
    model = table.model()
    index = next(model.index(0, c) for c in range(model.columnCount()) if model.data(model.index(0, c)))
    table.setCurrentIndex(index)
    cell = model.data(index)
    assert _ctrl_c(qtbot, table) == cell
    # the raw config dump: a line the user selected
    envoy.tabs.setCurrentIndex(envoy.tabs.indexOf(envoy.raw.parentWidget()))
    qtbot.waitUntil(lambda: envoy.raw.blockCount() > 3, timeout=5000)
    line = _select_line(envoy.raw, 1)
    assert _ctrl_c(qtbot, envoy.raw) == line
    # the dock floated (a window of its own): the same
    perf.docks["Envoy"].setFloating(True)
    assert envoy.raw.window() is perf.docks["Envoy"]
    line = _select_line(envoy.raw, 2)
    assert _ctrl_c(qtbot, envoy.raw) == line
