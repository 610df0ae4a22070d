"""Work around PySide6 6.12.0 dropping a reference to ``None`` each time Qt calls a Python override
of a ``void`` virtual (``QGraphicsItem.paint``, ``QWidget.paintEvent``, mouse handlers, ...).

A canvas repaint calls ``paint`` thousands of times, so within seconds ``None``'s reference count
reaches zero and Python aborts with "Fatal Python error: none_dealloc". ``None`` must never be freed
anyway, so the fix gives it a very large number of extra references once (CPython 3.11; from 3.12
``None`` is immortal and nothing is done). Measured, not assumed: :func:`install` probes first.
"""

from __future__ import annotations

import ctypes
import sys

_installed = False
EXTRA = 1 << 40


def _void_override_drops_none() -> bool:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

    class _Probe(QGraphicsItem):
        def boundingRect(self) -> QRectF:
            return QRectF(0, 0, 4, 4)

        def paint(self, *args: object) -> None:
            pass

    scene = QGraphicsScene()
    for _ in range(64):
        scene.addItem(_Probe())
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    before = sys.getrefcount(None)
    painter = QPainter(image)
    scene.render(painter)
    painter.end()
    lost = before - sys.getrefcount(None)
    scene.clear()
    return lost >= 24


def install() -> bool:
    """Give ``None`` enough references for any session when (and only when) the running PySide6
    drops them; returns True when it did (or had done)."""
    global _installed
    if _installed:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not _void_override_drops_none():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += EXTRA
    _installed = True
    return True
