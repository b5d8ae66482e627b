"""A one-line progress bar on stderr, only on a terminal and only for long work."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Redraws ``[#####-----]  50%  label`` in place; shows up after ``delay`` seconds.

    Quick runs never flash a bar, and redraws are throttled so a fast loop
    does not spend its time writing to the terminal.
    """

    def __init__(self, stream: TextIO, *, enabled: bool, delay: float = 0.5,
                 interval: float = 0.1) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.delay = delay
        self.interval = interval
        self.last_draw = 0.0
        self.shown = False
        self.state = (0.0, "")

    def update(self, fraction: float, label: str) -> None:
        self.state = (min(max(fraction, 0.0), 1.0), label)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last_draw < self.interval:
            return
        self._draw()
        self.last_draw = now

    def _draw(self) -> None:
        import shutil  # only once a bar is drawn: most runs never draw one

        fraction, label = self.state
        columns = shutil.get_terminal_size((80, 24)).columns
        width = max(10, min(30, columns // 3))
        filled = int(round(fraction * width))
        line = f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}  {label}"
        self.stream.write("\r" + line[: columns - 1] + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the bar (before printing a line); the next update redraws it."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
            self.last_draw = 0.0

    def redraw(self) -> None:
        if self.enabled and time.monotonic() - self.started >= self.delay:
            self._draw()
