"""Ctrl-C mid-run: exit status 130, no traceback, no partial or temporary files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .helpers import cli_env, stray_files

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: Settings that keep K-Means busy for many seconds on random noise: a k
#: below the OKLab grid's (which converges on noise in a few seconds), on
#: every colour group, with no tolerance.
SLOW = ["-k", "127", "--tol", "0", "--max-iter", "1000"]


def noise_image(path: Path, side: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
        path, compress_level=0)
    return path


def as_from_a_terminal() -> None:
    """In the child: the stop signals' default handling, as a terminal gives a
    command. Run from a background job of a script, the tests would otherwise
    hand down an ignored SIGINT, which the command rightly keeps ignoring."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def start(*args: str | os.PathLike) -> subprocess.Popen:
    # A session of its own, like a shell job: killpg then reaches every worker
    # exactly as a Ctrl-C in a terminal does.
    return subprocess.Popen([sys.executable, "-m", "kmeans_gui.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(), start_new_session=True,
                            preexec_fn=as_from_a_terminal)


def interrupt_mid_run(proc: subprocess.Popen, *, group: bool,
                      signum: int = signal.SIGINT) -> tuple[str, str]:
    time.sleep(3.0)  # past start-up (about 1.5 s) and well inside the K-Means work
    assert proc.poll() is None, "the run ended before it could be interrupted"
    if group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    try:
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    return out, err


def assert_clean(folder: Path, inputs: list[Path], err: str) -> None:
    assert "Traceback" not in err, err
    assert err.strip().endswith("interrupted")
    assert stray_files(folder) == []
    for path in folder.iterdir():
        if path not in inputs:  # any output there must be a whole PNG
            with Image.open(path) as image:
                image.load()


def test_single_image(tmp_path: Path) -> None:
    # 4000 px noise runs about 6 s on an idle 2-core machine (3000 px: under
    # 4 s, too close to the interrupt at 3 s).
    source = noise_image(tmp_path / "noise.png", 4000)
    proc = start(source, *SLOW)
    out, err = interrupt_mid_run(proc, group=False)
    assert proc.returncode == 130
    assert_clean(tmp_path, [source], err)
    assert not (tmp_path / "noise-k127.png").exists()


@pytest.mark.parametrize("group", [True, False], ids=["terminal", "parent-only"])
def test_parallel_batch(tmp_path: Path, group: bool) -> None:
    # 3000 px: two 1500 px images on one thread each ended after 4-5 s, too
    # close to the interrupt at 3 s for a test that must not flake.
    inputs = [noise_image(tmp_path / f"noise{i}.png", 3000, seed=i) for i in range(3)]
    proc = start(*inputs, *SLOW, "--jobs", "2")
    out, err = interrupt_mid_run(proc, group=group)
    assert proc.returncode == 130
    assert_clean(tmp_path, inputs, err)
    # No worker may outlive the command.
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_sigterm_stops_as_cleanly(tmp_path: Path) -> None:
    inputs = [noise_image(tmp_path / f"noise{i}.png", 3000, seed=i) for i in range(2)]
    proc = start(*inputs, *SLOW, "--jobs", "2")
    out, err = interrupt_mid_run(proc, group=False, signum=signal.SIGTERM)
    assert proc.returncode == 128 + signal.SIGTERM
    assert_clean(tmp_path, inputs, err)


def test_a_stop_during_the_imports_waits_for_them_to_finish() -> None:
    """A KeyboardInterrupt raised inside an extension's import (numpy's) comes
    out as an ImportError with pages of advice: the deferred section only
    records the signal and raises once it is left."""
    from kmeans_gui.cli import interrupts

    previous = interrupts.install()
    try:
        reached_end = False
        with pytest.raises(KeyboardInterrupt), interrupts.job():
            with interrupts.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):  # Python code runs: the handler has had its turn
                    time.sleep(0)
                assert interrupts.requested()
                reached_end = True
        assert reached_end
        assert interrupts.exit_status() == 128 + signal.SIGTERM
    finally:
        interrupts.restore(previous)


#: A pool of two workers given one job that takes a second to unwind after
#: its KeyboardInterrupt: the other worker waits for work meanwhile, holding
#: the call queue's read lock.
_IDLE_WORKER_POOL = r"""
import os, sys, time
from pathlib import Path
from types import SimpleNamespace
from kmeans_gui.cli import interrupts, runner

marker = Path(sys.argv[1])

def slow_to_stop(job, settings, **options):
    with interrupts.job():
        marker.write_text("started")
        try:
            while True:
                time.sleep(0.01)
        finally:
            time.sleep(1.0)  # cleaning up: the parent's signals arrive meanwhile

runner.compress = slow_to_stop
options = SimpleNamespace(force=False, effort="auto", max_pixels=None, importance=None,
                          target=None)
bar = SimpleNamespace(update=lambda *a: None)
interrupts.install()
stopped = runner._run_pool([SimpleNamespace(input=Path("none.png"))], None, options, 2,
                           lambda outcome: None, bar)
print("interrupted" if stopped else "finished", flush=True)
"""


def test_an_idle_worker_outlives_a_stop_signal_until_the_pool_ends(tmp_path: Path) -> None:
    """A worker waiting for work holds the call queue's read lock. It used to
    exit at once on the stop signal, holding it: the pool broke, and a worker
    still unwinding its interrupted job ignored the pool's SIGTERM (a second
    stop signal), then waited for that lock for ever, while the executor spun
    sending it sentinels that never fit. The idle worker now only records the
    stop; the pool's shutdown ends every worker."""
    marker = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, "-c", _IDLE_WORKER_POOL, str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(), start_new_session=True,
                            preexec_fn=as_from_a_terminal)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the other worker is waiting for work by now
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert out.strip() == "interrupted", err
    assert "Traceback" not in err, err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
