"""The undithered remap that keeps runs: bytes and picture quality, on and off.

    uv run python benchmarks/remap_runs.py --images ../shared/images \
        [--pngquant PATH] [--ssimulacra2-python PATH] [--max-mp 8.5] [--k 16,64,256]

For every image (the photos and graphics of IMAGES, and the 24 MP mosaic
resized to 0.3-8 MP, as ``everyday_vs_pngquant.py`` makes them) and k, one
K-Means palette, then two index maps for it: each pixel's nearest entry
("off") and the result's remap that keeps runs ("on", what the app saves).
Both are encoded with the default effort. Prints per case

* bytes of each against ``pngquant --nofs K`` (same input PNG), and on/off;
* horizontal index changes on/off;
* mean OKLab Delta E x100 (the figure the app shows) of each;
* SSIMULACRA2 of each (and of pngquant's file) against the input, when a
  Python with the ``ssimulacra2`` module is given (it is not a dependency of
  the project: a separate virtual environment);
* the remap's median time on/off;

then the medians, the worst byte ratio and how many cases are above 0.97x.
pngquant is found on PATH unless given.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kmeans_gui.core import QuantizeSettings, build_histogram, load_image
from kmeans_gui.core.png import writer
from kmeans_gui.core.quantizer.metrics import oklab_delta_e
from kmeans_gui.core.quantizer.pipeline import finish, steps
from kmeans_gui.core.quantizer.remapping import remap

SCORER = """
import json, sys
from ssimulacra2 import compute_ssimulacra2
pairs = json.loads(sys.stdin.read())
print(json.dumps([compute_ssimulacra2(a, b) for a, b in pairs]))
"""


def median_seconds(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def changes(indices: np.ndarray) -> int:
    return int(np.count_nonzero(indices[:, 1:] != indices[:, :-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--pngquant", default=shutil.which("pngquant"))
    parser.add_argument("--ssimulacra2-python", help="a Python with the ssimulacra2 module")
    parser.add_argument("--max-mp", type=float, default=8.5)
    parser.add_argument("--k", default="16,64,256")
    args = parser.parse_args()
    if not args.pngquant:
        raise SystemExit("pngquant not found: give --pngquant PATH")
    ks = [int(k) for k in args.k.split(",")]
    everyday = Path(__file__).with_name("everyday_vs_pngquant.py")
    rows, pairs = [], []
    with tempfile.TemporaryDirectory(prefix="kmeans-runs-") as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, str(everyday), "--images", str(args.images),
                        "--make-inputs", str(folder)], check=True)
        inputs = sorted(folder.glob("*.png"))
        for png in inputs:
            image = load_image(png)
            if image.width * image.height / 1e6 > args.max_mp:
                continue
            hist = build_histogram(image.pixels)
            for k in ks:
                settings = QuantizeSettings(k=k, dither="none")
                state = None
                for state in steps(image.pixels, settings, hist):  # noqa: B007 (the last)
                    pass
                result = finish(image.pixels, state, settings)
                palette = result.palette
                maps = {"on": result.indices, "off": remap(image.pixels, palette, "oklab")}
                seconds = {name: median_seconds(lambda p=image.pixels, pal=palette, on=on:
                                                remap(p, pal, "oklab", keep_runs=on))
                           for name, on in (("on", True), ("off", False))}
                pq = folder / f"pq-{png.stem}-{k}.png"
                subprocess.run([args.pngquant, "--nofs", "--force", "--output", str(pq),
                                str(k), str(png)], check=False)
                row = {"image": png.stem, "k": k, "pq": pq.stat().st_size}
                for name, indices in maps.items():
                    data = writer.encode_indexed(indices, palette, icc_profile=image.icc_profile,
                                                 dpi=image.dpi)
                    out = folder / f"{name}-{png.stem}-{k}.png"
                    out.write_bytes(data)
                    row[name] = len(data)
                    row[f"changes_{name}"] = changes(indices)
                    row[f"de_{name}"] = oklab_delta_e(image.pixels, palette[indices])
                    row[f"s_{name}"] = seconds[name]
                    pairs.append((str(png), str(out)))
                pairs.append((str(png), str(pq)))
                rows.append(row)
                print(f"{png.stem[:30]:<30} k={k:<3} bytes/pq on {row['on'] / row['pq']:.3f} "
                      f"off {row['off'] / row['pq']:.3f} on/off {row['on'] / row['off']:.3f}  "
                      f"changes on/off {row['changes_on'] / max(row['changes_off'], 1):.3f}  "
                      f"dE on {row['de_on']:.3f} off {row['de_off']:.3f}  remap s on "
                      f"{row['s_on']:.3f} off {row['s_off']:.3f}", flush=True)
        scores = None
        if args.ssimulacra2_python:
            done = subprocess.run([args.ssimulacra2_python, "-c", SCORER], input=json.dumps(pairs),
                                  capture_output=True, text=True, check=True)
            scores = json.loads(done.stdout)
    if scores is not None:
        print("\nSSIMULACRA2 (higher is better): on, off, pngquant --nofs")
        for i, row in enumerate(rows):
            row["ss_on"], row["ss_off"], row["ss_pq"] = scores[3 * i:3 * i + 3]
            print(f"{row['image'][:30]:<30} k={row['k']:<3} {row['ss_on']:7.2f} "
                  f"{row['ss_off']:7.2f} {row['ss_pq']:7.2f}")
    med = statistics.median
    print()
    for name in ("on", "off"):
        ratios = [r[name] / r["pq"] for r in rows]
        print(f"keep runs {name:<3}: bytes vs pngquant median {med(ratios):.3f}x, worst "
              f"{max(ratios):.3f}x, {sum(x > 0.97 for x in ratios)} of {len(ratios)} above "
              f"0.97x (target: none above 0.97x, goal 0.90x); mean dE median "
              f"{med(r['de_' + name] for r in rows):.3f}")
    print(f"on/off: bytes median {med(r['on'] / r['off'] for r in rows):.3f}x, index changes "
          f"median {med(r['changes_on'] / max(r['changes_off'], 1) for r in rows):.3f}x, "
          f"mean dE median {med(r['de_on'] / max(r['de_off'], 1e-12) for r in rows):.3f}x "
          f"(worst {max(r['de_on'] / max(r['de_off'], 1e-12) for r in rows):.3f}x), remap "
          f"time median {med(r['s_on'] / r['s_off'] for r in rows):.2f}x")
    if scores is not None:
        diffs = [r["ss_on"] - r["ss_off"] for r in rows]
        print(f"SSIMULACRA2 on - off: median {med(diffs):+.2f}, worst {min(diffs):+.2f}; "
              f"on - pngquant: median {med(r['ss_on'] - r['ss_pq'] for r in rows):+.2f}")


if __name__ == "__main__":
    main()
