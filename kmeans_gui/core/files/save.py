"""Saving a result: the overwrite rules, then an atomic write of its PNG."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ...limits import DEFAULT_EFFORT
from ..compress import encode_png
from ..errors import ImageError, OutputExists
from ..quantizer.pipeline import QuantizeResult
from .rules import EXISTS, FOLDER, SOURCE, SPECIAL, refusal


def write_atomic(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``, then move it into place.

    A reader never sees a half-written file, and a failure leaves any existing
    file at ``path`` untouched. Without ``overwrite`` an existing ``path`` is
    never replaced, even by a race with another writer: the finished file is
    hard-linked into place, which fails if the name exists (raising
    :class:`OutputExists`). Only regular files are ever written or replaced:
    a device, pipe, socket or folder at ``path`` (or a link to one) is refused.
    """
    path = Path(path)
    _check_target(path, overwrite)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = _create_temporary(folder, path.name)
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
        _check_target(path, overwrite)
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_exclusive(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ImageError(f"{path}: could not be written ({exc.strerror or exc})") from None
        raise


#: Flags of the temporary file: new (never an existing name), not followed
#: through a link, not inherited by child processes.
_TEMPORARY_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """A new file ``.NAME.XXXXXXXX.tmp`` in ``folder``, readable by its owner
    only (as ``tempfile.mkstemp`` makes it; that module and the ``random``
    module it imports are not loaded for this)."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(5).hex()}.tmp")
        try:
            return os.open(tmp, _TEMPORARY_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


def _check_target(path: Path, overwrite: bool) -> None:
    """Refuse to write over anything but a regular file (or, without
    ``overwrite``, over anything at all)."""
    why = refusal(path, None, overwrite=overwrite)
    if why == FOLDER:
        raise ImageError(f"{path} is a folder")
    if why == SPECIAL:
        raise ImageError(f"{path} is not a regular file")
    if why == EXISTS:
        raise OutputExists(f"{path} already exists")


def _move_exclusive(tmp: str, path: Path) -> None:
    """Rename ``tmp`` to ``path`` unless ``path`` exists, atomically."""
    try:
        os.link(tmp, path)  # fails if the name exists, whoever created it when
    except FileExistsError:
        raise OutputExists(f"{path} already exists") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here (FAT, some network shares): claim the name by
        # creating it exclusively, then replace that empty placeholder.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise OutputExists(f"{path} already exists") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


#: errno values by which a file system says it has no hard links.
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                  errno.ENOSYS, errno.EACCES}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_REFUSALS = {SOURCE: "refusing to overwrite the input image", EXISTS: "the file already exists",
             FOLDER: "is a folder", SPECIAL: "not a regular file"}


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
        raise (OutputExists if why == EXISTS else ImageError)(f"{path}: {_REFUSALS[why]}")
    if data is None:
        data = encode_png(result, icc_profile=icc_profile, dpi=dpi, effort=effort)
    write_atomic(path, data, overwrite=overwrite)
    return len(data)
