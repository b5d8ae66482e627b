"""Honest previews: what the window shows is the file, at that zoom."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import QuantizeSettings, remap
from kmeans_gui.gui.imaging import delta_e_map, downscale

from .conftest import open_and_wait


def _shown_colours(window) -> set[tuple[int, int, int]]:
    """Distinct colours in the middle of the view as painted on screen."""
    image = window.canvas.grab().toImage().convertToFormat(
        window.canvas.grab().toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h)
    pixels = data.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    middle = pixels[h // 4: 3 * h // 4, w // 4: 3 * w // 4].reshape(-1, 3)
    background = (0x3B, 0x3D, 0x40)  # around an image smaller than the view
    return {tuple(int(v) for v in c) for c in np.unique(middle, axis=0)} - {background}


def test_fit_preview_is_the_saved_file_downscaled_like_the_original(
        qtbot, window, scripted_dialogs, tmp_path):
    y, x = np.mgrid[0:900, 0:1400]
    pixels = np.stack([x * 255 // 1399, y * 255 // 899, (x // 7 + y // 5) % 256],
                      axis=2).astype(np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(pixels).save(path)
    window.controls.set_settings(QuantizeSettings(k=16, dither="fs", max_iter=8))
    finished = open_and_wait(qtbot, window, path, timeout=60000)
    assert not scripted_dialogs.errors
    scripted_dialogs.save_path = str(tmp_path / "saved.png")
    with qtbot.waitSignal(window.result_saved, timeout=20000):
        window.save_as()
    with Image.open(tmp_path / "saved.png") as im:
        saved = np.asarray(im.convert("RGB"))
    size = window.canvas.preview_size()
    assert size[0] < 1400  # the view really is smaller than the image
    expected = downscale(saved, size)
    shown = window.canvas.result_preview_pixels()
    assert np.array_equal(shown, expected)
    assert np.array_equal(finished.preview_rgb, expected)


def test_live_previews_are_labelled_until_the_dithered_file_arrives(qtbot, window, noise_png):
    """While K-Means iterates the view shows each pixel's nearest entry and says
    it is an undithered preview; the finished view is the dithered file."""
    window.controls.set_settings(QuantizeSettings(k=8, max_iter=6, dither="fs"))
    reports = []
    window.session.progress.connect(reports.append)
    labels = []
    window.preview_shown.connect(lambda _i: labels.append(window.canvas.comparison_labels()[1]))
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.open_path(noise_png)
    p = reports[0]
    assert p.preview is not None and p.undithered
    pixels = np.asarray(Image.open(noise_png).convert("RGB"))
    preview_pixels = downscale(pixels, window.canvas.preview_size())
    assert np.array_equal(p.preview, remap(preview_pixels, p.palette, "oklab"))
    assert labels[0] == "Preview, not yet dithered"
    f = blocker.args[0]
    assert window.canvas.comparison_labels()[1] == "Result"
    assert np.array_equal(window.canvas.result_preview_pixels(), f.preview_rgb)
    # the shown result is dithered: not the nearest entry of every pixel
    assert not np.array_equal(f.result.indices, remap(pixels, f.result.palette, "oklab"))
    assert np.array_equal(f.result.indices, remap(pixels, f.result.palette, "oklab", "fs"))


def test_undithered_runs_call_their_live_view_a_preview(qtbot, window, noise_png):
    window.controls.set_settings(QuantizeSettings(k=8, max_iter=4, dither="none"))
    labels = []
    window.preview_shown.connect(lambda _i: labels.append(window.canvas.comparison_labels()[1]))
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_path(noise_png)
    assert labels[0] == "Preview"
    assert window.canvas.comparison_labels()[1] == "Result"


def test_at_100_percent_and_more_pixels_are_not_smoothed(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=6))
    finished = open_and_wait(qtbot, window, gradient_png)
    palette = {tuple(int(v) for v in c[:3]) for c in finished.result.palette}
    window.canvas.set_mode("result")
    for zoom in (1.0, 2.08, 4.0):
        window.canvas.set_zoom(zoom)
        assert _shown_colours(window) <= palette, f"smoothed at {zoom * 100:.0f} %"


def test_difference_view_is_a_delta_e_heat_map(qtbot, window, gradient_png):
    finished = open_and_wait(qtbot, window, gradient_png)
    window.mode_actions["difference"].trigger()
    assert window.canvas.mode() == "difference"
    heat = window.canvas.difference_pixels()
    original = finished.result.palette[finished.result.indices]  # same size: no downscale
    delta = delta_e_map(np.asarray(Image.open(gradient_png).convert("RGB")), original)
    assert heat.shape[:2] == delta.shape
    # brighter where the error is larger
    low = heat[delta < np.percentile(delta, 10)].sum(axis=1).mean()
    high = heat[delta > np.percentile(delta, 90)].sum(axis=1).mean()
    assert high > low


@pytest.mark.usefixtures("paced_iterations")
def test_dithered_stop_keeps_working(qtbot, window, noise_png):
    """Stopping a dithered run yields a result whose preview is the file's."""
    window.controls.set_settings(QuantizeSettings(k=64, tol=0.0, max_iter=1000, dither="fs",
                                                   dither_strength=0.5))
    with qtbot.waitSignal(window.preview_shown, timeout=20000):
        window.open_path(noise_png)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.stop()
    f = blocker.args[0]
    assert np.array_equal(f.preview_rgb, f.result.palette[f.result.indices])


