"""The palette as a grid of swatches; hovering one tells its hex value and share.

Swatches can be pinned (a lock is drawn on them), edited and removed: by the
context menu, a double-click (edit), or the keyboard once the view has focus
(arrows select, P or Space pins, Enter edits, Delete removes)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolTip, QWidget

SWATCH = 14  # smallest swatch cell in logical pixels, spacing included
LAYOUTS = 64  # finished palettes whose swatch order is remembered
MAX_SWATCH = 34
GAP = 2


def colour_name(entry) -> str:
    """What a palette entry is called wherever the window names one (swatch
    tips, the colour-space view, status messages): its hex value, never an
    index, which would differ between the file and the strip."""
    if len(entry) == 4 and entry[3] == 0:
        return "transparent"
    r, g, b = (int(v) for v in entry[:3])
    text = f"#{r:02X}{g:02X}{b:02X}"
    if len(entry) == 4 and entry[3] < 255:
        text += f" alpha {int(entry[3])}"
    return text


def describe(entry: np.ndarray, share: float | None) -> str:
    text = colour_name(entry)
    if share is not None:
        text += f" · {share * 100:.1f} % of pixels"
    return text


def rgb_of(entry) -> tuple[int, int, int]:
    return int(entry[0]), int(entry[1]), int(entry[2])


def draw_lock(p: QPainter, rect: QRect, entry) -> None:
    """A small padlock in the top right corner of ``rect``, dark or light to
    stand out from the swatch's colour."""
    r, g, b = rgb_of(entry)
    light = 0.299 * r + 0.587 * g + 0.114 * b > 140
    ink = QColor(0, 0, 0, 220) if light else QColor(255, 255, 255, 235)
    size = max(7.0, min(12.0, rect.width() * 0.42))
    x = rect.right() - size - 1
    y = rect.top() + 1
    body = QRectF(x, y + size * 0.45, size, size * 0.55)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QPen(ink, max(1.2, size / 7)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath()
    shackle.moveTo(x + size * 0.25, body.top())
    shackle.arcTo(QRectF(x + size * 0.25, y, size * 0.5, size * 0.6), 180, -180)
    p.drawPath(shackle)
    p.fillRect(body, ink)
    p.restore()


def stable_order(previous: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Permutation of ``new`` that puts each entry where its nearest match in
    ``previous`` was (greedy, closest pairs first), so swatches keep their
    places between iterations and when the result's file order arrives."""
    n = len(new)
    a = previous.astype(np.int32)
    b = new.astype(np.int32)
    if a.shape[1] != b.shape[1]:
        return np.arange(n)
    dist = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    order = np.full(n, -1, np.intp)
    taken = np.zeros(n, bool)
    placed = 0
    for flat in np.argsort(dist, axis=None, kind="stable"):
        slot, entry = divmod(int(flat), n)
        if order[slot] < 0 and not taken[entry]:
            order[slot] = entry
            taken[entry] = True
            placed += 1
            if placed == n:
                break
    return order


Row = tuple[int, ...]


def rows_of(palette: np.ndarray) -> list[Row]:
    return [tuple(int(v) for v in entry) for entry in palette]


def order_by(layout: list[Row], palette: np.ndarray) -> np.ndarray | None:
    """Permutation of ``palette`` that shows its entries in the order they
    have in ``layout`` (a palette as shown), or None if one is not there."""
    slots: dict[Row, list[int]] = {}
    for slot, row in enumerate(layout):
        slots.setdefault(row, []).append(slot)
    placed = []
    for i, row in enumerate(rows_of(palette)):
        free = slots.get(row)
        if not free:
            return None
        placed.append((free.pop(0), i))
    placed.sort()
    return np.array([i for _, i in placed], np.intp)


class PaletteView(QWidget):
    pin_toggled = Signal(int)  # palette index
    edit_requested = Signal(int)
    remove_requested = Signal(int)
    hovered = Signal(int)  # swatch under the pointer, -1 for none
    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._palette = np.zeros((0, 3), np.uint8)
        self._shares: np.ndarray | None = None
        self._pinned: set[tuple[int, int, int]] = set()
        # The swatch the keys act on and the one under the pointer, as places
        # in the strip: a palette index names another colour after a remap.
        self._current: int | None = None  # a display slot
        self._editable = True
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._highlight: int | None = None  # a palette index (not a display slot)
        self._hover: int | None = None  # the palette index last told by ``hovered``
        self._order = np.zeros(0, np.intp)  # display slot -> index in the given palette
        # Finished palettes as they were shown, by their colours: the same
        # colours again (undo, redo, a rerun) come back in the same places.
        self._layouts: OrderedDict[tuple[Row, ...], list[Row]] = OrderedDict()
        self.setMouseTracking(True)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def set_palette(self, palette: np.ndarray, shares: np.ndarray | None = None,
                    final: bool = False) -> None:
        """Show ``palette``, its swatches where the person last saw them: the
        colours of a finished palette shown before in that order; a palette
        of the same size as the one shown by nearest colour; a subset of it
        (a removed swatch) with the rest unmoved. ``final``: a run's result,
        whose order is remembered."""
        count_changed = len(palette) != len(self._palette)
        order = self._arrangement(palette)
        if palette.shape[1] == 4 and len(palette):
            # Opaque entries first, then translucent ones from most to least opaque.
            alpha = palette[order, 3].astype(np.int32)
            order = order[np.argsort(-alpha, kind="stable")]
        self._order = order
        palette = palette[order]
        if shares is not None and len(shares) == len(order):
            shares = shares[order]
        self._palette = palette
        self._shares = shares
        if self._current is not None and self._current >= len(palette):
            self._current = len(palette) - 1 if len(palette) else None
        if self._hover is not None and self.underMouse():
            # The pointer rests on what may be another colour now (a pointer
            # that has not moved over the strip starts no hover, though).
            self._hover_at(self.mapFromGlobal(QCursor.pos()))
        if final and len(palette):
            key = tuple(sorted(rows_of(palette)))
            self._layouts[key] = rows_of(palette)
            self._layouts.move_to_end(key)
            while len(self._layouts) > LAYOUTS:
                self._layouts.popitem(last=False)
        if count_changed:
            self.updateGeometry()
        self.update()

    def _arrangement(self, palette: np.ndarray) -> np.ndarray:
        identity = np.arange(len(palette))
        if len(palette) < 2:
            return identity
        layout = self._layouts.get(tuple(sorted(rows_of(palette))))
        if layout is not None:
            order = order_by(layout, palette)
            if order is not None:
                return order
        shown = self._palette
        if len(shown) == len(palette):
            return stable_order(shown, palette)
        if len(palette) < len(shown) and shown.shape[1] == palette.shape[1]:
            order = order_by(rows_of(shown), palette)  # some removed: the rest stay
            if order is not None:
                return order
        return identity

    def colors(self) -> np.ndarray:
        return self._palette

    def set_pinned(self, colors) -> None:
        """Swatches of these (r, g, b) colours show a lock."""
        self._pinned = {tuple(int(v) for v in c[:3]) for c in colors}
        self.update()

    def is_pinned(self, index: int) -> bool:
        """Whether palette entry ``index`` (in the palette given) shows a lock."""
        slot = self._slot_of(index)
        return slot is not None and rgb_of(self._palette[slot]) in self._pinned

    def set_editable(self, editable: bool) -> None:
        """Whether pin/edit/remove are offered (not while a run is going)."""
        self._editable = editable

    def current(self) -> int | None:
        """The palette index the keys act on (in the palette given)."""
        return self.palette_index(self._current)

    def set_current(self, index: int | None) -> None:
        """Make the swatch of palette entry ``index`` current (None: none)."""
        slot = None
        if index is not None and 0 <= index < len(self._palette):
            slot = self._slot_of(index)
        self._set_current_slot(slot)

    def _set_current_slot(self, slot: int | None) -> None:
        self._current = slot
        self.update()

    def set_highlight(self, index: int | None) -> None:
        """Ring one swatch (the cluster highlighted in the image and the cloud)."""
        index = None if index is None or index < 0 else index
        if index != self._highlight:
            self._highlight = index
            self.update()

    def highlight(self) -> int | None:
        return self._highlight

    def palette_index(self, slot: int | None) -> int | None:
        """The index in the palette given to ``set_palette`` shown at ``slot``."""
        return None if slot is None or slot >= len(self._order) else int(self._order[slot])

    def _slot_of(self, index: int) -> int | None:
        slots = np.flatnonzero(self._order == index)
        return int(slots[0]) if len(slots) else None

    def _hover_at(self, pos: QPoint) -> None:
        index = self.palette_index(self.index_at(pos))
        if index != self._hover:
            self._hover = index
            self.hovered.emit(-1 if index is None else index)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        self._hover_at(event.position().toPoint())
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover is not None:
            self._hover = None
            self.hovered.emit(-1)
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        slot = self.index_at(event.position().toPoint())
        index = self.palette_index(slot)
        if slot is not None:
            self._set_current_slot(slot)  # the swatch the keys act on
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(-1 if index is None else index)
        super().mousePressEvent(event)

    def clear(self) -> None:
        """No palette (a new image: the remembered orders go too)."""
        self._layouts.clear()
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
        text = describe(self._palette[index], share)
        return text + " · pinned" if rgb_of(self._palette[index]) in self._pinned else text

    def _entry_is_colour(self, slot: int | None) -> bool:
        if slot is None:
            return False
        entry = self._palette[slot]
        return not (len(entry) == 4 and entry[3] == 0)  # the transparent entry is not a colour

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        slot = self.index_at(event.position().toPoint())
        if slot is not None and self._editable and self._entry_is_colour(slot):
            self.edit_requested.emit(self.palette_index(slot))

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        slot = self.index_at(event.pos())
        if slot is None or not self._editable or not self._entry_is_colour(slot):
            return
        index = self.palette_index(slot)
        self.set_current(index)
        menu = self.menu_for(index)
        menu.exec(event.globalPos())

    def menu_for(self, index: int) -> QMenu:
        """Pin / edit / remove palette entry ``index`` (in the palette given)."""
        menu = QMenu(self)
        pin = menu.addAction("Unpin colour" if self.is_pinned(index) else "Pin colour")
        pin.setShortcut("P")
        pin.triggered.connect(lambda: self.pin_toggled.emit(index))
        edit = menu.addAction("Edit colour…")
        edit.setShortcut("Return")
        edit.triggered.connect(lambda: self.edit_requested.emit(index))
        remove = menu.addAction("Remove colour")
        remove.setShortcut("Delete")
        remove.setEnabled(len(self._palette) > 1)
        remove.triggered.connect(lambda: self.remove_requested.emit(index))
        return menu

    def keys_used(self) -> frozenset:
        """The bare keys ``keyPressEvent`` acts on (gui/focus_keys.py)."""
        if not len(self._palette):
            return frozenset()
        K = Qt.Key
        keys = {K.Key_Left, K.Key_Right, K.Key_Up, K.Key_Down}
        if self._editable:
            keys |= {K.Key_P, K.Key_Space, K.Key_Return, K.Key_Enter, K.Key_F2, K.Key_Delete,
                     K.Key_Backspace}
        return frozenset(keys)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        n = len(self._palette)
        key = event.key()
        if not n:
            return super().keyPressEvent(event)
        slot = self._current
        cur = self.palette_index(slot)
        cols = self._columns(self.width())
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -cols,
                 Qt.Key.Key_Down: cols}
        if key in moves:  # arrows move through the swatches as shown
            self._set_current_slot(0 if slot is None else min(n - 1, max(0, slot + moves[key])))
            return
        if cur is None or not self._editable or not self._entry_is_colour(slot):
            return super().keyPressEvent(event)
        if key in (Qt.Key.Key_P, Qt.Key.Key_Space):
            self.pin_toggled.emit(cur)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2):
            self.edit_requested.emit(cur)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if n > 1:
                self.remove_requested.emit(cur)
        else:
            super().keyPressEvent(event)

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
            if alpha < 255:  # translucent: over a checkerboard, as in the view
                p.fillRect(rect, QColor("#d0d0d0"))
                tile = max(3, rect.width() // 4)
                for y in range(rect.top(), rect.bottom() + 1, tile):
                    for x in range(rect.left(), rect.right() + 1, tile):
                        if ((x - rect.left()) // tile + (y - rect.top()) // tile) % 2:
                            p.fillRect(QRect(x, y, tile, tile).intersected(rect),
                                       QColor("#909090"))
            p.fillRect(rect, QColor(int(entry[0]), int(entry[1]), int(entry[2]), alpha))
            p.setPen(border)
            p.drawRect(rect.adjusted(0, 0, -1, -1))
            if rgb_of(entry) in self._pinned and alpha > 0:
                draw_lock(p, rect, entry)
        current = self._current
        if current is not None and self.hasFocus():
            p.setPen(QPen(self.palette().color(self.palette().ColorRole.Highlight), 2))
            p.drawRect(self._cell(current).adjusted(1, 1, -1, -1))
        slot = self._slot_of(self._highlight) if self._highlight is not None else None
        if slot is not None:
            rect = self._cell(slot)
            p.setPen(QPen(QColor("black"), 3))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
            p.setPen(QPen(QColor("white"), 1))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
