"""Convergence as K-Means runs (QtCharts): the inertia as a percentage of the
first iteration's, comparable across k and colour spaces. When the run ends
the title says where it stopped and why.

Seeding is good enough that the iterations shown improve the error by a few
percent, and raced seedings (k <= RACE_MAX_K) have already taken the steepest
part in their silent trial iterations. On a 0-100 % axis such a run is a
flat line at the top, so the axis spans what the run improved, widened to
round values and never narrower than ``MIN_SPAN`` (noise-sized changes stay
small), and the x axis says when the iterations started after a race."""

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


#: The narrowest error axis, in percent of the first iteration: a run that
#: improves less than this looks as small as it is.
MIN_SPAN = 1.0

#: Axis spans (percent) and the tick counts that put them on round steps.
_SPANS = ((1.0, 5), (2.0, 5), (4.0, 5), (5.0, 6), (10.0, 6), (20.0, 5), (25.0, 6),
          (50.0, 6), (100.0, 5))


def error_axis(low: float, high: float) -> tuple[float, float, int]:
    """(bottom, top, ticks) of the error axis for values from ``low`` to
    ``high`` in percent of the first: from 100 (or ``high`` above it) down past
    ``low`` to a round span of at least ``MIN_SPAN``, on ticks at round steps,
    never below 0."""
    top = max(100.0, high)
    need = max(MIN_SPAN, (top - min(low, 100.0)) * 1.08)  # room under the lowest point
    for span, ticks in _SPANS:
        if span >= need and top - span >= 0:
            return top - span, top, ticks
    return 0.0, top, 5


def round_axis(high: float, ticks: int = 5) -> tuple[float, str]:
    """(top, label format) of an axis from 0 past ``high`` with ``ticks``
    ticks on round values (1, 2, 2.5 or 5 times a power of ten apart), so
    they read 0, 200, 400 … rather than 0, 190, 380, 569, 759."""
    need = max(high, 1e-9) / (ticks - 1)
    power = 10.0 ** math.floor(math.log10(need))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= need * (1 - 1e-9))
    decimals = next((d for d in range(7) if abs(round(step, d) - step) < step * 1e-6), 6)
    return step * (ticks - 1), f"%.{decimals}f"


def iteration_step(last: int) -> int:
    """Whole iterations between the ticks of an axis from 1 to ``last``: a
    round step giving at most six ticks."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if (last - 1) / step <= 5:
            return step
    return 10 ** len(str(last - 1)) // 10 * 5


#: Where the iteration axis may end while a run goes on: round numbers, so
#: that it changes a few times per run. Every change of an axis lays the
#: whole chart out again in the GUI thread, holding the GIL the run needs:
#: once per iteration, that was the largest share of the window's work while
#: a 2 MP photo converged.
_AXIS_ENDS = (5, *sorted(int(m * 10 ** e) for e in range(1, 7)
                         for m in (1, 1.5, 2, 3, 4, 5, 6, 8)))


def iteration_axis_end(last: int) -> int:
    """The round end of the iteration axis while a run is at ``last`` (at least 5)."""
    return next((end for end in _AXIS_ENDS if end >= last), max(5, last))


def race_note(raced: bool, restarts: int, probes: int) -> str:
    """The x axis title: what came before iteration 1."""
    if not raced:
        return "iteration"
    return f"iteration · after {restarts} seedings × {probes} trial steps"


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
        self._x.setTickType(QValueAxis.TickType.TicksDynamic)
        self._x.setTitleText("iteration")
        self._x.setLabelFormat("%d")
        self._y = QValueAxis()
        self._y.setTitleText("error, % of iteration 1")
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

    def reset(self, note: str = "iteration") -> None:
        """Empty, for a new run; ``note`` is the x axis title (see ``race_note``)."""
        self._values = []
        self._line.clear()
        self._dots.clear()
        self._set_iteration_axis(5)
        self._x.setTitleText(note)
        self._low = self._high = 100.0
        self._set_error_axis()
        self.chart().setTitle("Convergence")

    def _set_error_axis(self) -> None:
        bottom, top, ticks = error_axis(self._low, self._high)
        if (bottom, top) != self.y_range() or self._y.tickCount() != ticks:
            self._y.setRange(bottom, top)
            self._y.setTickCount(ticks)
            step = (top - bottom) / (ticks - 1)
            decimals = 0 if step >= 1 else 2 if step < 0.5 else 1
            self._y.setLabelFormat(f"%.{decimals}f")

    @staticmethod
    def relative(inertia: float, first: float) -> float:
        """``inertia`` as a percentage of the first iteration's (0 when exact)."""
        return inertia / first * 100.0 if first > 0 else 0.0  # the first point exactly 100

    def add(self, iteration: int, inertia: float) -> None:
        self._values.append((iteration, inertia))
        point = QPointF(iteration, self.relative(inertia, self._values[0][1]))
        self._line.append(point)
        self._dots.append(point)
        self._low, self._high = min(self._low, point.y()), max(self._high, point.y())
        self._set_error_axis()
        end = iteration_axis_end(iteration)
        if end != self._x.max():
            self._set_iteration_axis(end)

    def _set_iteration_axis(self, last: int) -> None:
        """1 to ``last`` with ticks on whole iterations: a fixed tick count put
        them between iterations, labelled with the iteration below."""
        self._x.setRange(1, last)
        self._x.setTickAnchor(1)
        self._x.setTickInterval(iteration_step(last))

    def finish(self, iteration: int, reason: str, given_palette: bool = False) -> None:
        """Mark the run's end in the title (the iteration and the reason) and
        end the axis at the last iteration shown."""
        if self._values:
            self._set_iteration_axis(max(5, self._values[-1][0]))
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
