"""Palette control (issue 17): importance masks, fixed colours, given palettes.

    uv run python benchmarks/palette_control.py [--images DIR] [--mosaic FILE] [--runs 5]
        [--crops OUTDIR]

Prints, with the targets beside them:
  * importance: masks over small salient regions -- the cat's eyes in
    chelsea.png (two ellipses, 4 % of the pixels), the astronaut's face (an
    ellipse, 3.5 %) and her mission patch (a circle, 1.9 %) in astronaut.png;
    mean OKLab Delta E x100 inside the mask and over the whole image, without
    and with the mask, at the same k (with --gains, also at other importance
    gains than the app's: the trade-off between the two);
  * fixed colours: 2-4 colours picked from each image (as the eyedropper
    would: pixels at fixed spots) stay exact; whole-image mean Delta E
    against the unconstrained run and against the naive baseline "adaptive
    palette, then replace the nearest entries with the pinned colours";
  * fixed palette: median time of the full-resolution remap of the 24 MP
    mosaic to a 32-colour palette (and of the whole steps + finish path);
  * weighted histogram: building the 24 MP mosaic's histogram with and
    without per-pixel weights (a painted mask);
  * undo: what the settings history keeps for a painted 24 MP mask, and how
    long taking and restoring a state takes.
All without dithering: the palettes are compared.
With --crops, writes before/after crops of the eyes (the README's figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from kmeans_gui.core import (
    QuantizeSettings,
    build_histogram,
    finish,
    load_image,
    mask_weights,
    parallel,
    quantize,
    remap,
    steps,
)
from kmeans_gui.core.quantizer.colorspace import rgb_to_oklab
from kmeans_gui.limits import IMPORTANCE_GAIN

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"


def delta_e_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel OKLab distance x100."""
    h, w = a.shape[:2]
    d = rgb_to_oklab(a[..., :3].reshape(-1, 3)) - rgb_to_oklab(b[..., :3].reshape(-1, 3))
    return 100.0 * np.sqrt(np.einsum("ij,ij->i", d, d)).reshape(h, w)


def eye_mask(h: int, w: int) -> np.ndarray:
    """The two eyes of chelsea.png (451x300), as a 0/255 mask."""
    y, x = np.mgrid[0:h, 0:w]
    sx, sy = w / 451, h / 300
    left = ((x - 170 * sx) / (36 * sx)) ** 2 + ((y - 116 * sy) / (31 * sy)) ** 2 <= 1
    right = ((x - 318 * sx) / (26 * sx)) ** 2 + ((y - 136 * sy) / (28 * sy)) ** 2 <= 1
    return np.where(left | right, 255, 0).astype(np.uint8)


def face_mask(h: int, w: int) -> np.ndarray:
    """The astronaut's face in astronaut.png (512x512), as a 0/255 mask."""
    y, x = np.mgrid[0:h, 0:w]
    sx, sy = w / 512, h / 512
    face = ((x - 224 * sx) / (49 * sx)) ** 2 + ((y - 122 * sy) / (60 * sy)) ** 2 <= 1
    return np.where(face, 255, 0).astype(np.uint8)


def patch_mask(h: int, w: int) -> np.ndarray:
    """The round mission patch on the astronaut's suit, as a 0/255 mask."""
    y, x = np.mgrid[0:h, 0:w]
    sx, sy = w / 512, h / 512
    patch = ((x - 170 * sx) / (40 * sx)) ** 2 + ((y - 384 * sy) / (40 * sy)) ** 2 <= 1
    return np.where(patch, 255, 0).astype(np.uint8)


IMPORTANCE_CASES = (("chelsea.png", "eyes", eye_mask), ("astronaut.png", "face", face_mask),
                    ("astronaut.png", "patch", patch_mask))


