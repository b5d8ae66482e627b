"""Whole-process time of ``kmeans-compress`` against pngquant on the same PNG.

    uv run python benchmarks/cli_vs_pngquant.py IMAGE --pngquant /tmp/pq/bin/pngquant \
        [--pngquant /usr/bin/pngquant] [--batch IMG...] [--runs 3]

IMAGE is converted once to a PNG (the input both tools read). One warm-up run
of kmeans-compress comes first, so both tools then find the input in the page
cache. Runs of the tools are interleaved so machine noise hits
them alike; the script prints medians, output sizes and ratios.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

EFFORTS = ("auto", "small", "fast")


def kmeans_compress() -> list[str]:
    script = Path(sys.executable).with_name("kmeans-compress")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kmeans_gui.cli"]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr}")
    return elapsed


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=Path(__file__).parent).stdout.strip() or "?"
    except OSError:
        return "?"


def pngquant_version(binary: str) -> str:
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "?"


def as_png(source: Path, folder: Path) -> Path:
    target = folder / (source.stem + ".png")
    with Image.open(source) as image:
        image.convert("RGB").save(target, compress_level=6)
    return target


def single_image(source: Path, pngquants: list[str], ks: list[int], runs: int,
                 folder: Path) -> None:
    png = as_png(source, folder)
    with Image.open(png) as image:
        size = image.size
    print(f"input: {png.name} {size[0]}x{size[1]}, {png.stat().st_size:,} bytes")
    ours = kmeans_compress()
    warm = [*ours, str(png), "-k", "16", "-o", str(folder / "warm.png"), "--force", "-q"]
    print(f"warm-up run: {timed(warm):.2f} s")
    for k in ks:
        commands: dict[str, list[str]] = {}
        outputs: dict[str, Path] = {}
        for effort in EFFORTS:
            name = f"kmeans-compress --effort {effort}"
            outputs[name] = folder / f"ours-{effort}-{k}.png"
            commands[name] = [*ours, str(png), "-k", str(k), "--dither", "none",
                              "--effort", effort, "-o", str(outputs[name]), "--force", "-q"]
        for binary in pngquants:
            name = f"pngquant {pngquant_version(binary)} ({binary})"
            outputs[name] = folder / f"pq-{len(outputs)}-{k}.png"
            commands[name] = [binary, "--nofs", "--force", "--output", str(outputs[name]),
                              str(k), str(png)]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(timed(command))
        print(f"\nk={k}: median of {runs} runs (whole process, wall clock)")
        medians = {name: statistics.median(values) for name, values in times.items()}
        reference = next((n for n in medians if n.startswith("pngquant")), None)
        for name, median in medians.items():
            line = (f"  {name:<58} {median:6.2f} s  "
                    f"{outputs[name].stat().st_size:>10,} bytes")
            if reference and not name.startswith("pngquant"):
                line += f"  {median / medians[reference]:.2f}x {reference.split(' (')[0]}'s time"
            print(line + "  [" + " ".join(f"{t:.2f}" for t in times[name]) + "]")


SPIN = [sys.executable, "-c", "x = 0\nfor i in range(20_000_000): x += i"]


def parallel_capacity() -> float:
    """Wall time of two CPU-bound processes over one: 1.0 on two idle cores, 2.0 on one.

    The machine is shared; this says how much --jobs 2 can gain right now.
    """
    one = timed(SPIN)
    started = time.perf_counter()
    procs = [subprocess.Popen(SPIN) for _ in range(2)]
    for proc in procs:
        proc.wait()
    return (time.perf_counter() - started) / one


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def batch(files: list[Path], runs: int, folder: Path) -> None:
    ours = kmeans_compress()
    out_dir = folder / "batch"
    print(f"\nbatch of {len(files)} images, -k 16, median of {runs} runs")
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    capacity = []
    for _ in range(runs):
        capacity.append(parallel_capacity())
        for jobs in times:
            shutil.rmtree(out_dir, ignore_errors=True)
            before = children_cpu()
            times[jobs].append(timed([*ours, *map(str, files), "--out-dir", str(out_dir),
                                      "--jobs", str(jobs), "-q"]))
            cpu[jobs].append(children_cpu() - before)
    medians = {jobs: statistics.median(values) for jobs, values in times.items()}
    for jobs, median in medians.items():
        print(f"  --jobs {jobs}: {median:6.2f} s wall, {statistics.median(cpu[jobs]):6.2f} s CPU"
              "  [" + " ".join(f"{t:.2f}" for t in times[jobs]) + "]")
    print(f"  --jobs 2 / --jobs 1: {medians[2] / medians[1]:.2f}  (two CPU-bound processes "
          f"took {statistics.median(capacity):.2f}x one's time meanwhile; 1.0 = two free cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image", type=Path, help="the image to compress (converted to PNG)")
    parser.add_argument("--pngquant", action="append", default=[],
                        help="a pngquant binary to compare with (repeatable)")
    parser.add_argument("-k", action="append", type=int, dest="ks",
                        help="palette sizes (default 256 and 16)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", nargs="*", type=Path, default=[],
                        help="images for the --jobs 1 vs --jobs 2 batch timing")
    parser.add_argument("--batch-only", action="store_true",
                        help="skip the single-image comparison")
    args = parser.parse_args()
    print(f"commit {git_commit()}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="kmeans-bench-") as tmp:
        folder = Path(tmp)
        if not args.batch_only:
            single_image(args.image, args.pngquant, args.ks or [256, 16], args.runs, folder)
        if args.batch:
            batch(args.batch, args.runs, folder)


if __name__ == "__main__":
    main()
