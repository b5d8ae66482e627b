"""What the person asked of the palette, as part of the document: pinned
colours, a given palette to map to, and the importance mask.

The Session owns one :class:`PaletteControl` and applies it to every run
(``settings_for``, ``weights``); widgets change it only through its methods
and redraw on ``changed``. ``state()`` is an immutable copy of all of it for
the undo history and snapshots, and ``restore_state`` brings one back.

A mask is kept in a state as its recipe, not its pixels: the loaded mask it
started from (zlib-compressed) and every brush operation since. Each
operation also keeps what it painted over (its bounding box, compressed), so
undoing steps back through those patches and redoing paints the operations
again; only a state on another loaded mask is rebuilt from scratch. Painting
a 24 MP mask therefore costs bytes per stroke in the history, not a copy of
the mask.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from kmeans_gui.core import MAX_K, QuantizeSettings, mask_weights

RGB = tuple[int, int, int]


@dataclass(frozen=True, eq=False)  # equal only to itself
class MaskOp:
    """One brush operation: discs along ``points`` (image pixels), and the
    mask's pixels in ``box`` (y0, y1, x0, x1) before it, compressed."""

    points: tuple[tuple[float, float], ...]
    radius: float
    erase: bool
    box: tuple[int, int, int, int]
    before: bytes


@dataclass(frozen=True, eq=False)  # equal only to itself: states compare it by identity
class StoredMask:
    """A loaded mask, compressed (mostly black or white masks shrink a
    hundredfold or more)."""

    shape: tuple[int, int]
    data: bytes

    @staticmethod
    def of(mask: np.ndarray) -> StoredMask:
        mask = np.ascontiguousarray(mask, dtype=np.uint8)
        return StoredMask((int(mask.shape[0]), int(mask.shape[1])),
                          zlib.compress(mask.tobytes(), 1))

    def array(self) -> np.ndarray:
        return np.frombuffer(zlib.decompress(self.data), np.uint8).reshape(self.shape).copy()


@dataclass(frozen=True)
class MaskRecipe:
    """How to rebuild a mask: black (or ``base``) of ``shape``, then ``ops``."""

    shape: tuple[int, int]
    base: StoredMask | None = None
    ops: tuple[MaskOp, ...] = ()

    @property
    def nbytes(self) -> int:
        """Roughly what the recipe keeps in memory."""
        ops = sum(200 + 40 * len(op.points) + len(op.before) for op in self.ops)
        return (len(self.base.data) if self.base else 0) + ops


@dataclass(frozen=True)
class PaletteState:
    """Everything a :class:`PaletteControl` holds, frozen."""

    pinned: tuple[RGB, ...] = ()
    fixed_palette: tuple[RGB, ...] | None = None
    mask: MaskRecipe | None = None
    from_file: tuple[RGB, ...] = ()  # the pins that came from a palette file


def rgb(color) -> RGB:
    return int(color[0]), int(color[1]), int(color[2])


