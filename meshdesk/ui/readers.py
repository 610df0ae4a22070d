"""What screen readers on Linux need that Qt does not give them by itself.

On Linux Qt names a combo box by its current value and leaves its accessible name unsaid: it expects
the name to come from a label whose buddy the combo box is (AT-SPI's "labelled by"). A toolbar's combo
boxes have no label beside them (their tooltip says what they choose), so a reader said "Versioned app
graph, combo box" and never "Graph type". :func:`label_combo_boxes` gives each combo box with an
accessible name and no label a hidden label with that name, whose buddy it is: the reader then says
both. Other platforms read the accessible name itself, and the hidden label changes nothing there.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QToolButton, QWidget

READER_LABEL = "readerLabel"  # the hidden labels' object name


def _labelled(combo: QComboBox, parent: QWidget) -> QLabel | None:
    for label in parent.findChildren(QLabel):
        if label.buddy() is combo and label.parentWidget() is parent:
            return label
    return None


def label_combo_boxes(root: QWidget) -> int:
    """Give every combo box under ``root`` that has an accessible name and no label a hidden label of
    that name (for the ones already given one, the name again if it changed); returns how many were
    labelled. Run it once the widgets are in place: the label is the combo box's sibling."""
    done = 0
    for combo in root.findChildren(QComboBox):
        name = combo.accessibleName()
        parent = combo.parentWidget()
        if not name or parent is None:
            continue
        label = _labelled(combo, parent)
        if label is None:
            label = QLabel(name, parent)
            label.setObjectName(READER_LABEL)
            label.setBuddy(combo)
            label.hide()
            done += 1
        elif label.objectName() == READER_LABEL and label.text() != name:
            label.setText(name)
    return done


def name_toolbar_extensions(root: QWidget) -> None:
    """A toolbar too long for the window shows a button for the rest of it, which Qt leaves nameless (a
    reader said "check box" alone): name it."""
    for toolbar in root.findChildren(QToolBar):
        button = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        if button is not None and not button.accessibleName():
            button.setAccessibleName(f"The rest of the {(toolbar.windowTitle() or 'toolbar').lower()}")


__all__ = ["READER_LABEL", "label_combo_boxes", "name_toolbar_extensions"]
