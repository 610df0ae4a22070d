"""The performance views inside the real main window on the demo: lists fill from each poll, a row
picked in a list selects the node on the canvas and back, metrics and logs follow the selection,
and nothing keeps running after shutdown."""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE
from meshdesk.mesh.metrics import MetricsTarget
from meshdesk.ui.lists import SERVICES, WORKLOADS
from meshdesk.ui.mainwindow import DEMO, MainWindow
from meshdesk.ui.metrics_view import NO_TARGET
from meshdesk.ui.perf_views import PerformanceViews
from tests.ui_helpers import extra_threads

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def test_views_in_the_main_window_follow_the_canvas(qtbot: QtBot) -> None:
    before = {t.ident for t in threading.enumerate()}
    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and bool(perf.lists.pages[SERVICES].model.rows), timeout=20000)
        assert perf.metrics.source is not None and perf.logs.source is not None
        graph = w.graph
        assert graph is not None
        # list -> canvas
        page = perf.lists.pages[SERVICES]
        row = next(i for i, r in enumerate(page.visible_rows()) if r.name == "reviews" and r.namespace == "shop")
        reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        assert reviews is not None
        with qtbot.waitSignal(perf.metrics.refreshed, timeout=20000):
            page.table.selectRow(row)
        assert w.view.selected_ids() == [reviews.id]
        assert perf.metrics.target == MetricsTarget.service("shop", "reviews")
        # canvas -> lists, metrics, logs
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        with qtbot.waitSignal(perf.logs.linesLoaded, timeout=20000):
            w.view.select([app.id])
        assert [r.name for r in perf.lists.pages[WORKLOADS].selected_rows()] == ["reviews-v2"]
        assert perf.metrics.target == MetricsTarget.app("shop", "reviews", "inbound", "v2")
        assert perf.logs.pod.count() >= 1 and perf.logs.lines
        assert set(perf.docks) == {"Metrics", "Lists", "Istio config", "Logs", "Envoy", "Traces"}
        # the sparklines live in the details dock, under the details panel, and follow the selection
        assert w.dock.widget().isAncestorOf(perf.sparklines) and w.dock.widget().isAncestorOf(w.panel)
        assert perf.sparklines.isVisible() and perf.sparklines.target == perf.metrics.target
        qtbot.waitUntil(lambda: bool(perf.sparklines.charts["request_volume"].data()), timeout=20000)

        def shown_charts() -> set[str]:
            return {k for k, c in perf.sparklines.charts.items() if c.isVisible()}

        # only the charts of the protocols the selection's inbound traffic carries: reviews v2 and
        # ratings v1 serve HTTP (ratings calls mongodb over TCP: outbound), mongodb serves TCP
        assert shown_charts() == {"request_volume", "error_share", "request_duration"}
        assert perf.sparklines.direction_label.text() == "Inbound traffic"
        ratings = graph.find_node(node_type=NODE_APP, namespace="shop", workload="ratings-v1")
        mongodb = graph.find_node(node_type=NODE_APP, namespace="shop", workload="mongodb-v1")
        assert ratings is not None and mongodb is not None
        w.view.select([ratings.id])
        assert shown_charts() == {"request_volume", "error_share", "request_duration"}
        w.view.select([mongodb.id])
        assert shown_charts() == {"tcp_sent"}
        qtbot.waitUntil(lambda: bool(perf.sparklines.charts["tcp_sent"].data()), timeout=20000)
        # the ingress gateway: nothing comes into it, so its charts are of what it sends
        gateway = graph.find_node(workload="istio-ingressgateway")
        assert gateway is not None
        w.view.select([gateway.id])
        # (outside the graph's namespaces: what it sends to them, as its edges)
        assert perf.sparklines.direction_label.text() == "Outbound traffic to namespaces hello, shop, travel"
        assert perf.sparklines.target is not None and perf.sparklines.target.direction == "outbound"
        assert shown_charts() == {"request_volume", "error_share", "request_duration"}
        qtbot.waitUntil(lambda: bool(perf.sparklines.charts["request_volume"].data()), timeout=20000)
        # an edge: only the charts of its protocol (an HTTP edge has no TCP bytes, a TCP edge no requests)
        http = next(e for e in graph.edges.values() if e.protocol == "http" and e.rate > 0)
        w.view.select([http.id])
        assert shown_charts() == {"request_volume", "error_share", "request_duration"}
        assert not perf.sparklines.direction_label.isVisible()
        qtbot.waitUntil(lambda: bool(perf.sparklines.charts["request_volume"].data()), timeout=20000)
        tcp = next(e for e in graph.edges.values() if e.protocol == "tcp" and e.rate > 0)
        w.view.select([tcp.id])
        assert shown_charts() == {"tcp_sent"}
        qtbot.waitUntil(lambda: bool(perf.sparklines.charts["tcp_sent"].data()), timeout=20000)
        w.view.select([])
        assert not perf.sparklines.isVisible()
    finally:
        perf.shutdown()
        w.close()
    qtbot.waitUntil(lambda: [t for t in extra_threads(before) if "QThread" in t or "meshdesk" in t] == [],
                    timeout=10000)


