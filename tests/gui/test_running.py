"""The worker: progress per iteration, restart on change, stop, clean close."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from kmeans_gui.core import QuantizeSettings, build_histogram, load_image, remap, steps
from kmeans_gui.gui.jobs import Finished, Job, QuantizeJob
from kmeans_gui.gui.runner import JobRunner

from .conftest import open_and_wait

LONG = QuantizeSettings(k=64, tol=0.0, max_iter=1000)  # runs until no pixel moves
#: Runs changed or stopped midway: iterations paced (see conftest.py).
pytestmark = pytest.mark.usefixtures("paced_iterations")


def start_long_run(qtbot, window, path) -> list:
    """Open ``path`` with LONG settings and wait for the first live preview;
    returns the list that collects run_finished payloads."""
    window.controls.set_settings(LONG)
    finished = []
    window.run_finished.connect(finished.append)
    with qtbot.waitSignal(window.preview_shown, timeout=20000):
        window.open_path(path)
    return finished


def test_one_progress_signal_per_iteration_then_finished(qtbot, window, gradient_png):
    window.controls.set_settings(QuantizeSettings(k=12))
    seen = []
    window.preview_shown.connect(seen.append)
    finished = open_and_wait(qtbot, window, gradient_png)
    n = finished.result.iterations
    assert n >= 2
    assert seen == list(range(1, n + 1))
    assert finished.result.n_colors == 12
    assert finished.result.indices.shape == (120, 160)
    # the same iterations as iterating the core directly
    image = load_image(gradient_png)
    direct = list(steps(image, QuantizeSettings(k=12)))
    assert len(direct) == n
    assert window.chart.values() == [(s.iteration, s.inertia) for s in direct]
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=5000)


def test_job_progress_payloads(qtbot, gradient_png):
    """The job itself, outside the window: previews at the given size, shares summing to 1."""
    image = load_image(gradient_png)
    preview = np.ascontiguousarray(image.pixels[::2, ::2])
    job = QuantizeJob(image, build_histogram(image.pixels), QuantizeSettings(k=8), preview)
    values = []
    runner = JobRunner()
    runner.yielded.connect(lambda job_id, kind, value: values.append((job_id, kind, value)))
    with qtbot.waitSignal(runner.ended, timeout=20000) as ended:
        runner.submit(job)
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=5000)
    assert ended.args == [job.job_id, "quantize", "done", ""]
    assert all(job_id == job.job_id and kind == "quantize" for job_id, kind, _ in values)
    *reports, done = [value for _, _, value in values]
    assert isinstance(done, Finished)
    assert [p.iteration for p in reports] == list(range(1, len(reports) + 1))
    assert reports[-1].converged and not any(p.converged for p in reports[:-1])
    # Previews come at most at the frame rate, always with the first iteration.
    assert reports[0].preview is not None
    for p in reports:
        if p.preview is not None:
            assert p.preview.shape == preview.shape[:2] and p.preview.dtype == np.uint8
            assert np.array_equal(p.preview, remap(preview, p.palette, "oklab"))
        assert abs(p.shares.sum() - 1.0) < 1e-9
    assert done.result.indices.shape == image.pixels.shape[:2]
    assert done.estimated_size > 0
    assert abs(done.shares.sum() - 1.0) < 1e-9


class _QuickJob(Job):
    kind = "load"

    def work(self):
        yield "opened"


class _HeldJob(Job):
    """Runs until ``release`` is set (or 10 s pass)."""

    kind = "quantize"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def work(self):
        self.release.wait(10)
        yield "held"


def test_a_worker_leaving_never_holds_up_the_next_one(qtbot, monkeypatch):
    """The next job starts as soon as the previous worker has left; the late
    ``finished`` report of that deleted worker must not make the GUI thread
    wait for the new one. Qt's ``sender()`` can name a deleted object by an
    address a newer one has taken; the patch stands in for that."""
    runner = JobRunner()
    monkeypatch.setattr(runner, "sender", lambda: runner.running_thread())
    runner.submit(_QuickJob())
    first = runner.running_thread()
    deadline = time.monotonic() + 10
    while not first.done and time.monotonic() < deadline:
        time.sleep(0.001)  # no event processing: its finished report stays queued
    assert first.done
    del first
    held = _HeldJob()
    runner.submit(held)
    second = runner.running_thread()
    assert second is not None and second.job is held
    qtbot.wait(200)  # delivers the queued reports of the first worker
    try:
        assert runner.running_thread() is second and second.isRunning()
    finally:
        held.release.set()
        qtbot.waitUntil(lambda: not runner.is_busy(), timeout=15000)


def test_live_previews_are_made_at_most_at_the_frame_rate(monkeypatch, gradient_png):
    """Iterations that come sooner than PREVIEW_INTERVAL after the last preview
    are reported without one; the first always has one."""
    from kmeans_gui.gui import jobs
    monkeypatch.setattr(jobs, "PREVIEW_INTERVAL", 1e9)
    image = load_image(gradient_png)
    job = QuantizeJob(image, build_histogram(image.pixels),
                      QuantizeSettings(k=8, tol=0.0, max_iter=50), image.pixels)
    reports = [v for v in job.work() if isinstance(v, jobs.Progress)]
    assert len(reports) >= 3
    assert reports[0].preview is not None
    assert all(p.preview is None for p in reports[1:])
    # On an image much larger than its preview the converged palette gets one too:
    # the full-resolution result takes a while.
    small = np.ascontiguousarray(image.pixels[::3, ::3])
    job = QuantizeJob(image, build_histogram(image.pixels),
                      QuantizeSettings(k=8, tol=0.0, max_iter=50), small)
    reports = [v for v in job.work() if isinstance(v, jobs.Progress)]
    assert reports[0].preview is not None and reports[-1].converged
    assert reports[-1].preview is not None
    assert all(p.preview is None for p in reports[1:-1])


def test_changing_k_mid_run_cancels_and_restarts(qtbot, window, noise_png):
    finished = start_long_run(qtbot, window, noise_png)
    slider = window.controls.k_slider
    slider.setValue(slider.position_of(8))  # as if dragging the slider
    window.controls.tol_spin.setValue(0.01)
    assert window.controls.k_spin.value() == 8
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=20000)
    qtbot.wait(50)
    assert len(finished) == 1, "the superseded run must not report a result"
    assert finished[0].result.n_colors == 8
    assert finished[0].settings.k == 8
    assert len(window.palette_view.colors()) == 8
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=5000)


def test_edits_are_debounced_into_one_run(qtbot, window, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    started = []
    window.session.runner.job_started.connect(lambda job: started.append(job.kind))
    for k in (5, 6, 7, 8):
        window.controls.k_spin.setValue(k)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        pass
    assert started == ["quantize"]
    assert blocker.args[0].result.n_colors == 8


def test_stop_ends_the_run_and_leaves_no_thread(qtbot, window, noise_png):
    finished = start_long_run(qtbot, window, noise_png)
    assert window.stop_action.isEnabled()
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.stop_action.trigger()
    qtbot.waitUntil(lambda: not window.session.is_busy(), timeout=5000)
    assert len(finished) == 1 and finished[0].result.reason == "stopped"
    assert not window.stop_action.isEnabled()
    assert window.session.result is finished[0]


def test_closing_mid_run_stops_within_a_second(qtbot, make_window, noise_png, qtlog):
    window = make_window()
    start_long_run(qtbot, window, noise_png)
    thread = window.session.runner.running_thread()
    assert thread is not None and thread.isRunning()
    started = time.perf_counter()
    assert window.close()
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert not window.session.is_busy()
    assert thread.isFinished()
    assert not any("QThread" in m.message for m in qtlog.records)


def test_closing_during_open_stops_cleanly(qtbot, make_window, noise_png):
    window = make_window()
    window.open_path(noise_png)
    assert window.session.is_loading()
    assert window.close()
    assert not window.session.is_busy()
    assert window.session.image is None


def test_the_done_line_says_1_iteration_not_1_iterations(qtbot, window, gradient_png):
    finished = open_and_wait(qtbot, window, gradient_png)
    one = dataclasses.replace(finished, result=dataclasses.replace(
        finished.result, iterations=1, reason="tolerance"))
    window.session.result_changed.emit(one)
    assert " after 1 iteration (" in window.status.label.text()
    stopped = dataclasses.replace(one, result=dataclasses.replace(one.result, reason="stopped"))
    window.session.result_changed.emit(stopped)
    text = window.status.label.text()
    assert text.startswith("Stopped after 1 iteration: this ")
    assert f"this {one.result.n_colors}-colour result" in text  # not "this 200 colours result"
