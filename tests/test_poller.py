"""The poller fetches and builds off the UI thread, drops stale work, retries with backoff and stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.base import Unauthorized, Unreachable
from meshdesk.ui.poller import Poller, PollFailure, PollResult
from tests.ui_helpers import ScriptedSource, extra_threads, sample, tiny_builder

pytestmark = pytest.mark.ui


@pytest.fixture
def poller(qtbot) -> Iterator[Poller]:
    before = {t.ident for t in threading.enumerate()}
    p = Poller(tiny_builder, backoff_base=0.05, backoff_cap=0.2)
    yield p
    p.shutdown()
    assert not p.thread_running
    assert extra_threads(before) == []


def shop_source() -> ScriptedSource:
    return ScriptedSource("shop", {"shop": [sample("frontend-v1", "cart-v1", "shop", 5.0)],
                                   "blog": [sample("web-v1", "db-v1", "blog", 1.0)]})


def test_builds_the_graph_off_the_ui_thread(qtbot, poller: Poller) -> None:
    src = shop_source()
    threads: list[threading.Thread] = []
    src.on_snapshot = lambda r: threads.append(threading.current_thread())
    seen: list[threading.Thread] = []
    orig = src.snapshot

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread())
        return orig(*a, **k)

    src.snapshot = spy  # type: ignore[method-assign]
    with qtbot.waitSignal(poller.graphReady, timeout=5000) as sig:
        poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    result: PollResult = sig.args[0]
    assert {n.workload for n in result.graph.nodes.values()} == {"frontend-v1", "cart-v1"}
    assert seen and seen[0] is not threading.main_thread()
    assert result.info.context == "shop"


def test_default_namespaces_when_none_chosen(qtbot, poller: Poller) -> None:
    src = shop_source()
    with qtbot.waitSignal(poller.namespacesReady, timeout=5000) as ns_sig, \
            qtbot.waitSignal(poller.graphReady, timeout=5000) as sig:
        poller.set_source(lambda: src, GraphRequest(graphType="workload"))
    assert ns_sig.args[0] == ["blog", "shop"]
    assert set(sig.args[0].snapshot.request.namespaces) == {"blog", "shop"}
    assert len(sig.args[0].graph.nodes) == 4


def test_switching_source_cancels_work_in_flight(qtbot, poller: Poller) -> None:
    slow = shop_source()
    slow.gate = threading.Event()
    fast = ScriptedSource("other", {"blog": [sample("web-v1", "db-v1", "blog", 1.0)]})
    got: list[PollResult] = []
    poller.graphReady.connect(got.append)
    poller.set_source(lambda: slow, GraphRequest(graphType="workload", namespaces=("shop",)))
    assert slow.entered.wait(5)
    with qtbot.waitSignal(poller.graphReady, timeout=5000) as sig:
        poller.set_source(lambda: fast, GraphRequest(graphType="workload", namespaces=("blog",)))
    qtbot.waitUntil(lambda: slow.cancelled_seen, timeout=5000)  # the old fetch was told to stop
    qtbot.waitUntil(lambda: slow.closed, timeout=5000)  # and its source closed
    assert [r.info.context for r in got] == ["other"], "nothing from the old source reached the UI"
    assert {n.workload for n in sig.args[0].graph.nodes.values()} == {"web-v1", "db-v1"}


def test_failure_is_reported_then_retried_with_backoff(qtbot, poller: Poller) -> None:
    src = shop_source()
    with qtbot.waitSignal(poller.graphReady, timeout=5000):
        poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    good = poller.last_result
    src.error = Unreachable("connection refused to https://10.0.0.1:6443")
    failures: list[PollFailure] = []
    poller.failed.connect(failures.append)
    poller.refresh_now()
    qtbot.waitUntil(lambda: len(failures) >= 3, timeout=5000)
    assert failures[0].error.kind == "unreachable"
    assert [f.attempt for f in failures[:3]] == [1, 2, 3]
    assert failures[1].retry_in == pytest.approx(2 * failures[0].retry_in)
    assert all(f.retry_in <= 0.2 for f in failures), "backoff is capped"
    assert poller.last_result is good, "the last good graph is kept"
    src.error = None
    with qtbot.waitSignal(poller.graphReady, timeout=5000):
        pass  # the scheduled retry succeeds on its own


def test_a_failure_no_wait_can_mend_is_said_once_and_read_again_when_asked(qtbot, poller: Poller) -> None:
    """A snapshot file that is not one was read again every few seconds for ever (backoff up to two
    minutes, and each try of a 150 MB file froze the window); now once, then only on Retry/Refresh."""
    from meshdesk.sources.base import SnapshotFileError

    reads: list[int] = []

    def broken() -> ScriptedSource:
        reads.append(1)
        raise SnapshotFileError("/tmp/x.json", "the file is empty", "snapshot file /tmp/x.json is empty")

    failures: list[PollFailure] = []
    poller.failed.connect(failures.append)
    poller.set_interval(0.05)  # a timed refresh does not read it again either
    poller.set_source(broken, GraphRequest(graphType="workload", namespaces=("shop",)))
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=5000)
    assert failures[0].retry_in is None and poller.retry_delay() == 0
    with qtbot.assertNotEmitted(poller.failed, wait=400):  # eight backoff bases, eight ticks
        pass
    assert len(reads) == 1
    poller.reload_namespaces()  # the user's Retry or Refresh
    qtbot.waitUntil(lambda: len(failures) == 2, timeout=5000)
    assert len(reads) == 2


def test_interval_refreshes_and_pause_stops(qtbot, poller: Poller) -> None:
    src = shop_source()
    poller.set_interval(0.05)
    with qtbot.waitSignal(poller.graphReady, timeout=5000):
        poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    qtbot.waitUntil(lambda: len(src.calls) >= 3, timeout=5000)
    poller.set_interval(0)
    qtbot.waitUntil(lambda: not poller.busy, timeout=5000)
    n = len(src.calls)
    with qtbot.assertNotEmitted(poller.graphReady, wait=200):
        pass
    assert len(src.calls) == n


def test_a_period_longer_than_a_qt_timer_counts_still_refreshes(qtbot, poller: Poller) -> None:
    """QTimer takes a 32-bit int of milliseconds: 3,000,000 s raised OverflowError and stopped the app."""
    poller.set_interval(3_000_000)
    assert poller.interval == pytest.approx((2**31 - 1) / 1000)
    poller.set_interval(1e30)
    assert poller.interval == pytest.approx((2**31 - 1) / 1000)
    poller.set_interval(0)
    assert poller.interval == 0


def test_auth_error_kind_survives(qtbot, poller: Poller) -> None:
    src = shop_source()
    src.error = Unauthorized("the server rejected the token")
    with qtbot.waitSignal(poller.failed, timeout=5000) as sig:
        poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    assert sig.args[0].error.kind == "unauthorized"
    assert "token" in str(sig.args[0].error)


def test_message_channel_holds_back_repeats(qtbot) -> None:
    from meshdesk.ui.messages import MessageBus, UserMessage

    now = [1000.0]
    bus = MessageBus(repeat_window=30.0, clock=lambda: now[0])
    got: list[UserMessage] = []
    bus.message.connect(got.append)
    assert bus.error("unreachable", "connection refused")
    assert not bus.error("unreachable", "connection refused")
    assert not bus.error("unreachable", "connection refused")
    assert bus.error("unauthorized", "token expired"), "another kind is not a repeat"
    now[0] += 31
    assert bus.error("unreachable", "connection refused")
    assert [(m.kind, m.repeats) for m in got] == [("unreachable", 0), ("unauthorized", 0), ("unreachable", 2)]
    bus.forget()
    assert bus.error("unauthorized", "token expired")


def test_message_channel_remembers_a_bounded_number_of_messages(qtbot) -> None:
    """A cluster failing all day says ever new texts (what its server answered): each was remembered, for
    holding back its repeats, until the next context switch. The bus keeps the last ones only, and still
    holds back a repeat of a recent one."""
    from meshdesk.ui.messages import REMEMBERED, MessageBus

    now = [1000.0]
    bus = MessageBus(repeat_window=30.0, clock=lambda: now[0])
    for i in range(5000):  # a poll every 15 s for almost a day, each failure's text its own
        now[0] += 15
        assert bus.error("unreachable", f"the API server failed (503): request {i} dropped")
    assert bus.remembered <= REMEMBERED
    assert not bus.error("unreachable", "the API server failed (503): request 4999 dropped"), \
        "a repeat of the last message, inside the window, is held back still"
    now[0] += 31
    assert bus.error("unreachable", "the API server failed (503): request 4999 dropped")


def test_changes_while_a_slow_cluster_answers_leave_nothing_behind(qtbot, poller: Poller) -> None:
    """Each change of the graph asked for (namespaces, graph type, time window) while a fetch was under way
    left that fetch's generation among those "in flight" for the rest of the session: a cancelled fetch
    never reports back. After a hundred changes during one slow answer and the graph of the last, none is
    left."""
    src = shop_source()
    src.gate = threading.Event()
    poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    assert src.entered.wait(5)
    for i in range(100):  # the user goes on choosing while the cluster is slow
        poller.set_request(GraphRequest(graphType="app" if i % 2 else "workload", namespaces=("shop",),
                                        duration=60 + i))
    with qtbot.waitSignal(poller.graphReady, timeout=10000) as sig:
        src.gate.set()
    assert sig.args[0].snapshot.request.duration == 159, "the last change's graph"
    qtbot.waitUntil(lambda: not poller.busy, timeout=5000)
    assert len(poller._in_flight) == 0


def test_switching_away_from_a_source_stuck_in_a_call(qtbot, poller: Poller) -> None:
    stuck = shop_source()
    stuck.gate = threading.Event()
    stuck.ignore_cancel = True
    fast = ScriptedSource("other", {"blog": [sample("web-v1", "db-v1", "blog", 1.0)]})
    got: list[str] = []
    poller.graphReady.connect(lambda r: got.append(r.info.context))
    poller.set_source(lambda: stuck, GraphRequest(graphType="workload", namespaces=("shop",)))
    assert stuck.entered.wait(5)
    with qtbot.waitSignal(poller.graphReady, timeout=5000):
        poller.set_source(lambda: fast, GraphRequest(graphType="workload", namespaces=("blog",)))
    assert got == ["other"], "the new source answered while the old call was still running"
    assert not stuck.closed
    stuck.gate.set()
    qtbot.waitUntil(lambda: stuck.closed, timeout=5000)  # closed once its call returned
    assert got == ["other"], "the stuck call's late result was dropped"


def test_signals_and_painting_cannot_free_none_or_true(qtbot) -> None:
    """PySide6 6.12.0 drops a reference to True on every emit and to None on many paint calls; without
    meshdesk.ui.qtfix this loop aborts the interpreter ("bool_dealloc" / "none_dealloc")."""
    from PySide6.QtCore import QObject, QPointF, Signal
    from PySide6.QtGui import QImage, QPainter

    class Pinger(QObject):
        ping = Signal(object)

    p = Pinger()
    seen: list[int] = []
    p.ping.connect(seen.append)
    for i in range(20000):
        p.ping.emit(i)
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    for _ in range(20000):
        painter.drawEllipse(QPointF(4, 4), 2.0, 2.0)
    painter.end()
    assert len(seen) == 20000


def test_a_first_look_shows_the_namespaces_in_the_mesh() -> None:
    """No namespace chosen yet: those whose pods join the mesh (sidecar injection or ambient), not
    every namespace of a cluster where the mesh is a few of fifty; without any, all but the system's."""
    from meshdesk.mesh.inventory import Namespace
    from meshdesk.ui.poller import default_namespaces

    cluster = [Namespace("default"), Namespace("bookinfo", {"istio-injection": "enabled"}),
               Namespace("travel", {"istio.io/dataplane-mode": "ambient"}), Namespace("canary", {"istio.io/rev": "1-24"}),
               Namespace("legacy", {"istio-injection": "disabled", "istio.io/rev": "1-24"}),
               Namespace("istio-system", {"istio-injection": "enabled"}), Namespace("kube-system")]
    assert default_namespaces(cluster) == ["bookinfo", "travel", "canary"]
    plain = [Namespace("default"), Namespace("web"), Namespace("istio-system"), Namespace("kube-system")]
    assert default_namespaces(plain) == ["default", "web"]
    assert default_namespaces([Namespace("kube-system")]) == ["kube-system"]


