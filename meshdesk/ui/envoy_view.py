"""The Envoy proxy of a workload's pod, as Kiali's workload "Envoy" tab shows it: pick a pod with a
proxy (a sidecar, a gateway, a waypoint), then its clusters, listeners, routes and bootstrap in
sortable, filterable tables, and the whole config dump (secrets removed) as text.

    envoy = EnvoyView(KubeEnvoyAdmin(api_client))   # or the DemoCluster itself (it has config_dump)
    envoy.set_workload(inventory.workload("shop", "reviews-v2"))
    envoy.shutdown()

The dump is read and parsed on a worker thread, and only while the view is shown (a config dump can
be megabytes, read through a port-forward): choosing a workload while the dock is closed reads nothing
until it is opened. A newer request makes an older answer be dropped.
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
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QThread,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.envoy import EnvoyConfig, parse_config_dump
from meshdesk.mesh.inventory import AMBIENT_ANNOTATION, Pod, Workload
from meshdesk.sources.base import SourceError

log = logging.getLogger(__name__)
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_DIGITS = re.compile(r"\d+")
MAX_RAW_CHARS = 40_000_000  # the raw text shown (a bigger dump is cut, and says so)

# (title, attribute, numeric) per table, in Kiali's order
CLUSTER_COLUMNS = (("Service FQDN", "host", False), ("Port", "port", True), ("Subset", "subset", False),
                   ("Direction", "direction", False), ("Type", "type", False),
                   ("DestinationRule", "destination_rule", False))
LISTENER_COLUMNS = (("Address", "address", False), ("Port", "port", True), ("Match", "match", False),
                    ("Destination", "destination", False))
ROUTE_COLUMNS = (("Name", "name", False), ("Domains", "domains", False), ("Match", "match", False),
                 ("VirtualService", "virtual_service", False), ("Destination", "destination", False))
BOOTSTRAP_COLUMNS = (("Field", "name", False), ("Value", "value", False))


def natural_key(text: str) -> str:
    """Text that sorts numbers by value ("5000" before "15010", "v2" before "v10"), case-insensitively."""
    return _DIGITS.sub(lambda m: m.group().zfill(12), text.lower())


@dataclass
class EnvoyLoad:
    """What one read gives the view: the parsed tables and the dump as text."""

    config: EnvoyConfig
    raw: str
    way: str = ""  # how it was read ("port-forward", ...), "" when the source does not say


def read_envoy(source: Any, namespace: str, pod: str) -> EnvoyLoad:
    """Read, parse and pretty-print a pod's config dump (run on the worker thread)."""
    dump = source.config_dump(namespace, pod)
    config = parse_config_dump(dump)
    raw = json.dumps(dump, indent=2, sort_keys=False, default=str)
    if len(raw) > MAX_RAW_CHARS:
        raw = raw[:MAX_RAW_CHARS] + f"\n… cut: the dump is {len(raw) // 1_000_000} MB of text"
    return EnvoyLoad(config, raw, str(getattr(source, "last_way", "") or ""))


def proxy_pods(workload: Workload | None) -> list[Pod]:
    """The workload's pods that run an Envoy (an ``istio-proxy`` container: a sidecar, a gateway's or a
    waypoint's proxy), by name."""
    return sorted((p for p in workload.pods if p.proxy is not None), key=lambda p: p.name) if workload else []


def why_no_proxy(workload: Workload) -> str:
    """Why a workload has no pod to read an Envoy config from."""
    if not workload.pods:
        return f"{workload.name} has no pods: there is no proxy to read"
    if any(p.annotations.get(AMBIENT_ANNOTATION) == "enabled" for p in workload.pods):
        return (f"{workload.name} runs in ambient mode: ztunnel carries its traffic and has no Envoy; its "
                "namespace's waypoint (select it) is the Envoy that routes its requests")
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
            log.exception("reading the Envoy config failed")
            self.failed.emit(generation, SourceError(f"{type(e).__name__}: {e}"))
            return
        self.done.emit(generation, result)


