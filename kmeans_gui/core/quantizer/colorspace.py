"""sRGB <-> working-space conversions for the two clustering spaces.

Working coordinates are what K-Means measures distances in:

* ``rgb``: the sRGB values 0..255 themselves (the classic algorithm).
* ``oklab``: Björn Ottosson's OKLab, scaled by 100 so that one unit is a
  just-noticeable difference (ΔE×100) and the numbers are of the same order
  as in ``rgb``, with one change near black: the cube root is taken of each
  LMS value plus a small offset (``WORK_ROOT_OFFSET``, the one JPEG XL's XYB
  adds), less the offset's own root. OKLab's plain root rises so steeply near
  black that shades a screen barely shows count as farther apart than clear
  steps in the mid-tones, and K-Means spent palette entries on them. Above the
  darkest tones the slope is OKLab's, so its units still hold there; white
  sits at L = 84.5 instead of 100. ``rgb_to_oklab`` (the quality figure, the
  palette's lightness order) is plain OKLab.

With an alpha channel, colours are premultiplied by alpha (a half-transparent
red differs less from a half-transparent orange than two opaque ones do) and
alpha itself becomes a fourth coordinate on the scale of the colour axes.
"""

from __future__ import annotations

import numpy as np

from ...limits import SPACES
from .._native import kernels as _kernels

OKLAB_SCALE = 100.0

# Linear sRGB -> LMS and cube-rooted LMS -> OKLab.
_M1 = np.array([
    [0.4122214708, 0.5363325363, 0.0514459929],
    [0.2119034982, 0.6806995451, 0.1073969566],
    [0.0883024619, 0.2817188376, 0.6299787005],
])
_M2 = np.array([
    [0.2104542553, 0.7936177850, -0.0040720468],
    [1.9779984951, -2.4285922050, 0.4505937099],
    [0.0259040371, 0.7827717662, -0.8086757660],
])
_M2_INV = np.linalg.inv(_M2)
_M1_INV = np.linalg.inv(_M1)
#: The offset added to LMS before the working space's cube root, and its root
#: (as in the compiled kernels' native.h, which the two must match).
WORK_ROOT_OFFSET = 0.0037930732552754493
_OFFSET_ROOT = float(np.cbrt(WORK_ROOT_OFFSET))


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB in 0..255 (any float shape) to linear light in 0..1."""
    if isinstance(values, np.ndarray) and values.dtype == np.uint8 and _LINEAR is not None:
        return _LINEAR[values]  # the same numbers, looked up instead of raised to 2.4
    c = np.asarray(values, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear light in 0..1 to sRGB in 0..255 (float, unclipped)."""
    c = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


_LINEAR = None
#: sRGB byte -> linear light, used by the compiled kernels.
LINEAR_LUT = srgb_to_linear(np.arange(256))
_LINEAR = LINEAR_LUT


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB 0..255 to unscaled OKLab (L in 0..1)."""
    if type(rgb) is np.ndarray and rgb.dtype == np.uint8 and rgb.ndim >= 1 \
            and rgb.shape[-1] == 3:
        # Bytes (pixels, whole images for the quality figure): the compiled
        # conversion the remap uses, several times faster than numpy's.
        flat = _kernels.oklab_pixels(rgb.reshape(-1, 3), LINEAR_LUT)
        flat /= OKLAB_SCALE  # in place: the kernel's array is fresh
        return flat.reshape(rgb.shape)
    lms = srgb_to_linear(rgb) @ _M1.T
    return np.cbrt(lms) @ _M2.T


def to_working(colors: np.ndarray, space: str) -> np.ndarray:
    """(n, 3|4) straight sRGB(A) 0..255 floats to working coordinates (n, 3|4)."""
    colors = np.asarray(colors, dtype=np.float64)
    rgb = colors[:, :3]
    if space == "rgb":
        coords = rgb.copy()
        alpha_scale = 255.0
    elif space == "oklab":
        lms = srgb_to_linear(rgb) @ _M1.T
        roots = np.cbrt(np.maximum(lms, 0.0) + WORK_ROOT_OFFSET) - _OFFSET_ROOT
        coords = (roots @ _M2.T) * OKLAB_SCALE
        alpha_scale = OKLAB_SCALE
    else:
        raise ValueError(f"unknown colour space {space!r}; use one of {SPACES}")
    if colors.shape[1] == 3:
        return coords
    alpha = colors[:, 3:4] / 255.0
    return np.hstack([coords * alpha, alpha * alpha_scale])


def from_working(coords: np.ndarray, space: str) -> np.ndarray:
    """Working coordinates back to straight sRGB(A) uint8 (rounded, clipped)."""
    coords = np.asarray(coords, dtype=np.float64)
    has_alpha = coords.shape[1] == 4
    colour = coords[:, :3]
    if has_alpha:
        alpha_scale = 255.0 if space == "rgb" else OKLAB_SCALE
        alpha = np.clip(coords[:, 3:4] / alpha_scale, 0.0, 1.0)
        colour = colour / np.maximum(alpha, 1e-9)
    if space == "rgb":
        rgb = colour
    elif space == "oklab":
        roots = (colour / OKLAB_SCALE) @ _M2_INV.T + _OFFSET_ROOT
        rgb = linear_to_srgb((roots ** 3 - WORK_ROOT_OFFSET) @ _M1_INV.T)
    else:
        raise ValueError(f"unknown colour space {space!r}; use one of {SPACES}")
    out = np.clip(np.rint(rgb), 0, 255)
    if has_alpha:
        out = np.hstack([out, np.clip(np.rint(alpha * 255.0), 1, 255)])
    return out.astype(np.uint8)
