"""Widgets and helpers on their own: comparison view, swatches, QImage conversion."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from kmeans_gui.gui.canvas import ComparisonView
from kmeans_gui.gui.imaging import fit_size, gpl_text, needs_new_preview, palette_shares
from kmeans_gui.gui.palette_view import PaletteView
from kmeans_gui.gui.qimages import indexed_image, rgb_image


def test_indexed_image_uses_palette_as_colour_table():
    indices = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    image = indexed_image(indices, palette).image
    assert image.format() == QImage.Format.Format_Indexed8
    assert image.colorTable()[:3] == [0xFFFF0000, 0xFF00FF00, 0xFF0000FF]
    assert image.pixelIndex(2, 0) == 2 and image.pixelIndex(0, 1) == 2


def test_rgb_image_respects_row_stride():
    pixels = np.zeros((3, 5, 3), np.uint8)  # 15-byte rows: not 4-byte aligned
    pixels[2, 4] = (10, 20, 30)
    image = rgb_image(pixels).image
    assert image.bytesPerLine() == 15
    assert image.pixelColor(4, 2).getRgb()[:3] == (10, 20, 30)


def test_helpers():
    assert fit_size(6000, 4000, 1200, 900) == (1200, 800)
    assert fit_size(300, 200, 1200, 900) == (300, 200)  # never enlarged
    assert needs_new_preview((600, 400), (800, 533))
    assert not needs_new_preview((800, 533), (760, 507))
    shares = palette_shares(np.array([[0, 0, 1, 3]], np.uint8), 4)
    assert shares.tolist() == [0.5, 0.25, 0.0, 0.25]
    assert "255   0   0\t#ff0000" in gpl_text(np.array([[255, 0, 0]], np.uint8), "x")


@pytest.fixture
def view(qtbot):
    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    pixels = np.random.default_rng(0).integers(0, 256, (1000, 2000, 3), np.uint8)
    view.set_original(pixels, pixels[::10, ::10].copy())
    return view


def test_view_fits_then_zooms_and_pans(qtbot, view):
    assert view.is_fit()
    dpr = view.devicePixelRatioF()
    assert view.zoom() == pytest.approx(min(400 * dpr / 2000, 300 * dpr / 1000))
    view.zoom_actual()
    assert view.zoom() == 1.0 and not view.is_fit()
    before = view.center()
    view.pan_by(-50, 0)  # drag left: the view moves right over the image
    assert view.center().x() == pytest.approx(before.x() + 50 * dpr)
    view.zoom_fit()
    assert view.is_fit()


def test_wheel_zoom_keeps_point_under_cursor(qtbot, view):
    view.zoom_actual()
    pos = QPointF(100, 80)
    image_point = view._to_image(pos)
    event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    assert view.zoom() == pytest.approx(1.25)
    after = view._to_image(pos)
    assert after.x() == pytest.approx(image_point.x())
    assert after.y() == pytest.approx(image_point.y())


def test_divider_drag_moves_split(qtbot, view):
    x = round(view.width() * view.split())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x, 150))
    qtbot.mouseMove(view, QPoint(100, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 150))
    assert view.split() == pytest.approx(100 / view.width())


def test_view_paints_both_sides(qtbot, view):
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    view.set_result_preview(np.ones((100, 200), np.uint8), palette)
    image = view.grab().toImage()
    dpr = image.devicePixelRatio()
    left = image.pixelColor(round(100 * dpr), round(150 * dpr))
    right = image.pixelColor(round(300 * dpr), round(150 * dpr))
    assert right.getRgb()[:3] == (0, 0, 255)
    assert left.getRgb()[:3] != (0, 0, 255)


def test_swatch_tooltip_has_hex_and_share(qtbot):
    swatches = PaletteView()
    qtbot.addWidget(swatches)
    swatches.resize(200, 40)
    swatches.set_palette(np.array([[255, 128, 0], [1, 2, 3]], np.uint8), np.array([0.75, 0.25]))
    assert swatches.index_at(QPoint(5, 5)) == 0
    assert swatches.index_at(QPoint(40, 5)) == 1  # two colours: large 34 px swatches
    assert swatches.index_at(QPoint(80, 5)) is None
    assert swatches.tooltip_for(0) == "#FF8000 · 75.0 % of pixels"
    assert swatches.heightForWidth(200) == 34
    swatches.set_palette(np.zeros((40, 3), np.uint8))
    assert swatches.heightForWidth(200) == 3 * 14  # 14 per row at the smallest size
    swatches.set_palette(np.zeros((256, 3), np.uint8))
    assert swatches.heightForWidth(320) == 16 * 20  # 16 per row, 16 rows


def test_pyside_reference_leaks_are_harmless():
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per void call and
    to True per signal delivery; importing the GUI package must make both harmless
    (more calls here than the singletons' normal reference counts)."""
    import sys

    from PySide6.QtCore import QObject, QPointF, Signal

    import kmeans_gui.gui  # noqa: F401 - applies the workaround where needed

    class Emitter(QObject):
        ping = Signal(int)

    point, emitter, received = QPointF(), Emitter(), []
    emitter.ping.connect(received.append)
    for i in range(20000):
        point.setX(1.0)
        emitter.ping.emit(i)
    assert len(received) == 20000
    assert sys.getrefcount(None) > 1000 and sys.getrefcount(True) > 1000


def test_chart_tick_labels_stay_distinct_for_narrow_ranges():
    from kmeans_gui.gui.chart import label_digits

    for bottom, top in ((1.47e6, 1.5e6), (0.0, 2.2e6), (7.78e5, 9.32e5), (99.9, 100.0)):
        digits = label_digits(bottom, top, 5)
        ticks = [bottom + i * (top - bottom) / 4 for i in range(5)]
        labels = [f"%.{digits}g" % t for t in ticks]
        assert len(set(labels)) == 5, labels


def test_dither_controls_offer_every_mode(qtbot):
    from kmeans_gui.core import QuantizeSettings
    from kmeans_gui.gui.controls import ControlsPanel
    from kmeans_gui.limits import DITHERS as DITHER_MODES
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    combo = panel.dither_combo
    assert {combo.itemData(i) for i in range(combo.count())} == set(DITHER_MODES)
    assert panel.settings().dither == QuantizeSettings().dither  # the default comes first
    for mode in DITHER_MODES:
        panel.set_settings(QuantizeSettings(dither=mode, dither_strength=0.3))
        assert panel.settings().dither == mode and panel.settings().dither_strength == 0.3
        assert panel.strength_spin.isEnabled() == (mode != "none")
