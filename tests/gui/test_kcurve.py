"""The k vs cost chart: computed after opening, cancelled by a new image, clicks set k,
and the target mode chooses k."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QPoint, Qt

from kmeans_gui.core import QuantizeSettings, build_histogram, load_image
from kmeans_gui.core.kscan import K_STEPS, KCost, KPoint, Target, scan, search
from kmeans_gui.gui import kcurve

from .conftest import open_and_wait, write_image


def recorded_costs(monkeypatch) -> list[KCost]:
    """Every KCost the curve's worker makes, from now on."""
    made = []

    class Recorded(KCost):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(kcurve, "KCost", Recorded)
    return made


def wait_for_curve(qtbot, window, timeout=60000):
    qtbot.waitUntil(lambda: window.curve.complete, timeout=timeout)
    return window.cost_chart.points()


def test_the_curve_appears_after_opening_and_matches_the_core(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=12))
    open_and_wait(qtbot, window, gradient_png)
    points = wait_for_curve(qtbot, window)
    assert [p.k for p in points] == list(K_STEPS)
    # The same figures as the core's scan with the window's settings.
    image = load_image(gradient_png)
    direct = list(scan(KCost(image.pixels, window.controls.settings())))
    assert [p.size for p in points] == [p.size for p in direct]
    assert np.allclose([p.delta_e for p in points], [p.delta_e for p in direct])
    assert window.cost_chart.current_k() == 12


