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


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_a_workers_burst_of_new_objects_is_walked_once_and_moved_to_the_old_generation() -> None:
    """A worker's tens of thousands of new objects (a refresh's rows) go to the old generation in one
    pass: left among the young, a middle pass walked them again with ten rounds' worth of others,
    freezing the window for up to 0.8 s on a 5,000-workload mesh."""
    collector = gcguard.install()
    gc.collect()
    t0, t1, _ = collector.thresholds
    marker: list[object] = []
    burst = [marker] + [[] for _ in range(2 * t0 * t1)]
    collector.collect_due()
    assert _in_generation(marker, 2) and not _in_generation(marker, 1)
    del burst


class _Payload:
    """A refresh's data: an object graph in a reference cycle, holding 100 KB."""

    def __init__(self) -> None:
        self.memory = bytearray(100_000)
        self.parts: list[dict[str, object]] = [{"graph": self} for _ in range(1000)]


def test_full_passes_wait_until_a_quarter_of_the_long_lived_objects_are_new_and_still_free_old_cycles() -> None:
    """A full pass walks every tracked object (0.6-0.85 s over a 5,000-workload mesh's): as CPython's own
    collector, the UI thread's runs one only once the objects moved to the old generation since the
    last are a quarter of those that outlived it; cycles that died old are still freed then."""
    collector = gcguard.install()
    long_lived = [[] for _ in range(1_000_000)]  # the app's modules, widgets and current mesh
    gc.collect()
    collector.collect_due()
    full_passes: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full_passes.append(1)

    alive: list[weakref.ref[_Payload]] = []
    kept: list[_Payload] = []

    def refresh() -> None:  # a refresh's data, kept a while (the previous graphs), then dropped
        kept.append(_Payload())
        alive.append(weakref.ref(kept[-1]))
        del kept[:-15]
        collector.collect_due()

    gc.callbacks.append(seen)
    try:
        _, t1, t2 = collector.thresholds
        for _ in range((t1 + 2) * (t2 + 3)):  # the old generation's count well past its threshold
            refresh()
        assert full_passes == [], "a full pass ran though few long-lived objects were new"
        for _ in range(2000):
            refresh()
            if full_passes:
                break
        assert full_passes, "cyclic garbage in the old generation was never collected"
        assert sum(r() is not None for r in alive) <= 16  # the dead refreshes' cycles and their memory freed
    finally:
        gc.callbacks.remove(seen)
    del long_lived


def test_refreshes_that_replace_big_data_do_not_bring_a_full_pass_every_few_rounds() -> None:
    """Each refresh's rows (tens of thousands of objects, replacing the last's) go to the old generation
    at once, a quarter of the long-lived objects within a few rounds: full passes (0.6-1.7 s each on a
    5,000-workload mesh) still wait for as many rounds as CPython's thresholds put between them, then run."""
    collector = gcguard.install()
    gc.collect()
    t0, t1, t2 = collector.thresholds
    rounds = (t1 + 2) * (t2 + 2)  # the collector's full passes came so before bursts went old at once
    full_after: list[int] = []
    done = [0]

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full_after.append(done[0])

    rows: list[list[object]] = []
    gc.callbacks.append(seen)
    try:
        for _ in range(3 * rounds):
            made = [[] for _ in range(2 * t0 * t1)]  # the next refresh's rows, made on a worker
            collector.collect_due()
            rows = made  # shown: they replace the last refresh's
            done[0] += 1
    finally:
        gc.callbacks.remove(seen)
    del rows, made
    assert full_after, "garbage in the old generation was never collected"
    gaps = [b - a for a, b in zip([0, *full_after], full_after, strict=False)]
    assert min(gaps) >= rounds - 1, gaps


def test_a_closed_window_of_charts_is_destroyed_before_its_garbage_is_collected(qtbot: QtBot) -> None:
    """A test's window that pytest-qt closed with deleteLater() stays alive in Qt until an event loop
    runs, though nothing in Python refers to it. The collector reaching it first cleared its pyqtgraph
    labels' Python side before the window was destroyed, and the window's layout, asking them their size
    as it went, raised "'LabelItem' object has no attribute '_sizeHint'" in Qt's event loop: a later
    test, one of the charts', failed in CI for it. Between tests the window is destroyed first."""
    from meshdesk.mesh.metrics import MetricsTarget
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.demo.metrics import DemoMetrics
    from meshdesk.ui.metrics_view import MetricsView
    from tests.conftest import settle

    view = MetricsView(DemoMetrics(DemoCluster(clock=lambda: 1_750_000_000.0)), poll_ms=0)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    destroyed: list[bool] = []
    view.destroyed.connect(lambda *_: destroyed.append(True))
    view.close()
    view.deleteLater()  # as pytest-qt's teardown does
    ref = weakref.ref(view)
    del view
    assert ref() is not None  # in a reference cycle: only the collector frees its Python side
    with qtbot.captureExceptions() as raised:
        settle()
        assert destroyed == [True]
        gc.collect()
    assert [str(e[1]) for e in raised] == []
    assert ref() is None
