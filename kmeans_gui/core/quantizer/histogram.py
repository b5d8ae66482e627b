"""The weighted colour histogram K-Means clusters instead of raw pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._native import kernels as _kernels
from ..errors import ImageError

#: Up to this many distinct colours, every colour is its own sample, and
#: K-Means over the histogram is exactly K-Means over all pixels.
MAX_EXACT_COLORS = 1 << 17
#: Beyond it, colours are grouped into 6-bit-per-channel bins (4x4x4 sRGB
#: cells); each bin carries the exact sum of its members, so a centroid update
#: still equals the mean over the pixels assigned to it.
BIN_MASK = 0xFCFCFCFC
EXACT_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class ColorHistogram:
    """Distinct colours (or fine bins) with their pixel counts."""

    colors: np.ndarray  # (n, 3|4) float64: exact mean sRGB(A) of each group's pixels
    counts: np.ndarray  # (n,) int64: pixels in each group
    n_transparent: int  # fully transparent pixels, left out of the groups
    exact: bool  # True when each group is a single colour
    keys: np.ndarray  # (n,) uint32: packed RGBA (R in the high byte) & mask, per group
    mask: int  # EXACT_MASK or BIN_MASK: a pixel belongs to the group whose key
    #            equals its packed RGBA (alpha 255 for RGB) & mask

    @property
    def n_channels(self) -> int:
        return self.colors.shape[1]

    @property
    def n_pixels(self) -> int:
        return int(self.counts.sum()) + self.n_transparent

    def __len__(self) -> int:
        return len(self.counts)


def _cap_bits(limit: int) -> int:
    return max(10, int(np.ceil(np.log2(2 * max(limit, 1)))))


def build_histogram(pixels: np.ndarray, max_exact: int = MAX_EXACT_COLORS) -> ColorHistogram:
    """Histogram of a (h, w, 3|4) uint8 image, exact when it has few colours."""
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or pixels.dtype != np.uint8:
        raise ImageError("expected an 8-bit RGB or RGBA image")
    flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[2])
    limit = min(max_exact, flat.shape[0])
    keys, counts, sums, used, transparent = _kernels.build_histogram(
        flat, EXACT_MASK, _cap_bits(limit), limit)
    exact = used >= 0
    if not exact and flat.shape[1] == 3:
        counts, sums = _kernels.build_histogram_rgb6(flat)
        bins = np.arange(1 << 18, dtype=np.uint32)
        keys = (((bins >> 12) << 26) | (((bins >> 6) & 63) << 18) | ((bins & 63) << 10)
                | 0xFC).astype(np.uint32)
        used = 0
    cap_bits = 20
    while used < 0:
        keys, counts, sums, used, transparent = _kernels.build_histogram(
            flat, BIN_MASK, cap_bits, 1 << (cap_bits - 1))
        cap_bits += 2
    filled = counts > 0
    counts = counts[filled]
    colors = sums[filled] / counts[:, None]
    return ColorHistogram(colors=colors, counts=counts, n_transparent=int(transparent),
                          exact=bool(exact), keys=keys[filled],
                          mask=EXACT_MASK if exact else BIN_MASK)
