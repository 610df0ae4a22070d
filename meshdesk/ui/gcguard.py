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
LONG_LIVED_SHARE = 0.25  # CPython's: a full pass once the objects new to the old generation are this share


class MainThreadCollector(QObject):
    """Collects on the thread it lives in (the UI thread) every ``interval_ms``, once automatic
    collection is turned off; :meth:`collect_due` does one round by hand (e.g. between tests)."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        # the objects that outlived the last full pass, and those moved to the old generation since
        self.long_lived_total = len(gc.get_objects(2))
        self.long_lived_pending = 0
        self._total_stale = False
        self.rounds_since_full = 0
        self.full_passes = 0  # every full pass, ours or a gc.collect() elsewhere (a test, a benchmark)
        gc.callbacks.append(self._seen)
        self._paused = 0
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setObjectName("meshdesk-gc")
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def _seen(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            # whoever ran it, the old generation now holds what outlived it: count afresh
            self.full_passes += 1
            self.long_lived_pending = 0
            self.rounds_since_full = 0
            self._total_stale = True

    def collect_due(self) -> int:
        """Collect the generations that are due, as the automatic collector would have; the number of
        objects found unreachable.

        The youngest generation when it passed its threshold. The middle one when it is due by
        CPython's count, or at once when the youngest is bigger than the middle one would ever be
        in CPython (``threshold0 * threshold1``, a worker's tens of thousands of new objects since the
        last round): the middle pass looks at both generations in one walk, so the burst is walked
        once and moved to the old generation, rather than walked by a young pass and then again,
        with ten rounds' worth of others, by a middle pass that froze the window for 0.8 s. The old
        generation only once both of these hold: as many rounds with a pass since the last full one as
        CPython's thresholds make young passes before a full one, ``(threshold1 + 2) * (threshold2 + 2)``
        (the schedule before bursts went to the old generation at once: 36 s of busy rounds), and, as
        CPython's own collector decides, the objects moved into it since then more than a quarter of
        those that outlived it (``LONG_LIVED_SHARE``). Full passes, which walk every tracked object
        (0.6-1.7 s over a 5,000-workload mesh's on a busy machine), so grow rarer as the long-lived data
        grows, and garbage that died in the old generation is still collected."""
        if self._total_stale:
            self.long_lived_total = len(gc.get_objects(2))
            self._total_stale = False
        young, middle, _ = gc.get_count()
        t0, t1, t2 = self.thresholds
        found = 0
        if young > t0:
            self.rounds_since_full += 1
            if middle > t1 or young > t0 * t1:
                entering = young + len(gc.get_objects(1))
                freed = gc.collect(1)
                found += freed
                self.long_lived_pending += max(0, entering - freed)
                if (
                    self.rounds_since_full >= (t1 + 2) * (t2 + 2)
                    and self.long_lived_pending > self.long_lived_total * LONG_LIVED_SHARE
                ):
                    found += gc.collect(2)  # counted afresh at the next round (_seen)
            else:
                found += gc.collect(0)
        return found

    def pause(self) -> None:
        """No rounds from the timer until :meth:`resume` (while windows are being closed and their
        deleteLater() has not destroyed them yet: their garbage is collected once they are gone)."""
        self._paused += 1
        self._timer.stop()

    def resume(self) -> None:
        """Rounds from the timer again, once every :meth:`pause` is resumed (and not after :meth:`stop`)."""
        self._paused = max(0, self._paused - 1)
        if not self._paused and not self._stopped:
            self._timer.start()

    def stop(self) -> None:
        """Stop collecting from the timer and give the collector back to Python."""
        self._stopped = True
        self._timer.stop()
        if self._seen in gc.callbacks:
            gc.callbacks.remove(self._seen)
        gc.enable()


_installed: list[MainThreadCollector] = []


def install(parent: QObject | None = None) -> MainThreadCollector:
    """Once per process, on the UI thread after the QApplication exists: collect only there."""
    if not _installed:
        _installed.append(MainThreadCollector(parent=parent))
    return _installed[0]


__all__ = ["INTERVAL_MS", "LONG_LIVED_SHARE", "MainThreadCollector", "install"]
