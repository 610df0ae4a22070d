"""Does the demo window keep answering while a selection's charts are simulated? (prints numbers;
asserts nothing)

    QT_QPA_PLATFORM=offscreen python -m benchmarks.demo_selection [rounds] [--profile]

The window as ``meshdesk --demo`` opens it (``make_window``: every dock), with the Metrics dock shown
(and, with ``MESHDESK_BENCH_TRACES=1``, the Traces dock instead). Nodes of the demo graph are selected
one after another, as a user clicks through them: each selection sets the Metrics dock and the details
panel's sparklines computing the node's series from the demo's simulation, on their own threads.

For each selection a 5 ms heartbeat timer on the UI thread measures the longest gap (how long the window
could not answer a click or repaint) from the click until both charts have their answer and 0.3 s more;
also printed: the time until the charts had their answer (as the event loop could tell it), the CPU
time of the charts' fetches (the demo's ``fetch`` on their threads), of the click itself, of the UI
thread and of every other thread (the charts', the logs dock's, Qt's pools) over the same time.
``rounds``: how many times the nodes are clicked through. ``--profile``: cProfile's top functions of
the charts' fetches over the first round; ``--profile-ui``: the UI thread's over the first round (the
clicks, the answers drawn, the repaints). ``MESHDESK_BENCH_VERBOSE=1`` prints each selection's gaps
over 20 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", tempfile.mkdtemp(prefix="meshdesk-bench-"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.heartbeat import Heartbeat  # noqa: E402

SETTLE_MS = 300


def main(argv: list[str]) -> int:
    profile = "--profile" in argv
    profile_ui = "--profile-ui" in argv
    argv = [a for a in argv if a not in ("--profile", "--profile-ui")]
    rounds = int(argv[0]) if argv else 2
    app = QApplication.instance() or QApplication([])

    from meshdesk.ui.app import make_window
    from meshdesk.ui.metrics_view import selection_target

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=None, snapshot=None)
    win = make_window(opts)
    win.resize(1500, 950)
    views = win.extensions[0]
    traces = bool(os.environ.get("MESHDESK_BENCH_TRACES"))
    win.show()

    def run_until(done: object, timeout_ms: int = 60000) -> None:
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(10)
        check.timeout.connect(lambda: loop.quit() if done() else None)  # type: ignore[operator]
        check.start()
        QTimer.singleShot(timeout_ms, loop.quit)
        if not done():  # type: ignore[operator]
            loop.exec()
        check.stop()

    def settle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    run_until(lambda: win.graph is not None and len(win.graph.nodes) > 0)
    views._raise("Traces" if traces else "Metrics")
    metrics, sparks = views.metrics, views.sparklines
    settle(1000)
    run_until(lambda: not metrics.fetcher.busy and not sparks.fetcher.busy)
    graph = win.graph
    assert graph is not None
    nodes = [nid for nid in sorted(graph.nodes) if selection_target(graph, [nid], "inbound")[1] is not None]

    # the workers' CPU time, and the metrics worker's profile: measured around the source's fetch, which
    # the charts' threads call
    spent: list[float] = []
    prof = cProfile.Profile() if profile else None

    def timed(fetch, profiled):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            c0 = time.thread_time()
            if profiled and prof is not None:
                prof.enable()
            try:
                return fetch(*args, **kwargs)
            finally:
                if profiled and prof is not None:
                    prof.disable()
                spent.append(time.thread_time() - c0)
        return run

    assert metrics.source is not None and sparks.source is not None
    if metrics.source is sparks.source:
        metrics.source.fetch = timed(metrics.source.fetch, True)
    else:
        metrics.source.fetch = timed(metrics.source.fetch, True)
        sparks.source.fetch = timed(sparks.source.fetch, False)

    heartbeat = Heartbeat()
    gaps = heartbeat.gaps
    heartbeat.start()
    rows: list[tuple[int, str, float, float, float, float, float, float]] = []
    ui_prof = cProfile.Profile() if profile_ui else None
    if ui_prof is not None:
        ui_prof.enable()  # (the UI thread's own: cProfile follows the thread that enables it)
    for r in range(rounds):
        if r == 1 and ui_prof is not None:
            ui_prof.disable()
            print("---- UI thread, first round (clicks, answers drawn, repaints)")
            pstats.Stats(ui_prof).sort_stats("cumulative").print_stats(40)
            pstats.Stats(ui_prof).sort_stats("tottime").print_stats(25)
            ui_prof = None
        if r == 1 and prof is not None:
            print("---- metrics worker, first round")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
            prof = None
        for nid in nodes:
            app.processEvents()
            heartbeat.restart()
            del spent[:]
            t0 = time.perf_counter()
            c0, p0 = time.thread_time(), time.process_time()
            win.view.select([nid])
            t_call = time.perf_counter() - t0
            run_until(lambda: not metrics.fetcher.busy and not sparks.fetcher.busy)
            answered = time.perf_counter() - t0
            settle(SETTLE_MS)
            ui = time.thread_time() - c0
            others = time.process_time() - p0 - ui
            longest = heartbeat.longest(t_call * 1000)
            if os.environ.get("MESHDESK_BENCH_VERBOSE"):
                print(nid[:8], "gaps over 20 ms:", [round(g) for g in gaps if g > 20], "of", len(gaps))
            rows.append((r, nid, longest, answered * 1000, sum(spent) * 1000, t_call * 1000, ui * 1000, others * 1000))
    heartbeat.stop()
    win.quick_exit = True
    win.close()

    print(f"demo mesh: {len(nodes)} nodes with charts selected one after another, {rounds} rounds "
          f"(load average {os.getloadavg()[0]:.1f}); {'Traces' if traces else 'Metrics'} dock shown")
    print("ms: longest event-loop gap | until the charts had their answer | the charts' fetches' CPU | the click "
          "itself | UI-thread CPU | other threads' CPU")
    for r, nid, longest, answered, work, call, ui, others in rows:
        node = graph.nodes[nid]
        name = f"{node.node_type} {node.namespace}/{node.workload or node.service or node.app}"
        print(f"  {r + 1} {str(name)[:40]:<40} {longest:7.0f} {answered:7.0f} {work:7.0f} {call:7.0f} {ui:7.0f} {others:7.0f}")
    first = rows[0]
    print(f"the first selection (nothing simulated yet): longest gap {first[2]:.0f} ms, answered {first[3]:.0f} ms, "
          f"the charts' fetches' CPU {first[4]:.0f} ms")
    for r in range(rounds):
        mine = [row for row in rows if row[0] == r]
        longest = [row[2] for row in mine]
        answered = [row[3] for row in mine]
        print(f"round {r + 1}: longest gap median {statistics.median(longest):.0f} ms, max {max(longest):.0f} ms; "
              f"answered median {statistics.median(answered):.0f} ms, max {max(answered):.0f} ms; "
              f"the charts' fetches' CPU median {statistics.median(row[4] for row in mine):.0f} ms; the click "
              f"itself median {statistics.median(row[5] for row in mine):.0f} ms; CPU median: UI thread "
              f"{statistics.median(row[6] for row in mine):.0f} ms, other threads "
              f"{statistics.median(row[7] for row in mine):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
