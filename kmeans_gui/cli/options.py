"""Command line parsing: argv -> :class:`Options`, without importing the core."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.files.rules import DEFAULT_SUFFIX, same_file

# Choices and defaults come from kmeans_gui.limits (standard library only:
# importing the core here would load numpy just to print --help).
from ..limits import (
    DEFAULT_DITHER,
    DEFAULT_DITHER_STRENGTH,
    DEFAULT_EFFORT,
    DEFAULT_INIT,
    DEFAULT_K,
    DEFAULT_MAX_ITER,
    DEFAULT_SEED,
    DEFAULT_SPACE,
    DEFAULT_TOL,
    DITHERS,
    EFFORTS,
    INITS,
    MAX_K,
    MAX_PIXELS,
    MAX_PIXELS_CEILING,
    MIN_K,
    PALETTE_SUFFIXES,
    SPACES,
    megapixels,
)
from .targets import TargetSpec, parse_delta_e, parse_quality, parse_size, target_from

EXAMPLES = """\
examples:
  kmeans-compress photo.jpg            # writes photo-k16.png beside it
  kmeans-compress -k 64 --out-dir small/ --json *.png > report.jsonl
  kmeans-compress -k 32 --out-dir small/ photos/   # every image in photos/
  kmeans-compress -k 64 - < in.png > out.png       # standard input to output
  kmeans-compress -k 12 --keep '#c0392b,#ffffff' map.png    # these stay exact
  kmeans-compress --palette pico-8.hex sprite.png  # map to a given palette
  kmeans-compress --importance eyes.png cat.jpg    # white areas matter more
  kmeans-compress --max-size 200K photo.jpg  # largest k that fits: photo-max200K.png
  kmeans-compress --quality 60-80 photo.jpg  # pngquant's scale: photo-q60-80.png

