"""The PNG writer against Pillow's writer and decoder."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from kmeans_gui.core import encode_png, parallel
from kmeans_gui.core.png import writer as png_write
from kmeans_gui.core.quantizer.pipeline import QuantizeResult

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def random_result(h, w, k, alpha=False, seed=0) -> QuantizeResult:
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, k, (h, w)).astype(np.uint8)
    indices[: h // 2] = indices[: h // 2] // 8 * 8  # some runs to compress
    palette = rng.integers(0, 256, (k, 4 if alpha else 3)).astype(np.uint8)
    if alpha:
        palette[k // 2:, 3] = 255  # tRNS then stops before the end
    return QuantizeResult(indices, palette, 1, 0.0, 0.0, "converged", 0.0)


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == \
            zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + length
    return out


def decoded(data: bytes) -> tuple:
    """Everything Pillow reads back: mode, size, indices, palette, info."""
    with Image.open(io.BytesIO(data)) as im:
        return (im.mode, im.size, np.asarray(im).tobytes(), im.getpalette(),
                sorted(im.info.items()))


def kinds(data: bytes) -> list[bytes]:
    """Chunk types in order, runs of IDAT counted once."""
    out = []
    for kind, _ in chunks(data):
        if not (kind == b"IDAT" and out and out[-1] == b"IDAT"):
            out.append(kind)
    return out


@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("icc,dpi", [(None, None), (ICC, (300.4, 299.6)), (None, (72, 96))])
def test_same_file_contents_as_pillow(alpha, icc, dpi):
    result = random_result(37, 53, 200, alpha)
    ours = encode_png(result, icc_profile=icc, dpi=dpi, effort="fast")
    options = {"icc_profile": icc} if icc else {}
    if dpi:
        options["dpi"] = tuple(round(v) for v in dpi)
    buffer = io.BytesIO()
    # pil_image puts the tRNS alphas in the image's info, which Pillow writes.
    png_write.pil_image(result.indices, result.palette).save(buffer, "PNG", bits=8, **options)
    pillows = buffer.getvalue()
    assert decoded(ours) == decoded(pillows)
    assert kinds(ours) == kinds(pillows)
    assert chunks(ours)[0] == chunks(pillows)[0]  # IHDR: 8-bit palette


@pytest.mark.parametrize("k,bits", [(2, 1), (3, 2), (16, 4), (17, 8), (256, 8)])
@pytest.mark.parametrize("effort", ["auto", "fast", "max", "small"])
@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("icc,dpi", [(None, None), (ICC, (150, 150))])
@pytest.mark.parametrize("whole", [True, False])
def test_round_trip_every_bit_depth(k, bits, effort, alpha, icc, dpi, whole, monkeypatch):
    if not whole:  # the sampled choice and the piecewise deflate, on a small image
        monkeypatch.setattr(png_write, "WHOLE_TRIAL_BYTES", 0)
        monkeypatch.setattr(png_write, "BAND_BYTES", 40)
        monkeypatch.setattr(png_write, "PIECE_BYTES", 100)
    result = random_result(20, 31, k, alpha, seed=k)
    data = encode_png(result, icc_profile=icc, dpi=dpi, effort=effort)
    assert chunks(data)[0][1][8] == bits
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(np.asarray(im), result.indices)
        palette = np.asarray(im.getpalette(), np.uint8).reshape(-1, 3)
        assert np.array_equal(palette, result.palette[:, :3])
        assert im.info.get("icc_profile") == icc
        if dpi:
            assert im.info["dpi"] == pytest.approx(dpi, abs=0.05)  # dots per metre
        else:
            assert "dpi" not in im.info
        assert im.info.get("transparency") == png_write.transparency(result.palette)
        assert np.array_equal(np.asarray(im.convert("RGBA" if alpha else "RGB")),
                              result.to_rgb())


def test_pieces_on_any_number_of_threads_give_the_same_file(monkeypatch):
    result = random_result(64, 45, 120, alpha=True)
    monkeypatch.setattr(png_write, "WHOLE_TRIAL_BYTES", 0)  # sampled, then in pieces
    monkeypatch.setattr(png_write, "PIECE_BYTES", 46 * 5 + 3)  # 5 rows a piece, 13 pieces
    monkeypatch.setattr(png_write, "IDAT_BYTES", 1000)
    files = []
    for workers in (1, 2, 3, 8):
        monkeypatch.setattr(parallel, "_threads", workers)
        files.append(encode_png(result, effort="fast"))
    assert all(f == files[0] for f in files)
    assert decoded(files[0]) == decoded(encode_png(result, effort="max"))
    stream = b"".join(body for kind, body in chunks(files[0]) if kind == b"IDAT")
    lines = zlib.decompress(stream)  # one stream; the Adler-32 checks out
    filter_type = lines[0]
    expected = png_write.scanlines(result.indices, filter_type).tobytes()
    assert lines == expected
    assert stream[:2] == zlib.compress(b"", 6)[:2]
    assert sum(kind == b"IDAT" for kind, _ in chunks(files[0])) > 1


def test_deterministic():
    result = random_result(50, 40, 256)
    assert encode_png(result, effort="fast") == encode_png(result, effort="fast")


@pytest.mark.parametrize("k", [16, 200])
@pytest.mark.parametrize("effort", ["auto", "max"])
def test_side_by_side_trials_give_the_same_file(monkeypatch, k, effort):
    result = random_result(60, 70, k, alpha=True, seed=3)
    files = []
    for workers in (1, 3):
        monkeypatch.setattr(parallel, "_threads", workers)
        files.append(encode_png(result, icc_profile=ICC, dpi=(96, 96), effort=effort))
    assert files[0] == files[1]


def test_the_common_srgb_profile_becomes_an_srgb_chunk(monkeypatch):
    """A profile with the sRGB profile's fingerprint (the real one is not
    shipped: a stand-in of its size, fingerprinted here) is written as gAMA and
    sRGB chunks, with the profile's rendering intent; any other keeps iCCP."""
    import hashlib

    rng = np.random.default_rng(7)
    profile = bytearray(rng.integers(0, 256, png_write.SRGB_PROFILE_SIZE, np.uint8).tobytes())
    profile[64:68] = (1).to_bytes(4, "big")  # relative colorimetric
    profile = bytes(profile)
    monkeypatch.setattr(png_write, "SRGB_PROFILE_TAGS", hashlib.sha256(profile[128:]).hexdigest())
    indices = np.zeros((4, 5), np.uint8)
    palette = np.array([[10, 20, 30]], np.uint8)
    data = png_write.encode_indexed(indices, palette, icc_profile=profile)
    found = dict(chunks(data))
    assert b"iCCP" not in found
    assert found[b"sRGB"] == b"\x01" and found[b"gAMA"] == struct.pack(">I", 45455)
    with Image.open(io.BytesIO(data)) as im:
        assert im.info.get("srgb") == 1 and "icc_profile" not in im.info
    other = profile[:200] + bytes([profile[200] ^ 1]) + profile[201:]
    kept = dict(chunks(png_write.encode_indexed(indices, palette, icc_profile=other)))
    assert b"iCCP" in kept and b"sRGB" not in kept


@pytest.mark.parametrize("rows, pieces", [(400, 1), (1200, 2), (3000, 2), (6000, 3)])
def test_a_mid_sized_image_is_deflated_in_two_pieces(monkeypatch, rows, pieces):
    """Pieces are PIECE_BYTES, or half the rows down to MIN_PIECE_BYTES: a
    1-4 MP image deflates on two cores, not one; a large one in 2 MiB pieces."""
    stride = 1001  # a 1000-pixel 8-bit row and its filter byte
    raw = np.random.default_rng(7).integers(0, 4, rows * stride, dtype=np.uint8).tobytes()
    tasks = []
    real = parallel.run_each

    def counting(work, n):
        tasks.append(n)
        return real(work, n)

    monkeypatch.setattr(png_write.parallel, "run_each", counting)
    stream = png_write.deflate_rows(memoryview(raw), stride, 6, zlib.Z_DEFAULT_STRATEGY)
    assert tasks == [pieces + 1]  # and the Adler-32 trailer
    assert zlib.decompress(stream) == raw
