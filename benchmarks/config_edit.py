"""The Istio config dock's live check while typing in the YAML editor (prints numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.config_edit

N Services, workloads, DestinationRules and VirtualServices in one namespace (``benchmarks/validate.py``'s
inventory); the first DestinationRule is edited. For each N it prints, over five checks: the UI thread's
time in ``ConfigView.check_edit`` (parsing the text, the CRD schema; the validations run on a thread),
the time until the findings are shown (``editChecked``), and the longest gap of a 5 ms heartbeat timer
on the UI thread meanwhile (how long the window could not answer a key press). Before the check moved
to a thread, the UI thread spent the whole validation, shown by ``python benchmarks/validate.py`` as
"edit: ... + validate ms".
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> int:
    app = QApplication.instance() or QApplication([])
    from meshdesk.ui import gcguard

    gcguard.install()  # as the app (make_window): cyclic garbage collected on the UI thread only
    from benchmarks.validate import inventory
    from meshdesk.mesh.config_edit import editable_yaml
    from meshdesk.ui.config_view import ConfigView

    print(f"{'objects':>8} {'UI thread per check ms':>23} {'findings shown after ms':>24} {'longest UI gap ms':>18}")
    for n in (300, 1000, 3000):
        inv = inventory(n)
        view = ConfigView()
        view.set_data(inv)
        obj = inv.istio[0]
        view.show_object((obj.kind, obj.namespace, obj.name))
        view.editing = obj  # as Edit leaves it (without a cluster to ask RBAC of)
        ui, shown, gaps = [], [], []
        for i in range(6):
            view.yaml.setPlainText(editable_yaml(obj).replace("host: s0", f"host: elsewhere{i}"))
            last = [time.perf_counter()]
            gap = [0.0]

            def beat(last: list[float] = last, gap: list[float] = gap) -> None:
                now = time.perf_counter()
                gap[0] = max(gap[0], now - last[0])
                last[0] = now

            heartbeat = QTimer()
            heartbeat.setInterval(5)
            heartbeat.timeout.connect(beat)
            loop = QEventLoop()
            done = [False]

            def checked(done: list[bool] = done, loop: QEventLoop = loop) -> None:
                done[0] = True
                loop.quit()

            view.editChecked.connect(checked)
            t0 = time.perf_counter()
            view.check_edit()
            t1 = time.perf_counter()
            last[0] = t1
            if done[0]:  # judged on the UI thread (as before the thread): the stall was the whole check
                gap[0] = t1 - t0
            else:
                heartbeat.start()
                loop.exec()
            t2 = time.perf_counter()
            heartbeat.stop()
            view.editChecked.disconnect(checked)
            if i:  # the first check also validates the inventory as read (kept for the next ones)
                ui.append((t1 - t0) * 1000)
                shown.append((t2 - t0) * 1000)
                gaps.append(gap[0] * 1000)
        print(f"{n:>8} {statistics.median(ui):>23.1f} {statistics.median(shown):>24.1f} {max(gaps):>18.1f}")
        view.editing = None
        view.deleteLater()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
