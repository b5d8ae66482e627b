"""The palette as a grid of swatches; hovering one tells its hex value and share."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

SWATCH = 14  # smallest swatch cell in logical pixels, spacing included
MAX_SWATCH = 34
GAP = 2


def describe(entry: np.ndarray, share: float | None) -> str:
    r, g, b = (int(v) for v in entry[:3])
    text = f"#{r:02X}{g:02X}{b:02X}"
    if len(entry) == 4 and entry[3] < 255:
        text += f"  alpha {int(entry[3])}"
    if share is not None:
        text += f"  ·  {share * 100:.1f} % of pixels"
    return text


class PaletteView(QWidget):
    hovered = Signal(int)  # swatch under the pointer, -1 for none
    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._palette = np.zeros((0, 3), np.uint8)
        self._shares: np.ndarray | None = None
        self._highlight: int | None = None
        self._hover: int | None = None
        self.setMouseTracking(True)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def set_palette(self, palette: np.ndarray, shares: np.ndarray | None = None) -> None:
        count_changed = len(palette) != len(self._palette)
        self._palette = palette
        self._shares = shares
        if count_changed:
            self.updateGeometry()
        self.update()

    def colors(self) -> np.ndarray:
        return self._palette

    def set_highlight(self, index: int | None) -> None:
        """Ring one swatch (the cluster highlighted in the image and the cloud)."""
        index = None if index is None or index < 0 else index
        if index != self._highlight:
            self._highlight = index
            self.update()

    def highlight(self) -> int | None:
        return self._highlight

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        index = self.index_at(event.position().toPoint())
        if index != self._hover:
            self._hover = index
            self.hovered.emit(-1 if index is None else index)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover is not None:
            self._hover = None
            self.hovered.emit(-1)
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.index_at(event.position().toPoint())
            self.clicked.emit(-1 if index is None else index)
        super().mousePressEvent(event)

    def clear(self) -> None:
        self.set_palette(np.zeros((0, 3), np.uint8))

    def _cell_size(self, width: int) -> int:
        """Large swatches for small palettes, at most 16 per row before shrinking."""
        per_row = min(max(len(self._palette), 1), 16)
        return max(SWATCH, min(MAX_SWATCH, width // per_row))

    def _columns(self, width: int) -> int:
        return max(1, width // self._cell_size(width))

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        rows = max(1, math.ceil(len(self._palette) / self._columns(width)))
        return rows * self._cell_size(width)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(16 * SWATCH, self.heightForWidth(16 * SWATCH))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(4 * SWATCH, SWATCH)

    def _cell(self, index: int) -> QRect:
        cell = self._cell_size(self.width())
        row, col = divmod(index, self._columns(self.width()))
        return QRect(col * cell, row * cell, cell - GAP, cell - GAP)

    def index_at(self, pos: QPoint) -> int | None:
        cols = self._columns(self.width())
        cell = self._cell_size(self.width())
        col, row = pos.x() // cell, pos.y() // cell
        if col >= cols or pos.x() % cell >= cell - GAP:
            return None
        index = row * cols + col
        return index if 0 <= index < len(self._palette) else None

    def tooltip_for(self, index: int) -> str:
        shares = self._shares
        share = float(shares[index]) if shares is not None and index < len(shares) else None
        return describe(self._palette[index], share)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.index_at(event.pos())
            if index is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self,
                                  self._cell(index))
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        if not len(self._palette):
            p.setPen(self.palette().color(self.foregroundRole()))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       "No palette yet")
            return
        border = QPen(QColor(0, 0, 0, 70))
        for i, entry in enumerate(self._palette):
            rect = self._cell(i)
            alpha = int(entry[3]) if len(entry) == 4 else 255
            if alpha < 255:
                p.fillRect(rect, QColor("#d0d0d0"))
                p.fillRect(rect.adjusted(0, 0, -rect.width() // 2, -rect.height() // 2),
                           QColor("#a0a0a0"))
            p.fillRect(rect, QColor(int(entry[0]), int(entry[1]), int(entry[2]), alpha))
            p.setPen(border)
            p.drawRect(rect.adjusted(0, 0, -1, -1))
        if self._highlight is not None and self._highlight < len(self._palette):
            rect = self._cell(self._highlight)
            p.setPen(QPen(QColor("black"), 3))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
            p.setPen(QPen(QColor("white"), 1))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
