"""The indexed PNG encoder: bit packing, filter and strategy choice, efforts."""

import io
import zlib

import deflate
import numpy as np
import pytest
from PIL import Image
from zlib_ng import zlib_ng

from kmeans_gui.core import QuantizeSettings, encode_png, quantize
from kmeans_gui.core.png import writer as png_encoder
from kmeans_gui.core.quantizer.pipeline import QuantizeResult


def pack_reference(indices: np.ndarray, bits: int) -> np.ndarray:
    """Bit packing one pixel at a time, as the PNG specification describes it."""
    height, width = indices.shape
    per_byte = 8 // bits
    out = np.zeros((height, -(-width // per_byte)), np.uint8)
    for y in range(height):
        for x in range(width):
            shift = 8 - bits * (x % per_byte + 1)
            out[y, x // per_byte] |= int(indices[y, x]) << shift
    return out


def decoded_indices(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "P"
        return np.asarray(im)


def flat_blocks(height: int, width: int, block: int, k: int, seed: int = 0) -> np.ndarray:
    """Random palette indices in flat ``block`` x ``block`` squares."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, k, (height // block, width // block)).astype(np.uint8)
    return np.kron(blocks, np.ones((block, block), np.uint8))


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("width", [1, 7, 8, 9, 33])
def test_pack_matches_the_specification(bits, width):
    rng = np.random.default_rng(bits * 100 + width)
    indices = rng.integers(0, 1 << bits, (5, width)).astype(np.uint8)
    assert np.array_equal(png_encoder.pack(indices, bits), pack_reference(indices, bits))


def test_up_filter_is_the_difference_to_the_row_above():
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 256, (6, 9)).astype(np.uint8)
    lines = png_encoder.scanlines(rows, png_encoder.FILTER_UP)
    assert (lines[:, 0] == 2).all()
    above = np.vstack([np.zeros((1, 9), np.int64), rows[:-1].astype(np.int64)])
    assert np.array_equal(lines[:, 1:], (rows.astype(np.int64) - above) % 256)
    band = png_encoder.scanlines(rows[3:], png_encoder.FILTER_UP, rows[2])
    assert np.array_equal(band, lines[3:])


def full_sizes(rows: np.ndarray, level: int) -> dict:
    sizes = {}
    for filter_type, strategy in png_encoder.CANDIDATES:  # with the encoder's zlib-ng
        compressor = zlib_ng.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
        data = png_encoder.scanlines(rows, filter_type).tobytes()
        sizes[filter_type, strategy] = len(compressor.compress(data) + compressor.flush())
    return sizes


def test_flat_blocks_are_not_run_length_coded_unfiltered():
    """The case the bit-depth rule got wrong: 16 colours in flat blocks, where
    zlib's run-length strategy over unfiltered rows makes a file several times
    larger than its default strategy. The sample picks the candidate that is
    best over the whole image, and the pixels round-trip."""
    indices = flat_blocks(1200, 1600, 8, 16)
    result = QuantizeResult(indices, np.arange(48, dtype=np.uint8).reshape(16, 3) * 5,
                            1, 0.0, 0.0, "unchanged", 0.0)
    data = encode_png(result, effort="auto")
    assert np.array_equal(decoded_indices(data), indices)
    rows = png_encoder.pack(indices, 4)
    sizes = full_sizes(rows, png_encoder.FAST_LEVEL)
    compressor = zlib.compressobj(7, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    unfiltered = png_encoder.scanlines(rows, png_encoder.FILTER_NONE).tobytes()
    old_rule = len(compressor.compress(unfiltered) + compressor.flush())
    assert png_encoder.choose(rows) == min(sizes, key=sizes.get)
    assert png_encoder.choose(rows) == (png_encoder.FILTER_NONE, zlib.Z_DEFAULT_STRATEGY)
    assert len(data) * 3 < old_rule


def test_sample_picks_run_length_where_it_wins():
    """Rows that each differ from the one above in a few places: Up-filtered
    they are mostly zeros, which the run-length strategy codes best."""
    rng = np.random.default_rng(2)
    height, width = 1500, 700
    indices = np.empty((height, width), np.uint8)
    indices[0] = rng.integers(0, 16, width)
    for y in range(1, height):
        indices[y] = indices[y - 1]
        spots = rng.integers(0, width, 3)
        indices[y, spots] = rng.integers(0, 16, 3)
    rows = png_encoder.pack(indices, 4)
    choice = png_encoder.choose(rows)
    sizes = full_sizes(rows, png_encoder.TRIAL_LEVEL)
    assert choice[0] == png_encoder.FILTER_UP
    assert sizes[choice] == min(sizes.values())


def test_small_images_keep_the_smallest_candidate():
    """Whole-image trials: never larger than the best candidate at the trial
    level, and the auto effort's level 9 only ever makes it smaller."""
    rng = np.random.default_rng(3)
    indices = (np.add.outer(np.arange(90), np.arange(120)) // 7 % 16).astype(np.uint8)
    indices[rng.random(indices.shape) < 0.05] = 3
    palette = np.zeros((16, 3), np.uint8)

    def stream_bytes(effort):
        data = encode_png(QuantizeResult(indices, palette, 1, 0.0, 0.0, "", 0.0),
                          effort=effort)
        return sum(len(body) for kind, body in _chunks(data) if kind == b"IDAT")

    rows = png_encoder.pack(indices, 4)
    assert stream_bytes("fast") == min(full_sizes(rows, png_encoder.TRIAL_LEVEL).values())
    assert stream_bytes("auto") <= stream_bytes("fast")


@pytest.mark.parametrize("dither", ["none", "auto"])
@pytest.mark.parametrize("k", [16, 256])
def test_small_images_get_the_smallest_stream_of_any_candidate_at_either_level(
        photo, k, dither):
    """The auto effort's retries: on the dithered photo at k = 256 the
    run-length candidate wins at the trial level, with Up rows just ahead of
    unfiltered ones, yet unfiltered rows through libdeflate are 9 % smaller."""
    result = quantize(photo, QuantizeSettings(k=k, dither=dither))
    rows = png_encoder.pack(result.indices, png_encoder.bit_depth(len(result.palette)))
    assert rows.size + len(rows) <= png_encoder.WHOLE_TRIAL_BYTES
    auto = len(_idat(encode_png(result, effort="auto")))
    assert auto == smallest_small_stream(rows)
    assert auto <= min(full_sizes(rows, 9).values())  # every zlib candidate at level 9


def test_an_8_bit_640x480_image_is_still_small():
    """Whole-image trials and the retries reach an 8-bit 640x480 image (just
    over 300 KiB of scanlines): the smallest stream of any candidate at the
    trial level or of a retry, where the sampled path would stop at the trial level."""
    rng = np.random.default_rng(6)
    ramp = np.add.outer(np.arange(480) // 3, np.arange(640) // 5) % 256
    indices = (ramp + (rng.random(ramp.shape) < 0.2)).astype(np.uint8)
    palette = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    rows = png_encoder.pack(indices, 8)
    assert rows.size + len(rows) > 300 << 10
    result = QuantizeResult(indices, palette, 1, 0.0, 0.0, "", 0.0)
    assert len(_idat(encode_png(result, effort="auto"))) == smallest_small_stream(rows)


def test_flat_small_images_keep_zlibs_level_9():
    """A flat 8-bit image (discs on a plain ground) deflates more than twelve
    times smaller at the trial level; there zlib's level 9 beats libdeflate's
    pass, and the auto effort keeps it."""
    rng = np.random.default_rng(0)
    indices = np.zeros((400, 328), np.uint8)
    yy, xx = np.ogrid[:400, :328]
    for _ in range(6):
        y, x, r = rng.integers(0, 400), rng.integers(0, 328), rng.integers(10, 80)
        indices[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = rng.integers(0, 64)
    palette = np.repeat(np.arange(64, dtype=np.uint8)[:, None], 3, axis=1)
    rows = png_encoder.pack(indices, 8)
    trial = full_sizes(rows, png_encoder.TRIAL_LEVEL)
    assert rows.size + len(rows) >= 12 * min(trial.values())
    level9 = min(full_sizes(rows, 9).values())
    by_libdeflate = min(len(deflate.zlib_compress(png_encoder.scanlines(rows, f).tobytes(),
                                                  png_encoder.AUTO_SMALL_LIBDEFLATE))
                        for f in (png_encoder.FILTER_NONE, png_encoder.FILTER_UP))
    assert level9 < by_libdeflate  # what makes the case
    result = QuantizeResult(indices, palette, 1, 0.0, 0.0, "", 0.0)
    auto = len(_idat(encode_png(result, effort="auto")))
    assert auto == level9 == smallest_small_stream(rows)


def smallest_small_stream(rows: np.ndarray) -> int:
    """What the auto effort keeps for a small image: the smallest of the
    candidates at the trial level and, below 16 KiB, of the best
    default-strategy one deflated by zlib at level 9; from 16 KiB of every
    default-strategy one within 5 % of it deflated by libdeflate, and of
    zlib's level 9 too where the trial deflated 12 times smaller (computed
    here directly)."""
    trial = full_sizes(rows, png_encoder.TRIAL_LEVEL)
    usual = [c for c in png_encoder.CANDIDATES if c[1] == zlib.Z_DEFAULT_STRATEGY]
    best = min(usual, key=trial.get)
    whole = rows.size + len(rows)
    sizes = list(trial.values())
    if whole < 16 << 10 or whole >= 12 * trial[best]:
        sizes.append(full_sizes(rows, 9)[best])
    if whole >= 16 << 10:
        sizes += [len(deflate.zlib_compress(png_encoder.scanlines(rows, c[0]).tobytes(),
                                            png_encoder.AUTO_SMALL_LIBDEFLATE))
                  for c in usual if trial[c] <= 1.05 * trial[best]]
    return min(sizes)


def _chunks(data: bytes):
    pos = 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length


@pytest.mark.parametrize("k", [2, 16, 64, 256])
def test_max_decodes_to_the_same_pixels_and_is_not_larger(photo, k):
    result = quantize(photo, QuantizeSettings(k=k))
    auto = encode_png(result, effort="auto")
    smallest = encode_png(result, effort="max")
    assert np.array_equal(decoded_indices(smallest), result.indices)
    assert np.array_equal(decoded_indices(auto), result.indices)
    assert len(smallest) <= len(auto)
    assert encode_png(result, effort="small") == smallest  # the old name of max


def test_unknown_effort_is_refused():
    result = QuantizeResult(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8),
                            1, 0.0, 0.0, "", 0.0)
    with pytest.raises(ValueError, match="effort"):
        encode_png(result, effort="slow")


def _idat(data: bytes) -> bytes:
    return b"".join(body for kind, body in _chunks(data) if kind == b"IDAT")


def test_auto_deflates_flat_graphics_at_level_9_and_photos_at_the_fast_level():
    """Larger images: level 9 where the sample deflates many times smaller
    (flat areas with edges), the fast level where it does not (noise)."""
    rng = np.random.default_rng(4)
    graphic = flat_blocks(800, 1000, 24, 16)
    edges = rng.random(graphic.shape) < 0.002
    graphic[edges] = rng.integers(0, 16, int(edges.sum()))
    noisy = rng.integers(0, 16, (800, 1000)).astype(np.uint8)
    palette = np.arange(48, dtype=np.uint8).reshape(16, 3) * 5
    for indices, level in ((graphic, 9), (noisy, png_encoder.FAST_LEVEL)):
        rows = png_encoder.pack(indices, 4)
        assert rows.size > png_encoder.WHOLE_TRIAL_BYTES  # the sampled path
        filter_type, strategy = png_encoder.choose(rows)
        lines = png_encoder.scanlines(rows, filter_type)
        want = png_encoder.deflate_rows(memoryview(lines).cast("B"), lines.shape[1], level,
                                        strategy)
        result = QuantizeResult(indices, palette, 1, 0.0, 0.0, "", 0.0)
        auto, fast = encode_png(result, effort="auto"), encode_png(result, effort="fast")
        assert _idat(auto) == want
        assert np.array_equal(decoded_indices(auto), indices)
        assert len(auto) <= len(fast)


@pytest.mark.parametrize("effort", ["fast", "auto", "max"])
@pytest.mark.parametrize("k", [16, 200])
def test_one_band_of_a_whole_small_image_costs_its_deflate_stream(photo, effort, k):
    """The bands' size with one band, the whole image, and no lead rows: the
    bytes of the image's own deflate stream (without zlib's 2-byte header and
    4-byte checksum), same filter, strategy and level."""
    result = quantize(photo, QuantizeSettings(k=k))
    data = encode_png(result, effort=effort)
    height = result.indices.shape[0]
    banded = png_encoder.banded_size([(result.indices, 0)], len(result.palette), height, effort)
    assert banded == len(_idat(data)) - 6


def test_a_bands_lead_rows_are_its_history_and_not_counted():
    """Rows repeating their lead rows cost almost nothing after them; the
    same rows without that history cost as much as any noise."""
    rng = np.random.default_rng(5)
    lead = rng.integers(0, 256, (6, 400)).astype(np.uint8)
    band = np.vstack([lead, lead])
    with_lead = png_encoder.banded_size([(band, 6)], 256, 1000, "auto")
    alone = png_encoder.banded_size([(lead, 0)], 256, 1000, "auto")
    assert alone > lead.size * 0.9  # noise does not deflate
    assert with_lead < 0.05 * alone
    # Two bands share one filter and strategy: no less than each with its own best.
    both = png_encoder.banded_size([(band, 6), (lead, 0)], 256, 1000, "auto")
    assert with_lead + alone <= both <= 1.02 * (with_lead + alone)


def test_bands_with_an_unknown_effort_are_refused():
    with pytest.raises(ValueError, match="effort"):
        png_encoder.banded_size([(np.zeros((2, 2), np.uint8), 0)], 2, 2, "slow")
