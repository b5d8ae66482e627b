"""The Qt-free engine: loading, K-Means, remapping and PNG writing.

Names are imported from their modules on first use, so a caller that needs
only a stdlib-level module (the command line reading a PNG while numpy is
still loading) does not pay for the rest.
"""

from __future__ import annotations

import sys as _sys

# Neither ``typing`` nor ``importlib``: with ``re`` beneath them they are a
# good part of what the command line imports before its reading thread starts.
TYPE_CHECKING = False

_SOURCES = {
    "errors": ["ImageError", "OutputExists"],
    "quantizer.histogram": ["ColorHistogram", "build_histogram"],
    "kmeans_gui.limits": ["EFFORTS", "INITS", "MAX_K", "MAX_PIXELS", "MAX_PIXELS_CEILING",
                          "MIN_K", "READABLE_PATTERNS", "SPACES"],
    "quantizer.kmeans": ["RACE_MAX_K", "KMeansState", "kmeans_steps"],
    # The colour-space view's maths (sample, projection, splatting, cluster figures).
    "quantizer.cloud": ["AXES", "PRESETS", "SAMPLE_POINTS", "ColourSample", "cluster_figures",
                        "fit_scale", "pack_rgb", "palette_permutation", "project",
                        "sample_histogram", "size_classes", "splat_paint", "splat_plan",
                        "view_matrix", "working_colours", "world_coords"],
    "files.load": ["LoadedImage", "load_image", "load_image_data", "read_stream"],
    "quantizer.pipeline": ["QuantizeResult", "QuantizeSettings", "distinct_colours", "steps"],
    "compress": ["encode_png", "finish", "quantize"],
    "png.writer": ["bit_depth"],
    "files.rules": ["output_name", "same_file"],
    "quantizer.remapping": ["index_counts", "remap"],
    "quantizer.metrics": ["oklab_delta_e", "palette_distance_sum"],
    "quantizer.colorspace": ["rgb_to_oklab"],
    "files.save": ["save_png", "write_atomic"],
    "files.masks": ["load_mask", "mask_weights", "save_mask"],
    "files.palettes": ["PALETTE_FORMATS", "hex_color", "palette_bytes", "palette_format",
                       "parse_color", "parse_colors", "read_palette", "write_palette"],
    "kscan": ["K_STEPS", "KCost", "KPoint", "SearchResult", "Target", "delta_e_of", "scan",
              "search"],
    "quality_scale": ["QUALITY_TABLE", "quality_to_delta_e"],
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not module.startswith("kmeans_gui."):
        module = f"{__name__}.{module}"
    __import__(module)
    value = getattr(_sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static tools see the names; at run time __getattr__ loads them
    from ..limits import (  # noqa: F401
        EFFORTS,
        INITS,
        MAX_K,
        MAX_PIXELS,
        MAX_PIXELS_CEILING,
        MIN_K,
        READABLE_PATTERNS,
        SPACES,
    )
    from .compress import encode_png, finish, quantize  # noqa: F401
    from .errors import ImageError, OutputExists  # noqa: F401
    from .files.load import LoadedImage, load_image, load_image_data, read_stream  # noqa: F401
    from .files.masks import load_mask, mask_weights, save_mask  # noqa: F401
    from .files.palettes import (  # noqa: F401
        PALETTE_FORMATS,
        hex_color,
        palette_bytes,
        palette_format,
        parse_color,
        parse_colors,
        read_palette,
        write_palette,
    )
    from .files.rules import output_name, same_file  # noqa: F401
    from .files.save import save_png, write_atomic  # noqa: F401
    from .kscan import (  # noqa: F401
        K_STEPS,
        KCost,
        KPoint,
        SearchResult,
        Target,
        delta_e_of,
        scan,
        search,
    )
    from .png.writer import bit_depth  # noqa: F401
    from .quality_scale import QUALITY_TABLE, quality_to_delta_e  # noqa: F401
    from .quantizer.cloud import (  # noqa: F401
        AXES,
        PRESETS,
        SAMPLE_POINTS,
        ColourSample,
        cluster_figures,
        fit_scale,
        pack_rgb,
        palette_permutation,
        project,
        sample_histogram,
        size_classes,
        splat_paint,
        splat_plan,
        view_matrix,
        working_colours,
        world_coords,
    )
    from .quantizer.colorspace import rgb_to_oklab  # noqa: F401
    from .quantizer.histogram import ColorHistogram, build_histogram  # noqa: F401
    from .quantizer.kmeans import RACE_MAX_K, KMeansState, kmeans_steps  # noqa: F401
    from .quantizer.metrics import oklab_delta_e, palette_distance_sum  # noqa: F401
    from .quantizer.pipeline import (  # noqa: F401
        QuantizeResult,
        QuantizeSettings,
        distinct_colours,
        steps,
    )
    from .quantizer.remapping import index_counts, remap  # noqa: F401
