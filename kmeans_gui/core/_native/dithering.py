"""Checked ctypes wrappers of ``dither.c``: selective error diffusion and
ordered dithering. Every argument's dtype, shape and contiguity is checked
here (``ValueError`` otherwise), so the C code can trust them.
"""

from __future__ import annotations

import numpy as np

from ..parallel import pieces, run_pieces
from . import F64, I64, INT, PTR, declare

SPACE_RGB = 0
SPACE_OKLAB = 1
#: Number of tuning values ``params`` holds (see ``dither.c``).
N_PARAMS = 7

_neighbours = declare("dither_neighbours", I64, PTR, I64, I64, PTR, PTR)
_auto = declare("dither_auto", I64, PTR, I64, I64, INT, I64, I64, I64, I64, PTR, I64, I64,
                PTR, PTR, INT, PTR, I64, F64, PTR, PTR)
_ordered = declare("dither_ordered", I64, PTR, I64, I64, INT, I64, I64, PTR, I64, I64, PTR,
                   PTR, INT, PTR, I64, F64, PTR, PTR)


def _check(name: str, a: np.ndarray, dtype, shape: tuple) -> None:
    if not isinstance(a, np.ndarray) or a.dtype != dtype:
        raise ValueError(f"{name} must be a {np.dtype(dtype).name} array")
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, not {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")


def _ok(code: int) -> None:
    if code == -2:
        raise MemoryError("not enough memory for dithering")


class PaletteTables:
    """A palette's working coordinates and, for each entry, every entry in
    order of distance from it (what the kernels search from)."""

    def __init__(self, coords: np.ndarray):
        if not isinstance(coords, np.ndarray) or coords.ndim != 2:
            raise ValueError("palette coordinates must be a (k, d) array")
        k, d = coords.shape
        if not 1 <= k <= 256 or d not in (3, 4):
            raise ValueError("a palette has 1 to 256 entries of 3 or 4 coordinates")
        self.coords = np.ascontiguousarray(coords, dtype=np.float64)
        self.near = np.empty((k, k), np.uint8)
        self.near_d = np.empty((k, k), np.float64)
        _neighbours(self.coords.ctypes.data, k, d, self.near.ctypes.data,
                    self.near_d.ctypes.data)

    @property
    def k(self) -> int:
        return self.coords.shape[0]

    @property
    def d(self) -> int:
        return self.coords.shape[1]

    def args(self):
        return (self.coords.ctypes.data, self.k, self.d, self.near.ctypes.data,
                self.near_d.ctypes.data)


def _common(img, table, lin, transparent, params, space):
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError("the image must be an (h, w, 3|4) array")
    h, w, nch = img.shape
    _check("image", img, np.uint8, (h, w, nch))
    if not isinstance(table, PaletteTables) or table.d != (4 if nch == 4 else 3):
        raise ValueError("the palette tables must match the image's channels")
    _check("linear LUT", lin, np.float64, (256,))
    _check("params", params, np.float64, (N_PARAMS,))
    if space not in (SPACE_RGB, SPACE_OKLAB):
        raise ValueError("unknown colour space code")
    if not isinstance(transparent, (int, np.integer)) or not -1 <= transparent < table.k:
        raise ValueError("the transparent index must be -1 (none) or a palette index")
    return h, w, nch


def dither_auto(img: np.ndarray, table: PaletteTables, space: int, lin: np.ndarray,
                transparent: int, strength: float, params: np.ndarray, band_rows: int,
                warmup: int, min_pixels: int) -> np.ndarray:
    """Selective serpentine error diffusion (see ``dither.c``); (h, w) uint8.

    Every pixel starts from its exact nearest entry (ties: the lowest index),
    found by the kernel; a fully transparent pixel from ``transparent`` (the
    palette's transparent entry), unless that is -1.

    The rows are cut in bands of ``band_rows`` that each start ``warmup`` rows
    early with no error, so the bands can run on any number of threads with
    the same result; threads get runs of bands of at least ``min_pixels``.
    """
    h, w, nch = _common(img, table, lin, transparent, params, space)
    if band_rows < 1 or warmup < 0:
        raise ValueError("band_rows must be positive and warmup not negative")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("dither strength must be between 0 and 1")
    out = np.empty((h, w), np.uint8)
    n_bands = -(-h // band_rows)

    def run(first: int, stop: int) -> None:
        _ok(_auto(img.ctypes.data, h, w, nch, first, stop, band_rows, warmup, *table.args(),
                  space, lin.ctypes.data, int(transparent), float(strength),
                  params.ctypes.data, out.ctypes.data))

    run_pieces(run, _runs(n_bands, max(1, min_pixels // max(1, w * band_rows))))
    return out


#: Each thread's share of the bands is cut in this many runs, handed out in
#: order as threads come free: bands differ in cost (flat areas are cheap,
#: texture is not), so one equal share per thread left one thread idle at the end.
RUNS_PER_THREAD = 8


def _runs(n_bands: int, minimum: int) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of bands: one when the work stays on one thread,
    else about ``RUNS_PER_THREAD`` per thread, none shorter than ``minimum``."""
    parts = pieces(n_bands, minimum)
    if len(parts) == 1:
        return parts
    size = max(minimum, -(-n_bands // (len(parts) * RUNS_PER_THREAD)))
    return [(start, min(n_bands, start + size)) for start in range(0, n_bands, size)]


def dither_ordered(img: np.ndarray, table: PaletteTables, space: int, lin: np.ndarray,
                   transparent: int, strength: float, params: np.ndarray,
                   min_pixels: int) -> np.ndarray:
    """8x8 Bayer ordered dithering (see ``dither.c``); (h, w) uint8. The
    nearest entries and ``transparent`` as in ``dither_auto``."""
    h, w, nch = _common(img, table, lin, transparent, params, space)
    if not 0.0 <= strength <= 1.0:
        raise ValueError("dither strength must be between 0 and 1")
    out = np.empty((h, w), np.uint8)

    def run(y0: int, y1: int) -> None:
        _ok(_ordered(img.ctypes.data, h, w, nch, y0, y1, *table.args(), space,
                     lin.ctypes.data, int(transparent), float(strength), params.ctypes.data,
                     out.ctypes.data))

    run_pieces(run, pieces(h, max(1, min_pixels // max(1, w))))
    return out
