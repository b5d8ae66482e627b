"""Scrolling a panel must not edit it: a combo box, slider or spin box only
takes the mouse wheel once it has keyboard focus (clicked or tabbed to).
Otherwise the wheel event goes to the scroll area around the controls."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget


class WheelNeedsFocus(QObject):
    """Event filter: unfocused widgets pass wheel events to their parent."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget)
                and not watched.hasFocus()):
            area = watched.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:
                QApplication.sendEvent(area.verticalScrollBar(), event)
            else:
                event.ignore()
            return True  # never to the widget itself
        return False


def guard(widgets, owner: QObject) -> WheelNeedsFocus:
    """Install one filter (owned by ``owner``) on ``widgets``; a wheel over them
    no longer gives them focus either (a click or Tab still does)."""
    wheel_filter = WheelNeedsFocus(owner)
    for widget in widgets:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(wheel_filter)
    return wheel_filter
