"""The Envoy proxy of a workload's pod, as Kiali's workload "Envoy" tab shows it: pick a pod with a
proxy (a sidecar, a gateway, a waypoint), then its clusters, listeners, routes and bootstrap in
sortable, filterable tables, and the whole config dump (secrets removed) as text.

    envoy = EnvoyView(KubeEnvoyAdmin(api_client))   # or the DemoCluster itself (it has config_dump)
    envoy.set_workload(inventory.workload("shop", "reviews-v2"))
    envoy.shutdown()

The dump is read and parsed on a worker thread, and only while the view is shown (a config dump can
be megabytes, read through a port-forward): choosing a workload while the dock is closed reads nothing
until it is opened. A newer request makes an older answer be dropped.

A big mesh's sidecar has hundreds of thousands of clusters (tens of megabytes of JSON), so the UI
thread does no per-row or per-cell work that grows with the dump: the worker parses, pretty-prints,
and makes each table's filter text and per-column sort orders (``TableData``); a table is filled in
one model reset, sorted by picking a ready order and filtered by one pass over plain strings (once
typing pauses, for a big table); the raw text is laid out only when its tab is opened, a slice per
turn of the event loop, at most ``MAX_RAW_CHARS`` of it ("Save to file…" writes it whole).
"""

from __future__ import annotations

import json
import logging
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QElapsedTimer,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QCloseEvent, QFontDatabase, QShowEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.fileio import write_atomic
from meshdesk.mesh.envoy import (
    EnvoyCluster,
    EnvoyConfig,
    cluster_service,
    parse_config_dump,
    parse_stats,
    strict_numbers,
)
from meshdesk.mesh.inventory import AMBIENT_ANNOTATION, Pod, Workload
from meshdesk.mesh.words import counted
from meshdesk.sources.base import SourceError, size_words
from meshdesk.sources.envoy import LOG_LEVELS, NotADump, summarize_log_levels
from meshdesk.ui.labels import ElidedLabel, let_narrow
from meshdesk.ui.savefile import ask_save_path

log = logging.getLogger(__name__)
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
_DIGITS = re.compile(r"\d+")
MAX_RAW_CHARS = 40_000_000  # the raw text shown (a bigger dump is cut, and says so; Save writes it all)
RAW_SLICE_CHARS = 128 * 1024  # raw text laid out at a time (about 10 ms)
RAW_TURN_MS = 25  # laying out the raw text yields to the event loop this often
FILTER_AT_ONCE_ROWS = 20_000  # a table this small filters as you type; a bigger one when typing pauses
FILTER_PAUSE_MS = 200
_CELL_SEPARATOR = "\x1f"  # between a row's cells in its filter text: a match never spans two cells

# (title, attribute, numeric) per table, in Kiali's order
CLUSTER_COLUMNS = (("Service FQDN", "host", False), ("Port", "port", True), ("Subset", "subset", False),
                   ("Direction", "direction", False), ("Type", "type", False),
                   ("DestinationRule", "destination_rule", False))
LISTENER_COLUMNS = (("Address", "address", False), ("Port", "port", True), ("Match", "match", False),
                    ("Destination", "destination", False))
ROUTE_COLUMNS = (("Name", "name", False), ("Domains", "domains", False), ("Match", "match", False),
                 ("VirtualService", "virtual_service", False), ("Destination", "destination", False))
BOOTSTRAP_COLUMNS = (("Field", "name", False), ("Value", "value", False))
# as istioctl proxy-config secret: each secret's certificates, whose identity, valid until when
SECRET_COLUMNS = (("Secret", "secret", False), ("Kind", "kind", False), ("Identity", "identity", False),
                  ("State", "state", False), ("Not after", "not_after", False), ("Not before", "not_before", False),
                  ("Issuer", "issuer", False), ("Serial", "serial", False))
STATS_COLUMNS = (("Statistic", "name", False), ("Value", "value", False))  # a number sorts by value (naturally)
TABLES = (("clusters", CLUSTER_COLUMNS), ("listeners", LISTENER_COLUMNS), ("routes", ROUTE_COLUMNS),
          ("bootstrap", BOOTSTRAP_COLUMNS), ("secrets", SECRET_COLUMNS))


def natural_key(text: str) -> str:
    """Text that sorts numbers by value ("5000" before "15010", "v2" before "v10"), case-insensitively."""
    # 20 digits: a counter is a 64-bit number (bytes sent by a busy gateway pass 10^12 in days)
    return _DIGITS.sub(lambda m: m.group().zfill(20), text.lower())


@dataclass
class TableData:
    """A table's rows with what sorting and filtering them needs, made off the UI thread: the UI
    thread then sorts by picking an order and filters by one pass over plain strings, never asking
    Qt (and Python) for each cell of each row."""

    rows: list[Any]
    text: list[str]  # per row: its cells as shown, lowercased, separated (what the filter searches)
    orders: list[list[int]]  # per column: the rows' indices in ascending order of that column


def cell_text(value: Any, numeric: bool) -> str:
    return "" if numeric and not value else str(value)  # no port: an empty cell rather than a 0


