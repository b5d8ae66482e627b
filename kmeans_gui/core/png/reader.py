"""The first half of the fast PNG reader: chunks and inflating, without numpy.

For the PNGs it handles -- 8-bit RGB or RGBA, not interlaced, without
transparency, orientation or animation chunks -- this module reads and checks
the chunks (order, lengths, CRCs except IDAT's, which the zlib stream's
Adler-32 covers) and inflates the image data; ``png.decoder``
unfilters the scanlines in C, and ``load_image`` uses both.
Anything else, including any damage, is left to Pillow so that behaviour and
error messages stay exactly Pillow's: the reader then answers ``None`` (or
raises :class:`NotHandled` from ``pieces()``) instead of reporting an error.

It imports only the standard library and zlib-ng (the core package imports
its modules on first use), so a caller can start it before numpy and the
rest of the core are imported: inflating releases the GIL, so a 24 MP photo
(~0.25 s to inflate) is mostly done by the time numpy (~0.2 s) is loaded::

    from kmeans_gui.core.png.reader import start_inflate
    pending = start_inflate(path)             # returns at once; a thread works
    from kmeans_gui.core import load_image    # numpy imports meanwhile
    image = load_image(path, prefetched=pending)

API:

``start_inflate(path, max_pixels=MAX_PIXELS, *, unfilter=False) -> Inflation``
    Start reading ``path`` in a daemon thread; with ``unfilter`` the thread
    also unfilters the rows (in C, still without numpy) and ``pixels()``
    hands them over instead of ``pieces()``.
``Inflation.header() -> PngHeader | None``
    Wait for the chunks before the image data. ``None``: use Pillow.
``Inflation.pieces() -> Iterator[bytes]``
    The inflated scanlines (a filter byte and ``width * channels`` bytes per
    row) in order, in pieces as they are inflated, so unfiltering can run
    alongside. Raises :class:`NotHandled` if the rest of the file turns out
    to be for Pillow after all (a bad CRC, a chunk after the image data...).
    The data is handed out once: ``pieces()`` or ``result()``, not both.
``Inflation.pixels() -> bytearray | None``
    With ``unfilter``: the image, height * width * channels bytes; ``None``
    for Pillow.
``Inflation.result() -> tuple[PngHeader, bytes] | None``
    All of it at once (the joined pieces), or ``None`` for Pillow.
``Inflation.is_for(path) -> bool``
    Whether it is for ``path`` and its data not yet taken.
``Inflation.refused``
    After ``None`` or NotHandled: the reason (a :class:`Refused` or
    :class:`NotRegular`) when Pillow must not be tried either, else ``None``.
``Inflation.cancel()``
    Stop the thread early, e.g. when the consumer gives up.

Once the data has been taken, ``None`` answered or ``cancel()`` returned,
the thread has ended (so, for example, forking afterwards is safe).
``scan(path, max_pixels) -> Iterator[PngHeader | bytes]``
    The same work without a thread: the header, then the pieces.

The thread's work is CPU work: it only saves time when a core is free for
it while the caller imports.
"""

from __future__ import annotations

import os
import queue
import stat
import struct
import threading

from zlib_ng import zlib_ng as zlib  # zlib-ng: same API, 2x faster (see pyproject)

from ...limits import MAX_PIXELS
from .chunks import SIGNATURE

#: Compressed bytes inflated per call. Each call is one stretch without the
#: GIL, and taking the GIL back from a busy main thread (one that is
#: importing) can wait a switch interval (5 ms): so until someone asks for
#: the header, large batches; after that, when a consumer unfilters alongside,
#: small ones, which it gets sooner and finds in cache. 24 MP mosaic, inflating
#: while numpy and the core import: done at 0.39 s with 8 MiB batches, 0.55 s
#: with 1 MiB; read on its own with a consumer: 0.25 s with 1 MiB, 0.30 s
#: with 4 MiB.
INFLATE_INPUT = 1 << 20
INFLATE_INPUT_ALONE = 8 << 20
#: The first batch is small, so the first rows are decoded within
#: milliseconds of the file being opened.
INFLATE_FIRST = 64 << 10

#: Largest ICC profile inflated (Pillow's PngImagePlugin.MAX_TEXT_CHUNK).
MAX_ICC = 1 << 20
#: PNGs with more tEXt than this in all go to Pillow (it has its own limit).
MAX_TEXT = 1 << 16

#: tEXt keywords that are safe to skip: Pillow copies every tEXt keyword into
#: ``Image.info``, and keys like "dpi", "exif", "interlace" or
#: "XML:com.adobe.xmp" change what it decodes, so only well-known ones pass.
SAFE_TEXT = frozenset(
    b"Title Author Description Copyright Software Disclaimer Warning Source "
    b"Comment date:create date:modify date:timestamp".split()) | {b"Creation Time"}

