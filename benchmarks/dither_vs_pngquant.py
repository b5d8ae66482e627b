"""Dithering against pngquant: SSIMULACRA2, file size and time at the same k.

Usage:
  uv run python benchmarks/dither_vs_pngquant.py --pngquant PNGQUANT \\
      --metric-python PYTHON IMAGE... [--k 16 64 256] [--speed LARGE_IMAGE]

For every image and k it quantizes with pngquant's default (dithered) and
``--nofs``, and with this engine once (K-Means without dithering) remapped in
every mode (none, fs, auto, ordered), and prints per image and k the
SSIMULACRA2 score (higher is better), the PNG size and the time of each, then
the ratios the targets are about, the median and the worst case of every
column, and every miss:

* auto's score >= pngquant default's and auto's bytes <= pngquant default's
  (goal: the same score at <= 0.9x the bytes);
* auto's score never more than 0.5 below none's.

SSIMULACRA2 comes from the ``ssimulacra2`` Python package, run by
``--metric-python`` (an interpreter where it is installed; it is a comparison
tool, never a dependency). Images with transparency are composited over a dark
and a light grey background and the lower score is kept (the package's own
alpha mode converts to RGB first and so ignores alpha). pngquant reads PNG
only, so every input is first written as a lossless PNG of the pixels this
engine decodes, and both tools start from that.

With ``--speed`` it also times the remap of that image at k = 256 in each mode
(median of ``--repeat`` interleaved runs; target for auto: 1.2 s on the 24 MP
mosaic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, encode_png, finish, load_image, remap, steps

MODES = ("none", "fs", "auto", "ordered")
TOOLS = ("pq", "pq-nofs", *MODES)

#: Run by --metric-python: reads [[reference, distorted], ...] as JSON from
#: argv[1], prints one score per pair as JSON.
METRIC_SCRIPT = r"""
import json, os, sys, tempfile
from multiprocessing import Pool
import numpy as np
from PIL import Image
from ssimulacra2 import compute_ssimulacra2

def over(path, bg, tmp):
    im = Image.open(path)
    rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    a = rgba[..., 3:4] / 255.0
    rgb = rgba[..., :3] * a + bg * 255.0 * (1.0 - a)
    out = os.path.join(tmp, f"{bg}-{os.path.basename(path)}")
    Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8)).save(out)
    return out

def has_alpha(path):
    im = Image.open(path)
    return im.mode in ("RGBA", "LA") or "transparency" in im.info

def score(pair):
    ref, dist = pair
    if not (has_alpha(ref) or has_alpha(dist)):
        return compute_ssimulacra2(ref, dist)
    with tempfile.TemporaryDirectory() as tmp:
        return min(compute_ssimulacra2(over(ref, bg, tmp), over(dist, bg, tmp))
                   for bg in (0.1, 0.9))

if __name__ == "__main__":
    pairs = json.load(open(sys.argv[1]))
    with Pool(int(sys.argv[2])) as pool:
        print(json.dumps(pool.map(score, pairs, chunksize=1)))
"""


def last(states):
    """The final K-Means state."""
    return deque(states, maxlen=1)[0]


def scores(metric_python: str, pairs: list[tuple[str, str]], jobs: int) -> list[float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(pairs, f)
    try:
        out = subprocess.run([metric_python, "-c", METRIC_SCRIPT, f.name, str(jobs)],
                             check=True, capture_output=True, text=True).stdout
    finally:
        Path(f.name).unlink()
    return json.loads(out)


def run_pngquant(pngquant: str, source: Path, k: int, out: Path, nofs: bool) -> float:
    command = [pngquant, str(k), "--force", "--output", str(out), str(source)]
    if nofs:
        command.insert(2, "--nofs")
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def ours(pixels: np.ndarray, k: int, folder: Path, stem: str) -> dict[str, tuple[Path, float]]:
    """This engine's PNG in every mode: {mode: (path, seconds)}; the seconds
    are K-Means (shared by the modes) plus the mode's remap and encoding."""
    settings = QuantizeSettings(k=k, dither="none")
    started = time.perf_counter()
    state = last(steps(pixels, settings))
    kmeans_seconds = time.perf_counter() - started
    made = {}
    for mode in MODES:
        started = time.perf_counter()
        result = finish(pixels, state, replace(settings, dither=mode))
        data = encode_png(result)
        seconds = kmeans_seconds + time.perf_counter() - started
        path = folder / f"{stem}-k{k}-{mode}.png"
        path.write_bytes(data)
        made[mode] = (path, seconds)
    return made


def column_summary(name: str, values: list[float], worst_is_low: bool) -> str:
    worst = min(values) if worst_is_low else max(values)
    return f"  {name:<26} median {statistics.median(values):8.3f}   worst {worst:8.3f}"


