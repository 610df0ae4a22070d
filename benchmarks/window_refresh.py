"""What one refresh of the main window costs, and where (prints numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.window_refresh [refreshes]

- worker thread: ``DemoCluster.snapshot`` + ``meshdesk.mesh.graph.build`` (what the Poller runs off
  the UI thread), wall time per refresh;
- UI thread: handling the result (canvas ``set_graph`` applying the difference, the side panel, the
  status bar), CPU time of the UI thread per refresh (target: well under 50 ms so the window never
  stutters while polling).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 30
    app = QApplication.instance() or QApplication([])
    from meshdesk.mesh.graph import build
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow, build_request
    from meshdesk.ui.poller import PollResult

    demo = DemoCluster()
    win = MainWindow(context="", factories={DEMO: lambda: demo})
    win.resize(1280, 800)
    win.show()
    win.context = DEMO
    win.poller.set_interval(0)
    request = build_request(["hello", "shop"], win.toolbar.choices)
    fetch, ui = [], []
    t0 = time.time()
    for i in range(n):
        start = time.perf_counter()
        snap = demo.snapshot(dataclasses.replace(request, queryTime=int(t0) + 15 * i))
        graph = build(snap)
        fetch.append(time.perf_counter() - start)
        result = PollResult(i, graph, snap, demo.info(), time.time())
        start = time.thread_time()
        win._on_graph(result)
        ui.append(time.thread_time() - start)
        app.processEvents()
    nodes, edges = len(win.graph.nodes), len(win.graph.edges)
    win.close()
    print(f"demo mesh: {nodes} nodes, {edges} edges, {n} refreshes")
    print(f"worker (snapshot + build), wall ms: median {statistics.median(fetch) * 1000:.1f}, "
          f"max {max(fetch) * 1000:.1f}")
    print(f"UI thread per refresh, CPU ms: first {ui[0] * 1000:.1f}, median of the rest "
          f"{statistics.median(ui[1:]) * 1000:.1f}, max of the rest {max(ui[1:]) * 1000:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
