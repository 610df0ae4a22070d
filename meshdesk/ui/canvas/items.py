"""Scene items: nodes, edges and boxes. Painting is cheap: node outlines are shared cached paths,
edges are one line plus a cached arrow polygon whose geometry is recomputed only when one of their
nodes moves, and labels/badges are skipped when zoomed far out."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from meshdesk.mesh.graph.health import percent_text
from meshdesk.mesh.graph.model import (
    DEGRADED,
    FAILURE,
    HEALTHY,
    NO_HEALTH_TEXT,
    NODE_BOX,
    Edge,
    Node,
    health_text,
)
from meshdesk.mesh.graph.trafficmap import EDGE_ERROR_RATES
from meshdesk.mesh.request import GraphRequest
from meshdesk.store.layouts import MAX_COORDINATE
from meshdesk.ui.canvas import shapes

if TYPE_CHECKING:
    from meshdesk.ui.canvas.view import DisplayOptions

Z_BOX = -10.0
Z_EDGE = 0.0
Z_ANIMATION = 5.0
Z_NODE = 10.0

LABEL_LOD = 0.45  # below this zoom, skip text and badges
# below this zoom an edge's arrowhead (8 long) is under 1.6 pixels, a dot at the line's end: not drawn.
# The 3,000 of a fitted 1,000-node mesh took a quarter of its paint, and each hover repaints them all
ARROW_LOD = 0.2
DIM_OPACITY = 0.25  # the opacity of what is off the paths of the selected or hovered element
_BADGE_STEP = 14.0  # the VS / DR / CB badges: 13 wide, side by side
LOOP_R = 9.0  # radius of a self-call loop
LABEL_SHIFT = 0.02  # an edge's label moves along it by this share of its length per unit of its offset


class _Paint:
    """The zoom of the paint in progress, set once per paint by the view (None: ask the painter,
    as when a scene is rendered for export)."""

    lod: float | None = None


PAINT = _Paint()


def _lod(option: QStyleOptionGraphicsItem, painter: QPainter) -> float:
    lod = PAINT.lod
    if lod is not None:
        return lod
    return float(option.levelOfDetailFromTransform(painter.worldTransform()))


# ---------------------------------------------------------------------------------------------
# label formats (also used by panels/tests)


def _per_second(v: float, unit: str) -> str:
    if v <= 0:
        return f"0{unit}"
    if v < 0.01:
        return f"<0.01{unit}"
    if round(v, 2) < 10:  # by the rounded value: 9.9999 reads "10.0", as 10.0001 does, not "10.00"
        return f"{v:.2f}{unit}"
    return f"{v:.1f}{unit}"


def fmt_rps(v: float) -> str:
    """Requests per second."""
    return _per_second(v, "rps")


def fmt_mps(v: float) -> str:
    """gRPC messages per second (what gRPC edges carry when the graph asks for message rates)."""
    return _per_second(v, "msg/s")


GRPC_MESSAGE_RATES = frozenset({"sent", "received", "total"})


def grpc_messages(request: GraphRequest) -> bool:
    """Whether the graph's gRPC edges carry messages per second rather than requests (Kiali's gRPC
    "sent", "received" or "total" messages traffic option)."""
    return request.rateGrpc in GRPC_MESSAGE_RATES


def fmt_edge_rate(value: float, protocol: str, messages: bool = False) -> str:
    """A rate in the unit an edge of ``protocol`` carries: bytes per second for TCP, messages per second
    for gRPC when ``messages`` (see :func:`grpc_messages`), else requests per second."""
    if protocol == "tcp":
        return fmt_bytes_rate(value)
    if messages and protocol == "grpc":
        return fmt_mps(value)
    return fmt_rps(value)


LABEL_MAX = 40  # characters of a node label; longer names keep both ends (the tooltip has them whole)


def elide(text: str, limit: int = LABEL_MAX) -> str:
    """``text``, or its start and end around "…" when longer than ``limit``: a 250-character operation or
    host name would otherwise make one node wider than the screen."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def box_pen(kind: str, colour: QColor) -> QPen:
    """A box's outline: a cluster's heavy, a namespace's plain, an app's dashed."""
    pen = QPen(colour, 2.2 if kind == "cluster" else 1.2)
    if kind not in ("namespace", "cluster"):
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


fmt_percent = percent_text  # the canvas, panels and health reasons write percentages one way


def error_share(edge: Edge) -> float:
    """The share (0..1) of an edge's requests that failed, as Kiali counts it for ``httpPercentErr``
    and ``grpcPercentErr``: HTTP 4xx, 5xx and no response; gRPC error statuses and no response."""
    total = edge.rates.get(edge.protocol, 0.0)
    if total <= 0:
        return 0.0
    return sum(edge.rates.get(k, 0.0) for k in EDGE_ERROR_RATES.get(edge.protocol, ())) / total


def fmt_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f}s"
    if v >= 10:
        return f"{v:.0f}ms"
    return f"{v:.1f}ms"


def fmt_bytes_rate(bytes_per_second: float) -> str:
    """Bytes per second, as Kiali writes TCP rates and throughput (bytes, with kilobytes of 1,024 from
    1 KB/s up, two decimals at most): "512B/s", "1.63KB/s", "2.5MB/s"."""
    v = bytes_per_second
    if 0.0 < v < 0.005:
        return "<0.01B/s"  # traffic there is, too little to write (as rates write "<0.01rps")
    if v < 1023.5:  # what would round to 1024B/s is 1KB/s
        return f"{_trim(f'{v:.2f}') if v < 1.0 else f'{v:.0f}'}B/s"
    text = ""
    for unit in ("KB/s", "MB/s", "GB/s"):  # the first unit in which it reads below 1024 once rounded
        v /= 1024.0
        text = f"{_trim(f'{v:.2f}')}{unit}"
        if round(v, 2) < 1024.0:
            break
    return text


def _trim(fixed: str) -> str:
    """A fixed-point number without trailing zeros ("1.50" -> "1.5", "2.00" -> "2")."""
    return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed


