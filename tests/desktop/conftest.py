"""Helpers for the tests that start the app on a real X server (Xvfb) or
against a machine that lacks some system libraries.

Nothing here imports Qt: every app runs in its own process, with an
environment made from scratch (the suite's QT_QPA_PLATFORM=offscreen must
not leak in).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BIN = Path(sys.executable).parent  # the environment's kmeans-gui and kmeans-compress

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="X11 and ELF libraries: Linux only")


def require_tool(name: str, debian_package: str) -> str:
    """A tool CI installs (.ci/run): missing is a broken setup, not a skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {debian_package} (.ci/run does)")
    return path


def desktop_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A person's session as a fresh account would have it: a new HOME and
    runtime folder, no Qt platform chosen, no display unless given."""
    home, runtime = tmp / "home", tmp / "runtime"
    home.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_RUNTIME_DIR": str(runtime), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def xvfb(tmp_path_factory):
    """DISPLAY of an Xvfb server for the session; it picks a free display
    number itself (-displayfd) and is stopped at the end."""
    if not sys.platform.startswith("linux"):
        pytest.skip("X11: Linux only")
    exe = require_tool("Xvfb", "xvfb")
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    read_end, write_end = os.pipe()
    with open(log, "wb") as err:
        server = subprocess.Popen(
            [exe, "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    os.close(write_end)
    number = b""
    deadline = time.monotonic() + 30
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(read_end, 32) if ready else b""
        if not chunk:
            break
        number += chunk
    os.close(read_end)
    try:
        if not number.strip().isdigit():
            pytest.fail(f"Xvfb did not start: {log.read_text(errors='replace')[-500:]}")
        yield f":{int(number)}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def visible_window(display: str, pid: int) -> str | None:
    """Title of a visible top-level window of process ``pid``, if any."""
    xdotool = require_tool("xdotool", "xdotool")
    env = {"PATH": os.environ.get("PATH", ""), "DISPLAY": display}
    found = subprocess.run([xdotool, "search", "--onlyvisible", "--pid", str(pid)],
                           capture_output=True, text=True, timeout=10, env=env)
    for window in found.stdout.split():
        name = subprocess.run([xdotool, "getwindowname", window], capture_output=True,
                              text=True, timeout=10, env=env)
        if name.returncode == 0:
            return name.stdout.strip()
    return None


def make_photo(path: Path, width: int = 400, height: int = 300) -> Path:
    """A small photo-like RGB image: smooth colour ramps plus noise."""
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(7)
    ramps = np.stack([x * 255 // (width - 1), y * 255 // (height - 1),
                      (x + y) * 255 // (width + height - 2)], axis=-1)
    pixels = np.clip(ramps + rng.integers(-12, 13, ramps.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def hidden_libraries_command(libraries: list[str], command: list[str]) -> list[str] | None:
    """``command`` in a private mount namespace in which the system's copies
    of ``libraries`` read as empty files (the loader then cannot use them:
    the machine is as if they were not installed), or None when this
    machine does not allow such a namespace. Nothing outside the namespace
    changes."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    mounts = []
    for name in libraries:
        for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu"):
            if os.path.exists(os.path.join(folder, name)):
                mounts.append(os.path.realpath(os.path.join(folder, name)))
                break
    if len(mounts) != len(libraries):
        return None
    script = " && ".join(f"mount --bind /dev/null '{path}'" for path in mounts) + ' && exec "$@"'
    flags = ["--mount"] if os.geteuid() == 0 else ["--map-root-user", "--mount"]
    probe = subprocess.run([unshare, *flags, "sh", "-c", script, "sh", "true"],
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        return None
    return [unshare, *flags, "sh", "-c", script, "sh", *command]
