"""Compress one image: load, cluster, remap, encode, write atomically.

Runs in the main process or in a pool worker; every expected failure becomes
an :class:`Outcome` with a readable reason, only Ctrl-C propagates.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core import (
    MAX_PIXELS,
    ImageError,
    OutputExists,
    QuantizeSettings,
    build_histogram,
    distinct_colours,
    encode_png,
    finish,
    load_image,
    load_image_data,
    read_stream,
    steps,
    write_atomic,
)
from . import interrupts
from .options import STDIO
from .planning import Job, refusal
from .reporting import Outcome, failure

#: on_progress(fraction done 0..1, what is happening)
ProgressCallback = Callable[[float, str], None]


def _quiet(fraction: float, label: str) -> None:
    pass


def compress(job: Job, settings: QuantizeSettings, *, force: bool = False,
             effort: str = "auto", on_progress: ProgressCallback | None = None,
             prefetched=None, max_pixels: int = MAX_PIXELS, importance: Path | None = None,
             export_palette: Path | None = None, target=None) -> Outcome:
    """Run ``job``; failures come back as an unsuccessful Outcome, never raised.

    ``prefetched``: a ``png.reader`` inflation started early (ignored unless
    it is for this job's input). ``importance``: a grayscale mask (white =
    important) resized to the image; ``export_palette``: where to write the
    result's palette too (format by extension)."""
    with interrupts.job():
        try:
            return _compress(job, settings, force, effort, on_progress or _quiet,
                             prefetched, max_pixels, importance, export_palette, target)
        except ImageError as exc:
            return failure(job.input, job.output, _reason(exc, job))
        except MemoryError:
            return failure(job.input, job.output, "not enough memory for this image")
        except Exception as exc:  # a bug; still one line, never a traceback
            return failure(job.input, job.output,
                           f"unexpected error ({type(exc).__name__}: {exc})")


def _to_stdout(data: bytes) -> bool:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        return False
    return True


def _reason(exc: ImageError, job: Job) -> str:
    """The core prefixes messages with the file name; the CLI prints the path itself."""
    text = str(exc)
    for prefix in (f"{job.input}: ", f"{job.input.name}: ", "standard input: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _compress(job: Job, settings: QuantizeSettings, force: bool, effort: str,
              progress: ProgressCallback, prefetched, max_pixels: int,
              importance: Path | None, export_palette: Path | None, target=None) -> Outcome:
    started = time.perf_counter()
    why = refusal(job, force)
    if why:
        return failure(job.input, job.output, why)
    progress(0.0, "loading")
    if job.input == STDIO:
        image = load_image_data(read_stream(sys.stdin.buffer, max_pixels),
                                max_pixels=max_pixels)
    else:
        image = load_image(job.input, max_pixels, prefetched=prefetched)
    progress(0.15, "counting colours")
    weights = None
    if importance is not None:
        # Masks and palette files need Pillow: imported only when asked for.
        from ..core import load_mask, mask_weights
        try:
            mask = load_mask(importance, (image.width, image.height))
        except ImageError as exc:
            raise ImageError(f"importance mask {exc}") from None
        weights = mask_weights(mask)
    # A given palette needs no K-Means, so no histogram.
    histogram = None if settings.palette is not None else build_histogram(image.pixels, weights)
    delta_e = None
    if target is not None:
        found = _search(image, settings, histogram, effort, target, progress)
        if not found.met:
            return failure(job.input, job.output, f"target not met: {found.why}",
                           missed=True)
        result, data, delta_e = found.final.result, found.final.data, found.final.delta_e
        settings = dataclasses.replace(settings, k=found.k)
    else:
        state = None
        for state in steps(image.pixels, settings, histogram):
            # The iteration count is unknown in advance; approach 70% geometrically.
            progress(0.3 + 0.4 * (1.0 - 0.9 ** state.iteration),
                     f"k-means iteration {state.iteration}")
        progress(0.7, "remapping")
        result = finish(image.pixels, state, settings,
                        colours=distinct_colours(histogram))
        progress(0.8, "encoding")
        data = encode_png(result, icc_profile=image.icc_profile, dpi=image.dpi, effort=effort)
    palette_data = None
    if export_palette is not None:
        from ..core import palette_bytes
        palette_data = palette_bytes(result.palette, export_palette.suffix.lower(),
                                     export_palette.stem)
    with interrupts.writing():
        why = refusal(job, force)  # the file may have appeared meanwhile
        if why:
            return failure(job.input, job.output, why)
        progress(0.98, "writing")
        if job.output == STDIO:
            if not _to_stdout(data):
                return failure(job.input, job.output, "standard output was closed")
        else:
            try:
                write_atomic(job.output, data, overwrite=force)
            except OutputExists:  # another process wrote it after the check
                return failure(job.input, job.output, refusal(job, False)
                               or f"{job.output} already exists")
        if palette_data is not None:
            try:
                write_atomic(export_palette, palette_data, overwrite=force)
            except OutputExists:
                return failure(job.input, job.output,
                               f"{export_palette} exists; use -f to replace it")
    return Outcome(
        input=str(job.input), output=str(job.output), ok=True,
        k=settings.k if settings.palette is None else len(settings.palette),
        colors_used=result.colors_used(), iterations=result.iterations,
        reason=result.reason, seconds=time.perf_counter() - started,
        input_bytes=image.file_size, output_bytes=len(data),
        width=image.width, height=image.height, delta_e=delta_e,
        keep=["#{:02x}{:02x}{:02x}".format(*c) for c in settings.keep] if settings.keep else None,
        importance=None if importance is None else str(importance),
        exported_palette=None if export_palette is None else str(export_palette),
    )


def _search(image, settings, histogram, effort, target, progress):
    """The k meeting ``target`` (a ``targets.TargetSpec``), verified."""
    from ..core import KCost, Target, search
    cost = KCost(image.pixels, settings, histogram=histogram, effort=effort,
                 icc_profile=image.icc_profile, dpi=image.dpi)
    tried = []

    def on_point(found) -> None:
        tried.append(found)
        progress(min(0.85, 0.3 + 0.06 * len(tried)), f"trying k={found.k}")

    return search(cost, Target(max_delta_e=target.max_delta_e, max_bytes=target.max_bytes,
                               floor_delta_e=target.floor_delta_e), on_point=on_point)
