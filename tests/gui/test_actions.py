"""The action registry: every window action comes from its table, is
reachable from the menus, has a shortcut no other action has, and is
enabled exactly when its rule says."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from kmeans_gui.gui.actions import ACTIONS, MENUS, TOOLBAR, ActionRegistry, ActionSpec

from .conftest import open_and_wait


def menu_actions(menu: QMenu) -> list[QAction]:
    found = []
    for action in menu.actions():
        found.append(action)
        if action.menu() is not None:
            found += menu_actions(action.menu())
    return found


def test_every_registry_action_is_in_a_menu(window):
    in_menus = [a for top in window.menuBar().actions() for a in [top, *menu_actions(top.menu())]]
    for spec in ACTIONS:
        assert window.registry[spec.key] in in_menus, spec.key
        assert getattr(window, f"{spec.key}_action") is window.registry[spec.key]
    keys = {spec.key for spec in ACTIONS}
    assert all(item == "-" or item in keys for item in TOOLBAR)
    assert [title for title, _ in MENUS if not title.startswith("@")] == [
        "&File", "&Edit", "&Quantize", "&View", "&Palette", "&Help"]


def test_no_two_actions_share_a_shortcut(window):
    # Qt fires neither of two actions with the same shortcut ("ambiguous").
    owners: dict[str, str] = {}
    for action in window.actions():
        texts = [key.toString() for key in action.shortcuts()]
        assert len(texts) == len(set(texts)), f"{action.text()}: {texts}"
        for text in texts:
            assert text not in owners, f"{text}: {owners[text]} and {action.text()}"
            owners[text] = action.text()


def test_enabled_rules_follow_the_session(qtbot, window, gradient_png):
    needs_image_or_result = ("save", "export", "run", "seeds", "keep")
    for key in (*needs_image_or_result, "stop", "undo", "redo", "step"):
        assert not window.registry[key].isEnabled(), key
    assert window.open_action.isEnabled() and window.quit_action.isEnabled()
    open_and_wait(qtbot, window, gradient_png)
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=20000)
    for key in needs_image_or_result:
        assert window.registry[key].isEnabled(), key
    assert not window.stop_action.isEnabled()
    assert not window.undo_action.isEnabled()  # one run: nothing to go back to
    window.step_mode_action.trigger()
    assert window.step_action.isEnabled()
    window.step_mode_action.trigger()
    assert not window.step_action.isEnabled()


def test_a_standard_key_equal_to_a_spelled_out_one_is_held_once(qtbot):
    # On X11 the standard Redo key is Ctrl+Shift+Z: an action holding it twice
    # is "ambiguous" to Qt, and Ctrl+Shift+Z then did nothing on the xcb platform.
    window = QWidget()
    qtbot.addWidget(window)
    window.redo = lambda: None
    redo_key = QKeySequence(QKeySequence.StandardKey.Redo).toString()
    spec = ActionSpec("redo", "Redo", "redo", ("Ctrl+Shift+Z", redo_key, "Ctrl+Shift+Z"))
    action = ActionRegistry(window, (spec,))["redo"]
    texts = [key.toString() for key in action.shortcuts()]
    assert texts == list(dict.fromkeys(["Ctrl+Shift+Z", redo_key]))


def test_palette_actions_follow_the_palette_control(qtbot, window, gradient_png, tmp_path,
                                                    monkeypatch):
    from kmeans_gui.gui import dialogs

    palette_keys = ("import_palette", "adapt", "eyedropper", "unpin_all", "brush", "erase",
                    "clear_mask", "load_mask", "save_mask")
    assert all(key in window.registry.specs for key in palette_keys)
    for key in palette_keys:  # nothing open: nothing to act on
        assert not window.registry[key].isEnabled(), key
    open_and_wait(qtbot, window, gradient_png)
    for key in ("import_palette", "eyedropper", "brush", "erase", "load_mask"):
        assert window.registry[key].isEnabled(), key
    for key in ("adapt", "unpin_all", "clear_mask", "save_mask"):
        assert not window.registry[key].isEnabled(), key
    size = window.palette_tools.size_spin
    size.setValue(12)
    window.bigger_brush_action.trigger()
    assert size.value() == 15 and window.canvas.brush_radius == 15
    window.smaller_brush_action.trigger()
    assert size.value() == 12
    window.overlay_action.trigger()
    assert not window.canvas.show_overlay and not window.palette_tools.overlay_check.isChecked()
    window.palette_tools.overlay_check.setChecked(True)
    assert window.overlay_action.isChecked() and window.canvas.show_overlay
    window.palette_view.pin_toggled.emit(0)
    assert window.unpin_all_action.isEnabled()
    window.unpin_all_action.trigger()
    assert not window.unpin_all_action.isEnabled()
    control = window.session.palette_control
    control.ensure_mask(120, 160)
    control.paint(20, 20, 5)
    assert window.clear_mask_action.isEnabled() and window.save_mask_action.isEnabled()
    palette = tmp_path / "two.hex"
    palette.write_text("ff0000\n0000ff\n")
    monkeypatch.setattr(dialogs, "ask_open_palette", lambda parent, folder: str(palette))
    monkeypatch.setattr(dialogs, "ask_import_mode", lambda parent, name, n: "map")
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.import_palette_action.trigger()
    assert window.adapt_action.isEnabled()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.adapt_action.trigger()
    assert not window.adapt_action.isEnabled()


def test_undo_keys_in_a_spin_box_undo_the_settings(qtbot, window, gradient_png):
    # After typing a k, Ctrl+Z went to the spin box's text (nothing to undo)
    # and the settings stayed: the keys are the window's Undo/Redo there too.
    from PySide6.QtCore import Qt

    from kmeans_gui.core import QuantizeSettings

    window.controls.set_settings(QuantizeSettings(k=8, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    spin = window.controls.k_spin
    spin.setFocus()
    spin.selectAll()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.keyClicks(spin, "5")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.session.result.settings.k == 5
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert spin.value() == 8 and window.session.result.settings.k == 8
    assert window.redo_action.isEnabled()  # a step back, not a new edit of the text
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
    assert spin.value() == 5
