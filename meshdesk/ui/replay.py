"""Replay: the graph as it was at an earlier time (Kiali's graph Replay).

A bar over the canvas with a slider across the last hours (one step a minute), a play button that
walks the time forward, and a way back to live. The window turns the chosen time into the graph
request's ``queryTime``; the sources read Prometheus (or the demo's history) at that instant, over
the usual time window. Live polling stops while replaying: a past graph does not change.

The slider counts back from the present of the source (the cluster's clock), and its right end keeps
to that present while replaying: every few seconds, and whenever the slider is used, the right end moves
on to the present, and the moment already shown stays where it was in time (it reads further back; one
at the left end keeps the slider reaching back to it until another is chosen). The inventory (workloads, Istio config) is today's; only the telemetry is from the past, as in
Kiali.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from meshdesk.ui.toolbar import window_label

STEP_S = 60  # the slider's step
# how far back the slider reaches: (seconds, label), said as the toolbar says its time window ("Last 10m")
SPANS: tuple[tuple[int, str], ...] = tuple((s, window_label(s)) for s in (3600, 6 * 3600, 24 * 3600))
# playing: one step forward per tick, as Kiali's replay speeds (x1 ~ a minute every 3 s)
SPEEDS: tuple[tuple[int, str], ...] = ((3000, "Speed x1"), (1500, "Speed x2"), (750, "Speed x4"))
FOLLOW_MS = 5000  # how often the slider's right end moves on to the present while replaying
SPAN_TIP = "How far back the slider reaches"


def reach_text(seconds: int) -> str:
    """A reach in words for the span choice, as the toolbar says a time window: "Last 1h", "Last 6h",
    "Last 2h30m", "Last 45m"."""
    return window_label(seconds)


def duration_text(seconds: int) -> str:
    """A length of time in short words: "6 h", "2 h 30 min", "45 min", "15 d"."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    return ago_text(seconds).removesuffix(" ago")


def ago_text(seconds: float) -> str:
    """How long ago, in words a slider label can carry: "now", "5 min ago", "2 h 10 min ago"."""
    minutes = int(round(seconds / 60))
    if minutes <= 0:
        return "now"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min ago"
    return f"{hours} h {minutes} min ago" if minutes else f"{hours} h ago"


