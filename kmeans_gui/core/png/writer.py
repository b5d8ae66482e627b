"""The PNG writer: palette indices, palette and metadata in, PNG file bytes out.

``encode_indexed`` packs the indices at the smallest bit depth and picks the
PNG filter and the deflate strategy by measuring a sample of the rows, not by
the bit depth: the run-length strategy wins on many 4-bit photos once the rows
are "Up"-filtered, and loses badly (twice the size) on flat blocks and on
graphics, where the default strategy over unfiltered rows wins. Each candidate
compresses a few bands of rows spread over the image, with the rows above each
band as its history (the whole image when it is small), the smallest wins, and
the whole image is deflated once with that choice.

The palette order cannot change the size of unfiltered rows (a permutation
maps bytes one to one, and deflate only compares bytes for equality), so no
palette order is tried; with the Up filter the quantizer's dark-to-light
order keeps the differences small.

Efforts: "fast" deflates at level 6; "auto" (the default) on small images
again once the trials have chosen, with zlib's level 9 on the tiniest and
libdeflate's near-optimal level above them (``_small_retries``), and at
level 9 on larger ones whose sample deflates at least
AUTO_LEVEL9_RATIO times smaller (flat graphics), else 6; "max"
(alias "small") with libdeflate's slowest, smallest level, single-threaded.

Deflating on all cores: zlib releases the GIL, so the scanlines are cut into
pieces of whole rows and each piece is deflated by its own compressor on the
engine's threads (``parallel``; one after another when the CLI gives each
process one). A piece ends with a sync flush (byte-aligned, no final-block
bit), so the pieces joined behind one zlib header, with the Adler-32 of all
the rows at the end, are one valid zlib stream; each piece only loses the
previous piece's history (about 0.2 % of the size with 2 MiB pieces). The
pieces' size depends on the image alone (2 MiB, or half the rows down to
512 KiB), never on the number of cores, so the file's bytes do not depend on
the machine.
"""

from __future__ import annotations

import struct

import numpy as np
from zlib_ng import zlib_ng as zlib  # zlib-ng: same API, 2x faster (see pyproject)

from ...limits import DEFAULT_EFFORT, EFFORTS
from .. import parallel
from .chunks import SIGNATURE, chunk

#: Raw bytes deflated per piece (whole rows; at least one row).
PIECE_BYTES = 2 << 20
#: ...but half the rows a piece down to this many bytes, so that a 1-4 MP image
#: is not deflated on one core.
MIN_PIECE_BYTES = 512 << 10
#: Largest IDAT chunk written.
IDAT_BYTES = 1 << 20
#: Pillow's PNG encoder uses zlib's largest memory level; so do we.
MEM_LEVEL = 9

FILTER_NONE, FILTER_UP = 0, 2
#: (PNG filter type, zlib strategy) pairs tried on the sample.
CANDIDATES = ((FILTER_NONE, zlib.Z_DEFAULT_STRATEGY), (FILTER_UP, zlib.Z_RLE),
              (FILTER_UP, zlib.Z_DEFAULT_STRATEGY))
