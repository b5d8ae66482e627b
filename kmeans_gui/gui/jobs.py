"""Work that runs off the GUI thread: opening, quantizing, rescaling previews, saving.

Every job is a generator (``work``): it yields its reports, or ``None`` at a
point where it may be stopped, and the one worker loop in ``runner`` iterates
it, checking for interruption between steps. Jobs know nothing of Qt threads
or of which report is still wanted; the Session decides that. Arrays in the
reports are fresh and never touched again by the job, so the GUI thread may
read them without locks.
"""

from __future__ import annotations

import itertools
import time
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
    remap,
    sample_histogram,
    save_png,
    steps,
)
from kmeans_gui.limits import DEFAULT_EFFORT

from .imaging import downscale, fit_size, palette_shares
from .stepping import StepGate

_ids = itertools.count(1)

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


@dataclass(frozen=True)
class Progress:
    iteration: int
    inertia: float
    moved: float
    palette: np.ndarray  # (k', 3|4) uint8, order as K-Means keeps it
    shares: np.ndarray  # fraction of pixels per palette entry
    preview: np.ndarray  # (h, w) uint8 indices for the preview pixels
    elapsed: float
    converged: bool
    reason: str
    labels: np.ndarray | None = None  # palette index of every histogram group
    mse: float = 0.0  # inertia per clustered pixel
    start: np.ndarray | None = None  # iteration 1: the palette it started from


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

    @property
    def estimated_size(self) -> int:
        """The PNG's size: exact, it is the file Save writes."""
        return len(self.png.data)


@dataclass(frozen=True)
class Rescaled:
    preview_pixels: np.ndarray
    result_preview: np.ndarray | None


@dataclass(frozen=True)
class Saved:
    path: Path
    size: int
    png: EncodedPng


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
    supersedes = frozenset({"load", "quantize", "rescale"})

    def __init__(self, path: str | Path, preview_box: tuple[int, int]) -> None:
        super().__init__()
        self.path = Path(path)
        self.preview_box = preview_box

    def work(self) -> Iterator[Opened | None]:
        started = time.perf_counter()
        image = load_image(self.path)
        yield None
        preview = downscale(image.pixels, fit_size(image.width, image.height, *self.preview_box))
        yield None
        histogram = build_histogram(image.pixels)
        yield None
        sample = sample_histogram(histogram)
        yield Opened(image.path or self.path, image, histogram, preview,
                     time.perf_counter() - started, sample)


class QuantizeJob(Job):
    """Iterate the core's K-Means generator, one report per iteration, then
    remap the full image and encode its PNG (the bytes Save will write)."""

    kind = "quantize"
    supersedes = frozenset({"quantize", "rescale"})

    def __init__(self, image: LoadedImage, histogram: ColorHistogram,
                 settings: QuantizeSettings, preview_pixels: np.ndarray,
                 gate: StepGate | None = None, restarts: int | None = None) -> None:
        super().__init__()
        self.image = image
        self.histogram = histogram
        self.settings = settings.validated()
        self.preview_pixels = preview_pixels
        self.gate = gate  # step mode holds the run after each iteration
        self.restarts = restarts  # 1 in step mode: the seeds as picked, no race

    def work(self) -> Iterator[Progress | Finished | None]:
        started = time.perf_counter()
        s = self.settings
        hist = self.histogram
        state = None
        for state in steps(self.image, s, hist, self.restarts):
            # Shares over the whole image straight from the histogram's labels.
            shares = np.bincount(state.labels, weights=hist.counts,
                                 minlength=len(state.palette))[: len(state.palette)]
            if hist.n_transparent and len(shares):
                shares[0] += hist.n_transparent
            shares = shares / max(hist.n_pixels, 1)
            preview = remap(self.preview_pixels, state.palette, s.space)
            yield Progress(state.iteration, state.inertia, state.moved, state.palette,
                           shares, preview, time.perf_counter() - started, state.converged,
                           state.reason, state.labels, state.mse, state.start)
            # Step mode: wait for the next step, a stop point every poll.
            while self.gate is not None and not state.converged and not self.gate.wait():
                yield None
        if state is None:  # cannot happen with a valid histogram
            raise ImageError("K-Means produced no result")
        result = finish(self.image.pixels, state, s, started)
        yield None
        preview = remap(self.preview_pixels, result.palette, s.space, s.dither, s.dither_strength)
        shares = palette_shares(result.indices, result.n_colors)
        yield None
        data = encode_png(result, icc_profile=self.image.icc_profile, dpi=self.image.dpi,
                          effort=EFFORT)
        yield Finished(s, result, preview, shares, EncodedPng(data, s, EFFORT),
                       time.perf_counter() - started)


class RescaleJob(Job):
    """New display-size copies after the view grew or shrank a lot."""

    kind = "rescale"
    supersedes = frozenset({"rescale"})

    def __init__(self, pixels: np.ndarray, size: tuple[int, int],
                 palette: np.ndarray | None, settings: QuantizeSettings | None) -> None:
        super().__init__()
        self.pixels = pixels
        self.size = size
        self.palette = palette
        self.settings = settings

    def work(self) -> Iterator[Rescaled | None]:
        preview = downscale(self.pixels, self.size)
        indices = None
        if self.palette is not None and self.settings is not None:
            yield None
            indices = remap(preview, self.palette, self.settings.space, self.settings.dither,
                            self.settings.dither_strength)
        yield Rescaled(preview, indices)


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

