"""Kept results: a strip of snapshots (settings, size, quality, thumbnail) to
compare with each other or with the current result in the split view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from ..units import human_size
from .history import Entry
from .imaging import downscale
from .jobs import Finished
from .kcurve import KMode
from .palette_control import PaletteState
from .qimages import rgb_image

THUMB = 72  # longest side of a thumbnail, logical pixels


@dataclass(frozen=True)
class Snapshot:
    number: int
    finished: Finished
    palette: PaletteState | None = None  # pins, given palette and mask of its run
    k_mode: KMode | None = None  # how its k was chosen (None: Fixed k)

    def entry(self) -> Entry:
        """The settings history entry that brings this result back: its
        settings, its palette control state, how its k was chosen, and for an
        edited palette (a remap, not a K-Means run) the colours it was mapped to."""
        s = self.finished.settings
        given = self.palette.fixed_palette if self.palette is not None else None
        remap = s.palette if s.palette is not None and given is None else None
        return Entry(s, self.palette, remap, self.k_mode)

    def chosen_by(self) -> str:
        """How its k was chosen, for its tip: "" for Fixed k."""
        mode = self.k_mode
        if mode is None or mode.mode == "fixed":
            return ""
        if mode.mode == "quality":
            return f"k chosen by the target: smallest file with quality ≥ {mode.quality}"
        return f"k chosen by the target: best quality under {mode.size_kb} KB"

    @property
    def label(self) -> str:
        f = self.finished
        s = f.settings
        text = f"#{self.number} k={s.k}" + (f" {s.dither}" if s.dither != "none" else "")
        text += f"\n{human_size(f.estimated_size)}"
        if f.delta_e == f.delta_e:
            text += f" · ΔE {f.delta_e:.2f}"
        return text

    @property
    def tooltip(self) -> str:
        s = self.finished.settings
        chosen = self.chosen_by()
        return (f"Snapshot {self.number}: k = {s.k}, {s.space}, {s.init}, seed {s.seed}, "
                f"dithering {s.dither} at {s.dither_strength * 100:.0f} %\n"
                + (f"{chosen}\n" if chosen else "") +
                "Click to compare with the current result; Ctrl+click a second one to "
                "compare the two. Double-click to bring back its settings.")


def thumbnail(finished: Finished) -> QPixmap:
    pixels = finished.preview_rgb
    if pixels is None:
        pixels = finished.result.palette[finished.preview]
    h, w = pixels.shape[:2]
    scale = THUMB / max(h, w)
    small = downscale(pixels, (max(1, round(w * scale)), max(1, round(h * scale))))
    return QPixmap.fromImage(rgb_image(np.ascontiguousarray(small)).image.copy())


class SnapshotStrip(QListWidget):
    """The kept snapshots, newest last; ``compare_changed`` tells which (up to
    two) are selected, ``restore_requested`` a double-clicked one."""

    compare_changed = Signal(list)  # [Snapshot, ...] selected, in strip order
    restore_requested = Signal(object)  # Snapshot

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + 2 * self.fontMetrics().height() + 14)
        self.setToolTip("Kept results (Ctrl+K keeps the current one)")
        self._snapshots: list[Snapshot] = []
        self._count = 0
        self.itemSelectionChanged.connect(self._on_selection)
        self.itemDoubleClicked.connect(self._on_double_click)

    def snapshots(self) -> list[Snapshot]:
        return list(self._snapshots)

    def keep(self, finished: Finished, palette: PaletteState | None = None,
             k_mode: KMode | None = None) -> Snapshot:
        self._count += 1
        snap = Snapshot(self._count, finished, palette, k_mode)
        self._snapshots.append(snap)
        item = QListWidgetItem(QIcon(thumbnail(finished)), snap.label)
        item.setToolTip(snap.tooltip)
        item.setData(Qt.ItemDataRole.UserRole, snap.number)
        self.addItem(item)
        return snap

    def clear_snapshots(self) -> None:
        self._snapshots.clear()
        self.clear()

    def selected(self) -> list[Snapshot]:
        numbers = {item.data(Qt.ItemDataRole.UserRole) for item in self.selectedItems()}
        return [s for s in self._snapshots if s.number in numbers][-2:]

    def _on_selection(self) -> None:
        self.compare_changed.emit(self.selected())

    def _on_double_click(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        for snap in self._snapshots:
            if snap.number == number:
                self.restore_requested.emit(snap)
