"""The side panel beside the image: the quantization controls with the k
target, the palette, the convergence and k-vs-cost charts sharing one
place, and the sizes. It builds and lays out the widgets; the window
connects them to the Session."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QLayout,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .chart import ConvergenceChart
from .controls import ControlsPanel
from .kcurve import CostChart, TargetPanel
from .palette_view import PaletteView


def group(title: str, widget_or_layout: QWidget | QLayout) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    if isinstance(widget_or_layout, QWidget):
        layout.addWidget(widget_or_layout)
    else:
        layout.addLayout(widget_or_layout)
    return box


class SizesBox(QGroupBox):
    """The image's size, the original file's, the PNG's and their ratio."""

    def __init__(self) -> None:
        super().__init__("Sizes")
        self.image = QLabel("–")
        self.file = QLabel("–")
        self.png = QLabel("–")
        self.ratio = QLabel("–")
        for label in (self.image, self.file, self.png, self.ratio):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info = QFormLayout()
        info.addRow("Image:", self.image)
        info.addRow("Original file:", self.file)
        info.addRow("PNG:", self.png)
        info.addRow("Ratio:", self.ratio)
        QVBoxLayout(self).addLayout(info)


class SidePanel(QScrollArea):
    """The scrolling column of controls, palette, charts and sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.controls = ControlsPanel()
        self.target_panel = TargetPanel()
        self.palette_view = PaletteView()
        self.chart = ConvergenceChart()
        self.chart.setMinimumHeight(190)
        self.chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do there by keyboard
        self.chart.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cost_chart = CostChart()
        self.cost_chart.setMinimumHeight(220)
        self.sizes = SizesBox()

        side = QWidget()
        side_layout = QVBoxLayout(side)
        quantization = QVBoxLayout()
        quantization.setContentsMargins(0, 0, 0, 0)
        quantization.addWidget(self.controls)
        quantization.addWidget(self.target_panel)
        side_layout.addWidget(group("Quantization", quantization))
        self.palette_box = group("Palette", self.palette_view)
        side_layout.addWidget(self.palette_box)
        # The two charts share one place: convergence while a run goes, k vs cost after.
        self.charts = QTabWidget()
        self.charts.setDocumentMode(True)
        self.charts.addTab(self.chart, "Convergence")
        self.charts.addTab(self.cost_chart, "k vs cost")
        # Like the convergence chart: nothing to do there by keyboard.
        for widget in (self.charts, self.charts.tabBar(), self.cost_chart,
                       self.cost_chart.viewport()):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        side_layout.addWidget(self.charts)
        side_layout.addWidget(self.sizes)
        side_layout.addStretch(1)
        self.setWidget(side)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def add_palette_widget(self, widget: QWidget) -> None:
        """Below the swatches: the palette tools' buttons."""
        self.palette_box.layout().addWidget(widget)
