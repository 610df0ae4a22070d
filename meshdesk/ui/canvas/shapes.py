"""Node shapes, colours and badge glyphs, shared by the canvas items, the legend and exports.

Shapes follow the project's choice of Kiali-like glyphs: workload = ellipse, app = rounded
rectangle, service = rhombus, ServiceEntry = trapezoid, operation (aggregate) = hexagon, unknown =
dashed triangle. Paths are built once per kind and reused (painting never allocates a path).
"""

from __future__ import annotations

import math
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from meshdesk.mesh.graph.model import (
    DEGRADED,
    FAILURE,
    HEALTHY,
    NODE_AGGREGATE,
    NODE_APP,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    Node,
)

NODE_W = 40.0  # shape width (scene units)
NODE_H = 30.0  # shape height
NODE_RADIUS = 23.0  # where edges stop, measured from the centre

SHAPE_WORKLOAD = "workload"
SHAPE_APP = "app"
SHAPE_SERVICE = "service"
SHAPE_SERVICE_ENTRY = "serviceentry"
SHAPE_OPERATION = "operation"
SHAPE_UNKNOWN = "unknown"

SHAPE_NAMES = {
    SHAPE_WORKLOAD: "Workload",
    SHAPE_APP: "App",
    SHAPE_SERVICE: "Service",
    SHAPE_SERVICE_ENTRY: "Service entry",
    SHAPE_OPERATION: "Operation",
    SHAPE_UNKNOWN: "Unknown",
}

# colours (close to Kiali's PatternFly palette)
C_NODE_FILL = QColor("#ffffff")
C_NODE_BORDER = QColor("#6a6e73")  # healthy / no health: grey
C_HEALTHY = QColor("#3e8635")
C_DEGRADED = QColor("#f0ab00")
C_FAILURE = QColor("#c9190b")
C_TCP = QColor("#0066cc")
C_IDLE = QColor("#b8bbbe")
C_SELECTED = QColor("#0066cc")
C_FIND = QColor(161, 143, 255, 150)  # a soft violet halo: health and selection colours keep their meaning
C_BOX_FILL = QColor(240, 240, 240, 150)
C_BOX_BORDER = QColor("#8a8d90")
C_TEXT = QColor("#151515")
C_TEXT_DIM = QColor("#6a6e73")
C_BADGE = QColor("#2b9af3")
C_CIRCUIT_BREAKER = QColor("#7d1007")  # circuit breaker badge (dark red)
C_MISSING_SC = QColor("#ec7a08")
C_WAYPOINT = QColor("#5752d1")  # ambient waypoint badge (PatternFly purple)
C_EXTENSION = QColor("#4f5255")  # a Kiali extension's node: the "E" badge (a dark grey, as Kiali's is grey)
C_LOCK = QColor("#151515")
C_CANVAS = QColor("#ffffff")
C_LABEL_BG = QColor(255, 255, 255, 220)

# the colours that differ between the light and the dark canvas (the rest read well on both)
THEMES: dict[str, dict[str, QColor]] = {
    "light": {
        "C_NODE_FILL": QColor("#ffffff"), "C_NODE_BORDER": QColor("#6a6e73"), "C_TEXT": QColor("#151515"),
        "C_TEXT_DIM": QColor("#6a6e73"), "C_BOX_FILL": QColor(240, 240, 240, 150), "C_BOX_BORDER": QColor("#8a8d90"),
        "C_LOCK": QColor("#151515"), "C_CANVAS": QColor("#ffffff"), "C_LABEL_BG": QColor(255, 255, 255, 220),
        "C_SELECTED": QColor("#0066cc"),
    },
    "dark": {
        "C_NODE_FILL": QColor("#26292d"), "C_NODE_BORDER": QColor("#b8bbbe"), "C_TEXT": QColor("#e6e6e6"),
        "C_TEXT_DIM": QColor("#9a9da0"), "C_BOX_FILL": QColor(60, 63, 66, 160), "C_BOX_BORDER": QColor("#8a8d90"),
        "C_LOCK": QColor("#e6e6e6"), "C_CANVAS": QColor("#151515"), "C_LABEL_BG": QColor(21, 21, 21, 220),
        "C_SELECTED": QColor("#73bcf7"),  # the light theme's blue is lost on the dark canvas
    },
}
_theme = ["light"]


def set_theme(name: str) -> bool:
    """Switch the canvas colours to ``light`` or ``dark`` (anything else counts as light); returns
    True when the colours changed. Items read these colours when they paint."""
    name = name if name in THEMES else "light"
    if name == _theme[0]:
        return False
    globals().update(THEMES[name])
    _theme[0] = name
    return True


def theme() -> str:
    return _theme[0]


def node_shape_kind(node: Node) -> str:
    if node.node_type == NODE_SERVICE:
        return SHAPE_SERVICE_ENTRY if node.is_service_entry is not None else SHAPE_SERVICE
    if node.node_type == NODE_WORKLOAD:
        return SHAPE_WORKLOAD
    if node.node_type == NODE_APP:
        return SHAPE_APP
    if node.node_type == NODE_AGGREGATE:
        return SHAPE_OPERATION
    if node.node_type == NODE_UNKNOWN:
        return SHAPE_UNKNOWN
    return SHAPE_UNKNOWN


