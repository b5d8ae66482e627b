"""The second half of the fast PNG reader: unfiltering the inflated rows in C.

``kmeans_gui.core.png.reader`` (no numpy, so it can start before
numpy is imported) reads the chunks and inflates; this module turns the
inflated scanlines into pixels while they arrive, so on two cores the
unfiltering overlaps the inflating. ``loading.load_image`` calls
:func:`read_png` first and falls back to Pillow whenever it answers ``None``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .._native.unfilter import unfilter_into
from .reader import Inflation, NotHandled, PngHeader, start_inflate


def read_png(path: str | os.PathLike, max_pixels: int,
             prefetched: Inflation | None = None) -> tuple[np.ndarray, PngHeader] | None:
    """Pixels (h, w, 3|4) and header of ``path``, or ``None`` to use Pillow.

    ``prefetched`` is an inflation started earlier for the same file (see
    ``png.reader``); one for another path, or already used, is ignored.
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
        if prefetched.unfilters:  # the reading thread did it all
            data = prefetched.pixels()
            pixels = None if data is None else np.frombuffer(data, np.uint8).reshape(
                header.height, header.width, header.channels)
        else:
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


#: Pillow's own defaults for ``Image.MAX_IMAGE_PIXELS`` and
#: ``PngImagePlugin.MAX_TEXT_CHUNK`` (a test keeps them in step): the fast
#: path does not import Pillow, and a module not yet imported has not had its
#: limits changed.
PILLOW_MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)
PILLOW_MAX_TEXT_CHUNK = 1024 * 1024


def _within_pillow_limits(header: PngHeader, max_pixels: int) -> bool:
    """Whether Pillow would open this without a warning or error of its own."""
    image, png = sys.modules.get("PIL.Image"), sys.modules.get("PIL.PngImagePlugin")
    bomb = image.MAX_IMAGE_PIXELS if image is not None else PILLOW_MAX_IMAGE_PIXELS
    text = png.MAX_TEXT_CHUNK if png is not None else PILLOW_MAX_TEXT_CHUNK
    pixels = header.width * header.height
    if pixels > max_pixels or (bomb is not None and pixels > bomb):
        return False
    icc = header.icc_profile
    return icc is None or len(icc) < text


def unfilter(header: PngHeader, pieces) -> np.ndarray | None:
    """Unfilter the inflated rows arriving in ``pieces`` (any split).

    Returns ``None`` for an invalid filter type or a wrong amount of data.
    """
    pixels = np.empty((header.height, header.width, header.channels), np.uint8)
    done = unfilter_into(header.width, header.height, header.channels, pieces, pixels)
    return pixels if done else None
