"""The progress bar: drawn on a terminal for long work, absent otherwise."""

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

from kmeans_gui.cli.progress import ProgressBar

from .helpers import cli_env


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_in_place_and_clears() -> None:
    stream = FakeTerminal()
    bar = ProgressBar(stream, enabled=True, delay=0.0, interval=0.0)
    bar.update(0.5, "k-means iteration 3")
    drawn = stream.getvalue()
    assert drawn.startswith("\r[") and "50%" in drawn and "k-means iteration 3" in drawn
    assert "\n" not in drawn
    bar.clear()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_bar_waits_before_showing_and_can_be_off() -> None:
    stream = FakeTerminal()
    ProgressBar(stream, enabled=True, delay=60.0).update(0.3, "quick")
    ProgressBar(stream, enabled=False, delay=0.0).update(0.3, "off")
    assert stream.getvalue() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("extra", [[], ["--quiet"]], ids=["terminal", "quiet"])
def test_long_single_image_shows_iterations_on_a_terminal(tmp_path: Path, extra) -> None:
    rng = np.random.default_rng(1)
    source = tmp_path / "noise.png"
    # Noise settles slowly on the colour groups themselves (k below the
    # OKLab grid's, which converges on noise in well under a second): the
    # 300 iterations take about 2 s, well past the bar's 0.5 s delay.
    Image.fromarray(rng.integers(0, 256, (1500, 1500, 3), dtype=np.uint8)).save(
        source, compress_level=0)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kmeans_gui.cli", str(source), "-k", "127", "--tol", "0",
             "--max-iter", "300", *extra],
            stdout=subprocess.DEVNULL, stderr=follower, env=cli_env())
        os.close(follower)
        chunks = []
        while True:  # read as it comes, so a full terminal buffer never blocks the run
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the command exited and the terminal closed
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    finally:
        os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    if extra:
        assert terminal == ""
    else:
        assert "k-means iteration" in terminal and "%" in terminal
        assert terminal.endswith("\r\x1b[K")  # the bar is gone at the end