def table_data(rows: Sequence[Any], columns: Sequence[tuple[str, str, bool]]) -> TableData:
    """Each row's filter text and each column's sort order (numbers by value, text naturally)."""
    rows = list(rows)
    cells: list[list[str]] = []
    orders: list[list[int]] = []
    for _, attr, numeric in columns:
        values = [getattr(r, attr) for r in rows]
        shown = [cell_text(v, numeric) for v in values]
        keys: list[Any]
        if numeric:
            keys = [int(v or 0) for v in values]
        else:
            known: dict[str, str] = {}  # a column repeats itself (directions, types, rules): key each once
            keys = [known.get(t) or known.setdefault(t, natural_key(t)) for t in shown]
        orders.append(sorted(range(len(rows)), key=keys.__getitem__))
        cells.append(shown)
    text = [_CELL_SEPARATOR.join(row).lower() for row in zip(*cells, strict=True)] if cells else [""] * len(rows)
    return TableData(rows, text, orders)


@dataclass
class EnvoyLoad:
    """What one read gives the view: the parsed tables, ready to show, and the dump as text."""

    config: EnvoyConfig
    raw: str
    way: str = ""  # how it was read ("port-forward", ...), "" when the source does not say
    tables: dict[str, TableData] | None = None  # by table ("clusters", ...), made on the worker thread


def read_envoy(source: Any, namespace: str, pod: str) -> EnvoyLoad:
    """Read, parse and pretty-print a pod's config dump, and make its tables (run on the worker thread)."""
    dump = source.config_dump(namespace, pod)
    try:
        config = parse_config_dump(dump)
        try:
            raw = json.dumps(dump, indent=2, sort_keys=False, default=str, allow_nan=False)
        except ValueError:  # a NaN or infinity: strict JSON has neither, so jq reads what is saved
            raw = json.dumps(strict_numbers(dump), indent=2, sort_keys=False, default=str, allow_nan=False)
    except (RecursionError, ValueError):  # a source that does not check its answer: no traceback for it
        raise NotADump(f"read the Envoy config of {namespace}/{pod}: the proxy answered, but not with a "
                       "config dump (JSON nested deeper than any config dump)") from None
    tables = {name: table_data(getattr(config, name), columns) for name, columns in TABLES}
    return EnvoyLoad(config, raw, str(getattr(source, "last_way", "") or ""), tables)


@dataclass
class StatsLoad:
    """A pod's proxy statistics, ready to show (made on the stats worker's thread)."""

    table: TableData
    skipped: int = 0  # lines that were no "name: value"
    way: str = ""


def read_stats(source: Any, namespace: str, pod: str) -> StatsLoad:
    """Read and parse a pod's proxy statistics, and make their table (run on the worker thread)."""
    parsed = parse_stats(source.stats(namespace, pod))
    return StatsLoad(table_data(parsed.stats, STATS_COLUMNS), parsed.skipped,
                     str(getattr(source, "last_way", "") or ""))


def proxy_pods(workload: Workload | None) -> list[Pod]:
    """The workload's pods that run an Envoy (an ``istio-proxy`` container: a sidecar, a gateway's or a
    waypoint's proxy), by name."""
    return sorted((p for p in workload.pods if p.proxy is not None), key=lambda p: p.name) if workload else []


def why_no_proxy(workload: Workload, waypoint: tuple[str, str] | None = None) -> str:
    """Why a workload has no pod to read an Envoy config from. ``waypoint``: for an ambient workload, the
    waypoint (name, namespace or "" for its own) that carries its requests, ("", "") for none, None when
    not known."""
    if not workload.pods:
        return f"{workload.name} has no pods: there is no proxy to read"
    if any(p.annotations.get(AMBIENT_ANNOTATION) == "enabled" for p in workload.pods):
        ztunnel = f"{workload.name} runs in ambient mode: ztunnel carries its traffic and has no Envoy; "
        if waypoint is None:
            return ztunnel + "its waypoint, if it uses one (select it), is the Envoy that routes its requests"
        name, namespace = waypoint
        if not name:
            return ztunnel + ("no waypoint carries its requests (istio.io/use-waypoint), so no Envoy routes them: "
                              "ztunnel handles them at L4 only")
        return ztunnel + f"its waypoint {namespace or workload.namespace}/{name} (select it) is the Envoy that " \
            "routes its requests"
    return (f"No pod of {workload.name} runs an Envoy proxy (no istio-proxy container): it is not in the "
            "mesh with a sidecar")


class _Worker(QObject):
    done = Signal(int, object)  # generation, EnvoyLoad
    failed = Signal(int, object)  # generation, SourceError

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0

    @Slot(object)
    def run(self, job: tuple[int, Callable[[], EnvoyLoad]]) -> None:
        generation, fn = job
        if generation != self.generation:
            return  # a newer request came while this one waited
        try:
            result = fn()
        except SourceError as e:
            e.__traceback__ = None
            self.failed.emit(generation, e)
            return
        except Exception as e:  # a bug or a library surprise: say it, keep the tables
            # the thread names the work (the Traces dock's worker is one of these too, not the Envoy config)
            log.exception("a job on the %s thread failed", QThread.currentThread().objectName() or "worker")
            self.failed.emit(generation, SourceError(f"{type(e).__name__}: {e}"))
            return
        self.done.emit(generation, result)


def _start_worker(name: str, job: Any, done: Callable[[int, Any], None],
                  failed: Callable[[int, SourceError], None]) -> tuple[QThread, _Worker]:
    """A worker on a thread of its own (``name``): ``job`` (a signal of the view) hands it work, and
    ``done`` and ``failed`` hear back on the UI thread."""
    thread = QThread()
    thread.setObjectName(name)
    _THREADS.add(thread)
    worker = _Worker()
    worker.moveToThread(thread)
    job.connect(worker.run)
    worker.done.connect(done)
    worker.failed.connect(failed)
    thread.start()
    return thread, worker


