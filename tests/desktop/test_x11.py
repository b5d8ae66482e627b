"""The app on a real X server (Xvfb) through Qt's xcb platform, as on a
person's desktop: the window appears, K-Means runs, the PNG is saved and the
app exits 0. And on a machine without libxcb-cursor: the pre-flight message
instead of Qt's abort.

Every process has a deadline; Xvfb is stopped at the end of the session.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from .conftest import (
    BIN,
    desktop_env,
    hidden_libraries_command,
    linux_only,
    make_photo,
    visible_window,
)

pytestmark = linux_only

RUN_TIMEOUT_S = 120


def test_the_app_runs_on_x11_and_saves_what_the_engine_computes(xvfb, tmp_path):
    image = make_photo(tmp_path / "photo.png")
    saved = tmp_path / "saved.png"
    env = desktop_env(tmp_path, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen([BIN / "kmeans-gui", "--self-test", image, "--self-test-output", saved],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                           cwd=tmp_path)
    titles: list[str] = []  # of its visible window, as seen from outside
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while app.poll() is None and time.monotonic() < deadline:
            title = visible_window(xvfb, app.pid)
            if title is not None and title not in titles:
                titles.append(title)
            if "photo.png" in (title or ""):
                break
            time.sleep(0.02)
        out, err = app.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate(timeout=30)
    assert titles, f"no window appeared on {xvfb}: {err}"
    assert any(t.startswith("photo.png") for t in titles), titles  # it shows the opened image
    assert app.returncode == 0, err
    assert out.startswith("self-test ok: photo.png 400x300 k=16"), out
    # The saved PNG is what the command line's engine makes of the same image.
    reference = tmp_path / "reference.png"
    subprocess.run([BIN / "kmeans-compress", "-q", "-k", "16", image, "-o", reference],
                   check=True, timeout=RUN_TIMEOUT_S, env=desktop_env(tmp_path))
    with Image.open(saved) as got, Image.open(reference) as want:
        assert got.mode == "P" and got.size == (400, 300)
        assert len(got.getpalette()) // 3 <= 16
        assert np.array_equal(np.asarray(got.convert("RGB")), np.asarray(want.convert("RGB")))


def test_without_libxcb_cursor_the_app_names_it_instead_of_aborting(xvfb, tmp_path):
    env = desktop_env(tmp_path, DISPLAY=xvfb)
    hide = ["libxcb-cursor.so.0"]
    control = hidden_libraries_command(hide, [str(BIN / "python"), "-c",
                                              "from PySide6.QtWidgets import QApplication; "
                                              "QApplication([])"])
    if control is None:
        pytest.skip("this machine allows no private mount namespace (unshare), "
                    "so no library can be hidden from the real loader")
    # Without the check, Qt itself aborts: the library is really gone.
    qt = subprocess.run(control, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env)
    assert qt.returncode in (-6, 134), qt
    assert "xcb" in qt.stderr
    app = subprocess.run(hidden_libraries_command(hide, [str(BIN / "kmeans-gui"), "photo.png"]),
                         capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env,
                         cwd=tmp_path)
    assert app.returncode == 1, app
    assert app.stdout == ""
    assert app.stderr == (
        "kmeans-gui cannot start: Qt's X11 (xcb) platform needs a system library that this "
        "machine lacks:\n"
        "    libxcb-cursor.so.0\n"
        "Install its package, then start kmeans-gui again:\n"
        "    Debian/Ubuntu:  sudo apt install libxcb-cursor0\n"
        "    Fedora:         sudo dnf install xcb-util-cursor\n")
