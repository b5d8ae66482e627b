import itertools

import numpy as np
import pytest

from kmeans_gui.core import ImageError, build_histogram, kmeans_steps
from kmeans_gui.core.quantizer.histogram import BIN_MASK

from .reference import kmeans_all_pixels


def final(states):
    state = None
    for state in states:  # noqa: B007 (keep the last)
        pass
    return state


def spread_initial(pixels, k, seed=1):
    """k distinct pixel colours, far enough apart that no cluster empties."""
    flat = np.unique(pixels.reshape(-1, 3), axis=0)
    order = np.argsort(flat.astype(int).sum(axis=1))
    picks = order[np.linspace(0, len(order) - 1, k).astype(int)]
    return flat[picks]


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_matches_brute_force_kmeans_over_all_pixels(small_photo, space):
    hist = build_histogram(small_photo)
    assert hist.exact and hist.counts.sum() == small_photo.shape[0] * small_photo.shape[1]
    initial = spread_initial(small_photo, 6)
    state = final(kmeans_steps(hist, 6, space=space, tol=0.0, initial=initial))
    expected, iterations = kmeans_all_pixels(small_photo, initial, space)
    assert state.reason == "unchanged"
    assert np.abs(state.palette.astype(int) - expected.astype(int)).max() <= 1
    # Same fixed point reached after the same number of assignment passes
    # (the last one in each confirms that nothing changes).
    assert state.iteration == iterations


def test_binned_update_equals_mean_of_assigned_pixels(photo):
    hist = build_histogram(photo, max_exact=1000)  # force 6-bit bins
    assert not hist.exact and hist.mask == BIN_MASK
    state = final(kmeans_steps(hist, 8, space="rgb", tol=0.0, max_iter=50))
    # Map every pixel to its bin, and so to the bin's cluster.
    flat = photo.reshape(-1, 3).astype(np.uint32)
    keys = ((flat[:, 0] << 24) | (flat[:, 1] << 16) | (flat[:, 2] << 8) | 255) & BIN_MASK
    order = np.argsort(hist.keys)
    group = order[np.searchsorted(hist.keys[order], keys)]
    assert np.array_equal(hist.keys[group], keys)
    pixel_labels = state.labels[group]
    for j in range(state.k):
        members = flat[pixel_labels == j]
        assert len(members)
        assert np.abs(members.mean(axis=0) - state.palette[j]).max() <= 0.5 + 1e-9


def test_generator_yields_every_iteration_and_inertia_never_rises(photo):
    hist = build_histogram(photo)
    states = list(kmeans_steps(hist, 12, tol=0.0, max_iter=400, restarts=1))
    assert [s.iteration for s in states] == list(range(1, len(states) + 1))
    assert states[-1].converged and not any(s.converged for s in states[:-1])
    inertias = [s.inertia for s in states]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:], strict=False))
    assert states[0].moved == 1.0 and states[-1].moved == 0.0
    for s in states:
        assert s.palette.shape == (12, 3) and s.palette.dtype == np.uint8
        assert 0.0 <= s.moved <= 1.0


def test_caller_can_stop_between_iterations(photo):
    hist = build_histogram(photo)
    states = list(itertools.islice(kmeans_steps(hist, 32, tol=0.0), 3))
    assert len(states) == 3 and not states[-1].converged


def test_stops_at_tolerance_and_iteration_cap(photo):
    hist = build_histogram(photo)
    loose = final(kmeans_steps(hist, 16, tol=1e-2))
    tight = final(kmeans_steps(hist, 16, tol=0.0))
    assert loose.reason == "tolerance" and loose.iteration < tight.iteration
    capped = final(kmeans_steps(hist, 16, tol=0.0, max_iter=2))
    assert capped.reason == "max_iter" and capped.iteration == 2


def test_same_seed_same_palette_and_seeds_differ(photo):
    hist = build_histogram(photo)
    a = final(kmeans_steps(hist, 16, seed=7))
    b = final(kmeans_steps(hist, 16, seed=7))
    c = final(kmeans_steps(hist, 16, seed=8, init="random"))
    assert np.array_equal(a.palette, b.palette)
    assert not np.array_equal(a.palette, c.palette)


