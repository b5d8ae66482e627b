"""The document the window shows: one image, its histogram, the settings, the
current result and the PNG file it encodes to, and whether that was saved.

The Session starts the jobs and is the only receiver of their reports. A
report counts only if it comes from the newest job of its kind (``_live``);
everything else is a superseded job's late word and is dropped, in
``_on_yielded``/``_on_ended`` and nowhere else. Widgets never hold document
state: they render what the signals announce and read the fields here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Signal, Slot

from kmeans_gui.core import ColorHistogram, LoadedImage, QuantizeSettings

from .jobs import (
    EncodedPng,
    Finished,
    Job,
    LoadJob,
    Opened,
    Progress,
    QuantizeJob,
    RemapJob,
    Rescaled,
    RescaleJob,
    Saved,
    SaveJob,
)
from .palette_control import PaletteControl, PaletteState
from .runner import CANCELLABLE, JobRunner
from .stepping import StepGate


class Session(QObject):
    loading = Signal(object)  # Path being opened
    image_changed = Signal(object)  # Opened
    load_failed = Signal(object, str)  # Path, message
    run_started = Signal(object)  # QuantizeSettings
    progress = Signal(object)  # jobs.Progress
    result_changed = Signal(object)  # jobs.Finished, or None when a new run clears it
    encoded = Signal(object)  # jobs.EncodedPng of the new result
    run_stopped = Signal()
    run_failed = Signal(str)
    rescaled = Signal(object)  # jobs.Rescaled
    saving = Signal(object)  # Path
    saved = Signal(str, int)  # path, bytes written
    save_failed = Signal(str)
    state_changed = Signal()  # busy flags or saved state changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.runner.yielded.connect(self._on_yielded)
        self.runner.ended.connect(self._on_ended)
        self.path: Path | None = None
        self.image: LoadedImage | None = None
        self.histogram: ColorHistogram | None = None
        self.preview_pixels = None
        self.settings: QuantizeSettings | None = None  # of the current or last run
        self.result: Finished | None = None
        self.png: EncodedPng | None = None  # the current result's file
        self.saved_path: Path | None = None
        self.saved_size: int | None = None
        self._live: dict[str, Job] = {}  # kind -> the newest job whose reports count
        self._loading_path: Path | None = None
        self.step_gate = StepGate()  # paused in step mode: runs wait for each step
        # Pinned colours, a given palette, the importance mask: applied to every run.
        self.palette_control = PaletteControl(self)
        # What the palette control held for the current result (snapshots keep it).
        self.result_palette: PaletteState | None = None
        self._palette_of_job: dict[int, PaletteState] = {}

    # ------------------------------------------------------------ state
    def is_loading(self) -> bool:
        return "load" in self._live

    def is_running(self) -> bool:
        return "quantize" in self._live

    def is_remapping(self) -> bool:
        return "remap" in self._live

    def is_saving(self) -> bool:
        return "save" in self._live

    def is_busy(self) -> bool:
        """Whether any worker thread is running or waiting."""
        return self.runner.is_busy()

    def is_dirty(self) -> bool:
        """A result exists that was not saved."""
        return self.result is not None and self.saved_size is None

    # ------------------------------------------------------------ actions
    def open(self, path: str | Path, preview_box: tuple[int, int]) -> None:
        """Open ``path`` in a worker; the current image stays until it has loaded."""
        path = Path(path)
        self._loading_path = path
        self._submit(LoadJob(path, preview_box))
        self.loading.emit(path)

    def run_settings(self, settings: QuantizeSettings) -> QuantizeSettings:
        """``settings`` as a run gets them: with the pinned colours, or the
        given palette."""
        reserved = 1 if self.histogram is not None and self.histogram.n_transparent else 0
        return self.palette_control.settings_for(settings, reserved)

    def run(self, settings: QuantizeSettings, seeds: tuple[int, ...] = ()) -> bool:
        """Quantize the image with ``settings``; False if there is nothing to run
        (no image, or an image still loading: it runs when it has loaded)."""
        if self.image is None or self.is_loading():
            self.settings = settings
            return False
        control = self.palette_control
        settings = self.run_settings(settings)
        if not seeds and self._only_dither_changed(settings):
            # Same palette, new dithering: remap and encode again, no K-Means.
            # The current result stays (and can be saved) until the new one is in.
            job = RemapJob(self.image, self.result, settings, self.preview_pixels)
            self.settings = job.settings
            self._submit(job)
            return True
        stepping = self.step_gate.is_paused()
        if stepping:
            self.step_gate.pause()  # the new run waits after its first iteration
        # Step mode shows the seeding as it happens: one seeding, not a race.
        job = QuantizeJob(self.image, self.histogram, settings, self.preview_pixels,
                          self.step_gate, restarts=1 if stepping else None, seeds=seeds,
                          weights=control.weights())
        self.settings = job.settings
        self._submit(job)
        self._set_result(None)
        self.run_started.emit(job.settings)
        return True

    def remap_to(self, colors, settings: QuantizeSettings) -> bool:
        """Map the image to exactly ``colors`` ((n, 3), in order) without K-Means:
        what an edited or removed swatch asks for."""
        if self.image is None or self.is_loading():
            return False
        palette = tuple((int(c[0]), int(c[1]), int(c[2])) for c in colors)
        job = QuantizeJob(self.image, self.histogram,
                          dataclasses.replace(settings, palette=palette, keep=()),
                          self.preview_pixels)
        self.settings = job.settings
        self._submit(job)
        self._set_result(None)
        self.run_started.emit(job.settings)
        return True

    def _only_dither_changed(self, settings: QuantizeSettings) -> bool:
        r = self.result
        if r is None or self.is_running():
            return False
        old = r.settings
        if (settings.dither, settings.dither_strength) == (old.dither, old.dither_strength):
            return False
        return dataclasses.replace(old, dither=settings.dither,
                                   dither_strength=settings.dither_strength) == settings.validated()

    def stop(self) -> None:
        """Stop the run. After its first iteration the run ends at once with the
        palette it has (a result like any other: shown, estimated, saveable);
        before that there is nothing to keep and it is cancelled."""
        job = self._live.get("quantize")
        if job is None:
            return
        if job.reported:
            job.finish_early = True
        else:
            self.runner.cancel(frozenset({"quantize"}))

    def cancel_run(self) -> None:
        """Forget the running quantization at once: none of its later reports
        reach the view (the settings changed; a new run follows)."""
        if self._live.pop("quantize", None) is not None:
            self.runner.cancel(frozenset({"quantize"}))
            self.state_changed.emit()

    def rescale(self, size: tuple[int, int]) -> None:
        """New previews at ``size`` (w, h) for the original and the result."""
        r = self.result
        self._submit(RescaleJob(self.image.pixels, size, r.result.palette if r else None,
                                r.settings if r else None, r.result.indices if r else None))

    def save(self, path: str | Path) -> bool:
        """Write the current result's PNG at ``path`` in the worker; False if
        there is nothing to save or a save is already under way."""
        if self.png is None or self.is_saving():
            return False
        path = Path(path)
        self._submit(SaveJob(self.result.result, self.png, path,
                             self.image.path if self.image else None))
        self.saving.emit(path)
        return True

    def save_and_wait(self, path: str | Path) -> bool:
        """``save`` and wait for it in a local event loop (the window stays
        painted); True if the file was written."""
        self.runner.cancel(CANCELLABLE)  # the save must not queue behind a run
        outcome: list[bool] = []
        loop = QEventLoop()

        def finish(ok: bool) -> None:
            outcome.append(ok)
            loop.quit()

        def on_saved(path: str, size: int) -> None:
            finish(True)

        def on_failed(message: str) -> None:
            finish(False)

        self.saved.connect(on_saved)
        self.save_failed.connect(on_failed)
        try:
            if not self.save(path):
                return False
            if not outcome:
                loop.exec()
        finally:
            self.saved.disconnect(on_saved)
            self.save_failed.disconnect(on_failed)
        return outcome[0]

    def shutdown(self) -> None:
        """Forget every job and wait for the worker thread to end."""
        self._live.clear()
        if not self.runner.shutdown(5000):
            # Only a save can take this long; it must not be cut off midway.
            self.runner.shutdown(60000)

    # ---------------------------------------------------------- internals
    def _submit(self, job: Job) -> None:
        if job.kind in ("quantize", "remap"):
            self._palette_of_job = {job.job_id: self.palette_control.state()}
        for kind in job.supersedes:
            self._live.pop(kind, None)
        self._live[job.kind] = job
        self.runner.submit(job)
        self.state_changed.emit()

    def _set_result(self, finished: Finished | None) -> None:
        self.result = finished
        self.png = finished.png if finished is not None else None
        self.saved_path = self.saved_size = None
        self.result_changed.emit(finished)
        if finished is not None:
            self.encoded.emit(finished.png)

    def _current(self, job_id: int, kind: str) -> bool:
        job = self._live.get(kind)
        return job is not None and job.job_id == job_id

    @Slot(int, str, object)
    def _on_yielded(self, job_id: int, kind: str, value: object) -> None:
        if not self._current(job_id, kind):
            return  # a superseded job's late report
        final = not isinstance(value, Progress)
        if final:
            del self._live[kind]  # every other report is a job's last word
        if isinstance(value, Progress):
            self.progress.emit(value)
        elif isinstance(value, Finished):
            self.result_palette = self._palette_of_job.get(job_id)
            self._set_result(value)
        elif isinstance(value, Opened):
            self._opened(value)
        elif isinstance(value, Rescaled):
            self.preview_pixels = value.preview_pixels
            self.rescaled.emit(value)
        elif isinstance(value, Saved):
            if value.png is self.png:
                self.saved_path, self.saved_size = value.path, value.size
            self.saved.emit(str(value.path), value.size)
        if final:
            self.state_changed.emit()

    @Slot(int, str, str, str)
    def _on_ended(self, job_id: int, kind: str, status: str, message: str) -> None:
        if not self._current(job_id, kind):
            return
        del self._live[kind]
        if kind == "load" and status != "done":
            path, self._loading_path = self._loading_path, None
            if status == "failed":
                self.load_failed.emit(path, message)
        elif kind == "quantize" and status == "cancelled":
            self.run_stopped.emit()
        elif kind == "quantize" and status == "failed":
            self.run_failed.emit(message)
        elif kind == "save" and status == "failed":
            self.save_failed.emit(message)
        self.state_changed.emit()

    def _opened(self, opened: Opened) -> None:
        self._loading_path = None
        self.path = opened.path
        self.image, self.histogram = opened.image, opened.histogram
        self.preview_pixels = opened.preview_pixels
        self.palette_control.new_image()  # pins and mask were the previous image's
        self._set_result(None)
        self.image_changed.emit(opened)