def edge_health(edge: Edge) -> str | None:
    """The edge's own health when the graph carries it; otherwise a simple error-share verdict
    (any 5xx/gRPC error: degraded; 10% or more: failure)."""
    if edge.health is not None and edge.health.status != "NA":
        return edge.health.status
    if edge.protocol == "tcp" or edge.is_idle:
        return None
    total = edge.rate
    if total <= 0:
        return None
    errors = edge.rates.get("http5xx", 0.0) + edge.rates.get("grpcErr", 0.0)
    share = errors / total
    if share >= 0.10:
        return FAILURE
    if share > 0:
        return DEGRADED
    return HEALTHY


def node_tooltip(node: Node) -> str:
    kind = {"app": "App", "workload": "Workload", "service": "Service", "aggregate": "Operation",
            "unknown": "Unknown"}.get(node.node_type, node.node_type)
    if node.node_type == "service" and node.is_service_entry is not None:
        kind = "Service entry"
    if node.extra.get("isWaypoint"):
        kind = "Ambient waypoint"
    lines = [f"{kind}: {node.label}"]
    if node.namespace:
        lines.append(f"Namespace: {node.namespace}")
    extension = node.extra.get("isExtension")
    if isinstance(extension, dict) and extension.get("name"):
        lines.append(f"Extension: {extension['name']}")
    if node.health is not None and node.health.status != "NA":
        lines.append(f"Health: {node.health.status}")
        lines.extend(node.health.reasons[:3])
    if node.extra.get("hasCB"):
        lines.append("Circuit breaker (DestinationRule connection pool or outlier detection)")
    if node.has_missing_sidecar:
        lines.append("Missing sidecar")
    if node.is_idle:
        lines.append("Idle (no traffic in the window)")
    if node.extra.get("validation") in ("error", "warning"):
        lines.append(f"Istio config: {node.extra['validation']}s found (see its details and the Istio config view)")
    return "\n".join(lines)


def node_named(node: Node) -> str:
    """A node as a screen reader says it: its kind, then namespace/name ("workload shop/reviews-v1")."""
    if node.node_type == NODE_BOX:
        return f"{node.box} box {node.label}"
    kind = {"aggregate": "operation"}.get(node.node_type, node.node_type)
    if node.node_type == "service" and node.is_service_entry is not None:
        kind = "service entry"
    if node.extra.get("isWaypoint"):
        kind = "ambient waypoint"
    return f"{kind} {node.namespace}/{node.label}" if node.namespace else f"{kind} {node.label}"


def _health_said(status: str | None) -> str:
    said = health_text(status)
    return "no health" if said == NO_HEALTH_TEXT else said.lower()


def node_spoken(node: Node, edges_in: int, edges_out: int) -> str:
    """What assistive tech reads of a selected node: "workload shop/reviews-v1, healthy, 3 edges in, 1 out"."""
    if node.node_type == NODE_BOX:
        return node_named(node)
    status = node.health.status if node.health is not None else None
    return f"{node_named(node)}, {_health_said(status)}, {edges_in} edge{'s' if edges_in != 1 else ''} in, {edges_out} out"


def edge_spoken(edge: Edge, source: Node, target: Node) -> str:
    """What assistive tech reads of a selected edge: "http edge from service shop/reviews to workload
    shop/reviews-v1, healthy"."""
    two_way = two_way_return(edge) is not None
    link = "between" if two_way else "from"
    join = "and" if two_way else "to"
    return f"{edge.protocol} edge {link} {node_named(source)} {join} {node_named(target)}, {_health_said(edge_health(edge))}"


def two_way_return(edge: Edge) -> Edge | None:
    """The return edge folded into an edge to an ambient waypoint (the waypoint's traffic back to the
    edge's source), which makes it one two-way edge; None for any other edge."""
    if not edge.extra:
        return None
    info = edge.extra.get("waypoint")
    back = info.get("fromEdge") if isinstance(info, dict) else None
    return back if isinstance(back, Edge) else None


def edge_tooltip(edge: Edge, status: str | None, messages: bool = False) -> str:
    """``messages``: the graph's gRPC edges carry message rates (see :func:`grpc_messages`)."""
    back = two_way_return(edge)
    if back is not None:
        p = edge.protocol
        lines = [f"Two-way {p.upper()} with an ambient waypoint",
                 f"To the waypoint: {fmt_edge_rate(edge.rate, p, messages)}",
                 f"From the waypoint: {fmt_edge_rate(back.rate, p, messages)}"]
        if edge.is_mtls is not None:
            lines.append(f"mTLS: {edge.is_mtls:.0f}%")
        return "\n".join(lines)
    if edge.protocol == "tcp":
        lines = [f"TCP: {fmt_bytes_rate(edge.rate)}"]
    elif messages and edge.protocol == "grpc":  # message counters carry no response code or duration
        lines = [f"gRPC messages: {fmt_mps(edge.rate)}"]
    else:
        lines = [f"{edge.protocol.upper()}: {fmt_rps(edge.rate)}"]
        share = error_share(edge)
        if share > 0:
            lines.append(f"Errors: {fmt_percent(100.0 * share)}")
        if edge.response_time is not None:
            lines.append(f"Response time: {fmt_ms(edge.response_time)}")
    if edge.is_mtls is not None:
        lines.append(f"mTLS: {edge.is_mtls:.0f}%")
    if status in (DEGRADED, FAILURE):
        lines.append(f"Health: {status}")
    if edge.is_idle:
        lines.append("Idle")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# nodes


_POSITION_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_POSITION_HAS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged


