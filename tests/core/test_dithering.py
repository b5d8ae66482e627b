"""The auto and ordered dithering modes, against brute-force references."""

import numpy as np
import pytest

from kmeans_gui.core import QuantizeSettings, encode_png, parallel, quantize, remap
from kmeans_gui.core._native import dithering as native
from kmeans_gui.core.quantizer import dithering
from kmeans_gui.core.quantizer.colorspace import LINEAR_LUT, to_working
from kmeans_gui.core.quantizer.remapping import transparent_index


def gradient(h: int = 64, w: int = 256) -> np.ndarray:
    """A smooth horizontal ramp from dark to light green."""
    ramp = np.linspace(0.0, 1.0, w)
    img = np.empty((h, w, 3), np.uint8)
    for c, (lo, hi) in enumerate(((20, 120), (60, 200), (20, 110))):
        img[..., c] = np.rint(lo + (hi - lo) * ramp)[None, :]
    return img


GREENS = np.array([[20, 60, 20], [53, 107, 50], [87, 153, 80], [120, 200, 110]], np.uint8)
ORANGE = np.array([[255, 128, 0]], np.uint8)


@pytest.mark.parametrize("space", ["oklab", "rgb"])
@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_a_distant_entry_is_never_used_on_a_gradient(space, mode):
    palette = np.vstack([GREENS[:2], ORANGE, GREENS[2:]])
    out = remap(gradient(), palette, space, mode)
    assert np.count_nonzero(out == 2) == 0
    # ...while the gradient is dithered: more than the four plain bands
    plain = remap(gradient(), palette, space, "none")
    assert np.count_nonzero(out != plain) > 0.05 * out.size


def test_auto_follows_a_gradient_better_than_plain():
    img = gradient()
    plain = GREENS[remap(img, GREENS, "oklab", "none")].astype(float)
    auto = GREENS[remap(img, GREENS, "oklab", "auto")].astype(float)
    target = img.astype(float).mean(axis=0)
    err_plain = np.abs(plain.mean(axis=0) - target).mean()
    err_auto = np.abs(auto.mean(axis=0) - target).mean()
    assert err_auto < 0.5 * err_plain


@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_an_image_the_palette_holds_is_unchanged(mode):
    rng = np.random.default_rng(5)
    colours = rng.integers(0, 256, (12, 3)).astype(np.uint8)
    img = colours[rng.integers(0, 12, (80, 120))]
    img[20:60, 30:90] = colours[3]  # and a flat area
    plain = quantize(img, QuantizeSettings(k=16, dither="none"))
    dithered = quantize(img, QuantizeSettings(k=16, dither=mode))
    assert np.array_equal(dithered.palette, plain.palette)
    assert np.array_equal(dithered.indices, plain.indices)
    assert encode_png(dithered) == encode_png(plain)
    assert np.array_equal(plain.to_rgb(), img)


def test_strength_zero_is_the_plain_remap(photo):
    palette = quantize(photo, QuantizeSettings(k=16, dither="none")).palette
    plain = remap(photo, palette, "oklab", "none")
    for mode in ("auto", "ordered", "fs"):
        assert np.array_equal(remap(photo, palette, "oklab", mode, strength=0.0), plain)


@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_deterministic(photo, mode):
    palette = quantize(photo, QuantizeSettings(k=24, dither="none")).palette
    first = remap(photo, palette, "oklab", mode)
    assert np.array_equal(first, remap(photo.copy(), palette.copy(), "oklab", mode))


