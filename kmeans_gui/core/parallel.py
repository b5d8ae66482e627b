"""How many threads the engine's work is split over, and the pool that runs it.

C kernels (called through ctypes) and zlib both release the GIL, so plain
threads use every core. The command line sets one thread when it already runs
one process per core.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_threads = os.cpu_count() or 1
_pool: ThreadPoolExecutor | None = None
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
    """``fn(start, stop)`` for each range, in order, on the pool's threads."""
    global _pool, _pool_pid
    if len(ranges) == 1:
        return [fn(*ranges[0])]
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child needs its own
            _pool = ThreadPoolExecutor(max_workers=max(_threads, 2),
                                       thread_name_prefix="kmeans-gui")
            _pool_pid = os.getpid()
        pool = _pool
    return list(pool.map(lambda piece: fn(*piece), ranges))