def test_sampled_indices_are_the_centre_pixels_of_each_cell():
    from kmeans_gui.gui.imaging import sampled_indices
    rng = np.random.default_rng(3)
    indices = rng.integers(0, 16, (37, 53), np.uint8)
    for size in ((53, 37), (10, 7), (1, 1), (26, 18)):
        got = sampled_indices(indices, size)
        assert got.shape == (size[1], size[0])
        for y in range(size[1]):
            for x in range(size[0]):
                cy = int((y + 0.5) * 37 / size[1])
                cx = int((x + 0.5) * 53 / size[0])
                assert got[y, x] == indices[cy, cx]


def test_the_result_downscaled_in_bands_is_pillows_whole_image_resize(monkeypatch):
    """shown_like_original reduces the expanded result a band of rows at a
    time; it must give exactly what expanding the whole result and resizing
    it like the original does (Lanczos after Pillow's integer reduction), for
    RGB and RGBA, with partial blocks at the edges and bands of any height."""
    from kmeans_gui.gui import imaging
    rng = np.random.default_rng(5)
    for trial in range(24):
        monkeypatch.setattr(imaging, "SHOWN_BAND_ROWS", int(rng.integers(1, 80)))
        h, w = (int(v) for v in rng.integers(2, 400, 2))
        channels = 4 if trial % 2 else 3
        k = int(rng.integers(1, 257))
        palette = rng.integers(0, 256, (k, channels), np.uint8)
        indices = rng.integers(0, k, (h, w), np.uint8)
        if trial % 3 == 0:  # flat blocks as well as noise
            indices = np.repeat(np.repeat(indices[::7, ::5], 7, 0), 5, 1)[:h, :w].copy()
        size = (int(rng.integers(1, w + 1)), int(rng.integers(1, h + 1)))
        mode = "RGBA" if channels == 4 else "RGB"
        whole = Image.fromarray(palette[indices], mode).resize(
            size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        assert np.array_equal(imaging.shown_like_original(indices, palette, size),
                              np.asarray(whole)), (h, w, channels, size)



def test_the_original_downscaled_in_bands_is_pillows_whole_image_resize(monkeypatch):
    """downscale reduces the original a band of rows at a time (never a
    four-byte copy of the whole image in Pillow); it must give exactly
    Pillow's whole-image resize with the same filter, for RGB and RGBA
    (semi-transparent pixels too), partial blocks and bands of any height."""
    from kmeans_gui.gui import imaging
    rng = np.random.default_rng(11)
    for trial in range(24):
        monkeypatch.setattr(imaging, "SHOWN_BAND_ROWS", int(rng.integers(1, 80)))
        h, w = (int(v) for v in rng.integers(2, 400, 2))
        channels = 4 if trial % 2 else 3
        pixels = rng.integers(0, 256, (h, w, channels), np.uint8)
        if trial % 3 == 0:  # smooth areas as well as noise
            pixels = np.repeat(np.repeat(pixels[::9, ::6], 9, 0), 6, 1)[:h, :w].copy()
        size = (int(rng.integers(1, w + 1)), int(rng.integers(1, h + 1)))
        mode = "RGBA" if channels == 4 else "RGB"
        whole = Image.fromarray(pixels, mode).resize(
            size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        assert np.array_equal(imaging.downscale(pixels, size), np.asarray(whole)), \
            (h, w, channels, size)

def test_the_quality_probe_gives_the_brute_force_mean_delta_e():
    from kmeans_gui.core import oklab_delta_e
    from kmeans_gui.core.quantizer.pipeline import QuantizeResult
    from kmeans_gui.gui import jobs
    rng = np.random.default_rng(7)
    for h, w in ((30, 40), (700, 900)):  # every pixel, and a grid of every second one
        pixels = rng.integers(0, 256, (h, w, 3), np.uint8)
        probe = jobs.quality_probe(pixels)
        assert jobs.quality_probe(pixels) is probe  # one per image
        for k in (2, 16):
            palette = rng.integers(0, 256, (k, 3), np.uint8)
            indices = remap(pixels, palette)
            result = QuantizeResult(indices, palette, 1, 0.0, 0.0, "", 0.0)
            step = probe.step
            expected = oklab_delta_e(pixels[::step, ::step], palette[indices[::step, ::step]])
            assert np.isclose(probe.delta_e(pixels, result), expected, rtol=1e-12)
            assert np.isclose(jobs.mean_delta_e(pixels, result), expected, rtol=1e-12)
    assert jobs.quality_probe(pixels[:10].copy()) is not probe
