"""The main toolbar: what to show (context, namespaces, graph type, time window), how often to
refresh, how to draw it (edge labels, display toggles), layout, find/hide, export and fit.

The toolbar only holds choices; :class:`ViewChoices` is the plain state it edits, and the main window
turns it into a :class:`~meshdesk.mesh.request.GraphRequest` (graph-shaping choices) and the canvas's
display options (drawing-only choices)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QInputDialog,
    QLineEdit,
    QMenu,
    QToolBar,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from meshdesk.mesh.find import FIND_EXAMPLES, HIDE_EXAMPLES

_NAMESPACE_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # an RFC 1123 label


def namespace_name_problem(name: str) -> str:
    """Why ``name`` (spaces around it aside) cannot name a namespace, in words; "" when it can, or when
    nothing is typed yet."""
    name = name.strip()
    if not name:
        return ""
    if len(name) > 63:
        return f"A namespace name has at most 63 characters, not {len(name)}."
    if _NAMESPACE_RE.fullmatch(name):
        return ""
    if _NAMESPACE_RE.fullmatch(name.lower()):
        return f"Namespace names are in lower case: {name.lower()}"
    return "A namespace name has only lower-case letters, digits and '-', and starts and ends with a letter or digit."
NS_SHOWN = 24  # characters of a namespace name the toolbar's button shows
REFRESH_TIP = "How often to fetch new data"
REPLAY_PAUSED = "replaying"  # the refresh combo's item while replaying (not an interval)
REPLAY_PAUSED_TIP = ("The graph of a past moment does not change: refreshing is paused while replaying. "
                     'Back to live: "{chosen}" again')
REPLAY_TIP = "Show the graph as it was at an earlier time (live refresh stops)"
SNAPSHOT_PREFIX = "snapshot: "  # a snapshot file offered as a context: this, then the file's whole path
# the built-in demo mesh as a context: a name no kubeconfig context takes by chance (``minikube start -p
# demo`` makes a context "demo", which the demo mesh took the place of); "demo" is what earlier
# versions kept in the settings for it (``LEGACY_DEMO``)
DEMO = "demo (built-in)"
LEGACY_DEMO = "demo"
SNAPSHOT_NAME_SHOWN = 28  # characters of a snapshot's file name the context switcher shows
SNAPSHOT_FOLDER_SHOWN = 32  # and of the folder that tells two of one name apart
CONTEXT_SHOWN = 10  # characters the context switcher always has room for

GRAPH_TYPES: tuple[tuple[str, str], ...] = (
    ("app", "App graph"),
    ("versionedApp", "Versioned app graph"),
    ("workload", "Workload graph"),
    ("service", "Service graph"),
)
DURATIONS: tuple[tuple[int, str], ...] = ((60, "Last 1m"), (300, "Last 5m"), (600, "Last 10m"),
                                          (1800, "Last 30m"), (3600, "Last 1h"))
PAUSE = -1
MANUAL = 0


def window_label(seconds: int) -> str:
    """A time window as the toolbar names it: "Last 2h", "Last 15m", "Last 1h30m", "Last 45s"."""
    parts = []
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")):
        if n:
            parts.append(f"{n}{unit}")
    return "Last " + ("".join(parts) or "0s")
CONTEXT_TIP = "Cluster context (from your kubeconfig), or the demo mesh"


def elide_middle(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters long: the middle replaced by "…" when it is longer, so both
    its start and its end (a file's extension, a date before it) stay readable."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail:]


def snapshot_folders(paths: Sequence[str]) -> dict[str, str]:
    """For snapshot files of one name (``shop.json`` of two folders), the folder that tells each apart,
    as editors name tabs of same-named files ("lab" and "prod"; "a/x" and "b/x" when the folders share
    their name too); "" for a file whose name is its own. The whole path stays in the entry's tooltip."""
    names: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        names.setdefault(PurePath(path).name or path, []).append(path)
    out: dict[str, str] = {}
    for same in names.values():
        if len(same) == 1:
            out[same[0]] = ""
            continue
        folders = {p: PurePath(p).parent.parts for p in same}
        for path, parts in folders.items():
            others = [o for q, o in folders.items() if q != path]
            # the fewest last folders of this path that no other same-named file's path ends with
            depth = 1
            while depth < len(parts) and any(o[-depth:] == parts[-depth:] for o in others):
                depth += 1
            out[path] = "/".join(parts[-depth:]).replace("//", "/") or "/"
    return out


def snapshot_label(path: str, folder: str) -> str:
    """A snapshot's entry in the context switcher: its file name (the middle elided when long), then
    the folder that tells it apart from a same-named one, whole (only its start elided past
    ``SNAPSHOT_FOLDER_SHOWN`` characters: eliding its middle could drop what differs, "customer-a-prod"
    and "customer-b-prod")."""
    name = elide_middle(PurePath(path).name or path, SNAPSHOT_NAME_SHOWN)
    if not folder:
        return name
    if len(folder) > SNAPSHOT_FOLDER_SHOWN:
        folder = "…" + folder[len(folder) - SNAPSHOT_FOLDER_SHOWN + 1:]
    return f"{name} - {folder}"


