"""How fast the colour-space view draws.

    uv run python benchmarks/colour_space_view.py [IMAGE] [--points N] [--frames N]
                                                   [--size WxH] [--k K]

Builds the view's sample of IMAGE (default: the bundled sample photo; a photo
with more distinct colours than --points gives a full sample), runs K-Means
to the end, and repaints the view --frames times while rotating it a little
each frame (as dragging does: every frame re-projects and redraws all points),
in both colourings and with a cluster highlighted. Prints the median and
worst frame times and frames per second against the 30 fps target, plus the
time of one per-iteration update (new centroids and labels, recoloured
points). Runs on the default Qt platform (set QT_QPA_PLATFORM=offscreen on a
machine without a display).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def time_updates(panel, states) -> tuple[list[float], list[float]]:
    """Wall and GUI-thread CPU seconds of each iteration's update and redraw."""
    updates, update_cpu = [], []
    for s in states:
        t, c = time.perf_counter(), time.thread_time()
        panel.add_iteration(s.iteration, s.palette, s.labels, s.moved, s.mse, s.converged,
                            s.reason, s.start)
        panel.view.repaint()
        updates.append(time.perf_counter() - t)
        update_cpu.append(time.thread_time() - c)
    return updates, update_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path, nargs="?")
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", default="640x560", help="view size in logical pixels")
    parser.add_argument("--k", type=int, default=16)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from kmeans_gui.appinfo import SAMPLE_IMAGE, asset
    from kmeans_gui.core import build_histogram, kmeans_steps, load_image
    from kmeans_gui.core.quantizer.cloud import sample_histogram
    from kmeans_gui.gui.cloud_panel import ColourSpacePanel

    path = args.image or asset(SAMPLE_IMAGE)
    if not path.is_file():
        parser.error(f"{path}: no such file")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    image = load_image(path)
    started = time.perf_counter()
    hist = build_histogram(image.pixels)
    built = time.perf_counter()
    sample = sample_histogram(hist, args.points)
    sampled = time.perf_counter()
    print(f"{path.name}: {image.width}x{image.height}, {len(hist)} histogram groups; "
          f"histogram {built - started:.3f} s, sample of {len(sample)} points "
          f"{(sampled - built) * 1000:.1f} ms")

    panel = ColourSpacePanel()
    w, h = (int(v) for v in args.size.split("x"))
    panel.view.setFixedSize(w, h)
    panel.show()
    app.processEvents()
    panel.set_image(hist, sample)
    panel.start_run(args.k, "kmeans++", "oklab", args.k <= 32)
    states = list(kmeans_steps(hist, args.k))
    updates, update_cpu = time_updates(panel, states)
    app.processEvents()
    print(f"per-iteration update (labels, centroids, redraw) in own colours: median "
          f"{statistics.median(updates) * 1000:.1f} ms, worst {max(updates) * 1000:.1f} ms "
          f"(CPU median {statistics.median(update_cpu) * 1000:.1f} ms, worst "
          f"{max(update_cpu) * 1000:.1f} ms) over {len(states)} iterations")
    panel.view.set_colouring("cluster")
    updates, update_cpu = time_updates(panel, states)
    print(f"per-iteration update in cluster colours, one cluster highlighted: median "
          f"{statistics.median(updates) * 1000:.1f} ms, worst {max(updates) * 1000:.1f} ms "
          f"(CPU median {statistics.median(update_cpu) * 1000:.1f} ms, worst "
          f"{max(update_cpu) * 1000:.1f} ms)")

    view = panel.view
    for label, colouring, highlight in (("own colours", "own", None),
                                        ("cluster colours", "cluster", None),
                                        ("one cluster highlighted", "cluster", 1)):
        view.set_colouring(colouring)
        view.set_highlight(highlight)
        view.repaint()
        yaw, pitch = view.rotation()
        times, cpu = [], []
        for frame in range(args.frames):
            t, c = time.perf_counter(), time.thread_time()
            view.set_rotation(yaw + 0.01 * (frame + 1), pitch)
            view.repaint()
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        median = statistics.median(times)
        cpu_median = statistics.median(cpu)
        print(f"rotating, {label}: frame median {median * 1000:.1f} ms "
              f"({1 / median:.0f} fps), 90th percentile "
              f"{sorted(times)[int(0.9 * len(times))] * 1000:.1f} ms, worst "
              f"{max(times) * 1000:.1f} ms, best {min(times) * 1000:.1f} ms; CPU per frame "
              f"{cpu_median * 1000:.1f} ms (best {min(cpu) * 1000:.1f} ms: "
              f"{1 / cpu_median:.0f} fps on an idle core); target 30 fps: "
              f"{'met' if 1 / median >= 30 else 'MISSED'} ({1 / median / 30:.1f}x wall, "
              f"{1 / cpu_median / 30:.1f}x CPU)")
    panel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
