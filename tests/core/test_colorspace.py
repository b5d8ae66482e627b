"""sRGB -> OKLab (the compiled conversion of bytes against the numpy formula)
and the working space built on it."""

import numpy as np

from kmeans_gui.core import QuantizeSettings, quantize
from kmeans_gui.core.quantizer.colorspace import (
    OKLAB_SCALE,
    from_working,
    rgb_to_oklab,
    to_working,
)
from kmeans_gui.core.quantizer.remapping import remap


def test_bytes_convert_as_the_float_formula_does():
    """uint8 input takes the compiled path, floats the numpy formula: every
    channel value and a spread of colours agree to rounding."""
    levels = np.arange(256, dtype=np.uint8)
    ramps = np.stack([levels, levels[::-1], np.roll(levels, 85)], axis=1)
    spread = np.random.default_rng(3).integers(0, 256, (50_000, 3), dtype=np.uint8)
    for rgb in (ramps, spread):
        got = rgb_to_oklab(rgb)
        assert got.dtype == np.float64 and got.shape == rgb.shape
        np.testing.assert_allclose(got, rgb_to_oklab(rgb.astype(np.float64)), rtol=0,
                                   atol=1e-12)


def test_an_image_keeps_its_shape_and_known_colours_land_where_oklab_puts_them():
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = (255, 255, 255)
    image[0, 1] = (255, 0, 0)
    lab = rgb_to_oklab(image)
    assert lab.shape == (2, 3, 3)
    np.testing.assert_allclose(lab[0, 0], (1.0, 0.0, 0.0), atol=1e-6)
    np.testing.assert_allclose(lab[0, 1], (0.62796, 0.22486, 0.12585), atol=1e-4)
    np.testing.assert_allclose(lab[1], 0.0, atol=1e-12)  # black
    strided = np.ascontiguousarray(np.dstack([image, image[..., :1]]))[..., :3]
    np.testing.assert_array_equal(rgb_to_oklab(strided), lab)  # a view of RGBA pixels


def test_the_working_space_is_oklab_levelled_off_near_black():
    """Above the darkest tones a working-space step is OKLab's own step; near
    black it is far shorter (OKLab's plain cube root makes grey 6 twelve units
    from black, more than four clearly visible mid-tone steps)."""
    greys = np.repeat(np.array([0, 6, 120, 130, 250, 255], np.float64)[:, None], 3, axis=1)
    work = to_working(greys, "oklab")
    plain = rgb_to_oklab(greys) * OKLAB_SCALE
    assert np.all(work[0] == 0.0) and np.allclose(work[:, 1:], 0.0, atol=1e-5)
    steps, plain_steps = np.diff(work[:, 0]), np.diff(plain[:, 0])
    assert steps[0] < 0.2 * plain_steps[0]  # black -> 6
    np.testing.assert_allclose(steps[[2, 4]], plain_steps[[2, 4]], rtol=0.03)  # 120->130, 250->255


def test_working_coordinates_round_trip_and_match_the_kernels():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (20_000, 3)).astype(np.float64)
    rgb[:256] = np.arange(256)[:, None]  # every grey, the darkest included
    work = to_working(rgb, "oklab")
    np.testing.assert_array_equal(from_working(work, "oklab"), rgb.astype(np.uint8))
    # The compiled remap converts pixels as this converts the palette: every
    # grey (a tenth of a unit apart near black) finds itself, and so does
    # every colour of a random palette.
    for colours in (rgb[:256], rgb[256:512]):
        entries = colours.astype(np.uint8)
        for mode in ("none", "auto"):
            assert np.array_equal(remap(entries[None], entries, "oklab", mode)[0],
                                  np.arange(256))


def test_near_black_shades_do_not_take_the_mid_tones_entries():
    """Half the pixels are greys 0-10, hard to tell apart on a screen, half a
    mid-tone ramp 100-160. Plain OKLab puts the two ranges about equally far
    apart inside (17 units each) and K-Means split the palette between them;
    the working space gives the ramp most of it."""
    dark = np.repeat(np.arange(11), 60)
    mid = np.repeat(np.arange(100, 161), 11)
    grey = np.concatenate([dark, mid]).astype(np.uint8)
    image = np.ascontiguousarray(np.repeat(grey[:, None], 3, axis=1).reshape(11, -1, 3))
    for seed in range(4):  # plain OKLab: 3-4 entries for the dark greys
        palette = quantize(image, QuantizeSettings(k=8, dither="none", seed=seed)).palette
        assert np.count_nonzero(palette[:, 0] >= 100) >= 6
