import numpy as np
import pytest

from kmeans_gui.appinfo import SAMPLE_IMAGE, asset
from kmeans_gui.core import load_image


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """The bundled sample photo (451x300 RGB, about 32 000 distinct colours)."""
    return load_image(asset(SAMPLE_IMAGE)).pixels


@pytest.fixture(scope="session")
def small_photo(photo) -> np.ndarray:
    """A 90x60 crop: small enough for brute-force references."""
    return np.ascontiguousarray(photo[100:160, 200:290])


@pytest.fixture
def rgba_image() -> np.ndarray:
    """A gradient with a fully transparent border and a half-transparent band."""
    h, w = 48, 64
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 4), np.uint8)
    img[..., 0] = x * 4
    img[..., 1] = y * 5
    img[..., 2] = 200
    img[..., 3] = 255
    img[20:28, :, 3] = 128
    img[:4, :, 3] = 0
    img[:, :4, 3] = 0
    return img
