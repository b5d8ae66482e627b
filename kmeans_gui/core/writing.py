"""Writing the indexed-palette PNG: atomic, smallest bit depth, metadata kept."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ImageError
from .pipeline import QuantizeResult
from .png_encoder import bit_depth, encode_indexed

#: PNG compression effort (see ``png_encoder``); "small", the old name of
#: the smallest-file effort, means "max".
EFFORTS = ("auto", "fast", "max", "small")


def encode_png(result: QuantizeResult, *, icc_profile: bytes | None = None,
               dpi: tuple[float, float] | None = None, effort: str = "auto") -> bytes:
    """The PNG file's bytes for ``result``."""
    if effort not in EFFORTS:
        raise ValueError(f"unknown effort {effort!r}; use one of {EFFORTS}")
    if dpi:
        dpi = tuple(round(v) for v in dpi)
    return encode_indexed(result.indices, result.palette, transparency=result.transparency(),
                          icc_profile=icc_profile, dpi=dpi,
                          effort="max" if effort == "small" else effort)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


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


def save_png(result: QuantizeResult, path: str | os.PathLike, *,
             source: str | os.PathLike | None = None, overwrite: bool = False,
             overwrite_source: bool = False, icc_profile: bytes | None = None,
             dpi: tuple[float, float] | None = None, effort: str = "auto") -> int:
    """Write ``result`` as an indexed PNG at ``path``; return the bytes written.

    Refuses to replace an existing file unless ``overwrite``, and to replace
    ``source`` (the input image) unless ``overwrite_source`` as well.
    """
    path = Path(path)
    if path.exists():
        if source is not None and same_file(path, source) and not overwrite_source:
            raise ImageError(f"{path}: refusing to overwrite the input image")
        if not overwrite:
            raise ImageError(f"{path}: the file already exists")
        if path.is_dir():
            raise ImageError(f"{path}: is a folder")
    data = encode_png(result, icc_profile=icc_profile, dpi=dpi, effort=effort)
    write_atomic(path, data)
    return len(data)
