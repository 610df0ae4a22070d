"""Metric charts in real widgets: values from a real Prometheus, in-place updates that keep the user's
zoom, failures that keep the data and say so, gaps, partial answers, the crosshair and sparklines."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from meshdesk.mesh.metrics import CHARTS, Line, MetricsTarget
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.demo.metrics import DemoMetrics
from meshdesk.sources.metrics import PrometheusMetrics
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.ui.charts import MetricChart
from meshdesk.ui.metrics_view import NO_ERRORS, MetricsView, SparklinePanel
from tests.prom_server import (
    HANG,
    PrometheusServer,
    StubRequest,
    StubResponse,
    StubServer,
    prometheus_server,  # noqa: F401 - the fixture
)

END = 1_700_000_400.0  # a fixed "now" for stub-backed views (on every step grid)


class Answers:
    """A Prometheus stand-in's state: each range query gets ``level`` at every grid point except the
    ``missing`` times (gaps) and the ``nan`` times, with ``warnings``."""

    def __init__(self) -> None:
        self.level = 1.0
        self.missing: set[float] = set()
        self.nan: set[float] = set()
        self.warnings: list[str] = []
        self.status = 200
        self.hang = False
        self.time_out = ""  # queries containing this text: Prometheus gives up on them (its timeout)
        self.warn_on = ""  # queries containing this text alone get the warnings ("": all)

    def __call__(self, req: StubRequest) -> StubResponse | object:
        if self.hang:
            return HANG
        if self.time_out and self.time_out in req.params.get("query", ""):
            return StubResponse(status=503, body={"status": "error", "errorType": "timeout",
                                                  "error": "query timed out in expression evaluation"})
        if self.status != 200:
            return StubResponse(status=self.status, body="upstream connect error")
        start, end, step = float(req.params["start"]), float(req.params["end"]), float(req.params["step"])
        values = []
        t = start
        while t <= end + 1e-9:
            if t not in self.missing:
                values.append([t, "NaN" if t in self.nan else repr(self.level)])
            t += step
        body: dict[str, Any] = {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": values}]}}
        if self.warnings and self.warn_on in req.params.get("query", ""):
            body["warnings"] = self.warnings
        return StubResponse(body=body)


@pytest.fixture
def stub() -> Iterator[tuple[StubServer, Answers]]:
    answers = Answers()
    with StubServer(answers) as server:
        yield server, answers


def _view(qtbot: QtBot, source: Any) -> MetricsView:
    view = MetricsView(source, poll_ms=0)
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    return view


def _stub_view(qtbot: QtBot, url: str, timeout: float = 5.0) -> MetricsView:
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(url, timeout=timeout), clock=lambda: END))
    view.clock = lambda: END
    return view


def _set_target(qtbot: QtBot, view: MetricsView, target: MetricsTarget) -> None:
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_target(target)


def _refresh(qtbot: QtBot, view: MetricsView) -> None:
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.refresh()


def _wheel(chart: MetricChart, clicks: int) -> None:
    """A real mouse-wheel event over the middle of the plot, as a user zooming in would send."""
    vp = chart.plot.viewport()
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    event = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * clicks),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, event)


def test_charts_show_real_prometheus_values(qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "details-v1"))
    volume = view.charts["request_volume"].data()
    times, values = volume[("rate", "")]
    assert len(times) == 31 and values[-1] == pytest.approx(10.0)
    assert view.charts["error_share"].data()[("rate", "")][1][-1] == pytest.approx(0.2)
    assert set(view.charts["request_duration"].data()) == {("avg", ""), ("p50", ""), ("p95", ""), ("p99", "")}
    assert view.charts["tcp_sent"].status_text == "No data"
    # the crosshair text at a point in time: the time and the values there
    text = view.charts["error_share"].text_at(times[-1] + 5)
    assert "20.00%" in text and ":" in text.splitlines()[0]
    # a split changes the lines
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.split.setCurrentIndex(view.split.findData("response_code"))
    assert set(view.charts["request_volume"].data()) == {("rate", "200"), ("rate", "503")}
    view.shutdown()


def test_refresh_updates_in_place_and_keeps_the_users_zoom(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    server, answers = stub
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    item = chart.items[("rate", "")]
    assert not chart.user_zoomed
    _wheel(chart, 3)
    qtbot.waitUntil(lambda: chart.user_zoomed, timeout=5000)
    zoomed = chart.view_box.viewRange()
    answers.level = 7.0
    _refresh(qtbot, view)
    assert chart.items[("rate", "")] is item  # the same PlotDataItem, new data
    assert list(item.getData()[1])[-1] == 7.0
    assert chart.view_box.viewRange() == zoomed  # the user's zoom survived the refresh
    # a chart nobody touched follows the data
    other = view.charts["request_errors"]
    assert not other.user_zoomed
    vp = chart.plot.viewport()
    centre = QPoint(vp.width() // 2, vp.height() // 2)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(vp, left, none, centre)
    QTest.mouseDClick(vp, left, none, centre)
    QTest.mouseRelease(vp, left, none, centre)
    qtbot.waitUntil(lambda: not chart.user_zoomed, timeout=5000)  # a double-click follows the data again
    view.shutdown()


def test_charts_start_at_zero(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """A steady rate is drawn from a y axis that starts at 0, not blown up to fill the chart, and a
    line of zeros lies on the floor rather than in the middle of a range reaching below zero."""
    server, answers = stub
    answers.level = 3.5
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[1][1] >= 3.5, timeout=5000)
    low, high = chart.view_box.viewRange()[1]
    assert low == 0.0 and 3.5 <= high < 5.0
    answers.level = 0.0
    _refresh(qtbot, view)
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[1][1] < 3.5, timeout=5000)
    low, high = chart.view_box.viewRange()[1]
    assert low == 0.0 and 1.0 <= high < 1.5
    view.shutdown()


def test_failures_keep_the_data_and_say_so(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    server, answers = stub
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    before = view.charts["request_volume"].data()
    answers.status = 503
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.refresh()
    chart = view.charts["request_volume"]
    assert chart.data() == before
    assert chart.status_text.startswith("Metrics refresh failed - showing data from ")
    # Prometheus gone altogether (and no kept-alive connection to it left)
    server.__exit__(None, None, None)
    view.source.client.session.close()
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.refresh()
    assert chart.data() == before
    assert chart.status_text.startswith("Prometheus unreachable - showing data from ")
    view.shutdown()


def test_a_failure_after_a_range_change_drops_the_old_ranges_lines(qtbot: QtBot,
                                                                    stub: tuple[StubServer, Answers]) -> None:
    """A refresh for a new range that failed left the old range's lines under the new selector,
    "showing data from ..." as if they were the range asked for."""
    server, answers = stub
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    assert chart.data()
    answers.status = 503
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.range.setCurrentIndex(0)  # 5 minutes
    assert chart.data() == {}
    assert chart.status_text.startswith("Metrics refresh failed: ") and "showing data" not in chart.status_text
    # the same for a split
    answers.status = 200
    _refresh(qtbot, view)
    assert chart.data()
    answers.status = 503
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.split.setCurrentIndex(1)
    assert chart.data() == {} and "showing data" not in chart.status_text
    view.shutdown()


def test_in_replay_a_failure_names_the_replayed_moment(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """In replay, "showing data from HH:MM:SS" gave the wall-clock time of the fetch, not the moment
    the charts show."""
    from meshdesk.ui.charts import clock_text

    server, answers = stub
    view = _stub_view(qtbot, server.url)
    replayed = END - 7200  # two hours before "now"
    view.end = replayed
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    answers.status = 503
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.refresh()
    chart = view.charts["request_volume"]
    assert chart.data()
    assert chart.status_text == f"Metrics refresh failed - showing data from {clock_text(replayed)}"
    view.shutdown()


def test_a_slow_prometheus_is_reported_while_the_data_stays(qtbot: QtBot) -> None:
    answers = Answers()
    with StubServer(answers) as server:
        view = _stub_view(qtbot, server.url, timeout=2.0)
        _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
        before = view.charts["request_volume"].data()
        answers.hang = True
        view.refresh()
        view.set_poll_interval(20)  # the next tick finds the refresh still running
        chart = view.charts["request_volume"]
        qtbot.waitUntil(lambda: chart.status_text.startswith("Prometheus is slow"), timeout=10000)
        assert "showing data from" in chart.status_text
        assert chart.data() == before
        view.set_poll_interval(0)
    view.shutdown()  # the stub has released the hung request


def _levels(data: dict[tuple[str, str], tuple[list[float], list[float]]]) -> set[float]:
    return {v for _times, values in data.values() for v in values}


def test_a_new_selection_keeps_the_last_lines_marked_as_loading_until_its_own_are_drawn(
        qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """A click on another node no longer empties the charts (repainted empty, then drawn again): the last
    selection's lines stay, under the new title with "Loading metrics…" beside, until the new selection's
    are drawn over them. Never are the new lines shown under the old title, nor the old lines under the
    new title without "Loading"; a selection with no charts empties them at once."""
    server, answers = stub
    view = _stub_view(qtbot, server.url)
    view.draw_slice_s = 0.0  # an answer drawn one chart a turn: every turn between is looked at
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    assert _levels(chart.data()) == {1.0}
    old_title = view.title.text()
    answers.level = 5.0  # what the next selection's queries get
    seen: list[tuple[str, bool, frozenset[float]]] = []
    charts = list(view.charts.values())

    def look() -> None:  # at every event-loop turn: the title, the marker, and every chart's lines
        for c in charts:
            seen.append((view.title.text(), view.loading.isVisibleTo(view), frozenset(_levels(c.data()))))

    turn = QTimer()
    turn.setInterval(0)
    turn.timeout.connect(look)
    turn.start()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_target(MetricsTarget.workload("shop", "ratings-v1"))
        new_title = view.title.text()
        assert new_title != old_title
        assert _levels(chart.data()) == {1.0}  # kept, not emptied
        assert view.loading.isVisibleTo(view)  # and said to be being replaced
    turn.stop()
    look()
    assert seen and all(levels <= {5.0} for title, _loading, levels in seen if title == old_title)
    assert all(loading for title, loading, levels in seen if title == new_title and 1.0 in levels), seen
    assert _levels(chart.data()) == {5.0} and not view.loading.isVisibleTo(view)
    assert all(1.0 not in _levels(c.data()) for c in charts)
    # no selection with charts (an empty click on the canvas): emptied at once, not kept under "No selection"
    view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    view.set_target(None)
    assert view.title.text() == "No selection"
    assert all(c.data() == {} for c in charts) and not view.loading.isVisibleTo(view)
    view.shutdown()


def test_a_late_or_failed_answer_empties_the_last_selections_lines(qtbot: QtBot) -> None:
    """Kept while the new selection's answer is asked, the last lines go once it has failed (the failure
    said, of nothing shown) or is late (the charts empty, "Loading metrics…" still said)."""
    answers = Answers()
    with StubServer(answers) as server:
        view = _stub_view(qtbot, server.url)
        _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
        chart = view.charts["request_volume"]
        assert _levels(chart.data()) == {1.0}
        answers.status = 503
        with qtbot.waitSignal(view.failed, timeout=20000):
            view.set_target(MetricsTarget.workload("shop", "ratings-v1"))
            assert _levels(chart.data()) == {1.0}
        assert all(c.data() == {} for c in view.charts.values())
        assert chart.status_text.startswith("Metrics refresh failed") and "showing data from" not in chart.status_text
        answers.status = 200
        _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
        assert _levels(chart.data()) == {1.0}
        answers.hang = True
        view.set_target(MetricsTarget.workload("shop", "ratings-v1"))
        assert _levels(chart.data()) == {1.0} and view.loading.isVisibleTo(view)
        qtbot.waitUntil(lambda: all(c.data() == {} for c in view.charts.values()), timeout=2500)
        assert view.fetcher.busy and view.loading.isVisibleTo(view)
        assert view.title.text().startswith("workload shop/ratings-v1")
    view.shutdown()  # the stub has released the hung request


def test_the_demo_does_not_call_itself_a_slow_prometheus(qtbot: QtBot) -> None:
    """A 6 hour range at 15 s steps takes the demo longer than a poll: the next tick said "Prometheus is
    slow" in the demo, which has no Prometheus."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    view = _view(qtbot, DemoMetrics(demo))
    view.range.setCurrentIndex(view.range.findData(21600))
    view.step.setCurrentIndex(view.step.findData(15))
    view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    assert view.fetcher.busy
    view.timer.timeout.emit()  # a poll while the demo is still computing
    assert not any("slow" in c.status_text for c in view.charts.values())
    view.shutdown()