def test_closing_does_not_wait_for_a_call_that_will_not_end(qtbot) -> None:
    """A credential plugin waiting for a login nobody finishes held the window's close for minutes
    (the worker's call cannot be interrupted). The app's window leaves such a call behind."""
    from meshdesk.ui import poller as poller_module

    entered, release = threading.Event(), threading.Event()

    def stuck_factory():  # type: ignore[no-untyped-def]
        entered.set()
        release.wait(60)  # as a login that never comes (released by the test once shut down)
        return shop_source()

    p = Poller(tiny_builder, backoff_base=0.05, backoff_cap=0.2)
    p.set_source(stuck_factory, GraphRequest(graphType="workload", namespaces=("shop",)))
    assert entered.wait(10)
    p.shutdown(abandon_after_ms=100)
    assert not release.is_set() and p.thread_running  # it returned while the call still ran
    left = [t for t, _w in poller_module._ABANDONED]
    assert left
    release.set()
    for thread in left:
        assert thread.wait(10000)
    poller_module._ABANDONED.clear()


def test_timed_refreshes_offer_namespaces_created_meanwhile(qtbot, poller: Poller) -> None:
    """A namespace created while the app runs was offered only after a manual refresh; timed
    refreshes now read the namespace list again every so often (not on every poll)."""
    src = shop_source()
    poller.namespaces_every_s = 0.3
    with qtbot.waitSignal(poller.namespacesReady, timeout=5000):
        poller.set_source(lambda: src, GraphRequest(graphType="workload", namespaces=("shop",)))
    src.samples["blog"] = [sample("web-v1", "db-v1", "blog", 2.0)]  # kubectl create namespace blog
    poller.set_interval(0.05)
    with qtbot.waitSignal(poller.namespacesReady, timeout=5000,
                          check_params_cb=lambda names, _used: "blog" in names):
        pass
