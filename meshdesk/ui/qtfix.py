"""Work around reference-count bugs in PySide6 6.12.0 on Python 3.11.

Several bindings hand back a singleton without taking a reference to it: ``SignalInstance.emit()``
returns ``True``, and many ``void`` methods and overrides (``QPainter.drawEllipse``, ``drawLine``,
``setBrush``, ``QGraphicsItem.paint`` ...) return ``None``; each call drops one reference. After a
few hundred emits, or a few seconds of painting the traffic animation, Python aborts with "Fatal
Python error: bool_dealloc" / "none_dealloc".

``None``, ``True`` and ``False`` must never be freed anyway, and Python 3.12 makes them immortal.
:func:`install` (run when ``meshdesk.ui`` is imported, before any signal or paint) does the same on
Python 3.11 by giving them a very large reference count, so a lost reference can never free them.
"""

from __future__ import annotations

import ctypes
import sys

# 2**40 references: at a million lost references a second it would take twelve days to use up.
RESERVE = 1 << 40
_installed = False


def install() -> bool:
    """Make ``None``, ``True`` and ``False`` practically immortal on CPython < 3.12; returns True when
    it did (or had done). A no-op on 3.12+ (already immortal) and on debug builds."""
    global _installed
    if _installed:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False
    for obj in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is a PyObject's first field
        if refcnt.value not in (sys.getrefcount(obj), sys.getrefcount(obj) - 1):
            return False  # not the layout we expect: leave it alone
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE
    _installed = True
    return True
