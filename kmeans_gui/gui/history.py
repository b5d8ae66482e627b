"""Settings history for Undo/Redo: every run's settings, in order, with what
the palette control held for it (pins, given palette, importance mask), how
k was chosen (Fixed k or a target, with its value) and, for an edited or
removed swatch, the palette the image was remapped to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kmeans_gui.core import QuantizeSettings

from .kcurve import KMode
from .palette_control import RGB, PaletteControl, PaletteState


@dataclass(frozen=True)
class Entry:
    settings: QuantizeSettings
    palette: PaletteState | None = None
    remap: tuple[RGB, ...] | None = None  # mapped to these colours, no K-Means
    k_mode: KMode | None = None  # None: Fixed k


class SettingsHistory:
    def __init__(self, control: PaletteControl | None = None,
                 k_mode: Callable[[], KMode] | None = None) -> None:
        self._control = control
        self._k_mode = k_mode
        self._items: list[Entry] = []
        self._at = -1

    def push(self, settings: QuantizeSettings, remap=None) -> None:
        """Record ``settings`` (with the palette control's state now) as the
        newest; anything undone is forgotten."""
        state = self._control.state() if self._control is not None else None
        remap = None if remap is None else tuple(tuple(int(v) for v in c[:3]) for c in remap)
        k_mode = self._k_mode() if self._k_mode is not None else None
        self.push_entry(Entry(settings, state, remap, k_mode))

    def push_entry(self, entry: Entry) -> None:
        if 0 <= self._at and self._items[self._at] == entry:
            self._items[self._at] = entry  # the same step, told better (a search's outcome)
            return
        del self._items[self._at + 1:]
        self._items.append(entry)
        self._at = len(self._items) - 1

    def current(self) -> Entry | None:
        return self._items[self._at] if self._at >= 0 else None

    def can_undo(self) -> bool:
        return self._at > 0

    def can_redo(self) -> bool:
        return self._at < len(self._items) - 1

    def undo(self) -> Entry | None:
        if not self.can_undo():
            return None
        self._at -= 1
        return self._items[self._at]

    def redo(self) -> Entry | None:
        if not self.can_redo():
            return None
        self._at += 1
        return self._items[self._at]

    def clear(self) -> None:
        self._items.clear()
        self._at = -1

    def nbytes(self) -> int:
        """Roughly what the entries' masks keep in memory (shared ones once)."""
        seen: dict[int, int] = {}
        for entry in self._items:
            recipe = entry.palette.mask if entry.palette is not None else None
            if recipe is not None:
                seen[id(recipe)] = recipe.nbytes
        return sum(seen.values())
