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
