"""The main window: assembly and glue. It owns the Session (the document),
builds the parts that each have one job (the action registry, the side
panel, the status bar, files, runs, compare, linking, the layout) and
connects them; an opened image and the preview size are handled here. It
keeps no document state itself; see ARCHITECTURE.md for the parts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kmeans_gui.appinfo import APP_NAME, VERSION, asset
from kmeans_gui.core import QuantizeSettings

from . import dialogs
from .actions import ActionRegistry
from .cloud_panel import ColourSpacePanel
from .compare import SnapshotCompare
from .file_actions import FileActions
from .focus_keys import keep_keys_with_focus
from .imaging import fit_size, needs_new_preview
from .jobs import Opened, Rescaled
from .kcurve import CurvePresenter
from .linking import ClusterLink
from .palette_tools import PaletteTools
from .run_control import RunControl
from .run_view import RunView
from .session import Session
from .settings import Settings
from .side_panel import SidePanel
from .sizes import image_texts, result_texts
from .snapshots import Snapshot, SnapshotStrip
from .status_bar import StatusArea
from .tool_canvas import ToolCanvas
from .undo_keys import route_undo
from .window_layout import DEFAULT_SIDE_WIDTH, WindowLayout


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
        self._rescale_pending = False  # the view changed size during a run

        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        icon_path = asset("icons/io.github.kmeans_gui.KMeansGui.svg")
        if icon_path.is_file():
            self.setWindowIcon(QIcon(str(icon_path)))

        self.layout_state = WindowLayout(self)
        self._build_widgets()
        self.files = FileActions(self)
        self._build_actions()
        self._build_menus()
        self._restore()
        self._update_actions()
        keep_keys_with_focus(self)  # every widget is in: Space and → stay with the focus

    def _curve_settings(self) -> QuantizeSettings:
        """What a run at each k of the curve would use: the controls with the
        pinned colours (a given palette has no k to choose: the controls')."""
        settings = self.session.run_settings(self.controls.settings())
        return settings if settings.palette is None else self.controls.settings()

    @Slot()
    def _on_pins_changed(self) -> None:
        # (Opening an image lets its pins go before the curve has the image.)
        if self.curve.showing(self.session.image):
            self.curve.settings_changed()

    @Slot(object)
    def _on_run_started(self, _settings) -> None:
        # A stroke's run follows it; the curve follows the run (not every dab).
        if self.curve.showing(self.session.image):
            self.curve.weights_changed(self.session.palette_control.mask_edits)

    # ================================================================ setup
    def _build_widgets(self) -> None:
        self.canvas = ToolCanvas()
        self.side_panel = side = SidePanel()
        self.side_scroll = side
        self.controls, self.target_panel = side.controls, side.target_panel
        self.palette_view, self.palette_box = side.palette_view, side.palette_box
        self.chart, self.cost_chart, self.charts = side.chart, side.cost_chart, side.charts
        self.info_image, self.info_file = side.sizes.image, side.sizes.file
        self.info_png, self.info_ratio = side.sizes.png, side.sizes.ratio
        control = self.session.palette_control
        self.curve = CurvePresenter(self.cost_chart, self.target_panel, self._curve_settings,
                                    self.controls.k_spin.setValue, self,
                                    weights_of=control.weights)
        # Pins and painted importance change what every k costs, and what a
        # target's run must hold.
        control.changed.connect(self._on_pins_changed)
        self.session.run_started.connect(self._on_run_started)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.snapshot_strip = SnapshotStrip()
        self.snapshot_strip.hide()  # until the first snapshot is kept
        view = QWidget()
        view_layout = QVBoxLayout(view)
        view_layout.setContentsMargins(0, 0, 0, 0)
        view_layout.setSpacing(2)
        view_layout.addWidget(self.canvas, 1)
        view_layout.addWidget(self.snapshot_strip)
        self.splitter.addWidget(view)
        self.splitter.addWidget(side)
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

        self.status = StatusArea(self.statusBar())
        self.status_label, self.zoom_label = self.status.label, self.status.zoom_label
        self.progress, self.summary = self.status.progress, self.status.summary
        self.runs = RunControl(self)
        self.history = self.runs.history
        self.compare = SnapshotCompare(self.snapshot_strip, self.canvas, self.session,
                                       self.status, self.runs.restore, self.runs.k_mode_of,
                                       self)

        self.session.state_changed.connect(self._on_session_state)
        self.controls.advanced_toggled.connect(self.settings.set_advanced_open)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)
        self.canvas.preview_box_changed.connect(self._on_preview_box_changed)
        self.canvas.mode_changed.connect(self._on_mode_changed)
        # One cluster linked across the swatches, the image and the cloud.
        self.link = ClusterLink(self.canvas, self.palette_view, self.cloud, self)
        self.cloud.step_mode_changed.connect(self._on_step_mode_changed)
        self.cloud.iteration_requested.connect(self.session.step_gate.step)

        session = self.session
        session.image_changed.connect(self._on_image_changed)
        self.run_view = RunView(self)
        session.rescaled.connect(self._on_rescaled)
        session.state_changed.connect(self._update_actions)

    def _build_actions(self) -> None:
        self.palette_tools = PaletteTools(self)  # its actions' slots
        self.registry = registry = ActionRegistry(self)
        for key, action in registry.actions.items():
            setattr(self, f"{key}_action", action)
        self.mode_actions: dict[str, QAction] = registry.groups["mode"]
        self.background_actions: dict[str, QAction] = registry.groups["background"]
        self.palette_tools.bind()
        self.side_panel.add_palette_widget(self.palette_tools.widget)
        route_undo(self.side_panel, self)  # after the palette tools' spin box is in

    def _build_menus(self) -> None:
        made = self.registry.build_menus(self.menuBar(), {
            "recent": "Open &Recent", "colour_space": self.cloud_dock.toggleViewAction()})
        self.recent_menu = made["recent"]
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        self.registry.build_toolbar(toolbar)

    def _restore(self) -> None:
        self.controls.set_settings(self.settings.quantize_settings())
        self.controls.set_advanced_open(self.settings.advanced_open())
        self.layout_state.restore()

    def clamp_to_screen(self) -> None:
        self.layout_state.clamp_to_screen()

    def set_background(self, kind: str, ask: bool = True) -> None:
        self.layout_state.set_background(kind, ask)

    @Slot(bool)
    def set_controls_visible(self, visible: bool = True) -> None:
        self.layout_state.set_controls_visible(visible)

    # ============================================================== files
    @Slot()
    def open_dialog(self) -> None:
        self.files.open_dialog()

    @Slot()
    def open_sample(self) -> None:
        self.files.open_sample()

    def open_path(self, path: str | Path, remember: bool = True) -> None:
        self.files.open_path(path, remember)

    def stop_pending_run(self) -> None:
        """A debounced edit will not start a run (another image is coming)."""
        self.runs.debounce.stop()

    @Slot()
    def save_as(self) -> None:
        self.files.save_as()

    def proposed_save_path(self) -> Path:
        return self.files.proposed_save_path()

    def has_unsaved_result(self) -> bool:
        return self.files.has_unsaved_result()

    def _fill_recent_menu(self) -> None:
        self.files.fill_recent_menu(self.recent_menu)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        self.files.drag_enter(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.files.drag_move(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.files.drop(event)

    # ============================================================ running
    @Slot(object)
    def _on_image_changed(self, opened: Opened) -> None:
        image, path = opened.image, opened.path
        self.canvas.set_status_text("")
        self.canvas.set_original(image.pixels, opened.preview_pixels)
        self.palette_view.clear()
        self.chart.reset()
        self.compare.clear()
        self.history.clear()
        self.link.clear()
        self.cloud.set_image(opened.histogram, opened.sample, self.controls.settings().space)
        self.setWindowTitle(f"{path.name}[*]")
        self.setWindowFilePath(str(path))
        self.setWindowModified(False)
        self.files.image_opened(path)
        image_text, file_text = image_texts(image)
        self.info_image.setText(image_text)
        self.info_file.setText(file_text)
        self.update_sizes()
        self.status_label.setText(f"Opened {path.name} in {opened.seconds:.2f} s"
                                  + self._carried_over())
        self.image_opened.emit(str(path))
        self.start_run()
        self.curve.image_opened(image, opened.histogram,
                                self.session.palette_control.mask_edits)

    def _carried_over(self) -> str:
        """What of the palette control applies to the new image too (only
        what came from a palette file; see PaletteControl.new_image)."""
        control = self.session.palette_control
        if control.fixed_palette is not None:
            return (f" · still mapped to the {len(control.fixed_palette)} imported colours "
                    "(Palette → Adapt Palette Again leaves them)")
        kept = len(control.file_pins())
        if kept:
            return f" · the {kept} imported colours stay pinned"
        return ""

    @Slot()
    def _on_session_state(self) -> None:
        # The k vs cost curve steps back while the image loads or the live run goes.
        self.curve.live_running(self.session.is_loading() or self.session.is_running())

    @Slot()
    def start_run(self) -> None:
        self.runs.start_run()

    @Slot()
    def keep_snapshot(self) -> Snapshot | None:
        return self.compare.keep()

    @Slot()
    def stop(self) -> None:
        self.runs.stop()

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

    def rescale_if_pending(self) -> None:
        """A run has finished: the preview size the view asked for meanwhile."""
        if self._rescale_pending:
            self._on_preview_box_changed()

    @Slot(object)
    def _on_rescaled(self, r: Rescaled) -> None:
        self.canvas.set_original_preview(r.preview_pixels)
        result = self.session.result
        if r.result_preview is not None and result is not None:
            self.canvas.set_result_preview(r.result_preview, result.result.palette,
                                           r.result_preview_rgb)

    # ============================================================== sizes
    @Slot()
    def export_palette(self) -> None:
        self.palette_tools.export_palette()

    def update_sizes(self) -> None:
        png, ratio, summary = result_texts(self.session)
        self.info_png.setText(png)
        self.info_ratio.setText(ratio)
        self.summary.setText(summary)

    # =============================================================== view
    @Slot(float)
    def _on_zoom_changed(self, zoom: float) -> None:
        self.status.show_zoom(zoom, self.canvas.is_fit())

    @Slot(str)
    def _on_mode_changed(self, mode: str) -> None:
        self.mode_actions[mode].setChecked(True)
        self.settings.set_view_mode(mode)

    def _on_cluster_clicked(self, index: int) -> None:
        self.link.click(index)

    def highlighted_cluster(self) -> int | None:
        return self.link.highlighted()

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
        self._update_actions()

    @Slot()
    def _update_actions(self) -> None:
        self.registry.update()

    @Slot()
    def about(self) -> None:
        dialogs.show_about(self, f"About {APP_NAME}",
                           f"<b>{APP_NAME}</b> {VERSION}<p>Compresses images into indexed-palette "
                           "PNGs by K-Means colour quantization, with a live preview.</p>")

    # ============================================================= closing
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.may_discard_result("closing"):
            event.ignore()
            return
        self.runs.debounce.stop()
        self.settings.set_quantize_settings(self.controls.settings())
        self.layout_state.save()
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
