"""Workaround for a PySide6 reference-counting bug on CPython < 3.12.

PySide6 6.12.0 returns ``None`` from every void C++ method without taking a
reference to it. On CPython 3.12+ ``None`` is immortal and nothing happens;
on 3.11 each call lowers ``None``'s reference count by one and after a few
thousand calls the interpreter aborts ("none_dealloc: deallocating None").
The bug is detected (not assumed from a version number) and, only where it
shows, ``None`` gets a reference count too large to ever reach zero, which
is what CPython 3.12 does for it anyway.
"""

from __future__ import annotations

import ctypes
import sys

#: References added to None: enough for ~10^12 buggy calls, far from overflow.
_RESERVE = 1 << 40
_applied = False


def void_calls_leak_none() -> bool:
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(64):
        point.setX(1.0)  # a void method
    return sys.getrefcount(None) < before - 32


def protect_none() -> bool:
    """Apply the workaround if this PySide6 needs it; True when applied."""
    global _applied
    if _applied or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return _applied
    if void_calls_leak_none():
        ctypes.c_ssize_t.from_address(id(None)).value += _RESERVE
        _applied = True
    return _applied
