"""Does the Envoy dock keep the UI thread free with a big mesh's config dump? (prints numbers; asserts nothing)

    QT_QPA_PLATFORM=offscreen python -m benchmarks.envoy_view [extra clusters, default 200000]

A sidecar's dump with that many more clusters (200k clusters are ~38 MB of JSON) is handed to the
real ``EnvoyView`` by a source that answers at once. A 5 ms heartbeat timer on the UI thread records
how late each tick fires: the longest gap is the longest the window was frozen. Per step:

- load: from choosing the workload until the tables are filled (worker: read, redact, parse,
  pretty-print; UI thread: what it does with the answer);
- the Config tab opened (the raw dump shown);
- a filter typed into the clusters table, and cleared; a column sorted;
- find in the raw dump, near its top and two thirds down.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str]) -> int:
    extra = int(argv[0]) if argv else 200_000
    app = QApplication.instance() or QApplication([])

    from meshdesk.mesh.inventory import Container, Pod, Workload
    from meshdesk.ui.envoy_view import EnvoyView
    from tests.envoy_samples import sidecar_dump

    dump = sidecar_dump(extra_clusters=extra)

    class Source:
        last_way = "benchmark"

        def config_dump(self, namespace: str, pod: str) -> object:
            return dump

    view = EnvoyView(Source())
    view.resize(1200, 700)
    view.show()
    workload = Workload("pp", "shop", labels={"app": "pp"}, pods=[Pod("pp-1", "shop", containers=[
        Container("app", "x", True), Container("istio-proxy", "proxyv2:1.26", True)])])

    clock = QElapsedTimer()
    clock.start()
    state = {"last": 0, "max": 0}

    def tick() -> None:
        now = clock.elapsed()
        state["max"] = max(state["max"], now - state["last"])
        state["last"] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(tick)
    heartbeat.start()

    def step(label: str, action: object, done: object, settle: float = 0.3) -> None:
        app.processEvents()
        state["last"], state["max"] = clock.elapsed(), 0
        start = time.perf_counter()
        action()  # type: ignore[operator]
        while not done():  # type: ignore[operator]
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - start > 300:
                print(f"{label}: gave up after 300 s")
                return
        took = time.perf_counter() - start
        end = time.perf_counter() + settle  # the heartbeat's next tick measures a stall at the very end
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)
        print(f"{label}: done in {took:.2f} s, longest UI stall {state['max'] / 1000:.2f} s")

    print(f"{extra + 10} clusters")
    step("load", lambda: view.set_workload(workload), lambda: view.config is not None)
    # until all of the text shown is laid out (older versions set it at once, and have no _raw_done)
    step("open the Config tab (text laid out)", lambda: view.tabs.setCurrentIndex(4),
         lambda: view.raw.document().blockCount() > 1
         and getattr(view, "_raw_done", 1) >= getattr(view, "_raw_end", 0))
    print(f"  text shown: {view.raw.document().characterCount() / 1e6:.1f} M characters, "
          f"{view.raw.document().blockCount()} lines")
    step("find near the top", lambda: (view.raw_find.setText("BlackHoleCluster"), view.find_next()), lambda: True)
    step("find far down", lambda: (view.raw_find.setText(f"svc{extra * 2 // 3}."), view.find_next()), lambda: True)
    step("back to Clusters", lambda: view.tabs.setCurrentIndex(0), lambda: True)
    step("filter clusters 'svc1234'", lambda: view.clusters.filter.setText("svc1234"),
         lambda: " of " in view.clusters.count.text())
    step("clear the filter", lambda: view.clusters.filter.clear(), lambda: " of " not in view.clusters.count.text())
    step("sort by port, descending", lambda: view.clusters.table.sortByColumn(1, Qt.SortOrder.DescendingOrder),
         lambda: True)
    view.shutdown()
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
