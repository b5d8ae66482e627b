"""Snapshots kept from the Session's results and compared in the split view:
Keep Snapshot adds the current result to the strip, selecting one or two
snapshots shows them in the comparison view, and Restore runs a snapshot's
settings again with its pins, given palette and mask."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot

from kmeans_gui.core import QuantizeSettings

from .history import Entry
from .imaging import shown_like_original
from .kcurve import KMode
from .session import Session
from .snapshots import Snapshot, SnapshotStrip
from .status_bar import StatusArea
from .tool_canvas import ToolCanvas


class SnapshotCompare(QObject):
    """Connects the snapshot strip to the Session and the comparison view.
    ``restore`` brings back a snapshot's history entry (the window records it);
    ``k_mode`` says how the k of a result's settings was chosen."""

    def __init__(self, strip: SnapshotStrip, canvas: ToolCanvas, session: Session,
                 status: StatusArea, restore: Callable[[Entry], None],
                 k_mode: Callable[[QuantizeSettings], KMode | None] = lambda _s: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.strip, self.canvas, self.session, self.status = strip, canvas, session, status
        self._restore = restore
        self._k_mode = k_mode
        strip.compare_changed.connect(self._on_compare_changed)
        strip.restore_requested.connect(self._restore_snapshot)

    def keep(self) -> Snapshot | None:
        f = self.session.result
        if f is None:
            return None
        for snap in self.strip.snapshots():
            if snap.finished is f:  # Keep pressed twice: one result, one snapshot
                self.status.say(f"This result is already snapshot {snap.number}")
                return snap
        snap = self.strip.keep(f, self.session.result_palette, self._k_mode(f.settings))
        self.strip.show()
        self.status.say(f"Kept snapshot {snap.number}; click it to compare")
        return snap

    def clear(self) -> None:
        """A new image: the old snapshots are of another picture."""
        self.strip.clear_snapshots()
        self.strip.hide()

    @staticmethod
    def _side(snap: Snapshot, size: tuple[int, int]):
        """The snapshot as a side of the split view, its preview at ``size``:
        one kept before the window was resized is reduced again from its
        full-resolution result (it used to be left out, and clicking it did
        nothing)."""
        f = snap.finished
        preview = f.preview_rgb if f.preview_rgb is not None else f.result.palette[f.preview]
        if (preview.shape[1], preview.shape[0]) != tuple(size):
            preview = shown_like_original(f.result.indices, f.result.palette, size)
        return (f"#{snap.number} k={f.settings.k}", preview, f.result.indices,
                f.result.palette)

    @Slot(list)
    def _on_compare_changed(self, selected: list) -> None:
        if not selected:
            self.canvas.set_comparison(None, None)
            return
        size = self.canvas.preview_size()
        if size is None:
            return
        if len(selected) == 1:
            self.canvas.set_comparison(self._side(selected[0], size), None)
        else:
            self.canvas.set_comparison(self._side(selected[0], size),
                                       self._side(selected[1], size))
        self.canvas.set_mode("split")

    @Slot(object)
    def _restore_snapshot(self, snap: Snapshot) -> None:
        self._restore(snap.entry())
