"""Mapping every pixel to its palette index, optionally with error diffusion."""

from __future__ import annotations

import numpy as np

from ... import limits
from .._native import kernels as _kernels
from . import dithering
from .colorspace import LINEAR_LUT, to_working

#: From this many pixels on, a direct 2**24 cache beats hashing colours.
DIRECT_CACHE_PIXELS = 1 << 21
#: Largest colour cache of the hashed remap, per thread (6 bytes a slot; it
#: fills to half): 2**24 slots took 96 MB per core for a noisy RGBA image.
MAX_CACHE_BITS = 22
#: With the colour count unknown (not given, or more colours than an exact
#: histogram counts), the hashed cache is sized for at most this many colours.
#: Sized for every pixel of a 1-2 MP photo instead (2**21-2**22 slots, 15-30
#: MB a thread), it outgrew the processor's caches, and a lookup from memory
#: cost about as much as finding the colour's entry again
#: (benchmarks/remap_cache.py).
UNKNOWN_COLOURS = 1 << 18

#: The undithered result keeps a neighbour's entry instead of the nearest
#: when it is at most this much farther: max(RUN_RELATIVE * the pixel's own
#: error, RUN_ABSOLUTE) in working-space units (OKLab x100: a difference of 1
#: is hard to see). Fewer index changes along the rows deflate smaller
#: (benchmarks/remap_runs.py measures bytes and quality).
RUN_RELATIVE = 0.1
RUN_ABSOLUTE = 0.15

_SPACE_CODES = {"rgb": _kernels.SPACE_RGB, "oklab": _kernels.SPACE_OKLAB}


def _search_palette(palette: np.ndarray, channels: int, space: str):
    """Working coordinates of ``palette`` sorted along its principal axis."""
    pal = palette.astype(np.float64)
    if channels == 4 and pal.shape[1] == 3:
        pal = np.hstack([pal, np.full((len(pal), 1), 255.0)])
    coords = to_working(pal, space)
    centred = coords - coords.mean(axis=0)
    if len(coords) > 1 and np.any(centred):
        axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    else:
        axis = np.eye(coords.shape[1])[0]
    proj = coords @ axis
    order = np.argsort(proj, kind="stable")
    return (np.ascontiguousarray(coords[order]), np.ascontiguousarray(proj[order]),
            np.ascontiguousarray(axis), order.astype(np.int64))


def transparent_index(palette: np.ndarray) -> int:
    """Index of the fully transparent entry, or -1."""
    if palette.shape[1] == 4:
        hits = np.flatnonzero(palette[:, 3] == 0)
        if len(hits):
            return int(hits[0])
    return -1


def remap(pixels: np.ndarray, palette: np.ndarray, space: str = "oklab",
          dither: str = "none", strength: float = 1.0, keep_runs: bool = False,
          colours: int | None = None) -> np.ndarray:
    """Palette index of every pixel of ``pixels`` ((h, w, 3|4) uint8).

    With ``dither`` "none" each pixel gets its exact nearest palette entry in
    the working space (computed once per distinct colour, then looked up);
    "fs" is serpentine Floyd-Steinberg error diffusion at ``strength`` (0..1);
    "auto" and "ordered" are described in ``dithering``. Strength 0 is the
    plain remap. Returns (h, w) uint8.

    ``keep_runs`` (for a result to be encoded, without dithering): a pixel
    takes its left, else its upper neighbour's entry when that is its nearest
    or its second nearest within the slack (RUN_RELATIVE, RUN_ABSOLUTE) of
    the nearest; an exact match keeps its entry, so an image with no more
    colours than the palette is mapped exactly.

    ``colours``: how many distinct colours ``pixels`` has at most, when known
    (an exact histogram's groups). The colour cache is then sized for them
    instead of for every pixel: a smaller table stays in the processor's
    caches. A wrong figure only makes the remap slower, never different.
    """
    _check(pixels, palette)
    h, w, channels = pixels.shape
    if dither not in limits.DITHERS:
        raise ValueError(f"unknown dithering {dither!r}; use one of {', '.join(limits.DITHERS)}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("dither strength must be between 0 and 1")
    pixels = np.ascontiguousarray(pixels)
    tindex = transparent_index(palette)
    if dither in ("auto", "ordered") and strength > 0.0:  # they find the nearest entries too
        return dithering.dither(pixels, palette, dither, space, strength, tindex)
    coords, proj, axis, order = _search_palette(palette, channels, space)
    code = _SPACE_CODES[space]
    if dither == "fs" and strength > 0.0:
        pal_rgb = palette[:, :3].astype(np.float64)
        return _kernels.dither(pixels, pal_rgb, coords, proj, axis, order, code,
                               LINEAR_LUT, tindex, float(strength))
    flat = pixels.reshape(-1, channels)
    cap_bits = cache_bits(flat.shape[0], colours)
    if keep_runs:
        direct = channels == 3 and flat.shape[0] >= DIRECT_CACHE_PIXELS
        return _kernels.remap_runs(pixels, coords, proj, axis, order, code, LINEAR_LUT, tindex,
                                   RUN_RELATIVE, RUN_ABSOLUTE, direct, cap_bits)
    if channels == 3 and flat.shape[0] >= DIRECT_CACHE_PIXELS:
        out = _kernels.remap_rgb(flat, coords, proj, axis, order, code, LINEAR_LUT)
        return out.reshape(h, w)
    if channels == 3:  # one 32-bit slot per cached colour: a memory access a lookup
        out = _kernels.remap_rgb_packed(flat, coords, proj, axis, order, code, LINEAR_LUT,
                                        cap_bits)
    else:
        out = _kernels.remap(flat, coords, proj, axis, order, code, LINEAR_LUT, tindex, cap_bits)
    return out.reshape(h, w)


def cache_bits(pixels: int, colours: int | None) -> int:
    """The hashed colour cache's size, 2**bits slots a thread, for ``pixels``
    pixels with at most ``colours`` distinct colours (None: unknown)."""
    distinct = min(pixels, UNKNOWN_COLOURS) if colours is None else \
        max(1, min(int(colours), pixels))
    return int(min(MAX_CACHE_BITS, max(12, np.ceil(np.log2(distinct)) + 1)))


def _check(pixels: np.ndarray, palette: np.ndarray) -> None:
    """ValueError unless ``pixels`` is (h, w, 3|4) uint8 and ``palette`` holds
    1 to 256 sRGB(A) entries with no more channels than the pixels."""
    if (not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3
            or pixels.shape[2] not in (3, 4)):
        raise ValueError("pixels must be an (h, w, 3 or 4) uint8 array")
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] not in (3, 4):
        raise ValueError(f"the palette must be an (n, 3 or 4) array, not shape {palette.shape}")
    if not 1 <= len(palette) <= 256:
        raise ValueError(f"the palette must have 1 to 256 entries, not {len(palette)}")
    if palette.shape[1] > pixels.shape[2]:
        raise ValueError("an RGBA palette cannot remap RGB pixels; drop its alpha column")
    if palette.dtype != np.uint8:
        if not np.issubdtype(palette.dtype, np.number) or not (
                np.isfinite(palette).all() and (palette >= 0).all() and (palette <= 255).all()):
            raise ValueError("palette values must be numbers in 0..255")


def index_counts(indices: np.ndarray) -> np.ndarray:
    """How many pixels use each palette index: (256,) int64."""
    return _kernels.count_bytes(indices)
