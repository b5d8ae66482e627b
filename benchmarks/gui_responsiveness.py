"""How responsive the window stays while it opens and quantizes an image.

    uv run python benchmarks/gui_responsiveness.py IMAGE [--runs N] [--k K] [--dither MODE]

Opens IMAGE N times in a real main window (the default platform; set
QT_QPA_PLATFORM=offscreen or use xvfb-run on a machine without a display) and
measures, per run: open -> first live preview on screen, open -> K-Means
converged (last iteration shown), open -> full-resolution result ready, and
the longest gap between ticks of a 10 ms timer in the GUI thread during the
run (the longest event-loop stall). Prints every run, then the medians.
The first run also reports process start -> first preview (imports, window
creation, kernel loading included).
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--size", default="1400x900", help="window size, WxH")
    parser.add_argument("--dither", default=None,
                        help="dithering mode (default: the app's default); 'none' shows "
                             "what the rest of the open costs")
    parser.add_argument("--cloud", choices=("off", "own", "cluster"), default="own",
                        help="the colour-space dock: hidden, or shown in either colouring")
    parser.add_argument("--curve", choices=("on", "off"), default="on",
                        help="off: the k vs cost curve is never started (kcurve_gui.py "
                             "measures what it costs)")
    parser.add_argument("--highlight", type=int, default=None,
                        help="keep this cluster highlighted (image, swatches, cloud)")
    args = parser.parse_args(argv)
    if not args.image.is_file():
        parser.error(f"{args.image}: no such file")

    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from kmeans_gui.core import QuantizeSettings
    from kmeans_gui.gui import dialogs
    from kmeans_gui.gui.main_window import MainWindow
    from kmeans_gui.gui.settings import configure_application, use_private_store

    tmp = tempfile.TemporaryDirectory(prefix="kmeans-gui-bench-")
    use_private_store(tmp.name)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    dialogs.ask_save_changes = lambda parent, name, doing="": "discard"
    dialogs.show_error = lambda parent, title, text, detail="": print("ERROR:", title, text, detail)

    window = MainWindow()
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    settings = QuantizeSettings(k=args.k)
    if args.dither is not None:
        settings = dataclasses.replace(settings, dither=args.dither)
    window.controls.set_settings(settings.validated())
    window.cloud_dock.setVisible(args.cloud != "off")
    if args.cloud != "off":
        window.cloud.set_colouring(args.cloud)
    if args.curve == "off":
        window.curve.image_opened = lambda *args, **kwargs: None
    window.show()

    clock = QElapsedTimer()
    clock.start()
    marks: dict[str, float] = {}
    gaps: list[float] = []
    last_tick = [0.0]

    stall_at = [0.0]

    tick_times: list[float] = []
    # CPU time the GUI thread spent between ticks: on a busy machine a gap
    # can be long only because the thread was not scheduled; this part is
    # the work that blocked the event loop.
    cpu_gaps: list[float] = []
    last_cpu = [time.thread_time()]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        cpu = time.thread_time()
        gap = now - last_tick[0]
        if not gaps or gap > max(gaps):
            stall_at[0] = now
        gaps.append(gap)
        cpu_gaps.append((cpu - last_cpu[0]) * 1000)
        tick_times.append(now)
        last_tick[0] = now
        last_cpu[0] = cpu

    ticker = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(tick)

    def on_preview(iteration: int) -> None:
        now = clock.nsecsElapsed() / 1e6
        marks.setdefault("first_preview", now)
        marks["last_preview"] = now
        if args.highlight is not None and iteration == 1:
            window._on_cluster_clicked(args.highlight)

    window.preview_shown.connect(on_preview)
    loop = QEventLoop()
    def on_finished(f) -> None:
        marks["finished"] = clock.nsecsElapsed() / 1e6
        marks["cpu"] = time.process_time()
        marks["iterations"] = f.result.iterations
        loop.quit()

    window.run_finished.connect(on_finished)
    window.open_failed.connect(lambda message: (print("open failed:", message), loop.quit()))

    rows = []
    for run in range(args.runs):
        marks.clear()
        gaps.clear()
        tick_times.clear()
        cpu_gaps.clear()
        last_cpu[0] = time.thread_time()
        QTimer.singleShot(0, lambda: None)
        app.processEvents()
        opened_at = clock.nsecsElapsed() / 1e6
        cpu_at = time.process_time()
        last_tick[0] = opened_at
        ticker.start()
        window.open_path(args.image)
        QTimer.singleShot(300_000, loop.quit)
        loop.exec()
        ticker.stop()
        if "finished" not in marks:
            print("run did not finish")
            return 1
        # wait until the worker thread is gone before the next run
        while window.session.is_busy():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        row = {
            "first_preview": (marks["first_preview"] - opened_at) / 1000,
            "converged": (marks["last_preview"] - opened_at) / 1000,
            "finished": (marks["finished"] - opened_at) / 1000,
            # every thread of the process: the worker, the engine's pool, the
            # GUI thread and the k-curve's background thread
            "cpu": marks["cpu"] - cpu_at,
            "longest_stall_ms": max(gaps) if gaps else 0.0,
            "iterations": marks["iterations"],
            "stall_at": (stall_at[0] - opened_at) / 1000,
            # From the first live preview to the last: the per-iteration updates
            # (each gap ends at a tick inside that span, so it includes the
            # update that delayed the tick).
            "iterating_stall_ms": max(
                [g for g, t in zip(gaps, tick_times, strict=True)
                 if marks["first_preview"] < t <= marks["last_preview"] + 100] or [0.0]),
            "iterating_cpu_ms": max(
                [c for c, t in zip(cpu_gaps, tick_times, strict=True)
                 if marks["first_preview"] < t <= marks["last_preview"] + 100] or [0.0]),
        }
        if run == 0:
            row["process_start_to_first_preview"] = (
                time.perf_counter() - PROCESS_START
                - (marks["finished"] - marks["first_preview"]) / 1000)
        rows.append(row)
        print(f"run {run + 1}: open->first preview {row['first_preview']:.2f} s, "
              f"open->converged {row['converged']:.2f} s ({row['iterations']} iterations), "
              f"open->full result {row['finished']:.2f} s (process CPU {row['cpu']:.2f} s), "
              f"longest event-loop stall {row['longest_stall_ms']:.0f} ms "
              f"(ending {row['stall_at']:.2f} s after open), while iterating "
              f"{row['iterating_stall_ms']:.0f} ms ({row['iterating_cpu_ms']:.0f} ms of it "
              f"GUI-thread CPU)"
              + (f", process start->first preview {row['process_start_to_first_preview']:.2f} s"
                 if run == 0 else ""), flush=True)
    window.close()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"median over {len(rows)} runs ({args.image.name}, k={args.k}, window {args.size}, "
          f"platform {app.platformName()}): open->first preview {med('first_preview'):.2f} s, "
          f"open->converged {med('converged'):.2f} s, open->full result {med('finished'):.2f} s "
          f"(process CPU {med('cpu'):.2f} s), "
          f"longest stall {med('longest_stall_ms'):.0f} ms "
          f"(worst {max(r['longest_stall_ms'] for r in rows):.0f} ms), while iterating "
          f"{med('iterating_stall_ms'):.0f} ms (worst "
          f"{max(r['iterating_stall_ms'] for r in rows):.0f} ms), GUI-thread CPU in the "
          f"longest busy gap while iterating {med('iterating_cpu_ms'):.0f} ms (worst "
          f"{max(r['iterating_cpu_ms'] for r in rows):.0f} ms); cloud {args.cloud}, "
          f"dither {settings.dither}, "
          f"curve {args.curve}"
          + (f", cluster {args.highlight} highlighted" if args.highlight is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