@cache
def shape_path(kind: str, w: float = NODE_W, h: float = NODE_H) -> QPainterPath:
    """The outline of a node kind, centred on (0, 0)."""
    p = QPainterPath()
    hw, hh = w / 2, h / 2
    if kind == SHAPE_WORKLOAD:
        p.addEllipse(QRectF(-hw, -hh, w, h))
    elif kind == SHAPE_APP:
        p.addRoundedRect(QRectF(-hw, -hh, w, h), 7, 7)
    elif kind == SHAPE_SERVICE:
        p.addPolygon(QPolygonF([QPointF(0, -hh - 3), QPointF(hw + 2, 0), QPointF(0, hh + 3), QPointF(-hw - 2, 0)]))
        p.closeSubpath()
    elif kind == SHAPE_SERVICE_ENTRY:
        p.addPolygon(QPolygonF([QPointF(-hw * 0.55, -hh), QPointF(hw * 0.55, -hh), QPointF(hw, hh),
                                QPointF(-hw, hh)]))
        p.closeSubpath()
    elif kind == SHAPE_OPERATION:
        pts = [QPointF(hw * math.cos(math.radians(a)), hh * math.sin(math.radians(a))) for a in range(0, 360, 60)]
        p.addPolygon(QPolygonF(pts))
        p.closeSubpath()
    else:  # unknown: a triangle (drawn dashed)
        p.addPolygon(QPolygonF([QPointF(0, -hh - 2), QPointF(hw, hh), QPointF(-hw, hh)]))
        p.closeSubpath()
    return p


def health_colour(status: str | None) -> QColor:
    if status == FAILURE:
        return C_FAILURE
    if status == DEGRADED:
        return C_DEGRADED
    return C_NODE_BORDER


def edge_colour(status: str | None, protocol: str, idle: bool) -> QColor:
    """Kiali's edge colours: idle grey, TCP blue, HTTP/gRPC green unless degraded/failing."""
    if idle:
        return C_IDLE
    if status == FAILURE:
        return C_FAILURE
    if status == DEGRADED:
        return C_DEGRADED
    if protocol == "tcp":
        return C_TCP
    return C_HEALTHY if status in (HEALTHY, None, "NA") else C_NODE_BORDER


@cache
def _lock_paths() -> tuple[QPainterPath, QPainterPath]:
    body = QPainterPath()
    body.addRoundedRect(QRectF(-4, -1, 8, 6), 1, 1)
    shackle = QPainterPath()
    shackle.moveTo(-2.5, -1)
    shackle.lineTo(-2.5, -3)
    shackle.arcTo(QRectF(-2.5, -5.5, 5, 5), 180, -180)
    shackle.lineTo(2.5, -1)
    return body, shackle


def draw_lock(painter: QPainter, at: QPointF) -> None:
    """A small padlock (mTLS) centred on ``at``."""
    body, shackle = _lock_paths()
    painter.save()
    painter.translate(at)
    painter.setPen(QPen(C_LOCK, 1.2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(C_LOCK))
    painter.drawPath(body)
    painter.restore()


@cache
def badge_font() -> QFont:
    f = QFont()
    f.setPixelSize(7)
    f.setBold(True)
    return f


@cache
def label_font() -> QFont:
    f = QFont()
    f.setPixelSize(10)
    return f


@cache
def edge_font() -> QFont:
    f = QFont()
    f.setPixelSize(8)
    return f


def draw_text_badge(painter: QPainter, rect: QRectF, text: str, colour: QColor) -> None:
    """A filled rounded tag with white text (e.g. VS, DR)."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(colour))
    painter.drawRoundedRect(rect, 2, 2)
    painter.setPen(QPen(QColor("#ffffff")))
    painter.setFont(badge_font())
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def draw_missing_sidecar(painter: QPainter, at: QPointF) -> None:
    """An orange warning triangle with '!' (the workload runs without an Istio sidecar)."""
    painter.save()
    painter.translate(at)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(C_MISSING_SC))
    painter.drawPolygon(QPolygonF([QPointF(0, -5), QPointF(5.5, 4.5), QPointF(-5.5, 4.5)]))
    painter.setPen(QPen(QColor("#ffffff"), 1.4))
    painter.drawLine(QPointF(0, -2), QPointF(0, 1.5))
    painter.drawPoint(QPointF(0, 3.2))
    painter.restore()


def draw_waypoint(painter: QPainter, at: QPointF) -> None:
    """An ambient waypoint: a purple tag with a white route glyph (two stops joined through a middle
    one), centred on ``at``."""
    painter.save()
    painter.translate(at)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(C_WAYPOINT))
    painter.drawRoundedRect(QRectF(-7.5, -5, 15, 10), 2.5, 2.5)
    painter.setPen(QPen(QColor("#ffffff"), 1.1))
    painter.drawPolyline(QPolygonF([QPointF(-4.5, 2), QPointF(0, -2), QPointF(4.5, 2)]))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor("#ffffff")))
    for x, y in ((-4.5, 2), (0, -2), (4.5, 2)):
        painter.drawEllipse(QPointF(x, y), 1.5, 1.5)
    painter.restore()


def draw_root_marker(painter: QPainter, at: QPointF) -> None:
    """Kiali's arrow-in glyph for a traffic source (root): an arrow pointing into the node."""
    painter.save()
    painter.translate(at)
    painter.setPen(QPen(C_TEXT, 1.6))
    painter.drawLine(QPointF(-7, 0), QPointF(0, 0))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(C_TEXT))
    painter.drawPolygon(QPolygonF([QPointF(3, 0), QPointF(-1.5, -3.5), QPointF(-1.5, 3.5)]))
    painter.restore()


def idle_pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen
