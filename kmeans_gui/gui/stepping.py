"""Step mode: K-Means one half-step at a time, for learning.

Each iteration is shown as two phases, the *assignment* (every colour joins
its nearest centroid: the points are recoloured, the centroids stay) and the
*update* (every centroid moves to the mean of its colours); the first
iteration is preceded by the seeding. ``StepGate`` holds the worker thread
after each iteration until the person asks for the next one, so the preview,
the palette and the chart show the iteration being explained.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

#: How often a held worker looks whether it was cancelled, in seconds.
POLL_SECONDS = 0.05


class StepGate:
    """Thread-safe: the worker asks ``wait`` whether it may go on; while
    paused that is only after a ``step`` (or a ``resume``) from the GUI thread.

    ``wait`` gives up after ``timeout`` seconds so the worker can look for a
    cancellation between waits (the job yields a stop point and asks again).
    """

    def __init__(self, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._credits = 0

    def pause(self) -> None:
        """Hold the worker after its next iteration (forgets earlier steps)."""
        with self._cond:
            self._paused = True
            self._credits = 0

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self) -> None:
        """Let a paused worker run one more iteration."""
        with self._cond:
            self._credits += 1
            self._cond.notify_all()

    def is_paused(self) -> bool:
        with self._cond:
            return self._paused

    def wait(self, timeout: float = POLL_SECONDS) -> bool:
        """True when the worker may go on, False while still held after ``timeout``."""
        with self._cond:
            if self._paused and not self._credits:
                self._cond.wait(timeout)
            if not self._paused:
                return True
            if self._credits:
                self._credits -= 1
                return True
            return False


@dataclass(frozen=True)
class Record:
    """What the view needs of one K-Means iteration."""

    iteration: int
    palette: np.ndarray  # centroids after the update, sRGB(A)
    labels: np.ndarray  # palette index of each sample point (the assignment)
    moved: float
    mse: float
    converged: bool = False
    reason: str = ""
    start: np.ndarray | None = None  # the centroids iteration 1 started from
    groups: np.ndarray | None = None  # palette index of every histogram group


@dataclass(frozen=True)
class Phase:
    kind: str  # "seed", "assign" or "update"
    iteration: int
    palette: np.ndarray  # where the centroids are drawn
    labels: np.ndarray | None  # how the points are assigned (None: not yet)
    caption: str
    groups: np.ndarray | None = None  # the histogram groups' labels, as ``labels``


REASONS = {"unchanged": "no colour changed cluster", "tolerance": "the error settled",
           "max_iter": "iteration cap reached", "few colours": "the image has few colours"}


#: The caption of a run without iterations, by its reason.
NO_ITERATION = {
    "fixed palette": "No iterations: the palette is given, every colour joins its nearest "
                     "entry and no centroid moves",
    "few colours": "No iterations: the image has so few colours that each is a palette entry"}


def error_text(mse: float, space: str) -> str:
    rms = math.sqrt(max(mse, 0.0))
    return f"RMS error {rms / 100:.4f} OKLab" if space == "oklab" else f"RMS error {rms:.2f} sRGB"


def phases_of(record: Record, previous: np.ndarray | None, k: int, init: str,
              space: str, raced: bool) -> list[Phase]:
    """The seeding (first iteration only), assignment and update of one iteration."""
    i = record.iteration
    if i == 0:  # nothing iterated (a given palette, or few colours): no error figure either
        caption = NO_ITERATION.get(record.reason, "No iterations")
    else:
        caption = (f"Iteration {i} · update: every centroid moves to the mean of its colours"
                   f" · {error_text(record.mse, space)}"
                   + (f" · done: {REASONS.get(record.reason, record.reason)}"
                      if record.converged else ""))
    update = Phase("update", i, record.palette, record.labels, caption, record.groups)
    start = record.start if record.start is not None else previous
    if start is None:  # nothing came before (a trivial run): the result only
        return [update]
    phases = []
    if record.start is not None:
        how = ("k-means++ picked spread-out colours, each likelier the farther it is"
               " from those already picked" if init == "kmeans++"
               else f"{k} pixels were picked at random")
        if raced:
            how += " (the best of several seedings after a few trial rounds)"
        phases.append(Phase("seed", 0, record.start, None, f"Seeding: {how}"))
    phases.append(Phase("assign", i, start, record.labels,
                        f"Iteration {i} · assignment: every colour joins its nearest centroid"
                        f" · {record.moved * 100:.1f} % of pixels changed cluster",
                        record.groups))
    phases.append(update)
    return phases


class StepSequence:
    """Turns iterations into phases: the latest one live, or one per step."""

    def __init__(self) -> None:
        self.configure(16, "kmeans++", "oklab", False)

    def configure(self, k: int, init: str, space: str, raced: bool) -> None:
        """A new run starts."""
        self.k, self.init, self.space, self.raced = k, init, space, raced
        self.pending: deque[Phase] = deque()
        self.current: Phase | None = None
        self.previous: np.ndarray | None = None
        self.stepping = getattr(self, "stepping", False)
        self.waiting = False
        self.finished = False

    def add(self, record: Record) -> bool:
        """A new iteration arrived; True when the phase to show changed."""
        phases = phases_of(record, self.previous, self.k, self.init, self.space, self.raced)
        self.previous = record.palette
        self.finished = record.converged
        if not self.stepping:
            self.pending.clear()
            self.current = phases[-1]
            return True
        self.pending.extend(phases)
        if self.current is None or self.waiting:
            self.waiting = False
            self.current = self.pending.popleft()
            return True
        return False

    def advance(self) -> bool:
        """One phase on; False when the next iteration must be computed first."""
        if self.pending:
            self.current = self.pending.popleft()
            self.waiting = False
            return True
        self.waiting = not self.finished
        return False

    def set_stepping(self, on: bool) -> None:
        self.stepping = on
        self.waiting = False
        if not on and self.pending:
            self.current = self.pending[-1]
            self.pending.clear()

    def needs_iteration(self) -> bool:
        """Whether a step must let the worker run (nothing left to show)."""
        return not self.pending and not self.finished
