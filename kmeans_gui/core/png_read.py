"""The second half of the fast PNG reader: unfiltering the inflated rows in C.

``kmeans_gui.core.png_inflate`` (no numpy, so it can start before
numpy is imported) reads the chunks and inflates; this module turns the
inflated scanlines into pixels while they arrive, so on two cores the
unfiltering overlaps the inflating. ``loading.load_image`` calls
:func:`read_png` first and falls back to Pillow whenever it answers ``None``.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, PngImagePlugin

from .png_inflate import Inflation, NotHandled, PngHeader, start_inflate
from ._native import I64, PTR, declare

_unfilter = declare("png_unfilter", I64, PTR, PTR, I64, I64, I64, PTR)


def read_png(path: str | os.PathLike, max_pixels: int,
             prefetched: Inflation | None = None) -> tuple[np.ndarray, PngHeader] | None:
    """Pixels (h, w, 3|4) and header of ``path``, or ``None`` to use Pillow.

    ``prefetched`` is an inflation started earlier for the same file (see
    ``png_inflate``); one for another path, or already used, is ignored.
    """
    if prefetched is None or not prefetched.is_for(path):
        try:
            prefetched = start_inflate(path, max_pixels)
        except RuntimeError:  # no thread to be had: Pillow reads it
            return None
    header = prefetched.header()
    if header is None or not _within_pillow_limits(header, max_pixels):
        prefetched.cancel()
        return None
    try:
        pixels = unfilter(header, prefetched.pieces())
    except NotHandled:
        return None
    except MemoryError:  # the Pillow path reports it
        prefetched.cancel()
        return None
    if pixels is None:
        prefetched.cancel()
        return None
    return pixels, header


def _within_pillow_limits(header: PngHeader, max_pixels: int) -> bool:
    """Whether Pillow would open this without a warning or error of its own."""
    pixels = header.width * header.height
    bomb = Image.MAX_IMAGE_PIXELS
    if pixels > max_pixels or (bomb is not None and pixels > bomb):
        return False
    icc = header.icc_profile
    return icc is None or len(icc) < PngImagePlugin.MAX_TEXT_CHUNK


def unfilter(header: PngHeader, pieces) -> np.ndarray | None:
    """Unfilter the inflated rows arriving in ``pieces`` (any split).

    Returns ``None`` for an invalid filter type or a wrong amount of data.
    """
    width, height, channels, stride = header.width, header.height, header.channels, header.stride
    pixels = np.empty((height, width, channels), np.uint8)
    row_bytes = width * channels
    base = pixels.ctypes.data
    row = 0

    def rows(data: bytes, offset: int, count: int) -> bool:
        nonlocal row
        if row + count > height:
            return False
        source = np.frombuffer(data, np.uint8).ctypes.data + offset
        above = base + (row - 1) * row_bytes if row else None
        row += count
        return _unfilter(source, base + (row - count) * row_bytes, width, count, channels,
                         above) == 0

    carry = b""  # the start of a row split across two pieces
    for piece in pieces:
        start = 0
        if carry:
            start = min(stride - len(carry), len(piece))
            carry += piece[:start]
            if len(carry) < stride:
                continue
            if not rows(carry, 0, 1):
                return None
            carry = b""
        count = (len(piece) - start) // stride
        if count and not rows(piece, start, count):
            return None
        carry = piece[start + count * stride:]
    return pixels if row == height and not carry else None
