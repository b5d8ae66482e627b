"""Where the bytes go: our indices through other deflaters, against pngquant's file.

    uv run python benchmarks/deflate_vs_pngquant.py --images ../shared/images \
        [--pngquant PATH] [--max-mp 4.5]

For every image of ``IMAGES`` and ``IMAGES/graphics`` (photos converted to
PNG first) at k = 16, 64 and 256 without dithering: pngquant's ``--nofs``
file size (its rows are unfiltered and deflated at zlib's level 9), and the
size of our default-effort file against it, then of the same indices and
palette (same chunks) deflated other ways: zlib-ng at level 9 unfiltered,
libdeflate at levels 6, 9, 10 and 12 unfiltered and at 9 with the Up
filter; each with its deflate time (CPU, best of two). Unfiltered rows
deflate to the same size whatever the palette order (a permutation of the
bytes changes neither matches nor code lengths), so what is left between
two unfiltered files is the index map itself.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import deflate
from PIL import Image
from zlib_ng import zlib_ng as zlib

from kmeans_gui.core import QuantizeSettings, load_image, quantize
from kmeans_gui.core.png import writer

SUFFIXES = (".png", ".jpg", ".jpeg")


def idat_bytes(data: bytes) -> int:
    """Total length of the IDAT chunks of a PNG file."""
    pos, total = 8, 0
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            total += length
        pos += 12 + length
    return total


def cpu_best(fn, repeats: int = 2):
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.process_time()
        result = fn()
        best = min(best, time.process_time() - started)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--pngquant", default=shutil.which("pngquant"))
    parser.add_argument("--max-mp", type=float, default=4.5,
                        help="skip larger images (libdeflate 12 takes seconds there)")
    args = parser.parse_args()
    if not args.pngquant:
        raise SystemExit("pngquant not found: give --pngquant PATH")
    sources = [p for folder in (args.images, args.images / "graphics")
               for p in sorted(folder.iterdir())
               if p.suffix.lower() in SUFFIXES and not p.name.startswith(".")]
    ways = {
        "z9": lambda l0, l2: zlib.compress(l0, 9),
        "ld6": lambda l0, l2: deflate.zlib_compress(l0, 6),
        "ld9": lambda l0, l2: deflate.zlib_compress(l0, 9),
        "ld9 Up": lambda l0, l2: deflate.zlib_compress(l2, 9),
        "ld10": lambda l0, l2: deflate.zlib_compress(l0, 10),
        "ld12": lambda l0, l2: deflate.zlib_compress(l0, 12),
    }
    ratios: dict[str, list[float]] = {"ours": [], **{name: [] for name in ways}}
    print("bytes / pngquant's, and deflate CPU ms (our default effort: the whole encode)")
    print(f"{'image':<28} {'k':>4} {'pq B':>9} {'ours':>12} "
          + " ".join(f"{name:>13}" for name in ways))
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            png = Path(tmp) / "in.png"
            with Image.open(source) as im:
                if im.size[0] * im.size[1] > args.max_mp * 1e6:
                    continue
                if source.suffix.lower() == ".png":
                    shutil.copyfile(source, png)
                else:
                    im.convert("RGB").save(png)
            image = load_image(png)
            for k in (16, 64, 256):
                theirs = Path(tmp) / "pq.png"
                subprocess.run([args.pngquant, "--nofs", "--force", "--output", str(theirs),
                                str(k), str(png)], check=False, capture_output=True)
                pq = theirs.stat().st_size
                result = quantize(image, QuantizeSettings(k=k, dither="none"))
                ours, seconds = cpu_best(lambda r=result: writer.encode_indexed(r.indices,
                                                                               r.palette))
                chunks = len(ours) - idat_bytes(ours)  # everything but the stream
                rows = writer.pack(result.indices, writer.bit_depth(len(result.palette)))
                l0 = writer.scanlines(rows, writer.FILTER_NONE).tobytes()
                l2 = writer.scanlines(rows, writer.FILTER_UP).tobytes()
                cells = [f"{len(ours) / pq:6.3f} {seconds * 1000:5.0f}"]
                ratios["ours"].append(len(ours) / pq)
                for name, way in ways.items():
                    stream, seconds = cpu_best(lambda w=way, a=l0, b=l2: w(a, b))
                    ratio = (chunks + len(stream)) / pq
                    ratios[name].append(ratio)
                    cells.append(f"{ratio:6.3f} {seconds * 1000:6.0f}")
                print(f"{source.stem[:28]:<28} {k:>4} {pq:>9,} " + " ".join(cells), flush=True)
    for name, values in ratios.items():
        print(f"{name:<7} median {statistics.median(values):.3f}x, worst {max(values):.3f}x, "
              f"{sum(v > 0.97 for v in values)} of {len(values)} above 0.97x")


if __name__ == "__main__":
    sys.exit(main())
