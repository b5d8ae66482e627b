"""Running the jobs: in this process, or in a pool of worker processes."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from ..core import QuantizeSettings, parallel
from . import interrupts
from .options import STDIO, Options, is_terminal
from .planning import Job, refusal
from .progress import ProgressBar
from .reporting import Outcome, as_error, as_json, as_text, failure
from .targets import EXIT_TARGET_MISSED
from .worker import compress

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

EXIT_OK, EXIT_FAILED = 0, 1


class Printer:
    """Prints each outcome as it arrives, keeping the progress bar out of the way."""

    def __init__(self, options: Options, bar: ProgressBar, out: TextIO, err: TextIO) -> None:
        self.options, self.bar, self.out, self.err = options, bar, out, err
        self.failed = 0
        self.missed = 0
        self.stdout_closed = False

    def __call__(self, outcome: Outcome) -> None:
        if outcome.ok and self.options.palette is not None:
            from dataclasses import replace
            outcome = replace(outcome, palette_file=str(self.options.palette))
        self.bar.clear()
        if not outcome.ok:
            if outcome.missed:
                self.missed += 1
            else:
                self.failed += 1
            self.err.write(as_error(outcome) + "\n")
            self.err.flush()
        if self.options.json:
            self._out(as_json(outcome))
        elif outcome.ok and not self.options.quiet:
            self._out(as_text(outcome))
        self.bar.redraw()

    def _out(self, line: str) -> None:
        if self.stdout_closed:
            return
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except BrokenPipeError:  # e.g. piped into `head`: keep writing files
            self.stdout_closed = True


def run(jobs: list[Job], settings: QuantizeSettings, options: Options,
        out: TextIO | None = None, err: TextIO | None = None, prefetched=None) -> int:
    """Run ``jobs``; ``prefetched`` is an inflation of a single input's PNG
    already under way (see ``main``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if any(job.output == STDIO for job in jobs):
        out = err  # standard output carries the PNG: reports go with the errors
    bar = ProgressBar(err, enabled=not options.quiet and is_terminal(err))
    printer = Printer(options, bar, out, err)
    # Refuse existing outputs up front: no worker needs starting for those.
    todo = []
    for job in jobs:
        why = refusal(job, options.force)
        if why:
            printer(failure(job.input, job.output, why))
        else:
            todo.append(job)
    jobs = todo
    workers = min(options.jobs, len(jobs))
    if workers <= 1:
        interrupted = bool(jobs) and _run_here(jobs, settings, options, printer, bar,
                                               prefetched)
    else:
        interrupted = _run_pool(jobs, settings, options, workers, printer, bar)
    bar.clear()
    if interrupted:
        err.write("kmeans-compress: interrupted\n")
        return interrupts.exit_status()
    if printer.failed:
        return EXIT_FAILED
    return EXIT_TARGET_MISSED if printer.missed else EXIT_OK


def _run_here(jobs, settings, options, printer, bar, prefetched) -> bool:
    """Jobs one after another in this process; True when interrupted."""
    previous = interrupts.install()
    try:
        total = len(jobs)
        for done, job in enumerate(jobs):
            if total == 1:
                on_progress = bar.update  # per iteration for a single image
            else:
                bar.update(done / total, f"{done}/{total} images  {job.input.name}")
                on_progress = None
            printer(compress(job, settings, force=options.force, effort=options.effort,
                             on_progress=on_progress, prefetched=prefetched,
                             max_pixels=options.max_pixels,
                             importance=options.importance,
                             export_palette=options.export_palette,
                             target=options.target))
        return interrupts.requested()
    except KeyboardInterrupt:
        return True
    finally:
        interrupts.restore(previous)


def _start_worker(threads: int) -> None:
    interrupts.install_worker()
    # The processes already fill the cores: more threads per image only contend.
    parallel.set_threads(threads)


def _pool_context():
    import multiprocessing  # only a pool needs it: one image does not pay the import
    # fork shares the already imported core (about 0.3 s of start-up per
    # process) and is safe here: the parent has run no kernel yet, so it has
    # started no threads. Elsewhere (macOS, Windows) fork is unsafe or missing.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _run_pool(jobs, settings, options, workers, printer, bar) -> bool:
    """Jobs spread over ``workers`` processes; True when interrupted.

    If a worker dies (the out-of-memory killer, a crash), the pool breaks and
    every image not yet done fails with it, including those never started;
    those are run again, each in a pool of its own, so that only the image
    that kills its worker again is reported as failed.
    """
    import multiprocessing
    previous = interrupts.install()
    pools = _Pools(_pool_context(), settings, options)
    total = len(jobs)
    done = 0
    interrupted = False

    def report(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        printer(outcome)
        bar.update(done / total, f"{done}/{total} images")

    try:
        with interrupts.job():
            bar.update(0.0, f"0/{total} images")
            lost = []
            for job, future in pools.run(_largest_first(jobs), workers):
                if _died(future):
                    lost.append(job)
                else:
                    report(_outcome(future, job))
            for job, future in pools.run_isolated(lost, workers):
                report(_outcome(future, job))
    except KeyboardInterrupt:
        interrupted = True
        # Outside interrupts.job() now: further signals only get recorded.
        # Workers stop at their next safe point: they get the signal this
        # process got (one they inherited as ignored they keep ignoring).
        for child in multiprocessing.active_children():
            try:
                os.kill(child.pid, interrupts.received())
            except (ProcessLookupError, TypeError):
                pass
        # Files finished while stopping were written completely: report them.
        for outcome in pools.stop():
            printer(outcome)
    finally:
        interrupts.restore(previous)
    return interrupted or interrupts.requested()


class _Pools:
    """Worker process pools and the futures of the jobs given to them."""

    def __init__(self, context, settings, options) -> None:
        self.context, self.settings, self.options = context, settings, options
        self.live: dict[Future, ProcessPoolExecutor] = {}
        self.reported: set[Future] = set()

    def _submit(self, jobs, workers: int) -> dict[Future, Job]:
        from concurrent.futures import ProcessPoolExecutor
        threads = max(1, (os.cpu_count() or 1) // workers)
        # Workers must not see a stop signal before their own handler is installed.
        interrupts.block()
        try:
            executor = ProcessPoolExecutor(max_workers=workers, mp_context=self.context,
                                           initializer=_start_worker, initargs=(threads,))
            futures = {executor.submit(compress, job, self.settings, force=self.options.force,
                                       effort=self.options.effort,
                                       max_pixels=self.options.max_pixels,
                                       importance=self.options.importance,
                                       target=self.options.target): job
                       for job in jobs}
        finally:
            interrupts.unblock()
        for future in futures:
            self.live[future] = executor
        return futures

    def _finished(self, future: Future) -> None:
        self.reported.add(future)
        executor = self.live.pop(future)
        if executor not in self.live.values():
            executor.shutdown(wait=True)

    def run(self, jobs: list[Job], workers: int):
        """(job, future) as each finishes, all in one pool of ``workers``."""
        from concurrent.futures import as_completed
        if not jobs:
            return
        futures = self._submit(jobs, workers)
        for future in as_completed(futures):
            self._finished(future)
            yield futures[future], future

    def run_isolated(self, jobs: list[Job], workers: int):
        """(job, future) as each finishes, each job in a pool of its own,
        ``workers`` at a time."""
        from concurrent.futures import FIRST_COMPLETED, wait
        queue = list(jobs)
        running: dict[Future, Job] = {}
        while queue or running:
            while queue and len(running) < workers:
                running.update(self._submit([queue.pop(0)], 1))
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                self._finished(future)
                yield running.pop(future), future

    def stop(self) -> list[Outcome]:
        """Shut every pool down (queued jobs cancelled); the outcomes of jobs
        that completed meanwhile and were not reported yet."""
        for executor in set(self.live.values()):
            executor.shutdown(wait=True, cancel_futures=True)
        return [future.result() for future in self.live
                if future not in self.reported and future.done() and not future.cancelled()
                and future.exception() is None and future.result().ok]


def _died(future: Future) -> bool:
    from concurrent.futures.process import BrokenProcessPool
    return isinstance(future.exception(), BrokenProcessPool)


def _largest_first(jobs: list[Job]) -> list[Job]:
    """Big files first, so the batch does not end waiting on one late large image."""
    def size(job: Job) -> int:
        try:
            return job.input.stat().st_size
        except OSError:
            return 0
    return sorted(jobs, key=size, reverse=True)


def _outcome(future: Future, job: Job) -> Outcome:
    """The worker's Outcome; KeyboardInterrupt from a worker is re-raised."""
    from concurrent.futures.process import BrokenProcessPool
    try:
        return future.result()
    except BrokenProcessPool:
        return failure(job.input, job.output,
                       "the worker process stopped unexpectedly (out of memory?)")
