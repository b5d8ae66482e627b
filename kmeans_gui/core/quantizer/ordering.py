"""Palette orders: which entry gets which index. The colours stay the same."""

from __future__ import annotations

import numpy as np

from .colorspace import rgb_to_oklab
from .remapping import index_counts


def palette_order(palette: np.ndarray) -> np.ndarray:
    """A permutation putting translucent entries first, then dark to light.

    tRNS only needs entries up to the last translucent one, and neighbouring
    indices with similar colours compress better.
    """
    lightness = rgb_to_oklab(palette[:, :3].astype(np.float64))[:, 0]
    alpha = palette[:, 3] if palette.shape[1] == 4 else np.full(len(palette), 255)
    return np.lexsort((lightness, alpha == 255, alpha != 0))


def _chain(lab: np.ndarray, start: int) -> np.ndarray:
    """Greedy nearest-neighbour walk through the palette from ``start``."""
    dist = ((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=2)
    path = [start]
    for _ in range(len(lab) - 1):
        row = dist[path[-1]].copy()
        row[path] = np.inf
        path.append(int(row.argmin()))
    return np.array(path)


def candidate_orders(indices: np.ndarray, palette: np.ndarray) -> list[np.ndarray]:
    """Permutations worth a trial encode: the palette as it is, and a
    nearest-colour walk (in OKLab) from the darkest and from the most used entry."""
    lab = rgb_to_oklab(palette[:, :3].astype(np.float64))
    counts = index_counts(indices)[: len(palette)]
    return [np.arange(len(palette)), _chain(lab, int(lab[:, 0].argmin())),
            _chain(lab, int(counts.argmax()))]


def permuted(indices: np.ndarray, palette: np.ndarray,
             perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``indices`` and ``palette`` with entry ``perm[i]`` moved to index i
    (the same image); unchanged when ``perm`` is the identity."""
    if np.array_equal(perm, np.arange(len(perm))):
        return indices, palette
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    return inverse.astype(np.uint8)[indices], np.ascontiguousarray(palette[perm])
