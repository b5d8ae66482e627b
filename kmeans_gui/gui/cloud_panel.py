"""The colour-space panel: the 3D view, its view and colouring controls,
step mode, and a line about the highlighted cluster."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kmeans_gui.core import ColourSample, cluster_figures, palette_permutation

from .colour_space_view import ColourSpaceView
from .palette_view import colour_name
from .stepping import Phase, Record, StepSequence

COLOURING_CHOICES = (("Own colours", "own"), ("Cluster colours", "cluster"))
VIEW_BUTTONS = (("Top", "top", "Look down the L axis: the a/b chroma plane (RGB: down B)"),
                ("Front", "front", "a to the right, L up (RGB: R right, B up)"),
                ("Side", "side", "b to the right, L up (RGB: G right, B up)"))


class ColourSpacePanel(QWidget):
    step_mode_changed = Signal(bool)
    iteration_requested = Signal()  # step mode: let the worker run one iteration
    cluster_hovered = Signal(int)  # -1 for none
    cluster_clicked = Signal(int)
    phase_shown = Signal(str, int)  # kind, iteration

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ColourSpaceView()
        self.sequence = StepSequence()
        self._hist = None
        self._highlight: int | None = None

        self.colouring_combo = QComboBox()
        for label, value in COLOURING_CHOICES:
            self.colouring_combo.addItem(label, value)
        self.colouring_combo.setToolTip("Colour the points as they are, or by the centroid "
                                        "they belong to (the clusters K-Means is computing)")
        self.colouring_combo.currentIndexChanged.connect(
            lambda: self.view.set_colouring(self.colouring_combo.currentData()))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.colouring_combo, 1)
        self.view_buttons = {}
        for text, name, tip in VIEW_BUTTONS:
            button = QToolButton(text=text, toolTip=tip)
            button.clicked.connect(lambda _=False, n=name: self.view.set_view(n))
            top.addWidget(button)
            self.view_buttons[name] = button
        reset = QToolButton(text="Reset", toolTip="The starting view (or double-click the view)")
        reset.clicked.connect(self.view.reset_view)
        top.addWidget(reset)

        self.step_check = QCheckBox("Step mode")
        self.step_check.setToolTip("Pause after every iteration and show its assignment and "
                                   "update steps one at a time (Space or → steps)")
        self.step_check.toggled.connect(self._on_step_toggled)
        self.step_button = QPushButton("Step ▶")
        self.step_button.setToolTip("Next step (Space or →)")
        self.step_button.setEnabled(False)
        self.step_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.step_button.clicked.connect(self.step)
        steps = QHBoxLayout()
        steps.setContentsMargins(0, 0, 0, 0)
        steps.addWidget(self.step_check)
        steps.addWidget(self.step_button)
        steps.addStretch(1)

        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setMinimumHeight(self.caption.fontMetrics().height() * 2)
        self.cluster_label = QLabel("Hover a centroid or a swatch, or click the image")
        self.cluster_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(steps)
        layout.addWidget(self.caption)
        layout.addWidget(self.cluster_label)

        self.view.centroid_hovered.connect(self.cluster_hovered)
        self.view.centroid_clicked.connect(self.cluster_clicked)

    # ------------------------------------------------------------ content
    def set_colouring(self, colouring: str) -> None:
        self.colouring_combo.setCurrentIndex(self.colouring_combo.findData(colouring))

    def set_image(self, histogram, sample: ColourSample | None, space: str = "oklab") -> None:
        self._hist = histogram
        self.view.set_sample(sample, space)
        self.sequence.configure(16, "kmeans++", space, False)
        self.caption.setText("")
        self._set_highlight_text(None)

    def start_run(self, k: int, init: str, space: str, raced: bool) -> None:
        """A run begins: its space, and the seeding caption's facts."""
        if space != self.view.space():
            self.view.set_sample(self.view.sample(), space)
        else:
            self.view.clear_clusters()
        self.sequence.configure(k, init, space, raced)
        self.caption.setText("")
        self._update_step_button()

    def add_iteration(self, iteration: int, palette: np.ndarray, group_labels: np.ndarray,
                      moved: float, mse: float, converged: bool = False, reason: str = "",
                      start: np.ndarray | None = None) -> None:
        """One K-Means state (the progress signal)."""
        sample = self.view.sample()
        if sample is None:
            return
        labels = group_labels[sample.groups] if len(group_labels) else \
            np.zeros(len(sample), np.int64)
        record = Record(iteration, palette, labels, moved, mse, converged, reason, start,
                        group_labels)
        if self.sequence.add(record):
            self._show(self.sequence.current)
        self._update_step_button()

    def finish(self, palette: np.ndarray) -> None:
        """The run's result: the same colours in the saved PNG's order, so
        palette indices mean the same cluster here as in the swatches and the image."""
        seq = self.sequence
        if seq.previous is None:
            return
        try:
            perm = palette_permutation(seq.previous, palette)
        except ValueError:
            return  # not this run's palette
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(len(perm))

        def reordered(phase: Phase) -> Phase:
            return Phase(phase.kind, phase.iteration, phase.palette[perm],
                         None if phase.labels is None else inverse[phase.labels],
                         phase.caption, None if phase.groups is None else inverse[phase.groups])

        seq.pending = type(seq.pending)(reordered(phase) for phase in seq.pending)
        seq.previous = palette
        if seq.current is not None:
            seq.current = reordered(seq.current)
            self.view.reorder(perm)
            self._show(seq.current)

    def _show(self, phase: Phase | None) -> None:
        if phase is None:
            return
        self.view.set_clusters(phase.palette, phase.labels)
        self.caption.setText(phase.caption)
        self._set_highlight_text(self._highlight)
        self.phase_shown.emit(phase.kind, phase.iteration)

    # ----------------------------------------------------------- stepping
    def step_mode(self) -> bool:
        return self.step_check.isChecked()

    def set_step_mode(self, on: bool) -> None:
        self.step_check.setChecked(on)

    @Slot(bool)
    def _on_step_toggled(self, on: bool) -> None:
        self.sequence.set_stepping(on)
        if not on:
            self._show(self.sequence.current)
        self._update_step_button()
        self.step_mode_changed.emit(on)

    @Slot()
    def step(self) -> None:
        """Show the next phase, or ask for the next iteration."""
        if not self.step_mode():
            return
        if self.sequence.advance():
            self._show(self.sequence.current)
        elif not self.sequence.finished:
            self.iteration_requested.emit()
        self._update_step_button()

    def _update_step_button(self) -> None:
        more = bool(self.sequence.pending) or (self.sequence.current is not None
                                               and not self.sequence.finished)
        self.step_button.setEnabled(self.step_mode() and more)

    # ------------------------------------------------------------ linking
    def set_highlight(self, index: int | None) -> None:
        if index is not None and index < 0:
            index = None
        self._highlight = index
        self.view.set_highlight(index)
        self._set_highlight_text(index)

    def cluster_figures(self, index: int) -> tuple[float, float] | None:
        """Share of pixels and mean error of cluster ``index`` as shown now."""
        phase = self.sequence.current
        if phase is None or phase.groups is None or self._hist is None:
            return None
        if not 0 <= index < len(phase.palette):
            return None
        # The histogram converts its colours once per space (working_colours).
        return cluster_figures(self._hist, phase.groups, phase.palette, self.view.space(),
                               index)

    def _set_highlight_text(self, index: int | None) -> None:
        phase = self.sequence.current
        if index is None or phase is None or index >= len(phase.palette):
            self.cluster_label.setText("Hover a centroid or a swatch, or click the image")
            return
        # Named as its swatch's tip names it: by colour (an index would be
        # the palette's, not the swatch's place in the strip).
        name = colour_name(phase.palette[index])
        figures = self.cluster_figures(index)
        if figures is None:
            self.cluster_label.setText(name)
            return
        share, error = figures
        unit = f"{error / 100:.4f} OKLab" if self.view.space() == "oklab" else f"{error:.1f} sRGB"
        # The cluster's share: pixels nearest to it, before any dithering
        # (the swatch's tip gives its share of the result's pixels).
        self.cluster_label.setText(f"{name} · the nearest colour of {share * 100:.1f} % of "
                                   f"pixels · mean error {unit}")
