"""The colour-space dock in the main window: live updates, step mode, linking."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from kmeans_gui.core import SAMPLE_POINTS, QuantizeSettings, build_histogram, load_image, remap
from kmeans_gui.gui import dialogs

from .conftest import open_and_wait

# Several iterations on the gradient; undithered, so a cluster's share of the
# histogram is also its share of the result's pixels.
MANY = QuantizeSettings(k=6, tol=0.0, max_iter=200, dither="none")


@pytest.fixture
def cloud_window(make_window):
    window = make_window()
    window.cloud_dock.show()
    return window


def test_the_cloud_follows_every_iteration(qtbot, cloud_window, gradient_png):
    window = cloud_window
    window.controls.set_settings(MANY)
    phases = []
    window.cloud.phase_shown.connect(lambda kind, i: phases.append((kind, i)))
    finished = open_and_wait(qtbot, window, gradient_png)
    view = window.cloud.view
    sample = view.sample()
    hist = build_histogram(window.session.image.pixels)
    assert len(sample) == min(len(hist), SAMPLE_POINTS)
    n = finished.result.iterations
    assert n >= 3
    # One update per iteration, then the result's palette order.
    assert [p for p in phases if p[1] > 0][:n] == [("update", i) for i in range(1, n + 1)]
    assert np.array_equal(view.centroid_palette(), finished.result.palette)
    assert view.trail_length() > 0
    assert "done" in window.cloud.caption.text()


def test_step_mode_holds_the_run_and_steps_through_it(qtbot, cloud_window, gradient_png):
    window = cloud_window
    window.controls.set_settings(MANY)
    window.step_mode_action.trigger()
    assert window.cloud.step_mode() and window.session.step_gate.is_paused()
    phases = []
    window.cloud.phase_shown.connect(lambda kind, i: phases.append((kind, i)))
    iterations = []
    window.preview_shown.connect(iterations.append)
    with qtbot.waitSignal(window.cloud.phase_shown, timeout=20000):
        window.open_path(gradient_png)
    assert phases == [("seed", 0)]
    qtbot.wait(300)
    assert iterations == [1] and window.session.is_running()  # held after iteration 1
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert phases[-1] == ("assign", 1)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert phases[-1] == ("update", 1)
    with qtbot.waitSignal(window.preview_shown, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_Space)  # the worker runs iteration 2
    assert iterations == [1, 2] and phases[-1] == ("assign", 2)
    qtbot.wait(200)
    assert iterations == [1, 2]
    # Leaving step mode lets the run finish.
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.step_mode_action.trigger()
    assert not window.session.step_gate.is_paused()


def test_a_held_run_stops_and_leaves_no_thread(qtbot, cloud_window, gradient_png):
    window = cloud_window
    window.controls.set_settings(MANY)
    window.cloud.set_step_mode(True)
    with qtbot.waitSignal(window.preview_shown, timeout=20000):
        window.open_path(gradient_png)
    with qtbot.waitSignal(window.run_finished, timeout=5000) as blocker:
        window.stop()  # Stop keeps the held iteration's palette as the result
    assert blocker.args[0].result.reason == "stopped"
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=5000)


def test_a_swatch_highlights_its_pixels_and_points(qtbot, cloud_window, gradient_png):
    window = cloud_window
    window.controls.set_settings(MANY)
    finished = open_and_wait(qtbot, window, gradient_png)
    j = 2
    swatches = window.palette_view
    qtbot.mouseMove(swatches, swatches._cell(j).center())
    assert window.highlighted_cluster() == j
    mask = window.canvas.highlight_mask()
    assert np.array_equal(mask, finished.preview == j)  # exactly the pixels labelled j
    assert window.cloud.view.highlight() == j and swatches.highlight() == j
    # The line under the cloud names the cluster as the swatch's tip does:
    # "Cluster 3" was the palette index, not the swatch's place in the strip.
    tip = swatches.tooltip_for(j)
    name = tip.split(" · ")[0]
    label = window.cloud.cluster_label.text()
    assert name.startswith("#") and label.startswith(name + " · ") and "Cluster" not in label
    share = float(label.split("·")[1].split("%")[0].split()[-1])
    # the share of pixels whose nearest colour it is (the saved result keeps
    # runs, so its own shares differ a little)
    pixels = load_image(gradient_png).pixels
    nearest = remap(pixels, finished.result.palette, "oklab")
    assert share == pytest.approx(np.mean(nearest == j) * 100, abs=0.06)
    # Moving off the swatches lets go; clicking a pixel of the image picks its cluster.
    qtbot.mouseMove(window.canvas, QPoint(5, 5))
    swatches.hovered.emit(-1)
    assert window.highlighted_cluster() is None
    canvas = window.canvas
    canvas.set_mode("result")
    rect = canvas.image_rect()
    h, w = finished.result.indices.shape
    pos = QPoint(int(rect.left() + rect.width() * 0.8), int(rect.top() + rect.height() * 0.3))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pos)
    picked = window.highlighted_cluster()
    assert picked == canvas.result_index_at(pos)
    assert np.array_equal(canvas.highlight_mask(), finished.preview == picked)
    assert window.cloud.view.highlight() == picked
    # Clicking it again lets go.
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert window.highlighted_cluster() is None


def test_the_dock_can_be_hidden_and_shown(qtbot, cloud_window):
    toggle = cloud_window.cloud_dock.toggleViewAction()
    assert cloud_window.cloud_dock.isVisible()
    toggle.trigger()
    assert not cloud_window.cloud_dock.isVisible()
    toggle.trigger()
    assert cloud_window.cloud_dock.isVisible()


def test_step_mode_starts_from_k_random_pixels(qtbot, cloud_window, gradient_png):
    window = cloud_window
    window.controls.set_settings(QuantizeSettings(k=5, init="random", tol=0.0, seed=2))
    window.cloud.set_step_mode(True)
    with qtbot.waitSignal(window.cloud.phase_shown, timeout=20000):
        window.open_path(gradient_png)
    seeds = window.cloud.view.centroid_palette()
    colours = {tuple(c) for c in window.session.image.pixels.reshape(-1, 3)}
    assert len(seeds) == 5 and all(tuple(c) in colours for c in seeds)
    assert "picked at random" in window.cloud.caption.text()
    assert "best of several" not in window.cloud.caption.text()


def test_an_edited_swatch_is_not_captioned_as_an_iteration(qtbot, cloud_window, gradient_png,
                                                           monkeypatch):
    # Editing a swatch maps to the given palette without K-Means: the caption
    # said "Iteration 0 · update: every centroid moves … RMS error 0.0000".
    window = cloud_window
    window.controls.set_settings(MANY)
    open_and_wait(qtbot, window, gradient_png)
    monkeypatch.setattr(dialogs, "ask_color", lambda parent, initial: (255, 0, 255))
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.palette_view.edit_requested.emit(2)
    assert blocker.args[0].result.reason == "fixed palette"
    text = window.cloud.caption.text()
    assert "palette is given" in text
    assert "centroid moves to the mean" not in text and "RMS error" not in text


def test_a_removed_swatch_is_not_called_exact_by_the_chart(qtbot, window, gradient_png):
    # Mapping to the given palette runs no K-Means: its zero inertia made the
    # convergence chart say "Exact: every colour of the image has its own entry".
    window.controls.set_settings(MANY)
    open_and_wait(qtbot, window, gradient_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_view.remove_requested.emit(0)
    title = window.chart.chart().title()
    assert "Exact" not in title and "given palette" in title
    assert "(mapped to the given palette)" in window.status.label.text()