def quality(args) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs, cells = [], []
        for number, name in enumerate(args.images):
            image = load_image(name)
            stem = f"{number}-{Path(name).stem}"
            source = folder / f"{stem}.png"
            Image.fromarray(image.pixels).save(source)  # lossless: both tools start here
            for k in args.k:
                cell = {"image": Path(name).name, "k": k, "alpha": image.has_alpha}
                for tool, nofs in (("pq", False), ("pq-nofs", True)):
                    out = folder / f"{stem}-k{k}-{tool}.png"
                    cell[tool] = {"t": run_pngquant(args.pngquant, source, k, out, nofs),
                                  "bytes": out.stat().st_size}
                    pairs.append((str(source), str(out)))
                for mode, (path, seconds) in ours(image.pixels, k, folder, stem).items():
                    cell[mode] = {"t": seconds, "bytes": path.stat().st_size}
                    pairs.append((str(source), str(path)))
                cells.append(cell)
                print(f"  quantized {cell['image']} k={k}", flush=True)
        got = iter(scores(args.metric_python, pairs, args.jobs))
        for cell in cells:
            for tool in TOOLS:
                cell[tool]["s2"] = next(got)
            rows.append(cell)
    report(rows)


def report(rows: list[dict]) -> None:
    head = f"{'image':<30}{'k':>4}"
    for tool in TOOLS:
        head += f" | {tool:>7} {'KB':>6} {'s':>5}"
    head += " | auto-pq  a/pq B  auto-none"
    print()
    print("SSIMULACRA2 (higher is better), PNG kilobytes, seconds per tool and mode")
    print(head)
    print("-" * len(head))
    derived = {"auto-pq": [], "auto/pq bytes": [], "auto-none": [], "auto/pq-nofs bytes": []}
    misses = []
    for r in rows:
        line = f"{r['image'][:30]:<30}{r['k']:>4}"
        for tool in TOOLS:
            c = r[tool]
            line += f" | {c['s2']:7.2f} {c['bytes'] / 1000:6.1f} {c['t']:5.2f}"
        d_pq = r["auto"]["s2"] - r["pq"]["s2"]
        b_pq = r["auto"]["bytes"] / r["pq"]["bytes"]
        d_none = r["auto"]["s2"] - r["none"]["s2"]
        derived["auto-pq"].append(d_pq)
        derived["auto/pq bytes"].append(b_pq)
        derived["auto-none"].append(d_none)
        derived["auto/pq-nofs bytes"].append(r["auto"]["bytes"] / r["pq-nofs"]["bytes"])
        line += f" | {d_pq:+7.2f} {b_pq:6.3f} {d_none:+9.2f}"
        print(line)
        where = f"{r['image']} k={r['k']}"
        if d_pq < 0:
            misses.append(f"{where}: auto SSIMULACRA2 {d_pq:+.2f} below pngquant's default")
        if b_pq > 1:
            misses.append(f"{where}: auto bytes {b_pq:.3f}x pngquant's default")
        if d_none < -0.5:
            misses.append(f"{where}: auto {d_none:+.2f} below none (limit -0.5)")
    print()
    print("Per column (worst: lowest score, largest file, longest time):")
    for tool in TOOLS:
        print(column_summary(f"{tool} SSIMULACRA2", [r[tool]["s2"] for r in rows], True))
        print(column_summary(f"{tool} KB", [r[tool]["bytes"] / 1000 for r in rows], False))
        print(column_summary(f"{tool} seconds", [r[tool]["t"] for r in rows], False))
    for name, values in derived.items():
        print(column_summary(name, values, "bytes" not in name))
    goal = sum(1 for r in rows if r["auto"]["s2"] >= r["pq"]["s2"]
               and r["auto"]["bytes"] <= 0.9 * r["pq"]["bytes"])
    print(f"\nGoal (auto score >= pngquant's at <= 0.9x its bytes): {goal} of {len(rows)}")
    print(f"Targets missed: {len(misses)}")
    for miss in misses:
        print(f"  MISS {miss}")


def speed(args) -> None:
    image = load_image(args.speed)
    pixels = image.pixels
    palette = last(steps(pixels, QuantizeSettings(k=256, dither="none"))).palette
    remap(pixels[:64, :64], palette, "oklab", "auto")  # warm-up
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.repeat):
        for mode in MODES:
            started, cpu_started = time.perf_counter(), time.process_time()
            remap(pixels, palette, "oklab", mode)
            times[mode].append(time.perf_counter() - started)
            cpu[mode].append(time.process_time() - cpu_started)
    print(f"\nRemap of {Path(args.speed).name} ({image.width}x{image.height}) at k = 256, "
          f"median of {args.repeat}:")
    medians = {mode: statistics.median(t) for mode, t in times.items()}
    for mode, m in medians.items():
        print(f"  {mode:<8} {m:6.3f} s   (CPU {statistics.median(cpu[mode]):6.3f} s, all threads)")
    print(f"  auto: {medians['auto']:.3f} s (target 1.2 s, ratio "
          f"{medians['auto'] / 1.2:.2f}); auto / fs {medians['auto'] / medians['fs']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*")
    parser.add_argument("--pngquant", default="pngquant")
    parser.add_argument("--metric-python", default="python3",
                        help="a Python interpreter with the ssimulacra2 package")
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--jobs", type=int, default=2, help="metric processes")
    parser.add_argument("--speed", help="large image for the remap timing")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.images:
        quality(args)
    if args.speed:
        speed(args)


if __name__ == "__main__":
    main()
