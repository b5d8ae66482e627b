"""Time and size of the PNG writer's zlib settings on real quantized images.

    uv run python benchmarks/png_writer_options.py IMAGE... [-k 256 -k 16] [--runs 3]

The writer is where the CLI's time goes once K-Means is fast, so this
compares the core's presets (``effort="small"`` and ``"fast"``) with zlib's
Z_RLE strategy at levels 9 and 7, for each image and k. Every variant is
decoded back and checked pixel-exact. Evidence for the core's writer; the
CLI itself only passes ``--effort`` through.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, encode_png, load_image, quantize
from kmeans_gui.core.png.writer import bit_depth, pil_image


def pillow_png(result, level: int, strategy: int) -> bytes:
    buffer = io.BytesIO()
    image = pil_image(result.indices, result.palette)
    image.save(buffer, "PNG", bits=bit_depth(result.n_colors), compress_level=level,
               compress_type=strategy)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("-k", action="append", type=int, dest="ks")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    variants = {
        "core small": lambda r: encode_png(r, effort="small"),
        "core fast": lambda r: encode_png(r, effort="fast"),
        "zlib 9 + Z_RLE": lambda r: pillow_png(r, 9, zlib.Z_RLE),
        "zlib 7 + Z_RLE": lambda r: pillow_png(r, 7, zlib.Z_RLE),
    }
    totals: dict[tuple[int, str], list[float]] = {}
    for path in args.images:
        image = load_image(path)
        for k in args.ks or [256, 16]:
            result = quantize(image, QuantizeSettings(k=k))
            print(f"{path.name} k={k} ({bit_depth(result.n_colors)}-bit):")
            for name, encode in variants.items():
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    data = encode(result)
                    times.append(time.perf_counter() - started)
                decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
                assert np.array_equal(decoded, result.to_rgb()[..., :3]), name
                seconds = statistics.median(times)
                total = totals.setdefault((k, name), [0.0, 0])
                total[0] += seconds
                total[1] += len(data)
                print(f"  {name:<16} {seconds * 1000:8.0f} ms  {len(data):>10,} bytes")
    print("totals over all images:")
    for (k, name), (seconds, size) in totals.items():
        print(f"  k={k:<4} {name:<16} {seconds:7.2f} s  {size:>11,} bytes")


if __name__ == "__main__":
    main()
