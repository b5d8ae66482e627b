"""Undo, redo and snapshots bring back the palette control: pins, edited and
removed swatches, imported palettes and the importance mask."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.gui import dialogs
from kmeans_gui.gui.palette_control import PaletteControl

from .conftest import open_and_wait
from .test_palette_tools import patch_png, result_colours, run_and_wait  # noqa: F401


def palette_rows(window) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in c[:3]) for c in window.session.result.result.palette]


def undo(qtbot, window):
    return run_and_wait(qtbot, window, window.undo_action.trigger)


def redo(qtbot, window):
    return run_and_wait(qtbot, window, window.redo_action.trigger)


def set_k_and_run(qtbot, window, k):
    window.controls.set_settings(QuantizeSettings(k=k, dither="none"))
    return run_and_wait(qtbot, window, window.start_run)


def stroke(qtbot, window, points, radius=6):
    """Drag the brush over the original through ``points`` (image pixels);
    waits for the run that follows the stroke."""
    window.canvas.set_mode("original")
    if not window.palette_tools.brush_action.isChecked():
        window.palette_tools.brush_action.trigger()
    window.palette_tools.size_spin.setValue(radius)
    rect = window.canvas.image_rect()
    scale = rect.width() / window.session.image.width

    def at(p):
        return QPointF(rect.left() + p[0] * scale, rect.top() + p[1] * scale).toPoint()

    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=at(points[0]))
        for p in points[1:]:
            qtbot.mouseMove(window.canvas, pos=at(p))
        qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=at(points[-1]))


def overlay_matches(window) -> bool:
    """The canvas's red overlay is the current mask (alpha 150 for white)."""
    mask = window.session.palette_control.mask
    alpha = window.canvas._mask_buffer[..., 3]
    return np.array_equal(alpha, (mask.astype(np.uint16) * 150 // 255).astype(np.uint8))


def test_undo_and_redo_bring_back_pins(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    control = window.session.palette_control
    pinned = palette_rows(window)[3]
    window.palette_view.pin_toggled.emit(3)  # pinning runs nothing, but is a step
    assert control.pinned == [pinned] and window.undo_action.isEnabled()
    set_k_and_run(qtbot, window, 5)
    assert pinned in result_colours(window)
    window.palette_tools.unpin_all_action.trigger()
    set_k_and_run(qtbot, window, 12)
    assert control.pinned == []
    f = undo(qtbot, window)  # the unpinning at k = 5
    assert control.pinned == [] and f.settings.k == 5
    f = undo(qtbot, window)  # k = 5 with the pin
    assert control.pinned == [pinned] and f.settings.keep == (pinned,)
    assert pinned in result_colours(window) and window.palette_view.is_pinned(
        palette_rows(window).index(pinned))
    f = undo(qtbot, window)  # the pin at k = 8
    assert control.pinned == [pinned] and f.settings.k == 8
    f = undo(qtbot, window)  # k = 8 before anything was pinned
    assert control.pinned == [] and f.settings.keep == ()
    assert not window.undo_action.isEnabled()
    for _ in range(3):
        redo(qtbot, window)
    assert control.pinned == []
    f = redo(qtbot, window)
    assert control.pinned == [] and f.settings.k == 12 and not window.redo_action.isEnabled()


def test_undo_an_edited_and_a_removed_swatch(qtbot, window, gradient_png, monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    control = window.session.palette_control
    before = palette_rows(window)
    monkeypatch.setattr(dialogs, "ask_color", lambda parent, initial: (255, 0, 255))
    run_and_wait(qtbot, window, lambda: window.palette_view.edit_requested.emit(2))
    edited = palette_rows(window)
    assert edited[2] == (255, 0, 255) and control.pinned == [(255, 0, 255)]
    run_and_wait(qtbot, window, lambda: window.palette_view.remove_requested.emit(0))
    removed = palette_rows(window)
    assert removed == edited[1:] and control.pinned == [(255, 0, 255)]
    f = undo(qtbot, window)  # back to the edited palette: a remap again, no K-Means
    assert palette_rows(window) == edited and f.result.reason == "fixed palette"
    f = undo(qtbot, window)  # back to the K-Means result, nothing pinned
    assert palette_rows(window) == before and control.pinned == []
    assert f.result.iterations >= 1
    redo(qtbot, window)
    assert palette_rows(window) == edited and control.pinned == [(255, 0, 255)]
    redo(qtbot, window)
    assert palette_rows(window) == removed


def test_undo_an_imported_palette(qtbot, window, gradient_png, tmp_path, monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    control = window.session.palette_control
    before = palette_rows(window)
    gpl = tmp_path / "three.gpl"
    gpl.write_text("GIMP Palette\n255 0 0\n0 0 255\n250 250 250\n")
    given = [(255, 0, 0), (0, 0, 255), (250, 250, 250)]
    monkeypatch.setattr(dialogs, "ask_open_palette", lambda parent, folder: str(gpl))
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "map")
    run_and_wait(qtbot, window, window.palette_tools.import_action.trigger)
    assert palette_rows(window) == given
    # A new seed would redo the same remap: the seed actions wait for Adapt.
    assert not window.run_action.isEnabled() and not window.seeds_action.isEnabled()
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "keep")
    run_and_wait(qtbot, window, window.palette_tools.import_action.trigger)
    assert control.fixed_palette is None and control.pinned == given
    undo(qtbot, window)
    assert control.fixed_palette == tuple(given) and control.pinned == []
    assert palette_rows(window) == given
    undo(qtbot, window)
    assert control.fixed_palette is None and palette_rows(window) == before
    assert not window.palette_tools.adapt_action.isEnabled()
    assert window.run_action.isEnabled() and window.seeds_action.isEnabled()
    redo(qtbot, window)
    assert control.fixed_palette == tuple(given)
    assert window.palette_tools.adapt_action.isEnabled()
    redo(qtbot, window)
    assert control.pinned == given and set(given) <= result_colours(window)


def test_undo_brush_strokes_clear_and_load(qtbot, window, patch_png, tmp_path,  # noqa: F811
                                           monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=4, dither="none"))
    open_and_wait(qtbot, window, patch_png)
    control = window.session.palette_control
    stroke(qtbot, window, [(72, 55), (78, 55)])
    first = control.mask.copy()
    assert first[55, 75] == 255
    stroke(qtbot, window, [(20, 20), (30, 25), (40, 20)])
    second = control.mask.copy()
    assert second[22, 30] == 255 and first[22, 30] == 0
    window.palette_tools.erase_action.trigger()
    stroke(qtbot, window, [(75, 55)], radius=2)
    erased = control.mask.copy()
    assert overlay_matches(window)  # redrawn part by part while painting
    assert erased[55, 75] == 0 and erased[55, 70] == 255
    window.palette_tools.erase_action.trigger()
    undo(qtbot, window)
    assert np.array_equal(control.mask, second)
    f = undo(qtbot, window)
    assert np.array_equal(control.mask, first)
    assert window.canvas._mask is control.mask  # the overlay shows it
    assert overlay_matches(window)
    assert f is not None
    redo(qtbot, window)
    redo(qtbot, window)
    assert np.array_equal(control.mask, erased)
    # clearing and loading are steps too
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_tools.clear_mask_action.trigger()
    assert not control.has_mask()
    undo(qtbot, window)
    assert np.array_equal(control.mask, erased)
    loaded = np.zeros_like(erased)
    loaded[:40, :40] = 200
    from PIL import Image
    Image.fromarray(loaded, "L").save(tmp_path / "m.png")
    monkeypatch.setattr(dialogs, "ask_open_mask", lambda parent, folder: str(tmp_path / "m.png"))
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_tools.load_mask_action.trigger()
    assert np.array_equal(control.mask, loaded)
    stroke(qtbot, window, [(100, 100)], radius=4)
    painted = control.mask.copy()
    undo(qtbot, window)
    assert np.array_equal(control.mask, loaded)
    undo(qtbot, window)
    assert np.array_equal(control.mask, erased)
    redo(qtbot, window)
    redo(qtbot, window)
    assert np.array_equal(control.mask, painted)


def test_snapshot_keeps_its_mask_and_pins(qtbot, window, patch_png, monkeypatch):  # noqa: F811
    window.controls.set_settings(QuantizeSettings(k=4, dither="none"))
    open_and_wait(qtbot, window, patch_png)
    control = window.session.palette_control
    stroke(qtbot, window, [(72, 55), (78, 55)])
    window.palette_view.pin_toggled.emit(0)
    run_and_wait(qtbot, window, window.start_run)
    mask, pins = control.mask.copy(), list(control.pinned)
    kept = palette_rows(window)
    snap = window.keep_snapshot()
    assert snap.palette.pinned == tuple(pins) and snap.palette.mask is not None
    window.palette_tools.unpin_all_action.trigger()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_tools.clear_mask_action.trigger()
    assert not control.has_mask() and control.pinned == []
    run_and_wait(qtbot, window, lambda: window.snapshot_strip.restore_requested.emit(snap))
    assert np.array_equal(control.mask, mask) and control.pinned == pins
    assert palette_rows(window) == kept
    undo(qtbot, window)  # restoring was a step: undo goes back to the cleared mask
    assert not control.has_mask() and control.pinned == []


def test_snapshot_of_an_edited_palette_is_a_remap(qtbot, window, gradient_png, monkeypatch):
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    monkeypatch.setattr(dialogs, "ask_color", lambda parent, initial: (255, 0, 255))
    run_and_wait(qtbot, window, lambda: window.palette_view.edit_requested.emit(1))
    edited = palette_rows(window)
    snap = window.keep_snapshot()
    set_k_and_run(qtbot, window, 3)
    f = run_and_wait(qtbot, window, lambda: window.snapshot_strip.restore_requested.emit(snap))
    assert palette_rows(window) == edited and f.result.reason == "fixed palette"


@pytest.mark.usefixtures("qapp")
def test_mask_states_are_recipes_not_copies():
    """A state keeps the loaded mask compressed and the brush operations since
    (each with what it painted over); restoring one -- back, forward, onto
    another branch, or from another loaded mask -- gives exactly its mask."""
    control = PaletteControl()
    big = np.zeros((2000, 3000), np.uint8)
    big[100:900, 200:1400] = 255
    control.set_mask(big)
    states = [control.state()]
    masks = [control.mask.copy()]
    rng = np.random.default_rng(1)

    def drag(erase=False):
        """A drag as the canvas reports it: one operation per mouse move."""
        at = rng.random(2) * (3000, 2000)
        for _ in range(25):
            step = at + rng.normal(0, 8, 2)
            control.stroke([tuple(at), tuple(step)], 20.0, erase)
            at = step
        states.append(control.state())
        masks.append(control.mask.copy())

    for i in range(20):
        drag(erase=i % 4 == 3)
    control.paint(10.0, 10.0, 5.0)
    states.append(control.state())
    masks.append(control.mask.copy())
    assert states[-1].mask.nbytes < big.nbytes / 20  # 500 operations
    assert all(s.mask.base is states[0].mask.base for s in states)  # shared, not copied
    for at in (5, 0, 21, 17, 18):
        control.restore_state(states[at])
        assert np.array_equal(control.mask, masks[at])
        assert control.state() == states[at]
    control.restore_state(states[3])
    drag()  # a new branch from state 3
    control.restore_state(states[10])  # back onto the old branch
    assert np.array_equal(control.mask, masks[10])
    control.restore_state(states[-1])
    assert np.array_equal(control.mask, masks[-1])
    control.set_mask(np.full((2000, 3000), 7, np.uint8))  # another loaded mask
    control.restore_state(states[12])  # rebuilt from its own start
    assert np.array_equal(control.mask, masks[12])
    control.restore_state(None)
    assert control.mask is None and control.pinned == [] and control.fixed_palette is None
