"""The app icon: every size present and sound, and Qt draws the SVG as designed."""

from __future__ import annotations

import numpy as np
import pytest
from packaging_tooling import PACKAGING, ROOT
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from kmeans_gui.appinfo import APP_ID, asset

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
WINDOW_ICON = f"icons/{APP_ID}.svg"  # what the GUI loads via asset()


def png(size: int):
    return asset(f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png")


def rgba(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize("size", SIZES)
def test_png_size_is_square_with_transparent_corners_and_an_opaque_middle(size):
    pixels = rgba(png(size))
    assert pixels.shape == (size, size, 4)
    assert pixels[0, 0, 3] == 0 and pixels[-1, -1, 3] == 0  # rounded tile
    middle = pixels[size // 4: 3 * size // 4, size // 4: 3 * size // 4]
    assert middle[..., 3].min() == 255
    # Many distinct colours: it is artwork, not a flat placeholder.
    assert len(np.unique(middle[..., :3].reshape(-1, 3), axis=0)) >= 5


def test_runtime_svg_is_the_committed_source_artwork():
    source = ROOT / "resources" / "icons" / f"{APP_ID}.svg"
    assert asset(WINDOW_ICON).read_bytes() == source.read_bytes()
    scalable = asset(f"icons/hicolor/scalable/apps/{APP_ID}.svg")
    assert scalable.read_bytes() == source.read_bytes()


def test_qt_renders_the_window_icon_svg_like_the_committed_png(qapp):
    """Qt's SVG Tiny renderer ignores some SVG features (clip paths, for one):
    the window icon must look like the PNGs rendered by rsvg-convert."""
    renderer = QSvgRenderer(str(asset(WINDOW_ICON)))
    assert renderer.isValid()
    image = QImage(128, 128, QImage.Format.Format_RGBA8888)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    drawn = np.frombuffer(image.constBits(), np.uint8).reshape(128, image.bytesPerLine() // 4, 4)
    drawn = drawn[:, :128].astype(int)
    expected = rgba(png(128)).astype(int)
    assert np.abs(drawn[..., 3] - expected[..., 3]).mean() < 4
    opaque = expected[..., 3] == 255
    assert np.abs(drawn[opaque, :3] - expected[opaque, :3]).mean() < 6


def test_window_icon_loads_as_a_qicon(qapp):
    icon = QIcon(str(asset(WINDOW_ICON)))
    assert not icon.isNull()
    pixmap = icon.pixmap(32, 32)
    assert not pixmap.isNull() and pixmap.width() == 32


def test_windows_and_macos_icon_files_carry_the_usual_sizes():
    with Image.open(PACKAGING / "icons" / f"{APP_ID}.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(PACKAGING / "icons" / f"{APP_ID}.icns") as icns:
        assert (512, 512, 1) in icns.info["sizes"] or (512, 512, 2) in icns.info["sizes"]
