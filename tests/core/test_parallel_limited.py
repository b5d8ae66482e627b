"""parallel.limited: a background thread's work stays on fewer threads."""

from __future__ import annotations

import threading

from kmeans_gui.core import parallel


def test_limited_applies_to_the_calling_thread_only(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 4)
    assert len(parallel.pieces(1000, 10)) == 4
    seen = {}

    def other():
        seen["other"] = len(parallel.pieces(1000, 10))

    with parallel.limited(1):
        assert parallel.threads() == 1
        assert parallel.pieces(1000, 10) == [(0, 1000)]
        assert parallel.run_each(lambda i: threading.get_ident(), 3) == \
            [threading.get_ident()] * 3
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen["other"] == 4
    assert parallel.threads() == 4


def test_limit_here_changes_the_calling_threads_limit_until_changed_again(monkeypatch):
    monkeypatch.setattr(parallel, "_threads", 4)
    seen = {}

    def background():
        with parallel.limited(1):
            seen["start"] = parallel.threads()
            parallel.limit_here(None)  # running alone now: every core
            seen["alone"] = parallel.threads()
            parallel.limit_here(2)
            seen["two"] = len(parallel.pieces(1000, 10))
        seen["after"] = parallel.threads()

    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    assert seen == {"start": 1, "alone": 4, "two": 2, "after": 4}
    assert parallel.threads() == 4
