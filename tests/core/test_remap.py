import numpy as np
import pytest

from kmeans_gui.core import QuantizeSettings, quantize, remap
from kmeans_gui.core.quantizer import remapping as remap_module

from .reference import nearest


def random_palette(rng, k, channels=3):
    pal = rng.integers(0, 256, (k, channels), dtype=np.uint8)
    if channels == 4:
        pal[:, 3] = rng.integers(1, 256, k)
        pal[0] = 0  # the transparent entry
    return pal


@pytest.mark.parametrize("space", ["rgb", "oklab"])
@pytest.mark.parametrize("k", [2, 17, 256])
def test_remap_is_exact_nearest_entry(small_photo, space, k):
    pal = random_palette(np.random.default_rng(k), k)
    got = remap(small_photo, pal, space)
    want = nearest(small_photo, pal, space)
    # Ties may resolve either way; the distance must be the minimum either way.
    mismatch = got != want
    if mismatch.any():
        from kmeans_gui.core.quantizer.colorspace import to_working
        px = to_working(small_photo[mismatch].astype(float), space)
        cp = to_working(pal.astype(float), space)
        d_got = ((px - cp[got[mismatch]]) ** 2).sum(1)
        d_want = ((px - cp[want[mismatch]]) ** 2).sum(1)
        assert np.allclose(d_got, d_want)


def test_large_image_path_matches_small_image_path(photo, monkeypatch):
    pal = random_palette(np.random.default_rng(3), 64)
    hashed = remap(photo, pal, "oklab")
    monkeypatch.setattr(remap_module, "DIRECT_CACHE_PIXELS", 1)
    direct = remap(photo, pal, "oklab")
    assert np.array_equal(hashed, direct)


@pytest.mark.parametrize("cap_bits", [1, 4, 20])
def test_packed_rgb_cache_gives_the_general_cache_answer(cap_bits):
    """Black (whose packed slot would read as empty), runs of equal pixels,
    and a cache too small to hold every colour (the rest are computed)."""
    from kmeans_gui.core._native import kernels
    from kmeans_gui.core.quantizer.colorspace import LINEAR_LUT
    rng = np.random.default_rng(5)
    pix = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    pix[::7] = 0
    pix[100:200] = pix[99]
    pix[300:320] = 0
    pal = random_palette(rng, 40)
    pal[3] = 0  # a black entry, so black pixels map to index 3 exactly
    args = remap_module._search_palette(pal, 3, "oklab")
    general = kernels.remap(pix, *args, kernels.SPACE_OKLAB, LINEAR_LUT, -1, 20)
    packed = kernels.remap_rgb_packed(pix, *args, kernels.SPACE_OKLAB, LINEAR_LUT, cap_bits)
    assert np.array_equal(packed, general)
    assert (packed[pix.sum(axis=1) == 0] == 3).all()


def test_rgba_remap_is_exact_and_transparent_pixels_get_the_transparent_entry(rgba_image):
    pal = random_palette(np.random.default_rng(5), 12, channels=4)
    got = remap(rgba_image, pal, "rgb")
    transparent = rgba_image[..., 3] == 0
    assert (got[transparent] == 0).all()
    want = nearest(rgba_image, pal, "rgb")
    assert np.array_equal(got[~transparent], want[~transparent])


def test_dithering_preserves_local_average_colour():
    ramp = np.tile(np.linspace(0, 255, 256).astype(np.uint8), (64, 1))
    img = np.repeat(ramp[:, :, None], 3, axis=2)
    pal = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    plain = pal[remap(img, pal, "rgb")][..., 0].astype(float)
    dithered = pal[remap(img, pal, "rgb", dither="fs")][..., 0].astype(float)
    # Column means along the ramp: dithering follows it, plain remap is a step.
    err_plain = np.abs(plain.mean(0) - ramp.mean(0)).mean()
    err_dither = np.abs(dithered.mean(0) - ramp.mean(0)).mean()
    assert err_dither < 12 < err_plain
    half = pal[remap(img, pal, "rgb", dither="fs", strength=0.5)][..., 0].astype(float)
    err_half = np.abs(half.mean(0) - ramp.mean(0)).mean()
    assert err_dither < err_half < err_plain


def test_dither_strength_bounds():
    img = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError):
        remap(img, np.zeros((2, 3), np.uint8), dither="fs", strength=1.5)


def test_quantize_result_round_trip(photo):
    result = quantize(photo, QuantizeSettings(k=32, seed=1, dither="none"))
    assert result.indices.shape == photo.shape[:2] and result.indices.dtype == np.uint8
    assert result.indices.max() < 32 and result.n_colors == 32
    # Without dithering every pixel carries the palette entry that keeps runs.
    assert np.array_equal(result.indices, remap(photo, result.palette, "oklab", keep_runs=True))
    rgb = result.to_rgb()
    assert rgb.shape == photo.shape


def test_srgb_bytes_are_linearised_exactly_as_floats():
    from kmeans_gui.core.quantizer.colorspace import srgb_to_linear
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(srgb_to_linear(values), srgb_to_linear(values.astype(np.float64)))
    assert srgb_to_linear(values).dtype == np.float64
