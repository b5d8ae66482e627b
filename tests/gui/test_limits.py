"""The app's pixel limit: a stored setting, read each time an image is opened."""

from __future__ import annotations

from kmeans_gui.core import MAX_PIXELS

from .conftest import open_and_wait


def test_a_stored_pixel_limit_applies_at_the_next_open(qtbot, window, scripted_dialogs,
                                                       gradient_png):
    assert window.settings.max_pixels() == MAX_PIXELS
    window.settings._store.setValue("limits/max_pixels", 10_000)  # 160x120 is 19 200
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_path(gradient_png)
    assert "the limit is 0.01 megapixels" in scripted_dialogs.errors[0][2]
    assert window.session.image is None
    window.settings._store.setValue("limits/max_pixels", 20_000)
    open_and_wait(qtbot, window, gradient_png)
    assert window.session.image.pixels.shape == (120, 160, 3)


def test_an_unusable_stored_limit_falls_back_to_the_default(window) -> None:
    for bad in ("lots", 0, -5, 10**12):
        window.settings._store.setValue("limits/max_pixels", bad)
        assert window.settings.max_pixels() == MAX_PIXELS
