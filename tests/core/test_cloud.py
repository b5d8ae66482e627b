"""The colour-space view's maths: sample, projection and per-cluster figures."""

import numpy as np
import pytest

from kmeans_gui.core import build_histogram, kmeans_steps
from kmeans_gui.core.quantizer.cloud import (
    AXES,
    PRESETS,
    cluster_figures,
    cluster_stats,
    fit_scale,
    nearest_labels,
    pack_rgb,
    palette_permutation,
    project,
    sample_histogram,
    size_classes,
    splat,
    splat_paint,
    splat_plan,
    view_matrix,
    world_coords,
)
from kmeans_gui.core.quantizer.colorspace import to_working


def states(hist, k, **kw):
    return list(kmeans_steps(hist, k, **kw))


# ---------------------------------------------------------------- sample
def test_small_histograms_are_taken_whole(small_photo):
    hist = build_histogram(small_photo)
    sample = sample_histogram(hist, points=len(hist) + 5)
    assert np.array_equal(sample.groups, np.arange(len(hist)))
    assert np.array_equal(sample.weights, hist.counts)
    assert np.array_equal(sample.colors, np.rint(hist.colors).astype(np.uint8))


def test_sample_is_deterministic_and_capped(photo):
    hist = build_histogram(photo)
    assert len(hist) > 5000
    a = sample_histogram(hist, points=5000)
    b = sample_histogram(build_histogram(photo.copy()), points=5000)
    assert len(a) == 5000
    assert np.array_equal(a.groups, b.groups) and np.array_equal(a.weights, b.weights)
    assert len(np.unique(a.groups)) == 5000  # no group picked twice


def test_sample_weights_stand_for_the_pixels(photo):
    hist = build_histogram(photo)
    sample = sample_histogram(hist, points=3000)
    # Every clustered pixel is represented exactly once in total...
    assert sample.weights.sum() == pytest.approx(hist.counts.sum(), rel=1e-9)
    # ...heavy groups carry their own counts (never less than a sampled point)...
    step = sample.weights.min()
    heavy = hist.counts >= step * 1.0001
    assert set(np.flatnonzero(heavy)) <= set(sample.groups)
    kept = dict(zip(sample.groups, sample.weights, strict=True))
    assert all(kept[g] == hist.counts[g] for g in np.flatnonzero(heavy))
    # ...and the weighted sample has the image's colour distribution: mean and
    # coarse (2-bit per channel) histogram agree with the full histogram's.
    full = np.average(hist.colors, axis=0, weights=hist.counts)
    part = np.average(sample.colors.astype(float), axis=0, weights=sample.weights)
    assert np.abs(full - part).max() < 1.0

    def coarse(colors, weights):
        cell = (colors.astype(int) // 64) @ np.array([16, 4, 1])
        return np.bincount(cell, weights=weights, minlength=64) / weights.sum()

    expected = coarse(np.rint(hist.colors), hist.counts.astype(float))
    got = coarse(sample.colors, sample.weights)
    assert np.abs(expected - got).max() < 0.01


def test_sample_of_an_image_with_transparency(rgba_image):
    hist = build_histogram(rgba_image)
    sample = sample_histogram(hist, points=100)
    assert sample.n_transparent == hist.n_transparent > 0
    assert sample.n_pixels == rgba_image.shape[0] * rgba_image.shape[1]
    assert sample.colors.shape == (100, 4)
    assert sample.weights.sum() == pytest.approx(hist.counts.sum())


def test_size_classes_follow_pixel_counts():
    classes = size_classes(np.array([1.0, 3.9, 4.0, 16.0, 63.0, 64.0, 1e6]))
    assert classes.tolist() == [0, 0, 1, 2, 2, 3, 3]


# ------------------------------------------------------------ projection
def test_world_coordinates_of_known_colours():
    white_black = world_coords(np.array([[255, 255, 255], [0, 0, 0]]), "oklab")
    # the working space's L (white at 84.5), centred
    assert white_black[0] == pytest.approx([0, 0, 42.27], abs=1e-2)
    assert white_black[1] == pytest.approx([0, 0, -42.27], abs=1e-2)
    red = world_coords(np.array([[255, 0, 0]]), "oklab")[0]
    assert red[0] > 20 and red[1] > 10  # red: +a, +b
    assert world_coords(np.array([[255, 0, 0]]), "rgb")[0] == pytest.approx([127.5, -127.5,
                                                                             -127.5])


def test_view_matrix_is_a_rotation_of_the_frame():
    for yaw, pitch in [(0.3, 0.7), (-2.0, 1.2), (0.0, 0.0)]:
        m = view_matrix(yaw, pitch)
        assert m @ m.T == pytest.approx(np.eye(3))
        # screen right x screen up = toward the viewer (-depth): not mirrored
        assert np.cross(m[0], m[1]) == pytest.approx(-m[2])


@pytest.mark.parametrize("name, right, up, away", [
    ("front", [1, 0, 0], [0, 0, 1], [0, 1, 0]),
    ("top", [1, 0, 0], [0, 1, 0], [0, 0, -1]),
    ("side", [0, 1, 0], [0, 0, 1], [-1, 0, 0]),
])
def test_presets_put_axes_where_expected(name, right, up, away):
    m = view_matrix(*PRESETS[name])
    points = np.array([right, up, away], dtype=float) * 10
    x, y, depth = project(points, m, 2.0, (100.0, 50.0))
    assert (x[0], y[0], depth[0]) == pytest.approx((120, 50, 0), abs=1e-4)  # right
    assert (x[1], y[1], depth[1]) == pytest.approx((100, 30, 0), abs=1e-4)  # up = smaller y
    assert (x[2], y[2], depth[2]) == pytest.approx((100, 50, 10), abs=1e-4)  # away


def test_a_known_rotation():
    # Yaw +90 degrees turns the world about Z: +Y goes to -X (5 to the left
    # in the front view) and +X to +Y (away from the viewer); Z stays up.
    m = view_matrix(np.pi / 2, 0.0)
    x, y, depth = project(np.array([[0.0, 5.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 5.0]]), m,
                          1.0, (0.0, 0.0))
    assert x == pytest.approx([-5, 0, 0], abs=1e-5)
    assert depth == pytest.approx([0, 5, 0], abs=1e-5)
    assert y == pytest.approx([0, 0, -5], abs=1e-5)
    # 45 degrees pitched: a point straight up is half way between up and toward the viewer.
    m = view_matrix(0.0, np.pi / 4)
    x, y, depth = project(np.array([[0.0, 0.0, 10.0]]), m, 1.0, (0.0, 0.0))
    assert (y[0], depth[0]) == pytest.approx((-10 / np.sqrt(2), -10 / np.sqrt(2)), abs=1e-4)


def test_the_whole_gamut_fits_the_view():
    cube = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)])
    grid = np.stack(np.meshgrid(*[np.linspace(0, 255, 9)] * 3), -1).reshape(-1, 3)
    for space in AXES:
        world = world_coords(np.vstack([cube, grid]), space)
        assert np.linalg.norm(world, axis=1).max() <= AXES[space].radius
        scale = fit_scale(space, 400, 300)
        for yaw, pitch in PRESETS.values():
            x, y, _ = project(world, view_matrix(yaw, pitch), scale, (200, 150))
            assert x.min() >= 0 and x.max() <= 400 and y.min() >= 0 and y.max() <= 300


