"""Everyday images: kmeans-compress against pngquant, whole process, every size.

    uv run python benchmarks/everyday_vs_pngquant.py --images ../shared/images \
        [--pngquant PATH] [--runs 5] [--skip time,dithered,startup,batch,bytes,max]

Inputs, all made once as PNG files in a temporary folder: the 24 MP mosaic
(``IMAGES/large/mosaic_24mp.jpg``) resized to 0.3, 1, 2, 4, 8 and 24 MP, the
images of ``IMAGES/graphics/`` and the photos directly in ``IMAGES``.

* time: ``kmeans-compress IN -k K -o OUT --dither none`` (default effort)
  against ``pngquant --nofs K`` on the same PNG, k = 16 and 256, the two run in
  turn (A B A B ...) so machine noise hits both alike; medians of wall time
  and of CPU time (user + system), the ratio of each pair's times, output
  bytes and peak memory (maxrss of each process, from ``wait4``);
* dithered: the same with our default dithering against pngquant's default
  (which dithers);
* startup: ``kmeans-compress --version``, and process start to the 0.3 MP
  image decoded (the loader returning: every pixel, so an upper bound on the
  first one), read from the same monotonic clock in both processes;
* batch: 100 different 0.3 MP crops, ``--jobs 2`` against pngquant two at a
  time (``xargs -P2``);
* bytes: every image at k = 16, 64 and 256 against ``pngquant --nofs``;
* max: ``--effort max`` on the same images: its bytes against pngquant's and
  against the default effort's, and its time.

Run it with bytecode compiled (``python -m compileall -q .venv kmeans_gui``),
as installed users have it. pngquant is found on PATH unless given.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

SIZES_MP = (0.3, 1, 2, 4, 8, 24)
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")


def kmeans_compress() -> list[str]:
    script = Path(sys.executable).with_name("kmeans-compress")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kmeans_gui.cli"]


class Run:
    """One finished process: wall and CPU seconds, peak resident MiB."""

    def __init__(self, command: list[str], stdin=None) -> None:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        self.wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        # pngquant exits 99 when it cannot reach its quality target; it still writes.
        if proc.returncode not in (0, 99):
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n"
                             f"{err.decode(errors='replace')}")
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak_mib = usage.ru_maxrss / 1024


def resized(mosaic: Image.Image, mp: float) -> Image.Image:
    """``mosaic`` resized to about ``mp`` megapixels, its aspect kept (Lanczos)."""
    width, height = mosaic.size
    scale = math.sqrt(mp * 1e6 / (width * height))
    size = (round(width * scale), round(height * scale))
    return mosaic if size == mosaic.size else mosaic.resize(size, Image.LANCZOS)


def make_inputs(images: Path, folder: Path) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {"mosaic": [], "graphics": [], "photos": []}
    with Image.open(images / "large" / "mosaic_24mp.jpg") as mosaic:
        mosaic = mosaic.convert("RGB")
        width, height = mosaic.size
        for mp in SIZES_MP:
            image = resized(mosaic, mp)
            target = folder / f"mosaic-{mp:g}mp.png"
            image.save(target, compress_level=6)
            sets["mosaic"].append(target)
        crops = folder / "crops"  # for the batch: 100 different 0.3 MP crops
        crops.mkdir()
        for i in range(100):
            left = (i % 10) * (width - 671) // 9
            top = (i // 10) * (height - 447) // 9
            mosaic.crop((left, top, left + 671, top + 447)).save(crops / f"c{i:03d}.png",
                                                                 compress_level=6)
    for name, source_dir in (("graphics", images / "graphics"), ("photos", images)):
        for source in sorted(source_dir.iterdir()):
            if source.suffix.lower() not in PHOTO_SUFFIXES or source.name.startswith("."):
                continue
            target = folder / f"{name}-{source.stem}.png"
            if source.suffix.lower() == ".png":
                shutil.copyfile(source, target)
            else:
                with Image.open(source) as image:
                    image.convert("RGB").save(target, compress_level=6)
            sets[name].append(target)
    return sets


def megapixels(path: Path) -> float:
    with Image.open(path) as image:
        return image.size[0] * image.size[1] / 1e6


def ours(png: Path, k: int, out: Path, *extra: str, dithered: bool = False) -> list[str]:
    dither = [] if dithered else ["--dither", "none"]  # dithered: our default mode
    return [*kmeans_compress(), str(png), "-k", str(k), *dither, "-o", str(out),
            "--force", "-q", *extra]


def theirs(pngquant: str, png: Path, k: int, out: Path, dithered: bool = False) -> list[str]:
    nofs = [] if dithered else ["--nofs"]  # dithered: pngquant's default
    return [pngquant, *nofs, "--force", "--output", str(out), str(k), str(png)]


def med(values) -> float:
    return statistics.median(values)


def paired(a_cmd: list[str], b_cmd: list[str], runs: int) -> tuple[list[Run], list[Run]]:
    Run(a_cmd), Run(b_cmd)  # warm-up: page cache, and the first start of each
    a_runs, b_runs = [], []
    for _ in range(runs):
        a_runs.append(Run(a_cmd))
        b_runs.append(Run(b_cmd))
    return a_runs, b_runs


def time_table(sets, pngquant: str, runs: int, folder: Path, dithered: bool = False) -> None:
    if dithered:
        print("\n## Time, whole process, default effort, default dithering, "
              "vs pngquant's default (dithered)")
    else:
        print("\n## Time, whole process, default effort, no dithering, vs pngquant --nofs")
    print(f"(median of {runs} interleaved pairs; ratio = median of the pairs' ours/theirs)")
    print(f"{'image':<34} {'MP':>5} {'k':>4} {'ours s':>7} {'pq s':>7} {'wall x':>7} "
          f"{'cpu x':>6} {'ours B':>10} {'pq B':>10} {'bytes x':>7} {'ours MiB':>8} "
          f"{'pq MiB':>7}")
    worst: dict[str, float] = {}
    for group in ("mosaic", "graphics", "photos"):
        for png in sets[group]:
            mp = megapixels(png)
            for k in (16, 256):
                a_out, b_out = folder / "t-ours.png", folder / "t-pq.png"
                a, b = paired(ours(png, k, a_out, dithered=dithered),
                              theirs(pngquant, png, k, b_out, dithered), runs)
                wall = med(x.wall / y.wall for x, y in zip(a, b, strict=True))
                cpu = med(x.cpu / y.cpu for x, y in zip(a, b, strict=True))
                size_a, size_b = a_out.stat().st_size, b_out.stat().st_size
                band = "0.3 MP" if mp < 0.75 else "1-24 MP"
                key = f"{band}, k={k}"
                worst[key] = max(worst.get(key, 0.0), wall)
                print(f"{png.stem:<34} {mp:5.1f} {k:>4} {med(x.wall for x in a):7.3f} "
                      f"{med(x.wall for x in b):7.3f} {wall:7.2f} {cpu:6.2f} {size_a:>10,} "
                      f"{size_b:>10,} {size_a / size_b:7.3f} {max(x.peak_mib for x in a):8.1f} "
                      f"{max(x.peak_mib for x in b):7.1f}", flush=True)
    targets = "<= 0.6x" if dithered else "<= 1.0x below 1 MP, <= 0.5x at 1-24 MP"
    print("worst wall-time ratio: " + ", ".join(f"{key} {v:.2f}x" for key, v in worst.items())
          + f"  (targets: {targets})")


DECODED_PROBE = """
import sys, time
def mark(what):
    sys.stderr.write(f"{what} {time.monotonic()!r} {time.process_time()!r}\\n")
