"""How long the main window takes to open on the demo, and where (prints numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.startup [runs]

Each run is a fresh process (imports are part of a start): the time to import the window's modules,
to make the window (every dock, as ``meshdesk --demo`` makes it), and from showing it to the first
graph shown; the whole start (the process' first line to that graph), and how many metric charts
exist by then.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import argparse, json, os, sys, time
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
app = QApplication([])
t_qt = time.perf_counter()
from meshdesk.ui.app import make_window
t_import = time.perf_counter()
opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=None, snapshot=None)
win = make_window(opts)
t_made = time.perf_counter()
shown = []
win.graphShown.connect(lambda g: shown.append(time.perf_counter()))
win.show()
while not shown and time.perf_counter() - t_made < 120:
    app.processEvents()
    time.sleep(0.001)
t_graph = shown[0] if shown else float("nan")
from meshdesk.ui.charts import MetricChart
charts = sum(isinstance(w, MetricChart) for w in app.allWidgets())
# then the Metrics dock shown the first time (its charts made now, if not at the start)
t_dock = time.perf_counter()
dock = win.extensions[0].docks["Metrics"]
dock.show()
dock.raise_()
app.processEvents()
t_dock = time.perf_counter() - t_dock
print(json.dumps({"qt": t_qt - t0, "imports": t_import - t_qt, "window": t_made - t_import,
                  "graph": t_graph - t_made, "total": t_graph - t0, "charts": charts,
                  "dock": t_dock}))
win.quick_exit = True
win.close()
"""


def main(argv: list[str]) -> int:
    import json

    runs = int(argv[0]) if argv else 5
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as config:
            env["MESHDESK_CONFIG_DIR"] = config  # a first start: no settings, no docks kept open
            # run from the checkout this script is in: its meshdesk is the one measured
            out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                                 check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"window start on the demo, {runs} fresh processes (seconds, median [min-max]):")
    for key, what in (("qt", "QApplication"), ("imports", "importing the window's modules"),
                      ("window", "making the window (every dock)"), ("graph", "show to the first graph shown"),
                      ("total", "process start to the first graph shown"),
                      ("dock", "then the Metrics dock shown the first time")):
        values = [r[key] for r in rows]
        print(f"  {what}: {statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]")
    print(f"  metric charts made by then: {rows[0]['charts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
