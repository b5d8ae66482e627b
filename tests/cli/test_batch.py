"""Many inputs in worker processes: failures are per file, the rest still written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import run_cli, run_main, stray_files, write_photo


@pytest.fixture
def batch(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    good = [write_photo(tmp_path / f"good{i}.png", seed=i) for i in range(3)]
    good.append(write_photo(tmp_path / "good3.jpg", seed=3, quality=90))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good[0].read_bytes()[:300])
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not an image")
    return good, [truncated, not_image, tmp_path / "no such folder" / "missing.png"]


@pytest.mark.parametrize("jobs", ["2", "1"])
def test_corrupt_files_fail_alone(batch, tmp_path: Path, jobs: str) -> None:
    good, bad = batch
    inputs = [good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3]]
    proc = run_cli(*inputs, "-k", "8", "--jobs", jobs)
    assert proc.returncode == 1, proc.stderr
    for source in good:
        assert source.with_name(f"{source.stem}-k8.png").is_file()
    for source in bad:
        assert not source.with_name(f"{source.stem}-k8.png").exists()
    errors = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert sorted(line.split(": ", 1)[0] for line in errors) == sorted(map(str, bad))
    reasons = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in errors}
    assert "damaged or truncated" in reasons[str(bad[0])]
    assert "not an image" in reasons[str(bad[1])]
    assert "not found" in reasons[str(bad[2])]
    reported = [line.split(" -> ", 1)[0] for line in proc.stdout.strip().splitlines()]
    assert sorted(reported) == sorted(map(str, good))
    assert stray_files(tmp_path) == []


def test_batch_json_has_one_line_per_input(batch, capsys) -> None:
    good, bad = batch
    code, out, err = run_main(*good, *bad, "--json", "--jobs", "1", capsys=capsys)
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["input"] for r in records) == sorted(map(str, good + bad))
    assert {r["input"] for r in records if r["ok"]} == set(map(str, good))
    assert all(r["error"] for r in records if not r["ok"])


def test_input_named_twice_is_done_once(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, photo, "--jobs", "1", capsys=capsys)
    assert code == 0, err
    assert len(out.splitlines()) == 1
