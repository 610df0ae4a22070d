"""The main window: toolbar, graph (or an empty/first-run state), side panel dock, status bar.

Data flow: the toolbar's choices become a GraphRequest; the Poller fetches and builds off the UI
thread; here the UI thread only hands the new graph to the canvas (which applies the difference), the
side panel and the status bar. Errors arrive by kind and show in a non-modal banner."""

from __future__ import annotations

import dataclasses
import html
import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QFileSystemWatcher, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QTabBar,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from meshdesk.fileio import with_default_suffix
from meshdesk.mesh.check_codes import IGNORED_BY_DEFAULT
from meshdesk.mesh.find import FIND_PRESETS, HIDE_PRESETS
from meshdesk.mesh.graph.model import NODE_BOX, TrafficGraph
from meshdesk.mesh.inventory import OUTSIDE, Inventory
from meshdesk.mesh.node_focus import missing_focus, service_entry_focus
from meshdesk.mesh.request import GRAPH_TYPES, GraphRequest, NodeFocus
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.words import counted
from meshdesk.sources.base import (
    MeshSource,
    PrometheusNotFound,
    SnapshotFileError,
    SourceError,
    SourceInfo,
    Timeout,
    Unreachable,
)
from meshdesk.sources.snapshot import snapshot_stem
from meshdesk.sources.writes import PENDING_TEXT
from meshdesk.store.layouts import (
    SNAPSHOT_META_KEY,
    LayoutKey,
    LayoutStore,
    carried_layout,
    read_carried_layout,
)
from meshdesk.store.settings import Settings, load_settings, save_problem
from meshdesk.ui import readers
from meshdesk.ui.banner import Banner
from meshdesk.ui.canvas import DisplayOptions, GraphView, Legend, canvas_shortcuts
from meshdesk.ui.empty import EmptyState
from meshdesk.ui.istio_status import (
    RECORDED_ADDONS,
    IstioStatusIndicator,
    addon_states,
    grafana_links,
    recorded,
)
from meshdesk.ui.labels import ElidedLabel
from meshdesk.ui.mesh_view import MeshDock
from meshdesk.ui.messages import MessageBus, UserMessage, error_title, title_for
from meshdesk.ui.nodegraph import FocusBar, focus_for, focus_key, focus_text, no_node_graph
from meshdesk.ui.panels import SidePanel
from meshdesk.ui.poller import GraphBuilder, Poller, PollFailure, PollResult, SourceFactory, ValidatingBuilder
from meshdesk.ui.replay import ReplayBar
from meshdesk.ui.savefile import replace_ok
from meshdesk.ui.snapshot_open import SnapshotOpener, SnapshotSaver, file_problem, reason_of
from meshdesk.ui.textcopy import TextCopyKeys, leave_copy_keys_to_the_window
from meshdesk.ui.tls_lock import MeshTlsIndicator
from meshdesk.ui.toolbar import (
    DEMO,
    DURATIONS,
    EDGE_LABELS,
    GRAPH_SHAPING,
    KEPT_CHOICES,
    LEGACY_DEMO,
    MANUAL,
    PAUSE,
    REFRESH_TIP,
    REPLAY_TIP,
    SNAPSHOT_PREFIX,
    MainToolBar,
    ViewChoices,
    kept_choices,
)
from meshdesk.ui.toolbar import GRAPH_TYPES as GRAPH_TYPE_NAMES

log = logging.getLogger(__name__)


_SETTINGS_NOT_SAVED = "Settings not saved:"


def snapshot_context(path: str) -> str:
    """The context a snapshot file is offered as: by its whole path, so two files of one name in two
    folders are two contexts (their namespaces and layouts are kept apart)."""
    return SNAPSHOT_PREFIX + str(Path(path).resolve())


def shown_name(context: str) -> str:
    """What the window shows, as a sentence names it: "the snapshot shop.json", "the demo mesh",
    "context prod"."""
    if context.startswith(SNAPSHOT_PREFIX):
        return f"the snapshot {Path(context[len(SNAPSHOT_PREFIX):]).name}"
    return "the demo mesh" if context == DEMO else f"context {context}"
# The appenders the app asks for; idle and operation nodes only when their toggle is on (an appender
# asked for by name always runs; None would mean all).
BASE_APPENDERS = ("serviceEntry", "deadNode", "workloadEntry", "responseTime", "securityPolicy", "throughput",
                  "meshCheck", "istio", "ambient", "labeler", "health")
WINDOW_STATE_VERSION = 1  # of the docks' arrangement kept in the settings (bump when docks change)
NO_CLUSTER_KINDS = frozenset({"unreachable", "unauthorized", "config", "timeout", "forbidden"})


def _reopening(cs: Any) -> Any:
    """A context's settings as far as a change to them reopens it (its servers, logins and defaults): its
    health tolerances only judge the graph again, its Kiali extensions only ask the graph again, its
    Grafana address is only where "View in Grafana" goes, its runtime dashboards are only found again."""
    if dataclasses.is_dataclass(cs) and not isinstance(cs, type) and hasattr(cs, "health_rates"):
        cs = dataclasses.replace(cs, health_rates=None)
    if dataclasses.is_dataclass(cs) and not isinstance(cs, type) and hasattr(cs, "extensions"):
        cs = dataclasses.replace(cs, extensions=())
    if dataclasses.is_dataclass(cs) and not isinstance(cs, type) and hasattr(cs, "grafana_url"):
        cs = dataclasses.replace(cs, grafana_url="")  # only the Metrics dock's link goes there
    if dataclasses.is_dataclass(cs) and not isinstance(cs, type) and hasattr(cs, "custom_dashboards"):
        cs = dataclasses.replace(cs, custom_dashboards=None)  # only the Metrics dock finds its dashboards again
    return cs


def build_request(namespaces: Sequence[str], c: ViewChoices, query_time: int = 0,
                  node: NodeFocus | None = None, health_rates: Sequence[Mapping[str, Any]] = (),
                  extensions: Sequence[str] = ()) -> GraphRequest:
    """The graph-shaping part of the user's choices, as a GraphRequest; ``query_time`` is the end of
    its time window (0: now; replay sets an earlier one); ``node`` makes it a node graph, of the
    node's namespace; ``health_rates``: the settings' health tolerances (Kiali's health_config.rate);
    ``extensions``: the context's enabled Kiali extensions."""
    appenders = (BASE_APPENDERS + (("idleNode",) if c.idle_nodes else ())
                 + (("operationNodes",) if c.operation_nodes else ()))
    return GraphRequest(
        graphType=c.graph_type,
        namespaces=(node.namespace,) if node is not None else tuple(namespaces),
        node=node,
        injectServiceNodes=c.service_nodes,
        includeIdleNodes=c.idle_nodes,
        includeIdleEdges=c.idle_edges,
        duration=c.duration,
        boxBy=(("cluster",) if c.cluster_boxes else ()) + (("namespace",) if c.boxes else ()),
        appenders=appenders,
        responseTimeQuantile=c.quantile,
        ambientTraffic=c.ambient_traffic,
        showWaypoints=c.waypoints,
        rateHttp=c.rate_http,
        rateGrpc=c.rate_grpc,
        rateTcp=c.rate_tcp,
        queryTime=query_time,
        healthRates=tuple(health_rates),
        extensions=tuple(extensions),
    )


def has_traffic(graph: TrafficGraph) -> bool:
    return any(e.rate > 0 and not e.is_idle for e in graph.edges.values())


