"""One worker thread at a time iterates a job's generator; newer jobs cancel
the ones they supersede.

The worker emits every value the job yields and checks
``isInterruptionRequested`` between steps; that check is the only way a job
is stopped (threads are never terminated). Errors come back as a readable
message, never as an exception in the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kmeans_gui.core import ImageError

from .jobs import Job

log = logging.getLogger(__name__)

#: Kinds a plain ``cancel()`` stops: everything but saving.
CANCELLABLE = frozenset({"load", "quantize", "remap", "rescale"})
#: How long the GUI thread waits for a worker that has ended its job to leave
#: (it is only returning) before it lets the ``finished`` signal start the
#: next job instead: on a loaded machine the thread may not be scheduled.
LEAVING_WAIT_MS = 5


class GeneratorWorker(QThread):
    """Runs one job: iterates ``job.work()`` and reports each yielded value."""

    yielded = Signal(int, str, object)  # job id, kind, value
    ended = Signal(int, str, str, str)  # job id, kind, "done" | "cancelled" | "failed", message
    #: This worker, in the GUI thread, once its thread has finished.
    left = Signal(object)

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setObjectName(f"{job.kind}-worker")
        # Set as run()'s last step: the thread is about to end, so waiting
        # for it takes no time.
        self.done = False
        # ``finished`` is relayed through a slot of this object, which lives
        # in the GUI thread, so the report names the worker it is about. A
        # receiver asking ``sender()`` instead can be told about a deleted
        # worker whose address a newer one has taken, and would then wait
        # for that newer one's whole job. Once this object is deleted the
        # queued relay is dropped with it.
        self.finished.connect(self._relay_finished)

    @Slot()
    def _relay_finished(self) -> None:
        self.left.emit(self)

    def run(self) -> None:
        job = self.job
        status, message = "done", ""
        steps = job.work()
        try:
            for value in steps:
                if job.interruptible and self.isInterruptionRequested():
                    status = "cancelled"
                    break
                if value is not None:
                    self.yielded.emit(job.job_id, job.kind, value)
        except ImageError as exc:
            status, message = "failed", str(exc)
        except MemoryError:
            status, message = "failed", "not enough memory for this image"
        except Exception as exc:  # a bug: report it instead of killing the thread silently
            log.exception("%s failed", type(job).__name__)
            status, message = "failed", f"unexpected error: {exc!r}"
        finally:
            steps.close()
        self.ended.emit(job.job_id, job.kind, status, message)
        self.done = True


class JobRunner(QObject):
    """Holds the running worker until its thread has finished, then starts the
    next pending job. Reports of every job come out of ``yielded`` and
    ``ended``; deciding which are still wanted is the caller's business."""

    job_started = Signal(object)  # Job
    yielded = Signal(int, str, object)
    ended = Signal(int, str, str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: GeneratorWorker | None = None
        self._pending: list[Job] = []

    def is_busy(self) -> bool:
        return self._worker is not None or bool(self._pending)

    def running_thread(self) -> QThread | None:
        return self._worker

    def submit(self, job: Job) -> None:
        self.cancel(job.supersedes)
        self._pending.append(job)
        self._start_next()

    def cancel(self, kinds: frozenset[str] = CANCELLABLE) -> None:
        """Drop pending jobs of ``kinds`` and ask a running one to stop."""
        self._pending = [p for p in self._pending if p.kind not in kinds]
        if self._worker is not None and self._worker.job.kind in kinds:
            self._worker.requestInterruption()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop everything and wait for the thread; True when it ended in time."""
        self._pending.clear()
        worker = self._worker
        if worker is None:
            return True
        worker.requestInterruption()
        worker.quit()
        ended = worker.wait(timeout_ms)
        if ended:
            self._release()
        return ended

    def _start_next(self) -> None:
        if (self._worker is not None and self._worker.done and self._pending
                and self._worker.wait(LEAVING_WAIT_MS)):
            # The worker had ended its job and has left: start the next one
            # now rather than after its ``finished`` signal has gone through
            # the event loop (behind a repaint of the newly opened image).
            self._release()
        if self._worker is not None or not self._pending:
            return
        job = self._pending.pop(0)
        worker = GeneratorWorker(job)
        worker.yielded.connect(self.yielded)
        worker.ended.connect(self.ended)
        worker.left.connect(self._on_worker_left)
        self._worker = worker
        worker.start()
        self.job_started.emit(job)

    @Slot(object)
    def _on_worker_left(self, worker: GeneratorWorker) -> None:
        if worker is not self._worker:
            return  # released already, by _start_next or shutdown
        self._release()
        self._start_next()

    def _release(self) -> None:
        worker, self._worker = self._worker, None
        # Dropping the last reference deletes the thread object here, in the
        # GUI thread, after run() has returned.
        if worker is not None:
            worker.wait()
