"""Replay (Kiali's graph replay): the graph as it was at an earlier time, a play button that walks
forward, and back to live. Real window, real demo cluster (whose traffic has a history), real graph
builder; the replayed numbers are checked against the demo's own snapshot at that instant."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from meshdesk.mesh.graph import build
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.snapshot import save_snapshot
from meshdesk.ui.replay import STEP_S, ago_text
from tests.kube_emulator import kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import prometheus_server  # noqa: F401 - the fixture
from tests.ui_helpers import DEMO_NOW, shown, window_test_marks

pytestmark = window_test_marks()


def test_ago_text() -> None:
    assert [ago_text(s) for s in (0, 20, 300, 3600, 7800)] == ["now", "now", "5 min ago", "1 h ago", "2 h 10 min ago"]


def test_replay_shows_an_earlier_graph_plays_forward_and_goes_back_to_live(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    assert w.graph is not None and w.graph.request.queryTime == 0 and w.poller.interval == 15
    w.toolbar.replay_action.trigger()
    assert w.replay.isVisible() and w.poller.interval == 0 and not w.toolbar.refresh_combo.isEnabled()
    start = w.replay.time
    assert w.replay.anchor - start == 3600  # it opens an hour back
    past = shown(qtbot, w, lambda g: g.request.queryTime == start)
    assert "not live" in w.status_age.text()
    # the numbers are the demo's at that instant, over the same window
    demo = DemoCluster(clock=lambda: DEMO_NOW)
    expected = build(demo.snapshot(past.request))
    assert set(past.edges) == set(expected.edges)
    for eid, edge in expected.edges.items():
        assert past.edges[eid].rate == pytest.approx(edge.rate)
    # scrub, then play: the time walks forward a step at a time
    w.replay.set_time(start + 1800)
    shown(qtbot, w, lambda g: g.request.queryTime == start + 1800)
    w.replay.speed.setCurrentIndex(w.replay.speed.count() - 1)
    w.replay.play_button.setChecked(True)
    shown(qtbot, w, lambda g: g.request.queryTime >= start + 1800 + 2 * STEP_S)
    qtbot.mouseClick(w.replay.live_button, Qt.MouseButton.LeftButton)
    shown(qtbot, w, lambda g: g.request.queryTime == 0)
    assert not w.replay.isVisible() and not w.toolbar.replay_action.isChecked()
    assert w.poller.interval == 15 and w.toolbar.refresh_combo.isEnabled()
    assert "not live" not in w.status_age.text()


def test_playing_stops_at_the_present(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["hello"])
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    w.replay.set_time(w.replay.anchor - STEP_S)
    w.replay.play_button.setChecked(True)
    w.replay.step()  # the last step reaches the right end
    w.replay.step()  # past it: nothing further, playing stops
    assert w.replay.time == w.replay.anchor and not w.replay.play_button.isChecked()


def test_no_replay_for_a_snapshot_file(qtbot, demo_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A snapshot holds one instant: it has no past to replay."""
    demo = DemoCluster(clock=lambda: DEMO_NOW)
    path = tmp_path / "shop.json"
    save_snapshot(demo.snapshot(GraphRequest(namespaces=("shop",))), path)
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    assert w.toolbar.replay_action.isEnabled()
    w.open_snapshot(str(path))
    shown(qtbot, w, lambda g: w.info is not None and not w.info.live)
    assert not w.toolbar.replay_action.isEnabled()