def test_a_series_without_the_split_label_is_named_for_what_it_lacks(qtbot: QtBot,
                                                                     stub: tuple[StubServer, Answers]) -> None:
    """Split by version, a series without the version label was given the chart's title as its name
    ("Request volume" beside "v1" and "v2"), as if it were the total."""
    from meshdesk.mesh.metrics import SPLIT_VERSION

    server, _answers = stub  # its series carry no labels at all
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.split.setCurrentIndex(view.split.findData(SPLIT_VERSION))
    chart = view.charts["request_volume"]
    assert set(chart.data()) == {("rate", "(no version)")}
    times, _values = chart.data()[("rate", "(no version)")]
    assert chart.text_at(times[-1]).splitlines()[1].startswith("(no version): ")
    view.shutdown()


def test_the_demo_names_a_series_without_the_split_label_too(qtbot: QtBot) -> None:
    from meshdesk.mesh.metrics import SPLIT_VERSION, MetricsSpec
    from meshdesk.mesh.telemetry import Sample
    from meshdesk.sources.demo.metrics import _evaluate

    target = MetricsTarget.workload("shop", "reviews-v2")
    labels = {"reporter": "destination", "destination_workload_namespace": "shop",
              "destination_workload": "reviews-v2", "response_code": "200"}
    samples = [Sample("istio_requests_total", labels, 3.0)]
    spec = MetricsSpec(split=SPLIT_VERSION, charts=("request_volume",))
    assert set(_evaluate(samples, target, spec)) == {("request_volume", "rate", "(no version)")}


def test_gaps_nan_and_partial_answers(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    server, answers = stub
    answers.missing = {END - 600.0}
    answers.nan = {END - 300.0}
    answers.warnings = ["partial response: store b unreachable"]
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    times, values = chart.data()[("rate", "")]
    assert math.isnan(values[times.index(END - 600.0)]) and math.isnan(values[times.index(END - 300.0)])
    assert values[-1] == 1.0
    item = chart.items[("rate", "")]
    assert item.opts["connect"] == "finite"  # drawn as gaps, not joined across
    assert chart.status_text == "Partial data: partial response: store b unreachable"
    assert "no data" in chart.text_at(END - 600.0)
    view.shutdown()


def test_crosshair_follows_the_mouse(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    server, answers = stub
    answers.level = 4.5
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_volume"]
    vp = chart.plot.viewport()
    where = QPoint(vp.width() // 2, vp.height() // 2)
    QTest.mouseMove(vp, where)
    qtbot.waitUntil(lambda: chart.v_line.isVisible(), timeout=5000)
    x = chart.view_box.mapSceneToView(chart.plot.mapToScene(where)).x()
    assert chart.v_line.value() == pytest.approx(x)
    text = chart.hover.textItem.toPlainText()
    assert text == chart.text_at(x) and "4.5 ops/s" in text
    view.shutdown()


@pytest.mark.parametrize("corner", ["bottom right", "top right", "bottom left", "top left"])
def test_the_crosshairs_values_stay_inside_the_chart_at_its_edges(qtbot: QtBot, stub: tuple[StubServer, Answers],
                                                                   corner: str) -> None:
    """The values box was drawn right of and below the mouse whatever its place: near the right edge (the
    latest values) or the bottom it lay outside the plot, cut off, a crosshair line with nothing to read.
    It is drawn on the side with room, and reads the values under the mouse."""
    server, answers = stub
    answers.level = 4.5
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    chart = view.charts["request_duration"]  # four lines: a tall box
    box = chart.plot.mapFromScene(chart.view_box.sceneBoundingRect()).boundingRect()
    where = QPoint(box.right() - 4 if "right" in corner else box.left() + 4,
                   box.bottom() - 4 if "bottom" in corner else box.top() + 4)
    QTest.mouseMove(chart.plot.viewport(), where)
    qtbot.waitUntil(lambda: chart.hover.isVisible(), timeout=5000)
    x = chart.view_box.mapSceneToView(chart.plot.mapToScene(where)).x()
    assert chart.hover.textItem.toPlainText() == chart.text_at(x) and "4.5" in chart.text_at(x)
    shown = chart.hover.sceneBoundingRect()
    plot = chart.view_box.sceneBoundingRect()
    assert plot.contains(shown), (corner, shown, plot)
    view.shutdown()


def test_graph_selection_picks_the_target(qtbot: QtBot) -> None:
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE
    from meshdesk.mesh.request import GraphRequest
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now))))
    src = graph.find_node(node_type=NODE_APP, namespace="shop", workload="productpage-v1")
    assert src is not None
    edge = next(e for e in graph.out_edges(src.id) if e.rate > 0)
    view = _view(qtbot, DemoMetrics(demo))
    view.range.setCurrentIndex(0)  # 5 minutes
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [edge.id])
    assert view.target is not None and view.target.kind == "edge"
    times, values = view.charts["request_volume"].data()[("rate", "")]
    assert values[-1] > 0
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [src.id])
    assert view.target == MetricsTarget.app("shop", "productpage", "inbound", "v1")
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(1)
    assert view.target == MetricsTarget.app("shop", "productpage", "outbound", "v1")
    # a service has no outbound traffic of its own: said as such, not "No selection"
    reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
    assert reviews is not None
    view.show_graph_selection(graph, [reviews.id])
    assert view.target is None and view.title.text() == "service shop/reviews (outbound)"
    # once in the charts' place; not "Select a workload, app, ..., service" on each chart beside it
    assert view.notice.text().startswith("A service has no outbound traffic of its own: choose Inbound")
    assert not view.notice.isHidden() and view._scroll.isHidden()
    assert "Select a" not in view.charts["request_volume"].status_text
    view.shutdown()


def test_a_long_target_name_wraps_rather_than_widening_the_window(qtbot: QtBot) -> None:
    """Kubernetes names have no spaces: a 63-character namespace and a long app made the title ask for
    a thousand pixels, and the window grew past the screen."""
    view = _view(qtbot, None)
    ns = "a-very-long-namespace-name-that-is-exactly-sixty-three-chars-xx"
    before = view.minimumSizeHint().width()
    view.set_target(MetricsTarget.app(ns, "payment-gateway-adapter-for-the-legacy-mainframe-billing-system", "inbound"))
    assert view.minimumSizeHint().width() <= max(before, 600)
    assert view.title.text() == f"app {ns}/payment-gateway-adapter-for-the-legacy-mainframe-billing-system (inbound)"
    assert view.title.toolTip() == view.title.text()  # the whole name, whatever the width
    view.resize(400, 600)
    view.show()
    qtbot.waitExposed(view)
    assert view.title.height() > view.title.fontMetrics().height() * 1.5  # it wrapped onto more lines
    view.shutdown()


def test_sparklines_follow_the_demo(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    panel = SparklinePanel(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.set_target(MetricsTarget.workload("shop", "reviews-v3"))
    times, values = panel.charts["request_volume"].data()[("rate", "")]
    assert len(times) == 21 and all(v > 0 for v in values)
    assert set(panel.charts) == {"request_volume", "error_share", "request_duration", "tcp_sent"}
    # a small chart has no legend box: the duration chart's title names its four lines
    duration = panel.charts["request_duration"].title_text()
    assert all(f">{name}</span>" in duration for name in ("avg", "p50", "p95", "p99")), duration
    assert "</span> <span" not in panel.charts["request_volume"].title_text().split("(ops/s)")[-1]  # one line
    # an HTTP workload has no TCP data: that chart says so, and takes no more room than the others
    panel.resize(340, 460)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.charts["tcp_sent"].status_text == "No data"
    heights = [c.height() for c in panel.charts.values()]
    assert max(heights) - min(heights) <= 4, heights
    panel.set_target(None)
    assert panel.charts["request_volume"].data() == {}
    panel.shutdown()


def test_sparklines_keep_the_last_lines_greyed_until_the_new_ones_come(qtbot: QtBot) -> None:
    """The details panel's small charts, at another selection: the last selection's lines stay, their titles
    greyed, until the new selection's are drawn (not emptied and drawn again); no target empties them."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    panel = SparklinePanel(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(panel)
    panel.resize(340, 460)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.set_target(MetricsTarget.workload("shop", "reviews-v3"))
    chart = panel.charts["request_volume"]
    first = chart.data()
    assert first and chart.title.isEnabled()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.set_target(MetricsTarget.workload("shop", "ratings-v1"))
        assert chart.data() == first and not chart.title.isEnabled()
    assert chart.data() and chart.data() != first and chart.title.isEnabled()
    panel.set_target(MetricsTarget.workload("shop", "reviews-v3"))
    panel.set_target(None)
    assert chart.data() == {} and chart.title.isEnabled()
    panel.shutdown()


def test_shares_are_labelled_in_percent(qtbot: QtBot) -> None:
    """An error share of 0.0006 reads "0.06%" on the axis, in the title's unit, also in the narrow
    sparkline charts; the decimals follow the tick spacing."""
    from meshdesk.ui.charts import MetricChart, PercentAxis

    axis = PercentAxis(orientation="left")
    assert axis.tickStrings([0.0, 0.0002, 0.0004], 1.0, 0.0002) == ["0.00%", "0.02%", "0.04%"]
    assert axis.tickStrings([0.0, 0.2, 0.4], 1.0, 0.2) == ["0%", "20%", "40%"]
    for compact in (True, False):
        chart = MetricChart("error_share", compact=compact)
        qtbot.addWidget(chart)
        assert "(%)" in chart.title.text() and isinstance(chart.plot.getAxis("left"), PercentAxis)
        chart.resize(340, 120 if compact else 300)
        chart.show()
        chart.set_lines([Line("error_share", "rate", "", [100.0, 160.0, 220.0], [0.0006, 0.0009, 0.0007])])
        qtbot.waitUntil(lambda c=chart: 0.0009 < c.plot.getAxis("left").range[1] < 0.002, timeout=5000)
        # what the axis draws: pyqtgraph leaves out labels wider than the axis
        image = QImage(400, 400, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            specs = chart.plot.getAxis("left").generateDrawSpecs(painter)
        finally:
            painter.end()
        drawn = [text for _rect, _flags, text in specs[2]]
        assert "0.06%" in drawn or "0.05%" in drawn, (compact, drawn)


def test_a_chart_left_without_data_drops_the_last_selections_scale(qtbot: QtBot) -> None:
    """Selecting something with no data after something with data: the chart says "No data" and its
    axis no longer shows the previous selection's scale; once data comes, it follows that again."""
    from meshdesk.ui.charts import MetricChart

    chart = MetricChart("request_volume", compact=True)
    qtbot.addWidget(chart)
    chart.resize(340, 120)
    chart.show()
    chart.set_lines([Line("request_volume", "rate", "", [100.0, 160.0], [12.0, 13.0])])
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[1][1] >= 13.0, timeout=5000)
    chart.set_lines([])
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[1] == [0.0, 1.0], timeout=5000)
    assert not chart.user_zoomed
    chart.set_lines([Line("request_volume", "rate", "", [100.0, 160.0], [4.0, 5.0])])
    qtbot.waitUntil(lambda: 5.0 <= chart.view_box.viewRange()[1][1] < 13.0, timeout=5000)


