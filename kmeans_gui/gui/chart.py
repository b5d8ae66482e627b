"""Inertia against iteration, growing as K-Means runs (QtCharts)."""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget


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
        self._y.setTitleText("inertia")
        self._y.setLabelFormat("%.3g")
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
        self._y.setRange(0, 1)

    def add(self, iteration: int, inertia: float) -> None:
        self._values.append((iteration, inertia))
        point = QPointF(iteration, inertia)
        self._line.append(point)
        self._dots.append(point)
        last = max(5, iteration)
        self._x.setRange(1, last)
        self._x.setTickCount(min(last, 6))
        ys = [v for _, v in self._values]
        lo, hi = min(ys), max(ys)
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 1e-9)
        self._y.setRange(max(0.0, lo - pad), hi + pad)

    def values(self) -> list[tuple[int, float]]:
        return list(self._values)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 200)