class NodeItem(QGraphicsItem):
    """One graph node: its shape, health border, label and badges. Movable and selectable; tells
    its ``on_moved`` callback when its position changes so edges follow live."""

    def __init__(self, node: Node, options: DisplayOptions, on_moved: Callable[[NodeItem], None],
                 outside: bool = False) -> None:
        super().__init__()
        self.node_id = node.id
        self.node = node
        self._on_moved = on_moved
        self.highlighted = False
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setZValue(Z_NODE)
        self.setAcceptHoverEvents(False)
        # painted once into a pixmap and blitted after that (moving does not repaint it)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._options = options
        self._lines: list[str] = []
        self._rect = QRectF()
        self.extent = (0.0, 0.0, 0.0, 0.0)  # the bounding rect as left, top, right, bottom (plain floats)
        self._text_w = 0.0
        self._look: tuple[Any, ...] = ()
        self._size: tuple[Any, ...] = ()
        self.apply(node, options, outside)

    # -- data

    def _look_of(self, node: Node, options: DisplayOptions, outside: bool) -> tuple[Any, ...]:
        status = node.health.status if node.health is not None else None
        return (
            node.label, node.namespace if outside else "", shapes.node_shape_kind(node), status, node.is_root,
            node.is_idle, node.is_dead, node.has_virtual_service and options.show_virtual_services,
            node.has_destination_rule and options.show_virtual_services,
            node.has_missing_sidecar and options.show_missing_sidecars, node.is_gateway,
            node.extra.get("validation") if options.show_virtual_services else None,
            bool(node.extra.get("isWaypoint")),
            bool(node.extra.get("hasCB")) and options.show_circuit_breakers,
            bool(node.extra.get("isExtension")),
        )

    def apply(self, node: Node, options: DisplayOptions, outside: bool) -> bool:
        """Take the node's new facts; repaint only when something visible changed. Returns whether
        the item's size may have changed."""
        self.node = node
        self._options = options
        look = self._look_of(node, options, outside)
        if look == self._look:
            return False
        self._look = look
        (_label, ns, self._kind, self._status, self._root, self._idle, self._dead, self._vs, self._dr,
         self._missing_sc, self._gateway, self._validation, self._waypoint, self._cb, self._ext) = look
        # the label and the row of badges over the shape's right edge decide the item's size
        size = (look[:2], sum(map(bool, (self._ext, self._vs, self._dr, self._cb))))
        size_changed = size != self._size
        self._size = size
        if size_changed:
            self.prepareGeometryChange()
            self._lines = [elide(node.label or node.id[:8])]
            if ns:
                self._lines.append(f"({elide(ns)})")
            fm = QFontMetricsF(shapes.label_font())
            self._text_w = max(fm.horizontalAdvance(line) for line in self._lines)
            line_h = fm.height()
            # wide enough for the label and for the row of badges (drawn from the shape's right edge):
            # Qt clips what an item paints outside its bounding rect
            badges_right = shapes.NODE_W / 2 - 4 + _BADGE_STEP * size[1]
            w = max(shapes.NODE_W + 24, self._text_w + 4, 2 * badges_right + 2)
            top = -shapes.NODE_H / 2 - 8
            bottom = shapes.NODE_H / 2 + 4 + line_h * len(self._lines)
            self._rect = QRectF(-w / 2, top, w, bottom - top)
            self.extent = (-w / 2, top, w / 2, bottom)
        self.update()
        return size_changed

    def drawn_rects(self, labels: bool = True) -> tuple[QRectF, ...]:
        """Where the node draws (local coordinates): its shape with the rings and marks around it,
        and with ``labels`` (zoomed in far enough for them) the row of badges over its right edge
        and its name under it. Tighter than the bounding rect, which spans the widest of them."""
        hw, hh = shapes.NODE_W / 2, shapes.NODE_H / 2
        out = [QRectF(-hw - 14, -hh - 5, 2 * hw + 22, 2 * hh + 10)]
        if not labels:
            return tuple(out)
        if self._size[1]:
            out.append(QRectF(hw - 5, -hh - 7, _BADGE_STEP * self._size[1] + 2, 11))
        text_h = self._rect.bottom() - (hh + 4)
        if self._lines and text_h > 0:
            out.append(QRectF(-self._text_w / 2 - 2, hh + 4, self._text_w + 4, text_h))
        return tuple(out)

    @property
    def shape_kind(self) -> str:
        return str(self._kind)

    @property
    def lines(self) -> list[str]:
        """The text under the shape."""
        return list(self._lines)

    @property
    def badges(self) -> list[str]:
        """Badges drawn on the node (root, extension, vs, dr, cb, missing-sidecar, config-*, waypoint)."""
        out = []
        if self._root:
            out.append("root")
        if self._ext:
            out.append("extension")
        if self._vs:
            out.append("vs")
        if self._dr:
            out.append("dr")
        if self._cb:
            out.append("cb")
        if self._missing_sc:
            out.append("missing-sidecar")
        if self._validation in ("error", "warning"):
            out.append(f"config-{self._validation}")
        if self._waypoint:
            out.append("waypoint")
        return out

    @property
    def border_status(self) -> str | None:
        return self._status

    def tooltip(self) -> str:
        return node_tooltip(self.node)

    def layout_size(self) -> tuple[float, float]:
        return (self._rect.width(), self._rect.height())

    # -- Qt

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return shapes.shape_path(self._kind)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        # Qt calls this for every change of every node (a selection dims 4,000 nodes: two calls each), so
        # it does the least it can: the kinds compared with constants, not looked up on the enum each
        # time, and any other change's value given back as QGraphicsItem's own itemChange does, without a
        # second call across into Qt
        if change == _POSITION_HAS_CHANGED:
            self._on_moved(self)
        elif change == _POSITION_CHANGE:
            # a node stays on the plane a layouts file can hold: placed (or dragged) past its edge, it
            # could not be saved, nor could any later arrangement of the view
            x, y = value.x(), value.y()
            if abs(x) > MAX_COORDINATE or abs(y) > MAX_COORDINATE:
                return QPointF(min(MAX_COORDINATE, max(-MAX_COORDINATE, x)),
                               min(MAX_COORDINATE, max(-MAX_COORDINATE, y)))
        return value

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.scene()
        view = scene.views()[0] if scene is not None and scene.views() else None
        if view is not None and hasattr(view, "nodeDoubleClicked"):
            view.nodeDoubleClicked.emit(self.node_id)
        super().mouseDoubleClickEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        path = shapes.shape_path(self._kind)
        border = shapes.health_colour(self._status)
        width = 2.5 if self._status in (DEGRADED, FAILURE) else 1.5
        if self._idle or self._dead:
            border = shapes.C_IDLE
        if self.highlighted:
            painter.setPen(QPen(shapes.C_FIND, 9))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        if self.isSelected():
            painter.setPen(QPen(shapes.C_SELECTED, width + 6))  # a clear ring outside the health border
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        pen = shapes.idle_pen(border, width) if (self._idle or self._kind == shapes.SHAPE_UNKNOWN) else QPen(border, width)
        painter.setPen(pen)
        painter.setBrush(QBrush(shapes.C_NODE_FILL))
        painter.drawPath(path)
        if self._gateway:
            painter.setPen(QPen(border, 1))
            painter.drawPath(shapes.shape_path(self._kind, shapes.NODE_W - 10, shapes.NODE_H - 10))
        if _lod(option, painter) < LABEL_LOD:
            return
        hw, hh = shapes.NODE_W / 2, shapes.NODE_H / 2
        if self._root:
            shapes.draw_root_marker(painter, QPointF(-hw - 9, 0))
        x = hw - 4
        # a Kiali extension's node carries Kiali's "E" badge, first in the row
        for shown, text, colour in ((self._ext, "E", shapes.C_EXTENSION),
                                    (self._vs, "VS", shapes.C_BADGE), (self._dr, "DR", shapes.C_BADGE),
                                    (self._cb, "CB", shapes.C_CIRCUIT_BREAKER)):
            if shown:
                shapes.draw_text_badge(painter, QRectF(x, -hh - 6, _BADGE_STEP - 1, 9), text, colour)
                x += _BADGE_STEP
        if self._missing_sc:
            shapes.draw_missing_sidecar(painter, QPointF(-hw + 2, -hh - 1))
        if self._validation in ("error", "warning"):
            colour = shapes.C_FAILURE if self._validation == "error" else shapes.C_DEGRADED
            shapes.draw_text_badge(painter, QRectF(hw - 4, hh - 7, 11, 9), "!", colour)
        if self._waypoint:
            shapes.draw_waypoint(painter, QPointF(-hw + 3, hh - 2))
        painter.setFont(shapes.label_font())
        painter.setPen(QPen(shapes.C_TEXT_DIM if self._idle else shapes.C_TEXT))
        fm_h = QFontMetricsF(shapes.label_font()).height()
        y = hh + 4
        for line in self._lines:
            painter.drawText(QRectF(-self._rect.width() / 2, y, self._rect.width(), fm_h),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, line)
            y += fm_h


