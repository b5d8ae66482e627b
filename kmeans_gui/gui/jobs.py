"""Work that runs off the GUI thread: opening, quantizing, rescaling previews, saving.

Every job is a generator (``work``): it yields its reports, or ``None`` at a
point where it may be stopped, and the one worker loop in ``runner`` iterates
it, checking for interruption between steps. Jobs know nothing of Qt threads
or of which report is still wanted; the Session decides that. Arrays in the
reports are fresh and never touched again by the job, so the GUI thread may
read them without locks.
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kmeans_gui.core import (
    ColorHistogram,
    ColourSample,
    ImageError,
    LoadedImage,
    QuantizeResult,
    QuantizeSettings,
    build_histogram,
    encode_png,
    finish,
    load_image,
    oklab_delta_e,
    palette_distance_sum,
    remap,
    rgb_to_oklab,
    sample_histogram,
    save_png,
    steps,
)
from kmeans_gui.limits import DEFAULT_EFFORT

from .imaging import (
    downscale,
    fit_size,
    palette_shares,
    sampled_indices,
    shown_steps,
)
from .settings import Settings
from .stepping import StepGate

_ids = itertools.count(1)

#: The quality figure is measured on at most about this many pixels (a regular grid).
QUALITY_SAMPLE = 1 << 18
#: Pixels of that grid converted to OKLab at a time.
PROBE_CHUNK = 1 << 14


def _quality_step(pixels: np.ndarray) -> int:
    h, w = pixels.shape[:2]
    return max(1, int(np.ceil(np.sqrt(h * w / QUALITY_SAMPLE))))


def mean_delta_e(pixels: np.ndarray, result: QuantizeResult) -> float:
    """Mean OKLab ΔE ×100 of ``result`` against ``pixels``, on a regular grid
    of at most about ``QUALITY_SAMPLE`` pixels."""
    step = _quality_step(pixels)
    original = pixels[::step, ::step]
    return oklab_delta_e(original, result.palette[result.indices[::step, ::step]])


class QualityProbe:
    """``mean_delta_e`` for many results of one image: the OKLab coordinates
    of the original's grid are converted once (``prepare``, thread-safe, at
    most once), and each result then costs only a look-up of its palette's
    coordinates and the distances. It keeps no reference to the pixels."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.step = _quality_step(pixels)
        self.shape = pixels.shape
        self._lab: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._lab is not None

    def prepare(self, pixels: np.ndarray) -> np.ndarray:
        """The grid's OKLab coordinates, converted on the first call."""
        if pixels.shape != self.shape:
            raise ValueError("a quality probe is for one image")
        with self._lock:
            if self._lab is None:
                sample = pixels[::self.step, ::self.step, :3]
                rows = max(1, PROBE_CHUNK // sample.shape[1])
                # A few rows at a time: on a thread of its own, large temporaries
                # would stay in that thread's malloc arena after use.
                lab = np.empty((sample.shape[0] * sample.shape[1], 3))
                for top in range(0, sample.shape[0], rows):
                    part = np.ascontiguousarray(sample[top:top + rows]).reshape(-1, 3)
                    start = top * sample.shape[1]
                    lab[start:start + len(part)] = rgb_to_oklab(part)
                self._lab = lab
            return self._lab

    def delta_e(self, pixels: np.ndarray, result: QuantizeResult) -> float:
        """``mean_delta_e(pixels, result)``."""
        lab = self.prepare(pixels)
        chosen = result.indices[::self.step, ::self.step].ravel()
        return 100.0 * palette_distance_sum(lab, chosen, result.palette) / len(lab)


#: One probe per image (its pixel array, by identity), dropped with the array.
_probes: dict[int, tuple[weakref.ref, QualityProbe]] = {}
_probes_lock = threading.RLock()  # re-entrant: a collection may forget an entry


def quality_probe(pixels: np.ndarray) -> QualityProbe:
    """The image's ``QualityProbe`` (made once, shared by every run on it)."""
    key = id(pixels)
    with _probes_lock:
        entry = _probes.get(key)
        if entry is not None and entry[0]() is pixels:
            return entry[1]
        probe = QualityProbe(pixels)

        def forget(ref: weakref.ref, key: int = key) -> None:
            with _probes_lock:
                if _probes.get(key, (None,))[0] is ref:
                    del _probes[key]

        _probes[key] = (weakref.ref(pixels, forget), probe)
        return probe

#: The PNG effort the app encodes (and so saves) with.
EFFORT = DEFAULT_EFFORT


@dataclass(frozen=True)
class Opened:
    path: Path
    image: LoadedImage
    histogram: ColorHistogram
    preview_pixels: np.ndarray  # the original downscaled to display size
    seconds: float
    sample: ColourSample | None = None  # the colour-space view's points


#: Live previews are made at most this often (seconds): about the frame
#: rate; iterations in between are reported without one.
PREVIEW_INTERVAL = 1 / 30
#: ...and after at least this many times as long as the last one took, so
#: that on large displays and slow machines they never take more than about
#: a third of the run.
PREVIEW_SPACING = 2.0
#: The converged palette gets a preview of its own when the image has at least
#: this many times the preview's pixels: the full-resolution result then
#: takes long enough to be worth showing something closer to it meanwhile.
CONVERGED_PREVIEW_RATIO = 8
#: Up to this many pixels, work that releases the GIL runs side by side: the
#: display copy with the histogram, the PNG's encode (on a thread of its own)
#: with the rest of a result's finish. Larger images build the display copy
#: first, keep the encode on the job's thread and put only the small bands of
#: the Fit view beside it: each extra thread that allocates large arrays
#: keeps its own malloc arena, which raised the peak memory by about the size
#: of the decoded image. After their decode and their finish, freed memory is
#: trimmed.
OVERLAP_PIXELS = 1 << 23


@dataclass(frozen=True)
class Progress:
    iteration: int
    inertia: float
    moved: float
    palette: np.ndarray  # (k', 3|4) uint8, order as K-Means keeps it
    shares: np.ndarray  # fraction of pixels per palette entry
    # (h, w) uint8 nearest-entry indices of the preview pixels (never
    # dithered), or None when this iteration came too soon after the last
    # preview (the view keeps showing that one).
    preview: np.ndarray | None
    elapsed: float
    converged: bool
    reason: str
    labels: np.ndarray | None = None  # palette index of every histogram group
    mse: float = 0.0  # inertia per clustered pixel
    start: np.ndarray | None = None  # iteration 1: the palette it started from
    undithered: bool = False  # the run dithers, so the preview differs from the file

    @property
    def label(self) -> str:
        """What the view calls this preview: never "Result", it is not the file."""
        return "Preview, not yet dithered" if self.undithered else "Preview"


@dataclass(frozen=True)
class EncodedPng:
    """A result's PNG file, and what it was encoded for."""

    data: bytes
    settings: QuantizeSettings
    effort: str


@dataclass(frozen=True)
class Finished:
    settings: QuantizeSettings
    result: QuantizeResult  # full resolution
    preview: np.ndarray  # indices of the preview pixels into result.palette
    shares: np.ndarray
    png: EncodedPng  # the file Save writes
    elapsed: float
    delta_e: float = float("nan")  # mean OKLab distance x100 against the original
    # The full-resolution result downscaled like the original's preview.
    preview_rgb: np.ndarray | None = None


    @property
    def estimated_size(self) -> int:
        """The PNG's size: exact, it is the file Save writes."""
        return len(self.png.data)


@dataclass(frozen=True)
class Rescaled:
    preview_pixels: np.ndarray
    result_preview: np.ndarray | None
    result_preview_rgb: np.ndarray | None = None  # the file downscaled like the original


@dataclass(frozen=True)
class Saved:
    path: Path
    size: int
    png: EncodedPng


class _Beside:
    """``fn(*args, **kwargs)`` on a thread of its own, beside the job's: for
    work that releases the GIL (C kernels, Pillow, zlib) while the job does
    something else. ``result()`` waits for it and raises what it raised."""

    def __init__(self, fn, *args, **kwargs) -> None:
        self._value: object = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 (handed to result())
                self._error = exc

        self._thread = threading.Thread(target=run, name="kmeans-gui-beside", daemon=True)
        self._thread.start()

    def done(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; whether it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _drain(steps, stop: threading.Event):
    """Run the generator ``steps`` to its return value, or to ``None`` as
    soon as ``stop`` is set between two of its steps."""
    while not stop.is_set():
        try:
            next(steps)
        except StopIteration as end:
            return end.value
    steps.close()
    return None


def trim_memory() -> None:
    """Hand memory that threads freed back to the system (glibc's
    ``malloc_trim``, which walks every thread's arena); elsewhere nothing."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL(None).malloc_trim
            _malloc_trim.argtypes = [ctypes.c_size_t]
        except (AttributeError, OSError, TypeError):  # not glibc
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


class Job:
    """One piece of work; ``work`` is a generator of reports (``None``: a stop point)."""

    kind = "job"
    supersedes: frozenset[str] = frozenset()  # kinds this job cancels and replaces
    interruptible = True  # False: once started it runs to the end (saving)

    def __init__(self) -> None:
        self.job_id = next(_ids)

    def work(self) -> Iterator[object]:
        raise NotImplementedError


class LoadJob(Job):
    """Decode a file, build its colour histogram and a display-size copy."""

    kind = "load"
    supersedes = frozenset({"load", "quantize", "remap", "rescale"})

    def __init__(self, path: str | Path, preview_box: tuple[int, int]) -> None:
        super().__init__()
        self.path = Path(path)
        self.preview_box = preview_box

    def work(self) -> Iterator[Opened | None]:
        started = time.perf_counter()
        image = load_image(self.path, Settings().max_pixels())  # read at each open
        yield None
        size = fit_size(image.width, image.height, *self.preview_box)
        large = image.width * image.height > OVERLAP_PIXELS
        # The display-size copy (Pillow) and the histogram (C) both release
        # the GIL: build them side by side, but one after the other for large
        # images (the copy's thread and the histogram's would each hold their
        # peak at once: the peak of reopening a 24 MP image rose by 40-70 MB).
        preview = downscale(image.pixels, size) if large else \
            _Beside(downscale, image.pixels, size)
        histogram = build_histogram(image.pixels)
        yield None
        # The colour-space view's points while the display copy is finishing.
        sample = sample_histogram(histogram)
        if large:
            # What the decode freed: give it back before the run's large arrays.
            trim_memory()
        else:
            preview = preview.result()
        yield Opened(image.path or self.path, image, histogram, preview,
                     time.perf_counter() - started, sample)


class QuantizeJob(Job):
    """Iterate the core's K-Means generator, one report per iteration, then
    remap the full image and encode its PNG (the bytes Save will write)."""

    kind = "quantize"
    supersedes = frozenset({"quantize", "remap", "rescale"})

    def __init__(self, image: LoadedImage, histogram: ColorHistogram,
                 settings: QuantizeSettings, preview_pixels: np.ndarray,
                 gate: StepGate | None = None, restarts: int | None = None,
                 seeds: tuple[int, ...] = (), weights: np.ndarray | None = None) -> None:
        super().__init__()
        self.image = image
        self.histogram = histogram
        self.settings = settings.validated()
        self.preview_pixels = preview_pixels
        self.gate = gate  # step mode holds the run after each iteration
        self.restarts = restarts  # 1 in step mode: the seeds as picked, no race
        # With seeds: run K-Means once per seed first (no reports), then the
        # run shown is the seed with the lowest inertia.
        self.seeds = tuple(seeds)
        # Set from the GUI thread by Stop: end K-Means after the current
        # iteration and finish with its palette (a usable, saveable result).
        self.finish_early = False
        self.reported = False  # whether an iteration was reported yet
        self.weights = weights  # importance per pixel: the histogram is rebuilt with them
        self._previewed = -1  # palette size of the last live preview

    def work(self) -> Iterator[Progress | Finished | None]:
        started = time.perf_counter()
        # The original's side of the quality figure, converted beside K-Means
        # (once per image: later runs find it done).
        probe = quality_probe(self.image.pixels)
        if not probe.ready:
            _Beside(probe.prepare, self.image.pixels)
        hist = self.histogram
        if self.weights is not None and self.settings.palette is None:
            hist = build_histogram(self.image.pixels, self.weights)
            yield None
        if self.seeds:
            best: tuple[float, int] | None = None
            for seed in self.seeds:
                trial = None
                for state in steps(self.image, dataclasses.replace(self.settings, seed=seed),
                                   hist):
                    trial = state
                    yield None
                if trial is not None and (best is None or trial.inertia < best[0]):
                    best = (trial.inertia, seed)
            if best is not None:
                self.settings = dataclasses.replace(self.settings, seed=best[1])
        s = self.settings
        state = None
        # The live preview is each pixel's nearest entry at display size: cheap
        # enough for every frame. Dithering is left to the full-resolution
        # result, which follows as soon as K-Means has settled; the view labels
        # the live preview as undithered meanwhile.
        dithers = s.dither != "none" and s.dither_strength > 0
        last_preview, wait = float("-inf"), PREVIEW_INTERVAL
        slow_finish = (self.image.pixels.shape[0] * self.image.pixels.shape[1]
                       >= CONVERGED_PREVIEW_RATIO * self.preview_pixels.shape[0]
                       * self.preview_pixels.shape[1])
        for state in steps(self.image, s, hist, self.restarts):
            # Shares over the whole image straight from the histogram's labels.
            shares = np.bincount(state.labels, weights=hist.counts,
                                 minlength=len(state.palette))[: len(state.palette)]
            if hist.n_transparent and len(shares):
                shares[0] += hist.n_transparent
            shares = shares / max(hist.n_pixels, 1)
            # The wait counts from the end of the last preview; in step mode
            # every step shows its own.
            preview = None
            stepping = self.gate is not None and self.gate.is_paused()
            if (time.perf_counter() - last_preview >= wait or stepping
                    or len(state.palette) != self._previewed
                    or (state.converged and slow_finish)):
                began = time.perf_counter()
                preview = remap(self.preview_pixels, state.palette, s.space)
                last_preview = time.perf_counter()
                wait = max(PREVIEW_INTERVAL, PREVIEW_SPACING * (last_preview - began))
                self._previewed = len(state.palette)
            self.reported = True  # before the report: Stop may follow it at once
            yield Progress(state.iteration, state.inertia, state.moved, state.palette,
                           shares, preview, time.perf_counter() - started, state.converged,
                           state.reason, state.labels, state.mse, state.start,
                           undithered=dithers)
            # Step mode: wait for the next step, a stop point every poll.
            while (self.gate is not None and not state.converged and not self.finish_early
                   and not self.gate.wait()):
                yield None
            if self.finish_early and not state.converged:
                break
        if state is None:  # cannot happen with a valid histogram
            raise ImageError("K-Means produced no result")
        result = finish(self.image.pixels, state, s, started)
        if self.finish_early and not state.converged:
            result = dataclasses.replace(result, reason="stopped")
        yield None
        yield from _finished(self.image, self.preview_pixels, result, s, started)


def _finished(image: LoadedImage, preview_pixels: np.ndarray, result: QuantizeResult,
              s: QuantizeSettings, started: float) -> Iterator[Finished | None]:
    """What a run or a remap reports once its full-resolution result exists:
    the preview, the shares, the PNG Save will write, the quality figure and
    the result downscaled like the original, the PNG encoded beside the rest.
    Stop points between the steps and the bands of the downscaling: a new
    image or new settings stop a finishing result there."""
    size = (preview_pixels.shape[1], preview_pixels.shape[0])
    if result.indices.size <= OVERLAP_PIXELS:
        # The encode beside is left to end on its own if the job stops.
        encoding = _Beside(encode_png, result, icc_profile=image.icc_profile,
                           dpi=image.dpi, effort=EFFORT)
        preview, shares, quality = _measured(image, result, size)
        yield None
        shown = yield from shown_steps(result.indices, result.palette, size)
        data = encoding.result()
    else:
        # Large: the encode's large arrays stay on this thread (a thread of its
        # own keeps its own malloc arena, which raised the peak memory), the
        # downscaling's bands of rows go beside, and stop with the job.
        stop = threading.Event()
        showing = _Beside(_drain, shown_steps(result.indices, result.palette, size), stop)
        try:
            data = encode_png(result, icc_profile=image.icc_profile, dpi=image.dpi,
                              effort=EFFORT)
            yield None
            preview, shares, quality = _measured(image, result, size)
            while not showing.done(0.02):
                yield None
            shown = showing.result()
        finally:
            stop.set()
        # The bands' thread and the dithering's freed large arrays: give them
        # back, or the next image's decode adds to them.
        trim_memory()
    yield Finished(s, result, preview, shares, EncodedPng(data, s, EFFORT),
                   time.perf_counter() - started, quality, shown)


def _measured(image: LoadedImage, result: QuantizeResult, size: tuple[int, int]):
    """The result's indices at display size, its shares and its quality figure."""
    # The preview's indices (the cluster highlight and picking read them) are
    # the file's own, sampled: no second remap or dithering at display size.
    preview = sampled_indices(result.indices, size)
    shares = palette_shares(result.indices, result.n_colors)
    quality = quality_probe(image.pixels).delta_e(image.pixels, result)
    return preview, shares, quality


class RemapJob(Job):
    """A new dithering for a finished result: the palette stays, only the
    pixels are remapped and the PNG encoded again (no K-Means run)."""

    kind = "remap"
    supersedes = frozenset({"remap", "rescale"})

    def __init__(self, image: LoadedImage, previous: Finished, settings: QuantizeSettings,
                 preview_pixels: np.ndarray) -> None:
        super().__init__()
        self.image = image
        self.previous = previous
        self.settings = settings.validated()
        self.preview_pixels = preview_pixels

    def work(self) -> Iterator[Finished | None]:
        started = time.perf_counter()
        s = self.settings
        old = self.previous.result
        indices = remap(self.image.pixels, old.palette, s.space, s.dither, s.dither_strength,
                        keep_runs=True)
        result = dataclasses.replace(old, indices=indices)
        yield None
        yield from _finished(self.image, self.preview_pixels, result, s, started)


class RescaleJob(Job):
    """New display-size copies after the view grew or shrank a lot."""

    kind = "rescale"
    supersedes = frozenset({"rescale"})

    def __init__(self, pixels: np.ndarray, size: tuple[int, int],
                 palette: np.ndarray | None, settings: QuantizeSettings | None,
                 indices: np.ndarray | None = None) -> None:
        super().__init__()
        self.indices = indices  # the full-resolution result, if any
        self.pixels = pixels
        self.size = size
        self.palette = palette
        self.settings = settings

    def work(self) -> Iterator[Rescaled | None]:
        preview = downscale(self.pixels, self.size)
        indices = shown = None
        if self.palette is not None and self.settings is not None:
            yield None
            if self.indices is not None:  # the file's own entries, and the file downscaled
                indices = sampled_indices(self.indices, self.size)
                yield None
                shown = yield from shown_steps(self.indices, self.palette, self.size)
            else:
                indices = remap(preview, self.palette, self.settings.space)
        yield Rescaled(preview, indices, shown)


class SaveJob(Job):
    """Save a result whose PNG is already encoded: the core's overwrite rules,
    then an atomic file write. Never stopped midway."""

    kind = "save"
    interruptible = False

    def __init__(self, result: QuantizeResult, png: EncodedPng, path: str | Path,
                 source: Path | None) -> None:
        super().__init__()
        self.result = result
        self.png = png
        self.path = Path(path)
        self.source = source

    def work(self) -> Iterator[Saved]:
        # The file dialog already asked before replacing an existing file;
        # the core still refuses to replace the input image.
        size = save_png(self.result, self.path, source=self.source, overwrite=True,
                        effort=self.png.effort, data=self.png.data)
        yield Saved(self.path, size, self.png)

