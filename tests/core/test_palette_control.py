"""Importance weights, fixed colours and given palettes in the quantizer."""

import io

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import (
    ImageError,
    QuantizeSettings,
    build_histogram,
    encode_png,
    kmeans_steps,
    quantize,
)
from kmeans_gui.core._native import kernels
from kmeans_gui.core.quantizer import histogram as histogram_module
from kmeans_gui.core.quantizer.colorspace import to_working

from .reference import nearest, weighted_histogram, weighted_kmeans_all_pixels
from .test_kmeans import final, spread_initial


def test_unit_weights_change_nothing(photo):
    plain = build_histogram(photo)
    weighted = build_histogram(photo, weights=np.ones(photo.shape[:2]))
    assert np.array_equal(weighted.weights, plain.counts)
    assert np.array_equal(weighted.colors, plain.colors)


@pytest.mark.parametrize("max_exact", [None, 500])
def test_weights_are_summed_per_group(photo, max_exact):
    rng = np.random.default_rng(2)
    w = rng.random(photo.shape[:2]) * 3
    kwargs = {} if max_exact is None else {"max_exact": max_exact}
    hist = build_histogram(photo, weights=w, **kwargs)
    flat = photo.reshape(-1, 3).astype(np.uint32)
    keys = ((flat[:, 0] << 24) | (flat[:, 1] << 16) | (flat[:, 2] << 8) | 255) & hist.mask
    order = np.argsort(hist.keys)
    group = order[np.searchsorted(hist.keys[order], keys)]
    want = np.bincount(group, weights=w.ravel(), minlength=len(hist))
    assert np.allclose(hist.weights, want, rtol=1e-12)
    mean = np.column_stack([np.bincount(group, weights=w.ravel() * flat[:, t], minlength=len(hist))
                            for t in range(3)]) / want[:, None]
    assert np.allclose(hist.colors, mean)


def test_weights_on_rgba_skip_transparent_pixels(rgba_image):
    w = np.full(rgba_image.shape[:2], 2.0)
    hist = build_histogram(rgba_image, weights=w)
    assert np.allclose(hist.weights, 2 * hist.counts)