def test_the_charts_follow_the_replayed_moment(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Replaying an hour back, the metrics view and the sparklines chart the range that ends then, so
    the charts beside the graph are about the same moment; back to live, they end now again."""
    import argparse

    from meshdesk.mesh.metrics import MetricsTarget
    from meshdesk.ui.app import make_window
    from tests.ui_helpers import open_windows

    opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=["shop"], snapshot=None)
    windows = open_windows(qtbot, lambda: make_window(opts))
    w = next(windows)()
    shown(qtbot, w, lambda g: bool(g.edges))
    metrics = w.extensions[0].metrics
    with qtbot.waitSignal(metrics.refreshed, timeout=20000):
        metrics.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    w.toolbar.replay_action.trigger()
    at = w.replay.time
    assert metrics.end == at and w.extensions[0].sparklines.end == at
    qtbot.waitUntil(lambda: metrics.last_result is not None and abs(metrics.last_result.end - at) < 60, timeout=20000)
    w.toolbar.replay_action.trigger()
    assert metrics.end == 0 and w.extensions[0].sparklines.end == 0
    qtbot.waitUntil(lambda: metrics.last_result is not None and metrics.last_result.end > at + 3000, timeout=20000)
    next(windows, None)


def test_a_shorter_span_moves_the_time_into_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.ui.replay import ReplayBar

    bar = ReplayBar(clock=lambda: DEMO_NOW)
    qtbot.addWidget(bar)
    bar.span.setCurrentIndex(bar.span.count() - 1)  # the last day
    bar.start(back_s=6 * 3600)
    assert bar.anchor - bar.time == 6 * 3600
    with qtbot.waitSignal(bar.timeChosen, timeout=3000) as chosen:
        bar.span.setCurrentIndex(0)  # the last hour: six hours back is out of it
    assert chosen.args == [bar.anchor - 3600] and bar.time == bar.anchor - 3600
    with qtbot.assertNotEmitted(bar.timeChosen, wait=100):
        bar.span.setCurrentIndex(1)  # six hours: the time an hour back is still in it
    assert bar.time == bar.anchor - 3600


def test_a_replayed_moment_without_traffic_gives_no_live_advice(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Replayed to an hour with no traffic, the page said "No traffic in the last 10m" and offered a
    command to generate traffic, which cannot change the past; it now speaks of the replayed moment."""
    from meshdesk.ui.empty import EmptyState

    page = EmptyState()
    qtbot.addWidget(page)
    page.show_no_traffic(None, ["shop"], demo=True, duration_label="10m", replayed="09:40")
    assert page.title.text() == "No traffic in the 10m before 09:40"
    assert "replay slider" in page.text.text() and "Start it" not in page.text.text()
    assert page.command.isHidden() and page.start_button.isHidden()
    page.show_no_traffic(None, ["shop"], demo=False, duration_label="10m")  # live: the advice is back
    assert page.title.text() == "No traffic in the last 10m" and "To generate traffic" in page.text.text()
    assert page.command.isHidden(), "no inventory: no service is known to call, and none is made up"


@pytest.mark.prometheus
def test_replay_counts_back_from_prometheus_clock_not_a_machine_clock_that_is_off(
        qtbot, kube_emulator, prometheus_server, shared_dir) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """This machine's clock is 40 minutes behind the cluster's. Replay opened "1 h ago" showed the graph
    of 1 h 40 min before Prometheus' latest data (before the data it holds: "No traffic") while the live
    graph beside it had traffic; the slider's hour is now Prometheus' hour, its rates those of that time."""
    import time

    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.ui.mainwindow import MainWindow
    from tests.test_cluster_source import _mesh
    from tests.ui_helpers import open_windows

    _mesh(kube_emulator, shared_dir)

    def source() -> ClusterSource:
        return ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=prometheus_server.url)

    behind = 40 * 60
    windows = open_windows(qtbot, lambda: MainWindow(context="emu", namespaces=["bookinfo"],
                                                     factories={"emu": source}, clock=lambda: time.time() - behind))
    w = next(windows)()
    live = shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    assert w.replay.label.text().endswith("(1 h ago)")
    past = shown(qtbot, w, lambda g: g.request.queryTime != 0, canvas=False)
    assert w.stack.currentWidget() is w.view, "the hour back has traffic"
    assert set(past.edges) == set(live.edges)
    for eid, edge in live.edges.items():  # the series grow steadily: an hour back, the same rates
        assert past.edges[eid].rate == pytest.approx(edge.rate)
    next(windows, None)


