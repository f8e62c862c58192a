"""Model commands: load a model (folder, file, the bundled one) off the UI thread, and what a failure means."""
from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from spade import SpadeRenderer
from spade.device import usable_device
from spade.paths import DEFAULT_MODEL_DIR

from . import prompts
from .dialogs import model_info_html
from .model_loader import LoadRequest, ModelLoader
from .settings import AppSettings

log = logging.getLogger(__name__)
CHECKPOINT_FILTER = "Checkpoints (*.pth *.pt *.safetensors *.json);;All files (*)"


class ModelController(QObject):
    """Owns the loader; emits `model_ready` with a loaded model and its reference (the resolved path)."""

    model_ready = Signal(object, str)        # SpadeRenderer, reference
    loading = Signal(object)                 # what is being loaded (a name), or None when nothing is
    status = Signal(str, int)                # a status-bar message and how long to show it (ms)

    def __init__(self, parent: QWidget, settings: AppSettings, renderer: Callable[[], SpadeRenderer | None],
                 ask: ModuleType = prompts):
        super().__init__(parent)
        self._renderer = renderer
        self.parent_widget = parent
        self.settings = settings
        self.ask = ask
        self.loader = ModelLoader(self)
        self.device_note = ""  # why the newest load is not on the device asked for ('' when it is)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.busy_changed.connect(self._on_busy)

    def load(self, path: str | None, startup: bool = False) -> LoadRequest:
        """Start loading a model (None: the bundled one); the current model renders until the new one is ready.
        A device this machine lacks gives the CPU, with a message."""
        device, self.device_note = usable_device(self.settings.device)
        if self.device_note:
            log.warning("%s", self.device_note)
            self.status.emit(self.device_note, 15000)
        return self.loader.request(path, device, startup)

    def pending_ref(self) -> str:
        """The reference of the model being loaded ('' when none)."""
        pending = self.loader.pending
        return (pending.path or str(DEFAULT_MODEL_DIR)) if pending else ""

    def load_folder(self) -> None:
        path = self.ask.ask_folder(self.parent_widget, "Load model folder", self.settings.folder("model"))
        if path:
            self.load(path)

    def load_file(self) -> None:
        path = self.ask.ask_open_path(self.parent_widget, "Load model file", self.settings.folder("model"),
                                      CHECKPOINT_FILTER)
        if path:
            self.load(path)

    def show_info(self) -> None:
        renderer = self._renderer()
        if renderer is not None:
            self.ask.show_info(self.parent_widget, model_info_html(renderer.info(), renderer.label_set), "Model")

    def _on_busy(self, busy: bool) -> None:
        req = self.loader.pending
        self.loading.emit((Path(req.path).name if req.path else "the bundled model") if busy and req else None)

    def _on_loaded(self, req: LoadRequest, renderer: SpadeRenderer) -> None:
        ref = str(Path(req.path).expanduser().resolve()) if req.path else str(DEFAULT_MODEL_DIR.resolve())
        if not req.startup:
            self.settings.model_path = ref if req.path else ""
            if req.path:
                self.settings.set_folder("model", req.path)
        self.settings.keep_device(req.device)
        self.model_ready.emit(renderer, ref)
        note = f" — {self.device_note}" if self.device_note else ""
        self.status.emit(f"Loaded model {renderer.name} on {renderer.device}{note}", 15000 if note else 5000)

    def _on_failed(self, req: LoadRequest, message: str) -> None:
        """At startup a missing bundled model is the empty state, and a remembered model that went away falls
        back to the bundled one; everything else is a message, and the current model stays."""
        if req.startup and req.path is None:
            return
        if req.startup and req.path == self.settings.model_path:
            self.status.emit(f"The last model could not be loaded ({message}); loading the bundled model", 10000)
            self.load(None, startup=True)
            return
        self.ask.show_error(self.parent_widget, f"Cannot load the model: {message}")
