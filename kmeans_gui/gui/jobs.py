"""Work that runs in a QThread: opening, quantizing, rescaling previews, saving.

Each job is a QObject moved to its own thread by the JobRunner. ``run`` does
the work and always ends with ``done``; errors come back through ``failed``
as a readable message, never as an exception in the GUI thread. Arrays in
emitted payloads are fresh and never touched again by the job, so the GUI
thread may read them without locks.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from kmeans_gui.core import (
    ColorHistogram,
    ImageError,
    LoadedImage,
    QuantizeResult,
    QuantizeSettings,
    build_histogram,
    encode_png,
    finish,
    load_image,
    remap,
    save_png,
    steps,
)

from .imaging import downscale, fit_size, palette_shares

log = logging.getLogger(__name__)
_ids = itertools.count(1)


@dataclass(frozen=True)
class Opened:
    job_id: int
    image: LoadedImage
    histogram: ColorHistogram
    preview_pixels: np.ndarray  # the original downscaled to display size
    seconds: float


@dataclass(frozen=True)
class Progress:
    job_id: int
    iteration: int
    inertia: float
    moved: float
    palette: np.ndarray  # (k', 3|4) uint8, order as K-Means keeps it
    shares: np.ndarray  # fraction of pixels per palette entry
    preview: np.ndarray  # (h, w) uint8 indices for the preview pixels
    elapsed: float
    converged: bool
    reason: str


@dataclass(frozen=True)
class Finished:
    job_id: int
    settings: QuantizeSettings
    result: QuantizeResult  # full resolution
    preview: np.ndarray  # indices of the preview pixels into result.palette
    shares: np.ndarray
    estimated_size: int  # bytes of the PNG as Save would encode it (same effort)
    elapsed: float


@dataclass(frozen=True)
class Rescaled:
    job_id: int
    preview_pixels: np.ndarray
    result_preview: np.ndarray | None


class Job(QObject):
    """Base: run in a worker thread, report failure as text, always end with ``done``."""

    failed = Signal(int, str)  # job id, readable message
    done = Signal()
    kind = "job"
    supersedes: frozenset[str] = frozenset()  # kinds this job cancels and replaces

    def __init__(self) -> None:
        super().__init__()
        self.job_id = next(_ids)

    @staticmethod
    def interrupted() -> bool:
        return QThread.currentThread().isInterruptionRequested()

    @Slot()
    def run(self) -> None:
        try:
            self.work()
        except ImageError as exc:
            self.failed.emit(self.job_id, str(exc))
        except MemoryError:
            self.failed.emit(self.job_id, "not enough memory for this image")
        except Exception as exc:  # a bug: report it instead of killing the thread silently
            log.exception("%s failed", type(self).__name__)
            self.failed.emit(self.job_id, f"unexpected error: {exc!r}")
        finally:
            # Hand the object back to the GUI thread so it can be deleted there.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.done.emit()

    def work(self) -> None:
        raise NotImplementedError


class LoadJob(Job):
    """Decode a file, build its colour histogram and a display-size copy."""

    opened = Signal(object)  # Opened
    kind = "load"
    supersedes = frozenset({"load", "quantize", "rescale"})

    def __init__(self, path: str | Path, preview_box: tuple[int, int]) -> None:
        super().__init__()
        self.path = Path(path)
        self.preview_box = preview_box

    def work(self) -> None:
        started = time.perf_counter()
        image = load_image(self.path)
        if self.interrupted():
            return
        preview = downscale(image.pixels, fit_size(image.width, image.height, *self.preview_box))
        if self.interrupted():
            return
        histogram = build_histogram(image.pixels)
        seconds = time.perf_counter() - started
        self.opened.emit(Opened(self.job_id, image, histogram, preview, seconds))


class QuantizeJob(Job):
    """Iterate the core's K-Means generator, one progress signal per iteration,
    then remap the full image and estimate the PNG size."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # Finished
    cancelled = Signal(int)  # job id
    kind = "quantize"
    supersedes = frozenset({"quantize", "rescale"})

    def __init__(self, image: LoadedImage, histogram: ColorHistogram,
                 settings: QuantizeSettings, preview_pixels: np.ndarray) -> None:
        super().__init__()
        self.image = image
        self.histogram = histogram
        self.settings = settings.validated()
        self.preview_pixels = preview_pixels

    def work(self) -> None:
        started = time.perf_counter()
        s = self.settings
        hist = self.histogram
        state = None
        for state in steps(self.image, s, hist):
            if self.interrupted():
                self.cancelled.emit(self.job_id)
                return
            # Shares over the whole image straight from the histogram's labels.
            shares = np.bincount(state.labels, weights=hist.counts,
                                 minlength=len(state.palette))[: len(state.palette)]
            if hist.n_transparent and len(shares):
                shares[0] += hist.n_transparent
            shares = shares / max(hist.n_pixels, 1)
            preview = remap(self.preview_pixels, state.palette, s.space)
            self.progress.emit(Progress(
                self.job_id, state.iteration, state.inertia, state.moved, state.palette,
                shares, preview, time.perf_counter() - started, state.converged, state.reason))
            if self.interrupted():
                self.cancelled.emit(self.job_id)
                return
        if state is None:  # cannot happen with a valid histogram
            raise ImageError("K-Means produced no result")
        result = finish(self.image.pixels, state, s, started)
        if self.interrupted():
            self.cancelled.emit(self.job_id)
            return
        preview = remap(self.preview_pixels, result.palette, s.space, s.dither)
        shares = palette_shares(result.indices, result.n_colors)
        if self.interrupted():
            self.cancelled.emit(self.job_id)
            return
        # The writer's default effort, as SaveJob uses: the estimate is the size
        # the saved file will have (the "fast" encoder was 3-8 % off on photos).
        estimate = len(encode_png(result, icc_profile=self.image.icc_profile,
                                  dpi=self.image.dpi))
        self.finished.emit(Finished(self.job_id, s, result, preview, shares, estimate,
                                    time.perf_counter() - started))


class RescaleJob(Job):
    """New display-size copies after the view grew or shrank a lot."""

    rescaled = Signal(object)  # Rescaled
    kind = "rescale"
    supersedes = frozenset({"rescale"})

    def __init__(self, pixels: np.ndarray, size: tuple[int, int],
                 palette: np.ndarray | None, settings: QuantizeSettings | None) -> None:
        super().__init__()
        self.pixels = pixels
        self.size = size
        self.palette = palette
        self.settings = settings

    def work(self) -> None:
        preview = downscale(self.pixels, self.size)
        indices = None
        if self.palette is not None and self.settings is not None and not self.interrupted():
            indices = remap(preview, self.palette, self.settings.space, self.settings.dither)
        self.rescaled.emit(Rescaled(self.job_id, preview, indices))


class SaveJob(Job):
    """Write the PNG through the core's atomic writer. Never cancelled midway."""

    saved = Signal(int, str, int)  # job id, path, bytes written
    kind = "save"

    def __init__(self, result: QuantizeResult, path: str | Path, source: Path | None,
                 icc_profile: bytes | None, dpi: tuple[float, float] | None) -> None:
        super().__init__()
        self.result = result
        self.path = Path(path)
        self.source = source
        self.icc_profile = icc_profile
        self.dpi = dpi

    def work(self) -> None:
        # The file dialog already asked before replacing an existing file;
        # the core still refuses to replace the input image.
        size = save_png(self.result, self.path, source=self.source, overwrite=True,
                        icc_profile=self.icc_profile, dpi=self.dpi)
        self.saved.emit(self.job_id, str(self.path), size)
