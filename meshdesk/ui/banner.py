"""A non-modal banner above the graph: what went wrong (by error kind), what to do, and Retry.

The graph under it keeps showing the last good data; the banner says how old that data is."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from meshdesk.ui.messages import advice_for, title_for

_STYLE = {
    "error": "QFrame#banner { background: #fdecea; border: 1px solid #e0a09a; border-radius: 4px; }"
             " QLabel { color: #611a15; }",
    "warning": "QFrame#banner { background: #fff4e5; border: 1px solid #e8c48a; border-radius: 4px; }"
               " QLabel { color: #663c00; }",
    "info": "QFrame#banner { background: #e8f4fd; border: 1px solid #9cc8ea; border-radius: 4px; }"
            " QLabel { color: #0d3c61; }",
}


# A note quoting a value from a damaged file (a context name or a layout's view a megabyte long) was laid out,
# word-wrapped, as one unbreakable word: the window froze for most of a minute (a 100,000-character word takes
# 2.5 s), and as wide as the word, the window grew past the screen. A word longer than this (no path or name
# anyone reads) is shown by its first 60 and last 40 characters; a text longer than _LONGEST_TEXT likewise.
_LONGEST_WORD = 500
_LONGEST_TEXT = 10_000
_LONG_WORD = re.compile(rf"\S{{{_LONGEST_WORD + 1},}}")


def _cut(text: str, head: int, tail: int) -> str:
    return f"{text[:head]}\u2026{text[-tail:]} ({len(text):,} characters)"


def readable(text: str) -> str:
    """``text`` as the banner can lay it out at once: each word (a run without a space) of more than
    ``_LONGEST_WORD`` characters cut to its start and end around an ellipsis, with its length, and the whole
    text likewise when it is still longer than ``_LONGEST_TEXT``."""
    text = _LONG_WORD.sub(lambda m: _cut(m.group(0), 60, 40), text)  # (a hundred characters fit beside the docks)
    return text if len(text) <= _LONGEST_TEXT else _cut(text, _LONGEST_TEXT * 3 // 4, _LONGEST_TEXT // 5)


class Banner(QFrame):
    retryRequested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.kind = ""
        self.note_text = ""  # the text of the note shown (show_note), as it was given
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.text_label = QLabel()
        # always rich text: the notes are escaped, and Qt's guess takes a one-line note for plain text
        # and shows its escapes ("Namespaces &gt; Other namespace…")
        self.text_label.setTextFormat(Qt.TextFormat.RichText)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.text_label, 1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Try again now")
        self.retry_button.clicked.connect(self.retryRequested)
        lay.addWidget(self.retry_button)
        self.close_button = QPushButton("Dismiss")
        self.close_button.clicked.connect(self._dismiss)
        lay.addWidget(self.close_button)
        self.setStyleSheet(_STYLE["error"])
        self.hide()

    def show_error(self, kind: str, message: str, *, retry_in: float | None = None,
                   data_age: str = "", advice: str | None = None, retry_words: str = "",
                   title: str = "") -> None:
        """Show (or update) the banner for an error of ``kind`` (SourceError.kind). ``advice``: what
        to do, in place of the kind's (``SourceError.advice``); ``retry_words``: how the retry is said,
        in place of "Retrying in N s." (``SourceError.retry_words``); ``title``: the error's own, in
        place of the kind's (``SourceError.title``)."""
        self.kind = kind
        self.note_text = ""
        parts = [f"<b>{_esc(title or title_for(kind))}</b>: {_esc(readable(message))}"]
        advice = advice_for(kind) if advice is None else advice
        if advice:
            parts.append(_esc(advice))
        tail = []
        if data_age:
            tail.append(f"Showing the last good data ({_esc(data_age)}).")
        if retry_in is not None:
            tail.append(_esc((retry_words or "Retrying in {seconds} s.").format(seconds=f"{retry_in:.0f}")))
        if tail:
            parts.append(" ".join(tail))
        self.text_label.setText("<br>".join(parts))
        self.setStyleSheet(_STYLE["error"])
        self.retry_button.setVisible(True)
        self.show()

    def show_note(self, text: str, level: str = "info") -> None:
        """A note without Retry (e.g. a warning from the graph builder)."""
        self.kind = level
        self.note_text = text
        self.text_label.setText(_esc(readable(text)).replace("\n", "<br>"))
        self.setStyleSheet(_STYLE.get(level, _STYLE["info"]))
        self.retry_button.setVisible(False)
        self.show()

    def text(self) -> str:
        """What the banner says, as the user reads it (markup and escapes resolved)."""
        doc = QTextDocument()
        doc.setHtml(self.text_label.text())
        return doc.toPlainText().replace("\u2028", "\n").replace("\u2029", "\n")

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


def _esc(s: str) -> str:
    return html.escape(s, quote=False)