def test_charts_follow_the_light_and_dark_theme(qtbot: QtBot) -> None:
    """A chart drawn in the dark theme is dark (it used to stay white), and follows a switch."""
    from meshdesk.ui.charts import MetricChart
    from meshdesk.ui.theme import apply_theme, reset_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        apply_theme(app, "dark")
        chart = MetricChart("request_volume")
        qtbot.addWidget(chart)
        assert chart.plot.backgroundBrush().color().lightness() < 60
        assert chart.plot.getAxis("left").textPen().color().lightness() > 120  # light text on dark
        apply_theme(app, "light")
        assert chart.plot.backgroundBrush().color() == QColor("#ffffff")
        assert chart.plot.getAxis("left").textPen().color().lightness() < 120
    finally:
        reset_theme(app)


def test_a_split_value_has_one_colour_in_every_chart(qtbot: QtBot) -> None:
    """By version or by response code, a line keeps its colour from chart to chart (the 503 line was red
    in one chart and blue in the next); response codes take their class's colour, as on the graph."""
    from meshdesk.ui.charts import MetricChart

    shared: dict[str, str] = {}
    volume, errors = MetricChart("request_volume", colours=shared), MetricChart("request_errors", colours=shared)
    for chart in (volume, errors):
        qtbot.addWidget(chart)
    times = [100.0, 160.0]

    def colours(chart: MetricChart, values: list[str]) -> dict[str, str]:
        chart.set_lines([Line(chart.key, "rate", v, times, [1.0, 2.0]) for v in values])
        return {key[1]: item.opts["pen"].color().name() for key, item in chart.items.items()}

    a = colours(volume, ["v1", "v2", "200", "503"])
    b = colours(errors, ["503", "v2", "v1"])
    assert a["v1"] == b["v1"] and a["v2"] == b["v2"] and a["503"] == b["503"]
    assert len(set(a.values())) == 4, "distinct within a chart"
    assert a["200"] == "#3e8635" and a["503"].startswith("#") and a["503"] != a["200"]


def test_a_chart_whose_query_timed_out_keeps_its_lines_and_says_so(qtbot: QtBot,
                                                                    stub: tuple[StubServer, Answers]) -> None:
    """Prometheus gives up on the duration quantiles partway through a refresh: the duration chart keeps
    the four lines it had (it was left with the average alone) and says the query failed and since
    when it shows older data; the other charts take the new values."""
    server, answers = stub
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    duration, volume = view.charts["request_duration"], view.charts["request_volume"]
    before = duration.data()
    assert set(before) == {("avg", ""), ("p50", ""), ("p95", ""), ("p99", "")}
    answers.level = 6.0
    answers.time_out = "histogram_quantile"
    _refresh(qtbot, view)
    assert volume.data()[("rate", "")][1][-1] == 6.0 and volume.status_text == ""
    assert duration.data() == before
    assert duration.status_text.startswith("Query failed: Prometheus gave up on the query")
    assert "showing data from" in duration.status_text
    answers.time_out = ""
    _refresh(qtbot, view)  # answered again: new data, no complaint
    assert duration.data()[("p99", "")][1][-1] == 6.0 and duration.status_text == ""
    view.shutdown()


def test_the_legend_shows_the_current_lines_and_a_hidden_line_stays_hidden(qtbot: QtBot) -> None:
    """Switching the split or the selection leaves only the lines now drawn in the legend (it kept
    every earlier one, with an eye icon); a line's colour does not depend on what the chart showed
    before; a line the user hid by clicking its legend entry stays hidden at the next poll."""
    chart = MetricChart("request_volume")
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    times = [100.0, 160.0]

    def legend() -> list[str]:
        assert chart.legend is not None
        return [label.text for _sample, label in chart.legend.items]

    def colour(key: tuple[str, str]) -> str:
        return str(chart.items[key].opts["pen"].color().name())

    chart.set_lines([Line("request_volume", "rate", v, times, [1.0, 2.0]) for v in ("v1", "v2", "v3")])
    assert legend() == ["v1", "v2", "v3"]
    chart.set_lines([Line("request_volume", "rate", "", times, [1.0, 2.0])])
    assert legend() == ["Request volume"]
    fresh = MetricChart("request_volume")
    qtbot.addWidget(fresh)
    fresh.set_lines([Line("request_volume", "rate", "", times, [1.0, 2.0])])
    assert colour(("rate", "")) == str(fresh.items[("rate", "")].opts["pen"].color().name())
    # the user hides a line in the legend; the next poll brings new data for it
    chart.set_lines([Line("request_volume", "rate", v, times, [1.0, 2.0]) for v in ("200", "503")])
    assert chart.legend is not None
    sample = next(s for s, label in chart.legend.items if label.text == "503")
    sample_pos = chart.plot.mapFromScene(sample.mapToScene(sample.boundingRect().center()))
    QTest.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, sample_pos)
    qtbot.waitUntil(lambda: not chart.items[("rate", "503")].isVisible(), timeout=5000)
    chart.set_lines([Line("request_volume", "rate", v, times, [3.0, 4.0]) for v in ("200", "503")])
    assert not chart.items[("rate", "503")].isVisible()
    assert set(chart.data()) == {("rate", "200")} and legend() == ["200", "503"]
    assert "503" not in chart.text_at(160.0) and "200" in chart.text_at(160.0)


def test_a_new_selections_lines_replace_the_last_ones_in_place_of_them(qtbot: QtBot) -> None:
    """A selection's charts are emptied until its answer, then drawn in the items the last selection's lines
    left (no longer taken apart and made again at each click): the emptied chart shows no line and no legend
    of the last selection; a series the new one lacks is gone from the plot and the legend; the legend lists
    the new lines in their order; a line the user hid for the last selection is shown for the new one."""
    chart = MetricChart("request_volume")
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    times = [100.0, 160.0]
    assert chart.legend is not None

    def legend() -> list[str]:
        assert chart.legend is not None
        return [label.text for _sample, label in chart.legend.items]

    def drawn() -> set[str]:  # the names of the lines with points on the plot
        return {str(item.opts["name"]) for item in chart.plot.getPlotItem().listDataItems()
                if item.isVisible() and item.xData is not None and len(item.xData) > 0 and item.opts.get("name")}

    chart.set_lines([Line("request_volume", "rate", v, times, [1.0, 2.0]) for v in ("v1", "v2", "v3")])
    sample = next(s for s, label in chart.legend.items if label.text == "v1")
    sample_pos = chart.plot.mapFromScene(sample.mapToScene(sample.boundingRect().center()))
    QTest.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, sample_pos)
    qtbot.waitUntil(lambda: not chart.items[("rate", "v1")].isVisible(), timeout=5000)
    assert drawn() == {"v2", "v3"}
    chart.set_lines([])  # another selection, its answer not in yet
    assert chart.data() == {} and drawn() == set() and chart.text_at(160.0) == ""
    assert not chart.legend.isVisible()  # no names of lines no longer drawn
    chart.set_lines([Line("request_volume", "rate", v, times, [3.0, 4.0]) for v in ("v3", "v1")])
    assert legend() == ["v3", "v1"] and chart.legend.isVisible()
    assert drawn() == {"v3", "v1"} and set(chart.data()) == {("rate", "v3"), ("rate", "v1")}
    assert "v2" not in chart.text_at(160.0) and "v1: 4" in chart.text_at(160.0)
    # the same lines at the next poll: drawn in place, the legend as it was
    chart.set_lines([Line("request_volume", "rate", v, times, [5.0, 6.0]) for v in ("v3", "v1")])
    assert legend() == ["v3", "v1"] and chart.data()[("rate", "v1")][1] == [5.0, 6.0]


def test_the_charts_in_sight_are_drawn_first_and_the_window_answers_between(qtbot: QtBot) -> None:
    """An answer is drawn a few charts at a time, with the window answering between (a dozen and more charts
    drawn at once froze it after every click): those in sight first, the ones scrolled out of sight after;
    ``refreshed`` says when all are drawn."""
    view = _view(qtbot, DemoMetrics(DemoCluster(clock=lambda: END), clock=lambda: END))
    view.clock = lambda: END
    view.draw_slice_s = 0.0  # a chart a turn
    view.resize(1000, 500)
    charts = dict(view.charts)
    first, last = charts[view.chart_order[0]], charts[view.chart_order[-1]]
    qtbot.waitUntil(lambda: not first.visibleRegion().isEmpty() and last.visibleRegion().isEmpty(), timeout=5000)
    with qtbot.waitSignal(view.fetcher.done, timeout=20000):
        view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    # the one in sight drawn; the window answered before the rest (nothing drawn, nothing said on it yet)
    assert first.data() and not last.data() and not last.status_text
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        pass
    # every chart shown drawn: its lines, or why it has none ("No data" on a TCP chart, "No errors")
    assert all(charts[k].data() or charts[k].status_text for k in view.chart_order)
    assert any(charts[k].data() for k in view.chart_order if charts[k].visibleRegion().isEmpty())
    view.shutdown()


