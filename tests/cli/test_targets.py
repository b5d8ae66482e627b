"""--max-delta-e, --max-size and --quality: targets that choose k; exit 99 on a miss."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.cli.targets import QUALITY_TABLE, parse_quality, parse_size, quality_to_delta_e
from kmeans_gui.core.kscan import delta_e_of

from .helpers import photo_pixels, run_main, write_photo


def decoded(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def record_of(out: str) -> dict:
    (line,) = out.splitlines()
    return json.loads(line)


def test_max_delta_e_writes_the_smallest_k_meeting_it(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "--max-delta-e", "3", "--json", capsys=capsys)
    assert code == 0, err
    record = record_of(out)
    output = photo.with_name("photo-de3.png")
    assert record["output"] == str(output) and record["ok"]
    assert record["output_bytes"] == output.stat().st_size
    assert record["delta_e"] <= 3
    pixels = photo_pixels(64, 48)
    assert delta_e_of(pixels, decoded(output)) == pytest.approx(record["delta_e"], abs=1e-4)
    with Image.open(output) as im:
        assert len(im.getpalette()) // 3 <= record["k"]
    # One colour fewer misses the goal (the same run with -k says so).
    code, _, _ = run_main(photo, "-k", str(record["k"] - 1), "-o", photo.with_name("less.png"),
                          capsys=capsys)
    assert code == 0
    assert delta_e_of(pixels, decoded(photo.with_name("less.png"))) > 3 * 0.97


def test_max_size_writes_the_largest_k_that_fits(tmp_path: Path, capsys) -> None:
    photo = write_photo(tmp_path / "photo.png", 96, 80)
    code, out, err = run_main(photo, "--max-size", "6K", "--json", capsys=capsys)
    assert code == 0, err
    record = record_of(out)
    output = tmp_path / "photo-max6K.png"
    assert output.stat().st_size == record["output_bytes"] <= 6 * 1024
    assert 2 <= record["k"] < 256 and "delta_e" in record
    text_code, text, _ = run_main(photo, "--max-size", "6144", "--suffix=-b", capsys=capsys)
    assert text_code == 0 and f"k={record['k']}" in text and "deltaE=" in text


@pytest.mark.parametrize("target", [("--max-size", "6K"), ("--max-delta-e", "3")])
def test_a_targets_file_is_the_one_its_k_gives(tmp_path: Path, target, capsys) -> None:
    # The chosen k is reported so that it can be reused: -k with it must
    # write the very file the search verified against the target.
    photo = write_photo(tmp_path / "photo.png", 96, 80)
    code, out, err = run_main(photo, *target, "-o", tmp_path / "target.png", "--json",
                              capsys=capsys)
    assert code == 0, err
    k = record_of(out)["k"]
    code, _, err = run_main(photo, "-k", str(k), "-o", tmp_path / "fixed.png", capsys=capsys)
    assert code == 0, err
    assert (tmp_path / "target.png").read_bytes() == (tmp_path / "fixed.png").read_bytes()


def test_quality_uses_the_calibrated_mapping(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "--quality", "10-30", "--json", capsys=capsys)
    assert code == 0, err
    record = record_of(out)
    assert record["output"].endswith("photo-q10-30.png")
    assert record["delta_e"] <= quality_to_delta_e(30)


@pytest.mark.parametrize("args, words", [
    (["--max-size", "40"], "bytes"),
    (["--max-delta-e", "0.01"], "256"),
    (["--quality", "100-100"], "256"),
])
def test_a_missed_target_writes_nothing_and_exits_99(photo: Path, args, words,
                                                     capsys) -> None:
    code, out, err = run_main(photo, *args, capsys=capsys)
    assert code == 99
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"{photo}: target not met") and words in line
    assert sorted(p.name for p in photo.parent.iterdir()) == ["photo.png"]


def test_quality_min_accepts_the_best_when_max_is_out_of_reach(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "--quality", "0-100", "--json", capsys=capsys)
    assert code == 0, err
    assert record_of(out)["k"] == 256


def test_a_batch_with_one_miss_writes_the_rest_and_exits_99(tmp_path: Path, capsys) -> None:
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(flat)
    noisy = write_photo(tmp_path / "noisy.png", 64, 48)
    code, out, err = run_main(flat, noisy, "--max-delta-e", "0.05", "--jobs", "1",
                              "--json", capsys=capsys)
    assert code == 99
    records = {Path(r["input"]).name: r for r in map(json.loads, out.splitlines())}
    assert records["flat.png"]["ok"] and records["flat.png"]["delta_e"] == 0
    assert records["noisy.png"] == {"input": str(noisy),
                                    "output": str(tmp_path / "noisy-de0.05.png"),
                                    "ok": False, "missed": True,
                                    "error": records["noisy.png"]["error"]}
    assert (tmp_path / "flat-de0.05.png").exists()
    assert not (tmp_path / "noisy-de0.05.png").exists()


@pytest.mark.parametrize("args, words", [
    (["-k", "8", "--max-delta-e", "2"], "-k and a target"),
    (["-k", "16", "--quality", "60-80"], "-k and a target"),
    (["--max-size", "10K", "--max-delta-e", "2"], "not allowed with"),
    (["--max-size", "lots"], "200K"),
    (["--max-size", "0"], "at least 1 byte"),
    (["--max-delta-e", "-1"], "above 0"),
    (["--max-delta-e", "nan"], "above 0"),
    (["--quality", "80-60"], "MIN must not exceed MAX"),
    (["--quality", "50-120"], "0-100"),
    (["--quality", "high"], "MIN-MAX"),
    (["--max-delta-e", "2", "--suffix=-k{k}"], "{k}"),
])
def test_target_argument_errors_exit_2(photo: Path, args, words, capsys) -> None:
    code, out, err = run_main(photo, *args, capsys=capsys)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert sorted(p.name for p in photo.parent.iterdir()) == ["photo.png"]


def test_size_and_quality_parsing() -> None:
    assert parse_size("200K") == 200 * 1024
    assert parse_size("1.5M") == int(1.5 * 1024 * 1024)
    assert parse_size("90000") == 90000
    assert parse_size("64kB") == parse_size("64KiB") == 64 * 1024
    assert parse_quality("60-80") == (60, 80)
    assert parse_quality("80") == (0, 80)
    assert parse_quality("-80") == (0, 80)
    assert parse_quality("60-") == (60, 100)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size("1.5X")


def test_quality_mapping_follows_the_table_and_falls_with_quality() -> None:
    for q, figure in QUALITY_TABLE:
        assert quality_to_delta_e(q) == pytest.approx(figure)
    values = [quality_to_delta_e(q) for q in range(0, 101)]
    assert all(b < a for a, b in zip(values, values[1:], strict=False))
    assert quality_to_delta_e(100) == 0
