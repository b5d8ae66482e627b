"""The action registry: every window action comes from its table, is
reachable from the menus, has a shortcut no other action has, and is
enabled exactly when its rule says."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from kmeans_gui.gui.actions import ACTIONS, MENUS, TOOLBAR

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
        "&File", "&Edit", "&Quantize", "&View", "&Help"]


def test_no_two_actions_share_a_shortcut(window):
    # Qt fires neither of two actions with the same shortcut ("ambiguous").
    owners: dict[str, str] = {}
    for action in window.actions():
        for key in action.shortcuts():
            text = key.toString()
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
