"""Targets that choose k: their cost, their accuracy, and what the curve's estimates miss.

Usage:
  uv run python benchmarks/k_targets.py timing PNGQUANT LARGE PHOTO [--repeats 3]
  uv run python benchmarks/k_targets.py accuracy IMAGE... [--dither MODE]
  uv run python benchmarks/k_targets.py estimates IMAGE... [--chart] [--dither MODE]

``timing``: whole-process time of ``kmeans-compress --max-delta-e D`` and
``--max-size S`` against a fixed ``-k K`` run at the k the target picked
(target: <= 1.6x) and against ``pngquant --quality 0-Q`` with Q the
setting whose calibrated ΔE is closest to what the target delivered
(target: <= 0.8x); runs interleaved, medians. Like for like: with
``--dither none`` (the default) our runs do not dither and pngquant gets
``--nofs``; with ``--dither default`` both dither as they do by default.

``accuracy``: for each image and target, the search's k against the
exhaustive answer (the user's settings at every grid k, then at every k
between the grid points around both answers) in grid steps (target: <= 1),
and whether the written result meets the target, measured on the decoded
file over all pixels.

``estimates``: the curve's sampled figures against the real ones: the size
estimate from bands of rows and the sampled ΔE (against the colour table
over every pixel, or with dithering the whole remapped image's figure),
relative error per k, and the curve's time. ``--chart`` samples as the
window's chart does, ``--dither`` sets the mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.cli.targets import QUALITY_TABLE
from kmeans_gui.core import QuantizeSettings, build_histogram, kscan, load_image
from kmeans_gui.core.kscan import K_STEPS, ColourTable, KCost, Target, delta_e_of, scan, search


def cli(*args) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kmeans_gui.cli", *map(str, args)],
                          capture_output=True, text=True)
    return time.perf_counter() - started, proc


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - started


def comparable_quality(delta_e: float) -> int:
    return min(QUALITY_TABLE[:-1], key=lambda row: abs(row[1] - delta_e))[0]


def timing(args) -> None:
    targets = {args.large: [("--max-delta-e", "2"), ("--max-size", "2M")],
               args.photo: [("--max-delta-e", "1"), ("--max-size", "250K")]}
    ours, theirs = (["--dither", "none"], ["--nofs"]) if args.dither == "none" else ([], [])
    print(f"dithering: {'none (pngquant --nofs)' if theirs else 'each tool default'}")
    print(f"{'image':<18}{'target':<20}{'k':>4}{'ΔE':>6} | {'target s':>9}{'-k s':>7}"
          f"{'pq s':>7} | {'t/k':>6}{'t/pq':>6}  (pngquant --quality 0-Q)")
    with tempfile.TemporaryDirectory() as tmp:
        for image, pairs in targets.items():
            source = Path(tmp) / "in.png"
            Image.fromarray(load_image(image).pixels).save(source)
            for flag, value in pairs:
                out = Path(tmp) / "t.png"
                _, proc = cli(image, flag, value, *ours, "--json", "-o", out, "--force")
                record = json.loads(proc.stdout)
                if not record["ok"]:
                    print(f"{Path(image).name[:17]:<18}{flag + ' ' + value:<20} failed: "
                          f"{record['error']}")
                    continue
                k, figure = record["k"], record["delta_e"]
                q = comparable_quality(figure)
                runs = {"target": [], "fixed": [], "pngquant": []}
                for _ in range(args.repeats):
                    runs["target"].append(cli(image, flag, value, *ours, "-o", out,
                                              "--force")[0])
                    runs["fixed"].append(cli(image, "-k", k, *ours, "-o", Path(tmp) / "k.png",
                                             "--force")[0])
                    runs["pngquant"].append(timed([args.pngquant, "--quality", f"0-{q}",
                                                   *theirs, "--force", "--output",
                                                   str(Path(tmp) / "pq.png"), str(source)]))
                m = {key: statistics.median(v) for key, v in runs.items()}
                print(f"{Path(image).name[:17]:<18}{flag + ' ' + value:<20}{k:>4}"
                      f"{figure:>6.2f} | {m['target']:>9.2f}{m['fixed']:>7.2f}"
                      f"{m['pngquant']:>7.2f} | {m['target'] / m['fixed']:>6.2f}"
                      f"{m['target'] / m['pngquant']:>6.2f}  (Q={q})", flush=True)
    print("targets: t/k <= 1.6, t/pq <= 0.8 (pngquant reads the image as PNG; our runs "
          "read the original file)")


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


def grid_steps(a: int, b: int) -> int:
    """How many grid points lie between a and b (0: the same grid interval)."""
    grid = [1, *K_STEPS]
    lo, hi = sorted((a, b))
    return sum(1 for g in grid if lo < g <= hi) if lo != hi else 0


def exhaustive(good, want_smallest: bool, around: int, fine: bool) -> tuple[int, int, int]:
    """The answer over every grid k; with ``fine`` also over every k of the grid
    interval holding it and of the one holding ``around`` (the search's).
    Returns (answer, low, high): the answer lies in [low, high] (equal if fine)."""
    grid = [1, *K_STEPS]
    passing = [g for g in grid if good(g)]
    if not passing:
        return -1, -1, -1
    anchor = min(passing) if want_smallest else max(passing)
    j = grid.index(anchor)
    if want_smallest:
        low, high = (grid[j - 1] + 1 if j else 1), anchor
    else:
        low, high = anchor, (grid[j + 1] - 1 if j + 1 < len(grid) else anchor)
    if not fine:
        return anchor, low, high
    ks = set(range(low, high + 1))
    i = max(g for g in grid if g <= around)
    ks.update(range(i, grid[min(len(grid) - 1, grid.index(i) + 1)] + 1))
    answers = [k for k in sorted(ks) if good(k)] or [anchor]
    best = min(answers) if want_smallest else max(answers)
    return best, best, best


def _accuracy_rows(path: str, fine_pixels: int, dither: str | None) -> tuple[int, bool]:
    """Print one image's rows; returns (worst grid steps, every file met)."""
    worst = 0
    all_met = True
    image = load_image(path)
    pixels = image.pixels
    hist = build_histogram(pixels)
    settings = QuantizeSettings()
    if dither is not None:
        settings = dataclasses.replace(settings, dither=dither)
    cost = KCost(pixels, settings, histogram=hist, icc_profile=image.icc_profile,
                 dpi=image.dpi)
    delta_es: dict[int, float] = {}
    sizes: dict[int, int] = {}

    def delta_e(k: int) -> float:
        """ΔE of the user's settings at k, computed once."""
        if k not in delta_es:
            delta_es[k] = cost.final(k).delta_e
        return delta_es[k]

    def size(k: int) -> int:
        if k not in sizes:
            final = cost.final(k)
            sizes[k], delta_es[k] = len(final.data), final.delta_e
        return sizes[k]

    fine = pixels.shape[0] * pixels.shape[1] <= fine_pixels
    size32 = size(32)
    for target in (Target(max_delta_e=2.0), Target(max_delta_e=1.0),
                   Target(max_bytes=size32)):
        started = time.perf_counter()
        found = search(cost, target)
        seconds = time.perf_counter() - started
        by_size = target.max_bytes is not None
        name = f"size {target.max_bytes // 1024}K" if by_size else \
            f"ΔE {target.max_delta_e:g}"
        if not found.met:
            print(f"{Path(path).name[:25]:<26}{name:<14} not met: {found.why}")
            continue
        limit = target.max_bytes if by_size else target.max_delta_e
        if by_size:
            want, low, high = exhaustive(lambda k, limit=limit: size(k) <= limit, False,
                                         found.k, fine)
        else:
            want, low, high = exhaustive(lambda k, limit=limit: delta_e(k) <= limit, True,
                                         found.k, fine)
        data = found.final.data
        real = delta_e_of(pixels, decoded(data)[..., :pixels.shape[2]])
        met = len(data) <= target.max_bytes if by_size else real <= target.max_delta_e
        all_met &= met
        steps = max(grid_steps(found.k, low), grid_steps(found.k, high))
        want = want if low == high else f"{low}-{high}"
        worst = max(worst, steps)
        print(f"{Path(path).name[:25]:<26}{name:<14}{found.k:>4}{want!s:>8}{steps:>6}"
              f"{real:>9.3f}{len(data):>10}{'yes' if met else 'NO':>5}{seconds:>6.2f}",
              flush=True)
    return worst, all_met


def accuracy(args) -> None:
    print(f"exh.: the exhaustive answer (a range: images over {args.fine_pixels} pixels are "
          "scanned on the grid only, so the answer lies in it); steps: grid steps from it, "
          "at worst")
    print(f"{'image':<26}{'target':<14}{'k':>4}{'exh.':>8}{'steps':>6}{'real ΔE':>9}"
          f"{'bytes':>10}{'met':>5}{'s':>6}")
    worst = 0
    all_met = True
    for path in args.images:
        steps, met = _accuracy_rows(path, args.fine_pixels, args.dither)
        worst = max(worst, steps)
        all_met &= met
    print(f"worst distance from the exhaustive answer: {worst} grid steps (target <= 1); "
          f"every file meets its target: {all_met}")


def estimates(args) -> None:
    settings = dataclasses.replace(QuantizeSettings(), dither=args.dither) \
        if args.dither else QuantizeSettings()
    sampling = {}
    if args.chart:  # the window's curve samples fewer pixels than the command line
        from kmeans_gui.gui.kcurve import CHART_ROW_SHARE, CHART_TABLE_PIXELS
        sampling = {"table_pixels": CHART_TABLE_PIXELS, "row_share": CHART_ROW_SHARE}
    print(f"sampling: {'the chart' if args.chart else 'the command line'}'s, "
          f"dither {settings.dither}")
    for path in args.images:
        image = load_image(path)
        pixels = image.pixels
        cost = KCost(pixels, settings, **sampling)
        if cost.table is not None and not cost.table.exact:
            saved = kscan.TABLE_SAMPLE_PIXELS
            kscan.TABLE_SAMPLE_PIXELS = pixels.shape[0] * pixels.shape[1]
            exact_table = ColourTable.of(pixels)
            kscan.TABLE_SAMPLE_PIXELS = saved
        else:
            exact_table = cost.table
        size_errors, de_errors = [], []
        started = time.perf_counter()
        curve = list(scan(cost))
        curve_s = time.perf_counter() - started
        for point in curve:
            state_palette = point.palette
            at_k = dataclasses.replace(settings, k=point.k)
            result = kscan.finish(pixels, _state(state_palette), at_k)
            real_size = len(cost.encode(result))
            size_errors.append(point.size / real_size - 1)
            if exact_table is not None:
                real_delta_e = exact_table.delta_e(state_palette, "oklab")
            else:  # dithered: the figure of the whole remapped image, pixel by pixel
                real_delta_e = delta_e_of(pixels, result.palette[result.indices])
            de_errors.append(point.delta_e / real_delta_e - 1 if real_delta_e else 0.0)
        name = Path(path).name[:25]
        median_error = 100 * statistics.median(size_errors)
        print(f"{name:<26} size est. error: median {median_error:+.1f} %"
              f", worst {100 * max(size_errors, key=abs):+.1f} %; ΔE sample error: median "
              f"{100 * statistics.median(de_errors):+.2f} %, worst "
              f"{100 * max(de_errors, key=abs):+.2f} % | curve {curve_s:.2f} s",
              flush=True)


def _state(palette: np.ndarray):
    from kmeans_gui.core import KMeansState
    return KMeansState(0, 0.0, 0.0, palette, 0.0, True, "", np.zeros(0, np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("timing")
    t.add_argument("pngquant")
    t.add_argument("large")
    t.add_argument("photo")
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--dither", choices=("none", "default"), default="none")
    a = sub.add_parser("accuracy")
    a.add_argument("images", nargs="+")
    a.add_argument("--fine-pixels", type=int, default=4_000_000,
                   help="scan every k near the answer for images up to this size")
    a.add_argument("--dither", choices=("none", "fs", "auto", "ordered"), default=None,
                   help="dithering mode (default: the default settings')")
    e = sub.add_parser("estimates")
    e.add_argument("images", nargs="+")
    e.add_argument("--chart", action="store_true",
                   help="sample as the window's k vs cost chart does")
    e.add_argument("--dither", choices=("none", "fs", "auto", "ordered"), default=None,
                   help="dithering mode (default: the default settings')")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    {"timing": timing, "accuracy": accuracy, "estimates": estimates}[args.mode](args)


if __name__ == "__main__":
    main()
