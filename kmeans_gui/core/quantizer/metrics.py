"""Image-quality measures used by the benchmarks and tests."""

from __future__ import annotations

import numpy as np

from .._native import kernels as _kernels
from .colorspace import rgb_to_oklab

_CHUNK = 1 << 20


def _pairs(original: np.ndarray, quantized: np.ndarray):
    a = np.ascontiguousarray(original[..., :3]).reshape(-1, 3)
    b = np.ascontiguousarray(quantized[..., :3]).reshape(-1, 3)
    if a.shape != b.shape:
        raise ValueError("images differ in size")
    for start in range(0, len(a), _CHUNK):
        yield a[start:start + _CHUNK], b[start:start + _CHUNK]


def rgb_mse(original: np.ndarray, quantized: np.ndarray) -> float:
    """Mean squared error per channel in sRGB 0..255 (alpha ignored)."""
    total = 0.0
    count = 0
    for a, b in _pairs(original, quantized):
        diff = a.astype(np.float64) - b
        total += float(np.einsum("ij,ij->", diff, diff))
        count += diff.size
    return total / count


def oklab_delta_e(original: np.ndarray, quantized: np.ndarray) -> float:
    """Mean Euclidean OKLab distance per pixel, ×100 (alpha ignored)."""
    total = 0.0
    count = 0
    for a, b in _pairs(original, quantized):
        diff = rgb_to_oklab(a) - rgb_to_oklab(b)
        total += float(np.sqrt(np.einsum("ij,ij->i", diff, diff)).sum())
        count += len(diff)
    return 100.0 * total / count


def palette_distance_sum(lab: np.ndarray, indices: np.ndarray, palette: np.ndarray) -> float:
    """Sum over pixels of the OKLab distance (unscaled) from each pixel's
    coordinates ``lab`` ((n, 3), as ``rgb_to_oklab`` gives them) to its entry
    ``palette[indices]`` ((k, 3|4) sRGB(A), alpha ignored): the quality
    figure's total, in one pass without an (n, 3) array of differences."""
    table = rgb_to_oklab(np.ascontiguousarray(palette[:, :3]))
    return _kernels.distance_sum(lab, indices, table)
