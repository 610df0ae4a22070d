"""Work around a reference-count bug in PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True``
without taking a reference to it, so every emit from Python drops one reference to ``True``. After a
few hundred emits Python aborts with "Fatal Python error: bool_dealloc" (often at exit, or mid-run
in a long session).

``install()`` measures whether the running PySide6 has the bug and, only then, wraps ``emit`` so the
missing reference is given back. Imported by ``meshdesk.ui`` before any signal is emitted.
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


def install() -> bool:
    """Patch ``SignalInstance.emit`` when (and only when) it leaks; returns True when patched."""
    global _installed
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
