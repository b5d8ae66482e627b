"""Every modal dialog the window opens, as plain functions.

Tests replace these functions (monkeypatch) so no modal dialog ever blocks a
test run; the window calls them through this module, never directly.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog, QMessageBox, QWidget

from kmeans_gui.core import READABLE_PATTERNS


def image_filter() -> str:
    patterns = " ".join(READABLE_PATTERNS)
    return f"Images ({patterns});;All files (*)"


def ask_open_image(parent: QWidget | None, folder: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Image", folder, image_filter())
    return path or None


def _ask_save(parent: QWidget | None, title: str, proposed: str, name_filter: str,
              suffix: str, confirm_overwrite: bool = True) -> str | None:
    options = QFileDialog.Option(0)
    if not confirm_overwrite:
        options |= QFileDialog.Option.DontConfirmOverwrite
    path, _ = QFileDialog.getSaveFileName(parent, title, proposed, name_filter, "", options)
    if path and not path.lower().endswith(suffix):
        path += suffix
    return path or None


def ask_save_png(parent: QWidget | None, proposed: str) -> str | None:
    # The window checks the answer itself: it refuses the input image with a
    # message (the dialog would first offer to replace it), then asks
    # ``ask_replace`` for any other existing file.
    return _ask_save(parent, "Save Indexed PNG", proposed, "PNG images (*.png)", ".png",
                     confirm_overwrite=False)


def ask_replace(parent: QWidget | None, name: str) -> bool:
    answer = QMessageBox.question(
        parent, "Replace file?", f"“{name}” already exists. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_save_palette(parent: QWidget | None, proposed: str) -> str | None:
    return _ask_save(parent, "Export Palette", proposed, "GIMP palettes (*.gpl)", ".gpl")


def show_error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if detail:
        box.setInformativeText(detail)
    box.exec()


def ask_save_changes(parent: QWidget | None, name: str, doing: str = "closing") -> str:
    """"save", "discard" or "cancel" for an unsaved result of ``name``, before
    ``doing`` ("closing", "opening another image")."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved result",
                      f"The quantized version of “{name}” has not been saved.",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(f"Save it before {doing}?")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def show_about(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.about(parent, title, text)


def ask_colour(parent: QWidget | None, current: str) -> str | None:
    """A colour as "#rrggbb", or None if cancelled."""
    colour = QColorDialog.getColor(QColor(current), parent, "Background Colour")
    return colour.name() if colour.isValid() else None
