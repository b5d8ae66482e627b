"""PNG decode and encode time: the fast reader and writer against Pillow.

    uv run python benchmarks/png_io.py [IMAGE] [-k 256] [--runs 7]

IMAGE (default /tmp/mosaic.png) should be an 8-bit RGB PNG.

* Decode: the Pillow path of ``load_image`` (and Pillow's decode alone)
  against the fast reader (whole call, and the inflate stage alone).
* Start-up: fresh processes that import numpy and the core, then load
  IMAGE, with and without calling ``start_inflate`` first (as the CLI can).
* Encode: IMAGE quantized to k colours (k > 16, so 8 bits), Pillow at the
  fast preset's settings against ``encode_png(effort="fast")``; and the
  small effort's Pillow trials on a 4 MP crop, one after another against
  side by side.

The variants run interleaved, so load from other processes spreads evenly;
prints medians. Every result is checked against Pillow's.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, encode_png, load_image, parallel, quantize
from kmeans_gui.core.files import load as loading
from kmeans_gui.core.png.reader import start_inflate
from kmeans_gui.core.png.writer import pil_image


def pillow_load(path: Path):
    saved = loading.read_png
    loading.read_png = lambda *args: None
    try:
        return load_image(path)
    finally:
        loading.read_png = saved


def pillow_encode(result) -> bytes:
    buffer = io.BytesIO()
    pil_image(result.indices, result.palette).save(buffer, "PNG", bits=8, compress_level=7,
                         compress_type=zlib.Z_DEFAULT_STRATEGY)
    return buffer.getvalue()


STARTUP = """
import sys, time
started = time.perf_counter()
if sys.argv[2] == "early":
    from kmeans_gui.core.png.reader import start_inflate
    pending = start_inflate(sys.argv[1])
else:
    pending = None
import numpy
from kmeans_gui.core import load_image
load_image(sys.argv[1], prefetched=pending)
print(time.perf_counter() - started)
"""


def startup(path: Path, mode: str) -> float:
    run = subprocess.run([sys.executable, "-c", STARTUP, str(path), mode],
                         capture_output=True, text=True, check=True)
    return float(run.stdout)


def race(variants: dict, runs: int) -> dict[str, tuple[float, object]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    values = {}
    for _ in range(runs):
        for name, fn in variants.items():
            started = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(times[name]), values[name]) for name in variants}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image", nargs="?", type=Path, default=Path("/tmp/mosaic.png"))
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    decode = race({
        "Pillow's decode only": lambda: Image.open(args.image).load(),
        "Pillow path": lambda: pillow_load(args.image),
        "fast reader": lambda: load_image(args.image),
        "inflate stage only": lambda: sum(map(len, start_inflate(args.image).pieces())),
    }, args.runs)
    reference = decode["Pillow path"][1]
    assert np.array_equal(decode["fast reader"][1].pixels, reference.pixels)
    print(f"decode {args.image.name} ({reference.width}x{reference.height}, "
          f"{reference.pixels.shape[2]} channels), median of {args.runs}:")
    for name, (seconds, _) in decode.items():
        print(f"  {name:<20} {seconds:6.3f} s")

    starts: dict[str, list[float]] = {"late": [], "early": []}
    for _ in range(args.runs):
        for mode, seconds in starts.items():
            seconds.append(startup(args.image, mode))
    print(f"start-up: import numpy and the core, then load, median of {args.runs}:")
    for mode, name in (("late", "imports, then load"), ("early", "start_inflate first")):
        print(f"  {name:<20} {statistics.median(starts[mode]):6.3f} s")

    result = quantize(reference, QuantizeSettings(k=args.k))
    encode = race({
        "Pillow, fast preset": lambda: pillow_encode(result),
        "threaded writer": lambda: encode_png(result, effort="fast"),
    }, args.runs)
    print(f"encode at k={args.k} ({result.n_colors} colours), median of {args.runs}:")
    for name, (seconds, data) in encode.items():
        with Image.open(io.BytesIO(data)) as im:
            assert np.array_equal(np.asarray(im), result.indices), name
        print(f"  {name:<20} {seconds:6.3f} s  {len(data):>11,} bytes")

    # The small effort (auto's choice up to 4 MP) on a 4 MP crop: its Pillow
    # trials one after another, as before, against side by side.
    crop = replace(result, indices=np.ascontiguousarray(result.indices[:2000, :2000]))

    def small(threads: int) -> bytes:
        saved = parallel.threads()
        parallel.set_threads(threads)
        try:
            return encode_png(crop, effort="small")
        finally:
            parallel.set_threads(saved)

    trials = race({"small, one thread": lambda: small(1),
                   "small, side by side": lambda: small(parallel.threads())}, args.runs)
    print(f"small effort, 2000x2000 crop, median of {args.runs}:")
    for name, (seconds, data) in trials.items():
        print(f"  {name:<20} {seconds:6.3f} s  {len(data):>11,} bytes")


if __name__ == "__main__":
    main()
