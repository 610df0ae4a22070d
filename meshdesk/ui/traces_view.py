"""The Traces dock: distributed traces of the selected app, workload or service, as Kiali's Traces tab.

A scatter chart of the traces found (start time across, duration up, failed ones red), the same traces
as a sortable table, and the trace chosen in either: its spans as a tree in call order, each with where
it was reported (app, version, pod), its kind, when it started after the trace began, how long it took
(drawn as a bar on the trace's timeline), what it asked and got (``GET /reviews/0 -> 503 flags UO``), and
the chosen span's tags. "Show in graph" selects the nodes the trace went through.

Traces are read from a ``TraceSource`` (``meshdesk.mesh.traces``: the demo, or a Jaeger/Tempo query API)
on a worker thread, only while the dock is shown; a newer request drops an older answer. A trace the
search only outlined (Tempo's: the target's spans that matched) is listed as such, and read whole, on a
thread of its own, when it is chosen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, QThread, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QGuiApplication, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.gcpause import paused_gc
from meshdesk.mesh.span_stats import FULL_SCALE_MS, STATS, STATS_INTERVALS, SpanComparison, diff_text
from meshdesk.mesh.traces import (
    DEFAULT_LIMIT,
    LIMITS,
    TARGET_SERVICE,
    TARGET_WORKLOAD,
    Span,
    Trace,
    TraceOutline,
    TraceQuery,
    TraceSet,
    TraceTarget,
    against_similar,
    duration_text,
    parse_tags,
    stats,
    tags_text,
    trace_duration_text,
)
from meshdesk.sources.base import SourceError
from meshdesk.ui.envoy_view import _start_worker
from meshdesk.ui.labels import ElidedLabel, let_narrow
from meshdesk.ui.theme import readable

if TYPE_CHECKING:
    from meshdesk.ui.traces_chart import DurationChart as _DurationChart

log = logging.getLogger(__name__)

# how far back traces are looked for
# in the words of the toolbar's time window ("Last 10m"): "Last 15 minutes" was another way of saying it, and
# cut short in a small window's dock
WINDOWS = (("Last 5m", 300), ("Last 15m", 900), ("Last 1h", 3600), ("Last 6h", 21600), ("Last 1d", 86400))
DEFAULT_WINDOW = 900
ERROR_COLOUR = "#c9190b"
OK_COLOUR = "#0066cc"

# the spans tree's columns
COL_OPERATION, COL_WHERE, COL_DURATION, COL_TIMELINE, COL_SUMMARY, COL_KIND, COL_OFFSET = range(7)
SPAN_COLUMNS = ("Operation", "Reported by", "Duration", "Timeline", "Request", "Kind", "Starts after")
# the traces table's columns
TRACE_COLUMNS = ("Started", "Trace", "Duration", "Spans", "Errors")
_SPAN_ROLE = Qt.ItemDataRole.UserRole + 1
_SORT_ROLE = Qt.ItemDataRole.UserRole + 2


def where_text(span: Span) -> str:
    """Where a span was reported, as a person names it: ``reviews v2 (reviews-v2-…-xk2p)``."""
    node = span.node
    who = " ".join(p for p in (node.app, node.version) if p) or span.service or "unknown"
    if node.pod:
        who += f" ({node.pod})"
    # a waypoint's span: the ambient workloads it passed the request between (they report nothing)
    src, dst = span.tags.get("istio.source_workload", ""), span.tags.get("istio.destination_workload", "")
    if src or dst:
        who += f": {src or '?'} -> {dst or '?'}"
    return who


def span_count_text(trace: Trace) -> str:
    """How many spans a trace has; of one a search only outlined, how many of them matched (``4 matched``)."""
    return f"{trace.span_count} matched" if trace.partial else str(trace.span_count)


def partial_text(trace: Trace) -> str:
    """Why an outlined trace's numbers are not its whole trace's (a tooltip); "" for a trace read whole."""
    if trace.outline is None:
        return ""
    return ("As the tracing backend's search outlined this trace: its duration to the millisecond; its spans "
            "and errors are those of the spans the search matched. Choose it to read it whole.")


def started_text(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6).strftime("%H:%M:%S.%f")[:-3]


def _clear_tree(tree: QTreeWidget) -> None:
    """Empty a tree quickly when it nests deep: its items are first taken out of the view at once, then
    each one's children, deepest first, outside it. Qt's ``clear()`` of a long parent-child chain (a
    trace of thousands of nested spans) took 1.5 s at 5,000 levels, this 0.2 s."""
    tops = tree.invisibleRootItem().takeChildren()
    nested: list[QTreeWidgetItem] = []
    stack: list[QTreeWidgetItem | None] = list(tops)
    while stack:
        item = stack.pop()
        if item is not None and item.childCount():
            nested.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
    for item in reversed(nested):  # children taken out before their parents
        item.takeChildren()


def _diff_colour(diff_ms: float) -> QColor:
    """A comparison cell's colour: green when the request was faster, red when slower, stronger the
    further off (fully at ``FULL_SCALE_MS``), pale near no difference."""
    share = min(1.0, abs(diff_ms) / FULL_SCALE_MS)
    base = QColor("#3e8635") if diff_ms < 0 else QColor(ERROR_COLOUR)
    base.setAlpha(int(40 + 150 * share))
    return base


class _NumberItem(QTableWidgetItem):
    """A table cell sorted by the number behind its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
            return mine < theirs
        return super().__lt__(other)