@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_threads_do_not_change_the_result(monkeypatch, photo, mode):
    # at least six bands, of which the last is cut short
    reps = -(-(6 * dithering.BAND_ROWS + dithering.BAND_ROWS // 3) // photo.shape[0])
    tall = np.ascontiguousarray(np.vstack([photo, photo[::-1]] * reps)[
        :6 * dithering.BAND_ROWS + dithering.BAND_ROWS // 3])
    palette = quantize(photo, QuantizeSettings(k=24, dither="none")).palette
    monkeypatch.setattr(dithering, "SPLIT_PIXELS", 1000)
    results = []
    for threads in (1, 2, 3, 7, 16):
        monkeypatch.setattr(parallel, "_threads", threads)
        results.append(remap(tall, palette, "oklab", mode))
    for other in results[1:]:
        assert np.array_equal(results[0], other)


def test_bands_leave_no_seam():
    """The rows around a band boundary are dithered like the rows elsewhere."""
    img = gradient(h=4 * dithering.BAND_ROWS)
    out = remap(img, GREENS, "oklab", "auto")
    switches = (out[:, 1:] != out[:, :-1]).sum(axis=1)
    edge = dithering.BAND_ROWS
    assert switches[edge - 1: edge + 2].min() >= 0.5 * np.median(switches)


def _sky(h: int, w: int = 256) -> np.ndarray:
    """A smooth blue-grey gradient across and down: a sky or a vignette."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    img = np.empty((h, w, 3), np.uint8)
    img[..., 0] = np.rint(40 + 150 * xx)
    img[..., 1] = np.rint(70 + 36 * yy + 60 * xx)
    img[..., 2] = np.rint(140 + 16 * yy)
    return img


def _local_error(img, palette, out) -> np.ndarray:
    """Per row: the mean length of the error averaged over 4x4 windows
    starting on that row (what the eye sees of the dither's pattern)."""
    err = palette[out][..., :3].astype(float) - img
    windows = np.lib.stride_tricks.sliding_window_view(err, (4, 4), axis=(0, 1))
    means = windows.mean(axis=(-1, -2))
    return np.sqrt((means ** 2).sum(axis=2)).mean(axis=1)


def test_band_boundaries_look_like_one_band(monkeypatch):
    """On a 2-D gradient at a small palette, every band boundary is dithered
    as densely as the rows around it, and the local error across it is about
    what one band over the whole image gives (no band starts from a plain,
    undithered row: that would show as a line)."""
    img = _sky(3 * dithering.BAND_ROWS)
    palette = quantize(img, QuantizeSettings(k=16, dither="none")).palette
    banded = remap(img, palette, "oklab", "auto")
    monkeypatch.setattr(dithering, "BAND_ROWS", img.shape[0])
    single = remap(img, palette, "oklab", "auto")
    assert not np.array_equal(banded, single)  # the bands did restart
    switches = (banded[:, 1:] != banded[:, :-1]).sum(axis=1)
    err_banded = _local_error(img, palette, banded)
    err_single = _local_error(img, palette, single)
    for edge in (img.shape[0] // 3, 2 * img.shape[0] // 3):
        assert switches[edge - 1: edge + 2].min() >= 0.8 * np.median(switches)
        across = slice(edge - 3, edge + 1)  # windows holding both sides
        assert err_banded[across].max() <= 1.2 * err_single[across].max()


def _brute_force_check(img, palette, space, out):
    channels = img.shape[2]
    coords = dithering.palette_tables(palette, channels, space).coords
    pixels = to_working(img.reshape(-1, channels).astype(np.float64), space)
    dist = np.sqrt(((pixels[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    nearest = dist.argmin(axis=1)
    chosen = out.reshape(-1)
    allowed = dist[np.arange(len(dist)), nearest] + dithering.allowances(palette, channels,
                                                                         space)[nearest]
    assert np.all(dist[np.arange(len(dist)), chosen] <= allowed + 1e-9)
    return nearest, chosen


@pytest.mark.parametrize("space", ["oklab", "rgb"])
@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_error_bound_brute_force(small_photo, space, mode):
    rng = np.random.default_rng(2)
    palette = rng.integers(0, 256, (16, 3)).astype(np.uint8)
    out = remap(small_photo, palette, space, mode)
    nearest, chosen = _brute_force_check(small_photo, palette, space, out)
    assert np.count_nonzero(nearest != chosen) > 0  # it did dither
    # A pixel keeps its nearest entry wherever that one is close enough.
    coords = dithering.palette_tables(palette, 3, space).coords
    pixels = to_working(small_photo.reshape(-1, 3).astype(np.float64), space)
    dn = np.sqrt(((pixels - coords[nearest]) ** 2).sum(axis=1))
    close = dithering._params(space)[0]
    assert np.array_equal(chosen[dn <= close * 0.999], nearest[dn <= close * 0.999])


@pytest.mark.parametrize("space", ["oklab", "rgb"])
def test_the_bound_is_the_same_multiple_of_the_spacing_in_either_space(space):
    """The bound's relative part is a ratio: the same multiple of an entry's
    distance to its nearest other entry, in whatever units the space has
    (entries this far apart leave the fixed allowance below it)."""
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]], np.uint8)
    coords = to_working(palette.astype(np.float64), space)
    gaps = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    expected = dithering.PARAMS_OKLAB[2] * gaps.min(axis=1)
    assert np.allclose(dithering.allowances(palette, 3, space), expected)


def test_alpha(rgba_image):
    palette = quantize(rgba_image, QuantizeSettings(k=12, dither="none")).palette
    transparent = palette[:, 3] == 0
    assert transparent.any()
    out = remap(rgba_image, palette, "oklab", "auto")
    assert np.all(transparent[out[rgba_image[..., 3] == 0]])
    _brute_force_check(rgba_image, palette, "oklab", out)
    # Transparent pixels neither take nor spread error: their colour is irrelevant.
    scrambled = rgba_image.copy()
    hidden = scrambled[..., 3] == 0
    scrambled[hidden, :3] = np.random.default_rng(1).integers(0, 256, (hidden.sum(), 3))
    assert np.array_equal(remap(scrambled, palette, "oklab", "auto"), out)


def test_ordered_pattern_repeats_every_eight_pixels():
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    grey = np.full((32, 32, 3), 100, np.uint8)  # a little below half-way
    out = remap(grey, palette, "oklab", "ordered")
    tile = out[:8, :8]
    assert np.array_equal(out, np.tile(tile, (4, 4)))
    assert 0.3 < tile.mean() < 0.7
    weaker = remap(grey, palette, "oklab", "ordered", strength=0.5)
    plain = remap(grey, palette, "oklab", "none")
    assert (np.count_nonzero(weaker != plain) < np.count_nonzero(out != plain))


def test_wrappers_check_their_arguments():
    table = native.PaletteTables(np.zeros((4, 3)))
    img = np.zeros((8, 8, 3), np.uint8)
    params = np.zeros(native.N_PARAMS)
    good = dict(img=img, table=table, space=native.SPACE_OKLAB, lin=LINEAR_LUT, transparent=-1,
                strength=1.0, params=params, band_rows=8, warmup=2, min_pixels=1000)
    native.dither_auto(**good)
    native.dither_auto(**{**good, "transparent": 3})
    for bad in (dict(img=img.astype(np.int16)), dict(img=img[:, ::2]),
                dict(transparent=4), dict(transparent=-2), dict(transparent=1.5),
                dict(params=np.zeros(2)), dict(strength=2.0), dict(band_rows=0),
                dict(table=native.PaletteTables(np.zeros((4, 4)))), dict(space=7)):
        with pytest.raises(ValueError):
            native.dither_auto(**{**good, **bad})
    with pytest.raises(ValueError):
        native.PaletteTables(np.zeros((300, 3)))
    with pytest.raises(ValueError):
        native.dither_ordered(img.astype(np.float32), table, native.SPACE_OKLAB, LINEAR_LUT,
                              -1, 1.0, params, 1000)
    with pytest.raises(ValueError):
        native.dither_ordered(img, table, native.SPACE_OKLAB, LINEAR_LUT, 9, 1.0, params, 1000)


def _auto_with_cache(img, palette, cache: bool) -> np.ndarray:
    table = dithering.palette_tables(palette, img.shape[2], "oklab")
    params = dithering._params("oklab")
    params[5] = 1.0 if cache else 0.0
    return native.dither_auto(img, table, native.SPACE_OKLAB, LINEAR_LUT,
                              transparent_index(palette),
                              dithering.AUTO_DIFFUSION, params, dithering.BAND_ROWS,
                              dithering.WARMUP_ROWS, 1 << 30)


def test_the_colour_cache_does_not_change_the_result(photo, rgba_image):
    # photo-like (many colours, so the cache evicts), graphics-like (few
    # colours, flat areas and hard edges, so it mostly hits), and with alpha
    graphic = np.zeros((96, 128, 3), np.uint8)
    graphic[:, :64] = (30, 90, 200)
    graphic[24:72, 32:100] = (250, 250, 250)
    graphic[40:56] = np.rint(np.linspace(0, 255, 128))[None, :, None]
    for img in (photo, graphic, rgba_image):
        palette = quantize(img, QuantizeSettings(k=16, dither="none")).palette
        cached = _auto_with_cache(img, palette, True)
        assert np.array_equal(cached, _auto_with_cache(img, palette, False))
        assert np.array_equal(cached, remap(img, palette, "oklab", "auto"))


def _textured_ramp() -> np.ndarray:
    """The green ramp with fine noise on it: texture a few units deep."""
    rng = np.random.default_rng(4)
    noise = rng.integers(-6, 7, (64, 256, 1))
    return np.clip(gradient().astype(int) + noise, 0, 255).astype(np.uint8)


def test_a_coarse_palette_dithers_texture_that_a_fixed_tolerance_leaves(monkeypatch):
    img = _textured_ramp()
    plain = remap(img, GREENS, "oklab", "none")
    changed = {}
    for spacing in (0.0, dithering.ACT_SPACING):
        monkeypatch.setattr(dithering, "ACT_SPACING", spacing)
        out = remap(img, GREENS, "oklab", "auto")
        _brute_force_check(img, GREENS, "oklab", out)  # the bound holds either way
        changed[spacing] = np.count_nonzero(out != plain)
    assert changed[dithering.ACT_SPACING] > 1.2 * changed[0.0]


def test_a_fine_palette_keeps_the_fixed_tolerance(monkeypatch):
    # every entry within ACT_SPACING of its next: the same bytes as with none
    palette = np.array([[v, v, v] for v in range(100, 140, 2)], np.uint8)
    coords = dithering.palette_tables(palette, 3, "oklab").coords
    gaps = np.sqrt(((coords[1:] - coords[:-1]) ** 2).sum(axis=1))
    assert gaps.max() < dithering.ACT_SPACING
    img = np.clip(gradient() // 2 + 60, 0, 255).astype(np.uint8)
    first = remap(img, palette, "oklab", "auto")
    monkeypatch.setattr(dithering, "ACT_SPACING", 0.0)
    assert np.array_equal(first, remap(img, palette, "oklab", "auto"))


def _nearest_entries(img, palette, space, mode, cache=True) -> np.ndarray:
    """What the kernels take as each pixel's nearest entry: at strength 0 a
    pixel carries no error (and ordered moves it nowhere), so it keeps it."""
    table = dithering.palette_tables(palette, img.shape[2], space)
    code = {"oklab": native.SPACE_OKLAB, "rgb": native.SPACE_RGB}[space]
    params = dithering._params(space)
    params[5] = 1.0 if cache else 0.0
    tindex = transparent_index(palette)
    if mode == "auto":
        return native.dither_auto(img, table, code, LINEAR_LUT, tindex, 0.0, params,
                                  dithering.BAND_ROWS, dithering.WARMUP_ROWS, 1000)
    return native.dither_ordered(img, table, code, LINEAR_LUT, tindex, 0.0, params, 1000)


def _brute_force_nearest(img, palette, space):
    """Per pixel: the squared distance to every entry (numpy, (n, k))."""
    channels = img.shape[2]
    coords = dithering.palette_tables(palette, channels, space).coords
    pixels = to_working(img.reshape(-1, channels).astype(np.float64), space)
    return ((pixels[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2)


@pytest.mark.parametrize("mode", ["auto", "ordered"])
@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_the_pass_finds_exactly_the_nearest_entry(small_photo, space, mode):
    """The dithering finds every pixel's nearest entry itself (no plain remap
    first): it is the brute-force nearest, from any thread split and with or
    without the colour cache (where a colour's entry was found from another
    pixel's starting point)."""
    rng = np.random.default_rng(11)
    tall = np.ascontiguousarray(np.vstack([small_photo] * 5))  # several bands
    for k in (2, 16, 256):
        palette = rng.integers(0, 256, (k, 3)).astype(np.uint8)
        dist = _brute_force_nearest(tall, palette, space)
        got = _nearest_entries(tall, palette, space, mode).reshape(-1)
        assert np.array_equal(got, _nearest_entries(tall, palette, space, mode, cache=False)
                              .reshape(-1))
        best = dist.min(axis=1)
        assert np.all(dist[np.arange(len(got)), got] <= best + 1e-9 * (1 + best))
        # where no other entry is within rounding of the nearest, it is that one
        clear = np.sort(dist, axis=1)[:, 1] > best + 1e-6 if k > 1 else np.ones(len(best), bool)
        assert np.array_equal(got[clear], dist.argmin(axis=1)[clear])


@pytest.mark.parametrize("mode", ["auto", "ordered"])
def test_ties_go_to_the_lowest_index(mode):
    """Entries at exactly the same distance: the lowest index wins (as numpy's
    argmin), whichever the pass met first. In sRGB units the distances are
    exact integers, so ties are exact; a duplicated entry ties in any space."""
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, (40, 3)).astype(np.uint8)
    palette[[7, 30]] = palette[[29, 2]]  # duplicates: 7 and 29, 2 and 30
    # pixels half-way between pairs of entries (when that is a whole colour),
    # next to them (within the close-enough distance: no error carried) and on them
    pairs = rng.integers(0, 40, (400, 2))
    mids = palette[pairs].astype(int).sum(axis=1)
    halfway = (mids[(mids % 2 == 0).all(axis=1)] // 2).astype(np.uint8)
    near = np.clip(palette.astype(int) + rng.integers(-1, 2, (40, 3)), 0, 255).astype(np.uint8)
    img = np.vstack([halfway, near, palette])[None].repeat(3, axis=0)
    img = np.ascontiguousarray(img)
    for space in ("rgb", "oklab"):
        dist = _brute_force_nearest(img, palette, space)
        got = _nearest_entries(img, palette, space, mode).reshape(-1)
        if space == "rgb":
            assert np.array_equal(got, dist.argmin(axis=1))
            ties = (dist == dist.min(axis=1, keepdims=True)).sum(axis=1) > 1
            assert ties.sum() > 20  # the test does test ties
        on_copies = (img.reshape(-1, 1, 3) == palette[[2, 7]][None]).all(axis=2).any(axis=1)
        assert on_copies.any() and set(got[on_copies].tolist()) == {2, 7}
        assert not np.isin(got, [29, 30]).any()
    # and through the public remap, where the pixels on or next to an entry
    # carry no error: the same entries
    out = remap(img, palette, "rgb", mode).reshape(-1)
    dist = _brute_force_nearest(img, palette, "rgb")
    close = dithering._params("rgb")[0]
    keep = dist.min(axis=1) <= close ** 2
    assert keep.sum() > 40
    assert np.array_equal(out[keep], dist.argmin(axis=1)[keep])


def test_transparent_pixels_take_the_transparent_entry():
    img = np.zeros((6, 8, 4), np.uint8)
    img[..., :3] = 200
    img[..., 3] = 255
    img[2:4, 2:6] = (10, 20, 30, 0)
    img[4, 2:6] = (0, 0, 0, 0)
    palette = np.array([[200, 200, 200, 255], [0, 0, 0, 255], [0, 0, 0, 0]], np.uint8)
    for mode in ("auto", "ordered"):
        out = remap(img, palette, "oklab", mode)
        assert np.all(out[img[..., 3] == 0] == 2) and np.all(out[img[..., 3] > 0] == 0)
        # with no transparent entry they take the nearest to what they are
        no_clear = np.ascontiguousarray(palette[:2])
        out = remap(img, no_clear, "oklab", mode)
        assert np.array_equal(out, remap(img, no_clear, "oklab", "none"))
