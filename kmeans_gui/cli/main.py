"""Entry point: parse, plan, validate, run; map every outcome to an exit status."""

from __future__ import annotations

import sys

EXIT_USAGE = 2


def _error(message: str) -> int:
    sys.stderr.write(f"kmeans-compress: error: {message}\n")
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before any work started (e.g. while importing)
        sys.stderr.write("kmeans-compress: interrupted\n")
        return 130


def _main(argv: list[str] | None) -> int:
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        # Answered before argparse and the option tables are even imported.
        from ..appinfo import VERSION
        sys.stdout.write(f"kmeans-compress {VERSION}\n")
        return 0
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

    pending = _start_reading(options)
    try:
        return _run(options, pending)
    finally:
        if pending is not None:
            pending.cancel()  # unused (refused, failed early): stop its thread


def _start_reading(options):
    """For one PNG input, start reading and inflating it now: zlib releases the
    GIL, so on a second core that overlaps importing numpy and the core."""
    if len(options.inputs) != 1 or options.inputs[0].suffix.lower() != ".png":
        return None
    from ..core.png.reader import start_inflate  # imports no numpy
    try:
        return start_inflate(options.inputs[0], unfilter=True)
    except RuntimeError:  # no thread to be had: it is read when its turn comes
        return None


def _run(options, pending) -> int:
    # The core (and numpy) is imported only once there is work to do.
    from ..core import ImageError, QuantizeSettings
    settings = QuantizeSettings(k=options.k, space=options.space, init=options.init,
                                max_iter=options.max_iter, tol=options.tol,
                                seed=options.seed, dither=options.dither,
                                dither_strength=options.dither_strength)
    try:
        settings.validated()
    except ImageError as exc:
        return _error(str(exc))

    from .options import UsageError
    from .planning import plan  # may create --out-dir: only once all else is valid
    try:
        jobs = plan(options)
    except UsageError as exc:
        return _error(str(exc))

    from .runner import run
    return run(jobs, settings, options, prefetched=pending)
