"""Every modal dialog the window opens, as plain functions.

Tests replace these functions (monkeypatch) so no modal dialog ever blocks a
test run; the window calls them through this module, never directly.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from kmeans_gui.core import READABLE_PATTERNS


def image_filter() -> str:
    patterns = " ".join(READABLE_PATTERNS)
    return f"Images ({patterns});;All files (*)"


def ask_open_image(parent: QWidget | None, folder: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Image", folder, image_filter())
    return path or None


def _ask_save(parent: QWidget | None, title: str, proposed: str, name_filter: str,
              suffix: str) -> str | None:
    # The dialog itself asks before replacing an existing file.
    path, _ = QFileDialog.getSaveFileName(parent, title, proposed, name_filter)
    if path and not path.lower().endswith(suffix):
        path += suffix
    return path or None


def ask_save_png(parent: QWidget | None, proposed: str) -> str | None:
    return _ask_save(parent, "Save Indexed PNG", proposed, "PNG images (*.png)", ".png")


def ask_save_palette(parent: QWidget | None, proposed: str) -> str | None:
    return _ask_save(parent, "Export Palette", proposed, "GIMP palettes (*.gpl)", ".gpl")


def show_error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if detail:
        box.setInformativeText(detail)
    box.exec()


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """"save", "discard" or "cancel" for an unsaved result of ``name``."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved result",
                      f"The quantized version of “{name}” has not been saved.",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("Save it before closing?")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def show_about(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.about(parent, title, text)