# -------------------------------------------------------------- clusters
@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_sample_labels_are_the_kmeans_assignment(small_photo, space):
    hist = build_histogram(small_photo)
    sample = sample_histogram(hist, points=500)
    run = states(hist, 6, space=space, seed=3)
    for before, after in zip(run, run[1:], strict=False):
        # The labels of iteration i are the nearest centroids of iteration i-1
        # (up to the palette's rounding to 8 bits: nearly all agree).
        labels = after.labels[sample.groups]
        brute = nearest_labels(sample.colors, before.palette, space)
        assert (labels == brute).mean() > 0.97


def test_the_first_iteration_reports_its_start(small_photo):
    hist = build_histogram(small_photo)
    for init in ("kmeans++", "random"):
        run = states(hist, 5, init=init, seed=1, restarts=1)
        assert run[0].start is not None and run[0].start.shape == run[0].palette.shape
        assert all(s.start is None for s in run[1:])
        if init == "random":  # k random pixels: every seed is a colour of the image
            image_colours = {tuple(c) for c in small_photo.reshape(-1, 3)}
            assert all(tuple(c) in image_colours for c in run[0].start)


def test_cluster_stats_match_brute_force(small_photo):
    hist = build_histogram(small_photo)
    state = states(hist, 4, space="oklab", seed=2)[-1]
    shares, errors = cluster_stats(hist, state.labels, state.palette, "oklab")
    pixels = small_photo.reshape(-1, 3)
    keys = ((pixels[:, 0].astype(np.uint32) << 24) | (pixels[:, 1].astype(np.uint32) << 16)
            | (pixels[:, 2].astype(np.uint32) << 8) | 255)
    group = np.searchsorted(hist.keys, keys, sorter=np.argsort(hist.keys))
    group = np.argsort(hist.keys)[group]
    assert np.array_equal(hist.keys[group], keys)
    label = state.labels[group]
    x = to_working(pixels.astype(float), "oklab")
    c = to_working(state.palette.astype(float), "oklab")
    for j in range(4):
        members = label == j
        assert shares[j] == pytest.approx(members.mean())
        assert errors[j] == pytest.approx(np.linalg.norm(x[members] - c[j], axis=1).mean())


