"""Engine speed and memory on one large image.

Usage: uv run python benchmarks/engine_speed.py IMAGE [--repeat 5]

Prints medians over --repeat runs (after one warm-up run) of:
  * K-Means plus full-resolution remap, no dithering, at k = 256 and k = 16
    (histogram included; decoding and PNG encoding excluded), with the split;
  * Floyd-Steinberg remap of the full image (strength 1, k = 256 palette);
  * PNG encoding at each effort;
and, in a fresh process each, the peak memory of a whole load -> quantize ->
save run as a multiple of the decoded image's size.
Targets (issue 2): k=256 <= 1.0 s, k=16 <= 0.5 s, FS <= 1.5 s, memory <= 4x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from kmeans_gui.core import (
    QuantizeSettings,
    build_histogram,
    encode_png,
    finish,
    load_image,
    remap,
    steps,
)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def quantize_split(pixels, k):
    settings = QuantizeSettings(k=k)
    t_hist, hist = timed(lambda: build_histogram(pixels))

    def run():
        state = None
        for state in steps(pixels, settings, hist):  # noqa: B007 (keep the last)
            pass
        return state

    t_kmeans, state = timed(run)
    t_remap, result = timed(lambda: finish(pixels, state, settings))
    return t_hist, t_kmeans, t_remap, state, result


def memory_child(path: str, k: int) -> None:
    """Run load -> quantize -> save and print peak RSS figures as JSON."""
    from kmeans_gui.core import quantize, save_png

    def status(field):
        # VmHWM, not ru_maxrss: the latter survives exec and so can report the
        # parent's (this benchmark's) peak instead of the child's.
        with open("/proc/self/status") as lines:
            for line in lines:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    # Warm the kernels on a tiny image so compilation is not counted.
    import numpy as np
    quantize(np.zeros((4, 4, 3), np.uint8), QuantizeSettings(k=2))
    baseline = status("VmRSS")
    image = load_image(path)
    result = quantize(image, QuantizeSettings(k=k))
    with tempfile.TemporaryDirectory() as tmp:
        save_png(result, os.path.join(tmp, "out.png"), icc_profile=image.icc_profile)
    peak = status("VmHWM")
    print(json.dumps({"baseline": baseline, "peak": peak, "decoded": image.pixels.nbytes}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.image, args.memory_child)
        return

    image = load_image(args.image)
    pixels = image.pixels
    print(f"{args.image}: {image.width}x{image.height}, {pixels.nbytes / 2**20:.0f} MiB decoded")
    quantize_split(pixels, 16)  # warm-up
    for k, target in ((256, 1.0), (16, 0.5)):
        runs = [quantize_split(pixels, k) for _ in range(args.repeat)]
        hist, kmeans, rmap = (statistics.median(r[i] for r in runs) for i in range(3))
        total = statistics.median(r[0] + r[1] + r[2] for r in runs)
        iters = runs[0][3].iteration
        print(f"k={k:<3} quantize+remap median {total:.3f} s (target {target} s, ratio "
              f"{total / target:.2f}) = histogram {hist:.3f} + k-means {kmeans:.3f} "
              f"({iters} iterations) + remap {rmap:.3f}")
    _, _, _, state256, result256 = quantize_split(pixels, 256)  # FS with a k = 256 palette
    fs = [timed(lambda: remap(pixels, state256.palette, "oklab", dither=1.0))[0]
          for _ in range(args.repeat)]
    print(f"Floyd-Steinberg remap k=256 median {statistics.median(fs):.3f} s (target 1.5 s, "
          f"ratio {statistics.median(fs) / 1.5:.2f})")
    for effort in ("fast", "small"):
        times, sizes = [], []
        for _ in range(max(1, args.repeat // 2)):
            t, data = timed(lambda effort=effort: encode_png(result256, effort=effort))
            times.append(t)
            sizes.append(len(data))
        print(f"encode k=256 effort={effort:<5} median {statistics.median(times):.3f} s, "
              f"{sizes[0] / 1e6:.2f} MB")
    for k in (256, 16):
        child = subprocess.run([sys.executable, __file__, args.image, "--memory-child", str(k)],
                               capture_output=True, text=True, check=True)
        m = json.loads(child.stdout)
        print(f"memory k={k:<3} load->quantize->save: peak RSS {m['peak'] / 2**20:.0f} MiB, "
              f"of which {(m['peak'] - m['baseline']) / 2**20:.0f} MiB above the process at "
              f"rest ({m['baseline'] / 2**20:.0f} MiB: Python, numpy, Pillow); decoded image "
              f"{m['decoded'] / 2**20:.0f} MiB; "
              f"ratio {(m['peak'] - m['baseline']) / m['decoded']:.2f}x"
              f" above rest, {m['peak'] / m['decoded']:.2f}x total (target 4x)")


if __name__ == "__main__":
    main()