def test_the_legend_neither_repeats_the_title_nor_is_struck_through_by_the_lines(qtbot: QtBot) -> None:
    """A chart's legend sits at the top left, where a steady line runs (the top of its range): every
    runtime dashboard chart and unsplit traffic chart had its one name, the chart's title again, struck
    through by its line. One line named as the chart: no legend; several: their names on the chart's
    background, the lines passing under them."""
    chart = MetricChart("request_duration")
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    times = [100.0 + 60 * i for i in range(30)]
    volume = MetricChart("request_volume")
    qtbot.addWidget(volume)
    volume.resize(500, 300)
    volume.show()
    qtbot.waitExposed(volume)
    assert volume.legend is not None and chart.legend is not None
    volume.set_lines([Line("request_volume", "rate", "", times, [5.0] * 30)])
    qtbot.waitUntil(lambda: not volume.legend.isVisible(), timeout=5000)  # the title says it
    volume.set_lines([Line("request_volume", "rate", v, times, [5.0] * 30) for v in ("v1", "v2")])
    assert volume.legend.isVisible()  # which line is which version
    # four steady lines, the highest at the legend's height: no pixel of it shows inside the legend's names
    chart.set_lines([Line("request_duration", stat, "", times, [level] * 30)
                     for stat, level in (("avg", 9.8), ("p50", 9.9), ("p95", 9.95), ("p99", 10.0))])
    assert chart.legend.isVisible()
    image = chart.plot.grab().toImage()
    names = [label for _sample, label in chart.legend.items]  # (the samples beside them are the lines' colours)
    box = chart.plot.mapFromScene(names[0].mapRectToScene(names[0].boundingRect())).boundingRect()
    for label in names[1:]:
        box = box.united(chart.plot.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect())
    colours = {QColor(item.opts["pen"].color()).rgb() for item in chart.items.values()}
    inside = [(x, y) for x in range(box.left() + 2, box.right() - 2) for y in range(box.top() + 2, box.bottom() - 2)
              if image.pixelColor(x, y).rgb() in colours]
    outside = [x for x in range(box.right() + 5, image.width() - 5)
               for y in range(box.top(), box.bottom()) if image.pixelColor(x, y).rgb() in colours]
    assert outside, "the lines do run at the legend's height"
    assert inside == []


def test_a_huge_share_does_not_break_the_percent_axis(qtbot: QtBot) -> None:
    """Tick spacings near the float limit made the percent axis raise OverflowError at every repaint."""
    from meshdesk.ui.charts import PercentAxis

    axis = PercentAxis(orientation="left")
    assert len(axis.tickStrings([0.0, 1e306, 2e306], 1.0, 1e306)) == 3
    assert axis.tickStrings([0.0, 0.2, 0.4], 1.0, 0.2) == ["0%", "20%", "40%"]
    chart = MetricChart("error_share", compact=True)
    qtbot.addWidget(chart)
    chart.resize(340, 160)
    chart.show()
    chart.set_lines([Line("error_share", "rate", "", [100.0, 160.0], [1e306, 5e306])])
    qtbot.waitUntil(lambda: chart.plot.getAxis("left").range[1] > 1e300, timeout=5000)
    image = QImage(400, 400, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = chart.plot.getAxis("left").generateDrawSpecs(painter)  # what a repaint does
    finally:
        painter.end()
    assert specs is not None


def _real_view_graph(srv: PrometheusServer, **kw: object) -> Any:
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.telemetry import fetch_samples

    request = GraphRequest(queryTime=srv.query_time, **kw)  # type: ignore[arg-type]
    samples, _ = fetch_samples(PrometheusClient(srv.url), request)
    return build(Snapshot(request, samples))


class _AtQueryTime:
    """The real Prometheus' charts at its dataset's "now"."""

    def __init__(self, srv: PrometheusServer) -> None:
        self.inner, self.end = PrometheusMetrics(PrometheusClient(srv.url)), float(srv.query_time)

    def fetch(self, target: MetricsTarget, spec: Any, cancelled: Any = None) -> Any:
        from dataclasses import replace
        return self.inner.fetch(target, replace(spec, end=self.end), cancelled)


def test_a_service_node_without_injected_service_nodes_charts_what_no_workload_served(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A workload graph without injected service nodes draws reviews-v2's gRPC calls (5 a second) straight
    into ratings-v1, and a ratings service node only for the ingress's requests that found no healthy
    host (0.25 a second, 503 UH, which the ingress alone reports). The node's charts showed the whole
    service's 5 requests a second, twenty times what came into it; they show what its edge carries, as
    Kiali's side panel keeps such a node to the requests no workload served."""
    source = _AtQueryTime(prometheus_server)
    view = _view(qtbot, source)
    view.range.setCurrentIndex(0)
    graph = _real_view_graph(prometheus_server, namespaces=("bookinfo",), graphType="workload",
                             injectServiceNodes=False)
    node = next(n for n in graph.nodes.values() if n.node_type == "service" and n.service == "ratings")
    into = [e for e in graph.in_edges(node.id)]
    assert [e.rate for e in into] == [pytest.approx(0.25)]
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [node.id])
    assert view.title.text() == "service bookinfo/ratings: requests no workload served"
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(0.25)
    assert view.charts["error_share"].data()[("rate", "")][1][-1] == pytest.approx(1.0)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [into[0].id])  # its edge: the same requests
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(0.25)
    view.shutdown()


def test_the_sparklines_of_a_node_outside_the_graphs_namespaces_keep_to_its_traffic_with_them(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """In a graph of namespace tutorial, bookinfo's productpage is outside: its one edge there is
    customer's 2 requests a second. Its sparklines drew all that comes into it (13 a second: the
    ingress's and an unknown caller's too), a number the graph shows nowhere; as Kiali's side panel,
    they keep to the traffic with the graph's namespaces. The Metrics dock still charts all of it, as
    Kiali's metrics page of the workload does."""
    source = _AtQueryTime(prometheus_server)
    graph = _real_view_graph(prometheus_server, namespaces=("tutorial",), graphType="workload")
    node = next(n for n in graph.nodes.values() if n.workload == "productpage-v1")
    assert node.is_outside and [e.rate for e in graph.in_edges(node.id)] == [pytest.approx(2.0)]
    panel = SparklinePanel(source, poll_ms=0)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(graph, [node.id])
    assert panel.direction_label.text() == "Inbound traffic from namespace tutorial"
    assert panel.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(2.0)
    view = _view(qtbot, source)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [node.id])
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(13.0)
    # customer, in the graph's namespace, is charted whole
    customer = next(n for n in graph.nodes.values() if n.workload == "customer-v1")
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(graph, [customer.id])
    assert panel.direction_label.text() == "Outbound traffic"
    assert panel.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(6.0)
    panel.shutdown()
    view.shutdown()


def test_selecting_an_operation_node_or_a_service_to_service_edge(qtbot: QtBot,
                                                                  prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """An operation node has charts of its own (it said "Select a workload, app, service or edge");
    a service graph's service-to-service edge says its charts are not available (it said "No data"),
    in the metrics view and in the sparklines."""
    from meshdesk.mesh.graph.model import NODE_AGGREGATE, NODE_SERVICE

    source = _AtQueryTime(prometheus_server)
    view = _view(qtbot, source)
    ops = _real_view_graph(prometheus_server, namespaces=("bookinfo",), graphType="workload",
                           appenders=("operationNodes",))
    op = ops.find_node(node_type=NODE_AGGREGATE)
    view.show_graph_selection(ops, [op.id])
    assert view.target is not None and "GetReviews" in view.title.text()
    volume = view.charts["request_volume"]
    qtbot.waitUntil(lambda: ("rate", "") in volume.data(), timeout=20000)
    assert volume.data()[("rate", "")][1][-1] == pytest.approx(5.0)

    services = _real_view_graph(prometheus_server, namespaces=("bookinfo",), graphType="service")
    edge = next(e for e in services.edges.values() if services.nodes[e.source].node_type == NODE_SERVICE
                and services.nodes[e.target].node_type == NODE_SERVICE)
    panel = SparklinePanel(source, poll_ms=0)
    qtbot.addWidget(panel)
    for w in (view, panel):
        w.show_graph_selection(services, [edge.id])
        if w.fetcher.busy:
            qtbot.waitSignal(w.refreshed, timeout=20000).wait()
        assert w.charts["request_volume"].status_text.startswith(
            "Charts are not available for service-to-service edges"), w.charts["request_volume"].status_text
        assert w.charts["request_volume"].data() == {}
    # the view says it once, in the charts' place (it was in the title and on each of its twelve charts)
    assert "\u2192" in view.title.text() and "not available" not in view.title.text()
    assert view.notice.text().startswith("Charts are not available for service-to-service edges")
    assert not view.notice.isHidden() and view._scroll.isHidden()
    # an edge with charts shows them again
    view.show_graph_selection(ops, [next(iter(ops.edges))])
    assert view.notice.isHidden() and not view._scroll.isHidden()
    view.shutdown()
    panel.shutdown()


def test_the_unknown_node_is_named_and_says_why_it_has_no_charts(qtbot: QtBot) -> None:
    """Selecting the unknown node (hello's uptime checker, which has no sidecar) titled the view "No
    selection" beside a selected node. As the graph names it, and why there are no charts, once in
    their place; its edges have charts (as Kiali: the unknown node has no page, its edges' metrics do)."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_UNKNOWN
    from meshdesk.mesh.request import GraphRequest

    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("hello",), queryTime=int(now))))
    unknown = graph.find_node(node_type=NODE_UNKNOWN)
    assert unknown is not None and unknown.label == "unknown"
    view = _view(qtbot, DemoMetrics(demo))
    panel = SparklinePanel(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(panel)
    for direction in (0, 1):  # inbound, outbound
        view.direction.setCurrentIndex(direction)
        view.show_graph_selection(graph, [unknown.id])
        assert view.target is None and view.title.text() == "unknown"
        assert view.notice.text().startswith("The unknown node has no metrics of its own")
        assert "Select one of its edges" in view.notice.text()
        assert not view.notice.isHidden() and view._scroll.isHidden()
    # the service it calls first: its lines must not stay under the unknown node's reason
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(graph, [next(e.target for e in graph.out_edges(unknown.id))])
    assert panel.charts["request_volume"].data()
    panel.show_graph_selection(graph, [unknown.id])
    assert panel.target is None
    assert panel.charts["request_volume"].status_text.startswith("The unknown node has no metrics of its own")
    assert all(chart.data() == {} for chart in panel.charts.values())
    # one of its edges has charts
    edge = next(e for e in graph.out_edges(unknown.id))
    view.direction.setCurrentIndex(0)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [edge.id])
    assert view.target is not None and view.title.text().startswith("unknown \u2192")
    assert view.notice.isHidden() and not view._scroll.isHidden()
    view.shutdown()
    panel.shutdown()


def test_a_chart_of_only_undefined_points_says_no_data(qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """An idle edge (0 requests per second): its error share (0/0) is NaN at every point, a line with
    nothing to draw; the chart says "No data" rather than standing empty without a word."""
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    idle = MetricsTarget("edge", "bookinfo", "productpage-v1 -> ratings-v1", "inbound", "source",
                         (("source_workload", "productpage-v1"), ("destination_workload", "ratings-v1"),
                          ("request_protocol", "http")), "productpage-v1 -> ratings-v1 (http)")
    _set_target(qtbot, view, idle)
    _, volume = view.charts["request_volume"].data()[("rate", "")]
    assert volume[-1] == 0.0 and view.charts["request_volume"].status_text == ""  # zeros are data
    share = view.charts["error_share"]
    assert all(math.isnan(v) for v in share.data()[("rate", "")][1])
    assert share.status_text == "No data"
    view.shutdown()


def test_an_errors_chart_beside_requests_without_errors_says_there_were_none(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Requests into productpage all succeed: Prometheus has no error series to rate, and the Errors
    chart said "No data" beside a request volume and an error share of 0%, as if nothing were known.
    It says there were no errors; with no requests at all (an idle edge) it still says "No data"."""
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "productpage-v1"))
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] > 0
    errors = view.charts["request_errors"]
    assert errors.data() == {} and errors.status_text == NO_ERRORS
    idle = MetricsTarget("edge", "bookinfo", "productpage-v1 -> ratings-v1", "inbound", "source",
                         (("source_workload", "productpage-v1"), ("destination_workload", "ratings-v1"),
                          ("request_protocol", "http")), "productpage-v1 -> ratings-v1 (http)")
    _set_target(qtbot, view, idle)
    assert view.charts["request_errors"].status_text == "No data"
    view.shutdown()


