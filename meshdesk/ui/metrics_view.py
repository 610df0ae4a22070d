"""The metrics view (every chart, with range, step, split and direction selectors) and the sparkline
strip for the details panel. Both fetch off the UI thread and poll.

    view = MetricsView(source)            # source: a MetricsSource (PrometheusMetrics, DemoMetrics)
    view.set_target(MetricsTarget.workload("shop", "reviews-v2"))
    view.show_graph_selection(graph, ids) # or: pick the target from the canvas selection
    view.set_source(other_source)         # after a context switch (None: no metrics)
    view.set_source(None, unavailable="Not available in an offline snapshot")  # why there are none
    view.shutdown()                       # stops the fetch thread (closeEvent does it too)

A failed refresh keeps every chart's data and says why on each chart ("Prometheus unreachable -
showing data from 12:03:10"); so does a chart whose own query failed (timed out, refused) while the
others updated; a partial answer says so too, on the charts whose queries it answered; a refresh still running at the next tick is reported
as slow rather than started twice.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.dashboards import (
    DEFAULT_CONFIG,
    DISCOVERY_OFF,
    HOW_FOUND,
    AppPods,
    Ask,
    Dashboard,
    DashboardsConfig,
    app_labels,
    dashboards_for,
    discovery_allowed,
    for_app,
    scoped,
    scoped_labels,
)
from meshdesk.mesh.graph.model import NODE_AGGREGATE, NODE_SERVICE, TrafficGraph
from meshdesk.mesh.inventory import Namespace, Workload
from meshdesk.mesh.metrics import (
    CHARTS,
    CHARTS_BY_KEY,
    DASHBOARD,
    INBOUND,
    KIND_EDGE,
    KIND_PROXY,
    OUTBOUND,
    PROXY,
    PROXY_CHARTS,
    PROXY_OTHER_CLUSTERS,
    PROXY_SCRAPED,
    REPORTERS,
    SPARKLINE_CHARTS,
    SPLITS,
    Chart,
    Line,
    MetricsResult,
    MetricsSpec,
    MetricsTarget,
    dashboard_charts,
    graph_namespaces_said,
    no_charts_reason,
    reported_by,
    target_for_edge,
    target_for_node,
    with_graph_namespaces,
)
from meshdesk.sources.base import Cancelled, Forbidden, SourceError, Timeout, Unauthorized, Unreachable
from meshdesk.sources.metrics import PrometheusMetrics, grid_end
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.ui.chart_stops import ChartStops, clock_text
from meshdesk.ui.envoy_view import proxy_pods, why_no_proxy
from meshdesk.ui.labels import ElidedLabel, NameLabel, let_narrow
from meshdesk.ui.replay import duration_text
from meshdesk.ui.toolbar import window_label

if TYPE_CHECKING:
    from meshdesk.ui.charts import MetricChart  # (imported when the charts are made: pyqtgraph with it)

log = logging.getLogger(__name__)
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()

# said as the toolbar says its time window ("Last 10m"), as Kiali's are: "30 min" and "1 hour" here beside
# the toolbar's "Last 10m" and Replay's "Last hour" were three ways of saying one kind of choice
RANGES: tuple[tuple[str, int], ...] = tuple((window_label(s), s) for s in (300, 900, 1800, 3600, 10800, 21600))
STEPS: tuple[tuple[str, int], ...] = (("15 s", 15), ("30 s", 30), ("1 min", 60), ("5 min", 300))


GRID_COLUMNS = 12  # the Metrics dock's charts are laid out in twelfths of its width (Kiali's grid)
_NO_LIMIT = 16777215  # Qt's QWIDGETSIZE_MAX: a widget's height not bounded


class _Worker(QObject):
    done = Signal(int, object)  # generation, MetricsResult
    failed = Signal(int, object)  # generation, SourceError

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0  # written by the UI thread
        self.stopping = False

    @Slot(object)
    def fetch(self, job: tuple[int, Any, MetricsTarget, MetricsSpec]) -> None:
        generation, source, target, spec = job

        def cancelled() -> bool:
            return self.stopping or generation != self.generation

        if cancelled():
            return
        try:
            result = source.fetch(target, spec, cancelled)
        except Cancelled:
            return
        except SourceError as e:
            e.__traceback__ = None
            self.failed.emit(generation, e)
            return
        except Exception as e:  # a bug or an odd library error: report it, keep the charts
            log.exception("metrics fetch failed")
            self.failed.emit(generation, SourceError(f"{type(e).__name__}: {e}"))
            return
        self.done.emit(generation, result)


class MetricsFetcher(QObject):
    """One fetch at a time on a private thread; a new request supersedes (cancels) the old one."""

    done = Signal(object)  # MetricsResult
    failed = Signal(object)  # SourceError
    busyChanged = Signal(bool)

    _job = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("meshdesk-metrics")
        _THREADS.add(self._thread)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._job.connect(self._worker.fetch)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        self._generation = 0
        self._running: int | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None

    def request(self, source: Any, target: MetricsTarget, spec: MetricsSpec) -> None:
        self._generation += 1
        self._worker.generation = self._generation
        self._running = self._generation
        self.busyChanged.emit(True)
        self._job.emit((self._generation, source, target, spec))

    def cancel(self) -> None:
        self._generation += 1
        self._worker.generation = self._generation
        if self._running is not None:
            self._running = None
            self.busyChanged.emit(False)

    def _finish(self, generation: int) -> bool:
        if generation != self._generation:
            return False
        self._running = None
        self.busyChanged.emit(False)
        return True

    def _on_done(self, generation: int, result: MetricsResult) -> None:
        if self._finish(generation):
            self.done.emit(result)

    def _on_failed(self, generation: int, error: SourceError) -> None:
        if self._finish(generation):
            self.failed.emit(error)

    def shutdown(self) -> None:
        self._worker.stopping = True
        self.cancel()
        self._thread.quit()
        self._thread.wait(30000)


def selection_target(graph: TrafficGraph | None, ids: Sequence[str],
                     direction: str) -> tuple[str, MetricsTarget] | tuple[None, None]:
    """The first selected node or edge that has a metrics target, and that target."""
    if graph is None:
        return None, None
    for i in ids:
        target = target_for_node(graph, i, direction) if i in graph.nodes else target_for_edge(graph, i)
        if target is not None:
            return i, target
    return None, None


def charted_of(graph: TrafficGraph | None, ids: Sequence[str], direction: str) -> int:
    """How many of the selected nodes and edges have charts in ``direction`` (the view charts the first)."""
    if graph is None:
        return 0
    return sum(1 for i in dict.fromkeys(ids)
               if (target_for_node(graph, i, direction) if i in graph.nodes else target_for_edge(graph, i)) is not None)


def first_of_title(title: str, of: int) -> str:
    """The view's title when the selection holds ``of`` items with charts: it charts the first alone."""
    return f"Charting {title}, the first of {of} selected" if of > 1 else title


def selection_reason(graph: TrafficGraph | None, ids: Sequence[str]) -> str:
    """Why the selection has no charts, when an item of it is known to have none ("" otherwise)."""
    return next((r for r in (no_charts_reason(graph, i) for i in ids) if r), "")


SLOW_PROMETHEUS = "Prometheus is slow: still waiting for the last refresh"
PROXY_NO_TARGET = "Select a workload (or an app version) to chart its proxies' own metrics"


def proxy_metrics_missing(target: MetricsTarget, others_scraped: bool = False) -> str:
    """Why a proxy target's charts are all empty: no envoy_* series for its pods in Prometheus
    (``others_scraped``: though it has them of other pods' proxies)."""
    if others_scraped:
        return (f"Prometheus has none of the proxies' own metrics (envoy_*) labelled with the namespace and pod "
                f"names of {target.title[len('proxies of '):]}, though it has those of other proxies: the job "
                "that scrapes these pods labels them otherwise, or has not scraped them yet (new pods). meshdesk "
                "reads the labels namespace and pod, as Istio's sample Prometheus sets them (its kubernetes-pods job).")
    return (f"Prometheus has none of the proxies' own metrics (envoy_*) for the pods of {target.title[len('proxies of '):]}: "
            "it does not scrape them. Istio's sample Prometheus does, from each pod's prometheus.io annotations "
            "(the merged metrics on port 15020); without that, the Envoy dock's Stats tab reads the same "
            "statistics from the proxy itself, as of now.")


# Istio's proxies keep, by default, their server's statistics and those of their connection to istiod
# (cluster.xds-grpc), not the listeners' nor the other clusters': an empty chart beside full ones
PROXY_STATS_NOT_KEPT = ("No data: Istio's proxies report only some of Envoy's statistics by default (the server's "
                        "and those of the connection to istiod). To chart the others, add them with proxyStatsMatcher "
                        "(e.g. inclusionPrefixes \"listener\", \"cluster.outbound\") in the mesh config's "
                        "defaultConfig or the pod's proxy.istio.io/config annotation.")

PROXY_ISTIOD_ONLY = ("The connection to istiod only: these proxies report no other upstream cluster's statistics "
                     "(Istio's default). To chart the services they call, add them with proxyStatsMatcher "
                     "(e.g. inclusionPrefixes \"cluster.outbound\").")
_UPSTREAM_CHARTS = ("proxy_upstream_cx_active", "proxy_upstream_rq")


EDGE_DIRECTION = ("An edge's charts are its own requests, from its source to its destination, whichever direction "
                  "is chosen: select a node to choose its inbound or outbound traffic")