#: Ancillary chunks Pillow reads and fails on when shorter than this (it
#: ignores their content for RGB(A) images, and so does this reader).
MIN_LENGTH = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}

#: Chunks that change Pillow's result (transparency, EXIF orientation,
#: animation, text that may carry XMP) or that Pillow may reject.
PILLOW_ONLY = frozenset((b"tRNS", b"eXIf", b"acTL", b"fcTL", b"fdAT", b"zTXt", b"iTXt"))


#: Largest chunk other than IDAT read (compressed ICC profiles, text...):
#: Pillow would read a chunk of any claimed length whole into memory.
MAX_CHUNK = 16 << 20
#: More chunks than any encoder writes (a 200 MP image deflated into 8 KiB
#: IDAT chunks has about 100 000); millions of empty ones are an attack.
MAX_CHUNKS = 1 << 20
#: Bytes read from the file at a time.
READ_BUFFER = 1 << 20


class NotHandled(Exception):
    """Not a PNG this reader decodes exactly like Pillow: let Pillow do it."""


class Refused(NotHandled):
    """A file no reader should try (Pillow would exhaust memory on it); the
    message says why."""


class PngHeader:
    """What the chunks before the image data say."""

    __slots__ = ("width", "height", "channels", "icc_profile", "dpi")

    def __init__(self, width: int, height: int, channels: int,
                 icc_profile: bytes | None, dpi: tuple[float, float] | None) -> None:
        self.width = width
        self.height = height
        self.channels = channels  # 3 (RGB) or 4 (RGBA)
        self.icc_profile = icc_profile
        self.dpi = dpi  # as Pillow reports it in info["dpi"]

    @property
    def stride(self) -> int:
        """Bytes per inflated row: the filter-type byte and the samples."""
        return 1 + self.width * self.channels


class Inflation:
    """A PNG being read and inflated in a background thread."""

    _END = object()

    def __init__(self, path: str | os.PathLike, max_pixels: int = MAX_PIXELS,
                 unfilter: bool = False) -> None:
        self.path = path
        self.max_pixels = max_pixels
        self.unfilters = unfilter  # the thread also unfilters: pixels(), not pieces()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._header: PngHeader | None = None
        self._started = False
        self._batches = 0  # asked for so far
        self._taken = False  # pieces() hands the data out once
        self._cancelled = False
        #: Set when the file must not go to Pillow either: a Refused or
        #: NotRegular exception whose message says why.
        self.refused: NotHandled | None = None
        self._thread = threading.Thread(target=self._run, name="png-inflate", daemon=True)
        self._thread.start()

    def is_for(self, path: str | os.PathLike) -> bool:
        """Whether this can still supply the data of ``path``."""
        return (not self._taken
                and os.path.abspath(os.fspath(path)) == os.path.abspath(os.fspath(self.path)))

    def _run(self) -> None:
        put = self._queue.put
        try:
            items = self._until_cancelled(scan(self.path, self.max_pixels, self._batch_size))
            if self.unfilters:
                put(header := next(items))
                put(self._unfilter(header, items))
            else:
                for item in items:
                    put(item)
            put(self._END)
        except (Refused, NotRegular) as exc:  # not for Pillow either
            self.refused = exc
            put(exc)
        except Exception as exc:  # any other problem: Pillow decides
            put(NotHandled(str(exc)))

    def _until_cancelled(self, items):
        for item in items:
            if self._cancelled:
                raise NotHandled("cancelled")
            yield item

    @staticmethod
    def _unfilter(header: PngHeader, pieces) -> bytearray:
        from .._native.unfilter import unfilter_into  # ctypes, no numpy
        pixels = bytearray(header.width * header.height * header.channels)
        if not unfilter_into(header.width, header.height, header.channels, pieces, pixels):
            raise NotHandled("invalid filter type or wrong amount of image data")
        return pixels

    def _batch_size(self) -> int:
        if not self._batches:
            self._batches = 1
            return INFLATE_FIRST
        # Someone asked for the header: a consumer is there, or about to be.
        return INFLATE_INPUT if self._started else INFLATE_INPUT_ALONE

    def header(self) -> PngHeader | None:
        if not self._started:
            self._started = True
            item = self._queue.get()
            if isinstance(item, PngHeader):
                self._header = item
            else:
                self._thread.join()
        return self._header

    def pixels(self) -> bytearray | None:
        """All rows unfiltered (with ``unfilter=True``): height * width *
        channels bytes, or ``None`` for Pillow."""
        if not self.unfilters or self.header() is None or self._taken:
            return None
        self._taken = True
        item = self._queue.get()
        self._thread.join()  # after the pixels comes only the end marker
        return item if isinstance(item, bytearray) else None

    def pieces(self):
        if self.unfilters or self.header() is None or self._taken:
            raise NotHandled("not a PNG this reader handles, or already read")
        self._taken = True
        while True:
            item = self._queue.get()
            if item is self._END or isinstance(item, Exception):
                self._thread.join()  # it has nothing left to do
                if item is self._END:
                    return
                raise item
            yield item

    def result(self) -> tuple[PngHeader, bytes] | None:
        try:
            data = b"".join(self.pieces())
        except NotHandled:
            return None
        return self._header, data

    def cancel(self) -> None:
        """Stop the thread; it ends after at most one more inflate call."""
        self._cancelled = True
        self._thread.join()


