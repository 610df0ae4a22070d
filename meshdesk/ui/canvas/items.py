"""Scene items: nodes, edges and boxes. Painting is cheap: node outlines are shared cached paths,
edges are one line plus a cached arrow polygon whose geometry is recomputed only when one of their
nodes moves, and labels/badges are skipped when zoomed far out."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from meshdesk.mesh.graph.model import DEGRADED, FAILURE, HEALTHY, Edge, Node
from meshdesk.ui.canvas import shapes

if TYPE_CHECKING:
    from meshdesk.ui.canvas.view import DisplayOptions

Z_BOX = -10.0
Z_EDGE = 0.0
Z_ANIMATION = 5.0
Z_NODE = 10.0

LABEL_LOD = 0.45  # below this zoom, skip text and badges


def _lod(option: QStyleOptionGraphicsItem, painter: QPainter) -> float:
    return option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# label formats (also used by panels/tests)


def fmt_rps(v: float) -> str:
    if v <= 0:
        return "0rps"
    if v < 0.01:
        return "<0.01rps"
    if v < 10:
        return f"{v:.2f}rps"
    return f"{v:.1f}rps"


def fmt_percent(v: float) -> str:
    return f"{v:.1f}%" if v >= 0.1 or v == 0 else "<0.1%"


def fmt_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f}s"
    if v >= 10:
        return f"{v:.0f}ms"
    return f"{v:.1f}ms"


def fmt_bps(bytes_per_second: float) -> str:
    """Throughput in bits per second with k/M/G prefixes (the model carries bytes per second)."""
    bits = bytes_per_second * 8
    for unit, div in (("gbps", 1e9), ("mbps", 1e6), ("kbps", 1e3)):
        if bits >= div:
            return f"{bits / div:.1f}{unit}"
    return f"{bits:.0f}bps"


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


# ---------------------------------------------------------------------------------------------
# nodes


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
        self._options = options
        self._lines: list[str] = []
        self._rect = QRectF()
        self._text_w = 0.0
        self._look: tuple[Any, ...] = ()
        self.apply(node, options, outside)

    # -- data

    def _look_of(self, node: Node, options: DisplayOptions, outside: bool) -> tuple[Any, ...]:
        status = node.health.status if node.health is not None else None
        return (
            node.label, node.namespace if outside else "", shapes.node_shape_kind(node), status, node.is_root,
            node.is_idle, node.is_dead, node.has_virtual_service and options.show_virtual_services,
            node.has_destination_rule and options.show_virtual_services,
            node.has_missing_sidecar and options.show_missing_sidecars, node.is_gateway,
        )

    def apply(self, node: Node, options: DisplayOptions, outside: bool) -> bool:
        """Take the node's new facts; repaint only when something visible changed. Returns whether
        the item's size may have changed."""
        self.node = node
        self._options = options
        look = self._look_of(node, options, outside)
        if look == self._look:
            return False
        size_changed = look[:2] != self._look[:2]
        self._look = look
        (_label, ns, self._kind, self._status, self._root, self._idle, self._dead, self._vs, self._dr,
         self._missing_sc, self._gateway) = look
        if size_changed:
            self.prepareGeometryChange()
            self._lines = [node.label or node.id[:8]]
            if ns:
                self._lines.append(f"({ns})")
            fm = QFontMetricsF(shapes.label_font())
            self._text_w = max(fm.horizontalAdvance(line) for line in self._lines)
            line_h = fm.height()
            w = max(shapes.NODE_W + 24, self._text_w + 4)
            top = -shapes.NODE_H / 2 - 8
            bottom = shapes.NODE_H / 2 + 4 + line_h * len(self._lines)
            self._rect = QRectF(-w / 2, top, w, bottom - top)
        self.update()
        return size_changed

    @property
    def shape_kind(self) -> str:
        return str(self._kind)

    @property
    def lines(self) -> list[str]:
        """The text under the shape."""
        return list(self._lines)

    @property
    def badges(self) -> list[str]:
        """Badges drawn on the node (root, vs, dr, missing-sidecar)."""
        out = []
        if self._root:
            out.append("root")
        if self._vs:
            out.append("vs")
        if self._dr:
            out.append("dr")
        if self._missing_sc:
            out.append("missing-sidecar")
        return out

    @property
    def border_status(self) -> str | None:
        return self._status  # type: ignore[no-any-return]

    def layout_size(self) -> tuple[float, float]:
        return (self._rect.width(), self._rect.height())

    # -- Qt

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return shapes.shape_path(self._kind)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self._on_moved(self)
        return super().itemChange(change, value)

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
            painter.setPen(QPen(shapes.C_SELECTED, width + 2.5))
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
        if self._vs:
            shapes.draw_text_badge(painter, QRectF(x, -hh - 6, 13, 9), "VS", shapes.C_BADGE)
            x += 14
        if self._dr:
            shapes.draw_text_badge(painter, QRectF(x, -hh - 6, 13, 9), "DR", shapes.C_BADGE)
        if self._missing_sc:
            shapes.draw_missing_sidecar(painter, QPointF(-hw + 2, -hh - 1))
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


