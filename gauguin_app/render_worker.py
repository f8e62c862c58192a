"""Live rendering on a worker thread: one render runs, one waits, the newest wins, stale results drop."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from spade import GauguinError, is_out_of_memory, out_of_memory_line
from spade.fast import RenderCancelled

from .rendering import Coalescer, RenderJob, RenderResult, RenderSource, render_job
from .worker_threads import start_thread, stop_thread


WORKER_NICENESS = 10


class RenderWorker(QObject):
    """Lives on the render thread; turns jobs into results and never raises."""

    done = Signal(object)

    @Slot()
    def lower_priority(self) -> None:
        """Run the model (and the compute threads it starts) below the UI, so painting stays smooth.

        On Linux a thread's nice value is per task and new threads inherit it; elsewhere this is a no-op.
        """
        if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
            except OSError:
                pass

    @Slot(object)
    def run(self, job: RenderJob) -> None:
        t0 = time.perf_counter()
        try:
            result = render_job(job)
        except RenderCancelled:
            result = RenderResult(job.revision, job.generation, None, 0.0, cancelled=True)
        except GauguinError as e:
            result = RenderResult(job.revision, job.generation, None, 0.0, error=str(e))
        except Exception as e:  # a model bug must not take the user's sketch down with it
            error = (out_of_memory_line(e, "rendering", "use a smaller canvas") if is_out_of_memory(e)
                     else f"the model failed to render ({type(e).__name__}: {e})")
            result = RenderResult(job.revision, job.generation, None, 0.0, error=error)
        result.ms = (time.perf_counter() - t0) * 1000.0
        self.done.emit(result)


class RenderController(QObject):
    """Owned by the UI thread. `request()` is cheap and never blocks; results arrive as signals.

    The job is taken from `source` (the document and model the window shows) only when the worker is free,
    so a waiting request always renders the newest sketch rather than the one current when it was queued.
    While a stroke is in progress the worker renders stroke previews; once the pointer rests for REST_MS
    (or the stroke ends) it renders the exact frame, which replaces the preview. An exact frame still
    rendering when the sketch changes again during a stroke is given up, so that the preview of the newer
    sketch does not wait for it (`cancelled` counts them). `shown_exact` says which the photo on screen is.
    With `previews` off every render is the exact frame (scripts/bench_ui.py compares the two).
    """

    REST_MS = 150

    result_ready = Signal(object)  # RenderResult with an image, newer than anything shown before
    render_failed = Signal(str)
    busy_changed = Signal(bool)
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.source = RenderSource()
        self.queue: Coalescer[int] = Coalescer()
        self.generation = 0
        self.shown_revision = -1
        self.shown_exact = True
        self.previews = True
        self._started_revision: tuple[int, int, bool] | None = None  # (generation, revision, exact)
        self._resting = False
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(self.REST_MS)
        self._rest.timeout.connect(self._on_rest)
        self.renders = 0
        self.stale_dropped = 0
        self.cancelled = 0
        self._running: RenderJob | None = None
        self._worker = RenderWorker()
        self._submit.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._thread = start_thread("gauguin-render", self._worker, self._worker.lower_priority)

    @property
    def busy(self) -> bool:
        return self.queue.busy

    def request(self) -> None:
        """Ask for a render of the current sketch (during a stroke: a preview, until the pointer rests)."""
        doc = self.source.document
        self._resting = not (doc is not None and doc.in_stroke)
        if not self._resting:
            self._rest.start()
            running = self._running
            if self.previews and running is not None and not running.preview and running.revision != doc.revision:
                running.stop.set()  # an exact frame of an older sketch: the preview of this one comes sooner
        if self.queue.request(self.generation) is not None:
            self._start()

    def _on_rest(self) -> None:
        self._resting = True
        if self.queue.request(self.generation) is not None:
            self._start()

    def invalidate(self) -> None:
        """The model changed: results of jobs already running are stale."""
        self.generation += 1
        self.shown_revision = -1
        self.shown_exact = True
        self._started_revision = None

    def _start(self) -> None:
        job = self.source.job(self.generation, preview=self.previews and not self._resting)
        started = self._started_revision
        if job is not None and started is not None and started[:2] == (job.generation, job.revision) \
                and (started[2] or job.preview):
            job = None  # this sketch was started already, exactly or as a preview that is still enough
        if job is None:
            if self.queue.done() is not None:
                self._start()
            else:
                self.busy_changed.emit(False)
            return
        self._started_revision = (job.generation, job.revision, not job.preview)
        self._running = job
        self.renders += 1
        self.busy_changed.emit(True)
        self._submit.emit(job)

    @Slot(object)
    def _on_done(self, result: RenderResult) -> None:
        self._running = None
        if result.cancelled:
            self.cancelled += 1
            self._started_revision = None  # that sketch was not rendered after all
        if self.queue.done() is not None:
            self._start()
        else:
            self.busy_changed.emit(False)
        if result.cancelled:
            return
        if result.generation != self.generation or result.revision < self.shown_revision:
            self.stale_dropped += 1
            return
        if result.error is not None:
            self.render_failed.emit(result.error)
            return
        self.shown_revision = result.revision
        self.shown_exact = result.exact
        self.result_ready.emit(result)

    def exact_photo(self, shown: np.ndarray | None) -> np.ndarray | None:
        """`shown` (the photo on screen) when it is the exact frame, else the exact frame rendered now (a stroke
        preview is never exported); None when there is no photo or it cannot be rendered."""
        if shown is None or self.shown_exact:
            return shown
        job = self.source.job(self.generation)
        if job is None:
            return None
        try:
            return render_job(job).image
        except GauguinError:
            return None

    def shutdown(self) -> None:
        """Stop the thread (waits for a render in progress to finish)."""
        stop_thread(self._thread)
