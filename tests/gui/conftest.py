"""Fixtures for the GUI tests: private settings, scripted dialogs, test images,
and a main window that is always closed with its worker thread stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.gui import dialogs
from kmeans_gui.gui.settings import configure_application, use_private_store


@pytest.fixture(autouse=True)
def private_settings(qapp, tmp_path):
    """Every test gets its own empty QSettings store (INI files under tmp_path)."""
    configure_application(qapp)
    folder = tmp_path / "settings"
    use_private_store(folder)
    return folder


@dataclass
class ScriptedDialogs:
    """Answers the window's dialogs instead of a person; records what was asked."""

    open_paths: list = field(default_factory=list)  # answers to ask_open_image, in order
    save_path: str | None = None
    palette_path: str | None = None
    save_changes: str = "discard"
    errors: list = field(default_factory=list)  # (title, text, detail)
    proposed: list = field(default_factory=list)  # proposed save names
    asked_save_changes: int = 0
    save_changes_asked_before: list = field(default_factory=list)  # what was being done
    replace: bool = True  # answer to "replace the existing file?"
    colour: str | None = "#00ff00"  # answer to the background colour dialog
    asked_replace: list = field(default_factory=list)  # file names asked about


@pytest.fixture(autouse=True)
def scripted_dialogs(monkeypatch):
    script = ScriptedDialogs()

    def ask_open_image(parent, folder):
        return script.open_paths.pop(0) if script.open_paths else None

    def ask_save_png(parent, proposed):
        script.proposed.append(proposed)
        return script.save_path

    def ask_save_palette(parent, proposed):
        script.proposed.append(proposed)
        return script.palette_path

    def show_error(parent, title, text, detail=""):
        script.errors.append((title, text, detail))

    def ask_save_changes(parent, name, doing="closing"):
        script.asked_save_changes += 1
        script.save_changes_asked_before.append(doing)
        return script.save_changes

    def ask_replace(parent, name):
        script.asked_replace.append(name)
        return script.replace

    monkeypatch.setattr(dialogs, "ask_open_image", ask_open_image)
    monkeypatch.setattr(dialogs, "ask_save_png", ask_save_png)
    monkeypatch.setattr(dialogs, "ask_save_palette", ask_save_palette)
    monkeypatch.setattr(dialogs, "show_error", show_error)
    monkeypatch.setattr(dialogs, "ask_save_changes", ask_save_changes)
    monkeypatch.setattr(dialogs, "ask_replace", ask_replace)
    monkeypatch.setattr(dialogs, "ask_colour", lambda parent, current: script.colour)
    monkeypatch.setattr(dialogs, "show_about", lambda *a: None)
    return script


def write_image(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def gradient_png(tmp_path) -> Path:
    """A smooth 160x120 colour image: a quick run with several iterations."""
    y, x = np.mgrid[0:120, 0:160]
    pixels = np.stack([x * 255 // 159, y * 255 // 119, (x + y) * 255 // 278], axis=2)
    return write_image(tmp_path / "gradient.png", pixels.astype(np.uint8))


@pytest.fixture
def noise_png(tmp_path) -> Path:
    """Random colours: with tol=0 K-Means needs many iterations, so runs last long
    enough to be changed or stopped midway."""
    rng = np.random.default_rng(1)
    return write_image(tmp_path / "noise.png", rng.integers(0, 256, (300, 400, 3), np.uint8))


#: Each K-Means step a window's run takes lasts at least this long under
#: ``paced_iterations``: the engine finishes a "long" run on the noise image
#: in well under a second, which left tests that change or stop a run midway
#: racing its end.
ITERATION_SECONDS = 0.02


@pytest.fixture
def paced_iterations(monkeypatch):
    """The GUI jobs' K-Means steps, each followed by a short sleep in the
    worker thread: the same states, at a pace a user could interrupt."""
    import time

    from kmeans_gui.gui import jobs

    real_steps = jobs.steps

    def paced(*args, **kwargs):
        for state in real_steps(*args, **kwargs):
            yield state
            time.sleep(ITERATION_SECONDS)

    monkeypatch.setattr(jobs, "steps", paced)


@pytest.fixture
def make_window(qtbot):
    """Factory for main windows; each is closed and its thread checked at teardown."""
    from kmeans_gui.gui.main_window import MainWindow

    windows = []

    def make(resize: bool = True):
        window = MainWindow()
        qtbot.addWidget(window)
        if resize:  # a fixed size keeps previews small; off to test restored geometry
            window.resize(1000, 700)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        window.shutdown()
        assert not window.session.is_busy(), "a worker thread outlived the test"


@pytest.fixture
def window(make_window):
    return make_window()


def open_and_wait(qtbot, window, path, timeout=20000):
    """Open ``path`` and wait until its first run has finished."""
    with qtbot.waitSignal(window.run_finished, timeout=timeout) as blocker:
        window.open_path(path)
    return blocker.args[0]
