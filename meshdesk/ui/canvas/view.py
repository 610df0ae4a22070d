"""The graph canvas: a QGraphicsView over a scene of node, edge and box items.

``set_graph`` applies the difference between the shown graph and the new one (items are added,
removed or updated in place; nodes never jump on a refresh). Layouts run in a worker thread; new
nodes are placed beside their neighbours; positions the user drags are saved per view
(:class:`~meshdesk.store.layouts.LayoutKey`) and restored when that view opens again.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSizeF,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QBrush,
    QCloseEvent,
    QContextMenuEvent,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QRegion,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSceneHelpEvent,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolTip,
    QWidget,
)

from meshdesk.mesh.graph.model import BOX_APP, BOX_CLUSTER, BOX_NAMESPACE, NODE_BOX, Edge, Node, TrafficGraph
from meshdesk.store.layouts import LayoutKey, LayoutStore
from meshdesk.ui import layout as layout_engine
from meshdesk.ui.canvas import accessible, export, shapes
from meshdesk.ui.canvas.animation import MIN_LOD, TrafficAnimation
from meshdesk.ui.canvas.items import (
    ARROW_LOD,
    DIM_OPACITY,
    LABEL_LOD,
    PAINT,
    Z_BOX,
    BoxItem,
    EdgeItem,
    EdgeLayer,
    NodeItem,
    draw_edge_labels,
    edge_spoken,
    fmt_bytes_rate,
    fmt_edge_rate,
    fmt_mps,
    fmt_ms,
    fmt_percent,
    fmt_rps,
    grpc_messages,
    node_named,
    node_spoken,
    two_way_return,
)

log = logging.getLogger(__name__)

# other spellings accepted for convenience (the toolbar's keys)
LABEL_ALIASES: dict[str, str] = {
    "rate": "requestRate", "percent": "requestDistribution", "response_time:0.5": "responseTimeP50",
    "response_time:0.95": "responseTimeP95", "response_time:0.99": "responseTimeP99",
    "response_time:avg": "responseTimeAvg",
}


class _LabelModes(tuple[str, ...]):
    """The label modes (Kiali's names, in menu order); ``in`` also accepts the toolbar's spellings
    (``LABEL_ALIASES``), which DisplayOptions translates."""

    def __contains__(self, mode: object) -> bool:
        return tuple.__contains__(self, LABEL_ALIASES.get(mode, mode) if isinstance(mode, str) else mode)


EDGE_LABEL_MODES: tuple[str, ...] = _LabelModes((
    "none", "requestRate", "requestDistribution", "responseTimeP50", "responseTimeP95", "responseTimeP99",
    "responseTimeAvg", "throughput",
))

SHORTCUTS: list[tuple[str, str]] = [
    ("Fit the graph to the window", "F or Ctrl+0"),
    ("Zoom in", "Ctrl++ (or the mouse wheel)"),
    ("Zoom out", "Ctrl+- (or the mouse wheel)"),
    ("Zoom to the selection", "Z"),
    ("Select all nodes", "Ctrl+A"),
    ("Clear the selection", "Esc"),
    ("Select several nodes", "Drag on the background, or Ctrl+click"),
    ("Pan", "Middle-button drag, or Shift+drag on the background"),
    ("Move nodes", "Drag a node (all selected nodes move together)"),
    ("Move a box and all in it", "Drag the box by its title"),
    ("Select the next / previous node (Ctrl+Tab leaves the graph)", "Tab / Shift+Tab on the graph"),
    ("Select the next / previous edge of the selected node, in then out (Esc: back to the node)",
     "E / Shift+E on the graph"),
    ("Node graph and details", "Double-click a node or an app box, or Enter on the selected one"),
    ("Actions for the selection", "Menu key or Shift+F10"),
]


# what a screen reader calls the canvas (then what is selected in it), and how its keys reach what it shows
GRAPH_NAME = "Traffic graph"
GRAPH_KEYS_SPOKEN = ("Tab and Shift+Tab select the next and previous node; E and Shift+E walk the selected "
                     "node's edges, Escape goes back; Enter opens a node's graph, the Menu key its actions; "
                     "Control+Tab leaves the graph")


def undo_keys() -> str:
    """The platform's Undo keys as its menus write them (Ctrl+Z; ⌘Z on macOS). Needs the application."""
    return QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)


def canvas_shortcuts() -> list[tuple[str, str]]:
    """:data:`SHORTCUTS` and those whose keys the platform decides (once the application exists)."""
    return [*SHORTCUTS, ("Undo a reset, a chosen or an imported layout (on the graph)", undo_keys())]

SAVE_DELAY_MS = 500
UNDO_DEPTH = 10  # resets and chosen layouts of one view that can be undone, one after the other
UNDO_NOTE_MS = 20000  # how long the canvas offers to undo a reset (Ctrl+Z on it does while the view is shown)
ALL_HIDDEN_NOTE = "The Hide expression hides every node. Change or clear it to see the graph."
# said while names and badges are too small to draw (see LABEL_LOD)
ZOOM_HINT = "Zoom in (+) to see names"
HOVER_DELAY_MS = 80  # the mouse rests this long on an element before its paths are highlighted
MIN_SCALE = 0.02
MAX_SCALE = 6.0
FIT_MAX_SCALE = 1.5
PLACE_NEW_LIMIT = 40
SETTLE_S = 0.25
# BSP or no index: measured with benchmarks/canvas.py (see the module text there)
# Moving or adding more items than this at once (a layout landing, a first graph) is done with the
# scene's index switched off and rebuilt in one go afterwards: each item moved while indexed is taken
# out of and put back into the BSP tree (1,000 nodes and their 3,000 edges: ~125 -> ~38 ms)
BULK_ITEMS = 300
INDEX_METHOD = (QGraphicsScene.ItemIndexMethod.NoIndex if os.environ.get("MESHDESK_SCENE_INDEX") == "none"
                else QGraphicsScene.ItemIndexMethod.BspTreeIndex)  # more new nodes than this (or than a third of the graph) get a full layout


@dataclass(frozen=True)
class DisplayOptions:
    """Drawing-only choices (changing them never refetches)."""

    edge_labels: str = "none"
    show_security: bool = False
    show_virtual_services: bool = True
    show_circuit_breakers: bool = True
    show_missing_sidecars: bool = True
    show_boxes: bool = True
    animation: bool = False

    def __post_init__(self) -> None:
        mode = LABEL_ALIASES.get(self.edge_labels, self.edge_labels)
        if mode not in EDGE_LABEL_MODES:
            raise ValueError(f"edge_labels must be one of {', '.join(EDGE_LABEL_MODES)}, not {self.edge_labels!r}")
        object.__setattr__(self, "edge_labels", mode)


def edge_label(edge: Edge, mode: str, source_total: float = 0.0, grpc_messages: bool = False) -> str:
    """The text an edge shows for a label mode. ``source_total`` is the source node's outgoing rate
    on the edge's protocol (for the distribution when the graph does not carry percentages);
    ``grpc_messages``: the graph's gRPC edges carry messages, not requests (see items.grpc_messages)."""
    if mode == "none":
        return ""
    # as Kiali's graph: an edge without traffic (an idle one) gets no number, nor does a request
    # distribution of 100% (the source's only edge of that protocol) or a time or throughput of 0
    if mode == "requestRate":
        back = two_way_return(edge) if edge.extra else None
        if edge.rate <= 0 and (back is None or back.rate <= 0):
            return ""
        if back is not None:  # a two-way edge with an ambient waypoint: both directions
            return (f"{fmt_edge_rate(edge.rate, edge.protocol, grpc_messages)} ⇄ "
                    f"{fmt_edge_rate(back.rate, edge.protocol, grpc_messages)}")
        if edge.protocol == "tcp":
            return fmt_bytes_rate(edge.rate)
        rate = fmt_mps(edge.rate) if grpc_messages and edge.protocol == "grpc" else fmt_rps(edge.rate)
        # as Kiali's traffic-rate label: the share of failed requests beside the rate, when there are any
        err = edge.rates.get(f"{edge.protocol}PercentErr", 0.0)
        return f"{rate} {fmt_percent(err)} err" if err > 0 else rate
    if mode == "requestDistribution":
        if edge.protocol == "tcp":  # requests are HTTP's and gRPC's: Kiali shares no bytes out either
            return ""
        pct = edge.rates.get(f"{edge.protocol}PercentReq")
        if pct is None:
            pct = 100.0 * edge.rate / source_total if source_total > 0 else 0.0
        return fmt_percent(pct) if 0 < pct < 100 else ""
    if mode.startswith("responseTime"):
        if edge.protocol == "tcp" or edge.response_time is None or edge.response_time <= 0:
            return ""
        return fmt_ms(edge.response_time)
    if mode == "throughput":
        return fmt_bytes_rate(edge.throughput) if edge.throughput is not None and edge.throughput > 0 else ""
    return ""


# ---------------------------------------------------------------------------------------------
# the layout worker


_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
# every layout thread, held while it runs: a view dropped without shutdown (garbage collected) freed its
# running QThread with it, and Qt aborts the process then ("destroyed while thread is still running")
_RUNNING: set[QThread] = set()


def _stop_thread(thread: QThread) -> None:
    """Its view is gone: end the thread (after the job it may be running), waiting a moment for it, since at
    the interpreter's end nothing holds it afterwards."""
    thread.quit()
    thread.wait(5000)


# a vertical gap wider than this between the nodes above and those below starts a new band of the
# graph for Tab: more than the gap between nodes of one rank, less than between wrapped bands or
# components one under another. Boxes start a new band at any gap.
READING_BAND_GAP = 40.0


def reading_order(nodes: Mapping[str, tuple[Sequence[QRectF], float, float]]) -> list[str]:
    """Node ids in the order Tab walks them. Each comes with the scene rectangles it is drawn in, from
    the outermost shown box around it (a namespace's, an app's) in to its own, and its position. The
    graph is cut into bands, top to bottom, on the outermost rectangles: a box starts a new band below
    any gap, a node outside boxes below a gap wider than ``READING_BAND_GAP`` (the bands a big layout
    is wrapped into, components one under another; what overlaps a band joins it). A band that is a
    box is cut again the same way on what is inside it, down to the nodes, so the bands a box's own
    layout is wrapped into are read one after the other too. In each band the nodes go left to
    right, then top to bottom - the flow of the layout's ranks. Sorting the whole graph (or a whole
    box) by x then y jumped between bands at every step."""

    def order(ids: list[str], level: int) -> list[str]:
        band_of: dict[str, int] = {}
        band, bottom = -1, float("-inf")
        deeper = False

        def rect(n: str) -> QRectF:  # the node's at this level: a box's, or its own past its boxes
            rects = nodes[n][0]
            return rects[min(level, len(rects) - 1)]

        for nid in sorted(ids, key=lambda n: (rect(n).top(), n)):
            r, boxed = rect(nid), level < len(nodes[nid][0]) - 1
            deeper = deeper or boxed
            if r.top() > bottom + (0.0 if boxed else READING_BAND_GAP):
                band += 1
                bottom = r.bottom()
            else:
                bottom = max(bottom, r.bottom())
            band_of[nid] = band
        bands: list[list[str]] = [[] for _ in range(band + 1)]
        for nid in ids:
            bands[band_of[nid]].append(nid)
        out: list[str] = []
        for members in bands:
            if not deeper:
                out += sorted(members, key=lambda n: (round(nodes[n][1]), round(nodes[n][2]), n))
                continue
            # a band's boxes and nodes left to right; a box's nodes together, in its own bands
            groups: dict[tuple[float, ...], list[str]] = {}
            for nid in members:
                if level < len(nodes[nid][0]) - 1:
                    r = rect(nid)
                    groups.setdefault((round(r.left()), round(r.top()), r.width(), r.height()), []).append(nid)
                else:
                    groups[(round(nodes[nid][1]), round(nodes[nid][2]), -1.0, float(len(groups)))] = [nid]
            for key in sorted(groups, key=lambda k: (k[0], k[1], min(groups[k]))):
                inside = groups[key]
                out += order(inside, level + 1) if key[2] >= 0 else inside
        return out

    return order(list(nodes), 0)


def running_layout_threads() -> list[QThread]:
    """Layout threads still running (tests assert none is left after a view closes)."""
    return [t for t in list(_THREADS) if t.isRunning()]


@dataclass(frozen=True)
class _ResetUndo:
    """What a reset replaced: the view's saved positions, the nodes' places on screen, the nodes
    dragged, and the zoom and centre of the canvas."""

    key: LayoutKey | None
    saved: dict[str, tuple[float, float]]
    shown: dict[str, tuple[float, float]]
    dragged: set[str]
    transform: QTransform
    centre: tuple[float, float]
    # a layout chosen (Ctrl+1/2/3) saved its own positions over the view's: an undo makes the saved
    # layout exactly ``saved`` again (none: the view was not arranged); a reset's undo adds them back
    replaced: bool = False


@dataclass
class _LayoutJob:
    generation: int
    algorithm: str
    nodes: list[str]
    edges: list[tuple[str, str]]
    sizes: dict[str, tuple[float, float]]
    fixed: dict[str, tuple[float, float]] | None
    groups: dict[str, str | tuple[str, ...]] | None
    should_stop: Callable[[], bool]
    save: bool = False
    fit: bool = False
    targets: set[str] = field(default_factory=set)
    view: tuple[float, float] | None = None  # the viewport's size: a big graph is shaped for it


# what belongs to the items a view draws (their scene and the view's bookkeeping of them), put aside
# together when the user opens a node graph and taken back when they return (GraphView.switch_items)
_ITEM_STATE = (
    "_scene", "_graph", "_grpc_messages", "_nodes", "_edges", "_edge_layer", "_boxes", "_box_ids", "_box_by",
    "_scene_rect", "_box_of", "_reading_order", "_edges_of", "_pinned", "_dragged", "_awaiting", "_placed_here",
    "_highlighted", "_dimmed", "_hidden", "_left_out", "_left_out_layout", "_dirty_edges", "_geometry_stale",
)
SAVED_PRECISION = 0.006  # the layouts file rounds places to 0.01
KEPT_VIEWS = 2  # views whose items are kept aside at most (the biggest: the namespaces' graph, not node graphs)


@dataclass
class _KeptItems:
    """The items of a view put aside, with what they were drawn with (options, theme, Find and Hide), so
    that what changed meanwhile is applied when they come back."""

    key: LayoutKey
    state: dict[str, Any]
    options: DisplayOptions
    theme: str
    find: str
    hide: str
    transform: QTransform  # the zoom and the scene point in the middle of the viewport
    centre: QPointF

    @property
    def size(self) -> int:
        return len(self.state["_nodes"]) + len(self.state["_edges"])


class _LayoutWorker(QObject):
    done = Signal(object, object)  # job, positions
    failed = Signal(object, str)

    @Slot(object)
    def run(self, job: _LayoutJob) -> None:
        if job.should_stop():
            return
        try:
            fn = layout_engine.ALGORITHMS[job.algorithm]
            positions = fn(job.nodes, job.edges, job.sizes, job.fixed, groups=job.groups,
                           should_stop=job.should_stop, view=job.view)
        except layout_engine.LayoutCancelled:
            return
        except Exception as e:  # a bug in a layout must not take the app down
            log.exception("layout failed")
            self.failed.emit(job, f"{type(e).__name__}: {e}")
            return
        self.done.emit(job, positions)


