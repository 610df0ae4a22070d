"""Does the UI thread keep up while a big mesh is polled? (prints numbers; asserts nothing)

    QT_QPA_PLATFORM=offscreen python -m benchmarks.event_loop [polls] [nodes] [edges]

MESHDESK_BENCH_LABELS=requestRate shows rate labels on the edges (then every refresh repaints them);
MESHDESK_BENCH_VERBOSE=1 prints every poll and every canvas paint.

The real main window polls a source whose graph has 1,000 nodes and 3,000 edges (rates change on
every poll, as on a live mesh). The worker thread fetches and builds; the UI thread only applies the
difference. A 5 ms heartbeat timer on the UI thread records how late each tick fires: the longest
gap is the longest the event loop stalled (target: never over 50 ms while polling). Also printed:
the UI thread's CPU time from a result's arrival to the graph being shown.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.heartbeat import Heartbeat  # noqa: E402


def main(argv: list[str]) -> int:
    polls = int(argv[0]) if argv else 12
    n = int(argv[1]) if len(argv) > 1 else 1000
    e = int(argv[2]) if len(argv) > 2 else 3000
    app = QApplication.instance() or QApplication([])

    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.ui.mainwindow import MainWindow
    from tests.synthetic_mesh import traffic_graph
    from tests.ui_helpers import ScriptedSource, sample

    namespaces = sorted({node.namespace for node in traffic_graph(n, e).nodes.values() if node.namespace})
    source = ScriptedSource("big", {ns: [sample("a", "b", ns, 1.0)] for ns in namespaces})
    count = {"polls": 0}
    lock = threading.Lock()

    def builder(snapshot: Snapshot):  # type: ignore[no-untyped-def]
        with lock:  # runs on the poller's worker thread, like the real builder
            count["polls"] += 1
            scale = 1.0 + 0.1 * count["polls"]
        graph = traffic_graph(n, e, rate_scale=scale)
        graph.request = GraphRequest(namespaces=tuple(namespaces))
        return graph

    from meshdesk.ui import gcguard

    gcguard.install()  # as the app (make_window): cyclic garbage collected on the UI thread only
    w = MainWindow(context="big", contexts=["big"], factories={"big": lambda: source}, builder=builder,
                   namespaces=namespaces)
    w.resize(1280, 800)
    labels = os.environ.get("MESHDESK_BENCH_LABELS", "")  # e.g. requestRate: every refresh changes every label
    if labels:
        w.toolbar.choose(edge_labels=labels)
    w.show()

    heartbeat = Heartbeat()
    gaps = heartbeat.gaps
    shown: list[float] = []
    ui_cpu: list[float] = []
    arrived = [0.0]
    first_arrival = [0.0]

    def on_arrival(*_: object) -> None:
        arrived[0] = time.thread_time()
        if not first_arrival[0]:
            first_arrival[0] = time.perf_counter()

    # the arrival clock must start before the window's own slot runs (slots run in connection order)
    w.poller.graphReady.disconnect(w._on_graph)
    w.poller.graphReady.connect(on_arrival)
    w.poller.graphReady.connect(w._on_graph)

    # every paint of the canvas, and the first one after the first layout landed (the full render)
    paints: list[float] = []
    laid_out = [False]
    first_render = [0.0]
    view = w.view
    paint_event = type(view).paintEvent

    def timed_paint(event: object) -> None:
        t0 = time.perf_counter()
        paint_event(view, event)  # type: ignore[arg-type]
        t1 = time.perf_counter()
        paints.append((t1 - t0) * 1000)
        if laid_out[0] and not first_render[0]:
            first_render[0] = t1

    view.paintEvent = timed_paint  # type: ignore[method-assign]
    view.layoutFinished.connect(lambda: laid_out.__setitem__(0, True))

    def on_shown(_graph: object) -> None:
        ui_cpu.append((time.thread_time() - arrived[0]) * 1000)
        shown.append(time.perf_counter())
        if len(shown) < polls:
            QTimer.singleShot(50, w.refresh_now)  # the next poll, as a short refresh interval would
        else:
            QTimer.singleShot(200, app.quit)

    w.graphShown.connect(on_shown)
    heartbeat.start()
    started = time.perf_counter()
    app.exec()
    heartbeat.stop()
    elapsed = time.perf_counter() - started
    w.close()
    w.shutdown()

    steady = gaps[len(gaps) // 10:] if len(gaps) > 20 else gaps  # after the first render settled
    if os.environ.get("MESHDESK_BENCH_VERBOSE"):
        print("per poll (ms):", [round(x) for x in ui_cpu])
        print("canvas paints (ms):", [round(x) for x in paints])
    print(f"{len(shown)} polls of a {n}-node / {e}-edge graph in {elapsed:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"UI thread per applied poll (CPU, arrival -> shown): first {ui_cpu[0]:.0f} ms, then median "
          f"{statistics.median(ui_cpu[1:]):.1f} ms, max {max(ui_cpu[1:]):.1f} ms (target < 50 ms)")
    print(f"event-loop heartbeat (5 ms timer): longest gap {max(gaps):.0f} ms overall, "
          f"{max(steady):.0f} ms after the first render; 99th percentile {sorted(steady)[int(len(steady) * 0.99)]:.0f} ms "
          f"(target: no stall over 50 ms while polling)")
    if first_render[0]:
        print(f"first full render (laid out and painted) {(first_render[0] - first_arrival[0]) * 1000:.0f} ms after "
              f"the first data arrived (target < 1000 ms)")
    later = paints[2:] if len(paints) > 2 else paints
    if later:
        print(f"canvas paint after the first two: median {statistics.median(later):.1f} ms, max {max(later):.1f} ms "
              f"({len(paints)} paints)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