def test_the_slider_right_end_keeps_to_the_cluster_present_during_a_long_replay(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Replay opened at the cluster's present and then went on for half an hour: the slider's right end,
    labelled "now", stayed at the time Replay opened, and pushing the slider there showed a graph half
    an hour old. The right end keeps to the cluster's clock: there it is the present; the moment already
    shown stays the same moment, now further back."""
    import time

    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from tests.ui_helpers import open_windows

    cluster_now = [float(DEMO_NOW)]

    def demo() -> DemoCluster:
        return DemoCluster(clock=lambda: cluster_now[0])

    windows = open_windows(qtbot, lambda: MainWindow(context=DEMO, namespaces=["shop"], factories={DEMO: demo},
                                                     clock=lambda: DEMO_NOW - 7200))
    w = next(windows)()
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    opened = w.replay.time
    assert opened == DEMO_NOW - 3600
    w.replay.span.setCurrentIndex(1)  # "Last 6h"
    shown(qtbot, w, lambda g: g.request.queryTime == opened)
    w.replay.follow_timer.setInterval(20)  # (the bar looks at the clock every few seconds: not wait them here)
    cluster_now[0] += 1800  # half an hour of replaying, by the cluster's clock
    # the moment shown stays, half an hour further back
    qtbot.waitUntil(lambda: w.replay.label.text().endswith("(1 h 30 min ago)"), timeout=5000)
    assert w.replay.time == opened and w.graph is not None and w.graph.request.queryTime == opened
    w.replay.slider.setValue(w.replay.slider.maximum())  # the user pushes the slider to its right end
    present = int(DEMO_NOW + 1800)
    assert w.replay.label.text() == f"{time.strftime('%H:%M', time.localtime(present))} (now)"
    shown(qtbot, w, lambda g: g.request.queryTime == present)
    next(windows, None)


def test_the_refresh_combo_says_it_is_paused_while_replaying_and_keeps_the_choice(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """While replaying, the refresh combo was greyed out and still read "Every 30s", though nothing was
    refreshed; it says that refreshing is paused while replaying, and back to live the 30 s chosen
    before are shown and kept again."""
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    combo = w.toolbar.refresh_combo
    every_30s = combo.findData(30)
    combo.setCurrentIndex(every_30s)
    combo.activated.emit(every_30s)  # the user picks "Every 30s"
    assert w.poller.interval == 30
    w.toolbar.replay_action.trigger()
    assert combo.currentText() == "Paused while replaying" and not combo.isEnabled()
    assert '"Every 30s" again' in combo.toolTip()
    assert w.poller.interval == 0
    qtbot.mouseClick(w.replay.live_button, Qt.MouseButton.LeftButton)
    shown(qtbot, w, lambda g: g.request.queryTime == 0)
    assert combo.currentText() == "Every 30s" and combo.isEnabled() and w.poller.interval == 30
    assert combo.findText("Paused while replaying") < 0, "not a choice when live"


def test_a_moment_at_the_slider_left_end_is_not_changed_under_the_user(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Replay opens an hour back, at the left end of "Last 1h". As the cluster's present moves on, the
    graph on show stays that moment (a moment the user did not pick is never shown in its place) and its
    label says how long ago it is; the slider's next use counts back from the present."""
    import time

    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from tests.ui_helpers import open_windows

    cluster_now = [float(DEMO_NOW)]
    windows = open_windows(qtbot, lambda: MainWindow(context=DEMO, namespaces=["shop"], factories={
        DEMO: lambda: DemoCluster(clock=lambda: cluster_now[0])}))
    w = next(windows)()
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    opened = w.replay.time
    shown(qtbot, w, lambda g: g.request.queryTime == opened)
    w.replay.follow_timer.setInterval(20)
    cluster_now[0] += 1800
    qtbot.waitUntil(lambda: w.replay.label.text().endswith("(1 h 30 min ago)"), timeout=5000)
    assert w.replay.time == opened and w.graph is not None and w.graph.request.queryTime == opened
    w.replay.span.setCurrentIndex(1)  # "Last 6h": the moment on show stays, 1 h 30 min back
    assert w.replay.time == opened and w.replay.label.text().endswith("(1 h 30 min ago)")
    w.replay.slider.setValue(w.replay.slider.maximum() - 10)  # the user picks "10 min ago"
    present = int(DEMO_NOW + 1800)
    assert w.replay.label.text() == f"{time.strftime('%H:%M', time.localtime(present - 600))} (10 min ago)"
    shown(qtbot, w, lambda g: g.request.queryTime == present - 600)
    next(windows, None)


def _replay_spans(w) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.replay.span.itemText(i) for i in range(w.replay.span.count())]


