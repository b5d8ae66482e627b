"""The "k vs cost" chart, its background computation, and the target mode.

* :class:`CostChart` draws the PNG size and the quality figure (mean OKLab ΔE
  ×100) against k on a log axis, marks the current k, and reports clicks.
* :class:`CurveWorker` computes the curve (``core.kscan.scan``) and, in
  target mode, the search, in a background thread that leaves the live run
  alone: while a live run is going its kernels use one thread and it works
  only a small share of the time (``LIVE_DUTY``), sleeping between steps
  (the curve of a small image waits for the live run to end instead); once
  the live run has ended it uses every core.
  A new image or new settings cancel it.
* :class:`TargetPanel` is the target mode in the controls: "Smallest file with
  quality ≥ Q" (pngquant's 0-100 scale, as ``--quality``) or "Best quality
  under N KB" (as ``--max-size``).
* :class:`CurvePresenter` connects them to the window's controls.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCharts import (
    QChart,
    QChartView,
    QLineSeries,
    QLogValueAxis,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QObject, QPointF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QStackedWidget, QWidget

from kmeans_gui.core import (
    K_STEPS,
    KCost,
    KPoint,
    Target,
    build_histogram,
    parallel,
    quality_to_delta_e,
    scan,
    search,
)

from .chart import round_axis

log = logging.getLogger(__name__)

SIZE_COLOUR = QColor("#2a7ab9")
QUALITY_COLOUR = QColor("#c0392b")
#: While the live run goes, the curve works this share of the time.
LIVE_DUTY = 0.2
#: The chart's points count colours on fewer pixels and encode fewer rows
#: than the command line's search (see benchmarks/k_targets.py estimates).
CHART_TABLE_PIXELS = 1 << 16
CHART_ROW_SHARE = 1 / 32
#: Longest single sleep between two steps (so cancelling stays quick).
MAX_PAUSE = 0.25
#: Up to this many pixels (a 1080p frame) the live run ends within about
#: half a second: the curve waits for it instead of working beside it, as
#: even its LIVE_DUTY share made the live result of a 2 MP photo about 14 %
#: later on two cores. (Its first point then still comes well within a
#: second of the first preview; a target search never waits.)
LIVE_WAIT_PIXELS = 1 << 21


class CostChart(QChartView):
    """File size and ΔE against k (log axis); click a point to pick its k."""

    k_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        chart.legend().setVisible(True)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(2, 2, 2, 2))
        chart.setBackgroundRoundness(0)
        chart.setTitle("k vs cost")
        font = chart.titleFont()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        chart.setTitleFont(font)
        small = chart.legend().font()
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
        chart.legend().setFont(small)

        self._size = QLineSeries(name="PNG KB")
        self._size.setPen(QPen(SIZE_COLOUR, 2))
        self._size_dots = QScatterSeries()
        self._quality = QLineSeries(name="ΔE")
        self._quality.setPen(QPen(QUALITY_COLOUR, 2))
        self._quality_dots = QScatterSeries()
        for dots, colour in ((self._size_dots, SIZE_COLOUR),
                             (self._quality_dots, QUALITY_COLOUR)):
            dots.setMarkerSize(5)
            dots.setColor(colour)
            dots.setBorderColor(colour)
        self._marker = QLineSeries(name="k")
        self._marker.setPen(QPen(QColor("#555555"), 1, Qt.PenStyle.DashLine))
        for series in (self._size, self._size_dots, self._quality, self._quality_dots,
                       self._marker):
            chart.addSeries(series)
        for dots in (self._size_dots, self._quality_dots):
            chart.legend().markers(dots)[0].setVisible(False)

        self._x = QLogValueAxis()
        self._x.setBase(2)
        self._x.setRange(2, 256)
        self._x.setLabelFormat("%d")
        self._x.setTitleText("k (colours)")
        self._bytes = QValueAxis()
        self._bytes.setTitleText("PNG KB")
        self._bytes.setLabelFormat("%.0f")
        self._de = QValueAxis()
        self._de.setTitleText("ΔE")
        self._de.setLabelFormat("%.1f")
        for axis, side in ((self._x, Qt.AlignmentFlag.AlignBottom),
                           (self._bytes, Qt.AlignmentFlag.AlignLeft),
                           (self._de, Qt.AlignmentFlag.AlignRight)):
            f = axis.labelsFont()
            f.setPointSizeF(max(6.5, f.pointSizeF() * 0.85))
            axis.setLabelsFont(f)
            axis.setTitleFont(f)
            chart.addAxis(axis, side)
        for series, y in ((self._size, self._bytes), (self._size_dots, self._bytes),
                          (self._marker, self._bytes), (self._quality, self._de),
                          (self._quality_dots, self._de)):
            series.attachAxis(self._x)
            series.attachAxis(y)
        self._points: list[KPoint] = []
        self._current_k: int | None = None
        self.reset()

    # ------------------------------------------------------------ data
    def reset(self) -> None:
        self._points = []
        for series in (self._size, self._size_dots, self._quality, self._quality_dots):
            series.clear()
        self._bytes.setRange(0, 1)
        self._de.setRange(0, 1)
        # No figures yet: a 0-1 axis with whole-number labels read "0 0 1 1 1".
        self._bytes.setLabelsVisible(False)
        self._de.setLabelsVisible(False)
        self._draw_marker()

    def add(self, point: KPoint) -> None:
        self._points.append(point)
        self._points.sort(key=lambda p: p.k)
        kb = [QPointF(p.k, p.size / 1024) for p in self._points]
        de = [QPointF(p.k, p.delta_e) for p in self._points]
        self._size.replace(kb)
        self._size_dots.replace(kb)
        self._quality.replace(de)
        self._quality_dots.replace(de)
        # Round ticks; a small file's axis gets decimals, or its labels repeat.
        for axis, high in ((self._bytes, max(p.size for p in self._points) / 1024),
                           (self._de, max(p.delta_e for p in self._points))):
            top, label = round_axis(max(high * 1.04, 0.1))  # a flat image: 0 KB, ΔE 0
            axis.setRange(0, top)
            axis.setTickCount(5)
            axis.setLabelFormat(label)
        self._bytes.setLabelsVisible(True)
        self._de.setLabelsVisible(True)
        self._draw_marker()

    def points(self) -> list[KPoint]:
        return list(self._points)

    def set_current_k(self, k: int | None) -> None:
        self._current_k = k
        self._draw_marker()

    def current_k(self) -> int | None:
        return self._current_k

    def _draw_marker(self) -> None:
        if self._current_k is None:
            self._marker.clear()
            return
        k = min(256, max(2, self._current_k))
        top = self._bytes.max()
        self._marker.replace([QPointF(k, 0), QPointF(k, top)])

    # ------------------------------------------------------------ clicks
    def k_at(self, x: float) -> int | None:
        """The computed k nearest (on the log axis) to the widget x position."""
        if not self._points:
            return None
        area = self.chart().plotArea()
        if area.width() <= 0:
            return None
        scene_x = self.mapToScene(int(x), 0).x()
        t = (scene_x - area.left()) / area.width()
        if not -0.05 <= t <= 1.05:
            return None
        lo, hi = math.log2(self._x.min()), math.log2(self._x.max())
        value = lo + t * (hi - lo)
        best = min(self._points, key=lambda p: abs(math.log2(p.k) - value))
        return best.k

    def widget_x_of(self, k: int) -> int:
        """Widget x position of ``k`` on the axis (for tests and tools)."""
        area = self.chart().plotArea()
        lo, hi = math.log2(self._x.min()), math.log2(self._x.max())
        scene_x = area.left() + (math.log2(k) - lo) / (hi - lo) * area.width()
        return self.mapFromScene(QPointF(scene_x, area.center().y())).x()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            k = self.k_at(event.position().x())
            if k is not None:
                self.k_clicked.emit(k)
                event.accept()
                return
        super().mousePressEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 220)


# ---------------------------------------------------------------- background

@dataclass(frozen=True)
class TargetChoice:
    """What the search chose, for the target panel."""

    k: int
    met: bool
    why: str


class CurveWorker(QObject):
    """Computes the curve (and a target's k) in a background thread.

    ``start`` cancels whatever ran before; reports carry the token given to
    ``start`` so late reports of a cancelled run can be told apart.
    """

    point_ready = Signal(object, object)  # token, KPoint
    curve_done = Signal(object, bool)  # token, True if complete (False: cancelled)
    target_found = Signal(object, object)  # token, TargetChoice

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._live = threading.Event()  # set while the live run goes
        self._idle = threading.Event()  # ... and this one while it does not
        self._idle.set()

    def set_live_running(self, running: bool) -> None:
        """The live K-Means run started (True) or ended: the curve steps back."""
        if running:
            self._idle.clear()
            self._live.set()
        else:
            self._live.clear()
            self._idle.set()

    def start(self, token, pixels, histogram, settings, *, target: Target | None = None,
              ks: tuple[int, ...] = K_STEPS, curve: bool = True, effort: str = "auto",
              icc_profile=None, dpi=None, weights=None) -> None:
        self.cancel()
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._run, name="kcurve-worker", daemon=True,
            args=(token, cancel, pixels, histogram, settings, target, ks, curve, effort,
                  icc_profile, dpi, weights))
        self._cancel, self._thread = cancel, thread
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
        self._cancel = self._thread = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def shutdown(self, timeout: float = 0.5) -> bool:
        """Cancel and wait (briefly: closing must be quick) for every thread
        started; True when all ended. One still inside a step ends at the next
        (the threads are daemons, so they never hold up the exit)."""
        self.cancel()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self._threads if t.is_alive()]
        self._threads = alive
        return not alive

    def _pacer(self, cancel: threading.Event, wait: bool):
        """A ``KCost.pace`` callback: after each step, while the live run goes,
        sleep long enough that the curve's share of the time stays LIVE_DUTY,
        or with ``wait`` until the live run has ended."""
        last = [time.perf_counter()]

        def pace() -> None:
            if cancel.is_set():
                raise _Cancelled
            now = time.perf_counter()
            worked = now - last[0]
            while wait and self._live.is_set() and not cancel.is_set():
                self._idle.wait(MAX_PAUSE)
            if self._live.is_set():
                pause = worked * (1 - LIVE_DUTY) / LIVE_DUTY
                while pause > 0 and self._live.is_set() and not cancel.is_set():
                    step = min(pause, MAX_PAUSE)
                    time.sleep(step)
                    pause -= step
                if cancel.is_set():
                    raise _Cancelled
            # One thread beside a live run, every core once it has ended.
            parallel.limit_here(1 if self._live.is_set() else None)
            last[0] = time.perf_counter()

        return pace

    def _run(self, token, cancel, pixels, histogram, settings, target, ks, curve, effort,
             icc_profile, dpi, weights) -> None:
        pace = self._pacer(cancel, wait=target is None and
                           pixels.shape[0] * pixels.shape[1] <= LIVE_WAIT_PIXELS)
        try:
            pace()  # a small image's curve starts once its live run has ended
            with parallel.limited(1 if self._live.is_set() else parallel.threads()):
                if weights is not None:  # importance painted: K-Means weighs it, as runs do
                    histogram = build_histogram(pixels, weights)
                    pace()
                cost = KCost(pixels, settings, histogram=histogram, effort=effort,
                             icc_profile=icc_profile, dpi=dpi, pace=pace,
                             table_pixels=CHART_TABLE_PIXELS, row_share=CHART_ROW_SHARE)
                complete = True
                if curve:
                    for point in scan(cost, ks):
                        if cancel.is_set():
                            complete = False
                            break
                        self.point_ready.emit(token, point)
                    if cancel.is_set():
                        complete = False
                    self.curve_done.emit(token, complete)
                if target is not None and not cancel.is_set():
                    found = search(cost, target)
                    if not cancel.is_set():
                        self.target_found.emit(token, TargetChoice(found.k, found.met,
                                                                   found.why))
        except _Cancelled:
            pass
        except Exception:  # a bug must not kill the app from a background thread
            if cancel.is_set():
                return  # cancelled (say, the app is closing and the engine's pool is gone)
            log.exception("the k vs cost curve failed")
            self.curve_done.emit(token, False)


class _Cancelled(Exception):
    """Raised inside the worker's steps to stop at once."""


# ---------------------------------------------------------------- target mode

MODES = (("fixed", "Fixed k"), ("quality", "Smallest file with quality ≥"),
         ("size", "Best quality under"))


@dataclass(frozen=True)
class KMode:
    """How k is chosen, as the target panel shows it: its mode and values,
    and what the last search said (kept for the history, not compared)."""

    mode: str = "fixed"
    quality: int = 80
    size_kb: int = 200
    why: str = field(default="", compare=False)


class TargetPanel(QWidget):
    """Target mode: fixed k, smallest file with quality ≥ Q, best quality under N KB."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_combo = QComboBox()
        for key, text in MODES:
            self.mode_combo.addItem(text, key)
        self.mode_combo.setToolTip("Let a target choose k for you")
        self.quality_spin = QSpinBox(minimum=0, maximum=100, value=80)
        self.quality_spin.setToolTip("pngquant's quality scale (0-100), as "
                                     "kmeans-compress --quality")
        self.size_spin = QSpinBox(minimum=1, maximum=1_000_000, value=200, suffix=" KB")
        self.size_spin.setToolTip("File size budget (1 KB = 1024 bytes)")
        self.value_stack = QStackedWidget()
        self.value_stack.addWidget(QWidget())
        self.value_stack.addWidget(self.quality_spin)
        self.value_stack.addWidget(self.size_spin)
        self.why_label = QLabel("")
        self.why_label.setWordWrap(True)
        self._outcome = ""  # what the last search found ("" while one runs)
        small = self.why_label.font()
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.9))
        self.why_label.setFont(small)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Target:", self.mode_combo)
        form.addRow("", self.value_stack)
        form.addRow(self.why_label)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.quality_spin.valueChanged.connect(self._emit)
        self.size_spin.valueChanged.connect(self._emit)
        self._on_mode()

    def mode(self) -> str:
        return self.mode_combo.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(mode)))

    def target(self) -> Target | None:
        if self.mode() == "quality":
            goal = quality_to_delta_e(self.quality_spin.value())
            return Target(max_delta_e=max(goal, 1e-9))
        if self.mode() == "size":
            return Target(max_bytes=self.size_spin.value() * 1024)
        return None

    def describe(self) -> str:
        if self.mode() == "quality":
            q = self.quality_spin.value()
            return f"quality ≥ {q} (ΔE ≤ {quality_to_delta_e(q):.2f})"
        if self.mode() == "size":
            return f"file ≤ {self.size_spin.value()} KB"
        return ""

    def show_choice(self, text: str, outcome: bool = True) -> None:
        """``text`` under the target; ``outcome``: what a search found (a state
        keeps it), not that one is under way."""
        self.why_label.setText(text)
        self._outcome = text if outcome else ""

    def state(self) -> KMode:
        return KMode(self.mode(), self.quality_spin.value(), self.size_spin.value(),
                     self._outcome if self.mode() != "fixed" else "")

    def restore(self, state: KMode | None) -> None:
        """Show ``state`` (``None``: Fixed k) without emitting ``changed``:
        the k it chose comes back with the settings, no search runs."""
        state = state or KMode(quality=self.quality_spin.value(), size_kb=self.size_spin.value())
        widgets = (self.mode_combo, self.quality_spin, self.size_spin)
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(state.mode)))
            self.quality_spin.setValue(state.quality)
            self.size_spin.setValue(state.size_kb)
        finally:
            for w, b in zip(widgets, blocked, strict=True):
                w.blockSignals(b)
        self._show_mode()
        self.show_choice(state.why)

    def _show_mode(self) -> None:
        self.value_stack.setCurrentIndex(self.mode_combo.currentIndex())
        self.value_stack.setVisible(self.mode() != "fixed")
        self.why_label.setText("")
        self._outcome = ""
        self.why_label.setVisible(self.mode() != "fixed")

    @Slot()
    def _on_mode(self) -> None:
        self._show_mode()
        self.changed.emit()

    @Slot()
    def _emit(self) -> None:
        self.changed.emit()


# ---------------------------------------------------------------- wiring

class CurvePresenter(QObject):
    """Keeps the chart, the worker and the target panel in step with the window.

    The window calls ``image_opened`` with each new image and ``k_shown`` when
    the live run's k changes; the presenter sets k through ``set_k`` (the
    controls' k spin box) when a point is clicked or a target chose it.
    """

    k_chosen = Signal(int)
    #: A search ended (k chosen, or the target not met): a history step if no run follows.
    target_settled = Signal()

    def __init__(self, chart: CostChart, panel: TargetPanel, settings_of, set_k,
                 parent: QObject | None = None, weights_of=None) -> None:
        super().__init__(parent)
        self.chart, self.panel = chart, panel
        self._settings_of = settings_of  # () -> QuantizeSettings a run would use
        # () -> the importance weights a run would use (None: none painted)
        self._weights_of = weights_of or (lambda: None)
        self._weights_version = 0  # which edit of the mask the curve is for
        self._set_k = set_k
        self.worker = CurveWorker(self)
        self.worker.point_ready.connect(self._on_point)
        self.worker.curve_done.connect(self._on_done)
        self.worker.target_found.connect(self._on_target)
        chart.k_clicked.connect(self._on_clicked)
        panel.changed.connect(self._on_target_changed)
        self._token = 0
        self._image = None
        self._histogram = None
        self._curve_key = None  # the settings (k aside) the curve is for
        self.complete = False
        self._setting_k = False  # k is being set by a target or a click
        self._searching = False  # a target's search is under way

    def image_opened(self, image, histogram, weights_version: int = 0) -> None:
        self._image, self._histogram = image, histogram
        self._weights_version = weights_version
        self._restart(curve=True)

    def showing(self, image) -> bool:
        """Whether the curve is for ``image`` (not yet for one just opened)."""
        return image is not None and self._image is image

    def weights_changed(self, version: int) -> None:
        """A run starts with the mask as of edit ``version``: a new curve if
        the curve's K-Means weighed another one."""
        if self._image is not None and version != self._weights_version:
            self._weights_version = version
            self._restart(curve=True)

    def settings_changed(self) -> None:
        """The controls changed: a new curve if anything but k changed."""
        if self._image is None:
            return
        settings = self._settings_of()
        if self._key(settings) != self._curve_key:
            self._restart(curve=True)
        self.chart.set_current_k(settings.k)

    def k_shown(self, k: int) -> None:
        self.chart.set_current_k(k)

    def settings_restored(self) -> None:
        """Undo, redo or a snapshot set the controls and the target panel: the
        curve follows the settings, and no search runs (the k came back with
        them); one still under way is cancelled, or it would set k later."""
        if self._image is None:
            return
        settings = self._settings_of()
        if self._key(settings) != self._curve_key:
            self._restart(curve=True, search=False)
        elif self._searching:  # the worker's curve goes on only if it was complete
            self._restart(curve=not self.complete, search=False)
        else:
            self.chart.set_current_k(settings.k)

    def k_edited(self) -> None:
        """The person set k: a chosen k replaces the target, as a clicked point does."""
        if self._setting_k or self.panel.mode() == "fixed":
            return
        self.panel.set_mode("fixed")

    def live_running(self, running: bool) -> None:
        """The window's live run started or ended."""
        self.worker.set_live_running(running)

    def shutdown(self) -> bool:
        return self.worker.shutdown()

    @staticmethod
    def _key(settings):
        return dataclasses.replace(settings, k=16)

    def _restart(self, curve: bool, search: bool = True) -> None:
        if self._image is None:
            return
        self._token += 1
        settings = self._settings_of()
        target = self.panel.target() if search else None
        self._searching = target is not None
        if curve:
            self.chart.reset()
            self.complete = False
            self._curve_key = self._key(settings)
        self.chart.set_current_k(settings.k)
        if target is not None:
            self.panel.show_choice(f"Finding k for {self.panel.describe()}…", outcome=False)
        if not curve and target is None:
            self.worker.cancel()
            return
        image = self._image
        self.worker.start(self._token, image.pixels, self._histogram, settings,
                          target=target, curve=curve, icc_profile=image.icc_profile,
                          dpi=image.dpi, weights=self._weights_of())

    @Slot(object, object)
    def _on_point(self, token, point: KPoint) -> None:
        if token == self._token:
            self.chart.add(point)

    @Slot(object, bool)
    def _on_done(self, token, complete: bool) -> None:
        if token == self._token:
            self.complete = complete

    @Slot(object, object)
    def _on_target(self, token, choice: TargetChoice) -> None:
        if token != self._token:
            return
        self._searching = False
        if choice.met:
            self.panel.show_choice(f"Chose {choice.why}")
            self._set_k_from_here(choice.k)
            self.chart.set_current_k(choice.k)
            self.k_chosen.emit(choice.k)
        else:
            self.panel.show_choice(f"Target not met: {choice.why}")
        self.target_settled.emit()

    def _set_k_from_here(self, k: int) -> None:
        self._setting_k = True
        try:
            self._set_k(k)
        finally:
            self._setting_k = False

    @Slot(int)
    def _on_clicked(self, k: int) -> None:
        if self.panel.mode() != "fixed":
            self.panel.set_mode("fixed")  # a chosen k replaces the target
        self._set_k_from_here(k)
        self.chart.set_current_k(k)

    @Slot()
    def _on_target_changed(self) -> None:
        # A complete curve stays: only the search is new.
        self._restart(curve=not self.complete)
