"""Issue 14's bugs, one test each: the window must not mislead or surprise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QSlider,
    QToolBar,
    QWidget,
)

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.gui.canvas import ComparisonView
from kmeans_gui.gui.palette_view import PaletteView

from .conftest import open_and_wait, write_image
from .test_running import start_long_run


def _wheel(widget, steps: int = -3) -> None:
    """A mouse wheel turn over ``widget`` (delivered like a real one, with propagation)."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_unfocused_controls_scrolls_the_panel(qtbot, window):
    window.resize(1000, 420)  # the side panel needs its scroll bar
    qtbot.wait(50)
    c = window.controls
    window.canvas.setFocus()
    bar = window.side_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    before = (c.space_combo.currentIndex(), c.k_slider.value(), c.k_spin.value(),
              c.seed_spin.value(), c.dither_combo.currentIndex())
    for widget in (c.space_combo, c.k_slider, c.k_spin, c.seed_spin, c.dither_combo):
        bar.setValue(0)
        _wheel(widget)
        assert bar.value() > 0, f"the panel did not scroll over {type(widget).__name__}"
    after = (c.space_combo.currentIndex(), c.k_slider.value(), c.k_spin.value(),
             c.seed_spin.value(), c.dither_combo.currentIndex())
    assert after == before
    # once focused (clicked or tabbed to), the wheel edits as usual
    c.k_spin.setFocus()
    qtbot.waitUntil(c.k_spin.hasFocus, timeout=2000)
    _wheel(c.k_spin, steps=1)
    assert c.k_spin.value() != before[2]


def test_side_panel_cannot_collapse_and_show_controls_restores_it(qtbot, make_window):
    window = make_window()
    assert not window.splitter.isCollapsible(1)
    window.splitter.moveSplitter(window.splitter.width(), 1)  # dragged to the edge
    assert window.splitter.sizes()[1] > 0
    window.show_controls_action.trigger()  # hidden on purpose ...
    assert not window.side_scroll.isVisible()
    window.close()
    again = make_window()  # ... stays hidden after a restart, and comes back from the menu
    assert not again.side_scroll.isVisible()
    again.show_controls_action.trigger()
    assert again.side_scroll.isVisible()
    assert again.splitter.sizes()[1] > 0


