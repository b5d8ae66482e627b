"""The engine's inner loops, in C (``_native/kernels.c``), behind numpy-typed
wrappers. ctypes releases the GIL during each call, so a GUI thread stays
responsive while a worker thread runs them, and per-pixel work is split over
the cores. Splitting never changes a result: the parts are independent per
pixel or per sample, and integer sums are merged exactly.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import F64, I64, INT, PTR, declare
from ..parallel import pieces, run_pieces

SPACE_RGB = 0
SPACE_OKLAB = 1

_build_histogram = declare("build_histogram", I64, PTR, I64, INT, ctypes.c_uint32, INT, I64,
                           PTR, PTR, PTR, PTR)
_build_histogram_rgb6 = declare("build_histogram_rgb6", None, PTR, I64, PTR, PTR)
_kmeanspp = declare("kmeanspp", I64, PTR, I64, I64, PTR, I64, PTR, I64, PTR)
_assign = declare("assign", I64, PTR, I64, I64, I64, PTR, I64, PTR, PTR, PTR, INT)
_update = declare("update", I64, PTR, I64, I64, PTR, PTR, PTR, I64, PTR, PTR, PTR)
_inertia = declare("inertia", F64, PTR, I64, I64, PTR, PTR, PTR)
_remap = declare("remap", I64, PTR, I64, INT, PTR, I64, I64, PTR, PTR, PTR, INT, PTR, I64,
                 INT, PTR)
_remap_rgb = declare("remap_rgb", I64, PTR, I64, PTR, I64, I64, PTR, PTR, PTR, INT, PTR, PTR)
_count_bytes = declare("count_bytes", None, PTR, I64, PTR)
_dither = declare("dither", I64, PTR, I64, I64, INT, PTR, PTR, I64, I64, PTR, PTR, PTR, INT,
                  PTR, I64, F64, PTR)

# ------------------------------------------------------------------ threading

#: Pixels (or samples) below which a kernel runs in one piece: splitting costs
#: a thread hand-off and, for remapping, a cache per piece.
SPLIT_PIXELS = 1 << 20
SPLIT_SAMPLES = 1 << 15

def _checked(code: int) -> int:
    if code == -2:
        raise MemoryError("not enough memory for the colour tables")
    return code


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _i64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


# ------------------------------------------------------------------ histogram

def build_histogram(pix: np.ndarray, mask: int, cap_bits: int, limit: int):
    """Count colours of ``pix`` ((n, 3|4) uint8) in an open-addressing table.

    Colours are grouped by ``key & mask`` (mask 0xFFFFFFFF groups exact colours,
    0xFCFCFCFC groups 6-bit bins). Each group keeps its pixel count and the
    exact sums of its members' channels, so group means are exact.
    Fully transparent pixels are left out and counted separately.
    Returns (keys, counts, sums, n_groups, n_transparent); n_groups is -1 when
    more than ``limit`` groups appear (the caller then bins more coarsely).
    """
    pix = np.ascontiguousarray(pix, dtype=np.uint8)
    n, nch = pix.shape
    cap = 1 << cap_bits
    keys = np.zeros(cap, dtype=np.uint32)
    counts = np.zeros(cap, dtype=np.int64)  # 0 marks an empty slot
    sums = np.zeros((cap, nch), dtype=np.int64)
    transparent = np.zeros(1, dtype=np.int64)
    used = _build_histogram(pix.ctypes.data, n, nch, mask, cap_bits, limit, keys.ctypes.data,
                            counts.ctypes.data, sums.ctypes.data, transparent.ctypes.data)
    return keys, counts, sums, int(used), int(transparent[0])


def build_histogram_rgb6(pix: np.ndarray):
    """``build_histogram`` with ``BIN_MASK`` for opaque RGB, by direct indexing
    into the 2**18 bins instead of hashing. Returns (counts, sums) per bin."""
    pix = np.ascontiguousarray(pix, dtype=np.uint8)

    def count(start: int, stop: int):
        counts = np.zeros(1 << 18, dtype=np.int64)
        sums = np.zeros((1 << 18, 3), dtype=np.int64)
        _build_histogram_rgb6(pix[start:].ctypes.data, stop - start, counts.ctypes.data,
                              sums.ctypes.data)
        return counts, sums

    parts = run_pieces(count, pieces(pix.shape[0], SPLIT_PIXELS))
    counts, sums = parts[0]
    for more_counts, more_sums in parts[1:]:
        counts += more_counts
        sums += more_sums
    return counts, sums


def count_bytes(data: np.ndarray) -> np.ndarray:
    """Occurrences of each value 0..255 in a uint8 array: (256,) int64."""
    flat = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)

    def count(start: int, stop: int) -> np.ndarray:
        counts = np.zeros(256, dtype=np.int64)
        _count_bytes(flat[start:].ctypes.data, stop - start, counts.ctypes.data)
        return counts

    return sum(run_pieces(count, pieces(flat.size, SPLIT_PIXELS)))


# -------------------------------------------------------------------- k-means

def kmeanspp(x: np.ndarray, w: np.ndarray, k: int, uniforms: np.ndarray,
             n_trials: int) -> np.ndarray:
    """Greedy k-means++ seeding on weighted samples.

    ``uniforms`` holds k * n_trials random numbers in [0, 1) drawn by the caller
    (so a numpy seed fully determines the result). Returns sample indices,
    fewer than k when there are fewer distinct samples.
    """
    x, w, uniforms = _f64(x), _f64(w), _f64(uniforms)
    if len(uniforms) < k * n_trials:
        raise ValueError("kmeanspp needs k * n_trials random numbers")
    chosen = np.empty(k, dtype=np.int64)
    got = _checked(_kmeanspp(x.ctypes.data, x.shape[0], x.shape[1], w.ctypes.data, k,
                             uniforms.ctypes.data, n_trials, chosen.ctypes.data))
    return chosen[:got]


def assign(x: np.ndarray, c: np.ndarray, labels: np.ndarray, upper: np.ndarray,
           lower: np.ndarray, full: bool) -> int:
    """Hamerly's bounded nearest-centroid assignment, in place.

    ``upper[i]`` bounds the distance from sample i to its centroid from above,
    ``lower[i]`` the distance to any other centroid from below; a sample whose
    bounds already prove its centroid nearest is skipped. Samples that must be
    rescanned search the centroids sorted along one axis, stopping once the
    axis gap alone rules out the rest. With ``full`` every sample is scanned.
    ``x``, ``labels`` (int64), ``upper`` and ``lower`` must be C-contiguous.
    Returns the number of samples whose label changed.
    """
    c = _f64(c)
    n, d = x.shape

    def run(start: int, stop: int) -> int:
        return _checked(_assign(x.ctypes.data, start, stop, d, c.ctypes.data, c.shape[0],
                                labels.ctypes.data, upper.ctypes.data, lower.ctypes.data,
                                int(bool(full))))

    return sum(run_pieces(run, pieces(n, SPLIT_SAMPLES)))


def update(x: np.ndarray, w: np.ndarray, labels: np.ndarray, c_old: np.ndarray,
           upper: np.ndarray, lower: np.ndarray):
    """Move each centroid to its members' weighted mean; keep bounds valid.

    Empty clusters are re-seeded at the sample that contributes most to the
    inertia (and its bounds reset). Returns (centroids, n_reseeded).
    """
    c_old = _f64(c_old)
    c = np.empty_like(c_old)
    n, d = x.shape
    reseeded = _checked(_update(x.ctypes.data, n, d, w.ctypes.data, labels.ctypes.data,
                                c_old.ctypes.data, c_old.shape[0], upper.ctypes.data,
                                lower.ctypes.data, c.ctypes.data))
    return c, reseeded


def inertia(x: np.ndarray, w: np.ndarray, labels: np.ndarray, c: np.ndarray) -> float:
    c = _f64(c)
    return _inertia(x.ctypes.data, x.shape[0], x.shape[1], w.ctypes.data, labels.ctypes.data,
                    c.ctypes.data)


# ------------------------------------------------------------------ remapping

def _palette_args(pal, proj, axis, order):
    pal, proj, axis, order = _f64(pal), _f64(proj), _f64(axis), _i64(order)
    keep = (pal, proj, axis, order)  # the caller holds these while C reads them
    return keep, (pal.ctypes.data, pal.shape[0], pal.shape[1], proj.ctypes.data,
                  axis.ctypes.data, order.ctypes.data)


def remap(pix, pal, proj, axis, order, space, lin, transparent_index, cap_bits) -> np.ndarray:
    """Exact nearest-palette index for every pixel, cached per distinct colour.

    ``pal``/``proj``/``order``: the palette's working coordinates sorted by
    projection on ``axis`` and the original index of each sorted entry.
    """
    pix = np.ascontiguousarray(pix, dtype=np.uint8)
    lin = _f64(lin)
    n, nch = pix.shape
    out = np.empty(n, dtype=np.uint8)
    _keep, palette = _palette_args(pal, proj, axis, order)

    def run(start: int, stop: int) -> None:
        _checked(_remap(pix[start:].ctypes.data, stop - start, nch, *palette, space,
                        lin.ctypes.data, transparent_index, cap_bits, out[start:].ctypes.data))

    run_pieces(run, pieces(n, SPLIT_PIXELS))
    return out


def remap_rgb(pix, pal, proj, axis, order, space, lin) -> np.ndarray:
    """``remap`` for opaque RGB with a direct 2**24-entry cache (32 MB per
    thread): faster than hashing when the image has millions of pixels."""
    pix = np.ascontiguousarray(pix, dtype=np.uint8)
    lin = _f64(lin)
    n = pix.shape[0]
    out = np.empty(n, dtype=np.uint8)
    _keep, palette = _palette_args(pal, proj, axis, order)

    def run(start: int, stop: int) -> None:
        _checked(_remap_rgb(pix[start:].ctypes.data, stop - start, *palette, space,
                            lin.ctypes.data, out[start:].ctypes.data))

    run_pieces(run, pieces(n, SPLIT_PIXELS))
    return out


def dither(img, pal_rgb, pal, proj, axis, order, space, lin, transparent_index,
           strength) -> np.ndarray:
    """Serpentine Floyd-Steinberg error diffusion at ``strength`` (0..1).

    The error is diffused in straight sRGB; the nearest entry for each
    error-adjusted colour (rounded to whole sRGB steps) is found in the working
    space. For opaque images the choice is cached per 2x2x2 cell of sRGB.
    Sequential: each pixel depends on the error of the ones before it.
    """
    img = np.ascontiguousarray(img, dtype=np.uint8)
    pal_rgb = _f64(np.asarray(pal_rgb)[:, :3])
    lin = _f64(lin)
    h, w, nch = img.shape
    out = np.empty((h, w), dtype=np.uint8)
    _keep, palette = _palette_args(pal, proj, axis, order)
    _checked(_dither(img.ctypes.data, h, w, nch, pal_rgb.ctypes.data, *palette, space,
                     lin.ctypes.data, transparent_index, float(strength), out.ctypes.data))
    return out
