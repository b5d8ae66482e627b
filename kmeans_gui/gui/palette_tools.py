"""The window's palette tools: pin, edit and remove swatches, the eyedropper,
Import/Export Palette, and the importance brush (with its mask files).

:class:`PaletteTools` wires the palette view, the tool canvas and a small
tool bar under the palette to the Session's :class:`PaletteControl`. Its
actions (text, shortcuts, tips, enabled rules) and its menu are in the
window's action registry (``gui/actions.py``) like every other.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kmeans_gui.core import ImageError, load_mask, read_palette, save_mask, write_palette

from . import dialogs
from .palette_control import rgb
from .palette_view import colour_name

STROKE_RERUN_MS = 400  # after the last brush stroke, run again


class PaletteTools(QObject):
    """Made before the action registry (whose palette actions call its
    methods); ``bind`` then takes those actions and builds the tool bar."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.control = self.session.palette_control
        self.view = window.palette_view
        self.canvas = window.canvas
        self._rerun = QTimer(self, singleShot=True, interval=STROKE_RERUN_MS)
        self._rerun.timeout.connect(window.start_run)

    def bind(self) -> None:
        """Take the registry's palette actions (text, shortcut, tip and enabled
        rule are defined there) and wire the view, the canvas and the control."""
        w = self.window
        self.import_action, self.export_action = w.import_palette_action, w.export_action
        self.adapt_action, self.unpin_all_action = w.adapt_action, w.unpin_all_action
        self.eyedropper_action, self.brush_action = w.eyedropper_action, w.brush_action
        self.erase_action, self.overlay_action = w.erase_action, w.overlay_action
        self.clear_mask_action = w.clear_mask_action
        self.load_mask_action, self.save_mask_action = w.load_mask_action, w.save_mask_action
        # The tool bar's check box sets the action: its toggles count too.
        self.overlay_action.toggled.connect(self.set_overlay)
        self.widget = self._build_widget()

        self.view.pin_toggled.connect(self.toggle_pin)
        self.view.edit_requested.connect(self.edit_swatch)
        self.view.remove_requested.connect(self.remove_swatch)
        self.canvas.color_picked.connect(self.pick_color)
        self.canvas.stroke_moved.connect(self._paint_live)
        self.canvas.stroke_painted.connect(self._stroke_done)
        self.control.changed.connect(self._on_control_changed)
        self.control.mask_changed.connect(self._on_mask_changed)
        self.session.state_changed.connect(self.update_state)
        self.session.result_changed.connect(lambda _f: self.update_state())
        self.update_state()

    # ============================================================ building
    def _build_widget(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for action, short in ((self.eyedropper_action, "Pick"), (self.brush_action, "Brush"),
                              (self.erase_action, "Erase")):
            action.setIconText(short)  # the buttons are narrow; menus show the full text
            button = QToolButton()
            button.setDefaultAction(action)
            row.addWidget(button)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 500)
        self.size_spin.setValue(int(self.canvas.brush_radius))
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush radius in image pixels ([ and ] change it)")
        self.size_spin.valueChanged.connect(self._set_radius)
        row.addWidget(QLabel("Size"))
        row.addWidget(self.size_spin)
        row.addStretch(1)
        layout.addLayout(row)
        row2 = QHBoxLayout()
        self.overlay_check = QCheckBox("Overlay")
        self.overlay_check.setChecked(True)
        self.overlay_check.toggled.connect(self.overlay_action.setChecked)
        row2.addWidget(self.overlay_check)
        self.clear_mask_action.setIconText("Clear")
        clear = QToolButton()
        clear.setDefaultAction(self.clear_mask_action)
        row2.addWidget(clear)
        row2.addStretch(1)
        self.pins_label = QLabel()
        row2.addWidget(self.pins_label)
        layout.addLayout(row2)
        return box

    # ============================================================== state
    @Slot()
    def update_state(self) -> None:
        """The swatches' editability, the pins line and the actions' enabled rules."""
        s = self.session
        self.view.set_editable(s.result is not None and not s.is_running())
        pins = len(self.control.pinned)
        given = self.control.fixed_palette
        # Mapped to a given palette, k is its size: no k to set, nothing for a target to choose.
        self.window.controls.set_given_palette(None if given is None else len(given))
        self.window.target_panel.setEnabled(given is None)
        if self.control.fixed_palette is not None:
            text = f"mapped to {len(self.control.fixed_palette)} given colours"
        else:
            text = f"{pins} pinned" if pins else ""
        self.pins_label.setText(text)
        self.window._update_actions()

    @Slot()
    def _on_control_changed(self) -> None:
        self.view.set_pinned(self.control.pinned)
        self.update_state()

    @Slot()
    def _on_mask_changed(self) -> None:
        box = self.control.changed_box
        if box is not None and self.control.mask is not None:
            self.canvas.update_mask(self.control.mask, box)
        else:
            self.canvas.set_mask(self.control.mask)
        self.update_state()

    def _palette(self) -> np.ndarray | None:
        r = self.session.result
        return None if r is None else r.result.palette

    def _colours(self) -> np.ndarray:
        """The current result's colours (no transparent entry), as (n, 3)."""
        palette = self._palette()
        if palette is None:
            return np.zeros((0, 3), np.uint8)
        if palette.shape[1] == 4:
            palette = palette[palette[:, 3] > 0]
        return palette[:, :3]

    def _settings(self):
        return self.window.controls.settings()

    # ================================================================ undo
    def _record(self, remap=None) -> None:
        """A history entry for a change that runs no K-Means (a pin, an edited
        or removed swatch, a brush stroke): Undo brings back what was before."""
        self.window.history.push(self._settings(), remap)
        self.window._update_actions()

    def restore_state(self, state) -> None:
        """The palette control as a history entry or snapshot had it; a rerun
        still pending after a stroke is dropped (the entry's run replaces it)."""
        self._rerun.stop()
        self.control.restore_state(state)

    # ============================================================ swatches
    @Slot(int)
    def toggle_pin(self, index: int) -> None:
        palette = self._palette()
        if palette is None or not 0 <= index < len(palette):
            return
        pinned = self.control.toggle_pin(palette[index])
        self._record()
        hexed = colour_name(palette[index][:3])
        self.window.status_label.setText(f"Pinned {hexed}: it stays in every palette" if pinned
                                         else f"Unpinned {hexed}")

    @Slot(int)
    def edit_swatch(self, index: int) -> None:
        palette = self._palette()
        if palette is None or not 0 <= index < len(palette) or palette.shape[1] == 4 and \
                palette[index, 3] == 0:
            return
        old = rgb(palette[index])
        new = dialogs.ask_color(self.window, old)
        if new is None or new == old:
            return
        self.set_swatch(index, new)

    def set_swatch(self, index: int, color) -> None:
        """Swatch ``index`` becomes ``color`` (pinned); the image is remapped, no K-Means."""
        palette = self._palette()
        old = rgb(palette[index])
        colours = [rgb(c) for c in palette if not (len(c) == 4 and c[3] == 0)]
        keep_index = [i for i, c in enumerate(palette) if not (len(c) == 4 and c[3] == 0)]
        colours[keep_index.index(index)] = rgb(color)
        self.control.replace_pin(old, color)
        self.session.remap_to(colours, self._settings())
        self._record(colours)

    @Slot(int)
    def remove_swatch(self, index: int) -> None:
        palette = self._palette()
        if palette is None or not 0 <= index < len(palette):
            return
        colours = [rgb(c) for i, c in enumerate(palette)
                   if i != index and not (len(c) == 4 and c[3] == 0)]
        if not colours:
            return
        self.control.unpin(palette[index])
        self.session.remap_to(colours, self._settings())
        self._record(colours)

    @Slot()
    def unpin_all(self) -> None:
        self.control.set_pinned([])
        self._record()

    # =========================================================== eyedropper
    @Slot()
    def toggle_eyedropper(self) -> None:
        on = self.eyedropper_action.isChecked()
        if on:
            self.brush_action.setChecked(False)
        self.canvas.set_tool("eyedropper" if on else "pan")

    @Slot(int, int)
    def pick_color(self, x: int, y: int) -> None:
        image = self.session.image
        if image is None:
            return
        pixel = image.pixels[y, x]
        if len(pixel) == 4 and pixel[3] == 0:
            self.window.status_label.setText("That pixel is transparent")
            return
        color = rgb(pixel)
        self.control.pin(color)
        self.window.status_label.setText("Pinned #{:02X}{:02X}{:02X} from the original"
                                         .format(*color))
        self.window.start_run()

    # ============================================================== import
    @Slot()
    def import_palette(self) -> None:
        if self.session.image is None:
            return
        path = dialogs.ask_open_palette(self.window, self.window.settings.last_folder())
        if not path:
            return
        try:
            colours = read_palette(path)
        except ImageError as exc:
            dialogs.show_error(self.window, "Cannot import palette",
                               "The palette file could not be read.", str(exc))
            return
        mode = dialogs.ask_import_mode(self.window, Path(path).name, len(colours))
        if mode == "map":
            self.control.set_fixed_palette(colours)
        elif mode == "keep":
            self.control.set_fixed_palette(None)
            self.control.pin_from_file(colours)
            controls = self.window.controls
            settings = controls.settings()
            if settings.k < len(self.control.pinned):
                controls.set_settings(replace(settings, k=min(256, len(self.control.pinned))),
                                      controls.dither_strength())
        else:
            return
        self.window.start_run()

    @Slot()
    def adapt_again(self) -> None:
        self.control.set_fixed_palette(None)
        self.window.start_run()

    @Slot()
    def export_palette(self) -> None:
        s = self.session
        if s.result is None:
            return
        proposed = self.window.proposed_save_path().with_suffix(".gpl")
        path = dialogs.ask_save_palette(self.window, str(proposed))
        if not path:
            return
        try:
            write_palette(path, self._colours())
        except (ImageError, OSError) as exc:
            dialogs.show_error(self.window, "Cannot export palette",
                               "The palette was not saved.", str(exc))
            return
        self.window.status_label.setText(f"Exported palette to {Path(path).name}")

    # =============================================================== brush
    @Slot()
    def toggle_brush(self) -> None:
        on = self.brush_action.isChecked()
        if on:
            self.eyedropper_action.setChecked(False)
            image = self.session.image
            if image is not None:
                self.control.ensure_mask(image.height, image.width)
                self.canvas.set_mask(self.control.mask)
        self.canvas.set_tool("brush" if on else "pan")
        self.update_state()

    @Slot()
    def set_erase(self) -> None:
        self.canvas.erase = self.erase_action.isChecked()

    @Slot()
    def set_overlay(self) -> None:
        on = self.overlay_action.isChecked()
        if hasattr(self, "overlay_check"):
            self.overlay_check.setChecked(on)
        self.canvas.show_overlay = on
        self.canvas.update()

    def _set_radius(self, value: int) -> None:
        self.canvas.brush_radius = float(value)
        self.canvas.update()

    def grow_brush(self, factor: float) -> None:
        self.size_spin.setValue(max(1, round(self.size_spin.value() * factor)))

    @Slot()
    def _paint_live(self) -> None:
        stroke = self.canvas.current_stroke()
        image = self.session.image
        if not stroke or image is None:
            return
        self.control.ensure_mask(image.height, image.width)
        self._rerun.stop()
        self.control.stroke(stroke[-2:], self.canvas.brush_radius, self.canvas.erase)

    @Slot(object, bool)
    def _stroke_done(self, stroke, erase: bool) -> None:
        self._record()  # each stroke its own step (the run after it adds none)
        self._rerun.start()

    @Slot()
    def clear_mask(self) -> None:
        self.control.clear_mask()
        if self.brush_action.isChecked():
            image = self.session.image
            self.control.ensure_mask(image.height, image.width)
            self.canvas.set_mask(self.control.mask)
        self.window.start_run()

    @Slot()
    def load_mask(self) -> None:
        image = self.session.image
        if image is None:
            return
        path = dialogs.ask_open_mask(self.window, self.window.settings.last_folder())
        if not path:
            return
        try:
            mask = load_mask(path, (image.width, image.height))
        except ImageError as exc:
            dialogs.show_error(self.window, "Cannot load mask", "The mask could not be read.",
                               str(exc))
            return
        self.control.set_mask(mask)
        self.window.start_run()

    @Slot()
    def save_mask(self) -> None:
        if not self.control.has_mask():
            return
        proposed = self.window.proposed_save_path()
        proposed = proposed.with_name(proposed.stem + "-importance.png")
        path = dialogs.ask_save_mask(self.window, str(proposed))
        if not path:
            return
        try:
            save_mask(path, self.control.mask)
        except (ImageError, OSError) as exc:
            dialogs.show_error(self.window, "Cannot save mask", "The mask was not saved.",
                               str(exc))
            return
        self.window.status_label.setText(f"Saved the importance mask to {Path(path).name}")