def test_the_window_and_its_docks_come_back_as_the_user_left_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Size and docks survive a restart (through the settings file): the Metrics dock the user opened
    is open again, the legend they closed stays closed. A settings file without them: the defaults."""
    import argparse

    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["hello"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    make = next(windows)
    first = make()
    assert not first.restore_window(), "nothing was kept yet"
    qtbot.waitExposed(first)
    first.resize(first.width(), 560)  # the offscreen screen is 800x600: a size that fits it
    metrics = first.extensions[0].docks["Metrics"]
    metrics.show()
    first.legend_dock.close()
    qtbot.waitUntil(lambda: first.size().height() == 560, timeout=3000)
    first.close()
    again = make_window(opts)  # reads the settings file the first one wrote when it closed
    qtbot.addWidget(again)
    try:
        assert not again.extensions[0].docks["Metrics"].isHidden()
        assert again.legend_dock.isHidden()
        assert again.size().height() == 560  # (Qt keeps a restored width within the 800-wide screen)
    finally:
        again.close()
    next(windows, None)


def test_lists_charts_and_logs_let_go_when_nothing_or_another_context_is_shown(qtbot: QtBot) -> None:
    """With no namespace chosen, or after switching to a context that cannot be opened, the lists,
    the Istio config, the charts and the logs show nothing: they used to go on showing the demo's
    workloads and charts under the other context's name."""
    from meshdesk.ui.lists import APPS, CONFIG

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))  # as the app adds it: told of context switches
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and bool(perf.lists.pages[APPS].model.rows), timeout=20000)
        graph = w.graph
        assert graph is not None
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        with qtbot.waitSignal(perf.logs.linesLoaded, timeout=20000):
            w.view.select([app.id])
        assert perf.metrics.target is not None and perf.logs.workload is not None
        w.toolbar.select_namespaces([])
        qtbot.waitUntil(lambda: not perf.lists.pages[APPS].model.rows, timeout=5000)
        assert not perf.lists.pages[CONFIG].model.rows and perf.config.inventory is None
        w.toolbar.select_namespaces(["shop"])
        qtbot.waitUntil(lambda: bool(perf.lists.pages[APPS].model.rows), timeout=20000)
        w.switch_context("no-such-context")
        assert all(not page.model.rows for page in perf.lists.pages.values())
        assert perf.metrics.source is None and perf.metrics.target is None
        assert perf.sparklines.target is None and perf.logs.source is None and perf.logs.workload is None
    finally:
        w.close()  # shuts its extensions down


def test_a_deleted_workloads_pod_is_marked_gone_in_the_logs(qtbot: QtBot) -> None:
    """The Logs dock kept offering a deleted workload's pod as if it were there; when the next poll's
    inventory no longer has the workload, its pods are marked gone (the text read stays)."""
    import dataclasses

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and w.inventory is not None, timeout=20000)
        graph, inventory = w.graph, w.inventory
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        with qtbot.waitSignal(perf.logs.linesLoaded, timeout=20000):
            w.view.select([app.id])
        pod = perf.logs.pod.currentText()
        text = perf.logs.text.toPlainText()
        # the same mesh read again after `kubectl delete deployment reviews-v2`, but where deployments
        # could not all be read: that says nothing of what was deleted
        after = dataclasses.replace(inventory, workloads=[x for x in inventory.workloads if x.name != "reviews-v2"])
        perf.set_data(graph, dataclasses.replace(after, hidden={"shop/deployments": "forbidden"}))
        assert perf.logs.pod.currentText() == pod
        perf.set_data(graph, after)
        assert perf.logs.pod.currentText() == f"{pod} (gone)" and perf.logs.text.toPlainText() == text
    finally:
        perf.shutdown()
        w.close()


