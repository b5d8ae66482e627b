"""The undithered result's remap that keeps runs (``remap(..., keep_runs=True)``)."""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_gui.core import parallel
from kmeans_gui.core._native import kernels
from kmeans_gui.core.quantizer.colorspace import LINEAR_LUT, to_working
from kmeans_gui.core.quantizer.remapping import (
    RUN_ABSOLUTE,
    RUN_RELATIVE,
    _search_palette,
    remap,
)


def noisy_gradient(height: int = 120, width: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(20, 230, width)[None, :, None] + np.array([0.0, 10.0, -10.0])
    return np.clip(ramp + rng.normal(0, 4, (height, width, 3)), 0, 255).astype(np.uint8)


def grey_palette(n: int) -> np.ndarray:
    return np.linspace(0, 255, n).astype(np.uint8)[:, None].repeat(3, 1)


def changes(indices: np.ndarray) -> int:
    return int((indices[:, 1:] != indices[:, :-1]).sum())


def distances(pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(n, k) working-space distances, brute force."""
    channels = pixels.shape[2]
    pal = palette.astype(np.float64)
    if channels == 4 and pal.shape[1] == 3:
        pal = np.hstack([pal, np.full((len(pal), 1), 255.0)])
    px = to_working(pixels.reshape(-1, channels).astype(np.float64), "oklab")
    cp = to_working(pal, "oklab")
    return np.sqrt(((px[:, None, :] - cp[None, :, :]) ** 2).sum(-1))


def test_fewer_index_changes_on_a_noisy_gradient():
    img = noisy_gradient()
    pal = grey_palette(16)
    exact = remap(img, pal)
    runs = remap(img, pal, keep_runs=True)
    assert changes(runs) < 0.8 * changes(exact)
    assert (runs != exact).any()


def test_every_choice_is_within_the_slack_and_a_neighbours_entry():
    img = noisy_gradient(60, 90, seed=3)
    pal = grey_palette(24)
    runs = remap(img, pal, keep_runs=True)
    d = distances(img, pal)
    best = d.min(axis=1)
    chosen = d[np.arange(len(d)), runs.ravel()]
    assert np.all(chosen <= best + np.maximum(RUN_RELATIVE * best, RUN_ABSOLUTE) + 1e-9)
    # a pixel that does not take its nearest entry takes its left or upper neighbour's
    nearest = d.argmin(axis=1).reshape(runs.shape)
    moved = np.argwhere(runs != nearest)
    assert len(moved)
    for y, x in moved:
        neighbours = {int(runs[y, x - 1]) if x else -1, int(runs[y - 1, x]) if y else -1}
        assert int(runs[y, x]) in neighbours


def runs_by_brute_force(img: np.ndarray, pal: np.ndarray) -> np.ndarray:
    """The rule ``remap(..., keep_runs=True)`` documents, from every distance."""
    h, w = img.shape[:2]
    d = distances(img, pal).reshape(h, w, -1)
    out = np.empty((h, w), dtype=np.int64)
    for y in range(h):
        for x in range(w):
            order = np.argsort(d[y, x], kind="stable")
            d1, d2 = d[y, x, order[0]], d[y, x, order[1]]
            choices = {int(order[0])}
            if d1 > 1e-6 and d2 - d1 <= max(RUN_RELATIVE * d1, RUN_ABSOLUTE):
                choices.add(int(order[1]))
            left = out[y, x - 1] if x else -1
            up = out[y - 1, x] if y % kernels.RUN_BAND_ROWS else -1
            out[y, x] = left if left in choices else up if up in choices else order[0]
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_the_choices_match_a_brute_force_reference(seed):
    # A palette of scattered colours, so the search scans far: every pixel's
    # nearest and stand-in must still be exactly the ones all distances give.
    rng = np.random.default_rng(seed)
    img = noisy_gradient(40, 60, seed=seed)
    img[:, 30:] = rng.integers(0, 256, (40, 30, 3))
    pal = np.vstack([grey_palette(40), rng.integers(0, 256, (60, 3))]).astype(np.uint8)
    assert np.array_equal(remap(img, pal, keep_runs=True), runs_by_brute_force(img, pal))


@pytest.mark.parametrize("step", [2, 5])
def test_stand_ins_along_the_search_axis_match_the_brute_force_reference(step):
    # Grey pixels between grey entries: the stand-in lies along the axis the
    # search is sorted on, just beyond the nearest, where a scan cut short
    # at the neighbour's distance (without the slack) would miss it.
    img = noisy_gradient(40, 60, seed=1).mean(axis=2, keepdims=True).astype(np.uint8)
    img = img.repeat(3, 2)
    pal = grey_palette(256)[::step]
    assert np.array_equal(remap(img, pal, keep_runs=True), runs_by_brute_force(img, pal))


def test_an_image_with_no_more_colours_than_the_palette_is_mapped_exactly():
    rng = np.random.default_rng(1)
    colours = rng.integers(0, 256, (12, 3)).astype(np.uint8)
    img = colours[rng.integers(0, 12, (80, 70))]
    pal = np.vstack([colours, rng.integers(0, 256, (20, 3)).astype(np.uint8)])
    runs = remap(img, pal, keep_runs=True)
    assert np.array_equal(pal[runs], img)
    assert np.array_equal(runs, remap(img, pal))


def test_every_grey_level_with_a_palette_of_every_grey_level_is_mapped_exactly():
    """Neighbouring levels lie within the slack of each other; exact matches
    (up to rounding in the colour conversion) still never switch."""
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (64, 96)).astype(np.uint8)[..., None].repeat(3, 2)
    pal = np.arange(256, dtype=np.uint8)[:, None].repeat(3, 1)
    runs = remap(img, pal, keep_runs=True)
    assert np.array_equal(pal[runs], img)


def test_transparent_pixels_keep_the_transparent_entry():
    img = np.dstack([noisy_gradient(50, 60), np.full((50, 60), 255, np.uint8)])
    img[10:20, 5:40, 3] = 0
    img[30:35, :, 3] = 128
    pal = np.vstack([np.column_stack([grey_palette(15), np.full(15, 255)]),
                     np.zeros((1, 4))]).astype(np.uint8)
    runs = remap(img, pal, keep_runs=True)
    assert np.all(runs[img[..., 3] == 0] == 15)
    assert np.all(runs[img[..., 3] > 0] != 15)
    assert changes(runs) < changes(remap(img, pal))


def test_the_result_does_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(kernels, "RUN_SPLIT_PIXELS", 1000)  # one piece per thread
    img = noisy_gradient(700, 300, seed=2)
    pal = grey_palette(32)
    results = []
    for n in (1, 2, 3):
        with parallel.limited(n):
            results.append(remap(img, pal, keep_runs=True))
    assert all(np.array_equal(results[0], r) for r in results[1:])


def test_the_direct_and_the_hashed_cache_agree():
    img = noisy_gradient(300, 400, seed=4)
    pal = grey_palette(48)
    args = (*_search_palette(pal, 3, "oklab"), kernels.SPACE_OKLAB, LINEAR_LUT, -1,
            RUN_RELATIVE, RUN_ABSOLUTE)
    hashed = kernels.remap_runs(img, *args, False, 12)  # a small cache that fills up
    direct = kernels.remap_runs(img, *args, True, 12)
    assert np.array_equal(hashed, direct)


@pytest.mark.parametrize("bad, message", [
    (dict(relative=-0.1), "relative slack"), (dict(absolute=float("nan")), "absolute slack"),
    (dict(cap_bits=0), "cap_bits"),
])
def test_the_wrapper_checks_its_arguments(bad, message):
    img = noisy_gradient(4, 5)
    coords, proj, axis, order = _search_palette(grey_palette(4), 3, "oklab")
    args = dict(relative=0.3, absolute=0.5, direct=False, cap_bits=12) | bad
    with pytest.raises(ValueError, match=message):
        kernels.remap_runs(img, coords, proj, axis, order, kernels.SPACE_OKLAB, LINEAR_LUT, -1,
                           **args)


def test_the_direct_cache_is_for_rgb_only():
    img = np.zeros((4, 5, 4), np.uint8)
    pal = np.zeros((2, 4), np.uint8)
    coords, proj, axis, order = _search_palette(pal, 4, "oklab")
    with pytest.raises(ValueError, match="RGB images only"):
        kernels.remap_runs(img, coords, proj, axis, order, kernels.SPACE_OKLAB, LINEAR_LUT, -1,
                           0.3, 0.5, True, 12)


def test_the_colour_count_only_sizes_the_cache(photo, rgba_image):
    # The exact histogram's colour count sizes the cache; a count too small
    # (the cache fills, the rest are computed) gives the same indices.
    from kmeans_gui.core import build_histogram, distinct_colours
    hist = build_histogram(photo)
    assert hist.exact and distinct_colours(hist) == len(hist)
    pal = grey_palette(40)
    plain = remap(photo, pal, keep_runs=True)
    for colours in (len(hist), 10, 1):
        assert np.array_equal(remap(photo, pal, keep_runs=True, colours=colours), plain)
    rgba = build_histogram(rgba_image)
    assert distinct_colours(rgba) == len(rgba) + 1  # the transparent pixels' colour
    pal4 = np.vstack([np.column_stack([grey_palette(8), np.full(8, 255)]),
                      np.zeros((1, 4))]).astype(np.uint8)
    assert np.array_equal(remap(rgba_image, pal4, keep_runs=True, colours=3),
                          remap(rgba_image, pal4, keep_runs=True))


def test_a_binned_histogram_gives_no_colour_count():
    from kmeans_gui.core import build_histogram, distinct_colours
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)  # 160 000 colours
    assert distinct_colours(build_histogram(noise, max_exact=1000)) is None


def test_an_unknown_colour_count_sizes_the_cache_for_what_fits(monkeypatch):
    """A 1-2 MP photo with too many colours for an exact histogram: sized for
    every pixel, the hashed cache outgrew the processor's caches (2**21-2**22
    slots); it is sized for UNKNOWN_COLOURS instead, with the same indices."""
    from kmeans_gui.core.quantizer import remapping
    image = noisy_gradient(1000, 1000, seed=3)
    assert image.shape[0] * image.shape[1] < remapping.DIRECT_CACHE_PIXELS
    pal = grey_palette(24)
    asked = []
    real = kernels.remap_runs

    def spy(*args):
        asked.append(args[-1])  # cap_bits
        return real(*args)

    monkeypatch.setattr(kernels, "remap_runs", spy)
    unknown = remap(image, pal, keep_runs=True)
    every_pixel = remap(image, pal, keep_runs=True, colours=image.shape[0] * image.shape[1])
    assert asked == [19, 21]
    assert 2 ** (asked[0] - 1) >= remapping.UNKNOWN_COLOURS
    assert np.array_equal(unknown, every_pixel)
