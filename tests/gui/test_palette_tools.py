"""Palette control in the window: pins, eyedropper, edits, import/export, the brush."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from kmeans_gui.core import QuantizeSettings, load_mask, read_palette
from kmeans_gui.gui import dialogs

from .conftest import open_and_wait, write_image


def result_colours(window) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c[:3]) for c in window.session.result.result.palette}


def run_and_wait(qtbot, window, action, timeout=20000):
    with qtbot.waitSignal(window.run_finished, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


@pytest.fixture
def patch_png(tmp_path):
    """A gradient with a small noisy green patch: at k=4 the green is lost."""
    y, x = np.mgrid[0:120, 0:160]
    pixels = np.stack([x * 255 // 159, y * 60 // 119 + 40, 120 + 0 * x], axis=2)
    noise = np.random.default_rng(0).integers(-15, 16, (10, 10, 3))
    pixels[50:60, 70:80] = np.array([60, 150, 60]) + noise
    return write_image(tmp_path / "patch.png", np.clip(pixels, 0, 255).astype(np.uint8))


def test_pinned_swatch_survives_reruns_and_k_changes(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    palette = window.session.result.result.palette
    window.palette_view.setFocus()
    window.palette_view.set_current(3)
    qtbot.keyClick(window.palette_view, Qt.Key.Key_P)  # the keyboard pins
    pinned = tuple(int(v) for v in palette[3][:3])
    assert window.session.palette_control.pinned == [pinned]
    assert window.palette_view.is_pinned(3)
    for k in (5, 12):
        window.controls.set_settings(QuantizeSettings(k=k, dither="none"))
        f = run_and_wait(qtbot, window, window.start_run)
        assert f.settings.keep == (pinned,)
        assert pinned in result_colours(window)
        assert f.result.n_colors <= k
    index = [tuple(int(v) for v in c[:3]) for c in window.session.result.result.palette].index(
        pinned)
    window.palette_view.pin_toggled.emit(index)  # the lock toggles off again
    assert window.session.palette_control.pinned == []


def test_eyedropper_pins_the_clicked_colour(qtbot, window, patch_png):
    window.controls.set_settings(QuantizeSettings(k=4, dither="none"))
    open_and_wait(qtbot, window, patch_png)
    window.canvas.set_mode("original")
    window.palette_tools.eyedropper_action.trigger()
    assert window.canvas.tool() == "eyedropper"
    rect = window.canvas.image_rect()
    scale = rect.width() / 160
    pos = QPoint(round(rect.left() + 75.5 * scale), round(rect.top() + 55.5 * scale))
    x, y = window.canvas.image_point(QPointF(pos))
    assert 70 <= x < 80 and 50 <= y < 60
    picked = tuple(int(v) for v in window.session.image.pixels[int(y), int(x)])
    assert picked not in result_colours(window)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert window.session.palette_control.pinned == [picked]
    assert picked in result_colours(window)
    assert window.session.result.result.n_colors <= 4


def test_edit_swatch_remaps_only_and_pins(qtbot, window, gradient_png, monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    before = window.session.result.result.palette.copy()
    monkeypatch.setattr(dialogs, "ask_color", lambda parent, initial: (255, 0, 255))
    f = run_and_wait(qtbot, window, lambda: window.palette_view.edit_requested.emit(2))
    after = f.result.palette
    assert f.result.reason == "fixed palette" and f.result.iterations == 0
    expected = before.copy()
    expected[2] = (255, 0, 255)
    assert np.array_equal(after, expected)  # the other colours did not move, order kept
    assert window.session.palette_control.pinned == [(255, 0, 255)]


def test_remove_swatch_remaps_to_the_rest(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    before = window.session.result.result.palette.copy()
    f = run_and_wait(qtbot, window, lambda: window.palette_view.remove_requested.emit(0))
    assert np.array_equal(f.result.palette, before[1:])


def test_import_palette_map_or_keep(qtbot, window, gradient_png, tmp_path, monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    gpl = tmp_path / "three.gpl"
    gpl.write_text("GIMP Palette\n255 0 0\n0 0 255\n250 250 250\n")
    monkeypatch.setattr(dialogs, "ask_open_palette", lambda parent, folder: str(gpl))
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "map")
    f = run_and_wait(qtbot, window, window.palette_tools.import_action.trigger)
    assert f.result.palette.tolist() == [[255, 0, 0], [0, 0, 255], [250, 250, 250]]
    # k is the given palette's now: its controls are off and say how to get them back.
    k_spin = window.controls.k_spin
    assert not k_spin.isEnabled() and not window.controls.k_slider.isEnabled()
    assert "Adapt Palette Again" in k_spin.toolTip() and not window.target_panel.isEnabled()
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "keep")
    f = run_and_wait(qtbot, window, window.palette_tools.import_action.trigger)
    assert f.result.n_colors <= 8 and f.result.iterations >= 1
    assert k_spin.isEnabled() and window.target_panel.isEnabled()
    assert {(255, 0, 0), (0, 0, 255), (250, 250, 250)} <= result_colours(window)


def test_import_bad_palette_shows_the_line(qtbot, window, gradient_png, tmp_path, monkeypatch,
                                           scripted_dialogs):
    open_and_wait(qtbot, window, gradient_png)
    bad = tmp_path / "bad.hex"
    bad.write_text("ff0000\nnope\n")
    monkeypatch.setattr(dialogs, "ask_open_palette", lambda parent, folder: str(bad))
    window.palette_tools.import_action.trigger()
    assert scripted_dialogs.errors and "bad.hex, line 2" in scripted_dialogs.errors[-1][2]


@pytest.mark.parametrize("ext", [".gpl", ".pal", ".txt", ".hex", ".act", ".png"])
def test_export_palette_in_every_format(qtbot, window, gradient_png, tmp_path,
                                        scripted_dialogs, ext):
    window.controls.set_settings(QuantizeSettings(k=5, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.palette_path = str(tmp_path / f"out{ext}")
    window.export_action.trigger()
    assert np.array_equal(read_palette(tmp_path / f"out{ext}"),
                          window.session.result.result.palette[:, :3])


def test_brush_paints_the_mask_and_runs_use_it(qtbot, window, patch_png, tmp_path,
                                               monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=4, dither="none"))
    open_and_wait(qtbot, window, patch_png)
    plain = window.session.result.result
    window.canvas.set_mode("original")
    window.palette_tools.brush_action.trigger()
    assert window.canvas.tool() == "brush"
    window.palette_tools.size_spin.setValue(8)
    rect = window.canvas.image_rect()
    scale = rect.width() / 160
    start = QPointF(rect.left() + 72 * scale, rect.top() + 55 * scale)
    end = QPointF(rect.left() + 78 * scale, rect.top() + 55 * scale)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
        qtbot.mouseMove(window.canvas, pos=end.toPoint())
        qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=end.toPoint())
    mask = window.session.palette_control.mask
    assert mask is not None and mask[55, 75] == 255 and mask[5, 5] == 0
    weighted = blocker.args[0].result
    original = window.session.image.pixels.astype(int)

    def patch_error(result):
        got = result.to_rgb().astype(int)
        return np.abs(got[50:60, 70:80] - original[50:60, 70:80]).mean()

    assert patch_error(weighted) < 0.5 * patch_error(plain)
    # saved and loaded again as a grayscale PNG
    monkeypatch.setattr(dialogs, "ask_save_mask", lambda parent, p: str(tmp_path / "m.png"))
    window.palette_tools.save_mask_action.trigger()
    assert np.array_equal(load_mask(tmp_path / "m.png"), mask)
    window.palette_tools.erase_action.trigger()
    assert window.canvas.erase
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_tools.clear_mask_action.trigger()
    assert not window.session.palette_control.has_mask()
    monkeypatch.setattr(dialogs, "ask_open_mask", lambda parent, folder: str(tmp_path / "m.png"))
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_tools.load_mask_action.trigger()
    assert np.array_equal(window.session.palette_control.mask, mask)


def test_control_round_trips_through_settings(qapp):
    from kmeans_gui.gui.palette_control import PaletteControl
    control = PaletteControl()
    control.set_pinned([(1, 2, 3), (4, 5, 6)])
    settings = control.settings_for(QuantizeSettings(k=1, dither="none"))
    assert settings.keep == ((1, 2, 3), (4, 5, 6)) and settings.k == 2
    other = PaletteControl()
    other.restore(settings)
    assert other.pinned == control.pinned and other.fixed_palette is None
    control.set_fixed_palette([(9, 9, 9)])
    other.restore(control.settings_for(QuantizeSettings()))
    assert other.fixed_palette == ((9, 9, 9),)


def test_erase_and_clear_are_offered_only_when_they_can_act(qtbot, window, patch_png):
    # Erase was enabled with no image; Clear Importance stayed enabled after a
    # clear (the mask is kept as zeros) while Save Importance Mask was not.
    tools = window.palette_tools
    assert not tools.erase_action.isEnabled() and not tools.brush_action.isEnabled()
    window.controls.set_settings(QuantizeSettings(k=4, dither="none"))
    open_and_wait(qtbot, window, patch_png)
    assert tools.erase_action.isEnabled() and not tools.clear_mask_action.isEnabled()
    window.canvas.set_mode("original")
    tools.brush_action.trigger()
    rect = window.canvas.image_rect()
    at = QPointF(rect.left() + rect.width() / 2, rect.top() + rect.height() / 2).toPoint()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=at)
        qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=at)
    assert tools.clear_mask_action.isEnabled() and tools.save_mask_action.isEnabled()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        tools.clear_mask_action.trigger()
    assert not window.session.palette_control.has_mask()
    assert not tools.clear_mask_action.isEnabled() and not tools.save_mask_action.isEnabled()


def test_a_new_image_lets_go_of_its_pins_but_keeps_a_palette_file(qtbot, window, gradient_png,
                                                                   patch_png, tmp_path,
                                                                   monkeypatch):
    # Pins chosen on one image carried over to the next while its mask was
    # cleared. Now both are the image's; a palette file's colours are nobody's.
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    control = window.session.palette_control
    window.palette_view.pin_toggled.emit(1)
    window.palette_view.pin_toggled.emit(4)
    assert len(control.pinned) == 2
    control.ensure_mask(120, 160)
    control.paint(30, 30, 8)
    f = open_and_wait(qtbot, window, patch_png)
    assert control.pinned == [] and f.settings.keep == () and control.mask is None
    assert not any(window.palette_view.is_pinned(i) for i in range(len(f.result.palette)))
    assert not window.unpin_all_action.isEnabled()
    # "Keep these colours": they stay pinned on the next image, a swatch pinned here does not.
    hexes = tmp_path / "brand.hex"
    hexes.write_text("ff0000\n0000ff\n")
    monkeypatch.setattr(dialogs, "ask_open_palette", lambda parent, folder: str(hexes))
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "keep")
    run_and_wait(qtbot, window, window.import_palette_action.trigger)
    own = next(i for i, c in enumerate(window.session.result.result.palette)
               if tuple(int(v) for v in c[:3]) not in {(255, 0, 0), (0, 0, 255)})
    window.palette_view.pin_toggled.emit(own)
    assert len(control.pinned) == 3
    said = []  # the status line as the image opens (the run's own words follow)
    window.image_opened.connect(lambda _path: said.append(window.status_label.text()))
    f = open_and_wait(qtbot, window, gradient_png)
    assert control.pinned == [(255, 0, 0), (0, 0, 255)] and f.settings.keep == (
        (255, 0, 0), (0, 0, 255))
    assert "the 2 imported colours stay pinned" in said[-1]
    # "Map to this palette": the next image is mapped to it too.
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "map")
    run_and_wait(qtbot, window, window.import_palette_action.trigger)
    f = open_and_wait(qtbot, window, patch_png)
    assert f.result.palette.tolist() == [[255, 0, 0], [0, 0, 255]]
    assert "still mapped to the 2 imported colours" in said[-1]


def shown(window) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in c[:3]) for c in window.palette_view.colors()]


def test_removing_a_swatch_leaves_the_others_in_place(qtbot, window, gradient_png):
    # Removing one swatch redrew the strip in the new file's order: every swatch moved.
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    view = window.palette_view
    before = shown(window)
    assert before != [tuple(int(v) for v in c[:3])  # the strip is not in file order here
                      for c in window.session.result.result.palette]
    for slot in (2, 5):
        strip = shown(window)
        f = run_and_wait(qtbot, window,
                         lambda s=slot: view.remove_requested.emit(view.palette_index(s)))
        assert shown(window) == strip[:slot] + strip[slot + 1:]
        assert f.result.n_colors == len(strip) - 1
    # Undo brings the removed swatches back where they were.
    run_and_wait(qtbot, window, window.undo_action.trigger)
    run_and_wait(qtbot, window, window.undo_action.trigger)
    assert shown(window) == before


def test_after_delete_the_next_swatch_is_current(qtbot, window, gradient_png):
    # The keys' swatch was kept as a palette index, which names another colour
    # (elsewhere in the strip) after a removal; now it is the place in the strip.
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    view = window.palette_view
    # A place whose next swatch is not the next entry of the file's palette
    # (where an index kept across the removal would land).
    slot = next(i for i in range(7) if view.palette_index(i + 1) != view.palette_index(i) + 1)
    view.setFocus()
    for _ in range(slot + 1):
        qtbot.keyClick(view, Qt.Key.Key_Right)  # slots 0, 1, … slot
    strip = shown(window)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert shown(window) == strip[:slot] + strip[slot + 1:]
    current = view.current()
    assert tuple(int(v) for v in window.session.result.result.palette[current][:3]) == \
        strip[slot + 1]