def test_fewer_colours_than_k_gives_exactly_those_colours():
    colours = np.array([[255, 0, 0], [0, 128, 0], [10, 20, 30]], np.uint8)
    img = colours[np.arange(60) % 3].reshape(6, 10, 3)
    state = final(kmeans_steps(build_histogram(img), 256))
    assert state.reason == "few colours"
    assert sorted(map(tuple, state.palette)) == sorted(map(tuple, colours))


def test_k_one_is_the_mean_colour(small_photo):
    state = final(kmeans_steps(build_histogram(small_photo), 1, space="rgb"))
    mean = small_photo.reshape(-1, 3).mean(axis=0)
    assert state.k == 1 and np.abs(state.palette[0] - mean).max() <= 0.5


def test_empty_clusters_are_reseeded_not_nan(photo):
    hist = build_histogram(photo)
    initial = np.array([[0, 0, 0]] * 3 + [[255, 255, 255]] * 3, np.uint8)  # duplicates
    states = list(kmeans_steps(hist, 6, space="rgb", tol=0.0, initial=initial))
    last = states[-1]
    assert len({tuple(p) for p in last.palette}) == 6
    assert np.all(np.bincount(last.labels, minlength=6) > 0)
    assert np.isfinite([s.inertia for s in states]).all()


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_both_initialisations_use_every_cluster(photo, init):
    state = final(kmeans_steps(build_histogram(photo), 64, init=init))
    assert np.count_nonzero(np.bincount(state.labels, minlength=64)) == 64


def test_alpha_reserves_one_transparent_entry(rgba_image):
    hist = build_histogram(rgba_image)
    assert hist.n_transparent == int((rgba_image[..., 3] == 0).sum())
    state = final(kmeans_steps(hist, 8))
    assert state.palette.shape == (8, 4)
    assert (state.palette[:, 3] == 0).sum() == 1
    alphas = state.palette[:, 3].astype(int)
    assert (alphas == 128).any() or (np.abs(alphas - 128) < 3).any()


@pytest.mark.parametrize("bad", [dict(k=0), dict(k=257), dict(space="hsv"), dict(init="x"),
                                 dict(max_iter=0), dict(tol=-1.0)])
def test_bad_settings_raise_image_error(photo, bad):
    args = dict(k=8, space="oklab", init="kmeans++", max_iter=10, tol=1e-4) | bad
    k = args.pop("k")
    with pytest.raises(ImageError):
        next(kmeans_steps(build_histogram(photo), k, **args))


def test_binned_histogram_clears_the_count_table_it_is_given():
    """A count table handed to the 6-bit bin count (a failed exact attempt's)
    holds old counts; the result must be the bins' own, as a brute-force count says."""
    from kmeans_gui.core._native import kernels

    rng = np.random.default_rng(5)
    pix = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    index = ((pix[:, 0] >> 2).astype(np.int64) << 12) | ((pix[:, 1] >> 2).astype(np.int64) << 6) \
        | (pix[:, 2] >> 2)
    want_counts = np.bincount(index, minlength=1 << 18)
    want_sums = np.stack([np.bincount(index, weights=pix[:, c], minlength=1 << 18)
                          for c in range(3)], axis=1).astype(np.int64)
    dirty_counts = rng.integers(0, 99, 1 << 18).astype(np.int64)
    counts, sums = kernels.build_histogram_rgb6(pix, dirty_counts)
    assert counts is dirty_counts  # reused, not copied
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_array_equal(sums, want_sums)


@pytest.mark.parametrize("channels", [3, 4])
def test_exact_histogram_matches_a_brute_force_count(channels):
    """Exact colours keep no channel sums; their means come from the keys,
    and must be the colours themselves with their pixel counts."""
    from kmeans_gui.core.quantizer.histogram import build_histogram

    rng = np.random.default_rng(9)
    pixels = rng.integers(0, 4, (60, 50, channels), dtype=np.uint8) * 60 + 15
    hist = build_histogram(pixels)
    assert hist.exact
    colours, counts = np.unique(pixels.reshape(-1, channels), axis=0, return_counts=True)
    order = np.lexsort(hist.colors.T[::-1])
    np.testing.assert_array_equal(hist.colors[order], colours.astype(np.float64))
    np.testing.assert_array_equal(hist.counts[order], counts)
