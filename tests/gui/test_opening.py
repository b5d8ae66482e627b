"""Opening images: dialog, drag-and-drop, recent files, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from kmeans_gui.appinfo import SAMPLE_IMAGE, asset

from .conftest import open_and_wait


def test_open_through_the_dialog(qtbot, window, scripted_dialogs, gradient_png):
    scripted_dialogs.open_paths.append(str(gradient_png))
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_action.trigger()
    assert window.session.image.path == gradient_png
    assert window.session.image.pixels.shape == (120, 160, 3)
    assert window.windowTitle().startswith("gradient.png")
    assert window.settings.recent_files() == [str(gradient_png.resolve())]
    assert window.settings.last_folder() == str(gradient_png.parent)
    assert not scripted_dialogs.errors


def test_cancelled_dialog_changes_nothing(qtbot, window):
    window.open_action.trigger()  # scripted dialog answers None, as Cancel does
    assert window.session.image is None
    assert not window.session.is_busy()


def _drop(window, urls):
    mime = QMimeData()
    mime.setUrls(urls)
    pos = window.rect().center().toPointF()
    # QDragEnterEvent takes a QPoint (QPointF only from PySide6 6.12), QDropEvent a QPointF.
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return enter, drop


def test_drag_and_drop_opens_the_file(qtbot, window, gradient_png):
    with qtbot.waitSignal(window.image_opened, timeout=20000) as blocker:
        enter, drop = _drop(window, [QUrl.fromLocalFile(str(gradient_png))])
    assert enter.isAccepted()
    assert blocker.args == [str(gradient_png)]
    qtbot.waitUntil(lambda: window.session.result is not None, timeout=20000)


def test_drag_of_non_file_is_refused(qtbot, window):
    enter, _ = _drop(window, [QUrl("https://example.org/cat.png")])
    assert not enter.isAccepted()
    assert window.session.image is None


def test_sample_opens_without_a_file(qtbot, window):
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_sample()
    assert window.session.image.path == asset(SAMPLE_IMAGE)
    assert window.session.image.width == 451
    assert window.settings.recent_files() == []  # the sample is not a recent file


def test_corrupt_file_shows_error_and_keeps_current_image(qtbot, window, scripted_dialogs,
                                                           gradient_png, tmp_path):
    open_and_wait(qtbot, window, gradient_png)
    before_image, before_result = window.session.image, window.session.result
    title = window.windowTitle()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_path(bad)
    assert len(scripted_dialogs.errors) == 1
    heading, text, detail = scripted_dialogs.errors[0]
    assert "broken.png" in text and str(bad) in detail
    assert window.session.image is before_image
    assert window.windowTitle() == title
    # the result is still there (or re-made for the same image) and nothing is left running
    qtbot.waitUntil(lambda: window.session.result is not None and not window.session.is_busy(),
                    timeout=20000)
    assert window.session.result.result.palette.shape == before_result.result.palette.shape


def test_missing_recent_file_is_reported_and_forgotten(qtbot, window, scripted_dialogs,
                                                      gradient_png):
    window.settings.add_recent(gradient_png)
    gone = gradient_png.with_name("gone.png")
    window.settings.add_recent(gone)
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_path(gone)
    assert "gone.png" in scripted_dialogs.errors[0][1]
    assert window.settings.recent_files() == [str(gradient_png.resolve())]


def test_recent_menu_lists_and_opens_files(qtbot, window, gradient_png):
    window.settings.add_recent(gradient_png)
    window._fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if a.data()]
    assert [Path(a.data()) for a in actions] == [gradient_png.resolve()]
    with qtbot.waitSignal(window.image_opened, timeout=20000):
        actions[0].trigger()
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=20000)


def test_command_line_file_is_opened(qtbot, gradient_png, monkeypatch):
    """main() opens the FILE argument (the event loop is replaced by a wait for the run)."""
    from kmeans_gui import app as app_module
    from kmeans_gui.gui import main_window

    created = []
    real = main_window.MainWindow

    class Recording(real):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            created.append(self)

    monkeypatch.setattr(main_window, "MainWindow", Recording)
    monkeypatch.setattr(type(QApplication.instance()), "exec", lambda self: 0)
    assert app_module.main([str(gradient_png)]) == 0
    window = created[0]
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.session.result is not None, timeout=20000)
    assert window.session.image.path == gradient_png
    window.close()
    assert not window.session.is_busy()
    assert np.array_equal(window.session.image.pixels[0, 0], [0, 0, 0])
