"""Calibrating ``--quality MIN-MAX`` (pngquant's 0-100 scale) onto our ΔE figure.

Usage: uv run python benchmarks/quality_calibration.py PNGQUANT IMAGE... [--q 10 20 ...]

For every image and quality setting q, runs ``pngquant --quality 0-q --nofs``
(the fewest colours that reach q, no dithering), decodes its file and
measures the mean OKLab ΔE ×100 it reached (``kscan.delta_e_of``) and the
colours it used. Prints, per q, the median and the spread over the images,
and the table kmeans-compress uses (``cli/targets.py``) beside it, so the
mapping can be checked or re-fitted. pngquant is a comparison tool only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QUALITY_TABLE, load_image, quality_to_delta_e
from kmeans_gui.core.kscan import delta_e_of


def pngquant(binary: str, source: Path, out: Path, q: int) -> tuple[float, int] | None:
    proc = subprocess.run([binary, "--quality", f"0-{q}", "--nofs", "--force", "--output",
                           str(out), str(source)], capture_output=True)
    if proc.returncode != 0:
        return None
    with Image.open(out) as im:
        colours = len(im.getpalette() or []) // 3
        return np.asarray(im.convert("RGBA")), colours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pngquant")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--q", type=int, nargs="+",
                        default=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100])
    args = parser.parse_args()
    per_q: dict[int, list[float]] = {q: [] for q in args.q}
    colours_q: dict[int, list[int]] = {q: [] for q in args.q}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.images:
            image = load_image(path)
            pixels = image.pixels
            source = Path(tmp) / "in.png"
            Image.fromarray(pixels).save(source)  # pngquant reads PNG only
            row = []
            for q in args.q:
                got = pngquant(args.pngquant, source, Path(tmp) / "out.png", q)
                if got is None:
                    row.append("   -  ")
                    continue
                decoded, colours = got
                if pixels.shape[2] == 3:
                    decoded = decoded[..., :3]
                value = delta_e_of(pixels, decoded)
                per_q[q].append(value)
                colours_q[q].append(colours)
                row.append(f"{value:6.2f}")
            print(f"{Path(path).name[:24]:<24}" + " ".join(row))
    print()
    print(f"{'q':>4} {'median ΔE':>10} {'min':>6} {'max':>6} {'median k':>9}  "
          f"{'table ΔE':>9}")
    for q in args.q:
        values = per_q[q]
        if not values:
            continue
        print(f"{q:>4} {statistics.median(values):>10.3f} {min(values):>6.2f} "
              f"{max(values):>6.2f} {statistics.median(colours_q[q]):>9.0f}  "
              f"{quality_to_delta_e(q):>9.3f}")
    print("\ntable in cli/targets.py:", QUALITY_TABLE)


if __name__ == "__main__":
    main()
