"""Work around reference-count bugs in PySide6 6.12.0 on Python 3.11.

Several bindings return a singleton without taking a reference to it: ``SignalInstance.emit()``
returns ``True``, and many ``void`` methods (``QPainter.drawEllipse``, ``drawLine``, ``drawRect``,
``setBrush`` ...) return ``None``, each call dropping one reference. After a few hundred emits, or a
few seconds of painting the traffic animation, Python aborts with "Fatal Python error:
bool_dealloc" / "none_dealloc".

``install()`` does two things, once, when ``meshdesk.ui`` is imported:

- on Python < 3.12 it gives ``None``, ``True`` and ``False`` a very large reference count (what
  Python 3.12 does by making them immortal), so a lost reference can never free them;
- it measures whether ``emit`` leaks and, only then, wraps it so the missing reference is given back.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

_installed = False


def _emit_leaks_true() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe itself took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 8


# 2**40 references: at a million lost references a second it would take twelve days to use up.
_RESERVE = 1 << 40
_reserved = False


def reserve_singleton_references() -> bool:
    """Make ``None``, ``True`` and ``False`` practically immortal on Python < 3.12 (a no-op later)."""
    global _reserved
    if _reserved or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):  # not on debug builds
        return False
    for obj in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is a PyObject's first field
        if refcnt.value != sys.getrefcount(obj) - 1 and refcnt.value != sys.getrefcount(obj):
            return False  # not the layout we expect: leave it alone
        refcnt.value += _RESERVE
    _reserved = True
    return True


def install() -> bool:
    """Apply the work-arounds; returns True when ``emit`` had to be patched."""
    global _installed
    reserve_singleton_references()
    if _installed:
        return True
    from PySide6.QtCore import SignalInstance

    if not _emit_leaks_true():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    true = True

    def emit(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        if result is true:
            incref(true)
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _installed = True
    return True
