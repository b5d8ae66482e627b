"""Hand-made PNG files for hostile-input tests: any chunk, any size, any damage."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes = b"") -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


def ihdr(width: int, height: int, depth: int = 8, colour: int = 2, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def png(width: int, height: int, raw: bytes | None = None, *, colour: int = 2,
        depth: int = 8, before: bytes = b"", idat: bytes | None = None) -> bytes:
    """A complete PNG; ``raw`` is the unfiltered-with-filter-bytes scanline data
    (zeros by default), ``idat`` the whole IDAT part if given."""
    if idat is None:
        if raw is None:
            channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
            raw = bytes((1 + width * channels * depth // 8) * height)
        idat = chunk(b"IDAT", zlib.compress(raw))
    plte = chunk(b"PLTE", bytes(3 * 256)) if colour == 3 else b""
    return SIGNATURE + ihdr(width, height, depth, colour) + plte + before + idat + chunk(b"IEND")


def header_only(path: Path, width: int, height: int, colour: int = 2, depth: int = 8) -> Path:
    """A PNG that claims a size and holds a few bytes of image data: enough to
    be refused (or found truncated) from its header without decoding."""
    plte = chunk(b"PLTE", bytes(3 * 256)) if colour == 3 else b""
    body = zlib.compressobj().compress(bytes(1 << 16))
    path.write_bytes(SIGNATURE + ihdr(width, height, depth, colour) + plte
                     + chunk(b"IDAT", body) + chunk(b"IEND"))
    return path


def zeros_png(path: Path, width: int, height: int, channels: int = 3) -> Path:
    """A black image of any size, deflated row by row (never held in memory)."""
    colour = {3: 2, 4: 6}[channels]
    row = bytes(1 + width * channels)
    deflater = zlib.compressobj(9)
    with open(path, "wb") as f:
        f.write(SIGNATURE + ihdr(width, height, 8, colour))
        block = row * max(1, (4 << 20) // len(row))
        rows_per_block = len(block) // len(row)
        done = 0
        while done < height:
            n = min(rows_per_block, height - done)
            data = deflater.compress(block if n == rows_per_block else row * n)
            if data:
                f.write(chunk(b"IDAT", data))
            done += n
        f.write(chunk(b"IDAT", deflater.flush()))
        f.write(chunk(b"IEND"))
    return path