class ReplayBar(QWidget):
    """The replay controls. ``timeChosen(int)`` carries the unix time to show (after the slider
    settles, or a play step); ``liveRequested`` asks to leave replay."""

    timeChosen = Signal(int)
    liveRequested = Signal()

    def __init__(self, clock: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayBar")
        self._clock = clock
        self._present: Callable[[], float] = clock  # the source's clock, from start()
        self.anchor = int(clock())  # "now" of the slider's right end
        # the right end keeps to the present while replaying (a long replay labelled a stale time "now")
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(FOLLOW_MS)
        self.follow_timer.timeout.connect(self._follow_present)
        # a moved slider asks for its graph once it rests a moment, not at every pixel of a drag
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(300)
        self._settle.timeout.connect(self._emit_now)
        self._ticker = QTimer(self)  # playing
        self._ticker.setInterval(SPEEDS[0][0])
        self._ticker.timeout.connect(self._tick)
        self._waiting = False  # playing: the last step's graph has not been shown yet
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Walk the time forward, a minute per step")
        self.play_button.toggled.connect(self._play_toggled)
        self.span = QComboBox()
        self.span.setAccessibleName("Replay reach")  # (a screen reader's names: a value alone says not what it is)
        self.retention: int | None = None  # how long Prometheus keeps its data (seconds), when it said
        for seconds, label in SPANS:
            self.span.addItem(label, seconds)
        self.span.setToolTip(SPAN_TIP)
        self.span.currentIndexChanged.connect(self._span_chosen)
        self.speed = QComboBox()
        self.speed.setAccessibleName("Replay speed")
        for ms, label in SPEEDS:
            self.speed.addItem(label, ms)
        self.speed.currentIndexChanged.connect(lambda _i: self._ticker.setInterval(int(self.speed.currentData())))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        # the bar's one control that must have room: beside the graph of a 1024-pixel-wide window, the label's
        # and the buttons' widths crushed it to its handle, which looked like a check box
        self.slider.setMinimumWidth(self.fontMetrics().horizontalAdvance("x" * 12))
        self.slider.setAccessibleName("Time shown")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderReleased.connect(self._emit_now)
        self.label = QLabel()
        self.live_button = QPushButton("Back to live")
        self.live_button.setToolTip("Leave replay: the graph follows the present again")
        self.live_button.clicked.connect(self.liveRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addWidget(QLabel("<b>Replay</b>"))
        for w in (self.play_button, self.speed, self.span):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.live_button)
        self._span_changed()

    # -- what the window reads and sets ---------------------------------------------------------
    @property
    def time(self) -> int:
        """The unix time the slider points at."""
        return self.anchor - (self.slider.maximum() - self.slider.value()) * STEP_S

    def start(self, back_s: int, now: Callable[[], float] | float | None = None) -> None:
        """Open at ``back_s`` seconds before now (the slider's right end is now): ``now`` when given
        (the cluster's clock; when it is one to call, the right end follows it while replaying), else this
        machine's."""
        if callable(now):
            self._present = now
        elif now is None:
            self._present = self._clock
        else:
            fixed = float(now)
            self._present = lambda: fixed
        self.anchor = int(self._present())
        self.play_button.setChecked(False)
        self._span_changed()
        with QSignalBlocker(self.slider):
            self.slider.setValue(self.slider.maximum() - min(self.slider.maximum(), back_s // STEP_S))
        self._show_label()
        self.follow_timer.start()
        self._emit_now()

    def set_retention(self, seconds: float | None) -> None:
        """Prometheus keeps its data ``seconds`` (None: it did not say, as Thanos, Mimir or VictoriaMetrics
        may not): the slider reaches no further back, as Kiali's Replay keeps to the retention (before it,
        a graph has no telemetry at all); the reaches beyond it are not offered."""
        retention = max(STEP_S, int(seconds) // STEP_S * STEP_S) if seconds else None
        if retention == self.retention:
            return
        self.retention = retention
        spans = [(s, label) for s, label in SPANS if retention is None or s < retention]
        if retention is not None and retention < SPANS[-1][0]:
            spans.append((retention, reach_text(retention)))
        chosen = int(self.span.currentData())
        with QSignalBlocker(self.span):
            self.span.clear()
            for s, label in spans:
                self.span.addItem(label, s)
            fits = [i for i, (s, _label) in enumerate(spans) if s <= chosen]
            self.span.setCurrentIndex(fits[-1] if fits else 0)
        self.span.setToolTip(SPAN_TIP if retention is None or retention >= SPANS[-1][0] else
                             f"{SPAN_TIP}: Prometheus keeps {duration_text(retention)} of data (its retention), "
                             "so the slider reaches no further back")
        if int(self.span.currentData()) == chosen:
            self._show_label()  # (the slider's tooltip says how far back Prometheus keeps data)
        elif self.follow_timer.isActive():
            self._span_chosen()  # the reach was cut to the retention: a moment before it moves into it
        else:
            self._span_changed()  # not replaying: start() asks for the graph of the moment it opens on

    def set_time(self, t: int) -> None:
        """Point the slider at ``t`` (clamped to the span) and ask for its graph."""
        self._follow_present()
        steps_back = max(0, (self.anchor - int(t)) // STEP_S)
        self.slider.setValue(self.slider.maximum() - steps_back)
        self._emit_now()

    def step(self) -> None:
        """One step forward; at the right end, playing stops."""
        self._follow_present()
        if self.slider.value() >= self.slider.maximum():
            self.play_button.setChecked(False)
            return
        with QSignalBlocker(self.slider):
            self.slider.setValue(self.slider.value() + 1)
        self._show_label()
        self._emit_now()

    def stop(self) -> None:
        self.play_button.setChecked(False)
        self._settle.stop()
        self.follow_timer.stop()

    def frame_shown(self) -> None:
        """The window showed the graph asked for last (or gave up on it): playing may step on."""
        self._waiting = False

    def _tick(self) -> None:
        # a step waits for the graph of the one before: stepping on while a fetch takes longer than a
        # step cancelled every fetch, and the canvas showed none of the frames played
        if not self._waiting:
            self.step()

    # -- internals ----------------------------------------------------------------------------------
    def _follow_present(self, *, keep: bool = True) -> None:
        """Move the right end on to the source's present, by whole steps. ``keep``: the moment pointed at
        stays (it reads further back; one that the left end would leave behind keeps the slider reaching
        back to it until another moment is chosen, so a moment on show is never changed unasked), else the
        slider's place keeps its meaning (so many minutes back from now, as the user just put it)."""
        passed = (int(self._present()) - self.anchor) // STEP_S
        if self.slider.isSliderDown():
            passed = 0  # not under a drag: its release, or the next tick, follows
        if passed > 0:
            self.anchor += passed * STEP_S
            if keep:
                value = self.slider.value() - passed
                with QSignalBlocker(self.slider):
                    self.slider.setMinimum(min(self.slider.minimum(), value))
                    self.slider.setValue(value)
        if self.slider.minimum() < 0 and not self.slider.isSliderDown():
            # the reach past the span was for a moment no longer pointed at: back to the span (not under a
            # drag: the handle would jump away from the mouse)
            with QSignalBlocker(self.slider):
                self.slider.setMinimum(min(0, self.slider.value()))
        self._show_label()

    def _span_changed(self) -> None:
        back = self.anchor - self.time if self.slider.maximum() else 0
        steps = int(self.span.currentData()) // STEP_S
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, steps)
            self.slider.setValue(max(0, steps - back // STEP_S))
        # as wide as the span's longest time, so that it does not jump while the replay plays; no wider (held
        # at 190 pixels, beside the graph of a 1024-pixel-wide window it crushed the slider to its handle)
        longest = f"88:88 ({ago_text(max(0, int(self.span.currentData()) - 60))})"
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(longest) + 4)
        self._show_label()

    def _span_chosen(self) -> None:
        before = self.time
        self._span_changed()
        self._follow_present()  # (in the reach chosen: a longer one keeps a moment the shorter lost)
        if self.time != before:  # a shorter span moved the time to its start: show that graph
            self._emit_now()

    def _moved(self, _value: int) -> None:
        self._follow_present(keep=False)  # the place just chosen counts back from the present
        self._show_label()
        if not self.slider.isSliderDown():
            self._settle.start()

    def _emit_now(self) -> None:
        self._follow_present(keep=False)
        self._settle.stop()
        self._waiting = True
        self.timeChosen.emit(self.time)

    def _play_toggled(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            if self.slider.value() >= self.slider.maximum():  # at the end: play from the start
                with QSignalBlocker(self.slider):
                    self.slider.setValue(0)
                self._show_label()
                self._emit_now()
            self._ticker.start()
        else:
            self._ticker.stop()

    def _show_label(self) -> None:
        t = self.time
        # how long ago by the present, which the right end may not have caught up with (see _follow_present)
        ago = max(self.anchor, int(self._present())) - t
        self.label.setText(f"{_clock_time(t)} ({ago_text(ago)})")
        left = self.anchor - (self.slider.maximum() - self.slider.minimum()) * STEP_S
        kept = (" (Prometheus keeps no older data)" if self.retention is not None and not self.slider.minimum()
                and int(self.span.currentData()) >= self.retention else "")
        self.slider.setToolTip(f"The moment the graph shows (its time window ends there): from {_clock_time(left)}"
                               f"{kept} to {_clock_time(self.anchor)} (now)")


def _clock_time(t: int) -> str:
    return time.strftime("%H:%M", time.localtime(t))
