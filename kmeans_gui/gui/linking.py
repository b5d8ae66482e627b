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
        self._hovered = self._selected = None
        self._apply()

    def run_started(self, k: int) -> None:
        """A selected cluster the new run will not have is let go."""
        if self._selected is not None and self._selected >= k:
            self._selected = None
            self._apply()

    def highlighted(self) -> int | None:
        return self._hovered if self._hovered is not None else self._selected

    def _apply(self) -> None:
        index = self.highlighted()
        for view in self._views:
            view.set_highlight(index)
