"""Ctrl-C (or SIGTERM) in a process doing work: stop soon, but never mid-write.

The handler raises KeyboardInterrupt only while a job runs and outside a
write; otherwise it just records the request, which the next job start or
checkpoint honours. So a SIGINT from the terminal (sent to every process of
the group) and one forwarded by the parent stop a job once, wherever it is,
and a file is either fully renamed into place or never created.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

#: Signals that stop a run: Ctrl-C, and the polite kill of CI timeouts and
#: process managers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    requested = False  # a stop signal arrived
    signum = signal.SIGINT  # the first one, for the exit status
    busy = False  # a job is running
    writing = False  # inside the atomic write: let it finish


_state = _State()


def _handler(signum, frame) -> None:
    first = not _state.requested
    if first:
        _state.signum = signum
    _state.requested = True
    if first and _state.busy and not _state.writing:
        raise KeyboardInterrupt


def install() -> dict:
    """Route the stop signals through the deferring handler; return the old handlers."""
    _state.requested = False
    _state.signum = signal.SIGINT
    previous = {signum: signal.signal(signum, _handler) for signum in STOP_SIGNALS}
    unblock()
    return previous


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def block() -> None:
    """Hold the stop signals back (children forked meanwhile inherit the mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))


def unblock() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))


def requested() -> bool:
    return _state.requested


def exit_status() -> int:
    """128 + the signal number, as shells report a command stopped by it."""
    return 128 + int(_state.signum)


def checkpoint() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed while it could not be raised."""
    if _state.requested:
        raise KeyboardInterrupt


@contextmanager
def job() -> Iterator[None]:
    checkpoint()
    _state.busy = True
    try:
        yield
    finally:
        _state.busy = False


@contextmanager
def writing() -> Iterator[None]:
    """A section Ctrl-C does not break; the request is honoured afterwards."""
    checkpoint()
    _state.writing = True
    try:
        yield
    finally:
        _state.writing = False
