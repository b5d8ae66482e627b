"""The window's bare-key shortcuts (Space and → step the run in step mode)
must not take keys from the widget that has the focus and uses them: a
focused swatch strip moves between swatches with the arrows and pins with
Space, a button is pressed with Space, a slider moves with the arrows, a
list moves its selection. Qt fires a window shortcut before the focused
widget sees the key unless the widget accepts the ShortcutOverride event,
which only line edits and spin boxes do for the keys they use; this filter
does it for the others.

A widget of ours says which keys it uses with a ``keys_used()`` method (the
canvas uses the arrows only when there is something to pan to).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QComboBox,
    QWidget,
)

K = Qt.Key
ARROWS = frozenset((K.Key_Left, K.Key_Right, K.Key_Up, K.Key_Down))
_BARE = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)


def keys_used(widget: QObject) -> frozenset:
    """The bare keys ``widget`` acts on when it has the focus."""
    own = getattr(widget, "keys_used", None)
    if callable(own):
        return frozenset(own())
    if isinstance(widget, QAbstractButton):
        return frozenset((K.Key_Space, K.Key_Select))
    if isinstance(widget, QComboBox):
        return frozenset((K.Key_Space, K.Key_Up, K.Key_Down))
    if isinstance(widget, QAbstractSlider):
        return ARROWS | {K.Key_PageUp, K.Key_PageDown, K.Key_Home, K.Key_End}
    if isinstance(widget, QAbstractItemView):
        return ARROWS | {K.Key_Space, K.Key_Home, K.Key_End}
    return frozenset()


class KeysStayWithFocus(QObject):
    """Event filter: a widget keeps the bare keys it uses from the shortcuts."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.modifiers() in _BARE and Qt.Key(event.key()) in keys_used(watched)):
            event.accept()  # no shortcut: the key press goes to the widget
            return True
        return False


def keep_keys_with_focus(root: QWidget, owner: QObject | None = None) -> KeysStayWithFocus:
    """Install one filter on every widget under ``root`` that uses bare keys
    and can take the focus."""
    keys = KeysStayWithFocus(owner or root)
    for widget in [root, *root.findChildren(QWidget)]:
        # Ours say which keys they use when asked: an empty strip uses none yet.
        asks = callable(getattr(widget, "keys_used", None))
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and (asks or keys_used(widget)):
            widget.installEventFilter(keys)
    return keys