@pytest.mark.usefixtures("paced_iterations")
def test_stop_keeps_a_saveable_result_and_f5_reruns(qtbot, window, noise_png,
                                                   scripted_dialogs, tmp_path):
    start_long_run(qtbot, window, noise_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.stop_action.trigger()
    kept = blocker.args[0]
    assert kept.result.reason == "stopped"
    assert kept.result.iterations >= 1
    assert window.session.result is kept
    assert "Stopped" in window.status_label.text()
    assert window.save_action.isEnabled()
    scripted_dialogs.save_path = str(tmp_path / "stopped.png")
    with qtbot.waitSignal(window.result_saved, timeout=20000):
        window.save_action.trigger()
    with Image.open(tmp_path / "stopped.png") as im:
        assert np.array_equal(np.asarray(im), kept.result.indices)
    with qtbot.waitSignal(window.session.run_started, timeout=5000):
        window.run_action.trigger()
    assert window.session.is_running()


@pytest.mark.usefixtures("paced_iterations")
def test_changed_setting_stops_the_old_run_updating_the_view(qtbot, window, noise_png):
    start_long_run(qtbot, window, noise_png)
    shown = []
    window.preview_shown.connect(shown.append)
    window.controls.k_spin.setValue(24)
    assert not window.session.is_running()  # at once, not after the debounce
    qtbot.wait(150)  # within the debounce: the old run's reports are dropped
    assert shown == []
    with qtbot.waitSignal(window.session.run_started, timeout=5000) as blocker:
        pass
    assert blocker.args[0].k == 24


def test_default_window_fits_and_restored_geometry_is_clamped(qtbot, make_window):
    free = QGuiApplication.primaryScreen().availableGeometry()
    window = make_window(resize=False)
    assert window.width() <= free.width() and window.height() <= free.height()
    window.resize(free.width() * 2, free.height() * 2)
    window.close()
    again = make_window(resize=False)
    assert again.width() <= free.width() and again.height() <= free.height()


def test_untouched_sample_is_not_asked_about(qtbot, make_window, scripted_dialogs):
    window = make_window()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_sample()
    assert window.close()
    assert scripted_dialogs.asked_save_changes == 0


def test_edited_sample_is_asked_about(qtbot, make_window, scripted_dialogs):
    window = make_window()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_sample()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.controls.k_spin.setValue(9)
    scripted_dialogs.save_changes = "cancel"
    assert not window.close()
    assert scripted_dialogs.asked_save_changes == 1
    scripted_dialogs.save_changes = "discard"


def test_opening_another_image_asks_about_an_unsaved_result(qtbot, window, scripted_dialogs,
                                                             gradient_png, noise_png):
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.save_changes = "cancel"
    window.open_path(noise_png)
    assert scripted_dialogs.save_changes_asked_before == ["opening another image"]
    assert not window.session.is_loading()
    assert window.session.path == gradient_png
    scripted_dialogs.save_changes = "discard"
    with qtbot.waitSignal(window.image_opened, timeout=20000):
        window.open_path(noise_png)
    assert scripted_dialogs.asked_save_changes == 2


def test_one_colour_and_no_empty_chart_axes(qtbot, window, tmp_path):
    path = write_image(tmp_path / "flat.png", np.full((40, 50, 3), 77, np.uint8))
    window.controls.set_settings(QuantizeSettings(k=8))
    finished = open_and_wait(qtbot, window, path)
    assert finished.result.n_colors == 1
    assert "1 colour " in window.status_label.text() + " "
    assert "1 colours" not in window.status_label.text() + window.info_png.text()
    assert "1 colours" not in window.summary.text()
    low, high = window.chart.y_range()
    assert (low, high) == (0, 100)
    assert "Exact" in window.chart.chart().title()


def test_progress_bar_after_failed_open_and_during_a_run(qtbot, window, gradient_png,
                                                        noise_png, tmp_path):
    start_long_run(qtbot, window, noise_png)
    assert window.progress.maximum() == 0  # busy, not a fraction of the iteration cap
    window.stop()
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=20000)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_path(bad)
    assert window.progress.maximum() == 1
    assert window.progress.value() in (0, 1)


def test_error_texts_name_no_pillow_internals(qtbot, window, scripted_dialogs, gradient_png,
                                              tmp_path):
    data = gradient_png.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    jpeg = tmp_path / "cut.jpg"
    Image.open(gradient_png).convert("RGB").save(jpeg)
    jpeg.write_bytes(jpeg.read_bytes()[:400])
    for path in (cut, jpeg):
        with qtbot.waitSignal(window.open_failed, timeout=20000) as blocker:
            window.open_path(path)
        message = blocker.args[0]
        assert message.startswith(path.name + ":")
        for internal in ("PIL", "Pillow", "bytes not processed", "broken data stream",
                         "Errno", "("):
            assert internal not in message, message


def test_close_then_save_runs_in_the_background(qtbot, make_window, scripted_dialogs,
                                               gradient_png, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.save_changes = "save"
    scripted_dialogs.save_path = str(tmp_path / "closing.png")
    seen = []
    window.session.saving.connect(lambda _path: seen.append(window.progress.maximum()))
    ticks = []
    timer = QTimer(interval=0)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    assert window.close()
    timer.stop()
    assert seen == [0]  # a busy indicator while the worker writes
    assert ticks  # the event loop ran meanwhile: the window was never frozen
    assert (tmp_path / "closing.png").is_file()


def test_swatches_keep_their_places_when_the_run_ends(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=12))
    last = []
    window.preview_shown.connect(lambda _i: last.append(window.palette_view.colors().copy()))
    finished = open_and_wait(qtbot, window, gradient_png)
    shown = window.palette_view.colors()
    final = finished.result.palette
    assert sorted(map(tuple, shown)) == sorted(map(tuple, final))
    before = last[-1].astype(int)
    # each place shows the final colour nearest to what it showed before
    distances = np.abs(shown.astype(int) - before).sum(axis=1)
    assert distances.max() <= 6


