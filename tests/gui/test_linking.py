"""Linking a cluster across the views: swatches, the image and step gating."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QPoint, Qt

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.gui.canvas import ComparisonView
from kmeans_gui.gui.palette_view import PaletteView
from kmeans_gui.gui.stepping import StepGate

from .conftest import open_and_wait


def make_result(rng):
    indices = rng.integers(0, 5, (60, 80)).astype(np.uint8)
    palette = rng.integers(0, 256, (5, 3)).astype(np.uint8)
    return indices, palette


def test_highlight_mask_is_the_pixels_of_that_cluster(qtbot):
    rng = np.random.default_rng(4)
    indices, palette = make_result(rng)
    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.set_original(palette[indices], palette[indices])
    view.set_result_preview(indices, palette)
    assert view.highlight_mask() is None
    for j in range(5):
        view.set_highlight(j)
        assert np.array_equal(view.highlight_mask(), indices == j)
        view.grab()  # paints with the overlay
    # A new result (the next iteration) gets a fresh mask.
    later = np.roll(indices, 7, axis=1)
    view.set_result_preview(later, palette)
    assert np.array_equal(view.highlight_mask(), later == 4)
    view.set_highlight(None)
    assert view.highlight_mask() is None


def test_clicking_a_pixel_tells_its_cluster(qtbot):
    rng = np.random.default_rng(5)
    indices, palette = make_result(rng)
    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_original(palette[indices], palette[indices])
    view.set_result_full(indices, palette)
    view.set_result_preview(indices, palette)
    view.set_mode("result")
    rect = view.image_rect()
    clicked = []
    view.cluster_clicked.connect(clicked.append)
    for ix, iy in [(3, 4), (70, 50), (40, 10)]:
        pos = QPoint(int(rect.left() + (ix + 0.5) * rect.width() / 80),
                     int(rect.top() + (iy + 0.5) * rect.height() / 60))
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pos)
        assert clicked[-1] == indices[iy, ix]
    # A drag pans; it does not pick.
    count = len(clicked)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(160, 140))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(160, 140))
    assert len(clicked) == count


def test_hovering_and_clicking_swatches(qtbot):
    view = PaletteView()
    qtbot.addWidget(view)
    view.resize(300, 60)
    view.set_palette(np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8))
    view.show()
    qtbot.waitExposed(view)
    hovered, clicked = [], []
    view.hovered.connect(hovered.append)
    view.clicked.connect(clicked.append)
    centre = view._cell(1).center()
    qtbot.mouseMove(view, centre)
    assert hovered[-1] == 1
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view._cell(2).center())
    assert clicked == [2]
    view.set_highlight(2)
    assert view.highlight() == 2
    view.grab()


def test_step_gate_holds_the_worker_until_a_step():
    gate = StepGate(paused=True)
    passed = []
    stop = threading.Event()

    def worker():  # as a job does: ask, and between waits look for a cancellation
        for i in range(3):
            while not gate.wait(0.02):
                if stop.is_set():
                    passed.append("stopped")
                    return
            passed.append(i)

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(0.15)
    assert passed == []  # held
    gate.step()
    deadline = time.monotonic() + 5
    while len(passed) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert passed == [0]  # one step, one iteration
    stop.set()  # a cancelled worker leaves its wait
    thread.join(5)
    assert not thread.is_alive() and passed == [0, "stopped"]

    gate = StepGate(paused=True)
    assert not gate.wait(0.01)
    results = []
    thread = threading.Thread(target=lambda: results.append(gate.wait(5)))
    thread.start()
    time.sleep(0.05)
    gate.resume()
    thread.join(5)
    assert results == [True] and not gate.is_paused() and gate.wait(0)


def _colour_of(window, index):
    return tuple(int(v) for v in window.session.result.result.palette[index][:3])


def test_a_selected_cluster_follows_its_colour_through_a_removed_swatch(qtbot, window,
                                                                        gradient_png):
    # Removing a swatch remaps to the rest, in a new order: the selection kept
    # its index and so highlighted another colour (the image dimmed wrongly).
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    window.palette_view.clicked.emit(3)
    kept = _colour_of(window, 3)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_view.remove_requested.emit(0)
    index = window.link.highlighted()
    assert index is not None and _colour_of(window, index) == kept
    assert window.canvas.highlight() == index and window.palette_view.highlight() == index
    # Removing the selected colour itself lets the selection go.
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.palette_view.remove_requested.emit(index)
    assert window.link.highlighted() is None and window.canvas.highlight() is None


def test_the_hovered_swatch_is_the_colour_under_the_pointer_after_a_removal(qtbot, window,
                                                                          gradient_png):
    # The pointer resting on the strip kept the palette index it had hovered:
    # after a removal that index named another colour, which the image showed.
    window.controls.set_settings(QuantizeSettings(k=6, dither="none"))
    open_and_wait(qtbot, window, gradient_png)
    view = window.palette_view
    qtbot.mouseMove(view, view._cell(3).center())
    assert window.link.highlighted() == view.palette_index(3)
    assert view.underMouse()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        view.remove_requested.emit(view.palette_index(0))
    under = view.colors()[3]  # what the strip shows under the pointer now
    index = window.link.highlighted()
    assert index is not None and _colour_of(window, index) == tuple(int(v) for v in under[:3])
    assert window.canvas.highlight() == index
