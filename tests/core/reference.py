"""Brute-force references the engine is checked against."""

import numpy as np

from kmeans_gui.core.quantizer.colorspace import from_working, to_working


def nearest(pixels: np.ndarray, palette: np.ndarray, space: str) -> np.ndarray:
    """Nearest palette index per pixel by computing every distance."""
    channels = pixels.shape[-1]
    flat = pixels.reshape(-1, channels).astype(np.float64)
    pal = palette.astype(np.float64)
    if channels == 4 and pal.shape[1] == 3:
        pal = np.hstack([pal, np.full((len(pal), 1), 255.0)])
    x = to_working(flat, space)
    c = to_working(pal, space)
    d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1).reshape(pixels.shape[:-1])


def kmeans_all_pixels(pixels: np.ndarray, initial: np.ndarray, space: str,
                      max_iter: int = 300) -> tuple[np.ndarray, int]:
    """Plain Lloyd's algorithm over every pixel (no histogram, no bounds).

    Returns the final palette (sRGB uint8) and the number of iterations.
    """
    x = to_working(pixels.reshape(-1, pixels.shape[-1]).astype(np.float64), space)
    c = to_working(initial.astype(np.float64), space)
    labels = None
    for iteration in range(1, max_iter + 1):
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = d.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            return from_working(c, space), iteration
        labels = new
        for j in range(len(c)):
            members = x[labels == j]
            assert len(members), "reference run hit an empty cluster; pick another start"
            c[j] = members.mean(axis=0)
    raise AssertionError("reference K-Means did not converge")


def weighted_kmeans_all_pixels(pixels: np.ndarray, weights: np.ndarray, initial: np.ndarray,
                               space: str, n_fixed: int = 0,
                               max_iter: int = 300) -> tuple[np.ndarray, int]:
    """Lloyd's algorithm over every pixel, each weighted; the first ``n_fixed``
    centroids of ``initial`` never move.

    Returns the final palette (sRGB uint8) and the number of iterations.
    """
    x = to_working(pixels.reshape(-1, pixels.shape[-1]).astype(np.float64), space)
    w = weights.reshape(-1).astype(np.float64)
    c = to_working(initial.astype(np.float64), space)
    labels = None
    for iteration in range(1, max_iter + 1):
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = d.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            palette = from_working(c, space)
            palette[:n_fixed] = initial[:n_fixed]
            return palette, iteration
        labels = new
        for j in range(n_fixed, len(c)):
            member = labels == j
            assert w[member].sum() > 0, "reference run hit an empty cluster"
            c[j] = (w[member, None] * x[member]).sum(axis=0) / w[member].sum()
    raise AssertionError("reference K-Means did not converge")


def group_of_pixels(hist, pixels: np.ndarray) -> np.ndarray:
    """Index of each pixel's group in ``hist`` ((h*w,) int64), -1 for transparent ones."""
    flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[2])
    # 0RGB bytes read as one big-endian 32-bit number: R << 16 | G << 8 | B.
    padded = np.zeros((flat.shape[0], 4), np.uint8)
    padded[:, 1:] = flat[:, :3]
    rgb = padded.view(">u4").reshape(-1).astype(np.uint32)
    del padded
    if flat.shape[1] == 3:  # every alpha is 255, so the 24 colour bits decide
        key = rgb & np.uint32(hist.mask >> 8)
        hist_keys = hist.keys >> np.uint32(8)
        if len(key) >= 1 << 20:  # a direct table beats a search per pixel
            lut = np.full(1 << 24, -1, dtype=np.intp)
            lut[hist_keys] = np.arange(len(hist), dtype=np.intp)
            return lut[key]
        alpha = None
    else:
        alpha = flat[:, 3]
        key = ((rgb << np.uint32(8)) | alpha) & np.uint32(hist.mask)
        hist_keys = hist.keys
    order = np.argsort(hist_keys)
    sorted_keys = hist_keys[order]
    at = np.minimum(np.searchsorted(sorted_keys, key), len(sorted_keys) - 1)
    group = np.where(sorted_keys[at] == key, order[at], -1)
    if alpha is not None:
        group[alpha == 0] = -1
    return group


def weighted_histogram(hist, pixels: np.ndarray, weights: np.ndarray):
    """Each group's summed weight and weighted channel sums, with numpy."""
    g = group_of_pixels(hist, pixels)
    w = weights.reshape(-1).astype(np.float64)
    flat = pixels.reshape(-1, pixels.shape[2])
    inside = g >= 0
    g, w, flat = g[inside], w[inside], flat[inside]
    totals = np.bincount(g, weights=w, minlength=len(hist))
    sums = np.column_stack([np.bincount(g, weights=w * flat[:, t], minlength=len(hist))
                            for t in range(flat.shape[1])])
    return totals, sums