def test_the_crosshair_reads_rates_in_plain_decimals(qtbot: QtBot) -> None:
    """A request every few hours, or just under a thousand a second: plain decimals, not "4e-05 ops/s"
    or "1e+03 ops/s"."""
    chart = MetricChart("request_volume")
    qtbot.addWidget(chart)
    times = [END - 60.0, END]
    chart.set_lines([Line("request_volume", "rate", "a", times, [0.00004, 999.7]),
                     Line("request_volume", "rate", "b", times, [0.125, 12345.6])])
    assert chart.text_at(END - 60.0).splitlines()[1:] == ["a: 0.00004 ops/s", "b: 0.125 ops/s"]
    assert chart.text_at(END).splitlines()[1:] == ["a: 1,000 ops/s", "b: 12,346 ops/s"]


def test_an_app_box_charts_its_app_all_versions(qtbot: QtBot) -> None:
    """Selecting an app box (reviews, three versions) said "No selection" and "Select a workload, ..." on
    every chart; Kiali charts an app box as its app. Its volume is its versions' together, and the
    sparklines show the charts of the protocols its members carry."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import BOX_APP, NODE_APP, NODE_BOX
    from meshdesk.mesh.request import GraphRequest

    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now))))
    box = graph.find_node(node_type=NODE_BOX, box=BOX_APP, namespace="shop", app="reviews")
    assert box is not None
    versions = [n for n in graph.nodes.values() if n.parent == box.id and n.node_type == NODE_APP]
    assert len(versions) == 3
    view = _view(qtbot, DemoMetrics(demo))
    view.range.setCurrentIndex(0)  # 5 minutes
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [box.id])
    assert view.target == MetricsTarget.app("shop", "reviews", "inbound")
    assert view.title.text() == "app shop/reviews (inbound)"
    whole = view.charts["request_volume"].data()[("rate", "")][1][-1]
    parts = 0.0
    for node in versions:
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(graph, [node.id])
        parts += view.charts["request_volume"].data()[("rate", "")][1][-1]
    assert whole == pytest.approx(parts) and whole > 0
    panel = SparklinePanel(DemoMetrics(demo), poll_ms=0)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(graph, [box.id])
    assert panel.target == MetricsTarget.app("shop", "reviews", "inbound")
    assert panel.shown_charts == ("request_volume", "error_share", "request_duration")  # HTTP only
    view.shutdown()
    panel.shutdown()


def test_a_namespace_box_charts_the_namespaces_traffic(qtbot: QtBot,
                                                     prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Selecting a namespace box (boxBy namespace) charted nothing ("has no charts of its own"). As
    Kiali charts a namespace: inbound, the requests into its workloads; outbound, those they sent; the
    direction switch, the title and the sparklines follow."""
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX

    source = _AtQueryTime(prometheus_server)
    graph = _real_view_graph(prometheus_server, namespaces=("bookinfo", "tutorial"), boxBy=("namespace",))
    box = graph.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="bookinfo")
    assert box is not None
    view = _view(qtbot, source)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [box.id])
    assert view.title.text() == "namespace bookinfo (inbound)"
    assert view.notice.isHidden() and not view._scroll.isHidden()
    # into bookinfo's workloads: 10 from the gateway, 10 to details, 8 to reviews, 5 to ratings (gRPC),
    # 2 from tutorial's customer, 1 from the unknown caller; errors: details' 2 x 503, ratings' 1 x status 14
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(36.0)
    assert view.charts["request_errors"].data()[("rate", "")][1][-1] == pytest.approx(3.0)
    assert view.charts["error_share"].data()[("rate", "")][1][-1] == pytest.approx(3.0 / 36.0)
    assert view.charts["tcp_sent"].data()[("rate", "")][1][-1] == pytest.approx(250.0)
    assert view.charts["request_volume"].status_text == ""
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(view.direction.findData("outbound"))
    assert view.title.text() == "namespace bookinfo (outbound)"
    # what bookinfo's workloads sent: 10 to details, 8 to reviews, 5 to ratings (the idle edge: 0)
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(23.0)
    tutorial = graph.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="tutorial")
    assert tutorial is not None
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [tutorial.id])
    # customer's 2 to bookinfo's productpage and 4 to preference, preference's 4.5 to recommendation
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(10.5)
    assert view.charts["grpc_request_messages"].status_text == "No data"
    panel = SparklinePanel(source, poll_ms=0)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(graph, [box.id])
    assert panel.target is not None and panel.target.title == "namespace bookinfo (inbound)"
    assert panel.shown_charts == ("request_volume", "error_share", "request_duration", "tcp_sent")
    assert panel.charts["tcp_sent"].data()[("rate", "")][1][-1] == pytest.approx(250.0)
    view.shutdown()
    panel.shutdown()


