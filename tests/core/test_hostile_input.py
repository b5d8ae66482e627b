"""Hostile or unlucky input to the engine: no hang, no runaway memory, no
read out of bounds -- a clear ImageError or ValueError instead (issue 12)."""

from __future__ import annotations

import os
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import (
    MAX_PIXELS,
    ImageError,
    QuantizeSettings,
    build_histogram,
    kmeans_steps,
    load_image,
    quantize,
    remap,
)

from ..peak_memory import load_peak_mib
from ..png_craft import chunk, header_only, png

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files")


def _small_png(tmp_path: Path, name: str = "small.png") -> Path:
    path = tmp_path / name
    Image.fromarray(np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)).save(path)
    return path


@pytest.fixture(scope="module")
def baseline_mib(tmp_path_factory) -> float:
    """Peak memory of loading a tiny PNG: the interpreter, numpy, Pillow."""
    code, peak, err = load_peak_mib(_small_png(tmp_path_factory.mktemp("base")))
    assert code == 0, err
    return peak


# ------------------------------------------------------ 1: not a regular file

@posix_only
def test_a_named_pipe_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="p.png: not a regular file"):
        load_image(fifo)  # returns at once: nobody ever writes into the pipe


@posix_only
def test_a_device_is_not_a_regular_file() -> None:
    with pytest.raises(ImageError, match="null: not a regular file"):
        load_image("/dev/null")


# ------------------------------------- 2: trailing data never read into memory

def test_gigabytes_after_iend_cost_no_memory(tmp_path: Path, baseline_mib: float) -> None:
    path = _small_png(tmp_path, "trailing.png")
    size = path.stat().st_size
    os.truncate(path, size + (1 << 30))  # sparse: a GiB of zeros, no disk used
    code, peak, err = load_peak_mib(path)
    assert code == 0, err
    assert peak < baseline_mib + 32, f"{peak:.0f} MiB against {baseline_mib:.0f} at rest"


def test_trailing_data_after_iend_decodes_as_pillow_does(tmp_path: Path) -> None:
    path = _small_png(tmp_path, "trailing.png")
    path.write_bytes(path.read_bytes() + b"junk" * 1000)
    with Image.open(path) as im:
        expected = np.asarray(im.convert("RGB"))
    assert np.array_equal(load_image(path).pixels, expected)


def test_a_huge_chunk_length_claim_is_not_allocated(tmp_path: Path, baseline_mib: float) -> None:
    """An ancillary chunk that says it holds 2 GiB (and a file that really is that long)."""
    path = tmp_path / "claim.png"
    good = png(2, 2)
    body = struct.pack(">I", 0x7FFFFFF0) + b"biGg"
    path.write_bytes(good[:33] + body)  # after IHDR
    os.truncate(path, 33 + 8 + 0x7FFFFFF0 + 4)
    code, peak, err = load_peak_mib(path)
    assert code == 1
    assert peak < baseline_mib + 64, f"{peak:.0f} MiB against {baseline_mib:.0f} at rest"


# ------------------------------------------- 3: millions of empty IDAT chunks

def test_millions_of_empty_idat_chunks_are_refused_in_bounded_memory(
        tmp_path: Path, baseline_mib: float) -> None:
    raw = bytes((1 + 64 * 3) * 64)
    empty = chunk(b"IDAT")
    path = tmp_path / "chunks.png"
    whole = png(64, 64, raw)
    first_idat = whole.index(b"IDAT") - 4
    with open(path, "wb") as f:
        f.write(whole[:first_idat])
        f.write(empty * (4 << 20))  # 48 MiB of 12-byte chunks
        f.write(whole[first_idat:])
    code, peak, err = load_peak_mib(path)
    assert code == 1
    assert "too many chunks" in err
    assert peak < baseline_mib + 48, f"{peak:.0f} MiB against {baseline_mib:.0f} at rest"


def test_a_few_empty_idat_chunks_still_decode(tmp_path: Path) -> None:
    raw = bytes(range(256))[: 1 + 4 * 3] * 4
    data = zlib_split(raw)
    path = tmp_path / "few.png"
    path.write_bytes(png(4, 4, idat=data))
    with Image.open(path) as im:
        expected = np.asarray(im.convert("RGB"))
    assert np.array_equal(load_image(path).pixels, expected)


