"""Traffic animation: dots moving along edges, faster and denser on busier edges.

One QTimer drives the whole view. The dots are not scene items: on each frame the view blits a
cached picture of the still scene and paints the dots of the edges in view over it, reading each
edge's cached end points (no path or item is built per frame). So a frame costs the dots only, not
a repaint of 3,000 edges. When the scene changes (a refresh, a drag, a selection) the picture is
re-rendered once things have settled; meanwhile the ordinary paint shows the scene without dots.
The timer runs only while animation is on and the view is visible; :meth:`stop` leaves nothing
running.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter

from meshdesk.ui.canvas.items import EdgeItem, two_way_return

FRAME_MS = 40  # 25 frames a second
MIN_LOD = 0.3  # zoomed out further than this, dots are too small to see: skip them
DOT_RADIUS = 2.2


def dot_plan(rate: float) -> tuple[int, float]:
    """``(dots on the edge, speed in scene units per second)`` for a request (or byte) rate: a
    logarithmic scale, so 0.1 rps and 1,000 rps stay readable."""
    if not rate > 0 or math.isinf(rate):  # none, or a rate no dots can say (NaN, infinite)
        return 0, 0.0
    level = math.log10(1.0 + rate)  # 0.04 .. ~4
    dots = max(1, min(6, int(1 + level * 1.5)))
    speed = 30.0 + 40.0 * min(level, 3.0)
    return dots, speed


class TrafficAnimation(QObject):
    """Owns the single timer; ``on_frame`` (the view) decides whether and how to repaint."""

    def __init__(self, on_frame: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._on_frame = on_frame
        self.started = time.monotonic()
        self._plans: list[tuple[EdgeItem, int, float, float]] = []
        self._source: Iterable[EdgeItem] = ()
        self._plans_dirty = False
        # the plans of the edges in view, with the view and edges they were found for (see _plans_in_view)
        self._in_view: list[tuple[EdgeItem, int, float, float, float, float, float, float, float]] = []
        self._in_view_key: tuple[object, ...] | None = None
        self.frames = 0  # timer ticks
        self.painted = 0  # frames whose dots were painted

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def set_edges(self, edges: Iterable[EdgeItem]) -> None:
        """Edges changed (a refresh): their plans are recomputed when the next frame needs them."""
        self._source = edges
        self._plans_dirty = True
        self._in_view_key = None

    @staticmethod
    def _plans_of(item: EdgeItem) -> list[tuple[EdgeItem, int, float, float]]:
        """The dot plans of one edge: its traffic, and a waypoint's return traffic backwards."""
        plans = []
        if not item.edge.is_idle:
            dots, speed = dot_plan(item.edge.rate)
            if dots:
                phase = (hash(item.edge_id) % 1000) / 1000.0
                plans.append((item, dots, speed, phase))
            back = two_way_return(item.edge) if item.two_way else None
            if back is not None and not back.is_idle:
                # the waypoint's return traffic: dots running from the target back to the source (a
                # negative speed walks the same line backwards; nothing more per frame)
                dots, speed = dot_plan(back.rate)
                if dots:
                    plans.append((item, dots, -speed, (hash(back.id) % 1000) / 1000.0))
        return plans

    def _compute(self) -> None:
        self._plans = [plan for item in list(self._source) for plan in self._plans_of(item)]
        self._plans_dirty = False

    def plans(self) -> list[tuple[EdgeItem, int, float, float]]:
        if self._plans_dirty:
            self._compute()
        return self._plans

    def forget_view(self) -> None:
        """The scene or the view changed (the view took a new picture of the still scene): the
        edges in view are looked for again at the next frame."""
        self._in_view_key = None

    def _plans_in_view(self, exposed: QRectF) -> list[tuple[EdgeItem, int, float, float, float, float, float, float,
                                                             float]]:
        """The plans of the visible edges crossing ``exposed``, with their ends and length: found
        once per picture of the still scene, not on every frame (a big mesh has 12,000 edges, of
        which a zoomed-in view shows a few dozen: looking at each of them 25 times a second took
        most of a frame)."""
        key = (exposed.left(), exposed.top(), exposed.right(), exposed.bottom())
        if self._in_view_key == key:
            return self._in_view
        left, top, right, bottom = key[:4]
        found = []
        for item in list(self._source):
            if not item.isVisible():
                continue
            x1, y1, x2, y2 = item.ends()
            if max(x1, x2) < left or min(x1, x2) > right or max(y1, y2) < top or min(y1, y2) > bottom:
                continue
            length = math.hypot(x2 - x1, y2 - y1)
            if length < 1:
                continue
            for _item, dots, speed, phase in self._plans_of(item):
                found.append((item, dots, speed, phase, x1, y1, x2, y2, length))
        self._in_view = found
        self._in_view_key = key
        return found

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _frame(self) -> None:
        self.frames += 1
        self._on_frame()

    def paint_dots(self, painter: QPainter, exposed: QRectF) -> None:
        """Paint the dots of the edges crossing ``exposed`` (scene coordinates; the painter maps
        scene to device)."""
        now = time.monotonic() - self.started
        painter.setPen(Qt.PenStyle.NoPen)
        last_colour: QColor | None = None
        for item, dots, speed, phase, x1, y1, x2, y2, length in self._plans_in_view(exposed):
            colour = item.colour
            if colour is not last_colour:
                painter.setBrush(QBrush(colour))
                last_colour = colour
            base = (phase + now * speed / length) % 1.0
            for k in range(dots):
                t = (base + k / dots) % 1.0
                painter.drawEllipse(QPointF(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t), DOT_RADIUS, DOT_RADIUS)
        self.painted += 1