def test_a_graph_refresh_that_changes_the_reporting_side_charts_the_new_side(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """productpage's sidecar is taken out between two graph refreshes: its inbound charts kept reading its
    own proxy's reports until the next direction switch or selection. The refresh re-reads the target and
    charts its callers' reports at once (they leave out the unknown caller, which has no proxy: 12/s, not
    13/s); a refresh that changes nothing asks nothing and keeps the charts as they are."""
    import copy

    from meshdesk.mesh.graph.model import NODE_WORKLOAD

    graph = _real_view_graph(prometheus_server, namespaces=("bookinfo",), graphType="workload")
    page = graph.find_node(node_type=NODE_WORKLOAD, workload="productpage-v1")
    assert page is not None and not page.has_missing_sidecar
    view = _view(qtbot, _AtQueryTime(prometheus_server))
    panel = SparklinePanel(_AtQueryTime(prometheus_server), poll_ms=0)
    qtbot.addWidget(panel)
    with qtbot.waitSignals([view.refreshed, panel.refreshed], timeout=20000):
        view.show_graph_selection(graph, [page.id])
        panel.show_graph_selection(graph, [page.id])
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(13.0)
    later = copy.deepcopy(graph)
    later.nodes[page.id].has_missing_sidecar = True
    with qtbot.waitSignals([view.refreshed, panel.refreshed], timeout=20000):
        view.update_graph(later)
        panel.update_graph(later)
    for charts in (view, panel):
        assert charts.target is not None and charts.target.reporter == "source"
        assert charts.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(12.0)
    shown = view.last_result
    view.update_graph(copy.deepcopy(later))  # the next poll, nothing changed
    panel.update_graph(copy.deepcopy(later))
    assert not view.fetcher.busy and not panel.fetcher.busy  # nothing asked
    assert view.last_result is shown and view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(12.0)
    assert view.loading.isHidden()
    view.shutdown()
    panel.shutdown()


def test_charts_shown_again_after_missed_polls_refresh_at_once(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """A hidden Metrics tab skips its polls; chosen again ten minutes later it showed the ten-minute-old
    data until the next tick. Shown again after a missed poll, it refreshes at once."""
    server, answers = stub
    now = [END]
    view = _stub_view(qtbot, server.url)
    view.clock = lambda: now[0]
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    view.set_poll_interval(300_000)  # polling every 5 minutes: no tick comes during the test
    view.hide()
    view.show()  # nothing missed: no refresh
    assert not view.fetcher.busy
    view.hide()
    now[0] += 600
    answers.level = 7.0
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show()
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == 7.0
    view.set_poll_interval(0)
    view.shutdown()


def test_the_view_says_it_is_loading_until_the_first_answer(qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """A new selection's charts stood empty without a word until Prometheus answered (seconds in a big
    mesh), as if there were no data. The bar says so until the first answer; not over data shown."""
    server, _ = stub
    view = _stub_view(qtbot, server.url)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
        assert view.loading.isVisible() and view.loading.text() == "Loading metrics\u2026"
    assert not view.loading.isVisible() and view.charts["request_volume"].data()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.refresh()
        assert not view.loading.isVisible()  # data shown: a poll is no loading
    view.shutdown()


def test_the_view_says_it_is_loading_a_new_range_while_the_old_ranges_lines_stay(
        qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """A range, step or split chosen (or a replayed moment) kept the old lines under the new choice without a
    word until the answer came (the demo's 6 hours at 15 s: 15 s); the bar says it is loading, as for a
    new selection; a poll of the same choices says nothing."""
    server, _ = stub
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    for change in (lambda: view.range.setCurrentIndex(0), lambda: view.step.setCurrentIndex(0),
                   lambda: view.split.setCurrentIndex(1), lambda: view.set_end(END - 3600)):
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            change()
            assert view.loading.isVisible() and view.charts["request_volume"].data()
        assert not view.loading.isVisible()
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.refresh()
            assert not view.loading.isVisible()
    view.shutdown()


def test_an_operation_node_in_the_outbound_direction_says_why_it_has_no_charts(qtbot: QtBot) -> None:
    """Outbound, an operation node said "No selection" beside the selected node and "Select a workload,
    ..." on each chart: it is named, and why it has no outbound charts is said once in their place."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_AGGREGATE
    from meshdesk.mesh.request import GraphRequest

    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now), graphType="workload",
                                             appenders=("operationNodes",))))
    op = graph.find_node(node_type=NODE_AGGREGATE, aggregate_value="GET /details/{id}")
    assert op is not None
    view = _view(qtbot, DemoMetrics(demo))
    view.direction.setCurrentIndex(1)  # outbound
    view.show_graph_selection(graph, [op.id])
    assert view.target is None
    assert view.title.text() == "operation shop/GET /details/{id} of service details (outbound)"
    assert view.notice.text().startswith("An operation has no outbound traffic of its own: choose Inbound")
    assert not view.notice.isHidden() and view._scroll.isHidden()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(0)  # inbound: its charts
    assert view.target is not None and view.notice.isHidden() and view.charts["request_volume"].data()
    view.shutdown()


def _axis_texts(chart: MetricChart) -> list[str]:
    """The left axis's tick labels, as pyqtgraph asks the axis for them over the chart's view."""
    axis = chart.plot.getAxis("left")
    low, high = chart.view_box.viewRange()[1]
    return [text for spacing, values in axis.tickValues(low, high, chart.plot.height())
            for text in axis.tickStrings(values, axis.scale, spacing)]


@pytest.mark.parametrize("compact", [False, True])
def test_axes_read_in_plain_numbers_and_byte_units(qtbot: QtBot, compact: bool) -> None:
    """A 5 MB/s throughput's axis read "2e+06", "4e+06"; a rate of a request every few hours "2e-05".
    Bytes in kB/MB/GB, everything else in plain decimals; and the small charts' axis is wide enough."""
    cases = {"response_throughput": ([5e6, 7.5e6], " MB/s"), "tcp_sent": ([2500.0, 10000.0], " kB/s"),
             "request_volume": ([0.00004, 0.00009], ""), "request_duration": ([1500.0, 40000.0], "")}
    for key, (values, suffix) in cases.items():
        chart = MetricChart(key, compact=compact)
        qtbot.addWidget(chart)
        chart.resize(400, 300)
        chart.show()
        qtbot.waitExposed(chart)
        chart.set_lines([Line(key, "rate", "", [END - 60.0, END], values)])
        qtbot.waitUntil(lambda c=chart, top=values[-1]: c.view_box.viewRange()[1][1] >= top, timeout=5000)  # auto-ranged
        texts = _axis_texts(chart)
        assert texts and not any("e+" in t or "e-" in t for t in texts), (key, texts)
        assert all(t.endswith(suffix) for t in texts), (key, texts)
        if compact:
            axis = chart.plot.getAxis("left")
            widest = max(QFontMetrics(axis.style["tickFont"] or chart.font()).horizontalAdvance(t) for t in texts)
            assert widest + 8 <= axis.width(), (key, texts, axis.width())
    assert "20,000" in _axis_texts(chart)  # the duration chart's


@pytest.mark.parametrize("key", ["request_volume", "error_share"])
def test_the_floor_of_the_y_axis_is_labelled_zero(qtbot: QtBot, key: str) -> None:
    """Every chart's y axis starts at 0, but with the grid on pyqtgraph hid the label of a tick at the axis'
    end: the floor read "1" or "0.05" at best, its "0" missing. It is drawn, beside the others."""
    from PySide6.QtGui import QPainter

    chart = MetricChart(key)
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    times = [100.0 + 60 * i for i in range(30)]
    chart.set_lines([Line(key, "rate", "", times, [0.08 + 0.01 * (i % 5) for i in range(30)])])
    axis = chart.plot.getAxis("left")
    qtbot.waitUntil(lambda: axis.range[0] == 0.0 and axis.range[1] > 0.1, timeout=5000)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        texts = [text for _rect, _flags, text in axis.generateDrawSpecs(painter)[2]]  # what the axis paints
    finally:
        painter.end()
    assert len(texts) > 2 and any(float(t.rstrip("%").replace(",", "")) == 0.0 for t in texts), texts


def test_a_namespace_box_of_a_service_graph_charts_tcp_into_a_workload_without_a_sidecar(qtbot: QtBot) -> None:
    """The demo's service graph, boxed by namespace, shop selected: inbound "TCP sent" said "No data"
    beside the graph's ratings -> mongodb TCP edge, as a service graph has no node saying mongodb-v1
    runs without a sidecar. The inventory says so; its callers' reports are charted."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_BOX, NODE_SERVICE
    from meshdesk.mesh.request import GraphRequest

    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(graphType="service", namespaces=("shop", "hello"),
                                             boxBy=("namespace",), queryTime=int(now), duration=60)))
    box = graph.find_node(node_type=NODE_BOX, box=BOX_NAMESPACE, namespace="shop")
    db = graph.find_node(node_type=NODE_SERVICE, service="mongodb")
    assert box is not None and db is not None
    into_db = sum(e.rates.get("tcp", 0.0) for e in graph.in_edges(db.id))
    view = _view(qtbot, DemoMetrics(demo))
    view.range.setCurrentIndex(0)  # 5 minutes
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [box.id])
    assert view.title.text() == "namespace shop (inbound)"
    tcp = view.charts["tcp_sent"]
    # the chart's last step and the graph's minute: the same traffic, read over windows a little apart
    assert tcp.status_text == "" and tcp.data()[("rate", "")][1][-1] == pytest.approx(into_db, rel=0.1)
    assert into_db > 0
    view.shutdown()


def test_a_tcp_only_selection_shows_its_tcp_charts_first(qtbot: QtBot) -> None:
    """A database's edge carries only TCP: its bytes and connections charts were at the bottom of the
    grid, under ten empty request charts ("No data"); they come first, and an HTTP selection puts the
    request charts back on top. All charts stay (the range may reach past the graph's window)."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now))))
    tcp = next(e for e in graph.edges.values() if e.protocol == "tcp" and e.rate > 0)
    http = next(e for e in graph.edges.values() if e.protocol == "http" and e.rate > 0)
    view = _view(qtbot, DemoMetrics(demo))
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)

    def top_left() -> str:
        return next(k for k, c in view.charts.items() if view._grid.getItemPosition(view._grid.indexOf(c))[:2] == (0, 0))

    assert top_left() == "request_volume"
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [tcp.id])
    assert top_left() == "tcp_sent"
    qtbot.waitUntil(lambda: view.charts["tcp_sent"].data() != {})  # and it has the edge's bytes
    assert view.charts["tcp_sent"].y() < view.charts["request_volume"].y()
    # every traffic chart once (the proxy charts are out of the grid until the Envoy proxy choice)
    assert len(view.chart_order) == view._grid.count() and set(view.chart_order) == {c.key for c in CHARTS}
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [http.id])
    assert top_left() == "request_volume"
    view.shutdown()


def test_reported_by_the_source_shows_failures_the_server_never_saw(qtbot: QtBot,
                                                                     prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Requests to ratings that found no healthy host (503 UH) are reported by the caller alone: charted
    as the server reports them they are not there; "Reported by: source" shows them, as Kiali's
    "Reported from" choice does; callers outside the mesh are the destination's alone."""
    from meshdesk.mesh.metrics import REPORTED_BY_SOURCE

    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url), clock=lambda: prometheus_server.query_time))
    view.clock = lambda: prometheus_server.query_time
    view.range.setCurrentIndex(0)
    _set_target(qtbot, view, MetricsTarget.service("bookinfo", "ratings"))
    assert view.target is not None and view.target.reporter == "destination"
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(5.0)  # reviews' gRPC
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData(REPORTED_BY_SOURCE))
    assert view.target is not None and view.target.reporter == "source"
    assert view.title.text() == "service bookinfo/ratings, reported by the source"
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(5.25)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.split.setCurrentIndex(view.split.findData("response_code"))
    assert view.charts["request_volume"].data()[("rate", "503")][1][-1] == pytest.approx(0.25)
    # both, a line each (Kiali's "Both"): the 503s are the source's alone
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData("both"))
    lines = {k[1]: v[1][-1] for k, v in view.charts["request_volume"].data().items()}
    assert lines["source · 503"] == pytest.approx(0.25) and "destination · 503" not in lines
    assert lines["source · 200"] == pytest.approx(lines["destination · 200"])
    assert view.title.text() == "service bookinfo/ratings, reported by the source and the destination"
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.split.setCurrentIndex(view.split.findData(""))  # no split
    lines = {k[1]: v[1][-1] for k, v in view.charts["request_volume"].data().items()}
    assert lines == {"source": pytest.approx(5.25), "destination": pytest.approx(5.0)}
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData(REPORTED_BY_SOURCE))
    # productpage: the unknown caller outside the mesh is the destination's report alone
    _set_target(qtbot, view, MetricsTarget.service("bookinfo", "productpage"))
    by_source = sum(values[-1] for values in (v[1] for v in view.charts["request_volume"].data().values()))
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData("destination"))
    by_destination = sum(values[-1] for values in (v[1] for v in view.charts["request_volume"].data().values()))
    assert (by_source, by_destination) == (pytest.approx(12.0), pytest.approx(13.0))
    view.shutdown()


def test_both_reporters_of_an_ambient_workload_show_its_waypoints_line(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """orders-v1 (the ambient namespace mall) has no sidecar: only the namespace's waypoint reports its
    7 requests a second (one a 503), and ztunnel its TCP bytes (300 B/s, on the destination's side).
    "Reported by: both" drew the source's and the destination's lines only, so its request charts
    were empty; as Kiali's "Both" (every reporter, a line each) the waypoint has a line of its own."""
    from dataclasses import replace

    from meshdesk.mesh.metrics import REPORTED_BY_BOTH

    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    view.range.setCurrentIndex(0)
    _set_target(qtbot, view, replace(MetricsTarget.workload("mall", "orders-v1"), waypoint=True))
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == pytest.approx(7.0)
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData(REPORTED_BY_BOTH))
    assert view.title.text() == ("workload mall/orders-v1 (inbound), reported by the source, the destination "
                                 "and the waypoint")
    last = {k[1]: v[1][-1] for k, v in view.charts["request_volume"].data().items()}
    assert last == {"waypoint": pytest.approx(7.0)}
    share = {k[1]: v[1][-1] for k, v in view.charts["error_share"].data().items()}
    assert share == {"waypoint": pytest.approx(1.0 / 7.0)}
    tcp = {k[1]: v[1][-1] for k, v in view.charts["tcp_sent"].data().items()}
    assert tcp == {"destination": pytest.approx(300.0)}
    view.shutdown()


def test_no_errors_is_said_in_a_hints_grey_not_the_warning_colour(
        qtbot: QtBot, qapp: Any, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """"No errors: every request in this range was answered without one" is good news: it stood in the
    orange of a failed query under the Errors chart (seen in the dark theme's screenshot). It is in the
    grey of a hint, which a failed query's words are not."""
    from meshdesk.ui import theme

    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    try:
        theme.apply_theme(qapp, "dark")
        _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "productpage-v1"))
        errors = view.charts["request_errors"]
        assert errors.status_text == NO_ERRORS and errors.status.isVisible()
        assert errors.status.palette().color(errors.status.foregroundRole()).name() == theme.HINT["dark"]
        errors.set_status("Query failed: timeout")
        assert errors.status.palette().color(errors.status.foregroundRole()).name() == "#f0883e"
    finally:
        view.shutdown()
        theme.reset_theme(qapp)


def _y_axis_labels(chart: MetricChart) -> list[str]:
    """The texts the chart's y axis draws, as it draws them."""
    axis = chart.plot.getAxis("left")
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]] if specs else []


