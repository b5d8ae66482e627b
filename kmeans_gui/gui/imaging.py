"""Array helpers for the GUI that need no Qt: preview sizes, downscaling,
palette shares and palette export."""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
from PIL import Image

from ..core import index_counts, rgb_to_oklab

#: ΔE (OKLab ×100) drawn white in the difference view; larger errors clip.
DIFF_FULL_SCALE = 20.0

#: Display copies first shrink by an integer factor (a box filter) as long as
#: this many times the final size remains, then finish with Lanczos.
REDUCING_GAP = 2.0

#: Previews are never computed smaller than this (longest side, device pixels).
MIN_PREVIEW_SIDE = 64


def fit_size(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """Size of a ``width`` x ``height`` image fitted into the box, never enlarged."""
    if width <= 0 or height <= 0:
        return (0, 0)
    scale = min(box_width / width, box_height / height, 1.0)
    longest = max(width, height)
    scale = max(scale, min(1.0, MIN_PREVIEW_SIDE / longest))
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def downscale(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` resized to ``size`` (w, h) with a good filter; the same array if no change.

    Pillow's ``resize`` with ``reducing_gap``: an integer box reduction first
    (fast), then Lanczos; indistinguishable from a pure Lanczos at this size.
    The reduction is made a band of rows at a time (``_reduced_in_bands``):
    the same pixels, without Pillow's four-byte copy of the whole image."""
    height, width = pixels.shape[:2]
    if (width, height) == tuple(size):
        return pixels
    mode = "RGBA" if pixels.shape[2] == 4 else "RGB"

    def band(top: int, rows: int) -> Image.Image:
        part = np.ascontiguousarray(pixels[top:top + rows])
        return Image.frombuffer(mode, (width, part.shape[0]), part, "raw", mode, 0, 1)

    return _run_to_end(_resized(band, width, height, size, mode == "RGBA"))


def needs_new_preview(current: tuple[int, int] | None, wanted: tuple[int, int]) -> bool:
    """Whether a cached preview of size ``current`` is too coarse or far too fine."""
    if current is None:
        return True
    ratio = wanted[0] / max(current[0], 1)
    return ratio > 1.1 or ratio < 0.5


def palette_shares(indices: np.ndarray, n_colors: int) -> np.ndarray:
    """Fraction of pixels using each palette entry."""
    counts = index_counts(indices)
    total = max(int(indices.size), 1)
    return counts[:n_colors] / total


def gpl_text(palette: np.ndarray, name: str) -> str:
    """A GIMP palette (.gpl) listing ``palette``'s colours."""
    columns = min(16, max(1, len(palette)))
    lines = ["GIMP Palette", f"Name: {name}", f"Columns: {columns}", "#"]
    for entry in palette:
        r, g, b = (int(v) for v in entry[:3])
        label = f"#{r:02x}{g:02x}{b:02x}"
        if len(entry) == 4 and entry[3] < 255:
            label += f" alpha {int(entry[3])}"
        lines.append(f"{r:3d} {g:3d} {b:3d}\t{label}")
    return "\n".join(lines) + "\n"


def zoom_steps(current: float, direction: int, factor: float = 1.25) -> float:
    """Next zoom in ``direction`` (+1 in, -1 out), snapping to 100 % when passing it."""
    new = current * (factor ** direction)
    if (current - 1.0) * (new - 1.0) < 0 and not math.isclose(current, 1.0):
        return 1.0
    return min(64.0, max(0.01, new))


def result_pixels(indices: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """The decoded result: what the saved file shows."""
    return np.ascontiguousarray(palette[indices])


def _result_image(indices: np.ndarray, palette: np.ndarray) -> Image.Image:
    """The result as a Pillow RGB(A) image, expanded from its palette in C."""
    h, w = indices.shape
    mode = "RGBA" if palette.shape[1] == 4 else "RGB"
    table = np.zeros((256, palette.shape[1]), np.uint8)
    table[: len(palette)] = palette
    im = Image.frombuffer("P", (w, h), np.ascontiguousarray(indices), "raw", "P", 0, 1)
    im.putpalette(table.tobytes(), mode)
    return im.convert(mode)


#: Rows expanded to a Pillow image at a time when an image is reduced for
#: display (rounded to whole reduction blocks).
SHOWN_BAND_ROWS = 256


def _reduced_in_bands(band_image, height: int, factor: tuple[int, int], alpha: bool
                      ) -> Generator[None, None, Image.Image]:
    """What Pillow's ``reduce(factor)`` gives for an image of ``height`` rows
    (in "RGBa" when it has alpha, as ``resize`` reduces it), made a band of
    rows at a time (``None`` after each) from ``band_image(top, rows)``, a
    Pillow image of those rows: a band that starts on a block boundary
    reduces to exactly the rows the whole image gives there, and the whole
    image never exists in Pillow's memory."""
    fy = factor[1]
    rows = max(1, SHOWN_BAND_ROWS // fy) * fy
    out: Image.Image | None = None
    for top in range(0, height, rows):
        band = band_image(top, rows)
        if alpha:
            band = band.convert("RGBa")
        small = band.reduce(factor)
        if out is None:
            out = Image.new(small.mode, (small.width, -(-height // fy)))
        out.paste(small, (0, top // fy))
        yield None
    return out


def _resized(band_image, width: int, height: int, size: tuple[int, int], alpha: bool
             ) -> Generator[None, None, np.ndarray]:
    """The image ``band_image`` makes (see ``_reduced_in_bands``) resized to
    ``size`` as Pillow's ``resize(size, LANCZOS, reducing_gap=REDUCING_GAP)``
    does, a band of rows at a time: ``None`` after each, the array as the
    generator's return value."""
    size = tuple(size)
    # Pillow's resize with reducing_gap: an integer box reduction first...
    factor = (int(width / size[0] / REDUCING_GAP) or 1,
              int(height / size[1] / REDUCING_GAP) or 1)
    if factor == (1, 1):
        small = band_image(0, height).resize(size, Image.Resampling.LANCZOS,
                                             reducing_gap=REDUCING_GAP)
        return np.ascontiguousarray(np.asarray(small))
    reduced = yield from _reduced_in_bands(band_image, height, factor, alpha)
    # ...then Lanczos over the reduced image, on the box the full image maps to.
    box = (0, 0, width / factor[0], height / factor[1])
    small = reduced.resize(size, Image.Resampling.LANCZOS, box)
    if alpha:
        small = small.convert("RGBA")
    return np.ascontiguousarray(np.asarray(small))


def _run_to_end(steps: Generator[None, None, np.ndarray]) -> np.ndarray:
    """A generator's return value, once it has run to its end."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def shown_steps(indices: np.ndarray, palette: np.ndarray, size: tuple[int, int]
                ) -> Generator[None, None, np.ndarray]:
    """``shown_like_original`` a band of rows at a time: ``None`` after each
    (a job's stop points), the array as the generator's return value."""
    h, w = indices.shape
    if (w, h) == tuple(size):
        return result_pixels(indices, palette)

    def band(top: int, rows: int) -> Image.Image:
        return _result_image(indices[top:top + rows], palette)

    return (yield from _resized(band, w, h, size, palette.shape[1] == 4))


def shown_like_original(indices: np.ndarray, palette: np.ndarray,
                        size: tuple[int, int]) -> np.ndarray:
    """The full-resolution result downscaled to ``size`` with the same filter
    as the original's preview: the file as it looks at that zoom.

    The same pixels as expanding the whole result and resizing it with
    ``downscale``'s filter (Lanczos after an integer reduction, Pillow's
    ``reducing_gap``), with the reduction done band by band."""
    return _run_to_end(shown_steps(indices, palette, size))


def sampled_indices(indices: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``indices`` (h, w) sampled at the centres of a ``size`` (w, h) grid:
    the full-resolution result's own entries at display size."""
    h, w = indices.shape
    if (w, h) == tuple(size):
        return indices
    rows = (np.arange(size[1]) * 2 + 1) * h // (2 * size[1])
    cols = (np.arange(size[0]) * 2 + 1) * w // (2 * size[0])
    return np.ascontiguousarray(indices[rows[:, None], cols[None, :]])


def delta_e_map(original: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Per-pixel OKLab distance ×100 between two same-size images (alpha ignored)."""
    a = rgb_to_oklab(np.ascontiguousarray(original[..., :3]).reshape(-1, 3))
    b = rgb_to_oklab(np.ascontiguousarray(result[..., :3]).reshape(-1, 3))
    diff = a - b
    return (100.0 * np.sqrt(np.einsum("ij,ij->i", diff, diff))).reshape(original.shape[:2])


def heat_map(delta: np.ndarray, full_scale: float = DIFF_FULL_SCALE) -> np.ndarray:
    """ΔE values as colours: black (no error) through red and yellow to white."""
    t = np.clip(delta / full_scale, 0.0, 1.0)
    r = np.clip(t * 3.0, 0.0, 1.0)
    g = np.clip(t * 3.0 - 1.0, 0.0, 1.0)
    b = np.clip(t * 3.0 - 2.0, 0.0, 1.0)
    return np.ascontiguousarray((np.stack([r, g, b], axis=-1) * 255 + 0.5).astype(np.uint8))
