"""The whole quantization: histogram -> K-Means -> palette order -> remap."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .colorspace import rgb_to_oklab
from .histogram import ColorHistogram, build_histogram
from .kmeans import KMeansState, check_settings, kmeans_steps
from .loading import LoadedImage
from .remapping import index_counts, remap

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class QuantizeSettings:
    k: int = 16
    space: str = "oklab"  # "oklab" (perceptual) or "rgb"
    init: str = "kmeans++"  # "kmeans++" or "random"
    max_iter: int = 100
    tol: float = 1e-4
    seed: int | None = 0
    dither: float = 0.0  # Floyd-Steinberg strength, 0 = off

    def validated(self) -> QuantizeSettings:
        check_settings(self.k, self.space, self.init, self.max_iter, self.tol)
        if not 0.0 <= self.dither <= 1.0:
            from .errors import ImageError
            raise ImageError("the dithering strength must be between 0 and 1")
        return self

    def replace(self, **changes) -> QuantizeSettings:
        return replace(self, **changes)


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

    def to_pil(self) -> Image.Image:
        """The result as a Pillow mode-P image (palette and tRNS in ``info``)."""
        from PIL import Image  # only the GUI and tests need it: the CLI skips the import
        image = Image.fromarray(self.indices, "P")
        image.putpalette(self.palette[:, :3].tobytes(), rawmode="RGB")
        transparency = self.transparency()
        if transparency is not None:
            image.info["transparency"] = transparency
        return image

    def transparency(self) -> bytes | None:
        """The palette's alphas for a tRNS chunk, or ``None`` if all are opaque.

        tRNS may stop after the last translucent entry; the rest are opaque.
        """
        if self.palette.shape[1] == 4 and (self.palette[:, 3] < 255).any():
            last = int(np.flatnonzero(self.palette[:, 3] < 255)[-1])
            return self.palette[: last + 1, 3].tobytes()
        return None

    def to_rgb(self) -> np.ndarray:
        """Decoded result pixels (h, w, 3|4) uint8."""
        return self.palette[self.indices]


def palette_order(palette: np.ndarray) -> np.ndarray:
    """A permutation putting translucent entries first, then dark to light.

    tRNS only needs entries up to the last translucent one, and neighbouring
    indices with similar colours compress better.
    """
    lightness = rgb_to_oklab(palette[:, :3].astype(np.float64))[:, 0]
    alpha = palette[:, 3] if palette.shape[1] == 4 else np.full(len(palette), 255)
    return np.lexsort((lightness, alpha == 255, alpha != 0))


def finish(pixels: np.ndarray, state: KMeansState, settings: QuantizeSettings,
           started: float | None = None) -> QuantizeResult:
    """Full-resolution result from a K-Means state."""
    order = palette_order(state.palette)
    palette = np.ascontiguousarray(state.palette[order])
    indices = remap(pixels, palette, settings.space, settings.dither)
    seconds = time.perf_counter() - started if started is not None else 0.0
    return QuantizeResult(indices, palette, state.iteration, state.inertia, state.mse,
                          state.reason, seconds)


def steps(image: LoadedImage | np.ndarray, settings: QuantizeSettings,
          histogram: ColorHistogram | None = None) -> Iterator[KMeansState]:
    """K-Means states for ``image``; pass a cached ``histogram`` to skip rebuilding it."""
    settings.validated()
    pixels = image.pixels if isinstance(image, LoadedImage) else image
    hist = histogram if histogram is not None else build_histogram(pixels)
    return kmeans_steps(hist, settings.k, space=settings.space, init=settings.init,
                        max_iter=settings.max_iter, tol=settings.tol, seed=settings.seed)


def quantize(image: LoadedImage | np.ndarray, settings: QuantizeSettings = QuantizeSettings(),
             histogram: ColorHistogram | None = None) -> QuantizeResult:
    """Run K-Means to the end and remap every pixel."""
    started = time.perf_counter()
    pixels = image.pixels if isinstance(image, LoadedImage) else image
    state = None
    for state in steps(pixels, settings, histogram):
        pass
    return finish(pixels, state, settings, started)
