"""Ctrl-C inside the process doing the work: stop soon, but never mid-write.

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


class _State:
    requested = False  # a SIGINT arrived
    busy = False  # a job is running
    writing = False  # inside the atomic write: let it finish


_state = _State()


def _handler(signum, frame) -> None:
    first = not _state.requested
    _state.requested = True
    if first and _state.busy and not _state.writing:
        raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT through the deferring handler and let it be delivered."""
    _state.requested = False
    signal.signal(signal.SIGINT, _handler)
    unblock()


def block() -> None:
    """Hold SIGINT back (children forked meanwhile inherit the mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def unblock() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def requested() -> bool:
    return _state.requested


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
