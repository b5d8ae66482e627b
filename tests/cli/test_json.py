"""--json: one parseable object per image with the same figures as the text line."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import run_cli, write_photo


def test_json_lines_parse_and_match_the_files(tmp_path: Path) -> None:
    inputs = [write_photo(tmp_path / f"in{i}.png", 80, 60, seed=i) for i in range(3)]
    proc = run_cli(*inputs, "-k", "12", "--json", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(r["input"] for r in records) == sorted(map(str, inputs))
    for record in records:
        source, output = Path(record["input"]), Path(record["output"])
        assert output == source.with_name(f"{source.stem}-k12.png")
        assert record["ok"] is True and record["k"] == 12
        assert 1 <= record["colors_used"] <= 12
        assert record["iterations"] >= 1 and record["seconds"] > 0
        assert record["input_bytes"] == source.stat().st_size
        assert record["output_bytes"] == output.stat().st_size
        assert abs(record["ratio"] - record["output_bytes"] / record["input_bytes"]) < 1e-5
        assert (record["width"], record["height"]) == (80, 60)


def test_json_failure_record(tmp_path: Path) -> None:
    proc = run_cli(tmp_path / "nothing.png", "--json")
    assert proc.returncode == 1
    record = json.loads(proc.stdout)
    assert record == {"input": str(tmp_path / "nothing.png"),
                      "output": str(tmp_path / "nothing-k16.png"),
                      "ok": False, "error": "file not found"}
    assert proc.stderr == f"{tmp_path / 'nothing.png'}: file not found\n"
