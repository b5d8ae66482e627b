"""The comparison view with palette tools on the original: an eyedropper
that picks a colour, and a brush that paints the importance mask (shown as
a translucent overlay)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen

from .canvas import ComparisonView

TOOLS = ("pan", "eyedropper", "brush")
OVERLAY = (255, 40, 90)  # colour of painted importance


class ToolCanvas(ComparisonView):
    color_picked = Signal(int, int)  # image x, y
    stroke_painted = Signal(object, bool)  # list of (x, y) image points, erase
    stroke_moved = Signal()  # a stroke grew (redraw the overlay)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._tool = "pan"
        self._mask: np.ndarray | None = None
        self._mask_overlay: QImage | None = None
        self._mask_buffer: np.ndarray | None = None
        self.show_overlay = True
        self.brush_radius = 12.0  # image pixels
        self.erase = False
        self._stroke: list[tuple[float, float]] | None = None
        self._hover: QPointF | None = None

    # -------------------------------------------------------------- tools
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self._tool = tool
        self._stroke = None
        if tool == "eyedropper":
            self.setCursor(Qt.CursorShape.CrossCursor)
        elif tool == "brush":
            self.setCursor(Qt.CursorShape.BlankCursor)
        else:
            self.unsetCursor()
        self.update()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """The importance mask to draw over the original (None: none)."""
        self._mask = mask
        self._mask_overlay = None
        if mask is not None:
            h, w = mask.shape
            buffer = np.zeros((h, w, 4), np.uint8)
            buffer[..., 0], buffer[..., 1], buffer[..., 2] = OVERLAY
            buffer[..., 3] = (mask.astype(np.uint16) * 150 // 255).astype(np.uint8)
            self._mask_buffer = buffer
            self._mask_overlay = QImage(buffer.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        self.update()

    def update_mask(self, mask: np.ndarray, box: tuple[int, int, int, int]) -> None:
        """Only ``box`` (y0, y1, x0, x1) of the mask shown changed: redo that
        part of the overlay (the whole of it is 4 bytes a pixel to rebuild)."""
        if mask is not self._mask or self._mask_overlay is None:
            self.set_mask(mask)
            return
        y0, y1, x0, x1 = box
        part = mask[y0:y1, x0:x1]
        self._mask_buffer[y0:y1, x0:x1, 3] = (part.astype(np.uint16) * 150 // 255).astype(np.uint8)
        self.update()

    def image_point(self, pos: QPointF) -> tuple[float, float] | None:
        """Image coordinates under ``pos`` if it is on the original's side of the
        view and inside the image, else None."""
        if self._size is None or self._mode == "result":
            return None
        if self._mode == "split" and pos.x() > self._divider_x():
            return None
        p = self._to_image(pos)
        w, h = self._size
        if not (0 <= p.x() < w and 0 <= p.y() < h):
            return None
        return p.x(), p.y()

    # ------------------------------------------------------------- events
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if (self._tool == "pan" or event.button() != Qt.MouseButton.LeftButton
                or self._near_divider(event.position())):
            return super().mousePressEvent(event)
        point = self.image_point(event.position())
        if point is None:
            return super().mousePressEvent(event)
        if self._tool == "eyedropper":
            self.color_picked.emit(int(point[0]), int(point[1]))
        else:
            self._stroke = [point]
            self.stroke_moved.emit()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._hover = event.position()
        if self._tool == "brush" and self._stroke is not None:
            point = self.image_point(event.position())
            if point is not None:
                self._stroke.append(point)
                self.stroke_moved.emit()
            self.update()
            return
        if self._tool == "brush":
            self.update()
        if self._tool != "pan" and self._drag is None:
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            self.stroke_painted.emit(stroke, self.erase)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def current_stroke(self) -> list[tuple[float, float]] | None:
        return self._stroke

    # -------------------------------------------------------------- paint
    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self._size is None or self._mode == "result":
            return
        p = QPainter(self)
        if self._mode == "split":
            p.setClipRect(QRectF(0, 0, self._divider_x(), self.height()))
        if self._mask_overlay is not None and self.show_overlay:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(self.image_rect(), self._mask_overlay)
        if self._tool == "brush" and self._hover is not None:
            s = self._scale()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(255, 255, 255, 220), 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(self._hover, self.brush_radius * s, self.brush_radius * s)
            p.setPen(QPen(QColor(0, 0, 0, 160), 1, Qt.PenStyle.DotLine))
            p.drawEllipse(self._hover, self.brush_radius * s + 1.5, self.brush_radius * s + 1.5)
        p.end()
