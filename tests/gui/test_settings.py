"""Settings persist through QSettings (redirected to a temporary folder)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.gui.settings import Settings

from .conftest import open_and_wait


def test_store_is_private(private_settings):
    store = QSettings()
    store.setValue("probe", 1)
    store.sync()
    assert store.format() == QSettings.Format.IniFormat
    assert str(private_settings) in store.fileName()


def test_controls_and_window_round_trip(qtbot, make_window, gradient_png):
    first = make_window()
    wanted = QuantizeSettings(k=37, space="rgb", init="random", max_iter=55, tol=0.002,
                              seed=7, dither="ordered", dither_strength=0.5)
    first.controls.set_settings(wanted)
    first.controls.set_advanced_open(True)
    first.canvas.set_mode("result")
    first.resize(701, 503)  # within the offscreen screen (800x600)
    open_and_wait(qtbot, first, gradient_png)
    assert first.close()

    second = make_window(resize=False)
    assert second.controls.settings() == wanted
    assert second.controls.advanced_button.isChecked()
    assert second.canvas.mode() == "result"
    assert (second.size().width(), second.size().height()) == (701, 503)
    assert second.settings.recent_files() == [str(gradient_png.resolve())]
    assert second.settings.last_folder() == str(gradient_png.parent)


def test_bad_stored_values_fall_back_to_defaults():
    store = QSettings()
    store.setValue("controls/k", "many")
    store.setValue("controls/space", "cmyk")
    store.sync()
    assert Settings().quantize_settings() == QuantizeSettings()
    store.setValue("controls/k", 999)
    store.sync()
    assert Settings().quantize_settings().k == 256


def test_recent_files_are_unique_and_bounded(tmp_path):
    settings = Settings()
    for i in range(12):
        settings.add_recent(tmp_path / f"{i}.png")
    settings.add_recent(tmp_path / "5.png")
    recent = settings.recent_files()
    assert len(recent) == 8
    assert recent[0].endswith("5.png") and len(set(recent)) == 8
