"""What the window shows must be what happened: the convergence chart of a
run whose seedings were raced, the keys a focused widget uses, and the k
mode a snapshot was taken in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from kmeans_gui.core import RACE_MAX_K, QuantizeSettings, build_histogram, kmeans_steps
from kmeans_gui.gui.chart import MIN_SPAN, ConvergenceChart, error_axis, iteration_step
from kmeans_gui.gui.run_view import PROBE_ITERATIONS, RACED_SEEDINGS

from .conftest import open_and_wait, write_image


@pytest.fixture
def photo_png(tmp_path) -> Path:
    """Gradients plus noise, like a photo: K-Means improves on its seeds by a
    few percent, most of it during a race's trial iterations."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:120, 0:160]
    base = np.stack([x * 255 / 159, y * 255 / 119, (x + y) * 255 / 278], axis=-1)
    pixels = np.clip(np.rint(base + rng.normal(0, 14, base.shape)), 0, 255)
    return write_image(tmp_path / "photo.png", pixels.astype(np.uint8))


# ------------------------------------------------------------ the chart


def test_error_axis_spans_what_the_run_improved():
    for low in (99.9, 99.7, 99.2, 98.5, 97.0, 93.0, 88.0, 75.0, 40.0, 3.0, 0.0):
        bottom, top, ticks = error_axis(low, 100.0)
        assert top == 100.0
        assert 0.0 <= bottom < low or bottom == low == 0.0  # the lowest point is on the chart
        span = top - bottom
        # Never narrower than MIN_SPAN, never more than about twice what is needed.
        assert span >= MIN_SPAN
        assert span == MIN_SPAN or span <= 2.2 * (100.0 - low)
        step = span / (ticks - 1)  # ticks on round values
        assert any(abs(step - nice) < 1e-9 for nice in (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0))
    # A value above the first (rounding after a grid's exact finish) stays on it.
    assert error_axis(99.0, 100.4)[1] == 100.4


def test_iteration_ticks_fall_on_whole_iterations():
    """Six ticks from 1 to 9 stood at 1, 2.6, 4.2 … labelled 1, 2, 4, 5, 7, 9:
    the dot of iteration 2 sat left of the tick labelled 2."""
    nice = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)
    for last in range(2, 1001):
        step = iteration_step(last)
        assert step in nice
        assert (last - 1) / step <= 5  # at most six ticks
        finer = nice[nice.index(step) - 1] if step > 1 else None
        assert finer is None or (last - 1) / finer > 5  # and no coarser than needed


def test_the_iteration_axis_moves_in_round_steps_and_ends_at_the_last_iteration(qtbot):
    """Each change of the axis lays the chart out again in the GUI thread:
    once per iteration, that was most of the window's work during a run."""
    chart = ConvergenceChart()
    qtbot.addWidget(chart)
    ends = []
    chart._x.rangeChanged.connect(lambda low, high: ends.append(high))
    for iteration in range(1, 27):
        chart.add(iteration, 1000.0 / iteration)
        assert chart._x.min() == 1 and iteration <= chart._x.max()  # every dot on the axis
        assert chart._x.tickInterval() == iteration_step(int(chart._x.max()))
    assert len(ends) <= 5, ends
    chart.finish(26, "tolerance")
    assert chart._x.max() == 26 and chart._x.tickInterval() == iteration_step(26)
    assert [x for x, _ in chart.plotted()] == list(range(1, 27))


def test_a_raced_run_fills_the_chart_and_says_what_came_before(qtbot, window, photo_png):
    """Raced seedings leave iteration 1 nearly converged: on a 0-100 % axis
    the curve was a flat line at the top, whatever the run did."""
    window.controls.set_settings(QuantizeSettings(k=12))
    open_and_wait(qtbot, window, photo_png)
    ys = [y for _, y in window.chart.plotted()]
    assert len(ys) >= 3 and ys[0] == 100.0
    drop = 100.0 - min(ys)
    assert 0.05 < drop < 20  # what this test is about: a small improvement
    low, high = window.chart.y_range()
    assert high == 100.0 and low < min(ys)
    # The improvement takes a visible part of the axis, not a pixel or two.
    assert high - low == MIN_SPAN or drop >= (high - low) / 2.5
    axis = window.chart._x
    assert axis.tickType() == axis.TickType.TicksDynamic and axis.tickAnchor() == 1
    assert axis.tickInterval() == iteration_step(int(axis.max()))
    title = axis.titleText()
    assert f"{RACED_SEEDINGS} seedings" in title and f"{PROBE_ITERATIONS} trial" in title


