"""The remap's colour cache: its size against the run-keeping remap's time.

    uv run python benchmarks/remap_cache.py --images ../shared/images [--runs 5]

For the 24 MP mosaic resized to 0.3, 1, 2, 4 and 8 MP (too many colours for
an exact histogram, so the remap does not know how many it will meet) and the
shared photos and graphics, one K-Means palette at k = 16 and 256, then the
remap that keeps runs (what the app saves) with a hashed cache of 2**17 to
2**22 slots a thread, and the direct 2**24 table. Prints the median time of
each, marks the size the remap chooses (*) and checks that every size gives
the same indices. Run it on a quiet machine: the cache sizes differ by how
they fit the processor's caches.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from everyday_vs_pngquant import resized  # this folder: the same resized mosaic
from PIL import Image

from kmeans_gui.core import build_histogram, kmeans_steps, load_image
from kmeans_gui.core._native import kernels
from kmeans_gui.core.quantizer import remapping
from kmeans_gui.core.quantizer.pipeline import distinct_colours

SIZES_MP = (0.3, 1, 2, 4, 8)  # everyday_vs_pngquant's, but 24 MP
BITS = (17, 18, 19, 20, 21, 22)


def inputs(images: Path):
    with Image.open(images / "large" / "mosaic_24mp.jpg") as mosaic:
        mosaic = mosaic.convert("RGB")
        for mp in SIZES_MP:
            yield f"mosaic-{mp:g}mp", np.asarray(resized(mosaic, mp))
    for folder in (images, images / "graphics"):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".png", ".jpg"):
                pixels = load_image(path).pixels
                if pixels.shape[2] == 3:
                    yield path.stem[:20], pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'image':<22}{'MP':>5}{'exact':>6}{'k':>5} | median ms per cache "
          f"(2**bits slots a thread, or the direct table; * the remap's choice)")
    for name, pixels in inputs(args.images):
        pixels = np.ascontiguousarray(pixels)
        hist = build_histogram(pixels)
        n = pixels.shape[0] * pixels.shape[1]
        colours = distinct_colours(hist)
        direct_chosen = n >= remapping.DIRECT_CACHE_PIXELS
        bits_chosen = remapping.cache_bits(n, colours)
        for k in (16, 256):
            state = None
            for state in kmeans_steps(hist, k, max_iter=5):  # noqa: B007
                pass
            coords, proj, axis, order = remapping._search_palette(state.palette, 3, "oklab")
            reference = None
            cells = []
            for direct, bits in [(False, b) for b in BITS] + [(True, 20)]:
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    out = kernels.remap_runs(
                        pixels, coords, proj, axis, order, remapping._SPACE_CODES["oklab"],
                        remapping.LINEAR_LUT, -1, remapping.RUN_RELATIVE,
                        remapping.RUN_ABSOLUTE, direct, bits)
                    times.append(time.perf_counter() - started)
                if reference is None:
                    reference = out
                elif not np.array_equal(out, reference):
                    raise SystemExit(f"{name} k={k}: cache {bits} changed the indices")
                mark = "*" if (direct == direct_chosen and (direct or bits == bits_chosen)) \
                    else " "
                label = "direct" if direct else str(bits)
                cells.append(f"{label}{mark}{1000 * statistics.median(times):6.1f}")
            print(f"{name:<22}{n / 1e6:>5.2f}{'yes' if hist.exact else 'no':>6}{k:>5} | "
                  + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
