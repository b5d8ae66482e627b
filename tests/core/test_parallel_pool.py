"""parallel.run_pieces: every piece once, results in order, errors handed back."""

from __future__ import annotations

import threading

import pytest

from kmeans_gui.core import parallel


def test_results_come_back_in_order_and_every_piece_runs_once(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 3)
    ranges = [(i, i + 1) for i in range(50)]
    calls = []
    assert parallel.run_pieces(lambda a, b: calls.append(a) or a * a, ranges) == \
        [i * i for i in range(50)]
    assert sorted(calls) == list(range(50))


def test_pieces_run_side_by_side(monkeypatch):
    # Both pieces wait for each other: this only returns if two threads run them.
    monkeypatch.setattr(parallel, "_threads", 2)
    barrier = threading.Barrier(2, timeout=30)
    names = parallel.run_each(lambda i: (barrier.wait(), threading.current_thread().name)[1], 2)
    assert len(set(names)) == 2 and threading.current_thread().name in names


def test_the_first_error_in_order_is_raised_after_the_others_finish(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 2)
    finished = []

    def piece(i):
        if i in (3, 5):
            raise ValueError(f"piece {i}")
        finished.append(i)
        return i

    with pytest.raises(ValueError, match="piece 3"):
        parallel.run_each(piece, 8)
    assert sorted(finished) == [0, 1, 2, 4, 6, 7]
    assert parallel.run_each(lambda i: i, 4) == [0, 1, 2, 3]  # the pool still works


def test_a_stop_in_the_caller_skips_the_pieces_not_started(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 2)
    caller = threading.current_thread()
    ran = []

    def piece(i):
        ran.append(i)
        if threading.current_thread() is caller:
            raise KeyboardInterrupt
        return i

    with pytest.raises(KeyboardInterrupt):
        parallel.run_each(piece, 200)
    assert len(ran) < 200
    assert parallel.run_each(lambda i: i, 3) == [0, 1, 2]
