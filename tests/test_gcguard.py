"""Cyclic garbage is collected on the UI thread only (``meshdesk.ui.gcguard``): a worker thread that
allocates never destroys a Qt object left in a reference cycle (PySide6 crashed the test process so,
in a log reader's thread)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from meshdesk.ui import gcguard


def test_a_qt_object_in_a_cycle_is_destroyed_on_the_ui_thread_not_in_a_worker(qtbot: QtBot) -> None:
    collector = gcguard.install()
    assert not gc.isenabled()  # collection is left to the UI thread's timer
    destroyed_in: list[str] = []
    obj = QObject()
    obj.setObjectName("in a cycle")
    obj.cycle = obj  # type: ignore[attr-defined]
    obj.destroyed.connect(lambda *_: destroyed_in.append(threading.current_thread().name))
    ref = weakref.ref(obj)
    del obj
    kept: list[list[list[int]]] = []

    def allocate() -> None:  # a worker making many containers, as decoding Prometheus' answer does
        kept.append([[] for _ in range(20 * collector.thresholds[0])])

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert ref() is not None and destroyed_in == [], "the worker's allocations collected the cycle"
    qtbot.waitUntil(lambda: ref() is None, timeout=5000)  # the UI thread's next round
    assert destroyed_in == [threading.current_thread().name] == ["MainThread"]


def test_a_round_collects_only_the_generations_due() -> None:
    collector = gcguard.install()
    gc.collect()
    assert collector.collect_due() == 0 and gc.get_count()[0] <= collector.thresholds[0]
    junk: list[object] = []
    for _ in range(collector.thresholds[0] + 10):
        cycle: list[object] = []
        cycle.append(cycle)
        junk.append(cycle)
    del cycle
    junk.clear()  # the cycles are garbage now, in the youngest generation
    assert collector.collect_due() >= collector.thresholds[0]
