"""The same seed gives byte-identical files, in one process or many."""

from __future__ import annotations

from pathlib import Path

from .helpers import run_cli, run_main, write_photo


def test_same_seed_same_bytes(tmp_path: Path, capsys) -> None:
    photo = write_photo(tmp_path / "p.png", 120, 90)
    outputs = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        target = tmp_path / f"{name}.png"
        code, out, err = run_main(photo, "-k", "24", "--init", "random", "--seed", seed,
                                  "-o", target, capsys=capsys)
        assert code == 0, err
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]  # the seed really is used


def test_parallel_batch_equals_serial(tmp_path: Path) -> None:
    inputs = [write_photo(tmp_path / f"p{i}.png", 70, 50, seed=i) for i in range(3)]
    serial = run_cli(*inputs, "--seed", "3", "--suffix=-serial", "--jobs", "1", "--dither", "fs")
    parallel = run_cli(*inputs, "--seed", "3", "--suffix=-par", "--jobs", "2", "--dither", "fs")
    assert serial.returncode == parallel.returncode == 0, serial.stderr + parallel.stderr
    for source in inputs:
        a = source.with_name(f"{source.stem}-serial.png").read_bytes()
        b = source.with_name(f"{source.stem}-par.png").read_bytes()
        assert a == b
