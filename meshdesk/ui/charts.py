"""Metric charts on pyqtgraph: one ``MetricChart`` per chart key, updated in place.

A refresh changes the data of the existing ``PlotDataItem``s (one per line, keyed by stat and split
value), never rebuilds the plot, so nothing flickers. Once the user zooms or pans, the view box
stops auto-ranging (pyqtgraph's own rule) and refreshes keep the user's view; ``reset_view()``, a
double-click or pyqtgraph's "A" button returns to following the data. When the charts' end moves
(replay), ``move_view`` moves a time zoom with it; one that no longer shows any of the chart's
times follows the data again (``follow_if_outside``). NaN points are drawn as gaps
(``connect="finite"``). Everything charted is a rate, share, duration or size, never negative: the
y axis starts at 0 (as Kiali's and Grafana's charts do), so a steady 3.5 rps does not look like
wild swings between 3.2 and 3.8, and a line of zeros sits on the floor rather than mid-chart.
A status line on the chart says when data is stale, partial or missing; the data stays.
A crosshair follows the mouse and shows the time and each line's value there.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import adjustTimestampToPreferredUtcOffset, utcfromtimestamp
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from meshdesk.mesh.metrics import CHARTS_BY_KEY, Chart, Line
from meshdesk.ui.chart_stops import CHART_KEYS_SPOKEN, ChartStops, clock_text  # noqa: F401 - (were here)

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
            "#7f7f7f", "#bcbd22")
_STAT_STYLE = {"avg": Qt.PenStyle.DashLine, "p50": Qt.PenStyle.SolidLine, "p95": Qt.PenStyle.SolidLine,
               "p99": Qt.PenStyle.DotLine}


# per theme: chart background, axis and text colour, crosshair label fill
_CHART_THEMES: dict[str, tuple[str, str, QColor]] = {
    "light": ("#ffffff", "#4f5255", QColor(255, 255, 255, 220)),
    "dark": ("#161a1e", "#9aa4ae", QColor(22, 26, 30, 220)),
}


# response codes in their class's colour as the graph uses it (ok green, redirect blue, client error
# amber, server error red), the usual codes of a class in shades of it
_CODE_SHADES = {
    "2": ("200", ("#3e8635", "#7cc674", "#1e4f18"), ("201", "204")),
    "3": ("301", ("#0066cc", "#73bcf7", "#004080", "#2b9af3"), ("302", "304", "307")),
    "4": ("400", ("#f0ab00", "#c58c00", "#795600", "#f4c145", "#ec7a08"), ("401", "403", "404", "429")),
    "5": ("500", ("#c9190b", "#7d1007", "#f0561d", "#a30000", "#ff7468"), ("502", "503", "504", "501")),
}


def line_colour(split_value: str, shared: dict[str, str]) -> str:
    """One colour per split value in every chart of a view (``shared`` is the view's): "503" is the
    same red in Request volume and in Errors. HTTP codes take their class's colour; other values (a
    version, a remote app) the palette's next colour the first time the view meets them."""
    if len(split_value) == 3 and split_value.isdigit() and split_value[0] in _CODE_SHADES:
        first, shades, others = _CODE_SHADES[split_value[0]]
        order = (first, *others)
        return shades[order.index(split_value)] if split_value in order else shades[0]
    return shared.setdefault(split_value, _PALETTE[len(shared) % len(_PALETTE)])


def format_value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "no data"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit in ("B", "B/s"):
        suffix = "/s" if unit == "B/s" else ""
        for name, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if abs(value) >= size:
                return f"{value / size:.2f} {name}{suffix}"
        return f"{value:.1f} B{suffix}"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "s":  # an uptime in its two largest units; a runtime's durations (a GC pause, 0.35 s) as they are
        return duration_text(value) if value >= 60 else f"{_three_digits(value)} s"
    return f"{_three_digits(value)} {unit}".rstrip()


def duration_text(seconds: float) -> str:
    """A time span in its two largest units: "24 d 3 h", "5 h 12 min", "3 min 20 s", "42 s"."""
    left = max(0, int(seconds))
    for big, big_size, small, small_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if left >= big_size:
            return f"{left // big_size} {big} {left % big_size // small_size} {small}"
    return f"{left} s"