def importance(images: Path, ks, crops: Path | None, gains=()) -> None:
    print(f"importance (gain {IMPORTANCE_GAIN}: white weighs {IMPORTANCE_GAIN}x black)")
    print("  target: inside Delta E -30 % or better, whole image +15 % or less")
    misses = 0
    for name, region, make_mask in IMPORTANCE_CASES:
        pixels = load_image(images / name).pixels
        mask = make_mask(*pixels.shape[:2])
        inside = mask > 0
        print(f" {name}, {region} mask = {inside.mean():.1%} of the pixels")
        weighted = build_histogram(pixels, mask_weights(mask))
        plain_hist = build_histogram(pixels)
        for k in ks:
            settings = QuantizeSettings(k=k, dither="none")
            plain = quantize(pixels, settings, histogram=plain_hist)
            masked = quantize(pixels, settings, histogram=weighted)
            e0 = delta_e_map(pixels, plain.to_rgb())
            e1 = delta_e_map(pixels, masked.to_rgb())
            d_in = e1[inside].mean() / e0[inside].mean() - 1
            d_all = e1.mean() / e0.mean() - 1
            ok = "ok" if d_in <= -0.30 and d_all <= 0.15 else "MISS"
            misses += ok == "MISS"
            line = (f"  k={k:3d}: inside {e0[inside].mean():5.2f} -> {e1[inside].mean():5.2f} "
                    f"({d_in:+.1%}), whole {e0.mean():5.2f} -> {e1.mean():5.2f} "
                    f"({d_all:+.1%})  {ok}")
            for gain in gains:
                other = quantize(pixels, settings, histogram=build_histogram(
                    pixels, 1.0 + (gain - 1) * mask / 255.0))
                e2 = delta_e_map(pixels, other.to_rgb())
                line += (f" | gain {gain:g}: {e2[inside].mean() / e0[inside].mean() - 1:+.1%}"
                         f"/{e2.mean() / e0.mean() - 1:+.1%}")
            print(line)
            if crops is not None and k == ks[0] and region == "eyes":
                _crop(pixels, plain, masked, k, crops)
    print(f"  {misses} of {len(IMPORTANCE_CASES) * len(ks)} cases miss")


def _crop(pixels, plain, masked, k, crops: Path) -> None:
    from PIL import Image
    crops.mkdir(parents=True, exist_ok=True)
    box = (120, 70, 360, 180)
    row = np.hstack([pixels[box[1]:box[3], box[0]:box[2]],
                     plain.to_rgb()[box[1]:box[3], box[0]:box[2]],
                     masked.to_rgb()[box[1]:box[3], box[0]:box[2]]])
    Image.fromarray(row).save(crops / f"importance-eyes-k{k}.png")
    print(f"  wrote {crops / f'importance-eyes-k{k}.png'} (original | k={k} | "
          f"k={k} with the mask)")


def naive_pinned(pixels, settings, keep) -> np.ndarray:
    """Adaptive palette, then each pinned colour replaces its nearest entry."""
    palette = quantize(pixels, settings).palette[:, :3].astype(np.int64).copy()
    free = np.ones(len(palette), bool)
    lab = rgb_to_oklab(palette.astype(np.float64))
    for colour in keep:
        d = ((lab - rgb_to_oklab(np.array([colour], np.float64))) ** 2).sum(axis=1)
        d[~free] = np.inf
        j = int(np.argmin(d))
        palette[j] = colour
        free[j] = False
    palette = palette.astype(np.uint8)
    return palette[remap(pixels, palette)]


def pick_colours(pixels, n, seed) -> tuple[tuple[int, int, int], ...]:
    """``n`` distinct colours of pixels at seeded random spots (eyedropper clicks)."""
    rng = np.random.default_rng(seed)
    h, w = pixels.shape[:2]
    picked: list[tuple[int, int, int]] = []
    while len(picked) < n:
        c = tuple(int(v) for v in pixels[rng.integers(h), rng.integers(w), :3])
        if c not in picked:
            picked.append(c)
    return tuple(picked)