def test_a_deleted_workloads_proxy_pod_is_marked_gone_in_the_envoy_dock(qtbot: QtBot) -> None:
    """The Envoy dock went on offering a deleted workload's proxy pod as if it were there while the Logs
    dock marked it gone; it is marked gone there too, the config read from it kept."""
    import dataclasses

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and w.inventory is not None, timeout=20000)
        graph, inventory = w.graph, w.inventory
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        w.view.select([app.id])
        with qtbot.waitSignal(perf.envoy.loaded, timeout=20000):
            perf.docks["Envoy"].show()
        pod = perf.envoy.pod.currentText()
        assert pod.startswith("reviews-v2-")
        after = dataclasses.replace(inventory, workloads=[x for x in inventory.workloads if x.name != "reviews-v2"])
        # deployments not all read: that says nothing of what was deleted
        perf.set_data(graph, dataclasses.replace(after, hidden={"shop/deployments": "forbidden"}))
        assert perf.envoy.pod.currentText() == pod
        perf.set_data(graph, after)
        assert perf.envoy.pod.currentText() == f"{pod} (gone)" and perf.logs.pod.currentText().endswith(" (gone)")
        assert perf.envoy.config is not None and perf.envoy.clusters.visible_rows()
    finally:
        perf.shutdown()
        w.close()

def test_a_direction_switch_reads_the_target_from_the_latest_graph(qtbot: QtBot) -> None:
    """The metrics view kept the graph of the moment the node was selected: after a refresh that changed
    the node (its sidecar gone), switching Inbound/Outbound and back still charted what its own proxy
    reports, which no longer reports anything."""
    import copy

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and w.inventory is not None, timeout=20000)
        graph, inventory = w.graph, w.inventory
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        with qtbot.waitSignal(perf.metrics.refreshed, timeout=20000):
            w.view.select([app.id])
        assert perf.metrics.target is not None and perf.metrics.target.reporter == "destination"
        assert perf.sparklines.target is not None and perf.sparklines.target.reporter == "destination"
        later = copy.deepcopy(graph)
        later.nodes[app.id].has_missing_sidecar = True  # the next poll: its sidecar was taken out
        # the refresh itself re-reads the target: the charts and the sparklines ask the callers' reports at
        # once (they charted its own proxy's, which reports nothing now, until a direction switch)
        with qtbot.waitSignals([perf.metrics.refreshed, perf.sparklines.refreshed], timeout=20000):
            perf.set_data(later, inventory)
        for charts in (perf.metrics, perf.sparklines):
            assert charts.target is not None and charts.target.reporter == "source"
            assert charts.last_result is not None and charts.last_result.target == charts.target
        perf.metrics.direction.setCurrentIndex(1)
        assert perf.metrics.target is not None and perf.metrics.target.direction == "outbound"
        perf.metrics.direction.setCurrentIndex(0)
        # no proxy of its own reports what comes in: its callers' reports, as the new graph says
        assert perf.metrics.target is not None and perf.metrics.target.reporter == "source"
        assert perf.metrics.target.title == MetricsTarget.app("shop", "reviews", "inbound", "v2").title
    finally:
        perf.shutdown()
        w.close()


def test_the_sparklines_show_or_hide_as_a_refreshed_graph_gives_or_takes_the_selections_charts(
        qtbot: QtBot) -> None:
    """A ServiceEntry's node charts the requests to the hosts the graph matched to it: a refresh in which
    none is matched any more left the sparklines standing under the details with the last charts; one in
    which they are matched again left them hidden until the next selection."""
    import copy

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None and w.inventory is not None, timeout=20000)
        graph, inventory = w.graph, w.inventory
        entry = next(n for n in graph.nodes.values() if n.is_service_entry is not None)
        with qtbot.waitSignal(perf.sparklines.refreshed, timeout=20000):
            w.view.select([entry.id])
        assert not perf.sparkline_area.isHidden()
        unmatched = copy.deepcopy(graph)
        unmatched.nodes[entry.id].dest_services = []
        perf.set_data(unmatched, inventory)
        assert perf.sparklines.target is None and perf.sparkline_area.isHidden()
        with qtbot.waitSignal(perf.sparklines.refreshed, timeout=20000):
            perf.set_data(copy.deepcopy(graph), inventory)
        assert perf.sparklines.target is not None and not perf.sparkline_area.isHidden()
    finally:
        perf.shutdown()
        w.close()


