"""The k slider: logarithmic (each step is the same relative change, so 4 → 5
is as far as 128 → 160), with the PNG bit-depth boundaries marked on it.

File size follows the bit depth far more than k itself: going from 4 to 5
colours doubles the bits per pixel, from 16 to 17 moves to 8 bits, while
17 → 256 stays 8-bit. The marks make those steps visible.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

STEPS = 1000  # slider positions across the range
#: Largest k of each PNG bit depth (1, 2, 4, 8 bits per pixel).
DEPTH_LIMITS = ((1, 2), (2, 4), (4, 16), (8, 256))


class LogKSlider(QSlider):
    """A horizontal slider whose position is log(k); ``k_changed`` reports k."""

    k_changed = Signal(int)

    def __init__(self, k_min: int, k_max: int, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.k_min, self.k_max = k_min, k_max
        self.setRange(0, STEPS)
        self.setPageStep(STEPS // 8)
        self.setSingleStep(1)
        self._k = k_min
        self.valueChanged.connect(self._on_value)
        self.setMinimumHeight(self.sizeHint().height() + self.fontMetrics().height())

    # ------------------------------------------------------------ mapping
    def position_of(self, k: float) -> int:
        k = min(self.k_max, max(self.k_min, k))
        span = math.log(self.k_max) - math.log(self.k_min)
        return round((math.log(k) - math.log(self.k_min)) / span * STEPS)

    def k_at(self, position: int) -> int:
        span = math.log(self.k_max) - math.log(self.k_min)
        k = math.exp(math.log(self.k_min) + position / STEPS * span)
        return min(self.k_max, max(self.k_min, round(k)))

    def k(self) -> int:
        return self._k

    def set_k(self, k: int) -> None:
        """Show ``k`` without emitting ``k_changed``."""
        self._k = int(k)
        blocked = self.blockSignals(True)
        self.setValue(self.position_of(k))
        self.blockSignals(blocked)
        self.update()

    def _on_value(self, position: int) -> None:
        k = self.k_at(position)
        if k != self._k:
            self._k = k
            self.k_changed.emit(k)

    # ------------------------------------------------------------ marks
    def _groove(self) -> tuple[int, int]:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                      QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                      QStyle.SubControl.SC_SliderHandle, self)
        half = handle.width() // 2
        return groove.left() + half, groove.right() - half

    def x_of(self, k: float) -> int:
        left, right = self._groove()
        return round(left + (right - left) * self.position_of(k) / STEPS)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        p = QPainter(self)
        font = p.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        p.setFont(font)
        metrics = p.fontMetrics()
        colour = self.palette().color(self.palette().ColorRole.WindowText)
        faint = QColor(colour)
        faint.setAlpha(150)
        top = self.height() - metrics.height()
        previous = self.k_min - 0.5
        for bits, limit in DEPTH_LIMITS:
            if limit < self.k_min:
                continue
            start = self.x_of(max(self.k_min, previous))
            end = self.x_of(min(self.k_max, limit + 0.5))
            if limit < self.k_max:
                p.setPen(QPen(faint, 1))
                p.drawLine(end, 2, end, top)  # the boundary, across the groove
            p.setPen(colour)
            label = f"{bits}-bit" if end - start > metrics.horizontalAdvance("8-bit") + 4 \
                else f"{bits}"
            p.drawText(QRect(start, top, end - start, metrics.height()),
                       Qt.AlignmentFlag.AlignCenter, label)
            previous = limit + 0.5
        p.end()