def fixed_colours(images: Path, k: int) -> None:
    names = ["chelsea.png", "coffee.png", "astronaut.png", "flower.jpg", "rocket.jpg"]
    print(f"\nfixed colours at k={k}: whole-image mean Delta E")
    print("  target: pinned <= naive, pinned within +5 % of unconstrained")
    worst_unc = -1.0
    beaten = True
    beaten_sq = True  # in what K-Means minimises: mean squared OKLab distance
    for name in names:
        path = images / name
        if not path.exists():
            continue
        pixels = load_image(path).pixels[..., :3]
        settings = QuantizeSettings(k=k, dither="none")
        e_free = delta_e_map(pixels, quantize(pixels, settings).to_rgb()).mean()
        for n in (2, 3, 4):
            keep = pick_colours(pixels, n, seed=n)
            pinned = quantize(pixels, QuantizeSettings(k=k, keep=keep, dither="none"))
            have = {tuple(int(v) for v in c[:3]) for c in pinned.palette}
            assert set(keep) <= have, "a pinned colour is missing"
            d_pin = delta_e_map(pixels, pinned.to_rgb())
            d_naive = delta_e_map(pixels, naive_pinned(pixels, settings, keep))
            e_pin, e_naive = d_pin.mean(), d_naive.mean()
            beaten_sq &= (d_pin ** 2).mean() <= (d_naive ** 2).mean()
            worst_unc = max(worst_unc, e_pin / e_free - 1)
            beaten &= e_pin <= e_naive
            print(f"  {name:14s} {n} pinned: unconstrained {e_free:5.2f}  naive {e_naive:5.2f}"
                  f"  pinned {e_pin:5.2f}  (vs unconstrained {e_pin / e_free - 1:+.1%}, "
                  f"vs naive {e_pin / e_naive - 1:+.1%})")
    print(f"  never worse than naive in squared error (the K-Means objective): "
          f"{'ok' if beaten_sq else 'MISS'}")
    print(f"  never worse than naive in mean Delta E: {'ok' if beaten else 'MISS'}; "
          f"worst vs unconstrained "
          f"{worst_unc:+.1%} ({'ok' if worst_unc <= 0.05 else 'MISS'})")


def fixed_palette(mosaic: Path, runs: int) -> None:
    pixels = load_image(mosaic).pixels
    sample = pixels[::16, ::16].copy()
    palette = quantize(sample, QuantizeSettings(k=32, dither="none")).palette[:, :3]
    settings = QuantizeSettings(palette=tuple(map(tuple, palette.tolist())), dither="none")
    remap(pixels, palette)  # warm-up
    t_remap, t_all = [], []
    for _ in range(runs):
        started = time.perf_counter()
        remap(pixels, palette)
        t_remap.append(time.perf_counter() - started)
        started = time.perf_counter()
        state = list(steps(pixels, settings))[-1]
        result = finish(pixels, state, settings)
        t_all.append(time.perf_counter() - started)
        assert np.array_equal(result.palette, palette)
    # CPU seconds of the remap on one thread: what a shared, busy machine
    # cannot inflate (wall time there mostly measures the other processes).
    threads = parallel.threads()
    parallel.set_threads(1)
    cpu = []
    for _ in range(runs):
        started = time.process_time()
        remap(pixels, palette)
        cpu.append(time.process_time() - started)
    parallel.set_threads(threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nfixed palette: {mosaic.name} {pixels.shape[1]}x{pixels.shape[0]} to 32 colours, "
          f"median of {runs} (load average {load:.1f} on {os.cpu_count()} cores)")
    m = statistics.median(t_remap)
    print(f"  remap {m:.3f} s  (target <= 0.4 s: {'ok' if m <= 0.4 else 'MISS'}); "
          f"steps + finish {statistics.median(t_all):.3f} s")
    print(f"  remap on one thread: {statistics.median(cpu):.3f} CPU seconds")


