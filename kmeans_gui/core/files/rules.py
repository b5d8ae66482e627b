"""Output names and the rules for replacing files, shared by the CLI and the GUI.

Standard library only: the command line plans its outputs before numpy is
loaded. This is a public module of the core (the CLI imports it directly).
"""

from __future__ import annotations

import os
from pathlib import Path

#: ``NAME-kK.png``: the suffix added to an input's stem; ``{k}`` is the palette size.
DEFAULT_SUFFIX = "-k{k}"

#: Why an output must not be written (see ``refusal``).
SOURCE, FOLDER, EXISTS = "source", "folder", "exists"


def output_name(source: Path | None, k: int, *, suffix: str = DEFAULT_SUFFIX,
                folder: str | os.PathLike | None = None) -> Path:
    """``NAME<suffix>.png`` for ``source`` (``image`` when it has no name), in
    ``folder``, or beside ``source`` when no folder is given."""
    stem = source.stem if source is not None else "image"
    if folder is None:
        folder = source.parent if source is not None else Path()
    return Path(folder) / f"{stem}{suffix.replace('{k}', str(k))}.png"


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` are one file (links included); for paths that do
    not exist yet, whether they spell the same place."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def refusal(output: str | os.PathLike, source: str | os.PathLike | None, *,
            overwrite: bool, overwrite_source: bool = False) -> str | None:
    """Why ``output`` must not be written now, or ``None``.

    ``SOURCE``: it is the input image ``source`` (replaced only with
    ``overwrite_source`` as well as ``overwrite``); ``FOLDER``: it is a folder;
    ``EXISTS``: it exists and ``overwrite`` is false. Check again just before
    writing: files can appear in between.
    """
    output = Path(output)
    if not output.exists():
        return None
    if source is not None and same_file(output, source) and not (overwrite and overwrite_source):
        return SOURCE
    if output.is_dir():
        return FOLDER
    if not overwrite:
        return EXISTS
    return None
