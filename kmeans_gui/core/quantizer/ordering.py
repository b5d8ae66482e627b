"""Palette orders: which entry gets which index. The colours stay the same."""

from __future__ import annotations

import numpy as np

from .colorspace import rgb_to_oklab


def palette_order(palette: np.ndarray) -> np.ndarray:
    """A permutation putting translucent entries first, then dark to light.

    tRNS only needs entries up to the last translucent one, and neighbouring
    indices with similar colours compress better.
    """
    lightness = rgb_to_oklab(palette[:, :3].astype(np.float64))[:, 0]
    alpha = palette[:, 3] if palette.shape[1] == 4 else np.full(len(palette), 255)
    return np.lexsort((lightness, alpha == 255, alpha != 0))


def ordered_palette(palette: np.ndarray) -> np.ndarray:
    """``palette`` in ``palette_order``, C-contiguous for the remap."""
    return np.ascontiguousarray(palette[palette_order(palette)])


def permuted(indices: np.ndarray, palette: np.ndarray,
             perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``indices`` and ``palette`` with entry ``perm[i]`` moved to index i
    (the same image); unchanged when ``perm`` is the identity."""
    if np.array_equal(perm, np.arange(len(perm))):
        return indices, palette
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    return inverse.astype(np.uint8)[indices], np.ascontiguousarray(palette[perm])
