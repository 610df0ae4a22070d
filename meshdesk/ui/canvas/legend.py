"""The graph legend: node shapes, health colours, edge kinds and badges, drawn with the same
painting code as the canvas so it always matches."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from meshdesk.ui.canvas import shapes
from meshdesk.ui.canvas.items import box_pen

ROW_H = 24.0
GLYPH_W = 48.0
COL_W = 230.0

SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Node shapes", [(f"shape:{k}", v) for k, v in shapes.SHAPE_NAMES.items()]),
    ("Node health", [("node:healthy", "Healthy / no data"), ("node:degraded", "Degraded"),
                     ("node:failure", "Failure"), ("node:idle", "Idle")]),
    ("Edges", [("edge:ok", "HTTP / gRPC, no errors"), ("edge:degraded", "Some errors"),
               ("edge:failure", "Failing (many errors)"), ("edge:tcp", "TCP"), ("edge:idle", "Idle"),
               ("edge:twoway", "Two-way (with a waypoint)")]),
    ("Badges", [("badge:lock", "Mutual TLS (mTLS)"), ("badge:vs", "Virtual service"),
                ("badge:dr", "Destination rule"), ("badge:cb", "Circuit breaker"), ("badge:sidecar", "Missing sidecar"),
                ("badge:root", "Traffic source (root)"), ("badge:gateway", "Gateway (inner outline)"),
                ("badge:waypoint", "Ambient waypoint"), ("badge:ext", "Kiali extension (e.g. Skupper)"), ("badge:config-error", "Istio config error"),
                ("badge:config-warning", "Istio config warning")]),
    ("Boxes", [("box:cluster", "Cluster (several in the mesh)"), ("box:namespace", "Namespace"),
               ("box:app", "App (its versions)"), ("box:app-degraded", "Degraded app"),
               ("box:app-failure", "Failing app")]),
    ("Marks", [("mark:selected", "Selected"), ("mark:found", "Found (Find)")]),
]


def draw_glyph(painter: QPainter, key: str, centre: QPointF) -> None:
    """Draw one legend glyph centred on ``centre``."""
    painter.save()
    painter.translate(centre)
    painter.scale(0.6, 0.6)
    kind, _, what = key.partition(":")
    if kind == "shape":
        pen = shapes.idle_pen(shapes.C_NODE_BORDER, 1.5) if what == shapes.SHAPE_UNKNOWN else \
            QPen(shapes.C_NODE_BORDER, 1.5)
        painter.setPen(pen)
        painter.setBrush(QBrush(shapes.C_NODE_FILL))
        painter.drawPath(shapes.shape_path(what))
    elif kind == "node":
        colour = {"healthy": shapes.C_NODE_BORDER, "degraded": shapes.C_DEGRADED, "failure": shapes.C_FAILURE,
                  "idle": shapes.C_IDLE}[what]
        pen = shapes.idle_pen(colour, 2.0) if what == "idle" else QPen(colour, 2.5)
        painter.setPen(pen)
        painter.setBrush(QBrush(shapes.C_NODE_FILL))
        painter.drawPath(shapes.shape_path(shapes.SHAPE_WORKLOAD))
    elif kind == "edge":
        colour = {"ok": shapes.C_HEALTHY, "degraded": shapes.C_DEGRADED, "failure": shapes.C_FAILURE,
                  "tcp": shapes.C_TCP, "idle": shapes.C_IDLE, "twoway": shapes.C_TCP}[what]
        pen = shapes.idle_pen(colour, 2.0) if what == "idle" else QPen(colour, 2.0)
        painter.setPen(pen)
        painter.drawLine(QPointF(-30, 0), QPointF(22, 0))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colour))
        painter.drawPolygon(QPolygonF([QPointF(30, 0), QPointF(20, -5), QPointF(20, 5)]))
        if what == "twoway":
            painter.drawPolygon(QPolygonF([QPointF(-30, 0), QPointF(-20, -5), QPointF(-20, 5)]))
    elif kind == "badge":
        painter.scale(1.6, 1.6)
        if what == "lock":
            shapes.draw_lock(painter, QPointF(0, 0))
        elif what == "ext":
            shapes.draw_text_badge(painter, QRectF(-5.5, -5, 11, 10), "E", shapes.C_EXTENSION)
        elif what in ("vs", "dr", "cb"):
            shapes.draw_text_badge(painter, QRectF(-7, -5, 14, 10), what.upper(),
                                   shapes.C_CIRCUIT_BREAKER if what == "cb" else shapes.C_BADGE)
        elif what == "sidecar":
            shapes.draw_missing_sidecar(painter, QPointF(0, 0))
        elif what == "root":
            shapes.draw_root_marker(painter, QPointF(0, 0))
        elif what == "waypoint":
            shapes.draw_waypoint(painter, QPointF(0, 0))
        elif what.startswith("config-"):
            shapes.draw_text_badge(painter, QRectF(-5.5, -4.5, 11, 9), "!",
                                   shapes.C_FAILURE if what == "config-error" else shapes.C_DEGRADED)
        elif what == "gateway":
            painter.scale(1 / 1.6, 1 / 1.6)
            painter.setPen(QPen(shapes.C_NODE_BORDER, 1.5))
            painter.setBrush(QBrush(shapes.C_NODE_FILL))
            painter.drawPath(shapes.shape_path(shapes.SHAPE_APP))
            painter.setPen(QPen(shapes.C_NODE_BORDER, 1))
            painter.drawPath(shapes.shape_path(shapes.SHAPE_APP, shapes.NODE_W - 10, shapes.NODE_H - 10))
    elif kind == "mark":
        path = shapes.shape_path(shapes.SHAPE_APP)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(shapes.C_FIND, 9) if what == "found" else QPen(shapes.C_SELECTED, 7.5))
        painter.drawPath(path)
        painter.setPen(QPen(shapes.C_NODE_BORDER, 1.5))
        painter.setBrush(QBrush(shapes.C_NODE_FILL))
        painter.drawPath(path)
    elif kind == "box":
        box_kind, _, status = what.partition("-")
        colour = {"failure": shapes.C_FAILURE, "degraded": shapes.C_DEGRADED}.get(status, shapes.C_BOX_BORDER)
        painter.setPen(box_pen(box_kind, colour))
        painter.setBrush(QBrush(shapes.C_BOX_FILL))
        painter.drawRoundedRect(QRectF(-32, -14, 64, 28), 6, 6)
    painter.restore()


class Legend(QWidget):
    """A small panel explaining the canvas's shapes, colours and badges."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphLegend")
        self.setAccessibleName("Graph legend")
        self.setAutoFillBackground(True)

    def entries(self) -> list[str]:
        """The legend's words, in order (section titles and entry labels)."""
        out = []
        for title, rows in SECTIONS:
            out.append(title)
            out.extend(label for _key, label in rows)
        return out

    def sizeHint(self) -> QSize:
        rows = sum(len(r) + 1 for _t, r in SECTIONS)
        return QSize(int(COL_W + 16), int(rows * ROW_H + 16))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        title_font = self.font()
        title_font.setBold(True)
        fm = QFontMetricsF(self.font())
        y = 8.0
        for title, rows in SECTIONS:
            painter.setFont(title_font)
            painter.setPen(QPen(text))
            painter.drawText(QRectF(8, y, COL_W, ROW_H), Qt.AlignmentFlag.AlignVCenter, title)
            y += ROW_H
            painter.setFont(self.font())
            for key, label in rows:
                draw_glyph(painter, key, QPointF(8 + GLYPH_W / 2, y + ROW_H / 2))
                painter.setPen(QPen(text))
                painter.drawText(QRectF(8 + GLYPH_W + 6, y, COL_W - GLYPH_W, ROW_H),
                                 Qt.AlignmentFlag.AlignVCenter, fm.elidedText(label, Qt.TextElideMode.ElideRight,
                                                                             COL_W - GLYPH_W))
                y += ROW_H
        painter.end()


__all__ = ["Legend", "draw_glyph", "SECTIONS", "QColor"]
