"""The window's layout and view options, restored at start and remembered:
its geometry (kept inside the screen), the docks and toolbar, the splitter
between the image and the side panel, whether the side panel shows, the
background behind transparent pixels and the view mode.

``window`` is the main window; its settings are the QSettings store."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Slot
from PySide6.QtGui import QColor, QGuiApplication

from . import dialogs

#: The colour-space dock starts shown on screens at least this wide; on
#: smaller ones it would crush the image (View → Colour Space shows it).
CLOUD_SCREEN_WIDTH = 1200
#: The window's first size; never larger than the screen's free area.
DEFAULT_SIZE = QSize(1200, 720)
DEFAULT_SIDE_WIDTH = 340


class WindowLayout(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self._background_colour = "#808080"  # until restored

    def restore(self) -> None:
        w = self.window
        geometry = self.settings.window_geometry()
        if geometry is None or not w.restoreGeometry(geometry):
            w.resize(DEFAULT_SIZE)
        self.clamp_to_screen()
        state = self.settings.window_state()
        if state is None or not w.restoreState(state):
            screen = w.screen().availableGeometry() if w.screen() else None
            w.cloud_dock.setVisible(screen is not None
                                    and screen.width() >= CLOUD_SCREEN_WIDTH)
        splitter = self.settings.splitter_state()
        if splitter is not None:
            w.splitter.restoreState(splitter)
        if w.splitter.sizes()[1] <= 0:  # stored by an older version with the panel collapsed
            w.splitter.setSizes([max(1, w.width() - DEFAULT_SIDE_WIDTH), DEFAULT_SIDE_WIDTH])
        self.set_controls_visible(self.settings.controls_visible())
        kind, colour = self.settings.background()
        self._background_colour = colour
        self.set_background(kind if kind != "custom" else "custom", ask=False)
        mode = self.settings.view_mode()
        w.canvas.set_mode(mode)
        w.mode_actions[w.canvas.mode()].setChecked(True)

    def save(self) -> None:
        w = self.window
        self.settings.set_window_layout(w.saveGeometry(), w.saveState(), w.splitter.saveState())

    def clamp_to_screen(self) -> None:
        """Shrink and move the window into its screen's free area (a geometry
        stored at another scale or on a larger screen may not fit)."""
        w = self.window
        screen = w.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = w.frameGeometry()
        extra_w = max(0, frame.width() - w.width())
        extra_h = max(0, frame.height() - w.height())
        width = min(w.width(), free.width() - extra_w)
        height = min(w.height(), free.height() - extra_h)
        if (width, height) != (w.width(), w.height()):
            w.resize(max(1, width), max(1, height))
        frame = w.frameGeometry()
        x = min(max(frame.x(), free.left()), free.right() - frame.width() + 1)
        y = min(max(frame.y(), free.top()), free.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            w.move(max(free.left(), x), max(free.top(), y))

    def set_background(self, kind: str, ask: bool = True) -> None:
        """Show transparent pixels over ``kind``; "custom" asks for a colour
        (unless ``ask`` is False: the stored one)."""
        w = self.window
        if kind == "custom" and ask:
            colour = dialogs.ask_colour(w, self._background_colour)
            if colour is None:
                w.background_actions[w.canvas.background()].setChecked(True)
                return
            self._background_colour = colour
        w.canvas.set_background(kind, QColor(self._background_colour))
        w.background_actions[w.canvas.background()].setChecked(True)
        self.settings.set_background(w.canvas.background(), self._background_colour)

    @Slot(bool)
    def set_controls_visible(self, visible: bool = True) -> None:
        w = self.window
        w.side_scroll.setVisible(visible)
        if visible and w.splitter.sizes()[1] <= 0:
            w.splitter.setSizes([max(1, w.splitter.width() - DEFAULT_SIDE_WIDTH),
                                 DEFAULT_SIDE_WIDTH])
        w.show_controls_action.setChecked(visible)
        self.settings.set_controls_visible(visible)
