"""K-Means over a weighted colour histogram, one iteration per generator step."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import _kernels
from .colorspace import SPACES, from_working, to_working
from .errors import ImageError
from .histogram import ColorHistogram

INITS = ("kmeans++", "random")
MAX_K = 256

TRANSPARENT = np.zeros(4, dtype=np.uint8)


@dataclass(frozen=True)
class KMeansState:
    """Where K-Means stands after one iteration. Arrays are never mutated later."""

    iteration: int  # 0 for the trivial case (fewer colours than k)
    inertia: float  # sum over pixels of squared distance to their centroid (working units)
    mse: float  # inertia per clustered pixel
    palette: np.ndarray  # (k', 3|4) uint8 sRGB(A); a transparent entry first when needed
    moved: float  # fraction of pixels whose cluster changed in this iteration
    converged: bool  # True on the last state
    reason: str  # why it stopped: "", "unchanged", "tolerance", "max_iter", "few colours"
    labels: np.ndarray  # (n_groups,) palette index of each histogram group

    @property
    def k(self) -> int:
        return len(self.palette)


def check_settings(k: int, space: str, init: str, max_iter: int, tol: float) -> None:
    if not 1 <= int(k) <= MAX_K:
        raise ImageError(f"k must be between 1 and {MAX_K}, not {k}")
    if space not in SPACES:
        raise ImageError(f"colour space must be one of {', '.join(SPACES)}, not {space!r}")
    if init not in INITS:
        raise ImageError(f"initialisation must be one of {', '.join(INITS)}, not {init!r}")
    if max_iter < 1:
        raise ImageError("the iteration cap must be at least 1")
    if not tol >= 0:
        raise ImageError("the tolerance must be zero or positive")


def kmeans_steps(
    hist: ColorHistogram,
    k: int,
    *,
    space: str = "oklab",
    init: str = "kmeans++",
    max_iter: int = 100,
    tol: float = 1e-4,
    seed: int | None = 0,
) -> Iterator[KMeansState]:
    """Cluster ``hist`` into ``k`` colours, yielding the state after every iteration.

    Stops when no group changes cluster, when the inertia improves by less than
    ``tol`` relative to the previous iteration, or after ``max_iter`` iterations.
    With fully transparent pixels one palette entry is reserved for them.
    """
    check_settings(k, space, init, max_iter, tol)
    offset = 1 if hist.n_transparent else 0
    prefix = TRANSPARENT[None, :] if offset else np.zeros((0, 4), np.uint8)
    n_clusters = max(1, k - offset)
    n = len(hist)
    if n == 0:  # every pixel transparent
        yield KMeansState(0, 0.0, 0.0, prefix.copy(), 0.0, True, "few colours",
                          np.zeros(0, np.int64))
        return
    # Palettes are opaque RGB unless the image has (semi-)transparent pixels.
    channels = hist.n_channels if (offset or hist.n_channels == 4 and
                                   (hist.colors[:, 3] < 255).any()) else 3
    colors = hist.colors[:, :channels] if channels == 3 else hist.colors
    prefix = prefix[:, :channels]
    weights = hist.counts.astype(np.float64)
    total = weights.sum()

    if hist.exact and n <= n_clusters:
        palette = np.vstack([prefix, np.rint(colors).astype(np.uint8)])
        labels = np.arange(n, dtype=np.int64) + offset
        yield KMeansState(0, 0.0, 0.0, palette, 0.0, True, "few colours", labels)
        return

    x = np.ascontiguousarray(to_working(colors, space))
    rng = np.random.default_rng(seed)
    if init == "kmeans++":
        trials = 2 + int(np.log(n_clusters))
        chosen = _kernels.kmeanspp(x, weights, n_clusters, rng.random(n_clusters * trials), trials)
    else:  # "random": k distinct pixels, i.e. groups drawn by pixel count
        chosen = rng.choice(n, size=min(n_clusters, n), replace=False, p=weights / total)
    centroids = x[chosen].copy()
    if len(centroids) < n_clusters:  # fewer distinct samples than k (binned histogram)
        n_clusters = len(centroids)

    labels = np.zeros(n, dtype=np.int64)
    upper = np.full(n, np.inf)
    lower = np.zeros(n)
    _kernels.assign(x, centroids, labels, upper, lower, True)
    previous = np.inf
    for iteration in range(1, max_iter + 1):
        old_labels = labels.copy()
        if iteration > 1:
            _kernels.assign(x, centroids, labels, upper, lower, False)
        changed = labels != old_labels
        moved = float(weights[changed].sum() / total) if iteration > 1 else 1.0
        centroids, _ = _kernels.update(x, weights, labels, centroids, upper, lower)
        value = float(_kernels.inertia(x, weights, labels, centroids))
        if iteration > 1 and not changed.any():
            reason = "unchanged"
        elif previous < np.inf and previous - value <= tol * previous:
            reason = "tolerance"
        elif iteration == max_iter:
            reason = "max_iter"
        else:
            reason = ""
        previous = value
        palette = np.vstack([prefix, from_working(centroids, space)])
        yield KMeansState(iteration, value, value / total, palette, moved, bool(reason),
                          reason, labels + offset)
        if reason:
            return
