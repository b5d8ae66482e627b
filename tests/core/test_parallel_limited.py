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
