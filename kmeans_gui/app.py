"""Entry point of the desktop application: ``kmeans-gui [FILE]``.

``--self-test`` opens an image (the bundled sample by default), runs a
quantization to the end through the real worker, saves the PNG to a
temporary folder, checks it, prints one line and exits 0 (non-zero on any
failure). It runs under ``QT_QPA_PLATFORM=offscreen`` as well, for checking
frozen and installed builds.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kmeans_gui.appinfo import APP_ID, APP_NAME, SAMPLE_IMAGE, VERSION, asset

SELF_TEST_K = 16
SELF_TEST_TIMEOUT_S = 120  # generous: a fresh environment compiles the kernels first


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kmeans-gui", description=f"{APP_NAME}: compress "
                                     "images to indexed-palette PNGs by K-Means quantization.")
    parser.add_argument("file", nargs="?", help="image to open")
    parser.add_argument("--self-test", action="store_true",
                        help="open, quantize (k=16) and save through the real window, then exit")
    parser.add_argument("--self-test-output", metavar="PNG",
                        help="with --self-test: keep the PNG it saved at PNG")
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    return parser.parse_args(argv)


def _make_app(argv: list[str]):
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from kmeans_gui.gui.settings import configure_application

    program = sys.argv[0] if sys.argv else "kmeans-gui"
    app = QApplication.instance() or QApplication([program, *argv])
    configure_application(app)
    QGuiApplication.setDesktopFileName(APP_ID)
    icon = asset(f"icons/{APP_ID}.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    # Before anything loads Qt: a missing system library gets a message
    # naming it, not Qt's abort (see preflight.py).
    from kmeans_gui import preflight

    refused = preflight.run()
    if refused is not None:
        return refused
    if args.self_test:
        return self_test(args.file, args.self_test_output)
    app = _make_app([])
    from kmeans_gui.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if args.file:
        window.open_path(args.file)
    else:
        window.open_sample()
    return app.exec()


def self_test(file: str | None = None, keep: str | None = None) -> int:
    """Exercise open -> run -> save in a real window; 0 when everything worked.
    ``keep``: copy the saved PNG there (for checks from outside)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kmeans-gui-selftest-") as tmp:
        from kmeans_gui.gui.settings import use_private_store

        use_private_store(Path(tmp) / "settings")  # never touch the user's settings
        app = _make_app([])
        from PIL import Image
        from PySide6.QtCore import QTimer, qInstallMessageHandler

        # The offscreen platform warns about window size hints it cannot honour;
        # keep the self-test's output to its one result line.
        qInstallMessageHandler(lambda kind, context, message: None
                               if "propagateSizeHints" in message
                               else sys.stderr.write(message + "\n"))

        from kmeans_gui.core import QuantizeSettings
        from kmeans_gui.gui import dialogs
        from kmeans_gui.gui.main_window import MainWindow

        out = Path(tmp) / "self-test.png"
        failures: list[str] = []
        progress: list[int] = []
        outcome: dict[str, object] = {}

        def fail(message: str) -> None:
            failures.append(message)
            app.exit(1)

        # Nothing modal may block an unattended run.
        dialogs.show_error = (lambda parent, title, text, detail="":
                              fail(f"{title}: {text} {detail}"))
        dialogs.ask_save_png = lambda parent, proposed: str(out)
        dialogs.ask_save_changes = lambda parent, name: "discard"

        window = MainWindow()
        window.controls.set_settings(QuantizeSettings(k=SELF_TEST_K))
        window.preview_shown.connect(progress.append)
        window.run_finished.connect(lambda f: (outcome.update(finished=f), window.save_as()))

        def check_saved(path: str, size: int) -> None:
            try:
                with Image.open(path) as im:
                    im.load()
                    mode, n_colors = im.mode, len(im.getpalette() or []) // 3
            except Exception as exc:  # noqa: BLE001 - any failure to reopen is the finding
                fail(f"saved PNG does not reopen: {exc}")
                return
            outcome.update(mode=mode, size=size, palette=n_colors)
            app.exit(0 if mode == "P" else 1)

        window.result_saved.connect(check_saved)
        window.open_failed.connect(lambda message: fail(f"open failed: {message}"))
        window.save_failed.connect(lambda message: fail(f"save failed: {message}"))
        QTimer.singleShot(SELF_TEST_TIMEOUT_S * 1000,
                          lambda: fail(f"timed out after {SELF_TEST_TIMEOUT_S} s"))
        window.show()
        QTimer.singleShot(0, lambda: window.open_path(file or asset(SAMPLE_IMAGE), remember=False))
        code = app.exec()
        window.close()
        window.deleteLater()
        f = outcome.get("finished")
        if code == 0 and not failures and f is not None and outcome.get("mode") == "P":
            r = f.result
            ok = len(progress) == r.iterations or r.iterations == 0
            if keep:
                try:
                    shutil.copyfile(out, keep)
                except OSError as exc:
                    failures.append(f"cannot keep the PNG at {keep}: {exc.strerror or exc}")
            if not ok:
                failures.append(f"{len(progress)} progress signals for {r.iterations} iterations")
            elif not failures:
                print(f"self-test ok: {Path(file).name if file else SAMPLE_IMAGE} "
                      f"{r.indices.shape[1]}x{r.indices.shape[0]} k={SELF_TEST_K} -> "
                      f"{r.n_colors} colours, {r.iterations} iterations, PNG mode P "
                      f"{outcome['size']} bytes, {time.perf_counter() - started:.1f} s")
                return 0
        if not failures and outcome.get("mode") not in (None, "P"):
            failures.append(f"saved PNG has mode {outcome.get('mode')}, expected P")
        print(f"self-test FAILED: {'; '.join(failures) or 'no result'}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
