"""The Qt-free engine: loading, K-Means, remapping and PNG writing."""

from .errors import ImageError
from .histogram import ColorHistogram, build_histogram
from .kmeans import INITS, MAX_K, KMeansState, kmeans_steps
from .loading import MAX_PIXELS, READABLE_PATTERNS, LoadedImage, image_from_array, load_image
from .colorspace import SPACES
from .pipeline import QuantizeResult, QuantizeSettings, finish, quantize, steps
from .remap import index_counts, remap
from .writing import bit_depth, encode_png, save_png, write_atomic

__all__ = [
    "ColorHistogram", "ImageError", "INITS", "KMeansState", "LoadedImage", "MAX_K",
    "MAX_PIXELS", "QuantizeResult", "QuantizeSettings", "READABLE_PATTERNS", "SPACES",
    "bit_depth", "build_histogram", "encode_png", "finish", "image_from_array", "index_counts",
    "kmeans_steps", "load_image", "quantize", "remap", "save_png", "steps", "write_atomic",
]
