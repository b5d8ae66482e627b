"""The quantization controls; ``changed`` fires on every edit, the window debounces."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.limits import GUI_MIN_K, MAX_K

from .kslider import LogKSlider
from .wheel import guard

#: What the app's controls allow (the core and the command line accept more:
#: any number of iterations, any tolerance). Stored settings are clamped to these.
K_RANGE = (GUI_MIN_K, MAX_K)
MAX_ITER_RANGE = (1, 1000)
TOL_RANGE = (0.0, 0.1)
SEED_RANGE = (0, 2**31 - 1)
STRENGTH_RANGE = (0.0, 1.0)  # dithering strength; the spinner shows 1-100 %

SPACE_CHOICES = (("Perceptual (OKLab)", "oklab"), ("RGB", "rgb"))
INIT_CHOICES = (("k-means++", "kmeans++"), ("Random pixels", "random"))
DITHER_CHOICES = (("Auto (selective)", "auto"), ("None", "none"), ("Ordered (Bayer)", "ordered"),
                  ("Floyd–Steinberg", "fs"))


K_TIP = "Number of palette colours"
K_SLIDER_TIP = ("Number of palette colours, on a logarithmic scale; the marks are where the "
                "PNG needs more bits per pixel (2, 4, 16 colours)")


def _combo(choices) -> QComboBox:
    box = QComboBox()
    for label, value in choices:
        box.addItem(label, value)
    return box


class ControlsPanel(QWidget):
    changed = Signal()
    advanced_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.k_spin = QSpinBox(minimum=K_RANGE[0], maximum=K_RANGE[1])
        self.k_spin.setAccelerated(True)
        self.k_spin.setToolTip(K_TIP)
        self.k_slider = LogKSlider(*K_RANGE)
        self.k_slider.setToolTip(K_SLIDER_TIP)
        k_row = QHBoxLayout()
        k_row.setContentsMargins(0, 0, 0, 0)
        k_row.addWidget(self.k_slider, 1)
        k_row.addWidget(self.k_spin)

        self.space_combo = _combo(SPACE_CHOICES)
        self.space_combo.setToolTip("Perceptual clusters colours as the eye sees them (OKLab)")
        self.dither_combo = _combo(DITHER_CHOICES)
        self.strength_spin = QSpinBox(minimum=1, maximum=100, value=100, suffix=" %")
        self.dither_combo.setToolTip("Auto diffuses error only where it helps (gradients), "
                                     "never in flat areas, edges or texture")
        self.strength_spin.setToolTip("Dithering strength")
        dither_row = QHBoxLayout()
        dither_row.setContentsMargins(0, 0, 0, 0)
        dither_row.addWidget(self.dither_combo, 1)
        dither_row.addWidget(self.strength_spin)
        self.init_combo = _combo(INIT_CHOICES)
        self.seed_spin = QSpinBox(minimum=SEED_RANGE[0], maximum=SEED_RANGE[1])
        self.seed_spin.setToolTip("Random seed: the same seed gives the same palette")

        self.advanced_button = QToolButton(text="Advanced", checkable=True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setAutoRaise(True)
        self.max_iter_spin = QSpinBox(minimum=MAX_ITER_RANGE[0], maximum=MAX_ITER_RANGE[1])
        self.max_iter_spin.setToolTip("Stop after this many iterations at the latest")
        self.tol_spin = QDoubleSpinBox(minimum=TOL_RANGE[0], maximum=TOL_RANGE[1], decimals=6,
                                       singleStep=0.0001)
        self.tol_spin.setToolTip("Stop when the inertia improves by less than this fraction")
        self.advanced = QWidget()
        adv_form = QFormLayout(self.advanced)
        adv_form.setContentsMargins(12, 0, 0, 0)
        adv_form.addRow("Max iterations:", self.max_iter_spin)
        adv_form.addRow("Tolerance:", self.tol_spin)
        self.advanced.setVisible(False)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Colours (k):", k_row)
        form.addRow("Colour &space:", self.space_combo)
        form.addRow("&Dithering:", dither_row)
        form.addRow("&Initialisation:", self.init_combo)
        form.addRow("S&eed:", self.seed_spin)
        # the form's buddy for a layout row is not set automatically
        form.labelForField(k_row).setBuddy(self.k_spin)
        form.labelForField(dither_row).setBuddy(self.dither_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.advanced_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.advanced)

        self.k_slider.k_changed.connect(self.k_spin.setValue)
        self.k_spin.valueChanged.connect(self.k_slider.set_k)
        self.k_spin.valueChanged.connect(self._emit_changed)
        for box in (self.space_combo, self.dither_combo, self.init_combo):
            box.currentIndexChanged.connect(self._emit_changed)
        for spin in (self.strength_spin, self.seed_spin, self.max_iter_spin):
            spin.valueChanged.connect(self._emit_changed)
        self.tol_spin.valueChanged.connect(self._emit_changed)
        self.dither_combo.currentIndexChanged.connect(self._update_enabled)
        self.advanced_button.toggled.connect(self.set_advanced_open)
        self.space_combo.setToolTip("Perceptual (OKLab) clusters colours as the eye sees "
                                    "them; RGB clusters the stored values")
        self.init_combo.setToolTip("How K-Means picks its starting colours")
        self.advanced_button.setToolTip("Iteration cap and stopping tolerance")
        self._wheel_guard = guard((self.k_spin, self.k_slider, self.space_combo,
                                   self.dither_combo, self.strength_spin, self.init_combo,
                                   self.seed_spin, self.max_iter_spin, self.tol_spin), self)
        self.set_settings(QuantizeSettings())  # the core's defaults

    @Slot()
    def _emit_changed(self) -> None:
        self.changed.emit()

    def set_given_palette(self, count: int | None) -> None:
        """While the image is mapped to ``count`` given colours, k is theirs:
        the k controls are off and say why (None: K-Means chooses again)."""
        for widget, tip in ((self.k_spin, K_TIP), (self.k_slider, K_SLIDER_TIP)):
            widget.setEnabled(count is None)
            widget.setToolTip(tip if count is None else
                              f"Mapped to {count} given colours: Palette → Adapt Palette Again "
                              "lets K-Means choose k again")

    @Slot()
    def _update_enabled(self) -> None:
        self.strength_spin.setEnabled(self.dither_combo.currentData() != "none")

    @Slot(bool)
    def set_advanced_open(self, open_: bool) -> None:
        self.advanced.setVisible(open_)
        self.advanced_button.setChecked(open_)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if open_
                                          else Qt.ArrowType.RightArrow)
        self.advanced_toggled.emit(open_)

    def dither_strength(self) -> float:
        return self.strength_spin.value() / 100.0

    def settings(self) -> QuantizeSettings:
        return QuantizeSettings(
            k=self.k_spin.value(), space=self.space_combo.currentData(),
            init=self.init_combo.currentData(), max_iter=self.max_iter_spin.value(),
            tol=self.tol_spin.value(), seed=self.seed_spin.value(),
            dither=self.dither_combo.currentData(), dither_strength=self.dither_strength())

    def set_settings(self, s: QuantizeSettings) -> None:
        """Show ``s`` without emitting ``changed``."""
        widgets = (self.k_spin, self.k_slider, self.space_combo, self.dither_combo,
                   self.strength_spin, self.init_combo, self.seed_spin, self.max_iter_spin,
                   self.tol_spin)
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self.k_spin.setValue(s.k)
            self.k_slider.set_k(s.k)
            self.space_combo.setCurrentIndex(max(0, self.space_combo.findData(s.space)))
            self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(s.init)))
            self.dither_combo.setCurrentIndex(max(0, self.dither_combo.findData(s.dither)))
            self.strength_spin.setValue(max(1, round(s.dither_strength * 100)))
            self.seed_spin.setValue(int(s.seed or 0))
            self.max_iter_spin.setValue(s.max_iter)
            self.tol_spin.setValue(s.tol)
        finally:
            for w, b in zip(widgets, blocked, strict=True):
                w.blockSignals(b)
        self._update_enabled()
