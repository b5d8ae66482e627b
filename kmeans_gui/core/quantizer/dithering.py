"""Dithering modes beyond the plain nearest-colour remap.

* ``fs``: textbook serpentine Floyd-Steinberg at the chosen strength, for
  comparison (``_native.kernels.dither``).
* ``auto``: selective, error-bounded error diffusion. It starts from the exact
  nearest entry of every pixel (found in the same pass, ties to the lowest
  index) and diffuses error only where that helps: a
  pixel whose nearest entry is already close keeps it and carries no error
  (so an image the palette holds exactly is unchanged); the error a pixel
  takes is weighted down at edges and in texture or noise, where dithering
  only adds grain and bytes (less so the coarser the palette around the
  pixel's colour, since a coarse palette flattens texture); no pixel takes
  an entry much farther than its nearest (no specks), and the error carried
  is clamped. The error lives in the remap's working space. The rows are
  split in fixed bands that start a few rows early, so any number of threads
  gives the same result.
* ``ordered``: an 8x8 Bayer threshold map moving each pixel towards its next
  entry, with the same close-enough rule and bound: flat regions stay flat,
  and the pattern compresses better than diffused noise.
"""

from __future__ import annotations

import numpy as np

from .._native import dithering as _native
from .colorspace import LINEAR_LUT, to_working

#: Bands of rows that error diffusion runs in, and how many rows before its
#: band each starts with no error (and discards) so the bands do not show.
#: Four rows let the error pattern settle (tests/core/test_dithering.py looks
#: at the rows across a boundary), so a band re-dithers 1/32 of its rows;
#: 128-row bands still give each of two threads four or more from 1080 rows up.
#: Measured with benchmarks/dither_vs_pngquant.py and its --speed run.
BAND_ROWS = 128
WARMUP_ROWS = 4
#: Pixels below which the work stays on one thread.
SPLIT_PIXELS = 1 << 18

#: The share of the error that auto diffuses at full strength: like
#: libimagequant's 15/16, a little less than all of it keeps the grain and the
#: file size down (measured with benchmarks/dither_vs_pngquant.py).
AUTO_DIFFUSION = 0.8

#: Tuning values in OKLab x100 units (the close-enough distance, the bound's
#: absolute and relative-to-spacing allowance, the error clamp, the activity
#: at which the weight halves); sRGB units are SRGB_PER_OKLAB times larger.
PARAMS_OKLAB = (0.5, 4.0, 2.0, 12.0, 4.0)
#: Texture finer than the palette's steps vanishes in the plain remap, so
#: dithering it helps: beyond this spacing (OKLab x100) of a pixel's nearest
#: entry to its next, the activity at which the weight halves grows with the
#: square of that spacing (so small palettes dither textured photos, large
#: ones still leave texture alone); 0 keeps it fixed. Measured with
#: benchmarks/dither_vs_pngquant.py on its k = 16 cases.
ACT_SPACING = 2.0
SRGB_PER_OKLAB = 2.55

_SPACE_CODES = {"rgb": _native.SPACE_RGB, "oklab": _native.SPACE_OKLAB}


def _params(space: str) -> np.ndarray:
    # then: coordinate cache on, activity reference spacing
    p = np.array(PARAMS_OKLAB + (1.0, ACT_SPACING), dtype=np.float64)
    if space == "rgb":  # distances scale, squared ones and ratios (p[2]) do not
        p[[0, 1, 3]] *= SRGB_PER_OKLAB
        p[4] *= SRGB_PER_OKLAB ** 2
        p[6] *= SRGB_PER_OKLAB
    return p


def allowances(palette: np.ndarray, channels: int, space: str) -> np.ndarray:
    """How much farther than its nearest entry (in working units) a pixel's
    dithered entry may be, per nearest entry: the larger of a fixed allowance
    and a multiple of that entry's distance to its nearest other entry."""
    coords = palette_tables(palette, channels, space).coords
    p = _params(space)
    gaps = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    spacing = gaps.min(axis=1) if len(coords) > 1 else np.zeros(1)
    return np.maximum(p[1], p[2] * spacing)


def palette_tables(palette: np.ndarray, channels: int, space: str) -> _native.PaletteTables:
    pal = palette.astype(np.float64)
    if channels == 4 and pal.shape[1] == 3:
        pal = np.hstack([pal, np.full((len(pal), 1), 255.0)])
    elif channels == 3:
        pal = pal[:, :3]
    return _native.PaletteTables(to_working(pal, space))


def dither(pixels: np.ndarray, palette: np.ndarray, mode: str, space: str = "oklab",
           strength: float = 1.0, transparent: int = -1) -> np.ndarray:
    """Palette indices of ``pixels`` dithered with ``mode`` ("auto" or
    "ordered"); fully transparent pixels start from entry ``transparent``
    (-1: their nearest)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    table = palette_tables(palette, pixels.shape[2], space)
    code = _SPACE_CODES[space]
    params = _params(space)
    if mode == "auto":
        return _native.dither_auto(pixels, table, code, LINEAR_LUT, transparent,
                                   AUTO_DIFFUSION * strength, params, BAND_ROWS, WARMUP_ROWS,
                                   SPLIT_PIXELS)
    if mode == "ordered":
        return _native.dither_ordered(pixels, table, code, LINEAR_LUT, transparent, strength,
                                      params, SPLIT_PIXELS)
    raise ValueError(f"unknown dithering mode {mode!r}")
