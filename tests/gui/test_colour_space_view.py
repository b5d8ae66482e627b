"""The colour-space view and panel: drawing, per-iteration updates, step mode."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from kmeans_gui.core import build_histogram, kmeans_steps
from kmeans_gui.core.quantizer.cloud import (
    fit_scale,
    pack_rgb,
    project,
    sample_histogram,
    view_matrix,
    world_coords,
)
from kmeans_gui.gui.cloud_panel import ColourSpacePanel
from kmeans_gui.gui.colour_space_view import TRAIL, ColourSpaceView


@pytest.fixture
def photo_pixels():
    """A noisy colour gradient: K-Means needs several iterations on it."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:80, 0:100]
    pixels = np.stack([x * 2.5, y * 3.0, 255 - x * 1.2 - y * 1.5], axis=2)
    pixels = pixels + rng.integers(-20, 21, (80, 100, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


@pytest.fixture
def hist(photo_pixels):
    return build_histogram(photo_pixels)


def run(hist, **kw):
    return list(kmeans_steps(hist, 4, tol=0.0, restarts=1, **kw))


def feed(panel, state):
    panel.add_iteration(state.iteration, state.palette, state.labels, state.moved, state.mse,
                        state.converged, state.reason, state.start)


@pytest.fixture
def panel(qtbot, hist):
    panel = ColourSpacePanel()
    qtbot.addWidget(panel)
    panel.resize(500, 520)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_image(hist, sample_histogram(hist, 2000))
    panel.start_run(4, "kmeans++", "oklab", True)
    return panel


def test_a_point_is_drawn_where_the_projection_puts_it(qtbot):
    view = ColourSpaceView()
    qtbot.addWidget(view)
    view.resize(300, 240)
    colours = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    hist = build_histogram(np.repeat(colours[None], 50, axis=0))
    view.set_sample(sample_histogram(hist), "oklab")
    view.set_view("top")
    image = view.render_cloud().convertToFormat(view.render_cloud().Format.Format_RGB32)
    dpr = view.devicePixelRatioF()
    scale = fit_scale("oklab", 300, 240, view.zoom()) * dpr
    x, y, _ = project(world_coords(colours, "oklab"), view_matrix(0.0, np.pi / 2), scale,
                      (150 * dpr, 120 * dpr))
    for i, colour in enumerate(colours):
        pixel = image.pixel(int(x[i]), int(y[i]))
        assert pixel & 0xFFFFFF == pack_rgb(colour[None])[0] & 0xFFFFFF
    # Top view: red (+a) lies right of blue (-a), and higher on screen (+b is up).
    assert x[0] > x[1] and y[0] < y[1]


def test_rotating_and_zooming_redraws_the_points(qtbot, panel):
    view = panel.view
    view.repaint()
    frames = view.frames
    yaw, pitch = view.rotation()
    start_zoom = view.zoom()  # fitted to the image's colours
    assert start_zoom >= 1.0
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(160, 130))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(160, 130))
    view.repaint()
    assert view.rotation()[0] < yaw and view.rotation()[1] > pitch
    assert view.frames > frames
    view.set_zoom(2.0)
    assert view.zoom() == 2.0
    panel.view_buttons["top"].click()
    assert view.rotation() == pytest.approx((0.0, np.pi / 2))
    view.reset_view()
    assert view.zoom() == start_zoom and view.rotation() == (yaw, pitch)