class RowsModel(QAbstractTableModel):
    """Rows of dataclass instances, one column per attribute."""

    def __init__(self, columns: Sequence[tuple[str, str, bool]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        _, attr, numeric = self.columns[index.column()]
        value = getattr(self.rows[index.row()], attr)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if numeric and not value:
                return ""  # no port: an empty cell rather than a 0
            return str(value)
        if role == SORT_ROLE:
            return int(value or 0) if numeric else natural_key(str(value))
        return None


class EnvoyTable(QWidget):
    """A filter field (any column, case-insensitive) over a sortable table, with "n of m" beside it."""

    def __init__(self, what: str, columns: Sequence[tuple[str, str, bool]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self.model = RowsModel(columns, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(f"Filter {what} (any column)…")
        self.filter.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.filter.textChanged.connect(self._filter)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
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

    def set_rows(self, rows: list[Any]) -> None:
        self.model.set_rows(rows)
        if rows and not self._sized:  # the first rows size the columns; the user's widths stay after
            self._sized = True
            header = self.table.horizontalHeader()
            for col in range(self.model.columnCount() - 1):
                header.resizeSection(col, min(420, max(self.table.sizeHintForColumn(col), header.sectionSizeHint(col))))
        self._count()

    def visible_rows(self) -> list[Any]:
        """The rows as shown (filtered and sorted)."""
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._count()

    def _count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count.setText(f"{shown} of {total}" if self.filter.text().strip() else f"{total}")


class EnvoyView(QWidget):
    loaded = Signal(object)  # the EnvoyConfig shown
    failed = Signal(str)

    _job = Signal(object)

    def __init__(self, source: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.unavailable = ""
        self.workload: Workload | None = None
        self.config: EnvoyConfig | None = None
        self.pod = QComboBox()
        self.pod.setMinimumContentsLength(28)
        self.pod.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.refresh = QPushButton("Refresh")
        self.refresh.setToolTip("Read the proxy's configuration again (/config_dump on its admin port)")
        self.summary = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #b35900;")
        self.status.hide()
        self.clusters = EnvoyTable("clusters", CLUSTER_COLUMNS)
        self.listeners = EnvoyTable("listeners", LISTENER_COLUMNS)
        self.routes = EnvoyTable("routes", ROUTE_COLUMNS)
        self.bootstrap = EnvoyTable("bootstrap", BOOTSTRAP_COLUMNS)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw_find = QLineEdit()
        self.raw_find.setPlaceholderText("Find in the config dump (Enter: next)")
        self.raw_find.setClearButtonEnabled(True)
        raw_page = QWidget()
        raw_layout = QVBoxLayout(raw_page)
        raw_layout.setContentsMargins(0, 0, 0, 0)
        raw_layout.addWidget(self.raw_find)
        raw_layout.addWidget(self.raw, 1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for title, page in (("Clusters", self.clusters), ("Listeners", self.listeners), ("Routes", self.routes),
                            ("Bootstrap", self.bootstrap), ("Config", raw_page)):
            self.tabs.addTab(page, title)
        top = QHBoxLayout()
        top.addWidget(QLabel("Pod"))
        top.addWidget(self.pod)
        top.addWidget(self.refresh)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

        self._thread = QThread()
        self._thread.setObjectName("meshdesk-envoy")
        _THREADS.add(self._thread)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._job.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        self._generation = 0
        self._raw_text = ""
        self._stale = True  # what is shown is not the chosen pod's (read when next shown)

        self.pod.currentIndexChanged.connect(self._pod_changed)
        self.refresh.clicked.connect(self.load)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.raw_find.returnPressed.connect(self.find_next)
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

    def find_next(self) -> bool:
        needle = self.raw_find.text()
        if not needle:
            return False
        self._fill_raw()
        if self.raw.find(needle):
            return True
        cursor = self.raw.textCursor()
        cursor.movePosition(cursor.MoveOperation.Start)
        self.raw.setTextCursor(cursor)
        return self.raw.find(needle)

    def shutdown(self) -> None:
        self._generation += 1
        self._worker.generation = self._generation
        self._thread.quit()
        self._thread.wait(30000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.load()

    # -- internals ------------------------------------------------------------------------------
    def _why_nothing(self) -> str:
        if self.source is None:
            return self.unavailable or "No source of proxy configuration"
        if self.workload is None:
            return "Select a workload (a node of the graph, or a row of the Workloads list) to see its proxy"
        return why_no_proxy(self.workload)

    def _set_enabled(self) -> None:
        on = not self.unavailable
        for w in (self.pod, self.refresh, self.clusters, self.listeners, self.routes, self.bootstrap, self.raw_find):
            w.setEnabled(on)

    def _show_pods(self) -> None:
        self.pod.blockSignals(True)
        self.pod.clear()
        for p in proxy_pods(self.workload):
            self.pod.addItem(p.name, p)
        self.pod.blockSignals(False)
        self._pod_changed()

    def _pod_changed(self) -> None:
        self._clear()
        self.refresh.setEnabled(not self.unavailable and self.pod.count() > 0)
        if self.isVisible():
            self.load()
        else:
            self._stale = True
            self._generation += 1  # an answer on its way is for another pod
            self._worker.generation = self._generation
            if self.source is None or self.pod.currentData() is None:
                self._say(self._why_nothing())

    def _clear(self) -> None:
        self.config = None
        self._raw_text = ""
        self.raw.clear()
        self.summary.setText("")
        for table in (self.clusters, self.listeners, self.routes, self.bootstrap):
            table.set_rows([])
        self._titles()

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _titles(self) -> None:
        cfg = self.config
        for i, (title, n) in enumerate((("Clusters", len(cfg.clusters) if cfg else None),
                                        ("Listeners", len(cfg.listeners) if cfg else None),
                                        ("Routes", len(cfg.routes) if cfg else None))):
            self.tabs.setTabText(i, f"{title} ({n})" if n is not None else title)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.tabText(index) == "Config":
            self._fill_raw()

    def _fill_raw(self) -> None:
        # set when first looked at: megabytes of text are laid out only for a user who wants them
        if self._raw_text and not self.raw.toPlainText():
            self.raw.setPlainText(self._raw_text)

    def _on_done(self, generation: int, result: EnvoyLoad) -> None:
        if generation != self._generation:
            return
        cfg = result.config
        self.config = cfg
        self._raw_text = result.raw
        self.raw.clear()
        self.clusters.set_rows(cfg.clusters)
        self.listeners.set_rows(cfg.listeners)
        self.routes.set_rows(cfg.routes)
        self.bootstrap.set_rows(cfg.bootstrap)
        self._titles()
        if self.tabs.tabText(self.tabs.currentIndex()) == "Config":
            self._fill_raw()
        counts = f"{len(cfg.clusters)} clusters, {len(cfg.listeners)} listeners, {len(cfg.routes)} routes"
        self.summary.setText(counts + (f", read through the {result.way}" if result.way else ""))
        self.summary.setToolTip(cfg.summary())
        self._say("" if not (cfg.skipped or cfg.missing) else f"Shown in part: {cfg.summary()}")
        self.loaded.emit(cfg)

    def _on_failed(self, generation: int, error: SourceError) -> None:
        if generation != self._generation:
            return
        text = str(error)
        self.summary.setText("")
        self._say(f"Could not read the proxy config: {text}"
                  + (" (showing what was read before)" if self.config is not None else ""))
        self.failed.emit(text)