NO_TARGET = "Select a workload, app, service, ServiceEntry, operation, edge or box"


class _ChartsController(QWidget):
    """What the full view and the sparkline strip share: a source, a target, a spec, a fetcher, a
    poll timer and a set of charts updated in place."""

    refreshed = Signal(object)  # MetricsResult
    failed = Signal(str)  # the error text

    def __init__(self, source: Any, chart_keys: Sequence[str], *, compact: bool, poll_ms: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.target: MetricsTarget | None = None
        self.colours: dict[str, str] = {}  # one colour per split value across the charts
        # the charts are made when first needed (shown, or read through ``charts``): two dozen pyqtgraph
        # plots took a second of the window's start though the dock was hidden or said "not available";
        # until then the state below (target, last answer, what all charts say) is kept, and drawn on them
        # when they are made
        self._chart_keys = tuple(chart_keys)
        self._chart_defs: dict[str, Chart] = {}  # the definitions of charts none of CHARTS_BY_KEY's (runtime dashboards')
        self._compact = compact
        self._charts: dict[str, MetricChart] | None = None
        self._said_on_all: tuple[str, bool] | None = None  # (a status every chart says, with no lines)
        # the charts are one Tab stop, the arrows move between them
        self.chart_stops = ChartStops(self._chart_sequence, self.chart_columns, self)
        self.last_result: MetricsResult | None = None
        self.last_good_at: float | None = None  # when (by the clock) the last answer came
        self.shown_at: float | None = None  # the moment the charts' data is of: now, or the replayed moment
        self.chart_good_at: dict[str, float] = {}  # chart key -> the moment its own queries last answered for
        self.no_target_text = ""  # why the selection has no charts, when known
        self.unavailable = ""  # why there is no source, when there is a reason (an offline snapshot)
        self.last_error: str = ""
        # an answer being drawn a few charts a turn: (answer, how far the end moved, its span, charts left)
        self._drawing: tuple[MetricsResult, float, tuple[float, float] | None, list[str]] | None = None
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_some)
        # how long one event-loop turn draws charts of an answer before the rest waits for the next turn (0:
        # one chart a turn)
        self.draw_slice_s = 0.015
        # a new selection's charts keep the last selection's lines, marked as being replaced (the full
        # view's "Loading metrics…"), for up to this long while its answer is asked, and are emptied only
        # if it is later than that: emptied at each click, the charts were repainted empty (their axes
        # relabelled) just before they were drawn again, most of the window's stall after a click. 0:
        # emptied at once
        self.keep_while_loading_s = 0.0
        self.replacing = False  # the lines shown are the last target's, kept until the new one's come
        self._replaced_timer = QTimer(self)
        self._replaced_timer.setSingleShot(True)
        self._replaced_timer.timeout.connect(self._empty_replaced)
        self.fetcher = MetricsFetcher(self)
        self.fetcher.done.connect(self._on_result)
        self.fetcher.failed.connect(self._on_failed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.set_poll_interval(poll_ms)
        self.clock: Callable[[], float] = time.time
        self.end = 0.0  # the charts' right edge in unix time; 0: now (replay sets an earlier one)
        self._end_moved = False  # set_end moved it since the last answer
        self._graph: TrafficGraph | None = None  # the graph the selection was made in (or a later one)
        self._ids: list[str] = []  # the selection

    chart_columns = 1  # how many charts side by side (what Up and Down step over)

    def _chart_sequence(self) -> list[MetricChart]:
        """The charts in the order they are laid out (the arrows' order)."""
        return list(self._made().values())

    @property
    def charts(self) -> dict[str, MetricChart]:
        """The charts by key, every one made now if it was not yet (they are made when the view is first
        shown, those it does not show then when first shown)."""
        if self._charts is None or len(self._charts) < len(self._chart_keys):
            self._make_charts(self._chart_keys)
        assert self._charts is not None
        self._finish_drawing()  # what they show is the last answer, all of it
        return self._charts

    def _made(self) -> dict[str, MetricChart]:
        """The charts made so far (none before the view was first shown or ``charts`` read)."""
        return self._charts if self._charts is not None else {}

    def _first_charts(self) -> Sequence[str]:
        """The keys of the charts made when the view is first shown (the others when first needed)."""
        return self._chart_keys

    def _make_charts(self, keys: Sequence[str] | None = None) -> None:
        """Make the charts of ``keys`` (None: those shown first) not made yet, lay them out, and draw on them
        what they would show had they been there all along: the last answer and what was said on every
        chart since (no source, no target, a failure)."""
        from meshdesk.ui.charts import MetricChart  # pyqtgraph and numpy: a second, not spent at the start

        made = self._charts if self._charts is not None else {}
        new = {k: MetricChart(k, compact=self._compact, colours=self.colours, parent=self,
                              chart=self._chart_defs.get(k))
               for k in dict.fromkeys(self._first_charts() if keys is None else keys) if k not in made}
        for chart in new.values():
            if chart.time_axis is not None:
                chart.time_axis.clock = lambda: self.clock()  # "today", by the view's clock (a date said when not)
            chart.folded.connect(self._chart_folded)
        self._charts = {**made, **new}
        self._lay_out_charts()
        self._order_tabs()
        if self.last_result is not None:
            self._draw_result(self.last_result, 0.0, replay=True, only=new)
        if self._said_on_all is not None:
            text, empty = self._said_on_all
            self._say_on_all(text, empty=empty, only=new)
        self.chart_stops.restop()

    def _order_tabs(self) -> None:
        """Tab reaches the charts where they are laid out, not after every widget made before them (the end
        of the window's Tab chain: a runtime dashboard's charts, made when it is first chosen, were passed by)."""
        before: QWidget = self._tab_before_charts()
        for chart in self._chart_sequence():
            QWidget.setTabOrder(before, chart.plot)
            before = chart.plot

    def _lay_out_charts(self) -> None:
        """Put the just made charts in the view's layout (each kind of view has its own)."""

    def _chart_folded(self) -> None:
        """A chart was folded or opened (a runtime dashboard's that starts folded): its height changed."""

    def _tab_before_charts(self) -> QWidget:
        """The widget Tab goes from to the charts."""
        return self

    def _charts_needed(self) -> bool:
        """Whether the charts would be seen if the view were shown (not when a notice stands in their place)."""
        return True

    def _say_on_all(self, text: str, *, empty: bool = False, only: dict[str, MetricChart] | None = None) -> None:
        """Every chart (or those ``only``) says ``text`` (``empty``: with no lines, the range's times on the
        axis); kept for charts made later."""
        if only is None:
            self._finish_drawing()  # (an answer drawn later would say its own words over these)
            self._empty_replaced()  # (not the last target's lines under words about the new one)
        self._said_on_all = (text, empty)
        charts = self._made() if only is None else only
        span = self._span_now() if empty and charts else None
        for c in charts.values():
            if span is not None:
                c.set_lines([], span)  # (empty already) the range's times on the axis, not 1970's first second
            c.set_status(text)

    # what to fetch now: the full view's range, step and split, or the sparklines' fixed window
    spec: Callable[[], MetricsSpec]  # each kind of view defines it

    # -- public slots ------------------------------------------------------------------------
    def set_end(self, end: float) -> None:
        """Chart the range that ends at ``end`` (0: now), as the replayed graph shows that moment."""
        if end != self.end:
            self.end = end
            self._end_moved = True  # a zoom moves with the end when the charts of the new end come
            self.refresh()

    @Slot(int)
    def set_poll_interval(self, ms: int) -> None:
        """0 stops polling (refresh() still works)."""
        self.timer.stop()
        if ms > 0:
            self.timer.start(ms)

    def _source_for(self, target: MetricsTarget) -> Any:
        """Where ``target``'s metrics are read: the view's source (a runtime dashboard's may have its own)."""
        return self.source

    def set_source(self, source: Any, *, unavailable: str = "") -> None:
        """``unavailable``: why there is no source (said on the charts instead of "No metrics source")."""
        self.fetcher.cancel()
        self.source = source
        self.unavailable = unavailable if source is None else ""
        self._clear()
        self.refresh()

    def set_target(self, target: MetricsTarget | None) -> None:
        if target is not None:
            self.no_target_text = ""
        if target == self.target:
            if target is None:
                self.refresh()  # nothing to fetch; the charts say why
            return
        self.fetcher.cancel()
        self.target = target
        if target is not None and self.keep_while_loading_s > 0 and (self.replacing or self.last_result is not None):
            self._keep_while_loading()
        else:
            self._clear()
        self.refresh()

    def show_graph_selection(self, graph: TrafficGraph | None, ids: Sequence[str], direction: str = INBOUND) -> None:
        """Target the first selected node or edge that has metrics (canvas ``selectionChanged``)."""
        self._graph, self._ids = graph, list(ids)
        target = selection_target(graph, ids, direction)[1]
        self.no_target_text = "" if target is not None else selection_reason(graph, ids)
        self._set_selection_target(target)

    def _set_selection_target(self, target: MetricsTarget | None) -> None:
        """The selection's target (the full view's title says which of the selection it is)."""
        self.set_target(target)

    def update_graph(self, graph: TrafficGraph | None) -> None:
        """A refreshed graph (the same selection): the target is read again from it, as a direction switch
        would read it. A sidecar added or taken out since changes who reports the selection's traffic: the
        charts are asked again of the other side at once (they showed the old side's reports, or nothing,
        until the next direction switch or selection). The same target: nothing is asked, nothing redrawn.
        A graph without the selection leaves it be (the canvas keeps or drops it)."""
        if graph is None or self._graph is None or graph is self._graph:
            return
        if self._ids and all(i in graph.nodes or i in graph.edges for i in self._ids):
            self.show_graph_selection(graph, self._ids)  # the view's own direction; the strip's own choice

    @Slot()
    def refresh(self) -> None:
        if self.source is None or self.target is None:
            self._say_on_all((self.unavailable or "No metrics source") if self.source is None
                             else self.no_target_text or NO_TARGET, empty=True)
            return
        self.fetcher.request(self._source_for(self.target), self.target, self.spec())

    def shutdown(self) -> None:
        self.timer.stop()
        self._stop_drawing()
        self.fetcher.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Shown again (its dock tab chosen) after polls were skipped while hidden: what it shows may be
        from long ago, so refresh now rather than at the next tick."""
        if self._charts is None and self._charts_needed():
            self._make_charts()  # first shown: the charts are needed now
        super().showEvent(event)
        interval = self.timer.interval() / 1000 if self.timer.isActive() else 0
        if interval and self.last_good_at is not None and not self.fetcher.busy \
                and self.clock() - self.last_good_at >= interval:
            self.refresh()

    # -- internals ---------------------------------------------------------------------------
    def _span_now(self) -> tuple[float, float]:
        """The times (first, last) the charts would be of if fetched now: the range, ending now or at the
        replayed moment."""
        spec = self.spec()
        grid = spec.grid(grid_end(spec, self.clock()))
        return grid[0], grid[-1]

    def _forget_answer(self) -> None:
        """What was known of the last target's answer, forgotten (its lines may still be on the charts)."""
        self._stop_drawing()
        self.last_result = None
        self.last_good_at = self.shown_at = None
        self.chart_good_at.clear()
        self.colours.clear()  # a new target's lines take their colours afresh
        self._said_on_all = None

    def _clear(self) -> None:
        self._forget_answer()
        self._set_replacing(False)
        for c in self._made().values():
            c.set_lines([])
            c.reset_view()
            c.set_status("")

    def _keep_while_loading(self) -> None:
        """A new target: the last one's lines stay, marked as being replaced, until its answer is drawn over
        them or ``keep_while_loading_s`` has passed without one (counted from the first of several quick
        selections: lines kept that long are emptied, whatever was selected since)."""
        self._forget_answer()
        if not self._replaced_timer.isActive():
            self._replaced_timer.start(max(1, round(self.keep_while_loading_s * 1000)))
        self._set_replacing(True)

    def _empty_replaced(self) -> None:
        """The last target's lines, kept while the new one's answer was asked, emptied (it is late, or
        failed, or the charts are to say something of the new target)."""
        if self.replacing:
            self._clear()

    def _set_replacing(self, replacing: bool) -> None:
        if not replacing:
            self._replaced_timer.stop()
        if replacing != self.replacing:
            self.replacing = replacing
            self._replacing_changed()

    def _replacing_changed(self) -> None:
        """The charts started or stopped showing the last target's lines while the new one's are asked."""

    def _tick(self) -> None:
        if not self.isVisible():  # a hidden tab or dock costs Prometheus nothing
            return
        if self.fetcher.busy:
            # a source that is not a Prometheus (the built-in demo computes its series itself, seconds for a
            # long range at a fine step) says how to word it, or "" for nothing: its pace is not Prometheus'
            slow = getattr(self.source, "slow_text", SLOW_PROMETHEUS)
            if slow:
                since = f" - showing data from {clock_text(self.shown_at)}" if self.shown_at else ""
                self._say_on_all(f"{slow}{since}")
            return
        self.refresh()

    def _on_result(self, result: MetricsResult) -> None:
        if result.target != self.target:
            return
        self._finish_drawing()  # the answer before, drawn in full first (a zoom moved with its end)
        self._replaced_timer.stop()  # the last target's lines kept are drawn over now, not emptied first
        self._unscraped(result)
        # replay moved the charts' end: a zoomed chart keeps its zoom's width and where it was from the end
        # (left where it was, it showed a time with no data: an empty chart)
        before = self.last_result
        moved = result.end - before.end if self._end_moved and before is not None and before.target == result.target \
            else 0.0
        self._end_moved = False
        self.last_result = result
        self.last_good_at = self.clock()
        # in replay the data is of the replayed moment, not of when it was fetched
        now = self.shown_at = result.end if result.spec.end else self.last_good_at
        self.last_error = ""
        self._said_on_all = None
        for key in result.lines:
            if key not in result.errors:
                self.chart_good_at[key] = now
        self._start_drawing(result, moved)

    def _draw_result(self, result: MetricsResult, moved: float, *, replay: bool = False,
                     only: dict[str, MetricChart] | None = None) -> None:
        """Each chart made (or those ``only``) shows its lines of ``result`` (``moved``: how far the charts'
        end moved, for a zoom to follow); ``replay``: the charts were just made, with no earlier lines to keep."""
        grid = result.spec.grid(result.end)
        span = (grid[0], grid[-1]) if grid else None  # what a chart without any line shows on its time axis
        for key, chart in (self._made() if only is None else only).items():
            self._draw_chart(result, key, chart, span, moved, replay)

    def _start_drawing(self, result: MetricsResult, moved: float) -> None:
        """Draw ``result`` on the charts a few at a time, one event-loop turn after another, those in sight
        first (a dozen and more charts drawn at once froze the window for a tenth of a second and more after
        each click); ``refreshed`` says when all are drawn."""
        charts = self._made()
        in_sight = [k for k, c in charts.items() if c.isVisible() and not c.visibleRegion().isEmpty()]
        keys = in_sight + [k for k in charts if k not in set(in_sight)]
        grid = result.spec.grid(result.end)
        self._drawing = (result, moved, (grid[0], grid[-1]) if grid else None, keys)
        self._draw_some()

    def _draw_some(self) -> None:
        """Draw charts of the answer being drawn for up to ``draw_slice_s``, then go on in the next turn."""
        if self._drawing is None:
            return
        result, moved, span, keys = self._drawing
        until = time.perf_counter() + self.draw_slice_s
        while keys:
            chart = self._made().get(keys.pop(0))
            if chart is not None:
                self._draw_chart(result, chart.key, chart, span, moved, False)
                if time.perf_counter() >= until:
                    break
        if keys:
            self._draw_timer.start()
            return
        self._drawing = None
        self._set_replacing(False)  # every chart shows the new target's answer
        self.refreshed.emit(result)

    def _finish_drawing(self) -> None:
        """The answer being drawn on every chart now (read, said on all, or followed by another answer)."""
        if self._drawing is not None:
            self._draw_timer.stop()
            result, moved, span, keys = self._drawing
            while keys:
                chart = self._made().get(keys.pop(0))
                if chart is not None:
                    self._draw_chart(result, chart.key, chart, span, moved, False)
            self._drawing = None
            self._set_replacing(False)
            self.refreshed.emit(result)

    def _stop_drawing(self) -> None:
        """The answer being drawn is no longer wanted (another target, source or range): the rest not drawn."""
        self._draw_timer.stop()
        self._drawing = None

    def _lines_shown(self, key: str, lines: list[Line]) -> list[Line]:
        """The lines of chart ``key`` it shows (all, unless a view shows some at a time)."""
        return lines

    def _draw_chart(self, result: MetricsResult, key: str, chart: MetricChart, span: tuple[float, float] | None,
                    moved: float, replay: bool) -> None:
        lines = self._lines_shown(key, result.chart_lines(key))
        if key in result.errors:
            kept = None if replay else self.chart_good_at.get(key)
            if kept is not None:
                # a query of this chart timed out or was refused: keep what it showed, and say so
                chart.set_status(f"Query failed: {result.errors[key]} - showing data from {clock_text(kept)}")
                return
            chart.set_lines(lines, span)
            chart.set_status(f"Query failed: {result.errors[key]}")
            return
        chart.set_lines(lines, span)
        chart.move_view(moved)
        if span is not None:
            chart.follow_if_outside(*span)
        partial = "; ".join(result.warnings_of(key))  # its own queries': the others are complete
        if partial:
            chart.set_status(f"Partial data: {partial}")
        elif not any(math.isfinite(v) for line in lines for v in line.values):
            # no series, or only undefined points (an error share or a duration of no requests:
            # 0/0): the chart would stand empty without a word
            chart.set_status(self._no_data_text(result, key), role="hint")
        else:
            chart.set_status(self._chart_note(result, key))

    def _unscraped(self, result: MetricsResult) -> None:
        """A proxy target with no series at all: Prometheus does not scrape the proxies (the full view
        says so in place of the charts)."""

    def _no_data_text(self, result: MetricsResult, key: str) -> str:
        """What an empty chart says: "No errors" for an errors chart beside requests that were answered
        (Prometheus has no error series to rate, which read as if nothing were known), else "No data"."""
        if _CHART_KINDS.get(key) == "errors" and "request_volume" not in result.errors and any(
                math.isfinite(v) and v > 0 for line in result.chart_lines("request_volume") for v in line.values):
            return NO_ERRORS
        return "No data"

    def _chart_note(self, result: MetricsResult, key: str) -> str:
        """What a chart with data says under its title ("": nothing)."""
        return ""

    def _on_failed(self, error: SourceError) -> None:
        text = str(error)
        self.last_error = text
        what = _short_reason(error)
        log.info("metrics refresh failed: %s", text)
        shown = self.last_result.spec if self.last_result is not None else None
        asked = self.spec()
        if shown is not None and (shown.range_s, shown.step_s, shown.split, shown.charts) != \
                (asked.range_s, asked.step_s, asked.split, asked.charts):
            # the lines are of another range, step or split than the selectors say: not kept under them
            self._clear()
        self._say_on_all(f"{what} - showing data from {clock_text(self.shown_at)}" if self.shown_at is not None
                         else f"{what}: {text}")
        self.failed.emit(text)


NO_ERRORS = "No errors: every request in this range was answered without one"
_CHART_KINDS = {c.key: c.kind for c in CHARTS}


def _short_reason(error: SourceError) -> str:
    if isinstance(error, Unreachable):
        return "Prometheus unreachable"
    if isinstance(error, Timeout):
        return "Prometheus did not answer in time"
    if isinstance(error, Unauthorized | Forbidden):
        return "Prometheus refused access"
    return "Metrics refresh failed"


class MetricsView(_ChartsController):
    """Every chart for one target, in a scrolling grid, with the selectors above."""

    chart_columns = 2
    def __init__(self, source: Any = None, *, poll_ms: int = 15000, parent: QWidget | None = None) -> None:
        super().__init__(source, [c.key for c in (*CHARTS, *PROXY_CHARTS)], compact=False, poll_ms=poll_ms,
                         parent=parent)
        self.workload: Workload | None = None  # the selection's workload, whose proxies the Envoy proxy choice charts
        self.app_pods: AppPods | None = None  # or the selected app's (an app node), whose runtime dashboards it has
        self.waypoint: tuple[str, str] | None = None  # its waypoint when ambient (EnvoyView.waypoint)
        self.title = NameLabel("No selection")  # a long target breaks rather than widening the window
        self.title.setObjectName("metricsTitle")
        self.title.setStyleSheet("font-weight: 600;")
        self.direction = QComboBox()
        self.direction.setAccessibleName("Direction")  # (a screen reader's name; the value alone says not what it chooses)
        self.direction.addItem("Inbound", INBOUND)
        self.direction.addItem("Outbound", OUTBOUND)
        # the proxies' own metrics (Envoy's, per pod), as Kiali's "Envoy Metrics" tab of a workload
        self.direction.addItem("Envoy proxy", PROXY)
        # as wide as its longest choice, a runtime dashboard's title added later ("Node.js Metrics") too; a
        # long title of the user's own is cut rather than widen the window (its bar has no room to spare)
        self.direction.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.direction.setMaximumWidth(self.direction.fontMetrics().horizontalAdvance("x" * 22) + 40)
        # and the selected workload's runtime dashboards (Kiali's custom dashboards: Go, JVM...), as found
        self.dashboards_config: Callable[[], DashboardsConfig] = lambda: DEFAULT_CONFIG  # the window's settings
        self.dashboards: list[Dashboard] = []  # the workload's, offered after the three above
        # the namespace of that name in the inventory shown (its dashboards.kiali.io/templates annotation
        # defines dashboards of its own), None when not known
        self.namespace_of: Callable[[str], Namespace | None] = lambda _name: None
        self._templates_said: list[str] = []  # what is wrong with the namespace's or workload's templates
        # the Prometheus of the runtime dashboards' own, when the configuration gives one: (its URL, its source)
        self._runtime_prometheus: tuple[Any, Any] | None = None
        self._dashboards_of: tuple[Any, ...] | None = None  # what they were found for (source, config, workload)
        self._discovery: MetricsFetcher | None = None  # finds them off the UI thread (made when first needed)
        # the selected workload's dashboards are being found: a dashboard chosen for the one before is not
        # charted for it meanwhile (it showed "Go Metrics of" a Node.js workload, empty, until found)
        self._finding = False
        # an edge charted: its own requests, the same whichever direction is chosen (the choice did nothing)
        self._edge_charted = False
        self._direction_said = ""  # the choice's own tooltip (what its choices chart), when it is enabled
        self._direction_tip("")
        # a dashboard's charts split by one of its labels (the pod, a JVM memory area), as Kiali's "Show by"
        self.show_by = QComboBox()
        self.show_by.setAccessibleName("Show by")
        self.show_by.setObjectName("showBy")
        self.show_by.addItem("No split", "")
        self.show_by_label = QLabel("Show by")
        # and, split by a label the dashboard shows one value at a time (Kiali's singleSelection), that value
        self.show_value = QComboBox()
        self.show_value.setAccessibleName("Value shown")
        self.show_value.setObjectName("showValue")
        self.show_value.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._dashboard_shown: Dashboard | None = None
        self.range = QComboBox()
        self.range.setAccessibleName("Time range")
        for text, seconds in RANGES:
            self.range.addItem(text, seconds)
        self.range.setCurrentIndex(2)
        self.step = QComboBox()
        self.step.setAccessibleName("Step")
        for text, seconds in STEPS:
            self.step.addItem(text, seconds)
        self.step.setCurrentIndex(2)
        self.split = QComboBox()
        self.split.setAccessibleName("Split by")
        for key, text in SPLITS:
            self.split.addItem(text, key)
        self.reporter = QComboBox()
        self.reporter.setAccessibleName("Reporter")
        for key, text in REPORTERS:
            self.reporter.addItem(text, key)
        self.reporter.setToolTip(
            "Whose proxies' reports are charted. Both sides report every request that reaches the server, "
            "with the same numbers, except: failures before the server (a tripped circuit breaker, no healthy "
            "host, injected faults) only the source reports; callers outside the mesh only the destination. "
            "\"as the graph\": the server's reports, or its callers' when it has no proxy.")
        self.refresh_button = QPushButton("Refresh")
        # Istio's Grafana dashboard of what is charted, in the browser (as Kiali's "View in Grafana")
        self.grafana_button = QPushButton("View in Grafana")
        self.grafana_button.setObjectName("viewInGrafana")
        self.grafana_button.setToolTip("Open Istio's Grafana dashboard of the charted workload or service (the "
                                       "mesh's otherwise) in your browser, over the time range shown")
        self.grafana_note = ElidedLabel()  # what opening it did, or why it could not
        self.grafana_note.setObjectName("grafanaNote")
        self.grafana_note.setProperty("role", "hint")  # (a fixed grey read 3.6:1 in the light theme, 4:1 in the dark)
        self.grafana_note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # a new selection's charts stand empty until the first answer (seconds in a big mesh): said in the
        # title's line, whose height does not change, rather than on each chart (whose layout would jump)
        self.loading = ElidedLabel("Loading metrics\u2026")
        self.loading.setObjectName("metricsLoading")
        self.loading.setProperty("role", "hint")
        self.loading.hide()
        self.fetcher.busyChanged.connect(self._busy_changed)
        self.keep_while_loading_s = 0.3  # the last selection's lines under "Loading metrics…" meanwhile
        # why there are no charts at all (an offline snapshot, a ServiceEntry in a direction it has no
        # traffic in): said once, in place of the charts
        self._reason = ""  # the selection's own reason (the ServiceEntry's)
        self.notice = QLabel()
        self.notice.setObjectName("metricsUnavailable")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("padding: 12px 0;")
        self.notice.hide()
        let_narrow(self.range, self.step, self.split, self.direction, self.reporter)
        # the choices in two halves, side by side where there is room and one above the other where there is not:
        # on one line, in the dock under the graph of a 1024-pixel-wide window, the direction and Reported by
        # were cut to "Inbounc" and "as the g" (see resizeEvent)
        self._choices = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._choices_halves = (QHBoxLayout(), QHBoxLayout())
        self._traffic_only: list[QWidget] = []  # Split and Reported by: out of the way of a dashboard's Show by
        for label, w in (("Range", self.range), ("Step", self.step), ("Split", self.split), ("", self.direction),
                         ("Reported by", self.reporter)):
            bar = self._choices_halves[0 if w in (self.range, self.step, self.split) else 1]
            if label:
                caption = QLabel(label)
                bar.addWidget(caption)
                if w in (self.split, self.reporter):
                    self._traffic_only += [caption, w]
            bar.addWidget(w)
        bar.addWidget(self.show_by_label)
        bar.addWidget(self.show_by)
        bar.addWidget(self.show_value)
        self.show_by_label.hide()
        self.show_by.hide()
        self.show_value.hide()
        for half in self._choices_halves:
            half.addStretch(1)
        self._choices.addLayout(self._choices_halves[0])
        self._choices.addLayout(self._choices_halves[1], 1)  # (side by side, the room left is after the second)
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        for column in range(GRID_COLUMNS):  # twelfths of the width, as Kiali's grid (a chart spans some)
            grid.setColumnStretch(column, 1)
        self._grid = grid
        self._rows = 0  # the runtime dashboard shown's rows (0: none, or meshdesk's own height)
        self.chart_order: tuple[str, ...] = ()
        self._place_charts(tuple(c.key for c in CHARTS))
        scroll = QScrollArea()
        scroll.setAccessibleName("Charts")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the charts in it are the Tab stop (ChartStops)
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        layout = QVBoxLayout(self)
        # the Grafana link on the title's line, which has room to spare (the choices' line has none: the
        # window grew wider than a laptop's screen)
        head = QHBoxLayout()
        head.addWidget(self.title, 3)
        head.addWidget(self.grafana_note, 2)
        head.addWidget(self.loading)
        head.addWidget(self.grafana_button)
        # Refresh too: on the choices' line, in the dock under the graph of a 1024-pixel-wide window, it left
        # the direction and Reported by cut to "Inbounc" and "as the g"
        head.addWidget(self.refresh_button)
        layout.addLayout(head)
        layout.addLayout(self._choices)
        # Tab: the choices, then Refresh, then the charts (as when Refresh ended the choices' line)
        QWidget.setTabOrder(self.show_value, self.refresh_button)
        layout.addWidget(self.notice, 1, Qt.AlignmentFlag.AlignTop)  # in the charts' place, at the top
        layout.addWidget(scroll, 1)
        self._scroll = scroll
        for combo in (self.range, self.step, self.split):
            combo.currentIndexChanged.connect(self._spec_changed)
        self.direction.currentIndexChanged.connect(self._direction_changed)
        self.reporter.currentIndexChanged.connect(self._reporter_changed)
        self._made_target: MetricsTarget | None = None  # the target as made, before the reporter choice
        # how many selected items have charts, of which the first is charted (the title says so when
        # more than one: a multi-selection charted its first item only, without saying so)
        self._of_selected = 0
        self._of_selection = False  # set_target is being given the selection's target
        self.refresh_button.clicked.connect(self.refresh)
        self.show_by.currentIndexChanged.connect(lambda: self._offer_values(None))  # (the new label's when answered)
        self.show_by.currentIndexChanged.connect(self._spec_changed)
        self.show_value.currentIndexChanged.connect(self._value_chosen)

    def spec(self) -> MetricsSpec:
        # a dashboard's charts are split by one of its labels; the traffic charts by the Split choice
        dashboard = str(self.direction.currentData()).startswith(DASHBOARD)
        split = str(self.show_by.currentData() or "") if dashboard else str(self.split.currentData())
        return MetricsSpec(range_s=int(self.range.currentData()), step_s=int(self.step.currentData()),
                           split=split, end=self.end)

    def set_target(self, target: MetricsTarget | None) -> None:
        if not self._of_selection:
            self._of_selected = 0  # a target given directly, not the selection's first
        self._made_target = target
        target = reported_by(target, str(self.reporter.currentData() or ""))
        self.title.setText(first_of_title(target.title, self._of_selected) if target else "No selection")
        super().set_target(target)

    def _set_selection_target(self, target: MetricsTarget | None) -> None:
        self._of_selection = True
        try:
            self.set_target(target)
        finally:
            self._of_selection = False

    def set_source(self, source: Any, *, unavailable: str = "") -> None:
        super().set_source(source, unavailable=unavailable)
        self._show_notice()
        for w in (self.range, self.step, self.split, self.reporter, self.refresh_button, self.show_by):
            w.setEnabled(not self.unavailable)
        self._direction_state()
        self._find_dashboards()  # another cluster's Prometheus: the workload's dashboards found again

    def _source_for(self, target: MetricsTarget) -> Any:
        """A runtime dashboard's metrics from the Prometheus Kiali's config gives them
        (``external_services.custom_dashboards.prometheus.url``), else the view's source."""
        if target.dashboard is None:
            return self.source
        return self._runtime_source(self.dashboards_config())

    def _runtime_source(self, config: DashboardsConfig) -> Any:
        """The source runtime dashboards are found and read in: a Prometheus of their own when the
        configuration names one (made once per address), else the view's."""
        if not config.prometheus_url or self.source is None:
            return self.source
        key = (config.prometheus_url, config.prometheus_auth)
        if self._runtime_prometheus is None or self._runtime_prometheus[0] != key:
            timeout = float(getattr(self.source, "timeout", 15.0) or 15.0)
            auth = config.prometheus_auth  # (its login, as Kiali's config gives it)
            client = PrometheusClient(config.prometheus_url, token=auth.token or None,
                                      basic_auth=(auth.username, auth.password) if auth.username else None,
                                      insecure=auth.insecure, timeout=timeout)
            self._runtime_prometheus = (key, PrometheusMetrics(client))
        return self._runtime_prometheus[1]

    def dashboards_changed(self) -> None:
        """The settings' runtime dashboards changed: the selected workload's are found again."""
        self._find_dashboards()

    def shutdown(self) -> None:
        super().shutdown()
        if self._discovery is not None:
            self._discovery.shutdown()

    def _show_notice(self) -> None:
        """Why there are no charts, once, in their place (empty charts would each say it again)."""
        text = self.unavailable or self._reason
        self.notice.setText(text)
        # no source is a problem; a selection with nothing to chart in this direction is not
        # in the theme's warning colour (a fixed orange read 3.3:1 on the dark theme)
        role = "warning" if self.unavailable else ""
        if self.notice.property("role") != role:
            self.notice.setProperty("role", role)
            self.notice.style().unpolish(self.notice)
            self.notice.style().polish(self.notice)
        self.notice.setVisible(bool(text))
        self._scroll.setVisible(not text)
        if not text and self._charts is None and self.isVisible():
            self._make_charts()  # the notice gave way to the charts, in sight

    def _charts_needed(self) -> bool:
        return not (self.unavailable or self._reason)  # "Not available in an offline snapshot": no chart needed

    def set_workload(self, workload: Workload | None) -> None:
        """The workload of the selection (or None), whose pods' proxies the Envoy proxy choice charts; its
        pods read again (a rollout) re-target the charts when they are shown."""
        self.workload = workload
        if self.direction.currentData() == PROXY and self._graph is not None:
            self.show_graph_selection(self._graph, self._ids)

    def show_proxies(self) -> None:
        """Switch to the Envoy proxy choice (charted at once for the selection)."""
        self.direction.setCurrentIndex(self.direction.findData(PROXY))

    def _show_proxies(self, graph: TrafficGraph | None, ids: Sequence[str]) -> None:
        """The Envoy proxy choice: the selected workload's proxies' own metrics, one line per pod."""
        self._graph, self._ids = graph, list(ids)
        workload = self.workload if ids else None
        pods = proxy_pods(workload) if workload is not None else []
        target = MetricsTarget.proxy(workload.namespace, workload.name, [p.name for p in pods]) \
            if workload is not None and pods else None
        if workload is None:
            self._reason = PROXY_NO_TARGET
            self.title.setText("No workload selected")
        elif target is None:
            self._reason = why_no_proxy(workload, self.waypoint)
            self.title.setText(f"workload {workload.namespace}/{workload.name}")
        else:
            self._reason = ""
        self.no_target_text = self._reason
        self.set_target(target)
        self._show_notice()
        self._place_charts(tuple(c.key for c in PROXY_CHARTS))

    def show_graph_selection(self, graph: TrafficGraph | None, ids: Sequence[str], direction: str = "") -> None:
        self._graph, self._ids = graph, list(ids)
        self._find_dashboards()  # (may fall back from a dashboard the workload does not have)
        direction = direction or str(self.direction.currentData())
        traffic = direction in (INBOUND, OUTBOUND)
        charted = selection_target(graph, ids, direction)[0] if traffic else None
        self._edge_charted = graph is not None and charted is not None and charted in graph.edges
        self._direction_state()
        self.split.setEnabled(traffic and not self.unavailable)
        self.reporter.setEnabled(traffic and not self.unavailable)  # a proxy's (a runtime's) own metrics: no side
        self.show_by_label.setVisible(direction.startswith(DASHBOARD))
        self.show_by.setVisible(direction.startswith(DASHBOARD))
        if not direction.startswith(DASHBOARD):
            self._dashboard_shown = None
            self._offer_values(None)
        # a dashboard splits by Show by and reads its own metrics: Split and Reported by (off) give way to it (in
        # a 1024-pixel window's dock the three cut the dashboard's name in the choice to "Go Metri")
        for w in self._traffic_only:
            w.setVisible(not direction.startswith(DASHBOARD))
        if direction.startswith(DASHBOARD):
            self._of_selected = 0  # the first selected workload's: said by the title's workload
            self._show_dashboard(graph, ids, direction[len(DASHBOARD):])
            return
        if direction == PROXY:
            self._of_selected = 0  # the first selected workload's proxies: said by the title's workload
            self._show_proxies(graph, ids)
            return
        self._of_selected = charted_of(graph, ids, direction)
        super().show_graph_selection(graph, ids, direction)
        edge = next((graph.edges[i] for i in ids if graph is not None and i in graph.edges
                     and no_charts_reason(graph, i)), None)
        # a node with no metrics of its own (the unknown node): named, and why, rather than "No selection"
        plain = next((graph.nodes[i] for i in ids if graph is not None and i in graph.nodes
                      and no_charts_reason(graph, i)), None)
        entry = (_entry_without_charts(graph, ids, direction) or _sends_nothing(graph, ids, direction)) \
            if self.target is None else None
        known_reason = self.target is None and graph is not None and (edge is not None or plain is not None)
        self._reason = entry[1] if entry else self.no_target_text if known_reason else ""
        self._show_notice()
        if entry:
            self.title.setText(f"{entry[0]} ({'outbound' if direction == OUTBOUND else 'inbound'})")
            self.no_target_text = entry[1]
            self.refresh()  # said once, in place of the charts (not "Select a workload, ..." on each)
        elif self.target is None and graph is not None and edge is not None:
            src, dst = graph.nodes[edge.source].label, graph.nodes[edge.target].label
            self.title.setText(f"{src} \u2192 {dst}")  # why there are no charts: once, in their place
        elif self.target is None and plain is not None:
            self.title.setText(plain.label)  # as the graph names it; why there are no charts: in their place

        # a selection that carries only TCP in the graph (a database, its edges): its TCP charts first,
        # rather than under ten empty request charts; all stay, as the range may reach past the graph's
        chosen = selection_target(graph, ids, direction)[0]
        tcp_only = selection_protocols(graph, chosen, direction) == {"tcp"}
        self._place_charts(tuple(c.key for c in CHARTS if c.tcp == tcp_only)
                           + tuple(c.key for c in CHARTS if c.tcp != tcp_only))

    # -- runtime dashboards ----------------------------------------------------------------------
    def _find_dashboards(self) -> None:
        """Find the selected workload's runtime dashboards when it (its pods, their annotations), the source
        or the configuration changed: at once those its pods name, else on the discovery thread."""
        workload: Workload | AppPods | None = self.workload or self.app_pods
        source, config = self.source, self.dashboards_config()
        # with the dashboards its namespace's and its own dashboards.kiali.io/templates annotations define
        config, self._templates_said = scoped(config, self.namespace_of(workload.namespace), workload) \
            if workload is not None else (config, [])
        key = (id(source), config, None if workload is None else (
            workload.namespace, workload.name, tuple(sorted(workload.labels.items())),
            tuple((p.name, tuple(sorted(p.annotations.items()))) for p in workload.pods)))
        if key == self._dashboards_of:
            return
        self._dashboards_of = key
        if self._discovery is not None:
            self._discovery.cancel()
        if workload is None or source is None:
            self._set_dashboards([], "")
            return
        named = dashboards_for(config, workload, None)
        ask = getattr(self._runtime_source(config), "runtime_metrics", None)
        if named or ask is None or not config.known() or not app_labels(config, workload) \
                or not discovery_allowed(config, len(workload.pods)):
            how = "named by its pods' kiali.io/dashboards annotation" if named else \
                "they are turned off in Settings (custom_dashboards enabled: false)" if not config.known() else \
                "" if discovery_allowed(config, len(workload.pods)) else \
                f"discovery is off for it ({_discovery_said(config, len(workload.pods))})"
            self._set_dashboards(named, how)
            return
        namespace = workload.namespace

        def found(selectors: Sequence[tuple[tuple[str, str], ...]], names: Sequence[str]) -> dict[str, int]:
            return dict(ask(config.namespace_label, namespace, selectors, names))

        self._finding = True
        self.discovery().request(_DashboardFinder(config, workload, found), MetricsTarget.workload(
            workload.namespace, workload.name), MetricsSpec())

    def discovery(self) -> MetricsFetcher:
        """The thread that finds a workload's runtime dashboards (one query to Prometheus each time)."""
        if self._discovery is None:
            self._discovery = MetricsFetcher(self)
            self._discovery.done.connect(self._on_dashboards)
            self._discovery.failed.connect(self._on_dashboards_failed)
        return self._discovery

    def _on_dashboards(self, dashboards: list[Dashboard]) -> None:
        self._set_dashboards(dashboards, "found by their discovery metrics in Prometheus" if dashboards else
                             "Prometheus has no discovery metric of one for its app and version")

    def _on_dashboards_failed(self, error: SourceError) -> None:
        self._dashboards_of = None  # asked again with the next selection or refresh
        self._set_dashboards([], f"finding them failed: {error}")

    def _set_dashboards(self, dashboards: list[Dashboard], how: str) -> None:
        """Offer ``dashboards`` after Inbound, Outbound and Envoy proxy (those no longer found go; a
        dashboard chosen that goes leaves the choice at Inbound)."""
        before = [(d.name, d) for d in self.dashboards]
        self.dashboards = list(dashboards)
        was_finding, self._finding = self._finding, False
        self._direction_tip(how)
        current = str(self.direction.currentData())
        if before == [(d.name, d) for d in dashboards]:
            if was_finding and current.startswith(DASHBOARD):
                self.show_graph_selection(self._graph, self._ids)  # found again: charted for this workload now
            return
        self.direction.blockSignals(True)
        try:
            while self.direction.count() > 3:
                self.direction.removeItem(3)
            for d in dashboards:
                self.direction.addItem(d.title, f"{DASHBOARD}{d.name}")
            index = self.direction.findData(current)
            self.direction.setCurrentIndex(max(0, index))
        finally:
            self.direction.blockSignals(False)
        if current.startswith(DASHBOARD):
            self.show_graph_selection(self._graph, self._ids)  # the same dashboard anew, or Inbound in its place

    def _direction_tip(self, how: str) -> None:
        """The direction choice's tooltip: what its choices chart, and the workload's runtime dashboards or
        how they are found."""
        base = ("Inbound and outbound: the requests into and out of the selection, as its proxies (or its "
                "callers') report them. Envoy proxy: a workload's proxies' own metrics, per pod.")
        if self.dashboards:
            titles = ", ".join(d.title for d in self.dashboards)
            of = "app" if self.workload is None and self.app_pods is not None else "workload"
            said = f"{base}\nRuntime dashboards of this {of}: {titles}" + (f" ({how})" if how else "")
        else:
            said = f"{base}\nNo runtime dashboard for this selection{f' ({how})' if how else ''}. {HOW_FOUND}"
        if self._templates_said:
            said += "\nLeft out: " + "; ".join(self._templates_said)
        self._direction_said = said
        self._direction_state()

    def _direction_state(self) -> None:
        """The direction choice is enabled unless there is no source, or an edge is charted (whose charts
        are its own requests in either direction): then its tooltip says why."""
        self.direction.setEnabled(not self.unavailable and not self._edge_charted)
        self.direction.setToolTip(EDGE_DIRECTION if self._edge_charted else self._direction_said)

    def _show_dashboard(self, graph: TrafficGraph | None, ids: Sequence[str], name: str) -> None:
        """A runtime dashboard of the selected workload: its charts (made when first chosen), split by the
        label chosen in Show by."""
        self._graph, self._ids = graph, list(ids)
        workload: Workload | AppPods | None = (self.workload or self.app_pods) if ids else None
        dashboard = next((d for d in self.dashboards if d.name == name), None)
        if isinstance(workload, AppPods) and dashboard is not None:
            dashboard = for_app(dashboard, workload)  # an app's: split by version too
        config = self.dashboards_config()
        # (a discovered dashboard's: the labels its discovery metric was found under, maybe another scheme's)
        labels = ((dashboard.found_by if dashboard is not None else ()) or app_labels(config, workload)) \
            if workload is not None else ()
        labels = scoped_labels(config, labels) if labels else ()  # (kept to the Prometheus' query_scope)
        of = "app" if isinstance(workload, AppPods) else "workload"
        if self._finding and workload is not None:
            # the dashboard was chosen for the selection before: not asked of this one until it is found to have it
            self._reason = self.no_target_text = f"Finding the runtime dashboards of {of} " \
                f"{workload.namespace}/{workload.name}\u2026"
            self.set_target(None)
            self.title.setText(f"{of} {workload.namespace}/{workload.name}")
            self._show_notice()
            return
        target = MetricsTarget.runtime(config.namespace_label, workload.namespace, workload.name, labels, dashboard,
                                       of) if workload is not None and dashboard is not None and labels else None
        self._reason = "" if target is not None else "Select a workload or an app to chart its runtime dashboards"
        if target is None:
            self.title.setText("No workload or app selected")
        self.no_target_text = self._reason
        keys = self._dashboard_charts(dashboard) if dashboard is not None else ()
        self._show_by_of(dashboard)
        if dashboard != self._dashboard_shown:
            self._dashboard_shown = dashboard
            self._offer_values(None)
        self.set_target(target)
        self._show_notice()
        self._rows = dashboard.rows if dashboard is not None else 0
        self._place_charts(keys)
        self._apply_rows()

    def _dashboard_charts(self, dashboard: Dashboard) -> tuple[str, ...]:
        """The keys of a dashboard's charts, made now if the view's charts are made and these are not (a
        dashboard's charts are made when it is first chosen, not with the traffic charts)."""
        from meshdesk.ui.charts import MetricChart

        out = []
        for chart in dashboard_charts(dashboard):
            out.append(chart.key)
            if self._chart_defs.get(chart.key) == chart:
                continue
            if self._charts is not None and chart.key in self._charts:  # another definition of the same name
                old = self._charts.pop(chart.key)
                self._grid.removeWidget(old)
                old.deleteLater()
                self.chart_order = ()  # laid out again
            self._chart_defs[chart.key] = chart
            if chart.key not in self._chart_keys:
                self._chart_keys += (chart.key,)
            if self._charts is not None:
                made = MetricChart(chart.key, compact=False, colours=self.colours, parent=self, chart=chart)
                made.folded.connect(self._chart_folded)
                made.hide()
                self._charts[chart.key] = made
        return tuple(out)

    def _show_by_of(self, dashboard: Dashboard | None) -> None:
        """Show by offers the dashboard's labels (the one chosen kept when the new dashboard has it too)."""
        chosen = self.show_by.currentData()
        offered = dashboard.aggregations if dashboard is not None else ()
        if [self.show_by.itemData(i) for i in range(1, self.show_by.count())] == [label for label, _ in offered]:
            return
        self.show_by.blockSignals(True)
        try:
            self.show_by.clear()
            self.show_by.addItem("No split", "")
            for label, name in offered:
                self.show_by.addItem(name, label)
            self.show_by.setCurrentIndex(max(0, self.show_by.findData(chosen)))
        finally:
            self.show_by.blockSignals(False)

    def _first_charts(self) -> Sequence[str]:
        # the charts in sight: the Envoy proxy choice's seven are made when it is first chosen (a third
        # of the time the dock's first show spent making charts no one saw)
        return self.chart_order

    def _place_charts(self, order: tuple[str, ...]) -> None:
        """The charts in the grid in ``order``, two to a row, the others out of it (nothing moves when
        the order is the same); those not made yet are made now (when the others are)."""
        if order == self.chart_order:
            return
        self.chart_order = order
        if self._charts is not None:  # (not made yet: laid out in this order when they are)
            if any(k not in self._charts for k in order):
                self._make_charts(order)  # (lays them all out)
                return
            self._lay_out_charts()
            self._order_tabs()  # (a dashboard's charts made since, or the same charts in another order)
            self.chart_stops.restop()

    def _lay_out_charts(self) -> None:
        """The charts in rows of twelfths, as Kiali's dashboards lay them out: each as wide as its ``spans``
        says (the traffic charts, meshdesk's runtime dashboards: half, two to a row; a chart of your own
        without spans: a whole row), one that does not fit in what is left of a row starting the next."""
        charts = self._made()
        for chart in charts.values():
            self._grid.removeWidget(chart)  # (not in the grid yet: nothing happens)
        row = column = 0
        for key in self.chart_order:
            made = self._chart_defs.get(key) or CHARTS_BY_KEY.get(key)
            spans = min(max(made.spans if made is not None else GRID_COLUMNS // self.chart_columns, 1), GRID_COLUMNS)
            if column + spans > GRID_COLUMNS:
                row, column = row + 1, 0
            self._grid.addWidget(charts[key], row, column, 1, spans)
            column += spans
        for key, chart in charts.items():
            chart.setVisible(key in self.chart_order)
        self._apply_rows()

    def _apply_rows(self) -> None:
        """A runtime dashboard's charts as high as its ``rows`` says (Kiali's: that many rows of them fill
        the charts' place, the others scrolled to), but never lower than a chart needs (in a short dock a
        share of the place cut the charts, their time axis hidden below their edge); other charts as high
        as the place allows."""
        charts = self._made()
        height = int((self._scroll.viewport().height() - 8) / self._rows) if self._rows else 0
        for key in self.chart_order:
            chart = charts.get(key)
            if chart is None:
                continue
            # folded to its title (a click opens it), at the top of its row
            self._grid.setAlignment(chart, Qt.AlignmentFlag.AlignTop if chart.collapsed else Qt.AlignmentFlag(0))
            if chart.collapsed:
                chart.setFixedHeight(chart.folded_height())
            elif height and key.startswith(DASHBOARD):
                chart.setFixedHeight(max(height, chart.minimumSizeHint().height()))
            else:
                chart.setMinimumHeight(0)
                chart.setMaximumHeight(_NO_LIMIT)

    def _chart_folded(self) -> None:
        self._apply_rows()  # (folded: its title's height; opened: its row's again)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._wrap_choices()
        if self._rows:
            self._apply_rows()  # (the rows fill the place the charts have now)

    def _wrap_choices(self) -> None:
        """The choices' two halves side by side when both fit at their full widths, else one above the other."""
        first, second = self._choices_halves
        outer = self.layout()
        margins = outer.contentsMargins() if outer is not None else None
        wanted = first.sizeHint().width() + second.sizeHint().width() + self._choices.spacing() \
            + (margins.left() + margins.right() if margins is not None else 0)
        direction = QBoxLayout.Direction.LeftToRight if self.width() >= wanted else QBoxLayout.Direction.TopToBottom
        if self._choices.direction() != direction:
            self._choices.setDirection(direction)
            if outer is not None:
                outer.activate()  # (now: not a moment later with the choices cut meanwhile)

    def _tab_before_charts(self) -> QWidget:
        return self.refresh_button  # (the last of the choices above them)

    def _chart_sequence(self) -> list[MetricChart]:
        order = getattr(self, "chart_order", ())  # (none yet while the charts are made)
        charts = self._made()
        return [charts[k] for k in order] + [c for k, c in charts.items() if k not in order]

    def _unscraped(self, result: MetricsResult) -> None:
        if result.target.kind != KIND_PROXY:
            if result.target.dashboard is None and result.target.kind != KIND_EDGE:
                # a node's traffic in a direction it has none (an app that calls nothing, the ingress
                # gateway's inbound): why, once, in place of a dozen charts each saying "No data"
                self._reason = self._quiet_direction(result)
                self._show_notice()
            return
        empty = not any(c.key in result.errors or result.chart_lines(c.key) for c in PROXY_CHARTS)
        others = any(math.isfinite(v) and v > 0 for line in result.chart_lines(PROXY_SCRAPED) for v in line.values)
        self._reason = proxy_metrics_missing(result.target, others) if empty else ""
        self._show_notice()

    def _quiet_direction(self, result: MetricsResult) -> str:
        """Why a node's charts in this direction are all empty, when the graph shows no traffic that way
        either ("" when any chart has data, a query failed or was partial, or the graph has such traffic)."""
        if result.errors or result.warnings or any(math.isfinite(v) for lines in result.lines.values()
                                                   for line in lines for v in line.values):
            return ""
        graph, direction = self._graph, result.target.direction
        chosen = selection_target(graph, self._ids, direction)[0]
        if graph is None or chosen is None or chosen not in graph.nodes:
            return ""
        members = {chosen} | _inside(graph, chosen)
        if any(True for m in members for _ in (graph.in_edges(m) if direction == INBOUND else graph.out_edges(m))):
            return ""
        span = duration_text(int(self.range.currentData()))  # in a sentence: "over the 30 min charted"
        if direction == OUTBOUND:
            return (f"No requests went out of {result.target.title.removesuffix(' (outbound)')} over the {span} charted, and "
                    "the graph shows none either (no edge leaves it): there is nothing to chart. Choose Inbound for "
                    "the requests it received.")
        return (f"No requests came into {result.target.title.removesuffix(' (inbound)')} over the {span} charted, and the "
                "graph shows none either (no edge reaches it): there is nothing to chart. Choose Outbound for the "
                "requests it sent.")

    def _no_data_text(self, result: MetricsResult, key: str) -> str:
        dashboard = result.target.dashboard
        mine = {dashboard.chart_key(i): c for i, c in enumerate(dashboard.charts)} if dashboard is not None else {}
        chart = mine.get(key)
        if chart is not None and dashboard is not None:  # (another dashboard's charts, out of sight, are not this answer's)
            names = ", ".join(m for m, _ in chart.metrics)
            # (an app box's dashboards are of every pod of the app, not of one workload)
            of = "app" if result.target.title.startswith(f"{dashboard.title} of app ") else "workload"
            return f"No data: Prometheus has no {names} of this {of}'s pods in this range"
        # the proxies are scraped (another of their charts has data), yet this statistic is not there:
        # Istio's proxies keep only some of Envoy's statistics unless told otherwise
        if result.target.kind == KIND_PROXY and any(result.chart_lines(c.key) for c in PROXY_CHARTS):
            return PROXY_STATS_NOT_KEPT
        return super()._no_data_text(result, key)

    def _chart_note(self, result: MetricsResult, key: str) -> str:
        # upstream charts of proxies that report no cluster but the one to istiod: that is all they show
        if result.target.kind != KIND_PROXY or key not in _UPSTREAM_CHARTS or PROXY_OTHER_CLUSTERS not in result.lines \
                or PROXY_OTHER_CLUSTERS in result.errors:
            return super()._chart_note(result, key)
        others = any(math.isfinite(v) and v > 0 for line in result.chart_lines(PROXY_OTHER_CLUSTERS) for v in line.values)
        return "" if others else PROXY_ISTIOD_ONLY

    def _busy_changed(self, busy: bool) -> None:
        """Loading is said until the first answer, and while the lines shown are of another range, step,
        split or moment than the choices now say (the demo's 6 hours at 15 s took 15 s, the old range's
        lines shown under the new choice without a word); not over a poll's data. Also while the charts
        still show the last selection's lines, until the new one's are drawn over them."""
        shown, asked = self.last_result, self.spec()
        other = shown is None or (shown.spec.range_s, shown.spec.step_s, shown.spec.split, shown.spec.end) != \
            (asked.range_s, asked.step_s, asked.split, asked.end)
        self.loading.setVisible((busy and other) or self.replacing)

    def _replacing_changed(self) -> None:
        self._busy_changed(self.fetcher.busy)

    def _reporter_changed(self) -> None:
        self._set_selection_target(self._made_target)  # (the same selection: its target as made, reported anew)

    def _direction_changed(self) -> None:
        if self._graph is not None or self._ids:
            self.show_graph_selection(self._graph, self._ids)

    # -- one value at a time (a dashboard's singleSelection) ------------------------------------------
    def _single_label(self) -> str:
        """The label the charts are split by when the dashboard shows its lines one value at a time ("": not)."""
        label = str(self.show_by.currentData() or "") if self.show_by.isVisibleTo(self) else ""
        dashboard = self._dashboard_shown
        return label if dashboard is not None and label in dashboard.single_selection else ""

    def _offer_values(self, result: MetricsResult | None) -> None:
        """The values of the single-selection label split by in ``result`` (None: none yet), in the order met,
        offered one at a time: the one chosen kept while it is there, else the first (as Kiali checks the first)."""
        label = self._single_label()
        values: list[str] = []
        if label and result is not None:
            met = {v: None for lines in result.lines.values() for line in lines for k, v in line.by if k == label}
            values = list(met)
        chosen = self.show_value.currentData()
        if [self.show_value.itemData(i) for i in range(self.show_value.count())] != values:
            self.show_value.blockSignals(True)
            try:
                self.show_value.clear()
                for value in values:
                    self.show_value.addItem(value or f"(no {label})", value)
                self.show_value.setCurrentIndex(max(0, self.show_value.findData(chosen)) if values else -1)
            finally:
                self.show_value.blockSignals(False)
        name = dict(self._dashboard_shown.aggregations).get(label, label) if self._dashboard_shown else label
        self.show_value.setToolTip(f"{name}: the charts show one at a time (the dashboard's singleSelection)")
        self.show_value.setVisible(bool(label))
        self.show_value.setEnabled(bool(values))

    def _on_result(self, result: MetricsResult) -> None:
        if result.target == self.target:
            self._offer_values(result)
        super()._on_result(result)

    def _lines_shown(self, key: str, lines: list[Line]) -> list[Line]:
        label = self._single_label()
        if not label or self.show_value.currentIndex() < 0:
            return lines
        value = self.show_value.currentData()
        return [line for line in lines if dict(line.by).get(label, value) == value]

    def _value_chosen(self) -> None:
        """Another value of the single-selection label: the same answer drawn again with its lines alone."""
        if self.last_result is not None and self.last_result.target == self.target:
            self._start_drawing(self.last_result, 0.0)

    def _spec_changed(self) -> None:
        self.fetcher.cancel()
        self.chart_good_at.clear()  # what the charts show is of the old range, step or split
        for c in self._made().values():
            c.reset_view()  # a new range: follow the data again
        self.refresh()


class _DashboardFinder:
    """A workload's runtime dashboards found on the discovery thread (a ``MetricsFetcher``'s source):
    ``dashboards_for`` with one query to Prometheus for every dashboard's discovery metric."""

    def __init__(self, config: DashboardsConfig, workload: Workload | AppPods,
                 ask: Ask) -> None:
        self.config, self.workload, self.ask = config, workload, ask

    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> list[Dashboard]:
        if cancelled is not None and cancelled():
            raise Cancelled("finding runtime dashboards cancelled")
        return dashboards_for(self.config, self.workload, self.ask)


def _discovery_said(config: DashboardsConfig, pods: int) -> str:
    """Why discovery is not made for a workload of ``pods`` pods, in the configuration's words."""
    if config.discovery == DISCOVERY_OFF:
        return "discovery_enabled: false"
    return f"{pods} pods, more than discovery_auto_threshold {config.auto_threshold}"


def _entry_without_charts(graph: TrafficGraph | None, ids: Sequence[str], direction: str) -> tuple[str, str] | None:
    """(name, reason) for a selected ServiceEntry node that has no charts in this direction: it sends
    nothing of its own, or the graph matched no host of it to telemetry."""
    node = next((graph.nodes[i] for i in ids if graph is not None and i in graph.nodes
                 and graph.nodes[i].is_service_entry is not None), None)
    if node is None or node.is_service_entry is None:
        return None
    info = node.is_service_entry
    name = f"ServiceEntry {info.namespace or node.namespace}/{info.name or node.service}"
    if direction == OUTBOUND:
        why = ("A ServiceEntry has no outbound traffic of its own: choose Inbound for the requests to its hosts, "
               "or select the workloads calling it")
    else:
        why = "No request to a host of this ServiceEntry is in the graph, so there is nothing to chart"
    return name, why


def _sends_nothing(graph: TrafficGraph | None, ids: Sequence[str], direction: str) -> tuple[str, str] | None:
    """(name, reason) for a selected service or operation node in the outbound direction: requests go
    into them, they send nothing of their own (as in Kiali, whose service and operation charts are
    inbound only). Said once in the charts' place, not "Select a workload, app, service, ..." on each
    chart beside a selected service."""
    if direction != OUTBOUND:
        return None
    node = next((graph.nodes[i] for i in ids if graph is not None and i in graph.nodes), None)
    if node is not None and node.node_type == NODE_AGGREGATE:
        name = f"operation {node.namespace}/{node.aggregate_value}" + (f" of service {node.service}"
                                                                       if node.service else "")
        return name, ("An operation has no outbound traffic of its own: choose Inbound for the requests carrying "
                      "it, or select the workloads that send them")
    if node is not None and node.node_type == NODE_SERVICE and node.is_service_entry is None:
        return (f"service {node.namespace}/{node.service}",
                "A service has no outbound traffic of its own: choose Inbound, or select the workloads behind it")
    return None


def selection_protocols(graph: TrafficGraph | None, chosen: str | None, direction: str) -> set[str]:
    """The protocols the chosen node, box or edge carries in the graph: an edge's own; a node's (a box's
    members') edges in ``direction``, or in either direction when it has none that way. Empty: unknown."""
    if graph is None or chosen is None:
        return set()
    edge = graph.edges.get(chosen)
    if edge is not None:
        return {edge.protocol}
    members = {chosen} | (_inside(graph, chosen) if chosen in graph.nodes else set())
    # the members' own edges (a big mesh's every edge was looked at, twice, at each selection)
    ins = {e.protocol for m in members for e in graph.in_edges(m)}
    outs = {e.protocol for m in members for e in graph.out_edges(m)}
    return (ins if direction == INBOUND else outs) or (ins | outs)


def _inside(graph: TrafficGraph, box_id: str) -> set[str]:
    """The ids of the nodes in a box, and in the boxes inside it (empty for a node that is no box)."""
    children: dict[str, list[str]] = {}
    for n in graph.nodes.values():
        if n.parent:
            children.setdefault(n.parent, []).append(n.id)
    out: set[str] = set()
    todo = list(children.get(box_id, []))
    while todo:
        i = todo.pop()
        if i not in out:
            out.add(i)
            todo += children.get(i, [])
    return out


class SparklinePanel(_ChartsController):
    """A few small charts (volume, error share, duration, TCP) for the details dock; only those of the
    protocols the selection carries in the graph (an HTTP edge has no TCP bytes, a database's node
    no requests). A node's charts are of its inbound traffic, or of its outbound traffic when nothing
    comes into it in the graph (a gateway, a traffic source); a line above them says which."""

    def __init__(self, source: Any = None, *, range_s: int = 600, step_s: int = 30, poll_ms: int = 15000,
                 parent: QWidget | None = None) -> None:
        super().__init__(source, SPARKLINE_CHARTS, compact=True, poll_ms=poll_ms, parent=parent)
        self.range_s, self.step_s = range_s, step_s
        self.shown_charts: tuple[str, ...] = SPARKLINE_CHARTS
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.direction_label = QLabel()
        self.direction_label.setProperty("role", "hint")
        self.direction_label.hide()
        layout.addWidget(self.direction_label)
        self._layout = layout
        # the last selection's lines kept while the new one's are asked, their titles greyed meanwhile
        self.keep_while_loading_s = 0.3

    def _lay_out_charts(self) -> None:
        for key, c in self._made().items():
            self._layout.addWidget(c, 1)  # the strip's height is shared alike, whichever chart has data
            c.setVisible(key in self.shown_charts)
            c.title.setEnabled(not self.replacing)

    def _replacing_changed(self) -> None:
        # (a disabled label is drawn grey: the lines under it are the last selection's, being replaced; the
        # details panel's own title names the new one at once)
        for c in self._made().values():
            c.title.setEnabled(not self.replacing)

    def spec(self) -> MetricsSpec:
        return MetricsSpec(range_s=self.range_s, step_s=self.step_s, charts=self.shown_charts, end=self.end)

    def show_graph_selection(self, graph: TrafficGraph | None, ids: Sequence[str], direction: str = "") -> None:
        """``direction`` "" lets the graph decide: inbound, or outbound for a node nothing comes into."""
        self._graph, self._ids = graph, list(ids)
        chosen, target = selection_target(graph, ids, direction or INBOUND)
        # a node's edges, or a box's: those of the nodes in it, inner boxes' too (no edge ends at a box)
        members = {chosen} | (_inside(graph, chosen) if graph is not None and chosen in graph.nodes else set())
        if not direction:
            direction = INBOUND
            if graph is not None and chosen in graph.nodes:
                edges = graph.edges.values()
                if not any(e.target in members for e in edges) and any(e.source in members for e in edges):
                    out = selection_target(graph, ids, OUTBOUND)
                    if out[1] is not None:
                        direction, (chosen, target) = OUTBOUND, out
        protocols = selection_protocols(graph, chosen, direction)
        is_node = graph is not None and chosen is not None and chosen in graph.nodes
        said = "Outbound traffic" if direction == OUTBOUND else "Inbound traffic"
        if graph is not None and chosen is not None:
            # a node outside the graph's namespaces: its traffic with them, what its edges carry (as
            # Kiali's side panel); it drew all the node's traffic, a number the graph shows nowhere
            kept = with_graph_namespaces(graph, chosen, target)
            if kept is not target:
                target, said = kept, f"{said} {graph_namespaces_said(graph, direction)}"
        self.direction_label.setText(said)
        self.direction_label.setVisible(is_node)
        tcp, requests = "tcp" in protocols, bool(protocols - {"tcp"})
        shown = tuple(k for k in SPARKLINE_CHARTS if not protocols or (tcp if k.startswith("tcp") else requests))
        if shown != self.shown_charts:
            self.shown_charts = shown
            # fetch again, for the charts now shown; and let go of the last target's lines at once, or a
            # selection without charts (the unknown node) would keep them under its own reason
            self.fetcher.cancel()
            self.target = None
            self._clear()
        for key, chart in self._made().items():
            chart.setVisible(key in shown)
        self.no_target_text = "" if target is not None else selection_reason(graph, ids)
        self.set_target(target)
