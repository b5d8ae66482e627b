"""Loading any image Pillow reads into 8-bit RGB or RGBA pixels plus metadata."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...limits import MAX_PIXELS, READABLE_PATTERNS, megapixels
from ..errors import ImageError
from ..png.decoder import read_png
from ..png.reader import Inflation

__all__ = ["MAX_PIXELS", "READABLE_PATTERNS", "LoadedImage", "load_image", "load_image_data",
           "read_stream"]

@dataclass(frozen=True)
class LoadedImage:
    """Decoded pixels, C-contiguous uint8 of shape (height, width, 3 or 4)."""

    pixels: np.ndarray
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None
    path: Path | None = None
    file_size: int | None = None
    source_format: str | None = None

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS, *,
               prefetched: Inflation | None = None) -> LoadedImage:
    """Decode ``path``; raise :class:`ImageError` with a readable reason on failure.

    8-bit RGB(A) PNGs go through the fast reader (``png.decoder``), which
    gives exactly what the Pillow path below gives; ``prefetched`` is its
    inflation of ``path`` started early with ``png.reader.start_inflate``.
    """
    path = Path(path)
    name = path.name
    try:
        file_size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageError(f"{name}: is a folder, not an image")
    if not path.is_file():  # a pipe would block the reader, a device never end
        raise ImageError(f"{name}: not a regular file")
    if file_size == 0:
        raise ImageError(f"{name}: the file is empty")
    fast = read_png(path, max_pixels, prefetched)
    if fast is not None:
        return _from_png(*fast, path, file_size)
    return _with_pillow(path, name, max_pixels, path, file_size)


def load_image_data(data: bytes, name: str = "standard input",
                    max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode an image file's bytes (e.g. read from a pipe); errors as ``load_image``'s."""
    if not data:
        raise ImageError(f"{name}: no data")
    return _with_pillow(io.BytesIO(data), name, max_pixels, None, len(data))


#: Bytes of a stream (standard input) read per pixel allowed: more than any
#: image file holds per pixel (16-bit RGBA stored uncompressed takes 8).
STREAM_BYTES_PER_PIXEL = 10


def read_stream(stream, max_pixels: int = MAX_PIXELS, name: str = "standard input") -> bytes:
    """All of a binary ``stream``, for ``load_image_data``; ImageError when it
    holds more than any image within ``max_pixels`` could (memory is then
    bounded by the limit, not by what the other end of a pipe sends)."""
    limit = STREAM_BYTES_PER_PIXEL * max_pixels + (1 << 20)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"{name}: more data than any image within the limit of "
                         f"{megapixels(max_pixels)} megapixels holds")
    return data


def _with_pillow(source, name: str, max_pixels: int, path: Path | None,
                 file_size: int) -> LoadedImage:
    """Decode ``source`` (a path or a binary file) with Pillow."""
    # Imported here: 8-bit RGB(A) PNGs are read without Pillow, and the command
    # line then never loads it.
    from PIL import Image, UnidentifiedImageError
    _one_block_per_image(Image)
    # One pixel limit: max_pixels, checked from the header (in _decode) before
    # anything is decoded. Pillow's own decompression-bomb check (a warning
    # from 89.5 MP, an error from 179 MP) would otherwise fire first, with its
    # own message, below the limit this program states.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(source) as im:
            return _decode(im, max_pixels, name, path, file_size)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image format this program can read") from None
    except Image.DecompressionBombError:
        raise ImageError(_too_large(name, None, max_pixels)) from None
    except PermissionError:
        raise ImageError(f"{name}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
            struct.error, zlib.error):
        # Pillow reports truncated and corrupt data as OSError/SyntaxError/ValueError,
        # and some damage (an iCCP chunk cut short) as IndexError and the like.
        # Pillow's own wording (its internal names, byte counts) means nothing
        # to the person who picked the file; the kind of failure is enough.
        raise ImageError(f"{name}: the image data is damaged or truncated") from None
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to decode this image") from None


#: Pillow's largest block of image memory: one block holds any image we load
#: (it must be a multiple of 4096 and fit a C int).
PILLOW_BLOCK_SIZE = 1 << 30


def _one_block_per_image(image_module) -> None:
    """Make Pillow allocate each image as one block instead of 16 MiB pieces.

    Once the C library has freed blocks of that size (the image opened
    before), it serves the next ones from its heap and, as Pillow asks for
    zeroed memory, clears them before the decoder starts, holding the GIL:
    the window's event loop stalls while a large image loads in the
    background. A block larger than the C library's mapping threshold is
    always freshly mapped and already zero (benchmarks/gui_responsiveness.py
    shows the stall). Pillow documents the setting as PILLOW_BLOCK_SIZE; an
    explicit environment variable is left alone."""
    if "PILLOW_BLOCK_SIZE" in os.environ:
        return
    core = image_module.core
    if hasattr(core, "set_block_size") and core.get_block_size() < PILLOW_BLOCK_SIZE:
        core.set_block_size(PILLOW_BLOCK_SIZE)