def test_the_keyboard_reaches_every_dock(qtbot: QtBot) -> None:
    """The docks could be reached only with the mouse: Alt+1 ... Alt+5 show one and put the keyboard
    in it (again: hide it, the keyboard back on the graph), F6 / Shift+F6 go round the panes in view."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        w.view.setFocus()
        qtbot.waitUntil(lambda: w.view.hasFocus(), timeout=5000)

        def focus_in(widget: object) -> bool:
            now = QApplication.focusWidget()
            return now is not None and (now is widget or widget.isAncestorOf(now))  # type: ignore[attr-defined]

        lists = perf.docks["Lists"]
        QTest.keyClick(w.view, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: lists.isVisible() and focus_in(lists), timeout=5000)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
        logs = perf.docks["Logs"]  # shares Lists' tab bar: raised in front of it
        qtbot.waitUntil(lambda: focus_in(logs) and lists.visibleRegion().isEmpty(), timeout=5000)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: logs.isHidden() and w.view.hasFocus(), timeout=5000)

        # F6 round the panes in view: the graph, then the docks (details, the one bottom dock)
        QTest.keyClick(w.view, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: focus_in(lists), timeout=5000)
        panes = w.panes()
        assert panes[0] is w.view and lists in panes and logs not in panes and perf.docks["Envoy"] not in panes
        def pane_with_focus() -> object:
            return next((p for p in panes if focus_in(p)), None)

        visited = []
        for _ in range(len(panes)):
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
            visited.append(pane_with_focus())
        # all the way round, each pane once, back to the Lists dock
        assert visited[-1] is lists and visited[0] is w.view and w.dock in visited
        assert len(set(map(id, visited))) == len(visited)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
        assert pane_with_focus() is visited[-2]
        # Shift is let go where the focus went: else the application goes on thinking it held, and the
        # next tests' selectRow() extends a selection instead of making one
        QTest.keyRelease(QApplication.focusWidget(), Qt.Key.Key_Shift)
        assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    finally:
        perf.shutdown()
        w.close()


def test_an_app_graphs_lists_judge_workloads_apart_only_while_they_are_shown(qtbot: QtBot) -> None:
    """An app graph merges an app's versions; the lists judge each workload apart from a second build of
    the same telemetry, which doubled every poll's cost while the lists were not even open. Hidden (and
    no namespace summary counting apps in the Details panel: a node is selected), no second build;
    opened, the graph shown is judged at once (in a thread) and each poll judges again."""
    from meshdesk.ui.lists import build_rows
    from meshdesk.ui.poller import default_builder

    w = MainWindow(context=DEMO, namespaces=["shop"])
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.add_extension(perf)
    w.show()
    try:
        w.toolbar.choose(graph_type="app")
        qtbot.waitUntil(lambda: w.graph is not None and w.snapshot is not None
                        and w.snapshot.request.graphType == "app", timeout=20000)
        assert w.graph is not None
        w.view.select([next(n.id for n in w.graph.nodes.values() if n.node_type == NODE_APP)])
        with qtbot.waitSignal(w.graphShown, timeout=20000):
            w.poller.refresh_now()
        assert w.graph.list_health is None and w.panel.kind != "summary"  # the lists are hidden
        shown_graph = w.graph
        perf.docks["Lists"].show()
        qtbot.waitUntil(lambda: shown_graph.list_health is not None, timeout=20000)
        assert w.snapshot is not None
        expected = build_rows(default_builder(w.snapshot), w.snapshot.inventory, shown_graph.validations or {})
        rows = {r.name: r.health for r in perf.lists.pages[WORKLOADS].model.rows}
        assert rows == {r.name: r.health for r in expected[WORKLOADS]} and "Degraded" in rows.values()
        # while the lists are open, each poll judges them with the graph
        with qtbot.waitSignal(w.graphShown, timeout=20000):
            w.poller.refresh_now()
        assert w.graph is not shown_graph and w.graph.list_health is not None
        perf.docks["Lists"].hide()
        with qtbot.waitSignal(w.graphShown, timeout=20000):
            w.poller.refresh_now()
        assert w.graph.list_health is None
    finally:
        w.close()
    qtbot.waitUntil(lambda: not [t for t in extra_threads(set()) if "list-health" in t], timeout=5000)


def test_a_docks_key_puts_the_keyboard_where_tab_starts_in_it(qtbot: QtBot) -> None:
    """Alt+3 put the keyboard on the Istio config dock's references pane, the last of its Tab stops:
    one Tab more left the dock, and its filter and object list were out of the keyboard's reach. Each
    dock's key puts the keyboard on its first stop, and Tab goes on through the dock."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        w.view.setFocus()
        qtbot.waitUntil(lambda: w.view.hasFocus(), timeout=5000)
        QTest.keyClick(w.view, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
        config = perf.docks["Istio config"]
        qtbot.waitUntil(lambda: config.isVisible() and QApplication.focusWidget() is not w.view, timeout=5000)
        assert QApplication.focusWidget() is perf.config.filter  # typing filters the objects at once
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is perf.config.objects
    finally:
        perf.shutdown()
        w.close()


def test_every_tab_stop_has_a_name_a_screen_reader_reads(qtbot: QtBot) -> None:
    """A screen reader said only "edit" or "button" at the Find and Hide fields, their presets' arrow
    buttons, the docks' filters, tables, text views, log and trace controls (a placeholder or a tooltip
    is no name), and the Istio config dock stopped Tab on an empty references pane. Every Tab stop in
    the window and its docks has a name now, and none is empty."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import QApplication, QWidget

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)

    def tab_stops() -> list[QWidget]:
        out = []
        stop = w.nextInFocusChain()
        while stop is not w:
            if stop.isVisible() and stop.isEnabled() and stop.focusPolicy() & Qt.FocusPolicy.TabFocus \
                    and stop.focusProxy() is None and not stop.visibleRegion().isEmpty():  # (what Tab reaches)
                out.append(stop)
            stop = stop.nextInFocusChain()
        return out

    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        unnamed: dict[str, list[str]] = {}
        for title, dock in [("window", None), *perf.docks.items()]:
            if dock is not None:
                dock.show()
                dock.raise_()
                qtbot.waitUntil(lambda d=dock: not d.visibleRegion().isEmpty(), timeout=5000)  # type: ignore[misc]
            for stop in tab_stops():
                if dock is not None and not dock.isAncestorOf(stop):
                    continue
                seen = QAccessible.queryAccessibleInterface(stop)
                if seen is None or not seen.text(QAccessible.Text.Name).strip():
                    unnamed.setdefault(title, []).append(f"{type(stop).__name__} {stop.toolTip()[:30]!r}")
        assert unnamed == {}
        assert w.toolbar.find_edit.accessibleName() == "Find" and w.toolbar.hide_edit.accessibleName() == "Hide"
    finally:
        perf.shutdown()
        w.close()


def test_a_linux_screen_reader_says_what_each_combo_box_chooses_not_only_its_value(qtbot: QtBot) -> None:
    """On Linux Qt names a combo box by its current value and leaves its accessible name unsaid (it takes
    the name from a label whose buddy the combo box is): a reader said "Versioned app graph, combo box",
    "30 min, combo box", "Pod, combo box", never what they choose. Every combo box of the toolbars and
    docks is labelled by its name ("labelled by" to the reader), and the label stays out of sight."""
    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import QComboBox

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    qtbot.waitExposed(w)
    try:
        combos = w.findChildren(QComboBox)
        assert {w.toolbar.graph_type_combo, perf.metrics.range, perf.logs.pod, perf.traces.limit_box} <= set(combos)
        said: dict[str, list[str]] = {}
        for combo in combos:
            assert combo.accessibleName(), combo.currentText()
            seen = QAccessible.queryAccessibleInterface(combo)
            labels = [iface for iface, _rel in seen.relations(QAccessible.RelationFlag.Label)]
            said[combo.accessibleName()] = [label.text(QAccessible.Text.Name) for label in labels]
            assert all(label.state().invisible for label in labels)
        assert said["Graph type"] == ["Graph type"] and said["Time range"] == ["Time range"]
        assert {name: labels for name, labels in said.items() if labels != [name]} == {}
        # a window too narrow for the toolbar: the button for the rest of it is named too (was "check box")
        from PySide6.QtWidgets import QToolButton

        w.resize(420, 600)
        more = w.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        qtbot.waitUntil(lambda: more is not None and more.isVisible(), timeout=5000)
        assert QAccessible.queryAccessibleInterface(more).text(QAccessible.Text.Name) == "The rest of the main toolbar"
    finally:
        perf.shutdown()
        w.close()


def test_help_names_every_docks_key(qtbot: QtBot) -> None:
    """Help > Keyboard shortcuts (and the README) said Alt+1 … Alt+5 for the Metrics, Lists, Istio
    config, Logs and Envoy docks: the Traces dock's Alt+6 was nowhere, so its only way in was the mouse
    or the View menu. The list names every dock and its key, and Alt+6 does what it says."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from meshdesk.ui.mainwindow import shortcut_rows

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    try:
        row = next((keys, what) for keys, what in shortcut_rows() if "dock" in what and keys.startswith("Alt+"))
        assert row[0].endswith(f"Alt+{len(perf.docks)}")
        assert all(title in row[1] for title in perf.docks)
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        w.view.setFocus()
        qtbot.waitUntil(lambda: w.view.hasFocus(), timeout=5000)
        traces = perf.docks["Traces"]
        QTest.keyClick(w.view, Qt.Key.Key_6, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: traces.isVisible() and traces.isAncestorOf(QApplication.focusWidget()),
                        timeout=5000)
    finally:
        perf.shutdown()
        w.close()


def test_a_choice_is_named_for_what_it_chooses(qtbot: QtBot) -> None:
    """A screen reader read the toolbar's, the Metrics dock's and the replay bar's choices by their value
    alone ("Last 10m, combo box", "Inbound, combo box"; the replay slider "slider, 35"), never what they
    choose. Each combo box and slider has a name of its own beside its value."""
    from PySide6.QtWidgets import QComboBox, QSlider

    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = PerformanceViews(w, poll_ms=0)
    w.show()
    qtbot.waitExposed(w)
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        perf.docks["Metrics"].show()
        w.toolbar.replay_action.setChecked(True)
        qtbot.waitUntil(lambda: w.replay.slider.isVisible(), timeout=5000)
        said = {}
        for choice in [*w.findChildren(QComboBox), *w.findChildren(QSlider)]:
            if not choice.isVisible():
                continue
            # (the name Windows' and macOS's screen readers read; Qt on Linux names a combo box by its value
            # and a label's buddy relation)
            name = choice.accessibleName()
            value = choice.currentText() if isinstance(choice, QComboBox) else ""
            if not name.strip() or name == value:
                said[f"{type(choice).__name__} {choice.toolTip()[:30]!r}"] = name
        assert said == {}
        assert w.toolbar.duration_combo.accessibleName() == "Time window"
    finally:
        w.toolbar.replay_action.setChecked(False)
        perf.shutdown()
        w.close()


def test_the_metrics_charts_are_made_when_the_dock_is_first_shown(qtbot: QtBot) -> None:
    """The window opens without making the Metrics dock's two dozen charts (a second of its start) while
    the dock is hidden; shown after a node was selected meanwhile, it charts that node at once, as if
    the charts had been there all along. The sparklines are made when a selection shows them."""
    import argparse

    from meshdesk.ui.app import make_window
    from meshdesk.ui.charts import MetricChart
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    perf = w.extensions[0]
    dock = perf.docks["Metrics"]
    qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
    assert dock.isHidden()
    assert perf.metrics.findChildren(MetricChart) == []
    assert perf.sparklines.findChildren(MetricChart) == []
    graph = w.graph
    node = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
    assert node is not None
    with qtbot.waitSignal(perf.metrics.refreshed, timeout=20000):  # fetched while hidden, as before
        w.view.select([node.id])
    assert perf.metrics.findChildren(MetricChart) == [], "a hidden dock makes no chart"
    assert len(perf.sparklines.findChildren(MetricChart)) == 4  # shown under the details with the selection
    qtbot.waitUntil(lambda: bool(perf.sparklines.charts["request_volume"].data()), timeout=20000)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: perf.metrics.isVisible(), timeout=5000)
    charts = {c.key: c for c in perf.metrics.findChildren(MetricChart)}
    assert set(charts) == set(perf.metrics.chart_order)  # those in sight (the proxy's: when chosen)
    assert perf.metrics.title.text() == "app shop/reviews v2 (inbound)"  # the selected node
    shown = [k for k, c in charts.items() if c.isVisible()]
    assert "request_volume" in shown and "proxy_uptime" not in shown  # the request charts, not the proxy's
    result = perf.metrics.last_result
    assert result is not None and result.target == perf.metrics.target
    drawn = charts["request_volume"].data()
    assert drawn and sorted(values for _, values in drawn.values()) == \
        sorted(list(line.values) for line in result.chart_lines("request_volume"))
    assert charts["request_volume"].status.text() != NO_TARGET
    w.close()
    next(windows, None)


