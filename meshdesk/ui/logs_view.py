"""Pod logs of a workload: pick a pod and a container (the istio-proxy sidecar included), tail N lines
(or those of a restarted container's previous run), follow, search with highlighting. Reads run on a
worker thread; following is a poll for the seconds since the last line (``LogFollower``), stopped when
the view closes.

    logs = LogsView(KubePodLogs(api_client))      # or the DemoCluster itself (it has pod_logs)
    logs.set_workload(inventory.workload("shop", "reviews-v2"))
    logs.follow.setChecked(True)
    logs.shutdown()
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFontDatabase,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from meshdesk.fileio import write_atomic
from meshdesk.mesh.access_log import AccessEntry, flag_words, parse, summary
from meshdesk.mesh.inventory import Workload
from meshdesk.sources.base import SourceError
from meshdesk.sources.logs import (
    ALL_CONTAINERS,
    TAIL_LIMIT_BYTES,
    LogFollower,
    LogLine,
    MergedFollower,
    container_prefix,
    parse_timestamp_ns,
)
from meshdesk.ui.labels import NameLabel
from meshdesk.ui.savefile import ask_save_path
from meshdesk.ui.theme import readable

log = logging.getLogger(__name__)
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
MAX_LINES = 50_000
MAX_HIGHLIGHTS = 5000  # matches marked in the text (more slow every append down)
# characters Qt's text takes as the end of a line (a progress bar's carriage return, the Unicode
# separators, Qt's own frame marks): shown as signs, so that one log line stays one line of text
_LINE_BREAKERS = str.maketrans({"\r": "\u240d", "\u2028": "\u2424", "\u2029": "\u00b6",
                                "\ufdd0": "\ufffd", "\ufdd1": "\ufffd"})


# terminal escape sequences (colours and cursor moves: CSI; window titles and links: OSC; the short
# ones): a container logging in colour showed "←[32mINFO←[0m"; the text is shown without them
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\|$)|[ -/]*[0-~])|\x9b[0-?]*[ -/]*[@-~]")


MAX_LINE_CHARS = 10_000  # of one line shown (Qt lays a line out whole: megabytes of one stall the UI)


_PROXY_MARK = container_prefix("istio-proxy")  # the proxy's lines among all containers' (MergedFollower)
ACCESS_ROWS = 10_000  # the newest access log entries the table reads and shows (each takes ~25 µs to read)
ACCESS_COLUMNS = ("Time", "Direction", "Method", "Path", "Code", "Flags", "Duration ms", "Upstream", "Authority",
                  "Request ID")
_SEARCHED = ("The search looks for its text, in any case, in each line as the text shows it: with its timestamp "
             "when Timestamps is on, with the container's name when all containers are shown. \u201cOnly matching "
             "lines\u201d keeps those lines, in the text and in the access log table alike (Kiali's Show filter)")
_NO_ACCESS_LOG = ("No access log entries among these lines: Istio's proxies write them only when the mesh config "
                  "sets accessLogFile (e.g. /dev/stdout) or a Telemetry resource turns access logging on, and "
                  "only in the istio-proxy container")


class AccessLogModel(QAbstractTableModel):
    """Parsed access log entries as table rows: failed requests in red, 4xx in amber, each flag's
    meaning in its tooltip."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[AccessEntry] = []

    def set_entries(self, entries: list[AccessEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(ACCESS_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return ACCESS_COLUMNS[section]
        return None

    @staticmethod
    def cell(e: AccessEntry, column: int) -> str:
        values = (e.start_time, e.direction, e.method, e.path, "" if e.code is None else str(e.code),
                  ",".join(e.flags), "" if e.duration_ms is None else str(e.duration_ms), e.upstream, e.authority,
                  e.request_id)
        return values[column]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(e, index.column())
        if role == Qt.ItemDataRole.ForegroundRole:
            if e.failed:
                return readable("#c9190b")
            if e.code is not None and 400 <= e.code < 500:
                return readable("#b35900")
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 5 and e.flags:
                return flag_words(e.flags)
            if index.column() == 4 and e.details:
                return f"response code details: {e.details}"
            if index.column() == 7 and e.upstream_cluster:
                return f"cluster {e.upstream_cluster}" + (f", host {e.upstream_host}" if e.upstream_host else "")
        return None


def display_text(ln: LogLine, timestamps: bool = True) -> str:
    """A log line as the view shows it: its timestamp, then its text on one line, without terminal
    escape sequences, cut at MAX_LINE_CHARS with a note (Save keeps it whole)."""
    text = _ANSI.sub("", ln.text).translate(_LINE_BREAKERS)
    if len(text) > MAX_LINE_CHARS:
        text = f"{text[:MAX_LINE_CHARS]} … [{len(text) - MAX_LINE_CHARS:,} more characters: Save keeps the line whole]"
    return f"{ln.timestamp} {text}" if ln.timestamp and timestamps else text


class _Worker(QObject):
    done = Signal(int, str, object)  # generation, what ("load"/"poll"), lines
    failed = Signal(int, object)  # generation, SourceError

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0

    @Slot(object)
    def run(self, job: tuple[int, str, Callable[[], list[LogLine]]]) -> None:
        generation, what, fn = job
        if generation != self.generation:
            return
        try:
            lines = fn()
        except SourceError as e:
            e.__traceback__ = None
            self.failed.emit(generation, e)
            return
        except Exception as e:  # a bug or a library surprise: say it, keep the text
            log.exception("reading logs failed")
            self.failed.emit(generation, SourceError(f"{type(e).__name__}: {e}"))
            return
        self.done.emit(generation, what, lines)


class LogsView(QWidget):
    linesLoaded = Signal(int)  # lines added by a load or a follow poll (0 included)
    failed = Signal(str)

    _job = Signal(object)

    def __init__(self, source: Any = None, *, follow_ms: int = 2000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.unavailable = ""  # why there is no source, when there is a reason (see set_source)
        self.workload: Workload | None = None
        self.follower: LogFollower | MergedFollower | None = None
        self.pod = QComboBox()
        self.pod.setAccessibleName("Pod")
        self.container = QComboBox()
        self.container.setAccessibleName("Container")
        # as wide as the names they hold (a combo sized while empty cut "reviews-v2-7d9f…" to "reviews-"),
        # up to a bound, as pod names can run to 253 characters; the whole name is in the tooltip
        for combo, chars in ((self.pod, 48), (self.container, 24)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMaximumWidth(combo.fontMetrics().horizontalAdvance("x" * chars) + 40)
            combo.currentTextChanged.connect(combo.setToolTip)  # (filled with signals blocked: _name_tips)
        self.tail = QSpinBox()
        self.tail.setAccessibleName("Lines read")
        self.tail.setRange(1, MAX_LINES)  # more were read, then dropped: the text keeps MAX_LINES
        self.tail.setValue(200)
        self.tail.setPrefix("last ")
        self.tail.setSuffix(" lines")
        self.follow = QCheckBox("Follow")
        self.previous = QCheckBox("Previous")
        self.previous.setToolTip("The log of the container's run before its last restart: why it crashed "
                                 "(kubectl logs --previous)")
        self.reload = QPushButton("Reload")
        self.save = QPushButton("Save…")
        self.save.setToolTip("Write the lines shown to a file (with \u201cOnly matching lines\u201d, the matching "
                             "ones), as the container wrote them")
        self.save.setEnabled(False)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search")
        self.search.setAccessibleName("Search the log")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip(_SEARCHED)
        self.matches = QLabel("")
        self.only_matching = QCheckBox("Only matching lines")
        self.only_matching.setToolTip(_SEARCHED)
        self.timestamps = QCheckBox("Timestamps")
        self.timestamps.setChecked(True)
        self.access = QCheckBox("Access log table")
        self.access.setToolTip("Envoy's access log entries (the istio-proxy container's) as a table: method, "
                               "path, response code, flags with their meaning, duration, where each went")
        self.access_model = AccessLogModel(self)
        self.access_table = QTableView()
        self.access_table.setAccessibleName("Access log")
        self.access_table.setModel(self.access_model)
        self.access_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.access_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.access_table.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)
        self.access_table.verticalHeader().hide()
        self.access_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.access_table.horizontalHeader().setStretchLastSection(True)
        self.access_table.setWordWrap(False)
        self.access_summary = QLabel("")
        self.access_summary.setWordWrap(True)
        self.access_summary.setTextFormat(Qt.TextFormat.PlainText)  # a search text is shown as typed
        self.access_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the newest lines parsed for the table (kept while it is on), and those lines: a poll's new
        # lines are parsed alone
        self._entries: list[AccessEntry | None] = []
        self._entry_lines: list[LogLine] = []
        self._entry_line: LogLine | None = None
        # a message may name a long pod (or container): broken where names break, never widening the dock
        self.status = NameLabel("")
        self.status.setProperty("role", "warning")  # the theme's warning colour (3.3:1 as a fixed orange on dark)
        self.status.hide()
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Log")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # whose log on a line of its own, what is read of it on the next: on one line, in the dock under the graph
        # of a 1024-pixel-wide window, the pod's name was cut to "reviews-" and the window grew past its size
        which = QHBoxLayout()
        for w in (QLabel("Pod"), self.pod, QLabel("Container"), self.container):
            which.addWidget(w)
        which.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.tail)
        top.addWidget(self.previous)
        top.addWidget(self.follow)
        top.addStretch(1)
        top.addWidget(self.reload)
        top.addWidget(self.save)
        find = QHBoxLayout()
        find.addWidget(self.search, 1)
        find.addWidget(self.matches)
        find.addWidget(self.only_matching)
        find.addWidget(self.timestamps)
        find.addWidget(self.access)
        access_page = QWidget()
        al = QVBoxLayout(access_page)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(self.access_summary)
        al.addWidget(self.access_table, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.text)
        self.pages.addWidget(access_page)
        layout = QVBoxLayout(self)
        layout.addLayout(which)
        layout.addLayout(top)
        layout.addLayout(find)
        layout.addWidget(self.status)
        layout.addWidget(self.pages, 1)

        self._thread = QThread()
        self._thread.setObjectName("meshdesk-logs")
        _THREADS.add(self._thread)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._job.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        self._generation = 0
        self._busy = False
        self._restart_note = ""  # a container followed restarted: said until the log is read again
        self._lines: list[LogLine] = []
        self.timer = QTimer(self)
        self.timer.setInterval(follow_ms)
        self.timer.timeout.connect(self._poll)

        self.pod.currentIndexChanged.connect(self._pod_changed)
        self.container.currentIndexChanged.connect(lambda _i: self.load())
        self.reload.clicked.connect(self.load)
        self.save.clicked.connect(self._ask_save)
        self.tail.editingFinished.connect(self._tail_edited)
        self.follow.toggled.connect(self._follow_toggled)
        self.previous.toggled.connect(self._previous_toggled)
        self.search.textChanged.connect(self._search_changed)
        self.only_matching.toggled.connect(self._only_matching_toggled)
        self.timestamps.toggled.connect(self._timestamps_toggled)
        self.access.toggled.connect(self._access_toggled)
        self.search.returnPressed.connect(self.find_next)

    # -- public ---------------------------------------------------------------------------------
    def set_source(self, source: Any, *, unavailable: str = "") -> None:
        """``unavailable``: why there is no source (an offline snapshot has no pods to read): said
        instead of "No log source", with the controls off."""
        self.source = source
        self.unavailable = unavailable if source is None else ""
        if self.unavailable:
            self.follow.setChecked(False)
        for w in (self.pod, self.container, self.tail, self.previous, self.follow, self.reload, self.search):
            w.setEnabled(not self.unavailable)
        self.follow.setEnabled(not self.unavailable and not self.previous.isChecked())
        self.load()

    def set_workload(self, workload: Workload | None) -> None:
        """Offer the workload's pods (and their containers, the sidecar included) and load the first."""
        self.workload = workload
        self.pod.blockSignals(True)
        self.pod.clear()
        for p in workload.pods if workload else []:
            self.pod.addItem(p.name, p)
        self.pod.blockSignals(False)
        self._pod_changed()
        self._name_tips()

    def update_pods(self, workload: Workload) -> None:
        """The same workload read again (a refresh): offer the pods it has now (after a rollout, its new
        ones) without reloading the log shown. A pod shown that is gone stays chosen, marked so, with
        the text read from it (its last lines may be why the user is looking)."""
        self.workload = workload
        current = self.pod.currentData()
        names = [p.name for p in workload.pods]
        if [self.pod.itemData(i).name for i in range(self.pod.count())] == names:
            # the same pods: their details now (containers, states), or a later choice (the pod picked
            # again, its init container to read) would go by the state at the time it was picked
            for i, p in enumerate(workload.pods):
                self.pod.setItemData(i, p)
            self._update_containers()
            return
        self.pod.blockSignals(True)
        self.pod.clear()
        for p in workload.pods:
            self.pod.addItem(p.name, p)
        if current is not None:
            index = names.index(current.name) if current.name in names else -1
            if index < 0:
                self.pod.addItem(f"{current.name} (gone)", current)
                index = self.pod.count() - 1
                # not followed any more (each poll of it failed, every two seconds): said once, with the pods
                # to pick instead
                now = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                self._say(f"{current.name} is gone (deleted, or replaced by a rollout): what was read from it stays; "
                          + (f"pick one of the workload's pods now ({now}) to follow it." if names else
                             "the workload has no pod now."))
            self.pod.setCurrentIndex(index)
        self.pod.blockSignals(False)
        if current is None and workload.pods:
            self._pod_changed()
        elif current is not None and current.name in names:
            self._update_containers()
        self._name_tips()

    def _name_tips(self) -> None:
        """The whole pod and container names, which a narrow box may cut, in their tooltips."""
        self.pod.setToolTip(self.pod.currentText())
        self.container.setToolTip(self.container.currentText())

    @property
    def lines(self) -> list[LogLine]:
        return list(self._lines)

    @Slot()
    def load(self) -> None:
        """Tail the chosen container again (clears the text)."""
        pod = self.pod.currentData()
        container = self.container.currentData() or ""
        self._generation += 1
        self._worker.generation = self._generation
        self.text.clear()
        self._lines = []
        self._entries = []
        self._restart_note = ""
        self._fill_access()
        self.save.setEnabled(False)
        self.text.setPlaceholderText("")
        if self.source is None or pod is None or not container:
            self.follower = None
            self._say("No pod selected" if self.source is not None else self.unavailable or "No log source")
            return
        if container == ALL_CONTAINERS:
            names = [self.container.itemData(i) for i in range(self.container.count())
                     if self.container.itemData(i) not in (ALL_CONTAINERS, None)
                     and not self.container.itemText(i).endswith("(init)")]
            self.follower = MergedFollower(self.source, pod.namespace, pod.name, names, tail_lines=self.tail.value(),
                                           previous=self.previous.isChecked())
        else:
            self.follower = LogFollower(self.source, pod.namespace, pod.name, container, tail_lines=self.tail.value(),
                                        previous=self.previous.isChecked())
        self._say("")
        # until the lines come (a node that does not answer takes the request's whole timeout)
        self.text.setPlaceholderText(f"Reading the log of {pod.name} "
                                     f"({'all containers' if container == ALL_CONTAINERS else container})…")
        self._submit("load", self.follower.start)

    def default_file_name(self) -> str:
        """What Save offers: the pod and container it came from (``reviews-v2-abc-istio-proxy.log``)."""
        pod = self.pod.currentData()
        if pod is None:
            return "pod.log"
        previous = "-previous" if self.follower is not None and self.follower.previous else ""
        container = self.container.currentData() or "log"
        return f"{pod.name}-{'all' if container == ALL_CONTAINERS else container}{previous}.log"

    def save_log(self, path: str) -> None:
        """Write the lines shown (those kept, up to MAX_LINES; with "Only matching lines", those with the
        search text) to ``path`` atomically, as the container wrote them (colour codes and all), each
        after its timestamp as ``kubectl logs --timestamps`` prints it."""
        lines = self._lines
        needle = self.search.text().lower()
        if needle and self.only_matching.isChecked():  # what the text shows: the same test as _shown's
            ts = self.timestamps.isChecked()
            lines = [ln for ln in lines if needle in display_text(ln, ts).lower()]
        write_atomic(path, "".join(f"{ln.timestamp} {ln.text}\n" if ln.timestamp else f"{ln.text}\n"
                                   for ln in lines), mode=None, make_parents=False)

    def find_next(self) -> bool:
        """Move to the next match of the search text (wrapping); False when there is none."""
        needle = self.search.text()
        if not needle:
            return False
        if self.text.find(needle):
            return True
        self.text.moveCursor(QTextCursor.MoveOperation.Start)
        return self.text.find(needle)

    def match_count(self) -> int:
        """The matches of the search text in the lines as shown (their timestamps too when shown), as marked."""
        needle = self.search.text().lower()
        ts = self.timestamps.isChecked()
        return sum(display_text(ln, ts).lower().count(needle) for ln in self._lines) if needle else 0

    def highlighted(self) -> list[str]:
        """The highlighted snippets (what the search marks in the text)."""
        return [sel.cursor.selectedText() for sel in self.text.extraSelections()]

    def shutdown(self) -> None:
        self.timer.stop()
        self._generation += 1
        self._worker.generation = self._generation
        self._thread.quit()
        self._thread.wait(30000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    # -- internals ------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _submit(self, what: str, fn: Callable[[], list[LogLine]]) -> None:
        self._busy = True
        self._job.emit((self._generation, what, fn))

    @staticmethod
    def _containers(pod: Any) -> tuple[list[tuple[str, str]], int]:
        """A pod's containers as offered ((text, name)) and the one to read first."""
        if pod is None:
            return [], -1
        # its containers, its native sidecars, then its init containers (why a pod is stuck in Init)
        inits = [c for c in pod.init_containers if not c.sidecar]
        shown = pod.containers + [c for c in pod.init_containers if c.sidecar] + inits
        first_init = len(shown) - len(inits)
        items = [(f"{c.name} (init)" if i >= first_init else c.name, c.name) for i, c in enumerate(shown)]
        index = next((i for i, c in enumerate(shown) if c.name != "istio-proxy"), 0)
        if not any(c.state == "running" for c in pod.containers):
            # not running yet: the init container it waits on (running, failing) is the one to read
            stuck = [i for i, c in enumerate(shown) if i >= first_init and c.state not in ("", "terminated:Completed")]
            index = stuck[0] if stuck else index
        if first_init >= 2:  # the app's and the proxy's lines side by side, as Kiali's Logs tab shows them
            items.insert(first_init, ("all containers, by time", ALL_CONTAINERS))
            index += index >= first_init
        return items, index

    def _pod_changed(self) -> None:
        items, index = self._containers(self.pod.currentData())
        self.container.blockSignals(True)
        self.container.clear()
        for text, name in items:
            self.container.addItem(text, name)
        if items:
            self.container.setCurrentIndex(index)
        self.container.blockSignals(False)
        self.load()

    def _update_containers(self) -> None:
        """The pod shown read again: offer its containers now; the one shown stays (its text too) while
        the pod has it, else the one to read first is loaded."""
        items, index = self._containers(self.pod.currentData())
        if items == [(self.container.itemText(i), self.container.itemData(i)) for i in range(self.container.count())]:
            return
        current = self.container.currentData()
        names = [name for _text, name in items]
        self.container.blockSignals(True)
        self.container.clear()
        for text, name in items:
            self.container.addItem(text, name)
        if current in names:
            self.container.setCurrentIndex(names.index(current))
        elif items:
            self.container.setCurrentIndex(index)
        self.container.blockSignals(False)
        if current not in names:
            self.load()

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def _ask_save(self) -> None:
        named = ask_save_path(self, "Save the log", self.default_file_name(), "Logs (*.log *.txt)", ".log")
        if not named:
            return
        try:
            self.save_log(named)
        except OSError as e:  # the chosen file, not the temporary one beside it
            self._say(f"Could not save the log to {named}: {e.strerror or e}")

    def _tail_edited(self) -> None:
        """A new number of lines reloads; leaving the box unchanged (a click elsewhere) does not, or the
        lines followed so far were cleared."""
        if self.follower is None or self.follower.tail_lines != self.tail.value():
            self.load()

    def _previous_toggled(self, on: bool) -> None:
        """The previous run's log is read once (the container that wrote it has ended): no following."""
        if on:
            self.follow.setChecked(False)
        self.follow.setEnabled(not on and not self.unavailable)
        self.load()

    def _poll(self) -> None:
        # only while the view is in sight: a closed dock asked the API every two seconds for as long as
        # Follow stayed on; the lines written meanwhile come when it is shown again (asked from the last)
        if self._busy or self.follower is None or not self.isVisible() or self._pod_gone():
            return
        self._submit("poll", self.follower.poll)

    def _pod_gone(self) -> bool:
        """Whether the pod chosen is no longer the workload's (marked gone by ``update_pods``)."""
        pod = self.pod.currentData()
        return self.workload is not None and pod is not None and all(p.name != pod.name for p in self.workload.pods)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.follow.isChecked():
            self._poll()  # what was written while it was closed, at once

    def _on_done(self, generation: int, what: str, lines: list[LogLine]) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self.text.setPlaceholderText("")
        self._say("")
        added = len(lines)
        if lines:
            bar = self.text.verticalScrollBar()
            at_end = bar.value() >= bar.maximum() - 2
            if what == "poll" and isinstance(self.follower, MergedFollower):
                lines = self._take_back_newer(lines)
            self._lines += lines
            self.save.setEnabled(True)
            if len(self._lines) > MAX_LINES:  # the text keeps as many (setMaximumBlockCount)
                del self._lines[:-MAX_LINES]
            shown = self._shown(lines)
            if shown:
                self.text.appendPlainText("\n".join(shown))
            if at_end or what == "load":
                bar.setValue(bar.maximum())
            self._highlight()
            if self.access.isChecked():
                self._fill_access()
        elif what == "load":
            self._say("Its previous run wrote nothing" if self.follower is not None and self.follower.previous
                      else "The container has written nothing yet")
        if what == "poll" and self.follower is not None and self.follower.restarted:
            names = (", ".join(self.follower.restarted) if isinstance(self.follower, MergedFollower)
                     else self.follower.container)
            self._restart_note = (f"{names} restarted while followed: the last lines of the run that ended come "
                                  "before the new run's (Previous shows that run whole)")
        if self._restart_note:
            self._say(self._restart_note)
        if isinstance(self.follower, MergedFollower) and self.follower.left_out:
            self._say("Not read: " + "; ".join(self.follower.left_out))
        if what == "load" and self.follower is not None and self.follower.limited:
            # the last N lines asked for were more than the first read takes in: the newest that fit
            self._say(f"Older lines left out: the last {self.follower.tail_lines:,} lines are more than "
                      f"{TAIL_LIMIT_BYTES // (1024 * 1024)} MB, so the newest {len(lines):,} are shown")
        self.linesLoaded.emit(added)

    def _take_back_newer(self, lines: list[LogLine]) -> list[LogLine]:
        """All containers merged by time: the containers are read one after another, so a line one of
        them wrote just before another's newest shown line can come a poll later. The lines shown that
        are newer than the oldest of ``lines`` are taken off the end (of the text too) and returned
        with ``lines``, in time order, to be shown again where they belong."""
        first = parse_timestamp_ns(lines[0].timestamp)
        if first is None:
            return lines
        keep = len(self._lines)
        while keep and (parse_timestamp_ns(self._lines[keep - 1].timestamp) or -1) > first:
            keep -= 1
        newer = self._lines[keep:]
        if not newer:
            return lines
        del self._lines[keep:]
        shown = len(self._shown(newer))  # their blocks at the end of the text
        doc = self.text.document()
        if shown >= doc.blockCount():
            self.text.clear()
        elif shown:
            cursor = QTextCursor(doc.findBlockByNumber(doc.blockCount() - shown - 1))
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        # by time; at the same time, those shown before first (a stable sort)
        return sorted(newer + lines, key=lambda ln: parse_timestamp_ns(ln.timestamp) or -1)

    def _on_failed(self, generation: int, error: SourceError) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self.text.setPlaceholderText("")
        text = str(error)
        self._say(f"Could not read the log: {text}" + (" (showing what was read before)" if self._lines else ""))
        self.failed.emit(text)

    def _shown(self, lines: list[LogLine]) -> list[str]:
        """The text of ``lines`` as shown: with or without their timestamps, only those with the search
        text when "Only matching lines" is on."""
        ts = self.timestamps.isChecked()
        texts = [display_text(ln, ts) for ln in lines]
        needle = self.search.text().lower()
        if needle and self.only_matching.isChecked():  # the same test as the access table's
            texts = [t for t in texts if needle in t.lower()]
        return texts

    def _render(self) -> None:
        """Show the lines kept again (the filter or the timestamps changed), at the end."""
        self.text.clear()
        shown = self._shown(self._lines)
        if shown:
            self.text.appendPlainText("\n".join(shown))
        self.text.verticalScrollBar().setValue(self.text.verticalScrollBar().maximum())
        self._highlight()

    def _only_matching_toggled(self) -> None:
        self._render()
        if self.access.isChecked():  # the table narrows (or widens) with the text
            self._fill_access()

    def _timestamps_toggled(self) -> None:
        self._render()
        if self.access.isChecked() and self.only_matching.isChecked():  # a timestamp searched is in or out
            self._fill_access()

    def _search_changed(self) -> None:
        if self.only_matching.isChecked():
            self._render()
        else:
            self._highlight()
        if self.access.isChecked():
            self._fill_access()

    # -- the access log table -----------------------------------------------------------------------
    def _access_toggled(self, on: bool) -> None:
        self.pages.setCurrentIndex(1 if on else 0)
        if not on:
            self._entries = []  # read again when turned on: the lines are kept, their parse is not
        self._fill_access()

    def access_entries(self) -> list[AccessEntry]:
        """The access log entries the table shows (the newest ACCESS_ROWS lines read; with "Only matching
        lines", those whose line, as the text shows it, has the search text)."""
        lines = self._lines[-ACCESS_ROWS:]
        if len(self._entries) != len(lines) or (lines and self._entry_line is not lines[-1]):
            # parse what is new since the last time (a follow poll adds a few lines), else all again;
            # of all containers merged, the proxy's lines (marked with its name)
            merged = isinstance(self.follower, MergedFollower)
            known = {id(ln): e for ln, e in zip(self._entry_lines, self._entries, strict=False)}
            self._entries = [known[id(ln)] if id(ln) in known else
                             (parse(ln.text[len(_PROXY_MARK):]) if ln.text.startswith(_PROXY_MARK) else None)
                             if merged else parse(ln.text) for ln in lines]
            self._entry_lines = lines
            self._entry_line = lines[-1] if lines else None
        # the line as the text shows it (its timestamp, no terminal escapes), as _shown tests it: both
        # views keep the same lines for the same search
        needle = self.search.text().lower() if self.only_matching.isChecked() else ""
        ts = self.timestamps.isChecked()
        return [e for ln, e in zip(lines, self._entries, strict=True)
                if e is not None and (not needle or needle in display_text(ln, ts).lower())]

    def _fill_access(self) -> None:
        if not self.access.isChecked():
            self.access_model.set_entries([])
            return
        entries = self.access_entries()
        fitted = self.access_model.rowCount() > 0
        self.access_model.set_entries(entries)
        if entries and not fitted:  # the columns as wide as what they hold (then as the user drags them)
            self.access_table.resizeColumnsToContents()
        if entries:
            older = f" (the newest {ACCESS_ROWS:,} lines read)" if len(self._lines) > ACCESS_ROWS else ""
            self.access_summary.setText(summary(entries) + older)
        elif self.only_matching.isChecked() and self.search.text() and any(e is not None for e in self._entries):
            # there are entries, the search leaves none: not a proxy that writes no access log
            self.access_summary.setText(f"No access log entries with \u201c{self.search.text()}\u201d "
                                        "(\u201cOnly matching lines\u201d is on)")
        else:
            self.access_summary.setText(_NO_ACCESS_LOG if self._lines else "")
        self.access_table.scrollToBottom()

    def _highlight(self) -> None:
        needle = self.search.text()
        selections: list[QTextEdit.ExtraSelection] = []
        if needle:
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ffe066"))
            fmt.setForeground(QColor("#151515"))  # dark on the yellow in either theme (white was unreadable)
            doc = self.text.document()
            cursor = doc.find(needle, 0)
            while not cursor.isNull() and len(selections) < MAX_HIGHLIGHTS:
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
                cursor = doc.find(needle, cursor, QTextDocument.FindFlag(0))
        self.text.setExtraSelections(selections)
        if not needle:
            self.matches.setText("")
        elif len(selections) >= MAX_HIGHLIGHTS:
            self.matches.setText(f"{self.match_count()} matches (the first {MAX_HIGHLIGHTS} marked)")
        else:
            self.matches.setText(f"{len(selections)} match{'es' if len(selections) != 1 else ''}")
