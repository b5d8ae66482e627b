"""The side panel's spin boxes apply every keystroke at once, so their own
text undo has nothing to give back: with the focus in one, Ctrl+Z and
Ctrl+Shift+Z are the window's settings Undo and Redo, as everywhere else
(the line edit took them, and after typing a k, Undo did nothing)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)
_REDO = QKeySequence("Ctrl+Shift+Z")


class UndoGoesToWindow(QObject):
    """Event filter: a spin box does not claim the undo keys (the shortcut fires)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            combo = QKeySequence(event.keyCombination())
            if any(event.matches(key) for key in _KEYS) or combo == _REDO:
                event.ignore()
                return True
        return False


def route_undo(root: QWidget, owner: QObject | None = None) -> UndoGoesToWindow:
    """Install one filter on every spin box under ``root``."""
    keys = UndoGoesToWindow(owner or root)
    for spin in root.findChildren(QAbstractSpinBox):
        spin.installEventFilter(keys)
    return keys
