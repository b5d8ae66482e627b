"""Palette files: every format round-trips, malformed ones name their line."""

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import ImageError
from kmeans_gui.core.files.palettes import (
    PALETTE_FORMATS,
    parse_colors,
    parse_palette,
    read_palette,
    write_palette,
)


@pytest.mark.parametrize("ext", list(PALETTE_FORMATS))
@pytest.mark.parametrize("n", [1, 2, 5, 16, 17, 256])
def test_every_format_round_trips(tmp_path, ext, n):
    pal = np.random.default_rng(n).integers(0, 256, (n, 3)).astype(np.uint8)
    path = tmp_path / f"p{ext}"
    write_palette(path, pal)
    assert np.array_equal(read_palette(path), pal)


def test_reads_files_written_by_other_programs(tmp_path):
    gpl = (b"GIMP Palette\nName: Test\nColumns: 4\n# comment\n"
           b"255   0   0\tRed\n  0 255   0 Green\n\n")
    assert parse_palette(gpl, ".gpl").tolist() == [[255, 0, 0], [0, 255, 0]]
    jasc = b"JASC-PAL\r\n0100\r\n2\r\n1 2 3\r\n4 5 6\r\n"
    assert parse_palette(jasc, ".pal").tolist() == [[1, 2, 3], [4, 5, 6]]
    pdn = b";paint.net Palette File\n;Colors: 2\nFFC0392B\nff000000\n"
    assert parse_palette(pdn, ".txt").tolist() == [[192, 57, 43], [0, 0, 0]]
    lospec = b"c0392b\n#ffffff\n"
    assert parse_palette(lospec, ".hex").tolist() == [[192, 57, 43], [255, 255, 255]]
    act = bytes([9, 8, 7]) + bytes(765)
    assert parse_palette(act, ".act").shape == (256, 3)


def test_png_palette_or_distinct_colours(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([10, 20, 30, 40, 50, 60, 70, 80, 90])
    im.putdata([2, 0, 1])
    im.save(tmp_path / "p.png")
    assert read_palette(tmp_path / "p.png").tolist() == [[10, 20, 30], [40, 50, 60], [70, 80, 90]]
    rgb = np.array([[[5, 5, 5], [1, 2, 3], [5, 5, 5]]], np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert read_palette(tmp_path / "rgb.png").tolist() == [[5, 5, 5], [1, 2, 3]]
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    with pytest.raises(ImageError, match="at most 256"):
        read_palette(tmp_path / "noise.png")


@pytest.mark.parametrize("ext, data, line", [
    (".gpl", b"GIMP Palette\nName: x\n1 2 3\n4 5\n", 4),
    (".gpl", b"GIMP Palette\n1 2 3\n300 0 0 big\n", 3),
    (".gpl", b"Not a palette\n1 2 3\n", 1),
    (".pal", b"JASC-PAL\n0100\n2\n1 2 3\nx y z\n", 5),
    (".pal", b"JASC-PAL\n0200\n1\n1 2 3\n", 2),
    (".pal", b"JASC-PAL\n0100\n3\n1 2 3\n4 5 6\n", 3),
    (".txt", b";comment\nFF00FF00\nFF00FF\n", 3),
    (".hex", b"ff0000\n00ff00\nbanana\n", 3),
])
def test_malformed_text_files_name_the_line(ext, data, line):
    with pytest.raises(ImageError) as caught:
        parse_palette(data, ext, "bad" + ext)
    message = str(caught.value)
    assert f"bad{ext}, line {line}:" in message
    assert "\n" not in message


def test_malformed_binary_and_empty_files(tmp_path):
    with pytest.raises(ImageError, match="768 or 772 bytes"):
        parse_palette(bytes(100), ".act")
    with pytest.raises(ImageError, match="no colours"):
        parse_palette(b"\n\n", ".hex")
    with pytest.raises(ImageError, match="not a readable PNG"):
        parse_palette(b"garbage", ".png")
    with pytest.raises(ImageError, match="unknown palette format"):
        read_palette(tmp_path / "p.doc")
    with pytest.raises(ImageError, match="no such file"):
        read_palette(tmp_path / "missing.gpl")
    with pytest.raises(ImageError, match="at most 256"):
        parse_palette(b"".join(b"%06x\n" % i for i in range(257)), ".hex")


def test_colour_lists():
    assert parse_colors("#c0392b,#ffffff").tolist() == [[192, 57, 43], [255, 255, 255]]
    assert parse_colors("fff 000").tolist() == [[255, 255, 255], [0, 0, 0]]
    with pytest.raises(ValueError, match="not a colour"):
        parse_colors("#12345g")
