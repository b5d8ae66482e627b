"""Writing the indexed-palette PNG: atomic, smallest bit depth, metadata kept."""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from pathlib import Path


from ...limits import EFFORTS
from .. import parallel
from ..errors import ImageError
from ..quantizer.pipeline import QuantizeResult
from ..png.writer import encode_indexed8

#: Encoder presets. Measured on quantized photos: for 1-4 bit images zlib's
#: run-length strategy is the smallest in most cases (k = 4 and k = 16 on the
#: ten test photos: smallest on 9 of 10) and by far the fastest (24 MP mosaic,
#: k = 16: 0.12 s and 1.20 MB against 0.56 s and 1.30 MB for level 7
#: filtered); for 8-bit images the default strategy beats filtered (mosaic,
#: k = 256, level 7: 5.17 vs 5.54 MB). "fast" takes that choice at level 7
#: (0.8 s for 24 MP at 8 bits with Pillow; 8-bit files are written by
#: png.writer, which deflates on all cores); "small" tries the candidates at
#: level 9 and keeps the smallest file (2-4 % smaller, several times slower on
#: large images); "auto" is "small" up to AUTO_SMALL_PIXELS and "fast" beyond.
AUTO_SMALL_PIXELS = 4_000_000


def _resolve(effort: str, pixels: int) -> str:
    if effort == "auto":
        return "small" if pixels <= AUTO_SMALL_PIXELS else "fast"
    return effort


def _zlib_plan(effort: str, bits: int) -> tuple[int, tuple[int, ...]]:
    if effort == "fast":
        return 7, ((zlib.Z_RLE,) if bits < 8 else (zlib.Z_DEFAULT_STRATEGY,))
    if effort == "small":
        if bits < 8:
            return 9, (zlib.Z_RLE, zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED)
        return 9, (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED)
    raise ValueError(f"unknown effort {effort!r}; use one of {EFFORTS}")


def bit_depth(n_colors: int) -> int:
    """Smallest PNG palette bit depth holding ``n_colors`` entries."""
    for bits in (1, 2, 4, 8):
        if n_colors <= 1 << bits:
            return bits
    raise ValueError("a PNG palette holds at most 256 colours")


def encode_png(result: QuantizeResult, *, icc_profile: bytes | None = None,
               dpi: tuple[float, float] | None = None, effort: str = "auto") -> bytes:
    """The PNG file's bytes for ``result``."""
    bits = bit_depth(result.n_colors)
    effort = _resolve(effort, result.indices.size)
    level, strategies = _zlib_plan(effort, bits)
    if dpi:
        dpi = tuple(round(v) for v in dpi)
    if effort == "fast" and bits == 8:
        return encode_indexed8(result.indices, result.palette,
                               transparency=result.transparency(), icc_profile=icc_profile,
                               dpi=dpi, level=level, strategy=strategies[0])
    options = {"bits": bits, "compress_level": level}
    transparency = result.transparency()
    if transparency is not None:
        options["transparency"] = transparency
    if icc_profile:
        options["icc_profile"] = icc_profile
    if dpi:
        options["dpi"] = dpi

    def trial(strategy: int) -> bytes:
        buffer = io.BytesIO()
        # An image per trial: Pillow keeps the save options on the image object.
        result.to_pil().save(buffer, "PNG", compress_type=strategy, **options)
        return buffer.getvalue()

    # Pillow encodes without the GIL, so the trials run side by side (4 MP
    # mosaic, two cores: k = 256, two trials 1.03 -> 0.61 s; k = 16, three
    # trials 1.53 -> 0.80 s). min() keeps the first of equal sizes, as before.
    return min(parallel.run_each(lambda i: trial(strategies[i]), len(strategies)), key=len)


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
