"""Runs one job at a time in a QThread; newer jobs cancel the ones they supersede."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from .jobs import Job


class JobRunner(QObject):
    """Holds the running thread and job until the thread has finished, then
    starts the next pending job. Cancellation is cooperative: the job checks
    ``isInterruptionRequested`` between steps. Threads are never terminated."""

    busy_changed = Signal(bool)
    job_started = Signal(object)  # Job
    job_ended = Signal(object)  # Job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: Job | None = None
        self._pending: list[Job] = []

    @property
    def current(self) -> Job | None:
        return self._job

    def is_busy(self) -> bool:
        return self._thread is not None or bool(self._pending)

    def is_active(self, kind: str) -> bool:
        """Whether a job of ``kind`` is running or waiting."""
        jobs = ([self._job] if self._job else []) + self._pending
        return any(j.kind == kind for j in jobs)

    def submit(self, job: Job) -> None:
        self._pending = [p for p in self._pending if p.kind not in job.supersedes]
        self._pending.append(job)
        if self._job is not None and self._job.kind in job.supersedes:
            self._thread.requestInterruption()
        self._start_next()

    def cancel(self, kinds: frozenset[str] | None = None) -> None:
        """Drop pending jobs and ask the running one to stop (all kinds but saving by default)."""
        kinds = kinds or frozenset({"load", "quantize", "rescale"})
        self._pending = [p for p in self._pending if p.kind not in kinds]
        if self._job is not None and self._job.kind in kinds:
            self._thread.requestInterruption()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop everything and wait for the thread; True when it ended in time."""
        self._pending.clear()
        thread = self._thread
        if thread is None:
            return True
        thread.requestInterruption()
        thread.quit()
        ended = thread.wait(timeout_ms)
        if ended:
            self._release()
        return ended

    def _start_next(self) -> None:
        if self._thread is not None or not self._pending:
            return
        job = self._pending.pop(0)
        thread = QThread()
        thread.setObjectName(f"{job.kind}-worker")
        job.moveToThread(thread)
        thread.started.connect(job.run)
        # quit() is thread-safe; calling it directly ends the thread's loop even
        # when the GUI thread is busy waiting for it.
        job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._job = thread, job
        thread.start()
        self.job_started.emit(job)
        self.busy_changed.emit(True)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        self._release()
        self._start_next()
        if self._thread is None:
            self.busy_changed.emit(False)

    def _release(self) -> None:
        thread, job = self._thread, self._job
        self._thread = self._job = None
        # Dropping the last references deletes both objects here, in the GUI
        # thread, after the worker thread has ended.
        if thread is not None:
            thread.wait()  # already finished; makes sure run() has returned
        if job is not None:
            self.job_ended.emit(job)
