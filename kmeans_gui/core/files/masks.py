"""Importance masks: grayscale images, white = important, read and written as PNG."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...limits import IMPORTANCE_GAIN, MAX_PIXELS
from ..errors import ImageError
from .reading import read_input
from .save import write_atomic


def load_mask(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """The mask at ``path`` as (h, w) uint8, resized to ``size`` (width, height) if given.

    Colour images are converted to gray; transparent pixels count as black."""
    path = Path(path)
    return mask_from_data(read_input(path, "a mask image"), size, path.name)


def mask_from_data(data: bytes, size: tuple[int, int] | None = None,
                   name: str = "mask") -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ImageError(f"{name}: the mask is too large")
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                rgba = im.convert("RGBA")
                black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                im = Image.alpha_composite(black, rgba)
            gray = im.convert("L")
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: not a readable image ({exc})") from None
    if size is not None and gray.size != tuple(size):
        gray = gray.resize(tuple(size), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(gray, dtype=np.uint8))


def save_mask(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Write ``mask`` ((h, w) uint8) as a grayscale PNG, atomically."""
    mask = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    if mask.ndim != 2:
        raise ImageError("a mask is a 2-D grayscale image")
    out = io.BytesIO()
    Image.fromarray(mask, "L").save(out, "PNG", optimize=False)
    write_atomic(path, out.getvalue())


def mask_weights(mask: np.ndarray) -> np.ndarray:
    """Per-pixel K-Means weights from a (h, w) uint8 mask: 1 for black,
    ``IMPORTANCE_GAIN`` for white."""
    mask = np.asarray(mask)
    return 1.0 + (IMPORTANCE_GAIN - 1) * (mask.astype(np.float64) / 255.0)