import importlib.machinery
class Patch:
    # Wraps functions of modules as they are imported (importing them here
    # would import numpy before the command even starts). A plain class, not
    # importlib.abc.MetaPathFinder: that import pulls in importlib.resources,
    # typing, pathlib and tempfile, tens of ms the command itself never spends.
    def find_spec(self, name, path, target=None):
        if name not in ("kmeans_gui.core._native.unfilter", "kmeans_gui.cli.worker"):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            if name.endswith("unfilter"):
                real_unfilter = module.unfilter_into
                def unfilter_into(width, height, channels, pieces, out):
                    def watched():
                        first = True
                        for piece in pieces:
                            yield piece
                            if first:  # C has unfiltered the rows of the first piece
                                mark("first-rows-at")
                                first = False
                    ok = real_unfilter(width, height, channels, watched(), out)
                    mark("all-rows-at")
                    return ok
                module.unfilter_into = unfilter_into
            else:
                real = module.load_image
                def timed(*args, **kwargs):
                    image = real(*args, **kwargs)
                    mark("decoded-at")
                    return image
                module.load_image = timed
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Patch())
from kmeans_gui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def startup(sets, runs: int, folder: Path) -> None:
    print(f"\n## Start-up (median of {runs})")
    version = [Run([*kmeans_compress(), "--version"]) for _ in range(runs + 1)][1:]
    print(f"kmeans-compress --version: {med(r.wall for r in version) * 1000:.0f} ms wall, "
          f"{med(r.cpu for r in version) * 1000:.0f} ms CPU (target <= 50 ms)")
    small = folder / "mosaic-0.3mp.png"
    marks: dict[str, tuple[list[float], list[float]]] = {}
    for _ in range(runs + 1):
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", DECODED_PROBE, str(small), "-k", "16",
                               "-o", str(folder / "s.png"), "--force", "-q"],
                              capture_output=True, text=True)
        for line in proc.stderr.splitlines():
            what, at, cpu = line.split()
            walls, cpus = marks.setdefault(what, ([], []))
            walls.append(float(at) - started)
            cpus.append(float(cpu))
    # The CPU time the process (all its threads) had used by then: on a busy
    # machine the wall time mostly measures the wait for a core. The first
    # rows are decoded by the reading thread (standard library and the C
    # unfilter, no numpy) while the main thread still imports numpy; "ready"
    # is the loader returning the whole image as a numpy array.
    names = {"first-rows-at": "first rows decoded", "all-rows-at": "every row decoded",
             "decoded-at": "image ready (numpy array)"}
    for what, label in names.items():
        if what in marks:
            walls, cpus = marks[what]
            print(f"process start -> {small.stem} {label}: {med(walls[1:]) * 1000:.0f} ms "
                  f"wall, {med(cpus[1:]) * 1000:.0f} ms CPU in the process (target <= 80 ms)")


