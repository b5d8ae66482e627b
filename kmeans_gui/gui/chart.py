"""Convergence as K-Means runs (QtCharts): the inertia as a percentage of the
first iteration's, on a fixed 0-100 % axis (so a 2 % gain looks like 2 %,
not like a cliff), comparable across k and colour spaces. When the run ends
the title says where it stopped and why."""

from __future__ import annotations

import math

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget


def label_digits(bottom: float, top: float, ticks: int) -> int:
    """Significant digits that keep neighbouring tick labels distinct.

    Late iterations change the inertia by a fraction of a percent, so a fixed
    three digits printed the same label on several ticks.
    """
    step = (top - bottom) / max(1, ticks - 1)
    if step <= 0 or top <= 0:
        return 3
    return int(min(8, max(3, math.ceil(math.log10(top / step)) + 1)))


class ConvergenceChart(QChartView):
    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        chart.legend().hide()
        chart.setMargins(QMargins(2, 2, 2, 2))
        chart.setBackgroundRoundness(0)
        chart.setTitle("Convergence")
        font = chart.titleFont()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        chart.setTitleFont(font)
        self._line = QLineSeries()
        self._line.setPen(QPen(QColor("#2a7ab9"), 2))
        self._dots = QScatterSeries()
        self._dots.setMarkerSize(5)
        self._dots.setColor(QColor("#2a7ab9"))
        self._dots.setBorderColor(QColor("#2a7ab9"))
        chart.addSeries(self._line)
        chart.addSeries(self._dots)
        self._x = QValueAxis()
        self._x.setTitleText("iteration")
        self._x.setLabelFormat("%d")
        self._y = QValueAxis()
        self._y.setTitleText("error, % of first")
        self._y.setLabelFormat("%d")
        for axis, side in ((self._x, Qt.AlignmentFlag.AlignBottom),
                           (self._y, Qt.AlignmentFlag.AlignLeft)):
            small = axis.labelsFont()
            small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
            axis.setLabelsFont(small)
            axis.setTitleFont(small)
            chart.addAxis(axis, side)
            self._line.attachAxis(axis)
            self._dots.attachAxis(axis)
        self._values: list[tuple[int, float]] = []
        self.reset()

    def reset(self) -> None:
        self._values = []
        self._line.clear()
        self._dots.clear()
        self._x.setRange(1, 5)
        self._x.setTickCount(5)
        self._y.setRange(0, 100)  # fixed: the same scale for every run
        self._y.setTickCount(5)
        self.chart().setTitle("Convergence")

    @staticmethod
    def relative(inertia: float, first: float) -> float:
        """``inertia`` as a percentage of the first iteration's (0 when exact)."""
        return 100.0 * inertia / first if first > 0 else 0.0

    def add(self, iteration: int, inertia: float) -> None:
        self._values.append((iteration, inertia))
        point = QPointF(iteration, self.relative(inertia, self._values[0][1]))
        self._line.append(point)
        self._dots.append(point)
        last = max(5, iteration)
        self._x.setRange(1, last)
        self._x.setTickCount(min(last, 6))

    def finish(self, iteration: int, reason: str, given_palette: bool = False) -> None:
        """Mark the run's end in the title: the iteration and the reason."""
        if given_palette:
            # No K-Means at all (an edited, removed or imported palette): its
            # zero inertia is no measurement, so the run is not "exact".
            text = f"No iterations: {reason}"
        elif self._values and self._values[0][1] <= 0:
            text = "Exact: every colour of the image has its own entry"
        else:
            text = f"Stopped at iteration {iteration}: {reason}"
        self.chart().setTitle(text)

    def plotted(self) -> list[tuple[float, float]]:
        return [(p.x(), p.y()) for p in self._line.points()]

    def y_range(self) -> tuple[float, float]:
        return (self._y.min(), self._y.max())

    def values(self) -> list[tuple[int, float]]:
        return list(self._values)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 200)
