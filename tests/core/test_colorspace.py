"""sRGB -> OKLab: the compiled conversion of bytes against the numpy formula."""

import numpy as np

from kmeans_gui.core.quantizer.colorspace import rgb_to_oklab


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
