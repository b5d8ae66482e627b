"""The weighted colour histogram K-Means clusters instead of raw pixels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._native import kernels as _kernels
from ..errors import ImageError
from .colorspace import to_working

#: Up to this many distinct colours, every colour is its own sample, and
#: K-Means over the histogram is exactly K-Means over all pixels.
MAX_EXACT_COLORS = 1 << 17
#: Beyond it, colours are grouped into 6-bit-per-channel bins (4x4x4 sRGB
#: cells); each bin carries the exact sum of its members, so a centroid update
#: still equals the mean over the pixels assigned to it.
BIN_MASK = 0xFCFCFCFC
EXACT_MASK = 0xFFFFFFFF
#: RGBA with more 6-bit bins than half a table of 2**RGBA_BIN_BITS slots holds
#: (noise, say) is grouped into coarser bins instead -- 5 bits of red, green
#: and blue, 3 of alpha: 2**18 bins, as many as RGB's -- so the tables stay the
#: size of RGB's instead of doubling with the image (a 24 MP noisy RGBA image
#: took 3.7 GB). Sums stay exact, so centroids are still exact means.
RGBA_BIN_BITS = 19
COARSE_MASK = 0xF8F8F8E0


@dataclass(frozen=True)
class ColorHistogram:
    """Distinct colours (or fine bins) with their pixel counts."""

    colors: np.ndarray  # (n, 3|4) float64: exact mean sRGB(A) of each group's pixels
    counts: np.ndarray  # (n,) int64: pixels in each group
    n_transparent: int  # fully transparent pixels, left out of the groups
    exact: bool  # True when each group is a single colour
    keys: np.ndarray  # (n,) uint32: packed RGBA (R in the high byte) & mask, per group
    mask: int  # EXACT_MASK, BIN_MASK or COARSE_MASK: a pixel belongs to the group whose key
    #            equals its packed RGBA (alpha 255 for RGB) & mask
    weights: np.ndarray | None = None  # (n,) float64: summed per-pixel weights of each
    #            group, when the histogram was built with weights (colors are then
    #            the weighted means)
    # What is derived from the groups alone (their working-space coordinates,
    # cells), kept for the next K-Means run on the same histogram: the k
    # curve and the target searches run a dozen, the GUI one per k tried.
    _derived: dict[Any, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    def derived(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per histogram and ``key`` (arrays it
        returns should be read-only: every later caller shares them)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    @property
    def sample_weights(self) -> np.ndarray:
        """What K-Means weighs each group by: its summed weights, else its pixel count."""
        return self.weights if self.weights is not None else self.counts.astype(np.float64)

    @property
    def n_channels(self) -> int:
        return self.colors.shape[1]

    @property
    def n_pixels(self) -> int:
        return int(self.counts.sum()) + self.n_transparent

    def __len__(self) -> int:
        return len(self.counts)


def read_only(values: np.ndarray) -> np.ndarray:
    """``values`` C-contiguous and read-only: for what a histogram keeps."""
    values = np.ascontiguousarray(values)
    values.flags.writeable = False
    return values


def working_colours(hist: ColorHistogram, channels: int, space: str) -> np.ndarray:
    """The histogram's colours as K-Means sees them (``channels`` as in its
    palette), converted once per histogram: read-only, C-contiguous."""
    return hist.derived(("working", channels, space),
                        lambda: read_only(to_working(hist.colors[:, :channels], space)))


def _cap_bits(limit: int) -> int:
    return max(10, int(np.ceil(np.log2(2 * max(limit, 1)))))


def build_histogram(pixels: np.ndarray, weights: np.ndarray | None = None,
                    max_exact: int = MAX_EXACT_COLORS) -> ColorHistogram:
    """Histogram of a (h, w, 3|4) uint8 image, exact when it has few colours.

    ``weights`` ((h, w), finite, >= 0, not all zero on opaque pixels): each
    pixel's importance, summed per group exactly as pixels are counted; K-Means
    then minimises the weighted error."""
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or pixels.dtype != np.uint8:
        raise ImageError("expected an 8-bit RGB or RGBA image")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != pixels.shape[:2]:
            raise ImageError(f"the importance weights must be {pixels.shape[1]}x"
                             f"{pixels.shape[0]} like the image, not "
                             f"{weights.shape[1] if weights.ndim > 1 else '?'}x"
                             f"{weights.shape[0] if weights.ndim else '?'}")
    hist = _build(pixels, max_exact)
    return hist if weights is None else _weighted(hist, pixels, weights)


def _weighted(hist: ColorHistogram, pixels: np.ndarray, weights: np.ndarray) -> ColorHistogram:
    n = len(hist)
    if n == 0:
        return hist
    flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[2])
    try:  # the kernel checks every weight as it reads it
        totals, sums = _kernels.weighted_histogram(flat, hist.mask, hist.keys,
                                                   np.ascontiguousarray(weights).reshape(-1))
    except ValueError as exc:
        if "finite" not in str(exc):
            raise
        raise ImageError("the importance weights must be finite and not negative") from None
    if not totals.sum() > 0:
        raise ImageError("the importance weights are zero on every visible pixel")
    has = totals > 0
    colors = hist.colors.copy()
    colors[has] = sums[has] / totals[has, None]
    return ColorHistogram(colors=colors, counts=hist.counts, n_transparent=hist.n_transparent,
                          exact=hist.exact, keys=hist.keys, mask=hist.mask, weights=totals)


def _build(pixels: np.ndarray, max_exact: int) -> ColorHistogram:
    flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[2])
    limit = min(max_exact, flat.shape[0])
    keys, counts, sums, used, transparent = _kernels.build_histogram(
        flat, EXACT_MASK, _cap_bits(limit), limit, want_sums=False)
    exact = used >= 0
    if not exact and flat.shape[1] == 3:
        # The failed attempt's counts are already in memory; when they have
        # the bins' shape, clearing them is cheaper than faulting in new ones.
        counts, sums = _kernels.build_histogram_rgb6(
            flat, counts if counts.shape == (1 << 18,) else None)
        bins = np.arange(1 << 18, dtype=np.uint32)
        keys = (((bins >> 12) << 26) | (((bins >> 6) & 63) << 18) | ((bins & 63) << 10)
                | 0xFC).astype(np.uint32)
        used = 0
    mask = EXACT_MASK if exact else BIN_MASK
    if used < 0:  # RGBA: 6-bit bins if they are few, else coarser ones
        del keys, counts, sums
        keys, counts, sums, used, transparent = _kernels.build_histogram(
            flat, BIN_MASK, RGBA_BIN_BITS, 1 << (RGBA_BIN_BITS - 1))
    if used < 0:
        del keys, counts, sums
        mask = COARSE_MASK
        keys, counts, sums, transparent = _coarse_rgba(flat)
    filled = counts > 0
    counts = counts[filled]
    if sums is None:  # exact colours: each group's mean is its key, R G B A from the top byte
        shifts = np.array([24, 16, 8, 0][:flat.shape[1]], dtype=np.uint32)
        colors = ((keys[filled, None] >> shifts) & 0xFF).astype(np.float64)
    else:
        colors = sums[filled] / counts[:, None]
    return ColorHistogram(colors=colors, counts=counts, n_transparent=int(transparent),
                          exact=bool(exact), keys=keys[filled], mask=mask)


#: Pixels counted per strip by ``_coarse_rgba``.
_STRIP = 1 << 20


def _coarse_rgba(flat: np.ndarray):
    """``build_histogram`` with ``COARSE_MASK`` for RGBA, by direct indexing
    into the 2**18 bins, a strip of pixels at a time."""
    bins = 1 << 18
    counts = np.zeros(bins, np.int64)
    sums = np.zeros((bins, 4), np.int64)
    transparent = 0
    for start in range(0, len(flat), _STRIP):
        part = flat[start:start + _STRIP]
        visible = part[part[:, 3] != 0]
        transparent += len(part) - len(visible)
        index = (visible[:, 0] >> 3).astype(np.int64) << 13
        index |= (visible[:, 1] >> 3).astype(np.int64) << 8
        index |= (visible[:, 2] >> 3).astype(np.int64) << 3
        index |= visible[:, 3] >> 5
        counts += np.bincount(index, minlength=bins)
        for channel in range(4):  # float64 sums of at most 2**20 bytes: exact
            sums[:, channel] += np.bincount(index, weights=visible[:, channel],
                                            minlength=bins).astype(np.int64)
    b = np.arange(bins, dtype=np.uint32)
    keys = ((((b >> 13) & 31) << 27) | (((b >> 8) & 31) << 19) | (((b >> 3) & 31) << 11)
            | ((b & 7) << 5)).astype(np.uint32)
    return keys, counts, sums, transparent
