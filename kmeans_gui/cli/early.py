"""Start reading the one PNG input before argparse, the options and the core
are imported: those imports take tens of milliseconds of CPU, and the
reading thread (standard library, zlib and the C unfilter, no numpy) can
decode the image meanwhile.

Only a guess from the raw arguments: ``main`` uses the read only when the
parsed options name that same single input, and cancels it otherwise, so a
wrong guess costs a little wasted reading, never a wrong result.
"""

from __future__ import annotations

import os

#: Options whose next argument is their value, never an INPUT. A stale list
#: only makes the guess miss (tests/cli check it against the parser).
VALUE_OPTIONS = frozenset((
    "-k", "--max-delta-e", "--max-size", "--quality", "-o", "--output", "--out-dir",
    "--suffix", "--space", "--dither", "--dither-strength", "--init", "--max-iter", "--tol",
    "--seed", "--keep", "--palette", "--importance", "--export-palette", "--effort",
    "--max-pixels", "-j", "--jobs"))


def guess_input(args: list[str]) -> str | None:
    """The single PNG INPUT named in ``args``, if that is what they seem to say."""
    inputs = []
    skip = False
    positional = False
    for arg in args:
        if skip:
            skip = False
        elif positional or arg == "-" or not arg.startswith("-"):
            inputs.append(arg)
        elif arg == "--":
            positional = True
        elif arg.startswith("--max-p"):  # another pixel limit: the reader must know it
            return None
        elif arg in VALUE_OPTIONS:
            skip = True
    if len(inputs) != 1 or not inputs[0].lower().endswith(".png"):
        return None
    return inputs[0]


def start(args: list[str]):
    """An inflation of the guessed input under way (``png.reader``), or None."""
    path = guess_input(args)
    if path is None or not os.path.isfile(path):  # pipes, devices: the run refuses them
        return None
    from ..core.png.reader import start_inflate  # imports no numpy
    try:
        return start_inflate(path, unfilter=True)
    except RuntimeError:  # no thread to be had: it is read when its turn comes
        return None