def test_the_view_follows_every_iteration(panel, hist):
    states = run(hist, seed=5)
    assert len(states) >= 3
    sample = panel.view.sample()
    for n, state in enumerate(states, start=1):
        feed(panel, state)
        assert np.array_equal(panel.view.centroid_palette(), state.palette)
        assert np.array_equal(panel.view.labels(), state.labels[sample.groups])
        assert panel.view.trail_length() == min(n - 1, TRAIL)
    panel.view.set_colouring("cluster")
    colours = panel.view.point_colours()
    assert np.array_equal(colours, pack_rgb(states[-1].palette)[states[-1].labels[sample.groups]])
    assert "done" in panel.caption.text()


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_step_mode_shows_seeding_assignment_then_update(panel, hist, init):
    states = run(hist, seed=2, init=init)
    panel.start_run(4, init, "oklab", True)
    panel.set_step_mode(True)
    sample = panel.view.sample()
    requested = []
    panel.iteration_requested.connect(lambda: requested.append(1))
    shown = []
    panel.phase_shown.connect(lambda kind, i: shown.append((kind, i)))

    feed(panel, states[0])  # the worker is held after its first iteration
    assert shown == [("seed", 0)]
    assert np.array_equal(panel.view.centroid_palette(), states[0].start)
    assert panel.view.labels() is None
    assert "Seeding" in panel.caption.text()

    panel.step()  # assignment: points take the nearest seed; centroids stay
    assert shown[-1] == ("assign", 1)
    assert np.array_equal(panel.view.centroid_palette(), states[0].start)
    assert np.array_equal(panel.view.labels(), states[0].labels[sample.groups])
    assert "assignment" in panel.caption.text() and "changed cluster" in panel.caption.text()

    panel.step()  # update: centroids move to the means
    assert shown[-1] == ("update", 1)
    assert np.array_equal(panel.view.centroid_palette(), states[0].palette)
    assert "update" in panel.caption.text() and "RMS error" in panel.caption.text()
    assert not requested

    panel.step()  # nothing left: the worker must compute iteration 2
    assert requested == [1] and shown[-1] == ("update", 1)
    feed(panel, states[1])
    assert shown[-1] == ("assign", 2)
    assert np.array_equal(panel.view.centroid_palette(), states[0].palette)
    assert np.array_equal(panel.view.labels(), states[1].labels[sample.groups])
    panel.step()
    assert shown[-1] == ("update", 2)
    assert np.array_equal(panel.view.centroid_palette(), states[1].palette)

    # An iteration that arrives before it was asked for waits for its step;
    # leaving step mode jumps to the latest state.
    feed(panel, states[2])
    assert shown[-1] == ("update", 2)
    panel.set_step_mode(False)
    assert shown[-1] == ("update", 3)


def test_hovering_a_centroid_highlights_its_cluster(qtbot, panel, hist):
    states = run(hist, seed=1)
    for state in states:
        feed(panel, state)
    view = panel.view
    view.repaint()
    target = 2
    x, y = view.centroid_positions()[target]
    hovered = []
    view.centroid_hovered.connect(hovered.append)
    qtbot.mouseMove(view, QPoint(int(round(x)), int(round(y))))
    assert hovered and hovered[-1] == view.centroid_at(QPointF(x, y))
    picked = hovered[-1]
    panel.set_highlight(picked)
    labels = view.labels()
    colours = view.point_colours()
    own = pack_rgb(view.sample().colors)
    assert np.array_equal(colours[labels == picked], own[labels == picked])
    assert not np.any(colours[labels != picked] == own[labels != picked])
    share, error = panel.cluster_figures(picked)
    assert share == pytest.approx(hist.counts[states[-1].labels == picked].sum()
                                  / hist.n_pixels)
    assert "% of pixels" in panel.cluster_label.text() and "mean error" in \
        panel.cluster_label.text()


def test_finishing_reorders_the_clusters_like_the_result(panel, hist):
    states = run(hist, seed=1)
    for state in states:
        feed(panel, state)
    last = states[-1]
    order = np.array([3, 1, 0, 2])
    trail = panel.view.trail_length()
    before = panel.view.centroid_positions()
    panel.finish(last.palette[order])
    assert panel.view.trail_length() == trail  # renumbering is not a move
    assert np.allclose(panel.view.centroid_positions(), before[order])
    sample = panel.view.sample()
    assert np.array_equal(panel.view.centroid_palette(), last.palette[order])
    new_labels = panel.view.labels()
    assert np.array_equal(order[new_labels], last.labels[sample.groups])


def test_transparent_pixels_are_shown_apart(qtbot):
    pixels = np.zeros((20, 20, 4), np.uint8)
    pixels[:10, :, :3] = [250, 30, 30]
    pixels[:10, :, 3] = 255
    pixels[10:15, :, :3] = [20, 20, 240]
    pixels[10:15, :, 3] = 255
    hist = build_histogram(pixels)
    panel = ColourSpacePanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    panel.set_image(hist, sample_histogram(hist))
    states = list(kmeans_steps(hist, 3))
    for state in states:
        feed(panel, state)
    view = panel.view
    assert view.centroid_palette()[0, 3] == 0
    # The transparent entry is not a point in the cloud and cannot be picked there.
    x, y = view.centroid_positions()[0]
    assert view.centroid_at(QPointF(x, y)) != 0
    panel.grab()  # paints the swatch apart without error


