"""The PNG writer: palette indices, palette and metadata in, PNG file bytes out.

``encode_indexed`` picks the bit depth and the encoder (Pillow, or the
threaded 8-bit writer below) for an effort preset; ``smallest_order`` is the
trial encode that picks a palette order for 1-4 bit files.

Writing an 8-bit indexed PNG ourselves, deflating pieces of it on all cores.

zlib releases the GIL, so the scanlines are cut into pieces of whole rows and
each piece is deflated by its own compressor on the engine's threads
(``parallel``; one after another when the CLI gives each process one). A piece ends
with a sync flush (byte-aligned, no final-block bit), so the pieces joined
behind one zlib header, with the Adler-32 of all the rows at the end, are one
valid zlib stream; each piece only loses the previous piece's history (about
0.2 % of the size with 2 MiB pieces). The pieces have a fixed size rather than
one per core, so the file's bytes do not depend on the machine.

Used for the "fast" effort at 8 bits (24 MP mosaic, k = 256: 0.87 s with
Pillow, 0.25 s here on two cores with zlib-ng). At 1-4 bits Pillow stays: it
packs the bits, and with the run-length strategy those files take ~0.1 s.
"""

from __future__ import annotations

import io
import struct
import zlib as stdlib_zlib  # Pillow's strategies, by their stdlib names

import numpy as np
from PIL import Image
from zlib_ng import zlib_ng as zlib  # zlib-ng: same API, 2x faster (see pyproject)

from ...limits import DEFAULT_EFFORT, EFFORTS
from .. import parallel
from .chunks import SIGNATURE, chunk

#: Raw bytes deflated per piece (whole rows; at least one row).
PIECE_BYTES = 2 << 20
#: Largest IDAT chunk written.
IDAT_BYTES = 1 << 20
#: Pillow's PNG encoder uses zlib's largest memory level; so do we.
MEM_LEVEL = 9


def encode_indexed8(indices: np.ndarray, palette: np.ndarray, *, transparency: bytes | None,
                    icc_profile: bytes | None, dpi: tuple[int, int] | None, level: int,
                    strategy: int) -> bytes:
    """The PNG file for (h, w) palette ``indices`` at 8 bits per pixel.

    Writes what Pillow writes for the same image and options: IHDR, iCCP,
    PLTE, tRNS, pHYs, IDAT..., IEND (its profile name, and pHYs rounding).
    """
    height, width = indices.shape
    rows = np.empty((height, width + 1), np.uint8)
    rows[:, 0] = 0  # filter type None: palette indices do not predict well
    rows[:, 1:] = indices
    stream = deflate_rows(memoryview(rows).cast("B"), width + 1, level, strategy)
    parts = [SIGNATURE,
             chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))]
    if icc_profile:
        parts.append(chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    parts.append(chunk(b"PLTE", np.ascontiguousarray(palette[:, :3]).tobytes()))
    if transparency:
        parts.append(chunk(b"tRNS", transparency[: len(palette)]))
    if dpi:
        parts.append(chunk(b"pHYs", struct.pack(">IIB", int(dpi[0] / 0.0254 + 0.5),
                                                int(dpi[1] / 0.0254 + 0.5), 1)))
    parts += [chunk(b"IDAT", stream[i:i + IDAT_BYTES])
              for i in range(0, len(stream), IDAT_BYTES)]
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


def deflate_rows(raw: memoryview, stride: int, level: int, strategy: int) -> bytes:
    """A zlib stream of ``raw`` (rows of ``stride`` bytes), deflated in parallel."""
    rows_per_piece = max(1, PIECE_BYTES // stride)
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
        return 7, ((stdlib_zlib.Z_RLE,) if bits < 8 else (stdlib_zlib.Z_DEFAULT_STRATEGY,))
    if effort == "small":
        if bits < 8:
            return 9, (stdlib_zlib.Z_RLE, stdlib_zlib.Z_DEFAULT_STRATEGY, stdlib_zlib.Z_FILTERED)
        return 9, (stdlib_zlib.Z_DEFAULT_STRATEGY, stdlib_zlib.Z_FILTERED)
    raise ValueError(f"unknown effort {effort!r}; use one of {EFFORTS}")


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


def pil_image(indices: np.ndarray, palette: np.ndarray) -> Image.Image:
    """A Pillow mode-P image of ``indices`` (palette and tRNS in ``info``)."""
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
    ((n, 3|4) uint8 sRGB(A), n <= 256), at the smallest bit depth."""
    bits = bit_depth(len(palette))
    effort = _resolve(effort, indices.size)
    level, strategies = _zlib_plan(effort, bits)
    if dpi:
        dpi = tuple(round(v) for v in dpi)
    if effort == "fast" and bits == 8:
        return encode_indexed8(indices, palette,
                               transparency=transparency(palette), icc_profile=icc_profile,
                               dpi=dpi, level=level, strategy=strategies[0])
    options = {"bits": bits, "compress_level": level}
    alphas = transparency(palette)
    if alphas is not None:
        options["transparency"] = alphas
    if icc_profile:
        options["icc_profile"] = icc_profile
    if dpi:
        options["dpi"] = dpi

    def trial(strategy: int) -> bytes:
        buffer = io.BytesIO()
        # An image per trial: Pillow keeps the save options on the image object.
        pil_image(indices, palette).save(buffer, "PNG", compress_type=strategy, **options)
        return buffer.getvalue()

    # Pillow encodes without the GIL, so the trials run side by side (4 MP
    # mosaic, two cores: k = 256, two trials 1.03 -> 0.61 s; k = 16, three
    # trials 1.53 -> 0.80 s). min() keeps the first of equal sizes, as before.
    return min(parallel.run_each(lambda i: trial(strategies[i]), len(strategies)), key=len)


#: Images up to this size with at most 16 opaque colours get their palette
#: order chosen by trial compression (see ``smallest_order``).
TRIAL_ORDER_PIXELS = 4_000_000


def order_matters(indices: np.ndarray, palette: np.ndarray) -> bool:
    """Whether ``smallest_order`` is worth its trial encodes for this image."""
    return (len(palette) <= 16 and palette.shape[1] == 3
            and indices.size <= TRIAL_ORDER_PIXELS)


def smallest_order(indices: np.ndarray, palette: np.ndarray,
                   candidates: list[np.ndarray]) -> np.ndarray:
    """Of the candidate palette permutations, the one whose PNG deflates smallest.

    For 1-4 bit images the order of the entries changes the file size by up
    to 10 % (measured, k = 16: dark-to-light won on three of five photos, a
    nearest-colour walk from the darkest or the most used entry on the
    others), so each is tried with a quick encode. The first of equal sizes wins.
    """
    bits = 1 if len(palette) <= 2 else 2 if len(palette) <= 4 else 4
    best, best_size = candidates[0], np.inf
    for perm in candidates:
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(len(perm))
        image = Image.fromarray(inverse.astype(np.uint8)[indices], "P")
        image.putpalette(palette[perm, :3].tobytes())
        buffer = io.BytesIO()
        image.save(buffer, "PNG", bits=bits, compress_level=6,
                   compress_type=stdlib_zlib.Z_RLE)
        if buffer.tell() < best_size:
            best, best_size = perm, buffer.tell()
    return best