def test_an_errors_chart_with_no_errors_draws_no_scale_of_nothing(qtbot: QtBot) -> None:
    """productpage answers every request: its Errors chart has no line and says "No errors". Its y axis
    was ticked 0, 0.2 ... 1.0 all the same, and a short dock, which shows the top of a chart, showed only
    "1.0" and "0.8": errors near one a second, read at a glance. It is labelled at its floor alone; the
    Request volume chart beside it keeps its scale, and so does the Errors chart once it has errors."""
    demo = DemoCluster(clock=lambda: END)
    view = _view(qtbot, DemoMetrics(demo, clock=lambda: END))
    try:
        _set_target(qtbot, view, MetricsTarget.workload("shop", "productpage-v1"))
        errors, volume = view.charts["request_errors"], view.charts["request_volume"]
        assert errors.status_text == NO_ERRORS
        qtbot.waitUntil(lambda: len(_y_axis_labels(volume)) > 2, timeout=5000)
        assert _y_axis_labels(errors) == ["0"]
        _set_target(qtbot, view, MetricsTarget.workload("shop", "details-v1"))  # it answers some with an error
        assert view.charts["request_errors"].data()
        qtbot.waitUntil(lambda: len(_y_axis_labels(errors)) > 1, timeout=5000)
    finally:
        view.shutdown()


def _time_axis_covers(chart: MetricChart, first: float, last: float) -> bool:
    low, high = chart.view_box.viewRange()[0]
    return low <= first and last <= high and high - low < 1.2 * (last - first)


def test_a_chart_without_any_series_keeps_the_ranges_time_axis(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Requests into productpage all succeed: Prometheus has no error series, so the Errors chart has no
    line to range on. Its time axis was the first second of 1970 ticked "00.250", "00.500" beside the
    request volume's clock times; it shows the range charted. So do the charts before anything is
    selected."""
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    view.clock = lambda: END
    view.refresh()  # no selection yet: the charts say so over the last 30 minutes' axis
    qtbot.waitUntil(lambda: _time_axis_covers(view.charts["request_errors"], END - 1800, END), timeout=5000)
    view.clock = time.time
    _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "productpage-v1"))
    errors, volume = view.charts["request_errors"], view.charts["request_volume"]
    assert errors.data() == {} and errors.status_text == NO_ERRORS
    times = volume.data()[("rate", "")][0]
    qtbot.waitUntil(lambda: _time_axis_covers(errors, times[0], times[-1]), timeout=5000)
    view.shutdown()


def test_error_share_by_response_code_is_each_codes_share_of_all_requests(
        qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """details-v1 answers 8 requests a second with 200 and 2 with 503. Split by response code, the
    Error share chart drew 503 at 100% and 200 at 0% (each code's errors over its own requests: always
    all or none), whatever the share of 503s; it draws 503 at 20%, of all the requests, as unsplit, and
    per reporter when each reporter has its lines."""
    from meshdesk.mesh.metrics import REPORTED_BY_BOTH, SPLIT_RESPONSE_CODE

    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url)))
    _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "details-v1"))
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.split.setCurrentIndex(view.split.findData(SPLIT_RESPONSE_CODE))
    share = view.charts["error_share"]
    assert {k: v[-1] for k, (_t, v) in share.data().items()} == {("rate", "200"): 0.0,
                                                                  ("rate", "503"): pytest.approx(0.2)}
    assert "503: 20.00%" in share.text_at(share.data()[("rate", "503")][0][-1])
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.reporter.setCurrentIndex(view.reporter.findData(REPORTED_BY_BOTH))
    assert {k: v[-1] for k, (_t, v) in share.data().items()} == {
        ("rate", "destination \u00b7 200"): 0.0, ("rate", "destination \u00b7 503"): pytest.approx(0.2),
        ("rate", "source \u00b7 200"): 0.0, ("rate", "source \u00b7 503"): pytest.approx(0.2)}
    view.shutdown()


def test_the_demos_error_share_by_response_code_is_of_all_requests_too(qtbot: QtBot) -> None:
    """The demo's details-v1 answers a few requests with 404: its line in Error share, split by response
    code, was 100%; it is the 404s' share of all the requests, as the request volume's lines give it."""
    from meshdesk.mesh.metrics import SPLIT_RESPONSE_CODE

    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    view = _view(qtbot, DemoMetrics(demo))
    view.split.setCurrentIndex(view.split.findData(SPLIT_RESPONSE_CODE))
    _set_target(qtbot, view, MetricsTarget.workload("shop", "details-v1"))
    volume = {k: v[-1] for k, (_t, v) in view.charts["request_volume"].data().items()}
    share = {k: v[-1] for k, (_t, v) in view.charts["error_share"].data().items()}
    assert set(volume) == set(share) == {("rate", "200"), ("rate", "404")}
    assert share[("rate", "200")] == 0.0
    assert share[("rate", "404")] == pytest.approx(volume[("rate", "404")] / sum(volume.values()))
    assert 0 < share[("rate", "404")] < 0.5
    view.shutdown()


def test_a_legend_shows_an_odd_label_value_as_it_is(qtbot: QtBot) -> None:
    """A series relabelled with a version "<v2> & <b>beta</b>" (Prometheus keeps any text in a label) was
    named "& beta" in the legend: the legend reads names as rich text. It shows the value as it is, as
    the crosshair does."""
    odd = "<v2> & <b>beta</b>"

    def answer(req: StubRequest) -> StubResponse | object:
        reply = Answers()(req)
        assert isinstance(reply, StubResponse) and isinstance(reply.body, dict)
        for series in reply.body["data"]["result"]:
            series["metric"] = {"destination_canonical_revision": odd}
        return reply

    with StubServer(answer) as server:
        from meshdesk.mesh.metrics import SPLIT_VERSION

        view = _stub_view(qtbot, server.url)
        view.split.setCurrentIndex(view.split.findData(SPLIT_VERSION))
        _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
        chart = view.charts["request_volume"]
        assert set(chart.data()) == {("rate", odd)}
        assert [label.item.toPlainText() for _sample, label in chart.legend.items] == [odd]
        times, _values = chart.data()[("rate", odd)]
        assert chart.text_at(times[-1]).splitlines()[1] == f"{odd}: 1 ops/s"
        view.shutdown()


def test_a_multi_selection_says_which_of_it_is_charted(qtbot: QtBot,
                                                       prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """Three workloads selected charted the first alone under its own title, as if it were the only
    one: the title says it is the first of three, and goes back to its plain name with one selected.
    Items without charts (a service, outbound) are not counted; the reporter choice keeps it said."""
    from meshdesk.mesh.graph.model import NODE_SERVICE, NODE_WORKLOAD

    source = _AtQueryTime(prometheus_server)
    view = _view(qtbot, source)
    graph = _real_view_graph(prometheus_server, namespaces=("bookinfo",), graphType="workload")
    workloads = sorted((n for n in graph.nodes.values() if n.node_type == NODE_WORKLOAD and n.namespace == "bookinfo"),
                       key=lambda n: n.workload)[:3]
    assert len(workloads) == 3
    first = workloads[0]
    plain = MetricsTarget.workload("bookinfo", first.workload, "inbound").title
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [n.id for n in workloads])
    assert view.target == MetricsTarget.workload("bookinfo", first.workload, "inbound")
    assert view.title.text() == f"Charting {plain}, the first of 3 selected"
    volume = view.charts["request_volume"]
    assert volume.data()  # the first one's requests are what the charts show
    view.reporter.setCurrentIndex(1)
    assert view.title.text().endswith(", the first of 3 selected") and first.workload in view.title.text()
    view.reporter.setCurrentIndex(0)
    view.show_graph_selection(graph, [first.id])
    assert view.title.text() == plain
    # outbound, a service has no charts (it sends nothing of its own): not counted
    service = next(n for n in graph.nodes.values() if n.node_type == NODE_SERVICE and n.namespace == "bookinfo")
    view.direction.setCurrentIndex(1)
    view.show_graph_selection(graph, [service.id, first.id])
    assert view.title.text() == MetricsTarget.workload("bookinfo", first.workload, "outbound").title
    view.show_graph_selection(graph, [service.id, *(n.id for n in workloads)])
    assert view.title.text().endswith(", the first of 3 selected")
    view.direction.setCurrentIndex(0)
    # a direct target is no selection's first
    view.show_graph_selection(graph, [n.id for n in workloads])
    view.set_target(MetricsTarget.workload("bookinfo", workloads[1].workload, "inbound"))
    assert "first of" not in view.title.text()
    view.shutdown()


def test_partial_data_is_said_only_on_the_charts_whose_queries_had_warnings(
        qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """One query answered with a warning (a store of a federated Prometheus unreachable for the duration
    histograms) put "Partial data" on all twelve charts: it is said on the duration charts, whose
    queries had it; the request volume chart, complete, says nothing."""
    server, answers = stub
    answers.warnings = ["partial response: store b unreachable"]
    answers.warn_on = "istio_request_duration_milliseconds"
    view = _stub_view(qtbot, server.url)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    assert view.charts["request_duration"].status_text == "Partial data: partial response: store b unreachable"
    assert view.charts["request_volume"].status_text == ""
    assert view.charts["request_volume"].data()[("rate", "")][1][-1] == 1.0
    assert not any("Partial" in view.charts[k].status_text for k in ("request_volume", "request_size", "tcp_sent"))
    answers.warnings = []
    _refresh(qtbot, view)
    assert view.charts["request_duration"].status_text == ""
    view.shutdown()


def test_replay_moves_a_zoom_with_the_charts_end(qtbot: QtBot, prometheus_server: PrometheusServer) -> None:  # noqa: F811
    """A zoomed chart kept its time range when replay moved the charts' end an hour back: it showed an
    hour that was no longer charted, empty. The zoom keeps its width and moves with the end, there and
    back; a zoom that shows none of the charted times (left behind by the live charts moving on) follows
    the data again."""
    now = float(prometheus_server.query_time)
    view = _view(qtbot, PrometheusMetrics(PrometheusClient(prometheus_server.url), clock=lambda: now))
    view.clock = lambda: now
    _set_target(qtbot, view, MetricsTarget.workload("bookinfo", "details-v1"))
    chart = view.charts["request_volume"]
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[0][1] > now - 3600, timeout=5000)  # ranged on the data
    _wheel(chart, 3)
    qtbot.waitUntil(lambda: chart.user_zoomed, timeout=5000)
    (x0, x1), _y = chart.view_box.viewRange()
    assert x1 - x0 < 1500  # zoomed into the 30 minutes charted

    def shown() -> list[float]:
        (a, b), _y = chart.view_box.viewRange()
        times, values = chart.data()[("rate", "")]
        return [v for t, v in zip(times, values, strict=True) if a <= t <= b and math.isfinite(v)]

    assert shown() and all(v == pytest.approx(10.0) for v in shown())
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_end(now - 3600)  # the replay slider an hour back
    (a, b), _y = chart.view_box.viewRange()
    assert chart.user_zoomed
    assert a == pytest.approx(x0 - 3600, abs=1) and b == pytest.approx(x1 - 3600, abs=1)
    assert shown() and max(shown()) == pytest.approx(10.0)  # the zoom shows that hour's data
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_end(0)  # back to live
    (a, b), _y = chart.view_box.viewRange()
    assert a == pytest.approx(x0, abs=1) and b == pytest.approx(x1, abs=1)
    # a refresh with the end where it was keeps the zoom where it is (a spike being looked at stays)
    _refresh(qtbot, view)
    assert chart.view_box.viewRange()[0] == pytest.approx([a, b])
    # a zoom on times no longer charted (the user panned it off, or the charts moved on): the data again
    chart.view_box.setXRange(x0 - 7200, x1 - 7200, padding=0.0)
    _refresh(qtbot, view)
    assert not chart.user_zoomed
    times, _values = chart.data()[("rate", "")]
    qtbot.waitUntil(lambda: chart.view_box.viewRange()[0][0] <= times[0] <= times[-1] <= chart.view_box.viewRange()[0][1],
                    timeout=5000)  # (pyqtgraph ranges on the data at its next update)
    view.shutdown()


def test_the_charts_are_one_tab_stop_and_the_arrows_move_between_them(qtbot: QtBot) -> None:
    """Every chart of the Metrics view was a Tab stop (and the scroll area round them one more): Tab from
    the selectors to whatever follows the view took fifteen presses. The charts are one stop, the one the
    keyboard was last on; the arrows move between them as they are laid out, two to a row, and Home and
    End to the first and last. A screen reader still reads each chart by its title, and which it is."""
    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    view = MetricsView(DemoMetrics(demo), poll_ms=0)
    after = QLineEdit()
    after.setAccessibleName("after")
    lay.addWidget(view)
    lay.addWidget(after)
    host.resize(1000, 900)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is host, timeout=5000)
    _set_target(qtbot, view, MetricsTarget.workload("shop", "reviews-v2"))
    shown = [view.charts[k] for k in view.chart_order]
    assert len(shown) >= 6
    plots = {c.plot: c for c in shown}

    def tab(backward: bool = False) -> QWidget:
        now = QApplication.focusWidget()
        QTest.keyClick(now, Qt.Key.Key_Backtab if backward else Qt.Key.Key_Tab,
                       Qt.KeyboardModifier.ShiftModifier if backward else Qt.KeyboardModifier.NoModifier)
        return QApplication.focusWidget()

    view.refresh_button.setFocus()
    qtbot.waitUntil(view.refresh_button.hasFocus, timeout=5000)
    assert tab() is shown[0].plot, "Tab goes into the charts at the first"
    assert tab() is after, "one more Tab leaves them"
    assert tab(backward=True) is shown[0].plot
    # the arrows, as the charts are laid out: two to a row
    at = QApplication.focusWidget()
    QTest.keyClick(at, Qt.Key.Key_Right)
    assert QApplication.focusWidget() is shown[1].plot
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert QApplication.focusWidget() is shown[3].plot
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left)
    assert QApplication.focusWidget() is shown[2].plot
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_End)
    last = shown[-1]
    assert QApplication.focusWidget() is last.plot
    qtbot.waitUntil(lambda: not last.visibleRegion().isEmpty(), timeout=5000)  # scrolled into view
    seen = QAccessible.queryAccessibleInterface(last.plot)
    assert seen is not None and seen.text(QAccessible.Text.Name).startswith(last.chart.title)
    assert seen.text(QAccessible.Text.Description).startswith(f"Chart {len(shown)} of {len(shown)}")
    # out and back: the keyboard comes back to the chart it left
    assert tab() is after
    assert tab(backward=True) is last.plot
    assert tab(backward=True) is view.refresh_button, "Shift+Tab leaves the charts in one press too"
    assert sum(1 for p in plots if p.focusPolicy() & Qt.FocusPolicy.TabFocus) == 1
    # Shift let go (the application would go on thinking it held, and a later test's click extend a selection)
    QTest.keyRelease(QApplication.focusWidget(), Qt.Key.Key_Shift)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    view.shutdown()


def test_a_view_not_yet_shown_makes_no_chart_and_shows_what_it_was_told_when_it_is(
        qtbot: QtBot, stub: tuple[StubServer, Answers]) -> None:
    """The charts are made when the view is first shown (they took a second of the window's start in a
    hidden dock): what it was told meanwhile - a target, its answer, a failed refresh after it - is what
    the charts show then, as if they had been there all along."""
    server, answers = stub
    view = MetricsView(PrometheusMetrics(PrometheusClient(server.url, timeout=5.0), clock=lambda: END), poll_ms=0)
    qtbot.addWidget(view)
    view.clock = lambda: END
    view.resize(1000, 800)
    with qtbot.waitSignal(view.refreshed, timeout=20000):  # hidden, it still fetches what it is given
        view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    answers.status = 503
    with qtbot.waitSignal(view.failed, timeout=20000):
        view.refresh()
    assert [w for w in QApplication.allWidgets() if isinstance(w, MetricChart) and view.isAncestorOf(w)] == []
    result = view.last_result
    assert result is not None
    view.show()
    qtbot.waitExposed(view)
    chart = next(c for c in view.findChildren(MetricChart) if c.key == "request_volume")
    assert chart.isVisible()
    assert sorted(v for _, v in chart.data().values()) == \
        sorted(list(line.values) for line in result.chart_lines("request_volume"))
    assert chart.status_text.startswith("Metrics refresh failed - showing data from ")
    assert view.title.text() == "workload shop/reviews-v2 (inbound)"
    view.shutdown()


def test_a_view_that_says_metrics_are_not_available_makes_no_chart(qtbot: QtBot) -> None:
    """An offline snapshot's Metrics view says once that there are none: shown, it makes no chart to stand
    hidden behind that; given a source and a target again, it charts them."""
    view = MetricsView(poll_ms=0)
    qtbot.addWidget(view)
    view.set_source(None, unavailable="Not available in an offline snapshot")
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    assert view.notice.isVisible() and view.notice.text() == "Not available in an offline snapshot"
    assert view.findChildren(MetricChart) == []
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    view.set_source(DemoMetrics(demo))
    assert not view.notice.isVisible()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    chart = next(c for c in view.findChildren(MetricChart) if c.key == "request_volume")
    qtbot.waitUntil(lambda: chart.isVisible() and bool(chart.data()), timeout=5000)
    view.shutdown()


def test_the_direction_choice_is_disabled_for_an_edge_and_says_why(qtbot: QtBot) -> None:
    """An edge's charts are its own requests: choosing Inbound or Outbound changed nothing, yet the choice
    stayed enabled. It is disabled while an edge is charted, its tooltip saying why, and enabled again for a node."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_APP
    from meshdesk.mesh.request import GraphRequest
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now))))
    src = graph.find_node(node_type=NODE_APP, namespace="shop", workload="productpage-v1")
    assert src is not None
    edge = next(e for e in graph.out_edges(src.id) if e.rate > 0)
    view = _view(qtbot, DemoMetrics(demo))
    assert view.direction.isEnabled()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [edge.id])
    assert not view.direction.isEnabled()
    assert "An edge's charts are its own requests" in view.direction.toolTip()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [src.id])
    assert view.direction.isEnabled()
    assert view.direction.toolTip().startswith("Inbound and outbound")
    view.shutdown()


