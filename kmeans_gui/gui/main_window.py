"""The main window: renders the Session (the document) in the comparison view,
the live palette, the convergence chart and the side panel, and turns the
controls and menus into Session calls. It keeps no document state itself."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QMainWindow,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kmeans_gui.appinfo import APP_NAME, SAMPLE_IMAGE, VERSION, asset
from kmeans_gui.core import (
    RACE_MAX_K,
    ImageError,
    QuantizeSettings,
    bit_depth,
    output_name,
    same_file,
)

from . import dialogs
from .chart import ConvergenceChart
from .cloud_panel import ColourSpacePanel
from .controls import ControlsPanel
from .history import SettingsHistory
from .imaging import fit_size, human_size, needs_new_preview
from .jobs import Finished, Opened, Progress, Rescaled
from .kcurve import CostChart, CurvePresenter, TargetPanel
from .palette_tools import PaletteTools
from .palette_view import PaletteView
from .session import Session
from .settings import Settings
from .snapshots import Snapshot, SnapshotStrip
from .tool_canvas import ToolCanvas

DEBOUNCE_MS = 250
#: The colour-space dock starts shown on screens at least this wide; on
#: smaller ones it would crush the image (View → Colour Space shows it).
CLOUD_SCREEN_WIDTH = 1200
REASONS = {"unchanged": "no pixel changed cluster", "tolerance": "inertia settled",
           "max_iter": "iteration cap reached", "few colours": "the image has few colours",
           "stopped": "stopped by you"}
#: "Try Other Seeds" runs K-Means with this many seeds and keeps the best.
SEED_TRIALS = 4
#: The window's first size; never larger than the screen's free area.
DEFAULT_SIZE = QSize(1200, 720)
DEFAULT_SIDE_WIDTH = 340
QUALITY_TIP = ("Mean colour error: the average OKLab distance between each pixel and its "
               "palette colour, ×100. Below 1 is hard to see; above 5 is visible at a glance.")


def colours(n: int) -> str:
    return f"{n} colour" if n == 1 else f"{n} colours"


def _icon(theme: str, fallback: QStyle.StandardPixmap) -> QIcon:
    style = QApplication.style()
    return QIcon.fromTheme(theme, style.standardIcon(fallback))


class MainWindow(QMainWindow):
    # Public notifications (tests, the self-test and the benchmark listen to these).
    image_opened = Signal(str)
    open_failed = Signal(str)
    preview_shown = Signal(int)  # iteration
    run_finished = Signal(object)  # jobs.Finished
    run_stopped = Signal()
    result_saved = Signal(str, int)
    save_failed = Signal(str)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.session = Session(self)
        self._remember_load = True  # whether the image being opened goes to Open Recent
        self._rescale_pending = False  # the view changed size during a run
        self.history = SettingsHistory()
        self._edited = False  # the user changed a setting or reran since the image opened
        self._hovered: int | None = None  # cluster under the pointer (swatch, centroid)
        self._selected: int | None = None  # cluster clicked (swatch, centroid, pixel)

        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        icon_path = asset("icons/io.github.kmeans_gui.KMeansGui.svg")
        if icon_path.is_file():
            self.setWindowIcon(QIcon(str(icon_path)))

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.start_run)

        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._restore()
        self._update_actions()

    # ================================================================ setup
    def _build_widgets(self) -> None:
        self.canvas = ToolCanvas()
        self.controls = ControlsPanel()
        self.palette_view = PaletteView()
        self.chart = ConvergenceChart()
        self.chart.setMinimumHeight(190)
        self.chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do there by keyboard
        self.chart.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cost_chart = CostChart()
        self.cost_chart.setMinimumHeight(220)
        self.target_panel = TargetPanel()
        self.curve = CurvePresenter(self.cost_chart, self.target_panel, self.controls.settings,
                                    self.controls.k_spin.setValue, self)

        self.info_image = QLabel("–")
        self.info_file = QLabel("–")
        self.info_png = QLabel("–")
        self.info_ratio = QLabel("–")
        for label in (self.info_image, self.info_file, self.info_png, self.info_ratio):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info = QFormLayout()
        info.addRow("Image:", self.info_image)
        info.addRow("Original file:", self.info_file)
        info.addRow("PNG:", self.info_png)
        info.addRow("Ratio:", self.info_ratio)

        def group(title: str, widget_or_layout) -> QGroupBox:
            box = QGroupBox(title)
            layout = QVBoxLayout(box)
            if isinstance(widget_or_layout, QWidget):
                layout.addWidget(widget_or_layout)
            else:
                layout.addLayout(widget_or_layout)
            return box

        side = QWidget()
        side_layout = QVBoxLayout(side)
        quantization = QVBoxLayout()
        quantization.setContentsMargins(0, 0, 0, 0)
        quantization.addWidget(self.controls)
        quantization.addWidget(self.target_panel)
        side_layout.addWidget(group("Quantization", quantization))
        self.palette_box = group("Palette", self.palette_view)
        side_layout.addWidget(self.palette_box)
        # The two charts share one place: convergence while a run goes, k vs cost after.
        self.charts = QTabWidget()
        self.charts.setDocumentMode(True)
        self.charts.addTab(self.chart, "Convergence")
        self.charts.addTab(self.cost_chart, "k vs cost")
        # Like the convergence chart: nothing to do there by keyboard.
        for widget in (self.charts, self.charts.tabBar(), self.cost_chart,
                       self.cost_chart.viewport()):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        side_layout.addWidget(self.charts)
        side_layout.addWidget(group("Sizes", info))
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.side_scroll = scroll

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.snapshot_strip = SnapshotStrip()
        self.snapshot_strip.hide()  # until the first snapshot is kept
        self.snapshot_strip.compare_changed.connect(self._on_compare_changed)
        self.snapshot_strip.restore_requested.connect(self._restore_snapshot)
        view = QWidget()
        view_layout = QVBoxLayout(view)
        view_layout.setContentsMargins(0, 0, 0, 0)
        view_layout.setSpacing(2)
        view_layout.addWidget(self.canvas, 1)
        view_layout.addWidget(self.snapshot_strip)
        self.splitter.addWidget(view)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)  # dragging to the edge never hides the controls
        self.splitter.setSizes([900, DEFAULT_SIDE_WIDTH])
        self.setCentralWidget(self.splitter)

        self.cloud = ColourSpacePanel()
        self.cloud_dock = QDockWidget("Colour Space", self)
        self.cloud_dock.setObjectName("colour-space-dock")
        self.cloud_dock.setWidget(self.cloud)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.cloud_dock)
        self.resizeDocks([self.cloud_dock], [400], Qt.Orientation.Horizontal)

        self.status_label = QLabel()
        self.zoom_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.summary = QLabel("–")
        self.summary.setToolTip(QUALITY_TIP)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.summary)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.progress)

        self.controls.changed.connect(self._on_controls_changed)
        self.session.state_changed.connect(self._on_session_state)
        self.controls.advanced_toggled.connect(self.settings.set_advanced_open)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)
        self.canvas.preview_box_changed.connect(self._on_preview_box_changed)
        self.canvas.mode_changed.connect(self._on_mode_changed)
        # One cluster linked across the swatches, the image and the cloud.
        self.palette_view.hovered.connect(self._on_cluster_hovered)
        self.palette_view.clicked.connect(self._on_cluster_clicked)
        self.cloud.cluster_hovered.connect(self._on_cluster_hovered)
        self.cloud.cluster_clicked.connect(self._on_cluster_clicked)
        self.canvas.cluster_clicked.connect(self._on_cluster_clicked)
        self.cloud.step_mode_changed.connect(self._on_step_mode_changed)
        self.cloud.iteration_requested.connect(self.session.step_gate.step)

        session = self.session
        session.loading.connect(self._on_loading)
        session.image_changed.connect(self._on_image_changed)
        session.load_failed.connect(self._on_load_failed)
        session.run_started.connect(self._on_run_started)
        session.progress.connect(self._on_progress)
        session.result_changed.connect(self._on_result_changed)
        session.run_stopped.connect(self._on_run_stopped)
        session.run_failed.connect(self._on_run_failed)
        session.rescaled.connect(self._on_rescaled)
        session.saving.connect(self._on_saving)
        session.saved.connect(self._on_saved)
        session.save_failed.connect(self._on_save_failed)
        session.state_changed.connect(self._update_actions)

    def _action(self, text: str, slot, shortcut=None, icon: QIcon | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if icon is not None:
            action.setIcon(icon)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        SK = QKeySequence.StandardKey
        SP = QStyle.StandardPixmap
        self.open_action = self._action("&Open…", self.open_dialog, SK.Open,
                                        _icon("document-open", SP.SP_DialogOpenButton),
                                        "Open an image")
        self.open_sample_action = self._action("Open &Sample Image", self.open_sample)
        self.save_action = self._action(
            "&Save As…", self.save_as,
            [QKeySequence(SK.Save), QKeySequence(SK.SaveAs)],
            _icon("document-save-as", SP.SP_DialogSaveButton),
            "Save the result as an indexed-palette PNG")
        self.export_action = self._action(
            "&Export Palette…", self.export_palette, QKeySequence("Ctrl+Shift+E"),
            tip="Save the palette (.gpl, .pal, .txt, .hex, .act or .png)")
        self.quit_action = self._action("&Quit", self.close, SK.Quit)
        self.run_action = self._action("&Run Again", self.run_again, QKeySequence(Qt.Key.Key_F5),
                                       _icon("view-refresh", SP.SP_BrowserReload),
                                       "Run K-Means again with a new random seed")
        self.stop_action = self._action("S&top", self.stop, QKeySequence(Qt.Key.Key_Escape),
                                        _icon("process-stop", SP.SP_BrowserStop),
                                        "Stop the running quantization")
        self.zoom_in_action = self._action("Zoom &In", self.canvas.zoom_in,
                                           [QKeySequence(SK.ZoomIn), QKeySequence("Ctrl+=")],
                                           QIcon.fromTheme("zoom-in"))
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.zoom_out, SK.ZoomOut,
                                            QIcon.fromTheme("zoom-out"))
        self.zoom_fit_action = self._action("&Fit to Window", self.canvas.zoom_fit,
                                            QKeySequence("Ctrl+0"),
                                            QIcon.fromTheme("zoom-fit-best"))
        self.zoom_actual_action = self._action("&Actual Pixels (100 %)", self.canvas.zoom_actual,
                                               QKeySequence("Ctrl+1"),
                                               QIcon.fromTheme("zoom-original"))
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        modes = (("split", "&Split View"), ("original", "&Original Only"),
                 ("result", "&Result Only"), ("difference", "&Difference (ΔE)"))
        for key, (mode, text) in enumerate(modes, start=1):
            action = self._action(text, lambda _=False, m=mode: self.canvas.set_mode(m),
                                  QKeySequence(f"Alt+{key}"))
            action.setCheckable(True)
            self.mode_group.addAction(action)
            self.mode_actions[mode] = action
        self.step_mode_action = self._action(
            "Step &Mode", self.cloud.set_step_mode, QKeySequence("Ctrl+T"),
            tip="Pause after every K-Means iteration and show its steps one at a time")
        self.step_mode_action.setCheckable(True)
        self.step_action = self._action(
            "&Next Step", self.cloud.step,
            [QKeySequence(Qt.Key.Key_Space), QKeySequence(Qt.Key.Key_Right)],
            tip="Step mode: show the next assignment or update step")
        self.step_action.setEnabled(False)
        self.about_action = self._action(f"&About {APP_NAME}", self.about)
        self.keep_action = self._action("&Keep Snapshot", self.keep_snapshot,
                                        QKeySequence("Ctrl+K"),
                                        tip="Keep the current result in the snapshot strip "
                                            "to compare it later")
        self.seeds_action = self._action("Try Other &Seeds", self.try_seeds,
                                         QKeySequence("Ctrl+F5"),
                                         tip=f"Run K-Means with {SEED_TRIALS} new seeds and "
                                             "keep the one with the lowest error")
        self.undo_action = self._action("&Undo Settings", self.undo_settings, SK.Undo,
                                        tip="Go back to the previous run's settings")
        self.redo_action = self._action("&Redo Settings", self.redo_settings,
                                        [QKeySequence("Ctrl+Shift+Z"), QKeySequence(SK.Redo)],
                                        tip="Go forward again in the settings history")
        self.show_controls_action = self._action("Show &Controls", self.set_controls_visible,
                                                 QKeySequence("F9"),
                                                 tip="Show or hide the side panel")
        self.background_group = QActionGroup(self)
        self.background_actions: dict[str, QAction] = {}
        for kind, text in (("checkerboard", "&Checkerboard"), ("white", "&White"),
                           ("black", "&Black"), ("custom", "C&ustom Colour…")):
            action = self._action(text, lambda _=False, k=kind: self.set_background(k),
                                  tip="What transparent pixels are shown over")
            action.setCheckable(True)
            self.background_group.addAction(action)
            self.background_actions[kind] = action
        tips = {"split": "Original and result side by side, with a draggable divider",
                "original": "Only the original", "result": "Only the result",
                "difference": "Where colour is lost: each pixel's OKLab ΔE as a heat map "
                              "(black none, red some, yellow to white a lot)"}
        for mode, action in self.mode_actions.items():
            action.setToolTip(tips[mode])
            action.setStatusTip(tips[mode])
        for action, tip in ((self.zoom_fit_action, "Fit the image to the view"),
                            (self.zoom_actual_action, "One image pixel per screen pixel"),
                            (self.zoom_in_action, "Zoom in"), (self.zoom_out_action, "Zoom out"),
                            (self.open_sample_action, "Open the bundled sample photo")):
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.show_controls_action.setCheckable(True)
        self.show_controls_action.setChecked(True)
        self.palette_tools = PaletteTools(self)
        self.palette_box.layout().addWidget(self.palette_tools.widget)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.open_sample_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.palette_tools.import_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        run_menu = self.menuBar().addMenu("&Quantize")
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.seeds_action)
        run_menu.addAction(self.stop_action)
        run_menu.addSeparator()
        run_menu.addAction(self.step_mode_action)
        run_menu.addAction(self.step_action)
        run_menu.addSeparator()
        run_menu.addAction(self.keep_action)
        view_menu = self.menuBar().addMenu("&View")
        for action in self.mode_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.show_controls_action)
        background_menu = view_menu.addMenu("&Background")
        for action in self.background_actions.values():
            background_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_fit_action,
                       self.zoom_actual_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.cloud_dock.toggleViewAction())
        self.menuBar().addMenu(self.palette_tools.menu())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.save_action)
        toolbar.addSeparator()
        toolbar.addAction(self.run_action)
        toolbar.addAction(self.stop_action)
        toolbar.addAction(self.keep_action)
        toolbar.addSeparator()
        for action in self.mode_actions.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.zoom_fit_action)
        toolbar.addAction(self.zoom_actual_action)

    def _restore(self) -> None:
        self.controls.set_settings(self.settings.quantize_settings())
        self.controls.set_advanced_open(self.settings.advanced_open())
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        self.clamp_to_screen()
        state = self.settings.window_state()
        if state is None or not self.restoreState(state):
            screen = self.screen().availableGeometry() if self.screen() else None
            self.cloud_dock.setVisible(screen is not None
                                       and screen.width() >= CLOUD_SCREEN_WIDTH)
        splitter = self.settings.splitter_state()
        if splitter is not None:
            self.splitter.restoreState(splitter)
        if self.splitter.sizes()[1] <= 0:  # stored by an older version with the panel collapsed
            self.splitter.setSizes([max(1, self.width() - DEFAULT_SIDE_WIDTH),
                                    DEFAULT_SIDE_WIDTH])
        self.set_controls_visible(self.settings.controls_visible())
        kind, colour = self.settings.background()
        self._background_colour = colour
        self.set_background(kind if kind != "custom" else "custom", ask=False)
        mode = self.settings.view_mode()
        self.canvas.set_mode(mode)
        self.mode_actions[self.canvas.mode()].setChecked(True)

    def clamp_to_screen(self) -> None:
        """Shrink and move the window into its screen's free area (a geometry
        stored at another scale or on a larger screen may not fit)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w = max(0, frame.width() - self.width())
        extra_h = max(0, frame.height() - self.height())
        width = min(self.width(), free.width() - extra_w)
        height = min(self.height(), free.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(1, width), max(1, height))
        frame = self.frameGeometry()
        x = min(max(frame.x(), free.left()), free.right() - frame.width() + 1)
        y = min(max(frame.y(), free.top()), free.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            self.move(max(free.left(), x), max(free.top(), y))

    def set_background(self, kind: str, ask: bool = True) -> None:
        """Show transparent pixels over ``kind``; "custom" asks for a colour
        (unless ``ask`` is False: the stored one)."""
        if kind == "custom" and ask:
            colour = dialogs.ask_colour(self, self._background_colour)
            if colour is None:
                self.background_actions[self.canvas.background()].setChecked(True)
                return
            self._background_colour = colour
        self.canvas.set_background(kind, QColor(self._background_colour))
        self.background_actions[self.canvas.background()].setChecked(True)
        self.settings.set_background(self.canvas.background(), self._background_colour)

    @Slot(bool)
    def set_controls_visible(self, visible: bool = True) -> None:
        self.side_scroll.setVisible(visible)
        if visible and self.splitter.sizes()[1] <= 0:
            self.splitter.setSizes([max(1, self.splitter.width() - DEFAULT_SIDE_WIDTH),
                                    DEFAULT_SIDE_WIDTH])
        self.show_controls_action.setChecked(visible)
        self.settings.set_controls_visible(visible)

    # ============================================================== opening
    @Slot()
    def open_dialog(self) -> None:
        path = dialogs.ask_open_image(self, self.settings.last_folder())
        if path:
            self.open_path(path)

    @Slot()
    def open_sample(self) -> None:
        self.open_path(asset(SAMPLE_IMAGE), remember=False)

    def open_path(self, path: str | Path, remember: bool = True) -> None:
        """Open ``path`` in a worker; the current image stays until it has loaded.
        An unsaved result is asked about first, as on closing."""
        if not self._may_discard_result("opening another image"):
            return
        self._debounce.stop()
        self._remember_load = remember
        self.session.open(path, self.canvas.preview_box())

    @Slot(object)
    def _on_loading(self, path: Path) -> None:
        self.canvas.set_status_text(f"Opening {path.name}…")
        self.status_label.setText(f"Opening {path.name}…")
        self.progress.setRange(0, 0)  # busy

    @Slot(object)
    def _on_image_changed(self, opened: Opened) -> None:
        image, path = opened.image, opened.path
        self.canvas.set_status_text("")
        self.canvas.set_original(image.pixels, opened.preview_pixels)
        self.palette_view.clear()
        self.chart.reset()
        self.snapshot_strip.clear_snapshots()
        self.snapshot_strip.hide()
        self.history.clear()
        self._edited = False
        self._hovered = self._selected = None
        self._apply_highlight()
        self.cloud.set_image(opened.histogram, opened.sample, self.controls.settings().space)
        self.setWindowTitle(f"{path.name}[*]")
        self.setWindowFilePath(str(path))
        self.setWindowModified(False)
        if self._remember_load:
            self.settings.add_recent(path)
            self.settings.set_last_folder(path.parent)
        self.info_image.setText(f"{image.width} × {image.height} px"
                                + (", with transparency" if image.has_alpha else ""))
        self.info_file.setText(f"{human_size(image.file_size)}"
                               + (f" ({image.source_format})" if image.source_format else ""))
        self._update_sizes()
        self.status_label.setText(f"Opened {path.name} in {opened.seconds:.2f} s")
        self.image_opened.emit(str(path))
        self.start_run()
        self.curve.image_opened(image, opened.histogram)

    @Slot(object, str)
    def _on_load_failed(self, path: Path, message: str) -> None:
        self.canvas.set_status_text("")
        self._reset_progress()
        self.status_label.setText(f"Could not open {path.name}")
        if not path.exists():
            self.settings.remove_recent(path)
        self.open_failed.emit(message)
        dialogs.show_error(self, "Cannot open image", f"Could not open “{path.name}”.",
                           f"{message}\n\nFile: {path}")
        s = self.session
        if s.image is not None and s.result is None and not s.is_running():
            self.start_run()  # the failed open interrupted the current image's run

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for number, path in enumerate(files, start=1):
            label = f"&{number} {Path(path).name}" if number < 10 else Path(path).name
            action = self.recent_menu.addAction(label)
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("&Clear Menu")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self.settings.clear_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_path(action.data())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
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

    # ============================================================ running
    @Slot()
    def _on_session_state(self) -> None:
        # The k vs cost curve steps back while the image loads or the live run goes.
        self.curve.live_running(self.session.is_loading() or self.session.is_running())

    @Slot()
    def _on_controls_changed(self) -> None:
        self._edited = True
        if self.session.image is not None:
            self.status_label.setText("Settings changed; restarting…")
        # The old run is out of date now: none of its previews may show while
        # the edit is debounced.
        self.session.cancel_run()
        self._debounce.start()
        self.curve.settings_changed()

    @Slot()
    def run_again(self) -> None:
        """Run with a new random seed (the same seed would give the same file)."""
        self._edited = True
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
        self._debounce.stop()
        settings = self.controls.settings()
        try:
            settings = settings.validated()
        except ImageError as exc:
            dialogs.show_error(self, "Invalid settings", str(exc))
            return
        self.settings.set_quantize_settings(settings)
        self.history.push(settings)
        self.session.run(settings)
        self._update_actions()

    @Slot()
    def try_seeds(self) -> None:
        """Run several new seeds and keep the one with the lowest inertia."""
        if self.session.image is None:
            return
        self._edited = True
        self._debounce.stop()
        seeds = tuple(random.sample(range(1, 2**31 - 1), SEED_TRIALS))
        self.status_label.setText(f"Trying {SEED_TRIALS} seeds…")
        self.session.run(self.controls.settings().validated(), seeds)

    def _apply_settings(self, settings: QuantizeSettings) -> None:
        """Show ``settings`` in the controls and run them (history unchanged)."""
        self._edited = True
        self.controls.set_settings(settings)
        self.session.cancel_run()
        self._debounce.stop()
        self.settings.set_quantize_settings(settings)
        self.session.run(settings)
        self._update_actions()

    @Slot()
    def undo_settings(self) -> None:
        settings = self.history.undo()
        if settings is not None:
            self._apply_settings(settings)

    @Slot()
    def redo_settings(self) -> None:
        settings = self.history.redo()
        if settings is not None:
            self._apply_settings(settings)

    # ============================================================ snapshots
    @Slot()
    def keep_snapshot(self) -> Snapshot | None:
        f = self.session.result
        if f is None:
            return None
        snap = self.snapshot_strip.keep(f)
        self.snapshot_strip.show()
        self.status_label.setText(f"Kept snapshot {snap.number}; click it to compare")
        return snap

    @staticmethod
    def _side(snap: Snapshot):
        f = snap.finished
        preview = f.preview_rgb if f.preview_rgb is not None else f.result.palette[f.preview]
        return (f"#{snap.number} k={f.settings.k}", preview, f.result.indices,
                f.result.palette)

    @Slot(list)
    def _on_compare_changed(self, selected: list) -> None:
        if not selected:
            self.canvas.set_comparison(None, None)
            return
        size = self.canvas.preview_size()
        usable = [s for s in selected if s.finished.preview_rgb is None
                  or (s.finished.preview_rgb.shape[1], s.finished.preview_rgb.shape[0]) == size]
        if not usable:
            return
        if len(usable) == 1:
            self.canvas.set_comparison(self._side(usable[0]), None)
        else:
            self.canvas.set_comparison(self._side(usable[0]), self._side(usable[1]))
        self.canvas.set_mode("split")

    @Slot(object)
    def _restore_snapshot(self, snap: Snapshot) -> None:
        self.history.push(snap.finished.settings)
        self._apply_settings(snap.finished.settings)

    @Slot()
    def stop(self) -> None:
        self._debounce.stop()
        self.session.stop()

    @Slot(object)
    def _on_run_started(self, settings: QuantizeSettings) -> None:
        self.canvas.set_result_full(None, None)
        self.chart.reset()
        if self._selected is not None and self._selected >= settings.k:
            self._selected = None
            self._apply_highlight()
        raced = settings.k <= RACE_MAX_K and not self.session.step_gate.is_paused()
        self.cloud.start_run(settings.k, settings.init, settings.space, raced)
        # Busy, not a fraction of the iteration cap: most runs stop long before it.
        self.progress.setRange(0, 0)

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if p.preview is not None:
            self.canvas.set_result_preview(p.preview, p.palette, label=p.label)
        self.palette_view.set_palette(p.palette, p.shares)
        self.chart.add(p.iteration, p.inertia)
        if p.labels is not None:
            self.cloud.add_iteration(p.iteration, p.palette, p.labels, p.moved, p.mse,
                                     p.converged, p.reason, p.start)
        self.status_label.setText(
            f"Iteration {p.iteration} · inertia {p.inertia:.4g} · "
            f"{p.moved * 100:.2f} % moved · {p.elapsed:.2f} s"
            + (" · rendering full resolution…" if p.converged else ""))
        self.preview_shown.emit(p.iteration)

    @Slot(object)
    def _on_result_changed(self, f: Finished | None) -> None:
        self.setWindowModified(f is not None)
        self._update_sizes()
        if f is None:
            return
        r = f.result
        seed = self.controls.seed_spin
        if f.settings.seed is not None and f.settings.seed != seed.value():
            blocked = seed.blockSignals(True)  # the best of several seeds won
            seed.setValue(int(f.settings.seed))
            seed.blockSignals(blocked)
            self.history.push(f.settings)
            self._update_actions()
        self.canvas.set_result_preview(f.preview, r.palette, f.preview_rgb)
        self.canvas.set_result_full(r.indices, r.palette)
        self.palette_view.set_palette(r.palette, f.shares)
        self.cloud.finish(r.palette)
        self._reset_progress()
        reason = REASONS.get(r.reason, r.reason)
        self.chart.finish(r.iterations, reason)
        if r.reason == "stopped":
            self.status_label.setText(
                f"Stopped after {r.iterations} iterations: this {colours(r.n_colors)} result "
                "is kept and can be saved. F5 runs again.")
        else:
            self.status_label.setText(
                f"Done: {colours(r.n_colors)} after {r.iterations} iterations ({reason}) · "
                f"{f.elapsed:.2f} s")
        self.run_finished.emit(f)
        if self._rescale_pending:
            self._on_preview_box_changed()

    def _reset_progress(self) -> None:
        """Nothing running: the bar says whether a result is on screen."""
        done = self.session.result is not None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if done else 0)
        self.progress.setFormat("done" if done else "")

    def _end_run(self, status: str, progress_text: str | None = None) -> None:
        """A run ended without a result: reset the progress bar."""
        self._reset_progress()
        if progress_text is not None:
            self.progress.setFormat(progress_text)
        self.status_label.setText(status)

    @Slot()
    def _on_run_stopped(self) -> None:
        self._end_run("Stopped. Press F5 to run again.", progress_text="stopped")
        self.run_stopped.emit()

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self._end_run("Quantization failed")
        dialogs.show_error(self, "Quantization failed", "K-Means could not finish.", message)

    # ====================================================== preview sizing
    @Slot()
    def _on_preview_box_changed(self) -> None:
        image = self.session.image
        if image is None:
            return
        wanted = fit_size(image.width, image.height, *self.canvas.preview_box())
        if not needs_new_preview(self.canvas.preview_size(), wanted):
            self._rescale_pending = False
            return
        if self.session.is_running() or self.session.is_loading():
            self._rescale_pending = True  # done when the run has finished
            return
        self._rescale_pending = False
        self.session.rescale(wanted)

    @Slot(object)
    def _on_rescaled(self, r: Rescaled) -> None:
        self.canvas.set_original_preview(r.preview_pixels)
        result = self.session.result
        if r.result_preview is not None and result is not None:
            self.canvas.set_result_preview(r.result_preview, result.result.palette,
                                           r.result_preview_rgb)

    # ============================================================== saving
    @Slot()
    def save_as(self) -> None:
        if self.session.png is None or self.session.is_saving():
            return
        path = self._ask_save_path()
        if path:
            self.session.save(path)

    def _ask_save_path(self) -> str | None:
        """Where to save, asked once; None if cancelled or refused. The input
        image is refused here with a clear message (never offered to replace);
        another existing file is replaced only if the user agrees."""
        path = dialogs.ask_save_png(self, str(self.proposed_save_path()))
        if not path:
            return None
        source = self.session.image.path if self.session.image else None
        if source is not None and same_file(path, source):
            message = (f"“{Path(path).name}” is the input image; choose another name "
                       "(the original is never replaced).")
            self.save_failed.emit(message)
            dialogs.show_error(self, "Cannot save here", "The image you opened cannot be "
                               "replaced by its result.", message)
            return None
        if Path(path).exists() and not dialogs.ask_replace(self, Path(path).name):
            return None
        return path

    def _source_is_bundled(self) -> bool:
        path = self.session.image.path if self.session.image else None
        return path is None or path.parent == asset(SAMPLE_IMAGE).parent

    def proposed_save_path(self) -> Path:
        """NAME-kK.png beside the input; for the bundled sample (inside the
        installed package) in the last folder used instead."""
        s = self.session
        k = s.result.settings.k
        if self._source_is_bundled():
            return output_name(s.image.path, k, folder=self.settings.last_folder())
        return output_name(s.image.path, k)

    @Slot(object)
    def _on_saving(self, path: Path) -> None:
        self.status_label.setText(f"Saving {path.name}…")
        self.progress.setRange(0, 0)  # busy while the worker writes

    @Slot(str, int)
    def _on_saved(self, path: str, size: int) -> None:
        self.setWindowModified(self.session.is_dirty())
        self._reset_progress()
        self.status_label.setText(f"Saved {Path(path).name} ({human_size(size)})")
        self._update_sizes()
        self.result_saved.emit(path, size)

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.status_label.setText("Saving failed")
        self._reset_progress()
        self.save_failed.emit(message)
        dialogs.show_error(self, "Cannot save", "The PNG was not saved.", message)

    @Slot()
    def export_palette(self) -> None:
        self.palette_tools.export_palette()

    def _update_sizes(self) -> None:
        s = self.session
        image, f = s.image, s.result
        if image is None or f is None:
            self.info_png.setText("computing…" if s.is_running() else "–")
            self.info_ratio.setText("–")
            self.summary.setText("computing…" if s.is_running() else "–")
            return
        size = f.estimated_size
        text = (f"{human_size(size)} (saved)" if s.saved_size is not None
                else f"{human_size(size)} (not saved yet)")
        used = f.result.colors_used()
        self.info_png.setText(f"{text}, {colours(f.result.n_colors)}")
        ratio_text = "–"
        if image.file_size:
            ratio = image.file_size / max(size, 1)
            ratio_text = (f"{ratio:.2f} × smaller" if ratio >= 1
                          else f"{1 / ratio:.2f} × larger")
        self.info_ratio.setText(ratio_text)
        parts = [f"PNG {human_size(size)}"]
        if image.file_size:
            parts.append(ratio_text)
        parts.append(f"{bit_depth(f.result.n_colors)}-bit")
        parts.append(f"{colours(used)} used")
        if f.delta_e == f.delta_e:  # not NaN
            parts.append(f"ΔE {f.delta_e:.2f}")
        self.summary.setText(" · ".join(parts))

    # =============================================================== view
    @Slot(float)
    def _on_zoom_changed(self, zoom: float) -> None:
        percent = f"{zoom * 100:.0f} %"
        self.zoom_label.setText(f"Fit ({percent})" if self.canvas.is_fit() else percent)

    @Slot(str)
    def _on_mode_changed(self, mode: str) -> None:
        self.mode_actions[mode].setChecked(True)
        self.settings.set_view_mode(mode)

    # ============================================================ linking
    @Slot(int)
    def _on_cluster_hovered(self, index: int) -> None:
        self._hovered = None if index < 0 else index
        self._apply_highlight()

    @Slot(int)
    def _on_cluster_clicked(self, index: int) -> None:
        """Click a cluster to keep it highlighted; click it (or nothing) again to let go."""
        self._selected = None if index < 0 or index == self._selected else index
        self._apply_highlight()

    def highlighted_cluster(self) -> int | None:
        return self._hovered if self._hovered is not None else self._selected

    def _apply_highlight(self) -> None:
        index = self.highlighted_cluster()
        self.canvas.set_highlight(index)
        self.palette_view.set_highlight(index)
        self.cloud.set_highlight(index)

    # ========================================================= step mode
    @Slot(bool)
    def _on_step_mode_changed(self, on: bool) -> None:
        gate = self.session.step_gate
        if on:
            gate.pause()
            self.status_label.setText("Step mode: Space or → shows the next step")
        else:
            gate.resume()
        self.step_mode_action.setChecked(on)
        self.step_action.setEnabled(on)

    @Slot()
    def _update_actions(self) -> None:
        s = self.session
        has_result = s.result is not None
        self.save_action.setEnabled(has_result and not s.is_saving())
        self.export_action.setEnabled(has_result)
        self.run_action.setEnabled(s.image is not None)
        self.seeds_action.setEnabled(s.image is not None)
        self.stop_action.setEnabled(s.is_running())
        self.keep_action.setEnabled(has_result)
        self.undo_action.setEnabled(self.history.can_undo())
        self.redo_action.setEnabled(self.history.can_redo())

    @Slot()
    def about(self) -> None:
        dialogs.show_about(self, f"About {APP_NAME}",
                           f"<b>{APP_NAME}</b> {VERSION}<p>Compresses images into indexed-palette "
                           "PNGs by K-Means colour quantization, with a live preview.</p>")

    # ============================================================= closing
    def has_unsaved_result(self) -> bool:
        """A result worth asking about: not saved, and made by the user (an
        image they opened, or settings they changed); the sample's automatic
        first result is not."""
        s = self.session
        return s.is_dirty() and (self._edited or not self._source_is_bundled())

    def _may_discard_result(self, doing: str) -> bool:
        """Ask about an unsaved result before ``doing``; False to cancel."""
        if not self.has_unsaved_result() or self.session.is_saving():
            return True
        s = self.session
        answer = dialogs.ask_save_changes(self, s.image.path.name if s.image.path
                                          else "the image", doing)
        return answer == "discard" or (answer == "save" and self._save_before_close())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._may_discard_result("closing"):
            event.ignore()
            return
        self._debounce.stop()
        self.settings.set_quantize_settings(self.controls.settings())
        self.settings.set_window_layout(self.saveGeometry(), self.saveState(),
                                        self.splitter.saveState())
        self.settings.sync()
        # Gone from the screen at once; an uninterruptible step (decoding, the
        # histogram, the full-size remap) may still take up to about a second.
        self.hide()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker cooperatively and wait for its thread to end."""
        self.curve.shutdown()
        self.session.shutdown()

    def _save_before_close(self) -> bool:
        """Save through the same worker as File → Save, waiting for it; False
        if cancelled or failed (the failure was shown)."""
        path = self._ask_save_path()
        if not path:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self.setEnabled(False)  # no second close or edit while waiting
        try:
            return self.session.save_and_wait(path)
        finally:
            self.setEnabled(True)
            QGuiApplication.restoreOverrideCursor()
