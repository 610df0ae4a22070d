"""The Traces dock's chart of durations over time, on pyqtgraph: made when the dock is first shown, so
the window opens without importing pyqtgraph (and numpy) for a dock nobody looked at yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg

from meshdesk.ui.traces_view import ERROR_COLOUR, OK_COLOUR


class DurationChart:
    """The plot, the traces' points (failed ones red) and the ring round the chosen trace's point."""

    def __init__(self, tip: Callable[..., str], clicked: Callable[..., None]) -> None:
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setObjectName("tracesChart")
        self.plot.setAccessibleName("Trace durations")
        self.plot.setBackground(None)
        self.plot.setLabel("left", "duration", units="ms")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumHeight(120)
        self.plot.setMouseEnabled(x=True, y=False)
        # two brushes shared by all points: pyqtgraph tags each brush object it meets the first time, which
        # costs a quarter of a millisecond per new object (a brush per point froze 500 traces' refresh)
        self._brushes = (pg.mkBrush(OK_COLOUR), pg.mkBrush(ERROR_COLOUR))
        self.scatter = pg.ScatterPlotItem(size=9, hoverable=True, tip=tip)
        self.scatter.sigClicked.connect(clicked)
        self.plot.addItem(self.scatter)
        self.chosen = pg.ScatterPlotItem(size=15, brush=None, pen=pg.mkPen("#f0ab00", width=2))
        self.plot.addItem(self.chosen)

    def draw_points(self, xs: list[float], ys: list[float], failed: list[bool], ids: list[str]) -> None:
        if not xs:
            self.scatter.setData([])
            return
        brushes: list[Any] = [self._brushes[f] for f in failed]
        self.scatter.setData(x=xs, y=ys, brush=brushes, pen=None, data=ids)

    def draw_chosen(self, at: tuple[float, float] | None) -> None:
        if at is None:
            self.chosen.setData([])
        else:
            self.chosen.setData(x=[at[0]], y=[at[1]])
