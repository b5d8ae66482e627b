"""The Qt-free engine: loading, K-Means, remapping and PNG writing.

Names are imported from their modules on first use, so a caller that needs
only a stdlib-level module (the command line reading a PNG while numpy is
still loading) does not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_SOURCES = {
    "errors": ["ImageError"],
    "histogram": ["ColorHistogram", "build_histogram"],
    "kmeans": ["INITS", "MAX_K", "KMeansState", "kmeans_steps"],
    "loading": ["MAX_PIXELS", "READABLE_PATTERNS", "LoadedImage", "image_from_array",
                "load_image"],
    "colorspace": ["SPACES"],
    "dithering": ["DITHER_MODES"],
    "pipeline": ["QuantizeResult", "QuantizeSettings", "finish", "quantize", "steps"],
    "remapping": ["index_counts", "remap"],
    "writing": ["bit_depth", "encode_png", "save_png", "write_atomic"],
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static tools see the names; at run time __getattr__ loads them
    from .colorspace import SPACES  # noqa: F401
    from .dithering import DITHER_MODES  # noqa: F401
    from .errors import ImageError  # noqa: F401
    from .histogram import ColorHistogram, build_histogram  # noqa: F401
    from .kmeans import INITS, MAX_K, KMeansState, kmeans_steps  # noqa: F401
    from .loading import (MAX_PIXELS, READABLE_PATTERNS, LoadedImage,  # noqa: F401
                          image_from_array, load_image)
    from .pipeline import (QuantizeResult, QuantizeSettings, finish,  # noqa: F401
                           quantize, steps)
    from .remapping import index_counts, remap  # noqa: F401
    from .writing import bit_depth, encode_png, save_png, write_atomic  # noqa: F401
