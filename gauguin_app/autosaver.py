"""Autosave on a timer into the recovery store, so a crash loses at most one interval of work."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from .docfile import DocumentError
from .document import Document
from .recovery import RecoveryStore


class Autosaver(QObject):
    """Writes the current document to the recovery file when it holds changes the file does not have yet."""

    failed = Signal(str)  # one line for the status bar

    def __init__(self, store: RecoveryStore | None, document: Callable[[], Document], seconds: int,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self._document = document
        self._saved_revision = -1
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save)
        self.set_interval(seconds)

    def set_interval(self, seconds: int) -> None:
        self.timer.start(int(seconds) * 1000)

    def forget(self) -> None:
        """A new document is shown: the recovery file no longer holds its state."""
        self._saved_revision = -1

    def save(self) -> bool:
        """Write the recovery file now if it is behind (never mid-stroke); True when it was written."""
        doc = self._document()
        if self.store is None or doc.in_stroke or not doc.dirty or self._saved_revision == doc.revision:
            return False
        try:
            self.store.save(doc)
        except (DocumentError, OSError) as e:
            self.failed.emit(f"Autosave failed: {e}")
            return False
        self._saved_revision = doc.revision
        return True

    def discard(self) -> None:
        """The work is saved (or deliberately dropped): remove the recovery file."""
        if self.store is not None:
            self.store.discard()

    def stop(self) -> None:
        self.timer.stop()
