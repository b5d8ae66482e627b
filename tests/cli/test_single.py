"""One image through the real entry point: naming, report line, what is written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from .helpers import run_main, write_photo


def palette_png(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def test_default_output_is_name_kK_beside_the_input(photo: Path, capsys) -> None:
    before = photo.read_bytes()
    code, out, err = run_main(photo, "-k", "8", capsys=capsys)
    assert code == 0, err
    output = photo.with_name("photo-k8.png")
    image = palette_png(output)
    assert image.mode == "P"
    assert len(np.unique(np.asarray(image))) <= 8
    assert image.size == (64, 48)
    assert photo.read_bytes() == before  # the input is untouched
    assert sorted(p.name for p in photo.parent.iterdir()) == ["photo-k8.png", "photo.png"]


def test_report_line_names_every_figure(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "-k", "6", capsys=capsys)
    assert code == 0
    output = photo.with_name("photo-k6.png")
    line = out.strip()
    assert "\n" not in line
    match = re.fullmatch(
        r"(.+) -> (.+): k=(\d+) colours=(\d+) iterations=(\d+) time=([\d.]+)s "
        r"bytes=(\d+)->(\d+) ratio=([\d.]+)", line)
    assert match, line
    source, target, k, used, iterations, seconds, in_bytes, out_bytes, ratio = match.groups()
    assert (source, target, k) == (str(photo), str(output), "6")
    assert 1 <= int(used) <= 6 and int(iterations) >= 1 and float(seconds) > 0
    assert int(in_bytes) == photo.stat().st_size
    assert int(out_bytes) == output.stat().st_size
    assert abs(float(ratio) - int(out_bytes) / int(in_bytes)) < 1e-3


def test_explicit_output_file(photo: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "elsewhere.png"
    code, out, err = run_main(photo, "-o", target, "-k", "4", capsys=capsys)
    assert code == 0, err
    assert len(palette_png(target).getpalette()) // 3 <= 4
    assert not photo.with_name("photo-k4.png").exists()


def test_out_dir_is_created_and_used(tmp_path: Path, capsys) -> None:
    a = write_photo(tmp_path / "a.jpg", seed=1)
    b = write_photo(tmp_path / "b.png", seed=2)
    out_dir = tmp_path / "out" / "nested"
    code, out, err = run_main(a, b, "--out-dir", out_dir, "--jobs", "1", capsys=capsys)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["a-k16.png", "b-k16.png"]
    assert not (tmp_path / "a-k16.png").exists()


def test_suffix_with_k_placeholder(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "-k", "3", "--suffix", ".q{k}", capsys=capsys)
    assert code == 0, err
    assert photo.with_name("photo.q3.png").is_file()


def test_quiet_prints_nothing_on_success(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "-q", capsys=capsys)
    assert (code, out, err) == (0, "", "")
    assert photo.with_name("photo-k16.png").is_file()


def test_efforts_write_the_same_pixels(photo: Path, capsys) -> None:
    decoded = []
    for effort in ("auto", "fast", "small"):
        code, out, err = run_main(photo, f"--suffix=-{effort}", "--effort", effort,
                                  capsys=capsys)
        assert code == 0, err
        image = palette_png(photo.with_name(f"photo-{effort}.png"))
        decoded.append(np.asarray(image.convert("RGB")))
    assert np.array_equal(decoded[0], decoded[1]) and np.array_equal(decoded[0], decoded[2])


def test_dithering_changes_the_result(tmp_path: Path, capsys) -> None:
    photo = write_photo(tmp_path / "p.png", 96, 64)
    assert run_main(photo, "-k", "4", "--dither", "none", "--suffix=-plain",
                    capsys=capsys)[0] == 0
    assert run_main(photo, "-k", "4", "--dither", "fs", "--suffix=-fs",
                    capsys=capsys)[0] == 0
    plain = np.asarray(palette_png(tmp_path / "p-plain.png").convert("RGB"))
    dithered = np.asarray(palette_png(tmp_path / "p-fs.png").convert("RGB"))
    assert not np.array_equal(plain, dithered)


def test_transparency_survives(tmp_path: Path, capsys) -> None:
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[..., 0] = np.arange(32)[None, :] * 8
    pixels[..., 3] = 255
    pixels[:8, :8, 3] = 0
    source = tmp_path / "alpha.png"
    Image.fromarray(pixels, "RGBA").save(source)
    code, out, err = run_main(source, "-k", "4", capsys=capsys)
    assert code == 0, err
    result = np.asarray(Image.open(tmp_path / "alpha-k4.png").convert("RGBA"))
    assert (result[:8, :8, 3] == 0).all() and (result[8:, 8:, 3] == 255).all()
