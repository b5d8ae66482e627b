"""K-Means over a weighted colour histogram, one iteration per generator step."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...limits import INITS, MAX_K, MIN_K, SPACES
from .._native import kernels as _kernels
from .._native import rng as _rng
from ..errors import ImageError
from .colorspace import from_working, to_working
from .histogram import ColorHistogram, read_only, working_colours

TRANSPARENT = np.zeros(4, dtype=np.uint8)
#: Up to this k, three seedings are raced by default (see ``kmeans_steps``).
RACE_MAX_K = 32
#: With fixed colours, after the run converges, up to this many swap trials: move the
#: free centroid that is cheapest to lose to a colour drawn among the worst
#: served, run to convergence, keep it if the error fell. Pins sit where
#: K-Means would not put centroids, so the free ones are often stuck in a
#: worse local optimum than without pins (benchmarks/palette_control.py).
SWAP_TRIALS = 16
#: ...stopping early after this many trials in a row were not kept.
SWAP_PATIENCE = 5


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
    #: On iteration 1 only: the palette the iteration started from (the seeds,
    #: after the probe iterations when seedings were raced), so the seeding
    #: and the first assignment can be shown.
    start: np.ndarray | None = None

    @property
    def k(self) -> int:
        return len(self.palette)


def check_settings(k: int, space: str, init: str, max_iter: int, tol: float) -> None:
    if not MIN_K <= int(k) <= MAX_K:
        raise ImageError(f"k must be between {MIN_K} and {MAX_K}, not {k}")
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
    restarts: int | None = None,
    probe_iterations: int = 5,
    initial: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    coarse: bool = False,
) -> Iterator[KMeansState]:
    """Cluster ``hist`` into ``k`` colours, yielding the state after every iteration.

    Stops when no group changes cluster, when the inertia improves by less than
    ``tol`` relative to the previous iteration, or after ``max_iter`` iterations.
    With fully transparent pixels one palette entry is reserved for them.
    With ``restarts`` > 1, that many seedings run ``probe_iterations`` silent
    iterations each and the one with the lowest inertia continues; by default
    3 up to k = 32, where runs are cheap and the seed matters most (measured
    on five photos: about 1 % lower error at k = 16 for 1.6x the time; at
    k = 64 the gain fell to 0.3 % for 1.8x), else 1.
    ``initial`` ((k', 3|4) sRGB(A)) replaces the seeding with given centroids.
    ``fixed`` ((m, 3) uint8 sRGB): colours that appear exactly in every
    palette, count toward ``k``, take part in the assignment but are never
    moved or re-seeded; the other ``k - m`` centroids adapt around them. One
    of the runs raced then starts from the unconstrained palette with each
    fixed colour in place of its nearest entry (a second K-Means run first);
    after convergence ``SWAP_TRIALS`` swap trials may lower the error further,
    reported as one more iteration.
    Without ``fixed`` or ``initial``, a histogram of many colours is
    clustered in OKLab on a grid of cells one just-noticeable difference wide
    (see ``_Grid``), then finished with up to ``GRID_EXACT_STEPS`` iterations
    on its groups, not counted; the last state's labels are then every
    group's nearest palette entry.
    ``coarse``: a run seeded on the cells (an exact histogram below the
    grid's k) iterates on them to the end too, not on the groups, and each
    group is labelled as its cell, its inertia the cells' own (without
    their groups' scatter): a cheaper palette for trials, whose error runs
    about 1 % above a full run's (benchmarks/k_targets.py).
    """
    if restarts is None:
        restarts = 3 if k <= RACE_MAX_K else 1
    check_settings(k, space, init, max_iter, tol)
    offset = 1 if _reserve_transparent(hist, k) else 0
    prefix = TRANSPARENT[None, :] if offset else np.zeros((0, 4), np.uint8)
    n_clusters = k - offset
    pinned = check_fixed(fixed, n_clusters)
    n = len(hist)
    if n == 0 or n_clusters == 0:  # every pixel transparent, or k = 1 and most are
        inertia = _distance_to_transparent(hist, space)
        visible = float(hist.counts.sum())
        palette = np.vstack([prefix, np.column_stack(
            [pinned, np.full(len(pinned), 255, np.uint8)])])
        yield KMeansState(0, inertia, inertia / visible if visible else 0.0, palette,
                          0.0, True, "few colours", np.zeros(n, np.int64))
        return
    # Palettes are opaque RGB unless the image has (semi-)transparent pixels.
    channels = hist.n_channels if (offset or hist.n_channels == 4 and
                                   (hist.colors[:, 3] < 255).any()) else 3
    colors = hist.colors[:, :channels] if channels == 3 else hist.colors
    prefix = prefix[:, :channels]
    weights = hist.sample_weights
    total = weights.sum()
    m = len(pinned)
    pinned_rgba = pinned if channels == 3 else np.column_stack(
        [pinned, np.full(m, 255, np.uint8)])

    if hist.exact and n + m <= n_clusters:
        palette = np.vstack([prefix, pinned_rgba, np.rint(colors).astype(np.uint8)])
        labels = np.arange(n, dtype=np.int64) + offset + m
        yield KMeansState(0, 0.0, 0.0, palette, 0.0, True, "few colours", labels)
        return

    exact_x = working_colours(hist, channels, space)
    # Not with fixed colours: their swap trials compare runs, and on cells a
    # trial kept could end above the run it beat once finished on the groups.
    cell = GRID_CELL.get(space)
    grid = (hist.derived(("grid", channels, space, cell),
                         lambda: _Grid.build(exact_x, weights, space))
            if initial is None and not m and n_clusters >= GRID_MIN_K else None)
    x, weights = (grid.x, grid.weights) if grid is not None else (exact_x, weights)
    rng = _rng.Generator(seed)  # numpy's default_rng stream, without numpy.random
    anchors = to_working(pinned_rgba.astype(np.float64), space)
    scatter = grid.scatter if grid is not None else 0.0
    # Below the grid's k, an exact histogram of many colours is still seeded,
    # and its seedings raced, on the grid's cells; only the run that goes on
    # iterates on the groups themselves (see RACE_ON_CELLS).
    cells = (hist.derived(("cells", channels, space, cell),
                          lambda: _Grid.build(exact_x, weights, space, with_scatter=False))
             if grid is None and initial is None and seeds_on_cells(hist, space, m) else None)
    # (the race compares runs on the same cells: their scatter would shift all alike)
    sx, sw, s_scatter = ((cells.x, cells.weights, 0.0) if cells is not None
                         else (x, weights, scatter))
    if initial is not None:
        start = _checked_initial(initial, channels, n_clusters)
        runs = [_Lloyd(x, weights, _around(anchors, to_working(start, space), n_clusters), m)]
    else:
        keys = None if hist.exact or grid is not None else hist.keys
        # Random seeds are pixels' own colours, never a cell's mean.
        pool = (exact_x, hist.sample_weights) if init == "random" else (sx, sw)
        runs = [_Lloyd(sx, sw, _around(anchors, _seed_centroids(
                    *pool, n_clusters, init, rng, keys), n_clusters), m, s_scatter)
                for _ in range(max(1, restarts))]
        if m:
            # Also race the obvious answer: the unconstrained palette with each
            # fixed colour in place of its nearest entry. Lloyd iterations never
            # raise the error, so the result is never worse than that.
            free = None
            for free in kmeans_steps(hist, k, space=space, init=init, max_iter=max_iter,  # noqa: B007
                                     tol=tol, seed=seed, restarts=restarts,
                                     probe_iterations=probe_iterations):
                pass
            adaptive = to_working(free.palette[offset:].astype(np.float64), space)
            runs.append(_Lloyd(x, weights, _around(anchors, adaptive, n_clusters), m, scatter))
    if len(runs) > 1:
        # Several seedings, a few silent iterations each, then the best goes on:
        # K-Means only finds a local optimum, and which one depends on the seed.
        for run in runs:
            for _ in range(probe_iterations):
                run.step()
        runs.sort(key=lambda run: run.inertia)
    run = runs[0]
    if cells is not None and not coarse:  # the winner goes on over the groups, from where it stands
        run = _Lloyd(x, weights, run.centroids.copy(), m)
    # A coarse run stays on the cells it was seeded on; its groups are labelled as their cell.
    labelled = grid if grid is not None else cells if coarse else None
    # Swap trials only where this function seeded a race (not for a given
    # start, nor in step mode, where every step shown is one Lloyd iteration).
    swaps = bool(m) and n_clusters > m and initial is None and restarts > 1
    # The tolerance is on the samples' own error: a grid's constant scatter
    # would make relative changes look smaller and stop the run early.
    own = scatter
    previous = run.inertia - own  # inf unless probed
    start = np.vstack([prefix, from_working(run.centroids, space)])
    # Iterations are counted from here: the probes are part of the seeding.
    for iteration in range(1, max_iter + 1):
        moved = run.step()
        value = run.inertia - own
        if run.steps > 1 and moved == 0.0:
            reason = "unchanged"
        elif previous < np.inf and previous - value <= (
                tol * (GRID_TOL_SCALE if grid is not None else 1.0) * previous):
            reason = "tolerance"
        elif iteration >= max_iter:
            reason = "max_iter"
        else:
            reason = ""
        previous = value
        if reason and swaps:
            better = _swap_search(run, m, rng, tol)
            if better is not run:
                # One more step: the search's result (its iterations were silent).
                yield _state(iteration, run, prefix, pinned_rgba, space, offset, total,
                             moved, False, "", start if iteration == 1 else None, labelled)
                run, iteration = better, iteration + 1
                value = run.inertia - own
        if reason and grid is not None:
            run = grid.exact(run, exact_x, hist.sample_weights)
            for _ in range(GRID_EXACT_STEPS):
                last = run.inertia
                run.step()
                run.relabel()  # so the labels are those of the palette yielded
                if last - run.inertia <= tol * last:
                    break
            run = _palette_labels(run, space)
        yield _state(iteration, run, prefix, pinned_rgba, space, offset, total, moved,
                     bool(reason), reason, start if iteration == 1 else None, labelled)
        if reason:
            return


def _palette_labels(run: _Lloyd, space: str) -> _Lloyd:
    """``run`` with every sample labelled by its nearest entry of the palette
    as yielded (centroids rounded to sRGB bytes), as the remap will map its
    pixels; the inertia stays that of the centroids. The bounds, widened by
    how far rounding moved each centroid, skip most of the search."""
    rounded = np.ascontiguousarray(to_working(from_working(run.centroids, space)
                                              .astype(np.float64), space))
    if run.fixed is not None:
        rounded[run.fixed] = run.centroids[run.fixed]
    shift = np.sqrt(((rounded - run.centroids) ** 2).sum(axis=1))
    labels = run.labels.copy()
    upper = run.upper + shift[labels]
    lower = np.maximum(run.lower - shift.max(), 0.0)
    _kernels.assign(run.x, rounded, labels, upper, lower, False)
    run.labels = labels
    return run


def _state(iteration, run, prefix, pinned_rgba, space, offset, total, moved, converged,
           reason, start, grid=None) -> KMeansState:
    m = len(pinned_rgba)
    palette = np.vstack([prefix, from_working(run.centroids, space)])
    palette[offset:offset + m] = pinned_rgba  # exact: no round trip through the space
    labels = run.labels
    if grid is not None and len(labels) != len(grid.inverse):  # a cell's groups share its label
        labels = labels[grid.inverse]
    return KMeansState(iteration, run.inertia, run.inertia / total, palette, moved, converged,
                       reason, labels + offset, start)


def _swap_search(run: _Lloyd, m: int, rng: _rng.Generator, tol: float,
                 trials: int = SWAP_TRIALS, max_iter: int = 100) -> _Lloyd:
    """Swap trials on a converged run with ``m`` fixed centroids: each moves
    the free centroid whose loss raises the error least (its members moving
    to their second nearest) to a sample drawn by weight x squared distance,
    then runs Lloyd to convergence. A trial is kept if it lowers both the
    squared error K-Means minimises and the mean distance (what ΔE reports);
    the best run is returned (``run`` itself if none was kept)."""
    best, (near, second, labels) = run, _distances(run.x, run.centroids)
    best_mean = float((run.weights * near).sum())
    x, w = run.x, run.weights
    k = len(run.centroids)
    free = k - m
    failed = 0
    for trial in range(trials):
        if failed >= SWAP_PATIENCE:
            break
        failed += 1
        loss = np.bincount(labels, weights=w * (second ** 2 - near ** 2), minlength=k)
        loss[:m] = np.inf  # fixed centroids never move
        cheapest = np.argsort(loss, kind="stable")
        j = cheapest[trial % min(3, free)] if trial < 3 else cheapest[rng.integers(min(4, free))]
        p = w * near ** 2
        if not p.sum() > 0:
            break
        centroids = best.centroids.copy()
        centroids[j] = x[rng.choice(len(x), p=p / p.sum())]
        candidate = _Lloyd(x, w, centroids, m)
        previous = np.inf
        for _ in range(max_iter):
            moved = candidate.step()
            if candidate.steps > 1 and (moved == 0.0 or previous - candidate.inertia
                                        <= tol * previous):
                break
            previous = candidate.inertia
        if candidate.inertia < best.inertia:
            c_near, c_second, c_labels = _distances(x, candidate.centroids)
            c_mean = float((w * c_near).sum())
            if c_mean <= best_mean:
                best, best_mean = candidate, c_mean
                near, second, labels = c_near, c_second, c_labels
                failed = 0
    return best


def _distances(x: np.ndarray, centroids: np.ndarray):
    """Each sample's distance to its nearest and second-nearest centroid, and
    the nearest's index."""
    labels = np.zeros(len(x), dtype=np.int64)
    near = np.full(len(x), np.inf)
    second = np.zeros(len(x))
    _kernels.assign(x, centroids, labels, near, second, True)
    return near, second, labels



def _reserve_transparent(hist: ColorHistogram, k: int) -> bool:
    """Whether the palette keeps an entry for fully transparent pixels.

    k counts that entry. With k = 1 it is the only entry if at least half the
    pixels are transparent; otherwise the one entry is the visible pixels'
    colour (the transparent ones then get it too).
    """
    if not hist.n_transparent:
        return False
    return k >= 2 or hist.n_transparent >= int(hist.counts.sum())


def _distance_to_transparent(hist: ColorHistogram, space: str) -> float:
    """Inertia of mapping every visible pixel to the transparent entry."""
    if not len(hist):
        return 0.0
    x = to_working(hist.colors, space)  # four channels: transparent is the origin
    return float((hist.counts * (x * x).sum(axis=1)).sum())


def _checked_initial(initial, channels: int, n_clusters: int) -> np.ndarray:
    """``initial`` as (m, channels) float64 sRGB(A), or ValueError."""
    start = np.asarray(initial)
    if start.ndim != 2 or start.shape[1] not in (3, 4) or start.shape[1] < channels:
        raise ValueError(f"initial centroids must be an (m, {channels}) array of sRGB"
                         f"{'A' if channels == 4 else ''} values, not shape {start.shape}")
    if not 1 <= len(start) <= n_clusters:
        raise ValueError(f"initial centroids: between 1 and {n_clusters} needed "
                         f"(k less any transparent entry), not {len(start)}")
    try:
        start = start[:, :channels].astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("initial centroids must be numbers") from None
    if not (np.isfinite(start).all() and (start >= 0).all() and (start <= 255).all()):
        raise ValueError("initial centroids must be finite sRGB(A) values in 0..255")
    return start


#: For binned histograms (large photos) with more groups than this, k-means++
#: seeds from 5-bit bins: its cost is k x groups x trials, the largest single
#: step at k = 256. Measured on the 24 MP mosaic at k = 256: K-Means 0.67 ->
#: 0.34 s for +0.6 % error. Not for exact histograms: on the dark Hubble photo
#: coarse seeds cost +21 % error at k = 256 (5-bit bins are coarse near black).
COARSE_SEEDING_GROUPS = 16_384
COARSE_MASK = 0xF8F8F8F8


def _coarse(x, weights, keys):
    """Merge groups into 5-bit-per-channel bins: weighted mean coordinates."""
    _, inverse = np.unique(keys & np.uint32(COARSE_MASK), return_inverse=True)
    w = np.bincount(inverse, weights=weights)
    cx = np.column_stack([np.bincount(inverse, weights=weights * x[:, t]) / w
                          for t in range(x.shape[1])])
    return np.ascontiguousarray(cx), w


def _seed_centroids(x, weights, n_clusters, init, rng, keys=None) -> np.ndarray:
    n = len(x)
    if init == "kmeans++":
        trials = 2 + int(np.log(n_clusters))
        if keys is not None and n > COARSE_SEEDING_GROUPS:
            cx, cw = _coarse(x, weights, keys)
            if len(cx) > n_clusters:
                chosen = _kernels.kmeanspp(cx, cw, n_clusters,
                                           rng.random(n_clusters * trials), trials)
                return cx[np.sort(chosen)].copy()
        chosen = _kernels.kmeanspp(x, weights, n_clusters, rng.random(n_clusters * trials), trials)
    else:  # "random": k distinct pixels, i.e. groups drawn by pixel count
        chosen = rng.choice(n, size=min(n_clusters, n), replace=False,
                            p=weights / weights.sum())
    return x[np.sort(chosen)].copy()


def check_fixed(fixed, n_clusters: int) -> np.ndarray:
    """``fixed`` as distinct (m, 3) uint8 colours, at most ``n_clusters`` of them."""
    if fixed is None:
        return np.zeros((0, 3), np.uint8)
    pinned = np.asarray(fixed)
    if pinned.size == 0:
        return np.zeros((0, 3), np.uint8)
    if pinned.ndim != 2 or pinned.shape[1] != 3 or not np.issubdtype(pinned.dtype, np.integer) \
            or pinned.min() < 0 or pinned.max() > 255:
        raise ImageError("fixed colours must be RGB triples of whole numbers 0-255")
    pinned = pinned.astype(np.uint8)
    _, first = np.unique(pinned, axis=0, return_index=True)
    pinned = pinned[np.sort(first)]
    if len(pinned) > n_clusters:
        raise ImageError(f"{len(pinned)} fixed colours do not fit in a palette of "
                         f"{n_clusters} colours; raise k or keep fewer")
    return pinned


def _around(anchors: np.ndarray, seeds: np.ndarray, n_clusters: int) -> np.ndarray:
    """The fixed colours first, then the seeds left after dropping the one
    nearest each fixed colour (so the total stays ``n_clusters``)."""
    seeds = np.asarray(seeds, dtype=np.float64)
    m = len(anchors)
    if m == 0:
        return np.ascontiguousarray(seeds)
    keep = np.ones(len(seeds), dtype=bool)
    for anchor in anchors:
        if keep.sum() + m <= n_clusters:
            break
        d = ((seeds - anchor) ** 2).sum(axis=1)
        d[~keep] = np.inf
        keep[int(np.argmin(d))] = False
    rest = seeds[keep][:max(0, n_clusters - m)]
    return np.ascontiguousarray(np.vstack([anchors, rest]))


class _Lloyd:
    """One K-Means run: Lloyd iterations with Hamerly's bounds; the first
    ``n_fixed`` centroids never move."""

    def __init__(self, x, weights, centroids, n_fixed=0, scatter=0.0):
        self.scatter = scatter  # added to the inertia: the samples' own spread (see _Grid)
        self.fixed = None
        if n_fixed:
            self.fixed = np.zeros(len(centroids), dtype=bool)
            self.fixed[:n_fixed] = True
        self.x = x
        self.weights = weights
        self.total = weights.sum()
        self.centroids = centroids
        n = len(x)
        self.labels = np.zeros(n, dtype=np.int64)
        self.upper = np.full(n, np.inf)
        self.lower = np.zeros(n)
        self.steps = 0
        self.inertia = np.inf

    def relabel(self) -> None:
        """Label every sample with its nearest current centroid (the bounds
        skip most), and take the inertia of that."""
        _kernels.assign(self.x, self.centroids, self.labels, self.upper, self.lower, False)
        self.inertia = self.scatter + float(_kernels.inertia(self.x, self.weights, self.labels,
                                                             self.centroids))

    def step(self) -> float:
        """Assign, then update; return the fraction of pixels that changed cluster."""
        first = self.steps == 0
        moved = _kernels.assign_moved(self.x, self.weights, self.centroids, self.labels,
                                      self.upper, self.lower, first)
        # The update's own pass over the samples also takes the new inertia.
        self.centroids, _, inertia, _ = _kernels.update_stats(
            self.x, self.weights, self.labels, self.centroids, self.upper, self.lower,
            self.fixed)
        self.inertia = self.scatter + inertia
        self.steps += 1
        if first:
            return 1.0
        return moved / self.total


#: Below GRID_MIN_K, seed and race on the grid's cells when there are enough
#: groups for a grid: k-means++ costs k x samples x trials and a probe
#: iteration a pass over the samples, and a photo has about ten times fewer
#: cells than colour groups. Seeds one just-noticeable difference from a
#: pixel's colour and a winner picked on cells lose nothing once the run
#: converges on the groups (benchmarks/exact_kmeans.py has the quality table).
RACE_ON_CELLS = True
#: Histograms with more groups than this are clustered on a grid instead (see _Grid).
GRID_MIN_GROUPS = 8192
#: ... but only for this many clusters or more. At k = 16 and 64 the grid's
#: palettes scored about 1 and 2 SSIMULACRA2 points lower on average (ten
#: photos and the mosaic, undithered), more than a change of seed moves them,
#: while at k = 256 the loss was within seed noise; and large k is where the
#: grid saves the most time.
GRID_MIN_K = 128
#: The grid's cell edge in working units, per space.
GRID_CELL = {"oklab": 1.0}
#: The grid is used only if it has at most this share of the groups.
GRID_MAX_SHARE = 0.75
#: When the run has converged on the grid, up to this many Lloyd iterations on
#: the groups themselves (stopping at the tolerance) recover most of what the
#: cells cost at large k, where clusters are only a few cells wide (the
#: README's K-Means section has the figures). Seeding stays on the cells:
#: seeding on wider ones saved time but cost dark photos visibly at k = 256.
GRID_EXACT_STEPS = 2
#: On the grid the iterations stop at this many times the tolerance: the
#: exact steps on the groups that follow do the last fine moves anyway. At
#: k = 256 on the mosaic at 0.3-4 MP and the shared photos and graphics,
#: undithered, this changed the mean ΔE, bytes and SSIMULACRA2 by less than
#: another seed does, and cut the slow-converging photos' iterations by half.
GRID_TOL_SCALE = 10.0
#: Dense cell tables up to this many cells; beyond, cells are found by sorting.
_DENSE_CELLS = 1 << 22


def seeds_on_cells(hist: ColorHistogram, space: str, n_fixed: int = 0) -> bool:
    """Whether a run below the grid's k (without a given start) may seed on
    the OKLab cells (``RACE_ON_CELLS``), and a coarse one iterate there: an
    exact histogram of enough colours, no fixed colours, a space with cells.
    (The cells must still be few enough, see ``_Grid.build``.)"""
    return (RACE_ON_CELLS and hist.exact and not n_fixed and space in GRID_CELL
            and len(hist) > GRID_MIN_GROUPS)


class _Grid:
    """The histogram's groups merged into cubic cells of the working space.

    Each cell is one sample at its members' weighted mean, weighing their
    total, so a centroid update over cells is still the exact mean of the
    pixels assigned; only the cells that straddle a cluster boundary are
    assigned as a whole. The inertia of that assignment is the cells' own plus
    the constant ``scatter`` of the groups around their cell means. A photo
    has several times fewer cells one just-noticeable difference wide than
    colour groups. When the run has converged, ``exact``
    labels every group with its nearest centroid."""

    def __init__(self, x, weights, inverse, scatter):
        # Read-only: a histogram keeps its grid for every later run on it.
        self.x, self.weights, self.inverse = (read_only(a) for a in (x, weights, inverse))
        self.scatter = scatter

    @classmethod
    def build(cls, x: np.ndarray, weights: np.ndarray, space: str,
              with_scatter: bool = True) -> _Grid | None:
        cell = GRID_CELL.get(space)
        n, d = x.shape
        if cell is None or d != 3 or n <= GRID_MIN_GROUPS:
            return None
        merged = _merge(x, weights, cell, int(GRID_MAX_SHARE * n))
        if merged is None:
            return None
        cx, cw, inverse = merged
        if not with_scatter:
            return cls(cx, cw, inverse, np.nan)
        spread = x - cx[inverse]
        scatter = float(weights @ np.einsum("ij,ij->i", spread, spread))
        return cls(cx, cw, inverse, scatter)

    def exact(self, run: _Lloyd, x: np.ndarray, weights: np.ndarray) -> _Lloyd:
        """``run``'s centroids with every group labelled by its nearest.

        A group lies within ``r`` (its distance to its cell's mean) of the
        cell, so the cell's Hamerly bounds widened by ``r`` hold for it, and
        only the groups they leave in doubt are searched."""
        done = _Lloyd(x, weights, run.centroids, 0)
        done.fixed = run.fixed
        spread = x - self.x[self.inverse]
        r = np.sqrt(np.einsum("ij,ij->i", spread, spread))
        done.labels = run.labels[self.inverse]
        done.upper = run.upper[self.inverse] + r
        done.lower = np.maximum(run.lower[self.inverse] - r, 0.0)
        done.relabel()
        done.steps = run.steps
        return done


def _merge(x: np.ndarray, weights: np.ndarray, cell: float, most: int):
    """(cell means, cell weights, each sample's cell) for cubic cells of edge
    ``cell`` over 3-D samples, or None if more than ``most`` cells are occupied."""
    n, d = x.shape
    q = np.floor(x * (1.0 / cell)).astype(np.int64)
    q -= q.min(axis=0)
    span = q.max(axis=0) + 1
    index = (q[:, 0] * span[1] + q[:, 1]) * span[2] + q[:, 2]
    size = int(span[0] * span[1] * span[2])
    if size <= _DENSE_CELLS:
        members = np.bincount(index, minlength=size)
        occupied = members > 0
        m = int(np.count_nonzero(occupied))
        if m > most:
            return None
        inverse = (np.cumsum(occupied) - 1)[index]
        members = members[occupied]
    else:
        _, inverse, members = np.unique(index, return_inverse=True, return_counts=True)
        m = len(members)
        if m > most:
            return None
    cw = np.bincount(inverse, weights=weights, minlength=m)
    sums = np.column_stack([np.bincount(inverse, weights=weights * x[:, t], minlength=m)
                            for t in range(d)])
    empty = cw <= 0  # every member weighs nothing: their plain mean
    if empty.any():
        plain = np.column_stack([np.bincount(inverse, weights=x[:, t], minlength=m)
                                 for t in range(d)]) / members[:, None]
        sums[empty] = plain[empty]
    cx = sums / np.where(empty, 1.0, cw)[:, None]
    # Cells in the order of their first group, not of lightness: seeds keep
    # the samples' order, and so the palette the order it had without cells.
    first = np.full(m, n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    order = np.argsort(first)
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return np.ascontiguousarray(cx[order]), cw[order], rank[inverse]
