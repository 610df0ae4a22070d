"""The event loop's gaps, as the benchmarks of the window measure them: a timer on the UI thread ticks every
few milliseconds and records how long it has been since its last tick; a long gap is the window frozen."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer


class Heartbeat:
    """``gaps``: the milliseconds between ticks since the last :meth:`restart`; :meth:`longest` counts the one
    still running (a freeze not over when it is asked)."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now

    def start(self) -> None:
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def restart(self) -> None:
        """Forget the gaps so far: the next step's are counted from now."""
        del self.gaps[:]
        self._last = self._clock.nsecsElapsed()

    def longest(self, *others_ms: float) -> float:
        """The longest gap since :meth:`restart`, the running one included, or any of ``others_ms`` if longer."""
        return max([*self.gaps, (self._clock.nsecsElapsed() - self._last) / 1e6, *others_ms])
