"""numpy arrays to QImages without surprises: C-contiguous uint8, explicit
bytes-per-line, and the array kept alive as long as the image needs it."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, qRgba


class ArrayImage:
    """A QImage viewing a numpy array; holds the array so the buffer stays valid."""

    __slots__ = ("array", "image")

    def __init__(self, array: np.ndarray, image: QImage) -> None:
        self.array = array
        self.image = image

    @property
    def width(self) -> int:
        return self.image.width()

    @property
    def height(self) -> int:
        return self.image.height()


def rgb_image(pixels: np.ndarray) -> ArrayImage:
    """(h, w, 3|4) uint8 straight RGB(A) as an RGB888 / RGBA8888 image."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width, channels = pixels.shape
    fmt = QImage.Format.Format_RGB888 if channels == 3 else QImage.Format.Format_RGBA8888
    image = QImage(pixels.data, width, height, pixels.strides[0], fmt)
    return ArrayImage(pixels, image)


def color_table(palette: np.ndarray) -> list[int]:
    if palette.shape[1] == 4:
        return [qRgba(int(r), int(g), int(b), int(a)) for r, g, b, a in palette]
    return [qRgba(int(r), int(g), int(b), 255) for r, g, b in palette]


def indexed_image(indices: np.ndarray, palette: np.ndarray) -> ArrayImage:
    """(h, w) uint8 palette indices as a Format_Indexed8 image with ``palette`` as colour table."""
    indices = np.ascontiguousarray(indices, dtype=np.uint8)
    height, width = indices.shape
    image = QImage(indices.data, width, height, indices.strides[0], QImage.Format.Format_Indexed8)
    table = color_table(palette)
    # Indices never exceed the palette, but pad so a stray value cannot read past the table.
    table += [qRgba(0, 0, 0, 0)] * (256 - len(table))
    image.setColorTable(table)
    return ArrayImage(indices, image)
