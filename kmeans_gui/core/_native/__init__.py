"""The compiled kernels: one C shared library, loaded with ctypes.

ctypes releases the GIL for the duration of every call, so a worker thread
running a kernel never blocks the GUI thread, and two threads can run kernels
on both cores at once. The library is built by hatch_build.py when the package
is installed (``uv sync`` in a checkout).
"""

from __future__ import annotations

import ctypes
import os

from .library import library_name

LIBRARY_NAME = library_name()

def _load() -> ctypes.CDLL:
    # os.path, not pathlib: the reading thread loads this while the command
    # line is still starting, and pathlib would be one more import in its way.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)
    try:
        return ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(
            f"kmeans_gui's compiled kernels could not be loaded from {path} ({exc}). "
            "Reinstall the package, or run `uv sync` in a checkout (it needs a C compiler)."
        ) from exc

lib = _load()

# Argument type shorthands for declarations in the modules that wrap kernels.
PTR = ctypes.c_void_p
I64 = ctypes.c_int64
F64 = ctypes.c_double
INT = ctypes.c_int

def declare(name: str, restype, *argtypes) -> ctypes._CFuncPtr:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn
