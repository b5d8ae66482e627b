"""The status bar: the message line, the result summary, the zoom and the
progress bar. It shows what it is told; the window decides what to say."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

QUALITY_TIP = ("Mean colour error: the average OKLab distance between each pixel and its "
               "palette colour, ×100. Below 1 is hard to see; above 5 is visible at a glance.")


class StatusArea:
    """The widgets of the window's status bar, placed in ``bar``."""

    def __init__(self, bar: QStatusBar) -> None:
        self.label = QLabel()
        self.zoom_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.summary = QLabel("–")
        self.summary.setToolTip(QUALITY_TIP)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.summary)
        bar.addPermanentWidget(self.zoom_label)
        bar.addPermanentWidget(self.progress)

    def say(self, text: str) -> None:
        self.label.setText(text)

    def busy(self) -> None:
        """Something runs whose length is unknown (a run, a load, a save)."""
        self.progress.setRange(0, 0)

    def idle(self, done: bool, text: str | None = None) -> None:
        """Nothing running: the bar says whether a result is on screen, or ``text``."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if done else 0)
        self.progress.setFormat("done" if done else "")
        if text is not None:
            self.progress.setFormat(text)

    def show_zoom(self, zoom: float, fit: bool) -> None:
        percent = f"{zoom * 100:.0f} %"
        self.zoom_label.setText(f"Fit ({percent})" if fit else percent)