def test_an_unraced_run_has_no_race_note(qtbot, window, photo_png):
    window.controls.set_settings(QuantizeSettings(k=RACE_MAX_K + 8))
    open_and_wait(qtbot, window, photo_png)
    assert window.chart._x.titleText() == "iteration"


def test_the_race_note_matches_the_engine(photo_png):
    """The note's figures are the engine's defaults: racing that many
    seedings for that many trial iterations gives the same run."""
    from PIL import Image
    hist = build_histogram(np.asarray(Image.open(photo_png)))
    default = [s.inertia for s in kmeans_steps(hist, 12, seed=4)]
    explicit = [s.inertia for s in kmeans_steps(hist, 12, seed=4, restarts=RACED_SEEDINGS,
                                                probe_iterations=PROBE_ITERATIONS)]
    other = [s.inertia for s in kmeans_steps(hist, 12, seed=4, restarts=RACED_SEEDINGS,
                                             probe_iterations=PROBE_ITERATIONS + 1)]
    assert default == explicit != other


# ------------------------------------------------- keys and the focused widget


def _focus(qtbot, window, widget) -> None:
    window.activateWindow()
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5000)


def _open_in_step_mode(qtbot, window, png) -> list[tuple[str, int]]:
    """Open ``png`` at k = 6 in step mode, held at its seeding; the phases
    the cloud shows from then on are appended to the list returned."""
    window.controls.set_settings(QuantizeSettings(k=6, tol=0.0, max_iter=200, dither="none"))
    window.step_mode_action.trigger()
    phases = []
    window.cloud.phase_shown.connect(lambda kind, i: phases.append((kind, i)))
    with qtbot.waitSignal(window.cloud.phase_shown, timeout=20000):
        window.open_path(png)
    return phases


def test_step_keys_leave_the_focused_swatch_strip_its_keys(qtbot, make_window, gradient_png):
    """In step mode Space and → stepped the run whatever had the focus: the
    swatch strip's arrows never moved between swatches, and a focused check
    box could not be toggled with Space."""
    window = make_window()
    window.cloud_dock.show()
    phases = _open_in_step_mode(qtbot, window, gradient_png)
    qtbot.waitUntil(lambda: len(window.palette_view.colors()) == 6, timeout=10000)
    assert phases == [("seed", 0)]
    strip = window.palette_view
    _focus(qtbot, window, strip)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    assert strip.current() == strip.palette_index(0)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    assert strip.current() == strip.palette_index(1)
    qtbot.keyClick(strip, Qt.Key.Key_Left)
    assert strip.current() == strip.palette_index(0)
    assert phases == [("seed", 0)]  # the arrows moved through the swatches, no step
    # A held run cannot be pinned: Space is the strip's only once it can pin.
    qtbot.keyClick(strip, Qt.Key.Key_Space)
    assert phases[-1] == ("assign", 1)
    # At Fit the image has nothing to pan to: → is the window's.
    _focus(qtbot, window, window.canvas)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    assert phases[-1] == ("update", 1)
    # A focused check box toggles with Space (here: leaves step mode).
    box = window.cloud.step_check
    _focus(qtbot, window, box)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.keyClick(box, Qt.Key.Key_Space)
    assert not window.cloud.step_mode()  # toggled, and the run went on to its end
    # Out of step mode, with a result, Space on the strip pins its swatch.
    _focus(qtbot, window, strip)
    strip.set_current(2)
    with qtbot.waitSignal(strip.pin_toggled, timeout=5000) as pinned:
        qtbot.keyClick(strip, Qt.Key.Key_Space)
    assert pinned.args == [2]


def test_arrows_pan_a_zoomed_canvas_in_step_mode(qtbot, make_window, gradient_png):
    window = make_window()
    phases = _open_in_step_mode(qtbot, window, gradient_png)
    canvas = window.canvas
    canvas.set_zoom(8.0)
    _focus(qtbot, window, canvas)
    before = canvas.center()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.center().x() > before.x()  # panned
    assert phases == [("seed", 0)]
    qtbot.keyClick(canvas, Qt.Key.Key_Space)  # the canvas has no use for Space
    assert phases[-1] == ("assign", 1)


# ------------------------------------------------- snapshots and the k mode


