"""Everything the application remembers between runs, through QSettings.

The organisation and application names are set once on the application
object (``configure_application``); every ``QSettings()`` then finds the same
store. Tests redirect that store to a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings

from kmeans_gui.appinfo import APP_NAME, ORG_DOMAIN, ORG_NAME, SETTINGS_APP, VERSION
from kmeans_gui.core import INITS, SPACES, QuantizeSettings
from kmeans_gui.limits import DITHERS

from .controls import K_RANGE, MAX_ITER_RANGE, SEED_RANGE, STRENGTH_RANGE, TOL_RANGE

MAX_RECENT = 8


def _clamp(value, bounds):
    return min(bounds[1], max(bounds[0], value))


def configure_application(app: QCoreApplication) -> None:
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain(ORG_DOMAIN)
    app.setApplicationName(SETTINGS_APP)
    app.setApplicationVersion(VERSION)
    if hasattr(app, "setApplicationDisplayName"):
        app.setApplicationDisplayName(APP_NAME)


def use_private_store(folder: str | Path) -> None:
    """Keep every QSettings of this process in INI files under ``folder``
    (tests and the self-test must not touch the user's settings)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))


class Settings:
    """Typed access to the stored values; invalid stored values fall back to defaults."""

    def __init__(self) -> None:
        self._store = QSettings()

    def sync(self) -> None:
        self._store.sync()

    # -------------------------------------------------------------- folders
    def last_folder(self) -> str:
        folder = str(self._store.value("paths/last_folder", "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def set_last_folder(self, folder: str | Path) -> None:
        self._store.setValue("paths/last_folder", str(folder))

    # --------------------------------------------------------- recent files
    def recent_files(self) -> list[str]:
        value = self._store.value("paths/recent", [])
        if isinstance(value, str):  # a one-item list comes back as a string from INI files
            value = [value] if value else []
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        self._store.setValue("paths/recent", [path, *files][:MAX_RECENT])

    def remove_recent(self, path: str | Path) -> None:
        path = str(path)
        self._store.setValue("paths/recent", [p for p in self.recent_files() if p != path])

    def clear_recent(self) -> None:
        self._store.setValue("paths/recent", [])

    # ------------------------------------------------------------- controls
    def quantize_settings(self) -> QuantizeSettings:
        d = QuantizeSettings()
        s = self._store
        try:
            k = _clamp(int(s.value("controls/k", d.k)), K_RANGE)
            space = str(s.value("controls/space", d.space))
            init = str(s.value("controls/init", d.init))
            max_iter = _clamp(int(s.value("controls/max_iter", d.max_iter)), MAX_ITER_RANGE)
            tol = _clamp(float(s.value("controls/tol", d.tol)), TOL_RANGE)
            seed = _clamp(int(s.value("controls/seed", d.seed or 0)), SEED_RANGE)
            dither = str(s.value("controls/dither_mode", d.dither))
            strength = _clamp(float(s.value("controls/dither_strength", d.dither_strength)),
                              STRENGTH_RANGE)
        except (TypeError, ValueError):
            return d
        return QuantizeSettings(
            k=k, space=space if space in SPACES else d.space,
            init=init if init in INITS else d.init,
            max_iter=max_iter, tol=tol, seed=seed,
            dither=dither if dither in DITHERS else d.dither, dither_strength=strength)

    def set_quantize_settings(self, settings: QuantizeSettings) -> None:
        s = self._store
        s.setValue("controls/k", settings.k)
        s.setValue("controls/space", settings.space)
        s.setValue("controls/init", settings.init)
        s.setValue("controls/max_iter", settings.max_iter)
        s.setValue("controls/tol", settings.tol)
        s.setValue("controls/seed", settings.seed or 0)
        s.setValue("controls/dither_mode", settings.dither)
        s.setValue("controls/dither_strength", settings.dither_strength)

    def advanced_open(self) -> bool:
        return str(self._store.value("controls/advanced_open", "false")).lower() == "true"

    def set_advanced_open(self, value: bool) -> None:
        self._store.setValue("controls/advanced_open", bool(value))

    # --------------------------------------------------------------- window
    def window_geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def splitter_state(self) -> QByteArray | None:
        value = self._store.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_layout(self, geometry: QByteArray, state: QByteArray,
                          splitter: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)
        self._store.setValue("window/splitter", splitter)

    def controls_visible(self) -> bool:
        return str(self._store.value("view/controls_visible", "true")).lower() != "false"

    def set_controls_visible(self, value: bool) -> None:
        self._store.setValue("view/controls_visible", bool(value))

    def background(self) -> tuple[str, str]:
        """The views' background for transparent pixels, and the custom colour."""
        kind = str(self._store.value("view/background", "checkerboard"))
        colour = str(self._store.value("view/background_colour", "#808080"))
        return kind, colour

    def set_background(self, kind: str, colour: str) -> None:
        self._store.setValue("view/background", kind)
        self._store.setValue("view/background_colour", colour)

    def view_mode(self) -> str:
        mode = str(self._store.value("view/mode", "split"))
        return mode if mode in ("split", "original", "result", "difference") else "split"

    def set_view_mode(self, mode: str) -> None:
        self._store.setValue("view/mode", mode)
