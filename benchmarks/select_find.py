"""Selecting nodes and applying a Find on a big fitted mesh, the canvas alone (prints numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.select_find [nodes] [edges] [rounds]

A GraphView shows a synthetic mesh (``tests.synthetic_mesh``; 4,000 nodes and 12,000 edges by default), laid
out and fitted (far out: the edges drawn in one pass). Each round selects the busiest node, then one of its
neighbours, then nothing, then applies the Find ``rt > 20`` and clears it; each step is the call and the
repaint it sets off. Printed: the UI thread's CPU time per step, the median over the rounds. Unlike
``benchmarks.window_actions`` there are no docks and no poller, so less noise from other threads.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 4000
    e = int(argv[1]) if len(argv) > 1 else 12000
    rounds = int(argv[2]) if len(argv) > 2 else 7
    app = QApplication.instance() or QApplication([])

    from meshdesk.ui.canvas import GraphView
    from tests.synthetic_mesh import traffic_graph

    view = GraphView()
    view.resize(1500, 950)
    view.show()
    loop = QEventLoop()
    view.layoutFinished.connect(loop.quit)
    view.set_graph(traffic_graph(n, e))
    QTimer.singleShot(120000, loop.quit)
    loop.exec()
    view.fit()
    view.viewport().repaint()
    app.processEvents()
    edges_of = view._edges_of
    busiest = max(view.positions(), key=lambda nid: len(edges_of.get(nid, ())))
    neighbour = next(x.edge.target for x in edges_of[busiest] if x.edge.target != busiest)
    times: dict[str, list[float]] = {}

    def step(name: str, action: Callable[[], None]) -> None:
        c0 = time.thread_time()
        action()
        view.viewport().repaint()
        app.processEvents()
        times.setdefault(name, []).append((time.thread_time() - c0) * 1000)

    for _ in range(rounds):
        step("select", lambda: view.select([busiest]))
        step("select neighbour", lambda: view.select([neighbour]))
        step("select none", lambda: view.select([]))
        step("find apply", lambda: view.set_find("rt > 20"))
        step("find clear", lambda: view.set_find(""))
    print(f"{n} nodes / {e} edges, zoom {view.zoom():.2f}, {len(view.highlighted_ids()) or 'no'} found now "
          f"(load average {os.getloadavg()[0]:.1f}); UI-thread CPU ms, median of {rounds}:")
    for name, values in times.items():
        print(f"  {name:<18} {statistics.median(values):6.0f}")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
