"""PNG chunks: the signature, building a chunk, and walking a file's chunks.

Standard library and zlib-ng only (the reader runs before numpy is loaded).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from zlib_ng import zlib_ng as zlib  # zlib-ng: same API, 2x faster (see pyproject)

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    """One chunk: length, type, data and the CRC of type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def iter_chunks(data: memoryview, error: type[Exception] = ValueError
                ) -> Iterator[tuple[bytes, memoryview]]:
    """(type, data) of each chunk in ``data`` (the file after the signature),
    CRCs checked; ``error`` is raised for a bad CRC or a truncated chunk, and
    when the data ends before an IEND chunk has been handed out.

    IDAT CRCs are not checked: Pillow does not check them either, the zlib
    stream's Adler-32 covers the image data, and each zlib.crc32 call over
    5 KB hands the GIL over and back (a 24 MP photo has ~350 IDAT chunks;
    inflating while the main thread imports finished at 0.82 s with those
    checks, 0.55 s without).
    """
    pos = 0
    while True:
        if pos + 12 > len(data):
            raise error("truncated chunk, or no IEND")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + length
        if length > 0x7FFFFFFF or not kind.isalpha() or end + 4 > len(data):
            raise error("invalid or truncated chunk")
        body = data[pos + 8:end]
        if kind != b"IDAT" and (zlib.crc32(body, zlib.crc32(kind))
                                != struct.unpack_from(">I", data, end)[0]):
            raise error(f"bad CRC in {kind!r}")
        yield kind, body
        pos = end + 4