_QT_INT_MAX = 2**31 - 1  # what a Qt combo's int data holds
REFRESH: tuple[tuple[int, str], ...] = ((PAUSE, "Pause"), (MANUAL, "Manual refresh"), (10, "Every 10s"),
                                        (15, "Every 15s"), (30, "Every 30s"), (60, "Every 1m"),
                                        (300, "Every 5m"))


def refresh_label(seconds: int) -> str:
    """The refresh combo's words for an interval ("Every 15s"; one from settings, as it is added)."""
    return dict(REFRESH).get(seconds, f"Every {seconds}s")
# (canvas edge label mode, label, response-time quantile it needs or None)
EDGE_LABELS: tuple[tuple[str, str, str | None], ...] = (
    ("none", "No edge labels", None),
    ("requestRate", "Request rate", None),
    ("requestDistribution", "Request distribution %", None),
    ("responseTimeP50", "Response time p50", "0.5"),
    ("responseTimeP95", "Response time p95", "0.95"),
    ("responseTimeP99", "Response time p99", "0.99"),
    ("responseTimeAvg", "Response time average", "avg"),
    ("throughput", "Throughput", None),
)
_QUANTILE = {k: q for k, _l, q in EDGE_LABELS if q is not None}

# (key, label, shapes the graph request?) - graph-shaping toggles refetch; the others only redraw.
DISPLAY_TOGGLES: tuple[tuple[str, str, bool], ...] = (
    ("service_nodes", "Service nodes", True),
    ("idle_nodes", "Idle nodes", True),
    ("idle_edges", "Idle edges", True),
    ("operation_nodes", "Operation nodes", True),
    ("waypoints", "Waypoints", True),
    ("cluster_boxes", "Cluster boxes", True),
    ("boxes", "Namespace boxes", True),
    ("security", "Security (mTLS) badges", False),
    ("virtual_services", "Virtual service badges", False),
    ("circuit_breakers", "Circuit breaker badges", False),
    ("missing_sidecars", "Missing sidecar badges", False),
    ("animation", "Traffic animation", False),
)
# Istio ambient: which ambient telemetry is graphed (the request's ``ambientTraffic``, Kiali's option)
AMBIENT_TRAFFIC: tuple[tuple[str, str], ...] = (
    ("total", "Total"),
    ("waypoint", "Waypoint"),
    ("ztunnel", "ztunnel"),
    ("none", "None"),
)
# Kiali's "Traffic" options: what each protocol's edges carry, or nothing (the request's rateHttp,
# rateGrpc and rateTcp). (choice, protocol, (value, label, tooltip) ...), Kiali's default first.
TRAFFIC_RATES: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("rate_http", "HTTP", (
        ("requests", "HTTP requests", "HTTP edges show requests per second"),
        ("none", "No HTTP traffic", "Leave HTTP traffic out of the graph"),
    )),
    ("rate_grpc", "gRPC", (
        ("requests", "gRPC requests", "gRPC edges show requests (calls) per second"),
        ("sent", "gRPC sent messages", "gRPC edges show the messages the client sends, per second"),
        ("received", "gRPC received messages", "gRPC edges show the messages the client receives, per second"),
        ("total", "gRPC total messages", "gRPC edges show the messages sent and received, per second"),
        ("none", "No gRPC traffic", "Leave gRPC traffic out of the graph"),
    )),
    ("rate_tcp", "TCP", (
        ("sent", "TCP sent bytes", "TCP edges show the bytes the client sends"),
        ("received", "TCP received bytes", "TCP edges show the bytes the client receives"),
        ("total", "TCP total bytes", "TCP edges show the bytes sent and received"),
        ("none", "No TCP traffic", "Leave TCP traffic out of the graph"),
    )),
)
GRAPH_SHAPING = frozenset({k for k, _, shaping in DISPLAY_TOGGLES if shaping} | {"ambient_traffic"}
                          | {k for k, _, _ in TRAFFIC_RATES})
# the choices kept for every context from one session to the next (what the graph shows and how; a
# context's graph type, window and refresh are its own): Kiali keeps them in the browser the same way
KEPT_CHOICES: dict[str, tuple[object, ...]] = {
    "edge_labels": tuple(k for k, _l, _q in EDGE_LABELS),
    "ambient_traffic": tuple(k for k, _l in AMBIENT_TRAFFIC),
    **{key: tuple(v for v, _l, _t in values) for key, _p, values in TRAFFIC_RATES},
    **{key: (True, False) for key, _l, _s in DISPLAY_TOGGLES},
}