def test_the_window_opens_without_importing_pyqtgraph(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """pyqtgraph and numpy took most of a second of the window's start for charts in docks not shown:
    a fresh process opens the demo's window without them, and imports them when the Metrics dock is
    first shown (its charts made then)."""
    import os
    import subprocess
    import sys

    child = (
        "import argparse, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from meshdesk.ui.app import make_window\n"
        "w = make_window(argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=None,"
        " snapshot=None))\n"
        "w.show(); app.processEvents()\n"
        "print('at start:', 'pyqtgraph' in sys.modules, 'numpy' in sys.modules)\n"
        "dock = w.extensions[0].docks['Metrics']; dock.show(); app.processEvents()\n"
        "from meshdesk.ui.charts import MetricChart\n"
        "print('metrics shown:', 'pyqtgraph' in sys.modules, len(w.extensions[0].metrics.findChildren(MetricChart)))\n"
        "w.quick_exit = True; w.close()\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MESHDESK_CONFIG_DIR=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", child], env=env, cwd=root, capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    assert "at start: False False" in out
    assert "metrics shown: True 14" in out  # the request and TCP charts (the proxy's seven when chosen)


def test_no_dock_widens_the_window_past_a_small_laptop_screen(qtbot: QtBot) -> None:
    """Qt makes a window at least as wide as its docks need. Shown for a workload, the Envoy dock's row
    (the pod's whole name, "34 clusters, 27 listeners, 14 routes", "currently warning"), the Traces dock's
    ("Traces of workload shop/reviews-v2" and the tag field's example) and the Metrics dock's choosers
    asked for more than a 1280-pixel screen has beside the details, and the window grew past the screen's
    edge, the details cut off. Each dock now fits a 1024-pixel window beside the details: what does not
    fit is cut with "…", and said whole in its tooltip."""
    w = MainWindow(context=DEMO)
    qtbot.addWidget(w)
    perf = w.add_extension(PerformanceViews(w, poll_ms=0))
    w.resize(1024, 700)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
        graph = w.graph
        assert graph is not None
        app = graph.find_node(node_type=NODE_APP, namespace="shop", workload="reviews-v2")
        assert app is not None
        w.view.select([app.id])
        ready = {
            "Metrics": lambda: perf.metrics.last_result is not None,
            "Lists": lambda: bool(perf.lists.pages[WORKLOADS].model.rows),
            "Istio config": lambda: True,
            "Logs": lambda: bool(perf.logs.lines),
            "Envoy": lambda: perf.envoy.config is not None and perf.envoy.level_note.text().startswith("currently"),
            "Traces": lambda: perf.traces.note.text() != "" and perf.traces.title.text().startswith("Traces of"),
        }
        assert set(ready) == set(perf.docks)  # every dock is looked at (and the window's others: Mesh, Details...)
        from PySide6.QtWidgets import QDockWidget

        docks = w.findChildren(QDockWidget)
        assert len(docks) > len(perf.docks)
        for dock in docks:
            dock.show()
            dock.raise_()
            qtbot.waitUntil(ready.get(dock.windowTitle(), lambda: True), timeout=20000)
            assert w.minimumSizeHint().width() <= 1024, f"the {dock.windowTitle()} dock widens the window"
        # cut, not lost: the whole text is the label's and its tooltip's
        assert perf.envoy.summary.text().startswith(f"{len(perf.envoy.config.clusters)} clusters")
        summary = perf.envoy.summary
        if summary.shown_text() != summary.text():
            assert summary.text() in summary.toolTip()
    finally:
        w.close()


def test_a_node_added_to_the_selection_leaves_the_charts_on_the_node_charted(qtbot: QtBot) -> None:
    """The canvas gives the selection in an order of its own: a node added to it (Ctrl+click) came first
    about half the time, and the Metrics dock jumped to it from the node it charted, though its title said
    "the first of 2 selected". The first selected stays charted; taken out of the selection, the next."""
    import argparse
    import itertools

    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    perf = w.extensions[0]
    perf.docks["Metrics"].show()
    qtbot.waitUntil(lambda: w.graph is not None, timeout=20000)
    nodes = {name: w.graph.find_node(node_type=NODE_APP, namespace="shop", workload=name)
             for name in ("productpage-v1", "reviews-v1", "details-v1", "ratings-v1")}
    for a, b in itertools.permutations(nodes, 2):
        w.view.select([nodes[a].id])
        w.view.select([nodes[a].id, nodes[b].id])  # b added
        title = perf.metrics.title.text()
        assert title == f"Charting app shop/{a.replace('-', ' ')} (inbound), the first of 2 selected", (a, b)
    w.view.select([nodes["details-v1"].id])  # the first selected taken out: the one left
    assert perf.metrics.title.text() == "app shop/details v1 (inbound)"
    w.close()
    next(windows, None)


def test_ctrl_clicks_on_the_graph_leave_the_charts_on_the_node_clicked_first(qtbot: QtBot) -> None:
    """The Metrics dock charts "the first selected": the node clicked first stays charted while others are
    Ctrl+clicked into the selection; Ctrl+clicked out of it, the next one clicked is charted. (The canvas
    gave its selection sorted by its items' ids: the dock had kept an order of its own.)"""
    import argparse

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    w.resize(1400, 900)
    perf = w.extensions[0]
    perf.docks["Metrics"].show()
    qtbot.waitUntil(lambda: w.graph is not None and not w.view.layout_running, timeout=20000)
    w.view.fit()
    nodes = {name: w.graph.find_node(node_type=NODE_APP, namespace="shop", workload=name)
             for name in ("productpage-v1", "reviews-v1", "details-v1")}
    # clicked in an order the nodes' ids are not in
    a, b, c = sorted(nodes, key=lambda name: nodes[name].id, reverse=True)

    def click(name: str, ctrl: bool = True) -> None:
        at = w.view.viewport_point_of(nodes[name].id)
        assert at is not None and w.view.viewport().rect().contains(at)
        QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier, at)

    def charted(name: str, of: int) -> str:
        shown = f"app shop/{name.replace('-', ' ')} (inbound)"
        return f"Charting {shown}, the first of {of} selected" if of > 1 else shown

    click(a, ctrl=False)
    assert perf.metrics.title.text() == charted(a, 1)
    click(b)
    assert perf.metrics.title.text() == charted(a, 2)
    click(c)
    assert perf.metrics.title.text() == charted(a, 3)
    click(a)  # taken out: the next clicked
    assert perf.metrics.title.text() == charted(b, 2)
    assert w.view.selected_ids() == [nodes[b].id, nodes[c].id]
    click(a)  # back in, last
    assert perf.metrics.title.text() == charted(b, 3)
    w.close()
    next(windows, None)


