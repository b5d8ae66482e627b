"""A run shown as it goes: the Session's run reports become the live
preview, the swatches, the convergence chart, the colour cloud's iterations
and the status line, and the window's public run notifications.

``window`` is the main window: it holds the widgets, the settings history
and the notifications (preview_shown, run_finished, run_stopped)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from kmeans_gui.core import RACE_MAX_K, QuantizeSettings

from . import dialogs
from .chart import race_note
from .jobs import Finished, Progress
from .sizes import colours, iterations

#: What a raced run does before its first iteration (``kmeans_steps``: three
#: seedings, five silent iterations each; with kept colours the free palette
#: with them in place races too). tests/gui check these against the engine.
RACED_SEEDINGS = 3
PROBE_ITERATIONS = 5

REASONS = {"unchanged": "no pixel changed cluster", "tolerance": "inertia settled",
           "max_iter": "iteration cap reached", "few colours": "the image has few colours",
           "stopped": "stopped by you", "fixed palette": "mapped to the given palette"}


class RunView(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = s = window.session
        s.run_started.connect(self._on_run_started)
        s.progress.connect(self._on_progress)
        s.result_changed.connect(self._on_result_changed)
        s.run_stopped.connect(self._on_run_stopped)
        s.run_failed.connect(self._on_run_failed)

    @Slot(object)
    def _on_run_started(self, settings: QuantizeSettings) -> None:
        w = self.window
        w.canvas.set_result_full(None, None)
        raced = settings.k <= RACE_MAX_K and not self.session.step_gate.is_paused()
        w.chart.reset(race_note(raced and settings.palette is None,
                                RACED_SEEDINGS + bool(settings.keep), PROBE_ITERATIONS))
        w.link.run_started(settings.k, self._selected_colour(),
                           given_palette=settings.palette is not None)
        w.cloud.start_run(settings.k, settings.init, settings.space, raced)
        # Busy, not a fraction of the iteration cap: most runs stop long before it.
        w.status.busy()

    def _selected_colour(self) -> tuple[int, int, int] | None:
        """The (r, g, b) of the selected cluster, as its swatch shows it."""
        view, index = self.window.palette_view, self.window.link.selected()
        colours = view.colors()
        for slot in range(len(colours)):
            if index is not None and view.palette_index(slot) == index:
                return tuple(int(v) for v in colours[slot][:3])
        return None

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        w = self.window
        if p.preview is not None:  # at most at the frame rate; else the last one stays
            w.canvas.set_result_preview(p.preview, p.palette, label=p.label)
        w.palette_view.set_palette(p.palette, p.shares)
        w.chart.add(p.iteration, p.inertia)
        if p.labels is not None:
            w.cloud.add_iteration(p.iteration, p.palette, p.labels, p.moved, p.mse,
                                  p.converged, p.reason, p.start)
        w.status.say(
            f"Iteration {p.iteration} · inertia {p.inertia:.4g} · "
            f"{p.moved * 100:.2f} % moved · {p.elapsed:.2f} s"
            + (" · rendering full resolution…" if p.converged else ""))
        w.preview_shown.emit(p.iteration)

    @Slot(object)
    def _on_result_changed(self, f: Finished | None) -> None:
        w = self.window
        w.setWindowModified(f is not None)
        w.update_sizes()
        if f is None:
            return
        r = f.result
        seed = w.controls.seed_spin
        if f.settings.seed is not None and f.settings.seed != seed.value():
            blocked = seed.blockSignals(True)  # the best of several seeds won
            seed.setValue(int(f.settings.seed))
            seed.blockSignals(blocked)
            w.history.push(f.settings)
            w._update_actions()
        w.canvas.set_result_preview(f.preview, r.palette, f.preview_rgb)
        w.canvas.set_result_full(r.indices, r.palette)
        w.palette_view.set_palette(r.palette, f.shares, final=True)
        w.cloud.finish(r.palette)
        w.link.result_shown(r.palette)
        w.status.idle(self.session.result is not None)
        reason = REASONS.get(r.reason, r.reason)
        w.chart.finish(r.iterations, reason, given_palette=r.reason == "fixed palette")
        if r.reason == "stopped":
            w.status.say(
                f"Stopped after {iterations(r.iterations)}: this {r.n_colors}-colour result "
                "is kept and can be saved. F5 runs again.")
        else:
            w.status.say(
                f"Done: {colours(r.n_colors)} after {iterations(r.iterations)} ({reason}) · "
                f"{f.elapsed:.2f} s")
        w.run_finished.emit(f)
        w.rescale_if_pending()

    def _end_run(self, status: str, progress_text: str | None = None) -> None:
        """A run ended without a result: reset the progress bar."""
        self.window.status.idle(self.session.result is not None, progress_text)
        self.window.status.say(status)

    @Slot()
    def _on_run_stopped(self) -> None:
        self._end_run("Stopped. Press F5 to run again.", progress_text="stopped")
        self.window.run_stopped.emit()

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self._end_run("Quantization failed")
        dialogs.show_error(self.window, "Quantization failed", "K-Means could not finish.",
                           message)
