"""kmeans-compress under hostile input, races and signals (issue 12): no hang,
no clobbered file, no lost report."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kmeans_gui.cli import worker
from kmeans_gui.cli.options import parse
from kmeans_gui.cli.planning import plan
from kmeans_gui.core import ImageError, QuantizeSettings, write_atomic

from ..peak_memory import peak_mib
from ..png_craft import zeros_png
from .helpers import cli_env, run_cli, run_main, stray_files, write_photo
from .test_interrupt import SLOW, noise_image

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")


# ------------------------------------------------ 1: a named pipe as the input

@posix_only
def test_a_named_pipe_input_fails_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = run_cli(fifo, timeout=30)  # the bug: blocked opening the pipe, forever
    assert time.monotonic() - started < 20
    assert done.returncode == 1
    assert done.stderr == f"{fifo}: not a regular file\n"
    assert not (tmp_path / "p-k16.png").exists()


@posix_only
def test_a_device_input_is_not_a_regular_file(tmp_path: Path, capsys) -> None:
    code, out, err = run_main("/dev/null", "-o", tmp_path / "out.png", capsys=capsys)
    assert code == 1
    assert err == "/dev/null: not a regular file\n"


# ------------------------------------------ 4: --max-pixels, from the header

def test_max_pixels_refuses_from_the_header_in_bounded_memory(tmp_path: Path) -> None:
    small = zeros_png(tmp_path / "small.png", 100, 100)
    code, rest, err = peak_mib("-m", "kmeans_gui.cli", small, "-q", "--max-pixels", "1000000")
    assert code == 0, err
    big = zeros_png(tmp_path / "big.png", 8000, 5000)  # 40 MP: 120 MB decoded
    code, peak, err = peak_mib("-m", "kmeans_gui.cli", big, "--max-pixels", "1000000")
    assert code == 1
    assert err.strip() == (f"{big}: the image is too large (40 MP); "
                           "the limit is 1 megapixels")
    assert peak < rest + 40, f"{peak:.0f} MiB against {rest:.0f} MiB for a small image"
    assert not (tmp_path / "big-k16.png").exists()


def test_max_pixels_is_checked_and_documented(capsys) -> None:
    assert parse(["--max-pixels", "5000000", "a.png"]).max_pixels == 5_000_000
    assert parse(["a.png"]).max_pixels == 200_000_000
    for bad in ("0", "-3", "x", "1e99"):
        with pytest.raises(SystemExit):
            parse(["--max-pixels", bad, "a.png"])
    with pytest.raises(SystemExit):
        parse(["--help"])
    assert "200 megapixels" in " ".join(capsys.readouterr().out.split())


# ----------------------------------------------- 5: no clobbering, even racing

def test_racing_writers_never_replace_each_other(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    def write(i: int, barrier: threading.Barrier, won: list, lost: list) -> None:
        barrier.wait()
        try:
            write_atomic(target, b"writer %d" % i, overwrite=False)
            won.append(i)
        except ImageError as exc:
            lost.append(str(exc))

    for round_ in range(20):
        if target.exists():
            target.unlink()
        barrier = threading.Barrier(8)
        won, lost = [], []
        threads = [threading.Thread(target=write, args=(i, barrier, won, lost))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, (round_, won)
        assert target.read_bytes() == b"writer %d" % won[0]
        assert all("already exists" in why for why in lost)
    assert stray_files(tmp_path) == []


def test_an_output_appearing_after_the_last_check_is_kept(photo: Path, monkeypatch) -> None:
    """Another process creates the output just after the final existence check."""
    output = photo.with_name("photo-k16.png")
    checks = []
    real = worker.refusal

    def refusal_then_race(job, force):
        why = real(job, force)
        checks.append(why)
        if len(checks) == 2:  # the check just before writing
            output.write_bytes(b"the other run's result")
        return why

    monkeypatch.setattr(worker, "refusal", refusal_then_race)
    options = parse([str(photo)])
    [job] = plan(options)
    outcome = worker.compress(job, QuantizeSettings())
    assert not outcome.ok
    assert "already exists" in outcome.error
    assert output.read_bytes() == b"the other run's result"
    assert stray_files(photo.parent) == []


def test_without_hard_links_existing_files_are_still_kept(tmp_path: Path, monkeypatch) -> None:
    def no_links(src, dst, **kw):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.png"
    write_atomic(target, b"first", overwrite=False)
    assert target.read_bytes() == b"first"
    with pytest.raises(ImageError, match="already exists"):
        write_atomic(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"
    write_atomic(target, b"third", overwrite=True)
    assert target.read_bytes() == b"third"
    assert stray_files(tmp_path) == []


# --------------------------------------------- 6: outputs are regular files

@posix_only
def test_force_never_replaces_a_pipe_socket_or_link_to_one(photo: Path, capsys) -> None:
    fifo = photo.with_name("fifo.png")
    os.mkfifo(fifo)
    sock_path = photo.with_name("sock.png")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    link = photo.with_name("link.png")
    link.symlink_to(fifo)
    try:
        for target in (fifo, sock_path, link):
            code, out, err = run_main(photo, "-o", target, "--force", capsys=capsys)
            assert code == 1, target
            assert err == f"{photo}: {target} is not a regular file\n"
    finally:
        server.close()
    assert fifo.is_fifo() and link.is_symlink() and sock_path.is_socket()
    assert stray_files(photo.parent) == []


@posix_only
def test_the_core_writer_refuses_special_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    for overwrite in (False, True):
        with pytest.raises(ImageError, match="not a regular file"):
            write_atomic(fifo, b"data", overwrite=overwrite)
    assert fifo.is_fifo()
    with pytest.raises(ImageError, match="not a regular file"):
        write_atomic("/dev/null", b"data", overwrite=True)


# --------------------------------- 7: a dead worker fails its own image only

_DYING_WORKER = """\
import os, sys
from kmeans_gui.cli import main, runner
real = runner.compress
def compress(job, *args, **kwargs):
    if job.input.name == "poison.png":
        os._exit(9)  # as the kernel's out-of-memory killer would
    return real(job, *args, **kwargs)
