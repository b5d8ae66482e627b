"""The action registry: every QAction of the main window defined once, in
one table: its text, shortcuts, icon, tip, whether it is checkable, the
window method it calls and the rule that says when it is enabled. The menus
and the toolbar are built from two more tables that name actions by key.

A slot is a dotted path on the window (``"canvas.zoom_in"``); ``args`` are
passed to it instead of the triggered signal's ``checked``. An enabled rule
is a function of the window, evaluated by ``ActionRegistry.update`` whenever
the Session's state or the settings history changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMenuBar, QStyle, QToolBar, QWidget

from kmeans_gui.appinfo import APP_NAME

#: "Try Other Seeds" runs K-Means with this many seeds and keeps the best.
SEED_TRIALS = 4

SK = QKeySequence.StandardKey
SP = QStyle.StandardPixmap
Shortcut = QKeySequence.StandardKey | Qt.Key | str


@dataclass(frozen=True)
class ActionSpec:
    key: str  # the registry's name; the window's attribute is KEY_action
    text: str
    slot: str  # dotted path on the window
    shortcuts: tuple[Shortcut, ...] = ()
    icon: str | None = None  # freedesktop theme name
    fallback: QStyle.StandardPixmap | None = None  # the style's icon when the theme has none
    tip: str = ""  # tool tip and status tip
    checkable: bool = False
    checked: bool = False
    group: str | None = None  # exclusive group; the group's dict is keyed by args[0]
    args: tuple[Any, ...] = ()
    enabled: Callable[[Any], bool] | None = None  # rule on the window; None: always


def _has_result(w) -> bool:
    return w.session.result is not None


def _has_image(w) -> bool:
    return w.session.image is not None


def _control(w):
    return w.session.palette_control


def _runs_kmeans(w) -> bool:
    """A new seed means nothing while the image is mapped to a given palette:
    the run would redo the same remap ("Adapt Palette Again" leaves that mode)."""
    return _has_image(w) and w.session.palette_control.fixed_palette is None


_MODE_TIPS = {"split": "Original and result side by side, with a draggable divider",
              "original": "Only the original", "result": "Only the result",
              "difference": "Where colour is lost: each pixel's OKLab ΔE as a heat map "
                            "(black none, red some, yellow to white a lot)"}
_MODES = (("split", "&Split View"), ("original", "&Original Only"),
          ("result", "&Result Only"), ("difference", "&Difference (ΔE)"))
_BACKGROUNDS = (("checkerboard", "&Checkerboard"), ("white", "&White"),
                ("black", "&Black"), ("custom", "C&ustom Colour…"))

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", "open_dialog", (SK.Open,), "document-open",
               SP.SP_DialogOpenButton, "Open an image"),
    ActionSpec("open_sample", "Open &Sample Image", "open_sample",
               tip="Open the bundled sample photo"),
    ActionSpec("save", "&Save As…", "save_as", (SK.Save, SK.SaveAs), "document-save-as",
               SP.SP_DialogSaveButton, "Save the result as an indexed-palette PNG",
               enabled=lambda w: _has_result(w) and not w.session.is_saving()),
    ActionSpec("export", "&Export Palette…", "export_palette", ("Ctrl+Shift+E",),
               tip="Save the palette (.gpl, .pal, .txt, .hex, .act or .png)",
               enabled=_has_result),
    ActionSpec("quit", "&Quit", "close", (SK.Quit,)),
    ActionSpec("run", "&Run Again", "runs.run_again", (Qt.Key.Key_F5,), "view-refresh",
               SP.SP_BrowserReload, "Run K-Means again with a new random seed",
               enabled=_runs_kmeans),
    ActionSpec("stop", "S&top", "runs.stop", (Qt.Key.Key_Escape,), "process-stop",
               SP.SP_BrowserStop, "Stop the running quantization",
               enabled=lambda w: w.session.is_running()),
    ActionSpec("zoom_in", "Zoom &In", "canvas.zoom_in", (SK.ZoomIn, "Ctrl+="), "zoom-in",
               tip="Zoom in"),
    ActionSpec("zoom_out", "Zoom &Out", "canvas.zoom_out", (SK.ZoomOut,), "zoom-out",
               tip="Zoom out"),
    ActionSpec("zoom_fit", "&Fit to Window", "canvas.zoom_fit", ("Ctrl+0",), "zoom-fit-best",
               tip="Fit the image to the view"),
    ActionSpec("zoom_actual", "&Actual Pixels (100 %)", "canvas.zoom_actual", ("Ctrl+1",),
               "zoom-original", tip="One image pixel per screen pixel"),
    *(ActionSpec(f"mode_{mode}", text, "canvas.set_mode", (f"Alt+{number}",),
                 tip=_MODE_TIPS[mode], checkable=True, group="mode", args=(mode,))
      for number, (mode, text) in enumerate(_MODES, start=1)),
    ActionSpec("step_mode", "Step &Mode", "cloud.set_step_mode", ("Ctrl+T",),
               tip="Pause after every K-Means iteration and show its steps one at a time",
               checkable=True),
    ActionSpec("step", "&Next Step", "cloud.step", (Qt.Key.Key_Space, Qt.Key.Key_Right),
               tip="Step mode: show the next assignment or update step",
               enabled=lambda w: w.step_mode_action.isChecked()),
    ActionSpec("about", f"&About {APP_NAME}", "about"),
    ActionSpec("keep", "&Keep Snapshot", "keep_snapshot", ("Ctrl+K",),
               tip="Keep the current result in the snapshot strip to compare it later",
               enabled=_has_result),
    ActionSpec("seeds", "Try Other &Seeds", "runs.try_seeds", ("Ctrl+F5",),
               tip=f"Run K-Means with {SEED_TRIALS} new seeds and keep the one with the "
                   "lowest error",
               enabled=_runs_kmeans),
    ActionSpec("undo", "&Undo Settings", "runs.undo", (SK.Undo,),
               tip="Go back to the previous run's settings",
               enabled=lambda w: w.history.can_undo()),
    ActionSpec("redo", "&Redo Settings", "runs.redo", ("Ctrl+Shift+Z", SK.Redo),
               tip="Go forward again in the settings history",
               enabled=lambda w: w.history.can_redo()),
    ActionSpec("show_controls", "Show &Controls", "set_controls_visible", ("F9",),
               tip="Show or hide the side panel", checkable=True, checked=True),
    *(ActionSpec(f"background_{kind}", text, "set_background",
                 tip="What transparent pixels are shown over", checkable=True,
                 group="background", args=(kind,))
      for kind, text in _BACKGROUNDS),
    # The palette tools (gui/palette_tools.py holds what they do).
    ActionSpec("import_palette", "&Import Palette…", "palette_tools.import_palette",
               ("Ctrl+Shift+I",),
               tip="Map to a palette file, or keep its colours and adapt the rest",
               enabled=_has_image),
    ActionSpec("adapt", "&Adapt Palette Again", "palette_tools.adapt_again",
               tip="Leave the imported palette: K-Means chooses the colours again",
               enabled=lambda w: _control(w).fixed_palette is not None),
    ActionSpec("eyedropper", "Pick &Colour from Original", "palette_tools.toggle_eyedropper",
               ("I",), tip="Click the original to pin that colour", checkable=True,
               enabled=_has_image),
    ActionSpec("unpin_all", "&Unpin All Colours", "palette_tools.unpin_all",
               tip="Let K-Means move every colour again",
               enabled=lambda w: bool(_control(w).pinned)),
    ActionSpec("brush", "Paint &Importance", "palette_tools.toggle_brush", ("B",),
               tip="Paint on the original where colours matter most", checkable=True,
               enabled=_has_image),
    ActionSpec("erase", "&Erase Importance", "palette_tools.set_erase", ("Shift+B",),
               tip="The brush removes importance", checkable=True, enabled=_has_image),
    ActionSpec("bigger_brush", "Larger Brush", "palette_tools.grow_brush", ("]",),
               tip="A larger importance brush", args=(1.25,)),
    ActionSpec("smaller_brush", "Smaller Brush", "palette_tools.grow_brush", ("[",),
               tip="A smaller importance brush", args=(0.8,)),
    ActionSpec("overlay", "Show Importance &Overlay", "palette_tools.set_overlay",
               tip="Show the painted importance as a red overlay on the original",
               checkable=True, checked=True),
    # A cleared mask stays as zeros: there is nothing left to clear or save then.
    ActionSpec("clear_mask", "C&lear Importance", "palette_tools.clear_mask",
               tip="Remove the painted importance",
               enabled=lambda w: _control(w).has_mask()),
    ActionSpec("load_mask", "L&oad Importance Mask…", "palette_tools.load_mask",
               tip="A grayscale image: white = important", enabled=_has_image),
    ActionSpec("save_mask", "&Save Importance Mask…", "palette_tools.save_mask",
               tip="Save the painted importance as a grayscale PNG",
               enabled=lambda w: _control(w).has_mask()),
)

# Menus and the toolbar, by action key. "-" is a separator; a (title, items)
# pair is a submenu; "@name" is a menu or an action the window supplies (the
# Open Recent menu filled when shown, the dock's toggle).
MENUS: tuple[tuple[str, tuple], ...] = (
    ("&File", ("open", "@recent", "open_sample", "-", "save", "import_palette", "export",
               "-", "quit")),
    ("&Edit", ("undo", "redo")),
    ("&Quantize", ("run", "seeds", "stop", "-", "step_mode", "step", "-", "keep")),
    ("&View", (*(f"mode_{m}" for m, _ in _MODES), "-", "show_controls",
               ("&Background", tuple(f"background_{k}" for k, _ in _BACKGROUNDS)), "-",
               "zoom_in", "zoom_out", "zoom_fit", "zoom_actual", "-", "@colour_space")),
    ("&Palette", ("import_palette", "export", "adapt", "-", "eyedropper", "unpin_all", "-",
                  "brush", "erase", "bigger_brush", "smaller_brush", "overlay", "clear_mask",
                  "load_mask", "save_mask")),
    ("&Help", ("about",)),
)
TOOLBAR: tuple[str, ...] = ("open", "save", "-", "run", "stop", "keep", "-",
                            *(f"mode_{m}" for m, _ in _MODES), "-", "zoom_fit", "zoom_actual")


def _icon(spec: ActionSpec) -> QIcon | None:
    if spec.icon is None:
        return None
    if spec.fallback is None:
        return QIcon.fromTheme(spec.icon)
    return QIcon.fromTheme(spec.icon, QApplication.style().standardIcon(spec.fallback))


class ActionRegistry:
    """The window's actions, made from ``specs`` and added to ``window``."""

    def __init__(self, window: QWidget, specs: Sequence[ActionSpec] = ACTIONS) -> None:
        self.window = window
        self.specs = {spec.key: spec for spec in specs}
        self.actions: dict[str, QAction] = {}
        self.groups: dict[str, dict[Any, QAction]] = {}
        self._qgroups: dict[str, QActionGroup] = {}
        for spec in specs:
            self.actions[spec.key] = self._make(spec)

    def _make(self, spec: ActionSpec) -> QAction:
        action = QAction(spec.text, self.window)
        # A standard key can be the same as a spelled-out one on some platforms
        # (Redo is Ctrl+Shift+Z on X11): Qt calls an action holding the same
        # sequence twice ambiguous and fires it for neither, so each only once.
        keys = []
        for k in spec.shortcuts:
            seq = QKeySequence(k)
            if not seq.isEmpty() and seq not in keys:
                keys.append(seq)
        if len(keys) == 1:
            action.setShortcut(keys[0])
        elif keys:
            action.setShortcuts(keys)
        icon = _icon(spec)
        if icon is not None:
            action.setIcon(icon)
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
        slot = reduce(getattr, spec.slot.split("."), self.window)
        if spec.args:
            action.triggered.connect(lambda _=False, a=spec.args: slot(*a))
        else:
            action.triggered.connect(slot)
        self.window.addAction(action)
        if spec.checkable:
            action.setCheckable(True)
            action.setChecked(spec.checked)
        if spec.group is not None:
            if spec.group not in self._qgroups:
                self._qgroups[spec.group] = QActionGroup(self.window)
                self.groups[spec.group] = {}
            self._qgroups[spec.group].addAction(action)
            self.groups[spec.group][spec.args[0]] = action
        return action

    def __getitem__(self, key: str) -> QAction:
        return self.actions[key]

    def update(self) -> None:
        """Evaluate every enabled rule against the window's current state."""
        for key, spec in self.specs.items():
            if spec.enabled is not None:
                self.actions[key].setEnabled(bool(spec.enabled(self.window)))

    def _fill(self, menu: QMenu | QToolBar, items: Sequence, extern: dict[str, Any]) -> None:
        for item in items:
            if item == "-":
                menu.addSeparator()
            elif isinstance(item, tuple):
                title, sub = item
                self._fill(menu.addMenu(title), sub, extern)
            elif item.startswith("@"):
                thing = extern[item[1:]]
                if isinstance(thing, str):  # a menu to make here, filled by its owner
                    extern[item[1:]] = menu.addMenu(thing)
                else:
                    menu.addAction(thing)
            else:
                menu.addAction(self.actions[item])

    def build_menus(self, bar: QMenuBar, extern: dict[str, Any],
                    layout: Sequence[tuple[str, tuple]] = MENUS) -> dict[str, Any]:
        """The menu bar from ``layout``. ``extern`` maps each "@name" to an
        action, a QMenu (added to the bar) or a title (a menu made here and
        returned in the dict in its place)."""
        for title, items in layout:
            if title.startswith("@"):
                bar.addMenu(extern[title[1:]])
            else:
                self._fill(bar.addMenu(title), items, extern)
        return extern

    def build_toolbar(self, toolbar: QToolBar, items: Sequence[str] = TOOLBAR) -> None:
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(18, 18))
        self._fill(toolbar, items, {})