#: The candidates libdeflate can try: it has no strategies, so filters only.
FILTER_CANDIDATES = tuple(dict.fromkeys((f, zlib.Z_DEFAULT_STRATEGY) for f, _ in CANDIDATES))
#: Up to this many bytes of scanlines (8-bit 640x480) every candidate deflates the whole image
#: and the smallest stream is kept (they run side by side).
WHOLE_TRIAL_BYTES = 320 << 10
#: Otherwise on this many bands of whole rows, each about BAND_BYTES long.
SAMPLE_BANDS = 4
BAND_BYTES = 64 << 10
#: Level of the sample trials for the zlib efforts.
TRIAL_LEVEL = 6
#: Deflate level by effort: "fast" 6; "auto" 9 up to AUTO_LEVEL9_BYTES of
#: scanlines (a few milliseconds there, and up to 4 % smaller), else 6.
FAST_LEVEL = 6
AUTO_LEVEL9_BYTES = 320 << 10
#: Larger images: level 9 when the sample deflates at least this many times smaller.
AUTO_LEVEL9_RATIO = 12
MAX_LEVEL = 12  # libdeflate
#: The auto effort's small images are also deflated with libdeflate at this
#: level, its first with near-optimal parsing, and the smaller stream kept
#: (most often libdeflate's, for tens of milliseconds there; README).
AUTO_SMALL_LIBDEFLATE = 10
#: ...from this many bytes of scanlines: below, it would save at most a few
#: hundred bytes.
AUTO_LIBDEFLATE_MIN_BYTES = 16 << 10
#: ...for every default-strategy candidate within this share of the best one's
#: size at the trial level (a near tie there often goes the other way).
AUTO_RETRY_SPREAD = 0.05


#: The sRGB IEC61966-2.1 profile most cameras and editors embed (3144 bytes):
#: the SHA-256 of everything after its 128-byte header (the header varies in
#: its rendering intent and flags). Such a profile is written as an sRGB
#: chunk (with gAMA for decoders that know only that), which says the same
#: in 13 bytes instead of about 2.6 KB of compressed profile.
SRGB_PROFILE_SIZE = 3144
SRGB_PROFILE_TAGS = "2c4d46e1e255995e1d2592fecec4d8bf7e1dc78179a1cbf2d607301debc630b3"
#: gAMA of sRGB: 1 / 2.2 x 100000.
SRGB_GAMMA = 45455


def srgb_intent(icc_profile: bytes | None) -> int | None:
    """The rendering intent (0-3) for an sRGB chunk if ``icc_profile`` is the
    common sRGB IEC61966-2.1 profile, else ``None``."""
    if not icc_profile or len(icc_profile) != SRGB_PROFILE_SIZE:
        return None
    # Imported here: hashlib loads OpenSSL, milliseconds that an image without
    # a profile of this size (most of them) need not spend.
    import hashlib
    if hashlib.sha256(icc_profile[128:]).hexdigest() != SRGB_PROFILE_TAGS:
        return None
    intent = int.from_bytes(icc_profile[64:68], "big")
    return intent if intent <= 3 else 0  # some writers store it byte-swapped


