"""The app's worker threads (model loading, rendering), started and stopped in one place.

Qt aborts the whole process when a QThread is destroyed while it runs. A thread started here stays referenced
until it is stopped, so it is never destroyed running, and `stop_all` joins whatever is left: the app calls it
on its way out, whichever way it leaves (a normal quit, or an error before the event loop started).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QThread

_running: set[QThread] = set()


def start_thread(name: str, worker: QObject, first: Callable[[], None] | None = None) -> QThread:
    """A new QThread named `name` that `worker` lives on, started (`first` runs on it before anything else)."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    if first is not None:
        thread.started.connect(first)
    _running.add(thread)
    thread.start()
    return thread


def stop_thread(thread: QThread) -> None:
    """Ask `thread`'s event loop to end and wait for it (a job in progress finishes first)."""
    if thread.isRunning():
        thread.quit()
        thread.wait()
    _running.discard(thread)


def stop_all() -> None:
    """Stop every thread started here and not stopped yet."""
    for thread in list(_running):
        stop_thread(thread)