def _noisy_rgba(h=70, w=90, seed=5):
    """Many colours, a fully transparent corner and partly transparent pixels."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    img[..., 3] = np.where(rng.random((h, w)) < 0.5, 255, img[..., 3])
    img[:10, :10, 3] = 0
    return img


@pytest.mark.parametrize("max_exact", [None, 2000, 50])
@pytest.mark.parametrize("kind", ["photo", "rgba"])
@pytest.mark.parametrize("split", [False, True])
def test_weighted_kernel_equals_numpy(photo, max_exact, kind, split, monkeypatch):
    """The C kernel against the bincount reference: exact colours, 6-bit and
    coarse bins, RGB and RGBA, in one piece and split over threads."""
    if split:
        monkeypatch.setattr(kernels, "SPLIT_PIXELS", 1000)
    pixels = np.ascontiguousarray(photo[:120, :150]) if kind == "photo" else _noisy_rgba()
    kwargs = {} if max_exact is None else {"max_exact": max_exact}
    if kind == "rgba" and max_exact == 50:
        monkeypatch.setattr(histogram_module, "RGBA_BIN_BITS", 10)  # force the coarse bins
    plain = build_histogram(pixels, **kwargs)
    w = np.random.default_rng(3).random(pixels.shape[:2]) * 10
    w[5:20, 30:60] = 0.0
    hist = build_histogram(pixels, weights=w, **kwargs)
    totals, sums = weighted_histogram(plain, pixels, w)
    assert np.allclose(hist.weights, totals, rtol=1e-12, atol=1e-12)
    has = totals > 0
    assert np.allclose(hist.colors[has], sums[has] / totals[has, None], rtol=1e-12)
    assert np.array_equal(hist.colors[~has], plain.colors[~has])
    assert np.array_equal(hist.counts, plain.counts)


def test_weighted_kernel_checks_its_arguments():
    pix = np.zeros((4, 3), np.uint8)
    keys = np.array([0x000000FF], np.uint32)
    w = np.ones(4)
    with pytest.raises(ValueError, match="weights must have shape"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, keys, w[:3])
    with pytest.raises(ValueError, match="must be float64"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, keys, np.ones(4, np.complex128))
    with pytest.raises(ValueError, match="channels"):
        kernels.weighted_histogram(np.zeros((4, 2), np.uint8), 0xFFFFFFFF, keys, w)
    with pytest.raises(ValueError, match="distinct"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, np.repeat(keys, 2), w)
    with pytest.raises(ValueError, match="between 1 and"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, keys[:0], w)
    with pytest.raises(ValueError, match="finite and not negative"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, keys, np.array([1, 1, np.nan, 1]))
    with pytest.raises(ValueError, match="none of the histogram's groups"):
        kernels.weighted_histogram(pix, 0xFFFFFFFF, np.array([0x010203FF], np.uint32), w)
    totals, sums = kernels.weighted_histogram(pix, 0xFFFFFFFF, keys, w)
    assert totals.tolist() == [4.0] and sums.tolist() == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_weighted_kmeans_matches_brute_force(small_photo, space):
    h, w = small_photo.shape[:2]
    weights = np.ones((h, w))
    weights[10:30, 20:50] = 8.0  # an important patch
    weights[40:, :10] = 0.25
    hist = build_histogram(small_photo, weights=weights)
    initial = spread_initial(small_photo, 6)
    state = final(kmeans_steps(hist, 6, space=space, tol=0.0, initial=initial))
    expected, iterations = weighted_kmeans_all_pixels(small_photo, weights, initial, space)
    assert state.reason == "unchanged"
    assert np.abs(state.palette.astype(int) - expected.astype(int)).max() <= 1
    assert state.iteration == iterations


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_fixed_centroids_match_brute_force(small_photo, space):
    fixed = np.array([[200, 30, 40], [20, 200, 60]], np.uint8)
    initial = np.vstack([fixed, spread_initial(small_photo, 4)])
    weights = np.ones(small_photo.shape[:2])
    state = final(kmeans_steps(build_histogram(small_photo), 6, space=space, tol=0.0,
                               initial=initial[2:], fixed=fixed))
    expected, iterations = weighted_kmeans_all_pixels(small_photo, weights, initial, space, 2)
    assert np.array_equal(state.palette[:2], fixed)
    assert np.abs(state.palette.astype(int) - expected.astype(int)).max() <= 1
    assert state.iteration == iterations


@pytest.mark.parametrize("keep", [[(192, 57, 43)], [(255, 0, 255), (0, 255, 0), (1, 2, 3)]])
def test_fixed_colours_are_exact_in_the_saved_file(photo, keep):
    settings = QuantizeSettings(k=8, keep=tuple(keep))
    for state in kmeans_steps(build_histogram(photo), 8, fixed=np.array(keep)):
        assert {tuple(c) for c in keep} <= {tuple(int(v) for v in c) for c in state.palette}
        assert state.k <= 8
    result = quantize(photo, settings)
    with Image.open(io.BytesIO(encode_png(result))) as im:
        palette = np.array(im.getpalette(), np.uint8).reshape(-1, 3)
    assert len(palette) <= 8
    assert {tuple(c) for c in keep} <= {tuple(int(v) for v in c) for c in palette}


def test_fixed_colours_with_transparency(rgba_image):
    state = final(kmeans_steps(build_histogram(rgba_image), 6, fixed=np.array([[9, 9, 9]])))
    assert state.k <= 6
    assert tuple(state.palette[0]) == (0, 0, 0, 0)
    assert tuple(state.palette[1]) == (9, 9, 9, 255)


def test_all_fixed_and_too_many_fixed(photo):
    fixed = np.array([[0, 0, 0], [128, 128, 128], [255, 255, 255]])
    state = final(kmeans_steps(build_histogram(photo), 3, fixed=fixed))
    assert np.array_equal(state.palette, fixed)
    with pytest.raises(ImageError, match="do not fit"):
        next(kmeans_steps(build_histogram(photo), 2, fixed=fixed))
    with pytest.raises(ImageError, match="do not fit"):
        QuantizeSettings(k=2, keep=((0, 0, 0), (1, 1, 1), (2, 2, 2))).validated()


@pytest.mark.parametrize("dither", ["none", "fs", "ordered"])
def test_fixed_palette_keeps_its_order(small_photo, dither):
    rng = np.random.default_rng(5)
    pal = rng.integers(0, 256, (32, 3)).astype(np.uint8)
    result = quantize(small_photo, QuantizeSettings(palette=tuple(map(tuple, pal.tolist())),
                                                    dither=dither))
    assert np.array_equal(result.palette, pal)
    with Image.open(io.BytesIO(encode_png(result))) as im:
        assert np.array_equal(np.array(im.getpalette(), np.uint8).reshape(-1, 3), pal)
    if dither == "none":
        want = nearest(small_photo, pal, "oklab")
        from kmeans_gui.core.quantizer.remapping import RUN_ABSOLUTE, RUN_RELATIVE
        got = result.indices
        if not np.array_equal(got, want):  # ties: equal distances are fine
            from kmeans_gui.core.quantizer.colorspace import to_working
            px = to_working(small_photo.reshape(-1, 3).astype(float), "oklab")
            cp = to_working(pal.astype(float), "oklab")
            d_got = np.sqrt(((px - cp[got.ravel()]) ** 2).sum(1))
            d_want = np.sqrt(((px - cp[want.ravel()]) ** 2).sum(1))
            # runs are kept: a neighbour's entry within the slack may stand in
            slack = np.maximum(RUN_RELATIVE * d_want, RUN_ABSOLUTE)
            assert np.all(d_got <= d_want + slack + 1e-9)


def test_fixed_palette_adds_a_transparent_entry_at_the_end(rgba_image):
    pal = ((10, 20, 30), (200, 100, 0))
    result = quantize(rgba_image, QuantizeSettings(palette=pal, dither="none"))
    assert result.palette.shape == (3, 4)
    assert np.array_equal(result.palette[:2, :3], np.array(pal))
    assert tuple(result.palette[2]) == (0, 0, 0, 0)
    assert (result.indices[rgba_image[..., 3] == 0] == 2).all()


def test_bad_weights_and_palettes_are_refused(photo):
    with pytest.raises(ImageError, match="like the image"):
        build_histogram(photo, weights=np.ones((3, 3)))
    for bad in (-1.0, np.nan, np.inf):
        w = np.ones(photo.shape[:2])
        w[-1, -1] = bad  # the last pixel: the whole pass is checked, in every path
        for kwargs in ({}, {"max_exact": 50}):
            with pytest.raises(ImageError, match="finite and not negative"):
                build_histogram(photo, weights=w, **kwargs)
    with pytest.raises(ImageError, match="zero on every"):
        build_histogram(photo, weights=np.zeros(photo.shape[:2]))
    with pytest.raises(ImageError, match="palette needs"):
        QuantizeSettings(palette=()).validated()
    with pytest.raises(ImageError, match="palette needs"):
        QuantizeSettings(palette=((0, 0, 300),)).validated()


def test_swap_trials_lower_the_error_and_keep_the_pins(photo, monkeypatch):
    """After convergence with pins, swap trials may move free centroids; the
    result is never worse (in squared error or mean distance) than without
    them, keeps the pins exact, and is the same on every run."""
    from kmeans_gui.core.quantizer import kmeans as kmeans_module
    hist = build_histogram(photo)
    fixed = np.array([[230, 230, 230], [20, 120, 40], [200, 40, 40]], np.uint8)

    def run():
        return final(kmeans_steps(hist, 10, fixed=fixed, seed=4))

    with_swaps = run()
    again = run()
    monkeypatch.setattr(kmeans_module, "SWAP_TRIALS", 0)
    monkeypatch.setattr(kmeans_module._swap_search, "__defaults__", (0, 100))
    without = run()
    assert np.array_equal(with_swaps.palette, again.palette)
    assert np.array_equal(with_swaps.palette[:3], fixed)
    assert with_swaps.inertia <= without.inertia

    def mean_distance(state):
        x = to_working(hist.colors, "oklab")
        c = to_working(state.palette.astype(np.float64), "oklab")
        d = np.sqrt(((x[:, None, :] - c[None]) ** 2).sum(axis=2)).min(axis=1)
        return (hist.counts * d).sum()

    assert mean_distance(with_swaps) <= mean_distance(without) * (1 + 1e-9)