@pytest.mark.prometheus
def test_replay_reaches_no_further_back_than_prometheus_keeps_its_data(
        qtbot, kube_emulator, shared_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A Prometheus that keeps six hours of data (--storage.tsdb.retention.time=6h) was offered a slider
    reaching back a day: its first eighteen hours showed "No traffic", as if the mesh had been idle. Replay
    now reaches back six hours, as Kiali's keeps to the retention, and says why; the moment on show when
    the day was chosen moves into those six hours."""
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.ui.mainwindow import MainWindow
    from tests.prom_server import PrometheusServer, binaries_missing, istio_dataset
    from tests.test_cluster_source import _mesh
    from tests.ui_helpers import open_windows

    if binaries_missing():
        pytest.skip(binaries_missing())
    _mesh(kube_emulator, shared_dir)
    with PrometheusServer(tmp_path / "prometheus", istio_dataset(), retention="6h") as prometheus:
        windows = open_windows(qtbot, lambda: MainWindow(context="emu", namespaces=["bookinfo"], factories={
            "emu": lambda: ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=prometheus.url)}))
        w = next(windows)()
        shown(qtbot, w, lambda g: bool(g.edges))
        w.toolbar.replay_action.trigger()
        opened = w.replay.time
        shown(qtbot, w, lambda g: g.request.queryTime == opened, canvas=False)
        qtbot.waitUntil(lambda: _replay_spans(w) == ["Last 1h", "Last 6h"], timeout=5000)
        assert "Prometheus keeps 6 h of data" in w.replay.span.toolTip()
        w.replay.span.setCurrentIndex(1)
        w.replay.slider.setValue(w.replay.slider.minimum())  # the slider's left end: six hours back
        assert w.replay.label.text().endswith("(6 h ago)")
        assert "Prometheus keeps no older data" in w.replay.slider.toolTip()
        shown(qtbot, w, lambda g: g.request.queryTime == w.replay.anchor - 6 * 3600, canvas=False)
        next(windows, None)


@pytest.mark.prometheus
def test_replay_keeps_its_day_when_prometheus_does_not_say_how_long_it_keeps_data(
        qtbot, kube_emulator, shared_dir, prometheus_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A Thanos or Mimir in front of the data does not answer Prometheus' runtimeinfo: Replay keeps the day it
    offers, and the graphs are read as before."""
    import requests

    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.ui.mainwindow import MainWindow
    from tests.prom_server import StubResponse, StubServer
    from tests.test_cluster_source import _mesh
    from tests.ui_helpers import open_windows

    def front(req):  # type: ignore[no-untyped-def]
        if req.path.startswith("/api/v1/status/"):
            return StubResponse(404, "404 page not found")
        form = {"data": req.params} if req.method == "POST" else {"params": req.params}
        answer = requests.request(req.method, prometheus_server.url + req.path, timeout=30, **form)
        return StubResponse(answer.status_code, answer.content, content_type=answer.headers["Content-Type"])

    _mesh(kube_emulator, shared_dir)
    with StubServer(front) as thanos:
        windows = open_windows(qtbot, lambda: MainWindow(context="emu", namespaces=["bookinfo"], factories={
            "emu": lambda: ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=thanos.url)}))
        w = next(windows)()
        shown(qtbot, w, lambda g: bool(g.edges))
        w.toolbar.replay_action.trigger()
        opened = w.replay.time
        shown(qtbot, w, lambda g: g.request.queryTime == opened, canvas=False)
        qtbot.waitUntil(lambda: any(r.path == "/api/v1/status/runtimeinfo" for r in thanos.requests), timeout=5000)
        assert _replay_spans(w) == ["Last 1h", "Last 6h", "Last 1d"]
        assert w.replay.span.toolTip() == "How far back the slider reaches"
        next(windows, None)