class RowsModel(QAbstractTableModel):
    """Rows of dataclass instances, one column per attribute, sorted and filtered here (no proxy
    model: that would ask for every cell of every row, in Python, to sort or filter)."""

    def __init__(self, columns: Sequence[tuple[str, str, bool]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.table = TableData([], [], [[] for _ in self.columns])
        self.rows: list[Any] = []
        self.shown: list[int] = []  # the rows' indices as shown: filtered, sorted
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.needle = ""

    def set_data(self, table: TableData) -> None:
        """New rows, in one reset, in the order and under the filter shown."""
        self.beginResetModel()
        self.table, self.rows = table, table.rows
        self.shown = self._arranged()
        self.endResetModel()

    def set_rows(self, rows: list[Any]) -> None:
        self.set_data(table_data(rows, self.columns))

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        if needle != self.needle:
            self.needle = needle
            self._rearrange()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self._rearrange()

    def visible(self) -> list[Any]:
        return [self.rows[i] for i in self.shown]

    def _rearrange(self) -> None:
        self.beginResetModel()  # selection and scroll go: the rows under them are others
        self.shown = self._arranged()
        self.endResetModel()

    def _arranged(self) -> list[int]:
        orders = self.table.orders
        order: Sequence[int] = (orders[self.sort_column] if 0 <= self.sort_column < len(orders)
                                else range(len(self.rows)))
        if self.sort_column >= 0 and self.sort_order == Qt.SortOrder.DescendingOrder:
            order = order[::-1]
        if not self.needle:
            return list(order)
        text, needle = self.table.text, self.needle
        return [i for i in order if needle in text[i]]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        _, attr, numeric = self.columns[index.column()]
        return cell_text(getattr(self.rows[self.shown[index.row()]], attr), numeric)


class EnvoyTable(QWidget):
    """A filter field (any column, case-insensitive) over a sortable table, with "n of m" beside it."""

    def __init__(self, what: str, columns: Sequence[tuple[str, str, bool]], parent: QWidget | None = None, *,
                 max_column_width: int = 420) -> None:
        super().__init__(parent)
        self.what = what
        self.max_column_width = max_column_width  # what the first rows may widen a column to
        self.model = RowsModel(columns, self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(f"Filter {what} (any column)…")
        self.filter.setAccessibleName(f"Filter {what}")
        self.filter.setClearButtonEnabled(True)
        self.count = QLabel("")
        # a big table filters when typing pauses, not at each key (each pass reads every row)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(FILTER_PAUSE_MS)
        self._pause.timeout.connect(self._filter)
        self.filter.textChanged.connect(self._typed)
        self.table = QTableView()
        self.table.setAccessibleName(what.capitalize())
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)
        self.table.setWordWrap(False)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one height for all: nothing measured per row
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(200)  # sized from a sample of the rows: thousands stay quick
        self._sized = False
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_data(self, table: TableData) -> None:
        self._pause.stop()
        self.model.needle = self.filter.text().strip().lower()
        self.model.set_data(table)
        if table.rows and not self._sized:  # the first rows size the columns; the user's widths stay after
            self._sized = True
            header = self.table.horizontalHeader()
            for col in range(self.model.columnCount() - 1):
                header.resizeSection(col, min(self.max_column_width,
                                              max(self.table.sizeHintForColumn(col), header.sectionSizeHint(col))))
        self._count()

    def set_rows(self, rows: list[Any]) -> None:
        self.set_data(table_data(rows, self.model.columns))

    def visible_rows(self) -> list[Any]:
        """The rows as shown (filtered and sorted)."""
        return self.model.visible()

    def filter_pending(self) -> bool:
        """Typed into the filter, not yet applied (a big table waits for typing to pause)."""
        return self._pause.isActive()

    def _typed(self, _text: str) -> None:
        if len(self.model.rows) <= FILTER_AT_ONCE_ROWS:
            self._filter()
        else:
            self._pause.start()

    def _filter(self) -> None:
        self._pause.stop()
        self.model.set_filter(self.filter.text())
        self._count()

    def _count(self) -> None:
        total, shown = len(self.model.rows), self.model.rowCount()
        self.count.setText(f"{shown} of {total}" if self.model.needle else f"{total}")


def _services_of(item: Any) -> list[tuple[str, str]]:
    """(namespace, service) of what a cluster row sends to, or of the clusters a route row names
    ("" namespace: a ServiceEntry's host); Envoy's own clusters (BlackHole, Passthrough, the
    bootstrap's) name none."""
    if isinstance(item, EnvoyCluster):
        return [(item.namespace, item.service)] if item.direction.startswith("outbound") or item.namespace else []
    # a route's destination: a cluster, or weighted clusters "name (weight), name (weight)"
    found = (cluster_service(part.split(" (")[0]) for part in str(getattr(item, "destination", "") or "").split(", "))
    return list(dict.fromkeys(f for f in found if f is not None))


class EnvoyView(QWidget):
    loaded = Signal(object)  # the EnvoyConfig shown
    failed = Signal(str)
    raw_shown = Signal()  # the Config tab's text is laid out (all of it, or the first MAX_RAW_CHARS)
    stats_loaded = Signal(int)  # how many statistics the Stats tab shows
    stats_failed = Signal(str)
    log_level_set = Signal(str)  # the level the proxy's loggers were set to
    log_level_read = Signal(str)  # the proxy's log level as read ("warning (some loggers at debug)"; "": unknown)
    configRequested = Signal(object)  # (kind, namespace, name): a row's DestinationRule or VirtualService
    serviceRequested = Signal(object)  # (namespace, service): a cluster's service, to be shown in the graph
    log_level_failed = Signal(str)
    chartsRequested = Signal()  # the proxies' own metrics over time (Prometheus'), charted in the Metrics dock

    _job = Signal(object)
    _stats_job = Signal(object)
    _admin_job = Signal(object)

    def __init__(self, source: Any = None, parent: QWidget | None = None, *,
                 read_only: Callable[[], bool] | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.read_only = read_only or (lambda: False)  # the user's Read-only setting: nothing is changed then
        # asked before the proxy is changed (a test answers it); True: go ahead
        # (None: a question box. Not ``self._ask`` itself: a bound method kept on the widget is a reference
        # cycle, and a widget freed by the cyclic collector may be freed on a worker thread, which crashes Qt)
        self.confirm: Callable[[str], bool] | None = None
        self.unavailable = ""
        self.workload: Workload | None = None
        # an ambient workload's waypoint (name, namespace), ("", "") for none, None when not known: named
        # when the workload has no Envoy of its own
        self.waypoint: tuple[str, str] | None = None
        self.config: EnvoyConfig | None = None
        self.pod = QComboBox()
        self.pod.setAccessibleName("Pod")
        self.pod.setMinimumContentsLength(28)
        self.pod.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        let_narrow(self.pod, width=110)
        self.refresh = QPushButton("Refresh")
        self.refresh.setToolTip("Read the proxy's configuration again (/config_dump on its admin port), and "
                                "its statistics (/stats) when the Stats tab is open")
        self.summary = ElidedLabel("")  # "34 clusters, 27 listeners, 14 routes"
        self.level = QComboBox()
        self.level.setAccessibleName("Log level")
        self.level.addItems(LOG_LEVELS)
        self.level.setCurrentText("debug")
        self.level.setToolTip("Envoy log level for every logger of the proxy (Istio starts it at warning)")
        self.set_level = QPushButton("Set log level")
        self.set_level.setToolTip("Change the proxy's log level now (POST /logging on its admin port); it "
                                  "lasts until the proxy restarts")
        self.level_label = QLabel("Log level")
        self.level_note = ElidedLabel("")  # "currently warning"
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setProperty("role", "warning")  # the theme's warning colour (3.3:1 as a fixed orange on dark)
        self.status.hide()
        self.clusters = EnvoyTable("clusters", CLUSTER_COLUMNS)
        self.listeners = EnvoyTable("listeners", LISTENER_COLUMNS)
        self.routes = EnvoyTable("routes", ROUTE_COLUMNS)
        self.bootstrap = EnvoyTable("bootstrap", BOOTSTRAP_COLUMNS)
        self.secrets = EnvoyTable("certificates", SECRET_COLUMNS)
        self.stats = EnvoyTable("statistics", STATS_COLUMNS, max_column_width=760)
        # a statistic's name ends with what it counts: a name too long to show loses its middle
        self.stats.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.stats_note = QLabel("")
        self.stats_note.setWordWrap(True)
        stats_page = self._stats_page = QWidget()
        stats_layout = QVBoxLayout(stats_page)
        stats_layout.setContentsMargins(0, 0, 0, 0)
        # the Stats tab is the proxy's statistics now; over time, per pod, they are the Metrics dock's charts
        self.stats_charts = QPushButton("Charts over time…")
        self.stats_charts.setToolTip("Chart the proxies' own metrics (uptime, memory, connections, requests) of "
                                     "the workload's pods as Prometheus scraped them, in the Metrics dock")
        self.stats_charts.clicked.connect(self.chartsRequested)
        stats_top = QHBoxLayout()
        stats_top.addWidget(self.stats_note, 1)
        stats_top.addWidget(self.stats_charts, 0, Qt.AlignmentFlag.AlignTop)
        stats_layout.addLayout(stats_top)
        stats_layout.addWidget(self.stats, 1)
        self.raw = QPlainTextEdit()
        self.raw.setAccessibleName("Config dump")
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.document().setUndoRedoEnabled(False)  # text added in slices is not to be undone, nor kept twice
        self.raw_find = QLineEdit()
        self.raw_find.setAccessibleName("Find in the config dump")
        self.raw_find.setPlaceholderText("Find in the config dump (Enter: next)")
        self.raw_find.setClearButtonEnabled(True)
        self.raw_note = QLabel("")
        self.raw_save = QPushButton("Save to file…")
        self.raw_save.setToolTip("Write the whole config dump (secrets removed) to a JSON file")
        self.raw_save.setEnabled(False)
        raw_page = QWidget()
        raw_layout = QVBoxLayout(raw_page)
        raw_layout.setContentsMargins(0, 0, 0, 0)
        raw_top = QHBoxLayout()
        raw_top.addWidget(self.raw_find, 1)
        raw_top.addWidget(self.raw_note)
        raw_top.addWidget(self.raw_save)
        raw_layout.addLayout(raw_top)
        raw_layout.addWidget(self.raw, 1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for title, page in (("Clusters", self.clusters), ("Listeners", self.listeners), ("Routes", self.routes),
                            ("Bootstrap", self.bootstrap), ("Config", raw_page), ("Stats", stats_page),
                            ("Certificates", self.secrets)):
            self.tabs.addTab(page, title)
        top = QHBoxLayout()
        top.addWidget(QLabel("Pod"))
        top.addWidget(self.pod)
        top.addWidget(self.refresh)
        top.addStretch(1)
        top.addWidget(self.level_label)
        top.addWidget(self.level)
        top.addWidget(self.set_level)
        # what was read and the proxy's log level, on a line of their own under the controls: beside them, in a
        # dock as wide as the graph of a 1024-pixel-wide window, they were cut to "34 …tes" and "cur…ing"
        said = QHBoxLayout()
        said.addWidget(self.summary, 1)
        said.addWidget(self.level_note)
        self.level_note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(said)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

        self._thread, self._worker = _start_worker("meshdesk-envoy", self._job, self._on_done, self._on_failed)
        self._generation = 0
        # statistics are read on a thread of their own, when their tab is looked at: a config dump being
        # read does not hold them up, nor they it
        self._stats_thread, self._stats_worker = _start_worker("meshdesk-envoy-stats", self._stats_job,
                                                               self._on_stats, self._on_stats_failed)
        self._stats_generation = 0
        # changes to the proxy (its log level), one at a time
        self._admin_thread, self._admin_worker = _start_worker("meshdesk-envoy-admin", self._admin_job,
                                                               self._on_level, self._on_level_failed)
        self._admin_generation = 0
        self._admin_pod: tuple[str, str] = ("", "")  # whose proxy the last change asked was for
        self._stats_stale = True  # the Stats tab does not show the chosen pod's as of the last Refresh
        self._raw_text = ""  # the whole dump as text (Save writes it)
        self._raw_end = 0  # how much of it the Config tab shows (at most MAX_RAW_CHARS, whole lines)
        self._raw_done = 0  # how much of that is laid out
        self._raw_slices = QTimer(self)  # lays the text out a slice per turn of the event loop
        self._raw_slices.setSingleShot(True)
        self._raw_slices.setInterval(0)
        self._raw_slices.timeout.connect(self._raw_slice)
        self._stale = True  # what is shown is not the chosen pod's (read when next shown)

        self.pod.currentIndexChanged.connect(self._pod_changed)
        self.refresh.clicked.connect(self.load)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.raw_find.returnPressed.connect(self.find_next)
        self.raw_save.clicked.connect(self._ask_save_raw)
        # slots are methods, not lambdas holding ``self``: Qt's connections would keep the view alive
        self.set_level.clicked.connect(self._set_level_clicked)
        # a cluster's DestinationRule and a route's VirtualService open in the Istio config view
        for table, kind in ((self.clusters, "DestinationRule"), (self.routes, "VirtualService")):
            table.table.setToolTip(f"Double-click a row to open its {kind}")
        self.clusters.table.doubleClicked.connect(self._cluster_double_clicked)
        self.routes.table.doubleClicked.connect(self._route_double_clicked)
        # and a right click (or the Menu key) offers them, and the cluster's service in the graph
        for table in (self.clusters, self.routes):
            table.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.clusters.table.customContextMenuRequested.connect(self._cluster_menu_requested)
        self.routes.table.customContextMenuRequested.connect(self._route_menu_requested)
        self.row_menu: QMenu | None = None  # the menu open (or last opened) over a row
        self._set_enabled()

    # -- public ---------------------------------------------------------------------------------
    def set_source(self, source: Any, *, unavailable: str = "") -> None:
        """``unavailable``: why there is no source (an offline snapshot has no proxy to ask)."""
        self.source = source
        self.unavailable = unavailable if source is None else ""
        self._set_enabled()
        self._show_pods()

    def set_workload(self, workload: Workload | None) -> None:
        """Offer the workload's pods that run a proxy and read the first (when shown)."""
        self.workload = workload
        self._show_pods()

    def update_pods(self, workload: Workload) -> None:
        """The same workload read again: offer its proxy pods now, keeping the one shown (marked gone
        when it is)."""
        self.workload = workload
        current = self.pod.currentData()
        pods = proxy_pods(workload)
        names = [p.name for p in pods]
        if [self.pod.itemData(i).name for i in range(self.pod.count())] == names:
            return
        self.pod.blockSignals(True)
        self.pod.clear()
        for p in pods:
            self.pod.addItem(p.name, p)
        if current is not None:
            index = names.index(current.name) if current.name in names else -1
            if index < 0:
                self.pod.addItem(f"{current.name} (gone)", current)
                index = self.pod.count() - 1
            self.pod.setCurrentIndex(index)
        self.pod.blockSignals(False)
        if current is None:
            self._pod_changed()

    @Slot()
    def load(self) -> None:
        """Read the chosen pod's config dump again."""
        self._generation += 1
        self._worker.generation = self._generation
        self._stale = False
        pod = self.pod.currentData()
        if self.source is None or pod is None:
            self._clear()
            self._say(self._why_nothing())
            return
        self._say("")
        self.summary.setText(f"Reading the proxy config of {pod.name}…")
        source, namespace, name = self.source, pod.namespace, pod.name
        self._job.emit((self._generation, lambda: read_envoy(source, namespace, name)))
        self._stats_stale = True
        if self._stats_tab_shown():
            self.load_stats()
        self.read_log_level()

    @Slot()
    def load_stats(self) -> None:
        """Read the chosen pod's proxy statistics again (the Stats tab reads them when it is opened)."""
        self._stats_generation += 1
        self._stats_worker.generation = self._stats_generation
        self._stats_stale = False
        pod = self.pod.currentData()
        if self.source is None or pod is None or not callable(getattr(self.source, "stats", None)):
            self.stats.set_rows([])
            self.stats_note.setText(self._why_nothing() if self.source is None or pod is None else
                                    "This source cannot read a proxy's statistics")
            return
        self.stats_note.setText(f"Reading the statistics of {pod.name}…")
        source, namespace, name = self.source, pod.namespace, pod.name
        self._stats_job.emit((self._stats_generation, lambda: read_stats(source, namespace, name)))

    def read_log_level(self) -> None:
        """Ask the chosen pod's proxy for its log level (``POST /logging`` without a level changes
        nothing), shown beside the control; only where the control is offered (not in read-only mode:
        the request is a POST). A proxy that does not tell leaves the level unsaid."""
        pod = self.pod.currentData()
        if not self._writable() or pod is None or not callable(getattr(self.source, "log_levels", None)):
            return
        source, namespace, name = self.source, pod.namespace, pod.name

        def read() -> tuple[str, str, str, str, dict[str, str]]:
            try:
                loggers = source.log_levels(namespace, name)
            except SourceError as e:  # unknown then, not an error: nothing was asked to change
                log.debug("the log level of %s/%s is not known: %s", namespace, name, e)
                loggers = {}
            return "read", namespace, name, "", loggers

        # with the admin worker's generation as it is: a change asked before is not dropped for it
        self._admin_job.emit((self._admin_generation, read))

    def settings_changed(self) -> None:
        """The user's settings were saved: Read-only may have changed (the control goes, or comes)."""
        self._set_enabled()
        if self.isVisible():
            self.read_log_level()

    def find_next(self) -> bool:
        """Select the next place the find text is (from the top again after the last)."""
        needle = self.raw_find.text()
        if not needle:
            return False
        self._fill_raw()
        if self.raw.find(needle):
            return True
        cursor = self.raw.textCursor()
        cursor.movePosition(cursor.MoveOperation.Start)
        self.raw.setTextCursor(cursor)
        if self.raw.find(needle):
            return True
        if self._raw_done < self._raw_end:
            self.raw_note.setText(f"“{needle}” is not in the part laid out so far ({self._raw_progress()})")
        elif self._raw_end < len(self._raw_text):
            self.raw_note.setText(f"“{needle}” is not in the first {size_words(self._raw_end)} shown: "
                                  "Save to file… to search all of it")
        return False

    def save_raw(self, path: str) -> None:
        """Write the whole config dump as shown (secrets removed) to ``path``."""
        write_atomic(path, self._raw_text, mode=None)

    def shutdown(self) -> None:
        self._raw_slices.stop()
        self._generation += 1
        self._worker.generation = self._generation
        self._stats_generation += 1
        self._stats_worker.generation = self._stats_generation
        self._admin_generation += 1
        self._admin_worker.generation = self._admin_generation
        for thread in (self._thread, self._stats_thread, self._admin_thread):
            thread.quit()
        for thread in (self._thread, self._stats_thread, self._admin_thread):
            thread.wait(30000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._set_enabled()  # the Read-only setting may have changed while the dock was closed
        if self._stale:
            self.load()

    # -- internals ------------------------------------------------------------------------------
    def _why_nothing(self) -> str:
        if self.source is None:
            return self.unavailable or "No source of proxy configuration"
        if self.workload is None:
            return "Select a workload (a node of the graph, or a row of the Workloads list) to see its proxy"
        return why_no_proxy(self.workload, self.waypoint)

    def _set_enabled(self) -> None:
        on = not self.unavailable
        for w in (self.pod, self.refresh, self.clusters, self.listeners, self.routes, self.bootstrap, self.secrets,
                  self.raw_find, self.stats):
            w.setEnabled(on)
        # changing the proxy: only where the source can, and never in read-only mode (hidden, as the
        # other write actions are)
        writable = on and self._writable()
        control: QWidget
        for control in (self.level_label, self.level, self.set_level):
            control.setVisible(writable)
            control.setEnabled(writable and self.pod.count() > 0)
        if not writable:
            self.level_note.setText("")

    def _writable(self) -> bool:
        return not self.unavailable and callable(getattr(self.source, "set_log_level", None)) and not self.read_only()

    def _show_pods(self) -> None:
        self.pod.blockSignals(True)
        self.pod.clear()
        for p in proxy_pods(self.workload):
            self.pod.addItem(p.name, p)
        self.pod.blockSignals(False)
        self._pod_changed()

    def _pod_changed(self) -> None:
        self._clear()
        self.level_note.setText("")
        self._set_enabled()
        self.refresh.setEnabled(not self.unavailable and self.pod.count() > 0)
        if self.isVisible():
            self.load()
        else:
            self._stale = True
            self._generation += 1  # an answer on its way is for another pod
            self._worker.generation = self._generation
            self._stats_generation += 1
            self._stats_worker.generation = self._stats_generation
            if self.source is None or self.pod.currentData() is None:
                self._say(self._why_nothing())

    def _clear(self) -> None:
        self.config = None
        self._set_raw("")
        self.summary.setText("")
        for table in (self.clusters, self.listeners, self.routes, self.bootstrap, self.secrets, self.stats):
            table.set_rows([])
        self.stats_note.setText("")
        self._stats_stale = True
        self._stats_generation += 1  # statistics on their way are of what was cleared
        self._stats_worker.generation = self._stats_generation
        self._titles()

    def tell(self, text: str) -> None:
        """Say ``text`` where the view says what it could not do."""
        self._say(text)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _titles(self) -> None:
        cfg = self.config
        for i, (title, n) in enumerate((("Clusters", len(cfg.clusters) if cfg else None),
                                        ("Listeners", len(cfg.listeners) if cfg else None),
                                        ("Routes", len(cfg.routes) if cfg else None))):
            self.tabs.setTabText(i, f"{title} ({n})" if n is not None else title)
        stats = self.tabs.indexOf(self._stats_page)
        n_stats = len(self.stats.model.rows)
        self.tabs.setTabText(stats, f"Stats ({n_stats})" if n_stats else "Stats")

    def _stats_tab_shown(self) -> bool:
        return self.tabs.currentWidget() is self._stats_page

    def _tab_changed(self, index: int) -> None:
        if self.tabs.tabText(index) == "Config":
            self._fill_raw()
        elif self._stats_tab_shown() and self._stats_stale and self.isVisible():
            self.load_stats()

    def _set_raw(self, text: str) -> None:
        self._raw_slices.stop()
        self._raw_text = text
        self._raw_done = 0
        self._raw_end = len(text)
        if len(text) > MAX_RAW_CHARS:  # whole lines only
            self._raw_end = text.rfind("\n", 0, MAX_RAW_CHARS) + 1 or MAX_RAW_CHARS
        self.raw.clear()
        self.raw_note.setText("")
        self.raw_save.setEnabled(bool(text))

    def _fill_raw(self) -> None:
        # laid out when first looked at (megabytes of text only for a user who wants them), a slice at
        # a time: the first at once (a small dump is then all there), the rest on later turns
        if self._raw_done < self._raw_end and not self._raw_slices.isActive():
            self._raw_slice()

    def _raw_slice(self) -> None:
        clock = QElapsedTimer()
        clock.start()
        cursor = QTextCursor(self.raw.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        text, end = self._raw_text, self._raw_end
        while self._raw_done < end:  # at least one slice a turn, more while the turn lasts
            stop = text.find("\n", min(self._raw_done + RAW_SLICE_CHARS, end - 1), end) + 1 or end
            cursor.insertText(text[self._raw_done:stop])
            self._raw_done = stop
            if clock.elapsed() >= RAW_TURN_MS:
                break
        if self._raw_done < end:
            self.raw_note.setText(f"Laying out the dump… {self._raw_progress()}")
            self._raw_slices.start()
            return
        cut = end < len(text)
        self.raw_note.setText(f"Showing the first {size_words(end)} of {size_words(len(text))}: Save to file… "
                              "for all of it" if cut else "")
        self.raw_shown.emit()

    def _raw_progress(self) -> str:
        return f"{self._raw_done * 100 // max(1, self._raw_end)}%"

    def _ask_save_raw(self) -> None:
        pod = self.pod.currentData()
        name = f"{pod.name}-config_dump.json" if pod is not None else "config_dump.json"
        # a name typed without an extension gets ".json", as File > Save snapshot does
        path = ask_save_path(self, "Save the config dump", name, "JSON (*.json)", ".json")
        if not path:
            return
        try:
            self.save_raw(path)
        except OSError as e:
            # the chosen file, not the temporary one beside it that the atomic write names in its error
            self._say(f"Could not save the config dump to {path}: {e.strerror or e}")

    def _on_done(self, generation: int, result: EnvoyLoad) -> None:
        if generation != self._generation:
            return
        cfg = result.config
        self.config = cfg
        self._set_raw(result.raw)
        tables = result.tables or {name: table_data(getattr(cfg, name), columns) for name, columns in TABLES}
        for name, _ in TABLES:
            getattr(self, name).set_data(tables[name])
        self._titles()
        if self.tabs.tabText(self.tabs.currentIndex()) == "Config":
            self._fill_raw()
        counts = (f"{counted(len(cfg.clusters), 'cluster')}, {counted(len(cfg.listeners), 'listener')}, "
                  f"{counted(len(cfg.routes), 'route')}")
        self.summary.setText(counts + (f", read through the {result.way}" if result.way else ""))
        self.summary.setToolTip(cfg.summary())
        self._say("" if not (cfg.skipped or cfg.missing) else f"Shown in part: {cfg.summary()}")
        self.loaded.emit(cfg)

    def _set_level_clicked(self) -> None:
        self.change_log_level(self.level.currentText())

    def _cluster_double_clicked(self, index: QModelIndex) -> None:
        self.open_config(self.clusters, index.row(), "DestinationRule", "destination_rule")

    def _route_double_clicked(self, index: QModelIndex) -> None:
        self.open_config(self.routes, index.row(), "VirtualService", "virtual_service")

    def _cluster_menu_requested(self, pos: QPoint) -> None:
        self._popup(self.clusters, pos)

    def _route_menu_requested(self, pos: QPoint) -> None:
        self._popup(self.routes, pos)

    def _popup(self, table: EnvoyTable, pos: QPoint) -> None:
        index = table.table.indexAt(pos)
        if not index.isValid():  # the Menu key: the current row
            index = table.table.currentIndex()
            rect = table.table.visualRect(index)
            pos = rect.center() if index.isValid() else pos
        menu = self.menu_for(table, index.row()) if index.isValid() else None
        if menu is not None:
            menu.popup(table.table.viewport().mapToGlobal(pos))

    def menu_for(self, table: EnvoyTable, row: int) -> QMenu | None:
        """What a shown row of the clusters or routes table offers: its DestinationRule or VirtualService
        in the Istio config view, and the service a cluster (or a route's cluster) sends to, in the graph."""
        rows = table.visible_rows()
        if not 0 <= row < len(rows):
            return None
        item = rows[row]
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        kind, attr = ("DestinationRule", "destination_rule") if table is self.clusters else \
            ("VirtualService", "virtual_service")
        ref = str(getattr(item, attr, "") or "")
        opened = menu.addAction(f"Open {kind} {ref}" if "/" in ref else f"No {kind} shapes this {table.what[:-1]}")
        opened.setEnabled("/" in ref)
        opened.setData(("config", kind, ref))
        for namespace, service in _services_of(item):
            shown = menu.addAction(f"Show service {service}" + (f" ({namespace})" if namespace else "") + " in the graph")
            shown.setData(("service", namespace, service))
        # the view's method, not a closure holding it: a menu left open must not keep the view alive
        menu.triggered.connect(self._row_action)
        self.row_menu = menu
        return menu

    def _row_action(self, action: QAction) -> None:
        what = action.data()
        if not isinstance(what, (tuple, list)) or len(what) != 3:
            return
        if what[0] == "config":
            namespace, _, name = str(what[2]).partition("/")
            if namespace and name:
                self.configRequested.emit((what[1], namespace, name))
        elif what[0] == "service":
            self.serviceRequested.emit((what[1], what[2]))

    def open_config(self, table: EnvoyTable, row: int, kind: str, attr: str) -> bool:
        """Ask for the Istio object a shown row names ("namespace/name" in ``attr``) to be opened."""
        rows = table.visible_rows()
        ref = str(getattr(rows[row], attr, "") or "") if 0 <= row < len(rows) else ""
        namespace, _, name = ref.partition("/")
        if not namespace or not name:
            return False
        self.configRequested.emit((kind, namespace, name))
        return True

    def change_log_level(self, level: str) -> bool:
        """Set the chosen pod's proxy loggers to ``level``, once the user confirms; False when nothing
        was asked of the proxy (read-only, no pod, not confirmed)."""
        pod = self.pod.currentData()
        if self.read_only() or pod is None or not callable(getattr(self.source, "set_log_level", None)):
            self.level_note.setText("Read-only: the proxy is not changed" if self.read_only() else "")
            return False
        if level not in LOG_LEVELS:
            self.level_note.setText(f"{level!r} is no Envoy log level")
            return False
        noisy = " debug and trace write a great deal: set it back when you are done." if level in ("debug", "trace") \
            else ""
        if not (self.confirm or self._ask)(f"Set every logger of the Envoy proxy of {pod.namespace}/{pod.name} to {level}? It "
                            f"lasts until the proxy restarts.{noisy}"):
            return False
        self._admin_generation += 1
        self._admin_worker.generation = self._admin_generation
        self.level_note.setText(f"Setting the log level to {level}…")
        source, namespace, name = self.source, pod.namespace, pod.name
        self._admin_pod = (namespace, name)
        self._admin_job.emit((self._admin_generation,
                              lambda: ("set", namespace, name, level, source.set_log_level(namespace, name, level))))
        return True

    def _ask(self, text: str) -> bool:
        """Ask before writing to the cluster: No is the default, so a Return typed on does not change it."""
        box = QMessageBox(QMessageBox.Icon.Question, "Change the proxy's log level", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("logLevelQuestion")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            box.deleteLater()

    def _on_level(self, generation: int, result: tuple[str, str, str, str, dict[str, str]]) -> None:
        if generation != self._admin_generation:
            return
        kind, namespace, name, level, loggers = result
        pod = self.pod.currentData()
        if pod is None or (pod.namespace, pod.name) != (namespace, name):
            return  # another pod's proxy: its level is not this one's
        if kind == "read":
            now = summarize_log_levels(loggers)
            self.level_note.setText(f"currently {now}" if now else "")
            self.log_level_read.emit(now)
            return
        others = sorted({v for v in loggers.values() if v != level}, key=LOG_LEVELS.index)
        self.level_note.setText(f"set to {level}" + (f" (some loggers at {', '.join(others)})" if others else ""))
        self.log_level_set.emit(level)

    def _on_level_failed(self, generation: int, error: SourceError) -> None:
        if generation != self._admin_generation:
            return
        text = str(error)
        pod = self.pod.currentData()
        if pod is None or (pod.namespace, pod.name) != self._admin_pod:
            # a change asked of a pod no longer chosen: not said over this one's config, nor its level
            self.log_level_failed.emit(text)
            return
        self.level_note.setText("")
        self._say(f"Could not set the proxy's log level: {text}")
        self.log_level_failed.emit(text)

    def _on_stats(self, generation: int, result: StatsLoad) -> None:
        if generation != self._stats_generation:
            return
        self.stats.set_data(result.table)
        n = len(result.table.rows)
        note = f"{n} statistics that have changed since the proxy started (/stats?usedonly)"
        if result.skipped:
            note += (f"; {result.skipped} lines that were no “name: value” left out" if result.skipped > 1 else
                     "; 1 line that was no “name: value” left out")
        self.stats_note.setText(note + (f", read through the {result.way}" if result.way else ""))
        self._titles()
        self.stats_loaded.emit(n)

    def _on_stats_failed(self, generation: int, error: SourceError) -> None:
        if generation != self._stats_generation:
            return
        text = str(error)
        self.stats_note.setText(f"Could not read the statistics: {text}")
        self.stats_failed.emit(text)

    def _on_failed(self, generation: int, error: SourceError) -> None:
        if generation != self._generation:
            return
        text = str(error)
        self.summary.setText("")
        self._say(f"Could not read the proxy config: {text}"
                  + (" (showing what was read before)" if self.config is not None else ""))
        self.failed.emit(text)
