"""What the metric charts need that does not need pyqtgraph: the charts as one Tab stop, and the clock
text of a moment. Kept apart from ``meshdesk.ui.charts`` so the views that hold charts can be made
(and the window opened) before pyqtgraph is imported, when their charts are first shown."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QScrollArea

if TYPE_CHECKING:
    from meshdesk.ui.charts import MetricChart  # (imported where needed: it imports pyqtgraph)


def clock_text(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


CHART_KEYS_SPOKEN = "the arrow keys, Home and End move between the charts"


def _row_beside(shown: Sequence[MetricChart], current: MetricChart, *, up: bool) -> MetricChart | None:
    """The chart Up (or Down) leads to from ``current`` as the charts are laid out: in the row above (below),
    the one nearest its middle; ``current`` itself at the grid's edge; None when the charts are not laid out
    (every one at the same height: the fixed count of columns is stepped over instead)."""
    if len({c.y() for c in shown}) < 2 and len(shown) > 1:
        return None
    y, middle = current.y(), current.x() + current.width() / 2
    rows = [c for c in shown if (c.y() < y if up else c.y() > y)]
    if not rows:
        return current
    row = max(c.y() for c in rows) if up else min(c.y() for c in rows)
    return min((c for c in rows if c.y() == row), key=lambda c: abs(c.x() + c.width() / 2 - middle))


class ChartStops(QObject):
    """A set of charts as one Tab stop: Tab stopped at every chart, so Tab through the Metrics view took
    dozens of presses. One chart at a time takes Tab (the last one the keyboard or a click was on, else
    the first shown); the arrow keys move between the charts as they are laid out (``columns`` to a
    row), Home and End to the first and last. Each chart keeps its name for a screen reader, and its
    description says which of how many it is and how to move on."""

    def __init__(self, charts: Callable[[], Sequence[MetricChart]], columns: int, parent: QObject) -> None:
        super().__init__(parent)
        self._charts = charts  # the charts in their order (shown or not)
        self.columns = columns
        self._current: MetricChart | None = None
        # the charts whose events are watched, by the chart itself (weakly): an id() kept after a chart was
        # deleted could be a new chart's at the same address, and that chart was never watched
        self._watched: weakref.WeakSet[MetricChart] = weakref.WeakSet()
        self.restop()

    def shown(self) -> list[MetricChart]:
        """The charts in the layout now (not hidden themselves), in their order."""
        return [c for c in self._charts() if not c.isHidden()]

    @property
    def current(self) -> MetricChart | None:
        """The chart Tab stops at."""
        shown = self.shown()
        return self._current if self._current in shown else (shown[0] if shown else None)

    def restop(self) -> None:
        """Give Tab to the current chart alone (after charts were shown, hidden or put in another order)."""
        shown = self.shown()
        current = self.current
        for chart in self._charts():
            if chart not in self._watched:
                self._watched.add(chart)
                chart.installEventFilter(self)
                chart.plot.installEventFilter(self)
            chart.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus if chart is current else Qt.FocusPolicy.ClickFocus)
            if chart in shown:
                chart.plot.setAccessibleDescription(
                    f"Chart {shown.index(chart) + 1} of {len(shown)}; {CHART_KEYS_SPOKEN}")

    def move(self, key: int) -> bool:
        """Put the keyboard on the chart ``key`` (an arrow, Home, End) leads to from the current one;
        False for another key."""
        shown = self.shown()
        current = self.current
        if current is None:
            return False
        at = shown.index(current)
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.columns, Qt.Key.Key_Down: self.columns}
        below = _row_beside(shown, current, up=key == Qt.Key.Key_Up) \
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) else None
        if below is not None:  # the charts as laid out (a wide chart over two narrow ones: not a fixed count)
            to = shown.index(below) if below is not current else at
        elif key in steps:
            to = at + steps[Qt.Key(key)]
            if not 0 <= to < len(shown):
                return True  # at an edge of the grid: the keyboard stays
        elif key == Qt.Key.Key_Home:
            to = 0
        elif key == Qt.Key.Key_End:
            to = len(shown) - 1
        else:
            return False
        chart = shown[to]
        self._current = chart
        self.restop()
        chart.plot.setFocus(Qt.FocusReason.TabFocusReason)
        area = chart.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None:
            area.ensureWidgetVisible(chart, 0, 0)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind not in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent, QEvent.Type.FocusIn, QEvent.Type.KeyPress):
            return False
        # (only charts are watched, so pyqtgraph is imported by now)
        import pyqtgraph as pg

        from meshdesk.ui.charts import MetricChart
        if kind in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent) and isinstance(watched, MetricChart):
            self.restop()
        elif kind == QEvent.Type.FocusIn and isinstance(watched, pg.PlotWidget):
            chart = watched.parentWidget()
            if isinstance(chart, MetricChart) and chart is not self._current:
                self._current = chart  # a click, or the keyboard's way back: Tab returns here
                self.restop()
        elif kind == QEvent.Type.KeyPress and isinstance(watched, pg.PlotWidget) and isinstance(event, QKeyEvent) \
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier and self.move(event.key()):
            return True
        return super().eventFilter(watched, event)