# ---------------------------------------------------------------------------------------------
# edges


_label_widths: dict[str, float] = {}
_pens: dict[tuple[int, bool], QPen] = {}
_brushes: dict[int, QBrush] = {}


def label_width(text: str) -> float:
    """Width of an edge label (cached: rate labels repeat a lot)."""
    w = _label_widths.get(text)
    if w is None:
        if len(_label_widths) > 20000:
            _label_widths.clear()
        w = _label_widths[text] = QFontMetricsF(shapes.edge_font()).horizontalAdvance(text)
    return w


def _pen(colour: QColor, idle: bool) -> QPen:
    key = (colour.rgba(), idle)
    pen = _pens.get(key)
    if pen is None:
        pen = _pens[key] = shapes.idle_pen(colour, 1.2) if idle else QPen(colour, 1.5)
    return pen


def _brush(colour: QColor) -> QBrush:
    brush = _brushes.get(colour.rgba())
    if brush is None:
        brush = _brushes[colour.rgba()] = QBrush(colour)
    return brush




class EdgeItem(QGraphicsItem):
    """A directed edge drawn as a straight line between the two node outlines with an arrowhead,
    an optional label at its middle and an mTLS lock. Not movable; selectable.

    Geometry is kept as plain floats; the Qt objects painting needs (line, arrow) are built on the
    first paint after a change, so moving a node costs a little arithmetic per edge."""

    ARROW = 8.0
    # Class-level defaults, set on an instance only for a two-way edge: two more attributes on every
    # edge grow each instance's dict past its 21 slots, which made a 3,000-edge refresh ~1.5 ms slower
    # (benchmarks/canvas.py).
    two_way = False  # an edge to an ambient waypoint with the waypoint's return traffic folded in
    # off the paths of the selected or hovered element: painted at DIM_OPACITY. Not the item's
    # opacity: setOpacity on each of a big mesh's edges (a hover dims nearly all) was a fifth of the
    # hover's time; the view flips this and repaints once (see GraphView._apply_focus)
    dimmed = False
    grpc_messages = False  # a gRPC edge of a graph that asked for message rates (set by the view)
    _arrow_back: QPolygonF | None = None  # the arrowhead at the source end of a two-way edge
    # where the label and lock are drawn (x0, y0, x1, y1), by the scene over every node (see
    # :func:`draw_edge_labels`); None: neither
    label_box: tuple[float, float, float, float] | None = None

    def __init__(self, edge: Edge, source: NodeItem, target: NodeItem) -> None:
        super().__init__()
        self.edge_id = edge.id
        self.edge = edge
        self.source = source
        self.target = target
        self.offset = 0.0  # perpendicular shift so two edges between the same nodes do not overlap
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(Z_EDGE)
        self.label = ""
        self.highlighted = False
        self._lock = False
        self._colour = shapes.C_HEALTHY
        self._pen = _pen(self._colour, False)
        self._idle = False
        self._label_half = 0.0  # reserved half width for the label (changes in steps)
        self._label_w = 0.0
        self._g = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # x1, y1, x2, y2, ux, uy
        self._degenerate = True
        self._qline: QLineF | None = None
        self._arrow: QPolygonF | None = None
        self._rect = QRectF()
        self._shape: QPainterPath | None = None
        self._look: tuple[Any, ...] = ()
        self._status: str | None = None

    def apply(self, edge: Edge, label: str, lock: bool, label_shown: bool = True) -> bool:
        """Take new rates/health/label; repaint only when the look changed. Returns True when the
        bounds must be recomputed (call :meth:`update_geometry`). ``label_shown`` False says the
        view is zoomed out past the labels: a change of the label text alone then repaints nothing
        (zooming in repaints the whole view, with the current text)."""
        self.edge = edge
        status = edge_health(edge)
        two_way = bool(edge.extra) and two_way_return(edge) is not None
        look = (label, lock, status, edge.protocol, edge.is_idle, two_way)
        old = self._look
        if look == old:
            return False
        label_only = not label_shown and old and old[1:] == look[1:]
        self._look = look
        self._status = status
        self.label = label
        if two_way is not self.two_way:
            self.two_way = two_way
            self._arrow_back = None
        self._idle = edge.is_idle
        self._colour = shapes.edge_colour(status, edge.protocol, edge.is_idle)
        self._pen = _pen(self._colour, edge.is_idle)
        self._label_w = label_width(label) if label else 0.0
        need = (math.ceil((self._label_w / 2 + 4) / 12) * 12) if (label or lock) else 0.0
        if lock and need < 12:
            need = 12.0
        grow = need != self._label_half or lock != self._lock
        self._lock = lock
        if grow:
            self._label_half = need
            return True
        if not label_only:
            self.update()
        return False

    def _paint_loop(self, painter: QPainter) -> None:
        x, y = self._g[0], self._g[1]
        top = y - shapes.NODE_H / 2
        circle = QRectF(x + 2, top - 2 * LOOP_R + 4, 2 * LOOP_R, 2 * LOOP_R)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.isSelected():
            painter.setPen(QPen(shapes.C_SELECTED, 4))
            painter.drawEllipse(circle)
        painter.setPen(self._pen)
        painter.drawEllipse(circle)
        tip = QPointF(x + 4, top + 1)
        painter.setBrush(_brush(self._colour))
        painter.drawPolygon(QPolygonF([tip, QPointF(tip.x() - 4.5, tip.y() - 6), QPointF(tip.x() + 3, tip.y() - 7)]))

    def tooltip(self) -> str:
        return edge_tooltip(self.edge, self._status, self.grpc_messages)

    def forget_look(self) -> None:
        """Make the next :meth:`apply` restyle (after a theme change)."""
        self._look = ()

    @property
    def colour(self) -> QColor:
        return self._colour

    @property
    def has_lock(self) -> bool:
        return self._lock

    @property
    def p1(self) -> QPointF:
        return QPointF(self._g[0], self._g[1])

    @property
    def p2(self) -> QPointF:
        return QPointF(self._g[2], self._g[3])

    def ends(self) -> tuple[float, float, float, float]:
        g = self._g
        return g[0], g[1], g[2], g[3]

    def update_geometry(self, ends: tuple[float, float, float, float] | None = None) -> None:
        """Recompute the line and bounds from the nodes' current positions; ``ends``: those positions
        (the source's x and y, the target's), from a caller that read each node's once for all its
        edges (a layout landing on 4,000 nodes and 12,000 edges)."""
        if ends is None:
            a = self.source.pos()
            b = self.target.pos()
            ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
        else:
            ax, ay, bx, by = ends
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        self.prepareGeometryChange()
        self._shape = None
        self._qline = None
        self._arrow = None
        if self.two_way:
            self._arrow_back = None
        if self.source is self.target:  # a self call: a loop above the node's top right
            self._g = (ax, ay, ax, ay, 1.0, 0.0)
            self._degenerate = True
            self._rect = QRectF(ax - 2, ay - shapes.NODE_H / 2 - 2 * LOOP_R - 10, 2 * LOOP_R + 20, 2 * LOOP_R + 14)
            self.label_box = None  # a loop has no label drawn
            return
        if length < 1e-3:
            self._g = (ax, ay, ax, ay, 1.0, 0.0)
            self._degenerate = True
            self._rect = QRectF(ax - 1, ay - 1, 2, 2)
            self.label_box = None
            return
        self._degenerate = False
        ux, uy = dx / length, dy / length
        off = self.offset
        r = shapes.NODE_RADIUS
        if length <= 2 * r + 2:
            r = max(length / 2 - 1, 0)
        x1, y1 = ax + ux * r - uy * off, ay + uy * r + ux * off
        x2, y2 = bx - ux * (r + 1) - uy * off, by - uy * (r + 1) + ux * off
        self._g = (x1, y1, x2, y2, ux, uy)
        left, right = (x1, x2) if x1 < x2 else (x2, x1)
        top, bottom = (y1, y2) if y1 < y2 else (y2, y1)
        left -= 6
        right += 6
        top -= 6
        bottom += 6
        half = self._label_half
        # the label at the middle; one of two or more edges between the same nodes a little before or
        # after it (by its offset, which differs for each of them): side by side, 9 apart, their labels
        # covered each other whole where the edges run up and down
        t = min(0.7, max(0.3, 0.5 + LABEL_SHIFT * off))
        mx, my = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        if half:
            left = min(left, mx - half)
            right = max(right, mx + half)
            top = min(top, my - 14)
            bottom = max(bottom, my + 12)
        self._rect = QRectF(left, top, right - left, bottom - top)
        # the label's room, which the edge's bounds take in too: a change to the edge repaints its label
        self.label_box = (mx - half, my - 14, mx + half, my + 12) if half else None

    def midpoint(self) -> QPointF:
        g = self._g
        return QPointF((g[0] + g[2]) / 2, (g[1] + g[3]) / 2)

    def line(self) -> QLineF:
        if self._qline is None:
            g = self._g
            self._qline = QLineF(g[0], g[1], g[2], g[3])
        return self._qline

    def _arrowhead(self, x: float, y: float, ux: float, uy: float) -> QPolygonF:
        """An arrowhead with its tip at (x, y), pointing along the unit vector (ux, uy)."""
        s = self.ARROW
        bx, by = x - ux * s, y - uy * s
        w = s * 0.45
        return QPolygonF([QPointF(x, y), QPointF(bx - uy * w, by + ux * w), QPointF(bx + uy * w, by - ux * w)])

    def _arrow_polygon(self) -> QPolygonF:
        if self._arrow is None:
            g = self._g
            self._arrow = self._arrowhead(g[2], g[3], g[4], g[5])
        return self._arrow

    def _arrow_back_polygon(self) -> QPolygonF:
        """The arrowhead at the source end of a two-way edge."""
        if self._arrow_back is None:
            g = self._g
            self._arrow_back = self._arrowhead(g[0], g[1], -g[4], -g[5])
        return self._arrow_back

    # -- Qt

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        if self._shape is None:
            g = self._g
            path = QPainterPath(QPointF(g[0], g[1]))
            path.lineTo(g[2], g[3])
            stroker = QPainterPathStroker()
            stroker.setWidth(8)
            self._shape = stroker.createStroke(path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.dimmed:
            painter.setOpacity(painter.opacity() * DIM_OPACITY)  # the scene sets each item's afresh
        if self._degenerate:
            if self.source is self.target:
                self._paint_loop(painter)
            return
        line = self.line()
        if self.highlighted:
            painter.setPen(QPen(shapes.C_FIND, 7))
            painter.drawLine(line)
        if self.isSelected():
            painter.setPen(QPen(shapes.C_SELECTED, 4))
            painter.drawLine(line)
        painter.setPen(self._pen)
        painter.drawLine(line)
        if _lod(option, painter) < ARROW_LOD:
            return
        painter.setBrush(_brush(self._colour))
        painter.drawPolygon(self._arrow_polygon())
        if self.two_way:
            painter.drawPolygon(self._arrow_back_polygon())

    def paint_label(self, painter: QPainter) -> None:
        """The label and the mTLS lock at the edge's middle (see :func:`draw_edge_labels`)."""
        if self._degenerate or not (self.label or self._lock):
            return
        box = self.label_box
        if box is None:
            return
        mid = QPointF((box[0] + box[2]) / 2, box[1] + 14)  # see update_geometry
        painter.setPen(Qt.PenStyle.NoPen)
        if self._lock:
            shapes.draw_lock(painter, QPointF(mid.x(), mid.y() - (8 if self.label else 0)))
        if self.label:
            rect = QRectF(mid.x() - self._label_w / 2 - 2, mid.y() - 1, self._label_w + 4, 11)
            painter.setBrush(_brush(shapes.C_LABEL_BG))
            painter.drawRect(rect)
            painter.setFont(shapes.edge_font())
            painter.setPen(shapes.C_TEXT)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)