def test_cluster_stats_count_the_transparent_entry(rgba_image):
    hist = build_histogram(rgba_image)
    state = states(hist, 4)[-1]
    shares, errors = cluster_stats(hist, state.labels, state.palette, "oklab")
    assert shares.sum() == pytest.approx(1.0)
    assert shares[0] == pytest.approx(hist.n_transparent / hist.n_pixels)
    assert errors[0] == 0.0


def test_palette_permutation():
    old = np.array([[1, 2, 3], [9, 9, 9], [1, 2, 3], [0, 0, 0]], np.uint8)
    perm = np.array([3, 0, 1, 2])
    new = old[perm]
    got = palette_permutation(old, new)
    assert np.array_equal(old[got], new) and sorted(got) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        palette_permutation(old, old[:3])
    with pytest.raises(ValueError):
        palette_permutation(old, old + 1)


# -------------------------------------------------------------- splatting
def test_splat_draws_the_nearest_point_on_top():
    x = np.array([5.2, 5.9, 20.0])
    y = np.array([5.0, 5.5, 3.0])
    classes = np.array([3, 3, 0], np.int8)
    colours = np.array([1, 2, 3], np.uint32)
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        for near, far in ((0, 1), (1, 0)):
            depth = np.zeros(3)
            depth[near], depth[far] = -1.0, 1.0
            o = np.array(order)
            img = splat(x[o], y[o], depth[o], classes[o], colours[o], 30, 12, 0)
            assert img[5, 5] == colours[near]  # both cover it: the nearer shows
            assert img[3, 20] == 3


def test_splat_stamps_by_size_class_and_clips_at_the_edges():
    for cls, size in enumerate((1, 5, 9, 21)):
        img = splat(np.array([10.5]), np.array([10.5]), np.zeros(1), np.array([cls], np.int8),
                    np.array([7], np.uint32), 21, 21, 0)
        assert (img == 7).sum() == size and img[10, 10] == 7
    img = splat(np.array([0.0, -5.0]), np.array([0.0, 3.0]), np.zeros(2),
                np.array([3, 3], np.int8), np.array([7, 8], np.uint32), 4, 4, 0)
    assert (img == 7).sum() == 8 and (img == 8).sum() == 0  # a quarter of the disc left


def test_pack_rgb():
    assert pack_rgb(np.array([[255, 0, 16, 9]], np.uint8))[0] == 0xFFFF0010


def test_one_cluster_figures_equal_the_whole_table(small_photo, rgba_image):
    for pixels, space in ((small_photo, "oklab"), (small_photo, "rgb"), (rgba_image, "oklab")):
        hist = build_histogram(pixels)
        state = states(hist, 5, space=space)[-1]
        shares, errors = cluster_stats(hist, state.labels, state.palette, space)
        for j in range(len(state.palette)):
            share, error = cluster_figures(hist, state.labels, state.palette, space, j)
            assert share == pytest.approx(shares[j]) and error == pytest.approx(errors[j])


def test_a_single_seeding_starts_from_the_picked_pixels(small_photo):
    from kmeans_gui.core import QuantizeSettings, steps

    settings = QuantizeSettings(k=6, init="random", seed=4)
    first = next(iter(steps(small_photo, settings, restarts=1)))
    colours = {tuple(c) for c in small_photo.reshape(-1, 3)}
    assert all(tuple(c) in colours for c in first.start)  # k pixels of the image
    raced = next(iter(steps(small_photo, settings)))  # the default races seedings
    assert not np.array_equal(raced.start, first.start)


def test_a_splat_plan_repainted_with_new_colours_equals_a_fresh_splat():
    rng = np.random.default_rng(7)
    x, y = rng.random(300) * 40, rng.random(300) * 30
    depth = rng.random(300)
    classes = rng.integers(0, 4, 300).astype(np.int8)
    plan = splat_plan(x, y, depth, classes, 40, 30)
    for seed in range(3):
        colours = np.random.default_rng(seed).integers(1, 2**24, 300).astype(np.uint32)
        assert np.array_equal(splat_paint(plan, colours, 40, 30, 0),
                              splat(x, y, depth, classes, colours, 40, 30, 0))


def test_splat_paint_puts_the_front_points_over_nearer_ones():
    x = np.array([5.0, 5.0, 5.0])
    y = np.array([5.0, 5.0, 5.0])
    depth = np.array([0.0, -1.0, 1.0])  # point 1 nearest, point 2 farthest
    classes = np.zeros(3, np.int8)
    colours = np.array([10, 11, 12], np.uint32)
    plan = splat_plan(x, y, depth, classes, 10, 10)
    assert splat_paint(plan, colours, 10, 10, 0)[5, 5] == 11
    front = np.array([True, False, True])
    assert splat_paint(plan, colours, 10, 10, 0, front=front)[5, 5] == 10  # nearest of the front
