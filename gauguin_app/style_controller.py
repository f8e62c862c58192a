"""Style commands: a photo's style, a random style, the blend partner and the blend amount."""
from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Callable

from PySide6.QtWidgets import QWidget

from spade import GauguinError, SpadeRenderer
from spade.inference import read_style_image

from . import prompts
from .document import Document, StyleSettings, StyleSource
from .settings import AppSettings

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff);;All files (*)"
# File names that say nothing about a photo: a size (1920x1080), a number, a camera's or a download's name.
GENERIC_NAME = re.compile(r"^(\d+\s*[x×]\s*\d+|[\d\W_]+|(img|dsc|dscn|dscf|pxl|p|photo|image|picture|pic|"
                          r"wallpaper|download|screenshot|unnamed|untitled)[\W_]*[\d\W_]*)$", re.IGNORECASE)


def photo_name(path: str | Path) -> str:
    """What a photo style is called: its file name, with its folder's when the file name says nothing
    ("Lofoten/1920x1080.jpg")."""
    path = Path(path)
    folder = path.parent.name
    if GENERIC_NAME.match(path.stem) and folder and not GENERIC_NAME.match(folder):
        return f"{folder}/{path.name}"
    return path.name


class StyleController:
    """Turns style requests (menus, the style panel, dropped photos) into changes of the document's style."""

    def __init__(self, document: Callable[[], Document], renderer: Callable[[], SpadeRenderer | None],
                 parent: QWidget, settings: AppSettings, ask: ModuleType = prompts,
                 status: Callable[[str, int], None] | None = None):
        self._document = document
        self._renderer = renderer
        self.parent = parent
        self.settings = settings
        self.ask = ask
        self.status = status or (lambda text, ms: None)

    def pick_photo(self, slot: str = "a") -> None:
        path = self.ask.ask_open_path(self.parent, "Style from photo", self.settings.folder("style"), IMAGE_FILTER)
        if path:
            self.settings.set_folder("style", path)
            self.set_photo(path, slot)

    def set_photo(self, path: str | Path, slot: str = "a") -> bool:
        """Use the style of the photo at `path` (slot 'b': the blend partner).

        A photo for the main style (dropped, picked or a preset) ends a blend: it is what the user wants to see,
        and with the blend kept it would show only as far as the slider lets it (not at all at 100%)."""
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
        source = StyleSource.from_image(image, photo_name(path))
        doc = self._document()
        if slot == "a" and doc.style.b is not None:
            partner = doc.style.b.label
            doc.set_style(StyleSettings(a=source))
            self.status(f"Style: {source.label}. The blend with {partner} was cleared (Blend with… starts a new "
                        "one).", 8000)
        else:
            self.set_source(slot, source)
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