def age_text(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    return f"{s // 3600} h {s % 3600 // 60} min ago"


@dataclasses.dataclass(frozen=True)
class _FailureSaid:
    """What the banner says of the last failed fetch (its ages are worked out each time it is shown)."""

    kind: str
    message: str
    advice: str | None
    retry_words: str
    retry_at: float | None  # time.monotonic() of the next try; None: no try comes by itself
    shown_view: str  # the view the graph kept is of, when not the one asked for ("" when it is)
    title: str = ""  # the error's own title (``error_title``)


def _presets(presets: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """meshdesk.mesh.find lists (label, expression); the toolbar takes (expression, label)."""
    return [(expr, label) for label, expr in presets]


def _with_suffix(path: str, suffix: str) -> str:
    """``path`` ending in ``suffix`` (any case): a name typed without it, or with another format's
    (``graph.png`` for an SVG), gets it added, so the file's name says what it holds."""
    return path if path.lower().endswith(suffix) else path + suffix


def why_no_current_context(current: str | None, names: Sequence[str]) -> str:
    """Why no context opens by itself from a kubeconfig with contexts ``names`` (and a current context
    ``current``), in words asking the user to choose; "" when ``current``, or the only context, opens.
    As kubectl refuses a current context that does not exist, and talks to no cluster without one:
    the first context by name (maybe production) was opened without a word, its login plugin run."""
    if not names:
        return ""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if current and current not in names:
        return (f"The kubeconfig's current context {current!r} does not exist. Choose one of its contexts "
                f"({shown}) in the context box above.")
    if not current and len(names) > 1:
        return f"The kubeconfig sets no current context. Choose one of its contexts ({shown}) in the context box above."
    return ""


def mesh_clusters(source: Any, inventory: Inventory | None) -> list[tuple[str, str, bool]]:
    """The clusters a live source reads, the shown context's first: (cluster name, context, whether its
    inventory was read this time). One entry for a context read alone."""
    clusters = getattr(source, "clusters", None)
    if not callable(clusters) or not getattr(source, "linked", None):
        return []
    unread = inventory.unread_clusters if inventory is not None else {}
    return [(name, context, name not in unread) for name, context, _how in clusters()]


def first_size(available: QSize, usual: QSize) -> QSize:
    """The window's size when none was kept: ``usual`` (1280x800), or less on a screen smaller than that,
    with room left for the window's frame and a panel, so that the status bar and the details are not
    under the screen's edges (a 1366x768 laptop's, a 1024x700 one's, any at 150%)."""
    return QSize(min(usual.width(), available.width() * 19 // 20), min(usual.height(), available.height() * 9 // 10))


class MainWindow(QMainWindow):
    """``factories`` maps context names to source factories (tests, and the demo/snapshot entries);
    other names open a kubeconfig context."""

    graphShown = Signal(object)  # TrafficGraph, after it reached the canvas and the panel
    snapshotSaved = Signal(str, bool)  # path, whether it was written (File > Save snapshot writes on a thread)

    def __init__(self, *, contexts: Sequence[str] = (), context: str = "", kubeconfig: str | None = None,
                 namespaces: Sequence[str] | None = None, settings: Settings | None = None,
                 factories: Mapping[str, SourceFactory] | None = None, builder: GraphBuilder | None = None,
                 first_run_reason: str = "", backoff_base: float = 2.0, backoff_cap: float = 120.0,
                 watch_kubeconfig: bool = False, awaited_context: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        """``watch_kubeconfig``: the contexts came from the kubeconfig, and a refresh reads them again
        (a context added with kubectl or a cloud CLI appears without a restart). ``awaited_context``: a
        context asked for (--context) that the kubeconfig does not have; it opens when the kubeconfig
        file gets it, unless the user picked another context first. ``clock``: this machine's clock
        (unix seconds), which Replay counts back from (a test gives one that is off)."""
        super().__init__()
        self._watch_kubeconfig = watch_kubeconfig
        self._awaited_context = awaited_context
        self._kubeconfig_watcher: QFileSystemWatcher | None = None
        self.setWindowTitle("meshdesk")
        self.resize(1280, 800)
        self.settings = settings if settings is not None else load_settings()
        self._settings_told: set[str] = set()  # the settings' warnings the banner has said
        # those reading the file found were logged by the reading (a save during start-up says them in the banner
        # before the start's own turn: logged once, not again)
        self._settings_logged: set[str] = set(getattr(self.settings, "warnings", []))
        self.kubeconfig = kubeconfig
        self.factories: dict[str, SourceFactory] = dict(factories or {})
        self._snapshots_shaped: set[str] = set()  # snapshot contexts already shown as they were saved
        # the namespaces chosen in a snapshot this session (never kept in the settings: a file's
        # namespaces are its own, and it opens as it was saved)
        self._snapshot_namespaces: dict[str, list[str]] = {}
        self._live_choices: ViewChoices | None = None  # the toolbar's choices before a snapshot was shown
        self._snapshot_paths: dict[str, str] = {}  # snapshot context -> its file, as it was opened
        # a file is read and checked before the window switches to it (what is shown stays meanwhile)
        self.snapshot_opener = SnapshotOpener(self)
        self.snapshot_saver = SnapshotSaver(self)
        self.snapshot_saver.saved.connect(self._on_snapshot_saved)
        self.snapshot_opener.opened.connect(self._on_snapshot_opened)
        self.snapshot_opener.failed.connect(self._on_snapshot_failed)
        # the busy cursor lasts as long as a read is awaited (an answer, a newer choice or a cancel ends it)
        self.snapshot_opener.busyChanged.connect(self._on_snapshot_busy)
        self.file_problem_box: QMessageBox | None = None  # the last dialog about a file not opened or saved
        # closing leaves a fetch stuck in a call rather than wait for it (the app's own window: its
        # process exits then; windows made in tests wait, to leave no thread behind)
        self.quick_exit = False
        self._tab_bars_timer = QTimer(self)  # tidies the docks' tab bars once Qt has laid them out
        self._tab_bars_timer.setSingleShot(True)
        self._tab_bars_timer.setInterval(0)
        self._tab_bars_timer.timeout.connect(self._hide_stray_tab_bars)
        self.contexts = list(contexts)
        self.context = ""
        self._awaiting_namespaces = False  # a context's namespace list has not come yet
        self.graph: TrafficGraph | None = None
        self.snapshot: Snapshot | None = None  # what the graph shown was built from (File > Save snapshot)
        self.inventory: Inventory | None = None
        self.info: SourceInfo | None = None
        self.last_ok: float | None = None
        self.last_error: SourceError | None = None
        self._layout_key: LayoutKey | None = None
        self._fit_pending = False
        self._relayout_from: int | None = None  # poll generation whose graph answers a shape change
        self._opened_with: Any = None  # the settings of the context shown, as it was opened with them
        self._ns_override = list(namespaces) if namespaces else None
        self._closed = False
        self._shown_once = False
        self._hidden_said: frozenset[str] = frozenset()  # the inventory's unread parts the banner told
        self._hidden_note = ""  # the banner's text when it last said them
        self._told_no_listing = False  # the banner said the namespaces could not be listed
        self._canvas_focused = False  # the first graph shown gave the canvas the keyboard
        self._demo_mesh: MeshSource | None = None  # the demo mesh, made once (see factory_for)
        self.actions_controller: Any = None  # set by meshdesk.ui.app (meshdesk.ui.actions.install_actions)
        self._injection_waits: set[str] = set()  # namespaces whose Enable injection waits for RBAC answers
        self.extensions: list[Any] = []  # parts added from outside (e.g. the performance views); see add_extension

        self.messages = MessageBus(parent=self)
        self.messages.message.connect(self._on_message)
        # the default builder leaves out the validation codes the settings name (Kiali's validations.ignore)
        if builder is None:
            builder = ValidatingBuilder(getattr(self.settings, "ignored_checks", IGNORED_BY_DEFAULT))
        self.poller = Poller(builder, backoff_base=backoff_base, backoff_cap=backoff_cap, parent=self)

        self.toolbar = MainToolBar(self, find_presets=_presets(FIND_PRESETS), hide_presets=_presets(HIDE_PRESETS))
        # the display choices of the last session (edge labels, badges, boxes, idle nodes...)
        kept, passed_over = kept_choices(self.settings.display)
        if kept:
            self.toolbar.set_choices(dataclasses.replace(self.toolbar.choices, **kept))  # type: ignore[arg-type]
        if passed_over:
            self.settings.warnings.append("settings: display: " + "; ".join(passed_over[:3])
                                          + (f" and {len(passed_over) - 3} more" if len(passed_over) > 3 else "")
                                          + "; passed over (the graph's defaults are used for them)")
        self.addToolBar(self.toolbar)
        self.addToolBarBreak()
        self.addToolBar(self.toolbar.view_bar)

        # centre: banner over (graph | empty state)
        self.view = GraphView()
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.banner = Banner()
        self.replay = ReplayBar(clock=clock)
        self.replay.hide()
        self.focus_bar = FocusBar()
        self.focus_bar.hide()
        self._node_focus: NodeFocus | None = None  # the node of a node graph; None: the namespaces' graph
        self._focus_shown: NodeFocus | None = None  # the node graph on the canvas (None: the full graph)
        self._replay_at: int | None = None  # the time a replayed graph shows; None: live
        self._failure_said: _FailureSaid | None = None  # the banner of the last failed fetch
        self._failure_markup = ""  # what the banner showed of it last
        self._failure_ages: tuple[str, float | None] = ("", None)  # and the ages it said
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addWidget(self.replay)
        lay.addWidget(self.focus_bar)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(centre)

        # right dock: the side panel
        self.panel = SidePanel()
        self.dock = QDockWidget("Details", self)
        self.dock.setObjectName("detailsDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        # the right docks run the full height: docks added at the bottom sit under the graph only, so
        # their heights and the details' do not add up past a laptop screen
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.dock], [340], Qt.Orientation.Horizontal)
        self.legend_dock = QDockWidget("Legend", self)
        self.legend_dock.setObjectName("legendDock")
        legend_scroll = QScrollArea()  # the legend is tall: it scrolls rather than make the window taller
        legend_scroll.setAccessibleName("Legend")
        legend_scroll.setWidget(Legend())
        legend_scroll.setWidgetResizable(True)
        legend_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.legend_dock.setWidget(legend_scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.legend_dock)
        self.tabifyDockWidget(self.dock, self.legend_dock)
        self.dock.raise_()
        # the mesh's infrastructure (View > Mesh), as Kiali's Mesh page: hidden until asked for
        self.mesh_dock = MeshDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.mesh_dock)
        self.mesh_dock.hide()

        # status bar
        self.status_source = ElidedLabel()  # long context names (EKS ARNs) must not crowd the rest out
        self.status_prometheus = ElidedLabel()
        self.status_age = QLabel()
        self.status_mtls = MeshTlsIndicator()  # the mesh-wide mTLS lock, as Kiali's masthead shows it
        self.status_istio = IstioStatusIndicator()  # Istio's components, as Kiali's masthead shows them
        # the inventory read while Prometheus failed (nothing graphed yet): what the Istio status is of
        self._partial_inventory: Inventory | None = None
        sb = self.statusBar()
        sb.addWidget(self.status_source)
        sb.addWidget(self.status_prometheus, 1)
        sb.addPermanentWidget(self.status_istio)
        sb.addPermanentWidget(self.status_mtls)
        sb.addPermanentWidget(self.status_age)
        self._age_timer = QTimer(self)
        self._age_timer.timeout.connect(self._update_age)
        self._age_timer.start(1000)
        # the rest of showing a refreshed graph (panel, status), one event-loop turn after the canvas
        self._pending_shown: tuple[TrafficGraph, Inventory | None] | None = None
        self._shown_timer = QTimer(self)
        self._shown_timer.setSingleShot(True)
        self._shown_timer.setInterval(0)
        self._shown_timer.timeout.connect(self._show_pending)

        self._build_menus()
        self._wire()
        # every toolbar's and dock's combo box said by its name on Linux too, not by its value alone
        readers.label_combo_boxes(self)
        readers.name_toolbar_extensions(self)
        self.toolbar.set_contexts(self._context_names(), context)
        if context:
            self.switch_context(context)
        else:
            self.show_no_cluster(first_run_reason or "No kubeconfig context was found.")
        if awaited_context and not context:
            self._watch_for_awaited_context()
        # what reading them found (logged then), and what saving them above may have added
        self._tell_settings_warnings(log_them=False)

    # -- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        act = file_menu.addAction("Open &snapshot…")
        act.setShortcut(QKeySequence.StandardKey.Open)
        act.triggered.connect(self._choose_snapshot)
        self.save_snapshot_action = file_menu.addAction("Sa&ve snapshot…")
        self.save_snapshot_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_snapshot_action.setToolTip("Keep what the graph shows (telemetry and inventory) in a file "
                                             "that opens offline, here or on a colleague's machine")
        self.save_snapshot_action.setEnabled(False)
        self.save_snapshot_action.triggered.connect(lambda: self.save_snapshot(background=True))
        file_menu.addAction("Choose a &kubeconfig…").triggered.connect(self._choose_kubeconfig)
        file_menu.addAction("Open the &demo mesh").triggered.connect(self.open_demo)
        file_menu.addSeparator()
        prefs = file_menu.addAction("Se&ttings…")
        prefs.setShortcut(QKeySequence("Ctrl+,"))
        prefs.triggered.connect(self.show_settings)
        file_menu.addSeparator()
        file_menu.addAction("Export &PNG…").triggered.connect(lambda: self.export_image("png"))
        file_menu.addAction("Export S&VG…").triggered.connect(lambda: self.export_image("svg"))
        file_menu.addSeparator()
        quit_act = file_menu.addAction("&Quit")
        # Ctrl+Q as the shortcut list says, on every platform (Quit has no standard key on some)
        quit_keys = {k.toString(): k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)}
        quit_act.setShortcuts([QKeySequence("Ctrl+Q")] + [k for text, k in quit_keys.items() if text != "Ctrl+Q"])
        quit_act.triggered.connect(self.close)

        view_menu = self.view_menu = mb.addMenu("&View")  # kept: extensions add their docks' toggles
        view_menu.addAction(self.toolbar.refresh_action)
        view_menu.addAction(self.toolbar.replay_action)
        self.back_action = view_menu.addAction("Back to the full graph")
        self.back_action.setShortcut(QKeySequence("Alt+Left"))
        self.back_action.setToolTip("Leave a node graph (double-click a node to open its graph)")
        self.back_action.setEnabled(False)
        self.back_action.triggered.connect(lambda: self.set_focus(None))
        view_menu.addAction(self.toolbar.fit_action)
        copy = view_menu.addAction("Copy details")
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setToolTip("Copy what the details panel says about the selection, as text (for a ticket or a chat)")
        copy.triggered.connect(self.copy_details)
        # where the user selected text (the YAML, the logs, Envoy's dumps, a table) Ctrl+C copies that:
        # the window-wide shortcut keeps the keys only on the canvas, the details panel and the rest
        self._text_copy_keys = TextCopyKeys(self)
        leave_copy_keys_to_the_window(self.panel)
        # the window's, as Ctrl+0 and Ctrl+E: they zoomed only with the keyboard on the graph (after typing in
        # Find, Ctrl+0 fitted and Ctrl++ did nothing); Ctrl+= is Ctrl++ without Shift on most keyboards
        for label, standard, extra, slot in (("Zoom in", QKeySequence.StandardKey.ZoomIn, "Ctrl+=", self.view.zoom_in),
                                             ("Zoom out", QKeySequence.StandardKey.ZoomOut, "Ctrl+_", self.view.zoom_out)):
            bindings = {k.toString(): k for k in QKeySequence.keyBindings(standard)}
            bindings.setdefault(extra, QKeySequence(extra))
            zoom_action = view_menu.addAction(label)
            zoom_action.setShortcuts(list(bindings.values()))
            zoom_action.triggered.connect(slot)
        zoom = view_menu.addAction("Zoom to selection")
        zoom.setShortcut(QKeySequence("Ctrl+E"))
        zoom.triggered.connect(self.view.zoom_to_selection)
        focus_find = view_menu.addAction("Find…")
        focus_find.setShortcut(QKeySequence.StandardKey.Find)
        focus_find.triggered.connect(lambda: self._focus(self.toolbar.find_edit))
        focus_hide = view_menu.addAction("Hide…")
        focus_hide.setShortcut(QKeySequence("Ctrl+H"))
        focus_hide.triggered.connect(lambda: self._focus(self.toolbar.hide_edit))
        view_menu.addSeparator()
        view_menu.addAction(self._dock_action(self.dock, "Details panel", "Ctrl+D"))
        if self.legend_dock is not None:
            view_menu.addAction(self._dock_action(self.legend_dock, "Legend", "Ctrl+L"))
        self.mesh_action = self._dock_action(self.mesh_dock, "Mesh", "Ctrl+M", focus=True)
        self.mesh_action.setToolTip("The mesh's infrastructure: control planes, the namespaces each one "
                                    "takes, gateways and addons, as Kiali's Mesh page")
        view_menu.addAction(self.mesh_action)
        # keyboard reach: F6 moves the keyboard focus from pane to pane (graph, then each dock in
        # view), as in browsers and file managers; the docks' own keys show one and go into it
        self.next_pane_action = view_menu.addAction("Next pane")
        self.next_pane_action.setShortcut(QKeySequence("F6"))
        self.next_pane_action.triggered.connect(lambda: self.focus_pane(1))
        self.previous_pane_action = view_menu.addAction("Previous pane")
        self.previous_pane_action.setShortcut(QKeySequence("Shift+F6"))
        self.previous_pane_action.triggered.connect(lambda: self.focus_pane(-1))
        view_menu.addMenu(self.toolbar.traffic_menu).setText("Traffic")
        view_menu.addMenu(self.toolbar.display_menu).setText("Display")
        view_menu.addMenu(self.toolbar.layout_menu).setText("Layout")

        self.demo_menu = mb.addMenu("&Demo")
        self.start_traffic_action = self.demo_menu.addAction("Start traffic")
        self.start_traffic_action.triggered.connect(self.start_demo_traffic)
        self.stop_traffic_action = self.demo_menu.addAction("Stop traffic")
        self.stop_traffic_action.triggered.connect(self.stop_demo_traffic)
        self.demo_menu.menuAction().setVisible(False)

        help_menu = mb.addMenu("&Help")
        keys = help_menu.addAction("Keyboard shortcuts")
        keys.setShortcut(QKeySequence("F1"))
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction("About meshdesk").triggered.connect(self._about)

    def _dock_action(self, dock: QDockWidget, text: str, keys: str, focus: bool = False) -> QAction:
        """A checkable action that shows ``dock`` in front (raising its tab when it shares one) or hides
        it when it is in view: Qt's own toggle only closes and reopens it, so a dock behind another
        tab stayed behind it. With ``focus``, the keyboard goes into the dock it shows, and back to the
        graph from the dock it hides."""
        act = QAction(text, self)
        act.setCheckable(True)
        act.setShortcut(QKeySequence(keys))

        def toggle() -> None:
            if _in_view(dock):
                now = QApplication.focusWidget()
                had_focus = now is not None and dock.isAncestorOf(now)
                dock.hide()
                if focus and had_focus:
                    self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
            else:
                dock.show()
                dock.raise_()
                if focus:
                    _focus_into(dock)

        act.triggered.connect(toggle)
        dock.visibilityChanged.connect(act.setChecked)
        act.setChecked(dock.isVisible())
        return act

    def dock_action(self, dock: QDockWidget, text: str, keys: str) -> QAction:
        """The View menu's action for an extension's dock: shows it and puts the keyboard in it."""
        return self._dock_action(dock, text, keys, focus=True)

    def panes(self) -> list[QWidget]:
        """What F6 moves between: the graph, then each dock in view (not one behind another's tab)."""
        docks = [d for d in self.findChildren(QDockWidget) if d.parent() is self and _in_view(d)]
        return [self.view, *docks]

    def focus_pane(self, step: int) -> None:
        """Move the keyboard focus ``step`` panes on from the one holding it (round the end)."""
        panes = self.panes()
        now = QApplication.focusWidget()
        at = next((i for i, p in enumerate(panes) if now is not None and (p is now or p.isAncestorOf(now))),
                  -1 if step > 0 else 0)
        for k in range(1, len(panes) + 1):
            pane = panes[(at + step * k) % len(panes)]
            if pane is self.view:
                self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return
            if isinstance(pane, QDockWidget) and _focus_into(pane):
                return

    def _back_to_graph(self) -> None:
        """The keyboard back on the graph (Esc in an empty Find or Hide field), when the graph is shown."""
        if self.stack.currentWidget() is self.view:
            self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @staticmethod
    def _focus(edit: Any) -> None:
        edit.setFocus()
        edit.selectAll()

    def _wire(self) -> None:
        tb = self.toolbar
        tb.contextSelected.connect(self._on_context_selected)
        tb.namespacesSelected.connect(self._on_namespaces_selected)
        tb.choicesChanged.connect(self._on_choices)
        tb.refreshNowRequested.connect(self.refresh_now)
        tb.layoutRequested.connect(self.view.relayout)
        tb.resetLayoutRequested.connect(self.view.reset_layout)
        tb.undoResetLayoutRequested.connect(self.view.undo_reset)
        self.view.addAction(tb.undo_reset_action)  # its Ctrl+Z acts with the canvas focused (the menu shows it)
        self.view.undoResetAvailable.connect(tb.undo_reset_action.setEnabled)
        self.view.problemsReported.connect(self._show_canvas_problems)  # a failed save: said at the drag
        tb.exportLayoutRequested.connect(self.export_layout)
        tb.importLayoutRequested.connect(self.import_layout)
        tb.findChanged.connect(lambda e: self._expression("Find", self.view.set_find, tb.find_edit, e))
        tb.hideChanged.connect(lambda e: self._expression("Hide", self.view.set_hide, tb.hide_edit, e))
        tb.fieldLeft.connect(self._back_to_graph)
        tb.exportImageRequested.connect(self.export_image)
        tb.fitRequested.connect(self.view.fit)
        self.view.selectionChanged.connect(self._on_selection)
        self.view.layoutFinished.connect(self._on_layout_finished)
        self.poller.graphReady.connect(self._on_graph)
        self.poller.busyChanged.connect(lambda _busy: self._update_age())
        self.poller.failed.connect(self._on_failed)
        self.poller.sourceOpened.connect(self._on_source_opened)
        self.poller.namespacesReady.connect(self._on_namespaces_ready)
        self.banner.retryRequested.connect(self.refresh_now)
        self.empty.startTrafficRequested.connect(self.start_demo_traffic)
        self.empty.openDemoRequested.connect(self.open_demo)
        self.empty.kubeconfigChosen.connect(self.open_kubeconfig)
        self.empty.snapshotRequested.connect(self._choose_snapshot)
        self.empty.retryRequested.connect(self.refresh_now)
        self.empty.settingsRequested.connect(self.show_settings)
        self.toolbar.replay_action.toggled.connect(self.set_replay)
        self.toolbar.context_combo.aboutToShowPopup.connect(self._on_context_list_opening)
        self.focus_bar.backRequested.connect(lambda: self.set_focus(None))
        self.replay.timeChosen.connect(self._replay_to)
        self.replay.liveRequested.connect(lambda: self.toolbar.replay_action.setChecked(False))
        self.empty.showIdleRequested.connect(lambda: self.toolbar.choose(idle_nodes=True))
        self.empty.enableInjectionRequested.connect(self._enable_injection)
        self.view.nodeDoubleClicked.connect(self._on_double_click)

    # -- sources ------------------------------------------------------------------------------------
    def _context_names(self) -> list[str]:
        names = list(self.contexts)
        for n in self.factories:
            if n not in names:
                names.append(n)
        if DEMO not in names:
            names.append(DEMO)
        return names

    def factory_for(self, context: str) -> SourceFactory:
        if context in self.factories:
            return self.factories[context]
        if context == DEMO:
            def demo() -> MeshSource:
                from meshdesk.sources.demo import DemoCluster

                # one demo mesh per window: like a real cluster, it keeps what was applied to it (and its
                # traffic switch) while the user looks at another context
                if self._demo_mesh is None:
                    self._demo_mesh = DemoCluster(traffic=True)
                return self._demo_mesh
            return demo
        kubeconfig = self.kubeconfig
        cs = self.settings.context_settings(context)

        def cluster() -> MeshSource:
            from meshdesk.sources.cluster import open_source

            return open_source(
                kubeconfig=kubeconfig, context=context,
                prometheus_url=cs.prometheus_url or None, prometheus_auth=cs.prometheus_auth or None,
                prometheus_scope=cs.prometheus_scope,
                tracing_url=cs.tracing_url or None, tracing_auth=cs.tracing_auth or None,
                tracing_api=cs.tracing_api or None, cluster=cs.cluster_name or None, linked=cs.mesh_contexts)
        return cluster

    def add_snapshot(self, path: str, snapshot: Snapshot | None = None) -> str:
        """Offer a snapshot file as a context and return its name. ``snapshot``: the file as it was just
        read (``open_snapshot``), which its first opening shows rather than read the file again."""
        from meshdesk.ui.offline import SnapshotSource

        name = snapshot_context(path)  # opened again, it shows as it was saved again
        read = [snapshot] if snapshot is not None else []  # used once: not kept after it is shown

        def offline() -> SnapshotSource:
            return SnapshotSource(path, read.pop() if read else None)

        self.factories[name] = offline
        self._snapshot_paths[name] = path
        self._snapshots_shaped.discard(name)
        self._snapshot_namespaces.pop(name, None)  # opened again: its own namespaces again
        self.toolbar.set_contexts(self._context_names(), self.context or name)
        return name

    def switch_context(self, context: str) -> None:
        """Show another context: in-flight work is cancelled and the namespaces remembered for it return."""
        self._stop_awaiting_context()  # the user's choice (or the awaited one itself) is what opens
        # a snapshot still being read was asked for before this choice: it must not replace it when read
        self.snapshot_opener.cancel()
        # a snapshot shows itself with its own choices: the live contexts get theirs back after it
        to_file, from_file = context.startswith(SNAPSHOT_PREFIX), self.context.startswith(SNAPSHOT_PREFIX)
        if to_file and not from_file:
            self._live_choices = self.toolbar.choices
        live_base = self._live_choices if not to_file else None
        if not to_file:
            self._live_choices = None
        self.context = context
        self.messages.forget()
        self.statusBar().clearMessage()  # nothing said of the context left stays beside the new one
        self.banner.hide()
        self._hidden_said = frozenset()
        self._hidden_note = ""
        if to_file:
            self._snapshots_shaped.discard(context)  # shown again as it was saved (its window, its statistic)
        # a snapshot holds the telemetry of its own window; a live context may choose (even one that then
        # fails to open)
        self.toolbar.duration_combo.setEnabled(not to_file)
        self.toolbar.duration_combo.setToolTip("A snapshot holds the telemetry of the window it was saved with"
                                               if to_file else "Time window of the traffic shown")
        self._told_no_listing = False
        if self._replay_at is not None:
            # replay ends here, not through set_replay, which asks the context left for its live graph
            self._replay_at = None
            self._extensions_at(None)
        self.toolbar.replay_action.setChecked(False)  # a context opens live, on its full graph
        self._show_focus(None)
        self.toolbar.replay_action.setEnabled(not context.startswith(SNAPSHOT_PREFIX))  # no past in a file
        # greyed out offline: said why, as the time window is (they kept their live tooltips)
        self.toolbar.replay_action.setToolTip(
            "A snapshot holds the graph of one time window: there is no earlier graph in it to replay" if to_file
            else REPLAY_TIP)
        self.toolbar.refresh_combo.setToolTip("A snapshot file does not change: there is nothing to refresh"
                                              if to_file else REFRESH_TIP)
        self.graph = None
        self.snapshot = None
        self.save_snapshot_action.setEnabled(False)
        self.inventory = None
        self._partial_inventory = None
        self.info = None
        self.last_ok = None
        self.last_error = None
        self._layout_key = None
        self.toolbar.set_contexts(self._context_names(), context)
        if self._ns_override is not None:
            ns = self._ns_override
            self._ns_override = None
            if ns and context and not context.startswith(SNAPSHOT_PREFIX):
                # as if chosen in the menu: switching away and back (or the next start) keeps them
                self.settings.set_namespaces(context, ns)
        elif to_file:
            ns = list(self._snapshot_namespaces.get(context, []))  # none chosen: the file's own
        else:
            ns = self.settings.namespaces_for(context)
        choices = self._choices_for(context, live_base)
        self.toolbar.set_choices(choices)
        self.toolbar.show_context_namespaces([], ns)
        self.demo_menu.menuAction().setVisible(False)
        self._pending_shown = None
        self._shown_timer.stop()
        self.panel.set_data(None, None)
        self._clear_extensions()  # the lists, charts and logs of the context left
        self.empty.show_loading(f"context {context}")
        self.stack.setCurrentWidget(self.empty)
        self._update_status()
        self._apply_display()
        self.poller.set_interval(max(0, choices.refresh))
        self._awaiting_namespaces = True
        self._opened_with = self.settings.context_settings(context)  # (see _on_settings_saved)
        self.poller.set_source(self.factory_for(context), build_request(ns, choices, health_rates=self._health_rates(),
                                                                            extensions=self._kiali_extensions()))
        # the context's first graph takes the place of the one left as a change of namespaces does: its
        # nodes were placed one by one beside a node both share (an ingress gateway), in no layout, and the
        # view kept the zoom of the graph left, most of the new one outside it
        self._relayout_from = self.poller.generation
        if context and not context.startswith(SNAPSHOT_PREFIX):
            self.settings.last_context = context
            self._save_settings()

    def _choices_for(self, context: str, base: ViewChoices | None = None) -> ViewChoices:
        """The toolbar's choices (or ``base``) with the context's remembered graph type, window and
        refresh."""
        cs = self.settings.context_settings(context)
        changes: dict[str, Any] = {}
        if cs.refresh_interval is not None:
            changes["refresh"] = int(cs.refresh_interval)
        if cs.duration in {d for d, _ in DURATIONS}:
            changes["duration"] = int(cs.duration)
        if cs.graph_type in GRAPH_TYPES:
            changes["graph_type"] = cs.graph_type
        return dataclasses.replace(base if base is not None else self.toolbar.choices, **changes)

    def open_demo(self) -> None:
        self.switch_context(DEMO)

    def open_kubeconfig(self, path: str) -> None:
        try:
            from meshdesk.sources.kubeconfig import load_kubeconfig

            kc = load_kubeconfig(path)
        except SourceError as e:
            self.messages.error(e.kind, str(e))
            self.banner.show_error(e.kind, str(e))
            return
        self.kubeconfig = path
        # a kubeconfig chosen here is the one the next start opens (the first-run page leads here)
        self.settings.kubeconfig = os.path.abspath(path)
        self._save_settings()
        self.contexts = list(kc.context_names)
        self._watch_kubeconfig = True  # its contexts are read again on a refresh, as at start-up
        problems = "; ".join(str(p) for p in kc.problems)
        names = self.contexts
        reason = why_no_current_context(kc.current_context, names)
        if reason:
            # as at start-up (and as kubectl refuses it): the first context listed may be production,
            # and opening it without a word is worse than asking
            self.toolbar.set_contexts(self._context_names(), self.context)
            if self.context:  # what is shown stays, and the banner says why nothing else opened
                self.banner.show_note(reason + (f"\nKubeconfig: {problems}" if problems else ""), "warning")
            else:
                self.show_no_cluster(reason)
                if problems:
                    self.banner.show_note("Kubeconfig: " + problems, "warning")
            return
        current = kc.current_context or (names[0] if names else "")
        if not current:
            self.toolbar.set_contexts(self._context_names(), self.context)
            self.show_no_cluster(f"The kubeconfig {path} has no context." + (f" {problems}" if problems else ""))
            return
        self.switch_context(current)
        if problems:  # entries skipped: named, not hidden (the switch cleared the banner)
            self.banner.show_note("Kubeconfig: " + problems, "warning")

    def open_snapshot(self, path: str) -> None:
        """Show the snapshot file ``path``, once it is read and checked (off the UI thread). A file that
        cannot be shown (missing, too large, not JSON, not a snapshot, of a newer format) is said in a
        dialog naming it and what is wrong; what the window shows stays, and no context is added."""
        if not self.context:  # nothing on screen (started with --snapshot): say what is coming
            self.empty.show_loading(f"the snapshot {path}")
            self.stack.setCurrentWidget(self.empty)
        self.statusBar().showMessage(f"Opening the snapshot {path}…")
        self.snapshot_opener.open(path)  # the window stays usable meanwhile, with a busy cursor

    def _on_snapshot_busy(self, busy: bool) -> None:
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

    def _on_snapshot_opened(self, path: str, snapshot: Snapshot) -> None:
        self.statusBar().clearMessage()
        self._remember_snapshot_folder(path)
        self._adopt_carried_layout(snapshot_context(path), snapshot)
        self.switch_context(self.add_snapshot(path, snapshot))

    def _adopt_carried_layout(self, context: str, snapshot: Snapshot) -> None:
        """The arrangement a snapshot was saved with becomes its view's layout here, unless this view
        has one of its own already (arranged when the file was opened before at this path)."""
        carried = read_carried_layout(snapshot.meta.get(SNAPSHOT_META_KEY), context)
        if carried is None:
            return
        key, positions = carried
        store = self.view.store  # (a damaged layouts file it sets aside is said with the canvas's problems)
        try:
            if not store.load(key):
                store.save(key, positions)
        except (OSError, ValueError) as e:  # laid out afresh, as any snapshot
            log.warning("the layout the snapshot carries could not be kept: %s", e)

    def _on_snapshot_failed(self, path: str, error: SourceError) -> None:
        self.statusBar().clearMessage()
        log.warning("%s", error)
        name = snapshot_context(path)
        if name in self.factories and name != self.context:
            # offered before, unreadable now (moved, replaced, cut short): no entry that cannot open
            self.factories.pop(name, None)
            self._snapshot_paths.pop(name, None)
            self.toolbar.set_contexts(self._context_names(), self.context)
        reason = reason_of(error)
        if not self.context:  # started on it: the page in place of the graph says it, with the ways on
            self.empty.show_no_snapshot(path, reason)
            self.stack.setCurrentWidget(self.empty)
            self.panel.show_nothing("Cannot open the snapshot", "Open another snapshot, the demo mesh or a "
                                    "context to see a mesh here.")
            self._update_status()
            return
        self.show_file_problem("Cannot open the snapshot", f"Cannot open the snapshot {path}: {reason}.",
                               f"The window keeps showing {shown_name(self.context)}.")

    def show_file_problem(self, title: str, text: str, advice: str = "") -> QMessageBox:
        """A dialog about a file that could not be opened or written (the one shown before goes)."""
        old = self.file_problem_box
        if old is not None:
            old.done(0)
            old.deleteLater()
        self.file_problem_box = file_problem(self, title, text, advice)
        return self.file_problem_box

    def _choose_snapshot(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a snapshot", self._snapshot_folder(),
                                              "Snapshots (*.json *.json.gz);;All files (*)")
        if path:
            self.open_snapshot(path)

    def _snapshot_folder(self) -> str:
        """Where the snapshot dialogs start: the folder a snapshot was last saved to or opened from (kept in
        the settings), while it is there; "" (the dialog's own choice) otherwise."""
        folder = self.settings.snapshot_folder
        return folder if folder and os.path.isdir(folder) else ""

    def _remember_snapshot_folder(self, path: str) -> None:
        folder = str(Path(path).resolve().parent)
        if folder != self.settings.snapshot_folder:
            self.settings.snapshot_folder = folder
            self._save_settings()

    def _choose_kubeconfig(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a kubeconfig", "", "All files (*)")
        if path:
            self.open_kubeconfig(path)

    def show_no_cluster(self, reason: str, *, can_retry: bool = False, title: str = "No cluster to show") -> None:
        self.empty.show_no_cluster(reason, can_retry=can_retry, title=title)
        self.stack.setCurrentWidget(self.empty)
        if not self.context:
            self.toolbar.replay_action.setEnabled(False)  # no cluster, no past of one
        self.panel.show_nothing(title, "Retry, or open the demo mesh or another kubeconfig." if can_retry
                                else "Open the demo mesh or a kubeconfig to see a mesh here.")
        self._update_status()

    # -- demo traffic --------------------------------------------------------------------------------
    def _demo_source(self) -> Any:
        src = self.poller.source
        return src if src is not None and hasattr(src, "start_traffic") else None

    def start_demo_traffic(self) -> None:
        src = self._demo_source()
        if src is not None:
            src.start_traffic()
            self._update_demo_actions()
            self.refresh_now()

    def stop_demo_traffic(self) -> None:
        src = self._demo_source()
        if src is not None:
            src.stop_traffic()
            self._update_demo_actions()
            self.refresh_now()

    def _update_demo_actions(self) -> None:
        src = self._demo_source()
        self.demo_menu.menuAction().setVisible(src is not None)
        running = bool(getattr(src, "traffic_running", False)) if src is not None else False
        self.start_traffic_action.setEnabled(not running)
        self.stop_traffic_action.setEnabled(running)

    # -- toolbar events ---------------------------------------------------------------------------------
    def _on_context_selected(self, context: str) -> None:
        if context and context != self.context:
            path = self._snapshot_paths.get(context)
            if path is not None:
                # a file chosen again is read and checked first, like File > Open snapshot (it may have
                # been moved or cut short since): the switcher names what is shown until it is
                self.toolbar.set_contexts(self._context_names(), self.context)
                self.open_snapshot(path)
                return
            self.switch_context(context)

    def _on_namespaces_selected(self, names: list[str]) -> None:
        self._awaiting_namespaces = False  # the user chose (none is then a choice too)
        if self._snapshot_node() is None:  # (a node graph's snapshot holds that graph only)
            self._show_focus(None)  # other namespaces: the full graph of those
        if self.context.startswith(SNAPSHOT_PREFIX):
            self._snapshot_namespaces[self.context] = list(names)
        else:
            self.settings.set_namespaces(self.context, names)
            self._save_settings()
        self._request_changed()
        self._relayout_from = self.poller.generation  # see _on_choices

    def _on_choices(self, new: ViewChoices, old: ViewChoices) -> None:
        changed = {k for k in new.__dataclass_fields__ if getattr(new, k) != getattr(old, k)}
        if changed & {"graph_type", "duration", "refresh"} and not self.context.startswith(SNAPSHOT_PREFIX):
            self._remember_view(new)
        if changed & set(KEPT_CHOICES) and not self.context.startswith(SNAPSHOT_PREFIX):
            self._remember_display(new)  # (a snapshot's own choices are not the user's for the next session)
        if new.refresh != old.refresh:
            self.poller.set_interval(max(0, new.refresh))
            self._update_age()
        saved = getattr(self.poller.source, "request", None) if self.context.startswith(SNAPSHOT_PREFIX) else None
        if new.idle_edges and not old.idle_edges and isinstance(saved, GraphRequest) and not saved.includeIdleEdges:
            # idle edges are samples of no traffic, which a query without them leaves out
            self.banner.show_note("This snapshot was taken without idle edges, so it has none to show.", "info")
        if changed & (GRAPH_SHAPING | {"graph_type", "duration"}) or new.quantile != old.quantile:
            self._request_changed()
        if changed & (GRAPH_SHAPING | {"graph_type"}):
            # the graph that answers this change is laid out again if its nodes are other ones (the
            # time window and replay are not such a change: they show the same graph at other times)
            self._relayout_from = self.poller.generation
        if changed - GRAPH_SHAPING - {"graph_type", "duration", "refresh"}:
            self._apply_display()

    def _request_changed(self) -> None:
        if not self.context:
            return  # no cluster: nothing to fetch, and the page saying so stays
        ns = self.toolbar.selected_namespaces()
        req = build_request(ns, self.toolbar.choices, self._replay_at or 0, self._node_focus, self._health_rates(),
                            self._kiali_extensions())
        if not ns and self._awaiting_namespaces:
            # the context's namespaces are still being listed: none chosen means "the defaults" yet,
            # which the fetch of this request picks (the user has not chosen none)
            self.poller.set_request(req)
            return
        if not ns:
            self.poller.clear_request()
            self.graph = TrafficGraph(request=req)
            self.snapshot = None  # what was shown before is not on screen: nothing to save
            self.save_snapshot_action.setEnabled(False)
            self._show_graph(self.graph, None)
            for extension in self.extensions:  # nothing chosen: the lists show nothing either
                set_data = getattr(extension, "set_data", None)
                if set_data is not None:
                    set_data(self.graph, None)
            return
        self.poller.set_request(req)

    # -- replay ---------------------------------------------------------------------------------
    def set_replay(self, on: bool) -> None:
        """Replay on: the replay bar opens an hour back and live refresh stops. Off: live again."""
        action = self.toolbar.replay_action
        if on != action.isChecked():
            action.setChecked(on)  # comes back here through toggled
            return
        if on:
            self.replay.show()
            self.poller.set_interval(0)  # a past graph does not change
            self.toolbar.set_refresh_paused(True)  # says so, not "Every 15s" greyed out
            # counted back from the cluster's present (Prometheus' clock, the demo's), not this machine's: a
            # clock 40 min behind opened "1 h ago" on 1 h 40 min before the newest data; the slider's right
            # end keeps to that present while replaying (it stayed where Replay opened, labelled "now")
            source_now = getattr(self.poller.source, "now", None)
            self._replay_reach()
            self.replay.start(back_s=3600, now=source_now if callable(source_now) else None)
        else:
            self.replay.stop()
            self.replay.hide()
            self.toolbar.set_refresh_paused(False)
            self.poller.set_interval(max(0, self.toolbar.choices.refresh))
            if self._replay_at is not None:
                self._replay_at = None
                self._request_changed()
                self._extensions_at(None)
        self._update_age()

    def _clear_extensions(self) -> None:
        for extension in self.extensions:
            clear = getattr(extension, "clear", None)
            if clear is not None:
                clear()

    def _extensions_at(self, t: int | None) -> None:
        """Tell the parts that chart time (the metrics views) which moment the graph shows."""
        for extension in self.extensions:
            set_time = getattr(extension, "set_time", None)
            if set_time is not None:
                set_time(t)

    def _replay_to(self, t: int) -> None:
        if not self.toolbar.replay_action.isChecked():
            return
        self._replay_at = t
        self._request_changed()
        if not self.poller.busy:
            # no fetch for it (the same graph asked again, or nothing to ask): nothing to wait for
            self.replay.frame_shown()
        self._extensions_at(t)
        self._update_age()

    def reload_contexts(self) -> None:
        """Read the kubeconfig's contexts again; the switcher offers what is there now."""
        from meshdesk.sources.kubeconfig import load_kubeconfig

        # a file half written, broken, or a pipe read already: the contexts known stay offered
        try:
            kc = load_kubeconfig(self.kubeconfig, log_problems=False)
        except SourceError as e:
            self.statusBar().showMessage(f"The kubeconfig could not be read again: {e}", 10000)
            return
        names = list(kc.context_names)
        if kc.problems or not names:
            if kc.problems:
                self.statusBar().showMessage(f"The kubeconfig could not be read again: {kc.problems[0]}", 10000)
            return
        # the context shown was removed from the kubeconfig (kubectl config delete-context): it went on
        # being shown from the connection opened before, as if it were still there. Opened again, as
        # kubectl would, its fetch says it does not exist; what was shown stays, marked as not updated.
        gone = self.context in self.contexts and self.context not in names and self.context not in self.factories
        if names != self.contexts:
            self.contexts = names
            self.toolbar.set_contexts(self._context_names(), self.context)
        if gone:
            self.poller.reopen()
        awaited = self._awaited_context
        if awaited and not self.context and awaited in names:
            self.switch_context(awaited)  # the context asked for at start was added to the kubeconfig

    def _watch_for_awaited_context(self) -> None:
        """Watch the kubeconfig file(s) while a context asked for is missing: no timed retry (it cannot
        appear by itself), but a ``kubectl config set-context`` or a cloud CLI adding it opens it."""
        from meshdesk.sources.kubeconfig import kubeconfig_paths

        paths, _ = kubeconfig_paths(self.kubeconfig)
        self._kubeconfig_watcher = QFileSystemWatcher(self)
        for path in paths:
            # a file replaced (written atomically) stops being watched: its folder says it came back
            self._kubeconfig_watcher.addPath(str(path.parent))
            if path.exists():
                self._kubeconfig_watcher.addPath(str(path))
        self._kubeconfig_watcher.fileChanged.connect(self._on_kubeconfig_file_changed)
        self._kubeconfig_watcher.directoryChanged.connect(self._on_kubeconfig_file_changed)

    def _stop_awaiting_context(self) -> None:
        self._awaited_context = ""
        if self._kubeconfig_watcher is not None:
            self._kubeconfig_watcher.deleteLater()
            self._kubeconfig_watcher = None

    def _on_kubeconfig_file_changed(self, _path: str) -> None:
        from meshdesk.sources.kubeconfig import kubeconfig_paths

        watcher = self._kubeconfig_watcher
        if watcher is None:
            return
        for path in kubeconfig_paths(self.kubeconfig)[0]:
            if path.exists() and str(path) not in watcher.files():
                watcher.addPath(str(path))
        self.reload_contexts()

    def _on_context_list_opening(self) -> None:
        if self._watch_kubeconfig:
            self.reload_contexts()

    def refresh_now(self) -> None:
        if self._watch_kubeconfig:
            self.reload_contexts()
        if self.toolbar.choices.refresh == PAUSE and self.graph is not None and self.last_error is None:
            self.toolbar.choose(refresh=MANUAL)  # an explicit refresh un-pauses into manual mode
        self.poller.reload_namespaces()  # a manual refresh also picks up new namespaces

    def _apply_display(self) -> None:
        c = self.toolbar.choices
        self.view.set_display(DisplayOptions(
            edge_labels=c.edge_labels, show_security=c.security, show_virtual_services=c.virtual_services,
            show_circuit_breakers=c.circuit_breakers, show_missing_sidecars=c.missing_sidecars,
            show_boxes=c.boxes or c.cluster_boxes, animation=c.animation))

    def _expression(self, what: str, apply: Callable[[str], str | None], edit: Any, expr: str) -> None:
        error = apply(expr)
        self.toolbar.mark_expression(edit, error)
        if not error and self.statusBar().currentMessage().startswith(f"{what}: "):
            self.statusBar().clearMessage()  # the expression it spoke of is corrected or gone
        if error:
            self.statusBar().showMessage(f"{what}: {error}", 8000)
        elif not self.toolbar.choices.idle_nodes and self._asks_for_idle(expr):
            # as Kiali: an expression about idle nodes turns their display on (else it finds nothing);
            # the expression is applied again to the graph that brings them
            self.toolbar.choose(idle_nodes=True)
            self.statusBar().showMessage(f"{what}: showing idle nodes, which the expression looks for", 8000)
        elif what == "Find" and expr.strip() and self.graph is not None and self.stack.currentWidget() is self.view \
                and not self._shown_highlight():
            # a valid expression that lights nothing looks like one that did not work
            self.statusBar().showMessage(f"Find: nothing shown matches '{expr.strip()}'", 8000)

    def _shown_highlight(self) -> bool:
        """Whether the Find expression lights a node or an edge that is shown (not hidden)."""
        for iid in self.view.highlighted_ids():
            item = self.view.node_item(iid) or self.view.edge_item(iid)
            if item is not None and item.isVisible():
                return True
        return False

    @staticmethod
    def _asks_for_idle(expr: str) -> bool:
        from meshdesk.mesh.find import FindSyntaxError, compile_expression

        try:
            matcher = compile_expression(expr)
        except FindSyntaxError:
            return False
        return any(c.operand == "idle" for clause in matcher.clauses for c in clause)

    # -- poller events ------------------------------------------------------------------------------------
    def _on_source_opened(self, source: Any, info: SourceInfo) -> None:
        self.info = info
        saved = getattr(source, "request", None) if not info.live else None
        if isinstance(saved, GraphRequest) and self.context not in self._snapshots_shaped:
            self._snapshots_shaped.add(self.context)
            self._show_as_saved(saved)
        # a snapshot file never changes, nor does the past replay shows: no timed refresh (the choice
        # stays for live contexts)
        timed = info.live and not self.toolbar.replay_action.isChecked()
        self.toolbar.refresh_combo.setEnabled(timed)
        self.poller.set_interval(max(0, self.toolbar.choices.refresh) if timed else 0)
        self._update_status()
        self._update_demo_actions()

    def _show_as_saved(self, saved: GraphRequest) -> None:
        """A snapshot just opened shows the graph that was saved: its graph type, toggles and rate
        choices, and its node graph when it was one (a colleague opening it sees what was handed)."""
        operations = bool(saved.appenders) and bool({"aggregateNode", "operationNodes", "operations"}
                                                     & set(saved.appenders or ()))
        # the window and the response-time statistic it holds (the toolbar said "Last 10m" and "p95"
        # beside a graph of an hour's averages)
        extra: dict[str, Any] = {}
        if 0 < saved.duration:
            extra["duration"] = saved.duration  # one the toolbar does not offer is added to it, named as it is
        if self.toolbar.choices.quantile != saved.responseTimeQuantile and \
                any(q == self.toolbar.choices.quantile for _k, _l, q in EDGE_LABELS):
            mode = next((k for k, _l, q in EDGE_LABELS if q == saved.responseTimeQuantile), None)
            if mode is not None:
                extra["edge_labels"] = mode
        self.toolbar.choose(graph_type=saved.graphType, service_nodes=saved.injectServiceNodes,
                            idle_nodes=saved.includeIdleNodes, idle_edges=saved.includeIdleEdges,
                            operation_nodes=operations, waypoints=saved.showWaypoints,
                            ambient_traffic=saved.ambientTraffic, rate_http=saved.rateHttp,
                            rate_grpc=saved.rateGrpc, rate_tcp=saved.rateTcp,
                            # its boxes as Kiali reads its request (none asked: none drawn, Kiali's default),
                            # as `meshdesk graph --snapshot` draws it: the window's own toggles boxed the
                            # namespaces of a file that asked for none
                            boxes="namespace" in saved.boxBy, cluster_boxes="cluster" in saved.boxBy, **extra)
        if saved.node is not None:
            self.set_focus(saved.node)

    def _on_namespaces_ready(self, names: list[str], used: list[str]) -> None:
        self._awaiting_namespaces = False
        if getattr(self.poller.source, "namespace_list_forbidden", False) and not self._told_no_listing:
            # only the context's namespace is offered: without this, a user saw just "default" and
            # "Nothing sent requests in default", and no word of why or how to see others
            self._told_no_listing = True
            self._show_note_beside(f"Your account may not list this cluster's namespaces: offering "
                                   f"{', '.join(names)}, the context's namespace. Add others by name with "
                                   "Namespaces > Other namespace…", "info")
        chosen = self.toolbar.selected_namespaces() or used
        gone = [n for n in chosen if n not in names]
        if gone and len(gone) < len(chosen) and names and not self.context.startswith(SNAPSHOT_PREFIX) \
                and not getattr(self.poller.source, "namespace_list_forbidden", False):
            # remembered from an earlier session, deleted since: it was still asked for, without a word (alone,
            # the empty view says it is not there)
            chosen = [n for n in chosen if n in names]
            self.settings.set_namespaces(self.context, chosen)
            self._save_settings()
            self._show_note_beside(f"{'Namespaces' if len(gone) > 1 else 'Namespace'} {', '.join(gone)} "
                                   f"{'no longer exist' if len(gone) > 1 else 'no longer exists'} in this cluster "
                                   f"(deleted since it was chosen): left out of the graph", "info")
            self.toolbar.set_namespaces(names, chosen)
            self._request_changed()
            return
        self.toolbar.set_namespaces(names, used if not self.toolbar.selected_namespaces() else
                                    self.toolbar.selected_namespaces())

    def _on_graph(self, result: PollResult) -> None:
        self.replay.frame_shown()
        self.last_ok = result.fetched_at
        self.last_error = None
        self.info = result.info
        self.snapshot = result.snapshot
        self._partial_inventory = None
        self.save_snapshot_action.setEnabled(True)
        if self.banner.isVisible() and self.banner.kind not in ("info", "warning"):
            self.banner.hide()
        relayout = self._relayout_from is not None and result.generation >= self._relayout_from
        if relayout:
            self._relayout_from = None
        self._show_graph(result.graph, result.snapshot.inventory, later=True, relayout=relayout)
        self._say_hidden(result.snapshot.inventory)
        if self._replay_at is not None:
            self._replay_reach()  # (a replayed graph's read told the source how long Prometheus keeps data)

    def _replay_reach(self) -> None:
        """Replay reaches no further back than Prometheus keeps its data, when it said how long."""
        retention = getattr(self.poller.source, "retention", None)
        self.replay.set_retention(retention() if callable(retention) else None)

    def _say_hidden(self, inventory: Inventory | None) -> None:
        """What the cluster would not let the user read (a 403 on pods in a namespace...) is said once
        in the banner, as a warning: the graph and lists show what could be read, and a namespace
        whose workloads are hidden would otherwise just look empty. Said again when it changes."""
        by_cluster = inventory.hidden_by_cluster() if inventory is not None else []
        # (another cluster's of the mesh said with its name: west's 403 on pods in shop is not east's)
        several = len(by_cluster) > 1
        hidden = frozenset(f"{k} ({c})" for c, h in by_cluster for k in h)
        # a linked context of the mesh that could not be read: said by its cluster, with why (the others shown)
        unread = {f"cluster {name}": why for name, why in (inventory.unread_clusters.items() if inventory else ())}
        hidden |= frozenset(f"{k}: {v}" for k, v in unread.items())
        if not hidden:
            if self._hidden_note and self.banner.isVisible() and self.banner.note_text == self._hidden_note:
                self.banner.hide()  # nothing hidden any more: the warning about it goes
            self._hidden_said, self._hidden_note = hidden, ""
            return
        if hidden <= self._hidden_said:
            self._hidden_said = hidden
            return
        self._hidden_said = hidden
        assert inventory is not None
        what = [(f"{k[2:]} (cluster-wide{f' in {c}' if several else ''})" if k.startswith("*/") else
                 f"{k[2:]} outside the selected namespaces" if k.startswith(f"{OUTSIDE}/") else
                 f"{k.split('/', 1)[1]} in {k.split('/', 1)[0]}")
                + (f" of cluster {c}" if several and not k.startswith("*/") else "")
                for c, h in by_cluster for k in sorted(h)]
        shown = ", ".join(what[:4]) + (f" and {len(what) - 4} more" if len(what) > 4 else "")
        said = [f"Not everything could be read: {shown}. What could be read is shown; the namespace summary "
                "(nothing selected) says why."] if what else []
        said += [f"The {name} of this mesh could not be read ({why}). Its nodes are drawn from the telemetry alone, "
                 "without its workloads, health or Istio config; the other clusters' are shown."
                 for name, why in sorted(unread.items())]
        self._show_note_beside("\n".join(said), "warning")
        self._hidden_note = self.banner.note_text

    def _show_note_beside(self, text: str, level: str) -> None:
        """A note that joins the one the banner shows (a start-up settings warning, the namespace
        listing note) rather than replacing it; an error's banner gives way to it as before."""
        previous = self.banner.note_text if self.banner.isVisible() and self.banner.kind in ("info", "warning") \
            else ""
        if previous and previous != self._hidden_note and text not in previous:
            level = "warning" if "warning" in (level, self.banner.kind) else level
            text = f"{previous}\n{text}"
        self.banner.show_note(text, level)

    def _show_graph(self, graph: TrafficGraph, inventory: Inventory | None, *, later: bool = False,
                    relayout: bool = False) -> None:
        """Show ``graph`` on the canvas; the side panel, status bar and ``graphShown`` follow in the
        same call, or (``later``, for a refresh) on the next turn of the event loop, so one turn does
        not do both a canvas update and a panel re-render of a big graph. ``relayout``: the graph
        answers a change the user made to what it shows (namespaces, graph type, a shaping toggle); if
        nodes came or went, the nodes the user has not placed are laid out again (as Kiali lays out
        again) and the view is fitted."""
        self.graph = graph
        self.inventory = inventory
        show_graph = has_traffic(graph) or (bool(graph.nodes) and (self.toolbar.choices.idle_nodes
                                                                    or self.toolbar.choices.idle_edges))
        if show_graph:
            self.stack.setCurrentWidget(self.view)  # before set_graph: the canvas fits to its real size
        key = self._make_layout_key(graph)
        keep_selected: list[str] | None = None
        if graph.request.node != self._focus_shown:
            # into a node graph or back: drawn with the items that view had when the user left it (a big
            # mesh's 16,000 items are not made again), else laid out afresh (unless arranged and saved
            # before); fitted either way. What was selected (the double-clicked node) stays selected
            self._focus_shown = graph.request.node
            keep_selected = self.view.selected_ids()
            self.view.switch_items(key)
        if key is not None and key != self._layout_key:
            self._layout_key = key
            self._fit_pending = True
            self.view.set_layout_key(key)
        before = self.view.node_ids()
        self.view.set_graph(graph)
        if relayout and before and self.view.node_ids() != before:
            self.view.relayout_unplaced()
        if keep_selected is not None:
            self.view.select([i for i in keep_selected if i in graph.nodes or i in graph.edges])
        self._show_canvas_problems()
        self._pending_shown = None
        self._shown_timer.stop()
        if later:
            self._pending_shown = (graph, inventory)
            self._shown_timer.start()
        else:
            self.panel.snapshot_holds = self._snapshot_holds()
            self.panel.set_data(graph, inventory)
        if not graph.request.namespaces:
            self.empty.show_no_namespace()
            self.stack.setCurrentWidget(self.empty)
        elif not show_graph:
            demo = self._demo_source() is not None
            label = self.toolbar.duration_combo.currentText() if self.toolbar.duration_combo.currentData() == \
                self.toolbar.choices.duration else ""
            at = self._replay_at
            ctl = self.actions_controller
            # a file holds what was recorded: no command to send it traffic, no namespace to label
            offline = self.context.startswith(SNAPSHOT_PREFIX) or (self.info is not None and not self.info.live)
            taken = getattr(self.poller.source, "taken", None)
            req = graph.request
            kinds_off = req.rateHttp == "none" and req.rateGrpc == "none" and req.rateTcp == "none"
            # a node graph of a node the namespace lacks: said as `meshdesk graph` says it (not in replay:
            # the inventory is today's, the graph the past's)
            focus_missing = "" if at else (service_entry_focus(req.node, inventory)
                                           or missing_focus(req.node, inventory))
            self.empty.show_no_traffic(inventory, list(graph.request.namespaces), demo=demo,
                                       focus_missing=focus_missing,
                                       focus=focus_text(req.node) if req.node is not None else "",
                                       demo_running=bool(getattr(self._demo_source(), "traffic_running", False)),
                                       kinds_off=kinds_off, warnings=graph.warnings,
                                       duration_label=label.replace("Last ", ""),
                                       replayed=time.strftime("%H:%M", time.localtime(at)) if at else "",
                                       can_enable_injection=ctl is not None and ctl.enabled,
                                       snapshot_taken=(str(taken() or "") if callable(taken) else "") if offline
                                       else None,
                                       snapshot_holds=self._snapshot_holds() if offline else None)
            self.stack.setCurrentWidget(self.empty)
        if not later:
            self._finish_show(graph)

    def _snapshot_holds(self) -> list[str] | None:
        """The namespaces the snapshot shown holds (was taken for); None when not known."""
        holds = getattr(self.poller.source, "namespaces", None)
        if not callable(holds) or not self.context.startswith(SNAPSHOT_PREFIX):
            return None
        try:
            return [n.name for n in holds()]
        except Exception:  # noqa: BLE001 - only a finer sentence is lost
            return None

    def _finish_show(self, graph: TrafficGraph) -> None:
        self._update_demo_actions()
        self._update_status()
        if not self._canvas_focused and self.stack.currentWidget() is self.view:
            # the first graph takes the keyboard (F, Z, +, -, Esc act on it), unless the user is typing
            self._canvas_focused = True
            if not isinstance(QApplication.focusWidget(), (QLineEdit, QTextEdit, QPlainTextEdit)):
                self.view.setFocus()
        self.graphShown.emit(graph)

    def _show_pending(self) -> None:
        pending, self._pending_shown = self._pending_shown, None
        if pending is None or self._closed or pending[0] is not self.graph:
            return  # a newer graph, another context or a closed window took its place
        self.panel.snapshot_holds = self._snapshot_holds()
        self.panel.set_data(*pending)
        self._finish_show(pending[0])

    def _show_canvas_problems(self) -> None:
        """A layout file moved aside, a layout that could not be saved or computed: said once, as a
        warning that does not hide the graph."""
        problems = list(self.view.store.warnings) + list(self.view.errors)
        self.view.store.warnings.clear()
        self.view.errors.clear()
        if problems:
            self.banner.show_note("; ".join(problems), "warning")

    def _on_layout_finished(self) -> None:
        self._show_canvas_problems()
        if self._fit_pending and self.stack.currentWidget() is self.view:
            self._fit_pending = False
            QTimer.singleShot(0, self.view.fit)  # after the window settled its size

    def _make_layout_key(self, graph: TrafficGraph) -> Any:
        return self._view_key(graph.request)

    def _view_key(self, request: GraphRequest) -> LayoutKey:
        graph_type = request.graphType if request.node is None else f"{request.graphType}@{focus_key(request.node)}"
        return LayoutKey(self.context, tuple(request.namespaces), graph_type)

    def _on_failed(self, failure: PollFailure) -> None:
        self.replay.frame_shown()  # playing goes on past a frame that could not be fetched
        e = failure.error
        self.last_error = e
        if failure.partial is not None:  # Prometheus alone failed: the cluster's inventory was read
            self._partial_inventory = failure.partial.snapshot.inventory
        # what to do: the error's own hint (log in again, the plugin's PATH, the CA bundle in Settings)
        # where it has one; the kind's usual advice only otherwise
        hint = getattr(e, "hint", "")
        advice = e.advice if e.advice is not None or not hint else f"{hint[0].upper()}{hint[1:].rstrip('.')}."
        self._failure_said = _FailureSaid(
            e.kind, e.message if hasattr(e, "message") else str(e), advice, getattr(e, "retry_words", ""),
            None if failure.retry_in is None else time.monotonic() + failure.retry_in, self._shown_view_if_other(),
            error_title(e))
        self._show_failure()
        self.messages.error(e.kind, str(e), error_title(e))
        if self.graph is None:  # nothing to keep showing: say why in the middle of the window
            if e.kind == "prometheus":
                # a cluster with no Prometheus was told it "cannot be reached", as if a network were at fault
                heading = "Prometheus was not found" if isinstance(e, PrometheusNotFound) else \
                    "Prometheus cannot be reached"
                self.empty.show_no_prometheus(str(e), heading)
                self.stack.setCurrentWidget(self.empty)
                self.panel.show_nothing(heading, "Retry, or give its address in Settings." + (
                    " Meanwhile the Lists and Istio config (View menu) show the cluster's workloads, services "
                    "and config as they were read, without traffic." if failure.partial is not None else ""))
            elif isinstance(e, SnapshotFileError):  # a file, not a cluster: no kubeconfig advice
                self.empty.show_no_snapshot(e.path, e.reason, can_retry=True)
                self.stack.setCurrentWidget(self.empty)
                self.panel.show_nothing(error_title(e), "Retry, or open another snapshot, the demo mesh or "
                                        "a context.")
            elif e.kind in NO_CLUSTER_KINDS:
                self.show_no_cluster(f"{error_title(e)}: {e}", can_retry=True)
            else:
                self.show_no_cluster(str(e), can_retry=True, title=error_title(e))
        self._update_status()

    def _show_failure(self, refresh: bool = False) -> None:
        """The banner of the last failed fetch, with the age of the graph kept and the time to the next
        try as they are now (they were said once: "updated 0 s ago" stayed while no retry came, an
        hour on, beside a status bar saying "updated 1 h ago")."""
        said = self._failure_said
        if said is None:
            return
        age = age_text(time.time() - self.last_ok) if self.last_ok else ""
        if age and said.shown_view:
            # the namespaces or graph type chosen since could not be fetched: the graph kept is of others
            age = f"the {said.shown_view}, updated {age}"
        elif age:
            age = f"updated {age}"
        retry_in = None if said.retry_at is None else max(0.0, math.ceil(said.retry_at - time.monotonic()))
        if refresh and (age, retry_in) == self._failure_ages:
            return  # (said so already: set again, the text would lose what the user selected in it)
        self._failure_ages = (age, retry_in)
        self.banner.show_error(said.kind, said.message, retry_in=retry_in, data_age=age, advice=said.advice,
                               retry_words=said.retry_words, title=said.title)
        self._failure_markup = self.banner.text_label.text()

    def _shown_view_if_other(self) -> str:
        """The view the graph on screen is of, in words, when it is not the one asked for (other
        namespaces or another graph type, chosen since it was fetched); "" when it is that one."""
        graph, asked = self.graph, self.poller.request
        if graph is None or asked is None or not asked.namespaces or self.stack.currentWidget() is not self.view:
            return ""
        shown, wanted = self._view_key(graph.request), self._view_key(asked)
        return _view_words(shown) if shown != wanted else ""

    def _on_message(self, msg: UserMessage) -> None:
        extra = f" (repeated {msg.repeats} more times)" if msg.repeats else ""
        self.statusBar().showMessage(f"{msg.title or title_for(msg.kind)}: {msg.text}{extra}" if msg.level == "error"
                                     else msg.text + extra, 10000)

    def _enable_injection(self, namespace: str) -> None:
        """The empty state's way into the mesh: the action that labels ``namespace`` for injection (its
        dialog shows the change and the workloads to restart); a refusal (RBAC) goes to the status bar."""
        ctl, inventory = self.actions_controller, self.inventory
        if ctl is None or inventory is None:
            return
        spec = next((s for s in ctl.specs_for(None, self.graph, inventory)
                     if s.key == "injection" and s.namespace == namespace), None)
        if spec is None:
            return
        if spec.pending:
            # RBAC is asked on a worker thread (never here): this goes on when the namespace's answers come
            self.statusBar().showMessage(PENDING_TEXT, 10000)
            waiting = self._injection_waits
            if namespace in waiting:
                return  # (clicked again meanwhile: one dialog)
            waiting.add(namespace)
            writer = ctl.writer

            def answered(ns: str) -> None:
                if ns == namespace:
                    ctl.permissionsKnown.disconnect(answered)
                    waiting.discard(namespace)
                    if ctl.writer is writer:  # (another context chosen meanwhile: its namespace was not asked)
                        self._enable_injection(namespace)
            ctl.permissionsKnown.connect(answered)
        elif spec.problem:
            self.statusBar().showMessage(spec.problem, 10000)
        else:
            ctl.open(spec, inventory)

    def _on_double_click(self, nid: str) -> None:
        """Kiali's drill-down: the node's own graph (its callers and callees), with its details. A node
        of a namespace not shown (outside) shows that namespace's graph instead; a workload without a
        sidecar and an idle node have none, and the status bar says why."""
        self.dock.show()
        self.dock.raise_()
        if nid not in self.view.selected_ids():
            self.view.select([nid])
        node = self.graph.nodes.get(nid) if self.graph is not None else None
        if node is None:
            return
        if node.is_outside and self._node_focus is None and node.namespace and not node.is_inaccessible:
            self.toolbar.select_namespaces([node.namespace])
            return
        focus = focus_for(node, self.toolbar.choices.graph_type, self.graph)
        refusal = no_node_graph(node) if focus is not None else None
        if refusal is not None:
            self.statusBar().showMessage(refusal, 8000)
        elif focus is not None and focus != self._node_focus:
            self.set_focus(focus)

    def show_namespace(self, name: str) -> None:
        """The traffic graph of namespace ``name`` (a double-click in the Mesh view): added to the graph's
        namespaces when the graph does not show it; when it does, its nodes selected and brought into view."""
        graph = self.graph
        if graph is None or self._node_focus is not None or name not in graph.request.namespaces:
            if self._node_focus is not None:
                self.set_focus(None)
            if name not in self.toolbar.selected_namespaces():
                self.toolbar.add_namespace(name)
            return
        ids = [n.id for n in graph.nodes.values() if n.namespace == name and n.node_type != NODE_BOX]
        self.view.select(ids)
        self.view.zoom_to_selection()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def copy_details(self) -> None:
        """Put the details panel's text on the clipboard."""
        text = self.panel.copy_text()
        if text:
            QApplication.clipboard().setText(text)
            self.statusBar().showMessage("Details copied", 3000)

    def set_focus(self, focus: NodeFocus | None) -> None:
        """Show the node graph of ``focus``, or (None) the selected namespaces' graph again."""
        if focus == self._node_focus:
            return
        held = self._snapshot_node()
        if held is not None and focus != held:
            # the file has that node's traffic alone: the namespace's graph drawn from it lacked every other
            # node and edge without a word, and another node's graph lacked what does not pass this one
            self.statusBar().showMessage(self._node_snapshot_words(held), 10000)
            return
        self._show_focus(focus)
        self._request_changed()

    def _snapshot_node(self) -> NodeFocus | None:
        """The node whose node graph the snapshot shown was taken of; None for any other source."""
        saved = getattr(self.poller.source, "request", None) if self.context.startswith(SNAPSHOT_PREFIX) else None
        return saved.node if isinstance(saved, GraphRequest) else None

    @staticmethod
    def _node_snapshot_words(node: NodeFocus) -> str:
        return (f"This snapshot holds the node graph of {focus_text(node)} only (that node's traffic alone): "
                "open a snapshot of the namespace for other graphs")

    def _show_focus(self, focus: NodeFocus | None) -> None:
        self._node_focus = focus
        held = self._snapshot_node() if focus is not None else None
        self.back_action.setEnabled(focus is not None and held is None)
        self.focus_bar.back_button.setEnabled(held is None)
        self.focus_bar.back_button.setToolTip(self._node_snapshot_words(held) if held is not None else
                                              "Show the selected namespaces again (Alt+Left)")
        if focus is None:
            self.focus_bar.hide()
        else:
            self.focus_bar.show_focus(focus)

    def _on_selection(self, ids: list[str]) -> None:
        self.panel.show_selection(ids)
        if ids:
            self.dock.show()
            self.dock.raise_()

    # -- status bar ------------------------------------------------------------------------------------
    def _update_status(self) -> None:
        # what is shown, as the context switcher names it: two windows (east and a snapshot of it) were two
        # "meshdesk" in the task switcher
        shown = self.toolbar.context_combo.currentText() if self.context else ""
        self.setWindowTitle(f"{shown} \u2014 meshdesk" if shown else "meshdesk")
        info = self.info
        if info is None:
            self.status_source.setText(f"Context: {self.context or 'none'}")
            self.status_prometheus.setText("")
            self.status_mtls.set_inventory(None)
            self.status_istio.set_status(None)
            self.mesh_dock.refresh()
        else:
            self.status_mtls.set_inventory(self.inventory)
            self.status_istio.set_status(self.inventory or self._partial_inventory,
                                         addon_states(self.poller.source, info, self.last_error,
                                                      grafana_links(self)),
                                         recorded=not info.live)
            self.mesh_dock.refresh()
            live = "" if info.live else " (offline)"
            ro = " · read-only" if self.settings.read_only else ""
            # the built-in demo goes by the name the context box gives it, not its source's short name
            # (a real kubeconfig context may be called "demo")
            where = DEMO if self.context == DEMO else info.context
            if not info.live and self.context.startswith(SNAPSHOT_PREFIX):
                # as the context switcher names it: with its folder when another open snapshot has its
                # file name (the status bar said "snapshot shop.json" of both)
                where = self.toolbar.context_combo.currentText().replace(SNAPSHOT_PREFIX, "snapshot ", 1)
            clusters = f"cluster {info.cluster}"
            mesh = mesh_clusters(self.poller.source, self.inventory) if info.live else []
            if len(mesh) > 1:
                # a mesh over several contexts: each context read, and each cluster's name (one not read said so)
                where = " + ".join(context for _name, context, _read in mesh)
                clusters = "clusters " + " + ".join(name + ("" if read else " (not read)") for name, _c, read in mesh)
            self.status_source.setText(f"Context: {where} · {clusters}{live}{ro}")
            failing = isinstance(self.last_error, (Unreachable, Timeout)) and self.last_error.kind == "prometheus"
            # how Prometheus was reached when it last answered; not a claim that it answers now
            self.status_prometheus.setText(f"Prometheus: {info.prometheus}" + (" (not answering)" if failing else ""))
        self._update_age()

    def _update_age(self) -> None:
        replaying = self._replay_at is not None
        if self._replay_at is not None:
            text = f"replay: the graph at {time.strftime('%H:%M', time.localtime(self._replay_at))}, not live"
        elif self.last_ok is None:
            text = "no data yet" if self.context else ""
        elif self.info is not None and not self.info.live:
            text = "offline snapshot"
        else:
            text = f"updated {age_text(time.time() - self.last_ok)}"
        r = self.toolbar.choices.refresh
        if replaying:
            pass  # live refresh is stopped: its mode and failures are not what the status is about
        elif self.last_error is not None:
            text += f" · refresh failing ({self.last_error.kind})"
        elif r == PAUSE:
            text += " · paused"
        elif r == MANUAL:
            text += " · manual refresh"
        if self.poller.busy:
            text += " · refreshing…"
        self.status_age.setText(text)
        if self._failure_said is not None and self.last_error is not None and self.banner.isVisible() \
                and self.banner.text_label.text() == self._failure_markup \
                and not self.banner.text_label.hasSelectedText():  # (not another message since, nor copied from)
            self._show_failure(refresh=True)  # its ages as they are now

    # -- layout / export -----------------------------------------------------------------------------------
    def save_snapshot(self, path: str | None = None, *, background: bool = False) -> bool:
        """Write what the shown graph was built from to a snapshot file (asking where when ``path`` is
        None); File > Open snapshot shows it again offline. Returns whether a file was written, or with
        ``background`` (File > Save snapshot) whether its writing began on a thread: ``snapshotSaved``
        tells when it ended, and how."""
        snap = self.snapshot
        if snap is None:
            return False
        if not path:
            # named by the time of the graph it holds: a replayed one's moment, a snapshot's own time
            # (the time it was fetched named a replay of 14:30 saved at 16:00 "...-160000")
            at = getattr(self.graph, "timestamp", 0) or self.last_ok or time.time()
            taken = time.strftime("%Y%m%d-%H%M%S", time.localtime(at))
            shown = LEGACY_DEMO if self.context == DEMO else self.context  # "demo-<time>.json", as before
            folder = self._snapshot_folder()
            opened = self._snapshot_paths.get(self.context)
            if opened is not None:
                # a snapshot shown (its namespaces narrowed, say) is saved beside its file, by its file's
                # name: the whole path made one name ("snapshot-home-alice-Downloads-shop.json-<time>")
                shown, folder = snapshot_stem(opened), str(Path(opened).parent)
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", shown).strip("-") or "mesh"
            suggested = f"{name}-{taken}.json"
            path, _ = QFileDialog.getSaveFileName(self, "Save snapshot",
                                                  os.path.join(folder, suggested) if folder else suggested,
                                                  "Snapshots (*.json)")
            # a name typed without an extension gets ".json": File > Open snapshot's filter shows it then
            path = self._suffixed(path, ".json", True, named=with_default_suffix(path, ".json")) if path else ""
        else:
            path = with_default_suffix(path, ".json")
        if not path:
            return False
        from meshdesk.sources.snapshot import save_snapshot

        snap = self._with_addons(self._with_arrangement(snap))
        if background:
            self.statusBar().showMessage(f"Saving the snapshot to {path}…")
            self.snapshot_saver.save(snap, path)
            return True
        error: SourceError | None = None
        try:
            save_snapshot(snap, path)
        except SourceError as e:
            error = e
        self._on_snapshot_saved(path, error)
        return error is None

    def _on_snapshot_saved(self, path: str, error: SourceError | None) -> None:
        if error is not None:
            self.messages.error(error.kind, error.message)  # logged; the status bar says it too
            if not self._closed:
                self.show_file_problem("Snapshot not saved", f"The snapshot could not be written to {path}: "
                                       f"{reason_of(error)}.",
                                       "Choose another folder or file name (File > Save snapshot…).")
        else:
            self.statusBar().showMessage(f"Snapshot saved to {path}", 5000)
            self._remember_snapshot_folder(path)
        self.snapshotSaved.emit(path, error is None)

    def _with_addons(self, snap: Snapshot) -> Snapshot:
        """``snap`` recording the addons' states as the window knows them now (Prometheus, the tracing
        backend, Grafana): its Istio status and Mesh view show them when it is opened, rather than "not
        recorded". A snapshot shown again keeps the ones it recorded."""
        info = self.info
        if info is None or not info.live:
            return snap  # (a snapshot's own, as it recorded them)
        addons = addon_states(self.poller.source, info, self.last_error, grafana_links(self))
        kept = recorded(addons)
        if not kept:
            return snap
        return dataclasses.replace(snap, meta={**(snap.meta or {}), RECORDED_ADDONS: kept})

    def _with_arrangement(self, snap: Snapshot) -> Snapshot:
        """``snap`` carrying the arrangement of the nodes on screen when the user arranged them (dragged,
        chose or imported a layout), so that it opens as it was saved anywhere; as it is otherwise (the
        same layout is made again from the same graph)."""
        key = self._layout_key
        meta = {k: v for k, v in snap.meta.items() if k != SNAPSHOT_META_KEY}  # (an opened file's, replaced)
        if key is not None and self.view.arranged and not self.view.layout_running \
                and self.stack.currentWidget() is self.view:
            try:
                meta[SNAPSHOT_META_KEY] = carried_layout(key, self.view.positions())
            except ValueError as e:  # a position no file may hold: the graph is laid out when opened
                log.warning("the layout was not kept in the snapshot: %s", e)
        return dataclasses.replace(snap, meta=meta)

    def export_image(self, fmt: str, path: str | None = None) -> None:
        """Write the graph as PNG or SVG (asking where when ``path`` is None)."""
        if not self._canvas_shows_nodes():
            # a blank picture is no export of a graph: said, rather than written as if it were one
            self.statusBar().showMessage(f"Nothing to export as {fmt.upper()}: the graph shows no node", 8000)
            return
        asked = not path
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", f"mesh.{fmt}",
                                                  f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        path = self._suffixed(path, f".{fmt}", asked)
        if not path:
            return
        named = True
        try:
            if fmt == "png":
                named = self.view.export_png(path)
            else:
                self.view.export_svg(path)
        except OSError as e:
            # as a layout export or a snapshot save: a dialog naming the chosen file and what is wrong, in
            # words (the system's reason, not "[Errno 2] ..." nor the hidden temporary file it names)
            what = fmt.upper()
            text = f"Could not export the {what} to {path}: {e.strerror or e}"
            self.messages.error("write", text)  # logged; the status bar says it too
            self.show_file_problem(f"{what} not exported", text,
                                   f"Choose another folder or file name (File > Export {what}…).")
            return
        if not named:  # said, not left out without a word: the SVG has them at any size
            self.statusBar().showMessage(f"Exported {path}, without names: the graph is too big for them to be "
                                         "readable in a PNG (File > Export SVG keeps them)", 15000)
            return
        self.statusBar().showMessage(f"Exported {path}", 5000)

    def _suffixed(self, path: str, suffix: str, asked: bool, *, named: str | None = None) -> str:
        """``path`` with ``suffix`` added when missing (or ``named``, the name chosen for it); "" when
        that names an existing file the file dialog did not ask about and the user does not want it
        replaced."""
        named = _with_suffix(path, suffix) if named is None else named
        return replace_ok(self, path, named) if asked else named

    def _canvas_shows_nodes(self) -> bool:
        """Whether the canvas is on screen with a node in it (not the empty view, not all hidden)."""
        return self.stack.currentWidget() is self.view and any(
            item is not None and item.isVisible() for item in map(self.view.node_item, self.view.node_ids()))

    def export_layout(self, path: str | None = None) -> None:
        if self._layout_key is None or not self.view.node_ids():
            self.statusBar().showMessage("Nothing to export yet: the graph shows no node", 5000)
            return
        asked = not path
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export layout", "layout.json", "Layouts (*.json)")
        if not path:
            return
        path = self._suffixed(path, ".json", asked)
        if not path:
            return
        store = LayoutStore()
        try:
            positions = getattr(self.view, "positions", None)
            shown = positions() if callable(positions) else {}
            # what the user sees is what is exported (the saved layout may hold nodes no longer drawn)
            n = store.export_layout(self._layout_key, path, shown or None, self._identities())
        except (OSError, ValueError) as e:
            # the chosen file, in words: not the hidden temporary file the system error names
            reason = getattr(e, "strerror", None) or str(e)
            text = f"Could not export the layout to {path}: {reason}"
            self.messages.error("write", text)  # logged; the status bar says it too
            self.show_file_problem("Layout not exported", text,
                                   "Choose another folder or file name (Layout > Export layout…).")
            return
        self.statusBar().showMessage(f"Exported the positions of {n} nodes to {path}", 5000)

    def import_layout(self, path: str | None = None) -> None:
        """Apply a layout file's positions to the current view (and save them for it)."""
        key = self._layout_key
        if key is None:
            self.statusBar().showMessage("Open a graph first: a layout is imported into the current view", 5000)
            return
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import layout", "", "Layouts (*.json);;All files (*)")
        if not path:
            return
        store = self.view.store  # what it finds wrong with the saved layouts (a file set aside) is said
        try:
            found = store.read_export_file(path)
        except (OSError, ValueError) as e:  # a LayoutFormatError says what is wrong, naming the file
            reason = getattr(e, "strerror", None) or str(e)
            self.messages.error("config", f"could not import the layout: {reason}")
            self.show_file_problem("Layout not imported", f"Could not import the layout: {reason}",
                                   "Nothing was changed. Choose a file made by Layout > Export layout….")
            return
        their_key, positions = found.key, found.positions
        shown = self.view.node_ids()
        # node ids carry the cluster: a layout exported in another cluster's context (staging's, used in
        # prod) places this cluster's nodes of the same kind, namespace and name, which its file names
        same, used = self._same_nodes(shown - positions.keys(), found.identities, positions)
        # (the other cluster's ids the file placed this cluster's nodes by are not kept for this view)
        positions = {**{k: v for k, v in positions.items() if k not in used}, **same}
        placed = shown & positions.keys()
        if not positions:
            text = f"Could not import the layout: {path} holds no node position"
            self.messages.error("config", text)
            self.show_file_problem("Layout not imported", text,
                                   "Nothing was changed. Choose a file made by Layout > Export layout….")
            return
        if shown and not placed:
            # a layout of another view: saving it would only throw this view's arrangement away
            text = (f"Could not import the layout: none of the {counted(len(positions), 'node')} in {path} "
                    f"is in this graph (it was exported from the {_view_words(their_key)})")
            self.messages.error("config", text)
            self.show_file_problem("Layout not imported", text,
                                   "Nothing was changed. Import it in the view it was exported from, or "
                                   "export a layout of this view.")
            return
        # the arrangement it replaces can be put back (Undo, Ctrl+Z), as that of a chosen layout: importing
        # the wrong file threw it away, and the undo history with it
        self.view.keep_for_undo()
        unsaved = ""
        try:
            store.save(key, positions)
        except (OSError, ValueError) as e:
            unsaved = str(e)
        self.view.set_layout_key(key)  # the same view: its saved positions are read again
        if unsaved:
            # shown all the same (the canvas re-read the saved layout, which lacks them): the nodes stood
            # still under "Imported the positions of 27 nodes", and the failure was said for an instant
            self.view.hold_unsaved({nid: positions[nid] for nid in placed})
            self.view.errors.append(f"Could not save the imported layout: {unsaved}")
        self._show_canvas_problems()  # that, or a saved layouts file found damaged and set aside
        # the nodes the file has no place for would stand where its nodes now are: placed around them
        unplaced = shown - placed
        self.view.place_around(unplaced)
        said = f"Imported the positions of {counted(len(placed), 'node')} from {path}"
        if unplaced:
            said += f"; {counted(len(unplaced), 'node')} it has no place for were placed around them"
        if unsaved:
            said += " (not saved: see the note above the graph)"
        self.statusBar().showMessage(said, 8000)

    def _identities(self) -> dict[str, tuple[str, ...]]:
        """What each node of the graph shown is (as ``model.node_id`` takes it), for a layout export."""
        graph = self.graph
        if graph is None:
            return {}
        return {nid: (n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service, n.aggregate,
                      n.aggregate_value, n.box) for nid, n in graph.nodes.items()}

    def _same_nodes(self, ids: frozenset[str] | set[str], identities: Mapping[str, Sequence[str]],
                    positions: Mapping[str, tuple[float, float]]) -> tuple[dict[str, tuple[float, float]], set[str]]:
        """The positions of ``ids`` (nodes shown that a layout file does not name) taken from the file's
        node that is the same but for its cluster: one only (a file of several clusters' nodes of one
        name places none of them: which would be which is not known); and the file's ids so used."""
        mine = self._identities()
        if not ids or not identities:
            return {}, set()
        elsewhere: dict[tuple[str, ...], list[str]] = {}
        for nid, ident in identities.items():
            if nid in positions:
                elsewhere.setdefault((ident[0], *ident[2:]), []).append(nid)
        out: dict[str, tuple[float, float]] = {}
        used: set[str] = set()
        for nid in ids:
            own = mine.get(nid)
            if own is None:
                continue
            theirs = elsewhere.get((own[0], *own[2:]), [])
            if len(theirs) == 1:
                out[nid] = positions[theirs[0]]
                used.add(theirs[0])
        return out, used

    # -- help --------------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        self.shortcuts_dialog().exec()

    def shortcuts_dialog(self) -> QDialog:
        """Help > Keyboard shortcuts: the list, scrolling where the screen is shorter than it. A message box
        holding it was 800 pixels tall: on a 1024x700 screen its last rows and Close were off the screen."""
        rows = "".join(f"<tr><td style='padding-right:16px'><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                       for k, v in shortcut_rows())
        box = QDialog(self)
        box.setWindowTitle("Keyboard shortcuts")
        text = QLabel(f"<table>{rows}</table>")
        text.setObjectName("shortcutsList")
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # (wide enough that a description stays on one line mostly: at a message box's width each broke in two)
        text.setMinimumWidth(text.fontMetrics().horizontalAdvance("x") * 90)
        scroll = QScrollArea()
        scroll.setWidget(text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(box.reject)
        layout = QVBoxLayout(box)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        available = self.screen().availableGeometry().size()
        bar = scroll.verticalScrollBar().sizeHint().width()
        width = text.minimumWidth() + bar + layout.contentsMargins().left() + layout.contentsMargins().right()
        tall = text.heightForWidth(text.minimumWidth()) + buttons.sizeHint().height() + layout.spacing() \
            + layout.contentsMargins().top() + layout.contentsMargins().bottom()
        box.resize(min(width, available.width() * 19 // 20), min(tall, available.height() * 9 // 10))
        return box

    def _save_settings(self) -> None:
        try:
            self.settings.save()
            if self.banner.isVisible() and self.banner.note_text.startswith(_SETTINGS_NOT_SAVED):
                self.banner.hide()  # saved now, with what was chosen meanwhile
        except OSError as e:
            # in words naming the path ("the settings folder /x is a file, not a folder"), not errno text
            problem = save_problem(self.settings.path, e)
            self.messages.error("config", f"settings not saved: {problem}")
            if not self._closed:
                # in the banner too, as a layout not saved is: the status bar's ten seconds were easily missed,
                # and what was chosen (namespaces, graph type, a kubeconfig) was then gone at the next start
                self.banner.show_note(f"{_SETTINGS_NOT_SAVED} {problem}. What you chose since holds in this window "
                                      "until it closes; it is saved with the next change once the settings can be "
                                      "written.", "warning")
        self._tell_settings_warnings()  # e.g. a file found damaged while saving, and moved aside

    def _tell_settings_warnings(self, *, log_them: bool = True) -> None:
        """Say in the banner what the settings store found wrong and has not been said yet: at start-up
        what reading found, later what a save found (a file damaged meanwhile is moved aside then)."""
        new = [w for w in getattr(self.settings, "warnings", []) if w not in self._settings_told]
        if not new:
            return
        self._settings_told.update(new)
        for w in new if log_them else ():
            if w not in self._settings_logged:
                self._settings_logged.add(w)
                log.warning("%s", w)
        if not self._closed:
            self.banner.show_note("Settings: " + "; ".join(new), "warning")

    def _remember_display(self, c: ViewChoices) -> None:
        """Keep the display choices for the next session (those that differ from the defaults)."""
        default = ViewChoices()
        kept = {key: getattr(c, key) for key in KEPT_CHOICES if getattr(c, key) != getattr(default, key)}
        if kept != self.settings.display:
            self.settings.display = kept
            self._save_settings()

    def _remember_view(self, c: ViewChoices) -> None:
        """Keep the toolbar's graph type, window and refresh as this context's defaults."""
        cs = self.settings.context_settings(self.context)
        new = dataclasses.replace(cs, graph_type=c.graph_type, duration=c.duration, refresh_interval=c.refresh)
        if new != cs:
            self.settings.set_context_settings(self.context, new)
            self._save_settings()
            self._opened_with = self.settings.context_settings(self.context)  # what is shown follows them

    def show_settings(self) -> None:
        from meshdesk.ui.settings_dialog import SettingsDialog

        names = [n for n in self.contexts if n != DEMO]
        clusters = getattr(self.poller.source, "clusters", None)  # a live mesh's clusters, as last found
        found = {context: (name, how) for name, context, how in clusters()} if callable(clusters) else {}
        dlg = SettingsDialog(self, contexts=names, current_context=self.context if self.context in names else None,
                             settings=self.settings, clusters_found=found)
        dlg.settingsSaved.connect(self._on_settings_saved)
        dlg.exec()
        self._tell_settings_warnings()  # its save may have found the file damaged (also when it failed)

    def _health_rates(self) -> tuple[Mapping[str, Any], ...]:
        """The settings' health tolerances (Kiali's health_config.rate) for the context shown: its own, else
        the general ones; for the graph's request."""
        per_context = getattr(self.settings, "health_rates_for", None)
        if callable(per_context):
            return tuple(per_context(self.context or ""))
        return tuple(getattr(self.settings, "health_rates", ()))

    def _kiali_extensions(self) -> tuple[str, ...]:
        """The Kiali extensions enabled in the settings of the context shown (none for the demo or a
        snapshot, whose own request says), for the graph's request."""
        if not self.context or self.context == DEMO or self.context.startswith(SNAPSHOT_PREFIX):
            return ()
        return tuple(getattr(self.settings.context_settings(self.context), "extensions", ()) or ())

    def _on_settings_saved(self, saved: Any) -> None:
        rates_before = self.poller.request.healthRates if self.poller.request is not None else ()
        extensions_before = self.poller.request.extensions if self.poller.request is not None else ()
        if saved is not None:
            self.settings = saved
        for extension in self.extensions:  # what follows a setting now (the docks' write controls)
            changed = getattr(extension, "settings_changed", None)
            if callable(changed):
                changed()
        builder = self.poller.builder
        ignored = frozenset(getattr(self.settings, "ignored_checks", IGNORED_BY_DEFAULT))
        revalidate = isinstance(builder, ValidatingBuilder) and builder.ignored_checks != ignored
        if isinstance(builder, ValidatingBuilder):
            builder.ignored_checks = ignored
        if self.context in self.contexts and self.context != DEMO \
                and _reopening(self.settings.context_settings(self.context)) != _reopening(self._opened_with):
            # reopen: its Prometheus address or login, its defaults changed. Only then: a theme, read-only
            # or the checks left out threw the user out of a node graph or a replay, and read it all again
            self.switch_context(self.context)
        elif self.context and (self._health_rates() != tuple(rates_before)
                               or self._kiali_extensions() != tuple(extensions_before)):
            self._request_changed()  # health is judged by the new tolerances (a cluster's, the demo's, a snapshot's)
        elif revalidate and self.context:
            self.poller.refresh_now()  # the findings shown follow the checks now left out
        self._update_status()  # read-only said (or no longer) at once, not with the next graph

    def _about(self) -> None:
        from meshdesk.ui.about import show_about

        show_about(self)

    def add_extension(self, extension: Any) -> Any:
        """Keep ``extension`` (anything with ``shutdown()``) and shut it down with the window, before
        the poller stops."""
        self.extensions.append(extension)
        return extension

    # -- the end -------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._age_timer.stop()
        self.replay.stop()  # its play timer would go on stepping a stopped poller
        self._remember_window()
        for extension in self.extensions:
            extension.shutdown()
        self.snapshot_opener.shutdown(2.0 if self.quick_exit else 30.0)
        self.snapshot_saver.shutdown()  # a snapshot the user asked to save is written before the window goes
        # the app's window does not wait on a call that will not end (its process then exits)
        self.poller.shutdown(abandon_after_ms=2000 if self.quick_exit else None)
        self.view.shutdown()
        self._save_settings()

    # -- the window's own arrangement ------------------------------------------------------------
    def _remember_window(self) -> None:
        """Keep the window's size and place and the docks' arrangement for the next start."""
        if not self._shown_once:
            return  # never shown: nothing the user arranged
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.settings.window_state = bytes(self.saveState(WINDOW_STATE_VERSION).toBase64().data()).decode("ascii")

    def restore_window(self) -> bool:
        """Put the window and its docks back as the user left them (call once every dock exists);
        False when nothing was kept, or what was kept does not fit this version's docks."""
        geometry, state = _saved_bytes(self.settings.window_geometry), _saved_bytes(self.settings.window_state)
        restored = False
        if geometry is not None:
            restored = self.restoreGeometry(geometry)
        if not restored:  # a first start (or a size that cannot be read): the usual size, within this screen
            self.resize(first_size(self.screen().availableGeometry().size(), self.size()))
        if state is not None:
            restored = self.restoreState(state, WINDOW_STATE_VERSION) and restored
        for dock in self.findChildren(QDockWidget):
            dock.visibilityChanged.connect(self._tab_bars_timer.start)
        self._tab_bars_timer.start()
        return restored

    def _hide_stray_tab_bars(self) -> None:
        """Hide a dock tab bar no two shown docks share, or one that is not beside the dock it
        switches. Restoring a saved arrangement can leave Qt's tab bar of a group whose docks are
        hidden on screen, over the File menu ("Logs" at the top left), or a second "Details | Legend"
        bar where the docks were in a window of another size (over the Metrics toolbar); Qt shows the
        bars it uses again when it lays the docks out."""
        docks = [d for d in self.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
        shown = {d.windowTitle() for d in docks}
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if not bar.isVisible():
                continue
            titles = [bar.tabText(i) for i in range(bar.count())]
            if sum(t in shown for t in titles) < 2 or not any(
                    d.windowTitle() in titles and _beside(bar.geometry(), d.geometry()) for d in docks):
                bar.hide()

    def showEvent(self, event: QShowEvent) -> None:
        self._shown_once = True
        super().showEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        """Tab and Shift+Tab pass over what is out of view: Qt parks a dock behind another's tab (the
        Legend behind Details) off screen yet shown, and keeps an emptied dock tab bar shown off screen
        too; the keyboard went to them and seemed lost for a press each."""
        start = QApplication.focusWidget()
        for _ in range(1000):  # (bounded: the focus chain is a ring)
            if not super().focusNextPrevChild(next):
                return False
            now = QApplication.focusWidget()
            if now is None or now is start or not self._out_of_view(now):
                return True
        return True

    def _out_of_view(self, widget: QWidget) -> bool:
        """Whether ``widget`` is in a dock out of view, or is a dock tab bar out of view or with no tab
        (a widget merely scrolled out of sight in a shown dock is not: its scroll area brings it in)."""
        if isinstance(widget, QTabBar) and widget.parent() is self:
            return widget.count() == 0 or widget.visibleRegion().isEmpty()
        parent = widget.parentWidget()
        while parent is not None and parent is not self:
            if isinstance(parent, QDockWidget) and not parent.isFloating() and not _in_view(parent):
                return True
            parent = parent.parentWidget()
        return False


def _view_words(key: LayoutKey) -> str:
    """A layout's view in words: "workload graph of shop, travel", "node graph of service:shop/reviews
    (versioned app graph)"."""
    graph_type, _, node = key.graph_type.partition("@")
    kind = dict(GRAPH_TYPE_NAMES).get(graph_type, f"{graph_type} graph")
    kind = f"{kind[0].lower()}{kind[1:]}"
    if node:  # a node graph's layout (see _make_layout_key)
        return f"node graph of {node.replace(':', ' ', 1)} ({kind})"
    return f"{kind} of {', '.join(key.namespaces) or 'no namespace'}"


def _saved_bytes(text: str | None) -> QByteArray | None:
    """A saved window geometry or dock arrangement (base64 text); None when there is none or it is
    not base64 text (the window then opens as it would the first time, rather than not at all)."""
    if not text:
        return None
    try:
        return QByteArray.fromBase64(text.encode("ascii"))
    except (UnicodeEncodeError, AttributeError):
        return None


def _beside(bar: QRect, dock: QRect) -> bool:
    """Whether a tab bar lies along a dock's edge, as Qt puts the bar of the docks it tabs together
    (below or above them: as wide; left or right of them: as tall)."""
    return (abs(bar.left() - dock.left()) <= 2 and abs(bar.right() - dock.right()) <= 2) or \
        (abs(bar.top() - dock.top()) <= 2 and abs(bar.bottom() - dock.bottom()) <= 2)


WINDOW_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("F5 / Ctrl+R", "Refresh now"),
    ("Ctrl+E", "Zoom to the selection"),
    ("Ctrl+F", "Find"),
    ("Ctrl+H", "Hide"),
    ("Esc in Find or Hide", "Clear the field; in an empty one, back to the graph"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3", "Layered / force / grid layout"),
    ("Ctrl+D", "Show or hide the details panel"),
    ("Ctrl+L", "Show or hide the legend"),
    ("Ctrl+M", "Show the Mesh view (control planes, their namespaces, gateways, addons) and go into it (or hide it)"),
    ("Alt+1 … Alt+6", "Show the Metrics, Lists, Istio config, Logs, Envoy or Traces dock and go into it (or hide it)"),
    ("F6 / Shift+F6", "Move the keyboard to the next / previous pane (graph, docks)"),
    ("Arrows, Home, End on a chart", "Move to the next chart (the charts are one Tab stop)"),
    ("Ctrl+,", "Settings"),
    ("Ctrl+O", "Open a snapshot"),
    ("Ctrl+S", "Save what the graph shows as a snapshot"),
    ("Ctrl+C", "Copy the details of the selection (in a text view or a table: what is selected there)"),
    ("Alt+Left", "Back to the full graph from a node graph"),
    ("F1", "Keyboard shortcuts"),
    ("Ctrl+Q", "Quit"),
)


def _in_view(dock: QDockWidget) -> bool:
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def _focus_into(dock: QDockWidget) -> bool:
    """Give the keyboard to the first widget in ``dock`` that takes it from Tab, first in Tab's order
    (the one it kept last when it had it before); False when none does."""
    inner = dock.widget()
    if inner is None:
        return False
    last = inner.focusWidget()
    takes = Qt.FocusPolicy.TabFocus

    def able(w: QWidget) -> bool:
        return w.isVisible() and w.isEnabled() and bool(w.focusPolicy() & takes)

    # the order the widgets were made in is not Tab's (a view arranged into splitters afterwards): the
    # Istio config dock put the keyboard on its references pane, the last stop, and Tab left the dock
    # from there, past its filter and list
    target = last if last is not None and able(last) else next(
        (w for w in _tab_order(inner) if able(w)), None)
    if target is None:
        return False
    target.setFocus(Qt.FocusReason.ShortcutFocusReason)
    return True


def _tab_order(inner: QWidget) -> list[QWidget]:
    """The widgets inside ``inner`` in the order Tab reaches them."""
    out: list[QWidget] = []
    w: QWidget | None = inner.nextInFocusChain()
    for _ in range(100000):  # the chain is a ring; bounded all the same
        if w is None or w is inner:
            break
        if inner.isAncestorOf(w):
            out.append(w)
        w = w.nextInFocusChain()
    return out


def shortcut_rows() -> list[tuple[str, str]]:
    """(keys, what) for the window and the canvas (which lists (what, keys)); one row for what both
    do (Ctrl+E in the window, Z on the graph)."""
    rows = list(WINDOW_SHORTCUTS)
    for what, keys in canvas_shortcuts():
        same = next((i for i, (_k, w) in enumerate(rows) if w == what), None)
        if same is None:
            rows.append((keys, what))
        else:
            rows[same] = (f"{rows[same][0]} / {keys}", what)
    return rows
