"""K-Means on the OKLab grid against K-Means on every colour group: time and quality.

    uv run python benchmarks/kmeans_grid.py --images ../shared/images \
        [--k 16 64 256] [--ssimulacra2-python PYTHON] [--runs 3]

Inputs: the 24 MP mosaic (``IMAGES/large/mosaic_24mp.jpg``) resized to 0.3, 1,
2 and 4 MP, and the photos directly in ``IMAGES``. For each and each k, the
whole quantization without dithering (histogram, K-Means, remap, encode) runs
once with the grid (``kmeans._Grid``, the default) and once without it (the
constant patched away), and the table prints for each: the K-Means CPU
seconds (median of ``--runs``), iterations, the mean OKLab ΔE×100 the app
prints, the PNG bytes, and with ``--ssimulacra2-python`` (a Python that can
``from ssimulacra2 import compute_ssimulacra2``, kept out of the project) the
SSIMULACRA2 score of each result against its input. The last lines are the
mean and worst differences, grid minus exact.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, build_histogram, encode_png, finish, steps
from kmeans_gui.core.quantizer import kmeans as km
from kmeans_gui.core.quantizer.metrics import oklab_delta_e

SIZES_MP = (0.3, 1, 2, 4)
SCORE = """
import json, sys
from ssimulacra2 import compute_ssimulacra2
pairs = json.load(sys.stdin)
print(json.dumps([compute_ssimulacra2(a, b) for a, b in pairs]))
"""


def inputs(images: Path, folder: Path) -> list[Path]:
    made = []
    with Image.open(images / "large" / "mosaic_24mp.jpg") as mosaic:
        mosaic = mosaic.convert("RGB")
        for mp in SIZES_MP:
            scale = math.sqrt(mp * 1e6 / (mosaic.width * mosaic.height))
            size = (round(mosaic.width * scale), round(mosaic.height * scale))
            made.append(folder / f"mosaic-{mp:g}mp.png")
            mosaic.resize(size, Image.LANCZOS).save(made[-1])
    for source in sorted(images.iterdir()):
        if source.suffix.lower() in (".png", ".jpg", ".jpeg"):
            made.append(folder / f"{source.stem}.png")
            with Image.open(source) as image:
                image.convert("RGB").save(made[-1])
    return made


def run(pixels: np.ndarray, k: int, runs: int):
    settings = QuantizeSettings(k=k, dither="none")
    hist = build_histogram(pixels)
    times = []
    for _ in range(runs):
        started = time.process_time()
        state = None
        for state in steps(pixels, settings, hist):  # noqa: B007 (keep the last)
            pass
        times.append(time.process_time() - started)
    result = finish(pixels, state, settings)
    return statistics.median(times), state.iteration, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ssimulacra2-python", help="a Python with the ssimulacra2 module")
    args = parser.parse_args()
    cells = km.GRID_CELL
    rows = []
    with tempfile.TemporaryDirectory(prefix="kmeans-grid-") as tmp:
        folder = Path(tmp)
        for path in inputs(args.images, folder):
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"))
            for k in args.k:
                row = {"image": path.stem, "mp": pixels.shape[0] * pixels.shape[1] / 1e6, "k": k}
                for label, grid in (("grid", cells), ("exact", {})):
                    km.GRID_CELL = grid
                    seconds, iterations, result = run(pixels, k, args.runs)
                    out = folder / f"{path.stem}-k{k}-{label}.png"
                    data = encode_png(result)
                    out.write_bytes(data)
                    row[label] = {"s": seconds, "it": iterations, "bytes": len(data),
                                  "de": oklab_delta_e(pixels, result.to_rgb()),
                                  "file": str(out), "source": str(path)}
                km.GRID_CELL = cells
                rows.append(row)
                print(f"  {path.stem} k={k} done", flush=True)
        if args.ssimulacra2_python:
            pairs = [(r[v]["source"], r[v]["file"]) for r in rows for v in ("grid", "exact")]
            done = subprocess.run([args.ssimulacra2_python, "-c", SCORE], input=json.dumps(pairs),
                                  capture_output=True, text=True, check=True)
            scores = iter(json.loads(done.stdout))
            for r in rows:
                for v in ("grid", "exact"):
                    r[v]["ss"] = next(scores)
    print(f"\n{'image':<22}{'MP':>5}{'k':>5} | {'K-Means s grid':>14}{'exact':>7}{'x':>6} | "
          f"{'it':>7} | {'ΔE grid':>8}{'exact':>7}{'diff':>7} | {'SSIM2 grid':>10}{'exact':>7}"
          f"{'diff':>7} | {'bytes x':>7}")
    for r in rows:
        g, e = r["grid"], r["exact"]
        gs, es = g.get("ss", math.nan), e.get("ss", math.nan)
        print(f"{r['image']:<22}{r['mp']:5.1f}{r['k']:>5} | {g['s']:14.3f}{e['s']:7.3f}"
              f"{g['s'] / max(e['s'], 1e-9):6.2f} | {g['it']:>3}/{e['it']:<3} | {g['de']:8.3f}"
              f"{e['de']:7.3f}{g['de'] - e['de']:+7.3f} | {gs:10.2f}{es:7.2f}{gs - es:+7.2f} | "
              f"{g['bytes'] / e['bytes']:7.3f}")
    de = [r["grid"]["de"] - r["exact"]["de"] for r in rows]
    print(f"ΔE×100, grid - exact: mean {statistics.mean(de):+.4f}, worst {max(de):+.4f}")
    if args.ssimulacra2_python:
        ss = [r["grid"]["ss"] - r["exact"]["ss"] for r in rows]
        print(f"SSIMULACRA2, grid - exact: mean {statistics.mean(ss):+.3f}, worst {min(ss):+.3f}")
    total_g = sum(r["grid"]["s"] for r in rows)
    total_e = sum(r["exact"]["s"] for r in rows)
    print(f"K-Means CPU seconds, all rows: grid {total_g:.2f}, exact {total_e:.2f} "
          f"({total_g / total_e:.2f}x); bytes grid/exact median "
          f"{statistics.median(r['grid']['bytes'] / r['exact']['bytes'] for r in rows):.3f}")


if __name__ == "__main__":
    main()
