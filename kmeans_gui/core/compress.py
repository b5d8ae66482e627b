"""Where the quantizer meets the PNG codec: results become PNG bytes.

``finish`` and ``quantize`` are the quantizer's, with the writer's trial
encode choosing the palette order of small 1-4 bit images; ``encode_png``
hands a result's indices and palette to the writer.
"""

from __future__ import annotations

import numpy as np

from ..limits import DEFAULT_EFFORT
from .png import writer
from .quantizer import pipeline
from .quantizer.histogram import ColorHistogram
from .quantizer.kmeans import KMeansState
from .quantizer.ordering import candidate_orders
from .quantizer.pipeline import HasPixels, QuantizeResult, QuantizeSettings


def smallest_file_order(indices: np.ndarray, palette: np.ndarray) -> np.ndarray | None:
    """The palette permutation whose PNG deflates smallest, or ``None`` when
    the image is too large or too deep for the trial encodes to pay."""
    if not writer.order_matters(indices, palette):
        return None
    return writer.smallest_order(indices, palette, candidate_orders(indices, palette))


def finish(pixels: np.ndarray, state: KMeansState, settings: QuantizeSettings,
           started: float | None = None) -> QuantizeResult:
    """Full-resolution result from a K-Means state, its palette ordered for the file."""
    return pipeline.finish(pixels, state, settings, started, smallest_file_order)


def quantize(image: HasPixels | np.ndarray, settings: QuantizeSettings = QuantizeSettings(),
             histogram: ColorHistogram | None = None) -> QuantizeResult:
    """Run K-Means to the end and remap every pixel (palette ordered for the file)."""
    return pipeline.quantize(image, settings, histogram, smallest_file_order)


def encode_png(result: QuantizeResult, *, icc_profile: bytes | None = None,
               dpi: tuple[float, float] | None = None, effort: str = DEFAULT_EFFORT) -> bytes:
    """The PNG file's bytes for ``result``."""
    return writer.encode_indexed(result.indices, result.palette, icc_profile=icc_profile,
                                 dpi=dpi, effort=effort)
