"""Before/after comparison view: a split with a draggable divider (or either
image alone), zoom (fit, 100 %, wheel) and pan shared by both sides.

Two resolutions per side: a display-size preview (drawn when zoomed out) and
the full-resolution image (drawn, only its visible part, when zoomed in past
the preview's resolution). Zoom is in device pixels per image pixel, so 100 %
shows every image pixel on one screen pixel on high-DPI screens too.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .imaging import delta_e_map, heat_map, zoom_steps
from .qimages import ArrayImage, indexed_image, rgb_image

MODES = ("split", "original", "result", "difference")
#: What transparent pixels are drawn over: a checkerboard, or a plain colour.
BACKGROUNDS = ("checkerboard", "white", "black", "custom")
DIVIDER_GRAB = 8  # logical pixels either side of the divider that grab it
PIXEL_ZOOM = 1.0  # from 100 % on, pixels are drawn as hard-edged squares (never smoothed)


def _checker_brush() -> QBrush:
    tile = QImage(16, 16, QImage.Format.Format_RGB32)
    tile.fill(QColor("#cfcfcf"))
    p = QPainter(tile)
    p.fillRect(0, 0, 8, 8, QColor("#9a9a9a"))
    p.fillRect(8, 8, 8, 8, QColor("#9a9a9a"))
    p.end()
    return QBrush(tile)


class _Layer:
    """One side of the comparison: preview pixmap (GUI thread only) plus full image."""

    def __init__(self) -> None:
        self.preview: QPixmap | None = None
        self.preview_source: ArrayImage | None = None
        self.full: ArrayImage | None = None

    def clear(self) -> None:
        self.preview = self.preview_source = self.full = None

    def set_preview(self, image: ArrayImage) -> None:
        self.preview_source = image
        self.preview = QPixmap.fromImage(image.image)


class ComparisonView(QWidget):
    zoom_changed = Signal(float)  # device pixels per image pixel
    preview_box_changed = Signal()  # debounced: the display size changed
    mode_changed = Signal(str)
    cluster_clicked = Signal(int)  # result palette index of the clicked pixel, -1 for none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._original = _Layer()
        self._result = _Layer()
        self._difference = _Layer()  # ΔE heat map of the two previews, made when shown
        self._difference_stale = True
        # Split-view A/B of kept results: (label, layer) replacing a side, or None.
        self._compare: list[tuple[str, _Layer] | None] = [None, None]
        self._size: tuple[int, int] | None = None  # full image (w, h)
        self._alpha = False
        self._mode = "split"
        self._split = 0.5
        self._fit = True
        self._zoom = 1.0
        self._center = QPointF(0, 0)
        self._drag: str | None = None  # "divider" or "pan"
        self._last_pos = QPointF()
        self._status_text = ""
        self._checker = _checker_brush()
        self._background = "checkerboard"
        self._background_brush = self._checker
        self._box_timer = QTimer(self, singleShot=True, interval=200)
        self._box_timer.timeout.connect(self.preview_box_changed)
        self._highlight: int | None = None
        self._overlay = _Layer()  # dims every pixel outside the highlighted cluster
        self._overlay_of: tuple | None = None
        self._result_indices: np.ndarray | None = None  # the result preview's indices
        self._result_label = "Result"  # what the result side is (a preview says so)
        self._press_pos: QPointF | None = None

    # ------------------------------------------------------------ content
    def set_original(self, pixels: np.ndarray, preview: np.ndarray) -> None:
        self._original.clear()
        self._result.clear()
        self._difference.clear()
        self._difference_stale = True
        self._compare = [None, None]
        self._original.full = rgb_image(pixels)
        self._original.set_preview(rgb_image(preview))
        self._size = (pixels.shape[1], pixels.shape[0])
        self._alpha = pixels.shape[2] == 4
        self._fit = True
        self._status_text = ""
        self._relayout()

    def set_original_preview(self, preview: np.ndarray) -> None:
        self._original.set_preview(rgb_image(preview))
        self._difference_stale = True
        self.update()

    def set_result_preview(self, indices: np.ndarray, palette: np.ndarray,
                           rgb: np.ndarray | None = None, label: str = "Result") -> None:
        """The result at display size: ``rgb`` when given (the file downscaled
        like the original), else ``indices`` into ``palette``. ``label`` names
        it on the view: a live preview that is not yet the file says so."""
        self._result_label = label
        self._result.set_preview(rgb_image(rgb) if rgb is not None
                                 else indexed_image(indices, palette))
        # The indices stay at hand for the cluster highlight and picking.
        self._result_indices = np.ascontiguousarray(indices, dtype=np.uint8)
        self._difference_stale = True
        self.update()

    def set_comparison(self, left, right) -> None:
        """Show kept results in the split view: each side is None (the original
        on the left, the current result on the right) or (label, preview
        pixels, full indices, palette)."""
        sides = []
        for side in (left, right):
            if side is None:
                sides.append(None)
                continue
            label, preview, indices, palette = side
            layer = _Layer()
            layer.set_preview(rgb_image(preview))
            layer.full = indexed_image(indices, palette)
            sides.append((label, layer))
        self._compare = sides
        self.update()

    def comparison_labels(self) -> tuple[str, str]:
        left, right = self._compare
        return (left[0] if left else "Original", right[0] if right else self._result_label)

    def result_preview_pixels(self) -> np.ndarray | None:
        """What the result side shows at display size, as (h, w, 3|4) pixels."""
        source = self._result.preview_source
        if source is None:
            return None
        image = source.image.convertToFormat(
            QImage.Format.Format_RGBA8888 if self._alpha else QImage.Format.Format_RGB888)
        channels = 4 if self._alpha else 3
        data = np.frombuffer(image.constBits(), np.uint8,
                             image.bytesPerLine() * image.height())
        rows = data.reshape(image.height(), image.bytesPerLine())
        return rows[:, : image.width() * channels].reshape(image.height(), image.width(),
                                                              channels).copy()

    def _update_difference(self) -> None:
        self._difference_stale = False
        self._difference.clear()
        original = self._original.preview_source
        result = self.result_preview_pixels()
        if original is None or result is None or original.array.shape[:2] != result.shape[:2]:
            return
        self._difference.set_preview(rgb_image(heat_map(delta_e_map(original.array, result))))

    def difference_pixels(self) -> np.ndarray | None:
        if self._difference_stale:
            self._update_difference()
        source = self._difference.preview_source
        return source.array if source is not None else None

    def set_result_full(self, indices: np.ndarray | None, palette: np.ndarray | None) -> None:
        self._result.full = indexed_image(indices, palette) if indices is not None else None
        self.update()

    # ----------------------------------------------------------- linking
    def set_highlight(self, index: int | None) -> None:
        """Dim every pixel whose result index is not ``index`` (``None``: none)."""
        index = None if index is None or index < 0 else index
        if index != self._highlight:
            self._highlight = index
            self.update()

    def highlight(self) -> int | None:
        return self._highlight

    def _highlight_overlay(self) -> _Layer | None:
        """The result's own index arrays with a colour table that is clear for
        the highlighted entry and dark elsewhere: no per-pixel work."""
        if self._highlight is None or self._result.preview_source is None:
            return None
        key = (self._highlight, self._result.preview_source, self._result.full)
        old = self._overlay_of
        if old is None or old[0] != key[0] or old[1] is not key[1] or old[2] is not key[2]:
            table = np.zeros((256, 4), np.uint8)
            table[:, 3] = 175
            table[self._highlight, 3] = 0
            self._overlay.set_preview(indexed_image(self._result_indices, table))
            full = self._result.full
            self._overlay.full = indexed_image(full.array, table) if full is not None else None
            self._overlay_of = key
        return self._overlay

    def highlight_mask(self) -> np.ndarray | None:
        """Which preview pixels are shown undimmed (read back from the overlay)."""
        overlay = self._highlight_overlay()
        if overlay is None:
            return None
        image = overlay.preview_source.image.convertToFormat(QImage.Format.Format_ARGB32)
        alpha = np.frombuffer(image.constBits(), np.uint8).reshape(
            image.height(), image.bytesPerLine())[:, 3:image.width() * 4:4]
        return alpha == 0

    def result_index_at(self, pos: QPointF) -> int | None:
        """The result's palette index at a widget position (None: no result there)."""
        if self._size is None:
            return None
        point = self._to_image(pos)
        w, h = self._size
        if not (0 <= point.x() < w and 0 <= point.y() < h):
            return None
        layer = self._result
        if layer.full is not None:
            return int(layer.full.array[int(point.y()), int(point.x())])
        if layer.preview_source is not None and self._result_indices is not None:
            indices = self._result_indices
            y = min(indices.shape[0] - 1, int(point.y() * indices.shape[0] / h))
            x = min(indices.shape[1] - 1, int(point.x() * indices.shape[1] / w))
            return int(indices[y, x])
        return None

    def preview_size(self) -> tuple[int, int] | None:
        p = self._original.preview_source
        return (p.width, p.height) if p is not None else None

    def set_status_text(self, text: str) -> None:
        """A line drawn over the view (e.g. while opening)."""
        self._status_text = text
        self.update()

    def preview_box(self) -> tuple[int, int]:
        """The view's size in device pixels: what a fitted preview needs."""
        dpr = self.devicePixelRatioF()
        return (max(1, math.ceil(self.width() * dpr)), max(1, math.ceil(self.height() * dpr)))

    # --------------------------------------------------------- background
    def background(self) -> str:
        return self._background

    def set_background(self, kind: str, colour: QColor | None = None) -> None:
        """Draw transparent pixels over ``kind``: "checkerboard", "white",
        "black", or "custom" with ``colour``."""
        if kind not in BACKGROUNDS:
            kind = "checkerboard"
        self._background = kind
        if kind == "checkerboard":
            self._background_brush = self._checker
        elif kind == "custom":
            self._background_brush = QBrush(colour if colour is not None else QColor("#808080"))
        else:
            self._background_brush = QBrush(QColor(kind))
        self.update()

    # --------------------------------------------------------------- mode
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES or mode == self._mode:
            return
        self._mode = mode
        self.update()
        self.mode_changed.emit(mode)

    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, fraction))
        self.update()

    # --------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return self._zoom

    def is_fit(self) -> bool:
        return self._fit

    def fit_zoom(self) -> float:
        if self._size is None:
            return 1.0
        w, h = self.preview_box()
        return min(w / self._size[0], h / self._size[1])

    @Slot()
    def zoom_fit(self) -> None:
        self._fit = True
        self._relayout()

    @Slot()
    def zoom_actual(self) -> None:
        self.set_zoom(1.0)

    @Slot()
    def zoom_in(self) -> None:
        self.set_zoom(zoom_steps(self._zoom, +1))

    @Slot()
    def zoom_out(self) -> None:
        self.set_zoom(zoom_steps(self._zoom, -1))

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coords) in place."""
        if self._size is None:
            return
        zoom = min(64.0, max(min(0.01, self.fit_zoom()), zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        image_point = self._to_image(anchor)
        self._fit = False
        self._zoom = zoom
        s = self._scale()
        self._center = QPointF(image_point.x() - (anchor.x() - self.width() / 2) / s,
                               image_point.y() - (anchor.y() - self.height() / 2) / s)
        self._clamp()
        self.update()
        self.zoom_changed.emit(self._zoom)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by (dx, dy) logical pixels."""
        if self._size is None:
            return
        s = self._scale()
        self._center = QPointF(self._center.x() - dx / s, self._center.y() - dy / s)
        self._clamp()
        self.update()

    def center(self) -> QPointF:
        return QPointF(self._center)

    # ----------------------------------------------------------- geometry
    def _scale(self) -> float:
        """Logical pixels per image pixel."""
        return self._zoom / self.devicePixelRatioF()

    def _to_image(self, pos: QPointF) -> QPointF:
        s = self._scale()
        return QPointF(self._center.x() + (pos.x() - self.width() / 2) / s,
                       self._center.y() + (pos.y() - self.height() / 2) / s)

    def image_rect(self) -> QRectF:
        if self._size is None:
            return QRectF()
        s = self._scale()
        w, h = self._size
        return QRectF(self.width() / 2 - self._center.x() * s,
                      self.height() / 2 - self._center.y() * s, w * s, h * s)

    def _clamp(self) -> None:
        w, h = self._size
        s = self._scale()
        half_w, half_h = self.width() / 2 / s, self.height() / 2 / s
        # An image smaller than the view stays centred; a larger one cannot leave it.
        cx = w / 2 if w <= 2 * half_w else min(w - half_w, max(half_w, self._center.x()))
        cy = h / 2 if h <= 2 * half_h else min(h - half_h, max(half_h, self._center.y()))
        self._center = QPointF(cx, cy)

    def _relayout(self) -> None:
        if self._size is not None and self._fit:
            self._zoom = self.fit_zoom()
            self._center = QPointF(self._size[0] / 2, self._size[1] / 2)
            self.zoom_changed.emit(self._zoom)
        elif self._size is not None:
            self._clamp()
        self.update()

    def _divider_x(self) -> float:
        return round(self.width() * self._split)

    # -------------------------------------------------------------- paint
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#3b3d40"))
        if self._size is None:
            self._draw_message(p, self._status_text or
                               "Open an image (Ctrl+O) or drop one here")
            p.end()
            return
        rect = self.image_rect()
        full = QRectF(self.rect())
        if self._mode == "split":
            x = self._divider_x()
            left, right = self._compare
            left_label, right_label = self.comparison_labels()
            sides = [(left[1] if left else self._original, QRectF(0, 0, x, self.height()),
                      left_label),
                     (right[1] if right else self._result,
                      QRectF(x, 0, self.width() - x, self.height()), right_label)]
        elif self._mode == "original":
            sides = [(self._original, full, "Original")]
        elif self._mode == "difference":
            if self._difference_stale:
                self._update_difference()
            sides = [(self._difference, full, "Difference (ΔE)")]
        else:
            sides = [(self._result, full, self._result_label)]
        for layer, clip, label in sides:
            p.save()
            p.setClipRect(clip)
            if self._alpha:
                p.fillRect(rect, self._background_brush)
            drawn = self._draw_layer(p, layer, rect, clip)
            if not drawn and layer is not self._original:
                # No result yet: the original, dimmed, stands in for it.
                self._draw_layer(p, self._original, rect, clip)
                p.fillRect(clip.intersected(rect), QColor(0, 0, 0, 110))
            overlay = self._highlight_overlay()
            if overlay is not None:
                self._draw_layer(p, overlay, rect, clip)
            p.restore()
            self._draw_label(p, clip, label)
        if self._mode == "split":
            self._draw_divider(p)
        if self._status_text:
            self._draw_message(p, self._status_text, banner=True)
        if self.hasFocus():  # a visible Tab stop: arrow keys pan, +/- zoom
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(self.palette().color(self.palette().ColorRole.Highlight), 2))
            p.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        p.end()

    def _draw_layer(self, p: QPainter, layer: _Layer, rect: QRectF, clip: QRectF) -> bool:
        w, h = self._size
        use_preview = layer.preview is not None and (
            layer.full is None or self._zoom <= layer.preview.width() / w * 1.02)
        # Smooth up to 4x so a small image fitted to the window still looks like a
        # photo; beyond, hard pixel edges let people inspect single pixels.
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < PIXEL_ZOOM)
        if use_preview:
            p.drawPixmap(rect, layer.preview, QRectF(layer.preview.rect()))
            return True
        if layer.full is None:
            return False
        visible = clip.intersected(rect)
        if visible.isEmpty():
            return True
        s = rect.width() / w
        # Source rectangle on whole image pixels, target mapped back from it.
        x0 = max(0, math.floor((visible.left() - rect.left()) / s))
        y0 = max(0, math.floor((visible.top() - rect.top()) / s))
        x1 = min(w, math.ceil((visible.right() - rect.left()) / s))
        y1 = min(h, math.ceil((visible.bottom() - rect.top()) / s))
        source = QRectF(x0, y0, x1 - x0, y1 - y0)
        target = QRectF(rect.left() + x0 * s, rect.top() + y0 * s, (x1 - x0) * s, (y1 - y0) * s)
        p.drawImage(target, layer.full.image, source)
        return True

    def _draw_label(self, p: QPainter, clip: QRectF, text: str) -> None:
        if clip.width() < 60:
            return
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        metrics = p.fontMetrics()
        pad = 6
        width = metrics.horizontalAdvance(text) + 2 * pad
        height = metrics.height() + pad
        on_left = clip.left() <= 0 or self._mode != "split"
        x = clip.left() + 10 if on_left else clip.right() - 10 - width
        box = QRectF(x, clip.top() + 10, width, height)
        path = QPainterPath()
        path.addRoundedRect(box, height / 2, height / 2)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillPath(path, QColor(0, 0, 0, 150))
        p.setPen(QColor("white"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_divider(self, p: QPainter) -> None:
        x = self._divider_x() + 0.5
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(255, 255, 255, 230), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        y = self.height() / 2
        p.setBrush(QColor(255, 255, 255, 235))
        p.setPen(QPen(QColor(0, 0, 0, 120), 1))
        p.drawEllipse(QPointF(x, y), 11, 11)
        p.setPen(QPen(QColor(60, 60, 60), 1.6))
        for sign in (-1, 1):
            tip = QPointF(x + sign * 7, y)
            p.drawLine(tip, QPointF(x + sign * 3, y - 4))
            p.drawLine(tip, QPointF(x + sign * 3, y + 4))

    def _draw_message(self, p: QPainter, text: str, banner: bool = False) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = p.fontMetrics()
        if banner:
            width = metrics.horizontalAdvance(text) + 24
            box = QRectF((self.width() - width) / 2, self.height() - metrics.height() - 30,
                         width, metrics.height() + 12)
            path = QPainterPath()
            path.addRoundedRect(box, 8, 8)
            p.fillPath(path, QColor(0, 0, 0, 170))
            p.setPen(QColor("white"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        else:
            p.setPen(QColor(220, 220, 220))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)

    # ------------------------------------------------------------- events
    def resizeEvent(self, event) -> None:  # noqa: N802
        self._relayout()
        self._box_timer.start()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self._relayout()
            self._box_timer.start()
        super().changeEvent(event)

    def _near_divider(self, pos: QPointF) -> bool:
        return (self._mode == "split" and self._size is not None
                and abs(pos.x() - self._divider_x()) <= DIVIDER_GRAB)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._size is None:
            return super().mousePressEvent(event)
        pos = event.position()
        self._drag = "divider" if self._near_divider(pos) else "pan"
        self._last_pos = self._press_pos = pos
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._drag == "pan":
            delta = pos - self._last_pos
            self._last_pos = pos
            self.pan_by(delta.x(), delta.y())
        elif self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self._size is not None:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        press, self._press_pos = self._press_pos, None
        if self._drag == "pan" and press is not None:
            moved = event.position() - press
            if abs(moved.x()) + abs(moved.y()) < 4:  # a click, not a pan: pick a cluster
                index = self.result_index_at(event.position())
                self.cluster_clicked.emit(-1 if index is None else index)
        if self._drag is not None:
            self._drag = None
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(event.position())
                           else Qt.CursorShape.OpenHandCursor)
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._size is None or self._near_divider(event.position()):
            return
        if self._fit:
            self.set_zoom(1.0, event.position())
        else:
            self.zoom_fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if self._size is None:
            return
        delta = event.angleDelta().y()
        if not delta:
            return
        self.set_zoom(self._zoom * math.pow(1.25, delta / 120.0), event.position())
        event.accept()

    def keys_used(self) -> frozenset:
        """The arrows, when the image is larger than the view and they pan it
        (gui/focus_keys.py); at Fit they are left to the window."""
        rect = self.image_rect()
        if rect.isEmpty() or (rect.width() <= self.width() + 0.5
                              and rect.height() <= self.height() + 0.5):
            return frozenset()
        return frozenset((Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        """Arrow keys pan by a tenth of the view (Shift: half)."""
        steps = {Qt.Key.Key_Left: (1, 0), Qt.Key.Key_Right: (-1, 0),
                 Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        step = steps.get(Qt.Key(event.key()))
        if step is None or self._size is None:
            return super().keyPressEvent(event)
        fraction = 0.5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.1
        self.pan_by(step[0] * self.width() * fraction, step[1] * self.height() * fraction)
        event.accept()

    def focusInEvent(self, event) -> None:  # noqa: N802
        self.update()  # the focus frame
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().focusOutEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 640)