class PaletteControl(QObject):
    changed = Signal()  # pins or the given palette changed
    mask_changed = Signal()  # the importance mask changed (painted, cleared, loaded)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pinned: list[RGB] = []
        self.fixed_palette: tuple[RGB, ...] | None = None  # "map to this palette"
        #: Pinned colours read from a palette file ("keep these colours"): they
        #: belong to no image, so they stay when another image is opened.
        self.from_file: set[RGB] = set()
        self.mask: np.ndarray | None = None  # (h, w) uint8, white = important
        self._base: StoredMask | None = None  # what self.mask was loaded as
        self._ops: list[MaskOp] = []  # brush operations on it since
        #: The box (y0, y1, x0, x1) the last mask change touched, if it was one
        #: brush operation (the overlay then redraws only that); else None.
        self.changed_box: tuple[int, int, int, int] | None = None
        #: How many times the mask has changed: what a curve weighed is told
        #: apart by it (the mask itself is painted in place).
        self.mask_edits = 0
        self.mask_changed.connect(self._count_mask_edit)

    def _count_mask_edit(self) -> None:
        self.mask_edits += 1

    # ----------------------------------------------------- undo, snapshots
    def state(self) -> PaletteState:
        """A frozen copy of the pins, the given palette and the mask's recipe."""
        recipe = None
        if self.mask is not None:
            recipe = MaskRecipe(self.mask.shape, self._base, tuple(self._ops))
        return PaletteState(tuple(self.pinned), self.fixed_palette, recipe,
                            tuple(c for c in self.pinned if c in self.from_file))

    def restore_state(self, state: PaletteState | None) -> None:
        """Bring back what ``state()`` returned (``None``: nothing pinned, no
        given palette, no mask). The mask is rebuilt only if it differs."""
        state = state or PaletteState()
        self.pinned = list(state.pinned)
        self.fixed_palette = state.fixed_palette
        self.from_file = set(state.from_file)
        self.changed.emit()
        if self.state().mask == state.mask:
            return
        recipe = state.mask
        if recipe is None:
            self.mask, self._base, self._ops = None, None, []
        elif (self.mask is not None and self.mask.shape == recipe.shape
              and self._base is recipe.base):
            # Same start: step back to where the two diverge, then paint forward.
            common = 0
            for mine, theirs in zip(self._ops, recipe.ops, strict=False):
                if mine is not theirs:
                    break
                common += 1
            for op in reversed(self._ops[common:]):
                y0, y1, x0, x1 = op.box
                self.mask[y0:y1, x0:x1] = np.frombuffer(
                    zlib.decompress(op.before), np.uint8).reshape(y1 - y0, x1 - x0)
            del self._ops[common:]
            for op in recipe.ops[common:]:
                self._draw(op.points, op.radius, op.erase)
                self._ops.append(op)
        else:
            self.mask = (recipe.base.array() if recipe.base is not None
                         else np.zeros(recipe.shape, np.uint8))
            self._base, self._ops = recipe.base, []
            for op in recipe.ops:
                self._draw(op.points, op.radius, op.erase)
                self._ops.append(op)
        self.mask_changed.emit()

    # ------------------------------------------------------------ pins
    def is_pinned(self, color) -> bool:
        return rgb(color) in self.pinned

    def pin(self, color) -> None:
        c = rgb(color)
        if c not in self.pinned:
            self.pinned.append(c)
            self.changed.emit()

    def unpin(self, color) -> None:
        c = rgb(color)
        self.from_file.discard(c)
        if c in self.pinned:
            self.pinned.remove(c)
            self.changed.emit()

    def toggle_pin(self, color) -> bool:
        """Pin or unpin ``color``; True if it is pinned now."""
        if self.is_pinned(color):
            self.unpin(color)
            return False
        self.pin(color)
        return True

    def replace_pin(self, old, new) -> None:
        """``new`` pinned in place of ``old`` (pinned or not)."""
        o, n = rgb(old), rgb(new)
        self.from_file.discard(n)  # chosen on this image now
        pins = [c for c in self.pinned if c != n]
        if o in pins:
            pins[pins.index(o)] = n
        else:
            pins.append(n)
        self.pinned = pins
        self.changed.emit()

    def set_pinned(self, colors) -> None:
        pins: list[RGB] = []
        for color in colors:
            c = rgb(color)
            if c not in pins:
                pins.append(c)
        self.pinned = pins
        self.changed.emit()

    def pin_from_file(self, colors) -> None:
        """Pin a palette file's ``colors`` besides the pins there are; unlike
        those chosen on the image they stay when another image is opened."""
        self.from_file |= {rgb(c) for c in colors}
        self.set_pinned([*self.pinned, *colors])

    def file_pins(self) -> list[RGB]:
        return [c for c in self.pinned if c in self.from_file]

    def new_image(self) -> None:
        """Another image was opened. The mask and the colours pinned on the
        previous image (its swatches, its pixels, edited colours) were about
        that picture and are let go; what came from a palette file (a palette
        mapped to, colours kept from it) is about no picture and stays, so one
        palette can be applied to many images."""
        kept = self.file_pins()
        if kept != self.pinned:
            self.pinned = kept
            self.from_file = set(kept)
            self.changed.emit()
        self.clear_mask()

    # ------------------------------------------------ the given palette
    def set_fixed_palette(self, colors) -> None:
        """Map every run to exactly ``colors`` (in order); ``None`` to adapt again."""
        self.fixed_palette = None if colors is None else tuple(rgb(c) for c in colors)
        self.changed.emit()

    # ---------------------------------------------------------- the mask
    def ensure_mask(self, height: int, width: int) -> np.ndarray:
        if self.mask is None or self.mask.shape != (height, width):
            self.mask = np.zeros((height, width), np.uint8)
            self._base, self._ops = None, []
        return self.mask

    def paint(self, x: float, y: float, radius: float, erase: bool = False) -> None:
        """A disc of ``radius`` image pixels at (x, y): white, or black to erase."""
        if self.mask is None:
            return
        self._apply(((float(x), float(y)),), float(radius), bool(erase))
        self.mask_changed.emit()
        self.changed_box = None

    def stroke(self, points, radius: float, erase: bool = False) -> None:
        """Discs along the segments between ``points`` ((x, y) image pixels)."""
        if self.mask is None or not points:
            return
        self._apply(tuple((float(p[0]), float(p[1])) for p in points), float(radius),
                    bool(erase))
        self.mask_changed.emit()
        self.changed_box = None

    def _apply(self, points, radius: float, erase: bool) -> None:
        """Paint one brush operation into the mask and record it, with what
        it paints over."""
        h, w = self.mask.shape
        r = max(0.5, radius) + 1
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, x1 = max(0, int(min(xs) - r)), min(w, int(max(xs) + r) + 1)
        y0, y1 = max(0, int(min(ys) - r)), min(h, int(max(ys) + r) + 1)
        if x0 >= x1 or y0 >= y1:
            x0 = x1 = y0 = y1 = 0
        before = zlib.compress(self.mask[y0:y1, x0:x1].tobytes(), 1)
        self._draw(points, radius, erase)
        self._ops.append(MaskOp(points, radius, erase, (y0, y1, x0, x1), before))
        self.changed_box = (y0, y1, x0, x1)

    def _draw(self, points, radius: float, erase: bool) -> None:
        step = max(1.0, radius / 2)
        prev = points[0]
        self._disc(prev[0], prev[1], radius, erase)
        for point in points[1:]:
            dx, dy = point[0] - prev[0], point[1] - prev[1]
            n = max(1, int(np.hypot(dx, dy) / step))
            for i in range(1, n + 1):
                self._disc(prev[0] + dx * i / n, prev[1] + dy * i / n, radius, erase)
            prev = point

    def _disc(self, x: float, y: float, radius: float, erase: bool) -> None:
        h, w = self.mask.shape
        r = max(0.5, radius)
        x0, x1 = max(0, int(x - r)), min(w, int(x + r) + 1)
        y0, y1 = max(0, int(y - r)), min(h, int(y + r) + 1)
        if x0 >= x1 or y0 >= y1:
            return
        yy, xx = np.mgrid[y0:y1, x0:x1]
        disc = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= r * r
        self.mask[y0:y1, x0:x1][disc] = 0 if erase else 255

    def clear_mask(self) -> None:
        if self.mask is not None:
            self.mask, self._base, self._ops = None, None, []
            self.mask_changed.emit()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """A loaded mask (copied), or ``None``."""
        if mask is None:
            self.mask, self._base = None, None
        else:
            self.mask = np.array(mask, dtype=np.uint8, order="C")
            self._base = StoredMask.of(self.mask)
        self._ops = []
        self.mask_changed.emit()

    def has_mask(self) -> bool:
        return self.mask is not None and bool(self.mask.any())

    # ------------------------------------------------------------ runs
    def settings_for(self, settings: QuantizeSettings, reserved: int = 0) -> QuantizeSettings:
        """``settings`` with the pins or the given palette. k grows to hold every
        pin (plus ``reserved`` entries, e.g. the transparent one) when it must."""
        if self.fixed_palette is not None:
            return replace(settings, palette=self.fixed_palette, keep=())
        keep = tuple(self.pinned)
        k = max(settings.k, min(MAX_K, len(keep) + reserved))
        return replace(settings, k=k, keep=keep[:MAX_K - reserved], palette=None)

    def restore(self, settings: QuantizeSettings) -> None:
        """Pins and the given palette as a run's ``settings`` had them (for
        snapshots and settings history: both travel in QuantizeSettings)."""
        self.pinned = [rgb(c) for c in settings.keep]
        self.fixed_palette = (None if settings.palette is None
                              else tuple(rgb(c) for c in settings.palette))
        self.changed.emit()

    def weights(self) -> np.ndarray | None:
        """Per-pixel K-Means weights from the mask, or None when nothing is painted."""
        return mask_weights(self.mask) if self.has_mask() else None
