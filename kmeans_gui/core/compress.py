"""Where the quantizer meets the PNG codec: results become PNG bytes.

``finish`` and ``quantize`` are the quantizer's (no trial encodes choose the
palette order: the writer's unfiltered rows deflate to the same size in any
order, and its Up filter does best with the quantizer's dark-to-light order);
``encode_png`` hands a result's indices and palette to the writer.
"""

from __future__ import annotations

import numpy as np

from ..limits import DEFAULT_EFFORT
from .png import writer
from .quantizer import pipeline
from .quantizer.histogram import ColorHistogram
from .quantizer.kmeans import KMeansState
from .quantizer.pipeline import HasPixels, QuantizeResult, QuantizeSettings


def finish(pixels: np.ndarray, state: KMeansState, settings: QuantizeSettings,
           started: float | None = None, colours: int | None = None) -> QuantizeResult:
    """Full-resolution result from a K-Means state (``colours``: see
    ``pipeline.finish``)."""
    return pipeline.finish(pixels, state, settings, started, colours=colours)


def quantize(image: HasPixels | np.ndarray, settings: QuantizeSettings = QuantizeSettings(),
             histogram: ColorHistogram | None = None) -> QuantizeResult:
    """Run K-Means to the end and remap every pixel."""
    return pipeline.quantize(image, settings, histogram)


def encode_png(result: QuantizeResult, *, icc_profile: bytes | None = None,
               dpi: tuple[float, float] | None = None, effort: str = DEFAULT_EFFORT) -> bytes:
    """The PNG file's bytes for ``result``."""
    return writer.encode_indexed(result.indices, result.palette, icc_profile=icc_profile,
                                 dpi=dpi, effort=effort)
