"""Every C kernel's wrapper refuses bad arguments with ValueError before C runs."""

import numpy as np
import pytest

from kmeans_gui.core._native import kernels as K
from kmeans_gui.core._native.unfilter import unfilter_into
from kmeans_gui.core.quantizer.colorspace import LINEAR_LUT

RNG = np.random.default_rng(0)
PIX = RNG.integers(0, 256, (50, 3), dtype=np.uint8)
X = RNG.random((40, 3))
W = np.ones(40)
C = X[:4].copy()


def palette(k=4, d=3):
    pal = RNG.random((k, d)) * 100
    axis = np.eye(d)[0]
    proj = pal @ axis
    order = np.argsort(proj).astype(np.int64)
    return pal[order], proj[order], axis, order


def fresh_state():
    return np.zeros(40, np.int64), np.full(40, np.inf), np.zeros(40)


def test_valid_arguments_run():
    """The baseline every rejection below differs from in one argument."""
    assert K.build_histogram(PIX, 0xFFFFFFFF, 8, 100)[3] == 50
    assert K.remap(PIX, *palette(), K.SPACE_RGB, LINEAR_LUT, -1, 12).shape == (50,)
    labels, upper, lower = fresh_state()
    K.assign(X, C, labels, upper, lower, True)
    K.update(X, W, labels, C, upper, lower)
    assert K.inertia(X, W, labels, C) >= 0


def rejects(match, fn, *args, **kwargs):
    with pytest.raises(ValueError, match=match):
        fn(*args, **kwargs)


@pytest.mark.parametrize("pix,match", [
    (PIX.astype(np.int64), "must be uint8"),          # would wrap if cast
    (PIX.astype(np.float64), "must be uint8"),
    (PIX[:, :2], "3 or 4 channels"),
    (PIX.reshape(-1), "2 dimensions"),
])
def test_histogram_pixels(pix, match):
    rejects(match, K.build_histogram, pix, 0xFFFFFFFF, 8, 100)


def test_histogram_table_arguments():
    rejects("cap_bits", K.build_histogram, PIX, 0xFFFFFFFF, 0, 0)
    rejects("cap_bits", K.build_histogram, PIX, 0xFFFFFFFF, 40, 100)
    rejects("below the table size", K.build_histogram, PIX, 0xFFFFFFFF, 4, 16)  # no empty slot
    rejects("32 bits", K.build_histogram, PIX, 1 << 33, 8, 100)
    rejects("3 channels", K.build_histogram_rgb6, np.zeros((5, 4), np.uint8))
    rejects("counts must be int64", K.build_histogram_rgb6, PIX, np.zeros(1 << 18, np.int32))
    rejects("counts must have shape", K.build_histogram_rgb6, PIX, np.zeros(5, np.int64))


def test_count_bytes_needs_bytes():
    rejects("must be uint8", K.count_bytes, np.arange(10))


def test_oklab_pixels_checks():
    rejects("must be uint8", K.oklab_pixels, PIX.astype(np.float64), LINEAR_LUT)
    rejects("3 or 4 channels", K.oklab_pixels, PIX[:, :2], LINEAR_LUT)
    rejects("2 dimensions", K.oklab_pixels, PIX.reshape(-1), LINEAR_LUT)
    rejects("256 entries", K.oklab_pixels, PIX, LINEAR_LUT[:100])


def test_distance_sum_checks():
    points, table = RNG.random((10, 3)), RNG.random((4, 3))
    idx = RNG.integers(0, 4, 10).astype(np.uint8)
    brute = float(np.linalg.norm(points - table[idx], axis=1).sum())
    assert K.distance_sum(points, idx, table) == pytest.approx(brute, rel=1e-12)
    rejects("beyond the table", K.distance_sum, points, np.full(10, 4, np.uint8), table)
    rejects("one index per point", K.distance_sum, points, idx[:5], table)
    rejects("3 coordinates", K.distance_sum, points[:, :2], idx, table)
    rejects("must be uint8", K.distance_sum, points, idx.astype(np.int64), table)


def test_kmeanspp():
    u = RNG.random(40)
    rejects("k >= 1", K.kmeanspp, X, W, 0, u, 1)
    rejects("random numbers", K.kmeanspp, X, W, 8, u[:7], 1)
    rejects("weights must have shape", K.kmeanspp, X, W[:-1], 4, u, 1)
    rejects("no samples", K.kmeanspp, np.zeros((0, 3)), np.zeros(0), 1, u, 1)


@pytest.mark.parametrize("fn", ["assign", "update", "inertia"])
def test_lloyd_labels_and_centroids(fn):
    def call(x=X, c=C, labels=None, upper=None, lower=None):
        fresh = fresh_state()
        labels = fresh[0] if labels is None else labels
        upper = fresh[1] if upper is None else upper
        lower = fresh[2] if lower is None else lower
        if fn == "assign":
            return K.assign(x, c, labels, upper, lower, True)
        if fn == "update":
            return K.update(x, W, labels, c, upper, lower)
        return K.inertia(x, W, labels, c)

    rejects("labels must lie in 0..3", call, labels=np.full(40, 4, np.int64))
    rejects("labels must lie in 0..3", call, labels=np.full(40, -1, np.int64))
    rejects("labels must be int64", call, labels=np.zeros(40, np.int32))
    rejects("labels must have shape", call, labels=np.zeros(39, np.int64))
    rejects("labels must be C-contiguous", call, labels=np.zeros(80, np.int64)[::2])
    rejects("centroids have 2 coordinates", call, c=C[:, :2])
    rejects("none given", call, c=np.zeros((0, 3)))
    rejects("samples must be a 2-D float64", call, x=X.astype(np.float32))
    rejects("samples must be C-contiguous", call, x=np.asfortranarray(X))
    if fn != "inertia":
        rejects("upper must have shape", call, upper=np.zeros(39))
        rejects("lower must be float64", call, lower=np.zeros(40, np.float32))
        read_only = np.zeros(40)
        read_only.flags.writeable = False
        rejects("lower must be writable", call, lower=read_only)