def weighted_histogram(mosaic: Path, runs: int) -> None:
    pixels = load_image(mosaic).pixels
    h, w = pixels.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4:h // 2, w // 3:w // 2] = 255
    weights = mask_weights(mask)
    plain, weighted = [], []
    for _ in range(runs):  # interleaved
        started = time.perf_counter()
        build_histogram(pixels)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        build_histogram(pixels, weights)
        weighted.append(time.perf_counter() - started)
    p, q = statistics.median(plain), statistics.median(weighted)
    print(f"\nweighted histogram: {mosaic.name}, a mask over {mask.mean() / 255:.1%}, median "
          f"of {runs}: plain {p:.3f} s, with the weights {q:.3f} s (the weights add "
          f"{q - p:.3f} s)")


def mask_history() -> None:
    """A 24 MP mask loaded, then painted with 50 drags (a history step each),
    each reported by the canvas as one operation per mouse move."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kmeans_gui.gui.palette_control import PaletteControl
    h, w = 4000, 6000
    loaded = np.zeros((h, w), np.uint8)
    loaded[1000:2200, 1500:3900] = 255  # a loaded mask: a large white rectangle
    control = PaletteControl()
    started = time.perf_counter()
    control.set_mask(loaded)
    t_load = time.perf_counter() - started
    rng = np.random.default_rng(0)
    states, t_state, t_drag = [control.state()], [], []
    for _ in range(50):
        at = rng.random(2) * (w, h)
        started = time.perf_counter()
        for _ in range(40):  # 40 mouse moves of about 15 pixels, a 60-pixel brush
            step = at + rng.normal(0, 15, 2)
            control.stroke([tuple(at), tuple(step)], 30.0)
            at = step
        t_drag.append(time.perf_counter() - started)
        started = time.perf_counter()
        states.append(control.state())
        t_state.append(time.perf_counter() - started)
    timings = []
    for target in (states[-2], states[-1], states[0], states[25], states[-1]):
        started = time.perf_counter()
        control.restore_state(target)
        timings.append(time.perf_counter() - started)
    other = PaletteControl()
    other.set_mask(loaded)
    started = time.perf_counter()
    other.restore_state(states[-1])
    t_rebuild = time.perf_counter() - started
    assert np.array_equal(other.mask, control.mask)
    print(f"\nundo with a {w}x{h} mask ({loaded.nbytes / 1e6:.0f} MB as pixels): loaded, "
          f"then 50 drags of 40 mouse moves, each drag a history step")
    print(f"  the history keeps {states[-1].mask.nbytes / 1e3:.0f} KB for all 51 states "
          f"(of it the loaded mask, compressed: {len(states[0].mask.base.data) / 1e3:.0f} KB; "
          f"compressing took {t_load:.2f} s)")
    print(f"  a drag: median {statistics.median(t_drag) * 1e3:.0f} ms painting and recording; "
          f"taking its state {statistics.median(t_state) * 1e3:.2f} ms")
    print(f"  undo one drag {timings[0] * 1e3:.0f} ms, redo it {timings[1] * 1e3:.0f} ms, "
          f"undo all 50 {timings[2] * 1e3:.0f} ms, redo 25 {timings[3] * 1e3:.0f} ms, "
          f"the other 25 {timings[4] * 1e3:.0f} ms; rebuilding the last state from the "
          f"loaded mask {t_rebuild:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=SHARED)
    parser.add_argument("--mosaic", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--crops", type=Path, default=None)
    parser.add_argument("--fixed-k", type=int, default=16)
    parser.add_argument("--gains", type=float, nargs="*", default=(),
                        help="also show the importance results at these gains")
    parser.add_argument("--skip", nargs="*", default=(), choices=(
        "importance", "fixed", "palette", "histogram", "undo"))
    args = parser.parse_args()
    if "importance" not in args.skip:
        importance(args.images, (12, 16, 24, 32), args.crops, args.gains)
    if "fixed" not in args.skip:
        fixed_colours(args.images, args.fixed_k)
    if "palette" not in args.skip:
        fixed_palette(args.mosaic or args.images / "large" / "mosaic_24mp.jpg", args.runs)
    if "histogram" not in args.skip:
        weighted_histogram(args.mosaic or args.images / "large" / "mosaic_24mp.jpg", args.runs)
    if "undo" not in args.skip:
        mask_history()


if __name__ == "__main__":
    main()