def test_the_right_end_keeps_to_the_present_while_the_moment_on_show_is_at_the_left_end(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Replay opens an hour back, at the left end of "Last 1h". Half an hour on by the cluster's clock,
    the right end ("now") had stayed where Replay opened, waiting for the bar's next use: its tooltip named a
    "now" half an hour old, and one press of the arrow key jumped the moment on show by half an hour. The
    right end keeps to the present as time passes; the slider reaches back to the moment on show (unchanged),
    and the arrow key moves it one minute."""
    import time

    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from tests.ui_helpers import open_windows

    cluster_now = [float(DEMO_NOW)]
    windows = open_windows(qtbot, lambda: MainWindow(context=DEMO, namespaces=["shop"], factories={
        DEMO: lambda: DemoCluster(clock=lambda: cluster_now[0])}))
    w = next(windows)()
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.replay_action.trigger()
    opened = w.replay.time
    shown(qtbot, w, lambda g: g.request.queryTime == opened)
    cluster_now[0] += 1800
    w.replay.follow_timer.timeout.emit()  # (the bar looks at the clock every few seconds, as time passes)
    present = int(DEMO_NOW + 1800)

    def hm(t: int) -> str:
        return time.strftime("%H:%M", time.localtime(t))

    assert w.replay.slider.toolTip().endswith(f"from {hm(opened)} to {hm(present)} (now)")
    assert w.replay.time == opened and w.replay.label.text() == f"{hm(opened)} (1 h 30 min ago)"
    assert w.replay.slider.value() == w.replay.slider.minimum(), "the handle stays at the left end"
    qtbot.keyClick(w.replay.slider, Qt.Key.Key_Right)  # a minute on
    assert w.replay.label.text() == f"{hm(opened + 60)} (1 h 29 min ago)"
    shown(qtbot, w, lambda g: g.request.queryTime == opened + 60)
    next(windows, None)


def test_without_prometheus_replay_counts_back_from_the_api_servers_clock(
        qtbot, kube_emulator, shared_dir) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The cluster has no Prometheus (or it is down): its workloads and Istio config are shown without
    telemetry. Its API server's clock is three days and five hours ahead of this machine's. Replay counted back from this
    machine's clock, silently; it counts back from the API server's (its last answer's Date), as it does
    from Prometheus' when there is one."""
    import time

    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.ui.mainwindow import MainWindow
    from tests.test_cluster_source import _mesh
    from tests.ui_helpers import open_windows

    _mesh(kube_emulator, shared_dir)
    kube_emulator.delete("services", "istio-system", "prometheus")  # no Prometheus in the cluster
    far = (int(time.time()) // 60 + 3 * 1440 + 317) * 60  # three days and 5 h 17 min on, as a minute starts
    kube_emulator.clock = lambda: far
    windows = open_windows(qtbot, lambda: MainWindow(context="emu", namespaces=["bookinfo"], factories={
        "emu": lambda: ClusterSource(kube_emulator.api_client(), context="emu")}))
    w = next(windows)()
    qtbot.waitUntil(lambda: w.last_error is not None, timeout=10000)  # "Prometheus was not found"
    w.toolbar.replay_action.trigger()
    assert w.replay.label.text() == f"{time.strftime('%H:%M', time.localtime(far - 3600))} (1 h ago)"
    next(windows, None)
