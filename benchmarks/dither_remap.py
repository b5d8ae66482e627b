"""How long a dithering change takes in the app: the RemapJob (remap with the
kept palette, encode, quality figure, the Fit preview), against the full
QuantizeJob it replaces. Usage: uv run python benchmarks/dither_remap.py IMAGE [K]"""

from __future__ import annotations

import statistics
import sys
import time

from kmeans_gui.core import QuantizeSettings, build_histogram, load_image
from kmeans_gui.gui.imaging import downscale, fit_size
from kmeans_gui.gui.jobs import Finished, QuantizeJob, RemapJob


def run(job) -> tuple[float, Finished]:
    started = time.perf_counter()
    last = None
    for value in job.work():
        if value is not None:
            last = value
    return time.perf_counter() - started, last


def main() -> None:
    path = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    image = load_image(path)
    hist = build_histogram(image.pixels)
    preview = downscale(image.pixels, fit_size(image.width, image.height, 900, 640))
    plain = QuantizeSettings(k=k, dither="none")
    full_seconds, finished = run(QuantizeJob(image, hist, plain, preview))
    remaps = []
    for mode in ("fs", "auto", "ordered"):
        seconds, _ = run(RemapJob(image, finished, QuantizeSettings(k=k, dither=mode),
                                  preview))
        print(f"dithering -> {mode}: {seconds:.2f} s")
        remaps.append(seconds)
    print(f"{image.width}x{image.height}, k={k}")
    print(f"full K-Means run (no dithering): {full_seconds:.2f} s")
    print(f"dithering change (remap only):   median {statistics.median(remaps):.2f} s "
          f"of {', '.join(f'{s:.2f}' for s in remaps)}")
    print(f"ratio: {full_seconds / statistics.median(remaps):.1f}x")


if __name__ == "__main__":
    main()
