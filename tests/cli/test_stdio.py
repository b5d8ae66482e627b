""""-" for standard input and output, so kmeans-compress fits in a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .helpers import cli_env, run_cli, run_main, write_photo


def pipe(*args, stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmeans_gui.cli", *map(str, args)],
                          input=stdin, capture_output=True, cwd=cwd, env=cli_env(),
                          timeout=120)


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "P"
        return np.asarray(image.convert("RGB"))


def test_standard_input_to_standard_output(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "p.png", 80, 60)
    proc = pipe("-k", "8", "--seed", "1", "-", stdin=photo.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert "k=8" in proc.stderr.decode()  # the report moves to standard error
    assert run_cli(photo, "-k", "8", "--seed", "1", "-o", tmp_path / "file.png").returncode == 0
    assert np.array_equal(decoded(proc.stdout), decoded((tmp_path / "file.png").read_bytes()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.png", "p.png"]


def test_file_to_standard_output_with_json_report(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "p.png")
    proc = pipe(photo, "-o", "-", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"\x89PNG") and b'"ok": true' in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def test_standard_input_to_a_file_and_bad_input(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "p.png")
    proc = pipe("-", "-o", tmp_path / "out.png", stdin=photo.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert decoded((tmp_path / "out.png").read_bytes()).shape == (48, 64, 3)
    proc = pipe("-", "-o", tmp_path / "bad.png", stdin=b"not an image")
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == "-: not an image format this program can read"
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("args, message", [
    (["-", "other.png"], "must be the only INPUT"),
    (["-", "--out-dir", "x"], "use -o FILE"),
    (["a.png", "b.png", "-o", "-"], "single INPUT"),
])
def test_standard_input_rules(tmp_path: Path, capsys, args, message) -> None:
    code, _, err = run_main(*args, capsys=capsys)
    assert code == 2 and message in err


def test_a_file_named_dash_is_still_a_file(tmp_path: Path) -> None:
    write_photo(tmp_path / "-", format="PNG")
    proc = pipe("./-", "-o", "./out.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.png").exists()
    assert b"/- -> out.png" in proc.stdout  # the report, not PNG data


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_png_data_onto_a_terminal(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "p.png")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "kmeans_gui.cli", str(photo), "-o", "-"],
                              stdout=follower, stderr=subprocess.PIPE, env=cli_env(),
                              timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert b"refusing to write PNG data to a terminal" in proc.stderr
