"""Workaround for PySide6 reference-counting bugs on CPython < 3.12.

PySide6 6.12.0 on CPython 3.11 drops a reference it does not own in two hot
paths: every void C++ method call lowers ``None``'s reference count by one,
and every signal delivered to a Python callable lowers ``True``'s. After a
few thousand calls (None) or emissions (True) the count reaches zero and the
interpreter aborts ("none_dealloc" / "bool_dealloc"). CPython 3.12+ makes
these singletons immortal, so there nothing happens.

The leak is detected (not assumed from a version number) and, only where it
shows, the three singletons get a reference count too large to ever reach
zero, which is exactly what CPython 3.12 does for them. The real fix is a
PySide6 without the bug (6.11.3 is fine).
"""

from __future__ import annotations

import ctypes
import sys

#: References added: enough for ~10^12 leaked calls, far from overflowing.
_RESERVE = 1 << 40
_PROBES = 64
_applied = False


def void_calls_leak_none() -> bool:
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        point.setX(1.0)  # a void method
    return sys.getrefcount(None) < before - _PROBES // 2


def signals_leak_true() -> bool:
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal(int)

    probe = Probe()
    probe.ping.connect(lambda value: None)
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit(1)
    return sys.getrefcount(True) < before - _PROBES // 2


def protect_singletons() -> bool:
    """Apply the workaround if this PySide6 needs it; True when applied."""
    global _applied
    if _applied or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return _applied
    leaks_none = void_calls_leak_none()
    leaks_true = signals_leak_true()
    if leaks_none or leaks_true:
        for singleton in (None, True, False):
            ctypes.c_ssize_t.from_address(id(singleton)).value += _RESERVE
        _applied = True
    return _applied