def kept_choices(saved: object) -> tuple[dict[str, object], list[str]]:
    """The kept choices of ``saved`` (as the settings hold them) that this version offers, and what was
    passed over, in words (a hand-edited file, a newer version's choice)."""
    if not isinstance(saved, dict):
        return {}, ([] if saved in (None, {}) else ["the graph's display choices are not a table of choices"])
    out: dict[str, object] = {}
    dropped: list[str] = []
    for key, value in saved.items():
        offered = KEPT_CHOICES.get(str(key))
        if offered is None:
            dropped.append(f"{str(key)[:40]!r} is no display choice")
        elif value not in offered or isinstance(value, bool) != isinstance(offered[0], bool):
            dropped.append(f"{key} {str(value)[:40]!r} is not one of its choices")
        else:
            out[str(key)] = value
    return out, dropped



def _examples(expressions: tuple[str, ...]) -> str:
    return " or ".join(f"'{e}'" for e in expressions)

@dataclass(frozen=True)
class ViewChoices:
    graph_type: str = "versionedApp"
    duration: int = 600
    refresh: int = 15
    edge_labels: str = "none"
    service_nodes: bool = True
    idle_nodes: bool = False
    idle_edges: bool = False
    operation_nodes: bool = False
    waypoints: bool = True  # ambient waypoint nodes (the request's ``showWaypoints``)
    ambient_traffic: str = "total"  # one of AMBIENT_TRAFFIC's keys (the request's ``ambientTraffic``)
    rate_http: str = "requests"  # the request's ``rateHttp`` (see TRAFFIC_RATES)
    rate_grpc: str = "requests"  # the request's ``rateGrpc``
    rate_tcp: str = "sent"  # the request's ``rateTcp``
    cluster_boxes: bool = True  # a box per cluster, in a multi-cluster mesh (Kiali's default too)
    boxes: bool = True
    security: bool = False
    virtual_services: bool = True
    circuit_breakers: bool = True  # Kiali's "Circuit Breakers" badges (a DestinationRule's connection pool or outlier detection)
    missing_sidecars: bool = True
    animation: bool = True

    @property
    def quantile(self) -> str:
        """The response-time quantile the request asks for (the one the edge labels show)."""
        return _QUANTILE.get(self.edge_labels, "0.95")


NAMESPACE_FILTER_FROM = 10  # more namespaces than this: the menu gets a filter field