def test_a_snapshot_taken_in_a_target_mode_comes_back_in_it(qtbot, window, photo_png):
    """A snapshot kept while "best quality under N KB" had chosen k came
    back as Fixed k: the panel forgot how its k had been chosen, although
    undo and redo remember it."""
    window.controls.set_settings(QuantizeSettings(k=16))
    open_and_wait(qtbot, window, photo_png)
    panel, k_spin = window.target_panel, window.controls.k_spin
    panel.size_spin.setValue(8)
    with qtbot.waitSignal(window.run_finished, timeout=60000):
        panel.set_mode("size")  # the target chooses k and its run follows
    qtbot.waitUntil(lambda: not window.session.is_running()
                    and not window.runs.debounce.isActive(), timeout=20000)
    chosen, why = k_spin.value(), panel.why_label.text()
    assert chosen != 16 and f"k={chosen}" in why
    snap = window.keep_snapshot()
    assert "best quality under 8 KB" in snap.tooltip
    # Elsewhere now: Fixed k, another k.
    panel.set_mode("fixed")
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        k_spin.setValue(5)
    fixed = window.keep_snapshot()
    assert "target" not in fixed.tooltip
    searches = []
    window.curve.k_chosen.connect(searches.append)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.snapshot_strip.restore_requested.emit(snap)
    assert blocker.args[0].settings.k == chosen and k_spin.value() == chosen
    assert panel.mode() == "size" and panel.size_spin.value() == 8
    assert panel.why_label.text() == why and panel.why_label.isVisible()
    # And back to the Fixed k snapshot, then undo to the target one.
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.snapshot_strip.restore_requested.emit(fixed)
    assert panel.mode() == "fixed" and k_spin.value() == 5
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.undo_action.trigger()
    assert panel.mode() == "size" and k_spin.value() == chosen
    qtbot.wait(300)
    assert searches == []  # the k came back with the snapshot: no search ran


def test_cost_axes_tick_on_round_values():
    """The k vs cost chart's size axis read 0, 190, 380, 569, 759."""
    from kmeans_gui.gui.chart import round_axis
    for high in (0.07, 0.3, 1.6, 3.7, 9.9, 12.0, 703.0, 759.0, 1234.0, 50_000.0):
        top, label = round_axis(high)
        assert high <= top <= 2.5 * high  # past the highest value, not far past
        step = top / 4
        mantissa = step / 10 ** np.floor(np.log10(step))
        assert any(abs(mantissa - m) < 1e-9 for m in (1, 2, 2.5, 5))
        labels = [label % (i * step) for i in range(5)]
        assert len(set(labels)) == 5
        assert all(abs(float(x) - i * step) < 1e-9 for i, x in enumerate(labels))


def test_keeping_the_same_result_twice_keeps_one_snapshot(qtbot, window, gradient_png):
    """Two presses of Keep Snapshot made #1 and #2 of the very same result."""
    window.controls.set_settings(QuantizeSettings(k=6))
    open_and_wait(qtbot, window, gradient_png)
    first = window.keep_snapshot()
    assert window.keep_snapshot() is first
    assert len(window.snapshot_strip.snapshots()) == 1
    assert "already snapshot 1" in window.status_label.text()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.controls.k_spin.setValue(4)
    second = window.keep_snapshot()
    assert second.number == 2 and len(window.snapshot_strip.snapshots()) == 2


def test_a_snapshot_kept_before_a_resize_still_compares(qtbot, window, tmp_path):
    """After the window was resized the view's previews were of another size
    than a snapshot's, and clicking the snapshot silently did nothing."""
    y, x = np.mgrid[0:900, 0:1200]
    big = np.stack([x * 255 // 1199, y * 255 // 899, (x + y) * 255 // 2098], axis=-1)
    path = write_image(tmp_path / "big.png", big.astype(np.uint8))  # larger than the view
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, path)
    snap = window.keep_snapshot()
    old = window.canvas.preview_size()
    window.resize(1400, 950)
    qtbot.waitUntil(lambda: window.canvas.preview_size() != old, timeout=20000)
    window.snapshot_strip.item(0).setSelected(True)
    assert window.canvas.comparison_labels()[0] == f"#{snap.number} k=6"
    # Shown at the view's new size, as the file looks there.
    left = window.canvas._compare[0][1]
    assert (left.preview_source.width, left.preview_source.height) == window.canvas.preview_size()
