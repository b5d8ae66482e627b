"""Reading a small input file whole (a mask, a palette), with messages for people."""

from __future__ import annotations

from pathlib import Path

from ..errors import ImageError


def read_input(path: Path, what: str, missing: str = "file not found") -> bytes:
    """The bytes of ``path``; ``ImageError`` naming the file if it cannot be read.

    ``what`` names the expected kind of file ("a palette file") for the
    message when ``path`` is a folder; ``missing`` is the message for a file
    that does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path.name}: {missing}") from None
    except IsADirectoryError:
        raise ImageError(f"{path.name}: is a folder, not {what}") from None
    except OSError as exc:
        raise ImageError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
