"""Traffic animation: dots moving along edges, faster and denser on busier edges.

One QTimer drives the whole scene; one overlay item paints the dots of the edges in view, reading
each edge's cached end points (no path is built per frame). The timer runs only while animation is
on and the view is visible; :meth:`TrafficAnimation.stop` leaves nothing running.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from meshdesk.ui.canvas.items import Z_ANIMATION, EdgeItem

FRAME_MS = 40  # 25 frames a second
MIN_LOD = 0.3  # zoomed out further than this, dots are too small to see: skip them


def dot_plan(rate: float) -> tuple[int, float]:
    """``(dots on the edge, speed in scene units per second)`` for a request (or byte) rate: a
    logarithmic scale, so 0.1 rps and 1,000 rps stay readable."""
    if rate <= 0:
        return 0, 0.0
    level = math.log10(1.0 + rate)  # 0.04 .. ~4
    dots = max(1, min(6, int(1 + level * 1.5)))
    speed = 30.0 + 40.0 * min(level, 3.0)
    return dots, speed


class _DotLayer(QGraphicsItem):
    """Paints the dots for the edges the animation knows, inside the exposed rectangle only."""

    def __init__(self, owner: TrafficAnimation) -> None:
        super().__init__()
        self._owner = owner
        self.setZValue(Z_ANIMATION)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, False)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF()

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < MIN_LOD:
            return
        exposed = option.exposedRect
        now = time.monotonic() - self._owner.started
        painter.setPen(Qt.PenStyle.NoPen)
        last_colour: QColor | None = None
        for item, dots, speed, phase in self._owner.plans():
            if not item.isVisible():
                continue
            x1, y1, x2, y2 = item.ends()
            if max(x1, x2) < exposed.left() or min(x1, x2) > exposed.right() or \
                    max(y1, y2) < exposed.top() or min(y1, y2) > exposed.bottom():
                continue
            length = math.hypot(x2 - x1, y2 - y1)
            if length < 1:
                continue
            colour = item.colour
            if colour is not last_colour:
                painter.setBrush(QBrush(colour))
                last_colour = colour
            base = (phase + now * speed / length) % 1.0
            for k in range(dots):
                t = (base + k / dots) % 1.0
                painter.drawEllipse(QPointF(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t), 2.2, 2.2)


class TrafficAnimation(QObject):
    """Owns the single timer and the dot layer of one scene."""

    def __init__(self, scene_rect: Callable[[], QRectF], visible_rect: Callable[[], QRectF],
                 parent: QObject | None = None, zoom: Callable[[], float] | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._scene_rect = scene_rect
        self._visible_rect = visible_rect
        self._zoom = zoom
        self.layer = _DotLayer(self)
        self.started = time.monotonic()
        self._plans: list[tuple[EdgeItem, int, float, float]] = []
        self._source: Iterable[EdgeItem] = ()
        self._plans_dirty = False
        self.frames = 0

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def set_edges(self, edges: Iterable[EdgeItem]) -> None:
        """Edges changed (a refresh): their plans are recomputed when the next frame needs them."""
        self._source = edges
        self._plans_dirty = True

    def _compute(self) -> None:
        plans = []
        for item in list(self._source):
            if item.edge.is_idle:
                continue
            dots, speed = dot_plan(item.edge.rate)
            if dots:
                phase = (hash(item.edge_id) % 1000) / 1000.0
                plans.append((item, dots, speed, phase))
        self._plans = plans
        self._plans_dirty = False

    def plans(self) -> list[tuple[EdgeItem, int, float, float]]:
        if self._plans_dirty:
            self._compute()
        return self._plans

    def start(self) -> None:
        if not self._timer.isActive():
            self.layer.setVisible(True)
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.layer.setVisible(False)

    def _frame(self) -> None:
        self.frames += 1
        if self._zoom is not None and self._zoom() < MIN_LOD:
            return  # dots would be too small to see: spare the repaint
        self.layer.set_rect(self._scene_rect())
        # repaint only what is on screen
        self.layer.update(self._visible_rect())
