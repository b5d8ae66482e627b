"""Entry point: parse, plan, validate, run; map every outcome to an exit status."""

from __future__ import annotations

import sys

from . import early as _early
from . import interrupts

EXIT_USAGE = 2
#: Seconds between the interpreter's forced thread switches while the core
#: imports beside a reading thread (the default is 5 ms).
STARTUP_SWITCH_INTERVAL = 0.0002


def run() -> None:
    """The ``kmeans-compress`` command: :func:`main` on ``sys.argv``, then exit.

    Once ``main`` has returned, every file it wrote is complete and closed,
    so the process ends with ``os._exit`` after flushing the standard streams,
    skipping the interpreter's teardown (freeing numpy and every other module
    one by one), which takes a small image's run as much CPU as pngquant's
    whole run of it and changes nothing on disk. A run that used worker
    processes, whose pool is finalized at exit, and a stream that cannot be
    flushed (its usual error and exit status) end the normal way.
    """
    code = main()
    if "concurrent.futures.process" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: S110 (the normal exit reports it)
            pass
        else:
            import os
            os._exit(code)
    sys.exit(code)


def _error(message: str) -> int:
    sys.stderr.write(f"kmeans-compress: error: {message}\n")
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    # OpenBLAS is already held to one thread by the package's __init__,
    # which runs before this module (and before numpy) is imported.
    # Before anything slow: a stop signal during start-up (importing numpy
    # takes a while) is reported like one during the work.
    previous = interrupts.install()
    early = None
    interval = sys.getswitchinterval()
    try:
        args = sys.argv[1:] if argv is None else argv
        if args == ["--version"]:
            # Answered before argparse and the option tables are even imported.
            from ..appinfo import VERSION
            sys.stdout.write(f"kmeans-compress {VERSION}\n")
            return 0
        with interrupts.job():
            early = _early.start(args)
        if early is not None:
            # The main thread holds the GIL but for the interpreter's forced
            # switches while it imports (argparse now, numpy later); the
            # reading thread needs it back between its C calls, so it gets
            # shorter turns until the core is imported.
            sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)
        return _main(argv, early, interval)
    except KeyboardInterrupt:  # a stop signal before any work started
        sys.stderr.write("kmeans-compress: interrupted\n")
        return interrupts.exit_status()
    finally:
        sys.setswitchinterval(interval)
        if early is not None:
            early.cancel()  # unused, or done: stop its thread
        interrupts.restore(previous)


def _main(argv: list[str] | None, early=None, interval: float | None = None) -> int:
    """``early``: the read ``main`` started; ``interval``: the thread switch
    interval to return to once the core is imported."""
    for stream in (sys.stdout, sys.stderr):
        # File names that the terminal's encoding cannot show must not crash the report.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    from .options import UsageError, parse
    try:
        options = parse(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a bad argument
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except UsageError as exc:
        return _error(str(exc))

    pending = None
    try:
        with interrupts.job():  # until the run starts, a stop signal ends it at once
            pending = _reading(options, early)
            if interval is None:
                interval = sys.getswitchinterval()
            if pending is not None:  # shorter turns for the reader while the core imports
                sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)
            try:
                start = _prepare(options)
            finally:
                sys.setswitchinterval(interval)
        return start(pending) if callable(start) else start
    finally:
        if pending is not None:
            pending.cancel()  # unused (refused, failed early): stop its thread


def _reading(options, early):
    """The read started before parsing if it is of this run's single input
    (and at the default pixel limit), else one started now."""
    if early is not None:
        from ..limits import MAX_PIXELS
        if (len(options.inputs) == 1 and options.max_pixels == MAX_PIXELS
                and early.is_for(options.inputs[0])):
            return early
        early.cancel()
    return _start_reading(options)


def _start_reading(options):
    """For one PNG input, start reading and inflating it now: zlib releases the
    GIL, so on a second core that overlaps importing numpy and the core."""
    if (len(options.inputs) != 1 or options.inputs[0].suffix.lower() != ".png"
            or not options.inputs[0].is_file()):  # pipes, devices: the run refuses them
        return None
    from ..core.png.reader import start_inflate  # imports no numpy
    try:
        return start_inflate(options.inputs[0], options.max_pixels, unfilter=True)
    except RuntimeError:  # no thread to be had: it is read when its turn comes
        return None


def _colours(options):
    """(--keep colours, --palette colours) as tuples of (r, g, b), read from
    their files when they name one; ``ImageError`` for a bad value or file."""
    if options.keep is None and options.palette is None:
        return (), None
    # Palette files may be PNGs, so this needs Pillow: imported only when asked for.
    from ..core import ImageError, parse_colors, read_palette

    def rows(array):
        return tuple(tuple(int(v) for v in row) for row in array)

    keep = ()
    if options.keep is not None:
        try:
            keep = rows(parse_colors(options.keep))
        except ValueError as exc:
            from pathlib import Path
            if not Path(options.keep).is_file():
                raise ImageError(f"--keep: {exc}, and no file of that name") from None
            keep = rows(read_palette(options.keep))
    palette = None
    if options.palette is not None:
        palette = rows(read_palette(options.palette))
    return keep, palette


def _prepare(options):
    """Import the core, check the settings and plan: a function running the
    jobs, or an exit status."""
    from dataclasses import replace

    # The core (and numpy) is imported only once there is work to do; a stop
    # signal meanwhile is honoured once the imports are complete.
    with interrupts.deferred():
        from ..core import ImageError, QuantizeSettings
        from .planning import plan
        from .runner import run
    try:
        keep, palette = _colours(options)
        if palette is not None:  # its size is the k of output names (NAME-kK.png)
            options = replace(options, k=len(palette),
                              suffix=options.suffix.replace("{k}", str(len(palette))))
        settings = QuantizeSettings(k=options.k, space=options.space, init=options.init,
                                    max_iter=options.max_iter, tol=options.tol,
                                    seed=options.seed, dither=options.dither,
                                    dither_strength=options.dither_strength, keep=keep,
                                    palette=palette)
        settings.validated()
    except ImageError as exc:
        return _error(str(exc))
    if options.importance is not None and not options.importance.is_file():
        return _error(f"--importance: {options.importance}: no such file")
    if (options.export_palette is not None and options.export_palette.exists()
            and not options.force):
        return _error(f"{options.export_palette} exists; use -f to replace it")

    from .options import UsageError
    try:
        jobs = plan(options)  # may create --out-dir: only once all else is valid
    except UsageError as exc:
        return _error(str(exc))

    return lambda pending: run(jobs, settings, options, prefetched=pending)
