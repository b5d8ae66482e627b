"""What kmeans-compress loads: only what the work in hand needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from kmeans_gui.cli import main
code = main(sys.argv[1:])
print(sorted(name for name in ("numpy", "PIL", "importlib.metadata", "PySide6")
             if name in sys.modules))
sys.exit(code)
"""


def loaded(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout.strip().splitlines()[-1]


def test_version_loads_neither_numpy_nor_package_metadata() -> None:
    assert loaded("--version") == (0, "[]")


def test_an_8_bit_png_is_compressed_without_pillow(photo: Path) -> None:
    code, modules = loaded(str(photo), "-q", "-o", str(photo.with_name("out.png")))
    assert code == 0 and modules == "['numpy']"
    assert photo.with_name("out.png").stat().st_size > 0


def test_a_jpeg_still_goes_through_pillow(tmp_path: Path) -> None:
    from .helpers import write_photo
    jpeg = write_photo(tmp_path / "photo.jpg")
    code, modules = loaded(str(jpeg), "-q")
    assert code == 0 and modules == "['PIL', 'numpy']"


UNNEEDED = ("numpy.random", "concurrent.futures", "logging", "tempfile", "random", "json",
            "shutil", "hashlib")
PROBE_UNNEEDED = PROBE.replace('("numpy", "PIL", "importlib.metadata", "PySide6")',
                               repr(UNNEEDED))


def test_a_plain_run_skips_what_it_does_not_use(photo: Path, tmp_path: Path) -> None:
    # Each costs a small image's run milliseconds of CPU: seeding draws its
    # numbers natively, the thread pool is plain threads, the temporary file
    # is made with os.open, JSON and the terminal's width only when asked for,
    # hashlib (OpenSSL) only for an ICC profile the size of the sRGB one.
    out = tmp_path / "out.png"
    assert probe_output(PROBE_UNNEEDED, photo, out) == "[]"
    assert out.stat().st_size > 0


def probe_output(probe: str, photo: Path, out: Path) -> str:
    """The last line a probe prints around a run compressing ``photo`` to ``out``."""
    proc = subprocess.run([sys.executable, "-c", probe, str(photo), "-q", "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_the_command_leaves_early_with_its_output_complete(photo: Path, tmp_path: Path) -> None:
    # run() ends the process with os._exit once main has returned: the PNG on
    # standard output is still whole, the report on stderr too, and the exit
    # status is main's.
    from kmeans_gui.cli import main

    from .helpers import cli_env

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "kmeans_gui.cli", *map(str, args)],
                              capture_output=True, timeout=120, env=cli_env())

    proc = cli(photo, "-k", "8", "-o", "-", "--seed", "3")
    assert proc.returncode == 0
    expected = tmp_path / "expected.png"
    assert main([str(photo), "-k", "8", "-o", str(expected), "--seed", "3", "-q"]) == 0
    assert proc.stdout == expected.read_bytes()
    assert b"colours=" in proc.stderr
    failed = cli(tmp_path / "missing.png", "-o", tmp_path / "x.png")
    assert failed.returncode == 1 and b"missing.png" in failed.stderr
    assert cli("--no-such-option").returncode == 2


# What is loaded when the reading thread starts, and what it loads to unfilter:
# each of these costs milliseconds before the first row is decoded.
BEFORE_READING = ("typing", "pathlib", "argparse", "importlib.abc", "numpy")
PROBE_READING = f"""
import sys, threading
seen = []
real_start = threading.Thread.start
def start(self):
    if not seen:
        seen.append(sorted(name for name in {BEFORE_READING!r} if name in sys.modules))
    real_start(self)
threading.Thread.start = start
from kmeans_gui.cli import main
code = main(sys.argv[1:])
print(seen[0] if seen else "no thread")
sys.exit(code)
"""


def test_the_reading_thread_starts_before_the_slow_imports(photo: Path, tmp_path: Path) -> None:
    assert probe_output(PROBE_READING, photo, tmp_path / "out.png") == "[]"


def test_the_unfilter_kernel_loads_without_typing_or_pathlib() -> None:
    # The reading thread imports it while the main thread imports the rest.
    probe = ("import sys; import kmeans_gui.core._native.unfilter; "
             f"print(sorted(n for n in {BEFORE_READING!r} if n in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
