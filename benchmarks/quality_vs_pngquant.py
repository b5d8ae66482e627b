"""Quality and file size against pngquant at the same number of colours.

Usage: uv run python benchmarks/quality_vs_pngquant.py PNGQUANT_BINARY IMAGE... [--k 16 64 256]

For every image and k, quantizes without dithering with pngquant (--nofs) and
with this engine in both colour spaces, then prints the mean OKLab ΔE×100, the
RGB mean squared error and the PNG size of each, and the ratios the targets
are about: ΔE(oklab) / ΔE(pngquant) <= 1, MSE(rgb) / MSE(pngquant) <= 0.9,
size(ours) / size(pngquant) <= 1. pngquant is a comparison tool only (e.g.
PyPI's pngquant-cli in a separate environment), never a dependency.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, build_histogram, encode_png, load_image, quantize
from kmeans_gui.core.quantizer.metrics import oklab_delta_e, rgb_mse


def decoded(data_or_path) -> np.ndarray:
    with Image.open(data_or_path) as im:
        return np.asarray(im.convert("RGB"))


def ratio(ours: float, theirs: float) -> float:
    """ours / theirs, where both being zero (a lossless result) counts as equal."""
    if theirs == 0:
        return 1.0 if ours == 0 else float("inf")
    return ours / theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pngquant")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--effort", default="auto", choices=["auto", "fast", "max", "small"])
    args = parser.parse_args()

    header = (f"{'image':<22}{'k':>4} | {'ΔE pq':>7}{'ΔE ok':>7}{'ratio':>7} | "
              f"{'MSE pq':>8}{'MSE rgb':>8}{'ratio':>7} | {'KB pq':>7}{'KB ok':>7}{'KB rgb':>7}"
              f"{'ok/pq':>7}{'rgb/pq':>7}")
    print(header)
    print("-" * len(header))
    ratios = {"de": [], "mse": [], "size_ok": [], "size_rgb": [], "de_spaces": [],
              "mse_spaces": []}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.images:
            image = load_image(path)
            source = Path(tmp) / (Path(path).stem + ".png")
            Image.fromarray(image.pixels).save(source)  # pngquant reads PNG only
            original = image.pixels[..., :3]
            hist = build_histogram(image.pixels)
            for k in args.k:
                out = Path(tmp) / f"pq-{k}.png"
                subprocess.run([args.pngquant, "--nofs", "--force", "--output", str(out),
                                str(k), "--", str(source)], check=True)
                pq_pixels = decoded(out)
                pq = (oklab_delta_e(original, pq_pixels), rgb_mse(original, pq_pixels),
                      out.stat().st_size)
                ours = {}
                for space in ("oklab", "rgb"):
                    result = quantize(image, QuantizeSettings(k=k, space=space), hist)
                    data = encode_png(result, effort=args.effort)
                    pixels = decoded(__import__("io").BytesIO(data))
                    ours[space] = (oklab_delta_e(original, pixels), rgb_mse(original, pixels),
                                   len(data))
                de_ratio = ratio(ours["oklab"][0], pq[0])
                mse_ratio = ratio(ours["rgb"][1], pq[1])
                size_ok = ours["oklab"][2] / pq[2]
                size_rgb = ours["rgb"][2] / pq[2]
                ratios["de"].append(de_ratio)
                ratios["mse"].append(mse_ratio)
                ratios["size_ok"].append(size_ok)
                ratios["size_rgb"].append(size_rgb)
                # How the two spaces compare with each other (to choose the default).
                ratios["de_spaces"].append(ratio(ours["rgb"][0], ours["oklab"][0]))
                ratios["mse_spaces"].append(ratio(ours["oklab"][1], ours["rgb"][1]))
                print(f"{Path(path).name:<22}{k:>4} | {pq[0]:7.3f}{ours['oklab'][0]:7.3f}"
                      f"{de_ratio:7.3f} | {pq[1]:8.2f}{ours['rgb'][1]:8.2f}{mse_ratio:7.3f} | "
                      f"{pq[2] / 1024:7.1f}{ours['oklab'][2] / 1024:7.1f}"
                      f"{ours['rgb'][2] / 1024:7.1f}{size_ok:7.3f}{size_rgb:7.3f}", flush=True)
    print("-" * len(header))
    print(f"{len(ratios['de'])} image/k pairs")
    for name, label, target in (("de", "ΔE oklab / pngquant", "<= 1.00"),
                                ("mse", "MSE rgb / pngquant", "<= 0.90"),
                                ("size_ok", "size oklab / pngquant", "<= 1.00"),
                                ("size_rgb", "size rgb / pngquant", "<= 1.00"),
                                ("de_spaces", "ΔE rgb-mode / oklab-mode", "info"),
                                ("mse_spaces", "MSE oklab-mode / rgb-mode", "info")):
        values = ratios[name]
        print(f"{label:<26} median {statistics.median(values):.3f}  worst {max(values):.3f}"
              f"  (target {target})")


if __name__ == "__main__":
    main()
