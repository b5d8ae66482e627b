"""Limits, choices and defaults shared by the core, the command line and the GUI.

Standard library only, so the command line can build its ``--help`` and the
GUI its widgets without importing numpy or the core.
"""

from __future__ import annotations

#: Palette sizes. A PNG palette holds at most 256 entries; the GUI's slider
#: starts at 2 because one colour is not a useful preview.
MIN_K = 1
GUI_MIN_K = 2
MAX_K = 256

#: Largest image accepted, in pixels. 200 MP decodes to 600-800 MB of RGB(A);
#: anything larger is more likely a decompression bomb than a photo.
MAX_PIXELS = 200_000_000

#: Colour spaces for distances, seeding methods and PNG encoder efforts.
SPACES = ("rgb", "oklab")
INITS = ("kmeans++", "random")
#: PNG effort: "small" is the old name of "max" (the smallest file).
EFFORTS = ("auto", "fast", "max", "small")
#: Dithering modes (``--dither``, the GUI's combo): see core/quantizer/dithering.py.
DITHERS = ("none", "fs", "auto", "ordered")

#: Default settings (``QuantizeSettings()``, the CLI's options, a fresh GUI).
DEFAULT_K = 16
DEFAULT_SPACE = "oklab"
DEFAULT_INIT = "kmeans++"
DEFAULT_MAX_ITER = 100
DEFAULT_TOL = 1e-4
DEFAULT_SEED = 0
DEFAULT_DITHER = "auto"  # won on benchmarks/dither_vs_pngquant.py (README)
DEFAULT_DITHER_STRENGTH = 1.0
DEFAULT_EFFORT = "auto"

#: File name suffixes of the formats the loader reads (and open dialogs offer).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
READABLE_PATTERNS = tuple(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