# a y axis in seconds is labelled in the largest of these its top value reaches twice
_TIME_UNITS = (("d", 86400.0), ("h", 3600.0), ("min", 60.0))


def _three_digits(value: float) -> str:
    """About three significant digits in plain decimals, never an exponent ("1e+03", "4e-05" are no
    way to tell a rate): 0.00004, 0.125, 12.5, 1,000, 12,346."""
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class _FloorLabelledAxis(pg.AxisItem):
    """A y axis whose labels may reach past its ends by half a line, as pyqtgraph allows without a grid: with
    the grid on it hid them, the floor's "0" (every chart's, the y axis starting at 0) among them."""

    def boundingRect(self) -> QRectF:  # noqa: N802 - pyqtgraph's
        rect: QRectF = super().boundingRect()
        if self.grid is False:
            return rect
        return rect.adjusted(0, -15, 0, 15)  # (pyqtgraph's own allowance without a grid)


class PercentAxis(_FloorLabelledAxis):
    """A y axis for shares (0..1 in the data) labelled in percent, with just enough decimals that
    neighbouring ticks differ ("0.02%", "0.04%"; "20%", "40%")."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's
        step = spacing * scale * 100  # inf for spacings near the float limit: no decimals then
        decimals = min(6, max(0, -math.floor(math.log10(step)))) if 0 < step < math.inf else 0
        return [f"{v * scale * 100:.{decimals}f}%" if math.isfinite(v * scale * 100) else "" for v in values]


_BYTE_UNITS = (("GB", 1e9), ("MB", 1e6), ("kB", 1e3))


class UnitAxis(_FloorLabelledAxis):
    """A y axis in plain numbers: bytes in kB/MB/GB ("2 MB/s", not "2e+06"), other units in plain
    decimals with thousands separators ("0.00002", "40,000", never "2e-05")."""

    def __init__(self, unit: str, **kw: object) -> None:
        super().__init__(**kw)
        self.unit = unit
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802,N803 - pyqtgraph's
        """Seconds tick at round numbers of the unit they are labelled in (5 d, 10 d; not every 500,000 s,
        "5.8 d")."""
        levels: list[tuple[float, float]] = super().tickSpacing(minVal, maxVal, size)
        if self.unit != "s" or not levels:
            return levels
        top = max((abs(x) for x in (minVal, maxVal) if math.isfinite(x)), default=0.0)
        unit = next((z for _n, z in _TIME_UNITS if top >= 2 * z), 1.0)
        if unit == 1.0:
            return levels
        scaled: list[tuple[float, float]] = super().tickSpacing(minVal / unit, maxVal / unit, size)
        return [(spacing * unit, offset * unit) for spacing, offset in scaled]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's
        step = spacing * scale
        if not (0 < step < math.inf):
            return [super().tickStrings([v], scale, spacing)[0] if math.isfinite(v * scale) else "" for v in values]
        name, size = "", 1.0
        if self.unit in ("B", "B/s"):
            top = max((abs(x) * scale for x in self.range if math.isfinite(x)), default=0.0)
            name, size = next(((n, z) for n, z in _BYTE_UNITS if top >= z), ("B", 1.0))
            name = f" {name}{'/s' if self.unit == 'B/s' else ''}"
        elif self.unit == "s":
            top = max((abs(x) * scale for x in self.range if math.isfinite(x)), default=0.0)
            name, size = next(((n, z) for n, z in _TIME_UNITS if top >= 2 * z), ("s", 1.0))
            name = f" {name}"
        decimals = min(9, max(0, -math.floor(math.log10(step / size))))
        return [f"{v * scale / size:,.{decimals}f}{name}" if math.isfinite(v * scale) else "" for v in values]


class TimeAxis(pg.DateAxisItem):
    """pyqtgraph's time axis, which shows hours and minutes alone below a day's span: where the charted
    range crosses midnight or lies on another day than today (a replayed moment), the first labelled tick
    of each day says its date too ("Nov 27 14:05"), the ticks spaced for it."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.clock: Callable[[], float] = time.time  # what "today" is
        self._major = 0.0  # the labelled ticks' spacing (the dates go on those)
        self._midnights: list[float] = []
        self._dated = False

    def _day(self, t: float) -> date:
        return utcfromtimestamp(adjustTimestampToPreferredUtcOffset(t, self.utcOffset)).date()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803 - pyqtgraph's
        first, last = self._day(minVal), self._day(maxVal)
        self._dated = maxVal - minVal < 5 * 86400 and not (first == last == self._day(self.clock()))
        # a dated label is two to three times as wide as "14:05": the ticks half as many, so it has room
        levels: list[tuple[float, list[float]]] = super().tickValues(minVal, maxVal, size / 2 if self._dated else size)
        # the coarsest level below a day with a tick in sight (an hour's has none in a 30 min range), and
        # the midnights in sight (pyqtgraph labels those with the day)
        self._major = next((spacing for spacing, values in levels if spacing < 86400 and len(values)), 0.0)
        self._midnights = sorted(v for spacing, values in levels if spacing >= 86400 for v in values)
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's
        strings: list[str] = super().tickStrings(values, scale, spacing)
        if not self._dated:
            return strings
        if spacing >= 86400:  # a midnight: its date ("Jun 13"), not the day of the week and month alone ("Fri 13")
            return [f"{self._day(v):%b} {self._day(v).day}" if text else text
                    for v, text in zip(values, strings, strict=True)]
        if spacing != self._major:
            return strings
        out, said = [], None
        for v, text in zip(values, strings, strict=True):
            day = self._day(v)
            midnight = next((m for m in reversed(self._midnights) if m <= v), None)
            if text and day != said and (midnight is None or self._day(midnight) != day):
                said = day
                text = f"{day:%b} {day.day} {text}"
            out.append(text)
        return out


