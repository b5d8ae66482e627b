"""Settings history for Undo/Redo: every run's settings, in order."""

from __future__ import annotations

from kmeans_gui.core import QuantizeSettings


class SettingsHistory:
    def __init__(self) -> None:
        self._items: list[QuantizeSettings] = []
        self._at = -1

    def push(self, settings: QuantizeSettings) -> None:
        """Record ``settings`` as the newest; anything undone is forgotten."""
        if 0 <= self._at and self._items[self._at] == settings:
            return
        del self._items[self._at + 1:]
        self._items.append(settings)
        self._at = len(self._items) - 1

    def can_undo(self) -> bool:
        return self._at > 0

    def can_redo(self) -> bool:
        return self._at < len(self._items) - 1

    def undo(self) -> QuantizeSettings | None:
        if not self.can_undo():
            return None
        self._at -= 1
        return self._items[self._at]

    def redo(self) -> QuantizeSettings | None:
        if not self.can_redo():
            return None
        self._at += 1
        return self._items[self._at]

    def clear(self) -> None:
        self._items.clear()
        self._at = -1
