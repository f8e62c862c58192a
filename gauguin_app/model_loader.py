"""Model loading off the UI thread: reading a checkpoint can take seconds (big files, a GPU waking up), and the
sketch must stay editable meanwhile. Only the newest request counts; an older one that finishes later is dropped."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from spade import GauguinError, SpadeRenderer, is_out_of_memory

from .worker_threads import start_thread, stop_thread


@dataclass(frozen=True)
class LoadRequest:
    """What was asked for: `path` None is the bundled model; `startup` loads stay quiet about a missing one."""

    id: int
    path: str | None
    device: str
    startup: bool = False


def load_message(error: BaseException) -> str:
    """One line for the user: our own errors say what is wrong, a failed allocation says so; anything else
    names its type."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if is_out_of_memory(error):
        return "not enough memory"
    if isinstance(error, GauguinError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _LoadWorker(QObject):
    """Lives on the loader thread; never raises."""

    finished = Signal(object, object, str)  # LoadRequest, SpadeRenderer | None, error message

    @Slot(object)
    def load(self, request: LoadRequest) -> None:
        try:
            renderer = SpadeRenderer.load(request.path, request.device)
        except Exception as e:  # a broken file must never take the app down
            self.finished.emit(request, None, load_message(e))
            return
        self.finished.emit(request, renderer, "")


class ModelLoader(QObject):
    """Owned by the UI thread. `request()` returns at once; `loaded`/`failed` arrive for the newest request."""

    loaded = Signal(object, object)   # LoadRequest, SpadeRenderer
    failed = Signal(object, str)      # LoadRequest, one-line message
    busy_changed = Signal(bool)
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._next_id = 0
        self._latest: LoadRequest | None = None
        self._outstanding = 0
        self._worker = _LoadWorker()
        self._submit.connect(self._worker.load)
        self._worker.finished.connect(self._on_finished)
        self._thread = start_thread("gauguin-model-loader", self._worker)

    @property
    def busy(self) -> bool:
        return self._outstanding > 0

    @property
    def pending(self) -> LoadRequest | None:
        """The request whose result is still awaited (None when idle)."""
        return self._latest if self.busy else None

    def request(self, path: str | None, device: str, startup: bool = False) -> LoadRequest:
        self._next_id += 1
        req = LoadRequest(self._next_id, path, device, startup)
        self._latest = req
        self._outstanding += 1
        if self._outstanding == 1:
            self.busy_changed.emit(True)
        self._submit.emit(req)
        return req

    @Slot(object, object, str)
    def _on_finished(self, request: LoadRequest, renderer: SpadeRenderer | None, error: str) -> None:
        self._outstanding -= 1
        if self._outstanding == 0:      # before the result: a failure's message box must not sit on "Loading …"
            self.busy_changed.emit(False)
        if self._latest is not None and request.id == self._latest.id:
            if renderer is None:
                self.failed.emit(request, error)
            else:
                self.loaded.emit(request, renderer)

    def shutdown(self) -> None:
        """Stop the thread (waits for a load in progress)."""
        stop_thread(self._thread)
