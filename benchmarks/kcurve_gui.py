"""The k vs cost curve in the app: how soon it shows, and what it costs the live run.

    uv run python benchmarks/kcurve_gui.py IMAGE [--runs N] [--k K]

Opens IMAGE in a real main window (default platform; QT_QPA_PLATFORM=offscreen
or xvfb-run without a display), alternating runs with the curve on and off
(off: the window never starts it). With the curve on it measures first live
preview -> first curve point (target <= 1 s) and -> the full curve (target
<= 6 s), and the longest gap between ticks of a 10 ms timer in the GUI
thread from opening until the curve is complete (target <= 100 ms). Both
kinds of run measure open -> the live run's full result; the ratio of their
medians is what the curve costs the live run (target <= 1.10).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind")
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--size", default="1366x768", help="window size, WxH")
    args = parser.parse_args(argv)

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

    window = MainWindow()
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.controls.set_settings(QuantizeSettings(k=args.k))
    window.show()
    presenter = window.curve
    real_image_opened = presenter.image_opened

    clock = QElapsedTimer()
    clock.start()
    now = lambda: clock.nsecsElapsed() / 1e6  # noqa: E731
    marks: dict[str, float] = {}
    gaps: list[float] = []
    last_tick = [0.0]

    def tick() -> None:
        t = now()
        gaps.append(t - last_tick[0])
        last_tick[0] = t

    ticker = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(tick)
    loop = QEventLoop()
    window.preview_shown.connect(lambda i: marks.setdefault("first_preview", now()))
    window.run_finished.connect(lambda f: (marks.setdefault("finished", now()), check_done()))
    presenter.worker.point_ready.connect(
        lambda token, point: marks.setdefault("first_point", now()))
    presenter.worker.curve_done.connect(
        lambda token, complete: (marks.__setitem__("curve", now()), check_done()))
    wants_curve = [True]

    def check_done() -> None:
        if "finished" in marks and ("curve" in marks or not wants_curve[0]):
            loop.quit()

    rows = {True: [], False: []}
    for run in range(-1, 2 * args.runs):  # run -1 warms up (caches, first imports)
        with_curve = run % 2 == 0
        wants_curve[0] = with_curve
        presenter.image_opened = real_image_opened if with_curve else (lambda *a: None)
        marks.clear()
        gaps.clear()
        app.processEvents()
        opened = now()
        last_tick[0] = opened
        ticker.start()
        window.open_path(args.image)
        QTimer.singleShot(300_000, loop.quit)
        loop.exec()
        ticker.stop()
        while window.session.is_busy() or presenter.worker.is_running():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if "finished" not in marks:
            print("run did not finish")
            return 1
        row = {"live": (marks["finished"] - opened) / 1000,
               "stall": max(gaps) if gaps else 0.0}
        text = f"run {run + 1} ({'curve' if with_curve else 'no curve'}): open->live result " \
               f"{row['live']:.2f} s, longest stall {row['stall']:.0f} ms"
        if with_curve and "first_point" in marks:
            row["first_point"] = (marks["first_point"] - marks["first_preview"]) / 1000
            row["full"] = (marks["curve"] - marks["first_preview"]) / 1000
            text += (f", first preview->first curve point {row['first_point']:.2f} s, "
                     f"->full curve {row['full']:.2f} s ({len(window.cost_chart.points())} "
                     "points)")
        if run >= 0:
            rows[with_curve].append(row)
            print(text, flush=True)
    window.close()
    window.shutdown()

    def med(kind: bool, key: str) -> float:
        return statistics.median(r[key] for r in rows[kind])

    print(f"medians ({args.image.name}, k={args.k}, {args.runs} runs each, platform "
          f"{app.platformName()}): first point {med(True, 'first_point'):.2f} s (<= 1), "
          f"full curve {med(True, 'full'):.2f} s (<= 6), longest stall "
          f"{max(r['stall'] for r in rows[True]):.0f} ms worst (<= 100), live run with/without "
          f"curve {med(True, 'live'):.2f}/{med(False, 'live'):.2f} s = "
          f"{med(True, 'live') / med(False, 'live'):.2f} (<= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