exit status: 0 all written, 1 some inputs failed (the others are written),
2 bad arguments, 99 a target (--max-delta-e, --max-size, --quality) was not
met for some input (nothing written for it; other failures give 1),
130 interrupted by Ctrl-C (143 by SIGTERM); an interrupted run leaves no
partial files.
"""


#: "-" as INPUT or OUTPUT: standard input or output. A file really named "-"
#: is reached as "./-" (kept apart from this marker by making it absolute).
STDIO = Path("-")


def _path(text: str) -> Path:
    if text == "-":
        return STDIO
    path = Path(text)
    return path.absolute() if path == STDIO else path


class UsageError(Exception):
    """Arguments that make no sense together; exit status 2."""


@dataclass(frozen=True)
class Options:
    inputs: tuple[Path, ...]
    k: int
    output: Path | None
    out_dir: Path | None
    suffix: str
    space: str
    dither: str  # "none", "fs", "auto" or "ordered"
    dither_strength: float
    init: str
    max_iter: int
    tol: float
    seed: int
    effort: str
    jobs: int
    force: bool
    quiet: bool
    json: bool
    max_pixels: int = MAX_PIXELS
    keep: str | None = None  # --keep: colours ("#c0392b,#fff") or a palette file
    palette: Path | None = None  # --palette: map to exactly this palette file
    importance: Path | None = None  # --importance: grayscale mask, white = important
    export_palette: Path | None = None  # --export-palette: write the palette here
    target: TargetSpec | None = None  # chooses k instead of -k


def _number(text: str, kind: type, ok, rule: str):
    """Parse ``text`` as ``kind`` (int or float) and check it with ``ok``."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):  # float comparisons are False for nan, so nan is refused
        raise argparse.ArgumentTypeError(f"{rule}, got {text}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "must be at least 1")


def _k(text: str) -> int:
    return _number(text, int, lambda v: MIN_K <= v <= MAX_K,
                   f"must be between {MIN_K} and {MAX_K}")


def _strength(text: str) -> float:
    return _number(text, float, lambda v: 0.0 < v <= 1.0, "must be above 0 and at most 1")


def _tolerance(text: str) -> float:
    return _number(text, float, lambda v: v >= 0.0, "must be zero or positive")


def _seed(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "must be zero or positive")


def _max_pixels(text: str) -> int:
    return _number(text, int, lambda v: 1 <= v <= MAX_PIXELS_CEILING,
                   f"must be between 1 and {MAX_PIXELS_CEILING} "
                   f"({megapixels(MAX_PIXELS_CEILING)} megapixels)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help texts start in column 30 so each fits one line of an 80-column terminal."""

    def __init__(self, prog: str) -> None:
        # argparse makes a formatter for every option it adds; given the
        # width, it does not import shutil (and bz2, lzma) to measure it.
        super().__init__(prog, max_help_position=30, width=_terminal_columns() - 2)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmeans-compress",
        description="Compress images (PNG, JPEG, WebP, TIFF, BMP, GIF) to indexed-palette\n"
                    "PNGs by K-Means colour quantization.",
        epilog=EXAMPLES,
        formatter_class=_Formatter,
    )
    add = parser.add_argument
    add("inputs", nargs="+", metavar="INPUT", type=_path,
        help="image files, folders of them, or - for stdin")
    add("-k", dest="k", type=_k, default=None, metavar="K",
        help=f"palette size, {MIN_K}-{MAX_K} (default {DEFAULT_K})")
    goal = parser.add_mutually_exclusive_group()
    goal.add_argument("--max-delta-e", type=parse_delta_e, metavar="D",
                      help="smallest k with mean OKLab ΔE×100 <= D")
    goal.add_argument("--max-size", type=parse_size, metavar="SIZE",
                      help="largest k whose PNG fits SIZE (200K, 1.5M)")
    goal.add_argument("--quality", type=parse_quality, metavar="MIN-MAX",
                      help="0-100 as pngquant: aim for MAX, fail < MIN")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=_path, metavar="OUTPUT",
                       help="output file (one INPUT only), or - for stdout")
    where.add_argument("--out-dir", type=Path, metavar="DIR",
                       help="write NAME-kK.png into DIR (created if missing)")
    where.add_argument("--suffix", metavar="SUFFIX",
                       help="write NAME<SUFFIX>.png beside INPUT ({k} = K)")
    add("--space", choices=SPACES, default=DEFAULT_SPACE,
        help=f"colour space for distances (default {DEFAULT_SPACE})")
    add("--dither", choices=DITHERS, default=None,
        help=f"none, fs (Floyd-Steinberg), auto (selective) or ordered (default "
             f"{DEFAULT_DITHER})")
    add("--dither-strength", type=_strength, default=None, metavar="S",
        help=f"dithering strength in (0, 1] (default {DEFAULT_DITHER_STRENGTH:g})")
    add("--init", choices=INITS, default=DEFAULT_INIT,
        help=f"initial palette choice (default {DEFAULT_INIT})")
    add("--max-iter", type=_positive_int, default=DEFAULT_MAX_ITER, metavar="N",
        help=f"stop K-Means after N iterations (default {DEFAULT_MAX_ITER})")
    add("--tol", type=_tolerance, default=DEFAULT_TOL, metavar="T",
        help=f"stop when an iteration gains less (default {DEFAULT_TOL:g})")
    add("--seed", type=_seed, default=DEFAULT_SEED, metavar="N",
        help=f"random seed; same seed, same bytes (default {DEFAULT_SEED})")
    add("--keep", metavar="COLOURS|FILE",
        help="colours every palette keeps exactly: '#rrggbb,...' or a palette file")
    add("--palette", type=Path, metavar="FILE",
        help="map to exactly this palette (.gpl .pal .txt .hex .act .png); no -k")
    add("--importance", type=Path, metavar="MASK",
        help="grayscale image, white = important (resized to each INPUT)")
    add("--export-palette", type=Path, metavar="FILE",
        help="also write the palette (format by extension; one INPUT only)")
    add("--effort", choices=EFFORTS, default=DEFAULT_EFFORT,
        help=f"PNG compression effort (default {DEFAULT_EFFORT}); max: the smallest "
             "file, several times slower (small: the same)")
    add("--max-pixels", type=_max_pixels, default=MAX_PIXELS, metavar="N",
        help=f"refuse larger images (default {megapixels(MAX_PIXELS)} megapixels)")
    add("-j", "--jobs", type=_positive_int, default=None, metavar="N",
        help="parallel worker processes (default: cores)")
    add("-f", "--force", action="store_true",
        help="replace existing outputs (never an input)")
    add("-q", "--quiet", action="store_true",
        help="print only errors and --json lines; no progress")
    add("--json", action="store_true",
        help="one JSON object per image on stdout, for scripts")
    add("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    from ..appinfo import VERSION
    return VERSION


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal (False for closed or odd streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _raw_size(argv: list[str] | None) -> str | None:
    """--max-size as typed (for the output name), or None."""
    args = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(args):
        if arg == "--max-size" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--max-size="):
            return arg.split("=", 1)[1]
    return None


def parse(argv: list[str] | None) -> Options:
    """Parse ``argv``; argparse exits 2 itself, :class:`UsageError` covers the rest."""
    ns = build_parser().parse_args(_dash_values(sys.argv[1:] if argv is None else argv))
    if ns.output is not None and len(ns.inputs) > 1:
        raise UsageError("-o/--output takes a single INPUT; use --out-dir or --suffix "
                         "for several")
    output = ns.output
    if STDIO in ns.inputs:
        if len(ns.inputs) > 1:
            raise UsageError("- (standard input) must be the only INPUT")
        if ns.out_dir is not None or ns.suffix is not None:
            raise UsageError("standard input has no name to derive an output name from; "
                             "use -o FILE, or -o - for standard output")
        if output is None:
            output = STDIO
    if output == STDIO and is_terminal(sys.stdout):
        raise UsageError("refusing to write PNG data to a terminal; redirect standard "
                         "output or use -o FILE")
    if ns.dither == "none" and ns.dither_strength is not None:
        raise UsageError("--dither-strength needs dithering; drop --dither none")
    dither = ns.dither if ns.dither is not None else DEFAULT_DITHER
    strength = (ns.dither_strength if ns.dither_strength is not None
                else DEFAULT_DITHER_STRENGTH)
    if ns.palette is not None and ns.k is not None:
        raise UsageError("--palette sets the colours; drop -k")
    if ns.palette is not None and ns.keep is not None:
        raise UsageError("--palette keeps every colour of the file already; drop --keep")
    if ns.palette is not None and ns.importance is not None:
        raise UsageError("--importance guides K-Means, which --palette skips; drop one")
    if ns.export_palette is not None:
        if len(ns.inputs) > 1 or ns.inputs[0] != STDIO and _is_dir(ns.inputs[0]):
            raise UsageError("--export-palette takes a single INPUT image")
        if ns.export_palette.suffix.lower() not in PALETTE_SUFFIXES:
            raise UsageError(f"--export-palette: unknown palette format "
                             f"{ns.export_palette.suffix or '(no extension)'!r}; use one of "
                             f"{', '.join(PALETTE_SUFFIXES)}")
        for path in (*ns.inputs, *( [output] if output not in (None, STDIO) else [])):
            if path != STDIO and same_file(path, ns.export_palette):
                raise UsageError("--export-palette would overwrite an input or the output")
    target = target_from(ns.max_delta_e, ns.max_size, _raw_size(argv), ns.quality)
    if target is not None and ns.k is not None:
        raise UsageError("-k and a target (--max-delta-e, --max-size, --quality) "
                         "cannot be combined: the target chooses k")
    if target is not None and ns.palette is not None:
        raise UsageError("--palette sets the colours, a target chooses k: drop one")
    k = DEFAULT_K if ns.k is None else ns.k
    if target is not None:
        suffix = target.label if ns.suffix is None else ns.suffix
        if "{k}" in suffix:
            raise UsageError("--suffix with {k} and a target: k is only known after "
                             "the search; the default names the target")
    else:
        suffix = DEFAULT_SUFFIX if ns.suffix is None else ns.suffix
    if "/" in suffix or os.sep in suffix:
        raise UsageError("--suffix cannot contain a path separator; use --out-dir")
    if ns.palette is None:  # else {k} is the palette's size, known once it is read
        suffix = suffix.replace("{k}", str(k))
    return Options(
        inputs=tuple(ns.inputs), k=k, target=target, output=output, out_dir=ns.out_dir,
        suffix=suffix, space=ns.space, dither=dither, dither_strength=strength,
        init=ns.init, max_iter=ns.max_iter, tol=ns.tol, seed=ns.seed, effort=ns.effort,
        jobs=ns.jobs if ns.jobs is not None else default_jobs(),
        force=ns.force, quiet=ns.quiet, json=ns.json, max_pixels=ns.max_pixels, keep=ns.keep,
        palette=ns.palette, importance=ns.importance, export_palette=ns.export_palette,
    )


#: Options whose value may start with a dash ("--suffix -small"): argparse
#: would take such a value for an option.
_DASH_VALUED = ("--suffix",)


def _dash_values(argv: list[str]) -> list[str]:
    """``--suffix -small`` as ``--suffix=-small``, so argparse accepts it."""
    args, rest = [], list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            return args + [arg] + rest
        if arg in _DASH_VALUED and rest and rest[0].startswith("-"):
            arg = f"{arg}={rest.pop(0)}"
        args.append(arg)
    return args


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False
