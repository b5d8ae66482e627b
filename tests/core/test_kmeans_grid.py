"""K-Means on a grid of OKLab cells: exact sums, exact final labels, little loss."""

import numpy as np
import pytest

from kmeans_gui.core import build_histogram, kmeans_steps
from kmeans_gui.core.quantizer import kmeans as km
from kmeans_gui.core.quantizer.colorspace import to_working


def final(states):
    state = None
    for state in states:  # noqa: B007 (keep the last)
        pass
    return state


@pytest.fixture(scope="module")
def grid_input(photo):
    hist = build_histogram(photo)
    x = np.ascontiguousarray(to_working(hist.colors, "oklab"))
    return hist, x


def test_cells_are_weighted_means_with_the_groups_exact_totals(grid_input):
    hist, x = grid_input
    w = hist.sample_weights
    grid = km._Grid.build(x, w, "oklab")
    assert grid is not None and len(grid.x) < 0.75 * len(x)  # the photo does use the grid
    cell = np.floor(x / km.GRID_CELL["oklab"]).astype(np.int64)
    # No two cells share an integer cell, and a cell's members all lie in its own.
    _, first = np.unique(grid.inverse, return_index=True)
    assert len({tuple(c) for c in cell[first]}) == len(grid.x)
    for j in (0, len(grid.x) // 2, len(grid.x) - 1):
        members = grid.inverse == j
        assert np.all(cell[members] == cell[members][0])
        assert grid.weights[j] == pytest.approx(w[members].sum())
        assert np.allclose(grid.x[j], (w[members, None] * x[members]).sum(0) / w[members].sum())
    assert grid.weights.sum() == pytest.approx(w.sum())
    spread = x - grid.x[grid.inverse]
    assert grid.scatter == pytest.approx(float((w * (spread ** 2).sum(1)).sum()))


def test_cell_inertia_plus_scatter_is_the_groups_inertia(grid_input):
    hist, x = grid_input
    w = hist.sample_weights
    grid = km._Grid.build(x, w, "oklab")
    run = km._Lloyd(grid.x, grid.weights, grid.x[:: len(grid.x) // 12][:12].copy(), 0,
                    grid.scatter)
    for _ in range(3):
        run.step()
    labels = run.labels[grid.inverse]  # every group takes its cell's cluster
    brute = float((w * ((x - run.centroids[labels]) ** 2).sum(1)).sum())
    assert run.inertia == pytest.approx(brute, rel=1e-9)


@pytest.mark.parametrize("k", [12, 200])
def test_final_labels_are_each_groups_nearest_centroid(grid_input, k):
    hist, x = grid_input
    w = hist.sample_weights
    grid = km._Grid.build(x, w, "oklab")
    run = km._Lloyd(grid.x, grid.weights, grid.x[:: len(grid.x) // k][:k].copy(), 0,
                    grid.scatter)
    for _ in range(4):
        run.step()
    done = grid.exact(run, x, w)  # bounds carried over from the cells
    d = ((x[:, None, :] - done.centroids[None, :, :]) ** 2).sum(axis=2)
    assert np.allclose(d[np.arange(len(x)), done.labels], d.min(axis=1))
    assert done.inertia == pytest.approx(float((w * d.min(axis=1)).sum()), rel=1e-9)


@pytest.mark.parametrize("k", [128, 256])
def test_grid_costs_little_error(photo, monkeypatch, k):
    hist = build_histogram(photo)
    on = [final(kmeans_steps(hist, k, seed=s)).inertia for s in range(3)]
    monkeypatch.setattr(km, "GRID_CELL", {})
    off = [final(kmeans_steps(hist, k, seed=s)).inertia for s in range(3)]
    assert np.median(on) <= 1.05 * np.median(off)


def test_small_histograms_and_rgb_are_not_gridded(photo, small_photo):
    hist = build_histogram(small_photo)
    x = to_working(hist.colors, "oklab")
    assert len(x) <= km.GRID_MIN_GROUPS and km._Grid.build(x, hist.sample_weights,
                                                            "oklab") is None
    big = build_histogram(photo)
    assert km._Grid.build(to_working(big.colors, "rgb"), big.sample_weights, "rgb") is None


def test_last_state_labels_every_group_and_zero_weights_are_safe(photo):
    hist = build_histogram(photo)
    state = final(kmeans_steps(hist, 160))
    assert state.labels.shape == (len(hist),) and state.converged
    assert np.count_nonzero(np.bincount(state.labels, minlength=160)) == 160
    # Weights of zero on most groups (an importance mask): cells of them
    # still get a finite mean, and the run still ends.
    weights = np.zeros(photo.shape[:2])
    weights[:40] = 1.0
    weighted = build_histogram(photo, weights)
    state = final(kmeans_steps(weighted, 128))
    assert np.isfinite(state.inertia) and state.palette.shape[1] == 3


def test_last_labels_are_each_groups_nearest_palette_entry(photo):
    # The palette yielded is rounded to bytes; the last labels follow it, as
    # the remap will (so shares shown from labels match the saved file's).
    hist = build_histogram(photo)
    state = final(kmeans_steps(hist, 192))
    x = to_working(hist.colors, "oklab")
    pal = to_working(state.palette.astype(np.float64), "oklab")
    d = ((x[:, None, :] - pal[None, :, :]) ** 2).sum(axis=2)
    assert np.allclose(d[np.arange(len(x)), state.labels], d.min(axis=1))


def test_random_seeds_are_pixel_colours_not_cell_means(photo):
    hist = build_histogram(photo)
    first = next(kmeans_steps(hist, 130, init="random", restarts=1, seed=3))
    colours = {tuple(c) for c in photo.reshape(-1, 3)}
    assert all(tuple(c) in colours for c in first.start)


def test_small_k_stays_on_the_groups(photo, monkeypatch):
    # Below GRID_MIN_K the grid cost SSIMULACRA2 points: the run must be the
    # exact one, bit for bit (seeded and raced on the groups too, so that the
    # cells' absence changes nothing else; the race on cells has its own tests).
    hist = build_histogram(photo)
    k = km.GRID_MIN_K - 1
    monkeypatch.setattr(km, "RACE_ON_CELLS", False)
    on = final(kmeans_steps(hist, k, seed=1))
    monkeypatch.setattr(km, "GRID_CELL", {})
    off = final(kmeans_steps(hist, k, seed=1))
    assert np.array_equal(on.palette, off.palette) and np.array_equal(on.labels, off.labels)
    monkeypatch.undo()
    on = final(kmeans_steps(hist, km.GRID_MIN_K, seed=1))
    monkeypatch.setattr(km, "GRID_CELL", {})
    off = final(kmeans_steps(hist, km.GRID_MIN_K, seed=1))
    assert not np.array_equal(on.palette, off.palette)  # the grid did run


@pytest.mark.parametrize("k", [16, 48])
def test_a_coarse_run_stays_on_its_cells_and_costs_little(photo, k):
    """Below the grid's k a coarse run (the k scan's trials) iterates on the
    cells it was seeded on: every group is labelled as its cell, and its
    error stays within a few per cent of the full run's."""
    hist = build_histogram(photo)
    assert hist.exact and len(hist) > km.GRID_MIN_GROUPS
    x = np.ascontiguousarray(to_working(hist.colors, "oklab"))
    cells = km._Grid.build(x, hist.sample_weights, "oklab", with_scatter=False)
    light = {"restarts": 1, "seed": 2, "tol": 1e-3, "max_iter": 12}  # as the scan's trials
    coarse = final(kmeans_steps(hist, k, coarse=True, **light))
    full = final(kmeans_steps(hist, k, **light))
    assert coarse.labels.shape == (len(hist),)
    _, first = np.unique(cells.inverse, return_index=True)  # one group of each cell

    def as_its_cell(labels):
        return labels == labels[first][cells.inverse]

    assert as_its_cell(coarse.labels).all()
    assert not as_its_cell(full.labels).all()  # the groups' own labels differ within cells
    # The same seeds: only where the iterations run differs.
    assert np.array_equal(coarse.start, full.start)

    def error(palette):  # the groups' mean squared distance to their nearest entry
        p = to_working(palette.astype(np.float64), "oklab")
        d = ((x[:, None, :] - p[None, :, :]) ** 2).sum(axis=2).min(axis=1)
        return float(hist.sample_weights @ d)

    assert error(full.palette) <= error(coarse.palette) <= 1.05 * error(full.palette)
    assert not np.array_equal(coarse.palette, full.palette)


def test_coarse_changes_nothing_without_cells(small_photo):
    """A histogram too small for cells (and a given start) runs as it would."""
    hist = build_histogram(small_photo)
    a = final(kmeans_steps(hist, 12, restarts=1, seed=4, coarse=True))
    b = final(kmeans_steps(hist, 12, restarts=1, seed=4))
    assert np.array_equal(a.palette, b.palette) and np.array_equal(a.labels, b.labels)
