"""The engine's inner loops, in C (``_native/kernels.c``), behind numpy-typed
wrappers. ctypes releases the GIL during each call, so a GUI thread stays
responsive while a worker thread runs them, and per-pixel work is split over
the cores. Splitting never changes a result: the parts are independent per
pixel or per sample, and integer sums are merged exactly.

Every wrapper checks its arguments before a pointer reaches C: dtypes (inputs
are converted only when no value can change), shapes, C-contiguity of the
arrays C writes into, and ranges (palette sizes, label and index values,
channel counts), raising ``ValueError`` with the reason.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ..parallel import pieces, run_pieces, threads
from . import F64, I64, INT, PTR, declare

SPACE_RGB = 0
SPACE_OKLAB = 1

_build_histogram = declare("build_histogram", I64, PTR, I64, INT, ctypes.c_uint32, INT, I64,
                           PTR, PTR, PTR, PTR)
_build_histogram_rgb6 = declare("build_histogram_rgb6", None, PTR, I64, PTR, PTR)
_kmeanspp = declare("kmeanspp", I64, PTR, I64, I64, PTR, I64, PTR, I64, PTR)
_assign = declare("assign", I64, PTR, I64, I64, I64, PTR, I64, PTR, PTR, PTR, INT, PTR, PTR)
_update = declare("update", I64, PTR, I64, I64, PTR, PTR, PTR, I64, PTR, PTR, PTR, PTR, PTR)
_inertia = declare("inertia", F64, PTR, I64, I64, PTR, PTR, PTR)
_remap = declare("remap", I64, PTR, I64, INT, PTR, I64, I64, PTR, PTR, PTR, INT, PTR, I64,
                 INT, PTR)
_remap_rgb_packed = declare("remap_rgb_packed", I64, PTR, I64, PTR, I64, I64, PTR, PTR, PTR,
                            INT, PTR, INT, PTR)
_remap_runs = declare("remap_runs", I64, PTR, I64, I64, I64, INT, PTR, I64, I64, PTR, PTR, PTR,
                      INT, PTR, I64, F64, F64, I64, INT, INT, PTR)
_remap_rgb = declare("remap_rgb", I64, PTR, I64, PTR, I64, I64, PTR, PTR, PTR, INT, PTR, PTR)
_count_bytes = declare("count_bytes", None, PTR, I64, PTR)
_oklab_pixels = declare("oklab_pixels", None, PTR, I64, INT, PTR, PTR)
_distance_sum = declare("distance_sum", F64, PTR, I64, PTR, PTR)
_weighted_histogram = declare("weighted_histogram", I64, PTR, I64, INT, ctypes.c_uint32, PTR,
                              I64, PTR, PTR, PTR)
_dither = declare("dither", I64, PTR, I64, I64, INT, PTR, PTR, I64, I64, PTR, PTR, PTR, INT,
                  PTR, I64, F64, PTR)

# ------------------------------------------------------------------ threading

#: Pixels (or samples) below which a kernel runs in one piece: splitting costs
#: a thread hand-off and, for remapping, a cache per piece.
SPLIT_PIXELS = 1 << 20
SPLIT_SAMPLES = 1 << 15
#: ``assign_moved`` adds up the weight that changed cluster per block of this
#: many samples (MOVED_BLOCK in kernels.c), and splits only at block boundaries.
MOVED_BLOCK = 4096

def _checked(code: int) -> int:
    if code == -2:
        raise MemoryError("not enough memory for the colour tables")
    return code


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _input(name: str, a, dtype, ndim: int | None = None) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype`` for C to read; converted only
    when the conversion is lossless (so uint8 pixels are never wrapped)."""
    if (type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous
            and (a.ndim >= 1 if ndim is None else a.ndim == ndim)):
        return a  # the common case, checked without building messages
    a = np.asarray(a)
    dtype = np.dtype(dtype)
    if a.dtype != dtype:
        _need(np.can_cast(a.dtype, dtype, "safe"),
              f"{name} must be {dtype.name} (or convert to it losslessly), not {a.dtype.name}")
        a = a.astype(dtype)
    if ndim is not None:
        _need(a.ndim == ndim, f"{name} must have {ndim} dimensions, not shape {a.shape}")
    return np.ascontiguousarray(a)


