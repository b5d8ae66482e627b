"""How many threads the engine's work is split over, and the pool that runs it.

C kernels (called through ctypes) and zlib both release the GIL, so plain
threads use every core. The command line sets one thread when it already runs
one process per core.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import SimpleQueue
from typing import TypeVar

T = TypeVar("T")

_threads = os.cpu_count() or 1
_pool: _Pool | None = None
_pool_pid = 0
_pool_lock = threading.Lock()
_local = threading.local()


def threads() -> int:
    """The threads work is split over, for the calling thread."""
    return getattr(_local, "threads", None) or _threads


@contextmanager
def limited(n: int) -> Iterator[None]:
    """Within the block, work started by this thread uses at most ``n``
    threads (a background job that must leave the other cores alone)."""
    previous = getattr(_local, "threads", None)
    _local.threads = max(1, min(int(n), _threads))
    try:
        yield
    finally:
        _local.threads = previous


def limit_here(n: int | None) -> None:
    """From now on, work started by this thread uses at most ``n`` threads
    (``None``: as many as the engine has). A long background job calls it
    between its steps to step back while other work runs and to use every
    core when it runs alone."""
    _local.threads = None if n is None else max(1, min(int(n), _threads))


def set_threads(n: int) -> None:
    """Split work over at most ``n`` threads."""
    global _threads
    _threads = max(1, int(n))


def pieces(n: int, minimum: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering ``range(n)``: one per thread, none
    shorter than ``minimum`` (so small inputs stay in one piece)."""
    parts = max(1, min(threads(), n // max(minimum, 1)))
    bounds = [n * i // parts for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def run_each(fn: Callable[[int], T], count: int) -> list[T]:
    """``fn(i)`` for i in ``range(count)``, in order: on the pool's threads,
    or one after another here when the engine has one thread."""
    if threads() == 1:
        return [fn(i) for i in range(count)]
    return run_pieces(lambda start, _stop: fn(start), [(i, i + 1) for i in range(count)])


def run_pieces(fn: Callable[[int, int], T], ranges: list[tuple[int, int]]) -> list[T]:
    """``fn(start, stop)`` for each range, in order: the first here, the rest
    on the pool's threads. The first exception (in range order) is raised
    once every piece that started has finished."""
    global _pool, _pool_pid
    if len(ranges) == 1:
        return [fn(*ranges[0])]
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child needs its own
            _pool = _Pool()
            _pool_pid = os.getpid()
        pool = _pool
    return pool.run(fn, ranges)


class _Batch:
    """One ``run_pieces`` call: its pieces, taken in turn by the caller and
    the helping threads, and their results."""

    def __init__(self, fn, ranges) -> None:
        self.fn = fn
        self.ranges = ranges
        self.indices = iter(range(len(ranges)))  # next() on it is atomic
        self.results: list = [None] * len(ranges)
        self.errors: list[BaseException | None] = [None] * len(ranges)
        self.finished: SimpleQueue = SimpleQueue()
        self.cancelled = False

    def work(self) -> None:
        """Run pieces until none is left (or the caller gave up)."""
        for i in self.indices:
            try:
                if not self.cancelled:
                    self.results[i] = self.fn(*self.ranges[i])
            except Exception as exc:  # handed to the caller
                self.errors[i] = exc
            except BaseException as exc:  # a stop signal (in the caller): give up now
                self.errors[i] = exc
                self.cancelled = True
                raise
            finally:
                self.finished.put(i)


class _Pool:
    """Daemon threads that help with a batch of pieces, started as they are
    first needed; the calling thread works on the batch too. Plain threads
    and a queue rather than concurrent.futures, whose import (logging and
    more) costs a small image's run more than its pieces take."""

    def __init__(self) -> None:
        self._batches: SimpleQueue = SimpleQueue()
        self._workers = 0
        self._lock = threading.Lock()

    def _help(self) -> None:
        while True:
            batch = self._batches.get()
            batch.work()
            del batch

    def run(self, fn, ranges) -> list:
        batch = _Batch(fn, ranges)
        helpers = max(1, min(len(ranges), threads()) - 1)
        with self._lock:
            while self._workers < helpers:
                threading.Thread(target=self._help, name=f"kmeans-gui-{self._workers}",
                                 daemon=True).start()
                self._workers += 1
        for _ in range(helpers):
            self._batches.put(batch)
        try:
            batch.work()
            for _ in ranges:
                batch.finished.get()
        except BaseException:  # a stop signal here: pieces not yet started are skipped
            batch.cancelled = True
            raise
        for error in batch.errors:
            if error is not None:
                raise error
        return batch.results
