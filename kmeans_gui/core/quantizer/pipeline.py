"""The whole quantization: histogram -> K-Means -> palette order -> remap.

The settings and result types, and ``steps``/``finish``/``quantize``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ... import limits
from ..errors import ImageError
from .histogram import ColorHistogram, build_histogram
from .kmeans import KMeansState, check_fixed, check_settings, kmeans_steps
from .ordering import ordered_palette, permuted
from .remapping import index_counts, remap

#: ``(indices, palette) -> permutation or None``: a palette order to apply.
OrderChoice = Callable[[np.ndarray, np.ndarray], "np.ndarray | None"]


class HasPixels(Protocol):
    """Anything with decoded ``pixels`` (h, w, 3|4) uint8, e.g. ``LoadedImage``."""

    pixels: np.ndarray


@dataclass(frozen=True)
class QuantizeSettings:
    k: int = limits.DEFAULT_K
    space: str = limits.DEFAULT_SPACE  # "oklab" (perceptual) or "rgb"
    init: str = limits.DEFAULT_INIT  # "kmeans++" or "random"
    max_iter: int = limits.DEFAULT_MAX_ITER
    tol: float = limits.DEFAULT_TOL
    seed: int | None = limits.DEFAULT_SEED
    dither: str = limits.DEFAULT_DITHER  # one of limits.DITHERS (see dithering.py)
    dither_strength: float = limits.DEFAULT_DITHER_STRENGTH  # 0..1; 0 is "none"
    #: sRGB colours every palette contains exactly (they count toward k)
    keep: tuple[tuple[int, int, int], ...] = ()
    #: map to exactly these colours, in this order (no K-Means; k and keep unused)
    palette: tuple[tuple[int, int, int], ...] | None = None

    def validated(self) -> QuantizeSettings:
        check_settings(self.k, self.space, self.init, self.max_iter, self.tol)
        if self.dither not in limits.DITHERS:
            raise ImageError(f"unknown dithering {self.dither!r}; use one of "
                             f"{', '.join(limits.DITHERS)}")
        if not 0.0 <= self.dither_strength <= 1.0:
            raise ImageError("the dithering strength must be between 0 and 1")
        if self.palette is not None:
            fixed_palette(self.palette)
        elif self.keep:
            check_fixed(self.keep, self.k)
        return self


def fixed_palette(colors) -> np.ndarray:
    """``colors`` as a (n, 3) uint8 palette of 1-256 entries, or ``ImageError``."""
    pal = np.asarray(colors)
    if pal.ndim != 2 or pal.shape[1] != 3 or not 1 <= len(pal) <= limits.MAX_K \
            or not np.issubdtype(pal.dtype, np.integer) or pal.min() < 0 or pal.max() > 255:
        raise ImageError(f"a palette needs 1-{limits.MAX_K} RGB colours (whole numbers 0-255)")
    return pal.astype(np.uint8)


def palette_state(hist: ColorHistogram | None, colors,
                  pixels: np.ndarray | None = None) -> KMeansState:
    """The one "state" of a run mapped to a given palette: its colours in
    their order (a transparent entry appended when the image needs one and
    the palette has room), each histogram group labelled with its nearest.
    Without a histogram (none is needed to remap), ``pixels`` tell whether
    a transparent entry is needed, and there are no labels."""
    pal = fixed_palette(colors)
    if hist is None:
        transparent = pixels is not None and pixels.shape[2] == 4 and \
            bool((pixels[..., 3] == 0).any())
        if transparent and len(pal) < limits.MAX_K:
            pal = np.vstack([np.column_stack([pal, np.full(len(pal), 255, np.uint8)]),
                             np.zeros((1, 4), np.uint8)])
        return KMeansState(0, 0.0, 0.0, pal, 0.0, True, "fixed palette", np.zeros(0, np.int64))
    if hist.n_transparent and len(pal) < limits.MAX_K:
        pal = np.vstack([np.column_stack([pal, np.full(len(pal), 255, np.uint8)]),
                         np.zeros((1, 4), np.uint8)])
    if len(hist):
        probe = np.rint(hist.colors).astype(np.uint8)[None, :, :]
        if probe.shape[2] == 4 and pal.shape[1] == 3:
            probe = probe[:, :, :3]
        labels = remap(np.ascontiguousarray(probe), pal, "oklab")[0].astype(np.int64)
    else:
        labels = np.zeros(0, np.int64)
    return KMeansState(0, 0.0, 0.0, pal, 0.0, True, "fixed palette", labels)


@dataclass(frozen=True)
class QuantizeResult:
    indices: np.ndarray  # (h, w) uint8 palette index per pixel
    palette: np.ndarray  # (k', 3|4) uint8 sRGB(A)
    iterations: int
    inertia: float
    mse: float
    reason: str
    seconds: float

    @property
    def n_colors(self) -> int:
        return len(self.palette)

    def colors_used(self) -> int:
        return int(np.count_nonzero(index_counts(self.indices)))

    def to_rgb(self) -> np.ndarray:
        """Decoded result pixels (h, w, 3|4) uint8."""
        return self.palette[self.indices]


def finish(pixels: np.ndarray, state: KMeansState, settings: QuantizeSettings,
           started: float | None = None, choose_order: OrderChoice | None = None,
           colours: int | None = None) -> QuantizeResult:
    """Full-resolution result from a K-Means state.

    The palette runs translucent first, then dark to light (``palette_order``);
    ``choose_order(indices, palette)`` may then answer a better permutation
    (the PNG writer's trial encode, passed in by ``kmeans_gui.core.compress``).
    A given palette (``settings.palette``) keeps its order. ``colours``: the
    image's distinct colours when known (see ``distinct_colours``), which
    sizes the remap's colour cache.
    """
    if settings.palette is not None:
        palette = np.ascontiguousarray(state.palette)
        choose_order = None
    else:
        palette = ordered_palette(state.palette)
    indices = remap(pixels, palette, settings.space, settings.dither, settings.dither_strength,
                    keep_runs=True, colours=colours)
    if choose_order is not None:
        perm = choose_order(indices, palette)
        if perm is not None:
            indices, palette = permuted(indices, palette, perm)
    seconds = time.perf_counter() - started if started is not None else 0.0
    return QuantizeResult(indices, palette, state.iteration, state.inertia, state.mse,
                          state.reason, seconds)


def distinct_colours(hist: ColorHistogram | None) -> int | None:
    """How many distinct colours the image of ``hist`` has at most, when it
    knows (an exact histogram: its groups, and transparent pixels), else None."""
    if hist is None or not hist.exact:
        return None
    return len(hist) + (1 if hist.n_transparent else 0)


def _pixels(image: HasPixels | np.ndarray) -> np.ndarray:
    return image if isinstance(image, np.ndarray) else image.pixels


def steps(image: HasPixels | np.ndarray, settings: QuantizeSettings,
          histogram: ColorHistogram | None = None,
          restarts: int | None = None) -> Iterator[KMeansState]:
    """K-Means states for ``image`` (pixels, or a ``LoadedImage``); pass a
    cached ``histogram`` to skip rebuilding it (one built with importance
    weights makes K-Means minimise the weighted error). ``restarts=1`` starts
    from one seeding, not the best of several (step mode shows the seeds as picked)."""
    settings.validated()
    pixels = _pixels(image)
    if settings.palette is not None:  # no K-Means, so no histogram needed
        return iter([palette_state(histogram, settings.palette, pixels)])
    hist = histogram if histogram is not None else build_histogram(pixels)
    return kmeans_steps(hist, settings.k, space=settings.space, init=settings.init,
                        max_iter=settings.max_iter, tol=settings.tol, seed=settings.seed,
                        fixed=kept_colours(settings), restarts=restarts)


def kept_colours(settings: QuantizeSettings) -> np.ndarray | None:
    """``settings.keep`` as ``kmeans_steps``' fixed colours ((m, 3)), or None."""
    return np.array(settings.keep, dtype=np.int64).reshape(-1, 3) if settings.keep else None


def quantize(image: HasPixels | np.ndarray, settings: QuantizeSettings = QuantizeSettings(),
             histogram: ColorHistogram | None = None,
             choose_order: OrderChoice | None = None) -> QuantizeResult:
    """Run K-Means to the end and remap every pixel."""
    started = time.perf_counter()
    pixels = _pixels(image)
    if histogram is None and settings.validated().palette is None:
        histogram = build_histogram(pixels)
    state = None
    for state in steps(pixels, settings, histogram):  # noqa: B007 (keep the last)
        pass
    return finish(pixels, state, settings, started, choose_order,
                  colours=distinct_colours(histogram))