def test_finishing_in_step_mode_reorders_the_phases_still_to_show(panel, hist):
    states = run(hist, seed=1)
    panel.set_step_mode(True)
    for state in states:
        feed(panel, state)  # the seeding shows; the rest waits for steps
    order = np.array([2, 0, 3, 1])
    panel.finish(states[-1].palette[order])
    while panel.sequence.pending:
        panel.step()
    sample = panel.view.sample()
    assert np.array_equal(panel.view.centroid_palette(), states[-1].palette[order])
    assert np.array_equal(order[panel.view.labels()], states[-1].labels[sample.groups])


def test_axis_labels_stay_inside_the_view(qtbot, hist):
    # At the starting view of a photo the L axis ends at the top edge: its
    # label "L (light)" was drawn half outside the view.
    view = ColourSpaceView()
    qtbot.addWidget(view)
    view.resize(340, 300)
    view.set_sample(sample_histogram(hist), "oklab")
    view.reset_view()
    for zoom in (view.zoom(), 2.0, 3.0):
        view.set_zoom(zoom)
        view.grab()
        boxes = view.label_boxes()
        assert "L (light)" in boxes
        for text, box in boxes.items():
            assert view.rect().toRectF().contains(box), (zoom, text, box)


def test_a_centroid_is_a_disc_of_its_colour_in_a_dark_then_a_light_ring(qtbot):
    """The rings are drawn once and laid over each centroid's disc: both must
    still sit on the centroid, all round, for the normal and the highlighted
    size (sampled along rays, so a sub-pixel shift does not decide it)."""
    from kmeans_gui.gui.colour_space_view import MARKER
    view = ColourSpaceView()
    qtbot.addWidget(view)
    view.resize(320, 260)
    # Off the axes' lines and labels, which are drawn over the centroids.
    colours = np.array([[255, 0, 0], [200, 60, 230], [0, 200, 0]], np.uint8)
    hist = build_histogram(np.repeat(colours[None], 50, axis=0))
    view.set_sample(sample_histogram(hist), "oklab")
    view.set_view("top")
    view.set_clusters(colours, np.arange(len(sample_histogram(hist))) % 3)
    view.set_highlight(1)
    image = view.grab().toImage()
    dpr = image.devicePixelRatio()
    for i, (x, y) in enumerate(view.centroid_positions()):
        r = MARKER * (1.45 if i == 1 else 1.0)
        ring = 3.2 if i == 1 else 2.4

        def at(dx, dy, x=x, y=y):
            c = image.pixelColor(int(round((x + dx) * dpr)), int(round((y + dy) * dpr)))
            return c.red(), c.green(), c.blue()

        assert at(0, 0) == tuple(int(v) for v in colours[i])  # the disc
        for ux, uy in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # all round it, outwards:
            dark = [at(ux * d, uy * d) for d in np.arange(r - ring / 2, r + 0.6, 0.3)]
            assert min(max(c) for c in dark) < 70, (i, ux, uy, dark)  # a dark ring
            light = [at(ux * d, uy * d) for d in np.arange(r + ring / 2 - 0.4, r + 3.0, 0.3)]
            assert max(min(c) for c in light) > 170, (i, ux, uy, light)  # then a light one
        assert max(at(r + 6, 0)) < 120  # and nothing beyond



def test_a_new_image_draws_its_cloud_in_a_frame_of_its_own(qtbot, hist, monkeypatch):
    """Opening an image repaints the whole window; the cloud (the dearest
    widget to draw) asks for its repaint only after that frame, and it does ask."""
    view = ColourSpaceView()
    qtbot.addWidget(view)
    view.resize(300, 240)
    view.show()
    qtbot.waitExposed(view)
    requests = []
    real_update = view.update
    monkeypatch.setattr(view, "update", lambda *a: (requests.append(a), real_update(*a)))
    frames = view.frames
    view.set_sample(sample_histogram(hist, 2000), "oklab")
    view.set_clusters(np.array([[200, 40, 40], [40, 40, 200]], np.uint8), None)
    assert requests == []  # nothing asked of this frame
    qtbot.waitUntil(lambda: view.frames > frames, timeout=2000)
    assert len(requests) == 1
    view.set_view("top")  # past the new image's frame, changes repaint at once again
    assert len(requests) == 2