class StickyMenu(QMenu):
    """A menu whose checkable entries toggle without closing it (for picking several namespaces)."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self.activeAction()
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and action is not None \
                and action.isCheckable() and action.isEnabled():
            action.trigger()
            event.accept()
            return
        super().keyPressEvent(event)


def _combo(items: Sequence[tuple[object, str]], tip: str, name: str) -> QComboBox:
    """A choice with its items, its tooltip and ``name``: what a screen reader calls it, before its
    value (the value alone, "Last 10m", does not say what it chooses)."""
    c = QComboBox()
    c.setAccessibleName(name)
    for data, label in items:
        c.addItem(label, data)
    c.setToolTip(tip)
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return c


class ContextCombo(QComboBox):
    """The context switcher: says when its list is about to open, so the kubeconfig can be read
    again first (a context added meanwhile is offered where the user looks for it, as k9s's ``:ctx``)."""

    aboutToShowPopup = Signal()

    def showPopup(self) -> None:
        self.aboutToShowPopup.emit()
        super().showPopup()


class MainToolBar(QToolBar):
    """Signals carry the new value; ``choices`` always holds the current ``ViewChoices``."""

    contextSelected = Signal(str)
    namespacesSelected = Signal(list)
    choicesChanged = Signal(object, object)  # new ViewChoices, old ViewChoices
    refreshNowRequested = Signal()
    layoutRequested = Signal(str)  # "layered" / "force" / "grid"
    resetLayoutRequested = Signal()
    undoResetLayoutRequested = Signal()
    exportLayoutRequested = Signal()
    importLayoutRequested = Signal()
    findChanged = Signal(str)
    hideChanged = Signal(str)
    # Esc in an empty Find or Hide field: the keyboard goes back to the graph (with text, Esc clears it)
    fieldLeft = Signal()
    exportImageRequested = Signal(str)  # "png" / "svg"
    fitRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, find_presets: Sequence[tuple[str, str]] = (),
                 hide_presets: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__("Main toolbar", parent)
        self.setObjectName("mainToolBar")
        self.setMovable(False)
        self.choices = ViewChoices()
        self._namespaces: list[str] = []
        self._selected_ns: list[str] = []

        self._snapshot_folders: dict[str, str] = {}  # snapshot path -> the folder that tells it apart
        self.context_combo = ContextCombo()
        self.context_combo.setAccessibleName("Cluster context")
        self.context_combo.setToolTip(CONTEXT_TIP)
        self.context_combo.currentIndexChanged.connect(self._show_context_tip)
        self.context_combo.setMinimumContentsLength(10)
        self.context_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.context_combo.activated.connect(self._context_activated)
        self.addWidget(self.context_combo)

        self.namespace_menu = StickyMenu(self)
        self._pending_namespaces: list[str] | None = None  # a namespace list that came while the menu was open
        self._dropping_ticks = False  # the menu closes for another context: its ticks are the context left's
        self.namespace_menu.aboutToHide.connect(self._namespaces_closed)
        self.namespace_menu.aboutToShow.connect(self._namespaces_opened)
        # on big clusters, a filter over the list (see set_namespaces); the action belongs to the toolbar,
        # so clearing the menu for new namespaces does not delete it
        self._ns_filter_edit = QLineEdit()
        self._ns_filter_edit.setPlaceholderText("Filter namespaces…")
        self._ns_filter_edit.setClearButtonEnabled(True)
        self._ns_filter_edit.textChanged.connect(self._filter_namespaces)
        self._ns_filter_action = QWidgetAction(self)
        self._ns_filter_action.setDefaultWidget(self._ns_filter_edit)
        self.namespace_filter: QLineEdit | None = None
        self.namespace_button = QToolButton()
        self.namespace_button.setText("Namespaces")
        self.namespace_button.setToolTip("Namespaces to show (remembered per context)")
        self.namespace_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.namespace_button.setMenu(self.namespace_menu)
        self.addWidget(self.namespace_button)

        self.graph_type_combo = _combo(GRAPH_TYPES, "Graph type: what a node stands for", "Graph type")
        self.graph_type_combo.setCurrentIndex(1)
        self.graph_type_combo.activated.connect(lambda _i: self._set(graph_type=self.graph_type_combo.currentData()))
        self.addWidget(self.graph_type_combo)

        self.duration_combo = _combo(DURATIONS, "Time window of the traffic shown", "Time window")
        self.duration_combo.setCurrentIndex(2)
        self.duration_combo.activated.connect(lambda _i: self._set(duration=self.duration_combo.currentData()))
        self.addWidget(self.duration_combo)

        self.refresh_combo = _combo(REFRESH, REFRESH_TIP, "Refresh interval")
        self.refresh_combo.setCurrentIndex(3)
        self.refresh_combo.activated.connect(lambda _i: self._set(refresh=self.refresh_combo.currentData()))
        self.addWidget(self.refresh_combo)
        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Refresh), QKeySequence("Ctrl+R")])
        self.refresh_action.setToolTip("Fetch new data now (F5)")
        self.refresh_action.triggered.connect(self.refreshNowRequested)
        self.addAction(self.refresh_action)
        self.replay_action = QAction("Replay", self)
        self.replay_action.setCheckable(True)
        self.replay_action.setToolTip(REPLAY_TIP)
        self.addAction(self.replay_action)

        # second row: how to draw it, layout, find/hide, export
        self.view_bar = bar = QToolBar("View toolbar", parent)
        bar.setObjectName("viewToolBar")
        bar.setMovable(False)
        self.edge_label_combo = _combo([(k, label) for k, label, _q in EDGE_LABELS], "What edges are labelled with",
                                       "Edge labels")
        self.edge_label_combo.activated.connect(lambda _i: self._set(edge_labels=self.edge_label_combo.currentData()))
        bar.addWidget(self.edge_label_combo)

        self._add_traffic_menu(bar)

        self.display_menu = QMenu(self)
        self.display_actions: dict[str, QAction] = {}
        for key, label, shaping in DISPLAY_TOGGLES:
            act = QAction(label, self.display_menu)
            act.setCheckable(True)
            act.setChecked(bool(getattr(self.choices, key)))
            act.setToolTip("Changes what is fetched" if shaping else "Changes only the drawing")
            act.toggled.connect(lambda checked, k=key: self._set(**{k: bool(checked)}))
            self.display_menu.addAction(act)
            self.display_actions[key] = act
            if key == "waypoints":
                self._add_ambient_menu()
            if key == "boxes":
                self.display_menu.addSeparator()
        self.display_button = QToolButton()
        self.display_button.setText("Display")
        self.display_button.setToolTip("What to show on the graph")
        self.display_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.display_button.setMenu(self.display_menu)
        bar.addWidget(self.display_button)

        self.layout_menu = QMenu(self)
        for algo, label, key in (("layered", "Layered (left to right)", "Ctrl+1"), ("force", "Force-directed", "Ctrl+2"),
                                 ("grid", "Grid", "Ctrl+3")):
            act = self.layout_menu.addAction(label)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _c=False, a=algo: self.layoutRequested.emit(a))
        self.layout_menu.addSeparator()
        self.reset_layout_action = self.layout_menu.addAction("Reset layout")
        self.reset_layout_action.triggered.connect(self.resetLayoutRequested)
        self.undo_reset_action = self.layout_menu.addAction("Undo layout change")
        self.undo_reset_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        # Ctrl+Z undoes the reset only on the canvas (the window adds the action to it): in a text box it
        # is that box's undo, and in the Details panel, the Logs or a YAML view it does nothing
        self.undo_reset_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_reset_action.setToolTip("Put back the arrangement the last reset, chosen or imported layout of this view replaced")
        self.undo_reset_action.setEnabled(False)  # the canvas enables it after a reset or a chosen layout
        self.undo_reset_action.triggered.connect(self.undoResetLayoutRequested)
        self.layout_menu.addAction("Export layout…").triggered.connect(self.exportLayoutRequested)
        self.layout_menu.addAction("Import layout…").triggered.connect(self.importLayoutRequested)
        self.layout_button = QToolButton()
        self.layout_button.setText("Layout")
        self.layout_button.setToolTip("Arrange the nodes (layered, force-directed or grid), or reset, undo, export "
                                      "or import this view's positions")
        self.layout_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.layout_button.setMenu(self.layout_menu)
        bar.addWidget(self.layout_button)
        bar.addSeparator()

        self.find_edit = self._expr_edit("Find…", f"Highlight nodes and edges, e.g. {_examples(FIND_EXAMPLES)}",
                                         find_presets, self.findChanged, bar)
        self.hide_edit = self._expr_edit("Hide…", f"Hide nodes and edges, e.g. {_examples(HIDE_EXAMPLES)}",
                                         hide_presets, self.hideChanged, bar)

        self.export_menu = QMenu(self)
        self.export_menu.addAction("Export PNG…").triggered.connect(lambda: self.exportImageRequested.emit("png"))
        self.export_menu.addAction("Export SVG…").triggered.connect(lambda: self.exportImageRequested.emit("svg"))
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save the graph as a PNG or SVG image")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self.export_menu)
        bar.addWidget(self.export_button)
        self.fit_action = QAction("Fit", self)
        self.fit_action.setShortcut(QKeySequence("Ctrl+0"))
        self.fit_action.setToolTip("Fit the graph in the window (Ctrl+0)")
        self.fit_action.triggered.connect(self.fitRequested)
        bar.addAction(self.fit_action)

    def _add_ambient_menu(self) -> None:
        """"Ambient traffic": one of Total / Waypoint / ztunnel / None, beside the Waypoints toggle."""
        self.ambient_menu = self.display_menu.addMenu("Ambient traffic")
        self.ambient_menu.setToolTipsVisible(True)
        self.ambient_menu.menuAction().setToolTip("Which Istio ambient telemetry is graphed (changes what is fetched)")
        group = QActionGroup(self.ambient_menu)
        group.setExclusive(True)
        self.ambient_actions: dict[str, QAction] = {}
        for value, label in AMBIENT_TRAFFIC:
            act = QAction(label, self.ambient_menu)
            act.setCheckable(True)
            act.setChecked(value == self.choices.ambient_traffic)
            act.setToolTip({"total": "Waypoint (L7) and ztunnel (L4) telemetry",
                            "waypoint": "Only what waypoints report (L7 requests)",
                            "ztunnel": "Only what ztunnel reports (L4 TCP)",
                            "none": "No ambient telemetry (sidecars only)"}[value])
            act.toggled.connect(lambda checked, v=value: self._set(ambient_traffic=v) if checked else None)
            group.addAction(act)
            self.ambient_menu.addAction(act)
            self.ambient_actions[value] = act

    def _add_traffic_menu(self, bar: QToolBar) -> None:
        """"Traffic": per protocol, what its edges carry (requests, messages, bytes) or nothing, as
        Kiali's Traffic dropdown. Every choice changes what is fetched."""
        self.traffic_menu = QMenu(self)
        self.traffic_menu.setToolTipsVisible(True)
        self.traffic_actions: dict[str, dict[str, QAction]] = {}
        for key, _protocol, options in TRAFFIC_RATES:
            if self.traffic_actions:
                # a plain separator: not every style draws a section's title, so each entry names its protocol
                self.traffic_menu.addSeparator()
            group = QActionGroup(self.traffic_menu)
            group.setExclusive(True)
            actions: dict[str, QAction] = {}
            for value, label, tip in options:
                act = QAction(label, self.traffic_menu)
                act.setCheckable(True)
                act.setChecked(value == getattr(self.choices, key))
                act.setToolTip(tip + " (changes what is fetched)")
                act.toggled.connect(lambda checked, k=key, v=value: self._set(**{k: v}) if checked else None)
                group.addAction(act)
                self.traffic_menu.addAction(act)
                actions[value] = act
            self.traffic_actions[key] = actions
        self.traffic_button = QToolButton()
        self.traffic_button.setText("Traffic")
        self.traffic_button.setToolTip("Which traffic the edges show: HTTP requests, gRPC requests or messages, "
                                       "TCP bytes")
        self.traffic_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.traffic_button.setMenu(self.traffic_menu)
        bar.addWidget(self.traffic_button)

    # -- find / hide ---------------------------------------------------------------------------
    def _expr_edit(self, placeholder: str, tip: str, presets: Sequence[tuple[str, str]],
                   signal: SignalInstance, bar: QToolBar) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        # what a screen reader calls it: a placeholder is no name (and goes once text is typed)
        edit.setAccessibleName(placeholder.rstrip('…'))
        edit.setToolTip(tip + " - Enter applies, Esc clears (in an empty field: back to the graph)")
        edit.setProperty("helpTip", edit.toolTip())  # what the tooltip says again once an error is fixed
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(160)
        edit.setMaximumWidth(260)
        edit.returnPressed.connect(lambda: signal.emit(edit.text().strip()))
        edit.textChanged.connect(lambda t: signal.emit("") if not t else None)
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), edit)  # as the tooltip says
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        # a second Esc, in the field it emptied, leaves it: the keyboard was stuck in the toolbar
        clear.activated.connect(lambda: edit.clear() if edit.text() else self.fieldLeft.emit())
        bar.addWidget(edit)
        if presets:
            menu = QMenu(self)
            for expr, label in presets:
                act = menu.addAction(f"{label}   ({expr})" if label != expr else expr)
                act.triggered.connect(lambda _c=False, e=expr: self._apply_preset(edit, signal, e))
            btn = QToolButton()
            btn.setArrowType(Qt.ArrowType.DownArrow)
            btn.setToolTip(f"{placeholder.rstrip('…')} presets")
            btn.setAccessibleName(btn.toolTip())  # an arrow only: no text to read
            btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            btn.setMenu(menu)
            btn.setAutoRaise(True)
            btn.setStyleSheet("QToolButton::menu-indicator { image: none; }")
            bar.addWidget(btn)
        return edit

    @staticmethod
    def _apply_preset(edit: QLineEdit, signal: SignalInstance, expr: str) -> None:
        edit.setText(expr)
        signal.emit(expr)

    def mark_expression(self, edit: QLineEdit, error: str | None) -> None:
        edit.setStyleSheet("" if not error else "QLineEdit { border: 1px solid #c9190b; }")
        edit.setToolTip(error or edit.property("helpTip") or "")

    # -- context / namespaces --------------------------------------------------------------------
    def set_contexts(self, names: Sequence[str], current: str) -> None:
        combo = self.context_combo
        wanted = list(names)
        if current and current not in wanted:
            wanted.append(current)
        self._snapshot_folders = snapshot_folders([n[len(SNAPSHOT_PREFIX):] for n in wanted
                                                 if n.startswith(SNAPSHOT_PREFIX)])
        with QSignalBlocker(combo):
            combo.clear()
            for n in wanted:
                self._add_context(n)
            idx = combo.findData(current)
            combo.setCurrentIndex(idx)
        # room for a snapshot's file name: the switcher showed "snapshot: /tmp/q" of a whole path
        files = [len(combo.itemText(i)) for i in range(combo.count()) if combo.itemData(i).startswith(SNAPSHOT_PREFIX)]
        combo.setMinimumContentsLength(max([CONTEXT_SHOWN, *files]))
        self._show_context_tip()

    def _add_context(self, name: str) -> None:
        """An entry of the context switcher: a snapshot by its file name (the middle elided when long;
        with its folder when another open snapshot has that name; the whole path in its tooltip), any
        other context by its name."""
        combo = self.context_combo
        if name.startswith(SNAPSHOT_PREFIX):
            path = name[len(SNAPSHOT_PREFIX):]
            combo.addItem(SNAPSHOT_PREFIX + snapshot_label(path, self._snapshot_folders.get(path, "")), name)
            combo.setItemData(combo.count() - 1, f"Snapshot file {path}", Qt.ItemDataRole.ToolTipRole)
        else:
            combo.addItem(name, name)

    def _show_context_tip(self) -> None:
        """The switcher's tooltip: for a snapshot, which file is open (its whole path)."""
        tip = self.context_combo.itemData(self.context_combo.currentIndex(), Qt.ItemDataRole.ToolTipRole)
        self.context_combo.setToolTip(tip or CONTEXT_TIP)

    def current_context(self) -> str:
        return str(self.context_combo.currentData() or "")

    def _context_activated(self, _index: int) -> None:
        self.contextSelected.emit(self.current_context())

    def show_context_namespaces(self, available: Sequence[str], selected: Sequence[str]) -> None:
        """The namespaces of a context just switched to. A menu open meanwhile (the switch came from a
        snapshot read in the background, or a kubeconfig that got the awaited context) lists the context
        left's namespaces with its ticks: it closes, and its ticks are dropped, not taken as a choice made
        in the new context."""
        if self.namespace_menu.isVisible():
            self._dropping_ticks = True
            try:
                self.namespace_menu.hide()
            finally:
                self._dropping_ticks = False
        self._pending_namespaces = None
        self.set_namespaces(available, selected)

    def set_namespaces(self, available: Sequence[str], selected: Sequence[str]) -> None:
        if self.namespace_menu.isVisible():
            # the user is ticking names in the open menu: a list read meanwhile (a timed refresh) waits
            # until it closes, so their ticks and filter text are not wiped
            self._pending_namespaces = list(available)
            return
        self._pending_namespaces = None
        self._namespaces = sorted(set(available) | set(selected))
        self._selected_ns = [n for n in self._namespaces if n in set(selected)]
        self.namespace_menu.clear()
        self.namespace_filter = None
        self._ns_filter_edit.clear()
        if len(self._namespaces) > NAMESPACE_FILTER_FROM:
            # a big cluster: type to narrow the list (Select all / none then act on what is shown)
            self.namespace_filter = self._ns_filter_edit
            self.namespace_menu.addAction(self._ns_filter_action)
        if len(self._namespaces) > 1:
            self.namespace_menu.addAction("Select all").triggered.connect(lambda: self._check_all(True))
            self.namespace_menu.addAction("Select none").triggered.connect(lambda: self._check_all(False))
            self.namespace_menu.addSeparator()
        for n in self._namespaces:
            act = self.namespace_menu.addAction(n)
            act.setCheckable(True)
            act.setChecked(n in self._selected_ns)
        if not self._namespaces:
            self.namespace_menu.addAction("(no namespaces yet)").setEnabled(False)
        self.namespace_menu.addSeparator()
        other = self.namespace_menu.addAction("Other namespace…")
        other.setToolTip("Add a namespace by name (when your account may not list them all)")
        other.triggered.connect(self._ask_namespace)
        self._update_ns_text()

    def _ask_namespace(self) -> QInputDialog:
        """Ask for a namespace by name; OK takes only a name a namespace can have, and the dialog says
        what is wrong with one it cannot (a name typed with a capital or a space was dropped without a
        word, the menu unchanged)."""
        dialog = QInputDialog(self)
        dialog.setObjectName("otherNamespace")
        dialog.setWindowTitle("Other namespace")
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueChanged.connect(lambda text: self._check_namespace_typed(dialog, text))
        dialog.textValueSelected.connect(self.add_namespace)
        dialog.open()
        self._check_namespace_typed(dialog, "")  # (its buttons exist once it is laid out)
        return dialog

    @staticmethod
    def _check_namespace_typed(dialog: QInputDialog, text: str) -> None:
        problem = namespace_name_problem(text)
        dialog.setLabelText(f"Namespace name:\n{problem}" if problem else "Namespace name:")
        buttons = dialog.findChild(QDialogButtonBox)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok) if buttons is not None else None
        if ok is not None:
            ok.setEnabled(bool(text.strip()) and not problem)

    def add_namespace(self, name: str) -> bool:
        """Add ``name`` to the choices and select it; False (and nothing changes) when it is not a valid
        Kubernetes namespace name."""
        name = name.strip()
        if not _NAMESPACE_RE.fullmatch(name) or len(name) > 63:
            return False
        self.set_namespaces(self._namespaces, [*self._selected_ns, name])
        self.namespacesSelected.emit(list(self._selected_ns))
        return True

    def _check_all(self, on: bool) -> None:
        """Check or uncheck every namespace shown (all of them, or those the filter lets through)."""
        for act in self.namespace_menu.actions():
            if act.isCheckable() and act.isVisible():
                act.setChecked(on)

    def _filter_namespaces(self, text: str) -> None:
        needle = text.strip().lower()
        for act in self.namespace_menu.actions():
            if act.isCheckable():
                act.setVisible(needle in act.text().lower())

    def selected_namespaces(self) -> list[str]:
        return list(self._selected_ns)

    def select_namespaces(self, names: Sequence[str]) -> None:
        """Select ``names`` as the user would (emits ``namespacesSelected`` when it changes); a name
        not offered yet is added (the user may not list every namespace)."""
        missing = [n for n in names if n not in self._namespaces]
        if missing:
            self.set_namespaces([*self._namespaces, *missing], self._selected_ns)
        for act in self.namespace_menu.actions():
            if act.isCheckable():
                act.setChecked(act.text() in set(names))
        self._namespaces_closed()

    def _namespaces_opened(self) -> None:
        if self.namespace_filter is not None:  # every namespace again, and typing goes to the filter
            self.namespace_filter.clear()
            QTimer.singleShot(0, self.namespace_filter.setFocus)

    def _namespaces_closed(self) -> None:
        if self._dropping_ticks:
            return
        chosen = [a.text() for a in self.namespace_menu.actions() if a.isCheckable() and a.isChecked()]
        if chosen != self._selected_ns:
            self._selected_ns = chosen
            self._update_ns_text()
            self.namespacesSelected.emit(chosen)
        pending, self._pending_namespaces = self._pending_namespaces, None
        if pending is not None:  # the list read while the menu was open
            QTimer.singleShot(0, lambda: self.set_namespaces(pending, self._selected_ns))

    def _update_ns_text(self) -> None:
        sel = self._selected_ns

        def short(name: str) -> str:  # a long namespace must not push the toolbar's last buttons away
            return name if len(name) <= NS_SHOWN else name[: NS_SHOWN - 1] + "\u2026"

        if not sel:
            text = "Namespaces: none"
        elif len(sel) <= 2:
            text = "Namespaces: " + ", ".join(short(n) for n in sel)
        else:
            text = f"Namespaces: {short(sel[0])} +{len(sel) - 1}"
        self.namespace_button.setText(text)
        self.namespace_button.setToolTip("Namespaces shown: " + (", ".join(sel) or "none"))

    # -- choices ---------------------------------------------------------------------------------
    def _set(self, **changes: object) -> None:
        old = self.choices
        new = replace(old, **changes)  # type: ignore[arg-type]
        if new != old:
            self.choices = new
            self.choicesChanged.emit(new, old)

    def set_refresh_paused(self, paused: bool) -> None:
        """Replay on: the refresh combo, greyed out, reads that refreshing is paused while replaying (it read
        "Every 15s" though nothing was refreshed); off: it shows the interval chosen again, which was kept."""
        combo = self.refresh_combo
        at = combo.findData(REPLAY_PAUSED)
        with QSignalBlocker(combo):
            if paused:
                if at < 0:
                    combo.addItem("Paused while replaying", REPLAY_PAUSED)
                    at = combo.count() - 1
                combo.setCurrentIndex(at)
            else:
                if at >= 0:
                    combo.removeItem(at)
                chosen = combo.findData(self.choices.refresh)
                if chosen >= 0:
                    combo.setCurrentIndex(chosen)
        combo.setEnabled(not paused)
        combo.setToolTip(REPLAY_PAUSED_TIP.format(chosen=refresh_label(self.choices.refresh)) if paused
                         else REFRESH_TIP)

    def set_choices(self, choices: ViewChoices) -> None:
        """Show ``choices`` without emitting (e.g. restored from settings)."""
        self.choices = choices
        # a number a Qt combo cannot hold (only settings edited by hand could give one) is not shown
        fits = 0 < choices.refresh <= _QT_INT_MAX
        if fits and self.refresh_combo.findData(choices.refresh) < 0:  # e.g. from settings
            self.refresh_combo.addItem(f"Every {choices.refresh}s", choices.refresh)
        offered = {d for d, _label in DURATIONS}
        for i in reversed(range(self.duration_combo.count())):
            # a snapshot's window left in the list after it: a live context offered "Last 2h", which the
            # next start did not take back (the context's window is one of those offered)
            if self.duration_combo.itemData(i) not in offered and self.duration_combo.itemData(i) != choices.duration:
                with QSignalBlocker(self.duration_combo):
                    self.duration_combo.removeItem(i)
        if 0 < choices.duration <= _QT_INT_MAX and self.duration_combo.findData(choices.duration) < 0:
            # a snapshot's own window (the command line takes any): named as it is, not "Last 10m"
            self.duration_combo.addItem(window_label(choices.duration), choices.duration)
        for combo, value in ((self.graph_type_combo, choices.graph_type), (self.duration_combo, choices.duration),
                             (self.refresh_combo, choices.refresh), (self.edge_label_combo, choices.edge_labels)):
            if isinstance(value, int) and not -_QT_INT_MAX <= value <= _QT_INT_MAX:
                continue
            if combo is self.refresh_combo and combo.findData(REPLAY_PAUSED) >= 0:
                continue  # replaying: it says so, and shows the choice kept when live again
            idx = combo.findData(value)
            if idx >= 0:
                with QSignalBlocker(combo):
                    combo.setCurrentIndex(idx)
        for key, act in self.display_actions.items():
            with QSignalBlocker(act):
                act.setChecked(bool(getattr(choices, key)))
        for value, act in self.ambient_actions.items():
            with QSignalBlocker(act):
                act.setChecked(value == choices.ambient_traffic)
        for key, actions in self.traffic_actions.items():
            for value, act in actions.items():
                with QSignalBlocker(act):
                    act.setChecked(value == getattr(choices, key))

    def choose(self, **changes: object) -> None:
        """Change choices as the user would through the widgets (emits ``choicesChanged``)."""
        new = replace(self.choices, **changes)  # type: ignore[arg-type]
        old = self.choices
        self.set_choices(new)
        if new != old:
            self.choicesChanged.emit(new, old)
