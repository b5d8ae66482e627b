"""Saving a result: the overwrite rules, then an atomic write of its PNG."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ...limits import DEFAULT_EFFORT
from ..compress import encode_png
from ..errors import ImageError
from ..quantizer.pipeline import QuantizeResult
from .rules import EXISTS, FOLDER, SOURCE, refusal


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over.

    A reader never sees a half-written file, and a failure leaves any existing
    file at ``path`` untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise ImageError(f"{path}: the folder {folder} does not exist") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ImageError(f"{path}: could not be written ({exc.strerror or exc})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_REFUSALS = {SOURCE: "refusing to overwrite the input image", EXISTS: "the file already exists",
             FOLDER: "is a folder"}


def save_png(result: QuantizeResult, path: str | os.PathLike, *,
             source: str | os.PathLike | None = None, overwrite: bool = False,
             overwrite_source: bool = False, icc_profile: bytes | None = None,
             dpi: tuple[float, float] | None = None, effort: str = DEFAULT_EFFORT,
             data: bytes | None = None) -> int:
    """Write ``result`` as an indexed PNG at ``path``; return the bytes written.

    Refuses to replace an existing file unless ``overwrite``, and to replace
    ``source`` (the input image) unless ``overwrite_source`` as well
    (``rules.refusal``). ``data``: the result already encoded with these
    options (``encode_png``), so saving is only a file write.
    """
    path = Path(path)
    why = refusal(path, source, overwrite=overwrite, overwrite_source=overwrite_source)
    if why is not None:
        raise ImageError(f"{path}: {_REFUSALS[why]}")
    if data is None:
        data = encode_png(result, icc_profile=icc_profile, dpi=dpi, effort=effort)
    write_atomic(path, data)
    return len(data)
