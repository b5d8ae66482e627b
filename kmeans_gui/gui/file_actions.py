"""What the window does with files: Open (dialog, sample, Open Recent, a
dropped file), Save As (the path asked once, the input image refused) and
the question about an unsaved result before opening another image or
closing. The Session does the loading and saving in its worker; this module
asks the questions and reports the outcome.

``window`` is the main window: the dialogs' parent, the place its public
signals are emitted and the owner of the status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu

from kmeans_gui.appinfo import SAMPLE_IMAGE, asset
from kmeans_gui.core import output_name, same_file

from ..units import human_size
from . import dialogs


class FileActions(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.settings = window.settings
        self.status = window.status
        self.remember_load = True  # whether the image being opened goes to Open Recent
        self.edited = False  # the user changed a setting or reran since the image opened
        s = self.session
        s.loading.connect(self._on_loading)
        s.load_failed.connect(self._on_load_failed)
        s.saving.connect(self._on_saving)
        s.saved.connect(self._on_saved)
        s.save_failed.connect(self._on_save_failed)

    # ============================================================== opening
    @Slot()
    def open_dialog(self) -> None:
        path = dialogs.ask_open_image(self.window, self.settings.last_folder())
        if path:
            self.open_path(path)

    @Slot()
    def open_sample(self) -> None:
        self.open_path(asset(SAMPLE_IMAGE), remember=False)

    def open_path(self, path: str | Path, remember: bool = True) -> None:
        """Open ``path`` in a worker; the current image stays until it has loaded.
        An unsaved result is asked about first, as on closing."""
        if not self.may_discard_result("opening another image"):
            return
        self.window.stop_pending_run()
        self.remember_load = remember
        self.session.open(path, self.window.canvas.preview_box())

    def image_opened(self, path: Path) -> None:
        """The Session has a new image from ``path``."""
        self.edited = False
        if self.remember_load:
            self.settings.add_recent(path)
            self.settings.set_last_folder(path.parent)

    @Slot(object)
    def _on_loading(self, path: Path) -> None:
        self.window.canvas.set_status_text(f"Opening {path.name}…")
        self.status.say(f"Opening {path.name}…")
        self.status.busy()

    @Slot(object, str)
    def _on_load_failed(self, path: Path, message: str) -> None:
        self.window.canvas.set_status_text("")
        self.status.idle(self.session.result is not None)
        self.status.say(f"Could not open {path.name}")
        if not path.exists():
            self.settings.remove_recent(path)
        self.window.open_failed.emit(message)
        dialogs.show_error(self.window, "Cannot open image", f"Could not open “{path.name}”.",
                           f"{message}\n\nFile: {path}")
        s = self.session
        if s.image is not None and s.result is None and not s.is_running():
            self.window.start_run()  # the failed open interrupted the current image's run

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = self.settings.recent_files()
        for number, path in enumerate(files, start=1):
            label = f"&{number} {Path(path).name}" if number < 10 else Path(path).name
            action = menu.addAction(label)
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)
        if not files:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("&Clear Menu")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self.settings.clear_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_path(action.data())

    # ======================================================= drag and drop
    def drag_enter(self, event) -> None:
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def drag_move(self, event) -> None:
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()

    def drop(self, event) -> None:
        path = self._dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    @staticmethod
    def _dropped_file(event) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if isinstance(url, QUrl) and url.isLocalFile():
                return url.toLocalFile()
        return None

    # ============================================================== saving
    @Slot()
    def save_as(self) -> None:
        if self.session.png is None or self.session.is_saving():
            return
        path = self.ask_save_path()
        if path:
            self.session.save(path)

    def ask_save_path(self) -> str | None:
        """Where to save, asked once; None if cancelled or refused. The input
        image is refused here with a clear message (never offered to replace);
        another existing file is replaced only if the user agrees."""
        path = dialogs.ask_save_png(self.window, str(self.proposed_save_path()))
        if not path:
            return None
        source = self.session.image.path if self.session.image else None
        if source is not None and same_file(path, source):
            message = (f"“{Path(path).name}” is the input image; choose another name "
                       "(the original is never replaced).")
            self.window.save_failed.emit(message)
            dialogs.show_error(self.window, "Cannot save here", "The image you opened cannot "
                               "be replaced by its result.", message)
            return None
        if Path(path).exists() and not dialogs.ask_replace(self.window, Path(path).name):
            return None
        return path

    def source_is_bundled(self) -> bool:
        path = self.session.image.path if self.session.image else None
        return path is None or path.parent == asset(SAMPLE_IMAGE).parent

    def proposed_save_path(self) -> Path:
        """NAME-kK.png beside the input; for the bundled sample (inside the
        installed package) in the last folder used instead."""
        s = self.session
        k = s.result.settings.k
        if self.source_is_bundled():
            return output_name(s.image.path, k, folder=self.settings.last_folder())
        return output_name(s.image.path, k)

    @Slot(object)
    def _on_saving(self, path: Path) -> None:
        self.status.say(f"Saving {path.name}…")
        self.status.busy()  # while the worker writes

    @Slot(str, int)
    def _on_saved(self, path: str, size: int) -> None:
        self.window.setWindowModified(self.session.is_dirty())
        self.status.idle(self.session.result is not None)
        self.status.say(f"Saved {Path(path).name} ({human_size(size)})")
        self.window.update_sizes()
        self.window.result_saved.emit(path, size)

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.status.say("Saving failed")
        self.status.idle(self.session.result is not None)
        self.window.save_failed.emit(message)
        dialogs.show_error(self.window, "Cannot save", "The PNG was not saved.", message)

    # ======================================================= unsaved result
    def has_unsaved_result(self) -> bool:
        """A result worth asking about: not saved, and made by the user (an
        image they opened, or settings they changed); the sample's automatic
        first result is not."""
        return self.session.is_dirty() and (self.edited or not self.source_is_bundled())

    def may_discard_result(self, doing: str) -> bool:
        """Ask about an unsaved result before ``doing``; False to cancel."""
        if not self.has_unsaved_result() or self.session.is_saving():
            return True
        s = self.session
        answer = dialogs.ask_save_changes(self.window, s.image.path.name if s.image.path
                                          else "the image", doing)
        return answer == "discard" or (answer == "save" and self._save_before_close())

    def _save_before_close(self) -> bool:
        """Save through the same worker as File → Save, waiting for it; False
        if cancelled or failed (the failure was shown)."""
        path = self.ask_save_path()
        if not path:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self.window.setEnabled(False)  # no second close or edit while waiting
        try:
            return self.session.save_and_wait(path)
        finally:
            self.window.setEnabled(True)
            QGuiApplication.restoreOverrideCursor()
