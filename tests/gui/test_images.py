"""Unusual images through the whole window: transparency, few colours, big ones."""

from __future__ import annotations

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings

from .conftest import open_and_wait, write_image


def test_transparent_pixels_keep_a_transparent_entry(qtbot, window, scripted_dialogs, tmp_path):
    y, x = np.mgrid[0:64, 0:96]
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[..., 0] = x * 2
    rgba[..., 1] = y * 3
    rgba[..., 2] = 90
    rgba[..., 3] = 255
    rgba[:, :20, 3] = 0  # a fully transparent band
    path = write_image(tmp_path / "alpha.png", rgba)
    window.controls.set_settings(QuantizeSettings(k=8))
    finished = open_and_wait(qtbot, window, path)
    palette = finished.result.palette
    assert palette.shape == (8, 4) and (palette[:, 3] == 0).sum() == 1
    assert window.canvas.grab().isNull() is False
    scripted_dialogs.save_path = str(tmp_path / "alpha-k8.png")
    with qtbot.waitSignal(window.result_saved, timeout=20000):
        window.save_as()
    with Image.open(tmp_path / "alpha-k8.png") as im:
        assert im.mode == "P" and "transparency" in im.info
        assert im.convert("RGBA").getpixel((5, 5))[3] == 0


def test_image_with_fewer_colours_than_k(qtbot, window, tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, 20:40] = (200, 30, 30)
    pixels[:, 40:] = (20, 200, 90)
    path = write_image(tmp_path / "flags.png", pixels)
    window.controls.set_settings(QuantizeSettings(k=16))
    seen = []
    window.preview_shown.connect(seen.append)
    finished = open_and_wait(qtbot, window, path)
    assert finished.result.n_colors == 3
    assert finished.result.reason == "few colours"
    assert seen == [0]
    assert np.array_equal(finished.result.to_rgb(), pixels)


def test_preview_follows_a_larger_window(qtbot, make_window, tmp_path):
    rng = np.random.default_rng(3)
    big = np.repeat(np.repeat(rng.integers(0, 256, (150, 200, 3), np.uint8), 8, 0), 8, 1)
    path = write_image(tmp_path / "big.png", big)  # 1600 x 1200
    window = make_window(resize=False)
    window.resize(500, 400)
    finished = open_and_wait(qtbot, window, path)
    small = window.canvas.preview_size()
    assert small[0] < 500 and finished.preview.shape[1] == small[0]
    window.resize(1000, 780)
    qtbot.waitUntil(lambda: window.canvas.preview_size()[0] > small[0] * 1.1, timeout=10000)
    wanted = window.canvas.preview_size()
    # the result's preview is remapped at the new size too
    qtbot.waitUntil(lambda: window.canvas._result.preview.width() == wanted[0], timeout=10000)
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=10000)
    assert window.session.preview_pixels.shape[1] == wanted[0]
