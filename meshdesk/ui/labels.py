"""A label for names: Kubernetes names have no spaces, so a word-wrapped label cannot break a long
one and either clips it or widens its window. ``NameLabel`` lets Qt break plain text after the
characters names are made of ("-", ".", "/", "_", ":"), and says the whole text in its tooltip when
it is long."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
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
