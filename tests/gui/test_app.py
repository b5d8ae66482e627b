"""The entry point's --self-test, as the packaging checks run it."""

from __future__ import annotations

import os
import subprocess
import sys


def _self_test(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "kmeans_gui", "--self-test", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_self_test_passes_on_the_sample():
    done = _self_test()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("self-test ok: sample.png 451x300 k=16")
    assert "PNG mode P" in lines[0]


def test_self_test_fails_on_a_bad_file(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    done = _self_test(str(bad))
    assert done.returncode == 1
    assert "self-test FAILED" in done.stderr and "notes.png" in done.stderr
