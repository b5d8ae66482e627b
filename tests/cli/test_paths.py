"""File names with spaces and non-ASCII characters, as arguments and in reports."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import run_cli, write_photo


def test_non_ascii_and_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "Фото и отпуск 2024"
    folder.mkdir()
    inputs = [write_photo(folder / "été à la plage.png", seed=1),
              write_photo(folder / "写真 1.jpg", seed=2)]
    out_dir = tmp_path / "résultats finaux"
    proc = run_cli(*inputs, "-k", "5", "--json", "--out-dir", out_dir, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    records = {json.loads(line)["input"]: json.loads(line) for line in proc.stdout.splitlines()}
    assert set(records) == set(map(str, inputs))
    expected = sorted(["写真 1-k5.png", "été à la plage-k5.png"])
    assert sorted(p.name for p in out_dir.iterdir()) == expected
    assert records[str(inputs[1])]["output"] == str(out_dir / "写真 1-k5.png")


def test_non_ascii_failure_message(tmp_path: Path) -> None:
    broken = tmp_path / "страница с ошибкой.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    proc = run_cli(broken)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{broken}: ")
    assert "Traceback" not in proc.stderr
