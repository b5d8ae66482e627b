"""A seeded, bounded mutation run over PNG files: whatever the damage,
``load_image`` decodes exactly what Pillow decodes, or raises ImageError.

Headers, chunk lengths, types, CRCs and zlib streams are mutated, a few
hundred cases in a few seconds; ``benchmarks/fuzz_png.py`` runs the same
check for as long as one likes (see the README).
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from kmeans_gui.core import ImageError, load_image
from kmeans_gui.core.files import load as loading

CASES = 400
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(kind)))


def _split(png: bytes) -> list[list]:
    """[[type, data], ...] of a PNG, as far as its chunks can be told apart."""
    chunks, pos = [], 8
    while pos + 12 <= len(png):
        length, kind = struct.unpack_from(">I4s", png, pos)
        if pos + 12 + length > len(png):
            break
        chunks.append([kind, png[pos + 8:pos + 8 + length]])
        pos += 12 + length
    return chunks or [[b"IHDR", bytes(13)]]


def _join(chunks) -> bytes:
    return SIGNATURE + b"".join(_chunk(kind, data) for kind, data in chunks)


def seeds() -> list[bytes]:
    """Valid PNGs the fast reader decodes (and a few it leaves to Pillow)."""
    rng = np.random.default_rng(0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = []
    for h, w, mode, options in [(7, 5, "RGB", {}), (4, 9, "RGBA", {}),
                                (12, 10, "RGB", {"dpi": (300, 300)}),
                                (6, 6, "RGB", {"icc_profile": icc}),
                                (5, 8, "P", {}), (3, 3, "L", {})]:
        channels = {"RGB": 3, "RGBA": 4}.get(mode, 3)
        pixels = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
        image = Image.fromarray(pixels, "RGBA" if channels == 4 else "RGB")
        if mode in ("P", "L"):
            image = image.convert(mode)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        out.append(buffer.getvalue())
    # Several IDAT chunks, and text before and after the image data.
    chunks = _split(out[0])
    stream = chunks[1][1]
    idats = [[b"IDAT", stream[i:i + 7]] for i in range(0, len(stream), 7)]
    out.append(_join(chunks[:1] + [[b"tEXt", b"Comment\0hi"]] + idats
                     + [[b"tIME", bytes(7)], chunks[-1]]))
    return out


def mutate(png: bytes, rnd: random.Random) -> bytes:
    """One random mutation of ``png`` (unchanged if it is too damaged for it)."""
    try:
        return _mutate(png, rnd)
    except (IndexError, ValueError, struct.error):
        return png


def _mutate(png: bytes, rnd: random.Random) -> bytes:
    chunks = _split(png)
    how = rnd.randrange(9)
    if how == 0:  # flip bytes anywhere
        data = bytearray(png)
        for _ in range(rnd.randint(1, 4)):
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        return bytes(data)
    if how == 1:  # IHDR fields, with a valid CRC
        ihdr = bytearray(chunks[0][1])
        field = rnd.choice([(0, 4), (4, 4), (8, 1), (9, 1), (10, 1), (11, 1), (12, 1)])
        at, size = field
        value = rnd.choice([0, 1, 2, 3, 4, 6, 8, 16, 255, 0x7FFFFFFF, 0xFFFFFFFF,
                            rnd.randrange(1 << (8 * size))])
        ihdr[at:at + size] = (value % (1 << (8 * size))).to_bytes(size, "big")
        chunks[0][1] = bytes(ihdr)
        return _join(chunks)
    if how == 2:  # a chunk's length field
        raw = bytearray(png)
        pos = 8
        target = rnd.randrange(len(chunks))
        for _kind, data in chunks[:target]:
            pos += 12 + len(data)
        length = rnd.choice([0, 1, len(chunks[target][1]) + rnd.randint(-3, 3),
                             0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, rnd.randrange(1 << 32)])
        raw[pos:pos + 4] = (max(0, length) % (1 << 32)).to_bytes(4, "big")
        return bytes(raw)
    if how == 3:  # a chunk's type
        target = rnd.randrange(len(chunks))
        chunks[target][0] = rnd.choice([b"IDAT", b"IEND", b"IHDR", b"PLTE", b"tRNS", b"iCCP",
                                        b"pHYs", b"zzzz", b"ZZZZ", b"eXIf", b"acTL",
                                        bytes(rnd.randrange(256) for _ in range(4))])
        return _join(chunks)
    if how == 4:  # a bad CRC
        raw = bytearray(png)
        pos = 8
        target = rnd.randrange(len(chunks))
        for _kind, data in chunks[:target + 1]:
            pos += 12 + len(data)
        raw[pos - 1 - rnd.randrange(4)] ^= 1 + rnd.randrange(255)
        return bytes(raw)
    if how == 5:  # truncated
        return png[:rnd.randrange(len(png))]
    if how == 6:  # chunks dropped, duplicated or moved
        i = rnd.randrange(len(chunks))
        op = rnd.randrange(3)
        if op == 0:
            del chunks[i]
        elif op == 1:
            chunks.insert(rnd.randrange(len(chunks) + 1), list(chunks[i]))
        else:
            chunks.insert(rnd.randrange(len(chunks) + 1), chunks.pop(i))
        return _join(chunks)
    # 7, 8: the zlib stream inside the IDAT chunks, CRCs kept valid
    idat = [c for c in chunks if c[0] == b"IDAT"]
    if not idat:
        return png
    stream = bytearray(b"".join(data for _, data in idat))
    if how == 7:
        for _ in range(rnd.randint(1, 3)):
            stream[rnd.randrange(len(stream))] = rnd.randrange(256)
    else:
        try:
            raw = zlib.decompress(bytes(stream))
        except zlib.error:
            return png
        raw = rnd.choice([raw[:-rnd.randint(1, 5)], raw + bytes(rnd.randint(1, 50)),
                          bytes([rnd.randrange(256)]) + raw[1:]])
        stream = bytearray(zlib.compress(raw) + (b"tail" if rnd.random() < 0.3 else b""))
    first = chunks.index(idat[0])
    rest = [c for c in chunks if c[0] != b"IDAT"]
    rest.insert(first, [b"IDAT", bytes(stream)])
    return _join(rest)


def outcome(path, monkeypatch, fast: bool):
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(loading, "read_png", lambda *args: None)
        try:
            image = load_image(path)
        except ImageError as exc:
            return ("error", str(exc))
    return ("image", image.pixels.shape, image.pixels.tobytes(), image.icc_profile, image.dpi)


def test_mutated_pngs_decode_as_pillow_does_or_raise_image_error(tmp_path, monkeypatch):
    rnd = random.Random(12)
    bases = seeds()
    differences = []
    for case in range(CASES):
        data = mutate(rnd.choice(bases), rnd)
        if rnd.random() < 0.2:
            data = mutate(data, rnd)  # two mutations at once
        path = tmp_path / "case.png"
        path.write_bytes(data)
        got = outcome(path, monkeypatch, fast=True)  # anything but ImageError fails here
        if got[0] == "image":
            expected = outcome(path, monkeypatch, fast=False)
            if got != expected:
                differences.append((case, data))
    assert not differences, f"{len(differences)} cases differ from Pillow, first: {differences[0]}"


@pytest.mark.parametrize("seed", range(len(seeds())))
def test_the_unmutated_seeds_decode(tmp_path, monkeypatch, seed):
    path = tmp_path / "seed.png"
    path.write_bytes(seeds()[seed])
    assert outcome(path, monkeypatch, fast=True) == outcome(path, monkeypatch, fast=False)