def test_a_direction_without_traffic_says_why_once_in_place_of_the_charts(qtbot: QtBot) -> None:
    """An app that calls nothing (Outbound), or the ingress gateway (Inbound): every chart said "No data"
    without a word why. The dock says once, in the charts' place, that no requests went that way, as the
    graph shows; the other direction charts again."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph.model import NODE_APP
    from meshdesk.mesh.request import GraphRequest
    now = 1_750_000_000.0
    demo = DemoCluster(clock=lambda: now)
    graph = build(demo.snapshot(GraphRequest(namespaces=("shop",), queryTime=int(now))))
    details = graph.find_node(node_type=NODE_APP, namespace="shop", workload="details-v1")
    gateway = graph.find_node(node_type=NODE_APP, namespace="istio-system", app="istio-ingressgateway")
    assert details is not None and gateway is not None
    view = _view(qtbot, DemoMetrics(demo))
    view.clock = lambda: now
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [details.id])
    assert view.notice.isHidden() and not view._scroll.isHidden()  # its inbound requests are charted
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(view.direction.findData("outbound"))
    assert not view.notice.isHidden() and view._scroll.isHidden()
    assert view.notice.text().startswith("No requests went out of app shop/details v1 over the 30 min charted")
    assert "Choose Inbound" in view.notice.text()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.show_graph_selection(graph, [gateway.id])  # it sends requests: charted
    assert view.notice.isHidden() and not view._scroll.isHidden()
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.direction.setCurrentIndex(view.direction.findData("inbound"))
    assert not view.notice.isHidden()
    assert view.notice.text().startswith("No requests came into app istio-system/istio-ingressgateway")
    assert "Choose Outbound" in view.notice.text()
    view.shutdown()


def _time_axis_texts(view: MetricsView) -> list[str]:
    """The time labels the first chart's bottom axis draws now."""
    axis = view.charts["request_volume"].plot.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in (specs[2] if specs else [])]


def test_a_replayed_range_of_another_day_says_its_date_on_the_time_axis(qtbot: QtBot) -> None:
    """Replaying three days back, the time axis showed hours and minutes alone, as if of today: its first
    label says the date; a range that crosses midnight says the new day's date where it starts; live
    charts of today keep hours and minutes alone."""
    now = 1_750_000_000.0  # (15:06 UTC)
    demo = DemoCluster(clock=lambda: now)
    view = _view(qtbot, DemoMetrics(demo))
    view.clock = lambda: now
    target = MetricsTarget.app("shop", "productpage", "inbound", "v1")

    def date_of(t: float) -> str:
        return f"{time.strftime('%b', time.localtime(t))} {time.localtime(t).tm_mday} "

    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_end(now - 3 * 86400)
        view.set_target(target)
    box = view.charts["request_volume"].view_box
    qtbot.waitUntil(lambda: box.viewRange()[0][1] > now - 4 * 86400)  # the replayed range in sight
    texts = [t for t in _time_axis_texts(view) if t]
    assert texts[0].startswith(date_of(now - 3 * 86400)), texts
    assert not any(t.startswith(date_of(now - 3 * 86400)) for t in texts[1:]), texts  # once, not on each
    # a range across midnight: the day after's date where it starts
    lt = time.localtime(now - 2 * 86400)
    midnight = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_end(midnight + 900)
    qtbot.waitUntil(lambda: any(t.startswith(date_of(midnight).rstrip()) for t in _time_axis_texts(view)))
    texts = [t for t in _time_axis_texts(view) if t]
    assert all(t.startswith(date_of(midnight - 900)) or ":" not in t for t in texts[:1]), texts  # the day before's
    # live, today: hours and minutes only
    with qtbot.waitSignal(view.refreshed, timeout=20000):
        view.set_end(0)
    qtbot.waitUntil(lambda: box.viewRange()[0][1] > now - 3600)
    texts = [t for t in _time_axis_texts(view) if t]
    assert texts and all(":" in t and " " not in t for t in texts), texts
    view.shutdown()
