"""--keep, --palette, --importance and --export-palette."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import read_palette

from .helpers import photo_pixels, run_main


def png_palette(path: Path) -> list[tuple[int, int, int]]:
    with Image.open(path) as im:
        assert im.mode == "P"
        flat = im.getpalette()
    return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]


def test_keep_colours_are_exact_in_the_file(photo: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.png"
    code, stdout, err = run_main(photo, "-k", "6", "--keep", "#c0392b,#fff", "-o", out,
                                 "--json", capsys=capsys)
    assert code == 0, err
    palette = png_palette(out)
    assert len(palette) <= 6
    assert {(192, 57, 43), (255, 255, 255)} <= set(palette)
    record = json.loads(stdout)
    assert record["keep"] == ["#c0392b", "#ffffff"]


def test_keep_reads_a_palette_file(photo: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "keep.hex").write_text("123456\nabcdef\n")
    out = tmp_path / "out.png"
    code, _, err = run_main(photo, "-k", "8", "--keep", tmp_path / "keep.hex", "-o", out,
                            capsys=capsys)
    assert code == 0, err
    assert {(0x12, 0x34, 0x56), (0xab, 0xcd, 0xef)} <= set(png_palette(out))


def test_palette_maps_to_exactly_that_palette_in_order(photo: Path, tmp_path: Path,
                                                       capsys) -> None:
    colours = [(250, 10, 10), (0, 0, 0), (255, 255, 255), (10, 200, 30), (40, 40, 220)]
    gpl = tmp_path / "five.gpl"
    gpl.write_text("GIMP Palette\n" + "".join(f"{r} {g} {b}\n" for r, g, b in colours))
    out = tmp_path / "out.png"
    code, stdout, err = run_main(photo, "--palette", gpl, "-o", out, "--json", capsys=capsys)
    assert code == 0, err
    assert png_palette(out) == colours
    record = json.loads(stdout)
    assert record["palette_file"] == str(gpl) and record["k"] == 5


def test_palette_size_names_the_output(photo: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "p.hex").write_text("000000\nffffff\n808080\n")
    code, _, err = run_main(photo, "--palette", tmp_path / "p.hex", capsys=capsys)
    assert code == 0, err
    assert png_palette(photo.with_name("photo-k3.png")) == [(0, 0, 0), (255, 255, 255),
                                                            (128, 128, 128)]


def test_palette_refuses_k_and_keep(photo: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "p.hex").write_text("000000\n")
    code, _, err = run_main(photo, "--palette", tmp_path / "p.hex", "-k", "4", capsys=capsys)
    assert code == 2 and "drop -k" in err
    code, _, err = run_main(photo, "--palette", tmp_path / "p.hex", "--keep", "#fff",
                            capsys=capsys)
    assert code == 2 and "drop --keep" in err
    code, _, err = run_main(photo, "--palette", tmp_path / "p.hex", "--importance", photo,
                            capsys=capsys)
    assert code == 2 and "drop one" in err


def test_bad_palette_file_is_one_line_naming_the_line(photo: Path, tmp_path: Path,
                                                      capsys) -> None:
    bad = tmp_path / "bad.gpl"
    bad.write_text("GIMP Palette\n1 2 3\nred green blue\n")
    code, _, err = run_main(photo, "--palette", bad, capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and "bad.gpl, line 3" in err
    assert not any(p.name.endswith("-k16.png") for p in tmp_path.iterdir())


def test_bad_keep_value(photo: Path, capsys) -> None:
    code, _, err = run_main(photo, "--keep", "#12345z", capsys=capsys)
    assert code == 2 and "not a colour" in err and err.count("\n") == 1


def test_importance_mask_is_resized_and_reported(tmp_path: Path, capsys) -> None:
    # A large smooth image with a small, distinctly coloured patch: weighting
    # the patch must bring its error down.
    pixels = photo_pixels(120, 90, seed=3)
    pixels[40:50, 60:72] = (30, 200, 40) + np.random.default_rng(1).integers(
        -25, 25, (10, 12, 3))
    Image.fromarray(pixels).save(tmp_path / "in.png")
    mask = np.zeros((45, 60), np.uint8)  # half size: resized to the image
    mask[20:25, 30:36] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    code, stdout, err = run_main(tmp_path / "in.png", "-k", "4", "-o", tmp_path / "plain.png",
                                 "--dither", "none", capsys=capsys)
    assert code == 0, err
    code, stdout, err = run_main(tmp_path / "in.png", "-k", "4", "-o", tmp_path / "w.png",
                                 "--dither", "none", "--importance", tmp_path / "mask.png",
                                 "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(stdout)["importance"] == str(tmp_path / "mask.png")

    def patch_error(name):
        with Image.open(tmp_path / name) as im:
            got = np.asarray(im.convert("RGB")).astype(float)
        return np.abs(got[40:50, 60:72] - pixels[40:50, 60:72]).mean()

    assert patch_error("w.png") < 0.8 * patch_error("plain.png")


def test_bad_importance_mask(photo: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_main(photo, "--importance", tmp_path / "none.png", capsys=capsys)
    assert code == 2 and "no such file" in err
    (tmp_path / "text.png").write_text("not an image")
    code, _, err = run_main(photo, "--importance", tmp_path / "text.png", capsys=capsys)
    assert code == 1 and "importance mask text.png: not an image file" in err
    assert err.count("\n") == 1


def test_export_palette_every_format(photo: Path, tmp_path: Path, capsys) -> None:
    for ext in (".gpl", ".pal", ".txt", ".hex", ".act", ".png"):
        out = tmp_path / f"out{ext}.png"
        target = tmp_path / f"palette{ext}"
        code, stdout, err = run_main(photo, "-k", "5", "-o", out, "--export-palette", target,
                                     "--json", capsys=capsys)
        assert code == 0, err
        assert read_palette(target).tolist() == [list(c) for c in png_palette(out)]
        assert json.loads(stdout)["exported_palette"] == str(target)


def test_export_palette_refusals(photo: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_main(photo, "--export-palette", tmp_path / "p.doc", capsys=capsys)
    assert code == 2 and "unknown palette format" in err
    code, _, err = run_main(photo, photo, "--export-palette", tmp_path / "p.gpl",
                            "--out-dir", tmp_path / "o", capsys=capsys)
    assert code == 2 and "single INPUT" in err
    (tmp_path / "p.gpl").write_text("keep me")
    code, _, err = run_main(photo, "--export-palette", tmp_path / "p.gpl", capsys=capsys)
    assert code == 2 and "exists" in err
    assert (tmp_path / "p.gpl").read_text() == "keep me"
