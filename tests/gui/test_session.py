"""The Session (the GUI's document): stale reports dropped, Save writes the
bytes the size estimate came from, one worker thread at a time, none left
after closing."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.gui import imaging, jobs, runner
from kmeans_gui.gui.session import Session

from .conftest import open_and_wait

LONG = QuantizeSettings(k=64, tol=0.0, max_iter=1000)  # runs until no pixel moves


@pytest.fixture
def session(qtbot):
    s = Session()
    yield s
    s.shutdown()
    assert not s.is_busy()


def open_session(qtbot, session, path):
    with qtbot.waitSignal(session.image_changed, timeout=20000):
        session.open(path, (400, 300))


@pytest.mark.usefixtures("paced_iterations")
def test_reports_of_a_superseded_run_are_dropped(qtbot, session, noise_png):
    open_session(qtbot, session, noise_png)
    delivered = []  # everything the worker delivered to the GUI thread
    session.runner.yielded.connect(lambda job_id, kind, value: delivered.append(job_id))
    with qtbot.waitSignal(session.progress, timeout=20000):
        session.run(LONG)
    worker = session.runner.running_thread()
    first = worker.job.job_id
    emitted = []  # counted in the worker thread, as they are sent
    worker.yielded.connect(lambda *a: emitted.append(1), Qt.ConnectionType.DirectConnection)
    # Keep the GUI thread busy so the first run's reports pile up in its queue.
    deadline = time.monotonic() + 10
    while len(emitted) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    shown, results = [], []
    session.progress.connect(lambda p: shown.append(len(p.palette)))
    session.result_changed.connect(results.append)
    session.run(QuantizeSettings(k=8))
    with qtbot.waitSignal(session.result_changed, timeout=20000,
                          check_params_cb=lambda f: f is not None):
        pass
    assert delivered.count(first) > 1, "the test needs late reports of the first run"
    assert shown and all(n <= 8 for n in shown), "a superseded run's progress got through"
    assert [r.settings.k for r in results if r is not None] == [8]
    assert session.result.result.n_colors == 8


def test_save_writes_exactly_the_estimated_bytes(qtbot, session, gradient_png, tmp_path,
                                                 monkeypatch):
    encodes = []
    # Count encodes wherever they happen: in the run, or inside the core's save.
    for module in {jobs, sys.modules[jobs.save_png.__module__]}:
        if hasattr(module, "encode_png"):
            real = module.encode_png
            monkeypatch.setattr(module, "encode_png", lambda *a, _real=real, **kw:
                                encodes.append(1) or _real(*a, **kw))
    open_session(qtbot, session, gradient_png)
    encoded = []
    session.encoded.connect(encoded.append)
    with qtbot.waitSignal(session.result_changed, timeout=20000,
                          check_params_cb=lambda f: f is not None):
        session.run(QuantizeSettings(k=16))
    assert session.is_dirty()
    png = session.png
    assert encoded == [png] and png.settings == session.result.settings
    out = tmp_path / "out.png"
    with qtbot.waitSignal(session.saved, timeout=20000) as blocker:
        assert session.save(out)
    assert out.read_bytes() == png.data
    assert blocker.args == [str(out), len(png.data)] == [str(out), session.result.estimated_size]
    assert len(encodes) == 1, "Save encoded the result again"
    assert not session.is_dirty() and session.saved_path == out


def test_save_refuses_the_input_image(qtbot, session, gradient_png):
    open_session(qtbot, session, gradient_png)
    with qtbot.waitSignal(session.result_changed, timeout=20000,
                          check_params_cb=lambda f: f is not None):
        session.run(QuantizeSettings(k=4))
    original = gradient_png.read_bytes()
    with qtbot.waitSignal(session.save_failed, timeout=20000) as blocker:
        session.save(gradient_png)
    assert "input" in blocker.args[0]
    assert gradient_png.read_bytes() == original
    assert session.is_dirty()


def test_close_time_save_is_the_same_file_written_off_the_gui_thread(
        qtbot, make_window, scripted_dialogs, gradient_png, tmp_path, monkeypatch):
    writers = []
    real_save = jobs.save_png
    monkeypatch.setattr(jobs, "save_png", lambda *a, **kw: (
        writers.append(threading.current_thread() is threading.main_thread()),
        real_save(*a, **kw))[1])
    window = make_window()
    open_and_wait(qtbot, window, gradient_png)
    png = window.session.png
    scripted_dialogs.save_changes = "save"
    scripted_dialogs.save_path = str(tmp_path / "on-close.png")
    assert window.close()
    assert (tmp_path / "on-close.png").read_bytes() == png.data
    assert writers == [False], "the close-time save must run in the worker"
    assert not window.session.is_busy()


@pytest.mark.usefixtures("paced_iterations")
def test_closing_mid_run_leaves_no_thread_running(qtbot, make_window, noise_png):
    window = make_window()
    window.controls.set_settings(LONG)
    with qtbot.waitSignal(window.preview_shown, timeout=20000):
        window.open_path(noise_png)
    thread = window.session.runner.running_thread()
    assert thread is not None and thread.isRunning()
    assert window.close()
    assert thread.isFinished()
    assert window.session.runner.running_thread() is None
    assert not window.session.is_busy()


def test_one_worker_thread_at_a_time(qtbot, session, gradient_png, noise_png, monkeypatch):
    lock = threading.Lock()
    running, most = [0], [0]
    real_run = runner.GeneratorWorker.run

    def counted(self):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            real_run(self)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(runner.GeneratorWorker, "run", counted)
    kinds = []
    session.runner.job_started.connect(lambda job: kinds.append(job.kind))
    open_session(qtbot, session, noise_png)
    for k in (64, 48, 32):  # each supersedes the last while it is running
        with qtbot.waitSignal(session.progress, timeout=20000):
            session.run(QuantizeSettings(k=k, tol=0.0, max_iter=1000))
        session.rescale((120, 90))  # waits for the run
    session.open(gradient_png, (400, 300))
    qtbot.waitUntil(lambda: not session.is_busy(), timeout=30000)
    assert most[0] == 1
    assert kinds[:4] == ["load", "quantize", "quantize", "quantize"]
    assert session.path == gradient_png and session.image.width == 160


def test_a_new_run_stops_a_finishing_result_between_its_steps(qtbot, session, gradient_png,
                                                              monkeypatch):
    """A new request while a result is being finished (after K-Means) stops it
    at the next step: the steps after it never start, and only the new run's
    result arrives."""
    open_session(qtbot, session, gradient_png)
    in_finish, go_on = threading.Event(), threading.Event()
    shown_for, ended = [], []
    real_shares, real_shown = jobs.palette_shares, jobs.shown_steps

    def shares(indices, n_colors):
        if n_colors == 16:  # the first run: hold it here until the new run was asked for
            in_finish.set()
            go_on.wait(10)
        return real_shares(indices, n_colors)

    def shown(indices, palette, size):
        shown_for.append(len(palette))
        return (yield from real_shown(indices, palette, size))

    monkeypatch.setattr(jobs, "palette_shares", shares)
    monkeypatch.setattr(jobs, "shown_steps", shown)
    session.runner.ended.connect(lambda job_id, kind, status, message:
                                 kind == "quantize" and ended.append(status))
    results = []
    session.result_changed.connect(lambda f: f is not None and results.append(f))
    session.run(QuantizeSettings(k=16))
    qtbot.waitUntil(in_finish.is_set, timeout=20000)
    session.run(QuantizeSettings(k=4))
    go_on.set()
    qtbot.waitUntil(lambda: bool(results), timeout=20000)
    assert ended[0] == "cancelled"
    assert 16 not in shown_for, "the stopped result went on to its next step"
    assert [r.settings.k for r in results] == [4]


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_a_new_run_stops_the_finishing_downscale_between_bands(qtbot, session, noise_png,
                                                               monkeypatch, large):
    """The result downscaled for the view is made a band of rows at a time,
    each a stop point: a new run stops a finishing result after the band it
    is in. Large images make it beside the encode; it stops all the same."""
    monkeypatch.setattr(imaging, "SHOWN_BAND_ROWS", 16)
    monkeypatch.setattr(jobs, "OVERLAP_PIXELS", 0 if large else 1 << 30)
    with qtbot.waitSignal(session.image_changed, timeout=20000):
        session.open(noise_png, (60, 45))  # 400x300 shown at 64x48: reduced by 3 first
    in_band, go_on = threading.Event(), threading.Event()
    bands = {16: 0, 4: 0}
    real = imaging._result_image

    def band(indices, palette):
        bands[len(palette)] += 1
        if len(palette) == 16 and bands[16] == 2:
            in_band.set()
            go_on.wait(10)
        return real(indices, palette)

    monkeypatch.setattr(imaging, "_result_image", band)
    results, ended = [], []
    session.result_changed.connect(lambda f: f is not None and results.append(f))
    session.runner.ended.connect(lambda job_id, kind, status, message:
                                 kind == "quantize" and ended.append(status))
    session.run(QuantizeSettings(k=16))
    qtbot.waitUntil(in_band.is_set, timeout=20000)
    session.run(QuantizeSettings(k=4))
    if large:  # the job itself is not held: it ends first, then the band it left
        qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    go_on.set()
    qtbot.waitUntil(lambda: bool(results), timeout=20000)
    assert ended[0] == "cancelled"
    assert bands[16] == 2, "the stopped downscaling went on past its band"
    assert bands[4] == 300 // 15 and [r.settings.k for r in results] == [4]


def test_the_next_job_starts_as_soon_as_the_worker_has_ended_its_job(qtbot, session,
                                                                     gradient_png):
    """A run asked for when the image has loaded starts at once, not after the
    load thread's ``finished`` signal has waited its turn in the event loop
    (behind the repaint of the opened image)."""
    started = []

    def on_image(opened):
        load = session.runner.running_thread()
        deadline = time.monotonic() + 10
        while load is not None and not load.done and time.monotonic() < deadline:
            time.sleep(0.001)  # the load thread leaves right after its last report
        session.run(QuantizeSettings(k=4))
        worker = session.runner.running_thread()
        started.append(worker.job.kind if worker is not None else None)

    session.image_changed.connect(on_image)
    with qtbot.waitSignal(session.result_changed, timeout=20000,
                          check_params_cb=lambda f: f is not None):
        session.open(gradient_png, (400, 300))
    assert started == ["quantize"]
