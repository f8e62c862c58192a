"""Style commands: a photo's style, a random style, the blend partner and the blend amount."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Callable

from PySide6.QtWidgets import QWidget

from spade import GauguinError, SpadeRenderer
from spade.inference import read_style_image

from . import prompts
from .document import Document, StyleSource
from .settings import AppSettings

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff);;All files (*)"


class StyleController:
    """Turns style requests (menus, the style panel, dropped photos) into changes of the document's style."""

    def __init__(self, document: Callable[[], Document], renderer: Callable[[], SpadeRenderer | None],
                 parent: QWidget, settings: AppSettings, ask: ModuleType = prompts):
        self._document = document
        self._renderer = renderer
        self.parent = parent
        self.settings = settings
        self.ask = ask

    def pick_photo(self, slot: str = "a") -> None:
        path = self.ask.ask_open_path(self.parent, "Style from photo", self.settings.folder("style"), IMAGE_FILTER)
        if path:
            self.settings.set_folder("style", path)
            self.set_photo(path, slot)

    def set_photo(self, path: str | Path, slot: str = "a") -> bool:
        """Use the style of the photo at `path` (slot 'b': the blend partner)."""
        r = self._renderer()
        if r is None or not r.has_encoder:
            self.ask.show_error(self.parent, "The loaded model has no style encoder, so it cannot take a photo's "
                                "style." if r else "Load a model first: the style comes from the model's encoder.")
            return False
        try:
            image = read_style_image(path)
        except GauguinError as e:
            self.ask.show_error(self.parent, str(e))
            return False
        self.set_source(slot, StyleSource.from_image(image, Path(path).stem))
        return True

    def random(self, slot: str = "a", seed: int = -1) -> None:
        """A random style (seed -1: draw a fresh seed); models without a style input have none."""
        r = self._renderer()
        if r is not None and r.uses_style:
            self.set_source(slot, StyleSource("seed", random.randrange(2**31) if seed < 0 else int(seed)))

    def set_source(self, slot: str, source: StyleSource) -> None:
        doc = self._document()
        style = doc.style
        if slot == "b":
            doc.set_style(replace(style, b=source, t=style.t if style.b is not None else 0.5))
        else:
            doc.set_style(replace(style, a=source))

    def set_blend(self, t: float) -> None:
        doc = self._document()
        if doc.style.b is not None:
            doc.set_style(replace(doc.style, t=float(t)))

    def clear_blend(self) -> None:
        doc = self._document()
        doc.set_style(replace(doc.style, b=None, t=0.0))