def start_inflate(path: str | os.PathLike, max_pixels: int = MAX_PIXELS, *,
                  unfilter: bool = False) -> Inflation:
    """Start reading and inflating ``path`` in the background (see the module doc).

    With ``unfilter`` the thread also turns the rows into pixels (``pixels()``
    then gives them): for a caller too busy to unfilter alongside, like the
    command line while it imports numpy."""
    return Inflation(path, max_pixels, unfilter)


def scan(path: str | os.PathLike, max_pixels: int = MAX_PIXELS,
         batch_size=lambda: INFLATE_INPUT):
    """Yield the :class:`PngHeader`, then the inflated image data in pieces.

    ``batch_size()`` is asked before each inflate call how many compressed
    bytes to take. The file is read as a stream of chunks, never whole, so
    memory is bounded by the image, not by the file: data after IEND is never
    read, and chunks too long or too many for any real image are refused.

    Raises :class:`NotHandled` (or OSError, zlib.error...) for anything that
    is not an intact PNG this reader handles; the caller then uses Pillow.
    :class:`Refused` (a NotHandled) means Pillow must not try either.
    """
    with open_regular(path) as f:
        if f.read(8) != SIGNATURE:
            raise NotHandled("no PNG signature")
        chunks = _ChunkStream(f)
        kind, length = chunks.next()
        if kind != b"IHDR" or length != 13:
            raise NotHandled("IHDR is not the first chunk")
        header = _parse_ihdr(chunks.body(kind, length), max_pixels)
        text = 0  # bytes of tEXt seen
        while (kind := chunks.next()[0]) != b"IDAT":
            text += _before_image_data(header, kind, chunks.body(kind, chunks.length))
        yield header
        yield from _inflate(chunks.image_data(batch_size), header.stride * header.height)
        kind = chunks.kind
        while kind != b"IEND":
            text += _after_image_data(kind, chunks.body(kind, chunks.length))
            kind = chunks.next()[0]
        if chunks.length or text > MAX_TEXT:
            raise NotHandled("IEND with data, or much text")


class NotRegular(NotHandled):
    """A pipe, device, socket or folder: never read."""


def open_regular(path: str | os.PathLike):
    """``path`` opened for buffered binary reading, if it is a regular file.

    Opening never blocks (a named pipe without a writer would block forever),
    and the check is made on the opened file, so nothing can be swapped in
    between. Raises :class:`NotRegular` otherwise, OSError if it cannot be
    opened.
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular("not a regular file")
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=READ_BUFFER)
    except BaseException:
        os.close(fd)
        raise


class _ChunkStream:
    """The chunks of an open PNG after the signature, read one at a time.

    CRCs are checked except those of IDAT chunks: Pillow does not check them
    either, the zlib stream's Adler-32 covers the image data, and each
    zlib.crc32 call over 5 KB hands the GIL over and back (a 24 MP photo has
    ~350 IDAT chunks; inflating while the main thread imports finished at
    0.82 s with those checks, 0.55 s without).
    """

    def __init__(self, f) -> None:
        self.f = f
        self.count = 0
        self.kind = b""
        self.length = 0

    def _exact(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise NotHandled("truncated chunk, or no IEND")
        return data

    def next(self) -> tuple[bytes, int]:
        """The next chunk's type and length; its body is to be read next."""
        self.length, self.kind = struct.unpack(">I4s", self._exact(8))
        self.count += 1
        if self.length > 0x7FFFFFFF or not self.kind.isalpha():
            raise NotHandled("invalid chunk")
        if self.count > MAX_CHUNKS:
            raise Refused(f"too many chunks (more than {MAX_CHUNKS}); the file is damaged "
                          "or made to exhaust memory")
        return self.kind, self.length

    def body(self, kind: bytes, length: int) -> bytes:
        """A whole chunk body other than IDAT's, CRC checked."""
        if length > MAX_CHUNK:
            raise Refused(f"a {kind.decode('ascii')} chunk of {length} bytes is larger "
                          "than any image needs")
        data = self._exact(length + 4)
        body = data[:length]
        if zlib.crc32(body, zlib.crc32(kind)) != struct.unpack_from(">I", data, length)[0]:
            raise NotHandled(f"bad CRC in {kind!r}")
        return body

    def image_data(self, size):
        """The data of consecutive IDAT chunks, in batches of ``size()`` bytes
        (the last one shorter) read straight into each batch; ends with
        ``kind`` and ``length`` describing the first chunk after them.

        One buffer per batch, not one object per chunk: a thread's freed
        small blocks stay in its malloc arena (+15 MB for a 24 MP photo).
        """
        batch, filled = bytearray(size()), 0
        while self.kind == b"IDAT":
            left = self.length
            while left:
                n = min(left, len(batch) - filled)
                if self.f.readinto(memoryview(batch)[filled:filled + n]) != n:
                    raise NotHandled("truncated chunk, or no IEND")
                filled += n
                left -= n
                if filled == len(batch):
                    yield batch
                    batch, filled = bytearray(size()), 0
            self._exact(4)  # the CRC, unchecked (see the class doc)
            self.next()
        if filled:
            yield memoryview(batch)[:filled]