# ---------------------------------------------------------------------------------------------
# the view


class _Scene(QGraphicsScene):
    """The canvas scene; tooltips are written when asked for (not on every refresh). Edge labels are
    drawn over the items (``edges``: the view's edge items), on screen and in exports."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.edges: Mapping[str, EdgeItem] = {}

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        draw_edge_labels(painter, QRectF(rect), self.edges.values())

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        for item in self.items(event.scenePos()):
            if isinstance(item, NodeItem | EdgeItem) and item.isVisible():
                QToolTip.showText(event.screenPos(), item.tooltip(), event.widget())
                event.accept()
                return
        QToolTip.hideText()
        event.ignore()



class GraphView(QGraphicsView):
    selectionChanged = Signal(list)  # ids of the selected nodes, edges and boxes
    nodesMoved = Signal(dict)  # node id -> (x, y), after a drag ends
    layoutFinished = Signal()
    # something to tell the user came into ``errors`` or the store's warnings (a save that failed at
    # the end of a drag): said now, not at the next graph or layout
    problemsReported = Signal()
    # whether the current view's last reset can be undone (:meth:`undo_reset`)
    undoResetAvailable = Signal(bool)
    nodeDoubleClicked = Signal(str)
    # the keyboard asked for the context menu (the Menu key, Shift+F10): it is for the selection, shown
    # where the selection is (:meth:`viewport_point_of`), not for what lies at the viewport's centre;
    # a mouse's request stays ``customContextMenuRequested`` at the pointer
    selectionMenuRequested = Signal()

    _runLayout = Signal(object)

    def __init__(self, parent: QWidget | None = None, store: LayoutStore | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphView")
        scene = _Scene(self)
        scene.setItemIndexMethod(INDEX_METHOD)
        self.setScene(scene)
        self._scene = scene
        # the items of views left for a node graph (or back), with what belongs to them: taken back
        # when the user returns (see switch_items)
        self._kept: list[_KeptItems] = []
        self._restored = False  # set_graph follows a switch_items that took kept items back
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.rubberBandChanged.connect(self._on_rubber_band)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # one rectangle around what changed: a dragged node's long edges make Qt's "smart" region
        # dozens of pieces, looked up item by item through a path (a drag frame at the fitted zoom
        # of a 1,000-node mesh took 19 ms, 13 ms with one rectangle; hover 59 ms, 49 ms)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"{GRAPH_NAME}: nothing selected")
        self.setAccessibleDescription(GRAPH_KEYS_SPOKEN)
        accessible.install()  # each shown node an accessible object of its own
        # Kiali-like: no scroll bars (pan by dragging), and a light canvas in either theme so the
        # node and edge colours read the same on screen and in exports
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QBrush(shapes.C_CANVAS))

        self.store = store if store is not None else LayoutStore()
        self._graph: TrafficGraph | None = None
        self._grpc_messages = False  # the graph's gRPC edges carry messages per second (items.grpc_messages)
        self._options = DisplayOptions()
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[str, EdgeItem] = {}
        scene.edges = self._edges  # their labels are drawn by the scene, over the nodes
        # zoomed far out, the edges are drawn by one item in one pass (see EdgeLayer)
        self._edge_layer = EdgeLayer(self._edges)
        scene.addItem(self._edge_layer)
        self._boxes: dict[str, BoxItem] = {}
        self._box_ids: frozenset[str] = frozenset()
        self._box_by: tuple[str, ...] = ()
        self._scene_rect = QRectF()
        self._box_of: dict[str, BoxItem] = {}  # node or box id -> its enclosing box item
        # Tab's order of the shown nodes, with what it was computed from (positions, what is shown)
        self._reading_order: tuple[Any, list[str]] | None = None
        self._edges_of: dict[str, list[EdgeItem]] = {}
        # the node whose edges E walks and the edge it selected: Esc goes back to the node, Tab on from it
        self._edge_walk: tuple[str, str] | None = None
        self._key: LayoutKey | None = None
        self._saved: dict[str, tuple[float, float]] = {}
        # the positions of this view as the store holds them, as far as this view knows (loaded or
        # written by it): a save writes only what differs, so another window's moves survive
        self._stored: dict[str, tuple[float, float]] = {}
        # nodes the user placed here since the last save (dragged, or laid out on request): their
        # positions replace saved ones; a node only the automatic layout placed is saved where no
        # position is saved yet (another window may have placed it meanwhile)
        self._chosen: set[str] = set()
        self._pinned: set[str] = set()  # positions the user chose (saved or dragged)
        self._dragged: set[str] = set()  # nodes the user dragged in this view (they keep that place in the next)
        self._awaiting: set[str] = set()  # nodes at a temporary place until a layout arrives
        # nodes an automatic placement or layout put where they are while this view (layout key) was
        # shown: with the saved and dragged ones, what an arranged view keeps (see relayout_unplaced);
        # not the nodes that kept the place another view gave them
        self._placed_here: set[str] = set()
        self._find_expr = ""
        self._hide_expr = ""
        self._highlighted: set[str] = set()
        self._dimmed: set[str] = set()
        self._hidden: set[str] = set()
        # nodes hidden when the user chose a layout (Ctrl+1/2/3), which left them out: placed around the
        # arrangement when Hide shows them again
        self._left_out: set[str] = set()
        self._left_out_layout: tuple[str, bool] | None = None  # (algorithm, saved) they were left out of
        self._selecting = False
        # the selected items' ids in the order the user selected them (``selected_ids``): the scene's own
        # order is a hash's, and the docks chart and act on the first selected
        self._selection_order: list[str] = []
        self._batch = False
        self._dirty_edges: set[str] = set()
        # a node moved, came, went or changed size since boxes and the scene rect were last fitted
        self._geometry_stale = True
        self._dragging = False
        self._moved: set[str] = set()
        self._dirty_boxes: set[BoxItem] = set()  # boxes to refit after a drag's move
        self._mouse_drag = False  # the drag is the mouse's (Qt moves the selected items one by one)
        self._follow_timer = QTimer(self)  # the catch-up of edges and boxes after a drag's moves
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(0)
        self._follow_timer.timeout.connect(self._follow_drag)
        self._pan_from: QPointF | None = None
        self._box_press: tuple[BoxItem, QPointF] | None = None  # a press inside a box: a click selects it
        # a press on a box's title strip: the box, the scene point the last move reached, and where the
        # nodes it moved were before (each move shifts the box's members as they are then: a layout or
        # a refresh during the drag is moved along, not undone)
        self._box_drag: tuple[BoxItem, QPointF, dict[str, QPointF]] | None = None
        self._banding = False  # a selection rectangle is being drawn
        # a child of the view over its viewport, not of the viewport: the viewport scrolls its children
        # with the picture when the user pans
        # (short: the narrower it is, the likelier a corner of a small canvas has room for it)
        self._zoom_hint = QLabel(ZOOM_HINT, self)
        self._zoom_hint.setObjectName("zoomHint")
        self._zoom_hint.setStyleSheet("QLabel#zoomHint { background: rgba(128, 128, 128, 60); padding: 2px 6px;"
                                      " border-radius: 3px; }")
        self._zoom_hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the canvas's clicks
        self._zoom_hint.hide()
        # the Hide expression hid every node: without a word the canvas would only look empty
        self._all_hidden_note = QLabel(ALL_HIDDEN_NOTE, self)
        self._all_hidden_note.setObjectName("allHiddenNote")
        self._all_hidden_note.setStyleSheet("QLabel#allHiddenNote { background: rgba(128, 128, 128, 60);"
                                            " padding: 6px 10px; border-radius: 3px; }")
        self._all_hidden_note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._all_hidden_note.hide()
        # after a reset, what it replaced, and a note offering to put it back (see reset_layout)
        # the arrangements the last resets and chosen layouts of this view replaced, the latest last
        self._undo_stack: list[_ResetUndo] = []
        # on the view, not its viewport: the viewport's children are scrolled along with the scene
        self._undo_note = QFrame(self)
        self._undo_note.setObjectName("undoNote")
        self._undo_note.setStyleSheet("QFrame#undoNote { background: rgba(60, 60, 60, 220); border-radius: 4px; }"
                                      " QFrame#undoNote QLabel { color: white; }")
        note_row = QHBoxLayout(self._undo_note)
        note_row.setContentsMargins(10, 4, 4, 4)
        self._undo_label = QLabel("Layout reset.")
        note_row.addWidget(self._undo_label)
        self.undo_reset_button = QPushButton("Undo")
        self.undo_reset_button.setToolTip(f"Put the arrangement back as it was before ({undo_keys()})")
        self.undo_reset_button.clicked.connect(self.undo_reset)
        note_row.addWidget(self.undo_reset_button)
        self._undo_note.hide()
        self._undo_note_timer = QTimer(self)
        self._undo_note_timer.setSingleShot(True)
        self._undo_note_timer.setInterval(UNDO_NOTE_MS)
        self._undo_note_timer.timeout.connect(self._undo_note.hide)
        # the node, edge or app box under the mouse: with nothing selected, its paths are highlighted
        # as a selected one's are (Kiali); applied after the mouse rests a moment, so sweeping across
        # the graph does not flash every path it crosses
        self._hovered: str | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(HOVER_DELAY_MS)
        self._hover_timer.timeout.connect(self._hover_rest)
        self._hover_pos: Any = None  # where the mouse was last seen over the canvas (None: it left)
        self._closed = False
        self.errors: list[str] = []  # saving failures etc., for the main window to show
        self.paints = 0  # viewport paints so far (benchmarks and tests wait on it)

        self._layout_generation = 0
        self._layout_thread: QThread | None = None
        self._layout_worker: _LayoutWorker | None = None
        self._layout_pending: _LayoutJob | None = None
        # a layout asked for during set_graph starts when set_graph is done: the worker's Python
        # would otherwise contend for the GIL with every Qt call set_graph still makes
        self._hold_layout = False
        self._held_job: _LayoutJob | None = None

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_now)
        # a chosen layout that landed is saved at the next turn of the event loop (see _on_layout_done)
        self._landing_save = False
        self._landing_timer = QTimer(self)
        self._landing_timer.setSingleShot(True)
        self._landing_timer.setInterval(0)
        self._landing_timer.timeout.connect(self._finish_landing)

        self._animation = TrafficAnimation(self._animation_frame, self)
        self._still: QPixmap | None = None  # the scene without dots, as the viewport shows it
        self._painting_still = False  # a paint for the still picture: draw the scene, not the still
        self._still_key: tuple[Any, ...] = ()
        self._dot_clip: QRegion | None = None  # the viewport less the nodes in it: dots pass under nodes
        self._scene_changed_at = 0.0
        self._scene_dirty = True
        self._connect_scene(scene)
        try:  # follow the app's light/dark theme
            from meshdesk.ui.theme import current_theme, theme_signals

            theme_signals.changed.connect(self.set_theme)
            self.set_theme(current_theme())
        except ImportError:
            pass

    def _connect_scene(self, scene: _Scene) -> None:
        scene.changed.connect(self._on_scene_changed)
        scene.selectionChanged.connect(self._on_scene_selection)

    def _disconnect_scene(self, scene: _Scene) -> None:
        scene.changed.disconnect(self._on_scene_changed)
        scene.selectionChanged.disconnect(self._on_scene_selection)

    # ------------------------------------------------------------------ data in

    @property
    def graph(self) -> TrafficGraph | None:
        return self._graph

    @property
    def display(self) -> DisplayOptions:
        return self._options

    def _outside(self, node: Node, graph: TrafficGraph) -> bool:
        if node.is_outside:
            return True
        shown = graph.request.namespaces
        return bool(shown and node.namespace and node.namespace not in shown)

    def set_graph(self, graph: TrafficGraph) -> None:
        """Show ``graph``: apply the difference to the scene (positions of kept nodes stay)."""
        if self._closed:
            return
        self._graph = graph
        wanted = {nid: n for nid, n in graph.nodes.items() if n.node_type != NODE_BOX}
        # how many items come or go, roughly (a first graph: all of them; a refresh: few or none)
        churn = abs(len(wanted) - len(self._nodes)) + abs(len(graph.edges) - len(self._edges))
        try:
            with self._bulk(churn):
                self._batch = True
                self._hold_layout = True
                try:
                    self._apply_graph(graph, wanted)
                finally:
                    self._batch = False
                    self._hold_layout = False
                self._finish_graph()
        finally:
            job, self._held_job = self._held_job, None
            if job is not None and job is self._layout_pending and not self._closed:
                self._runLayout.emit(job)
        if self._restored:
            # items taken back (switch_items) whose nodes all have their places: the arrangement is final
            self._restored = False
            if self._layout_pending is None:
                self.layoutFinished.emit()

    def _apply_graph(self, graph: TrafficGraph, wanted: Mapping[str, Node]) -> None:
        # vanished edges and nodes
        gone = [e for e in self._edges if e not in graph.edges]
        for eid in gone:
            self._remove_edge(eid)
        # an edge came, went or changed colour: drawn in one pass at far zoom, they are drawn again
        # (new rates alone change only labels, not drawn there)
        recolour = bool(gone)
        removed = [n for n in self._nodes if n not in wanted]
        for nid in removed:
            self._remove_node(nid)
        # new and changed nodes
        new_ids: list[str] = []
        for nid, node in wanted.items():
            item = self._nodes.get(nid)
            outside = self._outside(node, graph)
            if item is None:
                item = NodeItem(node, self._options, self._on_node_moved, outside)
                self._nodes[nid] = item
                self._edges_of.setdefault(nid, [])
                saved = self._saved.get(nid)
                if saved is not None:
                    item.setPos(QPointF(*saved))
                    self._pinned.add(nid)
                else:
                    new_ids.append(nid)
                self._scene.addItem(item)
            elif item.apply(node, self._options, outside):
                self._geometry_stale = True  # its label (and so its box) grew or shrank
        if new_ids or removed:
            self._geometry_stale = True
        # edges: only those whose look changed repaint, only those whose bounds changed are
        # measured again (in _flush_edges)
        totals = self._source_totals(graph)
        pairs_changed = False
        messages = self._grpc_messages = grpc_messages(graph.request)
        mode = self._options.edge_labels
        security = self._options.show_security
        shown = self._labels_shown()
        dirty = self._dirty_edges
        edge_items = self._edges
        for eid, edge in graph.edges.items():
            item_e = edge_items.get(eid)
            if item_e is not None:  # the common case of a refresh, inlined (3,000 edges a poll)
                if edge.protocol == "grpc":
                    item_e.grpc_messages = messages
                label = "" if mode == "none" else edge_label(
                    edge, mode, totals.get((edge.source, edge.protocol), 0.0), messages)
                lock = security and edge.is_mtls is not None and edge.is_mtls > 0
                pen = item_e._pen
                if item_e.apply(edge, label, lock, shown):
                    dirty.add(eid)
                if item_e._pen is not pen:
                    recolour = True
                continue
            if item_e is None:
                src, dst = self._nodes.get(edge.source), self._nodes.get(edge.target)
                if src is None or dst is None:
                    continue
                item_e = EdgeItem(edge, src, dst)
                self._edges[eid] = item_e
                self._edges_of[edge.source].append(item_e)
                if edge.target != edge.source:
                    self._edges_of[edge.target].append(item_e)
                self._scene.addItem(item_e)
                self._edge_layer.adopt(item_e)
                self._dirty_edges.add(eid)
                pairs_changed = True
                recolour = True
            self._apply_edge(item_e, edge, totals)
        if pairs_changed:
            self._assign_offsets()
        if recolour:
            self._edge_layer.invalidate()
        # boxes first: a layout started for new nodes lays them out box by box
        box_ids = frozenset(nid for nid, n in graph.nodes.items() if n.node_type == NODE_BOX)
        boxes_changed = box_ids != self._box_ids
        if new_ids or removed or boxes_changed:
            self._box_ids = box_ids
            self._rebuild_boxes()
        had_nodes = len(self._nodes) > len(new_ids)
        boxing_changed = tuple(graph.request.boxBy) != self._box_by
        self._box_by = tuple(graph.request.boxBy)
        self._place(new_ids)
        if boxing_changed and had_nodes and box_ids:
            # the user asked for other boxes: lay out again (a refresh never moves anyone)
            self.relayout_unplaced()

    def _finish_graph(self) -> None:
        self._flush_edges()
        self._apply_box_health()
        stale = self._geometry_stale
        if stale:  # a refresh that moved nobody leaves boxes and the scene rect as they are
            self._refit_boxes()
        if self._find_expr:
            self.set_find(self._find_expr)
        if self._hide_expr:
            self.set_hide(self._hide_expr)
        self._animation.set_edges(self._edges.values())
        self._apply_focus()  # new items join the dimmed background of a focused node
        self._say_selection()  # its health or edges may have changed
        if stale:
            self._update_scene_rect()
        self._update_zoom_hint()
        self._update_all_hidden_note()
        accessible.reordered(self)  # a reader on: its list of nodes is read again

    def _update_all_hidden_note(self) -> None:
        """A note in the middle of the canvas while the Hide expression hides every node."""
        every = (bool(self._nodes) and bool(self._hide_expr) and not self._closed
                 and all(nid in self._hidden for nid in self._nodes))
        if every:
            self._place_all_hidden_note()
        self._all_hidden_note.setVisible(every)

    def _place_all_hidden_note(self) -> None:
        note = self._all_hidden_note
        note.adjustSize()
        port = self.viewport().geometry()
        note.move(port.center() - QPoint(note.width() // 2, note.height() // 2))

    def all_hidden_note_shown(self) -> bool:
        return not self._all_hidden_note.isHidden()

    def _update_zoom_hint(self) -> None:
        """Zoomed out so far that names and badges are not drawn (a big mesh fitted into a small
        window), a note in a corner says so and how to see them; it goes when they show again."""
        hidden = bool(self._nodes) and self.zoom() < LABEL_LOD and not self._closed
        if hidden:
            if self._zoom_hint.isHidden():
                self._zoom_hint.adjustSize()
            self._place_zoom_hint()  # (a zoom moves what is under it)
        if hidden != self._zoom_hint.isVisible():
            self._zoom_hint.setVisible(hidden)

    def _place_zoom_hint(self) -> None:
        """In the first corner of the canvas where it covers no node and no box title: bottom left (above
        the undo note while that shows), bottom right, top right, top left; when each covers something, the
        one that covers the fewest. In the top left alone it covered the title of the box a fitted graph
        puts there, and box titles are still drawn at zooms where names are not."""
        port = self.viewport().geometry()
        hint = self._zoom_hint
        w, h = hint.width(), hint.height()
        bottom = port.bottom() - 8
        if not self._undo_note.isHidden():
            bottom = self._undo_note.geometry().top() - 4
        left, right = port.left() + 8, max(port.left() + 8, port.right() - 8 - w)
        low, high = max(port.top() + 8, bottom - h), port.top() + 8
        corners = [QPoint(left, low), QPoint(right, low), QPoint(right, high), QPoint(left, high)]
        place = corners[0]
        least = -1
        for corner in corners:
            covered = self._covered(QRect(corner, hint.size()))
            if least < 0 or covered < least:
                place, least = corner, covered
            if not covered:
                break
        if hint.pos() != place:
            hint.move(place)

    def _covered(self, rect: QRect) -> int:
        """How many nodes and box titles ``rect`` (in the view's coordinates) lies over."""
        on_port = rect.translated(-self.viewport().geometry().topLeft())
        area = self.mapToScene(on_port).boundingRect()
        return sum(1 for item in self.items(on_port) if item.isVisible() and (
            isinstance(item, NodeItem)
            or isinstance(item, BoxItem) and item.mapRectToScene(item.title_strip()).intersects(area)))

    def zoom_hint_shown(self) -> bool:
        return not self._zoom_hint.isHidden()

    def _source_totals(self, graph: TrafficGraph) -> dict[tuple[str, str], float]:
        totals: dict[tuple[str, str], float] = {}
        if self._options.edge_labels != "requestDistribution":
            return totals
        for e in graph.edges.values():
            k = (e.source, e.protocol)
            totals[k] = totals.get(k, 0.0) + e.rate
        return totals

    def _apply_edge(self, item: EdgeItem, edge: Edge, totals: Mapping[tuple[str, str], float]) -> None:
        messages = self._grpc_messages
        if edge.protocol == "grpc":
            item.grpc_messages = messages
        label = edge_label(edge, self._options.edge_labels, totals.get((edge.source, edge.protocol), 0.0),
                           messages)
        lock = self._options.show_security and edge.is_mtls is not None and edge.is_mtls > 0
        if item.apply(edge, label, lock, self._labels_shown()):
            self._dirty_edges.add(item.edge_id)

    def _labels_shown(self) -> bool:
        """Whether edge labels are drawn at the current zoom (see items.LABEL_LOD)."""
        return self.transform().m11() >= LABEL_LOD

    def _assign_offsets(self) -> None:
        """Two edges between the same nodes (both directions, or two protocols) are drawn apart."""
        by_pair: dict[tuple[str, str], list[EdgeItem]] = {}
        for item in self._edges.values():
            e = item.edge
            by_pair.setdefault((min(e.source, e.target), max(e.source, e.target)), []).append(item)
        for (lo, _hi), items in by_pair.items():
            n = len(items)
            items.sort(key=lambda it: it.edge_id)
            for i, it in enumerate(items):
                off = (i - (n - 1) / 2) * 9.0 if n > 1 else 0.0
                if it.edge.source != lo:
                    off = -off
                if off != it.offset:
                    it.offset = off
                    self._dirty_edges.add(it.edge_id)

    def _remove_node(self, nid: str) -> None:
        item = self._nodes.pop(nid)
        for e in list(self._edges_of.pop(nid, [])):
            if e.edge_id in self._edges:
                self._remove_edge(e.edge_id)
        self._awaiting.discard(nid)
        self._placed_here.discard(nid)
        self._highlighted.discard(nid)
        self._dimmed.discard(nid)
        self._hidden.discard(nid)
        self._scene.removeItem(item)

    def _remove_edge(self, eid: str) -> None:
        item = self._edges.pop(eid)
        for nid in (item.edge.source, item.edge.target):
            lst = self._edges_of.get(nid)
            if lst is not None and item in lst:
                lst.remove(item)
        self._dirty_edges.discard(eid)
        self._dimmed.discard(eid)
        self._scene.removeItem(item)

    def _flush_edges(self) -> None:
        # many at once (edge labels or locks turned on or off, a layout landing): each edge's new bounds
        # would take it out of the scene's index and put it back, 12,000 edges ~0.6 s (see BULK_ITEMS)
        with self._bulk(len(self._dirty_edges)):
            moved: list[EdgeItem] = []
            edges = self._edges
            # each node's place read once, not once per edge (a node of a big mesh has three or more)
            at: dict[str, tuple[float, float]] = {}
            for eid in self._dirty_edges:
                item = edges.get(eid)
                if item is not None:
                    a = at.get(item.source.node_id)
                    if a is None:
                        p = item.source.pos()
                        a = at[item.source.node_id] = (p.x(), p.y())
                    b = at.get(item.target.node_id)
                    if b is None:
                        p = item.target.pos()
                        b = at[item.target.node_id] = (p.x(), p.y())
                    before = item._g
                    item.update_geometry((a[0], a[1], b[0], b[1]))
                    if item._g[:4] != before[:4]:  # not only its label's room
                        moved.append(item)
        if moved:
            self._edge_layer.moved(moved)
        self._dirty_edges.clear()

    # ------------------------------------------------------------------ placement & layout

    def _pair_list(self) -> list[tuple[str, str]]:
        """The edges as the layouts read them, (source, target): traffic flows left to right. A waypoint of
        another namespace, though, has its edges to the workloads it passes requests on to read backwards:
        its box is ranked after theirs, as a waypoint of their own namespace is ranked after its clients.
        Read as they come, its box (often with no other edge, in a node graph) went left of theirs and its
        edge ran across its clients and the service to the workload at the far right."""
        out = []
        for it in self._edges.values():
            source, target = it.edge.source, it.edge.target
            if self._passes_on_from_afar(source, target):
                source, target = target, source
            out.append((source, target))
        return out

    def _passes_on_from_afar(self, source: str, target: str) -> bool:
        """Whether ``source`` is a waypoint of another namespace than ``target``'s, to which it passes requests."""
        wp, to = self._nodes.get(source), self._nodes.get(target)
        return wp is not None and to is not None and bool(wp.node.extra.get("isWaypoint")) \
            and not to.node.extra.get("isWaypoint") and wp.node.namespace != to.node.namespace

    def _groups(self) -> dict[str, str | tuple[str, ...]] | None:
        """Each node's enclosing boxes, outermost first (nested boxes are laid out nested)."""
        if not self._box_of:  # no box drawn (app boxes are drawn with namespace boxes off too)
            return None
        out: dict[str, str | tuple[str, ...]] = {}
        for nid in self._nodes:
            path: list[str] = []
            box = self._box_of.get(nid)
            while box is not None and len(path) < 8:
                path.append(box.box_id)
                box = self._box_of.get(box.box_id)
            out[nid] = tuple(reversed(path))
        return out

    def _place(self, new_ids: list[str]) -> None:
        """Give nodes that just appeared a place: beside their neighbours when they are few, else a
        temporary grid while a layout runs in the worker."""
        if not new_ids:
            return  # a layout in flight (if any) goes on; it covers the nodes still waiting
        settled = {nid: (it.x(), it.y()) for nid, it in self._nodes.items()
                   if nid not in self._awaiting and nid not in new_ids}
        many = len(new_ids) > max(PLACE_NEW_LIMIT, len(self._nodes) // 3)
        if new_ids and settled and not many and not self._awaiting:
            pos = self._place_beside(new_ids, settled)
            for nid, p in pos.items():
                self._nodes[nid].setPos(QPointF(*p))
            self._placed_here.update(pos)
            if self._arranged():
                self._schedule_save()  # they join the arrangement: what is on screen is what comes back
            return
        # temporary places (a grid right of what is there), then a layout in the worker
        if new_ids:
            temp = layout_engine.grid(new_ids, [])
            x0 = max((p[0] for p in settled.values()), default=0.0) + 200.0 if settled else 0.0
            y0 = min((p[1] for p in settled.values()), default=0.0)
            for nid, (x, y) in temp.items():
                self._nodes[nid].setPos(QPointF(x0 + x, y0 + y))
            self._awaiting.update(new_ids)
        chosen = self._layout_pending
        if chosen is not None and chosen.save:
            # a layout the user chose is being computed (a big mesh's takes seconds): computed again with
            # the new nodes in it, not dropped for an automatic one that was not saved
            self._start_layout(chosen.algorithm, fixed=None, targets=set(self._nodes), save=True, fit=chosen.fit)
            return
        self._start_layout("layered", fixed=settled or None, targets=set(self._awaiting), save=False,
                           fit=not settled)

    def _place_beside(self, new_ids: list[str], settled: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        """Places for ``new_ids`` beside their neighbours among the ``settled`` nodes (which stay), each in
        its own box and out of the others. The members of a box none of whose nodes has a place yet (an
        app that comes with its versions) are laid out together and placed as one block, room for their
        box's frame included: placed one by one beside their own neighbours, they could land on both
        sides of another box, and their box, drawn around them, then covered it."""
        groups = self._groups() or {}

        def path_of(nid: str) -> tuple[str, ...]:
            path = groups.get(nid, ())
            return (path,) if isinstance(path, str) else tuple(path)

        known_boxes = {bid for nid in settled for bid in path_of(nid)}
        blocks: dict[str, list[str]] = {}
        for nid in new_ids:
            path = path_of(nid)
            if path and path[-1] not in known_boxes:
                blocks.setdefault(path[-1], []).append(nid)
        blocks = {bid: members for bid, members in blocks.items() if len(members) > 1}
        sizes = self._sizes(list(new_ids) + list(settled))
        pairs = self._pair_list()
        anchors, keep_out, joins, keep_out_boxes = self._box_constraints(list(new_ids), settled)
        stand_in: dict[str, str] = {}  # a block's member -> the block's stand-in node
        offsets: dict[str, dict[str, tuple[float, float]]] = {}
        pad_x, pad_top, pad_bottom = layout_engine.GROUP_PAD_X, layout_engine.GROUP_PAD_TOP, layout_engine.GROUP_PAD_BOTTOM
        for bid, members in blocks.items():
            inside = set(members)
            pos = layout_engine.layered(members, [(a, b) for a, b in pairs if a in inside and b in inside],
                                        {m: sizes[m] for m in members}, shape=False)
            x0 = min(pos[m][0] - sizes[m][0] / 2 for m in members)
            x1 = max(pos[m][0] + sizes[m][0] / 2 for m in members)
            y0 = min(pos[m][1] - sizes[m][1] / 2 for m in members)
            y1 = max(pos[m][1] + sizes[m][1] / 2 for m in members)
            block = f"\0block {bid}"
            sizes[block] = (x1 - x0 + 2 * pad_x, y1 - y0 + pad_top + pad_bottom)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - (pad_top - pad_bottom) / 2  # the framed block's centre
            offsets[block] = {m: (pos[m][0] - cx, pos[m][1] - cy) for m in members}
            for m in members:
                stand_in[m] = block
            first = members[0]
            if first in anchors:
                anchors[block] = anchors[first]
            if first in keep_out:
                keep_out[block] = keep_out[first]
            if first in keep_out_boxes:
                keep_out_boxes[block] = keep_out_boxes[first]
        order = list(dict.fromkeys(stand_in.get(nid, nid) for nid in new_ids))
        edges = [(stand_in.get(a, a), stand_in.get(b, b)) for a, b in pairs]
        placed = layout_engine.place_new(order, edges, settled, sizes, anchors=anchors, keep_out=keep_out,
                                         joins=joins, keep_out_boxes=keep_out_boxes)
        out: dict[str, tuple[float, float]] = {}
        for nid, (x, y) in placed.items():
            if nid in offsets:
                out.update({m: (x + dx, y + dy) for m, (dx, dy) in offsets[nid].items()})
            else:
                out[nid] = (x, y)
        return out

    def _box_constraints(
        self, new_ids: list[str], settled: Mapping[str, tuple[float, float]]
    ) -> tuple[dict[str, tuple[float, float]], dict[str, list[tuple[float, float, float, float]]],
               dict[str, list[layout_engine.BoxJoined]], dict[str, list[str]]]:
        """For new nodes when boxes are shown: the middle of their own box (where to go without
        placed neighbours), the other boxes' areas (where not to go) and the box each stands for, and
        the known boxes each new node joins (its app box, its namespace box), each with what it holds
        and what it must not grow over: the boxes outside it, and the nodes outside it in no box of
        their own below it (an outside gateway, a workload without an app box). A box's area takes in
        the padding of the boxes nested in it; an area to keep out of is widened by the padding of the
        new node's own boxes that will grow around it (its app box, and its namespace box if the other
        box is in another namespace), so that no box grows into another."""
        groups = self._groups()
        if not groups:
            return {}, {}, {}, {}
        pad_x, pad_top, pad_bottom = layout_engine.GROUP_PAD_X, layout_engine.GROUP_PAD_TOP, layout_engine.GROUP_PAD_BOTTOM

        def path_of(nid: str) -> tuple[str, ...]:
            path = groups.get(nid, ())
            return (path,) if isinstance(path, str) else tuple(path)

        areas: dict[str, list[float]] = {}
        box_path: dict[str, tuple[str, ...]] = {}
        for nid, (x, y) in settled.items():
            w, h = self._nodes[nid].layout_size()
            path = path_of(nid)
            for depth, bid in enumerate(path):
                box_path[bid] = path[:depth + 1]
                inner = len(path) - 1 - depth  # boxes between the node and this one, each with its padding
                x0, y0 = x - w / 2 - inner * pad_x, y - h / 2 - inner * pad_top
                x1, y1 = x + w / 2 + inner * pad_x, y + h / 2 + inner * pad_bottom
                a = areas.setdefault(bid, [x0, y0, x1, y1])
                a[0], a[1], a[2], a[3] = min(a[0], x0), min(a[1], y0), max(a[2], x1), max(a[3], y1)
        rects = {bid: (a[0] - pad_x, a[1] - pad_top, a[2] + pad_x, a[3] + pad_bottom) for bid, a in areas.items()}
        anchors: dict[str, tuple[float, float]] = {}
        keep_out: dict[str, list[tuple[float, float, float, float]]] = {}
        joins: dict[str, list[layout_engine.BoxJoined]] = {}
        avoid_of: dict[str, list[tuple[tuple[float, float, float, float], str]]] = {}
        paths = {nid: path_of(nid) for nid in settled}

        def avoid(box: str) -> list[tuple[tuple[float, float, float, float], str]]:
            """What ``box``, growing, must not cover: the boxes outside it, and the nodes outside it
            in no box below its parent's, each widened by the frames that grow between them."""
            found = avoid_of.get(box)
            if found is not None:
                return found
            mine = box_path[box]
            found = []
            for bid, r in rects.items():
                other = box_path[bid]
                if bid in mine or box in other:
                    continue
                shared = 0
                while shared < min(len(mine), len(other)) and mine[shared] == other[shared]:
                    shared += 1
                f = len(mine) - shared
                found.append(((r[0] - f * pad_x, r[1] - f * pad_bottom, r[2] + f * pad_x, r[3] + f * pad_top), bid))
            for other_id, path in paths.items():
                if box not in path and len(path) < len(mine) and mine[:len(path)] == path:
                    x, y = settled[other_id]
                    w, h = self._nodes[other_id].layout_size()
                    found.append(((x - w / 2 - pad_x, y - h / 2 - pad_bottom, x + w / 2 + pad_x, y + h / 2 + pad_top), ""))
            avoid_of[box] = found
            return found

        out_boxes: dict[str, list[str]] = {}
        for nid in new_ids:
            path_t = path_of(nid)
            out = []
            out_boxes[nid] = names = []
            for bid, r in rects.items():
                if bid in path_t:
                    continue
                names.append(bid)
                other = box_path[bid]
                shared = 0
                while shared < min(len(path_t), len(other)) and path_t[shared] == other[shared]:
                    shared += 1
                grow = len(path_t) - shared  # the new node's boxes that are not the other box's too
                out.append((r[0] - grow * pad_x, r[1] - grow * pad_bottom, r[2] + grow * pad_x, r[3] + grow * pad_top))
            keep_out[nid] = out
            own = next((rects[b] for b in reversed(path_t) if b in rects), None)  # innermost known box
            if own is not None:
                anchors[nid] = ((own[0] + own[2]) / 2, (own[1] + own[3]) / 2)
            levels = []
            for depth, bid in enumerate(path_t):
                if bid in areas and box_path.get(bid) == path_t[:depth + 1]:
                    a, inner = areas[bid], len(path_t) - 1 - depth
                    levels.append(layout_engine.BoxJoined(
                        bid, (a[0], a[1], a[2], a[3]), (inner * pad_x, inner * pad_top, inner * pad_x, inner * pad_bottom),
                        avoid(bid)))
            joins[nid] = levels
        return anchors, keep_out, joins, out_boxes

    def _sizes(self, ids: Iterable[str] | None = None) -> dict[str, tuple[float, float]]:
        keys = self._nodes.keys() if ids is None else ids
        return {nid: self._nodes[nid].layout_size() for nid in keys if nid in self._nodes}

    def _start_layout(self, algorithm: str, *, fixed: dict[str, tuple[float, float]] | None,
                      targets: set[str], save: bool, fit: bool, only: set[str] | None = None) -> None:
        """``only``: lay out these nodes (and the edges between them) as if the others were not there."""
        if algorithm not in layout_engine.ALGORITHMS:
            raise ValueError(f"unknown layout {algorithm!r}; expected one of {', '.join(layout_engine.ALGORITHMS)}")
        self._layout_generation += 1
        generation = self._layout_generation

        def should_stop() -> bool:
            return self._closed or self._layout_generation != generation

        port = self.viewport()
        nodes, pairs, sizes, groups = list(self._nodes), self._pair_list(), self._sizes(), self._groups()
        if only is not None:
            nodes = [nid for nid in nodes if nid in only]
            pairs = [(a, b) for a, b in pairs if a in only and b in only]
            sizes = {nid: size for nid, size in sizes.items() if nid in only}
            groups = {nid: g for nid, g in groups.items() if nid in only} if groups is not None else None
        job = _LayoutJob(generation, algorithm, nodes, pairs, sizes, fixed,
                         groups, should_stop, save, fit, targets,
                         (float(port.width()), float(port.height())) if self.isVisible() else None)
        self._layout_pending = job
        self._ensure_worker()
        if self._hold_layout:
            self._held_job = job  # set_graph starts it when it is done
        else:
            self._runLayout.emit(job)

    def _ensure_worker(self) -> None:
        if self._layout_thread is not None:
            return
        thread = QThread()
        thread.setObjectName("meshdesk-layout")
        _THREADS.add(thread)
        _RUNNING.add(thread)
        thread.finished.connect(functools.partial(_RUNNING.discard, thread))
        weakref.finalize(self, _stop_thread, thread)  # (called as the view's Python side goes, before Qt's)
        worker = _LayoutWorker()
        worker.moveToThread(thread)
        self._runLayout.connect(worker.run)
        worker.done.connect(self._on_layout_done)
        worker.failed.connect(self._on_layout_failed)
        thread.start()
        self._layout_thread = thread
        self._layout_worker = worker
        app = QCoreApplication.instance()
        if app is not None:  # a safety net: never leave the thread running when the app quits
            app.aboutToQuit.connect(self.shutdown)

    @Slot(object, object)
    def _on_layout_done(self, job: _LayoutJob, positions: dict[str, tuple[float, float]]) -> None:
        if self._closed or job.generation != self._layout_generation:
            return  # a newer layout (or a newer graph) made this one outdated
        self._layout_pending = None
        # a layout the user chose moves every node, pinned or not, but a node dragged while it was computed
        # (no longer awaiting it) stays where it was dropped: the later choice stands
        move = {nid: p for nid, p in positions.items() if nid in self._nodes and nid in job.targets
                and ((job.save and nid in self._awaiting) or nid not in self._pinned)}
        self.set_positions(move)
        self._awaiting.difference_update(job.targets)
        self._placed_here.update(move)
        if job.save:  # the user asked for it: kept like a saved layout (an automatic one does not move it)
            self._pinned.update(move)
        if job.save and self._key is not None:
            self._saved.update(self.positions())
            self._chosen.update(move)
            # written at the next turn of the event loop, then layoutFinished: the landing (4,000 nodes
            # placed, 12,000 edges measured) and the file (read, merged and written: 30-40 ms on a big
            # mesh) each freeze the window in turn, not both at once. Leaving the view or closing it
            # saves it at once (see _flush_pending_save)
            self._landing_save = True
        elif move and self._arranged():
            self._schedule_save()  # new nodes placed around an arrangement join it
        self._update_scene_rect()
        if job.fit:
            self.fit()
        if self._landing_save:
            self._landing_timer.start()
        else:
            self.layoutFinished.emit()

    @Slot()
    def _finish_landing(self) -> None:
        """The turn after a chosen layout landed: it is saved, then said to be finished."""
        self._flush_pending_save()
        if not self._closed:
            self.layoutFinished.emit()

    @Slot(object, str)
    def _on_layout_failed(self, job: _LayoutJob, message: str) -> None:
        if job.generation != self._layout_generation:
            return
        self._layout_pending = None
        self._awaiting.difference_update(job.targets)
        self.errors.append(f"Layout failed: {message}")
        self.layoutFinished.emit()

    @property
    def layout_running(self) -> bool:
        return self._layout_pending is not None

    def _arranged(self) -> bool:
        """Whether the user arranged this view: it has a saved layout (a drag in it, a layout chosen or
        imported for it) or a drag waits to be saved. Then every node on screen is part of the
        arrangement: kept where it is when the graph changes shape, and saved."""
        return bool(self._saved) or bool(self._chosen)

    def relayout_unplaced(self) -> None:
        """Lay out again, in the worker, every node the user has not placed, around the ones they
        placed, then fit. For a change of what the graph shows: other boxes, or (from the window) other
        nodes after a toggle or another graph type, where placing nodes beside their neighbours one by
        one would leave boxes overlapping. Refreshes never call it.

        In a view the user arranged (:meth:`_arranged`), every node placed in this view stays where it
        is (a toggle there and back must not undo the arrangement, in or out of this session); only
        nodes still waiting for a place, or keeping one another view gave them, are laid out, around
        the others. In a view not arranged, only the nodes dragged in the view before keep their
        place. With nothing to place, nothing moves; the view is fitted."""
        if self._closed:
            return
        if self._arranged():
            free = {nid for nid in self._nodes if nid in self._awaiting
                    or (nid not in self._pinned and nid not in self._placed_here)}
        else:
            free = {nid for nid in self._nodes if nid not in self._pinned}
        if not free:
            self.fit()
            return
        pinned = {nid: (it.x(), it.y()) for nid, it in self._nodes.items() if nid not in free}
        self._awaiting |= free
        self._start_layout("layered", fixed=pinned or None, targets=set(self._awaiting), save=False, fit=True)

    def place_around(self, ids: Iterable[str]) -> None:
        """Lay out ``ids`` again, in the worker, around every other node on screen (which stay), then
        fit; the places they get join the view's arrangement. For the nodes an imported layout had no
        place for: where they were is where the nodes of the file now stand."""
        free = {nid for nid in ids if nid in self._nodes}
        if self._closed or not free:
            return
        self._pinned.difference_update(free)
        self._placed_here.difference_update(free)
        settled = {nid: (it.x(), it.y()) for nid, it in self._nodes.items() if nid not in free}
        many = len(free) > max(PLACE_NEW_LIMIT, len(self._nodes) // 3)
        if settled and not many and not self._awaiting:
            # as nodes a refresh brings: beside their neighbours, each in its own box and out of the others'
            # (a layout of the whole graph around pinned nodes put a returning app box over its neighbours)
            pos = self._place_beside(sorted(free), settled)
            self.set_positions(pos)
            self._placed_here.update(pos)
            if self._arranged():
                self._schedule_save()
            self._update_scene_rect()
            self.fit()
            self.layoutFinished.emit()
            return
        self._awaiting |= free
        self._start_layout("layered", fixed=settled or None, targets=set(self._awaiting), save=False, fit=True)

    def keep_for_undo(self) -> None:
        """The view's arrangement is about to be replaced from outside (a layout imported): a drag not
        saved yet is saved, and the arrangement kept, as before a chosen layout, for :meth:`undo_reset`."""
        if self._closed or not self._nodes:
            return
        # a layout still running (one chosen a moment ago, on a big mesh) would land over the new one and
        # be saved in its place: not wanted any more (the nodes it was to place are placed by the caller)
        self._layout_generation += 1
        self._layout_pending = None
        # nor is the layout nodes Hide hid were left out of run again when they are shown: the arrangement
        # it made is replaced (the caller places them, where the import puts them or around it)
        self._left_out.clear()
        self._left_out_layout = None
        self._flush_pending_save()
        self._remember_for_undo(dict(self._saved), replaced=True)

    def hold_unsaved(self, positions: Mapping[str, tuple[float, float]]) -> None:
        """Show ``positions``, which the user chose (an imported layout) but which could not be saved: the
        nodes stand there, are part of the view's arrangement, and are saved as the user's with the next
        save that succeeds (a drag)."""
        apply = {nid: p for nid, p in positions.items() if nid in self._nodes}
        if self._closed or not apply:
            return
        self.set_positions(apply)
        self._awaiting.difference_update(apply)
        self._saved.update(apply)
        self._chosen.update(apply)
        self._pinned.update(apply)
        self._update_scene_rect()

    @property
    def arranged(self) -> bool:
        """Whether the user arranged the current view (see ``_arranged``)."""
        return self._arranged()

    @property
    def has_saved_layout(self) -> bool:
        """Whether the current view (layout key) has positions the user arranged and saved."""
        return bool(self._saved)

    def start_fresh(self) -> None:
        """Forget what is drawn: the next graph is laid out from scratch and fitted. For another view
        of the mesh (a node graph and back) whose nodes should not keep the places they had in the
        other one."""
        # every item goes: with the scene's index on, each was taken out of the BSP tree alone (a node
        # graph opened on 4,000 nodes and 12,000 edges: ~0.5 s of the UI thread)
        with self._bulk(len(self._edges) + len(self._nodes)):
            for eid in list(self._edges):
                self._remove_edge(eid)
            for nid in list(self._nodes):
                self._remove_node(nid)
        self._awaiting.clear()
        self._placed_here.clear()
        self._pinned.clear()  # saved places pin their nodes again as they are drawn
        self._dragged.clear()
        self._rebuild_boxes()

    def switch_items(self, key: LayoutKey | None) -> bool:
        """Another view of the mesh is about to be shown under ``key``: a node graph, or back from one.
        The items drawn are put aside with their scene, for their own view, and the items kept for
        ``key`` come back if there are any (returns whether they did); else the view starts with no
        item, as :meth:`start_fresh` leaves it. Going back to a big mesh's graph then reuses its 16,000
        items, where creating them again froze the window for over half a second; what changed while
        they were aside (the graph, display options, theme, Find and Hide) is applied to them as a
        refresh would. Their places are those they had (for an arrangement not saved: the automatic
        layout's of the same nodes); nodes that came meanwhile are placed as a refresh places them.
        The view is fitted (``layoutFinished`` follows the next :meth:`set_graph`, as after a layout)."""
        if self._closed:
            return False
        if self._dragging:
            self.finish_drag()
        self._flush_pending_save()  # a drag not saved yet is saved while its nodes are the ones drawn
        # a layout computed for the items put aside does not land on the others
        self._layout_generation += 1
        self._layout_pending = None
        self._held_job = None
        self._hover_timer.stop()
        self._hovered = None
        self._moved.clear()
        self._dirty_boxes.clear()
        leaving = {name: getattr(self, name) for name in _ITEM_STATE}
        left = (_KeptItems(self._key, leaving, self._options, shapes.theme(), self._find_expr, self._hide_expr,
                           self.transform(), self.mapToScene(self.viewport().rect().center()))
                if self._key is not None and self._nodes else None)
        back = next((k for k in self._kept if key is not None and k.key == key), None)
        if back is not None:
            self._kept.remove(back)
            state = back.state
        else:
            scene = _Scene(self)
            scene.setItemIndexMethod(INDEX_METHOD)
            self._connect_scene(scene)
            edges: dict[str, EdgeItem] = {}
            scene.edges = edges
            layer = EdgeLayer(edges)
            scene.addItem(layer)
            state = {
                "_scene": scene, "_graph": None, "_grpc_messages": False, "_nodes": {}, "_edges": edges,
                "_edge_layer": layer, "_boxes": {}, "_box_ids": frozenset(), "_box_by": (), "_scene_rect": QRectF(),
                "_box_of": {}, "_reading_order": None, "_edges_of": {}, "_pinned": set(), "_dragged": set(),
                "_awaiting": set(), "_placed_here": set(), "_highlighted": set(), "_dimmed": set(), "_hidden": set(),
                "_left_out": set(), "_left_out_layout": None, "_dirty_edges": set(), "_geometry_stale": True,
            }
        self._disconnect_scene(self._scene)  # a scene aside says nothing to the view (its deletion included)
        for name in _ITEM_STATE:
            setattr(self, name, state[name])
        if back is not None:
            self._connect_scene(self._scene)
        self.setScene(self._scene)
        if back is not None:
            # as they were left: at that zoom the edges are drawn as they were (no switch of 12,000 edges
            # to items and back before the fit), and their picture may still be the one on screen
            self.setTransform(back.transform)
            self.centerOn(back.centre)
        if left is not None:
            self._kept.append(left)
            # the biggest are kept: going from node graph to node graph does not push out the namespaces' graph
            self._kept.sort(key=lambda k: k.size, reverse=True)
        for gone in self._kept[KEPT_VIEWS:]:
            gone.state["_scene"].deleteLater()
        del self._kept[KEPT_VIEWS:]
        if left is None:
            leaving["_scene"].deleteLater()
        self._still = None
        self._scene_dirty = True
        self._sync_edge_lod()
        self._update_zoom_hint()
        self._restored = back is not None
        if back is not None:
            self._catch_up(back)
        return back is not None

    def _catch_up(self, kept: _KeptItems) -> None:
        """Apply to items taken back what changed while they were aside (the graph itself follows)."""
        if kept.theme != shapes.theme():
            self._restyle()
        if kept.options != self._options:
            options, self._options = self._options, kept.options
            self.set_display(options)
        if kept.find != self._find_expr:
            self.set_find(self._find_expr)
        if kept.hide != self._hide_expr:
            self.set_hide(self._hide_expr)
        if self._awaiting:  # the layout they waited for was dropped when they were put aside
            settled = {nid: (it.x(), it.y()) for nid, it in self._nodes.items() if nid not in self._awaiting}
            self._start_layout("layered", fixed=settled or None, targets=set(self._awaiting), save=False, fit=True)

    def relayout(self, algorithm: str = "layered") -> None:
        """Lay out every node again with ``algorithm`` (``layered``, ``force`` or ``grid``) in the
        worker; ``layoutFinished`` follows. The result is saved for the current view."""
        if self._closed:
            return
        if not self._nodes:
            self.layoutFinished.emit()
            return
        self._flush_pending_save()
        self._remember_for_undo(dict(self._saved), replaced=True)
        self._lay_out_shown(algorithm, save=True)

    def _lay_out_shown(self, algorithm: str, *, save: bool) -> None:
        """Lay out the nodes Hide does not hide (all, when it hides all) with ``algorithm``. The hidden ones
        are no part of what the user sees arranged (Kiali lays out without hidden elements): they keep their
        place meanwhile, and when Hide shows them again the layout is run again with them, unless the user
        has moved nodes since (then they are placed around the arrangement)."""
        shown = {nid for nid in self._nodes if nid not in self._hidden} or set(self._nodes)
        self._left_out = set(self._nodes) - shown
        self._left_out_layout = (algorithm, save) if self._left_out else None
        self._awaiting = set(shown)
        self._start_layout(algorithm, fixed=None, targets=set(shown), save=save, fit=True,
                           only=shown if self._left_out else None)

    def _flush_pending_save(self) -> None:
        if self._save_timer.isActive() or self._landing_save:  # a drag not saved yet is part of what an undo gives back
            self._save_timer.stop()
            self._landing_save = False
            self._save_now()

    def _remember_for_undo(self, saved: dict[str, tuple[float, float]], *, replaced: bool) -> None:
        """Keep the arrangement on screen (and ``saved``, the view's saved positions) for :meth:`undo_reset`,
        and offer the undo on the canvas."""
        centre = self.mapToScene(self.viewport().rect().center())
        self._undo_stack.append(_ResetUndo(
            self._key, saved,
            {nid: (it.x(), it.y()) for nid, it in self._nodes.items() if nid not in self._awaiting},
            set(self._dragged), self.transform(), (centre.x(), centre.y()), replaced))
        del self._undo_stack[:-UNDO_DEPTH]
        self._undo_label.setText("Layout replaced." if replaced else "Layout reset.")
        self._show_undo_note()
        self.undoResetAvailable.emit(True)

    def reset_layout(self) -> None:
        """Forget the saved positions of the current view and lay it out afresh. The arrangement it
        replaced is kept until another view opens: :meth:`undo_reset` puts it back (a note on the
        canvas offers it for a while, the window's Ctrl+Z for as long as the view is shown)."""
        if self._closed:
            return
        self._flush_pending_save()
        forgotten: dict[str, tuple[float, float]] = {}
        if self._key is not None:
            try:
                forgotten = self.store.reset(self._key)
            except OSError as e:
                self._report(f"Could not reset the saved layout: {e}")
                forgotten = dict(self._saved)  # still saved: what an undo keeps
        self._remember_for_undo(forgotten, replaced=False)
        self._saved = {}
        self._stored = {}
        self._chosen.clear()
        self._pinned.clear()
        self._dragged.clear()
        if not self._nodes:
            self.layoutFinished.emit()
            return
        self._lay_out_shown("layered", save=False)

    @property
    def can_undo_reset(self) -> bool:
        """Whether the current view was reset or given a layout since it opened (and that is not undone
        yet), so that :meth:`undo_reset` can act."""
        return bool(self._undo_stack) and self._undo_stack[-1].key == self._key and not self._closed

    def undo_reset(self) -> bool:
        """Put back the arrangement the last :meth:`reset_layout` or :meth:`relayout` of this view
        replaced: on screen and saved, as it was (nodes that came since are placed around it). False
        when there is none."""
        if not self.can_undo_reset:
            return False
        undo = self._undo_stack.pop()
        self._hide_undo_note()
        self._left_out.clear()  # the nodes Hide hides get their places back too
        self._left_out_layout = None
        self.undoResetAvailable.emit(self.can_undo_reset)  # an earlier reset or layout can be undone next
        self._layout_generation += 1  # the reset's layout, if still running, is not wanted any more
        self._layout_pending = None
        self._save_timer.stop()
        self._landing_save = False
        held: dict[str, tuple[float, float]] = {}
        if self._key is not None and undo.replaced:  # the chosen layout's positions go
            try:
                if undo.saved:
                    self.store.save(self._key, undo.saved)
                else:
                    self.store.reset(self._key)
            except OSError as e:
                self._report(f"Could not save the layout put back: {e}")
            held = dict(undo.saved)
        elif self._key is not None and undo.saved:
            try:
                held = self.store.update(self._key, undo.saved)
            except OSError as e:
                self._report(f"Could not save the layout put back: {e}")
                held = dict(undo.saved)
        # on screen as saved (the file may hold another window's later move); else as it was shown
        restore = {nid: held.get(nid, undo.shown.get(nid)) for nid in self._nodes
                   if nid in held or nid in undo.shown}
        back = {nid: p for nid, p in restore.items() if p is not None}
        self._saved = dict(held)
        self._stored = dict(held)
        self._chosen.clear()
        self._dragged = {nid for nid in undo.dragged if nid in self._nodes}
        self._pinned = {nid for nid in self._nodes if nid in held or nid in self._dragged}
        self.set_positions(back)
        self._placed_here = set(back)
        self._awaiting = {nid for nid in self._nodes if nid not in back}  # came after the reset
        self.setTransform(undo.transform)
        self.centerOn(QPointF(*undo.centre))
        self._update_zoom_hint()
        if self._awaiting:
            self._start_layout("layered", fixed=back or None, targets=set(self._awaiting), save=False, fit=False)
        else:
            self._update_scene_rect()
            self.layoutFinished.emit()
        return True

    def _forget_reset(self) -> None:
        if self._undo_stack:
            self._undo_stack.clear()
            self._hide_undo_note()
            self.undoResetAvailable.emit(False)

    def _show_undo_note(self) -> None:
        self._undo_note.adjustSize()
        self._place_undo_note()
        self._undo_note.show()
        self._undo_note.raise_()
        self._undo_note_timer.start()
        if not self._zoom_hint.isHidden():
            self._place_zoom_hint()  # (above the note)

    def _place_undo_note(self) -> None:
        """In the bottom left corner of the canvas."""
        port = self.viewport().geometry()
        note = self._undo_note
        note.move(port.left() + 8, max(port.top() + 8, port.bottom() - note.height() - 8))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._undo_note.isHidden():
            self._place_undo_note()
        if not self._zoom_hint.isHidden():
            self._place_zoom_hint()
        if not self._all_hidden_note.isHidden():
            self._place_all_hidden_note()

    def _hide_undo_note(self) -> None:
        self._undo_note_timer.stop()
        self._undo_note.hide()
        if not self._zoom_hint.isHidden():
            self._place_zoom_hint()  # (back to the corner)

    # ------------------------------------------------------------------ saved layouts

    @property
    def layout_key(self) -> LayoutKey | None:
        return self._key

    def set_layout_key(self, key: LayoutKey | None) -> None:
        """Switch to the saved layout of ``key``: its positions are applied to the nodes shown, and
        later drags are saved to it. Nodes the user placed in the view before, and that ``key`` has no
        saved place for, stay pinned where they are. Called again with the same key, it re-reads the
        saved positions (e.g. after a layout was imported into the store) and applies them."""
        self._flush_pending_save()
        if key != self._key:
            self._forget_reset()  # an undo of a reset is for the view that was reset
            self._left_out.clear()
            self._left_out_layout = None
            self._chosen.clear()  # (left only by a save that failed) not the next view's to save
            self._placed_here.clear()
            if self._layout_pending is not None and self._layout_pending.save:
                # a layout chosen for the view left (Ctrl+1 on a big mesh takes a while) only places the
                # nodes of this one, where they have no place of their own: saved, it became this view's
                # arrangement, which the user never chose
                self._layout_pending.save = False
        self._key = key
        self._saved = self.store.load(key) if key is not None else {}
        self._stored = dict(self._saved)
        # nodes the user dragged keep that place in the next view too, unless it saved its own; a place
        # a view merely saved (every node's, after any drag) is not carried into another view, whose
        # boxes are others (its outside namespaces' boxes came out overlapping)
        self._pinned = {nid for nid in self._nodes if nid in self._saved or nid in self._dragged}
        self._dragged = {nid for nid in self._dragged if nid in self._pinned}
        # a node already at its saved place stays (the file holds places to 0.01: items taken back after
        # a node graph are where their view saved them, and moving 4,000 of them by less than that
        # re-measured every edge)
        apply = {nid: p for nid, p in self._saved.items() if (item := self._nodes.get(nid)) is not None
                 and (abs(item.x() - p[0]) > SAVED_PRECISION or abs(item.y() - p[1]) > SAVED_PRECISION)}
        if apply:
            self.set_positions(apply)
            self._awaiting.difference_update(apply)
            if self._awaiting and self._layout_pending is not None:
                settled = {nid: (it.x(), it.y()) for nid, it in self._nodes.items() if nid not in self._awaiting}
                self._start_layout("layered", fixed=settled, targets=set(self._awaiting), save=False, fit=False)
            self._update_scene_rect()

    def _schedule_save(self) -> None:
        if self._key is not None:
            self._save_timer.start()

    @Slot()
    def _save_now(self) -> None:
        if self._key is None:
            return
        for nid, it in self._nodes.items():
            if nid not in self._awaiting:
                self._saved[nid] = (it.x(), it.y())
        changed = {nid: xy for nid, xy in self._saved.items() if self._stored.get(nid) != xy}
        if not changed:
            return
        chosen = {nid: xy for nid, xy in changed.items() if nid in self._chosen}
        placed = {nid: xy for nid, xy in changed.items() if nid not in self._chosen}
        try:
            held = self.store.update(self._key, chosen, placed)
            lost = {nid: xy for nid, xy in self._saved.items() if nid not in held}
            if lost:  # the file was set aside or reset elsewhere: it lacks what we had saved
                held = self.store.update(self._key, {}, lost)
            # a placed node another window had placed counts as sent (ours does not replace it unless
            # the user moves it)
            self._stored = {**held, **placed}
            self._chosen.clear()
            # every node saved is part of the arrangement, as it is after the view is opened again
            self._pinned.update(nid for nid in self._saved if nid in self._nodes)
        except OSError as e:
            self._report(f"Could not save the layout: {e}")
            return
        if self.store.warnings:  # the file was found damaged and set aside while saving
            self.problemsReported.emit()

    def _report(self, msg: str) -> None:
        """Tell the user (through the main window, at once) about a problem with the layout."""
        log.warning(msg)
        self.errors.append(msg)
        self.problemsReported.emit()

    # ------------------------------------------------------------------ positions

    def node_ids(self) -> frozenset[str]:
        """The nodes drawn (boxes aside)."""
        return frozenset(self._nodes)

    def positions(self) -> dict[str, tuple[float, float]]:
        return {nid: (it.x(), it.y()) for nid, it in self._nodes.items()}

    @contextmanager
    def _bulk(self, count: int) -> Iterator[None]:
        """Around changes to ``count`` items: with many, the scene index is off meanwhile and
        rebuilt once afterwards (see BULK_ITEMS)."""
        scene = self._scene
        if count < BULK_ITEMS or scene.itemIndexMethod() != QGraphicsScene.ItemIndexMethod.BspTreeIndex:
            yield
            return
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        try:
            yield
        finally:
            scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    def set_positions(self, positions: Mapping[str, tuple[float, float]]) -> None:
        """Move the given nodes (unknown ids are ignored); their edges and boxes follow."""
        moves = [(item, x, y) for nid, (x, y) in positions.items()
                 if (item := self._nodes.get(nid)) is not None and (item.x() != x or item.y() != y)]
        with self._bulk(len(moves) * 4):  # a node and (on a big mesh) about three edges each
            self._batch = True
            try:
                for item, x, y in moves:
                    item.setPos(QPointF(x, y))
            finally:
                self._batch = False
            self._flush_edges()
            self._refit_boxes()

    def _on_node_moved(self, item: NodeItem) -> None:
        edges = self._edges_of.get(item.node_id, ())
        self._geometry_stale = True
        if self._batch:
            self._dirty_edges.update(e.edge_id for e in edges)
            return
        if self._dragging and self._mouse_drag:
            # a mouse drag moves every selected node, one by one: their edges and boxes follow once per
            # mouse move (``_follow_drag``), not once per node (a box refitted for each of its members)
            self._moved.add(item.node_id)
            self._dirty_edges.update(e.edge_id for e in edges)
            box = self._box_of.get(item.node_id)
            while box is not None and box not in self._dirty_boxes:
                self._dirty_boxes.add(box)
                box = self._box_of.get(box.box_id)
            if not self._follow_timer.isActive():  # also when Qt replays a move itself (zoom or scroll mid-drag)
                self._follow_timer.start()
            return
        for e in edges:
            e.update_geometry()
        if edges:
            self._edge_layer.moved(edges)
        box = self._box_of.get(item.node_id)
        while box is not None:
            box.refit()
            box = self._box_of.get(box.box_id)
        if self._dragging:
            self._moved.add(item.node_id)

    # ------------------------------------------------------------------ boxes

    def _rebuild_boxes(self) -> None:
        graph = self._graph
        wanted: dict[str, tuple[str, str]] = {}  # box id -> (title, kind)
        parent_of: dict[str, str] = {}
        if graph is not None:
            # app boxes always (Kiali boxes app graphs by app); namespace and cluster boxes when shown
            box_nodes = {nid: n for nid, n in graph.nodes.items()
                         if n.node_type == NODE_BOX and (self._options.show_boxes or n.box == BOX_APP)}
            # of several clusters, a namespace box that no cluster box holds says its cluster (Kiali draws a
            # cluster box around two members or more: each cluster's one shop box stood alone, both "shop")
            several = len(graph.clusters()) > 1

            def loose(n: Node) -> bool:
                return several and bool(n.cluster) and not any(
                    b.node_type == NODE_BOX and b.box == BOX_CLUSTER for b in [box_nodes.get(n.parent or "")] if b)

            if box_nodes:
                for nid, n in box_nodes.items():
                    wanted[nid] = (f"{n.label} (cluster {n.cluster})" if n.box == BOX_NAMESPACE and loose(n)
                                   else n.label, n.box)
                for nid, n in graph.nodes.items():
                    if n.parent and n.parent in box_nodes:
                        parent_of[nid] = n.parent
            elif self._options.show_boxes:
                for nid, n in graph.nodes.items():
                    if n.node_type == NODE_BOX or not n.namespace:
                        continue
                    bid = f"box:{BOX_NAMESPACE}:{n.cluster}:{n.namespace}"
                    wanted.setdefault(bid, (f"{n.namespace} (cluster {n.cluster})" if loose(n) else n.namespace,
                                            BOX_NAMESPACE))
                    parent_of[nid] = bid
                if len(wanted) < 2 and not (graph.request.boxBy and BOX_NAMESPACE in graph.request.boxBy):
                    wanted.clear()  # one namespace: a box adds nothing
                    parent_of.clear()
        for bid in [b for b in self._boxes if b not in wanted]:
            self._scene.removeItem(self._boxes.pop(bid))
        for bid, (title, kind) in wanted.items():
            box = self._boxes.get(bid)
            if box is None:
                box = BoxItem(bid, title, kind)
                self._boxes[bid] = box
                self._scene.addItem(box)
            box.title = title
            box.children_items = []
        self._box_of = {}
        for child, bid in parent_of.items():
            box = self._boxes.get(bid)
            child_item: QGraphicsItem | None = self._nodes.get(child) or self._boxes.get(child)
            if box is not None and child_item is not None:
                box.children_items.append(child_item)
                self._box_of[child] = box
        for box in self._boxes.values():
            # a box inside another is above it: it is drawn over the outer box's fill, and a click
            # inside it is on it, not on the namespace box around it
            box.setZValue(Z_BOX + 0.1 * self._box_depth(box))
        self._refit_boxes()

    def _apply_box_health(self) -> None:
        """An app box's outline shows its app's health (a failing or degraded app), as in Kiali."""
        graph = self._graph
        for bid, box in self._boxes.items():
            node = graph.nodes.get(bid) if graph is not None else None
            status = node.health.status if node is not None and node.health is not None else None
            if status != box.status:
                box.status = status
                box.update()

    def _box_depth(self, box: BoxItem) -> int:
        d = 0
        b: BoxItem | None = box
        while b is not None and d < 10:
            b = self._box_of.get(b.box_id)
            d += 1
        return d

    def _refit_boxes(self) -> None:
        self._geometry_stale = False
        for box in sorted(self._boxes.values(), key=self._box_depth, reverse=True):
            box.refit()

    def box_item(self, box_id: str) -> BoxItem | None:
        return self._boxes.get(box_id)

    def boxes(self) -> list[BoxItem]:
        return list(self._boxes.values())

    # ------------------------------------------------------------------ display

    def set_display(self, opts: DisplayOptions) -> None:
        old = self._options
        self._options = opts
        graph = self._graph
        if graph is not None:
            for nid, item in self._nodes.items():
                node = graph.nodes.get(nid)
                if node is not None:
                    item.apply(node, opts, self._outside(node, graph))
            if (old.edge_labels, old.show_security) != (opts.edge_labels, opts.show_security):
                totals = self._source_totals(graph)
                for item_e in self._edges.values():
                    self._apply_edge(item_e, item_e.edge, totals)
                self._flush_edges()  # a label that grew or went needs its bounds now, not at the next refresh
        if old.show_boxes != opts.show_boxes:
            self._rebuild_boxes()
            self.relayout_unplaced()
        if opts.animation and self.isVisible():
            self._animation.start()
        elif not opts.animation:
            self._animation.stop()
            self._still = None
            self.viewport().update()

    @property
    def animation_running(self) -> bool:
        return self._animation.running

    def _visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # the animation paints dots over a cached picture of the still scene (see animation.py)

    @Slot()
    def _on_scene_changed(self) -> None:
        self._scene_dirty = True
        self._scene_changed_at = time.monotonic()

    def _view_key(self) -> tuple[Any, ...]:
        t = self.transform()
        return (t.m11(), t.m12(), t.m21(), t.m22(), self.horizontalScrollBar().value(),
                self.verticalScrollBar().value(), self.viewport().width(), self.viewport().height(),
                self.devicePixelRatioF())

    def _still_valid(self) -> bool:
        return (self._still is not None and not self._scene_dirty and self._still_key == self._view_key()
                and self.rubberBandRect().isNull())

    def _animation_frame(self) -> None:
        if self._closed or not self.isVisible() or self._dragging or self.zoom() < MIN_LOD:
            return  # dots pause while dragging; too small to see when zoomed far out
        if self._at_temporary_places():
            # no picture of a temporary grid: a big mesh's first graph waits a second or more for its
            # layout, and the picture (a whole repaint, 0.25 s on 4,000 nodes) was thrown away when it landed
            return
        if not self._still_valid():
            if time.monotonic() - self._scene_changed_at < SETTLE_S:
                return  # let a refresh or a move settle before taking a new picture
            self._take_still()
        self.viewport().update()

    def _at_temporary_places(self) -> bool:
        """Every node waits, at a temporary place, for an automatic layout that will move it."""
        job = self._layout_pending
        return job is not None and not job.save and bool(self._nodes) and len(self._awaiting) == len(self._nodes)

    def _take_still(self) -> None:
        """Picture the viewport as a normal paint draws it. Not with ``render()``: that paints the
        nodes from their device caches without refreshing them, so a node whose health colour or
        badges changed in a refresh (its size unchanged) kept its old look under the dots."""
        vp = self.viewport()
        if vp.width() <= 0 or vp.height() <= 0:
            return
        self._painting_still = True
        try:
            pixmap = vp.grab()
        finally:
            self._painting_still = False
        self._still = pixmap
        self._still_key = self._view_key()
        self._animation.forget_view()  # what moved or changed since the last picture
        self._scene_dirty = False
        self._dot_clip = self._region_without_nodes()

    def _region_without_nodes(self) -> QRegion:
        """The viewport less every visible node's drawing (shape, badges, name): the dots pass
        under the nodes as their edges do, instead of over their badges and names. Made with the
        still picture (nodes do not move while dots run)."""
        region = QRegion(self.viewport().rect())
        visible = self._visible_scene_rect()
        labels = self._labels_shown()
        for item in self._nodes.values():
            if item.isVisible():
                if item.sceneBoundingRect().intersects(visible):
                    for rect in item.drawn_rects(labels):
                        region -= QRegion(self.mapFromScene(item.mapRectToScene(rect)).boundingRect())
        return region

    @Slot(str)
    def set_theme(self, name: str) -> None:
        """Draw on a ``light`` or ``dark`` canvas (follows the app's theme by itself). Exports are
        always light."""
        if self._closed:
            return
        shapes.set_theme(name)
        self.setBackgroundBrush(QBrush(shapes.C_CANVAS))
        self._restyle()

    def _restyle(self) -> None:
        graph = self._graph
        if graph is not None:
            totals = self._source_totals(graph)
            for item_e in self._edges.values():
                item_e.forget_look()
                self._apply_edge(item_e, item_e.edge, totals)
            self._flush_edges()
        self._edge_layer.invalidate()  # the selection's and the edges' colours of this theme
        for item in [*self._nodes.values(), *self._boxes.values()]:
            item.update()
        self.viewport().update()

    # ------------------------------------------------------------------ find / hide

    def _compile(self, expr: str) -> tuple[Any, str | None]:
        try:
            from meshdesk.mesh.find import FindSyntaxError, compile_expression
        except ImportError:
            return None, "Find and hide expressions are not available in this build."
        try:
            return compile_expression(expr), None
        except FindSyntaxError as e:
            return None, str(e)

    @staticmethod
    def _ids(found: Iterable[Any]) -> set[str]:
        return {x if isinstance(x, str) else x.id for x in found}

    def set_find(self, expr: str) -> str | None:
        """Highlight the nodes and edges matching ``expr``; returns an error message for a bad
        expression, which (as in Kiali) clears the highlight: what is lit must match what is typed."""
        expr = expr.strip()
        matched: set[str] = set()
        if expr:  # compiled with or without a graph: a syntax error is said at once, not lost
            matcher, error = self._compile(expr)
            if error is not None:
                self.set_find("")
                return error
            if self._graph is not None:
                matched = self._ids(matcher.nodes(self._graph)) | self._ids(matcher.edges(self._graph))
        self._find_expr = expr
        # far out, an edge item draws nothing (the edge layer draws every line, and is repainted once
        # below): its flag is all that changes, not a repaint asked of Qt for each of thousands of edges
        far = self._edge_layer.far
        nodes, edges = self._nodes, self._edges
        for iid in self._highlighted ^ matched:
            node = nodes.get(iid)
            if node is not None:
                node.highlighted = iid in matched
                node.update()  # its cached picture has the halo or not
                continue
            edge = edges.get(iid)
            if edge is not None:
                edge.highlighted = iid in matched
                if not far:
                    edge.update()
        self._edge_layer.invalidate(lines=False)
        self._highlighted = {i for i in matched if i in self._nodes or i in self._edges}
        return None

    def set_hide(self, expr: str) -> str | None:
        """Hide the nodes and edges matching ``expr`` (and every edge of a hidden node); returns an
        error message for a bad expression, which (as in Kiali) shows everything again."""
        expr = expr.strip()
        hidden_nodes: set[str] = set()
        hidden_edges: set[str] = set()
        if expr:  # as in set_find: compiled with or without a graph
            matcher, error = self._compile(expr)
            if error is not None:
                self.set_hide("")
                return error
            if self._graph is not None:
                if hasattr(matcher, "hidden"):  # Kiali's rules, boxes included
                    found_nodes, found_edges = matcher.hidden(self._graph)
                else:
                    found_nodes, found_edges = matcher.nodes(self._graph), matcher.edges(self._graph)
                hidden_nodes = {i for i in self._ids(found_nodes) if i in self._nodes or i in self._boxes}
                hidden_edges = {i for i in self._ids(found_edges) if i in self._edges}
                for nid in hidden_nodes:
                    hidden_edges.update(e.edge_id for e in self._edges_of.get(nid, ()))
        self._hide_expr = expr
        now = hidden_nodes | hidden_edges
        for iid in self._hidden ^ now:
            item = self._nodes.get(iid) or self._edges.get(iid) or self._boxes.get(iid)
            if item is not None:
                item.setVisible(iid not in now)
        self._hidden = now
        accessible.reordered(self)
        self._edge_layer.invalidate()
        shown_again = {nid for nid in self._left_out if nid in self._nodes and nid not in now}
        self._left_out -= shown_again
        self._refit_boxes()
        self._update_all_hidden_note()
        if shown_again and self._left_out_layout is not None:  # the layout they were left out of, again
            algorithm, save = self._left_out_layout
            self._lay_out_shown(algorithm, save=save)
        elif shown_again:  # the user moved nodes since: placed around the arrangement, not over it
            self.place_around(shown_again)
        return None

    def hidden_ids(self) -> set[str]:
        return set(self._hidden)

    def highlighted_ids(self) -> set[str]:
        return set(self._highlighted)

    # ------------------------------------------------------------------ selection

    def select(self, ids: Iterable[str]) -> None:
        self._select(ids)

    def _select(self, ids: Iterable[str], walk: tuple[str, str] | None = None) -> None:
        """Select ``ids``; ``walk``: (node, edge) when E walked to that edge from that node. Those already
        selected keep their place first (``selected_ids``), the others follow in the order given."""
        given = list(dict.fromkeys(ids))
        want = set(given)
        self._edge_walk = walk
        self._selecting = True
        try:
            for old in self._scene.selectedItems():
                old.setSelected(False)
            for iid in want:
                item: QGraphicsItem | None = self._nodes.get(iid) or self._edges.get(iid) or self._boxes.get(iid)
                if item is not None and item.isVisible():
                    item.setSelected(True)
        finally:
            self._selecting = False
        self._hovered = None
        self._apply_focus()
        self.selectionChanged.emit(self._ordered_selection(given))
        self._say_selection()

    def selected_ids(self) -> list[str]:
        """The selected nodes, edges and boxes, in the order the user selected them: a click's first, then
        each Ctrl+click's; one taken out of the selection leaves the others in their order. Several selected
        at once (a selection rectangle) follow in the canvas's order of its items (nodes, edges, boxes, each
        as the graph gave them); ``select``'s, in the order it was given them."""
        return self._ordered_selection()

    def _ordered_selection(self, given: Sequence[str] = ()) -> list[str]:
        """The scene's selection in ``_selection_order``'s order, those newly selected after the others,
        in the order of ``given``, else the canvas's (``selected_ids``)."""
        now = []
        for item in self._scene.selectedItems():
            if isinstance(item, NodeItem):
                now.append(item.node_id)
            elif isinstance(item, EdgeItem):
                now.append(item.edge_id)
            elif isinstance(item, BoxItem):
                now.append(item.box_id)
        selected = set(now)
        kept = [i for i in self._selection_order if i in selected]
        if len(kept) < len(selected):
            had = set(kept)
            fresh = [i for i in now if i not in had]
            if len(fresh) > 1:
                place = {iid: k for k, iid in enumerate(given)}
                if not place.keys() >= set(fresh):  # (the canvas's order: only built when needed)
                    for iid in itertools.chain(self._nodes, self._edges, self._boxes):
                        place.setdefault(iid, len(place))
                fresh.sort(key=lambda i: place.get(i, len(place)))
            kept += fresh
        self._selection_order = kept
        return list(kept)

    @Slot()
    def _on_scene_selection(self) -> None:
        if not self._selecting and not self._closed:
            self._edge_walk = None
            self._hovered = None  # a selection replaces what the mouse was over (as in Kiali)
            self._apply_focus()
            self.selectionChanged.emit(self.selected_ids())
            self._say_selection()

    def selection_spoken(self) -> str:
        """The selection in words, as the graph's accessible name carries it after "Traffic graph: "."""
        chosen = self.selected_ids()
        if not chosen:
            return "nothing selected"
        if len(chosen) > 1:
            return f"{len(chosen)} selected"
        sel = chosen[0]
        walk = self._edge_walk
        return self.item_spoken(sel, from_node=walk[0] if walk is not None and walk[1] == sel else None)

    def item_spoken(self, item_id: str, from_node: str | None = None) -> str:
        """A node, edge or box in words: what a screen reader reads of it. An edge reached from node
        ``from_node`` (as E walks them) says which of that node's edges it is."""
        node, edge, box = self._nodes.get(item_id), self._edges.get(item_id), self._boxes.get(item_id)
        if node is not None:
            shown = [e for e in self._edges_of.get(item_id, ()) if e.isVisible()]
            return node_spoken(node.node, sum(e.edge.target == item_id for e in shown),
                               sum(e.edge.source == item_id for e in shown))
        if edge is not None:
            said = edge_spoken(edge.edge, edge.source.node, edge.target.node)
            if from_node is not None and from_node in self._nodes:
                edges = self.node_edges(from_node)
                if item_id in edges:
                    said += (f", edge {edges.index(item_id) + 1} of {len(edges)} of "
                             f"{node_named(self._nodes[from_node].node)}")
            return said
        if box is not None:
            return f"{box.kind} box {box.title}"
        return item_id

    def is_shut(self) -> bool:
        return self._closed

    def shown_node_ids(self) -> frozenset[str]:
        return frozenset(nid for nid, item in self._nodes.items() if item.isVisible())

    def shown_signature(self) -> tuple[int, ...]:
        """Changes (cheaply told) whenever the graph, its items, what Hide hides or the display options
        are replaced: what the accessible list of nodes is worked out again on."""
        return (id(self._graph), id(self._hidden), id(self._options), len(self._nodes), len(self._edges))

    def edge_walk_node(self, eid: str) -> str | None:
        """The node an edge is read under: the one E walked it from, else its source."""
        walk = self._edge_walk
        if walk is not None and walk[1] == eid and walk[0] in self._nodes:
            return walk[0]
        edge = self._edges.get(eid)
        return edge.edge.source if edge is not None else None

    def item_screen_rect(self, item_id: str) -> QRect | None:
        """Where a shown node or edge is drawn, in screen coordinates (None: not shown)."""
        node, edge = self._nodes.get(item_id), self._edges.get(item_id)
        item: QGraphicsItem | None = node if node is not None else edge
        if item is None or not item.isVisible():
            return None
        rect = self.mapFromScene(item.sceneBoundingRect()).boundingRect()
        return rect.translated(self.viewport().mapToGlobal(QPoint(0, 0)))

    def node_at_global(self, point: QPoint) -> str | None:
        """The shown node drawn at a screen point, if any."""
        pos = self.viewport().mapFromGlobal(point)
        for item in self.items(pos):
            if isinstance(item, NodeItem) and item.isVisible():
                return item.node_id
        return None

    def _say_selection(self) -> None:
        """Tell assistive tech what is selected: the graph's accessible name says it (Qt sends the name's
        change), and when the keyboard is on the graph a focus event makes a screen reader read it out
        again, as it reads the next item of a list the arrows move through."""
        if self._closed:
            return
        name = f"{GRAPH_NAME}: {self.selection_spoken()}"
        if name == self.accessibleName():
            return
        self.setAccessibleName(name)
        if self.hasFocus() and QAccessible.isActive():
            # the node or edge itself takes the reader's focus; several selected (or a box), the graph
            if not accessible.announce(self):
                QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Focus))

    def _paths(self, nid: str, downstream: bool) -> set[str]:
        """The nodes and edges on every path into (or, ``downstream``, out of) node ``nid``."""
        found: set[str] = set()
        todo, seen = [nid], {nid}
        while todo:
            current = todo.pop()
            for e in self._edges_of.get(current, ()):
                near, far = (e.edge.source, e.edge.target) if downstream else (e.edge.target, e.edge.source)
                if near != current:
                    continue
                found.add(e.edge_id)
                found.add(far)
                if far not in seen:
                    seen.add(far)
                    todo.append(far)
        return found

    def _hover(self, item: QGraphicsItem | None) -> bool:
        """The mouse rests over ``item`` (None: the background, or out of the view); True when that is
        another element than before."""
        hid: str | None = None
        if isinstance(item, NodeItem):
            hid = item.node_id
        elif isinstance(item, EdgeItem):
            hid = item.edge_id
        elif isinstance(item, BoxItem) and item.kind == BOX_APP:
            hid = item.box_id
        if hid == self._hovered:
            return False
        self._hovered = hid
        return True

    def _hover_rest(self) -> None:
        """The mouse has rested: what is under it now is looked up once (not on every move: on a big
        mesh a lookup costs milliseconds) and its paths highlighted."""
        if self._closed:
            return
        pos = self._hover_pos
        if self._hover(self.itemAt(pos) if pos is not None else None):
            self._apply_focus()

    def hovered_id(self) -> str | None:
        return self._hovered

    def _apply_focus(self) -> None:
        """Kiali's highlighting: with one node selected, every path into and out of it stays bright
        (its callers' callers, its callees' callees) and the rest of the graph is dimmed; with an edge,
        the paths into its source and out of its target; with an app box, those of its members. Any
        other selection (several elements, a namespace box) shows everything plainly. With nothing
        selected, the node, edge or app box under the mouse is highlighted the same way."""
        self._edge_layer.invalidate(lines=False)  # a selected edge's colour, the dimmed ones
        selected = self._scene.selectedItems()
        if not selected and self._hovered is not None:
            under = self._nodes.get(self._hovered) or self._edges.get(self._hovered) or \
                self._boxes.get(self._hovered)
            if under is not None and under.isVisible():
                selected = [under]
        keep: set[str] | None = None
        if len(selected) == 1 and isinstance(selected[0], NodeItem):
            nid = selected[0].node_id
            keep = {nid} | self._paths(nid, False) | self._paths(nid, True)
        elif len(selected) == 1 and isinstance(selected[0], EdgeItem):
            e = selected[0]
            keep = {e.edge_id, e.edge.source, e.edge.target} | self._paths(e.edge.source, False) | \
                self._paths(e.edge.target, True)
        elif len(selected) == 1 and isinstance(selected[0], BoxItem) and selected[0].kind == BOX_APP:
            box = selected[0]
            keep = set()
            for nid in [n for n, b in self._box_of.items() if b is box and n in self._nodes]:
                keep |= {nid} | self._paths(nid, False) | self._paths(nid, True)
        if keep is None and not self._dimmed:
            return
        nodes, edges = self._nodes, self._edges
        old = self._dimmed
        flipped: list[EdgeItem] = []  # edges carry a flag, not an opacity (see EdgeItem.dimmed)
        if keep is not None and old:
            # from one element's paths to another's (a click on a neighbour, the mouse moving on): what
            # changes is worked out on the sets, and only those items are visited, not all 16,000
            dim_nodes, dim_edges = nodes.keys() - keep, edges.keys() - keep
            for nid in dim_nodes - old:
                nodes[nid].setOpacity(DIM_OPACITY)
            for eid in dim_edges - old:
                edge = edges[eid]
                if not edge.dimmed:
                    edge.dimmed = True
                    flipped.append(edge)
            for iid in old - dim_nodes - dim_edges:
                node = nodes.get(iid)
                if node is not None:
                    node.setOpacity(1.0)
                    continue
                was = edges.get(iid)
                if was is not None and was.dimmed:
                    was.dimmed = False
                    flipped.append(was)
            self._dimmed = dim_nodes | dim_edges
        else:
            # all of it dims or comes back: visited in the canvas's order, which Qt takes faster than
            # a set's for thousands of changes
            dimmed: set[str] = set()
            for iid, item in nodes.items():
                dim = keep is not None and iid not in keep
                if dim:
                    dimmed.add(iid)
                if dim != (iid in old):
                    item.setOpacity(DIM_OPACITY if dim else 1.0)
            for iid, edge in edges.items():
                dim = keep is not None and iid not in keep
                if dim:
                    dimmed.add(iid)
                if dim != edge.dimmed:
                    edge.dimmed = dim
                    flipped.append(edge)
            self._dimmed = dimmed
        # one repaint for many, each changed edge's for a few; far out the edge layer repaints them
        if len(flipped) > 100:
            self._scene.update()
        elif not self._edge_layer.far:
            for edge in flipped:
                edge.update()

    def dimmed_ids(self) -> set[str]:
        return set(self._dimmed)

    def node_item(self, nid: str) -> NodeItem | None:
        return self._nodes.get(nid)

    def edge_item(self, eid: str) -> EdgeItem | None:
        return self._edges.get(eid)

    # ------------------------------------------------------------------ zoom & pan

    def _visible_items_rect(self, only_selected: bool = False) -> QRectF:
        rect = QRectF()
        items: Iterable[QGraphicsItem]
        if only_selected:
            items = self._scene.selectedItems()
        else:
            # the nodes' bounds from plain floats: a rectangle mapped and united per node cost a fit of
            # 4,000 nodes (after each layout lands) ~20 ms
            left = top = math.inf
            right = bottom = -math.inf
            for node in self._nodes.values():
                if node.isVisible():
                    x, y = node.x(), node.y()
                    e = node.extent
                    left, top = min(left, x + e[0]), min(top, y + e[1])
                    right, bottom = max(right, x + e[2]), max(bottom, y + e[3])
            if left <= right:
                rect = QRectF(left, top, right - left, bottom - top)
            items = list(self._boxes.values())
        for item in items:
            if item.isVisible():
                r = item.mapRectToScene(item.boundingRect())
                rect = r if rect.isNull() else rect.united(r)
        return rect

    def _fit_rect(self, rect: QRectF) -> None:
        if rect.isNull():
            return
        self.fitInView(rect.adjusted(-30, -30, 30, 30), Qt.AspectRatioMode.KeepAspectRatio)
        s = self.transform().m11()
        if s > FIT_MAX_SCALE:
            self._scale_by(FIT_MAX_SCALE / s)
        elif s < MIN_SCALE:
            self._scale_by(MIN_SCALE / s)
        else:
            self._update_zoom_hint()
            self._sync_edge_lod()
            return
        # the zoom anchors under the mouse (for the wheel): a small graph fitted with the mouse over
        # the canvas, as after a double-click, ended up off to one side; centre it again
        self.centerOn(rect.center())

    def fit(self) -> None:
        self._fit_rect(self._visible_items_rect())

    def zoom_to_selection(self) -> None:
        rect = self._visible_items_rect(only_selected=True)
        if rect.isNull():
            self.fit()
        else:
            self._fit_rect(rect)

    def _scale_by(self, factor: float) -> None:
        current = self.transform().m11()
        target = min(MAX_SCALE, max(MIN_SCALE, current * factor))
        if current > 0 and target != current:
            self.scale(target / current, target / current)
        self._update_zoom_hint()
        self._sync_edge_lod()

    def _sync_edge_lod(self) -> None:
        """Zoomed so far out that edges are thin lines (no label, no arrowhead), draw them all in one
        pass (see EdgeLayer); closer, each edge item draws itself."""
        self._edge_layer.set_far(self.transform().m11() < ARROW_LOD)

    def edges_drawn_as_one(self) -> bool:
        """Whether the edges are drawn in one pass at this zoom (see EdgeLayer)."""
        return self._edge_layer.far

    def zoom(self) -> float:
        return float(self.transform().m11())

    def zoom_in(self) -> None:
        self._scale_by(1.25)

    def zoom_out(self) -> None:
        self._scale_by(0.8)

    def _update_scene_rect(self) -> None:
        rect = QRectF()
        if self._nodes:  # plain floats: a QRectF per node cost ~3 ms on 1,000 nodes
            xs, ys = [], []
            for item in self._nodes.values():
                p = item.pos()
                xs.append(p.x())
                ys.append(p.y())
            left, top = min(xs) - 100, min(ys) - 60
            rect = QRectF(left, top, max(xs) + 100 - left, max(ys) + 60 - top)
        for box in self._boxes.values():
            rect = rect.united(box.boundingRect())
        if rect.isNull():
            rect = QRectF(-200, -150, 400, 300)
        rect = rect.adjusted(-1500, -1500, 1500, 1500)
        if rect != self._scene_rect:
            self._scene_rect = rect
            self._scene.setSceneRect(rect)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta:
            self._scale_by(1.0015 ** delta)
            event.accept()
        else:
            super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_F and not ctrl or (ctrl and key == Qt.Key.Key_0):
            self.fit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_Z and not ctrl:
            self.zoom_to_selection()
        elif ctrl and key == Qt.Key.Key_A:
            self.select(nid for nid, it in self._nodes.items() if it.isVisible())
        elif key == Qt.Key.Key_Escape:
            back = self._walked_from()
            self.select([back] if back is not None else [])
        elif key == Qt.Key.Key_E and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            if not self.select_next_edge(forward=not mods & Qt.KeyboardModifier.ShiftModifier):
                super().keyPressEvent(event)
                return
        elif ctrl and key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            # Tab walks the nodes: Ctrl+Tab takes the keyboard on, as out of a text editor
            super().focusNextPrevChild(key == Qt.Key.Key_Tab and not mods & Qt.KeyboardModifier.ShiftModifier)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not ctrl:
            chosen = [nid for nid in self.selected_ids() if nid in self._nodes or nid in self._boxes]
            if len(chosen) != 1:
                super().keyPressEvent(event)
                return
            self.nodeDoubleClicked.emit(chosen[0])  # as a double-click: its node graph and details
        elif key == Qt.Key.Key_F10 and mods == Qt.KeyboardModifier.ShiftModifier and self._custom_menu():
            self.selectionMenuRequested.emit()  # Shift+F10: the platform may not make it a context menu
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        """Tab and Shift+Tab on the graph select the next or previous node in reading order (band by
        band, left to right in each: ``reading_order``), and bring it into view: the keyboard's way to
        a node (then Enter opens its node graph, the Menu key its actions). Ctrl+Tab moves the keyboard on, and F6 to the docks."""
        if not self.select_next_node(forward=next):
            return super().focusNextPrevChild(next)
        return True

    def select_next_node(self, *, forward: bool = True) -> bool:
        """Select the node after (or before) the selected one in reading order, and show it; False when
        no node is shown."""
        shown = self.tab_order()
        if not shown:
            return False
        current = [nid for nid in self.selected_ids() if nid in self._nodes]
        back = self._walked_from()
        if back is not None:
            current = [back]  # from an edge E selected: on from its node
        if current and current[-1] in shown:
            at = shown.index(current[-1]) + (1 if forward else -1)
            nid = shown[at % len(shown)]
        else:
            nid = shown[0] if forward else shown[-1]
        self.select([nid])
        self.ensureVisible(self._nodes[nid].sceneBoundingRect(), 40, 40)
        return True

    def tab_order(self) -> list[str]:
        """The shown nodes in the order Tab walks them (:func:`reading_order`)."""
        # the order is kept while nothing moved, appeared or went (each press of Tab on a 1,000-node mesh
        # computed it again: 15-25 ms)
        key = (tuple((nid, it.x(), it.y()) for nid, it in self._nodes.items() if it.isVisible()),
               tuple(bid for bid, b in self._boxes.items() if b.isVisible()))
        cached = self._reading_order
        if cached is not None and cached[0] == key:
            shown = cached[1]
        else:
            boxes: dict[str, QRectF | None] = {}
            shown = reading_order({nid: (self._rects_around(nid, it, boxes), it.x(), it.y())
                                   for nid, it in self._nodes.items() if it.isVisible()})
            self._reading_order = (key, shown)
        return shown

    def node_edges(self, nid: str) -> list[str]:
        """The shown edges of node ``nid`` in the order E walks them: those coming in, then those going out,
        each by where the node at its other end is (top to bottom, left to right)."""
        def order(item: EdgeItem) -> tuple[int, float, float, str]:
            incoming = item.edge.target == nid
            other = item.source if incoming else item.target
            return (0 if incoming else 1, round(other.y()), other.x(), item.edge_id)

        return [e.edge_id for e in sorted((e for e in self._edges_of.get(nid, ()) if e.isVisible()), key=order)]

    def _walked_from(self) -> str | None:
        """The node E walked the selected edge from, while that edge alone is selected and both are shown."""
        walk = self._edge_walk
        if walk is None:
            return None
        nid, eid = walk
        node, edge = self._nodes.get(nid), self._edges.get(eid)
        if node is None or edge is None or not node.isVisible() or not edge.isVisible() or \
                self.selected_ids() != [eid]:
            return None
        return nid

    def select_next_edge(self, *, forward: bool = True) -> bool:
        """With one node selected (or an edge this walked to from it), select the node's next (or previous)
        edge, in then out (:meth:`node_edges`), and show it: the keyboard's way to an edge, its details and
        its highlighted paths, as a click on it. False when there is no such node or it has no shown edge."""
        nid = self._walked_from()
        at: int | None = None
        if nid is not None:
            edges = self.node_edges(nid)
            at = edges.index(self._edge_walk[1]) if self._edge_walk and self._edge_walk[1] in edges else None
        else:
            chosen = self.selected_ids()
            if len(chosen) != 1 or chosen[0] not in self._nodes:
                return False
            nid = chosen[0]
            edges = self.node_edges(nid)
        if not edges:
            return False
        if at is None:
            eid = edges[0] if forward else edges[-1]
        else:
            eid = edges[(at + (1 if forward else -1)) % len(edges)]
        self._select([eid], (nid, eid))
        item = self._edges[eid]
        self.ensureVisible(QRectF(item.mapToScene(item.midpoint()), QSizeF(1, 1)), 60, 60)
        return True

    def _rects_around(self, nid: str, item: QGraphicsItem, boxes: dict[str, QRectF | None]) -> list[QRectF]:
        """The scene rectangles of the shown boxes around node ``nid`` (a namespace's, an app's),
        outermost first, then the node's own: what Tab's bands are cut from, so that a box is never
        cut in two. ``boxes`` keeps each box's rectangle (None: hidden) for the next node's call."""
        rects = [item.boundingRect().translated(item.pos())]  # a node is moved, never scaled or turned
        box = self._box_of.get(nid)
        for _ in range(10):
            if box is None:
                break
            if box.box_id not in boxes:
                boxes[box.box_id] = box.sceneBoundingRect() if box.isVisible() else None
            rect = boxes[box.box_id]
            if rect is not None:
                rects.append(rect)
            box = self._box_of.get(box.box_id)
        return rects[::-1]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.itemAt(event.position().toPoint())
        # inside a box is background too: a drag there selects or pans; a click selects the box
        on_background = hit is None or isinstance(hit, BoxItem)
        self._box_press = (hit, QPointF(event.position())) if isinstance(hit, BoxItem) and \
            event.button() == Qt.MouseButton.LeftButton and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier \
            else None
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton
            and event.modifiers() & Qt.KeyboardModifier.ShiftModifier and on_background
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and not on_background:
            self._dragging = True
            self._mouse_drag = True
            self._moved.clear()
        if self._box_press is not None:
            grabbed = self._title_under(self.mapToScene(event.position().toPoint()))
            if grabbed is not None:  # moves the box and all in it (a click still selects it)
                self._box_press = (grabbed, QPointF(event.position()))
                self._box_drag = (grabbed, self.mapToScene(event.position().toPoint()), {})
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
                event.accept()
                return
        super().mousePressEvent(event)

    def _title_under(self, scene_pos: QPointF) -> BoxItem | None:
        """The innermost visible box whose title strip is at ``scene_pos``."""
        found = [b for b in self._boxes.values() if b.isVisible() and b.title_strip().contains(scene_pos)]
        return max(found, key=self._box_depth) if found else None

    def _members(self, box: BoxItem) -> list[str]:
        """The ids of the nodes in ``box``, in the boxes inside it too."""
        out = []
        for nid in self._nodes:
            b = self._box_of.get(nid)
            while b is not None and b is not box:
                b = self._box_of.get(b.box_id)
            if b is box:
                out.append(nid)
        return out

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.itemAt(event.position().toPoint())
        if isinstance(hit, BoxItem) and event.button() == Qt.MouseButton.LeftButton:
            self.nodeDoubleClicked.emit(hit.box_id)  # an app box opens its app's node graph, as in Kiali
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() == Qt.MouseButton.NoButton and not self._dragging and self._pan_from is None \
                and not self._closed:
            self._hover_pos = event.position().toPoint()
            self._hover_timer.start()  # looked up when the mouse rests
        if self._box_drag is not None:
            box, last, origins = self._box_drag
            pressed = self._box_press
            if pressed is not None and (event.position() - pressed[1]).manhattanLength() < \
                    QApplication.startDragDistance():
                event.accept()  # not a drag yet: a click on the title selects the box
                return
            self._box_press = None
            here = self.mapToScene(event.position().toPoint())
            delta = here - last
            members = self._members(box)
            for nid in members:
                origins.setdefault(nid, self._nodes[nid].pos())
            self.set_positions({nid: (self._nodes[nid].x() + delta.x(), self._nodes[nid].y() + delta.y())
                                for nid in members})
            self._box_drag = (box, here, origins)
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        if self._mouse_drag and not event.buttons() & Qt.MouseButton.LeftButton:
            # the release never came (a popup took the mouse): the drag ended then
            self._dragging = self._mouse_drag = False
            self.finish_drag()
        super().mouseMoveEvent(event)
        if self._dragging:
            self._follow_drag()  # once for all the nodes this move dragged

    def _custom_menu(self) -> bool:
        return self.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu

    def _keyboard_menu(self, event: QEvent) -> bool:
        """A context menu event the keyboard caused becomes ``selectionMenuRequested`` (True: handled);
        Qt would pass it on as ``customContextMenuRequested`` at the viewport's centre."""
        if not isinstance(event, QContextMenuEvent) or event.reason() != QContextMenuEvent.Reason.Keyboard \
                or not self._custom_menu():
            return False
        event.accept()
        self.selectionMenuRequested.emit()
        return True

    def event(self, event: QEvent) -> bool:
        # the keyboard's context menu goes to the focus widget, the view (the viewport's focus proxy)
        if event.type() == QEvent.Type.ContextMenu and self._keyboard_menu(event):
            return True
        return super().event(event)

    def viewport_point_of(self, item_id: str) -> QPoint | None:
        """Where the node, box or edge ``item_id`` is drawn, in viewport coordinates, kept inside the
        viewport (a menu for it opens there even when it is scrolled out of view); None: not drawn."""
        scene_point: QPointF | None = None
        node = self._nodes.get(item_id)
        edge = self._edges.get(item_id)
        box = self._boxes.get(item_id)
        if node is not None and node.isVisible():
            scene_point = node.scenePos()
        elif box is not None and box.isVisible():
            scene_point = box.sceneBoundingRect().center()
        elif edge is not None and edge.isVisible():
            scene_point = edge.mapToScene(edge.midpoint())
        if scene_point is None:
            return None
        point = self.mapFromScene(scene_point)
        area = self.viewport().rect()
        return QPoint(min(max(point.x(), area.left()), area.right()), min(max(point.y(), area.top()), area.bottom()))

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ContextMenu and self._keyboard_menu(event):
            return True
        if event.type() == QEvent.Type.Leave and not self._closed:
            self._hover_pos = None
            self._hover_timer.start()
        return super().viewportEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._box_drag is not None:
            _box, _last, origins = self._box_drag
            self._box_drag = None
            self.viewport().unsetCursor()
            # what ended elsewhere than it began (a drag back to where it started moves nothing)
            self._moved = {nid for nid, was in origins.items()
                           if nid in self._nodes and (self._nodes[nid].pos() - was).manhattanLength() > 0.01}
            self.finish_drag()
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        event.accept()  # the canvas handled it (Qt leaves a rubber-band release unaccepted)
        if self._dragging:
            self._dragging = False
            self.finish_drag()
        self._mouse_drag = False
        pressed, self._box_press = self._box_press, None
        if pressed is not None and (event.position() - pressed[1]).manhattanLength() < \
                QApplication.startDragDistance():  # a click inside a box, not a drag: the box
            box = pressed[0]
            if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._scene.clearSelection()
            box.setSelected(True)

    @Slot(object, object, object)
    def _on_rubber_band(self, rect: Any, _from: Any, _to: Any) -> None:
        """A selection rectangle selects nodes and edges: the boxes it crosses (it always crosses the
        one it starts in) are let go when it ends."""
        if not rect.isNull():
            self._banding = True
        elif self._banding:
            self._banding = False
            for box in self._boxes.values():
                if box.isSelected():
                    box.setSelected(False)

    def _follow_drag(self) -> None:
        """Edges and boxes catch up with the nodes a drag moved."""
        self._follow_timer.stop()
        self._flush_edges()
        if self._dirty_boxes:
            for box in sorted(self._dirty_boxes, key=self._box_depth, reverse=True):  # inner boxes first
                box.refit()
            self._dirty_boxes.clear()

    def finish_drag(self) -> None:
        """What follows the end of a drag (called by the mouse release; public so a drag made by
        moving items programmatically goes through the same path)."""
        self._follow_drag()
        moved = {nid for nid in self._moved if nid in self._nodes}
        self._moved.clear()
        if not moved:
            return
        self._pinned |= moved
        self._chosen |= moved
        self._dragged |= moved
        self._left_out_layout = None  # arranged by hand since: nodes Hide shows again are placed around it
        self._awaiting -= moved
        self._update_scene_rect()
        self.nodesMoved.emit({nid: (self._nodes[nid].x(), self._nodes[nid].y()) for nid in sorted(moved)})
        self._schedule_save()

    def begin_drag(self) -> None:
        """Start tracking moved nodes as a user drag (see :meth:`finish_drag`)."""
        self._dragging = True
        self._moved.clear()

    def end_drag(self) -> None:
        self._dragging = False
        self.finish_drag()

    # ------------------------------------------------------------------ export

    def _export_rect(self) -> QRectF:
        return self._visible_items_rect().united(self._edges_rect())

    def _edges_rect(self) -> QRectF:
        rect = QRectF()
        for e in self._edges.values():
            if e.isVisible():
                rect = e.boundingRect() if rect.isNull() else rect.united(e.boundingRect())
        return rect

    def _with_animation_hidden(self, fn: Callable[[], None]) -> None:
        """Render for export: light colours, nodes painted as shapes and text (not cached pixmaps)."""
        theme = shapes.theme()
        if shapes.set_theme("light"):
            self._restyle()
        for item in self._nodes.values():
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self._edge_layer.set_far(False)  # every edge in full detail, as the export's zoom draws it
        try:
            fn()
        finally:
            for item in self._nodes.values():
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self._sync_edge_lod()
            if shapes.set_theme(theme):
                self._restyle()

    def export_png(self, path: str | Path) -> bool:
        """Write the PNG; False when the graph is so big that its names and badges were left out (the
        picture's longest side is bounded, so it is drawn below the zoom they are drawn at)."""
        rect = self._export_rect()
        def write() -> None:
            export.export_png(self._scene, path, rect if not rect.isNull() else None)

        self._with_animation_hidden(write)
        return export.png_scale(self._scene, rect if not rect.isNull() else None) >= LABEL_LOD

    def export_svg(self, path: str | Path) -> None:
        rect = self._export_rect()
        self._with_animation_hidden(lambda: export.export_svg(self._scene, path, rect if not rect.isNull() else None))

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        if (self._animation.running and not self._painting_still and self._still is not None
                and self._still_valid()):
            painter = QPainter(self.viewport())
            try:
                painter.drawPixmap(0, 0, self._still)
                if self._dot_clip is not None:
                    painter.setClipRegion(self._dot_clip)
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                painter.setTransform(self.viewportTransform())
                self._animation.paint_dots(painter, self._visible_scene_rect())
            finally:
                painter.end()  # ended whatever happens: Qt cannot paint again with a painter left open
            return
        PAINT.lod = self.transform().m11()  # one zoom for every item of this paint
        self._sync_edge_lod()  # the zoom may have been set without _scale_by (fitInView, setTransform)
        try:
            super().paintEvent(event)
        finally:
            PAINT.lod = None

    # ------------------------------------------------------------------ lifetime

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._options.animation and not self._closed:
            self._animation.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._animation.stop()
        self._still = None
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop everything this view runs: pending save (written now), animation timer, layout
        worker thread (cancelled and waited for). Safe to call twice."""
        if self._closed:
            return
        self._flush_pending_save()
        self._landing_timer.stop()
        self._closed = True
        self._hover_timer.stop()
        self._animation.stop()
        self._still = None
        self._layout_generation += 1
        thread = self._layout_thread
        if thread is not None:
            thread.quit()
            thread.wait()
            self._layout_thread = None
        self._layout_pending = None


__all__ = ["GraphView", "DisplayOptions", "EDGE_LABEL_MODES", "SHORTCUTS", "edge_label", "replace",
           "running_layout_threads"]