def _output(name: str, a, dtype, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` as it is, if C may write into it: ``dtype``, ``shape``, C-contiguous."""
    if (type(a) is np.ndarray and a.dtype == dtype and a.shape == shape
            and a.flags.c_contiguous and a.flags.writeable):
        return a  # the common case, checked without building messages
    _need(isinstance(a, np.ndarray), f"{name} must be a numpy array")
    _need(a.dtype == np.dtype(dtype), f"{name} must be {np.dtype(dtype).name}, not {a.dtype.name}")
    _need(a.shape == shape, f"{name} must have shape {shape}, not {a.shape}")
    _need(a.flags.c_contiguous, f"{name} must be C-contiguous")
    _need(a.flags.writeable, f"{name} must be writable")
    return a


def _pixels(name: str, pix, ndim: int = 2, channels: tuple[int, ...] = (3, 4)) -> np.ndarray:
    pix = _input(name, pix, np.uint8, ndim)
    _need(pix.shape[-1] in channels,
          f"{name} must have {' or '.join(map(str, channels))} channels, not {pix.shape[-1]}")
    return pix


def _samples(x, w=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Samples (n, d) float64 (already C-contiguous: C reads them every
    iteration, so they are never copied here) and their (n,) weights."""
    _need(isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 2,
          "samples must be a 2-D float64 array")
    _need(x.flags.c_contiguous, "samples must be C-contiguous")
    _need(x.shape[0] >= 1 and x.shape[1] >= 1, f"no samples (shape {x.shape})")
    if w is not None:
        w = _input("weights", w, np.float64, 1)
        _need(w.shape == (x.shape[0],), f"weights must have shape ({x.shape[0]},), not {w.shape}")
    return x, w


def _centroids(name: str, c, d: int) -> np.ndarray:
    c = _input(name, c, np.float64, 2)
    _need(c.shape[0] >= 1, f"{name}: none given")
    _need(c.shape[1] == d, f"{name} have {c.shape[1]} coordinates, the samples {d}")
    return c


def _labels(labels, n: int, k: int) -> np.ndarray:
    labels = _output("labels", labels, np.int64, (n,))
    # One pass: a negative label is a huge unsigned one.
    _need(int(labels.view(np.uint64).max()) < k, f"labels must lie in 0..{k - 1}")
    return labels


def _bounds(upper, lower, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (_output("upper", upper, np.float64, (n,)),
            _output("lower", lower, np.float64, (n,)))


# ------------------------------------------------------------------ histogram

def build_histogram(pix: np.ndarray, mask: int, cap_bits: int, limit: int,
                    want_sums: bool = True
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int, int]:
    """Count colours of ``pix`` ((n, 3|4) uint8) in an open-addressing table.

    Colours are grouped by ``key & mask`` (mask 0xFFFFFFFF groups exact colours,
    0xFCFCFCFC groups 6-bit bins). Each group keeps its pixel count and the
    exact sums of its members' channels, so group means are exact.
    Fully transparent pixels are left out and counted separately.
    Returns (keys, counts, sums, n_groups, n_transparent); n_groups is -1 when
    more than ``limit`` groups appear (the caller then bins more coarsely).
    Without ``want_sums`` (for exact colours, whose means are their keys) no
    sums are kept and ``sums`` is None: a third of the memory to fault in.
    """
    pix = _pixels("pixels", pix)
    n, nch = pix.shape
    _need(0 <= int(mask) <= 0xFFFFFFFF, "mask must fit 32 bits")
    _need(1 <= cap_bits <= 30, f"cap_bits must be 1..30, not {cap_bits}")
    cap = 1 << cap_bits
    _need(0 <= limit < cap, f"limit must be below the table size {cap}, not {limit}")
    keys = np.zeros(cap, dtype=np.uint32)
    counts = np.zeros(cap, dtype=np.int64)  # 0 marks an empty slot
    sums = np.zeros((cap, nch), dtype=np.int64) if want_sums else None
    transparent = np.zeros(1, dtype=np.int64)
    used = _build_histogram(pix.ctypes.data, n, nch, mask, cap_bits, limit, keys.ctypes.data,
                            counts.ctypes.data, None if sums is None else sums.ctypes.data,
                            transparent.ctypes.data)
    return keys, counts, sums, int(used), int(transparent[0])


def build_histogram_rgb6(pix: np.ndarray, counts: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``build_histogram`` with ``BIN_MASK`` for opaque RGB, by direct indexing
    into the 2**18 bins instead of hashing. Returns (counts, sums) per bin.

    ``counts`` ((2**18,) int64), if given, is overwritten and returned: a table
    already in memory (a failed exact histogram's) is cheaper to clear than a
    new one is to fault in.
    """
    pix = _pixels("pixels", pix, channels=(3,))
    given = None if counts is None else _output("counts", counts, np.int64, (1 << 18,))

    def count(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        if start == 0 and given is not None:
            counts = given
            counts.fill(0)
        else:
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
    flat = _input("data", data, np.uint8).reshape(-1)

    def count(start: int, stop: int) -> np.ndarray:
        counts = np.zeros(256, dtype=np.int64)
        _count_bytes(flat[start:].ctypes.data, stop - start, counts.ctypes.data)
        return counts

    return sum(run_pieces(count, pieces(flat.size, SPLIT_PIXELS)))


def oklab_pixels(pix: np.ndarray, lin: np.ndarray) -> np.ndarray:
    """OKLab x100 of (n, 3|4) uint8 sRGB(A) pixels, alpha ignored: (n, 3)
    float64, as the remap computes each colour (``lin``: the sRGB -> linear
    table of the 256 byte values)."""
    pix = _pixels("pixels", pix)
    lin = _lut(lin)
    n, nch = pix.shape
    out = np.empty((n, 3), dtype=np.float64)

    def convert(start: int, stop: int) -> None:
        _oklab_pixels(pix[start:].ctypes.data, stop - start, nch, lin.ctypes.data,
                      out[start:].ctypes.data)

    run_pieces(convert, pieces(n, SPLIT_PIXELS))
    return out


def distance_sum(points: np.ndarray, indices: np.ndarray, table: np.ndarray) -> float:
    """Sum of the distances from each of the (n, 3) ``points`` to its entry
    ``table[indices[i]]`` ((k, 3), uint8 indices below k)."""
    points = _input("points", points, np.float64, 2)
    table = _input("table", table, np.float64, 2)
    indices = _input("indices", indices, np.uint8, 1)
    _need(points.shape[1] == 3 and table.shape[1] == 3,
          f"points and table must have 3 coordinates, not {points.shape[1]} and {table.shape[1]}")
    _need(len(indices) == len(points),
          f"one index per point: {len(indices)} indices for {len(points)} points")
    _need(len(indices) == 0 or int(indices.max()) < len(table),
          f"an index is beyond the table's {len(table)} entries")

    def part(start: int, stop: int) -> float:
        return _distance_sum(points[start:].ctypes.data, stop - start,
                             indices[start:].ctypes.data, table.ctypes.data)

    return float(sum(run_pieces(part, pieces(len(points), SPLIT_PIXELS))))


# --------------------------------------------------------- weighted histogram

def weighted_histogram(pix: np.ndarray, mask: int, keys: np.ndarray, w: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel weights ``w`` ((n,) float64) summed into the
    groups of a histogram of ``pix`` ((n, 3|4) uint8) whose group keys are
    ``keys`` (distinct uint32, packed RGBA & ``mask``). Fully transparent
    pixels belong to no group. Returns (totals (g,), sums (g, channels)): each
    group's summed weight and weighted channel sums. A negative or non-finite
    weight among the visible pixels raises ``ValueError``.
    """
    pix = _pixels("pixels", pix)
    n, nch = pix.shape
    _need(0 <= int(mask) <= 0xFFFFFFFF, "mask must fit 32 bits")
    keys = _input("keys", keys, np.uint32, 1)
    _need(1 <= len(keys) <= 1 << 28, f"keys: between 1 and 2**28 groups, not {len(keys)}")
    _need(len(np.unique(keys)) == len(keys), "keys must be distinct")
    w = _input("weights", w, np.float64, 1)
    _need(w.shape == (n,), f"weights must have shape ({n},), not {w.shape}")
    g = len(keys)

    def add(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        totals = np.zeros(g, dtype=np.float64)
        sums = np.zeros((g, nch), dtype=np.float64)
        code = _checked(_weighted_histogram(pix[start:].ctypes.data, stop - start, nch, mask,
                                            keys.ctypes.data, g, w[start:].ctypes.data,
                                            totals.ctypes.data, sums.ctypes.data))
        _need(code != -3, "weights must be finite and not negative")
        _need(code == 0, "a pixel's colour is in none of the histogram's groups")
        return totals, sums

    parts = run_pieces(add, pieces(n, SPLIT_PIXELS))
    totals, sums = parts[0]
    for more_totals, more_sums in parts[1:]:
        totals += more_totals
        sums += more_sums
    return totals, sums


# -------------------------------------------------------------------- k-means

def kmeanspp(x: np.ndarray, w: np.ndarray, k: int, uniforms: np.ndarray,
             n_trials: int) -> np.ndarray:
    """Greedy k-means++ seeding on weighted samples.

    ``uniforms`` holds k * n_trials random numbers in [0, 1) drawn by the caller
    (so a numpy seed fully determines the result). Returns sample indices,
    fewer than k when there are fewer distinct samples.
    """
    x, w = _samples(_input("samples", x, np.float64, 2), w)
    uniforms = _input("uniforms", uniforms, np.float64, 1)
    _need(k >= 1 and n_trials >= 1, "kmeanspp needs k >= 1 and n_trials >= 1")
    _need(len(uniforms) >= k * n_trials, "kmeanspp needs k * n_trials random numbers")
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
    x, _ = _samples(x)
    n, d = x.shape
    c = _centroids("centroids", c, d)
    labels = _labels(labels, n, c.shape[0])
    upper, lower = _bounds(upper, lower, n)

    def run(start: int, stop: int) -> int:
        return _checked(_assign(x.ctypes.data, start, stop, d, c.ctypes.data, c.shape[0],
                                labels.ctypes.data, upper.ctypes.data, lower.ctypes.data,
                                int(bool(full)), None, None))

    return sum(run_pieces(run, pieces(n, SPLIT_SAMPLES)))


def assign_moved(x: np.ndarray, w: np.ndarray, c: np.ndarray, labels: np.ndarray,
                 upper: np.ndarray, lower: np.ndarray, full: bool) -> float:
    """``assign``, returning the summed weight ``w`` of the samples whose label
    changed instead of their number. The sum is taken per block of
    ``MOVED_BLOCK`` samples and the blocks are split over threads whole, so it
    does not depend on the thread count."""
    x, w = _samples(x, w)
    n, d = x.shape
    c = _centroids("centroids", c, d)
    labels = _labels(labels, n, c.shape[0])
    upper, lower = _bounds(upper, lower, n)
    blocks = -(-n // MOVED_BLOCK)
    moved = np.zeros(blocks)

    def run(first: int, stop: int) -> None:
        start, end = first * MOVED_BLOCK, min(n, stop * MOVED_BLOCK)
        _checked(_assign(x.ctypes.data, start, end, d, c.ctypes.data, c.shape[0],
                         labels.ctypes.data, upper.ctypes.data, lower.ctypes.data,
                         int(bool(full)), w.ctypes.data, moved[first:].ctypes.data))

    run_pieces(run, pieces(blocks, SPLIT_SAMPLES // MOVED_BLOCK))
    return float(moved.sum())


def update(x: np.ndarray, w: np.ndarray, labels: np.ndarray, c_old: np.ndarray,
           upper: np.ndarray, lower: np.ndarray, fixed: np.ndarray | None = None,
           _stats: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Move each centroid to its members' weighted mean; keep bounds valid.

    Empty clusters are re-seeded at the sample that contributes most to the
    inertia (and its bounds reset). Centroids marked in ``fixed`` ((k,) bool)
    never move and are never re-seeded. Returns (centroids, n_reseeded).
    """
    x, w = _samples(x, w)
    n, d = x.shape
    c_old = _centroids("centroids", c_old, d)
    labels = _labels(labels, n, c_old.shape[0])
    upper, lower = _bounds(upper, lower, n)
    fixed_ptr = None
    if fixed is not None:
        fixed = _input("fixed", fixed, np.bool_, 1)
        _need(fixed.shape == (c_old.shape[0],),
              f"fixed must have shape ({c_old.shape[0]},), not {fixed.shape}")
        fixed_ptr = fixed.ctypes.data
    if _stats is not None:
        _stats = _output("stats", _stats, np.float64, (2,))
    c = np.empty_like(c_old)
    reseeded = _checked(_update(x.ctypes.data, n, d, w.ctypes.data, labels.ctypes.data,
                                c_old.ctypes.data, c_old.shape[0], upper.ctypes.data,
                                lower.ctypes.data, c.ctypes.data, fixed_ptr,
                                None if _stats is None else _stats.ctypes.data))
    return c, reseeded


def update_stats(x: np.ndarray, w: np.ndarray, labels: np.ndarray, c_old: np.ndarray,
                 upper: np.ndarray, lower: np.ndarray, fixed: np.ndarray | None = None
                 ) -> tuple[np.ndarray, int, float, float]:
    """``update``, also returning the inertia of the new centroids (exactly what
    ``inertia`` returns for them, taken in the pass that widens the bounds) and
    the largest distance a centroid moved: (centroids, n_reseeded, inertia, move)."""
    stats = np.zeros(2)
    c, reseeded = update(x, w, labels, c_old, upper, lower, fixed, _stats=stats)
    return c, reseeded, float(stats[0]), float(stats[1])


def inertia(x: np.ndarray, w: np.ndarray, labels: np.ndarray, c: np.ndarray) -> float:
    """Weighted sum of squared distances from each sample to its centroid."""
    x, w = _samples(x, w)
    c = _centroids("centroids", c, x.shape[1])
    labels = _labels(labels, x.shape[0], c.shape[0])
    return _inertia(x.ctypes.data, x.shape[0], x.shape[1], w.ctypes.data, labels.ctypes.data,
                    c.ctypes.data)


# ------------------------------------------------------------------ remapping

def _lut(lin) -> np.ndarray:
    lin = _input("linear table", lin, np.float64, 1)
    _need(lin.shape == (256,), f"the linear table must have 256 entries, not {lin.shape}")
    return lin


def _space(space: int) -> int:
    _need(space in (SPACE_RGB, SPACE_OKLAB), f"unknown colour space code {space!r}")
    return int(space)


def _transparent(index: int, k: int) -> int:
    _need(-1 <= index < k, f"the transparent index must be -1 or in 0..{k - 1}, not {index}")
    return int(index)


def _palette_args(pal: np.ndarray, proj: np.ndarray, axis: np.ndarray, order: np.ndarray,
                  channels: int) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """The sorted palette's arguments, checked: 1..256 entries of as many
    working coordinates as the image has channels, and ``order`` a
    permutation of the entries."""
    pal = _input("palette", pal, np.float64, 2)
    k, d = pal.shape
    _need(1 <= k <= 256, f"a palette holds 1 to 256 entries, not {k}")
    _need(d == channels, f"the palette has {d} coordinates but the image {channels} channels")
    proj = _input("projections", proj, np.float64, 1)
    axis = _input("axis", axis, np.float64, 1)
    order = _input("order", order, np.int64, 1)
    _need(proj.shape == (k,), f"projections must have shape ({k},), not {proj.shape}")
    _need(axis.shape == (d,), f"axis must have shape ({d},), not {axis.shape}")
    _need(order.shape == (k,) and np.array_equal(np.sort(order), np.arange(k)),
          f"order must be a permutation of 0..{k - 1}")
    keep = (pal, proj, axis, order)  # the caller holds these while C reads them
    return keep, (pal.ctypes.data, pal.shape[0], pal.shape[1], proj.ctypes.data,
                  axis.ctypes.data, order.ctypes.data)


def remap(pix: np.ndarray, pal: np.ndarray, proj: np.ndarray, axis: np.ndarray,
          order: np.ndarray, space: int, lin: np.ndarray, transparent_index: int,
          cap_bits: int) -> np.ndarray:
    """Exact nearest-palette index for every pixel, cached per distinct colour.

    ``pal``/``proj``/``order``: the palette's working coordinates sorted by
    projection on ``axis`` and the original index of each sorted entry.
    """
    pix = _pixels("pixels", pix)
    n, nch = pix.shape
    _keep, palette = _palette_args(pal, proj, axis, order, nch)
    lin = _lut(lin)
    space = _space(space)
    transparent_index = _transparent(transparent_index, palette[1])
    _need(1 <= cap_bits <= 30, f"cap_bits must be 1..30, not {cap_bits}")
    out = np.empty(n, dtype=np.uint8)

    def run(start: int, stop: int) -> None:
        _checked(_remap(pix[start:].ctypes.data, stop - start, nch, *palette, space,
                        lin.ctypes.data, transparent_index, cap_bits, out[start:].ctypes.data))

    run_pieces(run, pieces(n, SPLIT_PIXELS))
    return out


def remap_rgb(pix: np.ndarray, pal: np.ndarray, proj: np.ndarray, axis: np.ndarray,
              order: np.ndarray, space: int, lin: np.ndarray) -> np.ndarray:
    """``remap`` for opaque RGB with a direct 2**24-entry cache (32 MB per
    thread): faster than hashing when the image has millions of pixels."""
    pix = _pixels("pixels", pix, channels=(3,))
    n = pix.shape[0]
    _keep, palette = _palette_args(pal, proj, axis, order, 3)
    lin = _lut(lin)
    space = _space(space)
    out = np.empty(n, dtype=np.uint8)

    def run(start: int, stop: int) -> None:
        _checked(_remap_rgb(pix[start:].ctypes.data, stop - start, *palette, space,
                            lin.ctypes.data, out[start:].ctypes.data))

    run_pieces(run, pieces(n, SPLIT_PIXELS))
    return out


def remap_rgb_packed(pix: np.ndarray, pal: np.ndarray, proj: np.ndarray, axis: np.ndarray,
                     order: np.ndarray, space: int, lin: np.ndarray, cap_bits: int) -> np.ndarray:
    """``remap`` for opaque RGB with the colour cache packed into one 32-bit
    slot per colour (one memory access a lookup), at most 2**cap_bits slots
    per thread."""
    pix = _pixels("pixels", pix, channels=(3,))
    n = pix.shape[0]
    _keep, palette = _palette_args(pal, proj, axis, order, 3)
    lin = _lut(lin)
    space = _space(space)
    _need(1 <= cap_bits <= 30, f"cap_bits must be 1..30, not {cap_bits}")
    out = np.empty(n, dtype=np.uint8)

    def run(start: int, stop: int) -> None:
        _checked(_remap_rgb_packed(pix[start:].ctypes.data, stop - start, *palette, space,
                                   lin.ctypes.data, cap_bits, out[start:].ctypes.data))

    run_pieces(run, pieces(n, SPLIT_PIXELS))
    return out


#: The run-aware remap looks at no upper neighbour on rows that are a
#: multiple of this, and is split over threads only at such rows: the result
#: does not depend on the thread count.
RUN_BAND_ROWS = 256
#: ... and split from this many pixels a piece: a 1-2 MP photo has most of
#: its colours only once, so a cache per piece repeats little work, and the
#: remap is the largest single stage there. Down to 0.3 MP two pieces still
#: pay on two cores (about 30 % less remap time there).
RUN_SPLIT_PIXELS = 1 << 17


def remap_runs(img: np.ndarray, pal: np.ndarray, proj: np.ndarray, axis: np.ndarray,
               order: np.ndarray, space: int, lin: np.ndarray, transparent_index: int,
               relative: float, absolute: float, direct: bool, cap_bits: int) -> np.ndarray:
    """The undithered remap that keeps runs, for ``img`` ((h, w, 3|4) uint8).

    Each pixel takes its left neighbour's entry, else its upper neighbour's,
    when that entry is its nearest or its second nearest no farther than the
    slack beyond the nearest, max(``relative`` * nearest distance,
    ``absolute``) in working-space units; otherwise its nearest. An exact
    match keeps its entry. Choices are cached per colour: in a direct 2**24
    table (``direct``, opaque RGB only) or hashed in 2**cap_bits slots per thread.
    """
    img = _pixels("image", img, ndim=3)
    h, w, nch = img.shape
    _keep, palette = _palette_args(pal, proj, axis, order, nch)
    lin = _lut(lin)
    space = _space(space)
    transparent_index = _transparent(transparent_index, palette[1])
    _need(np.isfinite(relative) and relative >= 0.0,
          f"the relative slack must be a finite number >= 0, not {relative}")
    _need(np.isfinite(absolute) and absolute >= 0.0,
          f"the absolute slack must be a finite number >= 0, not {absolute}")
    _need(not direct or nch == 3, "the direct cache is for RGB images only")
    _need(1 <= cap_bits <= 30, f"cap_bits must be 1..30, not {cap_bits}")
    out = np.empty((h, w), dtype=np.uint8)
    # One piece per thread, each starting on a band's first row.
    bands = -(-h // RUN_BAND_ROWS)
    parts = max(1, min(threads(), bands, h * w // RUN_SPLIT_PIXELS))
    cuts = [min(h, bands * i // parts * RUN_BAND_ROWS) for i in range(parts + 1)]

    def run(first: int, stop: int) -> None:
        _checked(_remap_runs(img[first:].ctypes.data, first, stop - first, w, nch, *palette,
                             space, lin.ctypes.data, transparent_index, float(relative),
                             float(absolute), RUN_BAND_ROWS, int(bool(direct)), cap_bits,
                             out[first:].ctypes.data))

    run_pieces(run, list(zip(cuts[:-1], cuts[1:], strict=True)))
    return out


def dither(img: np.ndarray, pal_rgb: np.ndarray, pal: np.ndarray, proj: np.ndarray,
           axis: np.ndarray, order: np.ndarray, space: int, lin: np.ndarray,
           transparent_index: int, strength: float) -> np.ndarray:
    """Serpentine Floyd-Steinberg error diffusion at ``strength`` (0..1).

    The error is diffused in straight sRGB; the nearest entry for each
    error-adjusted colour (rounded to whole sRGB steps) is found in the working
    space. For opaque images the choice is cached per 2x2x2 cell of sRGB.
    Sequential: each pixel depends on the error of the ones before it.
    """
    img = _pixels("image", img, ndim=3)
    h, w, nch = img.shape
    _keep, palette = _palette_args(pal, proj, axis, order, nch)
    k = palette[1]
    pal_rgb = _input("sRGB palette", pal_rgb, np.float64, 2)
    _need(pal_rgb.shape[0] == k and pal_rgb.shape[1] >= 3,
          f"the sRGB palette must have shape ({k}, 3), not {pal_rgb.shape}")
    pal_rgb = np.ascontiguousarray(pal_rgb[:, :3])
    lin = _lut(lin)
    space = _space(space)
    transparent_index = _transparent(transparent_index, k)
    _need(0.0 <= strength <= 1.0, f"the dithering strength must be in 0..1, not {strength}")
    out = np.empty((h, w), dtype=np.uint8)
    _checked(_dither(img.ctypes.data, h, w, nch, pal_rgb.ctypes.data, *palette, space,
                     lin.ctypes.data, transparent_index, float(strength), out.ctypes.data))
    return out
