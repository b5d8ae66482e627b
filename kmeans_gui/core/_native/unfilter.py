"""Inflated PNG scanlines to pixels, in C, with no numpy.

Used by ``png.decoder`` on the caller's thread and by ``png.reader``'s reading
thread when the command line asks it to finish the whole decode while numpy
is still importing.
"""

from __future__ import annotations

import ctypes

from . import I64, PTR, declare

_unfilter = declare("png_unfilter", I64, PTR, PTR, I64, I64, I64, PTR)


def _writable_address(buffer, size: int) -> int:
    """Address of the first byte of ``buffer``: writable, C-contiguous, ``size`` bytes."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("the output must be a writable buffer") from None
    if view.readonly or not view.c_contiguous:
        raise ValueError("the output must be a writable, C-contiguous buffer")
    if view.nbytes != size:
        raise ValueError(f"the output holds {view.nbytes} bytes, the image needs {size}")
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def _bytes_address(data: bytes) -> int:
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value


def unfilter_into(width: int, height: int, channels: int, pieces, out) -> bool:
    """Unfilter the inflated rows arriving in ``pieces`` (bytes, split
    anywhere) into ``out``: a writable buffer (bytearray, numpy array) of
    exactly ``height * width * channels`` bytes.

    False for an invalid filter type or the wrong amount of data; ValueError
    for sizes or an output that C must not be given.
    """
    if not (width >= 1 and height >= 1 and channels in (3, 4)):
        raise ValueError(f"cannot unfilter {width}x{height} pixels of {channels} channels")
    out = _writable_address(out, width * height * channels)
    stride = 1 + width * channels
    row_bytes = width * channels
    row = 0

    def rows(data: bytes, offset: int, count: int) -> bool:
        nonlocal row
        if row + count > height:
            return False
        above = out + (row - 1) * row_bytes if row else None
        row += count
        return _unfilter(_bytes_address(data) + offset, out + (row - count) * row_bytes,
                         width, count, channels, above) == 0

    carry = b""  # the start of a row split across two pieces
    for piece in pieces:
        piece = bytes(piece)
        start = 0
        if carry:
            start = min(stride - len(carry), len(piece))
            carry += piece[:start]
            if len(carry) < stride:
                continue
            if not rows(carry, 0, 1):
                return False
            carry = b""
        count = (len(piece) - start) // stride
        if count and not rows(piece, start, count):
            return False
        carry = piece[start + count * stride:]
    return row == height and not carry
