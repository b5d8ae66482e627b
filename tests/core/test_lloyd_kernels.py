"""The Lloyd step's fused kernels against brute-force numpy references, and
the race on cells below the grid's k."""

import numpy as np
import pytest

from kmeans_gui.core import build_histogram, kmeans_steps, parallel
from kmeans_gui.core._native import kernels as K
from kmeans_gui.core.quantizer import histogram as histogram_module
from kmeans_gui.core.quantizer import kmeans as kmeans_module
from kmeans_gui.core.quantizer.colorspace import to_working


def samples(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    x = np.ascontiguousarray(rng.normal(0.0, 20.0, (n, d)))
    w = rng.integers(1, 50, n).astype(np.float64) * rng.choice([1.0, 0.37], n)
    c = np.ascontiguousarray(x[rng.choice(n, k, replace=False)] + rng.normal(0, 1, (k, d)))
    return x, w, c


def nearest(x, c):
    return ((x[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1)


@pytest.mark.parametrize("d", [3, 4])
def test_update_stats_inertia_is_the_inertia_kernels_and_the_direct_sum(d):
    x, w, c = samples(3000, d, 12, seed=d)
    labels = nearest(x, c).astype(np.int64)
    labels[labels == 5] = 4  # cluster 5 empties: it is re-seeded, and labels change
    upper, lower = np.full(len(x), 1.0), np.zeros(len(x))
    ref_labels, ref_upper, ref_lower = labels.copy(), upper.copy(), lower.copy()
    new, reseeded, inertia, move = K.update_stats(x, w, labels, c, upper, lower)
    ref, ref_reseeded = K.update(x, w, ref_labels, c, ref_upper, ref_lower)
    assert reseeded == ref_reseeded == 1
    assert np.array_equal(new, ref) and np.array_equal(labels, ref_labels)
    assert np.array_equal(upper, ref_upper) and np.array_equal(lower, ref_lower)
    # bit for bit what the separate pass gives, and the direct sum within rounding
    assert inertia == K.inertia(x, w, labels, new)
    direct = float((w * ((x - new[labels]) ** 2).sum(axis=1)).sum())
    assert inertia == pytest.approx(direct, rel=1e-12)
    assert move == pytest.approx(np.sqrt(((new - c) ** 2).sum(axis=1)).max(), rel=1e-12)


def test_update_stats_keeps_fixed_centroids():
    x, w, c = samples(2000, 3, 8, seed=3)
    labels = nearest(x, c).astype(np.int64)
    fixed = np.zeros(8, dtype=bool)
    fixed[:3] = True
    new, _, inertia, move = K.update_stats(x, w, labels, c, np.zeros(len(x)), np.zeros(len(x)),
                                           fixed)
    assert np.array_equal(new[:3], c[:3])
    assert move == pytest.approx(np.sqrt(((new - c) ** 2).sum(axis=1)).max(), rel=1e-12)
    assert inertia == K.inertia(x, w, labels, new)


@pytest.mark.parametrize("full", [True, False])
def test_assign_moved_is_the_weight_that_changed_cluster(full):
    x, w, c = samples(20_000, 3, 16, seed=7)
    old = nearest(x, c).astype(np.int64)
    c2 = c + np.random.default_rng(8).normal(0, 3.0, c.shape)  # centroids moved
    move = np.sqrt(((c2 - c) ** 2).sum(axis=1))
    d = np.sqrt(((x[:, None, :] - c[None]) ** 2).sum(axis=2))
    upper = d[np.arange(len(x)), old] + move[old]  # valid bounds after the move
    d[np.arange(len(x)), old] = np.inf
    lower = np.maximum(d.min(axis=1) - move.max(), 0.0)
    labels = old.copy()
    moved = K.assign_moved(x, w, c2, labels, upper.copy(), lower.copy(), full)
    assert np.array_equal(labels, nearest(x, c2))
    changed = labels != old
    assert changed.sum() > 100
    assert moved == pytest.approx(float(w[changed].sum()), rel=1e-12)
    # the count assign returns for the same call
    again = old.copy()
    assert K.assign(x, c2, again, upper.copy(), lower.copy(), full) == changed.sum()


def test_assign_moved_does_not_depend_on_the_thread_count(monkeypatch):
    x, w, c = samples(50_001, 3, 20, seed=11)
    results = []
    for threads, split in ((1, 1 << 15), (3, 1)):
        monkeypatch.setattr(K, "SPLIT_SAMPLES", split)
        monkeypatch.setattr(parallel, "_threads", threads)
        labels = np.zeros(len(x), dtype=np.int64)
        moved = K.assign_moved(x, w, c, labels, np.full(len(x), np.inf), np.zeros(len(x)),
                               True)
        results.append((moved, labels))
    assert results[0][0] == results[1][0]  # exactly, not merely close
    assert np.array_equal(results[0][1], results[1][1])


def test_assign_moved_checks_its_arguments():
    x, w, c = samples(100, 3, 4)
    labels = np.zeros(100, dtype=np.int64)
    upper, lower = np.zeros(100), np.zeros(100)
    with pytest.raises(ValueError, match="weights must have shape"):
        K.assign_moved(x, w[:-1], c, labels, upper, lower, True)
    with pytest.raises(ValueError, match="labels"):
        K.assign_moved(x, w, c, labels.astype(np.int32), upper, lower, True)
    with pytest.raises(ValueError, match="coordinates"):
        K.assign_moved(x, w, c[:, :2].copy(), labels, upper, lower, True)


def many_colours(n_pixels=120_000, seed=0):
    """A smooth random photo-like image with far more colours than the grid's threshold."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (8, 3)).astype(np.float64)
    t = rng.random((n_pixels, 8)) ** 3
    t /= t.sum(axis=1, keepdims=True)
    rgb = t @ base + rng.normal(0, 6, (n_pixels, 3))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8).reshape(400, 300, 3)


@pytest.mark.parametrize("k", [8, 40])
def test_race_on_cells_converges_on_the_groups(monkeypatch, k):
    img = many_colours()
    hist = build_histogram(img)
    assert hist.exact and len(hist) > kmeans_module.GRID_MIN_GROUPS
    built = []
    real_build = kmeans_module._Grid.build.__func__

    def counting(cls, *args, **kwargs):
        grid = real_build(cls, *args, **kwargs)
        built.append(grid)
        return grid

    monkeypatch.setattr(kmeans_module._Grid, "build", classmethod(counting))
    state = None
    for state in kmeans_steps(hist, k, tol=0.0, max_iter=2000):  # noqa: B007
        pass
    assert len(built) == 1 and built[0] is not None  # seeded and raced on cells
    assert state.reason == "unchanged"
    # converged on the groups: every group is labelled with its nearest centroid
    x = to_working(hist.colors.astype(np.float64), "oklab")
    centroids = np.stack([x[state.labels == j].T @ hist.counts[state.labels == j]
                          / hist.counts[state.labels == j].sum() for j in range(k)])
    assert np.array_equal(state.labels, nearest(x, centroids))
    # and as good as seeding and racing on the groups themselves, within seed noise
    monkeypatch.setattr(kmeans_module, "RACE_ON_CELLS", False)
    for plain in kmeans_steps(hist, k, tol=0.0, max_iter=300):  # noqa: B007
        pass
    assert state.inertia <= 1.02 * plain.inertia


@pytest.mark.parametrize("k", [5, 40])
def test_update_keeps_every_bound_valid(k):
    """After each update, upper[i] is at least i's distance to its centroid and
    lower[i] at most its distance to every other: the bounds assign skips on."""
    rng = np.random.default_rng(k)
    # clusters of very different spreads, so some centroids move far and some hardly
    centres = rng.normal(0, 40, (k, 3))
    x = np.ascontiguousarray(np.concatenate(
        [centres[j] + rng.normal(0, 1 + 6 * (j % 3), (300, 3)) for j in range(k)]))
    w = rng.integers(1, 9, len(x)).astype(np.float64)
    c = np.ascontiguousarray(x[rng.choice(len(x), k, replace=False)])
    labels = np.zeros(len(x), dtype=np.int64)
    upper, lower = np.full(len(x), np.inf), np.zeros(len(x))
    rescans = []
    for step in range(25):
        K.assign(x, c, labels, upper, lower, step == 0)
        assert np.array_equal(labels, nearest(x, c))
        c, _, _, _ = K.update_stats(x, w, labels, c, upper, lower)
        d = np.sqrt(((x[:, None, :] - c[None]) ** 2).sum(axis=2))
        own = d[np.arange(len(x)), labels]
        assert (upper >= own - 1e-9).all()
        d[np.arange(len(x)), labels] = np.inf
        assert (lower <= d.min(axis=1) + 1e-9).all()
        rescans.append(int((upper > lower).sum()))
    assert rescans[-1] < len(x)  # the bounds do skip samples


@pytest.mark.parametrize("k", [12, 160])  # seeded on cells; clustered on the grid
def test_runs_on_one_histogram_share_what_they_derive_from_it(monkeypatch, k):
    """A second run on the same histogram (the k curve, the searches, the GUI's
    next k) reuses its working-space colours and cells, read-only, and ends
    exactly where a run on a freshly built histogram does."""
    img = many_colours()
    hist = build_histogram(img)
    converted, built = [], []
    real_build = kmeans_module._Grid.build.__func__
    real_to_working = histogram_module.to_working

    def counting_build(cls, *args, **kwargs):
        built.append(1)
        return real_build(cls, *args, **kwargs)

    def counting_to_working(colors, space):
        if len(colors) == len(hist):
            converted.append(1)
        return real_to_working(colors, space)

    monkeypatch.setattr(kmeans_module._Grid, "build", classmethod(counting_build))
    monkeypatch.setattr(histogram_module, "to_working", counting_to_working)

    def final(h):
        state = None
        for state in kmeans_steps(h, k, seed=3):  # noqa: B007
            pass
        return state

    first, again = final(hist), final(hist)
    assert len(converted) == 1 and len(built) == 1
    fresh = final(build_histogram(img))
    for state in (again, fresh):
        assert np.array_equal(state.palette, first.palette)
        assert np.array_equal(state.labels, first.labels)
        assert state.inertia == first.inertia
    shared = [v for v in hist._derived.values() if v is not None]
    arrays = [v for v in shared if isinstance(v, np.ndarray)]
    arrays += [a for g in shared if isinstance(g, kmeans_module._Grid)
               for a in (g.x, g.weights, g.inverse)]
    assert len(arrays) >= 4 and not any(a.flags.writeable for a in arrays)
