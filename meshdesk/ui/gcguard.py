"""Python's cyclic garbage collector, run on the UI thread only.

Left alone, the collector runs in whichever thread passes its threshold by allocating: a worker
decoding Prometheus' answer, reading a pod's log or building the graph. When the garbage it then finds
holds Qt objects (a closed dialog's widgets kept in a cycle by a connected lambda, a finished view),
they are destroyed in that worker's thread; Qt objects must die in their own thread, and PySide6
crashes the process (a segmentation fault "Garbage-collecting" in a log reader's thread, seen in the
tests). So the app turns automatic collection off and collects on the UI thread, from a timer, one
generation at a time by the thresholds CPython itself uses. Work that pauses the collector
(:mod:`meshdesk.mesh.gcpause`) leaves it off, as it found it.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250


class MainThreadCollector(QObject):
    """Collects on the thread it lives in (the UI thread) every ``interval_ms``, once automatic
    collection is turned off; :meth:`collect_due` does one round by hand (e.g. between tests)."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setObjectName("meshdesk-gc")
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the generations whose counts passed their thresholds, youngest first, as the
        automatic collector would have; the number of objects found unreachable."""
        young, middle, old = gc.get_count()
        t0, t1, t2 = self.thresholds
        found = 0
        if young > t0:
            found += gc.collect(0)
            if middle > t1:
                found += gc.collect(1)
                if old > t2:
                    found += gc.collect(2)
        return found

    def stop(self) -> None:
        """Stop collecting from the timer and give the collector back to Python."""
        self._timer.stop()
        gc.enable()


_installed: list[MainThreadCollector] = []


def install(parent: QObject | None = None) -> MainThreadCollector:
    """Once per process, on the UI thread after the QApplication exists: collect only there."""
    if not _installed:
        _installed.append(MainThreadCollector(parent=parent))
    return _installed[0]


__all__ = ["INTERVAL_MS", "MainThreadCollector", "install"]