def test_start_up_says_a_damaged_settings_file_and_a_damaged_layouts_file_both(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Values of settings.json dropped (a copy kept) and the demo's layouts file set aside: the banner
    said the settings' note while the window was made, then the layouts' replaced it; the first was
    only on standard error, which a desktop launch shows nobody."""
    import argparse
    import json
    import os

    from meshdesk.store import paths
    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    folder = paths.config_dir()
    (folder / "layouts").mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(json.dumps({"schema_version": 2, "general": {"theme": 5}}))
    (folder / "layouts" / "demo.json").write_bytes(os.urandom(64) + b"\xff")
    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["hello"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    said = w.banner.text()
    assert "theme 5 is not one of system, light, dark" in said and "settings.json as it was is kept as" in said
    assert "Saved layouts for context 'demo' were not usable" in said
    next(windows, None)


def test_start_up_logs_each_thing_wrong_in_the_settings_file_once(qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    """A settings.json with a value that cannot be used: reading it logs the value dropped and where the file as
    it was is kept; the window's start saved the settings (told in its banner) and logged both again, so
    standard error said each thing twice."""
    import argparse
    import json
    import logging

    from meshdesk.store import paths
    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(json.dumps({"schema_version": 2, "general": {"theme": 5}}))
    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["hello"], snapshot=None)
    caplog.set_level(logging.WARNING)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    assert "theme 5 is not one of system, light, dark" in w.banner.text()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    dropped = [m for m in said if "theme 5 is not one of system, light, dark" in m]
    kept = [m for m in said if "settings.json as it was is kept as" in m]
    assert len(dropped) == 1 and len(kept) == 1, said
    next(windows, None)
