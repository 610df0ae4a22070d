"""Ctrl+C copies the text the user selected, even where the window has its own Copy.

The main window's "Copy details" has the platform's Copy keys as a window-wide shortcut. Qt lets a
window-wide shortcut win over the focused widget unless the widget claims the keys first (its
``ShortcutOverride``); editable text and line edits do, but read-only text views (YAML, logs, Envoy's
config dumps), text browsers, selectable labels and tables do not, so Ctrl+C there copied the details
panel instead of the selection. :class:`TextCopyKeys` claims the Copy keys for such widgets, so the key
reaches the widget and it copies its own selection (a table: its current cell), as it does in any
other window.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_WINDOW_COPIES = "meshdeskWindowCopies"  # a widget property: see leave_copy_keys_to_the_window
_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard


def copies_its_selection(widget: QWidget) -> bool:
    """Whether Ctrl+C in ``widget`` copies something the user selected in it: text in a text view,
    browser, line edit or selectable label, or a cell of a table or list."""
    if isinstance(widget, QLabel):
        return bool(widget.textInteractionFlags() & _SELECTABLE)
    return isinstance(widget, (QPlainTextEdit, QTextEdit, QLineEdit, QAbstractItemView))


def leave_copy_keys_to_the_window(widget: QWidget) -> None:
    """In ``widget`` and all it holds, Ctrl+C stays the window's Copy action (the details panel: its
    Ctrl+C copies the whole details, as the View menu's "Copy details" does)."""
    widget.setProperty(_WINDOW_COPIES, True)


def _inside(widget: QWidget | None, ancestor: QWidget) -> bool:
    """Whether ``widget`` is ``ancestor`` or lies in it, also across a window boundary (a floating dock
    is its own window, but still the main window's child)."""
    while widget is not None:
        if widget is ancestor:
            return True
        widget = widget.parentWidget()
    return False


def _left_to_the_window(widget: QWidget | None) -> bool:
    while widget is not None:
        if widget.property(_WINDOW_COPIES):
            return True
        widget = widget.parentWidget()
    return False


class TextCopyKeys(QObject):
    """Hands the Copy keys to the focused widget of its window (the parent) that copies its own
    selection, except in the widgets :func:`leave_copy_keys_to_the_window` marked. It watches the
    application's events, since a floating dock's widgets send theirs to the dock, not the window; it
    goes with the window. It keeps no reference to the window but Qt's parent link (no cycle)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent) \
                or not isinstance(watched, QWidget) or not event.matches(QKeySequence.StandardKey.Copy):
            return False
        window = self.parent()
        if not copies_its_selection(watched) or not isinstance(window, QWidget) or not _inside(watched, window) \
                or _left_to_the_window(watched):
            return False
        event.accept()  # the widget takes the key: no shortcut fires, it gets the key press and copies
        return True