def zlib_split(raw: bytes) -> bytes:
    import zlib
    stream = zlib.compress(raw)
    return b"".join(chunk(b"IDAT", stream[i:i + 3]) + chunk(b"IDAT") for i in
                    range(0, len(stream), 3))


def test_pillow_index_errors_on_damage_are_image_errors(tmp_path: Path) -> None:
    """Found by the fuzz script: Pillow raises IndexError for an iCCP chunk
    cut short after the image data."""
    good = png(3, 2, colour=3)
    at = good.index(b"IEND") - 4
    path = tmp_path / "iccp.png"
    path.write_bytes(good[:at] + chunk(b"iCCP", b"name\0") + good[at:])
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(path)


# ------------------------------------------------ 4: one pixel limit, everywhere

def test_the_limit_is_200_megapixels_in_every_path(tmp_path: Path) -> None:
    assert MAX_PIXELS == 200_000_000
    # 8-bit RGB goes to the fast reader, palette and 16-bit PNGs to Pillow.
    for colour, depth in ((2, 8), (3, 8), (2, 16), (0, 8)):
        path = header_only(tmp_path / f"big-{colour}-{depth}.png", 20_000, 10_001,
                           colour, depth)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's DecompressionBombWarning included
            with pytest.raises(ImageError) as caught:
                load_image(path)
        assert str(caught.value) == (f"{path.name}: the image is too large (200.02 MP); "
                                     "the limit is 200 megapixels")


@pytest.mark.parametrize("megapixels", [100, 190])
def test_below_the_limit_pillow_raises_no_bomb_warning_or_error(
        tmp_path: Path, megapixels: int) -> None:
    """Between Pillow's own thresholds (89.5 and 178.9 MP) and the 200 MP limit."""
    path = header_only(tmp_path / "palette.png", 10_000, megapixels * 100, colour=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageError, match="damaged or truncated"):
            load_image(path)


def test_a_lower_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    for colour in (2, 3):
        path = header_only(tmp_path / f"two-{colour}.png", 2000, 1000, colour)
        with pytest.raises(ImageError, match=r"too large \(2 MP\); the limit is 1 megapixels"):
            load_image(path, max_pixels=1_000_000)
    data = header_only(tmp_path / "piped.png", 2000, 1000, 3).read_bytes()
    from kmeans_gui.core import load_image_data
    with pytest.raises(ImageError, match="the limit is 1 megapixels"):
        load_image_data(data, max_pixels=1_000_000)


def test_pillow_limit_follows_the_project_limit(tmp_path: Path) -> None:
    with pytest.raises(ImageError):  # any Pillow-path load switches Pillow's own check off
        load_image(header_only(tmp_path / "p.png", 4, 4, colour=3))
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= MAX_PIXELS


# ------------------------------------------ 8: the public API checks its input

def _histogram():
    rng = np.random.default_rng(1)
    return build_histogram(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))


def test_remap_with_an_empty_palette_is_a_value_error() -> None:
    pixels = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="palette"):
        remap(pixels, np.zeros((0, 3), np.uint8))
    with pytest.raises(ValueError, match="palette"):
        remap(pixels, np.zeros((0, 3), np.uint8), dither=0.5)


def test_remap_of_rgb_pixels_with_an_rgba_palette_is_a_value_error() -> None:
    pixels = np.zeros((4, 4, 3), np.uint8)
    palette = np.array([[0, 0, 0, 0], [255, 255, 255, 255]], np.uint8)
    with pytest.raises(ValueError, match="palette"):
        remap(pixels, palette)
    with pytest.raises(ValueError, match="palette"):
        remap(pixels, palette, dither=1.0)


def test_remap_with_more_than_256_entries_is_a_value_error() -> None:
    pixels = np.zeros((4, 4, 3), np.uint8)
    palette = np.zeros((257, 3), np.uint8)
    with pytest.raises(ValueError, match="256"):
        remap(pixels, palette)


def test_remap_with_a_malformed_palette_or_image_is_a_value_error() -> None:
    pixels = np.zeros((4, 4, 3), np.uint8)
    for palette in (np.zeros((3, 2), np.uint8), np.zeros(3, np.uint8),
                    np.zeros((3, 5), np.uint8)):
        with pytest.raises(ValueError):
            remap(pixels, palette)
    for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                np.zeros((4, 4, 3), np.float64)):
        with pytest.raises(ValueError):
            remap(bad, np.zeros((2, 3), np.uint8))


