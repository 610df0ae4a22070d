"""The refresh lifecycle around a context that is still opening, replay and closing: a change made
while the first look at a context is loading must not lose that look."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from meshdesk.sources.base import Cancelled, Unreachable
from meshdesk.ui.mainwindow import MainWindow
from tests.ui_helpers import (
    ScriptedSource,
    open_windows,
    sample,
    small_inventory,
    tiny_builder,
    window_test_marks,
)

pytestmark = window_test_marks()

SAMPLES = {"shop": [sample("frontend-v1", "cart-v1", "shop", 5.0)], "other": []}


@pytest.fixture
def windows(qtbot):  # type: ignore[no-untyped-def]
    yield from open_windows(qtbot, lambda **kw: MainWindow(builder=tiny_builder, **kw))


def _change(w: Any, action: str) -> None:
    """What a user does meanwhile: turn Replay on, or choose another time window."""
    if action == "replay":
        w.toolbar.replay_action.trigger()
    else:
        w.toolbar.duration_combo.setCurrentIndex(1)
        w.toolbar.duration_combo.activated.emit(1)


class SlowNamespaces(ScriptedSource):
    """A cluster whose namespace list takes a while (a slow API server)."""

    def __init__(self) -> None:
        super().__init__("slow", dict(SAMPLES), small_inventory())
        self.gate, self.entered = threading.Event(), threading.Event()

    def namespaces(self):  # type: ignore[no-untyped-def]
        self.entered.set()
        self.gate.wait(10)
        return super().namespaces()


@pytest.mark.parametrize("action", ["replay", "duration"])
def test_a_change_while_the_namespaces_are_listed_keeps_the_first_look(qtbot, windows, action) -> None:  # type: ignore[no-untyped-def]
    """No namespace chosen yet means "the defaults" until the list comes: the change used to be read as
    "the user chose none", which cancelled the listing and left "No namespace selected" for good."""
    src = SlowNamespaces()
    w = windows(context="slow", factories={"slow": lambda: src})
    assert src.entered.wait(5)
    _change(w, action)
    src.gate.set()
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    assert w.toolbar.selected_namespaces() and set(w.toolbar._namespaces) == {"shop", "other"}


class SlowOpen:
    """A source factory that takes a while to connect."""

    def __init__(self, src: ScriptedSource) -> None:
        self.src = src
        self.gate, self.entered = threading.Event(), threading.Event()

    def __call__(self) -> ScriptedSource:
        self.entered.set()
        self.gate.wait(10)
        return self.src


@pytest.mark.parametrize("action", ["replay", "duration"])
def test_a_change_while_the_source_opens_keeps_the_source(qtbot, windows, action) -> None:  # type: ignore[no-untyped-def]
    """The source opens once; its news was dropped when a request changed meanwhile, so charts, logs
    and the Demo menu never got it."""
    src = ScriptedSource("slowopen", dict(SAMPLES), small_inventory())
    factory = SlowOpen(src)
    w = windows(context="slowopen", namespaces=["shop"], factories={"slowopen": factory})
    opened: list[object] = []
    w.poller.sourceOpened.connect(lambda s, _i: opened.append(s))
    assert factory.entered.wait(5)
    _change(w, action)
    factory.gate.set()
    qtbot.waitUntil(lambda: w.poller.source is src, timeout=10000)
    assert opened == [src]


def _away_at_first(src: ScriptedSource) -> Any:
    """A source factory whose first call finds the cluster unreachable; later calls give ``src``."""
    calls = {"n": 0}

    def factory() -> ScriptedSource:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Unreachable("cluster unreachable")
        return src

    return factory


def test_a_source_opening_during_replay_does_not_restart_live_refresh(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    src = ScriptedSource("flaky", dict(SAMPLES), small_inventory())
    w = windows(context="flaky", namespaces=["shop"], factories={"flaky": _away_at_first(src)}, backoff_base=0.2)
    qtbot.waitUntil(lambda: w.last_error is not None, timeout=5000)
    w.toolbar.replay_action.trigger()  # replay while the cluster is away; the retry then connects
    qtbot.waitUntil(lambda: w.poller.source is src, timeout=10000)
    assert w.toolbar.replay_action.isChecked()
    assert w.poller.interval == 0 and not w.toolbar.refresh_combo.isEnabled()


def test_without_a_cluster_the_page_saying_so_stays(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    w = windows(first_run_reason="No kubeconfig context was found.")
    assert w.stack.currentWidget() is w.empty
    page = w.empty.mode
    assert not w.toolbar.replay_action.isEnabled()  # no cluster, no past of one
    w.toolbar.duration_combo.setCurrentIndex(1)
    w.toolbar.duration_combo.activated.emit(1)
    assert w.empty.mode == page and w.stack.currentWidget() is w.empty


class SlowPrometheus(ScriptedSource):
    """Each graph takes ``delay`` seconds to read (Prometheus through the API server's proxy)."""

    def __init__(self, delay: float) -> None:
        super().__init__("slowprom", dict(SAMPLES), small_inventory())
        self.delay = delay

    def snapshot(self, request, *, with_inventory=True, cancelled=None):  # type: ignore[no-untyped-def]
        end = time.monotonic() + self.delay
        while time.monotonic() < end:  # a slow answer the poller may cancel
            if cancelled is not None and cancelled():
                raise Cancelled("cancelled")
            time.sleep(0.01)
        return super().snapshot(request, with_inventory=with_inventory, cancelled=cancelled)


def test_replay_plays_frames_slower_sources_take_longer_to_fetch(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    """Each step waits for its graph: stepping on every 0.75 s while a fetch takes 1 s cancelled every
    fetch, and the canvas showed none of the frames played."""
    src = SlowPrometheus(1.0)
    w = windows(context="slowprom", namespaces=["shop"], factories={"slowprom": lambda: src})
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    w.toolbar.replay_action.trigger()
    start = w.replay.time
    qtbot.waitUntil(lambda: w.graph.request.queryTime == start, timeout=10000)
    shown: list[int] = []
    w.graphShown.connect(lambda g: shown.append(g.request.queryTime))
    w.replay.speed.setCurrentIndex(w.replay.speed.count() - 1)  # the fastest
    w.replay.play_button.setChecked(True)
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=15000)
    assert shown == sorted(shown) and shown[0] > start  # frames in order, each a step on
    w.replay.play_button.setChecked(False)


def test_closing_stops_replay_playing(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    src = ScriptedSource("s", dict(SAMPLES), small_inventory())
    w = windows(context="s", namespaces=["shop"], factories={"s": lambda: src})
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    w.toolbar.replay_action.trigger()
    w.replay.play_button.setChecked(True)
    w.close()
    assert not w.replay.play_button.isChecked()  # its timer would step a stopped poller


def test_replay_plays_on_after_the_slider_is_released_where_it_was(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    """Releasing the handle without moving it asks for the graph shown already, which fetches nothing:
    play then waited for a frame that never came."""
    src = ScriptedSource("s", dict(SAMPLES), small_inventory())
    w = windows(context="s", namespaces=["shop"], factories={"s": lambda: src})
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    w.toolbar.replay_action.trigger()
    start = w.replay.time
    qtbot.waitUntil(lambda: w.graph.request.queryTime == start, timeout=10000)
    w.replay.slider.sliderReleased.emit()  # pressed and released in place
    w.replay.speed.setCurrentIndex(w.replay.speed.count() - 1)
    w.replay.play_button.setChecked(True)
    qtbot.waitUntil(lambda: w.graph.request.queryTime >= start + 120, timeout=15000)  # two steps on
    w.replay.play_button.setChecked(False)


def test_switching_context_while_replaying_asks_nothing_more_of_the_context_left(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    """Replay ends with the switch; it used to end as "Back to live" does, asking the context being left
    for its live graph (a whole fetch from that cluster's API server and Prometheus, thrown away)."""
    left = ScriptedSource("s", dict(SAMPLES), small_inventory())
    chosen = ScriptedSource("t", dict(SAMPLES), small_inventory())
    w = windows(context="s", namespaces=["shop"], factories={"s": lambda: left, "t": lambda: chosen})
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    w.toolbar.replay_action.trigger()
    start = w.replay.time
    qtbot.waitUntil(lambda: w.graph.request.queryTime == start and not w.poller.busy, timeout=10000)
    asked = len(left.calls)
    w.switch_context("t")
    qtbot.waitUntil(lambda: w.graph is not None and w.info is not None and w.info.context == "t",
                    timeout=10000)
    assert left.calls[asked:] == [] and left.closed
    assert [c.queryTime for c in chosen.calls] == [0] and not w.toolbar.replay_action.isChecked()


def test_choosing_no_namespace_after_a_failed_first_open_is_a_choice(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    """The first open failed (the cluster was away) and the retry connected: the namespace list was not
    asked for again, so unchecking every namespace fetched the defaults instead of showing none; the
    menu also lacked the cluster's other namespaces."""
    src = ScriptedSource("flaky", dict(SAMPLES), small_inventory())
    w = windows(context="flaky", namespaces=["shop"], factories={"flaky": _away_at_first(src)}, backoff_base=0.2)
    qtbot.waitUntil(lambda: w.graph is not None and bool(w.graph.nodes), timeout=10000)
    qtbot.waitUntil(lambda: set(w.toolbar._namespaces) == {"shop", "other"}, timeout=10000)
    w.toolbar.select_namespaces([])  # the user unchecks every namespace
    assert w.poller.request is None and w.empty.mode == "no-namespace"


@pytest.mark.parametrize("who, reopened", [("api server", True), ("prometheus", False),
                                            ("api server unreachable", True), ("api server timeout", True),
                                            ("prometheus unreachable", False)])
def test_a_401_reopens_the_source_only_when_the_api_server_said_it(qtbot, windows, who: str, reopened: bool) -> None:  # type: ignore[no-untyped-def]
    """Rejected kubeconfig credentials: the user's Retry opens the source again (a new login is read);
    the automatic retries do not (an interactive login plugin would open a browser on each). A
    Prometheus 401 is Prometheus' own login: reopening the cluster connection ran the credential
    plugin, rediscovered Prometheus and cleared the charts, for nothing. An API server that cannot be
    reached, or does not answer, may have moved (minikube or kind started again on another port, the
    kubeconfig rewritten): the user's Retry reads the kubeconfig again too (it kept calling the old
    address until the user switched context and back)."""
    from meshdesk.sources.base import Timeout, Unauthorized, Unreachable
    from meshdesk.sources.prometheus import PrometheusUnauthorized, PrometheusUnreachable

    src = ScriptedSource("s", dict(SAMPLES), small_inventory())
    src.error = {
        "api server": Unauthorized("credentials expired or rejected"),
        "prometheus": PrometheusUnauthorized("Prometheus refused the login", status=401),
        "api server unreachable": Unreachable("Cannot reach the cluster at https://127.0.0.1:6443"),
        "api server timeout": Timeout("the cluster did not answer in time"),
        "prometheus unreachable": PrometheusUnreachable("Cannot reach Prometheus at http://127.0.0.1:9090"),
    }[who]
    opened = []

    def factory() -> ScriptedSource:
        opened.append(1)
        return src

    failures: list[object] = []
    w = windows(context="s", namespaces=["shop"], factories={"s": factory}, backoff_base=0.02)
    w.poller.failed.connect(failures.append)
    qtbot.waitUntil(lambda: len(failures) >= 3, timeout=10000)
    assert len(opened) == 1  # automatic retries keep the source
    w.refresh_now()  # the user's Retry
    if reopened:
        qtbot.waitUntil(lambda: len(opened) > 1, timeout=10000)
    else:
        seen = len(failures)
        qtbot.waitUntil(lambda: len(failures) >= seen + 2, timeout=10000)  # the Retry's and one more
        assert len(opened) == 1


def test_the_status_bar_does_not_claim_prometheus_answers_while_it_does_not(qtbot, windows) -> None:  # type: ignore[no-untyped-def]
    """With Prometheus down, the status bar still read "Prometheus: s Prometheus" beside a banner
    saying it could not be reached; it says it is not answering until it answers again."""
    from meshdesk.sources.prometheus import PrometheusUnreachable

    src = ScriptedSource("s", dict(SAMPLES), small_inventory())
    w = windows(context="s", namespaces=["shop"], factories={"s": lambda: src}, backoff_base=0.05)
    qtbot.waitUntil(lambda: w.graph is not None, timeout=10000)
    assert w.status_prometheus.text() == "Prometheus: s Prometheus"
    src.error = PrometheusUnreachable("Cannot reach Prometheus at http://127.0.0.1:9090: connection refused")
    w.refresh_now()
    qtbot.waitUntil(lambda: w.last_error is not None, timeout=10000)
    assert w.status_prometheus.text() == "Prometheus: s Prometheus (not answering)"
    src.error = None
    qtbot.waitUntil(lambda: w.last_error is None, timeout=10000)
    qtbot.waitUntil(lambda: w.status_prometheus.text() == "Prometheus: s Prometheus", timeout=10000)