class EdgeItem(QGraphicsItem):
    """A directed edge drawn as a straight line between the two node outlines with an arrowhead,
    an optional label at its middle and an mTLS lock. Not movable; selectable."""

    ARROW = 8.0

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
        self._colour = QColor(shapes.C_HEALTHY)
        self._pen = QPen(self._colour, 1.5)
        self._idle = False
        self._label_w = 0.0
        self.p1 = QPointF()
        self.p2 = QPointF()
        self._arrow = QPolygonF()
        self._rect = QRectF()
        self._shape: QPainterPath | None = None
        self._look: tuple[Any, ...] = ()

    def apply(self, edge: Edge, label: str, lock: bool) -> None:
        """Take new rates/health/label; repaint only when the look changed."""
        self.edge = edge
        status = edge_health(edge)
        look = (label, lock, status, edge.protocol, edge.is_idle)
        if look == self._look:
            return
        label_changed = label != self.label
        self._look = look
        self.label = label
        self._lock = lock
        self._idle = edge.is_idle
        self._colour = shapes.edge_colour(status, edge.protocol, edge.is_idle)
        self._pen = shapes.idle_pen(self._colour, 1.2) if edge.is_idle else QPen(self._colour, 1.5)
        if label_changed:
            self._label_w = QFontMetricsF(shapes.edge_font()).horizontalAdvance(label) if label else 0.0
            self.update_geometry()
        else:
            self.update()

    @property
    def colour(self) -> QColor:
        return self._colour

    @property
    def has_lock(self) -> bool:
        return self._lock

    def update_geometry(self) -> None:
        """Recompute the line, arrow and bounds from the nodes' current positions."""
        a = self.source.pos()
        b = self.target.pos()
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy)
        self.prepareGeometryChange()
        self._shape = None
        if length < 1e-3:
            self.p1 = self.p2 = a
            self._arrow = QPolygonF()
            self._rect = QRectF(a.x() - 1, a.y() - 1, 2, 2)
            return
        ux, uy = dx / length, dy / length
        nx, ny = -uy * self.offset, ux * self.offset
        r = shapes.NODE_RADIUS
        if length <= 2 * r + 2:
            r = max(length / 2 - 1, 0)
        self.p1 = QPointF(a.x() + ux * r + nx, a.y() + uy * r + ny)
        self.p2 = QPointF(b.x() - ux * (r + 1) + nx, b.y() - uy * (r + 1) + ny)
        s = self.ARROW
        bx, by = self.p2.x() - ux * s, self.p2.y() - uy * s
        self._arrow = QPolygonF([
            self.p2,
            QPointF(bx - uy * s * 0.45, by + ux * s * 0.45),
            QPointF(bx + uy * s * 0.45, by - ux * s * 0.45),
        ])
        rect = QRectF(self.p1, self.p2).normalized().adjusted(-6, -6, 6, 6)
        if self.label or self._lock:
            mid = self.midpoint()
            half = max(self._label_w / 2 + 4, 10)
            rect = rect.united(QRectF(mid.x() - half, mid.y() - 14, 2 * half, 26))
        self._rect = rect

    def midpoint(self) -> QPointF:
        return QPointF((self.p1.x() + self.p2.x()) / 2, (self.p1.y() + self.p2.y()) / 2)

    def line(self) -> QLineF:
        return QLineF(self.p1, self.p2)

    # -- Qt

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        if self._shape is None:
            path = QPainterPath(self.p1)
            path.lineTo(self.p2)
            stroker = QPainterPathStroker()
            stroker.setWidth(8)
            self._shape = stroker.createStroke(path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._arrow.isEmpty():
            return
        if self.highlighted:
            painter.setPen(QPen(shapes.C_FIND, 7))
            painter.drawLine(self.p1, self.p2)
        if self.isSelected():
            painter.setPen(QPen(shapes.C_SELECTED, 4))
            painter.drawLine(self.p1, self.p2)
        painter.setPen(self._pen)
        painter.drawLine(self.p1, self.p2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self._colour))
        painter.drawPolygon(self._arrow)
        if not (self.label or self._lock) or _lod(option, painter) < LABEL_LOD:
            return
        mid = self.midpoint()
        if self._lock:
            shapes.draw_lock(painter, QPointF(mid.x(), mid.y() - (8 if self.label else 0)))
        if self.label:
            rect = QRectF(mid.x() - self._label_w / 2 - 2, mid.y() - 1, self._label_w + 4, 11)
            painter.setBrush(QBrush(QColor(255, 255, 255, 220)))
            painter.drawRect(rect)
            painter.setFont(shapes.edge_font())
            painter.setPen(QPen(shapes.C_TEXT))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)


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
        self.children_items: list[QGraphicsItem] = []
        self.setZValue(Z_BOX)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
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

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._rect.isNull():
            return
        pen = QPen(shapes.C_SELECTED if self.isSelected() else shapes.C_BOX_BORDER, 1.2)
        if self.kind != "namespace":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(shapes.C_BOX_FILL))
        painter.drawRoundedRect(self._rect, 8, 8)
        if _lod(option, painter) < LABEL_LOD * 0.6:
            return
        painter.setFont(shapes.label_font())
        painter.setPen(QPen(shapes.C_TEXT_DIM))
        painter.drawText(QRectF(self._rect.left() + 8, self._rect.top() + 2, self._rect.width() - 16, 14),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