def test_kmeans_with_an_empty_initial_palette_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="initial"):
        next(kmeans_steps(_histogram(), 4, initial=np.zeros((0, 3))))


def test_kmeans_with_too_many_or_malformed_initial_centroids_is_a_value_error() -> None:
    hist = _histogram()
    for initial in (np.zeros((257, 3)), np.zeros((5, 3)), np.zeros((3, 2)), np.zeros(3),
                    np.full((3, 3), np.nan)):
        with pytest.raises(ValueError, match="initial"):
            next(kmeans_steps(hist, 4, initial=initial))


def test_valid_initial_centroids_still_work() -> None:
    hist = _histogram()
    states = list(kmeans_steps(hist, 4, initial=np.array([[0, 0, 0], [255, 255, 255],
                                                           [255, 0, 0], [0, 0, 255]])))
    assert states[-1].palette.shape == (4, 3)


# --------------------------------------------------- 9: k = 1 with transparency

def test_k1_with_transparency_gives_one_colour(rgba_image: np.ndarray) -> None:
    result = quantize(rgba_image, QuantizeSettings(k=1))
    assert result.n_colors == 1
    # Most pixels are opaque: the one entry is their colour, not the transparent one.
    assert result.palette.shape[1] == 3 or result.palette[0, 3] > 0


def test_k1_on_a_mostly_transparent_image_gives_the_transparent_entry() -> None:
    img = np.zeros((10, 10, 4), np.uint8)
    img[:2, :2] = (200, 10, 10, 255)
    result = quantize(img, QuantizeSettings(k=1))
    assert result.n_colors == 1
    assert tuple(result.palette[0]) == (0, 0, 0, 0)


def test_k2_with_transparency_still_reserves_the_transparent_entry(rgba_image) -> None:
    result = quantize(rgba_image, QuantizeSettings(k=2))
    assert result.n_colors == 2
    assert (result.palette[:, 3] == 0).sum() == 1


# ---------------------------------------------- 10: noisy RGBA, bounded tables

_HISTOGRAM_PEAK = """\
import sys, numpy as np
from kmeans_gui.core import build_histogram
channels = int(sys.argv[1])
pixels = np.random.default_rng(0).integers(0, 256, (2000, 3000, channels), dtype=np.uint8)
if channels == 4:
    pixels[..., 3] |= 1  # no fully transparent pixel: every one is counted
hist = build_histogram(pixels)
assert not hist.exact
"""


def test_noisy_rgba_histogram_is_bounded_like_rgb() -> None:
    from ..peak_memory import peak_mib
    code, rgb_peak, err = peak_mib("-c", _HISTOGRAM_PEAK, "3")
    assert code == 0, err
    code, rgba_peak, err = peak_mib("-c", _HISTOGRAM_PEAK, "4")
    assert code == 0, err
    assert rgba_peak <= 2 * rgb_peak, f"RGBA {rgba_peak:.0f} MiB, RGB {rgb_peak:.0f} MiB"


def test_binned_rgba_histogram_carries_exact_sums() -> None:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (300, 500, 4), dtype=np.uint8)
    hist = build_histogram(pixels, max_exact=1000)
    assert not hist.exact
    visible = pixels.reshape(-1, 4)
    visible = visible[visible[:, 3] > 0].astype(np.int64)
    assert hist.n_transparent == pixels.shape[0] * pixels.shape[1] - len(visible)
    assert int(hist.counts.sum()) == len(visible)
    sums = np.rint(hist.colors * hist.counts[:, None]).astype(np.int64).sum(axis=0)
    assert np.array_equal(sums, visible.sum(axis=0))
    # Every pixel belongs to the group whose key is its packed colour & mask.
    packed = ((visible[:, 0] << 24) | (visible[:, 1] << 16) | (visible[:, 2] << 8)
              | visible[:, 3]).astype(np.uint64) & hist.mask
    assert set(np.unique(packed).tolist()) == set(hist.keys.astype(np.uint64).tolist())


def test_binned_rgba_still_quantizes(rgba_image) -> None:
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (400, 400, 4), dtype=np.uint8)
    result = quantize(pixels, QuantizeSettings(k=8, max_iter=5))
    assert result.n_colors <= 8
    assert result.indices.shape == (400, 400)
