"""The colour-space view: the image's colours as a 3D point cloud in the
clustering space, with the K-Means centroids moving through it.

The points are a weighted sample of the histogram (``core.cloud``), projected
with numpy and splatted into a QImage (redrawn only when the view or the
colours change); the axes, the centroids and their trails are drawn over it
with QPainter. No OpenGL, so it works on every platform Qt paints on.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from kmeans_gui.core import (
    AXES,
    PRESETS,
    ColourSample,
    fit_scale,
    pack_rgb,
    project,
    size_classes,
    splat_paint,
    splat_plan,
    view_matrix,
    world_coords,
)

BACKGROUND = 0xFF4A4D52  # mid grey: dark and light colours both stand out
TRAIL = 6  # previous centroid positions kept per centroid
DIM = 0.2  # brightness of points outside the highlighted cluster
MARKER = 7.0  # centroid marker radius, logical pixels
PICK = 12.0  # how near (logical pixels) the pointer must be to pick a centroid
COLOURINGS = ("own", "cluster")


def _dimmed(packed: np.ndarray, factor: float) -> np.ndarray:
    """Packed colours blended toward the background."""
    bg = np.array([(BACKGROUND >> s) & 255 for s in (16, 8, 0)], dtype=np.float32)
    rgb = np.stack([(packed >> s) & 255 for s in (16, 8, 0)], axis=1).astype(np.float32)
    mixed = np.rint(bg + (rgb - bg) * factor).astype(np.uint8)
    return pack_rgb(mixed)


def marker_radius(big: bool) -> float:
    """A centroid marker's radius: larger for the highlighted and the hovered one."""
    return MARKER * (1.45 if big else 1.0)