class SeriesAxis(pg.AxisItem):
    """The x axis of a chart of series (a runtime dashboard's ``xAxis: series``): a tick under each bar, named
    by its line, at 1, 2, 3..."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.names: list[str] = []

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803 - pyqtgraph's
        return [(1.0, [float(i + 1) for i in range(len(self.names)) if minVal <= i + 1 <= maxVal])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's
        return [self.names[int(v) - 1] if 1 <= int(v) <= len(self.names) else "" for v in values]


class Bars(pg.BarGraphItem):
    """A line of a bar chart (a runtime dashboard's ``chartType: bar``): a bar at each of its times, beside
    the bars of the chart's other lines at that time (as Kiali groups them), or one bar, its latest value,
    in a chart of series. Its colour fills the bars; its legend entry is a filled square."""

    def __init__(self, colour: str, name: str) -> None:
        super().__init__(x=np.zeros(0), height=np.zeros(0), width=1.0, brush=pg.mkBrush(colour), pen=pg.mkPen(None))
        self.opts["name"] = name
        self.times: list[float] = []
        self.values: list[float] = []

    def name(self) -> str:
        return str(self.opts.get("name", ""))

    def place(self, x: Sequence[float], heights: Sequence[float], width: float) -> None:
        """Bars at ``x`` (their centres), ``heights`` high, ``width`` wide; a missing value (NaN) has none."""
        xs, ys = np.asarray(x, dtype=float), np.asarray(heights, dtype=float)
        kept = np.isfinite(ys)
        self.setOpts(x=xs[kept], height=ys[kept], width=width)


# a chart's lines drawn as: a line, an area (filled down to its floor), a bar, a point (Kiali's chart types)
LINE, AREA, BAR, SCATTER = "line", "area", "bar", "scatter"


class MetricChart(QWidget):
    """A titled chart with a status line. ``set_lines`` updates it in place."""

    # the chart was folded or opened (its height changes: the view lays the charts out again)
    folded = Signal(bool)

    def __init__(self, key: str, *, compact: bool = False, colours: dict[str, str] | None = None,
                 parent: QWidget | None = None, chart: Chart | None = None) -> None:
        """``chart``: the definition of a chart that is none of ``CHARTS_BY_KEY``'s (a runtime dashboard's)."""
        super().__init__(parent)
        self.colours = colours if colours is not None else {}  # split value -> colour, shared by a view
        self.key = key
        self.chart = chart if chart is not None else CHARTS_BY_KEY[key]
        self.compact = compact
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        unit = "%" if self.chart.unit == "ratio" else self.chart.unit  # shares are shown in percent
        # (a count of something, a dashboard's chart with no unit: no empty brackets)
        self._unit = unit
        self._title_html = self._titled("light")
        self.title = QLabel(self._title_html)
        self.status = QLabel("")
        self.status.setObjectName("chartStatus")
        self.status.setWordWrap(not compact)  # a wrapping label asks for height by width, which skews a strip of charts
        self.status.setProperty("role", "warning")  # the theme's warning colour: a fixed orange read 3.3:1 on the dark theme
        self.status.hide()
        # a chart of series (a runtime dashboard's xAxis: series) has a bar per line on its x axis, not times
        self.series_axis = SeriesAxis(orientation="bottom") if not compact and self.chart.x_axis == "series" else None
        self.time_axis = None if compact or self.series_axis is not None else TimeAxis(orientation="bottom")
        axis: dict[str, pg.AxisItem] = {}
        if self.time_axis is not None or self.series_axis is not None:
            axis["bottom"] = self.time_axis if self.time_axis is not None else self.series_axis
        self.drawn_as = self._drawn_as()
        axis["left"] = PercentAxis(orientation="left") if self.chart.unit == "ratio" else \
            UnitAxis(self.chart.unit, orientation="left")
        # no right-click menus: the view box's is not made at all (made and then thrown away, it was an
        # eighth of the time the Metrics dock's first show spent making its charts)
        self.plot = pg.PlotWidget(axisItems=axis, viewBox=pg.ViewBox(enableMenu=False))
        self.plot.setMenuEnabled(False)
        self.plot.setAccessibleName(f"{self.chart.title} ({unit})" if unit else self.chart.title)  # a screen reader's name: the title it shows
        self.plot.setObjectName("metricChart")  # (the style sheet's frame while it has the keyboard)
        self.plot.setMinimumHeight(60 if compact else 160)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.showGrid(x=not compact, y=True, alpha=0.2)
        if compact:
            self.plot.hideAxis("bottom")
            self.plot.getAxis("left").setWidth(64)  # "7.5 MB/s", "0.00010" fit
        self.view_box = self.plot.getPlotItem().getViewBox()
        self.view_box.setMouseEnabled(x=True, y=False)
        # the y axis starts at 0 (or at the chart's own min: a runtime dashboard's): the view may not go below
        # it, and auto-ranging takes in a point there (a curve with no pen: it draws nothing but counts for the
        # data's bounds, unlike a hidden item); a chart with a max keeps its y axis from there to that max
        self._base = float(self.chart.y_min) if self.chart.y_min is not None else 0.0
        self._fixed_y = (self._base, float(self.chart.y_max)) if self.chart.y_max is not None else None
        self.view_box.setLimits(yMin=self._base)
        self._floor = self.plot.plot([], [], pen=pg.mkPen(None))
        self._scale_shown = True  # the y axis is labelled along its scale (see _show_scale)
        self._fix_y()
        self.legend = None if compact else self.plot.addLegend(offset=(4, 4))
        self.items: dict[tuple[str, str], pg.PlotDataItem | Bars] = {}
        self._item_colour: dict[tuple[str, str], str] = {}
        self._series_keys: list[tuple[str, str]] = []  # a chart of series: its lines' keys, in their places
        self._lines: dict[tuple[str, str], Line] = {}
        # a chart that starts folded (a runtime dashboard's startCollapsed): its title beside a button that
        # opens it (a click on the title too) and folds it again
        self.collapsed = False
        self.fold_button: QToolButton | None = None
        if self.chart.start_collapsed and not compact:
            header = QHBoxLayout()
            header.setContentsMargins(0, 0, 0, 0)
            header.setSpacing(2)
            self.fold_button = QToolButton()
            self.fold_button.setAutoRaise(True)
            self.fold_button.clicked.connect(lambda: self.set_collapsed(not self.collapsed))
            header.addWidget(self.fold_button)
            header.addWidget(self.title, 1)
            self.title.installEventFilter(self)
            self.title.setCursor(Qt.CursorShape.PointingHandCursor)
            layout.addLayout(header)
        else:
            layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        # crosshair
        self.v_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.hover = pg.TextItem("", anchor=(0, 0), color="#222", fill=pg.mkBrush(255, 255, 255, 220))
        for item in (self.v_line, self.hover):
            item.setVisible(False)
            self.plot.addItem(item, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._clicked)  # double-click: follow the data again
        from meshdesk.ui.theme import current_theme, theme_signals  # follow the app's light/dark theme

        theme_signals.changed.connect(self.set_theme)
        self.set_theme(current_theme())
        if self.fold_button is not None:
            self.set_collapsed(True)

    def _drawn_as(self) -> str:
        """How the lines are drawn: as the chart says (Kiali's chartType), lines by default; a chart of series
        as bars (or points, a scatter chart's), one per line."""
        kind = self.chart.drawn_as
        if self.chart.x_axis == "series":
            return SCATTER if kind == SCATTER else BAR
        return kind or LINE

    def _fix_y(self) -> None:
        """A chart with a max: its y axis from its min (or 0) to that max, whatever the data (Kiali's domain)."""
        if self._fixed_y is not None:
            self.view_box.setYRange(*self._fixed_y, padding=0.0)
            self.view_box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=False)

    # -- folding -------------------------------------------------------------------------------
    def set_collapsed(self, collapsed: bool) -> None:
        """Fold the chart to its title, or open it (only a chart that started folded can be)."""
        if self.fold_button is None:
            return
        self.collapsed = collapsed
        self.plot.setVisible(not collapsed)
        self.status.setVisible(bool(self.status.text()) and not collapsed)
        self.fold_button.setArrowType(Qt.ArrowType.RightArrow if collapsed else Qt.ArrowType.DownArrow)
        said = f"{'Show' if collapsed else 'Fold'} the chart {self.chart.title}"
        self.fold_button.setToolTip(said)
        self.fold_button.setAccessibleName(said)
        self.setMaximumHeight(self.folded_height() if collapsed else 16777215)
        self.folded.emit(collapsed)

    def folded_height(self) -> int:
        """The height of the chart folded: its title's."""
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else None
        top_bottom = margins.top() + margins.bottom() if margins is not None else 0
        button = self.fold_button.sizeHint().height() if self.fold_button is not None else 0
        return max(self.title.sizeHint().height(), button) + top_bottom

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's
        if watched is self.title and event.type() == QEvent.Type.MouseButtonRelease:
            self.set_collapsed(not self.collapsed)
            return True
        return super().eventFilter(watched, event)

    def _titled(self, theme: str) -> str:
        """The title, its unit in the theme's hint grey (a fixed grey read 3.6:1 in the light theme, 4:1
        in the dark one)."""
        from meshdesk.ui.theme import HINT

        grey = HINT.get(theme, HINT["light"])
        said = f" <span style='color:{grey}'>({html.escape(self._unit)})</span>" if self._unit else ""
        return f"<b>{html.escape(self.chart.title)}</b>{said}"

    @Slot(str)
    def set_theme(self, name: str) -> None:
        """Draw on the ``light`` or ``dark`` theme's colours (a white chart glared in the dark theme)."""
        background, ink, hover_fill = _CHART_THEMES.get(name, _CHART_THEMES["light"])
        self.theme = name if name in _CHART_THEMES else "light"
        self._title_html = self._titled(self.theme)
        self._key_in_title()
        self.plot.setBackground(background)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(ink))
            axis.setTextPen(pg.mkPen(ink))
        if self.legend is not None:
            self.legend.setLabelTextColor(ink)
            # backed as the crosshair's text is: a line running under it (a steady one sits at the top left,
            # where it is) struck through every name
            self.legend.setBrush(pg.mkBrush(hover_fill))
        self.hover.setColor(QColor(ink))
        self.hover.fill = pg.mkBrush(hover_fill)

    # -- data ----------------------------------------------------------------------------------
    def set_lines(self, lines: Sequence[Line], span: tuple[float, float] | None = None) -> None:
        """Show ``lines``: existing items get new data (a line the user hid in the legend stays hidden),
        new keys get an item, vanished keys leave the plot and the legend. Colours follow the lines now
        shown, not what the chart showed before: a split value's the view's colour for it, the others
        the palette's in their order. ``span``: the times (first, last) the chart is of, kept in view when
        there is no line to range on (an Errors chart with no error series beside full ones): its time
        axis is its neighbours', not the first second of 1970 ticked "00.250", "00.500".

        No lines (a new selection's charts, emptied until its answer): the items stay in the plot, empty,
        the legend hidden, for the next lines of the same stat and split value to take over in place (a
        selection's charts were each taken apart and made again, legend and all: most of the time a click
        cost the window). Such an item is shown again if the user hid it: the next lines are another's."""
        wanted = list(dict.fromkeys((line.stat, line.split_value) for line in lines))
        if not wanted:
            emptied = bool(self._lines)
            for item in self.items.values():
                if emptied:
                    item.setData([], [])
                if not item.isVisible():
                    item.setVisible(True)
            self._lines.clear()
        else:
            wanted_set = set(wanted)
            kept = [k for k in self.items if k in wanted_set]
            if kept != wanted[:len(kept)]:
                # the legend lists the lines in the order given: items it would list in another go
                for key in kept:
                    self.plot.removeItem(self.items.pop(key))
            for key in [k for k in self.items if k not in wanted_set]:
                self.plot.removeItem(self.items.pop(key))  # from the legend too
                self._lines.pop(key, None)
            for key in [k for k in self._item_colour if k not in self.items]:
                del self._item_colour[key]
        seen: dict[tuple[str, str], None] = {}  # (in the order given)
        unsplit = 0
        for line in lines:
            key = (line.stat, line.split_value)
            if key in seen:
                continue
            seen[key] = None
            if line.split_value:
                color = line_colour(line.split_value, self.colours)
            else:
                color = _PALETTE[unsplit % len(_PALETTE)]
                unsplit += 1
            x = np.asarray(line.times, dtype=float)
            y = np.asarray(line.values, dtype=float)
            if self.series_axis is not None:  # a chart of series: its latest value, at its place on the x axis
                x, y = self._latest(len(seen), y)
            item = self.items.get(key)
            # the legend draws its names as rich text: a label value with "<" or "&" in it (a relabelled
            # series) lost its words between angle brackets
            name = html.escape(line.name)
            if item is None:
                item = self._new_item(x, y, color, line.stat, name)
                self.items[key] = item
            else:
                if self._item_colour.get(key) != color:
                    self._colour_item(item, color, line.stat)
                if item.opts.get("name") != name:
                    item.opts["name"] = name
                    label = self.legend.getLabel(item) if self.legend is not None else None
                    if label is not None:
                        label.setText(name)
                if isinstance(item, Bars):
                    item.times, item.values = list(x), list(y)
                else:
                    item.setData(x, y, connect="finite")
            self._item_colour[key] = color
            self._lines[key] = line
        if self.drawn_as == BAR:
            self._place_bars()
        if self.series_axis is not None:
            self._series_keys = list(seen)  # (in the order placed: 1, 2...)
            self.series_axis.names = [self._lines[key].name for key in self._series_keys]
            self.series_axis.picture = None  # (pyqtgraph's cache of its ticks)
            self.series_axis.update()
        if self.compact:
            self._key_in_title()
        if self.legend is not None:
            # one line named as the chart is said by the title: its legend only covered the line's start;
            # no line, no legend (the items kept empty are no one's lines)
            names = [line.name for line in self._lines.values()]
            self.legend.setVisible(bool(names) and names != [self.chart.title])
        starts = [line.times[0] for line in lines if line.times]
        base = self._base
        if self.series_axis is not None:  # (its x axis is the lines' places, 1, 2...: the floor at the first)
            starts = [1.0] if starts else []
            span = (0.5, 1.5) if span is not None else None
        if not starts and span is not None and span[0] < span[1]:
            # nothing to range on but the range asked: its times, 0 to 1 above them
            self._floor.setData([span[0], span[1]], [base, base + 1.0])
        elif not starts:
            # nothing to range on: pyqtgraph would keep the last selection's axis; show 0 to 1
            self._floor.setData([], [])
            if self.view_box.state["autoRange"][1]:
                self.view_box.setYRange(base, base + 1.0, padding=0.0)
                self.view_box.enableAutoRange(axis=pg.ViewBox.YAxis)
        elif any(v > base for line in lines for v in line.values):
            self._floor.setData([min(starts)], [base])
        else:  # nothing above zero: pyqtgraph would keep the last range; show 0 to 1
            self._floor.setData([min(starts)] * 2, [base, base + 1.0])
        self._show_scale(any(math.isfinite(v) for line in lines for v in line.values))

    def _show_scale(self, shown: bool) -> None:
        """A chart with no value to measure (no line, or only undefined points: "No errors", "No data")
        labels its y axis at its floor alone: the 0.2 steps up to 1 of its 0-to-1 range scaled nothing,
        and a short dock, which shows the top of a chart, showed only "1.0" and "0.8" of it, as if an
        Errors chart with no errors had errors near 1 a second."""
        if shown == self._scale_shown:
            return
        self._scale_shown = shown
        axis = self.plot.getAxis("left")
        floor = axis.tickStrings([self._base], 1.0, 1.0)[0]
        axis.setTicks(None if shown else [[(self._base, floor)], []])

    def _latest(self, place: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A line of a chart of series: its latest value (Kiali's), at its ``place`` (1, 2...) on the x axis."""
        finite = values[np.isfinite(values)]
        return np.asarray([float(place)]), np.asarray([finite[-1] if finite.size else math.nan])

    def _new_item(self, x: np.ndarray, y: np.ndarray, colour: str, stat: str, name: str) -> pg.PlotDataItem | Bars:
        """A line's item, drawn as the chart says: a line, an area filled down to the floor, bars or points."""
        if self.drawn_as == BAR:
            bars = Bars(colour, name)
            bars.times, bars.values = list(x), list(y)
            self.plot.addItem(bars)  # (in the legend too, by its name)
            return bars
        pen = pg.mkPen(colour, width=1.5, style=_STAT_STYLE.get(stat, Qt.PenStyle.SolidLine))
        if self.drawn_as == SCATTER:
            return self.plot.plot(x, y, pen=None, symbol="o", symbolSize=6, symbolPen=None,
                                  symbolBrush=pg.mkBrush(colour), connect="finite", name=name)
        if self.drawn_as == AREA:
            fill = QColor(colour)
            fill.setAlpha(90)
            return self.plot.plot(x, y, pen=pen, fillLevel=self._base, fillBrush=pg.mkBrush(fill), connect="finite",
                                  name=name)
        return self.plot.plot(x, y, pen=pen, connect="finite", name=name)

    def _colour_item(self, item: pg.PlotDataItem | Bars, colour: str, stat: str) -> None:
        if isinstance(item, Bars):
            item.setOpts(brush=pg.mkBrush(colour))
        elif self.drawn_as == SCATTER:
            item.setSymbolBrush(pg.mkBrush(colour))
        else:
            item.setPen(pg.mkPen(colour, width=1.5, style=_STAT_STYLE.get(stat, Qt.PenStyle.SolidLine)))
            if self.drawn_as == AREA:
                fill = QColor(colour)
                fill.setAlpha(90)
                item.setFillBrush(pg.mkBrush(fill))

    def _place_bars(self) -> None:
        """The bars of each time side by side, in the lines' order, together most of a step wide (Kiali's
        grouped bars); a chart of series: one bar per line, at its place."""
        bars = [item for key, item in self.items.items() if isinstance(item, Bars) and key in self._lines]
        if self.series_axis is not None:
            for bar in bars:
                bar.place(bar.times, bar.values, 0.6)
            return
        times = next((b.times for b in bars if len(b.times) > 1), [])
        step = float(np.median(np.diff(times))) if len(times) > 1 else 60.0
        width = 0.8 * step / max(1, len(bars))
        for i, bar in enumerate(bars):
            offset = -0.4 * step + (i + 0.5) * width
            bar.place([t + offset for t in bar.times], bar.values, width)

    def _key_in_title(self) -> None:
        """A small chart has no legend box: when it draws several lines (average, p50, p95, p99), its
        title names them in their colours."""
        names = [(line.name, QColor(self._item_colour[key]).name()) for key, line in self._lines.items()
                 if key in self._item_colour]
        key = "" if len(names) < 2 else " " + " ".join(
            f"<span style='color:{colour}'>{html.escape(name)}</span>" for name, colour in names)
        self.title.setText(self._title_html + key)

    def title_text(self) -> str:
        return self.title.text()

    def set_status(self, text: str, role: str = "warning") -> None:
        """``text`` under the title: in the theme's warning colour (a failed or partial query), or with
        ``role`` "hint" in its grey (what an empty chart means: "No errors" is good news)."""
        self.status.setText(text)
        if self.status.property("role") != role:
            self.status.setProperty("role", role)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)
        self.status.setVisible(bool(text) and not self.collapsed)  # (a folded chart says it when opened)

    @property
    def status_text(self) -> str:
        return self.status.text()

    def data(self) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
        """What is drawn, per (stat, split value): (times, values)."""
        out: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        for key, item in self.items.items():
            if item.isVisible() and key in self._lines:
                out[key] = (list(self._lines[key].times), list(self._lines[key].values))
        return out

    # -- view ----------------------------------------------------------------------------------
    @property
    def user_zoomed(self) -> bool:
        """True once the user zoomed or panned (the view no longer follows the data)."""
        auto = self.view_box.state["autoRange"]
        return not (auto[0] and (auto[1] or self._fixed_y is not None))

    def reset_view(self) -> None:
        self.view_box.enableAutoRange(axis=pg.ViewBox.XYAxes, enable=True)
        self._fix_y()

    def move_view(self, seconds: float) -> None:
        """The user's time zoom moved by ``seconds``, its width kept (the charts' end moved: replay). A
        chart following the data on the time axis is left to it."""
        if seconds and not self.view_box.state["autoRange"][0] and self.series_axis is None:
            (x0, x1), _y = self.view_box.viewRange()
            self.view_box.setXRange(x0 + seconds, x1 + seconds, padding=0.0)

    def follow_if_outside(self, first: float, last: float) -> None:
        """Follow the data again when the user's time zoom shows nothing of ``first``..``last`` (the
        times the chart is of): a zoom left behind would show an empty chart."""
        if self.view_box.state["autoRange"][0] or self.series_axis is not None:
            return
        (x0, x1), _y = self.view_box.viewRange()
        if x1 < first or x0 > last:
            self.reset_view()

    def _clicked(self, event: object) -> None:
        if getattr(event, "double", lambda: False)():
            self.reset_view()

    # -- crosshair -----------------------------------------------------------------------------
    def text_at(self, t: float) -> str:
        """The crosshair's text at time ``t``: the nearest grid time and each line's value there."""
        rows: list[str] = []
        when: float | None = None
        if self.series_axis is not None:  # a chart of series: the bar under the mouse, its latest value
            shown = [(key, self._lines[key]) for key in self._series_keys if key in self._lines]
            i = int(round(t)) - 1
            if not 0 <= i < len(shown) or not self.items[shown[i][0]].isVisible():
                return ""
            line = shown[i][1]
            finite = [(at, v) for at, v in zip(line.times, line.values, strict=True) if math.isfinite(v)]
            if not finite:
                return ""
            return f"{clock_text(finite[-1][0])}\n{line.name}: {format_value(finite[-1][1], self.chart.unit)}"
        for key, line in sorted(self._lines.items()):
            item = self.items.get(key)
            if not line.times or item is None or not item.isVisible():  # a line hidden in the legend too
                continue
            i = int(np.argmin(np.abs(np.asarray(line.times) - t)))
            when = line.times[i]
            label = line.name if (line.split_value or line.stat != "rate") else self.chart.title
            rows.append(f"{label}: {format_value(line.values[i], self.chart.unit)}")
        if when is None:
            return ""
        return "\n".join([clock_text(when), *rows])

    def _mouse_moved(self, pos: QPointF) -> None:
        if not self.plot.sceneBoundingRect().contains(pos):
            self.v_line.setVisible(False)
            self.hover.setVisible(False)
            return
        point = self.view_box.mapSceneToView(pos)
        text = self.text_at(point.x())
        if not text:
            return
        self.v_line.setPos(point.x())
        self.hover.setText(text)
        # the text on the side of the mouse with room for it: right of and below it in the view's upper
        # left, left of or above it nearer the right or bottom edge, where it was drawn outside the plot
        # (the latest values, at the right edge, could not be read)
        (left, right), (bottom, top) = self.view_box.viewRange()
        self.hover.setAnchor((1 if point.x() > (left + right) / 2 else 0, 1 if point.y() < (bottom + top) / 2 else 0))
        self.hover.setPos(point.x(), point.y())
        self.v_line.setVisible(True)
        self.hover.setVisible(True)