def pack(indices: np.ndarray, bits: int) -> np.ndarray:
    """(h, w) indices as PNG rows of ``bits``-bit samples, first pixel in the high bits."""
    if indices.ndim != 2 or indices.dtype != np.uint8:
        raise ValueError("indices must be a 2-d uint8 array")
    if bits == 8:
        return np.ascontiguousarray(indices)
    if bits not in (1, 2, 4):
        raise ValueError(f"bit depth must be 1, 2, 4 or 8, not {bits}")
    height, width = indices.shape
    per_byte = 8 // bits
    padded = -(-width // per_byte) * per_byte
    if padded != width:
        wide = np.zeros((height, padded), np.uint8)
        wide[:, :width] = indices
    else:
        wide = indices
    groups = wide.reshape(height, padded // per_byte, per_byte)
    packed = groups[:, :, 0] << (8 - bits)
    for j in range(1, per_byte):
        packed |= groups[:, :, j] << (8 - bits * (j + 1))
    return np.ascontiguousarray(packed)


def scanlines(rows: np.ndarray, filter_type: int, first_row_above: np.ndarray | None = None
              ) -> np.ndarray:
    """PNG scanlines (filter byte + data) of ``rows`` with filter None or Up.

    ``first_row_above``: the row before ``rows[0]`` in the image (zeros at the top).
    """
    height, width = rows.shape
    lines = np.empty((height, width + 1), np.uint8)
    lines[:, 0] = filter_type
    if filter_type == FILTER_NONE:
        lines[:, 1:] = rows
    elif filter_type == FILTER_UP:
        np.subtract(rows[1:], rows[:-1], out=lines[1:, 1:])
        above = first_row_above if first_row_above is not None else 0
        np.subtract(rows[0], above, out=lines[0, 1:], casting="unsafe")
    else:
        raise ValueError(f"unsupported filter type {filter_type}")
    return lines


def _bands(height: int, stride: int) -> list[tuple[int, int]]:
    """Row ranges of the sample: the whole image, or SAMPLE_BANDS spread bands."""
    if height * stride <= WHOLE_TRIAL_BYTES:
        return [(0, height)]
    band = max(1, BAND_BYTES // stride)
    count = min(SAMPLE_BANDS, max(1, height // band))
    starts = [(height - band) * i // max(1, count - 1) for i in range(count)] \
        if count > 1 else [(height - band) // 2]
    return [(s, min(height, s + band)) for s in starts]


#: Deflate's window: the most history a band's first rows can refer back to.
WINDOW = 32 << 10


def _zlib_size(data, level: int, strategy: int, history=b"") -> int:
    if history:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, MEM_LEVEL, strategy,
                                      zdict=history)
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, MEM_LEVEL, strategy)
    return len(compressor.compress(data)) + len(compressor.flush())


def _zlib_continued_size(data, level: int, strategy: int, history=b"") -> int:
    """What ``data`` adds to a deflate stream of ``history`` then ``data``.
    Unlike a preset dictionary, the difference leaves out the costs every
    stream pays once (a block's code tables, the final block), as the whole
    image pays them once for all its rows."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, MEM_LEVEL, strategy)
    start = len(compressor.compress(history))
    alone = start + len(compressor.copy().flush()) if history else 0
    return start + len(compressor.compress(data)) + len(compressor.flush()) - alone


def _libdeflate_size(data, level: int, strategy: int, history=b"") -> int:
    import deflate  # no preset dictionary: the history is compressed along and taken off
    if not history:
        return len(deflate.deflate_compress(bytes(data), level))
    return (len(deflate.deflate_compress(bytes(history) + bytes(data), level))
            - len(deflate.deflate_compress(bytes(history), level)))


def choose(rows: np.ndarray, level: int = TRIAL_LEVEL, sizer=None, with_size: bool = False
           ) -> tuple[int, ...]:
    """The (filter, strategy) of CANDIDATES whose sample of ``rows`` deflates smallest.

    The candidates are tried side by side (zlib releases the GIL). Ties keep
    the earlier candidate (unfiltered, default strategy first). ``sizer``
    (data, level, strategy) -> bytes replaces zlib-ng's deflate. ``with_size``:
    the winner's sample bytes as a third item."""
    candidates = FILTER_CANDIDATES if sizer is _libdeflate_size else CANDIDATES
    sizes = parallel.run_each(lambda i: sample_size(rows, *candidates[i], level, sizer),
                              len(candidates))
    best = sizes.index(min(sizes))
    if with_size:
        return (*candidates[best], sizes[best])
    return candidates[best]


def sample_size(rows: np.ndarray, filter_type: int, strategy: int, level: int,
                sizer=None) -> int:
    """Deflated bytes of the sample of ``rows`` (``_bands``) with this filter,
    strategy and level."""
    size_of = sizer or _zlib_size
    size = 0
    for top, bottom in _bands(*rows.shape):
        # The rows above the band, up to a window's worth, are its history
        # (a preset dictionary), as they are in the whole stream: without
        # it a band of a few wide rows would favour the Up filter, whose
        # first row needs no history.
        start = max(0, top - -(-WINDOW // rows.shape[1]))
        above = rows[start - 1] if start > 0 else None
        lines = scanlines(rows[start:bottom], filter_type, above)
        history = lines[:top - start].tobytes()[-WINDOW:]
        band = memoryview(lines[top - start:]).cast("B")
        size += size_of(band, level, strategy, history)
    return size


def sample_bytes(rows: np.ndarray) -> int:
    """Scanline bytes in the sample of ``rows``."""
    return sum((bottom - top) * (rows.shape[1] + 1) for top, bottom in _bands(*rows.shape))


def _level9(whole_bytes: int, sampled_bytes: int = 0, sampled_size: int = 0) -> bool:
    """Whether the auto effort deflates at level 9: up to AUTO_LEVEL9_BYTES of
    scanlines, or when the sample (``sampled_bytes`` of scanlines deflated to
    ``sampled_size``) deflates AUTO_LEVEL9_RATIO times smaller. Flat graphics
    then come out 2-8 % smaller for a few milliseconds; photos would gain 0-3 %
    for several times the deflate time."""
    return whole_bytes <= AUTO_LEVEL9_BYTES or (
        sampled_size > 0 and sampled_bytes >= AUTO_LEVEL9_RATIO * sampled_size)


def _small_retries(whole_bytes: int, sizes: list[int], candidates=CANDIDATES,
                   measured_bytes: int | None = None) -> tuple[tuple[int, int, bool], ...]:
    """How the auto effort deflates a small image's candidates (the scanlines'
    ``measured_bytes``, all ``whole_bytes`` unless said, deflated to ``sizes``
    at the trial level) again, side by side, the smallest stream kept:
    (candidate index, level, with libdeflate) triples.

    Below AUTO_LIBDEFLATE_MIN_BYTES of scanlines, the default-strategy
    candidate smallest at the trial level goes through zlib's level 9. From
    there, every default-strategy candidate within AUTO_RETRY_SPREAD of it
    goes through libdeflate's AUTO_SMALL_LIBDEFLATE, which often reverses a
    close trial (unfiltered rows gain more from better matching than Up rows
    do) and beats zlib's 9 on all but flat graphics: zlib's 9 still runs where
    the trial deflated AUTO_LEVEL9_RATIO times smaller, and costs only a few
    milliseconds there. The run-length strategy gains nothing from a higher
    level, so a run-length winner at the trial level can lose to either."""
    usual = [i for i, (_, strategy) in enumerate(candidates)
             if strategy == zlib.Z_DEFAULT_STRATEGY]
    best = min(usual, key=lambda i: sizes[i])
    if whole_bytes < AUTO_LIBDEFLATE_MIN_BYTES:
        return ((best, 9, False),)
    retries = [(i, AUTO_SMALL_LIBDEFLATE, True) for i in usual
               if sizes[i] <= sizes[best] * (1.0 + AUTO_RETRY_SPREAD)]
    measured = whole_bytes if measured_bytes is None else measured_bytes
    if measured >= AUTO_LEVEL9_RATIO * sizes[best]:
        retries.append((best, 9, False))
    return tuple(retries)


def banded_size(bands: list[tuple[np.ndarray, int]], colours: int, height: int,
                effort: str = DEFAULT_EFFORT) -> int:
    """Deflated bytes of ``bands`` of an image ``height`` rows tall, as
    ``encode_indexed`` would deflate them inside the whole image: each band
    ((rows, width) uint8 indices into ``colours`` entries) after its first
    ``lead`` rows, which are its history (the row above, the deflate window)
    and are not counted, all with the one filter, strategy and level the
    whole image gets at ``effort``, chosen the same way. Without the
    container."""
    if effort not in EFFORTS:
        raise ValueError(f"unknown effort {effort!r}; use one of {EFFORTS}")
    bits = bit_depth(colours)
    packed = [(pack(indices, bits), lead) for indices, lead in bands]
    stride = packed[0][0].shape[1] + 1
    whole = height * stride
    if effort in ("max", "small"):
        sizer, trial_level, candidates = _libdeflate_size, MAX_LEVEL, FILTER_CANDIDATES
    else:
        sizer, trial_level, candidates = _zlib_continued_size, TRIAL_LEVEL, CANDIDATES

    def cost(candidate: tuple[int, int], level: int, size_of=sizer) -> int:
        filter_type, strategy = candidate
        total = 0
        for rows, lead in packed:
            lines = scanlines(rows, filter_type)
            total += size_of(memoryview(lines[lead:]).cast("B"), level, strategy,
                             lines[:lead].tobytes())
        return total

    sizes = parallel.run_each(lambda i: cost(candidates[i], trial_level), len(candidates))
    best = sizes.index(min(sizes))
    size = sizes[best]
    if effort != "auto":
        return size
    if whole <= WHOLE_TRIAL_BYTES:  # as encode_indexed: the small image's retries
        if not _level9(whole):
            return size
        counted = sum((len(rows) - lead) * stride for rows, lead in packed)
        retries = _small_retries(whole, sizes, candidates, counted)
        return min(size, *parallel.run_each(
            lambda i: cost(candidates[retries[i][0]], retries[i][1],
                           _libdeflate_size if retries[i][2] else sizer), len(retries)))
    sampled = sum((len(rows) - lead) * stride for rows, lead in packed)
    return cost(candidates[best], 9) if _level9(whole, sampled, size) else size


def _zlib_stream(lines: np.ndarray, level: int, strategy: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 15, MEM_LEVEL, strategy)
    return compressor.compress(memoryview(lines).cast("B")) + compressor.flush()


def _libdeflate_stream(lines: np.ndarray, level: int) -> bytes:
    import deflate  # only the max effort and small images need it (a millisecond)
    return deflate.zlib_compress(memoryview(lines).cast("B"), level)


def _max_stream(rows: np.ndarray) -> bytes:
    """libdeflate at its highest level, over the filter its sample prefers."""
    if rows.size + len(rows) <= WHOLE_TRIAL_BYTES:
        streams = [_libdeflate_stream(scanlines(rows, f), MAX_LEVEL)
                   for f in (FILTER_NONE, FILTER_UP)]
        return min(streams, key=len)
    filter_type, _ = choose(rows, MAX_LEVEL, _libdeflate_size)
    return _libdeflate_stream(scanlines(rows, filter_type), MAX_LEVEL)


def deflate_rows(raw: memoryview, stride: int, level: int, strategy: int) -> bytes:
    """A zlib stream of ``raw`` (rows of ``stride`` bytes), deflated in parallel."""
    rows = len(raw) // stride
    rows_per_piece = max(1, min(PIECE_BYTES // stride,
                                max(MIN_PIECE_BYTES // stride, -(-rows // 2))))
    step = rows_per_piece * stride
    pieces = [raw[start:start + step] for start in range(0, len(raw), step)]

    def deflate(index: int) -> bytes:
        if index == len(pieces):  # one more task: the stream's Adler-32 trailer
            return struct.pack(">I", zlib.adler32(raw))
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, MEM_LEVEL, strategy)
        last = index == len(pieces) - 1
        return (compressor.compress(pieces[index])
                + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))

    # The two header bytes a single compressor with these settings writes.
    header = zlib.compressobj(level, zlib.DEFLATED, 15, MEM_LEVEL, strategy).flush()[:2]
    return b"".join([header, *parallel.run_each(deflate, len(pieces) + 1)])


def bit_depth(n_colors: int) -> int:
    """Smallest PNG palette bit depth holding ``n_colors`` entries."""
    for bits in (1, 2, 4, 8):
        if n_colors <= 1 << bits:
            return bits
    raise ValueError("a PNG palette holds at most 256 colours")


def transparency(palette: np.ndarray) -> bytes | None:
    """The palette's alphas for a tRNS chunk, or ``None`` if all are opaque.

    tRNS may stop after the last translucent entry; the rest are opaque.
    """
    if palette.shape[1] == 4 and (palette[:, 3] < 255).any():
        last = int(np.flatnonzero(palette[:, 3] < 255)[-1])
        return palette[: last + 1, 3].tobytes()
    return None


def pil_image(indices: np.ndarray, palette: np.ndarray):
    """A Pillow mode-P image of ``indices`` (palette and tRNS in ``info``)."""
    from PIL import Image  # for tests and benchmarks: writing never needs Pillow
    image = Image.fromarray(indices, "P")
    image.putpalette(palette[:, :3].tobytes(), rawmode="RGB")
    alphas = transparency(palette)
    if alphas is not None:
        image.info["transparency"] = alphas
    return image


def encode_indexed(indices: np.ndarray, palette: np.ndarray, *,
                   icc_profile: bytes | None = None,
                   dpi: tuple[float, float] | None = None,
                   effort: str = DEFAULT_EFFORT) -> bytes:
    """The PNG file's bytes for (h, w) uint8 ``indices`` into ``palette``
    ((n, 3|4) uint8 sRGB(A), n <= 256), at the smallest bit depth.

    Chunks as Pillow writes them: IHDR, iCCP, PLTE, tRNS, pHYs, IDAT..., IEND
    (its profile name, and pHYs rounding); the common sRGB profile becomes
    gAMA and sRGB chunks instead of iCCP (``srgb_intent``).
    """
    if effort not in EFFORTS:
        raise ValueError(f"unknown effort {effort!r}; use one of {EFFORTS}")
    if effort == "small":  # the old name of "max"
        effort = "max"
    if dpi:
        dpi = tuple(round(v) for v in dpi)
    alphas = transparency(palette)
    height, width = indices.shape
    bits = bit_depth(len(palette))
    rows = pack(indices, bits)
    stride = rows.shape[1] + 1
    if effort == "max":
        stream = _max_stream(rows)
    else:
        level = 9 if effort == "auto" and _level9(height * stride) else FAST_LEVEL
        if height * stride <= WHOLE_TRIAL_BYTES:
            # Small: every candidate on the whole image at the trial level; the
            # smallest is kept, or a retry's (``_small_retries``), if smaller.
            streams = parallel.run_each(
                lambda i: _zlib_stream(scanlines(rows, CANDIDATES[i][0]), TRIAL_LEVEL,
                                       CANDIDATES[i][1]), len(CANDIDATES))
            sizes = [len(s) for s in streams]
            stream = streams[sizes.index(min(sizes))]
            if level != TRIAL_LEVEL:
                retries = _small_retries(height * stride, sizes)

                def retry(i: int) -> bytes:
                    candidate, retry_level, with_libdeflate = retries[i]
                    filter_type, strategy = CANDIDATES[candidate]
                    lines = scanlines(rows, filter_type)
                    return (_libdeflate_stream(lines, retry_level) if with_libdeflate
                            else _zlib_stream(lines, retry_level, strategy))

                stream = min(stream, *parallel.run_each(retry, len(retries)), key=len)
        else:
            filter_type, strategy, size = choose(rows, with_size=True)
            if effort == "auto" and _level9(height * stride, sample_bytes(rows), size):
                level = 9
            lines = scanlines(rows, filter_type)
            stream = deflate_rows(memoryview(lines).cast("B"), stride, level, strategy)
    parts = [SIGNATURE,
             chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, 3, 0, 0, 0))]
    intent = srgb_intent(icc_profile)
    if intent is not None:
        parts.append(chunk(b"gAMA", struct.pack(">I", SRGB_GAMMA)))
        parts.append(chunk(b"sRGB", bytes([intent])))
    elif icc_profile:
        parts.append(chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    parts.append(chunk(b"PLTE", np.ascontiguousarray(palette[:, :3]).tobytes()))
    if alphas:
        parts.append(chunk(b"tRNS", alphas[: len(palette)]))
    if dpi:
        parts.append(chunk(b"pHYs", struct.pack(">IIB", int(dpi[0] / 0.0254 + 0.5),
                                                int(dpi[1] / 0.0254 + 0.5), 1)))
    parts += [chunk(b"IDAT", stream[i:i + IDAT_BYTES])
              for i in range(0, len(stream), IDAT_BYTES)]
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)
