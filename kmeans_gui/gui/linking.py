"""One cluster linked across the swatches, the image and the colour cloud:
hovering one highlights it in all three, clicking keeps it highlighted."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot


class ClusterLink(QObject):
    """The hovered and the selected cluster; the hovered one wins. ``views``
    each have ``set_highlight(index or None)``."""

    def __init__(self, canvas, palette_view, cloud, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._views = (canvas, palette_view, cloud)
        self._hovered: int | None = None  # cluster under the pointer (swatch, centroid)
        self._selected: int | None = None  # cluster clicked (swatch, centroid, pixel)
        self._follow: tuple[int, int, int] | None = None  # its colour, through a remap
        palette_view.hovered.connect(self.hover)
        palette_view.clicked.connect(self.click)
        cloud.cluster_hovered.connect(self.hover)
        cloud.cluster_clicked.connect(self.click)
        canvas.cluster_clicked.connect(self.click)

    @Slot(int)
    def hover(self, index: int) -> None:
        self._hovered = None if index < 0 else index
        self._apply()

    @Slot(int)
    def click(self, index: int) -> None:
        """Click a cluster to keep it highlighted; click it (or nothing) again to let go."""
        self._selected = None if index < 0 or index == self._selected else index
        self._apply()

    def clear(self) -> None:
        """A new image: nothing highlighted."""
        self._hovered = self._selected = self._follow = None
        self._apply()

    def run_started(self, k: int, follow: tuple[int, int, int] | None = None,
                    given_palette: bool = False) -> None:
        """A selected cluster the new run will not have is let go. A run mapped
        to a given palette (an edited, removed or imported swatch) reorders the
        entries, so an index would name another colour: the selection is let go
        while it runs and ``follow`` (the selected colour) is looked up in its
        result (``result_shown``)."""
        if given_palette:
            self._follow = follow if self._selected is not None else None
            if self._selected is not None:
                self._selected = None
                self._apply()
            return
        self._follow = None
        if self._selected is not None and self._selected >= k:
            self._selected = None
            self._apply()

    def result_shown(self, palette) -> None:
        """A run's result: the colour followed through a remap is selected again
        where it now is (if it is still there)."""
        follow, self._follow = self._follow, None
        if follow is None:
            return
        for index, entry in enumerate(palette):
            if len(entry) == 4 and entry[3] == 0:
                continue
            if tuple(int(v) for v in entry[:3]) == follow:
                self._selected = index
                self._apply()
                return

    def selected(self) -> int | None:
        return self._selected

    def highlighted(self) -> int | None:
        return self._hovered if self._hovered is not None else self._selected

    def _apply(self) -> None:
        index = self.highlighted()
        for view in self._views:
            view.set_highlight(index)
