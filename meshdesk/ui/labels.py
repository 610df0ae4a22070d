"""A label for names: Kubernetes names have no spaces, so a word-wrapped label cannot break a long
one and either clips it or widens its window. ``NameLabel`` lets Qt break plain text after the
characters names are made of ("-", ".", "/", "_", ":"), and says the whole text in its tooltip when
it is long."""

from __future__ import annotations

import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

_BREAK = "\u200b"  # zero width space: where a line may break
_AFTER = re.compile(r"([-./_:])")
LONG = 40  # characters beyond which the tooltip repeats the name


def breakable(text: str) -> str:
    """``text`` with a break point after each character names are made of ("-", ".", "/", "_", ":")."""
    return _AFTER.sub(r"\1" + _BREAK, text)


class NameLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plain = ""
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)  # never widens its window
        self.setSizePolicy(policy)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._plain = text
        super().setText(breakable(text))
        self.setToolTip(text if len(text) > LONG else "")

    def text(self) -> str:
        """The text as it was given (without its break points)."""
        return self._plain


def let_narrow(*widgets: QWidget, width: int = 72) -> None:
    """Let ``widgets`` (combo boxes sized to their longest choice, a pod's name) be narrower than their
    content when the window is: a dock's row of them must not make the window wider than the screen
    (Qt grows a window to its docks' minimum widths). They keep their preferred width when there is room;
    a combo box narrower than its value shows it cut with "…"."""
    for w in widgets:
        w.setMinimumWidth(width)


class ElidedLabel(QLabel):
    """One line that fits the width it is given (a status bar's): cut in the middle with "…" when it
    must be, whole in its tooltip. ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._tip = ""  # a tooltip of its own, said after the whole text when that is cut
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self._fit()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(0, self.width()))
        super().setText(shown)
        whole = self._full if shown != self._full else ""
        super().setToolTip("\n".join(t for t in (whole, self._tip) if t))

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt's name
        self._tip = tip
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 6, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(60, self.sizeHint().width()), super().minimumSizeHint().height())