def test_every_tab_stop_is_a_visible_control(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    stops = []
    widget = window.controls.k_spin
    for _ in range(100):
        if widget.isVisible() and widget.isEnabled() and (
                widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            stops.append(widget)
        widget = widget.nextInFocusChain()
        if widget is window.controls.k_spin:
            break
    # The palette view is a control: its keys pin, edit and remove swatches.
    allowed = (QAbstractSpinBox, QComboBox, QSlider, QAbstractButton, ComparisonView,
               PaletteView)
    strays = [f"{type(w).__name__} {w.objectName()} in {type(w.parentWidget()).__name__}"
              for w in stops if not isinstance(w, allowed)
              and not isinstance(w.parentWidget(), allowed)]  # a spin box's own line edit
    assert strays == []


def test_arrow_keys_pan(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    window.canvas.set_zoom(8.0)
    before = window.canvas.center()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    assert window.canvas.center().x() > before.x()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Down)
    assert window.canvas.center().y() > before.y()


def test_run_again_uses_a_new_seed(qtbot, window, gradient_png):
    first = open_and_wait(qtbot, window, gradient_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.run_action.trigger()
    again = blocker.args[0]
    assert again.settings.seed != first.settings.seed
    assert window.controls.seed_spin.value() == again.settings.seed


def test_dithering_change_only_remaps(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(dither="none"))
    first = open_and_wait(qtbot, window, gradient_png)
    started = []
    window.session.runner.job_started.connect(lambda job: started.append(job.kind))
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        combo = window.controls.dither_combo
        combo.setCurrentIndex(combo.findData("fs"))
        assert window.save_action.isEnabled()  # the old result stays saveable meanwhile
    dithered = blocker.args[0]
    assert started == ["remap"]
    assert np.array_equal(dithered.result.palette, first.result.palette)
    assert dithered.settings.dither == "fs"
    assert not np.array_equal(dithered.result.indices, first.result.indices)
    assert window.save_action.isEnabled()


def test_k_slider_is_logarithmic_with_bit_depth_marks(qtbot, window):
    slider = window.controls.k_slider
    # the same relative change takes the same distance
    assert abs((slider.position_of(5) - slider.position_of(4))
               - (slider.position_of(160) - slider.position_of(128))) <= 1
    for k in (2, 3, 4, 5, 16, 17, 100, 256):
        assert slider.k_at(slider.position_of(k)) == k
    window.controls.k_spin.setValue(17)
    assert slider.k() == 17
    # the 4-bit / 8-bit boundary sits between 16 and 17
    slider.resize(600, slider.height())
    assert slider.x_of(16) < slider.x_of(16.5) < slider.x_of(17)
    image = slider.grab().toImage()
    x = slider.x_of(16.5)
    column = {image.pixelColor(x, y).name() for y in range(2, image.height() // 2)}
    assert len(column) > 1, "no boundary mark drawn"


def test_snapshots_compare_in_the_split_view(qtbot, window, gradient_png):
    first = open_and_wait(qtbot, window, gradient_png)
    window.keep_action.trigger()
    assert window.snapshot_strip.isVisible()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.controls.k_spin.setValue(5)
    window.keep_action.trigger()
    snaps = window.snapshot_strip.snapshots()
    assert [s.finished for s in snaps][0] is first and len(snaps) == 2
    assert "KB" in snaps[0].label or " B" in snaps[0].label
    window.snapshot_strip.item(0).setSelected(True)
    assert window.canvas.comparison_labels() == ("#1 k=16", "Result")
    window.snapshot_strip.item(1).setSelected(True)
    assert window.canvas.comparison_labels() == ("#1 k=16", "#2 k=5")
    window.snapshot_strip.clearSelection()
    assert window.canvas.comparison_labels() == ("Original", "Result")


def test_undo_and_redo_step_through_settings(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.controls.k_spin.setValue(7)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.undo_action.trigger()
    assert blocker.args[0].settings.k == 16 and window.controls.k_spin.value() == 16
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.redo_action.trigger()
    assert blocker.args[0].settings.k == 7 and window.controls.k_spin.value() == 7
    assert not window.redo_action.isEnabled()


def test_try_other_seeds_keeps_the_best(qtbot, window, gradient_png):
    from kmeans_gui.core import steps

    open_and_wait(qtbot, window, gradient_png)
    tried = []
    window.session.runner.job_started.connect(lambda job: tried.extend(job.seeds))
    with qtbot.waitSignal(window.run_finished, timeout=30000) as blocker:
        window.seeds_action.trigger()
    best = blocker.args[0]
    assert len(tried) == 4 and best.settings.seed in tried
    image = window.session.image
    finals = {seed: list(steps(image, QuantizeSettings(seed=seed)))[-1].inertia
              for seed in tried}
    assert best.result.inertia == min(finals.values())
    assert window.controls.seed_spin.value() == best.settings.seed


def _rgba_png(tmp_path):
    y, x = np.mgrid[0:80, 0:120]
    pixels = np.zeros((80, 120, 4), np.uint8)
    pixels[..., 0] = x * 2
    pixels[..., 1] = y * 3
    pixels[..., 2] = 90
    pixels[..., 3] = np.where(x < 40, 0, np.where(x < 80, 128, 255))
    return write_image(tmp_path / "alpha.png", pixels)


def test_background_choice_for_transparent_pixels(qtbot, make_window, scripted_dialogs,
                                                   tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, _rgba_png(tmp_path))
    window.canvas.set_mode("original")
    window.canvas.set_zoom(32.0)
    window.canvas.pan_by(100_000, 0)  # the left edge: fully transparent pixels

    def centre_colour():
        image = window.canvas.grab().toImage()
        return image.pixelColor(image.width() // 2, image.height() // 2).name()

    window.background_actions["black"].trigger()
    assert centre_colour() == "#000000"
    window.background_actions["white"].trigger()
    assert centre_colour() == "#ffffff"
    window.background_actions["custom"].trigger()  # the scripted dialog answers green
    assert centre_colour() == "#00ff00"
    window.close()
    again = make_window()
    assert again.canvas.background() == "custom"
    assert again.background_actions["custom"].isChecked()


def test_translucent_swatches_are_grouped_by_alpha(qtbot, window, tmp_path):
    window.controls.set_settings(QuantizeSettings(k=12))
    open_and_wait(qtbot, window, _rgba_png(tmp_path))
    alpha = window.palette_view.colors()[:, 3].astype(int)
    assert (alpha < 255).any() and (alpha == 255).any()
    assert list(alpha) == sorted(alpha, reverse=True)


def test_every_control_and_tool_button_has_a_tooltip(qtbot, window):
    missing = [type(w).__name__ for w in window.controls.findChildren(QWidget)
               if isinstance(w, (QAbstractSpinBox, QComboBox, QSlider, QAbstractButton))
               and not w.toolTip()]
    assert missing == []
    toolbar_actions = [a for tb in window.findChildren(QToolBar) for a in tb.actions()
                       if not a.isSeparator()]
    assert all(a.toolTip() and a.toolTip() != a.text().replace("&", "")
               for a in toolbar_actions), [a.text() for a in toolbar_actions if
                                           a.toolTip() == a.text().replace("&", "")]