def batch(sets, pngquant: str, runs: int, folder: Path) -> None:
    files = sorted(str(p) for p in (folder / "crops").iterdir())
    out_a, out_b = folder / "batch-ours", folder / "batch-pq"
    a_cmd = [*kmeans_compress(), *files, "-k", "16", "--dither", "none", "--jobs", "2",
             "--out-dir", str(out_a), "--force", "-q"]
    b_cmd = ["sh", "-c", f"mkdir -p {out_b} && printf '%s\\n' \"$@\" | xargs -P2 -I{{}} "
             f"sh -c '{pngquant} --nofs --force --output {out_b}/$(basename {{}}) 16 {{}} "
             "|| [ $? = 99 ]'", "sh", *files]
    out_a.mkdir(exist_ok=True)
    a, b = paired(a_cmd, b_cmd, max(1, runs // 2))
    ratio = med(x.wall / y.wall for x, y in zip(a, b, strict=True))
    print(f"\n## Batch: 100 images of 0.3 MP, k=16 (median of {max(1, runs // 2)} pairs)")
    print(f"kmeans-compress --jobs 2: {med(x.wall for x in a):.2f} s; pngquant xargs -P2: "
          f"{med(x.wall for x in b):.2f} s; ratio {ratio:.2f}x (target <= 0.55x)")
    # CPU time of every process of each run (children included): what the
    # ratio would be on a machine whose cores are free, where wall follows CPU.
    cpu = med(x.cpu / y.cpu for x, y in zip(a, b, strict=True))
    print(f"CPU time: {med(x.cpu for x in a):.2f} s against {med(x.cpu for x in b):.2f} s, "
          f"ratio {cpu:.2f}x")


def all_images(sets, limit_mp: float) -> list[Path]:
    return [p for group in ("mosaic", "graphics", "photos") for p in sets[group]
            if megapixels(p) <= limit_mp]


def bytes_table(sets, pngquant: str, folder: Path, max_effort: bool) -> None:
    title = "--effort max" if max_effort else "default effort"
    print(f"\n## Bytes, {title}, no dithering, vs pngquant --nofs")
    print(f"{'image':<34} " + " ".join(f"{'k=' + str(k):>8}" for k in (16, 64, 256))
          + ("   max/auto bytes, max s, auto s (k=16/64/256)" if max_effort else ""))
    ratios = []
    for png in all_images(sets, 4.5 if max_effort else 8.5):
        cells, extra = [], []
        for k in (16, 64, 256):
            a_out, b_out = folder / "b-ours.png", folder / "b-pq.png"
            Run(theirs(pngquant, png, k, b_out))
            if max_effort:
                auto = Run(ours(png, k, a_out))
                auto_bytes = a_out.stat().st_size
                run = Run(ours(png, k, a_out, "--effort", "max"))
                extra.append(f"{a_out.stat().st_size / auto_bytes:.3f} {run.wall:.2f} "
                             f"{auto.wall:.2f}")
            else:
                Run(ours(png, k, a_out))
            ratio = a_out.stat().st_size / b_out.stat().st_size
            ratios.append(ratio)
            cells.append(f"{ratio:8.3f}")
        print(f"{png.stem:<34} " + " ".join(cells) + ("   " + " | ".join(extra)
                                                     if extra else ""), flush=True)
    over = sum(r > 0.97 for r in ratios)
    print(f"{title}: median {med(ratios):.3f}x, worst {max(ratios):.3f}x, "
          f"{over} of {len(ratios)} above 0.97x (target: none above 0.97x, goal 0.90x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True,
                        help="the shared test images folder (with large/ and graphics/)")
    parser.add_argument("--pngquant", default=shutil.which("pngquant"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: "
                        "time,dithered,startup,batch,bytes,max")
    parser.add_argument("--only", default="",
                        help="time only the inputs whose name contains this")
    parser.add_argument("--make-inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_inputs:
        make_inputs(args.images, args.make_inputs)
        return
    if not args.pngquant:
        raise SystemExit("pngquant not found: give --pngquant PATH")
    skip = set(filter(None, args.skip.split(",")))
    version = subprocess.run([args.pngquant, "--version"], capture_output=True,
                             text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()
    print(f"commit {commit or '?'}, python {sys.version.split()[0]}, pngquant {version}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="kmeans-everyday-") as tmp:
        folder = Path(tmp)
        # Made in a child process: a child forked from a parent holding the
        # decoded mosaic would report the parent's memory as its own peak.
        subprocess.run([sys.executable, __file__, "--images", str(args.images),
                        "--make-inputs", str(folder)], check=True)
        sets = {g: sorted(folder.glob(f"{g}-*.png")) for g in ("mosaic", "graphics", "photos")}
        sets["mosaic"].sort(key=lambda p: float(p.stem.split("-")[1][:-2]))
        if args.only:
            sets = {g: [p for p in ps if args.only in p.name] for g, ps in sets.items()}
        if "time" not in skip:
            time_table(sets, args.pngquant, args.runs, folder)
        if "dithered" not in skip:
            time_table(sets, args.pngquant, args.runs, folder, dithered=True)
        if "startup" not in skip:
            startup(sets, args.runs, folder)
        if "batch" not in skip:
            batch(sets, args.pngquant, args.runs, folder)
        if "bytes" not in skip:
            bytes_table(sets, args.pngquant, folder, max_effort=False)
        if "max" not in skip:
            bytes_table(sets, args.pngquant, folder, max_effort=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
