"""The controls and the run commands become Session runs: an edit is
debounced and restarts the run, Run Again picks a new seed, Try Other Seeds
runs several, Undo/Redo go through the settings history (which also brings
back the palette control: pins, a given palette, the importance mask), Stop
stops.

``window`` is the main window: it holds the controls, the Session, the
QSettings store and the status bar."""

from __future__ import annotations

import random

from PySide6.QtCore import QObject, QTimer, Slot

from kmeans_gui.core import ImageError, QuantizeSettings

from . import dialogs
from .actions import SEED_TRIALS
from .history import Entry, SettingsHistory
from .kcurve import KMode

DEBOUNCE_MS = 250


class RunControl(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.controls = window.controls
        self.target_panel = window.target_panel
        self.history = SettingsHistory(self.session.palette_control, self.target_panel.state)
        self.debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self.start_run)
        self.controls.changed.connect(self._on_controls_changed)
        self.controls.k_spin.valueChanged.connect(lambda _k: window.curve.k_edited())
        # How k is chosen is part of a step: leaving a target for Fixed k, or a
        # target that keeps the k there is, runs nothing but can be undone.
        self._was_target = self.target_panel.mode() != "fixed"
        self.target_panel.changed.connect(self._on_k_mode_changed)
        window.curve.target_settled.connect(self._on_k_mode_settled)

    def _edited(self) -> None:
        self.window.files.edited = True

    @Slot()
    def _on_controls_changed(self) -> None:
        self._edited()
        if self.session.image is not None:
            self.window.status.say("Settings changed; restarting…")
        # The old run is out of date now: none of its previews may show while
        # the edit is debounced.
        self.session.cancel_run()
        self.debounce.start()
        self.window.curve.settings_changed()

    @Slot()
    def _on_k_mode_changed(self) -> None:
        mode = self.target_panel.mode()
        if mode == "fixed" and self._was_target:
            self._on_k_mode_settled()
        # A target's step is recorded when its search has settled.
        self._was_target = mode != "fixed"

    @Slot()
    def _on_k_mode_settled(self) -> None:
        # A k that changed has started the debounce by now (the controls'
        # signal comes first): its run records the step.
        current = self.history.current()
        if self.session.image is None or self.debounce.isActive() or current is None:
            return
        try:
            settings = self.controls.settings().validated()
        except ImageError:
            settings = current.settings
        self.history.push(settings, current.remap)
        self.window._update_actions()

    @Slot()
    def run_again(self) -> None:
        """Run with a new random seed (the same seed would give the same file)."""
        self._edited()
        seed = self.controls.seed_spin
        old = seed.value()
        new = old
        while new == old:
            new = random.randint(seed.minimum(), seed.maximum())
        blocked = seed.blockSignals(True)
        seed.setValue(new)
        seed.blockSignals(blocked)
        self.start_run()

    @Slot()
    def start_run(self) -> None:
        self.debounce.stop()
        settings = self.controls.settings()
        try:
            settings = settings.validated()
        except ImageError as exc:
            dialogs.show_error(self.window, "Invalid settings", str(exc))
            return
        self.window.settings.set_quantize_settings(settings)
        self.history.push(settings)
        self.session.run(settings)
        self.window._update_actions()

    @Slot()
    def try_seeds(self) -> None:
        """Run several new seeds and keep the one with the lowest inertia."""
        if self.session.image is None:
            return
        self._edited()
        self.debounce.stop()
        seeds = tuple(random.sample(range(1, 2**31 - 1), SEED_TRIALS))
        self.window.status.say(f"Trying {SEED_TRIALS} seeds…")
        self.session.run(self.controls.settings().validated(), seeds)

    def apply(self, settings: QuantizeSettings, remap=None) -> None:
        """Show ``settings`` in the controls and run them, or with ``remap``
        map the image to those colours without K-Means (history unchanged)."""
        self._edited()
        self.controls.set_settings(settings)
        self.session.cancel_run()
        self.debounce.stop()
        self.window.settings.set_quantize_settings(settings)
        if remap is None:
            self.session.run(settings)
        else:
            self.session.remap_to(remap, settings)
        self.window._update_actions()

    def apply_entry(self, entry: Entry) -> None:
        """Bring back a history entry: its pins, given palette and mask, how
        k was chosen, then its settings and run (or remap)."""
        self.window.palette_tools.restore_state(entry.palette)
        self.target_panel.restore(entry.k_mode)
        self._was_target = self.target_panel.mode() != "fixed"
        self.apply(entry.settings, entry.remap)
        self.window.curve.settings_restored()

    def k_mode_of(self, settings: QuantizeSettings) -> KMode | None:
        """How the k of ``settings`` was chosen: the k mode of the history's
        step that ran them (None, Fixed k, if that is not the current step)."""
        current = self.history.current()
        if current is not None and current.settings == settings:
            return current.k_mode
        return None

    def restore(self, entry: Entry) -> None:
        """Bring back a snapshot's entry as a new step in the history."""
        self.history.push_entry(entry)
        self.apply_entry(entry)

    @Slot()
    def undo(self) -> None:
        entry = self.history.undo()
        if entry is not None:
            self.apply_entry(entry)

    @Slot()
    def redo(self) -> None:
        entry = self.history.redo()
        if entry is not None:
            self.apply_entry(entry)

    @Slot()
    def stop(self) -> None:
        self.debounce.stop()
        self.session.stop()
