"""The fast PNG reader against a reference filter and against the Pillow path.

PNGs are built here chunk by chunk, with the scanline filters computed by a
straightforward numpy version of the PNG spec, so every filter type, split
and malformation can be chosen.
"""

import io
import struct
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from kmeans_gui.core import ImageError, load_image
from kmeans_gui.core.files import load as loading
from kmeans_gui.core.png import reader as png_inflate
from kmeans_gui.core.png.decoder import read_png, unfilter
from kmeans_gui.core.png.reader import MAX_PIXELS, scan, start_inflate

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filtered(pixels: np.ndarray, filters) -> bytes:
    """The scanlines of ``pixels`` with filter type ``filters[y]`` on row y."""
    h, w, c = pixels.shape
    rows = pixels.reshape(h, w * c).astype(np.int32)
    out = []
    for y in range(h):
        row = rows[y]
        up = rows[y - 1] if y else np.zeros_like(row)
        left = np.concatenate([np.zeros(c, np.int32), row[:-c]])
        upleft = np.concatenate([np.zeros(c, np.int32), up[:-c]])
        kind = filters[y]
        predictor = [0, left, up, (left + up) // 2, paeth(left, up, upleft)][kind]
        out.append(bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes())
    return b"".join(out)


def make_png(pixels: np.ndarray, filters=4, *, idats=1, before=(), after=(), ihdr=None,
             data=None, stream=None) -> bytes:
    """A PNG of ``pixels``; or of the scanlines ``data``, or of the zlib ``stream``."""
    h, w, c = pixels.shape
    if isinstance(filters, int):
        filters = [filters] * h
    if stream is None:
        stream = zlib.compress(filtered(pixels, filters) if data is None else data)
    cuts = np.linspace(0, len(stream), idats + 1).astype(int)
    ihdr = ihdr or struct.pack(">IIBBBBB", w, h, 8, 2 if c == 3 else 6, 0, 0, 0)
    return (SIGNATURE + chunk(b"IHDR", ihdr) + b"".join(before)
            + b"".join(chunk(b"IDAT", stream[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))
            + b"".join(after) + chunk(b"IEND", b""))


def random_pixels(h, w, c, seed=0):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    pixels[: h // 2, : w // 2] //= 16  # flat areas too: ties in the Paeth predictor
    if c == 4:
        pixels[0, 0, 3] = 7  # keep the alpha channel
    return pixels


def write(tmp_path, data: bytes, name="x.png"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def outcome(load, path, **options):
    try:
        image = load(path, **options)
    except ImageError as exc:
        return ("error", str(exc))
    return ("image", image.pixels.shape, image.pixels.tobytes(), image.icc_profile,
            image.dpi, image.source_format, image.file_size, image.path)


def pillow_outcome(monkeypatch, path, **options):
    with monkeypatch.context() as patch:
        patch.setattr(loading, "read_png", lambda *args: None)
        return outcome(load_image, path, **options)


def assert_like_pillow(monkeypatch, path, fast: bool, **options):
    """load_image gives exactly what the Pillow path gives; ``fast``: via the fast reader."""
    used = read_png(path, options.get("max_pixels", MAX_PIXELS)) is not None
    assert used == fast
    assert outcome(load_image, path, **options) == pillow_outcome(monkeypatch, path, **options)


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_each_filter_type(tmp_path, monkeypatch, channels, kind):
    pixels = random_pixels(23, 37, channels)
    path = write(tmp_path, make_png(pixels, kind))
    decoded, header = read_png(path, MAX_PIXELS)
    assert np.array_equal(decoded, pixels) and header.channels == channels
    assert np.array_equal(np.asarray(Image.open(path)), pixels)
    assert_like_pillow(monkeypatch, path, fast=True)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3), (5, 33), (64, 127)])
@pytest.mark.parametrize("channels", [3, 4])
def test_mixed_filters_odd_sizes_and_split_idat(tmp_path, monkeypatch, shape, channels):
    h, w = shape
    pixels = random_pixels(h, w, channels, seed=h * w)
    filters = list(np.random.default_rng(w).integers(0, 5, h))
    path = write(tmp_path, make_png(pixels, filters, idats=min(7, h * w)))
    assert np.array_equal(read_png(path, MAX_PIXELS)[0], pixels)
    assert_like_pillow(monkeypatch, path, fast=True)


def test_paeth_on_all_neighbour_orders(tmp_path):
    """Every ordering of left, up and upper-left, with ties, in a Paeth image."""
    values = np.array([0, 1, 2, 3, 127, 128, 129, 253, 254, 255], np.uint8)
    left, up, upper_left = (v.ravel() for v in np.meshgrid(values, values, values))
    # Pixel (1, 2i + 1) has these three as its neighbours.
    pixels = np.zeros((2, 2 * len(left), 3), np.uint8)
    pixels[0, 0::2] = upper_left[:, None]
    pixels[0, 1::2] = up[:, None]
    pixels[1, 0::2] = left[:, None]
    pixels[1, 1::2] = np.random.default_rng(0).integers(0, 256, (len(left), 3))
    path = write(tmp_path, make_png(pixels, 4))
    assert np.array_equal(read_png(path, MAX_PIXELS)[0], pixels)


def test_pillow_written_files(tmp_path, monkeypatch, photo):
    rgba = np.dstack([photo, (np.arange(photo.size // 3) % 256).reshape(photo.shape[:2])])
    for name, pixels in [("rgb.png", photo), ("rgba.png", rgba.astype(np.uint8))]:
        path = tmp_path / name
        Image.fromarray(pixels).save(path)  # Pillow picks a filter per row
        assert_like_pillow(monkeypatch, path, fast=True)
        assert np.array_equal(load_image(path).pixels, pixels)


def test_opaque_rgba_drops_alpha_like_the_pillow_path(tmp_path, monkeypatch):
    pixels = random_pixels(10, 12, 4)
    pixels[..., 3] = 255
    path = write(tmp_path, make_png(pixels))
    assert load_image(path).pixels.shape == (10, 12, 3)
    assert_like_pillow(monkeypatch, path, fast=True)


def test_icc_dpi_and_harmless_chunks(tmp_path, monkeypatch):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = random_pixels(8, 8, 3)
    path = tmp_path / "meta.png"
    Image.fromarray(pixels).save(path, icc_profile=icc, dpi=(300, 300))
    assert_like_pillow(monkeypatch, path, fast=True)
    image = load_image(path)
    assert image.icc_profile == icc and image.dpi == Image.open(path).info["dpi"]
    extra = [chunk(b"gAMA", struct.pack(">I", 45455)), chunk(b"tEXt", b"Software\0test"),
             chunk(b"pHYs", struct.pack(">IIB", 2835, 5000, 1)), chunk(b"sRGB", b"\0"),
             chunk(b"PLTE", bytes(6)), chunk(b"prVt", b"private ancillary chunk")]
    path = write(tmp_path, make_png(pixels, before=extra,
                                    after=[chunk(b"tEXt", b"Comment\0after"),
                                           chunk(b"tIME", bytes(7))]))
    assert_like_pillow(monkeypatch, path, fast=True)
    assert load_image(path).dpi == pytest.approx((72.009, 127.0))
    png = make_png(pixels, idats=3)
    bad_idat_crc = write(tmp_path, png[:-16] + bytes([png[-16] ^ 1]) + png[-15:], "crc.png")
    assert_like_pillow(monkeypatch, bad_idat_crc, fast=True)  # neither checks IDAT CRCs
    aspect = write(tmp_path, make_png(pixels, before=[chunk(b"pHYs", bytes(9))]), "aspect.png")
    assert load_image(aspect).dpi is None
    assert_like_pillow(monkeypatch, aspect, fast=True)


def interlaced_png(pixels: np.ndarray) -> bytes:
    """Adam7, every pass filtered with type 0."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)]
    h, w, c = pixels.shape
    data = b""
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            data += b"".join(b"\0" + row.tobytes() for row in sub)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return make_png(pixels, ihdr=ihdr, data=data)


def with_chunk_before_idat(png: bytes, extra: bytes) -> bytes:
    at = png.index(b"IDAT") - 4
    return png[:at] + extra + png[at:]


def test_what_pillow_decodes(tmp_path, monkeypatch):
    """Files the fast reader leaves to Pillow, and get Pillow's result."""
    pixels = random_pixels(12, 10, 3)
    gray = pixels[..., 0]
    exif = Image.Exif()
    exif[0x0112] = 6
    cases = {"interlaced": interlaced_png(pixels)}
    for name, image, options in [
        ("palette", Image.fromarray(pixels).convert("P"), {}),
        ("gray", Image.fromarray(gray), {}),
        ("gray16", Image.fromarray(gray.astype(np.uint16) * 257), {}),
        ("trns", Image.fromarray(pixels), {"transparency": tuple(int(v) for v in pixels[0, 0])}),
        ("exif", Image.fromarray(pixels), {"exif": exif.tobytes()}),
    ]:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        cases[name] = buffer.getvalue()
    apng = io.BytesIO()
    Image.fromarray(pixels).save(apng, "PNG", save_all=True,
                                 append_images=[Image.fromarray(255 - pixels)])
    cases["apng"] = apng.getvalue()
    plain = make_png(pixels)
    rgb16 = pixels.astype(">u2") * 257
    cases["rgb16"] = make_png(pixels, ihdr=struct.pack(">IIBBBBB", 10, 12, 16, 2, 0, 0, 0),
                              data=b"".join(b"\0" + row.tobytes() for row in rgb16))
    cases["text dpi"] = with_chunk_before_idat(plain, chunk(b"tEXt", b"dpi\x0072"))
    cases["xmp"] = with_chunk_before_idat(plain, chunk(
        b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x tiff:Orientation=\"3\"/>"))
    cases["unknown critical"] = with_chunk_before_idat(plain, chunk(b"ABCD", b"?"))
    scanlines = filtered(pixels, [4] * 12)
    cases["a byte too many"] = make_png(pixels, data=scanlines + b"x")
    cases["bytes after the stream"] = make_png(pixels, stream=zlib.compress(scanlines) + b"xy")
    cases["bomb"] = make_png(pixels, data=scanlines + bytes(20_000_000))
    for name, data in cases.items():
        path = write(tmp_path, data, name.replace(" ", "_") + ".png")
        assert_like_pillow(monkeypatch, path, fast=False)
    assert load_image(tmp_path / "exif.png").pixels.shape == (10, 12, 3)  # rotated
    for name in ("interlaced", "rgb16", "text_dpi", "unknown_critical", "a_byte_too_many"):
        assert load_image(tmp_path / f"{name}.png").pixels.tobytes() == pixels.tobytes()


def test_damage_gives_the_pillow_error(tmp_path, monkeypatch):
    pixels = random_pixels(40, 30, 3)
    plain = make_png(pixels)
    bad_filter = bytearray(filtered(pixels, [4] * 40))
    bad_filter[31 * 91] = 9  # row 31's filter-type byte
    cases = {
        "truncated": plain[: len(plain) // 2],
        "bad IHDR CRC": plain[:29] + bytes([plain[29] ^ 1]) + plain[30:],
        "bad filter": make_png(pixels, data=bytes(bad_filter)),
        "short data": make_png(pixels, data=filtered(pixels, [4] * 40)[:-5]),
        "short pHYs": with_chunk_before_idat(plain, chunk(b"pHYs", bytes(5))),
        "no IEND": plain[:-12],
    }
    for name, data in cases.items():
        path = write(tmp_path, data, name.replace(" ", "_") + ".png")
        assert_like_pillow(monkeypatch, path, fast=False)


def test_size_limits_give_the_pillow_errors(tmp_path, monkeypatch):
    path = write(tmp_path, make_png(random_pixels(100, 100, 3)))
    assert_like_pillow(monkeypatch, path, fast=False, max_pixels=5_000)
    assert outcome(load_image, path, max_pixels=5_000)[0] == "error"
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4_000)
    assert read_png(path, MAX_PIXELS) is None  # Pillow would warn: leave it to Pillow
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2_000)
    assert "too large" in outcome(load_image, path)[1]


def test_prefetched_inflation(tmp_path):
    pixels = random_pixels(30, 20, 4)
    path = write(tmp_path, make_png(pixels, idats=5))
    other = write(tmp_path, make_png(random_pixels(30, 20, 3)), "other.png")
    pending = start_inflate(path)
    assert np.array_equal(load_image(path, prefetched=pending).pixels, pixels)
    assert not pending.is_for(path)  # used up: a second load reads the file again
    assert np.array_equal(load_image(path, prefetched=pending).pixels, pixels)
    assert load_image(other, prefetched=start_inflate(path)).pixels.shape == (30, 20, 3)
    header, data = start_inflate(path).result()
    assert (header.width, header.height, header.channels) == (20, 30, 4)
    assert data == zlib.decompress(zlib.compress(filtered(pixels, [4] * 30)))
    assert start_inflate(tmp_path / "missing.png").result() is None
    assert start_inflate(other, max_pixels=599).result() is None


def test_no_thread_outlives_load_image(tmp_path, monkeypatch):
    """The CLI forks workers on the premise that no threads are running."""
    good = write(tmp_path, make_png(random_pixels(50, 40, 3)), "good.png")
    damaged = write(tmp_path, make_png(random_pixels(50, 40, 3))[:-30], "damaged.png")
    before = threading.active_count()
    load_image(good)
    with pytest.raises(ImageError):
        load_image(good, max_pixels=100)  # too large: the thread is cancelled
    with pytest.raises(ImageError):
        load_image(damaged)
    assert start_inflate(good).result() is not None
    assert threading.active_count() == before


def test_pieces_may_split_anywhere(tmp_path):
    pixels = random_pixels(9, 7, 3)
    header, data = start_inflate(write(tmp_path, make_png(pixels))).result()
    rng = np.random.default_rng(1)
    for _ in range(20):
        cuts = sorted({0, len(data), *rng.integers(0, len(data), rng.integers(1, 40))})
        pieces = (data[a:b] for a, b in zip(cuts, cuts[1:], strict=False))
        assert np.array_equal(unfilter(header, pieces), pixels)
    assert unfilter(header, [data[:-1]]) is None
    assert unfilter(header, [data + b"\0" * header.stride]) is None


def test_scan_yields_header_then_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(png_inflate, "INFLATE_INPUT", 10_000)
    path = write(tmp_path, make_png(random_pixels(300, 400, 3), idats=3))
    header, *pieces = scan(path)
    assert header.stride == 1201
    assert sum(map(len, pieces)) == 300 * 1201 and len(pieces) > 1


def test_inflate_module_imports_only_the_standard_library():
    code = ("import sys, kmeans_gui.core.png.reader; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'PIL') "
            "or m.startswith('kmeans_gui.core.') and m not in "
            "('kmeans_gui.core.png', 'kmeans_gui.core.png.reader', 'kmeans_gui.core.png.chunks')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("channels", [3, 4])
def test_reading_thread_can_unfilter_too(tmp_path, monkeypatch, channels):
    """The command line's mode: the thread delivers finished pixels."""
    monkeypatch.setattr(png_inflate, "INFLATE_INPUT", 997)  # rows split across pieces
    monkeypatch.setattr(png_inflate, "INFLATE_INPUT_ALONE", 997)
    pixels = random_pixels(61, 45, channels, seed=channels)
    filters = list(np.random.default_rng(3).integers(0, 5, 61))
    path = write(tmp_path, make_png(pixels, filters, idats=4))
    pending = start_inflate(path, unfilter=True)
    assert np.array_equal(load_image(path, prefetched=pending).pixels,
                          pixels if channels == 3 or pixels[..., 3].min() < 255
                          else pixels[..., :3])
    assert not pending.is_for(path)
    raw = bytes(start_inflate(path, unfilter=True).pixels())
    assert raw == pixels.tobytes()
    # A bad filter type, or rows missing: no pixels, so Pillow takes over.
    before = threading.active_count()
    scanlines = bytearray(filtered(pixels, filters))
    scanlines[30 * (1 + 45 * channels)] = 9  # row 30's filter type
    bad_filter = write(tmp_path, make_png(pixels, data=bytes(scanlines)), "bad.png")
    assert start_inflate(bad_filter, unfilter=True).pixels() is None
    short = write(tmp_path, make_png(pixels, data=bytes(scanlines[:1000])), "short.png")
    assert start_inflate(short, unfilter=True).pixels() is None
    assert threading.active_count() == before


def test_unfilter_module_imports_no_numpy():
    code = ("import sys, kmeans_gui.core.png.reader, kmeans_gui.core._native.unfilter; "
            "sys.exit('numpy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_pillow_limit_defaults_are_pillows():
    """The fast reader checks Pillow's limits without importing Pillow."""
    from PIL import Image, PngImagePlugin

    from kmeans_gui.core.png import decoder as png_read
    assert png_read.PILLOW_MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS
    assert png_read.PILLOW_MAX_TEXT_CHUNK == PngImagePlugin.MAX_TEXT_CHUNK