class EdgeLayer(QGraphicsItem):
    """Every edge of the scene drawn in one pass, for zooms below ``ARROW_LOD`` (far zoom). There an
    edge is a thin line with no label or arrowhead, and a fitted 12,000-edge mesh spent most of each
    repaint in Qt asking every edge item for its bounds (twice) and its paint (once), each a call into
    Python. At far zoom (:meth:`set_far`) the edge items are flagged as drawing nothing, so Qt skips
    them when painting, and this item draws them all. The edge items stay in the scene, so hovering,
    clicking, tooltips, context menus and the selection rectangle find them at every zoom; exports
    switch back to the items (full detail). Never hit itself: its shape is empty.

    What it draws is kept as two pictures of the viewport: every edge's line at full strength (drawn
    again when the zoom, the scroll, positions, colours or Hide change: :meth:`invalidate`), and that
    picture, faded when a selected or hovered element dims the rest, with the Find and selection
    halos and the bright paths drawn over it; with nothing dimmed, the halos drawn under it (drawn
    again when those change:
    ``invalidate(lines=False)``, which costs the lines of those edges only, not all 12,000)."""

    # the plane a node can be placed on (see MAX_COORDINATE), with room for the edges' halos
    _FAR_RECT = QRectF(-MAX_COORDINATE - 100, -MAX_COORDINATE - 100, 2 * MAX_COORDINATE + 200,
                       2 * MAX_COORDINATE + 200)

    def __init__(self, edges: Mapping[str, EdgeItem]) -> None:
        super().__init__()
        self.edges = edges
        self.far = False
        self.setZValue(Z_EDGE)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setVisible(False)
        # every visible edge's line by pen; None: gather again at the next paint
        # (pen, lines, each line's bounds as left, top, right, bottom)
        self._lines: list[tuple[QPen, list[QLineF], list[tuple[float, float, float, float]]]] | None = None
        self._extent = (0.0, 0.0, 0.0, 0.0)  # the bounds of every line
        self._where: dict[str, tuple[int, int]] = {}  # edge id -> its line's group and place there
        # what goes over the faded lines: whether they are faded, then (pen, opacity, antialiased, lines)
        # in drawing order, and the self-calls (loops, drawn by their items' own code)
        self._overlay: tuple[bool, list[tuple[QPen, float, bool, list[QLineF]]], list[EdgeItem]] | None = None
        self._lines_gen = 0
        self._overlay_gen = 0
        self._all: tuple[tuple[Any, ...], QImage] | None = None  # every line, at full strength
        self._shown: tuple[tuple[Any, ...], QImage] | None = None  # what the viewport shows

    def set_far(self, far: bool) -> None:
        """Draw the edges here (``far``) or let each edge item draw itself."""
        if far == self.far:
            return
        self.far = far
        self.prepareGeometryChange()
        no_contents = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
        for edge in self.edges.values():
            edge.setFlag(no_contents, far)
            if not far:
                edge.update()
        self._forget(True)
        if not far:
            self._all = self._shown = None  # the memory of two viewport-sized pictures
        self.setVisible(far)

    def adopt(self, edge: EdgeItem) -> None:
        """A new edge item joins the scene: drawn here while far."""
        if self.far:
            edge.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)

    def invalidate(self, lines: bool = True) -> None:
        """The edges' places, colours or visibility changed (``lines``), or only which are selected,
        found or dimmed: draw them again."""
        if self.far:
            self._forget(lines)
            self.update()

    def _forget(self, lines: bool) -> None:
        if lines:
            self._lines = None
            self._lines_gen += 1
        self._overlay = None
        self._overlay_gen += 1

    def _gather_lines(self) -> list[tuple[QPen, list[QLineF], list[tuple[float, float, float, float]]]]:
        groups: list[tuple[QPen, list[QLineF], list[tuple[float, float, float, float]]]] = []
        index: dict[int, int] = {}  # id of a pen -> its group
        where: dict[str, tuple[int, int]] = {}
        for edge in self.edges.values():
            if edge._degenerate or not edge.isVisible():
                continue
            pen = edge._pen
            gi = index.get(id(pen))
            if gi is None:
                gi = index[id(pen)] = len(groups)
                groups.append((pen, [], []))
            group = groups[gi]
            where[edge.edge_id] = (gi, len(group[1]))
            group[1].append(edge.line())
            group[2].append(_bounds(edge))
        self._where = where
        self._extent = _extent(b for g in groups for b in g[2])
        return groups

    def moved(self, edges: Iterable[EdgeItem]) -> None:
        """These edges' nodes moved (a drag): their lines change place, the others are kept."""
        if not self.far:
            return
        edges = list(edges)
        if self._lines is None or len(edges) > max(64, len(self._where) // 4):  # many: gathered anew
            self.invalidate()
            return
        left, top, right, bottom = self._extent
        for edge in edges:
            place = self._where.get(edge.edge_id)
            if place is None or edge._degenerate or not edge.isVisible():  # not (or no longer) a line
                self.invalidate()
                return
            group = self._lines[place[0]]
            group[1][place[1]] = edge.line()
            box = group[2][place[1]] = _bounds(edge)
            left, top = min(left, box[0]), min(top, box[1])
            right, bottom = max(right, box[2]), max(bottom, box[3])
        self._extent = (left, top, right, bottom)
        self._lines_gen += 1
        self._overlay = None  # the bright paths over it hold lines that moved
        self._overlay_gen += 1
        self.update()

    def _in_view(self, painter: QPainter, width: int, height: int) -> list[tuple[QPen, list[QLineF]]]:
        """The lines that cross the picture: drawing a line far outside it costs Qt as much as one in it
        (zoomed in on part of the graph, most are outside)."""
        assert self._lines is not None
        inverse, ok = painter.worldTransform().inverted()
        if not ok:
            return [(pen, lines) for pen, lines, _ in self._lines]
        seen = inverse.mapRect(QRectF(0, 0, width, height)).adjusted(-4, -4, 4, 4)  # a halo's half width
        left, top, right, bottom = seen.left(), seen.top(), seen.right(), seen.bottom()
        e = self._extent
        if left <= e[0] and top <= e[1] and right >= e[2] and bottom >= e[3]:
            return [(pen, lines) for pen, lines, _ in self._lines]
        return [(pen, [line for line, b in zip(lines, boxes, strict=True)
                       if b[0] <= right and b[2] >= left and b[1] <= bottom and b[3] >= top])
                for pen, lines, boxes in self._lines]

    def _gather_overlay(self) -> tuple[bool, list[tuple[QPen, float, bool, list[QLineF]]], list[EdgeItem]]:
        """As an edge paints itself: the Find halo under the selection's under its line, all of it
        faded when the edge is dimmed."""
        faded = False
        # (dimmed, halo or line) -> lines; faded, the lines of edges with a halo go again over the halo
        find: dict[bool, list[QLineF]] = {True: [], False: []}
        selected: dict[bool, list[QLineF]] = {True: [], False: []}
        over: dict[tuple[int, bool], tuple[QPen, bool, list[QLineF]]] = {}
        loops: list[EdgeItem] = []
        edges = [e for e in self.edges.values() if e.isVisible()]
        for edge in edges:
            if edge.dimmed:
                faded = True
                break
        # the selected edges asked of the scene once, not each of thousands of edges asked across into Qt
        scene = self.scene()
        chosen = {item for item in scene.selectedItems() if isinstance(item, EdgeItem)} if scene is not None else set()
        for edge in edges:
            if edge._degenerate:
                if edge.source is edge.target:
                    loops.append(edge)
                continue
            dim = edge.dimmed
            halo = False
            if edge.highlighted:
                find[dim].append(edge.line())
                halo = True
            if edge in chosen:
                selected[dim].append(edge.line())
                halo = True
            # over the faded picture: a bright line, or one over its halo. Not faded, the halos are drawn
            # under the picture of every line instead, which puts each line over its halo in one blit (a
            # Find matching half of 12,000 edges drew their lines a second time, as long as the halos)
            if faded and (halo or not dim):
                key = (id(edge._pen), dim)
                group = over.get(key)
                if group is None:
                    group = over[key] = (edge._pen, dim, [])
                group[2].append(edge.line())
        find_pen, selected_pen = QPen(shapes.C_FIND, 7), QPen(shapes.C_SELECTED, 4)
        out: list[tuple[QPen, float, bool, list[QLineF]]] = []
        for dim in (True, False):  # the faint first: a bright path is not crossed by faint halos
            opacity = DIM_OPACITY if dim else 1.0
            # Find's halos without antialiasing: this far out a halo is a pixel or two wide, and smoothing
            # the edges of thousands of long ones (a Find matching most of a big mesh) was most of the
            # repaint, 180 ms for 10,000 fitted edges against 25 ms; the lines over them stay smooth
            out.append((find_pen, opacity, False, find[dim]))
            out.append((selected_pen, opacity, True, selected[dim]))
            out.extend((pen, opacity, True, lines) for pen, d, lines in over.values() if d is dim)
        return faded, [g for g in out if g[3]], loops

    def boundingRect(self) -> QRectF:
        return self._FAR_RECT if self.far else QRectF()

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never under the mouse: the edge items are

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        device = painter.device()
        if device is None or device.width() <= 0 or device.height() <= 0:
            return
        t = painter.worldTransform()
        dpr = device.devicePixelRatioF()
        view = (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy(), device.width(), device.height(), dpr,
                int(painter.renderHints().value))
        if self._lines is None:
            self._lines = self._gather_lines()
        if self._overlay is None:
            self._overlay = self._gather_overlay()
        key = (*view, self._lines_gen, self._overlay_gen)
        if self._shown is None or self._shown[0] != key:
            if self._all is None or self._all[0] != key[:-1]:
                image = self._image(device.width(), device.height(), dpr)
                p = QPainter(image)
                p.setRenderHints(painter.renderHints())
                p.setWorldTransform(t)
                for pen, lines in self._in_view(painter, device.width(), device.height()):
                    p.setPen(pen)
                    p.drawLines(lines)
                p.end()
                self._all = (key[:-1], image)
            faded, groups, loops = self._overlay
            image = self._image(device.width(), device.height(), dpr)
            p = QPainter(image)
            if faded:  # every line faint, the halos and bright paths over them
                p.setOpacity(DIM_OPACITY)
                p.drawImage(0, 0, self._all[1])
            p.setRenderHints(painter.renderHints())
            p.setWorldTransform(t)
            p.setBrush(Qt.BrushStyle.NoBrush)
            smooth = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
            for pen, opacity, antialiased, lines in groups:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, smooth and antialiased)
                p.setOpacity(opacity)
                p.setPen(pen)
                p.drawLines(lines)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
            if not faded:  # the halos (if any) under every line
                p.setOpacity(1.0)
                p.setWorldTransform(QTransform())
                p.drawImage(0, 0, self._all[1])
                p.setWorldTransform(t)
            for edge in loops:
                p.setOpacity(DIM_OPACITY if edge.dimmed else 1.0)
                edge._paint_loop(p)
            p.end()
            self._shown = (key, image)
        painter.save()
        painter.setWorldTransform(QTransform())
        painter.drawImage(0, 0, self._shown[1])
        painter.restore()

    @staticmethod
    def _image(width: int, height: int, dpr: float) -> QImage:
        image = QImage(max(1, round(width * dpr)), max(1, round(height * dpr)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(Qt.GlobalColor.transparent)
        return image


def _bounds(edge: EdgeItem) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = edge.ends()
    return (x1, y1, x2, y2) if x1 <= x2 and y1 <= y2 else (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def _extent(boxes: Iterable[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """The bounds of all ``boxes`` (left, top, right, bottom)."""
    left = top = math.inf
    right = bottom = -math.inf
    for b in boxes:
        if b[0] < left:
            left = b[0]
        if b[1] < top:
            top = b[1]
        if b[2] > right:
            right = b[2]
        if b[3] > bottom:
            bottom = b[3]
    return left, top, right, bottom


def draw_edge_labels(painter: QPainter, rect: QRectF, edges: Iterable[EdgeItem]) -> None:
    """Draw the labels and locks of ``edges`` that fall in ``rect`` (scene coordinates) over everything
    else: the scene calls it after its items, so an edge that passes under a node keeps its label
    readable (Kiali draws edge text over nodes too). A hidden edge's label is not drawn, a dimmed one's
    as faint as its edge. Not items: the labels are never hit, so a press, the mouse resting or a
    tooltip request over a label goes to the node or edge under it; and one call draws them all
    (an item per label made every paint and hover of a big mesh slower by half)."""
    lod = PAINT.lod
    if lod is None:
        lod = painter.worldTransform().m11()
    if lod < LABEL_LOD:
        return
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    opacity = painter.opacity()
    for edge in edges:
        box = edge.label_box
        if box is None or box[0] > right or box[2] < left or box[1] > bottom or box[3] < top:
            continue
        if not edge.isVisible():
            continue
        dim = edge.opacity() * (DIM_OPACITY if edge.dimmed else 1.0)
        painter.setOpacity(opacity * dim)
        edge.paint_label(painter)
    painter.setOpacity(opacity)


# ---------------------------------------------------------------------------------------------
# boxes


class BoxItem(QGraphicsItem):
    """A namespace/app/cluster box: a rounded rectangle around its children with a title. It is not
    laid out itself; its rectangle follows its children."""

    PAD = 16.0

    def __init__(self, box_id: str, title: str, kind: str) -> None:
        super().__init__()
        self.box_id = box_id
        self.title = title
        self.kind = kind
        self.status: str | None = None  # an app box's health (Degraded/Failure colour its outline)
        self.children_items: list[QGraphicsItem] = []
        self.setZValue(Z_BOX)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)  # an open hand over the title strip: drag there to move the box
        self._rect = QRectF()

    def refit(self) -> None:
        rect = QRectF()
        for item in self.children_items:
            if item.isVisible():
                r = item.mapRectToScene(item.boundingRect())
                rect = r if rect.isNull() else rect.united(r)
        if rect.isNull():
            new = QRectF()
        else:
            new = rect.adjusted(-self.PAD, -self.PAD - 14, self.PAD, self.PAD)
        if new != self._rect:
            self.prepareGeometryChange()
            self._rect = new

    def boundingRect(self) -> QRectF:
        return self._rect

    def title_strip(self) -> QRectF:
        """The band above the box's members that holds its title: a drag there moves the whole box."""
        if self._rect.isNull():
            return QRectF()
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), self.PAD + 14)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # a press inside a box is on the background: the view draws a selection rectangle or pans
        # from there (most of the graph is inside some box), or moves the box from its title strip;
        # a click selects the box (the view)
        event.ignore()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if self.title_strip().contains(event.pos()):
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.unsetCursor()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._rect.isNull():
            return
        outline = shapes.C_BOX_BORDER
        if self.status in (DEGRADED, FAILURE):
            outline = shapes.health_colour(self.status)
        pen = box_pen(self.kind, shapes.C_SELECTED if self.isSelected() else outline)
        painter.setPen(pen)
        painter.setBrush(QBrush(shapes.C_BOX_FILL))
        painter.drawRoundedRect(self._rect, 8, 8)
        if _lod(option, painter) < LABEL_LOD * 0.6:
            return
        painter.setFont(shapes.label_font())
        painter.setPen(QPen(shapes.C_TEXT_DIM))
        painter.drawText(QRectF(self._rect.left() + 8, self._rect.top() + 2, self._rect.width() - 16, 14),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