class TimelineDelegate(QStyledItemDelegate):
    """Draws a span's place on its trace's timeline: a bar from its start to its end, red when it failed."""

    def __init__(self, view: TracesView) -> None:
        super().__init__(view)
        self.view = view

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        trace = self.view.trace
        model = index.model()
        span = model.index(index.row(), 0, index.parent()).data(_SPAN_ROLE) if model is not None else None
        if trace is None or not isinstance(span, Span) or trace.duration_us <= 0:
            return
        rect = QRectF(option.rect).adjusted(2, 4, -2, -4)
        total = trace.duration_us
        left = rect.left() + rect.width() * (span.start_us - trace.start_us) / total
        width = max(2.0, rect.width() * span.duration_us / total)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(ERROR_COLOUR if span.error else OK_COLOUR))
        painter.drawRoundedRect(QRectF(left, rect.top(), min(width, rect.right() - left), rect.height()), 2, 2)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 160), hint.height())


class TracesView(QWidget):
    loaded = Signal(object)  # the TraceSet shown
    failed = Signal(str)
    traceShown = Signal(object)  # the Trace whose spans are shown
    graphRequested = Signal(object)  # the Trace to select in the graph
    statsShown = Signal(object)  # the chosen span's SpanComparison, or why it has none (text)
    _job = Signal(object)
    _stats_job = Signal(object)
    _open_job = Signal(object)

    def __init__(self, source: Any = None, parent: QWidget | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``clock``: this machine's clock (unix seconds), where a live window ends for a source without a
        clock of its own (a test gives one that is off)."""
        super().__init__(parent)
        self.source: Any = source
        self._clock = clock
        self.unavailable = ""
        self.target: TraceTarget | None = None
        self.why_none = ""  # why the selection has no traces (an edge, a box ...)
        self.hint = ""  # what to say when the target has none (a TCP-only service)
        self.found: TraceSet | None = None
        self.trace: Trace | None = None
        self.end: float = 0.0  # 0: now; else the replayed moment the window ends at
        # rows of what the graph says of a span's hop (set by the performance views, which have the graph)
        self.hop_rows: Callable[[Trace, Span], list[tuple[str, str]]] | None = None
        # how a span is compared with the metrics: a job to run on a worker thread (returning its
        # SpanComparison), or None and why not (set by the performance views, which have the metrics)
        self.span_stats: Callable[[Trace, Span], tuple[Callable[[], SpanComparison] | None, str]] | None = None
        self._stats_generation = 0
        self._generation = 0
        self._stale = True
        self._thread: QThread
        self._thread, self._worker = _start_worker("meshdesk-traces", self._job, self._done, self._failed)
        self._stats_thread, self._stats_worker = _start_worker("meshdesk-span-stats", self._stats_job,
                                                               self._stats_done, self._stats_failed)
        # a trace the search only outlined (Tempo's: the spans that matched) is read whole when it is chosen
        self._open_generation = 0
        self._open_thread, self._open_worker = _start_worker("meshdesk-trace-open", self._open_job,
                                                             self._opened, self._open_failed)
        # the traces read whole, by id, with the outline the search gave when they were read: while a new
        # search outlines one alike, the whole one stands in for it
        self._whole: dict[str, tuple[TraceOutline | None, Trace]] = {}

        self.title = ElidedLabel()  # "Traces of workload shop/reviews-v2": cut rather than widening the window
        self.title.setObjectName("tracesTitle")
        self.window_box = QComboBox()
        self.window_box.setAccessibleName("Time window")
        for text, seconds in WINDOWS:
            self.window_box.addItem(text, seconds)
        self.window_box.setCurrentIndex([s for _t, s in WINDOWS].index(DEFAULT_WINDOW))
        self.limit_box = QComboBox()
        self.limit_box.setAccessibleName("Most traces")
        for n in LIMITS:
            self.limit_box.addItem(f"{n} traces", n)
        self.limit_box.setCurrentIndex(LIMITS.index(DEFAULT_LIMIT))
        self.limit_box.setToolTip("The most traces asked of the tracing backend")
        self.min_duration = QSpinBox()
        self.min_duration.setAccessibleName("Minimum span duration")
        self.min_duration.setRange(0, 3_600_000)
        self.min_duration.setSuffix(" ms")
        self.min_duration.setPrefix("≥ ")
        self.min_duration.setToolTip("Only traces with a span of the target at least this long (0: any)")
        self.errors_only = QCheckBox("Errors only")
        self.errors_only.setToolTip("Only traces in which a span of the target failed")
        # tags a span of the target carries, as Kiali's traces tab takes them; searched with Return (or
        # at the next search: a refresh, another filter)
        self.tag_filter = QLineEdit()
        self.tag_filter.setAccessibleName("Tags")
        self.tag_filter.setObjectName("tracesTags")
        self.tag_filter.setPlaceholderText("Tags: error=true http.status_code=500")
        self.tag_filter.setClearButtonEnabled(True)
        self.tag_filter.setToolTip("Only traces with a span of the target carrying these tags: KEY=VALUE pairs "
                                   "apart by spaces, all of them on one span (its own tags or its process's). "
                                   "Return searches.")
        let_narrow(self.window_box, self.limit_box)
        # as wide as its example where there is room (stretched, below); where there is not (the dock under the
        # graph of a 1024-pixel-wide window) it gives way first: the chosen window and limit were cut instead, to
        # "Last 15" and "100 tra"
        let_narrow(self.tag_filter, width=80)
        policy = self.tag_filter.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.tag_filter.setSizePolicy(policy)
        # and the duration's field, as wide as an hour in milliseconds, may be as narrow as its usual values need
        policy = self.min_duration.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Preferred)
        self.min_duration.setSizePolicy(policy)
        self.tag_problem = QLabel()
        self.tag_problem.setObjectName("tracesTagsProblem")
        self.tag_problem.setWordWrap(True)
        self.tag_problem.setTextFormat(Qt.TextFormat.PlainText)
        self.tag_problem.setProperty("role", "error")  # the theme's: the fixed red read 3:1 on the dark one
        self.tag_problem.setAlignment(Qt.AlignmentFlag.AlignRight)  # under the field
        self.tag_problem.hide()
        self.refresh = QPushButton("Refresh")
        for w in (self.window_box, self.limit_box):
            w.currentIndexChanged.connect(self.load)
        # a step of its arrows (or the wheel) searches at once, typed digits when done (Return, or leaving
        # it): editingFinished alone left the arrows' value shown over traces not narrowed by it
        self.min_duration.setKeyboardTracking(False)
        self.min_duration.valueChanged.connect(self.load)
        self.errors_only.toggled.connect(self.load)
        self.tag_filter.returnPressed.connect(self.load)
        self.tag_filter.textChanged.connect(self._check_tags)
        self.refresh.clicked.connect(self._refresh_clicked)
        # the title on a line of its own, as the Metrics dock's: beside the controls it was cut short in a
        # window the width of a laptop screen (or made the window wider than the screen)
        controls = QHBoxLayout()
        control: QWidget
        for control in (self.window_box, self.limit_box, self.min_duration, self.errors_only):
            controls.addWidget(control)
        controls.addWidget(self.tag_filter, 1)
        controls.addWidget(self.refresh)

        self.note = QLabel()
        self.note.setObjectName("tracesNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)

        # the chart of durations is made when the view is first shown (or ``plot`` read): pyqtgraph, and
        # numpy with it, took most of a second of the window's start for a dock not shown; until then
        # what it would show is kept (the traces' points, the chosen one)
        self._plot_host = QWidget()
        self._plot_host.setMinimumHeight(120)
        self._plot_layout = QVBoxLayout(self._plot_host)
        self._plot_layout.setContentsMargins(0, 0, 0, 0)
        self._chart: _DurationChart | None = None
        self._points: tuple[list[float], list[float], list[bool], list[str]] = ([], [], [], [])
        self._chosen_at: tuple[float, float] | None = None

        self.table = QTableWidget(0, len(TRACE_COLUMNS))
        self.table.setAccessibleName("Traces")
        self.table.setObjectName("tracesTable")
        self.table.setHorizontalHeaderLabels(TRACE_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.table.itemSelectionChanged.connect(self._row_chosen)

        self.detail_title = QLabel("Choose a trace in the chart or the table to see its spans")
        self.detail_title.setObjectName("traceDetail")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_in_graph = QPushButton("Show in graph")
        self.show_in_graph.setToolTip("Select the graph's nodes this trace went through")
        self.show_in_graph.clicked.connect(lambda: self.trace is not None and self.graphRequested.emit(self.trace))
        self.copy_id = QPushButton("Copy trace ID")
        self.copy_id.clicked.connect(self._copy_id)
        self.spans = QTreeWidget()
        self.spans.setAccessibleName("Spans")
        self.spans.setObjectName("traceSpans")
        self.spans.setColumnCount(len(SPAN_COLUMNS))
        self.spans.setHeaderLabels(SPAN_COLUMNS)
        self.spans.setItemDelegateForColumn(COL_TIMELINE, TimelineDelegate(self))
        self.spans.setAlternatingRowColors(True)
        self.spans.currentItemChanged.connect(self._span_chosen)
        self.tags = QTableWidget(0, 2)
        self.tags.setAccessibleName("Span tags")
        self.tags.setObjectName("spanTags")
        self.tags.setHorizontalHeaderLabels(("Tag", "Value"))
        self.tags.verticalHeader().hide()
        self.tags.setWordWrap(False)
        self.tags.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tags.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tags.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)

        # the chosen span against its workload's metrics (Kiali's comparison map)
        self.stats_title = QLabel()
        self.stats_title.setObjectName("spanStatsTitle")
        self.stats_title.setWordWrap(True)
        self.stats_title.setTextFormat(Qt.TextFormat.PlainText)
        self.stats_map = QTableWidget(len(STATS_INTERVALS), len(STATS))
        self.stats_map.setAccessibleName("Span against its workload")
        self.stats_map.setObjectName("spanStats")
        self.stats_map.setHorizontalHeaderLabels(STATS)
        self.stats_map.setVerticalHeaderLabels([f"last {label}" for label, _s in STATS_INTERVALS])
        self.stats_map.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stats_map.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)
        self.stats_map.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.stats_map.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.stats_map.setToolTip("How much slower (+) or faster (-) this request was, in ms, than the requests "
                                  "of its workload over each window")
        stats_box = QWidget()
        stats_layout = QVBoxLayout(stats_box)
        stats_layout.setContentsMargins(0, 0, 0, 0)
        stats_layout.addWidget(self.stats_title)
        stats_layout.addWidget(self.stats_map)
        stats_layout.addStretch(1)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.detail_title, 1)
        head.addWidget(self.show_in_graph)
        head.addWidget(self.copy_id)
        detail_layout.addLayout(head)
        span_split = QSplitter(Qt.Orientation.Vertical)
        span_split.addWidget(self.spans)
        # the span's tags, and beside them how it compares with the metrics
        span_about = QSplitter(Qt.Orientation.Horizontal)
        span_about.addWidget(self.tags)
        span_about.addWidget(stats_box)
        span_about.setStretchFactor(0, 3)
        span_about.setStretchFactor(1, 2)
        span_split.addWidget(span_about)
        span_split.setStretchFactor(0, 3)
        span_split.setStretchFactor(1, 2)
        detail_layout.addWidget(span_split, 1)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self._plot_host)
        left.addWidget(self.table)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(detail)
        main.setStretchFactor(0, 2)
        main.setStretchFactor(1, 3)
        main.setSizes([500, 750])
        rows = self.fontMetrics().height() + 8
        for table in (self.table, self.tags, self.stats_map):
            table.verticalHeader().setDefaultSectionSize(rows)
        self.stats_map.setFixedHeight(self.stats_map.horizontalHeader().sizeHint().height()
                                      + rows * len(STATS_INTERVALS) + 4)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(self.tag_problem)
        layout.addWidget(self.note)
        layout.addWidget(main, 1)
        self._show_trace(None)
        self._say_nothing()

    # -- public ---------------------------------------------------------------------------------
    def set_source(self, source: Any, *, unavailable: str = "") -> None:
        """``unavailable``: why there is no source (an offline snapshot; no tracing backend found)."""
        self.source = source
        self.unavailable = unavailable if source is None else ""
        self._forget()
        self._changed()

    def set_target(self, target: TraceTarget | None, why: str = "", hint: str = "") -> None:
        """Whose traces to show; None with ``why`` when the selection has none (an edge, a box). ``hint``:
        what to say when it has no traces (a TCP-only service: Istio makes no spans of TCP traffic)."""
        self.hint = hint
        if target == self.target and (target is not None or why == self.why_none):
            return
        self.target, self.why_none = target, why
        self._forget()
        self._changed()

    def set_end(self, end: float) -> None:
        """The window ends at ``end`` (unix seconds; 0: now), as the replayed graph does."""
        if end != self.end:
            self.end = end
            self._changed()

    def query(self) -> TraceQuery | None:
        if self.target is None:
            return None
        clock = getattr(self.source, "now", None)  # a source with a clock of its own (the demo's)
        end = self.end or float(clock() if callable(clock) else self._clock())
        seconds = int(self.window_box.currentData() or DEFAULT_WINDOW)
        tags, _problem = self._tags()
        return TraceQuery(self.target, end - seconds, end, int(self.limit_box.currentData() or DEFAULT_LIMIT),
                          float(self.min_duration.value()), self.errors_only.isChecked(), tags)

    def _tags(self) -> tuple[tuple[tuple[str, str], ...], str]:
        """The tags typed, and what is wrong with them ("" when nothing)."""
        try:
            tags = parse_tags(self.tag_filter.text())
        except ValueError as e:
            return (), str(e)
        wrong = next((v for k, v in tags if k == "error" and v != "true"), None)
        if self.errors_only.isChecked() and wrong is not None:
            return (), f"Errors only asks for error=true: it cannot go with error={wrong}"
        return tags, ""

    @Slot()
    def _check_tags(self) -> str:
        """Say at once what is wrong with the tags typed (nothing is searched until Return); that, or ""."""
        _tags, problem = self._tags()
        self.tag_problem.setText(f"Tags: {problem}" if problem else "")
        self.tag_problem.setVisible(bool(problem))
        return problem

    @Slot()
    def load(self) -> None:
        """Ask the source for the target's traces again (on the worker thread)."""
        self._generation += 1
        self._worker.generation = self._generation
        self._stale = False
        query = self.query()
        if self.source is None or query is None:
            self._say_nothing()
            return
        problem = self._check_tags()
        if problem:  # nothing is asked with tags that are not what was meant
            self.note.setText("Not searched: the tags are not understood (see under the field)"
                              + ("; the traces shown are those of the last search." if self.found is not None else "."))
            return
        source = self.source
        self.note.setText(f"Reading the traces of {query.target.title()}…")
        worker, generation = self._worker, self._generation

        def left_behind() -> bool:
            # another load began (another target, filters, a refresh): this one's answer would be dropped, so
            # the fetches not yet begun are not made (Tempo's: one request a trace)
            return worker.generation != generation

        def read() -> TraceSet:
            # tens of thousands of spans are made and all kept: the collector's passes over them would
            # find nothing to free, and hold every thread up (the UI's too) while they walk them
            with paused_gc():
                return source.find_traces(query, left_behind).prepared()

        self._job.emit((self._generation, read))

    def _refresh_clicked(self) -> None:
        """The user asked to read again: a source that stopped looking for its backend for a while (none
        was found) looks again now."""
        look_again = getattr(self.source, "look_again", None)
        if callable(look_again):
            look_again()
        self.load()

    def poll(self) -> None:
        """The graph was refreshed: read the traces again when they are in view and live (a replayed
        window does not move), keeping the trace and span chosen when the answer still has them."""
        if self.isVisible() and not self.end and self.source is not None and self.target is not None:
            self.load()

    def choose(self, trace_id: str) -> bool:
        """Show the spans of the trace ``trace_id`` among those found (and select its row)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(_SPAN_ROLE) == trace_id:
                self.table.selectRow(row)
                self._row_chosen()  # the row may have been selected already (no signal): show it as it is now
                return True
        return False

    def shutdown(self) -> None:
        self._generation += 1
        self._worker.generation = self._generation
        self._stats_generation += 1
        self._stats_worker.generation = self._stats_generation
        self._open_generation += 1
        self._open_worker.generation = self._open_generation
        for thread in (self._thread, self._stats_thread, self._open_thread):
            thread.quit()
        for thread in (self._thread, self._stats_thread, self._open_thread):
            thread.wait(30000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        if self._chart is None:
            self._make_chart()  # first shown: the chart is needed now
        super().showEvent(event)
        if self._stale:
            self.load()

    # -- internals ------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.load()
        else:
            # a search under way is of what was chosen before (another source, target or window): its answer
            # is dropped, and the search told it is not wanted (it is asked again when the dock is shown)
            self._generation += 1
            self._worker.generation = self._generation
            self._say_nothing(quiet=True)

    def _forget(self) -> None:
        self.found = None
        self._whole.clear()
        self._points = ([], [], [], [])
        self._draw_points()
        self.table.setRowCount(0)
        self._show_trace(None)

    def _say_nothing(self, quiet: bool = False) -> None:
        target = self.target
        self.title.setText(f"Traces of {target.title()}" if target is not None else "Traces")
        if self.source is None:
            self._forget()
            self.note.setText(self.unavailable or "No tracing backend: traces are not available for this mesh")
        elif target is None:
            self._forget()
            self.note.setText(self.why_none or "Select an app, a workload or a service (a node of the graph) "
                              "to see its traces")
        elif quiet and self.found is None:
            self.note.setText("")

    def _done(self, generation: int, found: TraceSet) -> None:
        if generation != self._generation:
            return
        if self._whole:
            # a trace read whole stands in for its outline while the search outlines it alike (it got no
            # new spans since); one that changed is read whole again when it is opened
            kept: dict[str, tuple[TraceOutline | None, Trace]] = {}
            for i, t in enumerate(found.traces):
                had = self._whole.get(t.trace_id)
                if had is not None and t.outline is not None and had[0] == t.outline:
                    found.traces[i] = had[1]
                    kept[t.trace_id] = had
            self._whole = kept
        self.found = found
        chosen = self.trace.trace_id if self.trace is not None else ""
        self._fill(found)
        if not (chosen and self.choose(chosen)):
            # the row left selected is another trace now (the chosen one dropped out): unselect it, or the
            # table would mark a trace whose spans are not shown, and clicking it would show nothing
            self.table.clearSelection()
            self._show_trace(None)
        self.loaded.emit(found)

    def _failed(self, generation: int, error: SourceError) -> None:
        if generation != self._generation:
            return
        self.note.setText(f"Could not read traces: {error}")
        self.failed.emit(str(error))

    def _plot(self, traces: list[Trace]) -> None:
        self._points = ([t.start_us / 1e6 for t in traces], [t.duration_us / 1000 for t in traces],
                        [bool(t.errors) for t in traces], [t.trace_id for t in traces])
        self._draw_points()

    # -- the chart of durations, made when first needed ----------------------------------------------
    @property
    def plot(self) -> Any:
        """The chart's pyqtgraph PlotWidget (made now if it was not yet)."""
        return self._made_chart().plot

    @property
    def scatter(self) -> Any:
        """The traces' points (a pyqtgraph ScatterPlotItem)."""
        return self._made_chart().scatter

    @property
    def chosen_point(self) -> Any:
        """The ring round the chosen trace's point."""
        return self._made_chart().chosen

    def _made_chart(self) -> _DurationChart:
        if self._chart is None:
            self._make_chart()
        assert self._chart is not None
        return self._chart

    def _make_chart(self) -> None:
        from meshdesk.ui.traces_chart import DurationChart

        self._chart = DurationChart(self._point_tip, self._point_clicked)
        self._plot_layout.addWidget(self._chart.plot)
        self._draw_points()
        self._draw_chosen()

    def _draw_points(self) -> None:
        if self._chart is not None:
            self._chart.draw_points(*self._points)

    def _draw_chosen(self) -> None:
        if self._chart is not None:
            self._chart.draw_chosen(self._chosen_at)

    def _fill(self, found: TraceSet) -> None:
        traces = found.traces
        self._plot(traces)
        if self.target is not None:
            self.title.setText(f"Traces of {self.target.title()}")
        describe = getattr(self.source, "describe", None)  # how a live backend is reached
        how = str(describe()) if callable(describe) else ""
        self.title.setToolTip(f"Tracing backend: {how}" if how else "")
        if how:
            self.title.setText(f"{self.title.text()}  ·  from {how}")
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(traces))
        for row, t in enumerate(traces):
            self._fill_row(row, t)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnToContents(0)
        self.note.setText(self._summary(found))

    def _fill_row(self, row: int, t: Trace) -> None:
        cells = (started_text(t.start_us), t.name, trace_duration_text(t), span_count_text(t),
                 str(t.errors) if t.errors else "")
        keys: tuple[Any, ...] = (t.start_us, t.name, t.duration_us, t.span_count, t.errors)
        partial = partial_text(t)
        for col, (text, key) in enumerate(zip(cells, keys, strict=True)):
            item = _NumberItem(text)
            item.setData(_SORT_ROLE, key)
            if col == 0:
                item.setData(_SPAN_ROLE, t.trace_id)
            if t.errors:
                item.setForeground(QBrush(readable(ERROR_COLOUR)))
            if partial and col >= 2:
                item.setToolTip(partial)
            self.table.setItem(row, col, item)

    def _summary(self, found: TraceSet) -> str:
        target = self.target
        query = self.query()
        if not found.traces:
            what = "failed " if query is not None and query.errors_only else ""
            since = self.window_box.currentText().lower()
            whose = target.title() if target is not None else "this target"
            text = f"No {what}traces of {whose} in the {since[5:] if since.startswith('last ') else since}"
            if query is not None and query.min_duration_ms:
                text += f" with a span of {query.min_duration_ms:g} ms or more"
            if query is not None and query.tags:
                text += f" tagged {tags_text(query.tags)}"
            if target is not None and target.kind in (TARGET_WORKLOAD, TARGET_SERVICE) and found.fetched:
                text += (f" ({found.fetched} traces of the app {target.lookup} were read, none through this "
                         f"{target.kind})")
            hint = (" " + self.hint) if self.hint else (
                " Traces are sampled (Istio keeps 1 request in 100 by default): send more requests, or "
                "look further back.")
            return text + "." + hint + self._extras(found)
        s = stats(found.traces)
        text = (f"{s.count} traces, {s.errors} with errors; duration p50 {s.p50_ms:.1f} ms, p95 {s.p95_ms:.1f} ms, "
                f"longest {s.max_ms:.1f} ms")
        if found.limited and target is not None and found.fetched > s.count:
            text += (f". The limit of {found.limit} traces of {target.lookup} was reached ({s.count} of them through "
                     f"this {target.kind}): older ones were not searched; raise the limit to look further back")
        elif found.limited:
            text += f". The limit of {found.limit} traces was reached: older ones are not shown; raise the limit to see them"
        if any(t.partial for t in found.traces):
            text += (". Traces as the search outlined them: durations to the millisecond, spans and errors "
                     f"counting the spans of {found.service or 'the target'} that matched, until a trace is "
                     "chosen and read whole")
        extras = self._extras(found)
        return text + ("." + extras if extras else "")

    @staticmethod
    def _extras(found: TraceSet) -> str:
        out = ""
        if found.skipped:
            out += f" {found.skipped} spans or traces the backend sent could not be read and are left out."
        if found.errors:
            out += " The backend said: " + "; ".join(found.errors[:3])
        for note in found.notes[:3]:
            out += " " + note
        return out

    def _point_tip(self, x: float, y: float, data: Any) -> str:
        trace = self._trace_by_id(str(data))
        if trace is None:
            return ""
        errors = f", {trace.errors} errors" if trace.errors else ""
        return f"{trace.name}\n{started_text(trace.start_us)}, {trace_duration_text(trace)}, " \
               f"{span_count_text(trace)} spans{errors}"

    def _point_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        for p in points:
            if self.choose(str(p.data())):
                return

    def _trace_by_id(self, trace_id: str) -> Trace | None:
        found = self.found
        if found is None:
            return None
        return next((t for t in found.traces if t.trace_id == trace_id), None)

    def _row_chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.table.item(rows[0].row(), 0)
        trace = self._trace_by_id(str(item.data(_SPAN_ROLE))) if item is not None else None
        if trace is not None and self.trace is not None and trace == self.trace:
            self.trace = trace  # read again, unchanged: the tree stays as the user left it
            return
        if trace is not None and trace.partial and callable(getattr(self.source, "trace", None)):
            self._open(trace)
            return
        self._show_trace(trace)

    def _open(self, outlined: Trace) -> None:
        """Read whole a trace the search only outlined (on a worker thread), its outline shown meanwhile."""
        self._show_trace(outlined, "Reading the whole trace…")
        self._open_generation += 1
        self._open_worker.generation = self._open_generation
        source, trace_id = self.source, outlined.trace_id

        def read() -> Trace | None:
            with paused_gc():
                whole: Trace | None = source.trace(trace_id)
                return whole

        self._open_job.emit((self._open_generation, read))

    def _opened(self, generation: int, whole: Trace | None) -> None:
        outlined = self.trace
        if generation != self._open_generation or outlined is None:
            return
        if whole is None or not whole.spans:
            self._show_trace(outlined, "The tracing backend no longer has this trace: only the spans its search "
                                       "matched are shown, without their parents.", final=True)
            return
        self._whole[whole.trace_id] = (outlined.outline, whole)
        found = self.found
        if found is not None:
            # the list and the chart say the whole trace's numbers from now on
            found.traces = [whole if t.trace_id == whole.trace_id else t for t in found.traces]
            self._plot(found.traces)
            for row in range(self.table.rowCount()):
                item = self.table.item(row, 0)
                if item is not None and item.data(_SPAN_ROLE) == whole.trace_id:
                    self.table.setSortingEnabled(False)
                    self._fill_row(row, whole)
                    self.table.setSortingEnabled(True)
                    break
        self._show_trace(whole)

    def _open_failed(self, generation: int, error: SourceError) -> None:
        outlined = self.trace
        if generation == self._open_generation and outlined is not None:
            self._show_trace(outlined, f"Could not read the whole trace: {error}. Only the spans its search "
                                       "matched are shown, without their parents.", final=True)

    def _show_trace(self, trace: Trace | None, reading: str = "", final: bool = False) -> None:
        """Show a trace's spans. ``reading``: what is said of an outlined trace's spans (being read whole,
        or why they could not be); ``traceShown`` is told of a trace whole, or of an outline as ``final``."""
        self._open_generation += 1  # a trace being read whole is not wanted any more
        self._open_worker.generation = self._open_generation
        self.trace = trace
        self._stats_generation += 1  # a comparison under way is of another trace's span
        self._stats_worker.generation = self._stats_generation
        _clear_tree(self.spans)
        self.tags.setRowCount(0)
        self._show_stats(None, "")
        # the nodes a trace went through are known once it is read whole (an outline has its target's spans)
        self.show_in_graph.setEnabled(trace is not None and (not trace.partial or final))
        self.copy_id.setEnabled(trace is not None)
        if trace is None:
            self._chosen_at = None
            self._draw_chosen()
            self.detail_title.setText("Choose a trace in the chart or the table to see its spans")
            return
        self._chosen_at = (trace.start_us / 1e6, trace.duration_us / 1000)
        self._draw_chosen()
        errors = f", {trace.errors} failed" if trace.errors else ""
        self.detail_title.setText(
            f"{trace.name}\nTrace {trace.trace_id}: started {started_text(trace.start_us)}, "
            f"{trace_duration_text(trace)}, {span_count_text(trace)} spans{errors}; "
            f"services: {', '.join(trace.services) or 'none named'}"
            + (f"\n{similar}" if (similar := against_similar(trace, self.found.traces if self.found else ())) else "")
            + (f"\n{reading}" if reading else ""))
        parents: dict[str, QTreeWidgetItem] = {}
        first_error: QTreeWidgetItem | None = None
        for _depth, span in trace.ordered():
            cells = [span.operation or "(no operation name)", where_text(span), duration_text(span.duration_us), "",
                     span.summary(), span.kind, duration_text(span.start_us - trace.start_us)]
            parent = parents.get(span.parent_id)
            item = QTreeWidgetItem(cells) if parent is None else QTreeWidgetItem(parent, cells)
            if parent is None:
                self.spans.addTopLevelItem(item)
            item.setData(0, _SPAN_ROLE, span)
            item.setToolTip(COL_OPERATION, span.operation)
            item.setToolTip(COL_WHERE, where_text(span))
            item.setToolTip(COL_SUMMARY, span.tag("http.url", "url.full") or span.summary())
            if span.error:
                for col in range(len(SPAN_COLUMNS)):
                    item.setForeground(col, QBrush(readable(ERROR_COLOUR)))
                first_error = first_error or item
            parents[span.span_id] = item
        self.spans.expandAll()
        for col in (COL_OPERATION, COL_WHERE, COL_DURATION, COL_SUMMARY, COL_KIND, COL_OFFSET):
            self.spans.resizeColumnToContents(col)
            # a long host or pod name is cut (its tooltip has it): the timeline and request stay in view
            widest = 260 if col == COL_OPERATION else 220
            if self.spans.columnWidth(col) > widest:
                self.spans.setColumnWidth(col, widest)
        self.spans.setColumnWidth(COL_TIMELINE, 180)
        current = first_error or self.spans.topLevelItem(0)
        if current is not None:
            self.spans.setCurrentItem(current)
        if not trace.partial or final:
            self.traceShown.emit(trace)

    def _span_chosen(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        span = item.data(0, _SPAN_ROLE) if item is not None else None
        self.tags.setRowCount(0)
        if not isinstance(span, Span):
            self._show_stats(None, "")
            return
        self._compare(span)
        rows = [("span", span.span_id), ("service", span.service)]
        if self.hop_rows is not None and self.trace is not None:
            try:
                rows += self.hop_rows(self.trace, span)
            except Exception:  # noqa: BLE001 - the span's own tags are shown whatever the graph holds
                log.exception("comparing a span with the graph failed")
        rows += sorted(span.tags.items())
        rows += [(f"process: {k}", v) for k, v in sorted(span.process_tags.items())]
        rows += [("note", n) for n in span.notes]
        self.tags.setRowCount(len(rows))
        for row, (key, value) in enumerate(rows):
            self.tags.setItem(row, 0, QTableWidgetItem(key))
            cell = QTableWidgetItem(value)
            cell.setToolTip(value)
            self.tags.setItem(row, 1, cell)

    def _compare(self, span: Span) -> None:
        """Compare the chosen span with its workload's metrics, on the stats worker (a newer choice drops
        an older answer)."""
        self._stats_generation += 1
        self._stats_worker.generation = self._stats_generation
        if self.span_stats is None or self.trace is None:
            self._show_stats(None, "")
            return
        try:
            job, why = self.span_stats(self.trace, span)
        except Exception:  # noqa: BLE001 - the span is shown whatever the graph holds
            log.exception("finding what to compare a span with failed")
            job, why = None, "This span could not be compared with the metrics (see the log)."
        if job is None:
            self._show_stats(None, why)
            return
        self._clear_stats()
        self.stats_title.setText("Comparing this request with its workload's metrics…")
        self._stats_job.emit((self._stats_generation, job))

    def _clear_stats(self) -> None:
        for row in range(self.stats_map.rowCount()):
            for col in range(self.stats_map.columnCount()):
                self.stats_map.setItem(row, col, QTableWidgetItem(""))

    def _show_stats(self, comparison: SpanComparison | None, why: str) -> None:
        """Fill the comparison map, or empty it saying ``why`` there is none."""
        self._clear_stats()
        if comparison is None:
            self.stats_title.setText(why)
            self.stats_map.setEnabled(False)
            if why:
                self.statsShown.emit(why)
            return
        self.stats_map.setEnabled(True)
        errors = f" Not read: {'; '.join(comparison.errors)}" if comparison.errors else ""
        self.stats_title.setText(f"This request against all {comparison.subject()} (ms slower +, faster -):"
                                 + errors)
        for row, (label, _seconds) in enumerate(STATS_INTERVALS):
            for col, stat in enumerate(STATS):
                diff = comparison.diff(label, stat)
                cell = QTableWidgetItem(diff_text(diff))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setToolTip(comparison.sentence(label, stat))
                if diff is not None:
                    cell.setBackground(QBrush(_diff_colour(diff)))
                self.stats_map.setItem(row, col, cell)
        self.statsShown.emit(comparison)

    def _stats_done(self, generation: int, comparison: SpanComparison) -> None:
        if generation == self._stats_generation:
            self._show_stats(comparison, "")

    def _stats_failed(self, generation: int, error: SourceError) -> None:
        if generation == self._stats_generation:
            self._show_stats(None, f"Could not compare this request with the metrics: {error}")

    def _copy_id(self) -> None:
        if self.trace is not None:
            QGuiApplication.clipboard().setText(self.trace.trace_id)


def span_rows(view: TracesView) -> list[tuple[int, str, str, bool]]:
    """(depth, operation, request summary, failed) of each span row shown, top to bottom (walked without
    recursion: a trace may nest thousands of spans)."""
    out: list[tuple[int, str, str, bool]] = []
    stack = [(0, view.spans.topLevelItem(i)) for i in reversed(range(view.spans.topLevelItemCount()))]
    while stack:
        depth, item = stack.pop()
        if item is None:
            continue
        span = item.data(0, _SPAN_ROLE)
        out.append((depth, item.text(COL_OPERATION), item.text(COL_SUMMARY), bool(isinstance(span, Span) and span.error)))
        stack.extend((depth + 1, item.child(i)) for i in reversed(range(item.childCount())))
    return out