def test_the_curve_updates_when_settings_change(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    oklab = wait_for_curve(qtbot, window)
    window.controls.space_combo.setCurrentIndex(window.controls.space_combo.findData("rgb"))
    qtbot.waitUntil(lambda: not window.curve.complete, timeout=5000)
    rgb = wait_for_curve(qtbot, window)
    assert [p.delta_e for p in rgb] != [p.delta_e for p in oklab]
    # Only k changing keeps the curve and moves the marker.
    window.controls.k_spin.setValue(40)
    assert window.curve.complete and window.cost_chart.points() == rgb
    assert window.cost_chart.current_k() == 40


def test_a_new_image_cancels_the_curve(qtbot, window, gradient_png, noise_png, monkeypatch):
    started = []
    real_start = kcurve.CurveWorker.start

    def spy(self, token, pixels, *args, **kwargs):
        started.append((token, pixels.shape))
        return real_start(self, token, pixels, *args, **kwargs)

    monkeypatch.setattr(kcurve.CurveWorker, "start", spy)
    window.open_path(noise_png)
    qtbot.waitUntil(lambda: len(started) == 1, timeout=20000)
    first_worker_thread = window.curve.worker._thread
    open_and_wait(qtbot, window, gradient_png)
    assert started[-1][1] == (120, 160, 3)
    # The noise image's thread stops at its next step, and none of its points
    # reach the chart.
    qtbot.waitUntil(lambda: not first_worker_thread.is_alive(), timeout=20000)
    points = wait_for_curve(qtbot, window)
    image = load_image(gradient_png)
    direct = list(scan(KCost(image.pixels, window.controls.settings())))
    assert [p.size for p in points] == [p.size for p in direct]


def test_clicking_a_point_sets_k(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    wait_for_curve(qtbot, window)
    chart = window.cost_chart
    window.charts.setCurrentWidget(chart)
    qtbot.waitUntil(lambda: chart.chart().plotArea().width() > 0, timeout=5000)
    for k in (4, 64):
        x = chart.widget_x_of(k)
        with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
            qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton,
                             pos=QPoint(x, chart.viewport().height() // 2))
        assert window.controls.k_spin.value() == k
        assert blocker.args[0].result.n_colors == k
        assert chart.current_k() == k


def open_noisy_photo(qtbot, window, tmp_path) -> np.ndarray:
    """Open a small photo-like image (gradients and noise); its pixels."""
    y, x = np.mgrid[0:90, 0:120]
    rng = np.random.default_rng(4)
    pixels = np.clip(np.stack([x * 2, y * 2.5, 128 + 60 * np.sin(x / 7.0)], axis=2)
                     + rng.normal(0, 4, (90, 120, 3)), 0, 255).astype(np.uint8)
    open_and_wait(qtbot, window, write_image(tmp_path / "photo.png", pixels))
    return pixels


def test_target_mode_chooses_k_and_says_why(qtbot, window, tmp_path):
    pixels = open_noisy_photo(qtbot, window, tmp_path)
    panel = window.target_panel
    panel.size_spin.setValue(8)
    with qtbot.waitSignal(window.curve.k_chosen, timeout=60000) as blocker:
        panel.set_mode("size")
    chosen = blocker.args[0]
    expected = search(KCost(pixels, window.controls.settings()), Target(max_bytes=8 * 1024))
    assert chosen == expected.k == window.controls.k_spin.value()
    assert f"k={chosen}" in panel.why_label.text() and "fits 8.0 KB" in panel.why_label.text()
    # The live run at the chosen k follows.
    qtbot.waitUntil(lambda: window.session.result is not None
                    and window.session.result.result.n_colors == chosen, timeout=20000)
    # Quality mode: pngquant's scale, as --quality.
    panel.quality_spin.setValue(30)
    with qtbot.waitSignal(window.curve.k_chosen, timeout=60000) as blocker:
        panel.set_mode("quality")
    assert "ΔE ≤ 2.05" in panel.why_label.text()
    assert window.controls.k_spin.value() == blocker.args[0]
    # Out of reach: k stays, the panel says why.
    panel.quality_spin.setValue(60)
    qtbot.waitUntil(lambda: "not met" in panel.why_label.text(), timeout=60000)
    assert "256" in panel.why_label.text()
    assert window.controls.k_spin.value() == blocker.args[0]


def _tick_labels(axis) -> list[str]:
    n = axis.tickCount()
    lo, hi = axis.min(), axis.max()
    return [axis.labelFormat() % (lo + (hi - lo) * i / (n - 1)) for i in range(n)]


def test_the_size_axis_never_repeats_a_label(qtbot):
    # Before any figures (and for a small file) a 0-1.6 KB axis with whole-number
    # labels read "0 0 1 1 2".
    chart = kcurve.CostChart()
    qtbot.addWidget(chart)
    sizes = chart.chart().axes(Qt.Orientation.Vertical)
    assert not any(axis.labelsVisible() for axis in sizes)  # nothing to read yet
    palette = np.zeros((2, 3), np.uint8)
    for k, size in ((2, 600), (4, 1500)):
        chart.add(KPoint(k, 3.0 / k, size, True, True, palette))
    assert all(axis.labelsVisible() for axis in sizes)
    for axis in sizes:
        labels = _tick_labels(axis)
        assert len(set(labels)) == len(labels), labels
    chart.add(KPoint(8, 0.5, 200_000, True, True, palette))
    for axis in sizes:
        labels = _tick_labels(axis)
        assert len(set(labels)) == len(labels), labels


def test_undo_and_redo_bring_back_how_k_was_chosen(qtbot, window, tmp_path):
    # Undo after leaving target mode brought back the target's k with the
    # panel still on "Fixed k": entries held the settings, not the k mode.
    y, x = np.mgrid[0:90, 0:120]
    rng = np.random.default_rng(4)
    pixels = np.clip(np.stack([x * 2, y * 2.5, 128 + 60 * np.sin(x / 7.0)], axis=2)
                     + rng.normal(0, 4, (90, 120, 3)), 0, 255).astype(np.uint8)
    path = write_image(tmp_path / "photo.png", pixels)
    window.controls.set_settings(QuantizeSettings(k=16))
    open_and_wait(qtbot, window, path)
    panel, k_spin = window.target_panel, window.controls.k_spin
    panel.size_spin.setValue(8)
    with qtbot.waitSignal(window.run_finished, timeout=60000):
        panel.set_mode("size")  # the target chooses k and its run follows
    chosen = k_spin.value()
    assert chosen != 16
    why = panel.why_label.text()
    assert f"k={chosen}" in why
    panel.set_mode("fixed")  # leaving target mode runs nothing, but is a step
    assert window.session.result.settings.k == chosen
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        k_spin.setValue(5)
    chosen_signals = []
    window.curve.k_chosen.connect(chosen_signals.append)

    def step(action):
        with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
            action.trigger()
        return blocker.args[0].settings.k

    assert step(window.undo_action) == chosen and panel.mode() == "fixed"
    assert step(window.undo_action) == chosen
    assert panel.mode() == "size" and panel.size_spin.value() == 8 and k_spin.value() == chosen
    assert panel.why_label.text() == why and panel.why_label.isVisible()
    assert step(window.undo_action) == 16 and panel.mode() == "fixed"
    assert not panel.why_label.isVisible()
    assert step(window.redo_action) == chosen and panel.mode() == "size"
    assert panel.why_label.text() == why
    assert step(window.redo_action) == chosen and panel.mode() == "fixed"
    assert step(window.redo_action) == 5 and panel.mode() == "fixed"
    assert not window.redo_action.isEnabled()
    qtbot.wait(300)
    assert chosen_signals == []  # restoring ran no search: the k came back with the step
    # Typing a k in target mode leaves the target, as clicking a point does.
    step(window.undo_action)
    step(window.undo_action)
    assert panel.mode() == "size"
    assert step(type("Typed", (), {"trigger": lambda: k_spin.setValue(7)})) == 7
    assert panel.mode() == "fixed"


def test_undo_cancels_a_search_under_way(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=16))
    open_and_wait(qtbot, window, gradient_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.controls.k_spin.setValue(5)
    chosen = []
    window.curve.k_chosen.connect(chosen.append)
    window.target_panel.size_spin.setValue(4)
    window.target_panel.set_mode("size")  # a search starts
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.undo_action.trigger()  # back to k = 16 before it has answered
    assert window.target_panel.mode() == "fixed"
    qtbot.waitUntil(lambda: not window.curve.worker.is_running(), timeout=60000)
    qtbot.wait(200)
    assert chosen == [] and window.controls.k_spin.value() == 16


def test_a_restored_snapshot_brings_its_k_as_fixed_k(qtbot, window, gradient_png):
    # A snapshot holds its result's settings: restored while a target is set,
    # the panel may not claim the target chose that k.
    window.controls.set_settings(QuantizeSettings(k=6))
    open_and_wait(qtbot, window, gradient_png)
    snap = window.keep_snapshot()
    panel = window.target_panel
    panel.size_spin.setValue(50)
    with qtbot.waitSignal(window.curve.target_settled, timeout=60000):
        panel.set_mode("size")
    qtbot.waitUntil(lambda: not window.session.is_running() and not window.runs.debounce.isActive(),
                    timeout=20000)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.snapshot_strip.restore_requested.emit(snap)
    assert blocker.args[0].settings.k == 6 and panel.mode() == "fixed"
    assert window.controls.k_spin.value() == 6


def test_a_small_images_curve_waits_for_the_live_run(qtbot, monkeypatch):
    """Up to LIVE_WAIT_PIXELS the curve starts once the live run has ended
    (beside it, even its small share delayed that run's result); above, it
    works beside the live run."""
    from kmeans_gui.core import build_histogram
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    histogram = build_histogram(pixels)
    settings = QuantizeSettings(dither="none")
    worker = kcurve.CurveWorker()
    points = []
    worker.point_ready.connect(lambda token, point: points.append((token, point.k)))
    try:
        worker.set_live_running(True)
        worker.start("small", pixels, histogram, settings, ks=(2, 4))
        qtbot.wait(600)  # far longer than these two points take
        assert points == [] and worker.is_running()
        worker.set_live_running(False)
        qtbot.waitUntil(lambda: len(points) == 2, timeout=10000)
        assert points == [("small", 2), ("small", 4)]

        monkeypatch.setattr(kcurve, "LIVE_WAIT_PIXELS", pixels.shape[0] * pixels.shape[1] - 1)
        worker.set_live_running(True)
        worker.start("large", pixels, histogram, settings, ks=(2, 4))
        qtbot.waitUntil(lambda: len(points) == 4, timeout=20000)  # while the run goes on
        assert points[2:] == [("large", 2), ("large", 4)]
    finally:
        worker.set_live_running(False)
        assert worker.shutdown(5.0)


def test_a_targets_run_is_the_result_its_search_verified(qtbot, window, tmp_path,
                                                         monkeypatch):
    """The window runs the chosen k itself: its file is the one the search
    checked (so it fits the budget), with the pinned colours in it. The
    search costs what the run does: with the pins, and full runs seeded as
    the window's run is."""
    made = recorded_costs(monkeypatch)
    pixels = open_noisy_photo(qtbot, window, tmp_path)
    window.session.palette_control.pin((255, 0, 255))
    panel = window.target_panel
    panel.size_spin.setValue(8)
    with qtbot.waitSignal(window.curve.k_chosen, timeout=60000) as blocker:
        panel.set_mode("size")
    chosen = blocker.args[0]
    settings = dataclasses.replace(window.controls.settings(), keep=((255, 0, 255),))
    expected = search(KCost(pixels, settings), Target(max_bytes=8 * 1024))
    assert chosen == expected.k
    qtbot.waitUntil(lambda: window.session.result is not None
                    and window.session.result.result.n_colors == chosen, timeout=20000)
    data = window.session.png.data
    assert data == expected.final.data and len(data) <= 8 * 1024
    assert [255, 0, 255] in window.session.result.result.palette[:, :3].tolist()
    assert made and made[-1].settings.keep == ((255, 0, 255),)


def test_painted_importance_gives_a_new_curve_weighed_as_the_run_is(qtbot, window,
                                                                     gradient_png, monkeypatch):
    made = recorded_costs(monkeypatch)
    open_and_wait(qtbot, window, gradient_png)
    wait_for_curve(qtbot, window)
    assert made[-1].histogram.weights is None
    control = window.session.palette_control
    image = window.session.image
    control.ensure_mask(image.height, image.width)
    for x in range(5, 40, 5):  # dabs of a stroke: no new curve for each
        control.stroke([(x, 10), (x + 5, 12)], 6.0)
    assert len(made) == 1
    window.start_run()  # the run after the stroke
    qtbot.waitUntil(lambda: len(made) == 2, timeout=20000)
    wait_for_curve(qtbot, window)
    expected = build_histogram(image.pixels, control.weights())
    assert np.array_equal(made[-1].histogram.weights, expected.weights)
    # A run with the mask unchanged (another k) keeps the curve.
    with qtbot.waitSignal(window.session.run_started, timeout=20000):
        window.controls.k_spin.setValue(window.controls.k_spin.value() + 1)
    assert len(made) == 2
