"""Ctrl-C (or SIGTERM) in a process doing work: stop soon, but never mid-write.

The handler raises KeyboardInterrupt only while a job runs and outside a
write; otherwise it just records the request, which the next job start or
checkpoint honours. So a SIGINT from the terminal (sent to every process of
the group) and one forwarded by the parent stop a job once, wherever it is,
and a file is either fully renamed into place or never created.

A stop signal that the process inherited as ignored (``cmd &`` in a
non-interactive shell ignores SIGINT) stays ignored. ``main`` installs the
handlers before anything slow (imports, planning), nested installs keep them.
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
    installed = 0  # install() calls not yet restored


_state = _State()


def _handler(signum, frame) -> None:
    first = not _state.requested
    if first:
        _state.signum = signum
    _state.requested = True
    # A pool worker between images only records it, never exits here: it is
    # waiting for work holding the call queue's read lock, and dying with it
    # broke the pool, whose SIGTERM a worker still unwinding its interrupted
    # job ignores; that worker then waited for the lock for ever. Its next
    # job raises at once, and the parent's pool shutdown ends it.
    if first and _state.busy and not _state.writing:
        raise KeyboardInterrupt


def install() -> dict:
    """Route the stop signals through the deferring handler; return the old handlers.

    Signals ignored when the process started stay ignored. Inside an earlier
    install (``main`` installs first) the handlers and any request already
    recorded are kept.
    """
    if _state.installed == 0:
        _state.requested = False
        _state.signum = signal.SIGINT
    _state.installed += 1
    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) not in (signal.SIG_IGN, _handler):
            previous[signum] = signal.signal(signum, _handler)
    unblock()
    return previous


def install_worker() -> None:
    """``install`` in a pool worker. It was forked while the parent ran a
    job, so the parent's state is dropped: the worker is busy only inside its
    own jobs; a stop signal between them is recorded, so its next job stops
    at once, and the pool's shutdown ends it."""
    _state.requested = _state.busy = _state.writing = False
    _state.installed = 0
    install()


def restore(previous: dict) -> None:
    _state.installed = max(0, _state.installed - 1)
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def handled() -> list[int]:
    """The stop signals this process acts on (those it does not ignore)."""
    return [signum for signum in STOP_SIGNALS if signal.getsignal(signum) is _handler]


def block() -> None:
    """Hold the stop signals back (children forked meanwhile inherit the mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))


def unblock() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))


def requested() -> bool:
    return _state.requested


def received() -> int:
    """The first stop signal received (SIGINT if none was)."""
    return int(_state.signum)


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
    was_busy, _state.busy = _state.busy, True
    try:
        yield
    finally:
        _state.busy = was_busy


@contextmanager
def deferred() -> Iterator[None]:
    """A section a stop signal must not break, honoured as soon as it ends.

    For imports: a KeyboardInterrupt raised inside an extension module's
    initialisation (numpy's, say) comes out as an ImportError with pages of
    advice instead of "interrupted"."""
    was_writing, _state.writing = _state.writing, True
    try:
        yield
    finally:
        _state.writing = was_writing
    checkpoint()


@contextmanager
def writing() -> Iterator[None]:
    """A section Ctrl-C does not break; the request is honoured afterwards."""
    checkpoint()
    was_writing, _state.writing = _state.writing, True
    try:
        yield
    finally:
        _state.writing = was_writing
