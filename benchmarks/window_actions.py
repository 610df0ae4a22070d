"""What a user does in the main window over a very big mesh, and how long the window freezes for each
(prints numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.window_actions [nodes] [edges] [--profile ACTION]

The real main window (with the Metrics, Lists and Istio config docks, as ``make_window`` adds them)
polls a synthetic mesh of 4,000 nodes and 12,000 edges by default (``tests.synthetic_mesh``; new rates
every poll). Each step is what a user does: the first graph shown, a refresh, selecting a node, the
mouse resting on one, Find and Hide expressions, the display options, the graph type, zoom, pan and
fit, a layout chosen, a node graph and back, the Lists and Istio config docks opened.

For each step a 5 ms heartbeat timer on the UI thread measures the longest gap (how long the window
could not answer a click or repaint); also printed: the time the call itself took, the UI thread's
CPU time over the step (its call, what it set off, and a 0.4 s settling time after: less
disturbed by other processes on a busy machine than the gaps) and the wall time until the step's
work was done (its signal, or the call's end when it has none). ``--profile ACTION`` prints cProfile's top functions of that
step (a name as printed, e.g. ``--profile select``; several apart by commas).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time
import types
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit  # noqa: E402

from benchmarks.heartbeat import Heartbeat  # noqa: E402

SETTLE_MS = 400  # the event loop runs this long after a step (debounced work, repaints, hover delay)


def main(argv: list[str]) -> int:
    profile = ""
    if "--profile" in argv:
        i = argv.index("--profile")
        profile = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    n = int(argv[0]) if argv else 4000
    e = int(argv[1]) if len(argv) > 1 else 12000
    app = QApplication.instance() or QApplication([])

    from meshdesk.mesh.graph.model import TrafficGraph
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.ui import gcguard
    from meshdesk.ui.mainwindow import MainWindow
    from meshdesk.ui.perf_views import PerformanceViews
    from tests.synthetic_mesh import traffic_graph
    from tests.ui_helpers import ScriptedSource, sample

    namespaces = sorted({node.namespace for node in traffic_graph(n, e).nodes.values() if node.namespace})
    source = ScriptedSource("big", {ns: [sample("a", "b", ns, 1.0)] for ns in namespaces})
    count = {"polls": 0}
    lock = threading.Lock()

    def builder(snapshot: Snapshot) -> TrafficGraph:
        with lock:  # runs on the poller's worker thread, like the real builder
            count["polls"] += 1
            scale = 1.0 + 0.1 * count["polls"]
        graph = traffic_graph(n, e, rate_scale=scale)
        graph.request = snapshot.request if snapshot.request.namespaces else GraphRequest(namespaces=tuple(namespaces))
        focus = graph.request.node
        if focus is not None:  # a node graph: the node, its callers and callees
            names = {focus.app, focus.workload, focus.service} - {None}
            focused = next((nid for nid, node in graph.nodes.items() if node.namespace == focus.namespace
                            and names & {node.app, node.workload, node.service}), None)
            keep = {focused} if focused else set()
            for edge in graph.edges.values():
                if focused in (edge.source, edge.target):
                    keep.update((edge.source, edge.target))
            for nid in list(graph.nodes):
                if nid not in keep:
                    graph.remove_node(nid)
        return graph

    gcguard.install(app)  # as make_window
    w = MainWindow(context="big", contexts=["big"], factories={"big": lambda: source}, builder=builder,
                   namespaces=namespaces)
    laid_out: list[bool] = []  # the first graph's layout may land before its step waits for it
    w.view.layoutFinished.connect(lambda: laid_out.append(True))
    views = PerformanceViews(w)
    w.add_extension(views)
    w.resize(1500, 950)
    w.show()

    heartbeat = Heartbeat()
    heartbeat.start()
    results: list[tuple[str, float, float, float, float]] = []

    def wait(signal: object | None, timeout_ms: int = 60000) -> None:
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)  # type: ignore[attr-defined]
            QTimer.singleShot(timeout_ms, loop.quit)
            loop.exec()
            signal.disconnect(loop.quit)  # type: ignore[attr-defined]
        settle = QEventLoop()
        QTimer.singleShot(SETTLE_MS, settle.quit)
        settle.exec()

    def step(name: str, action: Callable[[], None], signal: object | None = None) -> None:
        app.processEvents()
        heartbeat.restart()
        prof = cProfile.Profile() if name in profile.split(",") else None
        t0 = time.perf_counter()
        c0 = time.thread_time()
        if prof is not None:
            prof.enable()
        action()
        t_call = time.perf_counter() - t0
        wait(signal() if isinstance(signal, types.FunctionType) else signal)
        if prof is not None:
            prof.disable()
        cpu = time.thread_time() - c0
        done = time.perf_counter() - t0 - SETTLE_MS / 1000
        longest = heartbeat.longest(t_call * 1000)
        results.append((name, longest, t_call * 1000, cpu * 1000, max(done, t_call) * 1000))
        if prof is not None:
            print(f"---- {name}")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)

    view = w.view
    tb = w.toolbar

    step("first graph", lambda: None, lambda: None if laid_out else view.layoutFinished)
    print(f"graph: {len(w.graph.nodes)} nodes, {len(w.graph.edges)} edges")  # type: ignore[union-attr]
    step("refresh", w.refresh_now, w.graphShown)
    step("refresh again", w.refresh_now, w.graphShown)
    busiest = max(view.positions(), key=lambda nid: len(view._edges_of.get(nid, ())))
    step("select", lambda: view.select([busiest]))
    step("select none", lambda: view.select([]))
    item = view.node_item(busiest)
    assert item is not None
    view.centerOn(item)
    app.processEvents()

    def hover() -> None:
        QTest.mouseMove(view.viewport(), view.mapFromScene(item.pos()))

    step("hover", hover)
    step("hover off", lambda: QTest.mouseMove(view.viewport(), QPoint(5, 5)))

    def typed(edit: QLineEdit, text: str) -> Callable[[], None]:
        def run() -> None:
            edit.clear()
            QTest.keyClicks(edit, text)
        return run

    def enter(edit: QLineEdit) -> Callable[[], None]:
        return lambda: QTest.keyClick(edit, Qt.Key.Key_Return)

    step("find typing", typed(tb.find_edit, "rt > 20"))
    step("find apply", enter(tb.find_edit))
    step("find clear", lambda: tb.find_edit.clear())
    step("hide typing", typed(tb.hide_edit, "rt > 300"))
    step("hide apply", enter(tb.hide_edit))
    step("hide clear", lambda: tb.hide_edit.clear())
    step("edge labels on", lambda: tb.choose(edge_labels="requestRate"))
    step("edge labels off", lambda: tb.choose(edge_labels="none"))
    step("boxes off", lambda: tb.choose(boxes=False))
    step("boxes on", lambda: tb.choose(boxes=True))
    step("animation off", lambda: tb.choose(animation=False))
    step("animation on", lambda: tb.choose(animation=True))
    step("security on", lambda: tb.choose(security=True))
    step("idle nodes on", lambda: tb.choose(idle_nodes=True), w.graphShown)
    step("idle nodes off", lambda: tb.choose(idle_nodes=False), w.graphShown)
    step("graph type app", lambda: tb.choose(graph_type="app"), w.graphShown)
    step("graph type back", lambda: tb.choose(graph_type="versionedApp"), w.graphShown)
    step("zoom in", view.zoom_in)
    step("zoom out", view.zoom_out)
    step("pan", lambda: view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 300))
    step("fit", view.fit)
    step("layout force", lambda: tb.layoutRequested.emit("force"), view.layoutFinished)
    step("layout grid", lambda: tb.layoutRequested.emit("grid"), view.layoutFinished)
    step("layout layered", lambda: tb.layoutRequested.emit("layered"), view.layoutFinished)
    view.select([busiest])
    app.processEvents()
    step("node graph", lambda: w._on_double_click(busiest), w.graphShown)
    step("back", lambda: w.set_focus(None), w.graphShown)
    step("lists dock", lambda: views._raise("Lists"))
    step("refresh, lists open", w.refresh_now, w.graphShown)
    step("istio config dock", lambda: views._raise("Istio config"))
    step("refresh, config open", w.refresh_now, w.graphShown)

    heartbeat.stop()
    w.close()
    w.shutdown()
    print(f"{n} nodes / {e} edges asked (load average {os.getloadavg()[0]:.1f}); "
          "ms: longest event-loop gap | the call itself | UI-thread CPU | until done")
    for name, longest, call, cpu, done in results:
        print(f"  {name:<22} {longest:8.0f} {call:8.0f} {cpu:8.0f} {done:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