def test_remap_palette_checks():
    good = palette()
    empty = (np.zeros((0, 3)), np.zeros(0), np.eye(3)[0], np.zeros(0, np.int64))
    rejects("1 to 256 entries", K.remap, PIX, *empty, K.SPACE_RGB, LINEAR_LUT, -1, 12)
    big = palette(k=257)
    rejects("1 to 256 entries", K.remap, PIX, *big, K.SPACE_RGB, LINEAR_LUT, -1, 12)
    rejects("4 coordinates but the image 3 channels", K.remap, PIX, *palette(d=4),
            K.SPACE_RGB, LINEAR_LUT, -1, 12)
    pal, proj, axis, order = good
    rejects("permutation", K.remap, PIX, pal, proj, axis, np.array([0, 1, 2, 7]),
            K.SPACE_RGB, LINEAR_LUT, -1, 12)
    rejects("permutation", K.remap, PIX, pal, proj, axis, np.array([0, 0, 1, 2]),
            K.SPACE_RGB, LINEAR_LUT, -1, 12)
    rejects("projections must have shape", K.remap, PIX, pal, proj[:3], axis, order,
            K.SPACE_RGB, LINEAR_LUT, -1, 12)
    rejects("axis must have shape", K.remap, PIX, pal, proj, axis[:2], order,
            K.SPACE_RGB, LINEAR_LUT, -1, 12)
    rejects("transparent index", K.remap, PIX, *good, K.SPACE_RGB, LINEAR_LUT, 4, 12)
    rejects("colour space code", K.remap, PIX, *good, 7, LINEAR_LUT, -1, 12)
    rejects("256 entries", K.remap, PIX, *good, K.SPACE_RGB, LINEAR_LUT[:10], -1, 12)
    rejects("cap_bits", K.remap, PIX, *good, K.SPACE_RGB, LINEAR_LUT, -1, 0)
    rejects("3 channels", K.remap_rgb, np.zeros((5, 4), np.uint8), *palette(d=4),
            K.SPACE_RGB, LINEAR_LUT)
    assert K.remap_rgb_packed(PIX, *good, K.SPACE_RGB, LINEAR_LUT, 12).shape == (50,)
    rejects("3 channels", K.remap_rgb_packed, np.zeros((5, 4), np.uint8), *palette(d=4),
            K.SPACE_RGB, LINEAR_LUT, 12)
    rejects("cap_bits", K.remap_rgb_packed, PIX, *good, K.SPACE_RGB, LINEAR_LUT, 31)
    rejects("permutation", K.remap_rgb_packed, PIX, pal, proj, axis, np.array([0, 0, 1, 2]),
            K.SPACE_RGB, LINEAR_LUT, 12)


def test_dither_checks():
    img = PIX.reshape(5, 10, 3)
    good = palette()
    rgb = RNG.random((4, 3)) * 255
    assert K.dither(img, rgb, *good, K.SPACE_RGB, LINEAR_LUT, -1, 1.0).shape == (5, 10)
    rejects("3 dimensions", K.dither, PIX, rgb, *good, K.SPACE_RGB, LINEAR_LUT, -1, 1.0)
    rejects("sRGB palette must have shape", K.dither, img, rgb[:3], *good, K.SPACE_RGB,
            LINEAR_LUT, -1, 1.0)
    rejects("strength", K.dither, img, rgb, *good, K.SPACE_RGB, LINEAR_LUT, -1, 1.5)
    rejects("4 coordinates but the image 3", K.dither, img, rgb, *palette(d=4), K.SPACE_RGB,
            LINEAR_LUT, -1, 1.0)


def test_unfilter_checks():
    rows = [bytes([0] + [1] * 6) for _ in range(2)]  # 2x2 RGB, filter None
    out = bytearray(12)
    assert unfilter_into(2, 2, 3, rows, out) and out == bytearray([1] * 12)
    rejects("needs 12", unfilter_into, 2, 2, 3, rows, bytearray(11))
    rejects("writable", unfilter_into, 2, 2, 3, rows, bytes(12))
    rejects("writable buffer", unfilter_into, 2, 2, 3, rows, 12345)  # not a raw address
    rejects("cannot unfilter", unfilter_into, 2, 2, 2, rows, bytearray(8))
    rejects("cannot unfilter", unfilter_into, 0, 2, 3, rows, bytearray(0))


def test_update_keeps_fixed_centroids_and_checks_the_mask():
    labels, upper, lower = fresh_state()
    K.assign(X, C, labels, upper, lower, True)
    fixed = np.zeros(len(C), bool)
    fixed[0] = True
    moved, _ = K.update(X, W, labels, C, upper, lower, fixed)
    assert np.array_equal(moved[0], C[0])
    rejects("fixed must have shape", K.update, X, W, labels, C, upper, lower, fixed[:-1])
    rejects("fixed must be bool", K.update, X, W, labels, C, upper, lower,
            np.zeros(len(C), np.float64))