def _inflate(image_data, expected: int):
    """The inflated IDAT data in pieces; exactly ``expected`` bytes or NotHandled."""
    inflater = zlib.decompressobj()
    produced = 0
    for batch in image_data:
        # Asking for at most one byte more than is left bounds the memory a
        # decompression bomb can take, without ever leaving an unconsumed tail
        # of a file that is what it says.
        piece = inflater.decompress(batch, expected - produced + 1)
        produced += len(piece)
        if produced > expected or inflater.unused_data:
            raise NotHandled("more image data than the size says")
        if piece:
            yield piece
    if not inflater.eof or produced != expected:
        raise NotHandled("the image data is incomplete")


def _parse_ihdr(data: bytes, max_pixels: int) -> PngHeader:
    width, height, depth, colour, method, filtering, interlace = struct.unpack(">IIBBBBB", data)
    if depth != 8 or colour not in (2, 6) or method or filtering or interlace:
        raise NotHandled("not 8-bit non-interlaced RGB(A)")
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF) or width * height > max_pixels:
        raise NotHandled("size out of range")
    return PngHeader(width, height, 3 if colour == 2 else 4, None, None)


def _before_image_data(header: PngHeader, kind: bytes, data: bytes) -> int:
    """Take in one chunk before IDAT; returns the bytes of text it holds."""
    if kind == b"iCCP":
        header.icc_profile = _icc_profile(data)
    elif kind == b"pHYs" and len(data) >= 9:
        px, py, unit = struct.unpack(">IIB", data[:9])
        if unit == 1:  # per metre; Pillow's arithmetic, so the floats match
            header.dpi = (px * 0.0254, py * 0.0254)
    elif kind != b"PLTE":  # a suggested palette: Pillow ignores it for RGB(A)
        return _ancillary(kind, data)
    return 0


def _after_image_data(kind: bytes, data: bytes) -> int:
    if kind in (b"iCCP", b"pHYs", b"PLTE", b"IHDR", b"IDAT"):
        raise NotHandled(f"{kind!r} after the image data")
    return _ancillary(kind, data)


def _ancillary(kind: bytes, data: bytes) -> int:
    if kind[0] & 0x20 == 0:
        raise NotHandled(f"unknown critical chunk {kind!r}")
    if kind in PILLOW_ONLY or len(data) < MIN_LENGTH.get(kind, 0):
        raise NotHandled(f"chunk {kind!r} is for Pillow")
    if kind != b"tEXt":
        return 0
    keyword, _, text = data.partition(b"\0")
    if keyword not in SAFE_TEXT:
        raise NotHandled("text chunk for Pillow")
    return len(text)


def _icc_profile(data: bytes) -> bytes:
    """The inflated profile, exactly as Pillow reads it."""
    name_end = data.find(b"\0")
    if not 1 <= name_end <= 79 or len(data) < name_end + 2 or data[name_end + 1] != 0:
        raise NotHandled("malformed iCCP")
    inflater = zlib.decompressobj()
    profile = inflater.decompress(data[name_end + 2:], MAX_ICC)
    if not inflater.eof or not profile:
        raise NotHandled("ICC profile truncated, empty or too large")
    return profile
