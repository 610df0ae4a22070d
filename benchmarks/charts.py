"""How much UI-thread time does a metrics refresh cost, and how long does the demo take to make
range data? (prints numbers; asserts nothing)

A refresh of the full metrics view updates every chart in place (12 charts, ``--lines`` lines each,
``--points`` points per line); the demo samples its simulation once per step. Prints the best
wall time and the process CPU time per refresh.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.charts [--repeat 20] [--points 721] [--lines 4]
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--points", type=int, default=721)  # 6 hours every 30 s
    parser.add_argument("--lines", type=int, default=4)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from meshdesk.mesh.metrics import CHARTS, Line, MetricsResult, MetricsSpec, MetricsTarget
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import range_series
    from meshdesk.ui.metrics_view import MetricsView

    app = QApplication.instance() or QApplication([])
    view = MetricsView(poll_ms=0)
    view.resize(1200, 900)
    view.show()
    app.processEvents()
    target = MetricsTarget.workload("shop", "reviews-v2")
    view.target = target
    spec = MetricsSpec(range_s=(args.points - 1) * 30, step_s=30)

    def result(shift: float) -> MetricsResult:
        times = [1_780_000_000.0 + 30 * i for i in range(args.points)]
        r = MetricsResult(target, spec, times[-1])
        for c in CHARTS:
            r.lines[c.key] = [Line(c.key, "rate", f"v{j}", times,
                                   [math.nan if i % 97 == 0 else 10 + j + math.sin(i / 20 + shift) for i in
                                    range(args.points)]) for j in range(args.lines)]
        return r

    results = [result(k * 0.1) for k in range(args.repeat + 1)]
    view._on_result(results[0])
    view._finish_drawing()
    app.processEvents()
    best_wall, cpu_total = float("inf"), 0.0
    for r in results[1:]:
        w0, c0 = time.perf_counter(), time.process_time()
        view._on_result(r)
        view._finish_drawing()  # (the view draws an answer a few charts a turn: all of it, here)
        view.repaint()
        app.processEvents()
        best_wall = min(best_wall, time.perf_counter() - w0)
        cpu_total += time.process_time() - c0
    print(f"metrics view refresh: 12 charts x {args.lines} lines x {args.points} points: "
          f"best {best_wall * 1000:.1f} ms wall, {cpu_total / args.repeat * 1000:.1f} ms CPU on average")
    view.shutdown()

    demo = DemoCluster(clock=lambda: 1_780_000_000.0)
    for range_s, step_s in ((1800, 60), (3600, 60), (21600, 300)):
        s = MetricsSpec(range_s=range_s, step_s=step_s)
        w0 = time.perf_counter()
        out = range_series(demo, target, s, now=1_780_000_000.0)
        print(f"demo range data {range_s // 60:>4} min every {step_s:>3} s: {(time.perf_counter() - w0) * 1000:7.1f} ms "
              f"({len(s.grid(out.end))} points)")


if __name__ == "__main__":
    main()