runner.compress = compress
sys.exit(main(sys.argv[1:]))
"""


@posix_only
def test_a_dead_worker_fails_only_its_own_image(tmp_path: Path) -> None:
    inputs = [write_photo(tmp_path / f"img{i}.png", seed=i) for i in range(5)]
    poison = write_photo(tmp_path / "poison.png", 200, 150, seed=9)  # largest: first
    done = subprocess.run([sys.executable, "-c", _DYING_WORKER, *map(str, inputs), str(poison),
                           "-j", "2", "-q"], capture_output=True, text=True, timeout=120,
                          env=cli_env())
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"{poison}: the worker process stopped unexpectedly "
                           "(out of memory?)\n")
    for source in inputs:
        assert source.with_name(source.stem + "-k16.png").is_file()
    assert not (tmp_path / "poison-k16.png").exists()


# ------------------------------------- 11: an inherited SIG_IGN is respected

def _ignoring(*signums):
    def preexec() -> None:
        os.setsid()
        for signum in signums:
            signal.signal(signum, signal.SIG_IGN)
    return preexec


def _still_running_after(proc: subprocess.Popen, signum: int) -> bool:
    time.sleep(2.5)  # past start-up, inside the K-Means work
    os.killpg(proc.pid, signum)
    time.sleep(1.0)
    alive = proc.poll() is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=30)
    return alive


@posix_only
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_ignored_sigint_stays_ignored(tmp_path: Path, jobs: str) -> None:
    images = [noise_image(tmp_path / f"n{i}.png", 4000, seed=i) for i in range(2)]
    proc = subprocess.Popen([sys.executable, "-m", "kmeans_gui.cli", *map(str, images), *SLOW,
                             "-j", jobs], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(), preexec_fn=_ignoring(signal.SIGINT))
    assert _still_running_after(proc, signal.SIGINT)


@posix_only
def test_an_ignored_sigterm_stays_ignored(tmp_path: Path) -> None:
    image = noise_image(tmp_path / "n.png", 4000)  # about 6 s: alive at 3.5 s
    proc = subprocess.Popen([sys.executable, "-m", "kmeans_gui.cli", image, *SLOW],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
                            preexec_fn=_ignoring(signal.SIGTERM))
    assert _still_running_after(proc, signal.SIGTERM)


# ----------------------------------- 12: handlers in place before long work

def _catches(pid: int, signum: int) -> bool:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def _has_numpy(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as f:
        return "_multiarray_umath" in f.read()


def _started_until_it_catches_sigterm(args: list) -> subprocess.Popen:
    """``kmeans-compress ARGS``, returned once its SIGTERM handler is in place."""
    proc = subprocess.Popen([sys.executable, "-m", "kmeans_gui.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        deadline = time.monotonic() + 30
        while not _catches(proc.pid, signal.SIGTERM):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.0005)
    except BaseException:
        proc.kill()
        raise
    return proc


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_sigterm_is_handled_before_numpy_is_loaded(photo: Path) -> None:
    proc = _started_until_it_catches_sigterm([photo])
    try:
        early = not _has_numpy(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert early, "the SIGTERM handler came only after numpy was loaded"
    assert proc.returncode == 143
    assert err == "kmeans-compress: interrupted\n"
    assert not photo.with_name("photo-k16.png").exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_sigterm_at_any_moment_reports_the_interruption(tmp_path: Path) -> None:
    """From the moment the handler is in place (imports, planning, the run)."""
    noise = noise_image(tmp_path / "noise.png", 2000)  # about 3 s of work
    for delay in (0.0, 0.1, 0.3, 0.6, 1.0):
        proc = _started_until_it_catches_sigterm([noise, *SLOW])
        try:
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 143, (delay, err)
        assert err.endswith("kmeans-compress: interrupted\n"), (delay, err)
        assert "Traceback" not in err
    assert not (tmp_path / "noise-k16.png").exists()
    assert stray_files(tmp_path) == []


# ------------------------------------------------- 13: --suffix with a dash

def test_suffix_may_start_with_a_dash(photo: Path, capsys) -> None:
    assert parse(["--suffix", "-small", "a.png"]).suffix == "-small"
    assert parse(["a.png", "--suffix", "-k{k}x", "-k", "8"]).suffix == "-k8x"
    code, out, err = run_main(photo, "--suffix", "-small", capsys=capsys)
    assert code == 0, err
    assert photo.with_name("photo-small.png").is_file()
