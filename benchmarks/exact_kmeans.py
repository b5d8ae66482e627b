"""Small photos, where K-Means runs on the exact colour groups: time and quality.

    uv run python benchmarks/exact_kmeans.py --images ../shared/images \
        [--pngquant PATH] [--baseline OTHER_KMEANS_COMPRESS] [--runs 5] \
        [--ssim-python PYTHON] [--skip time,quality] [--k 16 64 256]

Inputs (made once as PNG in a temporary folder): the photos directly in
``IMAGES`` and the 24 MP mosaic resized to 0.3 and 1 MP.

* time: ``kmeans-compress IN -k K -o OUT --dither none`` against
  ``pngquant --nofs K`` (and against ``--baseline``, another build's
  ``kmeans-compress``, when given), run in turn (A [B] P A [B] P ...) so machine
  noise hits all alike; medians of wall and CPU time (user + system) and the
  median of each round's ratio. Run with bytecode compiled
  (``python -m compileall -q .venv kmeans_gui``).
* quality: every image at every k, undithered: the mean OKLab ΔE×100 (the
  app's own metric) and, with ``--ssim-python`` (an interpreter that has the
  ``ssimulacra2`` module; never a project dependency), SSIMULACRA2 of the
  decoded output against the input; with ``--baseline`` the same for it, the
  differences, and whether the two files are byte-identical.
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

import numpy as np
from PIL import Image

from kmeans_gui.core.quantizer.metrics import oklab_delta_e

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")
TIMED = ("astronaut", "coffee", "chelsea", "camera", "horse", "hubble_deep_field",
         "mosaic-0.3mp", "mosaic-1mp")


def kmeans_compress() -> str:
    script = Path(sys.executable).with_name("kmeans-compress")
    return str(script)


def make_inputs(images: Path, folder: Path) -> list[Path]:
    out = []
    for source in sorted(images.iterdir()):
        if source.suffix.lower() not in PHOTO_SUFFIXES or source.name.startswith("."):
            continue
        target = folder / f"{source.stem}.png"
        if source.suffix.lower() == ".png":
            shutil.copyfile(source, target)
        else:
            with Image.open(source) as image:
                image.convert("RGB").save(target, compress_level=6)
        out.append(target)
    with Image.open(images / "large" / "mosaic_24mp.jpg") as mosaic:
        mosaic = mosaic.convert("RGB")
        width, height = mosaic.size
        for mp in (0.3, 1):
            scale = math.sqrt(mp * 1e6 / (width * height))
            size = (round(width * scale), round(height * scale))
            target = folder / f"mosaic-{mp:g}mp.png"
            mosaic.resize(size, Image.LANCZOS).save(target, compress_level=6)
            out.append(target)
    return out


class Run:
    """One finished process: wall and CPU seconds."""

    def __init__(self, command: list[str]) -> None:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        self.wall = time.perf_counter() - started
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 99):
            raise SystemExit(f"failed ({code}): {' '.join(command)}\n"
                             f"{err.decode(errors='replace')}")
        self.cpu = usage.ru_utime + usage.ru_stime


def ours(program: str, png: Path, k: int, out: Path, seed: int = 0) -> list[str]:
    return [program, str(png), "-k", str(k), "--dither", "none", "-o", str(out), "--force",
            "-q", "--seed", str(seed)]


def theirs(pngquant: str, png: Path, k: int, out: Path) -> list[str]:
    return [pngquant, "--nofs", "--force", "--output", str(out), str(k), str(png)]


def med(values) -> float:
    return statistics.median(values)


def time_table(inputs, ks, pngquant, baseline, runs, folder) -> None:
    print("\n## Time, whole process, --dither none, vs pngquant --nofs")
    print(f"(medians of {runs} interleaved rounds; x = median of the rounds' ratios)")
    head = f"{'image':<20} {'MP':>5} {'k':>4} {'ours s':>7} {'pq s':>6} {'wall x':>7} {'cpu x':>6}"
    if baseline:
        head += f" {'base s':>7} {'base x':>7} {'cpu bx':>7} {'vs base':>7}"
    print(head)
    for png in inputs:
        if png.stem not in TIMED:
            continue
        with Image.open(png) as im:
            mp = im.size[0] * im.size[1] / 1e6
        for k in ks:
            cmds = {"ours": ours(kmeans_compress(), png, k, folder / "o.png"),
                    "pq": theirs(pngquant, png, k, folder / "p.png")}
            if baseline:
                cmds["base"] = ours(baseline, png, k, folder / "b.png")
            for cmd in cmds.values():
                Run(cmd)  # warm-up
            got = {name: [] for name in cmds}
            for _ in range(runs):
                for name, cmd in cmds.items():
                    got[name].append(Run(cmd))
            o, p = got["ours"], got["pq"]
            line = (f"{png.stem:<20} {mp:5.2f} {k:4d} {med(r.wall for r in o):7.3f} "
                    f"{med(r.wall for r in p):6.3f} "
                    f"{med(a.wall / b.wall for a, b in zip(o, p, strict=True)):6.2f}x "
                    f"{med(a.cpu / b.cpu for a, b in zip(o, p, strict=True)):5.2f}x")
            if baseline:
                b = got["base"]
                line += (f" {med(r.wall for r in b):7.3f} "
                         f"{med(a.wall / c.wall for a, c in zip(b, p, strict=True)):6.2f}x "
                         f"{med(a.cpu / c.cpu for a, c in zip(b, p, strict=True)):6.2f}x "
                         f"{med(a.wall / c.wall for a, c in zip(o, b, strict=True)):6.2f}x")
            print(line, flush=True)


def decoded(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


SSIM_SCRIPT = """
import sys
from ssimulacra2 import compute_ssimulacra2
args = sys.argv[1:]
for i in range(0, len(args), 2):
    print(compute_ssimulacra2(args[i], args[i + 1]))