class ColourSpaceView(QWidget):
    """Drag to rotate, wheel to zoom, double-click to reset."""

    centroid_hovered = Signal(int)  # palette index under the pointer, -1 for none
    centroid_clicked = Signal(int)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._sample: ColourSample | None = None
        self._space = "oklab"
        self._paint_held = False  # see set_sample
        self._world = np.zeros((0, 3), np.float32)
        self._classes = np.zeros(0, np.int8)
        self._own = np.zeros(0, np.uint32)
        self._palette: np.ndarray | None = None  # centroids as drawn, sRGB(A)
        self._labels: np.ndarray | None = None  # palette index of each point
        self._axis_names: list[tuple[QRectF, QColor, str]] = []  # drawn over the centroids
        self._centroids = np.zeros((0, 3))  # world positions of the drawn centroids
        self._trail: deque[np.ndarray] = deque(maxlen=TRAIL)
        self._colouring = "own"
        self._highlight: int | None = None
        self._label_boxes: dict[str, QRectF] = {}
        self._hover: int | None = None
        self._transparent_share = 0.0
        self._fit_zoom = 1.0
        self.reset_view()
        self._drag: QPointF | None = None
        self._press: QPointF | None = None
        self._cloud: QImage | None = None  # cached rendering of the points
        self._buffer: np.ndarray | None = None
        self._colours_cache: np.ndarray | None = None
        self._plan = None  # where the points' discs go, for the current view
        self._rings: dict[tuple[bool, float], QPixmap] = {}  # see _ring
        self.frames = 0  # cloud renderings so far (the benchmark and tests read it)

    # ------------------------------------------------------------ content
    def set_sample(self, sample: ColourSample | None, space: str = "oklab") -> None:
        """A new image (or colour space): forget the clusters and trails."""
        self._sample = sample
        self._space = space
        if sample is None:
            self._world = np.zeros((0, 3), np.float32)
            self._classes = np.zeros(0, np.int8)
            self._own = np.zeros(0, np.uint32)
            self._transparent_share = 0.0
        else:
            self._world = world_coords(sample.colors, space).astype(np.float32)
            # Every point at least a small plus: single pixels are too faint to see.
            self._classes = (size_classes(sample.weights, 3) + 1).astype(np.int8)
            self._own = pack_rgb(sample.colors)
            self._transparent_share = sample.n_transparent / max(sample.n_pixels, 1)
        self._fit_zoom = self._data_zoom()
        self._zoom = self._fit_zoom
        # A new image repaints the whole window; the cloud, the dearest part,
        # waits for the next frame so that the window's own frame stays short.
        self._paint_held = True
        QTimer.singleShot(1, self, self._release_paint)  # dropped if the view goes
        self.clear_clusters()

    def _release_paint(self) -> None:
        self._paint_held = False
        self.update()

    def _repaint(self) -> None:
        """Every repaint request but the release goes through here, so
        that none slips past a held paint."""
        if not self._paint_held:
            self.update()

    def sample(self) -> ColourSample | None:
        return self._sample

    def space(self) -> str:
        return self._space

    def clear_clusters(self) -> None:
        self._palette = None
        self._labels = None
        self._centroids = np.zeros((0, 3))
        self._trail.clear()
        self._highlight = self._hover = None
        self._invalidate()

    def set_clusters(self, palette: np.ndarray, labels: np.ndarray | None) -> None:
        """Centroids at ``palette`` (sRGB(A)), points assigned by ``labels``
        (palette index per sample point). A centroid set of the same size
        leaves its previous positions as a trail."""
        palette = np.asarray(palette)
        centroids = world_coords(palette, self._space) if len(palette) else np.zeros((0, 3))
        if len(centroids) == len(self._centroids) and len(centroids):
            if not np.array_equal(centroids, self._centroids):
                self._trail.append(self._centroids)
        else:
            self._trail.clear()
        self._centroids = centroids
        labels_changed = labels is not None and (
            self._labels is None or not np.array_equal(labels, self._labels))
        colours_changed = (self._palette is None or len(self._palette) != len(palette)
                           or not np.array_equal(self._palette, palette))
        self._palette = palette
        self._labels = None if labels is None else np.asarray(labels)
        if self._highlight is not None and self._highlight >= len(palette):
            self._highlight = None
        if (self._highlight is not None and labels_changed) or (
                self._colouring == "cluster" and (labels_changed or colours_changed)):
            self._invalidate(geometry=False)  # the same discs, new colours
        else:
            self._repaint()

    def reorder(self, perm: np.ndarray) -> None:
        """The same centroids renumbered: entry i becomes old entry ``perm[i]``
        (trails follow their centroids)."""
        if self._palette is None or len(perm) != len(self._palette):
            return
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(len(perm))
        self._palette = self._palette[perm]
        self._centroids = self._centroids[perm]
        self._trail = deque((t[perm] for t in self._trail), maxlen=TRAIL)
        if self._labels is not None:
            self._labels = inverse[self._labels]
        self._invalidate()

    def centroid_palette(self) -> np.ndarray | None:
        return self._palette

    def labels(self) -> np.ndarray | None:
        return self._labels

    def trail_length(self) -> int:
        return len(self._trail)

    def set_colouring(self, colouring: str) -> None:
        if colouring not in COLOURINGS:
            raise ValueError(f"colouring must be one of {COLOURINGS}")
        if colouring != self._colouring:
            self._colouring = colouring
            self._invalidate(geometry=False)

    def colouring(self) -> str:
        return self._colouring

    def set_highlight(self, index: int | None) -> None:
        """Bring out one cluster's points and centroid (``None``: all alike)."""
        if index is not None and index < 0:
            index = None
        if index != self._highlight:
            self._highlight = index
            self._invalidate(geometry=False)

    def highlight(self) -> int | None:
        return self._highlight

    def point_colours(self) -> np.ndarray:
        """Packed colour of every point as drawn now (before depth ordering)."""
        if self._colours_cache is not None:
            return self._colours_cache
        colours = self._own
        labels = self._labels
        if self._colouring == "cluster" and labels is not None and self._palette is not None:
            colours = pack_rgb(self._palette)[labels]
        if self._highlight is not None and labels is not None:
            outside = labels != self._highlight
            colours = colours.copy()
            colours[outside] = _dimmed(colours[outside], DIM)
        self._colours_cache = colours
        return colours

    # --------------------------------------------------------------- view
    def reset_view(self) -> None:
        self._zoom = self._fit_zoom
        self.set_view("default")

    def _data_zoom(self) -> float:
        """A zoom at which the image's colours (not the whole gamut) fill the view."""
        if not len(self._world):
            return 1.0
        # The 99th percentile by partition: np.percentile's first call imports
        # more of numpy, inside the frame that shows a new image.
        radii = np.linalg.norm(self._world, axis=1)
        rank = int(0.99 * (len(radii) - 1))
        extent = float(np.partition(radii, rank)[rank])
        return min(3.0, max(1.0, 0.9 * AXES[self._space].radius / max(extent, 1e-6)))

    def set_view(self, name: str) -> None:
        self._yaw, self._pitch = PRESETS[name]
        self._invalidate(colours=False)

    def rotation(self) -> tuple[float, float]:
        return self._yaw, self._pitch

    def set_rotation(self, yaw: float, pitch: float) -> None:
        self._yaw = math.remainder(yaw, 2 * math.pi)
        self._pitch = min(math.pi / 2, max(-math.pi / 2, pitch))
        self._invalidate(colours=False)

    def rotate_by(self, dx: float, dy: float) -> None:
        """Turn by a drag of (dx, dy) logical pixels: a widget width is a half turn."""
        per_pixel = math.pi / max(self.width(), 1)
        self.set_rotation(self._yaw - dx * per_pixel, self._pitch + dy * per_pixel)

    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, zoom: float) -> None:
        self._zoom = min(8.0, max(0.3, zoom))
        self._invalidate(colours=False)

    def _geometry(self) -> tuple[np.ndarray, float, tuple[float, float]]:
        """View matrix, logical pixels per world unit and the centre."""
        matrix = view_matrix(self._yaw, self._pitch)
        scale = fit_scale(self._space, self.width(), self.height(), self._zoom)
        return matrix, scale, (self.width() / 2, self.height() / 2)

    def to_screen(self, world: np.ndarray) -> np.ndarray:
        """(n, 3) world points to (n, 2) logical widget coordinates."""
        matrix, scale, centre = self._geometry()
        x, y, _ = project(world, matrix, scale, centre)
        return np.column_stack([x, y])

    def centroid_positions(self) -> np.ndarray:
        """Where each centroid is drawn, (k', 2) logical pixels."""
        return self.to_screen(self._centroids) if len(self._centroids) else np.zeros((0, 2))

    def centroid_at(self, pos: QPointF) -> int | None:
        xy = self.centroid_positions()
        if not len(xy):
            return None
        d = np.hypot(xy[:, 0] - pos.x(), xy[:, 1] - pos.y())
        if self._transparent_entry():
            d[0] = np.inf  # shown apart, not in the cloud
        best = int(d.argmin())
        return best if d[best] <= PICK else None

    def _transparent_entry(self) -> bool:
        p = self._palette
        return p is not None and len(p) > 0 and p.shape[1] == 4 and p[0, 3] == 0

    # ------------------------------------------------------------ drawing
    def _invalidate(self, colours: bool = True, geometry: bool = True) -> None:
        """Redraw the points; ``colours``: their colours changed, ``geometry``:
        where they are drawn (or their depth order) changed."""
        self._cloud = None
        if colours:
            self._colours_cache = None
        if geometry:
            self._plan = None
        self._repaint()
        self.view_changed.emit()

    def render_cloud(self) -> QImage:
        """The points at the current view as an image of the widget's device size."""
        dpr = self.devicePixelRatioF()
        width = max(1, math.ceil(self.width() * dpr))
        height = max(1, math.ceil(self.height() * dpr))
        if self._plan is None or self._plan[0] != (width, height):
            matrix, scale, centre = self._geometry()
            x, y, depth = project(self._world, matrix, scale * dpr, (centre[0] * dpr,
                                                                     centre[1] * dpr))
            self._plan = ((width, height), splat_plan(x, y, depth, self._classes, width, height))
        front = None
        if self._highlight is not None and self._labels is not None:
            front = self._labels == self._highlight  # in front of all other points
        self._buffer = splat_paint(self._plan[1], self.point_colours(), width, height,
                                   BACKGROUND, self._buffer, front)
        image = QImage(self._buffer.data, width, height, width * 4, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(dpr)
        self.frames += 1
        return image

    def paintEvent(self, event) -> None:  # noqa: N802
        if self._cloud is None:
            self._cloud = self.render_cloud()
        p = QPainter(self)
        p.drawImage(QPointF(0, 0), self._cloud)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._axis_names: list[tuple[QRectF, QColor, str]] = []
        self._draw_axes(p)
        if self._sample is None:
            p.setPen(QColor(210, 210, 210))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No image")
        else:
            self._draw_centroids(p)
            self._draw_scale(p)
            if self._transparent_share > 0:
                self._draw_transparent(p)
        # The axis names over the centroids: at the starting view the centroids
        # of a warm image sat on "+b (yellow)" and hid most of it.
        for box, colour, text in self._axis_names:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(40, 40, 40, 150))
            p.drawRoundedRect(box.adjusted(-3, 0, 3, 0), 3, 3)
            p.setPen(colour)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def _draw_axes(self, p: QPainter) -> None:
        axes = AXES[self._space]
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        if self._space == "rgb":
            lo, hi = axes.low[0], axes.high[0]
            corners = np.array([[x, y, z] for x in (lo, hi) for y in (lo, hi) for z in (lo, hi)])
            xy = self.to_screen(corners)
            p.setPen(QPen(QColor(255, 255, 255, 50), 1))
            for a in range(8):
                for b in range(a + 1, 8):
                    if bin(a ^ b).count("1") == 1:
                        p.drawLine(QPointF(*xy[a]), QPointF(*xy[b]))
            ends = [(np.array([hi, lo, lo]), "R", QColor(255, 90, 90)),
                    (np.array([lo, hi, lo]), "G", QColor(90, 230, 90)),
                    (np.array([lo, lo, hi]), "B", QColor(110, 140, 255))]
            origin = self.to_screen(np.array([[lo, lo, lo]]))[0]
            for end, name, colour in ends:
                tip = self.to_screen(end[None])[0]
                p.setPen(QPen(colour, 1.6))
                p.drawLine(QPointF(*origin), QPointF(*tip))
                self._axis_label(p, origin, tip, name, colour)
            return
        colours = (QColor(240, 110, 150), QColor(240, 210, 90), QColor(230, 230, 230))
        for axis, (name, colour) in enumerate(zip(axes.names, colours, strict=True)):
            start = np.zeros(3)
            end = np.zeros(3)
            start[axis], end[axis] = axes.low[axis], axes.high[axis]
            a, b = self.to_screen(np.array([start, end]))
            colour = QColor(colour)
            colour.setAlpha(170)
            p.setPen(QPen(colour, 1.3))
            p.drawLine(QPointF(*a), QPointF(*b))
            label = {"a": "+a (red)", "b": "+b (yellow)", "L": "L (light)"}.get(name, name)
            self._axis_label(p, a, b, label, colour)

    def _axis_label(self, p, start, end, text, colour) -> None:
        direction = np.asarray(end) - np.asarray(start)
        length = float(np.hypot(*direction))
        unit = direction / length if length > 1e-6 else np.array([0.0, -1.0])
        at = np.asarray(end) + unit * 12
        metrics = p.fontMetrics()
        w = metrics.horizontalAdvance(text)
        h = metrics.height()
        box = QRectF(at[0] - w / 2, at[1] - h / 2, w, h)
        # Kept inside the view: at the starting view the L axis ends near the
        # top edge, and its label was cut in half there.
        margin = 2.0
        box.moveLeft(min(max(box.left(), margin), self.width() - margin - w))
        box.moveTop(min(max(box.top(), margin), self.height() - margin - h))
        self._label_boxes[text] = QRectF(box)
        self._axis_names.append((box, QColor(colour), text))  # drawn last (paintEvent)

    def label_boxes(self) -> dict[str, QRectF]:
        """Where the axis labels were drawn last (widget coordinates)."""
        return dict(self._label_boxes)

    def _draw_centroids(self, p: QPainter) -> None:
        if self._palette is None or not len(self._centroids):
            return
        skip = 1 if self._transparent_entry() else 0
        current = self.centroid_positions()
        trails = [self.to_screen(t) for t in self._trail]
        for age, xy in enumerate(trails):
            following = trails[age + 1] if age + 1 < len(trails) else current
            alpha = int(40 + 160 * (age + 1) / (len(trails) + 1))
            p.setPen(QPen(QColor(255, 255, 255, alpha), 1.4))
            # One call per age: the older, the fainter; a dot where each centroid was.
            moved = np.flatnonzero((xy[skip:] != following[skip:]).any(axis=1)) + skip
            ends = np.column_stack([xy[moved], following[moved]]).tolist()
            p.drawLines([QLineF(*line) for line in ends])
            p.setPen(QPen(QColor(255, 255, 255, alpha), 4.0, Qt.PenStyle.SolidLine,
                          Qt.PenCapStyle.RoundCap))
            p.drawPoints([QPointF(x, y) for x, y in xy[skip:].tolist()])
        # The highlighted and the hovered centroid last, on top.
        order = [i for i in range(skip, len(current)) if i not in (self._highlight, self._hover)]
        order += [i for i in (self._hover, self._highlight)
                  if i is not None and skip <= i < len(current)]
        # Each marker is a disc of its colour under a ring drawn once: stroking
        # two rings per centroid took most of a frame at k = 256 (40 ms).
        p.setPen(Qt.PenStyle.NoPen)
        centres = current.tolist()
        colours = self._palette[:, :3].tolist()
        for i in order:
            big = i in (self._highlight, self._hover)
            r = marker_radius(big)
            x, y = centres[i]
            p.setBrush(QColor(*colours[i]))
            p.drawEllipse(QPointF(x, y), r, r)
            ring = self._ring(big)
            half = ring.width() / ring.devicePixelRatio() / 2
            p.drawPixmap(QPointF(x - half, y - half), ring)

    def _ring(self, big: bool) -> QPixmap:
        """A centroid marker's rings (dark, then light outside it), drawn once
        per size and screen scale."""
        dpr = self.devicePixelRatioF()
        key = (big, dpr)
        if key not in self._rings:
            r = marker_radius(big)
            side = 2 * math.ceil(r + 4)
            ring = QPixmap(round(side * dpr), round(side * dpr))
            ring.setDevicePixelRatio(dpr)
            ring.fill(Qt.GlobalColor.transparent)
            q = QPainter(ring)
            q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            q.setBrush(Qt.BrushStyle.NoBrush)
            centre = QPointF(side / 2, side / 2)
            q.setPen(QPen(QColor(0, 0, 0, 220), 3.2 if big else 2.4))
            q.drawEllipse(centre, r, r)
            q.setPen(QPen(QColor(255, 255, 255, 240), 1.6 if big else 1.2))
            q.drawEllipse(centre, r + 1.6, r + 1.6)
            q.end()
            self._rings[key] = ring
        return self._rings[key]

    def _draw_scale(self, p: QPainter) -> None:
        axes = AXES[self._space]
        _, scale, _ = self._geometry()
        length = axes.unit * scale
        x1 = self.width() - 14
        x0 = x1 - length
        y = self.height() - 14
        p.setPen(QPen(QColor(230, 230, 230), 2))
        p.drawLine(QPointF(x0, y), QPointF(x1, y))
        p.drawLine(QPointF(x0, y - 4), QPointF(x0, y + 4))
        p.drawLine(QPointF(x1, y - 4), QPointF(x1, y + 4))
        font = QFont(self.font())
        font.setBold(False)
        p.setFont(font)
        metrics = p.fontMetrics()
        text = axes.unit_label
        w = metrics.horizontalAdvance(text)
        p.drawText(QPointF(x1 - w, y - 8), text)

    def _draw_transparent(self, p: QPainter) -> None:
        """The transparent entry is not a colour: a swatch apart, bottom left."""
        box = QRectF(12, self.height() - 30, 16, 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.fillRect(box, QColor("#d0d0d0"))
        p.fillRect(QRectF(box.x(), box.y(), 8, 8), QColor("#8a8a8a"))
        p.fillRect(QRectF(box.x() + 8, box.y() + 8, 8, 8), QColor("#8a8a8a"))
        ring = QColor(255, 255, 255) if self._highlight == 0 and self._transparent_entry() \
            else QColor(0, 0, 0, 160)
        p.setPen(QPen(ring, 1.5))
        p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        p.drawRect(box)
        p.setPen(QColor(230, 230, 230))
        p.drawText(QPointF(box.right() + 6, box.bottom() - 3),
                   f"transparent: {self._transparent_share * 100:.1f} % of pixels")

    # ------------------------------------------------------------- events
    def resizeEvent(self, event) -> None:  # noqa: N802
        self._invalidate(colours=False)
        super().resizeEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = self._press = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag is not None:
            delta = pos - self._drag
            self._drag = pos
            self.rotate_by(delta.x(), delta.y())
            return
        hover = self.centroid_at(pos)
        if hover != self._hover:
            self._hover = hover
            self._repaint()
            self.centroid_hovered.emit(-1 if hover is None else hover)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._press is not None:
            moved = event.position() - self._press
            self._drag = self._press = None
            self.unsetCursor()
            if abs(moved.x()) + abs(moved.y()) < 4:
                picked = self.centroid_at(event.position())
                self.centroid_clicked.emit(-1 if picked is None else picked)
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover is not None:
            self._hover = None
            self._repaint()
            self.centroid_hovered.emit(-1)
        super().leaveEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.reset_view()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if delta:
            self.set_zoom(self._zoom * math.pow(1.2, delta / 120.0))
            event.accept()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 380)