def _too_large(name: str, pixels: int | None, limit: int) -> str:
    """The message for an image over the pixel limit, the same in every path."""
    got = ""
    if pixels:
        got = f" ({megapixels(pixels)} MP)"
        if megapixels(pixels) == megapixels(limit):
            got = f" ({pixels:,} pixels)"
    return f"{name}: the image is too large{got}; the limit is {megapixels(limit)} megapixels"


def _decode(im, max_pixels: int, name: str, path: Path | None,
            file_size: int) -> LoadedImage:
    from PIL import Image, ImageOps
    width, height = im.size
    if width * height > max_pixels:
        raise ImageError(_too_large(name, width * height, max_pixels))
    if width == 0 or height == 0:
        raise ImageError(f"{name}: the image has no pixels")
    source_format = im.format
    icc = im.info.get("icc_profile") or None
    dpi = im.info.get("dpi")
    if dpi is not None:
        try:
            dpi = (float(dpi[0]), float(dpi[1]))
        except (TypeError, ValueError, IndexError):
            dpi = None
    with warnings.catch_warnings():
        # We enforce our own pixel limit above; Pillow's bomb warning is redundant.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im.seek(0)  # first frame of animations
        im.load()
        if im.getexif().get(_ORIENTATION, 1) != 1:
            # exif_transpose copies even when there is nothing to do, so only
            # call it for a real rotation or flip.
            im = ImageOps.exif_transpose(im)
    rgb = _to_8bit(im, name)
    pixels = _pixels_of(rgb)
    if pixels.shape[2] == 4 and bool((pixels[:, :, 3] == 255).all()):
        # An alpha channel that is opaque everywhere only costs a tRNS chunk.
        pixels = np.ascontiguousarray(pixels[:, :, :3])
    return LoadedImage(
        pixels=pixels,
        icc_profile=icc if isinstance(icc, bytes) else None,
        dpi=dpi,
        path=path,
        file_size=file_size,
        source_format=source_format,
    )


def _from_png(pixels: np.ndarray, header, path: Path, file_size: int) -> LoadedImage:
    """The fast reader's result, shaped as ``_decode`` shapes Pillow's."""
    if pixels.shape[2] == 4 and bool((pixels[:, :, 3] == 255).all()):
        pixels = np.ascontiguousarray(pixels[:, :, :3])
    return LoadedImage(pixels=pixels, icc_profile=header.icc_profile, dpi=header.dpi,
                       path=path, file_size=file_size, source_format="PNG")


_ORIENTATION = 0x0112
_STRIP_ROWS = 256


def _pixels_of(image) -> np.ndarray:
    """Copy an RGB/RGBA Pillow image into a new array, a strip of rows at a time.

    ``np.asarray(image)`` goes through ``tobytes()``, which holds the encoded
    chunks and their joined copy at once: two extra decoded images of memory
    at the peak (measured 315 MiB above rest for a 69 MiB photo). Strips keep
    the peak at the Pillow image plus the array.
    """
    channels = len(image.getbands())
    width, height = image.size
    pixels = np.empty((height, width, channels), np.uint8)
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(height, top + _STRIP_ROWS)
        strip = image.crop((0, top, width, bottom)).tobytes()
        pixels[top:bottom] = np.frombuffer(strip, np.uint8).reshape(bottom - top, width, channels)
    return pixels


def _has_transparency(im) -> bool:
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return True
    return "transparency" in im.info


def _to_8bit(im, name: str):
    """Convert every supported mode to 8-bit RGB, or RGBA where there is alpha."""
    from PIL import Image
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit grey: scale to 8 bits by range rather than clipping at 255.
        arr = np.asarray(im).astype(np.float64)
        peak = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(np.rint(arr * (255.0 / peak)), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(arr[:, :, None], 3, axis=2), "RGB")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        arr = np.clip(np.rint((np.nan_to_num(arr, nan=lo) - lo) * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(arr[:, :, None], 3, axis=2), "RGB")
    if mode in ("RGBA;16B", "RGB;16", "RGB;16B"):
        return im.convert("RGBA" if "A" in mode else "RGB")
    if mode in ("1", "L", "P", "CMYK", "YCbCr", "LAB", "HSV", "LA", "PA", "La", "RGBa", "RGBX"):
        try:
            return im.convert("RGBA" if _has_transparency(im) else "RGB")
        except (ValueError, OSError):
            raise ImageError(f"{name}: cannot convert its colour mode ({mode})") from None
    raise ImageError(f"{name}: unsupported colour mode {mode}")