"""


def ssim_scores(python: str | None, pairs: list[tuple[Path, Path]]) -> list[float]:
    if not python:
        return [math.nan] * len(pairs)
    flat = [str(p) for pair in pairs for p in pair]
    out = subprocess.run([python, "-c", SSIM_SCRIPT, *flat], check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(v) for v in out]


def quality_table(inputs, ks, baseline, ssim_python, folder, seeds) -> None:
    print("\n## Quality, undithered: mean OKLab ΔE×100 and SSIMULACRA2 against the input")
    if len(seeds) > 1:
        print(f"(means over seeds {', '.join(map(str, seeds))}; 'spread' = the baseline's "
              "largest minus smallest SSIMULACRA2 over the seeds)")
    head = f"{'image':<20} {'k':>4} {'ΔE':>6} {'ssim2':>6}"
    if baseline:
        head += f" {'base ΔE':>7} {'base s2':>7} {'dΔE':>6} {'ds2':>6} same"
        if len(seeds) > 1:
            head += " spread"
    print(head)
    rows = []
    for png in inputs:
        ref = png
        with Image.open(png) as im:
            if im.mode != "RGB":  # the metric reads RGB: compare like with like
                ref = folder / f"{png.stem}-rgb.png"
                im.convert("RGB").save(ref)
        original = decoded(png)
        for k in ks:
            got = {"ours": [], "base": []}
            same = True
            for seed in seeds:
                out = folder / f"q-{png.stem}-{k}-{seed}.png"
                Run(ours(kmeans_compress(), png, k, out, seed))
                pairs = [(ref, out)]
                if baseline:
                    base = folder / f"qb-{png.stem}-{k}-{seed}.png"
                    Run(ours(baseline, png, k, base, seed))
                    pairs.append((ref, base))
                    same = same and out.read_bytes() == base.read_bytes()
                scores = ssim_scores(ssim_python, pairs)
                got["ours"].append((oklab_delta_e(original, decoded(out)), scores[0]))
                if baseline:
                    got["base"].append((oklab_delta_e(original, decoded(base)), scores[1]))
            de = statistics.mean(v[0] for v in got["ours"])
            s2 = statistics.mean(v[1] for v in got["ours"])
            line = f"{png.stem:<20} {k:4d} {de:6.3f} {s2:6.2f}"
            if baseline:
                bde = statistics.mean(v[0] for v in got["base"])
                bs2 = statistics.mean(v[1] for v in got["base"])
                line += (f" {bde:7.3f} {bs2:7.2f} {de - bde:+6.3f} {s2 - bs2:+6.2f} "
                         f"{'yes' if same else 'no ':3}")
                if len(seeds) > 1:
                    spread = [v[1] for v in got["base"]]
                    line += f" {max(spread) - min(spread):6.2f}"
                rows.append((de, s2, bde, bs2, same))
            print(line, flush=True)
    if baseline and rows:
        d_de = [r[0] - r[2] for r in rows]
        d_s2 = [r[1] - r[3] for r in rows]
        print(f"mean dΔE {statistics.mean(d_de):+.4f} (worst {max(d_de):+.3f}); "
              f"mean ds2 {statistics.mean(d_s2):+.3f} (worst {min(d_s2):+.2f}); "
              f"byte-identical {sum(r[4] for r in rows)}/{len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--pngquant", default=shutil.which("pngquant"))
    parser.add_argument("--baseline", help="another build's kmeans-compress, to compare with")
    parser.add_argument("--ssim-python", help="a Python with the ssimulacra2 module")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="quality: average over these seeds (seed noise shows as spread)")
    parser.add_argument("--skip", default="", help="comma-separated: time, quality")
    parser.add_argument("--only", default="", help="comma-separated image stems")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = make_inputs(args.images, folder)
        if args.only:
            keep = set(args.only.split(","))
            inputs = [p for p in inputs if p.stem in keep]
        if "time" not in skip:
            if not args.pngquant:
                raise SystemExit("pngquant not found: give --pngquant PATH")
            time_table(inputs, args.k, args.pngquant, args.baseline, args.runs, folder)
        if "quality" not in skip:
            quality_table(inputs, args.k, args.baseline, args.ssim_python, folder, args.seeds)


if __name__ == "__main__":
    main()
